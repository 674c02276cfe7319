//! Critical points: the second-order test, and all critical points of a function on a box.

use crate::Status;
use crate::linalg::{norm_inf, norm2, symmetric_eigen, symmetric_eigenvalues};
use crate::objective::Objective;
use crate::second_order::dense_hessian;
use std::fmt;

/// What the second-order test says about a critical point (a point where `∇f = 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Classification {
    /// Every Hessian eigenvalue is positive: a strict local minimum.
    Minimum,
    /// Every eigenvalue is negative: a strict local maximum.
    Maximum,
    /// Eigenvalues of both signs: a saddle point (whatever the zero eigenvalues).
    Saddle,
    /// No eigenvalue of the other sign, but some within tolerance of zero: the second-order test
    /// says nothing (`x^3` and `x^4` at 0).
    Degenerate,
}

impl Classification {
    /// The lower-case name: `minimum`, `maximum`, `saddle`, `degenerate`.
    pub fn name(self) -> &'static str {
        match self {
            Classification::Minimum => "minimum",
            Classification::Maximum => "maximum",
            Classification::Saddle => "saddle",
            Classification::Degenerate => "degenerate",
        }
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The default relative tolerance for a zero eigenvalue: `1e-8` times `max(1, max_i |w_i|)`.
/// Eigenvalues from a Hessian evaluated in f64 carry errors of a few `eps * ||H||` plus the
/// error of the critical point itself (about `||H|| * |x - x*|`), so thresholds much below
/// `1e-8` mislabel minima found to a gradient tolerance of `1e-8`.
pub const ZERO_EIGENVALUE_TOLERANCE: f64 = 1e-8;

/// Classifies a critical point from its Hessian's eigenvalues: an eigenvalue `w` counts as zero
/// when `|w| <= tol * max(1, max_i |w_i|)`.
///
/// ```
/// use nabla_optim::{classify, Classification};
/// assert_eq!(classify(&[-2.0, 3.0], 1e-8), Classification::Saddle);
/// assert_eq!(classify(&[0.0, 3.0], 1e-8), Classification::Degenerate);
/// assert_eq!(classify(&[-1.0, 0.0, 3.0], 1e-8), Classification::Saddle);
/// assert_eq!(classify(&[1e-3, 3.0], 1e-8), Classification::Minimum);
/// ```
pub fn classify(eigenvalues: &[f64], tol: f64) -> Classification {
    let scale = eigenvalues.iter().fold(1.0f64, |m, w| m.max(w.abs()));
    let zero = tol * scale;
    let positive = eigenvalues.iter().any(|&w| w > zero);
    let negative = eigenvalues.iter().any(|&w| w < -zero);
    // NaN eigenvalues are neither: they land in Degenerate, never in a definite class.
    let all_definite = eigenvalues.iter().all(|&w| w.abs() > zero);
    match (positive, negative, all_definite) {
        (true, true, _) => Classification::Saddle,
        (true, false, true) => Classification::Minimum,
        (false, true, true) => Classification::Maximum,
        _ => Classification::Degenerate,
    }
}

/// The eigenvalues (ascending) of a row-major `n x n` Hessian and its classification with
/// [`ZERO_EIGENVALUE_TOLERANCE`].
///
/// ```
/// use nabla_optim::{classify_hessian, Classification};
/// // f(x) = 3x^4 - 4x^3 - 12x^2 has f''(x) = 36x^2 - 24x - 24: -24 at 0 (a maximum).
/// assert_eq!(classify_hessian(&[-24.0], 1).1, Classification::Maximum);
/// ```
pub fn classify_hessian(hessian: &[f64], n: usize) -> (Vec<f64>, Classification) {
    let w = symmetric_eigenvalues(hessian, n);
    let c = classify(&w, ZERO_EIGENVALUE_TOLERANCE);
    (w, c)
}

/// A critical point found by [`critical_points`].
#[derive(Clone, Debug, PartialEq)]
pub struct CriticalPoint {
    /// The point.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub value: f64,
    /// `||∇f(x)||_inf` (at most [`CRITICAL_GTOL`]` * max(1, |f|)`).
    pub gradient_norm: f64,
    /// The Hessian's eigenvalues, ascending.
    pub eigenvalues: Vec<f64>,
    /// The second-order test's verdict.
    pub classification: Classification,
    /// `true` for the minimum (or minima, tied within `1e-9` relative) of lowest value among the
    /// points found: the global minimum over the box's interior critical points.
    pub global_min: bool,
}

/// Why [`critical_points`] could not run.
#[derive(Clone, Debug, PartialEq)]
pub enum CriticalError {
    /// The box has the wrong number of ranges for the objective.
    DimensionMismatch {
        /// The objective's parameter count.
        expected: usize,
        /// The number of ranges given.
        got: usize,
    },
    /// A range is empty, reversed or not finite.
    InvalidRange {
        /// Which coordinate.
        index: usize,
        /// Its lower end.
        lo: f64,
        /// Its upper end.
        hi: f64,
    },
    /// The objective gives no second derivatives.
    NoSecondDerivatives,
}

impl fmt::Display for CriticalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CriticalError::DimensionMismatch { expected, got } => {
                write!(
                    f,
                    "the box has {got} ranges but the function has {expected} variables"
                )
            }
            CriticalError::InvalidRange { index, lo, hi } => {
                write!(f, "range {index} is {lo}:{hi}; it needs finite lo < hi")
            }
            CriticalError::NoSecondDerivatives => {
                write!(f, "the objective gives no second derivatives")
            }
        }
    }
}

