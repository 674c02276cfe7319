//! nabla-optim's Cholesky, modified Cholesky and eigensolver (faer underneath) against
//! independent references written here (a textbook Cholesky and a cyclic Jacobi eigensolver),
//! on random symmetric positive definite and indefinite matrices; faer's own error reporting for
//! indefinite matrices is checked too.
//!
//! Tolerances: backward-stable `O(n^3)` factorizations of an `n x n` matrix commit errors of
//! order `n * eps * ||A||`; with `n <= 24` the bound used is `64 * n * eps * ||A||_F`
//! (`||A||_F >= ||A||_2`), about 3e-13 ||A|| at n = 24. Both implementations err by up to half of it.

use nabla_optim::linalg::{
    cholesky, cholesky_factor, cholesky_solve, lower_bandwidth, mat_vec, modified_cholesky,
    modified_cholesky_factor, symmetric_eigen, symmetric_eigenvalues,
};
use proptest::prelude::*;

fn uniform(seed: &mut u64) -> f64 {
    // splitmix64
    *seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}

/// A random symmetric matrix with entries in [-1, 1].
fn symmetric(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let v = uniform(&mut s);
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
    }
    a
}

/// `B B^T + 0.1 I` for a random `B`: symmetric positive definite, condition number up to ~1e3.
fn spd(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let b: Vec<f64> = (0..n * n).map(|_| uniform(&mut s)).collect();
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[i * n + j] = (0..n).map(|k| b[i * n + k] * b[j * n + k]).sum::<f64>();
        }
        a[i * n + i] += 0.1;
    }
    a
}

/// Reference: the textbook row-oriented Cholesky (Golub and Van Loan, Algorithm 4.2.1).
fn reference_cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let dot: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let pivot = a[i * n + i] - dot;
                if pivot.is_nan() || pivot <= 0.0 {
                    return None;
                }
                l[i * n + i] = pivot.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - dot) / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Reference: cyclic Jacobi eigenvalues, ascending (Golub and Van Loan, Algorithm 8.5.2).
fn reference_eigenvalues(a: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        if off == 0.0 {
            break;
        }
        for p in 0..n {
            for r in p + 1..n {
                let apr = m[p * n + r];
                if apr == 0.0 {
                    continue;
                }
                let theta = (m[r * n + r] - m[p * n + p]) / (2.0 * apr);
                let t = if theta >= 0.0 { 1.0 } else { -1.0 }
                    / (theta.abs() + (1.0 + theta * theta).sqrt());
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
            }
        }
    }
    let mut w: Vec<f64> = (0..n).map(|i| m[i * n + i]).collect();
    w.sort_by(f64::total_cmp);
    w
}

fn frobenius(a: &[f64]) -> f64 {
    a.iter().map(|v| v * v).sum::<f64>().sqrt()
}

