//! Operations on [`Var`]s: each computes its value at once (on nabla-kernels where a kernel
//! exists) and records itself with its inputs. Binary operations broadcast as numpy does.

use crate::dims::Dims;
use crate::error::{GraphError, unwrap_or_panic};
use crate::graph::{Op, Var};
use crate::tensor::{Tensor, numel, same_dims};
use nabla_kernels::gemm::{MatMut, MatRef, Strided};
use nabla_kernels::{Element, activation};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Normalizes and checks a list of axes for a tensor of rank `rank`.
fn check_axes(op: &'static str, axes: &[usize], rank: usize) -> Result<Dims, GraphError> {
    let mut sorted = Dims::from_slice(axes);
    sorted.sort_unstable();
    let a: Dims = sorted
        .iter()
        .enumerate()
        .filter(|&(i, d)| i == 0 || sorted[i - 1] != *d)
        .map(|(_, &d)| d)
        .collect();
    if let Some(&bad) = a.iter().find(|&&d| d >= rank) {
        return Err(GraphError::Invalid {
            op,
            reason: format!("axis {bad} out of range for rank {rank}"),
        });
    }
    Ok(a)
}

/// Checks that `axis` is an axis of a tensor of rank `rank`.
fn check_axis(op: &'static str, axis: usize, rank: usize) -> Result<(), GraphError> {
    if axis >= rank {
        return Err(GraphError::Invalid {
            op,
            reason: format!("axis {axis} out of range for rank {rank}"),
        });
    }
    Ok(())
}

/// Checks that two operands have one shape (the losses and `dot` do not broadcast).
fn check_same_shape(op: &'static str, a: &[usize], b: &[usize]) -> Result<(), GraphError> {
    if a != b {
        return Err(GraphError::ShapeMismatch {
            op,
            lhs: a.to_vec(),
            rhs: b.to_vec(),
        });
    }
    Ok(())
}

impl<'g, T: Element> Var<'g, T> {
    /// `f` of this node's value, borrowed in place (no clone).
    fn mapped(self, f: impl FnOnce(&Tensor<T>) -> Tensor<T>) -> Tensor<T> {
        self.g.node_ref(self.id, |n| f(&n.value))
    }

