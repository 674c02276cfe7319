//! # nabla-optim
//!
//! Minimizers of `f: R^n -> R` whose derivatives come from `nabla-graph` (or from hand-written
//! closures): gradient descent with line searches, momentum, Adam, BFGS, L-BFGS, Newton with a
//! modified Cholesky, Newton-CG, trust regions; critical-point classification; and the
//! More-Garbow-Hillstrom test problems.

mod objective;

pub use objective::{Counted, Evaluations, FnObjective, GraphObjective, Objective};
mod critical;
pub mod linalg;

pub use critical::{
    CRITICAL_GTOL, Classification, CriticalError, CriticalPoint, ZERO_EIGENVALUE_TOLERANCE,
    classify, classify_hessian, critical_points,
};
mod adam;
mod executor;
mod first_order;
pub mod line_search;
mod newton;
mod quasi_newton;
mod second_order;
mod trust_region;

pub use adam::Adam;
pub use executor::{
    Control, Gtol, Iteration, Observer, Options, Point, ProgressLine, Report, Solver, Status,
    minimize, minimize_observed,
};
pub use first_order::{GradientDescent, Momentum, StepRule};
pub use newton::{Newton, NewtonCg};
pub use quasi_newton::{Bfgs, Lbfgs};
pub use trust_region::{TrustRegionCg, TrustRegionExact};
