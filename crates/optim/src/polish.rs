//! Grid polishing: the last step to a stationary point when `f64`'s grid, not the method, is what
//! stops the gradient test.
//!
//! Near a minimizer of an ill-conditioned problem, one ulp of one coordinate can move the
//! gradient by more than the test allows (Meyer's function, MGH 10: one ulp of `x1`, `x2` or
//! `x3` moves `∂f/∂x1` by `2e-4 .. 3e-3` against a test of `1e-6`). A solver's step `x + d` is
//! rounded coordinate by coordinate, so it lands on an arbitrary grid point near the minimizer,
//! where `|∇f|` is about one ulp's effect; every such point has the same `f`, and the run stalls.
//! Points that pass the test do exist (for Meyer about one in 800 along the valley), but they are
//! reached only by choosing all coordinates' roundings together.
//!
//! [`polish`] does that. From the point `x` with gradient `g` it measures the gradient one ulp
//! up in each coordinate, which gives the columns `b_j = ∇f(x + u_j e_j) - g` (`u_j` the ulp step
//! of `x_j`) of the gradient's response to the grid (`n` gradient evaluations). It then looks for
//! integers `k` with `g + sum_j k_j b_j ≈ 0`, a closest-vector problem on the lattice spanned by
//! the `b_j`: LLL-reduces the basis (δ = 0.99), rounds by Babai's nearest-plane method, and
//! ranks the lattice points within one step of that (in the reduced basis) by their predicted
//! `||∇f||_inf`. The best few candidates `x + k ⊙ u` are evaluated; the first whose *evaluated*
//! gradient passes the run's test, with `f` at most a rounding above `f(x)`, is returned.
//!
//! The linear model is exact up to second-order terms in steps of a few ulps, but the measured
//! columns are only as good as the gradient: where rounding noise in `∇f` is as large as one
//! ulp's effect, the prediction is noise and no candidate passes (Meyer's gradient is computed
//! in double-double for this reason, see [`problems`](crate::problems)). Nothing is claimed from
//! the prediction: a candidate counts only by its evaluated gradient.
//!
//! The executor calls it once per run, when a run is about to stop without the gradient test
//! (a stalled line search or trust region, the step or function tolerance, no decrease for
//! `stall_iterations`), for `n <=` [`POLISH_MAX_DIM`], if [`Options::polish`] is on (the
//! default) and the evaluation budget allows `n +` [`POLISH_CANDIDATES`] more evaluations.

use crate::executor::{Gtol, Options, Point};
use crate::linalg::{dot, norm_inf};
use crate::objective::Objective;

/// The largest `n` polished: the probe costs `n` gradient evaluations and the lattice reduction
/// `O(n^4)` flops.
pub const POLISH_MAX_DIM: usize = 32;

/// The most candidate points evaluated after the probe.
pub const POLISH_CANDIDATES: usize = 6;

/// Coefficients (in ulps) beyond this are outside the linear model and skipped.
const MAX_ULPS: f64 = (1u64 << 40) as f64;

/// A point near `base` on `f64`'s grid that passes `options`' gradient test, if the grid
/// search finds one (see the module docs). Costs at most `n +` [`POLISH_CANDIDATES`] calls of
/// `value_grad`. Returns `None` for `n = 0` or `n >` [`POLISH_MAX_DIM`], a non-finite probe, or
/// when no candidate passes.
pub fn polish(objective: &dyn Objective, base: &Point, options: &Options) -> Option<Point> {
    let n = base.x.len();
    if n == 0 || n > POLISH_MAX_DIM || !base.is_finite() {
        return None;
    }
    // The grid's response: one ulp up in each coordinate.
    let mut steps = Vec::with_capacity(n);
    let mut columns: Vec<(usize, Vec<f64>)> = Vec::with_capacity(n);
    let mut x = base.x.clone();
    let mut g = vec![0.0; n];
    for j in 0..n {
        let up = base.x[j].next_up();
        steps.push(up - base.x[j]);
        x[j] = up;
        let f = objective.value_grad(&x, &mut g);
        x[j] = base.x[j];
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) || !steps[j].is_finite() {
            return None;
        }
        let b: Vec<f64> = g.iter().zip(&base.grad).map(|(a, b)| a - b).collect();
        if b.iter().any(|&v| v != 0.0) {
            columns.push((j, b));
        }
    }
    let coords: Vec<usize> = columns.iter().map(|(j, _)| *j).collect();
    let basis: Vec<Vec<f64>> = columns.into_iter().map(|(_, b)| b).collect();
    let candidates = closest_lattice_points(&basis, &base.grad, POLISH_CANDIDATES)?;
    let tol = match options.gtol {
        Gtol::Relative(t) => t * base.f.abs().max(1.0),
        Gtol::Absolute(t) => t,
    };
    let f_limit = base.f + 4.0 * f64::EPSILON * base.f.abs();
    for (predicted, k) in candidates {
        // A candidate predicted far outside the test will not pass: stop spending evaluations.
        if predicted > 0.5 * tol {
            break;
        }
        let mut x = base.x.clone();
        for (&j, &kj) in coords.iter().zip(&k) {
            x[j] += kj * steps[j];
        }
        let p = Point::at(objective, x);
        if p.is_finite() && p.f <= f_limit && options.gradient_test(&p) {
            return Some(p);
        }
    }
    None
}

