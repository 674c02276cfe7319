//! The executor: runs a [`Solver`] step by step, counts evaluations, applies the stopping rules,
//! calls observers, and reports why it stopped (argmin's split between a solver and the loop
//! that observes and stops it).

use crate::linalg::{norm_inf, norm2};
use crate::objective::{Counted, Evaluations, Objective};
use std::fmt;
use std::time::{Duration, Instant};

/// A point with its value and gradient: what every solver step starts from and returns.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// The parameters.
    pub x: Vec<f64>,
    /// `f(x)`.
    pub f: f64,
    /// `∇f(x)`.
    pub grad: Vec<f64>,
}

impl Point {
    /// Evaluates `f` and `∇f` at `x`.
    pub fn at(objective: &dyn Objective, x: Vec<f64>) -> Point {
        let mut grad = vec![0.0; x.len()];
        let f = objective.value_grad(&x, &mut grad);
        Point { x, f, grad }
    }

    /// `true` if `f` and every gradient entry are finite.
    pub fn is_finite(&self) -> bool {
        self.f.is_finite() && self.grad.iter().all(|g| g.is_finite())
    }
}

/// One iterative method: given the current point, compute the next. Solvers keep their own
/// memory (a quasi-Newton matrix, a trust radius) between steps; the executor owns everything
/// else (counting, stopping, observing).
pub trait Solver {
    /// The method's name, as reports and progress lines print it.
    fn name(&self) -> &'static str;

    /// Called once before the first step: reset memory, check that the objective offers what the
    /// method needs.
    ///
    /// # Errors
    /// The [`Status`] to stop with at once (e.g. [`Status::Unsupported`] for a Newton method on
    /// an objective without second derivatives).
    fn init(&mut self, _objective: &dyn Objective, _start: &Point) -> Result<(), Status> {
        Ok(())
    }

    /// One iteration from `current`.
    ///
    /// # Errors
    /// The [`Status`] that ends the run when no next point can be found (a failed line search, a
    /// collapsed trust region, a non-finite Hessian).
    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status>;

    /// Called when the gradient test passes at `current`, before the run stops as converged
    /// (when [`Options::escape_saddles`] is on). A first-order point need not be a minimum: a
    /// solver that sees curvature checks the second-order condition (`H` positive
    /// semidefinite) and, at a saddle point, returns a point of lower `f` reached along a
    /// direction of negative curvature; the run then goes on from there. `None` (the default,
    /// and the answer at a minimum) lets the run stop as [`Status::Converged`]. The executor
    /// only continues from a returned point whose `f` is strictly lower.
    fn leave_saddle(&mut self, _objective: &dyn Objective, _current: &Point) -> Option<Point> {
        None
    }
}

/// Why a run stopped. Only [`Status::Converged`] means the gradient test passed.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// `||∇f||_inf <= gtol` (relative or absolute, see [`Options::gtol`]).
    Converged,
    /// The step was at most `xtol * (1 + ||x||)` (by default: the point did not move) without the
    /// gradient test passing.
    StepTolerance,
    /// `|f_new - f| <= ftol * max(1, |f|)` without the gradient test passing.
    FunctionTolerance,
    /// The iteration budget ran out.
    MaxIterations,
    /// The evaluation budget ran out (counted as `f + grad + hvp + hessian` calls).
    MaxEvaluations,
    /// The wall-time budget ran out.
    TimeLimit,
    /// `f`, the gradient or a second derivative became NaN or infinite; the report keeps the
    /// best finite point.
    NonFinite {
        /// Which quantity: `"f"`, `"gradient"`, `"Hessian-vector product"`, `"Hessian"`.
        quantity: &'static str,
    },
    /// The method could not make progress: a line search found no acceptable step, a trust
    /// region shrank below rounding level.
    Stalled {
        /// What failed.
        reason: &'static str,
    },
    /// The objective lacks what the method needs.
    Unsupported {
        /// What is missing.
        needs: &'static str,
    },
    /// An observer asked to stop.
    Interrupted,
}

