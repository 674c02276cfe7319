//! # nabla-optim
//!
//! Minimizers of `f: R^n -> R` whose derivatives come from `nabla-graph` (or from hand-written
//! closures), from gradient descent to Newton, with an executor that says honestly why it
//! stopped.
//!
//! * [`objective`]: the [`Objective`] trait (`f`, `∇f`, optional `H v` and `H` on `&[f64]`);
//!   [`GraphObjective`] gets all of them from any graph function, [`FnObjective`] from closures.
//! * [`executor`]: [`minimize`] runs a [`Solver`] under [`Options`] (gradient test, step and
//!   function tolerances, iteration/evaluation/time budgets), calls [`Observer`]s, counts
//!   [`Evaluations`] and returns a [`Report`] whose [`Status`] says why it stopped. It reports
//!   [`Status::Converged`] only when the gradient test passed.
//! * Solver families, one page each with the math: [`first_order`] (gradient descent with fixed,
//!   Armijo or strong-Wolfe steps; heavy-ball and Nesterov momentum), [`adam`] (Adam, AdamW),
//!   [`quasi_newton`] (BFGS, L-BFGS), [`newton`] (Newton with modified Cholesky, Newton-CG),
//!   [`trust_region`] (Steihaug-CG, exact dense subproblem); [`line_search`] (Armijo,
//!   Moré-Thuente).
//! * [`polish`]: the executor's last step when `f64`'s grid, not the method, keeps the gradient
//!   test from passing (a lattice search for a nearby grid point that passes it).
//! * [`linalg`]: Cholesky, modified Cholesky (dense, or in band form for banded matrices),
//!   symmetric eigendecomposition.
//! * [`critical`]: classify a critical point from the Hessian's eigenvalues; find every critical
//!   point in a box.
//! * `problems`: the Moré-Garbow-Hillstrom test set.
//!
//! Which solver: [`TrustRegionCg`] (Hessian-vector products only, robust on indefinite and
//! ill-conditioned problems) is the default choice; [`TrustRegionExact`] or [`Newton`] when `n`
//! is small and the dense Hessian is cheap; [`Lbfgs`] when second derivatives are unavailable or
//! `n` is large; [`Adam`] for stochastic training.
//!
//! ```
//! use nabla_optim::{minimize, GraphObjective, Options, TrustRegionCg};
//! // The guide's f(x, y) = log(e^x + e^y) + (x^2 + y^2) / 2: minimum ln 2 - 1/4 at (-1/2, -1/2).
//! let f = GraphObjective::new(2, |v| {
//!     let (x, y) = (v.at(0), v.at(1));
//!     (x.exp() + y.exp()).log() + (x * x + y * y) / 2.0
//! })
//! .unwrap();
//! let r = minimize(&f, &mut TrustRegionCg::default(), &[2.0, -1.0], &Options::default());
//! assert!(r.converged());
//! assert!((r.point.f - (2f64.ln() - 0.25)).abs() < 1e-15);
//! assert!((r.point.x[0] + 0.5).abs() < 1e-8 && (r.point.x[1] + 0.5).abs() < 1e-8);
//! ```

pub mod adam;
pub mod critical;
pub mod executor;
pub mod first_order;
pub mod linalg;
pub mod line_search;
pub mod newton;
pub mod objective;
pub mod polish;
pub mod problems;
pub mod quasi_newton;
pub mod saddle;
mod second_order;
pub mod suite;
pub mod trust_region;

pub use adam::Adam;
pub use critical::{
    CRITICAL_GTOL, Classification, CriticalError, CriticalPoint, ZERO_EIGENVALUE_TOLERANCE,
    classify, classify_hessian, critical_points,
};
pub use executor::{
    Control, Gtol, Iteration, Observer, Options, Point, ProgressLine, Report, Solver, Status,
    minimize, minimize_observed,
};
pub use first_order::{GradientDescent, Momentum, StepRule};
pub use newton::{Newton, NewtonCg};
pub use objective::{Counted, Evaluations, FnObjective, GraphObjective, Objective};
pub use quasi_newton::{Bfgs, Lbfgs};
pub use trust_region::{TrustRegionCg, TrustRegionExact};

/// The README's Rust examples (kernels, graph and optimizers), compiled and run as doc tests
/// here, in the crate that depends on all three.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
