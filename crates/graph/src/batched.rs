//! Batched reverse sweeps: `B` vector-Jacobian products of one recorded output in one sweep.
//!
//! The adjoint of a node of shape `S` is a tensor of shape `[B] ++ S` (one row per seed), while
//! the nodes' values are shared by every row. Each operation's batched rule is written on
//! values (no nodes are recorded): elementwise rules multiply the batch by one local-derivative
//! tensor broadcast along the batch axis, shape rules act on the trailing axes, and a matrix
//! product's rule becomes one GEMM over the whole batch when the product is a matrix-vector one
//! (the batch rows stacked into a matrix), else a batched GEMM whose fixed operand has stride 0.
//! So the `n` sweeps of a dense Hessian become a few sweeps whose matrix-vector products are
//! matrix-matrix products.
//!
//! An operation without a batched rule (max, slices, gathers, custom operations, rank-3 matrix
//! products, ...) makes [`Graph::vjp_batched`] return `None`; callers then fall back to one
//! sweep per seed.

use crate::graph::{Graph, Op, Var};
use crate::tensor::Tensor;
use nabla_kernels::gemm::{self, MatMut, MatRef, Strided};
use nabla_kernels::{Element, activation};

/// `shape` with the reduced `axes` set to 1.
fn kept_shape(shape: &[usize], axes: &[usize]) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .map(|(d, &n)| if axes.contains(&d) { 1 } else { n })
        .collect()
}

/// `[b] ++ shape`.
fn batched_shape(b: usize, shape: &[usize]) -> Vec<usize> {
    std::iter::once(b).chain(shape.iter().copied()).collect()
}

/// A batched adjoint `[b] ++ out` summed down to `[b] ++ shape` (`shape` broadcasts to `out`).
fn sum_to_b<T: Element>(dy: &Tensor<T>, b: usize, shape: &[usize]) -> Tensor<T> {
    let out_rank = dy.rank() - 1;
    // Align `shape` with the trailing axes of `out`, keeping the batch axis apart.
    let mut target = vec![b];
    target.extend(std::iter::repeat_n(1, out_rank - shape.len()));
    target.extend_from_slice(shape);
    let s = dy.sum_to(&target);
    s.reshape(&batched_shape(b, shape))
        .expect("same element count")
}

/// A batched adjoint `[b] ++ from` broadcast up to `[b] ++ to`.
fn broadcast_b<T: Element>(dy: &Tensor<T>, b: usize, to: &[usize]) -> Tensor<T> {
    let from_rank = dy.rank() - 1;
    let mut aligned = vec![b];
    aligned.extend(std::iter::repeat_n(1, to.len() - from_rank));
    aligned.extend_from_slice(&dy.shape()[1..]);
    dy.reshape(&aligned)
        .expect("same element count")
        .broadcast_to(&batched_shape(b, to))
        .expect("broadcast-compatible by construction")
}

/// `dy * d` with `d` of the node's shape, broadcast along the batch axis.
fn mul_b<T: Element>(dy: &Tensor<T>, d: &Tensor<T>) -> Tensor<T> {
    Tensor::zip("mul", dy, d, nabla_kernels::mul, |x, y| x * y)
        .expect("trailing shapes agree by construction")
}

/// [`mul_b`] into `dy`'s own buffer when nothing else holds it (a batched adjoint is usually
/// its sweep's only copy) and `d` has the node's whole shape: one read-write pass instead of a
/// read pass and a pass writing a fresh buffer (at `[500, 1000]` f64 the fresh buffer's pass
/// was 7% of a Hessian). Same products, so the same bits.
fn mul_b_owned<T: Element>(mut dy: Tensor<T>, d: &Tensor<T>) -> Tensor<T> {
    let row = d.len();
    if row > 0
        && dy.shape().get(1..) == Some(d.shape())
        && let Some(buf) = dy.unique_data_mut()
    {
        for chunk in buf.chunks_mut(row) {
            nabla_kernels::mul_assign(chunk, d.data());
        }
        return dy;
    }
    mul_b(&dy, d)
}

