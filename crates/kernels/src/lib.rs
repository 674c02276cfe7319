//! # nabla-kernels
//!
//! SIMD-optimized CPU numeric kernels on slices, for `f32` and `f64`: GEMM, reductions,
//! elementwise arithmetic, activations with their derivatives, and the softmax family.
//! No tensors, no autodiff, no allocation policy: slices in, slices out.
//!
//! * **Dispatch**: the instruction set is detected once at run time ([`isa`]); a portable build
//!   reaches AVX-512 and AVX2+FMA code. `NABLA_ISA` forces a lower path, `NABLA_ISA_STRICT=1`
//!   makes a forced path the CPU lacks an error.
//! * **Threads**: [`parallel`] decides when rayon is used; results never depend on the thread
//!   count.
//! * **Fused chains**: [`fused`] evaluates an elementwise function written once against
//!   [`fused::Real`] with its exact partial derivatives (forward-mode duals) in one streaming
//!   pass.
//! * **Accuracy**: each function states its bound in ULPs; the tests check it on sweeps of the
//!   whole `f32` range against an `f64` reference.

pub mod activation;
mod cache;
pub mod element;
pub mod elementwise;
pub mod error;
pub mod fused;
pub mod gemm;
pub mod isa;
pub mod math;
pub mod parallel;
pub mod reduce;
pub mod simd;
pub mod softmax;
mod sweep;

pub use element::Element;
pub use elementwise::{
    add, add_assign, add_row_bias, add_scalar, add_scalar_assign, axpy, copy, div, div_assign,
    div_scalar, div_scalar_assign, fill, mul, mul_assign, mul_scalar, mul_scalar_assign, scale,
    sub, sub_assign, sub_scalar, sub_scalar_assign, try_add, try_add_assign, try_add_row_bias,
    try_add_scalar, try_axpy, try_copy, try_div, try_div_assign, try_div_scalar, try_mul,
    try_mul_assign, try_mul_scalar, try_sub, try_sub_assign, try_sub_scalar,
};
pub use error::KernelError;
pub use reduce::{
    argmax, argmax_rows, argmin, argmin_rows, dot, dot_rows, l2_norm, l2_norm_rows, max, max_rows,
    mean, mean_rows, min, min_rows, sum, sum_rows, try_argmax_rows, try_argmin_rows, try_dot,
    try_dot_rows, try_l2_norm_rows, try_max_rows, try_mean_rows, try_min_rows, try_sum_rows,
    try_variance_rows, variance, variance_rows,
};
pub use softmax::{
    log_softmax, log_softmax_backward, log_softmax_inplace, logsumexp, softmax, softmax_backward,
    softmax_inplace, try_log_softmax, try_log_softmax_backward, try_log_softmax_inplace,
    try_logsumexp, try_softmax, try_softmax_backward, try_softmax_inplace,
};