impl std::error::Error for CriticalError {}

/// The gradient tolerance a critical point must meet: `||∇f||_inf <= 1e-9 * max(1, |f|)`.
pub const CRITICAL_GTOL: f64 = 1e-9;

/// Every critical point of `objective` in the box `bounds` (one `(lo, hi)` per variable), each
/// once, sorted by coordinates (lexicographically), classified by [`classify_hessian`].
///
/// Method: multistart Newton on `∇f = 0` from a grid of starts (41 in 1-D, 15 x 15 in 2-D,
/// 7^3 in 3-D; 400 quasi-random Halton points above). Each Newton step solves `H p = -∇f` through
/// the eigendecomposition (pseudo-inverse, so singular Hessians do not break it), backtracking
/// on `||∇f||` (damped Newton for a nonlinear system: `p` is a descent direction of `||∇f||^2`).
/// A run that ends within [`CRITICAL_GTOL`] and inside the box yields a point; points closer than
/// `1e-6` of the box's width are merged. Finding *every* point is not guaranteed (a basin of
/// attraction can fall between grid nodes), but on the guide's quartic and Himmelblau's function
/// it finds all of them.
///
/// # Errors
/// [`CriticalError`] for a bad box or an objective without second derivatives.
///
/// ```
/// use nabla_optim::{critical_points, Classification, GraphObjective};
/// // The guide's f(x) = 3x^4 - 4x^3 - 12x^2 on [-2, 3].
/// let f = GraphObjective::new(1, |x| 3.0 * x.powi(4) - 4.0 * x.powi(3) - 12.0 * x.powi(2)).unwrap();
/// let pts = critical_points(&f, &[(-2.0, 3.0)]).unwrap();
/// let xs: Vec<f64> = pts.iter().map(|p| p.x[0]).collect();
/// assert_eq!(pts.len(), 3);
/// assert!((xs[0] + 1.0).abs() < 1e-12 && xs[1].abs() < 1e-12 && (xs[2] - 2.0).abs() < 1e-12);
/// assert_eq!(pts[1].classification, Classification::Maximum);
/// assert!(pts[2].global_min && pts[2].value == -32.0);
/// ```
pub fn critical_points(
    objective: &dyn Objective,
    bounds: &[(f64, f64)],
) -> Result<Vec<CriticalPoint>, CriticalError> {
    let n = objective.dim();
    if bounds.len() != n {
        return Err(CriticalError::DimensionMismatch {
            expected: n,
            got: bounds.len(),
        });
    }
    for (index, &(lo, hi)) in bounds.iter().enumerate() {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(CriticalError::InvalidRange { index, lo, hi });
        }
    }
    let width = bounds.iter().fold(0.0f64, |m, (lo, hi)| m.max(hi - lo));
    let mut found: Vec<CriticalPoint> = Vec::new();
    for start in starts(bounds) {
        let Some(x) = newton_on_gradient(objective, start)? else {
            continue;
        };
        let inside = x.iter().zip(bounds).all(|(x, (lo, hi))| {
            let slack = 1e-9 * (hi - lo);
            *x >= lo - slack && *x <= hi + slack
        });
        if !inside || found.iter().any(|p| distance_inf(&p.x, &x) <= 1e-6 * width) {
            continue;
        }
        let mut g = vec![0.0; n];
        let value = objective.value_grad(&x, &mut g);
        let h = dense_hessian(objective, &x).map_err(|_| CriticalError::NoSecondDerivatives)?;
        let (eigenvalues, classification) = classify_hessian(&h, n);
        found.push(CriticalPoint {
            gradient_norm: norm_inf(&g),
            x,
            value,
            eigenvalues,
            classification,
            global_min: false,
        });
    }
    let lowest = found
        .iter()
        .filter(|p| p.classification == Classification::Minimum)
        .map(|p| p.value)
        .fold(f64::INFINITY, f64::min);
    for p in &mut found {
        p.global_min = p.classification == Classification::Minimum
            && p.value <= lowest + 1e-9 * lowest.abs().max(1.0);
    }
    found.sort_by(|a, b| {
        a.x.iter()
            .zip(&b.x)
            .map(|(u, v)| u.total_cmp(v))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    Ok(found)
}

fn distance_inf(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .fold(0.0, |m: f64, (u, v)| m.max((u - v).abs()))
}

/// The multistart grid: `k^n` evenly spaced interior points (`k` = 41, 15, 7 for n = 1, 2, 3), or
/// 400 Halton points for larger `n`.
fn starts(bounds: &[(f64, f64)]) -> Vec<Vec<f64>> {
    let n = bounds.len();
    let k: usize = match n {
        1 => 41,
        2 => 15,
        3 => 7,
        _ => 0,
    };
    let at = |i: usize, u: f64| bounds[i].0 + u * (bounds[i].1 - bounds[i].0);
    if k > 0 {
        let total = k.pow(n as u32);
        (0..total)
            .map(|mut idx| {
                (0..n)
                    .map(|i| {
                        let j = idx % k;
                        idx /= k;
                        at(i, (j as f64 + 0.5) / k as f64)
                    })
                    .collect()
            })
            .collect()
    } else {
        const PRIMES: [u64; 16] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53];
        (1..=400u64)
            .map(|s| {
                (0..n)
                    .map(|i| at(i, radical_inverse(s, PRIMES[i % PRIMES.len()])))
                    .collect()
            })
            .collect()
    }
}