fn tolerance(a: &[f64], n: usize) -> f64 {
    64.0 * n as f64 * f64::EPSILON * frobenius(a)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn eigenvalues_match_jacobi(n in 1usize..24, seed in any::<u64>(), definite in any::<bool>()) {
        let a = if definite { spd(n, seed) } else { symmetric(n, seed) };
        let ours = symmetric_eigenvalues(&a, n);
        let theirs = reference_eigenvalues(&a, n);
        let tol = tolerance(&a, n);
        for (w, v) in ours.iter().zip(&theirs) {
            prop_assert!((w - v).abs() <= tol, "n={n}: {ours:?} vs {theirs:?}");
        }
    }

    #[test]
    fn eigenvectors_diagonalize(n in 1usize..24, seed in any::<u64>()) {
        let a = symmetric(n, seed);
        let (w, q) = symmetric_eigen(&a, n);
        let tol = tolerance(&a, n);
        // A q_j = w_j q_j and Q^T Q = I.
        for j in 0..n {
            let qj: Vec<f64> = (0..n).map(|k| q[k * n + j]).collect();
            let aq = mat_vec(&a, &qj);
            for k in 0..n {
                prop_assert!((aq[k] - w[j] * qj[k]).abs() <= tol);
            }
            for i in 0..n {
                let d: f64 = (0..n).map(|k| q[k * n + i] * q[k * n + j]).sum();
                prop_assert!((d - f64::from(u8::from(i == j))).abs() <= 64.0 * n as f64 * f64::EPSILON);
            }
        }
    }

    #[test]
    fn cholesky_matches_the_textbook_algorithm(n in 1usize..24, seed in any::<u64>()) {
        let a = spd(n, seed);
        let l = cholesky(&a, n).unwrap();
        let fl = reference_cholesky(&a, n).unwrap();
        // Cholesky factors agree to the condition-number-scaled accuracy; compare both against
        // A through L L^T, and against each other relative to sqrt(||A||).
        let tol = tolerance(&a, n);
        for i in 0..n {
            for j in 0..n {
                let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                prop_assert!((llt - a[i * n + j]).abs() <= tol);
                prop_assert!((l[i * n + j] - fl[i * n + j]).abs() <= 1e3 * tol / frobenius(&a).sqrt());
            }
        }
        // The solve's residual is small: ||A x - b|| <= tol * ||x||.
        let b: Vec<f64> = (0..n).map(|i| i as f64 - 1.5).collect();
        let x = cholesky_solve(&l, n, &b);
        let xn = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (ax, bi) in mat_vec(&a, &x).iter().zip(&b) {
            prop_assert!((ax - bi).abs() <= tol * xn.max(1.0));
        }
    }

    #[test]
    fn indefinite_fails_cholesky_and_gets_a_bounded_shift(n in 2usize..24, seed in any::<u64>()) {
        let a = symmetric(n, seed);
        let lambda_min = reference_eigenvalues(&a, n)[0];
        prop_assume!(lambda_min < -1e-6);
        prop_assert!(cholesky(&a, n).is_err());
        prop_assert!(reference_cholesky(&a, n).is_none());
        let (l, tau) = modified_cholesky(&a, n).unwrap();
        let beta = 1e-3 * frobenius(&a).max(1.0);
        // Positive definite after the shift, and the shift within the doubling's factor 2.
        prop_assert!(tau > -lambda_min, "tau {tau} lambda_min {lambda_min}");
        prop_assert!(tau <= (2.0 * -lambda_min).max(beta - lambda_min) * (1.0 + 1e-12), "tau {tau} lambda_min {lambda_min}");
        let tol = tolerance(&a, n) + tau * 1e-14;
        for i in 0..n {
            for j in 0..n {
                let llt: f64 = (0..n).map(|k| l[i * n + k] * l[j * n + k]).sum();
                let shifted = a[i * n + j] + if i == j { tau } else { 0.0 };
                prop_assert!((llt - shifted).abs() <= tol);
            }
        }
    }
}

/// A random symmetric matrix of lower bandwidth exactly `b` (entries in [-1, 1] within the
/// band, the outermost diagonal nonzero), plus `diag` on the diagonal.
fn banded(n: usize, b: usize, diag: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in i.saturating_sub(b)..=i {
            let mut v = uniform(&mut s);
            if i - j == b && v == 0.0 {
                v = 0.5;
            }
            a[i * n + j] = v;
            a[j * n + i] = v;
        }
        a[i * n + i] += diag;
    }
    a
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// The band factorization against the dense one (faer) on the same banded matrices, positive
    /// definite (diagonal dominance) or indefinite: the same shift `tau` (both walk the same
    /// sequence; a factorization that succeeds for one and fails for the other would need a
    /// shift within rounding of the smallest eigenvalue), and a solve whose residual against
    /// `A + tau I` (through `mat_vec`, not the factor) is within the backward-error bound.
    #[test]
    fn band_cholesky_matches_dense(n in 64usize..160, b_frac in 0.0f64..1.0, seed in any::<u64>(), definite in any::<bool>()) {
        let b = (b_frac * (n / 16) as f64) as usize;
        let a = banded(n, b, if definite { 2.0 * b as f64 + 1.5 } else { 0.0 }, seed);
        prop_assert_eq!(lower_bandwidth(&a, n), b);
        let (band, tau) = modified_cholesky_factor(&a, n).unwrap();
        let (_, dense_tau) = modified_cholesky(&a, n).unwrap();
        prop_assert_eq!(band.bandwidth(), Some(b));
        prop_assert_eq!(tau, dense_tau);
        prop_assert_eq!(tau == 0.0, definite || cholesky(&a, n).is_ok());
        prop_assert_eq!(cholesky_factor(&a, n).is_ok(), tau == 0.0);
        let rhs: Vec<f64> = (0..n).map(|i| (i % 7) as f64 - 3.0).collect();
        let x = band.solve(&rhs);
        let mut shifted = a.clone();
        for i in 0..n {
            shifted[i * n + i] += tau;
        }
        let xn = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        let tol = tolerance(&shifted, n);
        for (ax, r) in mat_vec(&shifted, &x).iter().zip(&rhs) {
            prop_assert!((ax - r).abs() <= tol * xn.max(1.0), "{ax} vs {r}");
        }
    }
}

