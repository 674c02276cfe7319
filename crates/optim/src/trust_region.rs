//! Trust-region Newton methods: Steihaug-CG (Hessian-vector products only) and a dense exact
//! subproblem solver (eigendecomposition; Moré-Sorensen's problem, solved in the eigenbasis).
//!
//! Each step minimizes the quadratic model `m(p) = ∇f·p + p·H p / 2` over `||p|| <= Δ`, then
//! compares the actual decrease `f(x) - f(x + p)` with the predicted `-m(p)`: the ratio `ρ`
//! accepts the step when `ρ > 0.15`, shrinks `Δ` to `||p|| / 4` when `ρ < 0.25`, and doubles it
//! (up to 1000) when `ρ > 0.75` and the step reached the boundary (Nocedal and Wright,
//! Algorithm 4.1). A rejected step is retried inside the same iteration with the smaller
//! radius; an iteration whose radius falls to rounding level stops with
//! [`Status::Stalled`]. Trust regions handle indefinite Hessians without shifts: negative
//! curvature is followed to the boundary.
//!
//! **Steihaug-CG** (Nocedal and Wright, Algorithm 7.2) runs CG on `H p = -∇f` from `p = 0`,
//! stopping at residual `min(0.5, sqrt(||∇f||)) ||∇f||`, at the boundary, or at negative
//! curvature (then following it to the boundary).
//!
//! **Exact** forms `H = Q Λ Q^T` and finds `λ >= max(0, -λ_min)` with `||p(λ)|| = Δ` where
//! `p(λ) = -Q (Λ + λ I)^{-1} Q^T ∇f`, by safeguarded Newton on `1/||p(λ)|| - 1/Δ`; the "hard
//! case" (gradient orthogonal to the lowest eigenvector) adds a multiple of that eigenvector.
//! For small dense problems it takes the fewest iterations of all methods here.

use crate::executor::{Point, Solver, Status};
use crate::linalg::{dot, norm2, symmetric_eigen};
use crate::objective::Objective;
use crate::saddle::{leave_saddle_dense, leave_saddle_matrix_free};
use crate::second_order::{dense_hessian, hess_vec};

const ETA: f64 = 0.15;
const MAX_RADIUS: f64 = 1000.0;

/// A subproblem's solution: the step, its predicted decrease `-m(p)`, whether it lies on the
/// boundary.
struct ModelStep {
    p: Vec<f64>,
    predicted: f64,
    on_boundary: bool,
}

/// One accepted trust-region step: solve, test, shrink and retry until a step is accepted.
fn trust_region_step(
    objective: &dyn Objective,
    current: &Point,
    radius: &mut f64,
    mut solve: impl FnMut(f64) -> Result<ModelStep, Status>,
) -> Result<Point, Status> {
    let xnorm = norm2(&current.x);
    loop {
        if *radius <= f64::EPSILON * (1.0 + xnorm) {
            return Err(Status::Stalled {
                reason: "the trust region shrank to rounding level",
            });
        }
        let step = solve(*radius)?;
        if step.predicted.is_nan() {
            return Err(Status::NonFinite {
                quantity: "Hessian-vector product",
            });
        }
        let x = current.x.iter().zip(&step.p).map(|(x, p)| x + p).collect();
        let trial = Point::at(objective, x);
        let pnorm = norm2(&step.p);
        // f is computed with a rounding error of a few ulps of |f|; near a minimizer with a large
        // f (Jennrich-Sampson, Brown-Dennis) the predicted decrease falls below it and ρ is
        // noise. There, accept a step that keeps f within the noise and reduces the gradient
        // (a step toward the stationary point), else shrink.
        let noise = 64.0 * f64::EPSILON * current.f.abs();
        let accept = if step.predicted <= noise {
            trial.is_finite()
                && trial.f <= current.f + noise
                && norm2(&trial.grad) < norm2(&current.grad)
        } else {
            let rho = if trial.is_finite() {
                (current.f - trial.f) / step.predicted
            } else {
                f64::NEG_INFINITY
            };
            if rho > 0.75 && step.on_boundary {
                *radius = (2.0 * *radius).min(MAX_RADIUS);
            }
            if rho < 0.25 {
                *radius = 0.25 * pnorm;
            }
            rho > ETA
        };
        if accept {
            return Ok(trial);
        }
        *radius = radius.min(0.25 * pnorm);
    }
}

/// The `τ >= 0` with `||z + τ d|| = Δ`, for `||z|| <= Δ`.
fn to_boundary(z: &[f64], d: &[f64], delta: f64) -> f64 {
    let (a, b, c) = (dot(d, d), 2.0 * dot(z, d), dot(z, z) - delta * delta);
    // c <= 0, so the roots have opposite signs; the stable form of the positive one.
    let disc = (b * b - 4.0 * a * c).max(0.0).sqrt();
    if b >= 0.0 {
        -2.0 * c / (b + disc)
    } else {
        (-b + disc) / (2.0 * a)
    }
}