/// Up to `count` integer vectors `k` (as `f64`), each with its predicted `||g + B k||_inf`, best
/// first, where `B`'s columns are `basis`: Babai's nearest-plane point on the LLL-reduced basis
/// and its neighbours one reduced-basis step away. `None` if the basis is numerically dependent
/// or the reduction does not settle.
fn closest_lattice_points(
    basis: &[Vec<f64>],
    g: &[f64],
    count: usize,
) -> Option<Vec<(f64, Vec<f64>)>> {
    let m = basis.len();
    if m == 0 {
        return None;
    }
    let (reduced, unimodular) = lll(basis)?;
    let (star, norms) = gram_schmidt(&reduced)?;
    // Babai: coefficients c in the reduced basis with sum_j c_j r_j ≈ -g.
    let mut residual: Vec<f64> = g.iter().map(|v| -v).collect();
    let mut c = vec![0.0; m];
    for j in (0..m).rev() {
        c[j] = (dot(&residual, &star[j]) / norms[j]).round();
        axpy(-c[j], &reduced[j], &mut residual);
    }
    // Neighbours: all of {-1, 0, 1}^m for small m, else one step along each reduced vector.
    let offsets: Vec<Vec<f64>> = if m <= 5 {
        (0..3usize.pow(m as u32))
            .map(|mut code| {
                (0..m)
                    .map(|_| {
                        let o = (code % 3) as f64 - 1.0;
                        code /= 3;
                        o
                    })
                    .collect()
            })
            .collect()
    } else {
        let mut v = vec![vec![0.0; m]];
        for j in 0..m {
            for s in [-1.0, 1.0] {
                let mut o = vec![0.0; m];
                o[j] = s;
                v.push(o);
            }
        }
        v
    };
    let mut scored: Vec<(f64, Vec<f64>)> = offsets
        .into_iter()
        .map(|o| {
            let coeff: Vec<f64> = c.iter().zip(&o).map(|(a, b)| a + b).collect();
            let mut predicted = g.to_vec();
            for (cj, rj) in coeff.iter().zip(&reduced) {
                axpy(*cj, rj, &mut predicted);
            }
            // Back to coordinates: k = sum_j coeff_j U_j, U_j the j-th reduced vector's
            // integer combination of the original columns.
            let mut k = vec![0.0; m];
            for (cj, uj) in coeff.iter().zip(&unimodular) {
                axpy(*cj, uj, &mut k);
            }
            (norm_inf(&predicted), k)
        })
        .filter(|(p, k)| p.is_finite() && k.iter().all(|v| v.abs() <= MAX_ULPS))
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.truncate(count);
    Some(scored)
}

