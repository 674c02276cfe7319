//! Derivatives of functions of one tensor: value-and-gradient, Hessian-vector products,
//! Jacobian-vector products, dense Jacobians and Hessians. Each call records `f` on a fresh
//! [`Graph`].

use crate::error::GraphError;
use crate::graph::{Graph, Var};
use crate::tensor::{Tensor, numel};
use nabla_kernels::Element;
use nabla_kernels::gemm::{self, MatMut, MatRef};

/// Fixes a closure's type as a function of one `Var` for any graph lifetime, so it can be stored
/// in a variable and passed to [`hvp`], [`hessian`], ... more than once. (Rust infers that
/// higher-ranked signature only for closures written directly in the call.)
///
/// ```
/// use nabla_graph::{func, hvp, value_and_grad, Tensor};
/// let a = Tensor::vector(&[1.0f64, 2.0]);
/// let f = func(|x| (x * x.graph().constant(a.clone())).powi(2).sum()); // captures `a`
/// let x = Tensor::vector(&[1.0, 1.0]);
/// assert_eq!(value_and_grad(&f, &x).unwrap().0, 5.0);
/// assert_eq!(hvp(&f, &x, &Tensor::vector(&[1.0, 0.0])).unwrap().to_vec(), vec![2.0, 0.0]);
/// ```
pub fn func<T: Element, F: for<'g> Fn(Var<'g, T>) -> Var<'g, T>>(f: F) -> F {
    f
}

/// `f(x)` (a scalar) and its gradient.
///
/// # Errors
/// [`GraphError::NotScalar`] if `f` does not return a scalar.
///
/// ```
/// use nabla_graph::{value_and_grad, Tensor};
/// let (v, g) = value_and_grad(|x| (x * x).sum(), &Tensor::vector(&[1.0f64, 2.0])).unwrap();
/// assert_eq!((v, g.to_vec()), (5.0, vec![2.0, 4.0]));
/// ```
pub fn value_and_grad<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
) -> Result<(T, Tensor<T>), GraphError> {
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    let grads = g.grad(y, &[xv])?;
    Ok((
        y.value().item(),
        grads.into_iter().next().expect("one input"),
    ))
}

/// The Hessian-vector product `H(x) v` of a scalar `f`, without forming `H`:
/// reverse-over-forward, i.e. the directional derivative `grad f(x) . v` is recorded by one
/// forward-mode sweep and one reverse sweep of it gives `H v` (a small constant times the cost
/// of a gradient; for `sum softplus(A x)` three matrix-vector products against the gradient's
/// two).
///
/// # Errors
/// [`GraphError::NotScalar`] if `f` is not scalar; [`GraphError::ShapeMismatch`] if `v`'s
/// shape is not `x`'s.
///
/// ```
/// use nabla_graph::{hvp, Tensor};
/// // f(x) = sum(x^3) / 3 has H = diag(2x).
/// let hv = hvp(|x| x.powi(3).sum() / 3.0, &Tensor::vector(&[1.0, 3.0]), &Tensor::vector(&[1.0, 1.0])).unwrap();
/// assert_eq!(hv.to_vec(), vec![2.0, 6.0]);
/// ```
pub fn hvp<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
    v: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    hvp_by(f, x, v, false)
}

/// `H(x) v` forward-over-reverse or, if not `forward_over_reverse`, reverse-over-forward.
fn hvp_by<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
    v: &Tensor<T>,
    forward_over_reverse: bool,
) -> Result<Tensor<T>, GraphError> {
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    if y.value().len() != 1 {
        return Err(GraphError::NotScalar { shape: y.shape() });
    }
    let v = g.constant(v.clone());
    if forward_over_reverse {
        let grad = g.grad_graph(y, &[xv])?[0];
        return Ok(g.jvp_graph(grad, &[xv], &[v], false)?.value());
    }
    // Reverse-over-forward: the directional derivative grad f . v, recorded, then one
    // reverse sweep of it. Its matrix products with constant operands (A v) are constants, so
    // a matrix-vector product costs three products (A x, A v, A^T w), not the four of
    // forward-over-reverse (whose A^T s of the recorded gradient is never used).
    let dir = g.jvp_graph(y, &[xv], &[v], true)?;
    Ok(g.grad(dir, &[xv])?.remove(0))
}