    fn unary(self, op: Op<T>, value: Tensor<T>) -> Var<'g, T> {
        self.g.push_op(op, &[self], value)
    }

    /// [`GraphError::ForeignVar`] unless `other` belongs to `self`'s graph (node ids of two
    /// graphs mean different nodes: mixing them would silently read the wrong values).
    fn same_graph(self, other: Var<'g, T>) -> Result<(), GraphError> {
        if std::ptr::eq(self.g, other.g) {
            Ok(())
        } else {
            Err(GraphError::ForeignVar)
        }
    }

    fn binary(
        self,
        other: Var<'g, T>,
        op: Op<T>,
        name: &'static str,
        kernel: fn(&[T], &[T], &mut [T]),
        f: fn(T, T) -> T,
    ) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(other)?;
        // The operands borrowed in place (no clones: on scalar graphs their reference counts
        // were a third of an operation's cost).
        let value = self
            .g
            .with_values(self.id, other.id, |a, b| Tensor::zip(name, a, b, kernel, f))?;
        Ok(self.g.push_op(op, &[self, other], value))
    }

    /// `self + other`, broadcasting.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes when they do not broadcast;
    /// [`GraphError::ForeignVar`] if `other` belongs to another graph.
    pub fn try_add(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.binary(other, Op::Add, "add", nabla_kernels::add, |a, b| a + b)
    }
    /// `self - other`, broadcasting.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_sub(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.binary(other, Op::Sub, "sub", nabla_kernels::sub, |a, b| a - b)
    }
    /// `self * other` (elementwise), broadcasting.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_mul(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.binary(other, Op::Mul, "mul", nabla_kernels::mul, |a, b| a * b)
    }
    /// `self / other` (elementwise), broadcasting.
    ///
    /// # Errors
    /// As [`Var::try_add`].
    pub fn try_div(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.binary(other, Op::Div, "div", nabla_kernels::div, |a, b| a / b)
    }

    /// `e^x`.
    pub fn exp(self) -> Var<'g, T> {
        self.unary(Op::Exp, self.mapped(|v| v.map_kernel(activation::exp)))
    }
    /// Natural logarithm.
    pub fn log(self) -> Var<'g, T> {
        self.unary(Op::Log, self.mapped(|v| v.map_kernel(activation::log)))
    }
    /// `ln(1 + x)`, accurate near 0.
    pub fn log1p(self) -> Var<'g, T> {
        self.unary(Op::Log1p, self.mapped(|v| v.map_kernel(activation::log1p)))
    }
    /// Square root.
    pub fn sqrt(self) -> Var<'g, T> {
        self.unary(Op::Sqrt, self.mapped(|v| v.map_kernel(activation::sqrt)))
    }
    /// `|x|`; its derivative is `sign(x)` (0 at 0).
    pub fn abs(self) -> Var<'g, T> {
        self.unary(Op::Abs, self.mapped(|v| v.map(|x| x.abs())))
    }
    /// Sine.
    pub fn sin(self) -> Var<'g, T> {
        self.unary(
            Op::Sin,
            self.mapped(|v| v.map(|x| T::from_f64(x.to_f64().sin()))),
        )
    }
    /// Cosine.
    pub fn cos(self) -> Var<'g, T> {
        self.unary(
            Op::Cos,
            self.mapped(|v| v.map(|x| T::from_f64(x.to_f64().cos()))),
        )
    }
    /// Hyperbolic tangent.
    pub fn tanh(self) -> Var<'g, T> {
        self.unary(Op::Tanh, self.mapped(|v| v.map_kernel(activation::tanh)))
    }
    /// `1 / (1 + e^-x)`.
    pub fn sigmoid(self) -> Var<'g, T> {
        self.unary(
            Op::Sigmoid,
            self.mapped(|v| v.map_kernel(activation::sigmoid)),
        )
    }
    /// `max(x, 0)`; derivative 1 for `x > 0`, else 0.
    ///
    /// Its gradient takes one pass ([`activation::relu_backward`]): the upstream gradient where
    /// `x > 0`, 0 elsewhere even where that gradient is infinite or NaN (as PyTorch's
    /// `threshold_backward`), and NaN where `x` is NaN.
    pub fn relu(self) -> Var<'g, T> {
        self.unary(Op::Relu, self.mapped(|v| v.map_kernel(activation::relu)))
    }
    /// ReLU's vector-Jacobian product at `x`: `self` (a gradient of ReLU's output) masked by
    /// `x > 0` in one pass of [`activation::relu_backward`], with [`Var::relu`]'s conventions.
    /// Recorded as [`Op::ReluGrad`], whose own rule sends gradients through the same mask (and
    /// none to `x`), so higher derivatives stay exact.
    ///
    /// `self` and `x` have one shape (the rules apply it so).
    pub(crate) fn relu_grad(self, x: Var<'g, T>) -> Var<'g, T> {
        let value = self.g.with_values(x.id, self.id, |x, dy| {
            // One-element operands take the kernel too: its conventions, not a copy of them.
            Tensor::zip("relu_grad", x, dy, activation::relu_backward, |x, dy| {
                let mut out = [T::ZERO];
                activation::relu_backward(&[x], &[dy], &mut out);
                out[0]
            })
        });
        let value = value.expect("relu_grad: a gradient has its node's shape");
        self.g.push_op(Op::ReluGrad, &[self, x], value)
    }
    /// `x` for `x > 0`, else `alpha x`.
    pub fn leaky_relu(self, alpha: T) -> Var<'g, T> {
        let v = self
            .value()
            .map(|x| if x > T::ZERO { x } else { alpha * x });
        self.unary(Op::LeakyRelu(alpha), v)
    }
    /// `ln(1 + e^x)`, computed stably.
    pub fn softplus(self) -> Var<'g, T> {
        self.unary(
            Op::Softplus,
            self.mapped(|v| v.map_kernel(activation::softplus)),
        )
    }
    /// The error function.
    pub fn erf(self) -> Var<'g, T> {
        self.unary(Op::Erf, self.mapped(|v| v.map_kernel(activation::erf)))
    }
    /// GELU, erf form: `x Phi(x) = x (1 + erf(x / sqrt 2)) / 2`, recorded as that composition
    /// (so every order of derivative follows from the rules of `erf`, `*` and `+`).
    pub fn gelu(self) -> Var<'g, T> {
        let half = T::from_f64(0.5);
        self * half * ((self * T::from_f64(std::f64::consts::FRAC_1_SQRT_2)).erf() + T::ONE)
    }
    /// SiLU: `x sigmoid(x)`.
    pub fn silu(self) -> Var<'g, T> {
        self * self.sigmoid()
    }
    /// `x^n` for an integer `n`.
    pub fn powi(self, n: i32) -> Var<'g, T> {
        self.unary(
            Op::PowI(n),
            self.mapped(|v| v.map(|x| T::from_f64(x.to_f64().powi(n)))),
        )
    }
    /// `x^p` for a real `p`.
    pub fn powf(self, p: T) -> Var<'g, T> {
        self.unary(
            Op::PowF(p),
            self.value()
                .map(|x| T::from_f64(x.to_f64().powf(p.to_f64()))),
        )
    }
    /// `1` where `x > 0`, else `0` (no gradient).
    pub(crate) fn step(self) -> Var<'g, T> {
        self.unary(
            Op::Step,
            self.value()
                .map(|x| if x > T::ZERO { T::ONE } else { T::ZERO }),
        )
    }
    /// `sign(x)` with `sign(0) = 0` (no gradient).
    pub(crate) fn sign(self) -> Var<'g, T> {
        let v = self.mapped(|v| {
            v.map(|x| {
                if x > T::ZERO {
                    T::ONE
                } else if x < T::ZERO {
                    -T::ONE
                } else if x.is_nan() {
                    x
                } else {
                    T::ZERO
                }
            })
        });
        self.unary(Op::Sign, v)
    }
    /// `1` where `self == other` (broadcasting), else `0` (no gradient).
    ///
    /// # Panics
    /// If the shapes do not broadcast or `other` belongs to another graph.
    #[track_caller]
    pub(crate) fn eq_mask(self, other: Var<'g, T>) -> Var<'g, T> {
        unwrap_or_panic(self.same_graph(other));
        let f = |a: T, b: T| if a == b { T::ONE } else { T::ZERO };
        let v = unwrap_or_panic(Tensor::zip(
            "eq",
            &self.value(),
            &other.value(),
            |x, y, z| {
                for ((z, &a), &b) in z.iter_mut().zip(x).zip(y) {
                    *z = if a == b { T::ONE } else { T::ZERO };
                }
            },
            f,
        ));
        self.g.push_op(Op::EqMask, &[self, other], v)
    }

    /// Sum of all elements (a scalar).
    pub fn sum(self) -> Var<'g, T> {
        let axes: Dims = (0..self.dims().len()).collect();
        unwrap_or_panic(self.try_sum_axes(&axes, false))
    }
    /// Sum over `axes`, keeping them as length-1 axes if `keepdim`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_sum_axes(self, axes: &[usize], keepdim: bool) -> Result<Var<'g, T>, GraphError> {
        let axes = check_axes("sum", axes, self.dims().len())?;
        let v = self.value().sum_axes(&axes, keepdim);
        Ok(self.unary(Op::SumAxes { axes, keepdim }, v))
    }
    /// [`Var::try_sum_axes`], panicking on a bad axis.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn sum_axes(self, axes: &[usize], keepdim: bool) -> Var<'g, T> {
        unwrap_or_panic(self.try_sum_axes(axes, keepdim))
    }
    /// Mean of all elements.
    pub fn mean(self) -> Var<'g, T> {
        let n = numel(&self.dims());
        self.sum() / T::from_f64(n as f64)
    }
    /// Mean over `axes` (an axis listed twice counts once), keeping them as length-1 axes if
    /// `keepdim`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_mean_axes(self, axes: &[usize], keepdim: bool) -> Result<Var<'g, T>, GraphError> {
        let dims = self.dims();
        let axes = check_axes("mean", axes, dims.len())?;
        let n: usize = axes.iter().map(|&d| dims[d]).product();
        Ok(self.try_sum_axes(&axes, keepdim)? / T::from_f64(n as f64))
    }
    /// [`Var::try_mean_axes`], panicking on a bad axis.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn mean_axes(self, axes: &[usize], keepdim: bool) -> Var<'g, T> {
        unwrap_or_panic(self.try_mean_axes(axes, keepdim))
    }
    /// Maximum over `axes` (the gradient is shared evenly between tied maxima).
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_max_axes(self, axes: &[usize], keepdim: bool) -> Result<Var<'g, T>, GraphError> {
        let axes = check_axes("max", axes, self.dims().len())?;
        let v = self.value().max_axes(&axes, keepdim);
        Ok(self.unary(Op::MaxAxes { axes, keepdim }, v))
    }
    /// [`Var::try_max_axes`], panicking on a bad axis.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn max_axes(self, axes: &[usize], keepdim: bool) -> Var<'g, T> {
        unwrap_or_panic(self.try_max_axes(axes, keepdim))
    }
    /// Maximum of all elements.
    pub fn max(self) -> Var<'g, T> {
        let axes: Dims = (0..self.dims().len()).collect();
        self.max_axes(&axes, false)
    }

    /// The same elements under another shape.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] when the element counts differ.
    pub fn try_reshape(self, shape: &[usize]) -> Result<Var<'g, T>, GraphError> {
        let v = self.value().reshape(shape)?;
        Ok(self.unary(Op::Reshape, v))
    }
    /// [`Var::try_reshape`], panicking.
    ///
    /// # Panics
    /// When the element counts differ.
    #[track_caller]
    pub fn reshape(self, shape: &[usize]) -> Var<'g, T> {
        unwrap_or_panic(self.try_reshape(shape))
    }
    /// Axes permuted: axis `d` of the result is axis `perm[d]` of `self`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] if `perm` is not a permutation of the axes.
    pub fn try_permute(self, perm: &[usize]) -> Result<Var<'g, T>, GraphError> {
        let rank = self.shape().len();
        let mut seen = vec![false; rank];
        if perm.len() != rank
            || perm
                .iter()
                .any(|&p| p >= rank || std::mem::replace(&mut seen[p], true))
        {
            return Err(GraphError::Invalid {
                op: "permute",
                reason: format!("{perm:?} is not a permutation of {rank} axes"),
            });
        }
        let v = self.value().permute(perm);
        Ok(self.unary(Op::Permute(perm.to_vec()), v))
    }
    /// [`Var::try_permute`], panicking.
    ///
    /// # Panics
    /// If `perm` is not a permutation of the axes.
    #[track_caller]
    pub fn permute(self, perm: &[usize]) -> Var<'g, T> {
        unwrap_or_panic(self.try_permute(perm))
    }
    /// Swaps the last two axes (the matrix transpose; a no-op below rank 2).
    pub fn t(self) -> Var<'g, T> {
        let rank = self.shape().len();
        if rank < 2 {
            return self;
        }
        let mut perm: Vec<usize> = (0..rank).collect();
        perm.swap(rank - 2, rank - 1);
        self.permute(&perm)
    }
    /// Repeats `self` to a broadcast-compatible larger shape.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] if `self` does not broadcast to `shape`.
    pub fn try_broadcast_to(self, shape: &[usize]) -> Result<Var<'g, T>, GraphError> {
        if same_dims(&self.dims(), shape) {
            return Ok(self);
        }
        let v = self.value().broadcast_to(shape)?;
        Ok(self.unary(Op::BroadcastTo, v))
    }
    /// [`Var::try_broadcast_to`], panicking.
    ///
    /// # Panics
    /// If `self` does not broadcast to `shape`.
    #[track_caller]
    pub fn broadcast_to(self, shape: &[usize]) -> Var<'g, T> {
        unwrap_or_panic(self.try_broadcast_to(shape))
    }
    /// Sums a broadcast value back down to `shape` (the adjoint of [`Var::broadcast_to`]).
    pub(crate) fn sum_to(self, shape: &[usize]) -> Var<'g, T> {
        if same_dims(&self.dims(), shape) {
            return self;
        }
        let v = self.value().sum_to(shape);
        self.unary(Op::SumTo, v)
    }

    /// Elements `start..end` along `axis` (a narrower tensor of the same rank).
    ///
    /// # Errors
    /// [`GraphError::Invalid`] if the axis or the range is out of bounds.
    pub fn try_slice(
        self,
        axis: usize,
        start: usize,
        end: usize,
    ) -> Result<Var<'g, T>, GraphError> {
        let shape = self.shape();
        if axis >= shape.len() || start > end || end > shape[axis] {
            return Err(GraphError::Invalid {
                op: "slice",
                reason: format!("range {start}..{end} on axis {axis} of shape {shape:?}"),
            });
        }
        let v = self.value().slice_axis(axis, start, end);
        Ok(self.unary(Op::Slice { axis, start }, v))
    }
    /// [`Var::try_slice`], panicking.
    ///
    /// # Panics
    /// If the axis or the range is out of bounds.
    #[track_caller]
    pub fn slice(self, axis: usize, start: usize, end: usize) -> Var<'g, T> {
        unwrap_or_panic(self.try_slice(axis, start, end))
    }
    /// Element `i` of a vector, as a scalar.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] if `self` is not a vector (rank 1) or `i` is out of range.
    pub fn try_at(self, i: usize) -> Result<Var<'g, T>, GraphError> {
        let dims = self.dims();
        if dims.len() != 1 || i >= dims[0] {
            return Err(GraphError::Invalid {
                op: "at",
                reason: format!("index {i} of a tensor of shape {dims:?} (a vector is needed)"),
            });
        }
        self.try_slice(0, i, i + 1)?.try_reshape(&[])
    }
    /// [`Var::try_at`], panicking.
    ///
    /// # Panics
    /// If `self` is not a vector or `i` is out of range.
    #[track_caller]
    pub fn at(self, i: usize) -> Var<'g, T> {
        unwrap_or_panic(self.try_at(i))
    }
    /// `self` placed at `start..` along `axis` of a zero tensor whose `axis` has length `len`
    /// (the adjoint of [`Var::slice`]).
    pub(crate) fn pad(self, axis: usize, start: usize, len: usize) -> Var<'g, T> {
        let v = self.value().pad_axis(axis, start, len);
        self.unary(Op::Pad { axis, start }, v)
    }

    /// `self` and `other` joined along `axis` (all other axes equal).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes if they differ off `axis` or the ranks
    /// differ; [`GraphError::Invalid`] for an axis out of range; [`GraphError::ForeignVar`] if
    /// `other` belongs to another graph.
    pub fn try_concat(self, other: Var<'g, T>, axis: usize) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(other)?;
        let (sa, sb) = (self.shape(), other.shape());
        if axis >= sa.len() {
            return Err(GraphError::Invalid {
                op: "concat",
                reason: format!("axis {axis} out of range for rank {}", sa.len()),
            });
        }
        let fits = sa.len() == sb.len()
            && sa
                .iter()
                .zip(&sb)
                .enumerate()
                .all(|(d, (p, q))| d == axis || p == q);
        if !fits {
            return Err(GraphError::ShapeMismatch {
                op: "concat",
                lhs: sa,
                rhs: sb,
            });
        }
        let v = self.value().concat(&other.value(), axis);
        Ok(self.g.push_op(
            Op::Concat {
                axis,
                split: sa[axis],
            },
            &[self, other],
            v,
        ))
    }
    /// [`Var::try_concat`], panicking.
    ///
    /// # Panics
    /// As the errors of [`Var::try_concat`].
    #[track_caller]
    pub fn concat(self, other: Var<'g, T>, axis: usize) -> Var<'g, T> {
        unwrap_or_panic(self.try_concat(other, axis))
    }
    /// Rows `indices` of `self` along axis 0 (a gather: the embedding lookup); its gradient adds
    /// each output row back into the row it came from.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for a rank-0 input or an index out of range.
    pub fn try_index_select(self, indices: &[usize]) -> Result<Var<'g, T>, GraphError> {
        let shape = self.shape();
        let rows = shape.first().copied().unwrap_or(0);
        if shape.is_empty() || indices.iter().any(|&i| i >= rows) {
            return Err(GraphError::Invalid {
                op: "index_select",
                reason: format!("indices {indices:?} for shape {shape:?}"),
            });
        }
        Ok(self.index_select_shared(indices.into()))
    }
    /// [`Var::try_index_select`], panicking.
    ///
    /// # Panics
    /// As the errors of [`Var::try_index_select`].
    #[track_caller]
    pub fn index_select(self, indices: &[usize]) -> Var<'g, T> {
        unwrap_or_panic(self.try_index_select(indices))
    }
    pub(crate) fn index_select_shared(self, indices: std::sync::Arc<[usize]>) -> Var<'g, T> {
        let v = self.value().index_select(&indices);
        self.unary(Op::IndexSelect(indices), v)
    }
    pub(crate) fn index_add(self, indices: std::sync::Arc<[usize]>, rows: usize) -> Var<'g, T> {
        let v = self.value().index_add(&indices, rows);
        self.unary(Op::IndexAdd(indices), v)
    }

    /// Matrix product of the last two axes: `[m, k] x [k, n]`, or batched
    /// `[b, m, k] x [b, k, n]`, on nabla's GEMM.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes when they do not fit;
    /// [`GraphError::ForeignVar`] if `other` belongs to another graph.
    pub fn try_matmul(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.try_matmul_t(other, false, false)
    }

    /// `op(self) op(other)` where `op` transposes the last two axes when its flag is set: the
    /// transposes are strided views into the GEMM, never copies (the derivative rules use this).
    pub(crate) fn try_matmul_t(
        self,
        other: Var<'g, T>,
        ta: bool,
        tb: bool,
    ) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(other)?;
        let (a, b) = (self.value(), other.value());
        let (sa, sb) = (a.shape(), b.shape());
        let mismatch = || GraphError::ShapeMismatch {
            op: "matmul",
            lhs: sa.to_vec(),
            rhs: sb.to_vec(),
        };
        // (batch, rows, cols) of each stored operand.
        let split = |s: &[usize]| match *s {
            [r, c] => Some((None, r, c)),
            [bt, r, c] => Some((Some(bt), r, c)),
            _ => None,
        };
        let ((ba, ra, ca), (bb, rb, cb)) = match (split(sa), split(sb)) {
            (Some(x), Some(y)) => (x, y),
            _ => return Err(mismatch()),
        };
        let (m, k) = if ta { (ca, ra) } else { (ra, ca) };
        let (k2, n) = if tb { (cb, rb) } else { (rb, cb) };
        if k != k2 || ba != bb {
            return Err(mismatch());
        }
        let batch = ba.unwrap_or(1);
        fn view<T>(data: &[T], r: usize, c: usize, t: bool) -> MatRef<'_, T> {
            let v = MatRef::row_major(data, r, c);
            if t { v.t() } else { v }
        }
        // beta = 0: the GEMM writes every element of C and never reads it.
        let mut out = crate::pool::for_overwrite(batch * m * n);
        if !out.is_empty() {
            nabla_kernels::gemm::gemm_batched(
                batch,
                T::ONE,
                Strided::new(view(a.data(), ra, ca, ta), ra * ca),
                Strided::new(view(b.data(), rb, cb, tb), rb * cb),
                T::ZERO,
                Strided::new(MatMut::row_major(&mut out, m, n), m * n),
            );
        }
        let shape: Dims = match ba {
            None => [m, n].into_iter().collect(),
            Some(bt) => [bt, m, n].into_iter().collect(),
        };
        Ok(self.g.push_op(
            Op::MatMul { ta, tb },
            &[self, other],
            Tensor::new(out, &shape),
        ))
    }

    /// [`Var::try_matmul`], panicking.
    ///
    /// # Panics
    /// When the shapes do not fit (the message names both).
    #[track_caller]
    pub fn matmul(self, other: Var<'g, T>) -> Var<'g, T> {
        unwrap_or_panic(self.try_matmul(other))
    }

    /// Dot product of two vectors of equal length (of two tensors of one shape: the sum of
    /// their elementwise product).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes when they differ (no broadcasting);
    /// [`GraphError::ForeignVar`] if `other` belongs to another graph.
    pub fn try_dot(self, other: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(other)?;
        check_same_shape("dot", &self.dims(), &other.dims())?;
        Ok(self.try_mul(other)?.sum())
    }
    /// [`Var::try_dot`], panicking.
    ///
    /// # Panics
    /// When the shapes differ (the message names both) or `other` belongs to another graph.
    #[track_caller]
    pub fn dot(self, other: Var<'g, T>) -> Var<'g, T> {
        unwrap_or_panic(self.try_dot(other))
    }
    /// Euclidean norm of all elements, `sqrt(sum x^2)`, without overflow or underflow: the
    /// elements are divided by a scale `s` (the norm's value computed by the kernels' scaled
    /// [`l2_norm`](nabla_kernels::l2_norm), held constant, so the derivative is unchanged) and
    /// `s * sqrt(sum (x/s)^2)` is returned; entries of `1e300` or `1e-300` give their norm.
    ///
    /// The gradient is `x / ||x||`. At `x = 0`, where the norm has no derivative, it is 0 (the
    /// smallest subgradient, as PyTorch's convention), never NaN: the square root's argument is
    /// shifted by 1 there and the shift taken back (`sqrt(q + m) - m` with `m = [q == 0]`).
    pub fn l2_norm(self) -> Var<'g, T> {
        let norm = nabla_kernels::l2_norm(self.value().data());
        let scale = if norm.is_finite() && norm > T::ZERO {
            norm
        } else {
            T::ONE
        };
        let x = self / scale;
        let q = (x * x).sum();
        let at_zero = q.eq_mask(self.g.scalar(T::ZERO));
        ((q + at_zero).sqrt() - at_zero) * scale
    }
    /// Frobenius norm (the same as [`Var::l2_norm`] of all elements).
    pub fn frobenius_norm(self) -> Var<'g, T> {
        self.l2_norm()
    }

    /// `log(sum(exp(x)))` along `axis`, stable for large inputs (the maximum is subtracted
    /// first, as a constant: the gradient is the same); `axis` is kept as a length-1 axis if
    /// `keepdim`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_logsumexp(self, axis: usize, keepdim: bool) -> Result<Var<'g, T>, GraphError> {
        check_axis("logsumexp", axis, self.dims().len())?;
        Ok(self.logsumexp_checked(axis, keepdim))
    }
    /// [`Var::try_logsumexp`], panicking.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn logsumexp(self, axis: usize, keepdim: bool) -> Var<'g, T> {
        unwrap_or_panic(self.try_logsumexp(axis, keepdim))
    }
    /// The work of [`Var::try_logsumexp`], for an axis already checked.
    fn logsumexp_checked(self, axis: usize, keepdim: bool) -> Var<'g, T> {
        let m = self.max_axes(&[axis], true).detach();
        // A row of all -inf has max -inf: shift by 0 there so no NaN appears.
        let m = self
            .g
            .constant(m.value().map(|x| if x.is_finite() { x } else { T::ZERO }));
        let l = (self - m).exp().sum_axes(&[axis], true).log() + m;
        if keepdim {
            l
        } else {
            l.sum_axes(&[axis], false)
        }
    }
    /// `x - logsumexp(x)` along `axis`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_log_softmax(self, axis: usize) -> Result<Var<'g, T>, GraphError> {
        check_axis("log_softmax", axis, self.dims().len())?;
        Ok(self.log_softmax_checked(axis))
    }
    /// [`Var::try_log_softmax`], panicking.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn log_softmax(self, axis: usize) -> Var<'g, T> {
        unwrap_or_panic(self.try_log_softmax(axis))
    }
    /// The work of [`Var::try_log_softmax`], for an axis already checked.
    fn log_softmax_checked(self, axis: usize) -> Var<'g, T> {
        self - self.logsumexp_checked(axis, true)
    }
    /// `exp(x) / sum(exp(x))` along `axis`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for an axis out of range.
    pub fn try_softmax(self, axis: usize) -> Result<Var<'g, T>, GraphError> {
        check_axis("softmax", axis, self.dims().len())?;
        Ok(self.log_softmax_checked(axis).exp())
    }
    /// [`Var::try_softmax`], panicking.
    ///
    /// # Panics
    /// For an axis out of range.
    #[track_caller]
    pub fn softmax(self, axis: usize) -> Var<'g, T> {
        unwrap_or_panic(self.try_softmax(axis))
    }
    /// Mean squared error against `target` of the same shape: `mean((x - target)^2)`.
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes when they differ (no broadcasting: a
    /// `[n]` target against `[n, 1]` predictions would silently average an `[n, n]` grid);
    /// [`GraphError::ForeignVar`] if `target` belongs to another graph.
    pub fn try_mse_loss(self, target: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(target)?;
        check_same_shape("mse_loss", &self.dims(), &target.dims())?;
        let d = self.try_sub(target)?;
        Ok((d * d).mean())
    }
    /// [`Var::try_mse_loss`], panicking.
    ///
    /// # Panics
    /// As the errors of [`Var::try_mse_loss`].
    #[track_caller]
    pub fn mse_loss(self, target: Var<'g, T>) -> Var<'g, T> {
        unwrap_or_panic(self.try_mse_loss(target))
    }
    /// Softmax cross-entropy from logits `[n, c]` and integer labels (one per row, each `< c`),
    /// averaged over rows: `-mean_r log_softmax(x)[r, label_r]`.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] if `self` is not `[n, c]` with `labels.len() == n` and every
    /// label `< c`.
    pub fn try_cross_entropy(self, labels: &[usize]) -> Result<Var<'g, T>, GraphError> {
        let shape = self.dims();
        let (n, c) = match *shape {
            [n, c] if labels.len() == n && labels.iter().all(|&l| l < c) => (n, c),
            _ => {
                return Err(GraphError::Invalid {
                    op: "cross_entropy",
                    reason: format!(
                        "logits of shape {shape:?} with {} labels (each must be below the class count)",
                        labels.len()
                    ),
                });
            }
        };
        let mut onehot = crate::pool::filled(n * c, T::ZERO);
        for (r, &l) in labels.iter().enumerate() {
            onehot[r * c + l] = T::ONE;
        }
        let onehot = self.g.constant(Tensor::new(onehot, &[n, c]));
        Ok(-(self.log_softmax(1) * onehot).sum() / T::from_f64(n.max(1) as f64))
    }
    /// [`Var::try_cross_entropy`], panicking.
    ///
    /// # Panics
    /// As the errors of [`Var::try_cross_entropy`].
    #[track_caller]
    pub fn cross_entropy(self, labels: &[usize]) -> Var<'g, T> {
        unwrap_or_panic(self.try_cross_entropy(labels))
    }
    /// Binary cross-entropy from logits `x` and labels `y` in `[0, 1]` of the same shape,
    /// averaged: `mean(softplus(x) - x y)` (stable for any `x`).
    ///
    /// # Errors
    /// [`GraphError::ShapeMismatch`] naming both shapes when they differ (no broadcasting, as
    /// [`Var::try_mse_loss`]); [`GraphError::ForeignVar`] if `labels` belongs to another graph.
    pub fn try_bce_with_logits(self, labels: Var<'g, T>) -> Result<Var<'g, T>, GraphError> {
        self.same_graph(labels)?;
        check_same_shape("bce_with_logits", &self.dims(), &labels.dims())?;
        Ok((self.softplus() - self.try_mul(labels)?).mean())
    }
    /// [`Var::try_bce_with_logits`], panicking.
    ///
    /// # Panics
    /// As the errors of [`Var::try_bce_with_logits`].
    #[track_caller]
    pub fn bce_with_logits(self, labels: Var<'g, T>) -> Var<'g, T> {
        unwrap_or_panic(self.try_bce_with_logits(labels))
    }
}

/// The vars stacked along a new axis `axis` (all of one shape, all of one graph).
///
/// # Errors
/// [`GraphError::Invalid`] if `vars` is empty or `axis` exceeds the rank;
/// [`GraphError::ShapeMismatch`] naming the first shape and the first that differs;
/// [`GraphError::ForeignVar`] if the vars belong to more than one graph.
pub fn try_stack<'g, T: Element>(
    vars: &[Var<'g, T>],
    axis: usize,
) -> Result<Var<'g, T>, GraphError> {
    let Some(&first) = vars.first() else {
        return Err(GraphError::Invalid {
            op: "stack",
            reason: "no vars to stack".into(),
        });
    };
    let dims = first.dims();
    if axis > dims.len() {
        return Err(GraphError::Invalid {
            op: "stack",
            reason: format!("axis {axis} beyond rank {}", dims.len()),
        });
    }
    for &v in vars {
        first.same_graph(v)?;
        check_same_shape("stack", &dims, &v.dims())?;
    }
    let mut shape = dims.to_vec();
    shape.insert(axis, 1);
    let mut acc = first.try_reshape(&shape)?;
    for &v in &vars[1..] {
        acc = acc.try_concat(v.try_reshape(&shape)?, axis)?;
    }
    Ok(acc)
}