/// `dy * d` for an adjoint that flows to one operand of a product only (the other operand, `d`,
/// is off the path to the input): `dy` itself when `d` is all ones (the gradient of `sum(f(x))`
/// multiplies `f'` by the broadcast ones of the sum, and a Hessian's sweep over it then
/// multiplied its whole batch by them: `x * 1 == x` for every `x`, NaN and signed zeros
/// included, so skipping is exact), else [`mul_b_owned`]. The test reads `d` (one row, not the
/// batch) only up to its first element that is not 1.
fn mul_b_skipping_ones<T: Element>(dy: Tensor<T>, d: &Tensor<T>) -> Tensor<T> {
    if d.data().iter().all(|&v| v == T::ONE) && dy.shape().get(1..) == Some(d.shape()) {
        dy
    } else {
        mul_b_owned(dy, d)
    }
}

/// ReLU's vjp on a batched adjoint: each row of `dy` masked by `x > 0` with the kernel the
/// reverse rule uses ([`Var::relu`]'s conventions: NaN where `x` is NaN, 0 where `x <= 0` even
/// for an infinite `dy`), one pass instead of a mask and a product.
fn relu_grad_b<T: Element>(dy: &Tensor<T>, x: &Tensor<T>) -> Tensor<T> {
    debug_assert_eq!(dy.shape().get(1..), Some(x.shape()));
    let row = x.len();
    let mut out = crate::pool::for_overwrite(dy.len());
    if row > 0 {
        for (o, d) in out.chunks_mut(row).zip(dy.data().chunks(row)) {
            activation::relu_backward(x.data(), d, o);
        }
    }
    Tensor::new(out, dy.shape())
}

/// The local derivative of a unary elementwise node (`dy * D` is its vjp), or `None` when the
/// operation has no batched rule here.
fn local_derivative<T: Element>(op: &Op<T>, a: &Tensor<T>, y: &Tensor<T>) -> Option<Tensor<T>> {
    let one = T::ONE;
    Some(match op {
        Op::Exp => y.clone(),
        Op::Log => a.map(|x| one / x),
        Op::Log1p => a.map(|x| one / (x + one)),
        Op::Sqrt => y.map(|v| T::from_f64(0.5) / v),
        Op::Tanh => y.map(|v| one - v * v),
        Op::Sigmoid => y.map(|v| v * (one - v)),
        Op::Softplus => a.map_kernel(activation::sigmoid),
        Op::Sin => a.map(|x| T::from_f64(x.to_f64().cos())),
        Op::Cos => a.map(|x| T::from_f64(-x.to_f64().sin())),
        Op::PowI(n) => {
            let c = T::from_f64(*n as f64);
            a.map(|x| T::from_f64(x.to_f64().powi(n - 1)) * c)
        }
        _ => return None,
    })
}

/// When every row of the row-major `rows x cols` matrix `d` is zero or has one nonzero entry
/// (the identity seeds of a Hessian reach the first matrix product as unit rows; a Jacobian's,
/// scaled by an elementwise derivative, as rows with one nonzero) and `other_finite()` says the
/// matrix it multiplies is finite, each row's `(column, value)` (`None` for a zero row): the
/// product is then a gather of that matrix's rows, scaled, with the GEMM's values (`c * v + 0 *
/// w + ... = c * v` for finite `w`, up to the sign of a zero). Otherwise `None`.
fn one_hot_rows<T: Element>(
    d: &[T],
    rows: usize,
    cols: usize,
    other_finite: impl FnOnce() -> bool,
) -> Option<Vec<Option<(usize, T)>>> {
    let mut units = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = &d[r * cols..(r + 1) * cols];
        let mut unit = None;
        for (j, &v) in row.iter().enumerate() {
            if v == T::ZERO {
                continue;
            }
            if unit.is_some() {
                return None;
            }
            unit = Some((j, v));
        }
        units.push(unit);
    }
    other_finite().then_some(units)
}

/// Whether every element is finite, conservatively: `true` only if the sum of the elements is
/// finite. An infinity or a NaN makes the sum infinite or NaN, so `true` is always right; finite
/// elements whose sum overflows give `false`, which only sends the product to the GEMM.
///
/// One pass of the vectorized [`nabla_kernels::sum`]: the block-of-64 fold it replaces, which
/// LLVM compiled to SSE2, took 21% of a 1000 x 500 Hessian and 15% of a 1000 x 100 one. It ran
/// once per sweep over the whole constant matrix; [`SweepMemo`] now keeps the answer.
fn all_finite<T: Element>(v: &[T]) -> bool {
    nabla_kernels::sum(v).is_finite()
}