/// [`hvp`] computed the other way round, forward-over-reverse: the gradient is recorded
/// (`grad_graph`) and one forward-mode sweep pushes `v` through it, as JAX's `jvp(grad(f))`.
/// The same `H v` (to rounding: the products are summed in another order), no Hessian formed;
/// [`hvp`] itself is reverse-over-forward because that costs less here (for
/// `sum softplus(A x)`, about 1.6 gradients against 2.0: the recorded gradient's `A^T s` product is
/// never needed by reverse-over-forward).
///
/// # Errors
/// As [`hvp`], and [`GraphError::Invalid`] for a custom operation without a forward rule.
///
/// ```
/// use nabla_graph::{hvp_forward_over_reverse, Tensor};
/// let x = Tensor::vector(&[1.0, 3.0]);
/// let hv = hvp_forward_over_reverse(|x| x.powi(3).sum() / 3.0, &x, &Tensor::vector(&[1.0, 1.0]));
/// assert_eq!(hv.unwrap().to_vec(), vec![2.0, 6.0]);
/// ```
pub fn hvp_forward_over_reverse<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
    v: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    hvp_by(f, x, v, true)
}

/// The Jacobian-vector product `J(x) v`, by forward mode.
///
/// # Errors
/// [`GraphError::ShapeMismatch`] if `v`'s shape is not `x`'s.
pub fn jvp<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
    v: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    let v = g.constant(v.clone());
    Ok(g.jvp_graph(y, &[xv], &[v], false)?.value())
}

/// The dense Jacobian of `f` at `x`, shaped `f(x).shape ++ x.shape`: reverse sweeps seeded with
/// the output's unit vectors when there are no more outputs than inputs, else one forward-mode
/// sweep per input element.
///
/// The reverse sweeps are batched as for [`hessian`]: one sweep carries many seeds, so the
/// matrix-vector products of `m` separate sweeps become matrix-matrix products (an operation
/// without a batched rule on the path falls back to one sweep per output element; the result is
/// the same up to rounding).
///
/// # Errors
/// Propagates shape errors from `f`.
pub fn jacobian<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    let (out_shape, n) = (y.shape(), x.len());
    let m = numel(&out_shape);
    let shape: Vec<usize> = out_shape.iter().chain(x.shape()).copied().collect();
    if m <= n
        && let Some(jac) = jacobian_rows_batched(&g, y, xv, usize::MAX, false)
    {
        return Tensor::from_vec(jac, &shape);
    }
    let mut jac = vec![T::ZERO; m * n];
    if m <= n {
        for i in 0..m {
            let row = g.vjp(y, &[xv], unit(&out_shape, i))?.remove(0);
            jac[i * n..(i + 1) * n].copy_from_slice(row.data());
        }
    } else {
        for j in 0..n {
            let mark = g.len();
            let e = g.constant(unit(x.shape(), j));
            let col = g.jvp_graph(y, &[xv], &[e], false)?.value();
            g.truncate(mark);
            for (i, &c) in col.data().iter().enumerate() {
                jac[i * n + j] = c;
            }
        }
    }
    Tensor::from_vec(jac, &shape)
}

