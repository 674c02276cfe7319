//! Dense symmetric linear algebra for the Newton family: Cholesky, a shifted (modified) Cholesky
//! for indefinite matrices, and the symmetric eigendecomposition.
//!
//! Matrices are row-major `n x n` slices. The Newton family works on small dense Hessians
//! (`n` up to a few hundred), where these `O(n^3)` routines cost far less than the `n` Hessian
//! rows that feed them; large problems use the Hessian-free solvers (Newton-CG, trust-region CG,
//! L-BFGS). The code is the project's own, kept small and accurate: Cholesky is the textbook
//! row-oriented algorithm, and the eigensolver is cyclic Jacobi, which computes small
//! eigenvalues to high *relative* accuracy (what classification near zero needs). The tests
//! compare both against `faer` on random SPD and indefinite matrices.

use std::fmt;

/// A matrix that Cholesky could not factor: the pivot at `index` was not positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NotPositiveDefinite {
    /// The row whose pivot failed.
    pub index: usize,
    /// The pivot's value (`<= 0` or NaN).
    pub pivot: f64,
}

impl fmt::Display for NotPositiveDefinite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not positive definite: pivot {} at row {} is {}",
            self.index, self.index, self.pivot
        )
    }
}

impl std::error::Error for NotPositiveDefinite {}

/// The Cholesky factor `L` (lower triangular, row-major, upper part zero) with `A = L L^T`.
///
/// Reads only the lower triangle of `a`.
///
/// # Errors
/// [`NotPositiveDefinite`] if a pivot is not positive (or NaN).
///
/// # Panics
/// If `a.len() != n * n`.
///
/// ```
/// use nabla_optim::linalg::cholesky;
/// let l = cholesky(&[4.0, 2.0, 2.0, 5.0], 2).unwrap();
/// assert_eq!(l, vec![2.0, 0.0, 1.0, 2.0]);
/// assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2).is_err());
/// ```
pub fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, NotPositiveDefinite> {
    cholesky_shifted(a, n, 0.0)
}

/// The Cholesky factor of `A + shift * I`.
fn cholesky_shifted(a: &[f64], n: usize, shift: f64) -> Result<Vec<f64>, NotPositiveDefinite> {
    assert_eq!(
        a.len(),
        n * n,
        "cholesky: a has {} entries, not n*n = {}",
        a.len(),
        n * n
    );
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let pivot = a[i * n + i] + shift - dot;
                if pivot.is_nan() || pivot <= 0.0 || pivot.is_infinite() {
                    return Err(NotPositiveDefinite { index: i, pivot });
                }
                l[i * n + i] = pivot.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - dot) / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Solves `L L^T x = b` given the Cholesky factor `L` (forward then back substitution).
///
/// # Panics
/// If the lengths are not `n * n` and `n`.
pub fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    assert!(
        l.len() == n * n && b.len() == n,
        "cholesky_solve: lengths {} and {} for n = {n}",
        l.len(),
        b.len()
    );
    let mut y = b.to_vec();
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (y[i] - s) / l[i * n + i];
    }
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * y[k]).sum();
        y[i] = (y[i] - s) / l[i * n + i];
    }
    y
}

/// A modified Cholesky factorization: `L L^T = A + tau I` with the smallest `tau >= 0` of the
/// sequence `0, tau0, 2 tau0, 4 tau0, ...` that makes the factorization succeed (Nocedal and
/// Wright, *Numerical Optimization*, Algorithm 3.3, "Cholesky with added multiple of the
/// identity"). `tau0 = max(beta - min_i a_ii, beta)` with `beta = 1e-3 * max(1, ||A||_F)`,
/// so a positive definite `A` gets `tau = 0` and an indefinite one a shift a little larger than
/// its most negative eigenvalue's magnitude (within a factor 2).
///
/// Returns `(L, tau)`.
///
/// # Errors
/// [`NotPositiveDefinite`] only if `A` holds NaN or Inf (no shift can fix it).
///
/// ```
/// use nabla_optim::linalg::modified_cholesky;
/// // Eigenvalues 3 and -1: the shift exceeds 1.
/// let (_, tau) = modified_cholesky(&[1.0, 2.0, 2.0, 1.0], 2).unwrap();
/// assert!(tau > 1.0 && tau < 2.5, "{tau}");
/// ```
pub fn modified_cholesky(a: &[f64], n: usize) -> Result<(Vec<f64>, f64), NotPositiveDefinite> {
    if let Some(i) = a.iter().position(|v| !v.is_finite()) {
        return Err(NotPositiveDefinite {
            index: i / n.max(1),
            pivot: a[i],
        });
    }
    if let Ok(l) = cholesky(a, n) {
        return Ok((l, 0.0));
    }
    let frobenius = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    let beta = 1e-3 * frobenius.max(1.0);
    let min_diag = (0..n).map(|i| a[i * n + i]).fold(f64::INFINITY, f64::min);
    let mut tau = if min_diag > 0.0 {
        beta
    } else {
        beta - min_diag
    };
    loop {
        match cholesky_shifted(a, n, tau) {
            Ok(l) => return Ok((l, tau)),
            // tau doubles; it exceeds the Gershgorin bound (so the factorization succeeds)
            // after at most ~log2(||A|| / beta) + 2 rounds.
            Err(_) => tau *= 2.0,
        }
    }
}

