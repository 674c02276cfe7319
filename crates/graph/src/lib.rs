//! # nabla-graph
//!
//! Tensors and reverse-mode automatic differentiation on nabla-kernels, differentiable to any
//! order.
//!
//! * [`Tensor`]: row-major, contiguous, any rank, cheap to clone.
//! * [`Graph`] records operations on its [`Var`]s as they run (define-by-run: plain Rust control
//!   flow); [`Graph::grad`] is one reverse sweep; [`Graph::grad_graph`] records the sweep too, so
//!   gradients can be differentiated again.
//! * [`hvp`], [`jvp`], [`jacobian`], [`hessian`], [`value_and_grad`] for functions of a tensor;
//!   [`gradcheck`] against central differences.
//!
//! ```
//! use nabla_graph::{Graph, Tensor};
//! // The guide's f(x, y) = log(e^x + e^y): its gradient is the softmax of (x, y).
//! let g = Graph::<f64>::new();
//! let x = g.var(Tensor::scalar(0.0));
//! let y = g.var(Tensor::scalar(2f64.ln()));
//! let f = (x.exp() + y.exp()).log();
//! let grad = g.grad(f, &[x, y]).unwrap();
//! assert!((grad[0].item() - 1.0 / 3.0).abs() < 1e-15);
//! assert!((grad[0].item() + grad[1].item() - 1.0).abs() < 1e-15);
//! ```
//!
//! Tensors recycle their buffers through a per-thread [`pool`], shapes come from a per-thread
//! cache, and a graph reused with [`Graph::clear`] keeps its memory: a training loop that repeats
//! its shapes and collects gradients with [`Graph::grad_into`] allocates nothing after its first
//! step (`tests/no_alloc_step.rs` counts allocator calls).
//!
//! Reverse mode ([`Graph::grad`], [`Graph::vjp`], recorded with [`Graph::grad_graph`]) and
//! forward mode ([`Graph::jvp_graph`]) share the recorded operations. Hessian-vector products
//! come both ways, without forming the Hessian: [`hvp`] is reverse-over-forward (the cheaper
//! here), [`hvp_forward_over_reverse`] forward-over-reverse.

mod batched;
mod checkpoint;
mod custom;
mod dims;
mod error;
mod forward;
mod functional;
mod gradcheck;
mod graph;
pub mod guide;
mod map;
mod ops;
mod pages;
pub mod pool;
mod rules;
mod tensor;

pub use custom::CustomOp;
pub use error::GraphError;
pub use functional::{
    func, hessian, hessian_unbatched, hvp, hvp_forward_over_reverse, jacobian, jvp, value_and_grad,
};
pub use gradcheck::{InputCheck, gradcheck};
pub use graph::{Graph, Var};
/// The fused-chain traits, re-exported: write a [`MapFn`] against [`Real`] and pass it to
/// [`Graph::map_sum`].
pub use nabla_kernels::fused::{Dual, MapFn, Real};
pub use ops::{stack, try_stack};
pub use tensor::Tensor;