/// The dense Hessian of a scalar `f` at `x`, shaped `x.shape ++ x.shape`: the gradient is
/// recorded once and reverse-swept with the rows of the identity as seeds (since `H` is
/// symmetric a row is a column).
///
/// The sweeps are batched: one sweep carries many seeds, each adjoint gaining a leading batch
/// axis, so the matrix-vector products of `n` separate sweeps become matrix-matrix products
/// (for `sum softplus(A x)`, a GEMM of `n x 1000` by `1000 x n`; the other product meets the
/// identity seeds and is a gather). The seeds go in sweeps of `max(n / 8, 64)` rows (fewer
/// when the widest adjoint would pass 4 Mi elements), and a sweep of rows `r0..` computes
/// only columns `r0..` of those products (56% of the GEMM work at n = 500, 77% at n = 100).
///
/// The result is exactly symmetric: the strict lower triangle is the upper one mirrored. An
/// operation without a batched rule on the path (max, slicing, gathers, custom operations,
/// rank-3 matrix products) falls back to one sweep per row; the result is the same up to
/// rounding either way.
///
/// Mode: unlike [`jacobian`], there is no shape to choose by (the gradient's Jacobian is
/// square), so the choice is by cost: forward-over-reverse would take `n` forward sweeps of the
/// recorded gradient, one per column, while the reverse sweeps batch all `n` seeds into matrix
/// products; [`hvp_forward_over_reverse`] gives single columns that way.
///
/// # Errors
/// [`GraphError::NotScalar`] if `f` is not scalar.
///
/// ```
/// use nabla_graph::{hessian, Tensor};
/// // The guide's exercise: f(x, y) = x^2 y + x y^2 has H = [[2y, 2x + 2y], [2x + 2y, 2x]].
/// let h = hessian(|v| {
///     let (x, y) = (v.at(0), v.at(1));
///     x * x * y + x * y * y
/// }, &Tensor::vector(&[1.0f64, 2.0])).unwrap();
/// assert_eq!(h.to_vec(), vec![4.0, 6.0, 6.0, 2.0]);
/// ```
pub fn hessian<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    hessian_by(f, x, true)
}

/// [`hessian`], with batched sweeps (`batch`) or one reverse sweep per row.
fn hessian_by<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
    batch: bool,
) -> Result<Tensor<T>, GraphError> {
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    let grad = g.grad_graph(y, &[xv])?[0];
    let shape: Vec<usize> = x.shape().iter().chain(x.shape()).copied().collect();
    match batch.then(|| hessian_batched(&g, grad, xv)).flatten() {
        Some(h) => h.reshape(&shape),
        None => {
            let mut h = hessian_rows(&g, grad, xv)?;
            if batch {
                // The fallback of `hessian` keeps its symmetry promise; the reference does not
                // mirror, so tests compare both triangles against it.
                mirror_upper(&mut h, numel(x.shape()));
            }
            Tensor::from_vec(h, &shape)
        }
    }
}

/// The Hessian by batched reverse sweeps over the recorded gradient ([`jacobian_rows_batched`]
/// of the gradient, in sweeps of at most [`symmetric_rows`] rows, each asking only for the
/// columns from its first row on), as an `[n, n]` tensor whose lower triangle mirrors the upper.
/// `None` when an operation on the path has no batched rule.
///
/// The matrix-vector products of the input, such as `A x` in `sum softplus(A x)`, thus become
/// GEMMs over a shrinking column range: with 8 sweeps they do 56% of the full product's work.
fn hessian_batched<'g, T: Element>(
    g: &'g Graph<T>,
    grad: Var<'g, T>,
    xv: Var<'g, T>,
) -> Option<Tensor<T>> {
    let n = numel(&xv.shape());
    let mut h = jacobian_rows_batched(g, grad, xv, symmetric_rows(n), true)?;
    mirror_upper(&mut h, n);
    Tensor::from_vec(h, &[n, n]).ok()
}