/// [`try_stack`], panicking.
///
/// # Panics
/// As the errors of [`try_stack`].
#[track_caller]
pub fn stack<'g, T: Element>(vars: &[Var<'g, T>], axis: usize) -> Var<'g, T> {
    unwrap_or_panic(try_stack(vars, axis))
}

impl<'g, T: Element> Var<'g, T> {
    /// `self op c` for a constant scalar: one node, no constant node beside it.
    fn with_scalar(self, op: Op<T>) -> Var<'g, T> {
        let v = self.g.node_ref(self.id, |n| match op {
            Op::Shift(c) => n.value.map(|x| x + c),
            Op::Scale(c) => n.value.map(|x| x * c),
            Op::DivScalar(c) => n.value.map(|x| x / c),
            _ => unreachable!("scalar ops only"),
        });
        self.unary(op, v)
    }
}

impl<'g, T: Element> Add<T> for Var<'g, T> {
    type Output = Var<'g, T>;
    fn add(self, c: T) -> Var<'g, T> {
        self.with_scalar(Op::Shift(c))
    }
}
impl<'g, T: Element> Sub<T> for Var<'g, T> {
    type Output = Var<'g, T>;
    /// `x - c = x + (-c)` exactly (negation is exact).
    fn sub(self, c: T) -> Var<'g, T> {
        self.with_scalar(Op::Shift(-c))
    }
}
impl<'g, T: Element> Mul<T> for Var<'g, T> {
    type Output = Var<'g, T>;
    fn mul(self, c: T) -> Var<'g, T> {
        self.with_scalar(Op::Scale(c))
    }
}
impl<'g, T: Element> Div<T> for Var<'g, T> {
    type Output = Var<'g, T>;
    fn div(self, c: T) -> Var<'g, T> {
        self.with_scalar(Op::DivScalar(c))
    }
}