impl Status {
    /// A short kebab-case name (`converged`, `max-iterations`, ...) for JSON and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Converged => "converged",
            Status::StepTolerance => "step-tolerance",
            Status::FunctionTolerance => "function-tolerance",
            Status::MaxIterations => "max-iterations",
            Status::MaxEvaluations => "max-evaluations",
            Status::TimeLimit => "time-limit",
            Status::NonFinite { .. } => "non-finite",
            Status::Stalled { .. } => "stalled",
            Status::Unsupported { .. } => "unsupported",
            Status::Interrupted => "interrupted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Converged => write!(f, "converged: the gradient test passed"),
            Status::StepTolerance => write!(
                f,
                "stopped: the step fell below xtol (gradient test not passed)"
            ),
            Status::FunctionTolerance => {
                write!(
                    f,
                    "stopped: the change in f fell below ftol (gradient test not passed)"
                )
            }
            Status::MaxIterations => write!(f, "stopped: iteration budget exhausted"),
            Status::MaxEvaluations => write!(f, "stopped: evaluation budget exhausted"),
            Status::TimeLimit => write!(f, "stopped: time budget exhausted"),
            Status::NonFinite { quantity } => {
                write!(f, "stopped: the {quantity} became NaN or infinite")
            }
            Status::Stalled { reason } => write!(f, "stopped: {reason}"),
            Status::Unsupported { needs } => write!(f, "cannot run: the objective has no {needs}"),
            Status::Interrupted => write!(f, "stopped by an observer"),
        }
    }
}

/// The gradient test's tolerance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Gtol {
    /// `||∇f||_inf <= tol * max(1, |f|)`.
    Relative(f64),
    /// `||∇f||_inf <= tol`.
    Absolute(f64),
}

/// Stopping rules and budgets.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The gradient test; default `Relative(1e-8)`.
    pub gtol: Gtol,
    /// Stop (not converged) when a step is at most `xtol * (1 + ||x||_2)`; default `0.0`, i.e.
    /// only when the point stops moving.
    pub xtol: f64,
    /// Stop (not converged) when `|Δf| <= ftol * max(1, |f|)`; default `None` (off).
    pub ftol: Option<f64>,
    /// Iteration budget; default 1000.
    pub max_iterations: usize,
    /// Evaluation budget (`f + grad + hvp + hessian` calls); default 100,000.
    pub max_evaluations: usize,
    /// Wall-time budget; default none.
    pub time_limit: Option<Duration>,
    /// Stop with [`Status::Stalled`] after this many iterations without a strict decrease of
    /// the best `f` seen; default 100. Near a minimizer whose gradient test f64 cannot meet
    /// (every nearby point has the same `f`), line searches and trust regions accept steps
    /// within `f`'s rounding noise; this ends such runs instead of spending the whole budget.
    pub stall_iterations: usize,
    /// Before reporting convergence, let the solver check that the point is not a saddle
    /// ([`Solver::leave_saddle`]); default `true`. The second-order methods (Newton, Newton-CG,
    /// both trust regions) then cost a few extra Hessian-vector products (or one eigen-
    /// decomposition) per converged run; first-order methods ignore it. A start on a symmetry
    /// subspace (Biggs EXP6 from its standard start) keeps gradient iterates on it, where a
    /// saddle of the whole space looks like a minimum.
    pub escape_saddles: bool,
    /// Before stopping without the gradient test (a stall, the step or function tolerance), try
    /// once to reach a nearby `f64` grid point that passes it ([`crate::polish`]); default
    /// `true`. It costs `n` gradient evaluations plus at most
    /// [`POLISH_CANDIDATES`](crate::polish::POLISH_CANDIDATES), only for
    /// `n <=` [`POLISH_MAX_DIM`](crate::polish::POLISH_MAX_DIM) and within the evaluation
    /// budget, and helps where one ulp of a coordinate moves the gradient by more than the
    /// test allows (Meyer's function). A polished point is a candidate like any other: the run
    /// continues from it (saddle check included) only if its evaluated gradient passes.
    pub polish: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            gtol: Gtol::Relative(1e-8),
            xtol: 0.0,
            ftol: None,
            max_iterations: 1000,
            max_evaluations: 100_000,
            time_limit: None,
            stall_iterations: 100,
            escape_saddles: true,
            polish: true,
        }
    }
}

impl Options {
    /// `true` if the gradient test passes at `p`.
    pub fn gradient_test(&self, p: &Point) -> bool {
        let g = norm_inf(&p.grad);
        match self.gtol {
            Gtol::Relative(t) => g <= t * p.f.abs().max(1.0),
            Gtol::Absolute(t) => g <= t,
        }
    }
}

