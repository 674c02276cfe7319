//! Leaving saddle points: the second-order check the Newton family runs before it reports
//! convergence (see [`Solver::leave_saddle`](crate::Solver::leave_saddle)).
//!
//! A point where the gradient test passes is a minimum only if `H` is positive semidefinite
//! there. If `H` has an eigenvalue `λ < -tol * max(1, max_i |λ_i|)` (the threshold
//! [`classify`](crate::classify) uses, [`ZERO_EIGENVALUE_TOLERANCE`]), its unit eigenvector `u`
//! is a direction of descent to second order: `f(x + t u) = f(x) + t g·u + λ t² / 2 + O(t³)`,
//! with the sign of `u` chosen so that `g·u <= 0`. The step `t` starts at `max(1, ||x||)` and
//! halves until `f(x + t u) <= f(x) + λ t² / 4` (half the model's curvature decrease).
//!
//! The lowest eigenpair comes from the dense Hessian's eigendecomposition (Newton, the exact
//! trust region) or from Lanczos on Hessian-vector products (Newton-CG, Steihaug's trust
//! region): `min(n, LANCZOS_STEPS)` steps with full reorthogonalization. A Ritz value is never
//! below the lowest eigenvalue, so a negative one proves negative curvature; a saddle whose
//! negative curvature those steps miss (large `n`, a tiny negative eigenvalue in a dense
//! spectrum) is reported converged, as the first-order test passed.

use crate::critical::ZERO_EIGENVALUE_TOLERANCE;
use crate::executor::Point;
use crate::linalg::{cholesky_factor, dot, norm2, symmetric_eigen};
use crate::objective::Objective;
use crate::second_order::{dense_hessian, hess_vec};

/// Lanczos steps (Hessian-vector products) of the matrix-free check.
pub const LANCZOS_STEPS: usize = 30;

/// The most halvings of the step along negative curvature.
const MAX_HALVINGS: usize = 60;

/// The lowest eigenvalue of `H(x)`, its unit eigenvector and `max_i |λ_i|`, from the dense
/// Hessian. `None` when the Hessian is unavailable or not finite, or positive definite (its
/// Cholesky factorization succeeds).
fn lowest_dense(objective: &dyn Objective, x: &[f64]) -> Option<(f64, Vec<f64>, f64)> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let h = dense_hessian(objective, x).ok()?;
    // Positive definite (it factors): no negative curvature, and no `O(n^3)` eigensolver (the
    // factorization is `O(n b^2)` for a banded `H`).
    if cholesky_factor(&h, n).is_ok() {
        return None;
    }
    let (w, q) = symmetric_eigen(&h, n);
    let scale = w[0].abs().max(w[n - 1].abs());
    let u = (0..n).map(|k| q[k * n]).collect();
    Some((w[0], u, scale))
}

/// The lowest Ritz value of `H(x)` after `min(n, LANCZOS_STEPS)` Lanczos steps from a fixed
/// pseudo-random start, its unit Ritz vector and the largest `|Ritz value|`. `None` when
/// Hessian-vector products are unavailable or not finite.
fn lowest_lanczos(objective: &dyn Objective, x: &[f64]) -> Option<(f64, Vec<f64>, f64)> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let steps = n.min(LANCZOS_STEPS);
    // A start with a component along every eigenvector, with probability one: entries from a
    // Weyl sequence (no symmetry between coordinates, unlike a constant vector).
    let mut start: Vec<f64> = (0..n)
        .map(|i| ((i as f64 + 1.0) * 0.618_033_988_749_894_9).fract() - 0.5)
        .collect();
    let s = norm2(&start);
    start.iter_mut().for_each(|v| *v /= s);
    let mut basis = vec![start];
    let (mut alpha, mut beta) = (Vec::new(), Vec::new());
    loop {
        let j = basis.len() - 1;
        let mut w = hess_vec(objective, x, &basis[j]).ok()?;
        alpha.push(dot(&w, &basis[j]));
        // Full reorthogonalization, twice (Kahan's "twice is enough"): it also removes the
        // α q_j and β q_{j-1} components of the three-term recurrence.
        for _ in 0..2 {
            for q in &basis {
                let c = dot(&w, q);
                w.iter_mut().zip(q).for_each(|(w, q)| *w -= c * q);
            }
        }
        let b = norm2(&w);
        let size = alpha.iter().fold(0.0f64, |m, a| m.max(a.abs()));
        if basis.len() == steps || b <= f64::EPSILON * size.max(f64::MIN_POSITIVE) {
            break;
        }
        beta.push(b);
        w.iter_mut().for_each(|w| *w /= b);
        basis.push(w);
    }
    let k = alpha.len();
    let mut t = vec![0.0; k * k];
    for i in 0..k {
        t[i * k + i] = alpha[i];
        if i + 1 < k {
            t[i * k + i + 1] = beta[i];
            t[(i + 1) * k + i] = beta[i];
        }
    }
    let (theta, y) = symmetric_eigen(&t, k);
    let mut u = vec![0.0; n];
    for (i, q) in basis.iter().enumerate() {
        let c = y[i * k];
        u.iter_mut().zip(q).for_each(|(u, q)| *u += c * q);
    }
    let scale = theta[0].abs().max(theta[k - 1].abs());
    Some((theta[0], u, scale))
}

/// A point of lower `f` along the direction of negative curvature `u` (eigenvalue `lambda`),
/// or `None` if `lambda` is not significantly negative or no halving of the step decreases `f`.
fn descend_along(
    objective: &dyn Objective,
    current: &Point,
    (lambda, mut u, scale): (f64, Vec<f64>, f64),
) -> Option<Point> {
    // NaN curvature is not negative curvature.
    let negative = lambda < -ZERO_EIGENVALUE_TOLERANCE * scale.max(1.0);
    if !negative {
        return None;
    }
    let unorm = norm2(&u);
    let sign = if dot(&current.grad, &u) > 0.0 {
        -1.0
    } else {
        1.0
    };
    u.iter_mut().for_each(|u| *u *= sign / unorm);
    let mut t = norm2(&current.x).max(1.0);
    for _ in 0..MAX_HALVINGS {
        let x: Vec<f64> = current.x.iter().zip(&u).map(|(x, u)| x + t * u).collect();
        let trial = Point::at(objective, x);
        if trial.is_finite() && trial.f <= current.f + 0.25 * lambda * t * t {
            return Some(trial);
        }
        t *= 0.5;
    }
    None
}

/// [`Solver::leave_saddle`](crate::Solver::leave_saddle) for methods with the dense Hessian.
pub(crate) fn leave_saddle_dense(objective: &dyn Objective, current: &Point) -> Option<Point> {
    descend_along(objective, current, lowest_dense(objective, &current.x)?)
}

/// [`Solver::leave_saddle`](crate::Solver::leave_saddle) for methods on Hessian-vector
/// products.
pub(crate) fn leave_saddle_matrix_free(
    objective: &dyn Objective,
    current: &Point,
) -> Option<Point> {
    descend_along(objective, current, lowest_lanczos(objective, &current.x)?)
}