/// LLL reduction (δ = 0.99) of the vectors `basis`: the reduced vectors and, for each, its
/// integer coefficients over the input vectors. `None` if they are numerically dependent or the
/// reduction runs past its iteration cap (floating-point LLL can cycle on ill-posed input).
#[allow(clippy::type_complexity)]
fn lll(basis: &[Vec<f64>]) -> Option<(Vec<Vec<f64>>, Vec<Vec<f64>>)> {
    const DELTA: f64 = 0.99;
    let m = basis.len();
    let mut b = basis.to_vec();
    let mut u: Vec<Vec<f64>> = (0..m)
        .map(|i| (0..m).map(|j| if i == j { 1.0 } else { 0.0 }).collect())
        .collect();
    let mut k = 1;
    let mut iterations = 0;
    while k < m {
        iterations += 1;
        if iterations > 10_000 * m * m {
            return None;
        }
        // Size-reduce b_k against b_{k-1}, ..., b_0 (their Gram-Schmidt vectors do not change).
        let (star, norms) = gram_schmidt(&b[..k])?;
        for j in (0..k).rev() {
            let q = (dot(&b[k], &star[j]) / norms[j]).round();
            if q != 0.0 {
                if q.abs() > MAX_ULPS {
                    return None;
                }
                let (b_head, b_tail) = b.split_at_mut(k);
                axpy(-q, &b_head[j], &mut b_tail[0]);
                let (u_head, u_tail) = u.split_at_mut(k);
                axpy(-q, &u_head[j], &mut u_tail[0]);
            }
        }
        let (star, norms) = gram_schmidt(&b[..=k])?;
        let mu = dot(&b[k], &star[k - 1]) / norms[k - 1];
        if norms[k] >= (DELTA - mu * mu) * norms[k - 1] {
            k += 1;
        } else {
            b.swap(k, k - 1);
            u.swap(k, k - 1);
            k = (k - 1).max(1);
        }
    }
    Some((b, u))
}

/// The Gram-Schmidt vectors of `b` (not normalized) and their squared norms; `None` if one is
/// negligible against its input vector (numerically dependent input).
#[allow(clippy::type_complexity)]
fn gram_schmidt(b: &[Vec<f64>]) -> Option<(Vec<Vec<f64>>, Vec<f64>)> {
    let mut star: Vec<Vec<f64>> = Vec::with_capacity(b.len());
    let mut norms: Vec<f64> = Vec::with_capacity(b.len());
    for v in b {
        let mut s = v.clone();
        for (t, &nt) in star.iter().zip(&norms) {
            let mu: f64 = dot(v, t) / nt;
            axpy(-mu, t, &mut s);
        }
        let ns = dot(&s, &s);
        if ns.is_nan() || ns <= 1e-24 * dot(v, v) {
            return None;
        }
        star.push(s);
        norms.push(ns);
    }
    Some((star, norms))
}

/// `y += a * x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += a * xi;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lll_keeps_the_lattice_and_shortens_a_skewed_basis() {
        // b0 = (1, 0), b1 = (1000, 1): reduced to vectors of length about 1.
        let basis = vec![vec![1.0, 0.0], vec![1000.0, 1.0]];
        let (r, u) = lll(&basis).unwrap();
        for (rj, uj) in r.iter().zip(&u) {
            // Each reduced vector is its integer combination of the input.
            for i in 0..2 {
                let v = uj[0] * basis[0][i] + uj[1] * basis[1][i];
                assert_eq!(v, rj[i]);
            }
            assert!(dot(rj, rj) <= 2.0, "{rj:?}");
            assert!(uj.iter().all(|c| c.fract() == 0.0));
        }
        // Unimodular: |det U| = 1.
        assert_eq!((u[0][0] * u[1][1] - u[0][1] * u[1][0]).abs(), 1.0);
    }

    #[test]
    fn babai_finds_the_lattice_point_nearest_a_target() {
        // Lattice spanned by (1, 1e-3) and (0, 1e-3) (skewed); the target -g is a lattice
        // point plus a small offset, so the best candidate predicts that offset.
        let basis = vec![vec![1.0, 1e-3], vec![0.0, 1e-3]];
        let k_true = [7.0, -3.0];
        let offset = [1e-9, -2e-9];
        let g: Vec<f64> = (0..2)
            .map(|i| -(k_true[0] * basis[0][i] + k_true[1] * basis[1][i]) + offset[i])
            .collect();
        let c = closest_lattice_points(&basis, &g, 3).unwrap();
        assert_eq!(c[0].1, k_true.to_vec());
        assert!(c[0].0 <= 3e-9, "{}", c[0].0);
        assert!(c.windows(2).all(|w| w[0].0 <= w[1].0));
    }

    #[test]
    fn dependent_columns_are_refused() {
        assert!(lll(&[vec![1.0, 2.0], vec![2.0, 4.0]]).is_none());
    }
}