/// What an observer sees after each iteration (and once for the start, iteration 0).
#[derive(Clone, Copy, Debug)]
pub struct Iteration<'a> {
    /// The solver's name.
    pub solver: &'static str,
    /// Iterations done so far.
    pub iteration: usize,
    /// The current point.
    pub point: &'a Point,
    /// `||∇f||_inf`.
    pub gradient_norm: f64,
    /// `||x_k - x_{k-1}||_2` (0 at the start).
    pub step_norm: f64,
    /// Evaluations so far.
    pub evaluations: Evaluations,
    /// Time since the start.
    pub elapsed: Duration,
}

/// Whether an observer lets the run go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop with [`Status::Interrupted`].
    Stop,
}

/// Watches a run: any `FnMut(&Iteration) -> Control` is one.
pub trait Observer {
    /// Called at the start and after every iteration.
    fn observe(&mut self, it: &Iteration<'_>) -> Control;
}

impl<F: FnMut(&Iteration<'_>) -> Control> Observer for F {
    fn observe(&mut self, it: &Iteration<'_>) -> Control {
        self(it)
    }
}

/// An observer that writes one progress line per iteration to a writer (stderr for the CLI's
/// `--verbose`): iteration, f, `||∇f||_inf`, step length, f+g evaluations.
pub struct ProgressLine<W>(pub W);

impl<W: std::io::Write> Observer for ProgressLine<W> {
    fn observe(&mut self, it: &Iteration<'_>) -> Control {
        // A progress line that cannot be written is not a reason to stop the optimization.
        let _ = writeln!(
            self.0,
            "{:>5} {:<14} f = {:<24.16e} |g|inf = {:<10.3e} step = {:<10.3e} evals = {}",
            it.iteration,
            it.solver,
            it.point.f,
            it.gradient_norm,
            it.step_norm,
            it.evaluations.f_and_grad()
        );
        Control::Continue
    }
}

/// The outcome of a run.
#[derive(Clone, Debug)]
pub struct Report {
    /// The solver's name.
    pub solver: &'static str,
    /// The final point (on [`Status::NonFinite`], the best finite point seen).
    pub point: Point,
    /// `||∇f||_inf` at [`Report::point`].
    pub gradient_norm: f64,
    /// Iterations done.
    pub iterations: usize,
    /// Evaluations done.
    pub evaluations: Evaluations,
    /// Why the run stopped.
    pub status: Status,
    /// Wall time.
    pub elapsed: Duration,
}

impl Report {
    /// `true` iff the gradient test passed at the reported point.
    pub fn converged(&self) -> bool {
        self.status == Status::Converged
    }
}

/// Minimizes `objective` from `x0` with `solver` under `options`, without observers.
///
/// ```
/// use nabla_optim::{minimize, GraphObjective, Lbfgs, Options};
/// let rosenbrock = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let r = minimize(&rosenbrock, &mut Lbfgs::default(), &[-1.2, 1.0], &Options::default());
/// assert!(r.converged(), "{}", r.status);
/// assert!((r.point.x[0] - 1.0).abs() < 1e-6 && (r.point.x[1] - 1.0).abs() < 1e-6);
/// ```
///
/// # Panics
/// If `x0.len() != objective.dim()`.
pub fn minimize(
    objective: &dyn Objective,
    solver: &mut dyn Solver,
    x0: &[f64],
    options: &Options,
) -> Report {
    minimize_observed(objective, solver, x0, options, &mut [])
}

/// [`minimize`] with observers, each called at the start and after every iteration.
///
/// # Panics
/// If `x0.len() != objective.dim()`.
pub fn minimize_observed(
    objective: &dyn Objective,
    solver: &mut dyn Solver,
    x0: &[f64],
    options: &Options,
    observers: &mut [&mut dyn Observer],
) -> Report {
    assert_eq!(
        x0.len(),
        objective.dim(),
        "minimize: x0 has {} entries but the objective has {} parameters",
        x0.len(),
        objective.dim()
    );
    let start = Instant::now();
    let counted = Counted::new(objective);
    let mut current = Point::at(&counted, x0.to_vec());
    let mut best: Option<Point> = None;
    let mut last_decrease = 0;
    let mut iterations = 0;
    let mut step_norm = 0.0;
    let mut polished = false;
    let status = 'run: {
        if let Err(s) = solver.init(&counted, &current) {
            break 'run s;
        }
        'iterate: loop {
            let stop = 'iteration: {
                if let Some(s) = non_finite(&current) {
                    break 'iteration s;
                }
                if best.as_ref().is_none_or(|b| current.f < b.f) {
                    last_decrease = iterations;
                }
                if best.as_ref().is_none_or(|b| current.f <= b.f) {
                    best = Some(current.clone());
                }
                let it = Iteration {
                    solver: solver.name(),
                    iteration: iterations,
                    point: &current,
                    gradient_norm: norm_inf(&current.grad),
                    step_norm,
                    evaluations: counted.evaluations(),
                    elapsed: start.elapsed(),
                };
                if observers
                    .iter_mut()
                    .any(|o| o.observe(&it) == Control::Stop)
                {
                    break 'iteration Status::Interrupted;
                }
                let escape = if options.gradient_test(&current) {
                    match options
                        .escape_saddles
                        .then(|| solver.leave_saddle(&counted, &current))
                        .flatten()
                    {
                        Some(p) if p.is_finite() && p.f < current.f => Some(p),
                        _ => break 'iteration Status::Converged,
                    }
                } else {
                    None
                };
                if iterations >= options.max_iterations {
                    break 'iteration Status::MaxIterations;
                }
                if iterations - last_decrease >= options.stall_iterations {
                    break 'iteration Status::Stalled {
                        reason: "f has not decreased in stall_iterations iterations",
                    };
                }
                let e = counted.evaluations();
                if e.f + e.grad + e.hvp + e.hessian >= options.max_evaluations {
                    break 'iteration Status::MaxEvaluations;
                }
                if options.time_limit.is_some_and(|t| start.elapsed() >= t) {
                    break 'iteration Status::TimeLimit;
                }
                let next = match escape.map_or_else(|| solver.step(&counted, &current), Ok) {
                    Ok(p) => p,
                    Err(s) => break 'iteration s,
                };
                iterations += 1;
                let dx: Vec<f64> = next.x.iter().zip(&current.x).map(|(a, b)| a - b).collect();
                step_norm = norm2(&dx);
                let df = (next.f - current.f).abs();
                let moved_little = step_norm <= options.xtol * (1.0 + norm2(&current.x));
                let f_flat = options
                    .ftol
                    .is_some_and(|t| df <= t * current.f.abs().max(1.0));
                current = next;
                if (moved_little || f_flat)
                    && current.is_finite()
                    && !options.gradient_test(&current)
                {
                    if best.as_ref().is_none_or(|b| current.f <= b.f) {
                        best = Some(current.clone());
                    }
                    break 'iteration if moved_little {
                        Status::StepTolerance
                    } else {
                        Status::FunctionTolerance
                    };
                }
                continue 'iterate;
            };
            // One grid polish per run, before giving up without the gradient test.
            if options.polish && !polished && polishable(&stop) {
                polished = true;
                let e = counted.evaluations();
                let cost = current.x.len() + crate::polish::POLISH_CANDIDATES;
                let base = match &best {
                    Some(b) if b.f < current.f => b.clone(),
                    _ => current.clone(),
                };
                if e.f + e.grad + e.hvp + e.hessian + cost <= options.max_evaluations
                    && let Some(p) = crate::polish::polish(&counted, &base, options)
                {
                    current = p;
                    continue 'iterate;
                }
            }
            break 'run stop;
        }
    };
    // Report the current point unless it is not finite (then the best finite one).
    let point = match (&status, best) {
        (Status::NonFinite { .. }, Some(b)) => b,
        _ => current,
    };
    Report {
        solver: solver.name(),
        gradient_norm: norm_inf(&point.grad),
        point,
        iterations,
        evaluations: counted.evaluations(),
        status,
        elapsed: start.elapsed(),
    }
}

/// The statuses a grid polish may turn into convergence: the run stopped near a point it could
/// not improve, not because of a budget, an observer or a non-finite value.
fn polishable(s: &Status) -> bool {
    matches!(
        s,
        Status::StepTolerance | Status::FunctionTolerance | Status::Stalled { .. }
    )
}

fn non_finite(p: &Point) -> Option<Status> {
    if !p.f.is_finite() {
        Some(Status::NonFinite { quantity: "f" })
    } else if p.grad.iter().any(|g| !g.is_finite()) {
        Some(Status::NonFinite {
            quantity: "gradient",
        })
    } else {
        None
    }
}
