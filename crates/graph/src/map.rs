//! Fused elementwise chains in the graph: [`Graph::map_sum`], one node for `sum f(a_0, ..., a_k)`
//! whatever the length of `f`'s chain, and the [`Real`] implementation of [`Var`] that lets the
//! same function body be recorded as ordinary operations.

use crate::error::{GraphError, unwrap_or_panic};
use crate::graph::{Graph, Op, Var};
use crate::tensor::Tensor;
use nabla_kernels::fused::{self, MapFn, Real};
use nabla_kernels::{Element, KernelError};
use std::sync::Arc;

/// Each method is the graph operation of the same name (`ln` is [`Var::log`]; constants are
/// scalar constants, broadcast): a [`MapFn`] evaluated on `Var`s records its chain as ordinary
/// nodes, differentiable to any order.
impl<'g, T: Element> Real for Var<'g, T> {
    fn constant(self, c: f64) -> Self {
        self.g.scalar(T::from_f64(c))
    }
    fn exp(self) -> Self {
        Var::exp(self)
    }
    fn ln(self) -> Self {
        Var::log(self)
    }
    fn log1p(self) -> Self {
        Var::log1p(self)
    }
    fn softplus(self) -> Self {
        Var::softplus(self)
    }
    fn sigmoid(self) -> Self {
        Var::sigmoid(self)
    }
    fn tanh(self) -> Self {
        Var::tanh(self)
    }
    fn sqrt(self) -> Self {
        Var::sqrt(self)
    }
    fn abs(self) -> Self {
        Var::abs(self)
    }
    fn relu(self) -> Self {
        Var::relu(self)
    }
    fn sign(self) -> Self {
        Var::sign(self)
    }
    fn step(self) -> Self {
        Var::step(self)
    }
}

/// A [`MapFn`] behind a pointer: what the node keeps to run the kernel again or to record `f`.
pub(crate) trait DynMap<T>: Send + Sync {
    /// `f` applied to the inputs as recorded graph operations (an elementwise `Var`).
    fn record<'g>(&self, inputs: &[Var<'g, T>]) -> Var<'g, T>;
    /// The fused kernel.
    fn fused(&self, inputs: &[&[T]], grads: &mut [Option<&mut [T]>]) -> Result<T, KernelError>;
}

struct Wrap<F>(F);

impl<T: Element, F: MapFn + Send + Sync> DynMap<T> for Wrap<F> {
    fn record<'g>(&self, inputs: &[Var<'g, T>]) -> Var<'g, T> {
        self.0.eval(inputs)
    }
    fn fused(&self, inputs: &[&[T]], grads: &mut [Option<&mut [T]>]) -> Result<T, KernelError> {
        fused::try_map_sum(&self.0, inputs, grads)
    }
}

/// The payload of a `map_sum` node: the function, and the partials computed when it was
/// recorded (`None` for inputs that did not require a gradient then).
#[derive(Clone)]
pub(crate) struct MapSum<T> {
    f: Arc<dyn DynMap<T>>,
    partials: Arc<[Option<Tensor<T>>]>,
}

impl<T> std::fmt::Debug for MapSum<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("map_sum")
    }
}

fn kernel_error(e: KernelError) -> GraphError {
    GraphError::Invalid {
        op: "map_sum",
        reason: e.to_string(),
    }
}