/// The van der Corput radical inverse of `i` in `base` (one Halton coordinate).
fn radical_inverse(mut i: u64, base: u64) -> f64 {
    let (mut r, mut f) = (0.0, 1.0 / base as f64);
    while i > 0 {
        r += f * (i % base) as f64;
        i /= base;
        f /= base as f64;
    }
    r
}

/// The most Newton steps taken after the gradient test passes (see [`newton_on_gradient`]).
const POLISH: usize = 100;

/// Damped Newton on `∇f = 0` from `x`; `Some(x)` if it reaches [`CRITICAL_GTOL`].
fn newton_on_gradient(
    objective: &dyn Objective,
    mut x: Vec<f64>,
) -> Result<Option<Vec<f64>>, CriticalError> {
    let n = x.len();
    let mut g = vec![0.0; n];
    let mut f = objective.value_grad(&x, &mut g);
    let mut polish = 0;
    let mut previous = f64::INFINITY;
    // At most 100 steps to reach the gradient test, then at most POLISH more.
    for iteration in 0..100 + POLISH + 1 {
        if !f.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Ok(None);
        }
        let gnorm = norm2(&g);
        let within = norm_inf(&g) <= CRITICAL_GTOL * f.abs().max(1.0);
        if within {
            polish += 1;
            // More steps while ||∇f|| keeps falling fast: full precision at quadratic cost near
            // a nondegenerate point (a step or two), and at a degenerate one (singular Hessian,
            // where Newton only halves the distance per step) up to POLISH steps, so that the
            // starts around it agree on it and its zero eigenvalues show as zero: x^2 y + x y^2
            // stopped at the gradient test gave ten "saddles" within 1e-5 of the origin.
            let slow = gnorm > 0.5 * previous;
            if gnorm == 0.0 || (polish > 3 && slow) || polish > POLISH {
                return Ok(Some(x));
            }
        } else if iteration >= 100 {
            return Ok(None);
        }
        previous = gnorm;
        let h = match dense_hessian(objective, &x) {
            Ok(h) => h,
            Err(Status::Unsupported { .. }) => {
                return Err(CriticalError::NoSecondDerivatives);
            }
            Err(_) => return Ok(None),
        };
        let (w, q) = symmetric_eigen(&h, n);
        let scale = w.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // p = -Q diag(1/w) Q^T g over the eigenvalues that are not (numerically) zero.
        let mut p = vec![0.0; n];
        for j in 0..n {
            if w[j].abs() <= 1e-13 * scale {
                continue;
            }
            let c = (0..n).map(|k| q[k * n + j] * g[k]).sum::<f64>() / w[j];
            (0..n).for_each(|k| p[k] -= c * q[k * n + j]);
        }
        let mut alpha = 1.0;
        let mut moved = false;
        for _ in 0..40 {
            let xt: Vec<f64> = x.iter().zip(&p).map(|(x, p)| x + alpha * p).collect();
            let mut gt = vec![0.0; n];
            let ft = objective.value_grad(&xt, &mut gt);
            if ft.is_finite() && norm2(&gt) < gnorm {
                (x, g, f, moved) = (xt, gt, ft, true);
                break;
            }
            alpha *= 0.5;
        }
        if !moved {
            return Ok(within.then_some(x));
        }
    }
    Ok(None)
}