#[test]
fn bandwidth_and_storage_choice() {
    let n = 64;
    // Diagonal: bandwidth 0, band storage.
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 1.0 + i as f64;
    }
    assert_eq!(lower_bandwidth(&a, n), 0);
    assert_eq!(cholesky_factor(&a, n).unwrap().bandwidth(), Some(0));
    // One entry far below the diagonal makes it dense (bandwidth 40 > 64 / 16).
    a[50 * n + 10] = 0.1;
    a[10 * n + 50] = 0.1;
    assert_eq!(lower_bandwidth(&a, n), 40);
    assert_eq!(cholesky_factor(&a, n).unwrap().bandwidth(), None);
    // NaN counts as nonzero, and the factorization refuses it.
    a[50 * n + 10] = 0.0;
    a[10 * n + 50] = 0.0;
    a[20 * n + 18] = f64::NAN;
    assert_eq!(lower_bandwidth(&a, n), 2);
    assert!(cholesky_factor(&a, n).is_err());
    assert!(modified_cholesky_factor(&a, n).is_err());
    // Small matrices stay dense whatever their band.
    assert_eq!(
        cholesky_factor(&[4.0, 0.0, 0.0, 9.0], 2)
            .unwrap()
            .bandwidth(),
        None
    );
}

#[test]
fn positive_definite_needs_no_shift() {
    let a = spd(10, 7);
    let (l, tau) = modified_cholesky(&a, 10).unwrap();
    assert_eq!(tau, 0.0);
    assert_eq!(l, cholesky(&a, 10).unwrap());
}

#[test]
fn non_finite_matrices_are_refused() {
    assert!(modified_cholesky(&[1.0, f64::NAN, f64::NAN, 1.0], 2).is_err());
    assert!(cholesky(&[f64::INFINITY], 1).is_err());
}

#[test]
fn huge_indefinite_matrices_shift_or_fail_without_looping() {
    // -1e178: its square overflows, but the shift (about 1e178) does not.
    let (l, tau) = modified_cholesky(&[-1e178], 1).unwrap();
    assert!(tau > 1e178 && tau < 3e178 && l[0] > 0.0, "{tau}");
    // Eigenvalues 0 and -2e308: the shift needed is past f64::MAX. An error, not an endless
    // doubling (`nabla minimize 'log(x)' --method newton` drove x to 1e-89 and hung there).
    assert!(modified_cholesky(&[-1e308, 1e308, 1e308, -1e308], 2).is_err());
}

#[test]
fn eigenvalues_of_a_known_matrix() {
    // The 1-D Laplacian [2 -1; -1 2 -1; ...] of size n has eigenvalues 2 - 2 cos(k pi / (n+1)).
    let n = 12;
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        a[i * n + i] = 2.0;
        if i + 1 < n {
            a[i * n + i + 1] = -1.0;
            a[(i + 1) * n + i] = -1.0;
        }
    }
    let w = symmetric_eigenvalues(&a, n);
    for (k, wk) in w.iter().enumerate() {
        let exact = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
        approx::assert_relative_eq!(
            *wk,
            exact,
            epsilon = 8.0 * f64::EPSILON,
            max_relative = 64.0 * f64::EPSILON
        );
    }
}