/// What a batched sweep learns about the recorded values that later sweeps over the same graph
/// reuse (a Hessian takes several): whether a node's value is all finite ([`all_finite`]),
/// asked when a one-hot adjoint meets a matrix product. A recorded node's value does not change
/// while the graph is borrowed, and a memo lives for one Hessian or Jacobian (the graph cannot
/// be cleared meanwhile), so the answer stays true while it is kept. Without it the check
/// re-read the constant matrix at every sweep: 10% of a 1000 x 500 Hessian (8 sweeps over a 4
/// MB matrix that does not fit this core's L2).
#[derive(Default)]
pub(crate) struct SweepMemo {
    finite: std::collections::HashMap<usize, bool>,
}

impl SweepMemo {
    /// Whether the value of node `id` of `g` is all finite (conservatively, see [`all_finite`]).
    fn finite<T: Element>(&mut self, g: &Graph<T>, id: usize) -> bool {
        *self
            .finite
            .entry(id)
            .or_insert_with(|| g.node_ref(id, |node| all_finite(node.value.data())))
    }
}

/// Rows of a `? x len` matrix (element `(j, p)` at `src[j*rs + p*cs]`), scaled: `out` row `r`
/// = `c * ` row `j` for `units[r] = Some((j, c))`, zeros for `None`.
///
/// Consecutive units (a Hessian's identity seeds) are one block of the matrix, copied by
/// [`gemm::copy_matrix`] (a register-block transpose when the rows are columns of a row-major
/// matrix; element by element this took 10% of a 100 x 100 Hessian). Other units go in tiles
/// of 16 rows by 16 along `p`, so a strided source is read a few cache lines at a time. Rows
/// whose scale is not 1 are then scaled in place.
fn gather<T: Element>(
    units: &[Option<(usize, T)>],
    (src, rs, cs): (&[T], usize, usize),
    len: usize,
    out: &mut [T],
) {
    let b = units.len();
    let column = |u: &Option<(usize, T)>| u.map(|(j, _)| j);
    if let Some(j0) = units.first().and_then(column)
        && units
            .iter()
            .enumerate()
            .all(|(r, u)| column(u) == Some(j0 + r))
    {
        let from = MatRef::from_strides(&src[j0 * rs..], b, len, rs, cs)
            .expect("the unit rows index the matrix (broken invariant)");
        gemm::copy_matrix(from, MatMut::row_major(out, b, len));
    } else {
        const TILE: usize = 16;
        for r0 in (0..b).step_by(TILE) {
            let tile_units = &units[r0..(r0 + TILE).min(b)];
            for p0 in (0..len).step_by(TILE) {
                let p1 = (p0 + TILE).min(len);
                for (r, unit) in (r0..).zip(tile_units) {
                    let row = &mut out[r * len + p0..r * len + p1];
                    match unit {
                        Some((j, _)) => {
                            for (p, o) in (p0..p1).zip(row.iter_mut()) {
                                *o = src[j * rs + p * cs];
                            }
                        }
                        None => row.fill(T::ZERO),
                    }
                }
            }
        }
    }
    for (row, unit) in out.chunks_mut(len.max(1)).zip(units) {
        if let Some((_, c)) = *unit
            && c != T::ONE
        {
            nabla_kernels::scale(c, row);
        }
    }
}

/// `out = l r`, row-major `rows x cols`, computed from column `from` on (a restriction the
/// caller asked for: see [`Graph::vjp_batched`]); the columns before it are zeroed.
fn gemm_from<T: Element>(l: MatRef<'_, T>, r: MatRef<'_, T>, out: &mut [T], from: usize) {
    let (rows, cols) = (l.shape().0, r.shape().1);
    let from = from.min(cols);
    if from > 0 {
        for row in out.chunks_mut(cols) {
            row[..from].fill(T::ZERO);
        }
    }
    gemm::gemm(
        T::ONE,
        l,
        r.cols(from..cols),
        T::ZERO,
        MatMut::row_major(out, rows, cols).cols(from..cols),
    );
}