/// The symmetric eigendecomposition `A = Q diag(w) Q^T`: eigenvalues `w` ascending and the
/// row-major orthogonal `Q` whose column `j` is the eigenvector of `w[j]`.
///
/// Cyclic Jacobi with threshold: sweeps of plane rotations until every off-diagonal entry is
/// negligible against its diagonal entries (at most 60 sweeps; quadratic convergence usually
/// needs 5-10). Reads only the lower triangle. Accuracy: each eigenvalue to a few ulps of
/// `||A||` in absolute terms, and to high relative accuracy for well-scaled positive definite
/// matrices.
///
/// # Panics
/// If `a.len() != n * n`.
///
/// ```
/// use nabla_optim::linalg::symmetric_eigen;
/// let (w, q) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
/// assert!((w[0] - 1.0).abs() < 1e-15 && (w[1] - 3.0).abs() < 1e-15);
/// // The eigenvector of 3 is (1, 1) / sqrt(2), up to sign.
/// assert!((q[1].abs() - 0.5f64.sqrt()).abs() < 1e-15);
/// ```
pub fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(
        a.len(),
        n * n,
        "symmetric_eigen: a has {} entries, not n*n = {}",
        a.len(),
        n * n
    );
    let mut m = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            m[i * n + j] = a[i * n + j];
            m[j * n + i] = a[i * n + j];
        }
    }
    let mut q = vec![0.0; n * n];
    (0..n).for_each(|i| q[i * n + i] = 1.0);
    for _sweep in 0..60 {
        let mut rotated = false;
        for p in 0..n {
            for r in p + 1..n {
                let apr = m[p * n + r];
                let (app, arr) = (m[p * n + p], m[r * n + r]);
                // Negligible against both diagonal entries (or exactly zero): skip.
                if apr == 0.0 || apr.abs() <= f64::EPSILON * 0.5 * (app.abs() * arr.abs()).sqrt() {
                    m[p * n + r] = 0.0;
                    m[r * n + p] = 0.0;
                    continue;
                }
                rotated = true;
                // The rotation that zeroes m[p][r] (Golub and Van Loan, Algorithm 8.5.1).
                let theta = (arr - app) / (2.0 * apr);
                let t = theta.signum() / (theta.abs() + (1.0 + theta * theta).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkr) = (m[k * n + p], m[k * n + r]);
                    m[k * n + p] = c * mkp - s * mkr;
                    m[k * n + r] = s * mkp + c * mkr;
                }
                for k in 0..n {
                    let (mpk, mrk) = (m[p * n + k], m[r * n + k]);
                    m[p * n + k] = c * mpk - s * mrk;
                    m[r * n + k] = s * mpk + c * mrk;
                }
                m[p * n + r] = 0.0;
                m[r * n + p] = 0.0;
                for k in 0..n {
                    let (qkp, qkr) = (q[k * n + p], q[k * n + r]);
                    q[k * n + p] = c * qkp - s * qkr;
                    q[k * n + r] = s * qkp + c * qkr;
                }
            }
        }
        if !rotated {
            break;
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| m[i * n + i].total_cmp(&m[j * n + j]));
    let w = order.iter().map(|&i| m[i * n + i]).collect();
    let mut sorted_q = vec![0.0; n * n];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..n {
            sorted_q[k * n + new] = q[k * n + old];
        }
    }
    (w, sorted_q)
}

/// The eigenvalues of a symmetric matrix, ascending (see [`symmetric_eigen`]).
///
/// ```
/// use nabla_optim::linalg::symmetric_eigenvalues;
/// // The guide's Hessian [[4, 6], [6, 2]] is indefinite: one negative, one positive eigenvalue.
/// let w = symmetric_eigenvalues(&[4.0, 6.0, 6.0, 2.0], 2);
/// assert!(w[0] < 0.0 && w[1] > 0.0);
/// assert!((w[0] + w[1] - 6.0).abs() < 1e-14); // the trace
/// ```
pub fn symmetric_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    symmetric_eigen(a, n).0
}

/// `y = A x` for a row-major `n x n` matrix.
pub fn mat_vec(a: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    a.chunks_exact(n).map(|row| dot(row, x)).collect()
}

/// `sum_i a_i b_i`.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The Euclidean norm, without overflow for large entries.
pub fn norm2(a: &[f64]) -> f64 {
    let scale = norm_inf(a);
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale
        * a.iter()
            .map(|v| (v / scale) * (v / scale))
            .sum::<f64>()
            .sqrt()
}

/// `max_i |a_i|` (NaN if any entry is NaN).
pub fn norm_inf(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m: f64, v| {
        if v.is_nan() || m.is_nan() {
            f64::NAN
        } else {
            m.max(v.abs())
        }
    })
}
