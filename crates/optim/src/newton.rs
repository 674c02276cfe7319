//! Newton's method with a line search: dense (modified Cholesky) and truncated (Newton-CG).
//!
//! **Newton** solves `(H + τ I) d = -∇f` where `τ >= 0` is the modified Cholesky shift
//! ([`modified_cholesky_factor`]): `τ = 0` where `H` is positive definite (the pure Newton step,
//! quadratic convergence near a nondegenerate minimizer), and large enough to make the matrix
//! positive definite where `H` is indefinite, so `d` is always a descent direction and saddles do
//! not attract. Then a strong-Wolfe line search from `α = 1`. A banded Hessian (lower bandwidth
//! at most `n / 16`, as in the extended Rosenbrock and other chained problems) is factored in
//! band form, `O(n b^2)` instead of `O(n^3)`: Newton then runs on `n = 10,000`, where the cost is
//! forming the dense `n x n` Hessian (800 MB), not factoring it.
//!
//! **Newton-CG** (truncated Newton; Nocedal and Wright, Algorithm 7.1) never forms `H`: it runs
//! conjugate gradients on `H d = -∇f` with Hessian-vector products only, stopping when the
//! residual falls below `η ||∇f||` with `η = min(0.5, sqrt(||∇f||))` (superlinear convergence),
//! or at the first direction of non-positive curvature (then the iterate so far, or `-∇f` on the
//! first CG iteration, is used). Each outer step costs a few `H v` plus a line search.

use crate::executor::{Point, Solver, Status};
use crate::linalg::{dot, modified_cholesky_factor, norm2};
use crate::line_search::more_thuente;
use crate::objective::Objective;
use crate::saddle::{leave_saddle_dense, leave_saddle_matrix_free};
use crate::second_order::{dense_hessian_into, hess_vec};

/// Newton's method with a modified Cholesky factorization and a strong-Wolfe line search.
///
/// ```
/// use nabla_optim::{minimize, GraphObjective, Newton, Options};
/// let f = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let r = minimize(&f, &mut Newton::default(), &[-1.2, 1.0], &Options::default());
/// assert!(r.converged() && r.iterations < 30, "{} in {}", r.status, r.iterations);
/// ```
#[derive(Clone, Default)]
pub struct Newton {
    /// The last step's modified-Cholesky shift `τ` (0 where the Hessian was positive definite).
    pub last_shift: f64,
    /// The Hessian's buffer, kept between steps (`8 n^2` bytes).
    hessian: Vec<f64>,
}

impl std::fmt::Debug for Newton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Newton")
            .field("last_shift", &self.last_shift)
            .finish_non_exhaustive()
    }
}

impl Solver for Newton {
    fn name(&self) -> &'static str {
        "newton"
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let n = current.x.len();
        dense_hessian_into(objective, &current.x, &mut self.hessian)?;
        let (l, tau) =
            modified_cholesky_factor(&self.hessian, n).map_err(|_| Status::NonFinite {
                quantity: "Hessian",
            })?;
        self.last_shift = tau;
        let minus_g: Vec<f64> = current.grad.iter().map(|g| -g).collect();
        let d = l.solve(&minus_g);
        more_thuente(objective, current, &d, 1.0, 0.9)
    }

    fn leave_saddle(&mut self, objective: &dyn Objective, current: &Point) -> Option<Point> {
        leave_saddle_dense(objective, current)
    }
}

/// Truncated Newton-CG with a strong-Wolfe line search, on Hessian-vector products only.
///
/// ```
/// use nabla_optim::{minimize, GraphObjective, NewtonCg, Options};
/// let f = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let r = minimize(&f, &mut NewtonCg::default(), &[-1.2, 1.0], &Options::default());
/// assert!(r.converged(), "{}", r.status);
/// assert!(r.evaluations.hvp > 0 && r.evaluations.hessian == 0);
/// ```
#[derive(Clone, Debug, Default)]
pub struct NewtonCg;

impl Solver for NewtonCg {
    fn name(&self) -> &'static str {
        "newton-cg"
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let d = truncated_cg(objective, current)?;
        more_thuente(objective, current, &d, 1.0, 0.9)
    }

    fn leave_saddle(&mut self, objective: &dyn Objective, current: &Point) -> Option<Point> {
        leave_saddle_matrix_free(objective, current)
    }
}

/// CG on `H d = -g` from `d = 0` (Nocedal and Wright, Algorithm 7.1).
fn truncated_cg(objective: &dyn Objective, current: &Point) -> Result<Vec<f64>, Status> {
    let n = current.x.len();
    let g = &current.grad;
    let gnorm = norm2(g);
    let tol = 0.5f64.min(gnorm.sqrt()) * gnorm;
    let mut z = vec![0.0; n];
    let mut r: Vec<f64> = g.clone();
    let mut p: Vec<f64> = g.iter().map(|g| -g).collect();
    let mut rr = dot(&r, &r);
    for j in 0..n.max(20) {
        let hp = hess_vec(objective, &current.x, &p)?;
        let curvature = dot(&p, &hp);
        if curvature <= f64::EPSILON * dot(&p, &p) {
            // Non-positive curvature: stop with what we have (steepest descent at first).
            return Ok(if j == 0 { p } else { z });
        }
        let alpha = rr / curvature;
        z.iter_mut().zip(&p).for_each(|(z, p)| *z += alpha * p);
        r.iter_mut().zip(&hp).for_each(|(r, hp)| *r += alpha * hp);
        let rr_new = dot(&r, &r);
        if rr_new.sqrt() <= tol {
            break;
        }
        let beta = rr_new / rr;
        rr = rr_new;
        p.iter_mut().zip(&r).for_each(|(p, r)| *p = -r + beta * *p);
    }
    Ok(z)
}
