//! The test-problem suite: every method on every [`problems`](crate::problems) case, scored by
//! the bar. Shared by the integration test, the bench that prints the table, and anyone
//! comparing methods.
//!
//! **Solved** means the final `||∇f||_inf <= 1e-6` and `f` within `1e-6` of the best known
//! value (absolute, or relative to it). A **false success** is a run that reported
//! [`Status::Converged`] at a point failing that gradient test; the executor's design makes it
//! impossible when the run's gradient tolerance is at most `1e-6` absolute, and the suite
//! checks it anyway.

use crate::executor::{Gtol, Options, Report, Solver, Status, minimize};
use crate::problems::TestProblem;
use crate::{Bfgs, Lbfgs, Newton, NewtonCg, TrustRegionCg, TrustRegionExact};

/// The largest `n` the exact trust region and BFGS are run on: the first needs a dense
/// eigendecomposition per step (`O(n^3)`, 1e12 flops at `n = 10,000`), the second an `n x n`
/// inverse-Hessian approximation updated in `O(n^2)` per step, which never becomes sparse.
/// Larger cases count as not solved ("skipped"). Newton has no such limit: it factors a banded
/// Hessian in band form (see [`Newton`]), so its cost at `n = 10,000` is forming the dense
/// 800 MB Hessian (about 0.25 s per step here).
pub const DENSE_MAX_N: usize = 500;

/// A method as the suite runs it.
#[derive(Clone, Copy)]
pub struct Method {
    /// The name in tables.
    pub name: &'static str,
    /// Builds a fresh solver.
    pub make: fn() -> Box<dyn Solver>,
    /// Skipped above this `n` ([`DENSE_MAX_N`] or unlimited).
    pub max_n: usize,
}

/// The methods of the table: trust-region Newton-CG, dense trust-region Newton, Newton
/// with modified Cholesky, Newton-CG, BFGS, L-BFGS.
pub fn methods() -> Vec<Method> {
    vec![
        Method {
            name: "trust-region-cg",
            make: || Box::new(TrustRegionCg::default()),
            max_n: usize::MAX,
        },
        Method {
            name: "trust-region-exact",
            make: || Box::new(TrustRegionExact::default()),
            max_n: DENSE_MAX_N,
        },
        Method {
            name: "newton",
            make: || Box::new(Newton::default()),
            max_n: usize::MAX,
        },
        Method {
            name: "newton-cg",
            make: || Box::new(NewtonCg),
            max_n: usize::MAX,
        },
        Method {
            name: "bfgs",
            make: || Box::new(Bfgs::default()),
            max_n: DENSE_MAX_N,
        },
        Method {
            name: "lbfgs",
            make: || Box::new(Lbfgs::default()),
            max_n: usize::MAX,
        },
    ]
}

/// The options every suite run uses: the gradient test of the bar (`1e-6` absolute), 10,000
/// iterations, 100,000 evaluations.
pub fn suite_options() -> Options {
    Options {
        gtol: Gtol::Absolute(1e-6),
        max_iterations: 10_000,
        max_evaluations: 100_000,
        ..Options::default()
    }
}

/// One method on one problem.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The problem's name.
    pub problem: &'static str,
    /// The method's name.
    pub method: &'static str,
    /// The run's report (`None`: skipped, `n` above the method's [`Method::max_n`]).
    pub report: Option<Report>,
    /// Solved by the bar's definition.
    pub solved: bool,
    /// Reported convergence at a point that fails the gradient test.
    pub false_success: bool,
}

/// `true` if `f` is within `1e-6` of `best`, absolutely or relatively.
pub fn close_to_best(f: f64, best: f64) -> bool {
    (f - best).abs() <= 1e-6 || (f - best).abs() <= 1e-6 * best.abs()
}

/// Runs `method` on `problem` from its standard start with `options`.
pub fn run(problem: &TestProblem, method: &Method, options: &Options) -> Outcome {
    use crate::Objective;
    let skip = problem.dim() > method.max_n;
    let report = (!skip).then(|| minimize(problem, (method.make)().as_mut(), &problem.x0, options));
    let (solved, false_success) = match &report {
        Some(r) => {
            let gradient_ok = r.gradient_norm <= 1e-6;
            (
                gradient_ok && close_to_best(r.point.f, problem.f_best),
                r.status == Status::Converged && !gradient_ok,
            )
        }
        None => (false, false),
    };
    Outcome {
        problem: problem.name,
        method: method.name,
        report,
        solved,
        false_success,
    }
}

/// The median of `f + grad` evaluations over the solved runs (`None` if none).
pub fn median_evaluations(outcomes: &[&Outcome]) -> Option<f64> {
    let mut e: Vec<usize> = outcomes
        .iter()
        .filter(|o| o.solved)
        .filter_map(|o| o.report.as_ref().map(|r| r.evaluations.f_and_grad()))
        .collect();
    if e.is_empty() {
        return None;
    }
    e.sort_unstable();
    let k = e.len();
    Some(if k % 2 == 1 {
        e[k / 2] as f64
    } else {
        (e[k / 2 - 1] + e[k / 2]) as f64 / 2.0
    })
}