/// The batched adjoints of a matrix product's operands. `C = X Y` with `X = op(A)` (`m x k`),
/// `Y = op(B)` (`k x n`), `dy` of shape `[bt, m, n]`; rank-2 operands only. `from[i]`: the
/// first flat index of operand `i` whose adjoint is needed, honoured (by a narrower GEMM) when
/// that operand is a vector; the entries before it are then zero. `finite(i)`: whether operand
/// `i` is all finite (asked only when a one-hot adjoint could gather from it).
#[allow(clippy::too_many_arguments)]
fn matmul_b<T: Element>(
    av: &Tensor<T>,
    bv: &Tensor<T>,
    (ta, tb): (bool, bool),
    dy: &Tensor<T>,
    bt: usize,
    needs: [bool; 2],
    from: [usize; 2],
    finite: &mut dyn FnMut(usize) -> bool,
) -> Option<[Option<Tensor<T>>; 2]> {
    let (&[ra, ca], &[rb, cb]) = (av.shape(), bv.shape()) else {
        return None;
    };
    fn view<T>(t: &[T], r: usize, c: usize, tr: bool) -> MatRef<'_, T> {
        let v = MatRef::row_major(t, r, c);
        if tr { v.t() } else { v }
    }
    let x = view(av.data(), ra, ca, ta);
    let y = view(bv.data(), rb, cb, tb);
    let (m, k, n) = (x.shape().0, x.shape().1, y.shape().1);
    let d = dy.data();
    // Outputs are written whole (a gather writes every entry, a GEMM with beta = 0 every
    // element of C), so they are not zero-filled first.
    // dA: dX = dC Y^T (m x k per row), stored transposed when `ta`.
    let da = needs[0].then(|| {
        let mut out = crate::pool::for_overwrite(bt * m * k);
        if !ta {
            // All rows at once: [bt*m, n] x Y^T (a gather of Y's columns for one-hot rows).
            if let Some(units) = one_hot_rows(d, bt * m, n, || finite(1)) {
                // Rows of Y^T: rows of B when `tb`, else its columns.
                let yt = (bv.data(), if tb { cb } else { 1 }, if tb { 1 } else { cb });
                gather(&units, yt, k, &mut out);
                return Tensor::new(out, &[bt, ra, ca]);
            }
            // A row vector's flat index is its column.
            let from = if m == 1 { from[0] } else { 0 };
            gemm_from(MatRef::row_major(d, bt * m, n), y.t(), &mut out, from);
        } else {
            // dA_t = Y dC_t^T (k x m).
            gemm::gemm_batched(
                bt,
                T::ONE,
                Strided::new(y, 0),
                Strided::new(MatRef::row_major(d, m, n).t(), m * n),
                T::ZERO,
                Strided::new(MatMut::row_major(&mut out, k, m), k * m),
            );
        }
        Tensor::new(out, &[bt, ra, ca])
    });
    // dB: dY = X^T dC (k x n per row), stored transposed when `tb`.
    let db = needs[1].then(|| {
        let mut out = crate::pool::for_overwrite(bt * k * n);
        if n == 1 || tb {
            // dY_t^T = dC_t^T X (n x k): with n == 1 every dC_t^T is a row of the [bt, m]
            // batch, so all rows go at once; with `tb` that product is dB itself.
            if n == 1 {
                if let Some(units) = one_hot_rows(d, bt, m, || finite(0)) {
                    // One-hot rows select rows of X, scaled: a gather, no product.
                    // Rows of X: columns of A when `ta`, else its rows.
                    let xr = (av.data(), if ta { 1 } else { ca }, if ta { ca } else { 1 });
                    gather(&units, xr, k, &mut out);
                    return Tensor::new(out, &[bt, rb, cb]);
                }
                gemm_from(MatRef::row_major(d, bt, m), x, &mut out, from[1]);
            } else {
                gemm::gemm_batched(
                    bt,
                    T::ONE,
                    Strided::new(MatRef::row_major(d, m, n).t(), m * n),
                    Strided::new(x, 0),
                    T::ZERO,
                    Strided::new(MatMut::row_major(&mut out, n, k), n * k),
                );
            }
        } else {
            gemm::gemm_batched(
                bt,
                T::ONE,
                Strided::new(x.t(), 0),
                Strided::new(MatRef::row_major(d, m, n), m * n),
                T::ZERO,
                Strided::new(MatMut::row_major(&mut out, k, n), k * n),
            );
        }
        Tensor::new(out, &[bt, rb, cb])
    });
    Some([da, db])
}