macro_rules! var_operator {
    ($trait:ident, $method:ident, $try:ident) => {
        impl<'g, T: Element> $trait<Var<'g, T>> for Var<'g, T> {
            type Output = Var<'g, T>;
            #[track_caller]
            fn $method(self, rhs: Var<'g, T>) -> Var<'g, T> {
                unwrap_or_panic(self.$try(rhs))
            }
        }
        impl<'g> $trait<Var<'g, f64>> for f64 {
            type Output = Var<'g, f64>;
            #[track_caller]
            fn $method(self, rhs: Var<'g, f64>) -> Var<'g, f64> {
                unwrap_or_panic(rhs.g.scalar(self).$try(rhs))
            }
        }
        impl<'g> $trait<Var<'g, f32>> for f32 {
            type Output = Var<'g, f32>;
            #[track_caller]
            fn $method(self, rhs: Var<'g, f32>) -> Var<'g, f32> {
                unwrap_or_panic(rhs.g.scalar(self).$try(rhs))
            }
        }
    };
}

var_operator!(Add, add, try_add);
var_operator!(Sub, sub, try_sub);
var_operator!(Mul, mul, try_mul);
var_operator!(Div, div, try_div);

impl<'g, T: Element> Neg for Var<'g, T> {
    type Output = Var<'g, T>;
    fn neg(self) -> Var<'g, T> {
        self.unary(Op::Neg, self.mapped(|v| v.map(|x| -x)))
    }
}

#[cfg(test)]
mod tests {
    use crate::{Graph, Tensor};

    #[test]
    fn eq_mask_refuses_a_var_of_another_graph() {
        let (g1, g2) = (Graph::<f64>::new(), Graph::<f64>::new());
        let (a, b) = (g1.var(Tensor::scalar(1.0)), g2.var(Tensor::scalar(1.0)));
        assert_eq!(a.eq_mask(g1.scalar(1.0)).value().item(), 1.0);
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.eq_mask(b)));
        let msg = r.unwrap_err().downcast::<String>().unwrap();
        assert!(msg.contains("another graph"), "{msg}");
    }
}