impl<T: Element> Graph<T> {
    /// `sum_i f(a_0[i], ..., a_{k-1}[i])` (a scalar) for inputs of one shape, as **one** node,
    /// computed by the fused kernel [`nabla_kernels::fused::map_sum`].
    ///
    /// `f` is written once against [`Real`] (see [`MapFn`]). When the node is recorded (the graph
    /// is recording and some input requires a gradient), the kernel computes, **in the same
    /// pass** as the value, the elementwise partials `df/da_j` for every input `a_j` that
    /// requires a gradient, and the node keeps them: a later [`Graph::grad`] costs no further
    /// pass over the inputs (the gradient of `a_j` is the kept partial itself, shared without a
    /// copy when the upstream adjoint is exactly 1, else scaled by it). Memory: one tensor of
    /// the inputs' size per input that requires a gradient, and nothing else of that size.
    ///
    /// Differentiable to any order: when a gradient is recorded ([`Graph::grad_graph`], and so
    /// [`crate::hessian`], [`crate::hvp`]), or a forward-mode product is recorded, the rule
    /// instead records `f` applied to the input `Var`s as ordinary operations and differentiates
    /// that, so second and higher derivatives are exact too (at the unfused cost).
    ///
    /// Accuracy and threading are the kernel's: value and partials from [`nabla_kernels::math`]
    /// (a few ULP per operation), a pairwise sum in a fixed order, bit-identical whatever the
    /// thread count.
    ///
    /// ```
    /// use nabla_graph::{Graph, Tensor};
    /// use nabla_kernels::fused::{MapFn, Real};
    ///
    /// /// `log(1 + exp(-y w x))`, written once.
    /// #[derive(Clone)]
    /// struct Logistic;
    /// impl MapFn for Logistic {
    ///     const ARITY: usize = 3;
    ///     #[inline(always)]
    ///     fn eval<R: Real>(&self, a: &[R]) -> R {
    ///         (-(a[2] * a[0] * a[1])).softplus()
    ///     }
    /// }
    ///
    /// let g = Graph::<f64>::new();
    /// let w = g.var(Tensor::vector(&[0.5, -1.0, 2.0]));
    /// let x = g.constant(Tensor::vector(&[1.0, 2.0, -0.25]));
    /// let y = g.constant(Tensor::vector(&[1.0, -1.0, 1.0]));
    /// let loss = g.map_sum(&Logistic, &[w, x, y]);
    /// let grad = g.grad(loss, &[w]).unwrap()[0].clone(); // the partials of the fused pass
    /// // The same function through the ordinary operations:
    /// let unfused = (-(y * w * x)).softplus().sum();
    /// let reference = g.grad(unfused, &[w]).unwrap()[0].clone();
    /// for (a, b) in grad.data().iter().zip(reference.data()) {
    ///     assert!((a - b).abs() <= 1e-15);
    /// }
    /// // Second derivatives: d2L/dw_i^2 = (y x)^2 sigmoid(z)(1 - sigmoid(z)), z = -y w x.
    /// let gw = g.grad_graph(loss, &[w]).unwrap()[0];
    /// let h0 = g.grad(gw.at(0), &[w]).unwrap()[0].data()[0];
    /// let s = 1.0 / (1.0 + (0.5f64).exp());
    /// assert!((h0 - s * (1.0 - s)).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// As [`Graph::try_map_sum`] reports.
    #[track_caller]
    pub fn map_sum<'g, F>(&'g self, f: &F, inputs: &[Var<'g, T>]) -> Var<'g, T>
    where
        F: MapFn + Clone + Send + Sync + 'static,
    {
        unwrap_or_panic(self.try_map_sum(f, inputs))
    }

    /// [`Graph::map_sum`], returning an error instead of panicking.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] when the number of inputs is not `F::ARITY` (or exceeds
    /// [`nabla_kernels::fused::MAX_ARITY`]); [`GraphError::ShapeMismatch`] naming two inputs'
    /// shapes when they differ; [`GraphError::ForeignVar`].
    pub fn try_map_sum<'g, F>(
        &'g self,
        f: &F,
        inputs: &[Var<'g, T>],
    ) -> Result<Var<'g, T>, GraphError>
    where
        F: MapFn + Clone + Send + Sync + 'static,
    {
        if inputs.iter().any(|v| !std::ptr::eq(v.g, self)) {
            return Err(GraphError::ForeignVar);
        }
        if inputs.len() != F::ARITY || F::ARITY > fused::MAX_ARITY || F::ARITY == 0 {
            return Err(GraphError::Invalid {
                op: "map_sum",
                reason: format!(
                    "the function takes {} inputs (1 to {}), {} given",
                    F::ARITY,
                    fused::MAX_ARITY,
                    inputs.len()
                ),
            });
        }
        let shape = inputs[0].dims();
        for v in &inputs[1..] {
            let s = v.dims();
            if !crate::tensor::same_dims(&shape, &s) {
                return Err(GraphError::ShapeMismatch {
                    op: "map_sum",
                    lhs: shape.to_vec(),
                    rhs: s.to_vec(),
                });
            }
        }
        let values: Vec<Tensor<T>> = inputs.iter().map(|v| v.value()).collect();
        let n = values[0].len();
        let want: Vec<bool> = inputs
            .iter()
            .map(|v| self.recording.get() && self.requires_grad(v.id))
            .collect();
        let mut bufs: Vec<Option<Vec<T>>> =
            want.iter().map(|&w| w.then(|| partial_buffer(n))).collect();
        let slices: Vec<&[T]> = values.iter().map(|t| t.data()).collect();
        let mut slots: Vec<Option<&mut [T]>> = bufs.iter_mut().map(|b| b.as_deref_mut()).collect();
        let sum = fused::try_map_sum(f, &slices, &mut slots).map_err(kernel_error)?;
        drop(slots);
        let partials: Arc<[Option<Tensor<T>>]> = bufs
            .into_iter()
            .map(|b| b.map(|v| Tensor::from_vec(v, &shape).expect("the inputs' shape")))
            .collect();
        let op = Op::MapSum(MapSum {
            f: Arc::new(Wrap(f.clone())),
            partials,
        });
        Ok(self.push_op(op, inputs, Tensor::scalar(sum)))
    }
}

/// A buffer for `n` partials (overwritten whole by the kernel): a recycled one from the tensor
/// pool when `n` fits the pool (no page faults, and no fill pass: at 10^7 f32 zeroing it first
/// cost a fifth of the fused gradient), else a fresh zeroed allocation, which the operating
/// system maps lazily (no zeroing pass; the kernel's writes fault the pages in, on huge pages
/// where Linux allows: see [`crate::pages`]).
fn partial_buffer<T: Element>(n: usize) -> Vec<T> {
    if n.saturating_mul(std::mem::size_of::<T>()) <= crate::pool::limit() {
        crate::pool::for_overwrite(n)
    } else {
        crate::pages::zeroed(n)
    }
}

/// The partials `df/da_j` (elementwise tensors) for the inputs with `needs[j]`, as values: the
/// ones kept at record time, the others from one more fused pass.
fn value_partials<T: Element>(
    m: &MapSum<T>,
    inputs: &[Var<'_, T>],
    needs: &[bool],
) -> Vec<Option<Tensor<T>>> {
    let mut out: Vec<Option<Tensor<T>>> = needs
        .iter()
        .zip(m.partials.iter())
        .map(|(&nd, p)| if nd { p.clone() } else { None })
        .collect();
    let missing: Vec<bool> = needs
        .iter()
        .zip(&out)
        .map(|(&nd, p)| nd && p.is_none())
        .collect();
    if missing.iter().any(|&b| b) {
        let values: Vec<Tensor<T>> = inputs.iter().map(|v| v.value()).collect();
        let shape = values[0].shape().to_vec();
        let n = values[0].len();
        let mut bufs: Vec<Option<Vec<T>>> = missing
            .iter()
            .map(|&w| w.then(|| partial_buffer(n)))
            .collect();
        let slices: Vec<&[T]> = values.iter().map(|t| t.data()).collect();
        let mut slots: Vec<Option<&mut [T]>> = bufs.iter_mut().map(|b| b.as_deref_mut()).collect();
        m.f.fused(&slices, &mut slots)
            .expect("checked when the node was recorded");
        drop(slots);
        for (o, b) in out.iter_mut().zip(bufs) {
            if let Some(v) = b {
                *o = Some(Tensor::from_vec(v, &shape).expect("the inputs' shape"));
            }
        }
    }
    out
}

/// The partials as recorded functions of the inputs: `f` recorded on the `Var`s, and its
/// gradient recorded ([`Graph::grad_graph`] of the sum: `f` is elementwise).
fn recorded_partials<'g, T: Element>(
    g: &'g Graph<T>,
    m: &MapSum<T>,
    inputs: &[Var<'g, T>],
    needs: &[bool],
) -> Vec<Option<Var<'g, T>>> {
    let y = m.f.record(inputs).sum();
    let wanted: Vec<Var<'g, T>> = inputs
        .iter()
        .zip(needs)
        .filter(|(_, n)| **n)
        .map(|(v, _)| *v)
        .collect();
    let mut grads = g
        .grad_graph(y, &wanted)
        .expect("a scalar of this graph")
        .into_iter();
    needs
        .iter()
        .map(|&n| if n { grads.next() } else { None })
        .collect()
}

/// The reverse rule: `dy * df/da_j` for each parent `j` with `needs[j]`.
pub(crate) fn vjp<'g, T: Element>(
    g: &'g Graph<T>,
    m: &MapSum<T>,
    parents: &[usize],
    dy: Var<'g, T>,
    needs: &[bool],
) -> Vec<Option<Var<'g, T>>> {
    let inputs: Vec<Var<'g, T>> = parents.iter().map(|&id| Var { g, id }).collect();
    if g.recording.get() {
        return recorded_partials(g, m, &inputs, needs)
            .into_iter()
            .map(|p| p.map(|p| p * dy))
            .collect();
    }
    let d = dy.value().item();
    value_partials(m, &inputs, needs)
        .into_iter()
        .map(|p| {
            p.map(|t| {
                // An adjoint of exactly 1 (a plain `grad` of the sum): the partials themselves,
                // shared, not copied.
                g.constant(if d == T::ONE { t } else { t.map(|v| v * d) })
            })
        })
        .collect()
}

/// The forward rule: `sum_j sum_i df/da_j[i] t_j[i]` over the parents with a tangent.
pub(crate) fn jvp<'g, T: Element>(
    g: &'g Graph<T>,
    m: &MapSum<T>,
    parents: &[usize],
    tangents: &[Option<Var<'g, T>>],
) -> Var<'g, T> {
    let inputs: Vec<Var<'g, T>> = parents.iter().map(|&id| Var { g, id }).collect();
    let needs: Vec<bool> = tangents.iter().map(Option::is_some).collect();
    let partials: Vec<Option<Var<'g, T>>> = if g.recording.get() {
        recorded_partials(g, m, &inputs, &needs)
    } else {
        value_partials(m, &inputs, &needs)
            .into_iter()
            .map(|p| p.map(|t| g.constant(t)))
            .collect()
    };
    partials
        .into_iter()
        .zip(tangents)
        .filter_map(|(p, t)| Some((p? * (*t)?).sum()))
        .reduce(|a, b| a + b)
        .expect("at least one tangent")
}