/// The Jacobian of `output` (`m` elements) with respect to `input` (`n`), row-major `m x n`, by
/// batched reverse sweeps: rows of the identity over the output as seeds, as many per sweep as
/// keep the widest batched adjoint near [`BATCH_ELEMS`] elements and at most `max_rows`. With
/// `upper`, a sweep of rows `r0..` asks only for columns `r0..` (see [`Graph::vjp_batched`]);
/// the entries left of them are then unspecified (finite). `None` when an operation on the path
/// has no batched rule.
fn jacobian_rows_batched<'g, T: Element>(
    g: &'g Graph<T>,
    output: Var<'g, T>,
    input: Var<'g, T>,
    max_rows: usize,
    upper: bool,
) -> Option<Vec<T>> {
    let out_shape = output.shape();
    let (m, n) = (numel(&out_shape), numel(&input.shape()));
    // Adjoints exist only for nodes that depend on the input (constants carry none).
    let widest = (input.id..=output.id)
        .map(|i| g.node_ref(i, |n| if n.requires_grad { n.value.len() } else { 0 }))
        .max()
        .unwrap_or(1);
    let rows = (BATCH_ELEMS / widest.max(1))
        .min(max_rows)
        .clamp(1, m.max(1));
    // Every row is written by exactly one sweep: a recycled buffer needs no clearing (a fresh
    // 2 MB one was 7% of the n = 500 Hessian in page faults).
    let mut jac = crate::pool::for_overwrite(m * n);
    let mut memo = crate::batched::SweepMemo::default();
    for r0 in (0..m).step_by(rows) {
        let b = rows.min(m - r0);
        let mut seeds = crate::pool::filled(b * m, T::ZERO);
        for t in 0..b {
            seeds[t * m + r0 + t] = T::ONE;
        }
        let seed_shape: Vec<usize> = std::iter::once(b)
            .chain(out_shape.iter().copied())
            .collect();
        let from = if upper { r0 } else { 0 };
        let swept = g.vjp_batched(
            output,
            input,
            Tensor::new(seeds, &seed_shape),
            from,
            &mut memo,
        )?;
        jac[r0 * n..(r0 + b) * n].copy_from_slice(swept.data());
    }
    Some(jac)
}

/// Elements a batched Hessian sweep's widest adjoint may hold (`[b] ++ shape`): 4 Mi, 32 MiB in
/// `f64`.
const BATCH_ELEMS: usize = 1 << 22;

/// How many rows of an `n x n` Hessian one batched sweep takes at most: an eighth of `n`, but
/// not fewer than 64 (below that a sweep's fixed costs outweigh the columns it skips).
fn symmetric_rows(n: usize) -> usize {
    n.div_ceil(8).max(64)
}

/// Sets the strict lower triangle of the row-major `n x n` matrix `h` to the transpose of its
/// upper triangle, in blocks of 64 rows (a register-block transpose for the part left of the
/// diagonal block).
fn mirror_upper<T: Element>(h: &mut [T], n: usize) {
    const B: usize = 64;
    for i0 in (0..n).step_by(B) {
        let i1 = (i0 + B).min(n);
        let (above, block) = h.split_at_mut(i0 * n);
        let block = &mut block[..(i1 - i0) * n];
        // Rows i0..i1, columns 0..i0: the transpose of rows 0..i0, columns i0..i1.
        gemm::copy_matrix(
            MatRef::row_major(above, i0, n).cols(i0..i1).t(),
            MatMut::row_major(block, i1 - i0, n).cols(0..i0),
        );
        for i in 1..i1 - i0 {
            for j in 0..i {
                block[i * n + i0 + j] = block[j * n + i0 + i];
            }
        }
    }
}

/// The Hessian one row per sweep over the recorded gradient (the fallback of [`hessian`] when an
/// operation has no batched rule).
fn hessian_rows<'g, T: Element>(
    g: &'g Graph<T>,
    grad: Var<'g, T>,
    xv: Var<'g, T>,
) -> Result<Vec<T>, GraphError> {
    let shape = xv.shape();
    let n = numel(&shape);
    let mut h = vec![T::ZERO; n * n];
    for i in 0..n {
        let row = g.vjp(grad, &[xv], unit(&shape, i))?.remove(0);
        h[i * n..(i + 1) * n].copy_from_slice(row.data());
    }
    Ok(h)
}

/// [`hessian`] one row per reverse sweep, never batched and not mirrored (each triangle is
/// computed): the reference the batched sweeps are tested against.
#[doc(hidden)]
pub fn hessian_unbatched<T: Element>(
    f: impl for<'g> Fn(Var<'g, T>) -> Var<'g, T>,
    x: &Tensor<T>,
) -> Result<Tensor<T>, GraphError> {
    hessian_by(f, x, false)
}

/// The `i`-th unit tensor of a shape.
fn unit<T: Element>(shape: &[usize], i: usize) -> Tensor<T> {
    let mut d = vec![T::ZERO; numel(shape)];
    d[i] = T::ONE;
    Tensor::new(d, shape)
}