impl<T: Element> Graph<T> {
    /// The vector-Jacobian products of `output` for `b` seeds at once: `seeds` has shape
    /// `[b] ++ output.shape`, the result `[b] ++ input.shape` (row `t` is the gradient of
    /// `sum(seeds[t] * output)` with respect to `input`). Values only: nothing is recorded.
    ///
    /// `None` when an operation on the path has no batched rule (see the module docs).
    ///
    /// Only the flat input indices from `from` on are asked for: entries before it may be left
    /// as anything finite. A matrix-vector product of the input (or of a reshape of it) then
    /// computes only those columns, which is how [`crate::hessian`] skips the lower triangle.
    ///
    /// `memo` carries what one sweep learned about the graph's values to the next sweep over the
    /// same graph (see [`SweepMemo`]); a fresh one is always correct.
    pub(crate) fn vjp_batched(
        &self,
        output: Var<'_, T>,
        input: Var<'_, T>,
        seeds: Tensor<T>,
        from: usize,
        memo: &mut SweepMemo,
    ) -> Option<Tensor<T>> {
        let b = seeds.shape()[0];
        let n = output.id + 1;
        let mut on_path = vec![false; n];
        // The input and its reshapes: nodes whose flat index is the input's, whose adjoints
        // flow only into the input's.
        let mut input_view = vec![false; n];
        if input.id < n {
            on_path[input.id] = true;
            input_view[input.id] = true;
        }
        for i in input.id + 1..n {
            let (on, view) = self.node_ref(i, |node| {
                let p = node.parents();
                (
                    node.requires_grad && p.iter().any(|&p| on_path[p]),
                    matches!(node.op, Op::Reshape) && p.first().is_some_and(|&q| input_view[q]),
                )
            });
            on_path[i] = on;
            input_view[i] = view;
        }
        let mut adjoint: Vec<Option<Tensor<T>>> = vec![None; n];
        adjoint[output.id] = Some(seeds);
        for i in (input.id + 1..n).rev() {
            if !on_path[i] {
                continue;
            }
            let Some(dy) = adjoint[i].take() else {
                continue;
            };
            let node = self.node(i);
            let p = node.parents();
            let needs = [on_path[p[0]], p.get(1).is_some_and(|&q| on_path[q])];
            let av = self.value_of(p[0]);
            let a_shape = av.shape().to_vec();
            let contributions: [Option<Tensor<T>>; 2] = match &node.op {
                Op::Add | Op::Sub => {
                    let bv = self.value_of(p[1]);
                    let db = needs[1].then(|| {
                        let s = sum_to_b(&dy, b, bv.shape());
                        if matches!(node.op, Op::Sub) {
                            s.map(|x| -x)
                        } else {
                            s
                        }
                    });
                    [needs[0].then(|| sum_to_b(&dy, b, &a_shape)), db]
                }
                Op::Mul => {
                    let bv = self.value_of(p[1]);
                    match needs {
                        [true, true] => [
                            Some(sum_to_b(&mul_b(&dy, &bv), b, &a_shape)),
                            Some(sum_to_b(&mul_b(&dy, &av), b, bv.shape())),
                        ],
                        [true, false] => [
                            Some(sum_to_b(&mul_b_skipping_ones(dy, &bv), b, &a_shape)),
                            None,
                        ],
                        [false, true] => [
                            None,
                            Some(sum_to_b(&mul_b_skipping_ones(dy, &av), b, bv.shape())),
                        ],
                        [false, false] => [None, None],
                    }
                }
                Op::Div => {
                    let bv = self.value_of(p[1]);
                    let q = Tensor::zip("div", &dy, &bv, nabla_kernels::div, |x, y| x / y)
                        .expect("trailing shapes agree");
                    let db = needs[1].then(|| {
                        let qy = mul_b(&q, &node.value).map(|x| -x);
                        sum_to_b(&qy, b, bv.shape())
                    });
                    [needs[0].then(|| sum_to_b(&q, b, &a_shape)), db]
                }
                Op::Neg => [Some(dy.map(|x| -x)), None],
                Op::Shift(_) => [Some(dy), None],
                Op::Scale(c) => {
                    let c = *c;
                    [Some(dy.map(|x| x * c)), None]
                }
                Op::DivScalar(c) => {
                    let c = *c;
                    [Some(dy.map(|x| x / c)), None]
                }
                Op::PowI(0) => [None, None],
                Op::MatMul { ta, tb } => {
                    let bv = self.value_of(p[1]);
                    let from = [p[0], p[1]].map(|q| if input_view[q] { from } else { 0 });
                    let mut finite = |i: usize| memo.finite(self, p[i]);
                    matmul_b(&av, &bv, (*ta, *tb), &dy, b, needs, from, &mut finite)?
                }
                Op::SumAxes { axes, keepdim: _ } => {
                    let kept = batched_shape(b, &kept_shape(&a_shape, axes));
                    let d = dy.reshape(&kept).expect("same element count");
                    [
                        Some(
                            d.broadcast_to(&batched_shape(b, &a_shape))
                                .expect("kept axes broadcast"),
                        ),
                        None,
                    ]
                }
                Op::BroadcastTo => [Some(sum_to_b(&dy, b, &a_shape)), None],
                Op::SumTo => [Some(broadcast_b(&dy, b, &a_shape)), None],
                Op::Reshape => [
                    Some(
                        dy.reshape(&batched_shape(b, &a_shape))
                            .expect("same element count"),
                    ),
                    None,
                ],
                Op::Permute(perm) => {
                    let mut inverse = vec![0; perm.len() + 1];
                    for (d, &q) in perm.iter().enumerate() {
                        inverse[q + 1] = d + 1;
                    }
                    [Some(dy.permute(&inverse)), None]
                }
                Op::Relu => [Some(relu_grad_b(&dy, &av)), None],
                // Linear in the gradient it masks (parent 0), nothing to `x` (parent 1).
                Op::ReluGrad => [
                    needs[0].then(|| relu_grad_b(&dy, &self.value_of(p[1]))),
                    None,
                ],
                op => {
                    let d = local_derivative(op, &av, &node.value)?;
                    [Some(mul_b_owned(dy, &d)), None]
                }
            };
            for (&q, c) in p.iter().zip(contributions) {
                let Some(c) = c else { continue };
                if !on_path[q] {
                    continue;
                }
                adjoint[q] = Some(match adjoint[q].take() {
                    None => c,
                    Some(prev) => Tensor::zip("add", &prev, &c, nabla_kernels::add, |x, y| x + y)
                        .expect("adjoints have their node's batched shape"),
                });
            }
        }
        Some(
            adjoint[input.id]
                .take()
                .unwrap_or_else(|| Tensor::zeros(&batched_shape(b, input.dims().as_ref()))),
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::{Graph, Tensor};

    /// `all_finite` says `true` only when every element is finite, and says `false` (the safe
    /// answer) for finite elements whose sum overflows.
    #[test]
    fn all_finite_is_never_wrong_when_it_says_yes() {
        use super::all_finite;
        let mut v = vec![0.5f64; 1000];
        assert!(all_finite(&v));
        for bad in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN] {
            v[637] = bad;
            assert!(!all_finite(&v), "{bad}");
        }
        // Infinities of both signs: their sum is NaN, not finite either.
        v[637] = f64::INFINITY;
        v[12] = f64::NEG_INFINITY;
        assert!(!all_finite(&v));
        // Finite but overflowing: conservatively not finite.
        assert!(!all_finite(&[f32::MAX, f32::MAX]));
        assert!(all_finite::<f32>(&[]));
    }

    /// A Hessian sweeps the recorded gradient, where ReLU appears as itself and as its gradient
    /// op: both need batched rules, or the Hessian falls back to one sweep per seed (its values
    /// would still be right, so only this can tell). The batched rows match single sweeps.
    #[test]
    fn relu_and_its_gradient_sweep_batched() {
        let g = Graph::<f64>::new();
        let x = g.var(Tensor::vector(&[-1.2, 1.0, 0.4]));
        let f = ((x * 1.3 - 0.1).relu().powi(2) * x.exp()).sum();
        let grad = g.grad_graph(f, &[x]).unwrap()[0];
        let seeds = Tensor::new(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0], &[2, 3]);
        let batched = g
            .vjp_batched(grad, x, seeds, 0, &mut Default::default())
            .expect("every op on the path has a batched rule");
        for (row, j) in [(0, 0), (1, 2)] {
            let mut seed = [0.0; 3];
            seed[j] = 1.0;
            let single = g
                .grad((grad * g.constant(Tensor::vector(&seed))).sum(), &[x])
                .unwrap();
            // The sum of a product with a one-hot seed: the same products, summed with zeros.
            for (k, want) in single[0].to_vec().into_iter().enumerate() {
                let got = batched.data()[row * 3 + k];
                assert!(
                    (got - want).abs() <= 1e-14 * want.abs().max(1.0),
                    "{row} {k}"
                );
            }
        }
    }
}
