//! Critical points: the second-order test, and all critical points of a function on a box.

use crate::linalg::symmetric_eigenvalues;
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