/// Trust-region Newton-CG (Steihaug), on Hessian-vector products only: the default method of
/// the `nabla` command.
///
/// ```
/// use nabla_optim::{minimize, GraphObjective, Options, TrustRegionCg};
/// let f = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let r = minimize(&f, &mut TrustRegionCg::default(), &[-1.2, 1.0], &Options::default());
/// assert!(r.converged(), "{}", r.status);
/// ```
#[derive(Clone, Debug)]
pub struct TrustRegionCg {
    radius: f64,
    initial_radius: f64,
}

impl TrustRegionCg {
    /// Starts from trust radius `initial_radius` (default 1).
    pub fn new(initial_radius: f64) -> Self {
        TrustRegionCg {
            radius: initial_radius,
            initial_radius,
        }
    }
}

impl Default for TrustRegionCg {
    fn default() -> Self {
        TrustRegionCg::new(1.0)
    }
}

impl Solver for TrustRegionCg {
    fn name(&self) -> &'static str {
        "trust-region-cg"
    }

    fn init(&mut self, _: &dyn Objective, _: &Point) -> Result<(), Status> {
        self.radius = self.initial_radius;
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        trust_region_step(objective, current, &mut self.radius, |delta| {
            steihaug(objective, current, delta)
        })
    }

    fn leave_saddle(&mut self, objective: &dyn Objective, current: &Point) -> Option<Point> {
        leave_saddle_matrix_free(objective, current)
    }
}

/// Steihaug's CG on the model within radius `delta`.
fn steihaug(objective: &dyn Objective, current: &Point, delta: f64) -> Result<ModelStep, Status> {
    let n = current.x.len();
    let g = &current.grad;
    let gnorm = norm2(g);
    let tol = 0.5f64.min(gnorm.sqrt()) * gnorm;
    let mut z = vec![0.0; n];
    let mut r = g.clone(); // r = H z + g
    let mut d: Vec<f64> = g.iter().map(|g| -g).collect();
    let mut rr = dot(&r, &r);
    // The model at z + τ d, given H d: m = g·p + p·(r - g + τ H d) / 2.
    let boundary = |z: &[f64], r: &[f64], d: &[f64], hd: &[f64], tau: f64| {
        let p: Vec<f64> = z.iter().zip(d).map(|(z, d)| z + tau * d).collect();
        let hp_plus_g: Vec<f64> = r.iter().zip(hd).map(|(r, hd)| r + tau * hd).collect();
        let m = dot(g, &p) + 0.5 * (dot(&p, &hp_plus_g) - dot(&p, g));
        ModelStep {
            p,
            predicted: -m,
            on_boundary: true,
        }
    };
    for _ in 0..n.max(20) {
        let hd = hess_vec(objective, &current.x, &d)?;
        let dhd = dot(&d, &hd);
        if dhd <= 0.0 {
            let tau = to_boundary(&z, &d, delta);
            return Ok(boundary(&z, &r, &d, &hd, tau));
        }
        let alpha = rr / dhd;
        let z_next: Vec<f64> = z.iter().zip(&d).map(|(z, d)| z + alpha * d).collect();
        if norm2(&z_next) >= delta {
            let tau = to_boundary(&z, &d, delta);
            return Ok(boundary(&z, &r, &d, &hd, tau));
        }
        z = z_next;
        r.iter_mut().zip(&hd).for_each(|(r, hd)| *r += alpha * hd);
        let rr_next = dot(&r, &r);
        if rr_next.sqrt() <= tol {
            break;
        }
        let beta = rr_next / rr;
        rr = rr_next;
        d.iter_mut().zip(&r).for_each(|(d, r)| *d = -r + beta * *d);
    }
    // Interior: m(z) = (g·z + r·z) / 2 since r = H z + g.
    let m = 0.5 * (dot(g, &z) + dot(&r, &z));
    Ok(ModelStep {
        p: z,
        predicted: -m,
        on_boundary: false,
    })
}

/// Trust-region Newton with the subproblem solved exactly on the dense Hessian (for small `n`:
/// one `O(n^3)` eigendecomposition per iteration).
///
/// ```
/// use nabla_optim::{minimize, GraphObjective, Options, TrustRegionExact};
/// // A saddle at the start: f = x^2 - y^2 + y^4 / 4 from (1, 0) has H = diag(2, -2) there.
/// let f = GraphObjective::new(2, |v| v.at(0).powi(2) - v.at(1).powi(2) + v.at(1).powi(4) / 4.0).unwrap();
/// let r = minimize(&f, &mut TrustRegionExact::default(), &[1.0, 0.0], &Options::default());
/// assert!(r.converged());
/// assert!((r.point.x[1].abs() - 2f64.sqrt()).abs() < 1e-8); // the hard case, escaped
/// ```
#[derive(Clone, Debug)]
pub struct TrustRegionExact {
    radius: f64,
    initial_radius: f64,
}

impl TrustRegionExact {
    /// Starts from trust radius `initial_radius` (default 1).
    pub fn new(initial_radius: f64) -> Self {
        TrustRegionExact {
            radius: initial_radius,
            initial_radius,
        }
    }
}

impl Default for TrustRegionExact {
    fn default() -> Self {
        TrustRegionExact::new(1.0)
    }
}

impl Solver for TrustRegionExact {
    fn name(&self) -> &'static str {
        "trust-region-exact"
    }

    fn init(&mut self, _: &dyn Objective, _: &Point) -> Result<(), Status> {
        self.radius = self.initial_radius;
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let n = current.x.len();
        let h = dense_hessian(objective, &current.x)?;
        let (w, q) = symmetric_eigen(&h, n);
        // The gradient in the eigenbasis: gt = Q^T g.
        let gt: Vec<f64> = (0..n)
            .map(|j| (0..n).map(|k| q[k * n + j] * current.grad[k]).sum())
            .collect();
        trust_region_step(objective, current, &mut self.radius, |delta| {
            let (pt, lambda, on_boundary) = exact_subproblem(&w, &gt, delta);
            // -m(p) with (w_i + λ) p_i = -g_i: -(g_i p_i + w_i p_i^2 / 2) = (w_i / 2 + λ) p_i^2,
            // a sum of non-negative terms (λ >= -w_min), free of cancellation.
            let predicted: f64 = (0..n).map(|i| (0.5 * w[i] + lambda) * pt[i] * pt[i]).sum();
            let p = (0..n)
                .map(|k| (0..n).map(|j| q[k * n + j] * pt[j]).sum())
                .collect();
            Ok(ModelStep {
                p,
                predicted,
                on_boundary,
            })
        })
    }

    fn leave_saddle(&mut self, objective: &dyn Objective, current: &Point) -> Option<Point> {
        leave_saddle_dense(objective, current)
    }
}

/// The exact trust-region step in the eigenbasis: `p_i = -g_i / (w_i + λ)`.
/// Returns the step, the multiplier `λ`, and whether the step is on the boundary.
fn exact_subproblem(w: &[f64], g: &[f64], delta: f64) -> (Vec<f64>, f64, bool) {
    let n = w.len();
    let wmin = w[0];
    let scale = w
        .iter()
        .fold(0.0f64, |m, v| m.max(v.abs()))
        .max(f64::MIN_POSITIVE);
    let step = |lambda: f64| -> Vec<f64> { (0..n).map(|i| -g[i] / (w[i] + lambda)).collect() };
    // Interior Newton step when H is positive definite and the step fits.
    if wmin > 1e-12 * scale {
        let p = step(0.0);
        if norm2(&p) <= delta {
            return (p, 0.0, false);
        }
    }
    let lo0 = (-wmin).max(0.0);
    // Components along eigenvalues (numerically) equal to the lowest one.
    let degenerate = |i: usize| w[i] - wmin <= 1e-12 * scale;
    let gnorm = norm2(g);
    let g_low = (0..n)
        .filter(|&i| degenerate(i))
        .map(|i| g[i] * g[i])
        .sum::<f64>()
        .sqrt();
    if wmin <= 1e-12 * scale && g_low <= 1e-12 * gnorm.max(f64::MIN_POSITIVE) {
        // Possible hard case: p at λ = -w_min leaving out the lowest components.
        let mut p: Vec<f64> = (0..n)
            .map(|i| {
                if degenerate(i) {
                    0.0
                } else {
                    -g[i] / (w[i] + lo0)
                }
            })
            .collect();
        let pn = norm2(&p);
        if pn <= delta {
            let i0 = (0..n).find(|&i| degenerate(i)).unwrap_or(0);
            p[i0] = (delta * delta - pn * pn).max(0.0).sqrt();
            return (p, lo0, true);
        }
    }
    // Safeguarded Newton on φ(λ) = 1/||p(λ)|| - 1/Δ, increasing and concave in λ > -w_min.
    let mut lo = lo0;
    let mut hi = lo0 + gnorm / delta + scale;
    let mut lambda = if lo0 > 0.0 {
        lo0 + 1e-3 * (hi - lo0)
    } else {
        0.0
    };
    for _ in 0..100 {
        if lambda <= lo || lambda >= hi {
            lambda = 0.5 * (lo + hi);
        }
        let p = step(lambda);
        let pn = norm2(&p);
        if (pn - delta).abs() <= 1e-10 * delta {
            return (p, lambda, true);
        }
        if pn > delta {
            lo = lambda
        } else {
            hi = lambda
        }
        // φ'(λ) = (Σ p_i^2 / (w_i + λ)) / ||p||^3.
        let dphi = (0..n).map(|i| p[i] * p[i] / (w[i] + lambda)).sum::<f64>() / pn.powi(3);
        let phi = 1.0 / pn - 1.0 / delta;
        lambda -= phi / dphi;
        if hi - lo <= 1e-15 * hi.abs().max(1.0) {
            break;
        }
    }
    let lambda = if lambda > lo && lambda < hi {
        lambda
    } else {
        0.5 * (lo + hi)
    };
    (step(lambda), lambda, true)
}
