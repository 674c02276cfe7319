//! `nabla minimize` and `nabla critical`: a formula as a [`nabla_optim`] objective.
//!
//! ```
//! use nabla_cli::{Formula, search};
//! use nabla_cli::cli::Method;
//! let f = Formula::parse("(1 - x)^2 + 100*(y - x^2)^2").unwrap();
//! let run = search::run_minimize(&f, &[-1.2, 1.0], Method::Lbfgs, &search::options(1e-8, 1000), false);
//! assert!(run.report.converged());
//! assert!((run.report.point.x[0] - 1.0).abs() < 1e-6);
//! // The path starts at the start and ends at the reported point.
//! assert_eq!(run.path[0], [-1.2, 1.0]);
//! assert_eq!(run.path.last().unwrap(), &run.report.point.x);
//! ```

use crate::Formula;
use crate::cli::{CriticalArgs, Method, MinimizeArgs, Range};
use crate::commands::{Failure, Output, in_order, json_line, numeric, parse, point};
use crate::error::number;
use nabla_optim::{
    Bfgs, Control, CriticalPoint, GradientDescent, GraphObjective, Gtol, Iteration, Lbfgs, Newton,
    NewtonCg, Objective, Observer, Options, ProgressLine, Report, Solver, Status, StepRule,
    TrustRegionCg, TrustRegionExact, critical_points, minimize_observed,
};
use serde_json::json;
use std::cell::RefCell;

/// The exit code of a minimization that stopped without converging (its report is printed).
pub const NOT_CONVERGED: u8 = 5;

/// The formula as an objective: value and gradient by reverse mode, Hessian-vector products
/// and Hessians through nabla-graph (see [`GraphObjective`]).
pub fn objective(f: &Formula) -> impl Objective + '_ {
    GraphObjective::new(f.variables().len(), move |x| f.apply(x))
        .expect("a formula records a scalar")
}

/// The solver behind a [`Method`].
pub fn solver(method: Method) -> Box<dyn Solver> {
    match method {
        Method::TrustRegion => Box::new(TrustRegionCg::default()),
        Method::TrustExact => Box::new(TrustRegionExact::default()),
        Method::Newton => Box::new(Newton::default()),
        Method::NewtonCg => Box::new(NewtonCg),
        Method::Bfgs => Box::new(Bfgs::default()),
        Method::Lbfgs => Box::new(Lbfgs::default()),
        Method::Gd => Box::new(GradientDescent::new(StepRule::StrongWolfe)),
    }
}

/// `nabla minimize`'s stopping rules: the relative gradient test
/// `|grad f|inf <= gtol * max(1, |f|)` and an iteration budget; the library's other defaults.
pub fn options(gtol: f64, max_iterations: usize) -> Options {
    Options {
        gtol: Gtol::Relative(gtol),
        max_iterations,
        ..Options::default()
    }
}

/// A finished minimization.
#[derive(Clone, Debug)]
pub struct Run {
    /// The executor's report.
    pub report: Report,
    /// The point at the start and after every iteration.
    pub path: Vec<Vec<f64>>,
    /// On [`Status::NonFinite`]: the last evaluation that went NaN or infinite, traced to the
    /// operation (`log at column 1 gave NaN (argument -0.5) at x = -0.5`).
    pub non_finite: Option<String>,
}

/// Minimizes `f` from `x0` (one coordinate per variable) with `method`; `verbose` writes a
/// progress line per iteration to stderr.
///
/// # Panics
/// If `x0` does not have one coordinate per variable.
pub fn run_minimize(
    f: &Formula,
    x0: &[f64],
    method: Method,
    options: &Options,
    verbose: bool,
) -> Run {
    let objective = objective(f);
    let watched = Watched {
        inner: &objective,
        bad: RefCell::new(None),
    };
    let mut path: Vec<Vec<f64>> = Vec::new();
    let mut record = |it: &Iteration<'_>| {
        path.push(it.point.x.clone());
        Control::Continue
    };
    let mut progress = ProgressLine(std::io::stderr());
    let mut observers: Vec<&mut dyn Observer> = vec![&mut record];
    if verbose {
        observers.push(&mut progress);
    }
    let mut solver = solver(method);
    let report = minimize_observed(&watched, solver.as_mut(), x0, options, &mut observers);
    drop(observers);
    let non_finite = match report.status {
        Status::NonFinite { .. } => watched.bad.borrow().as_ref().map(|x| {
            let at = assignments(f.variables(), x);
            match f.hessian(x) {
                Err(e) => format!("{e} at {at}"),
                // Value, gradient and Hessian finite there: the overflow was in combining
                // them (a Hessian-vector product): no one operation to name.
                Ok(_) => format!("at {at}"),
            }
        }),
        _ => None,
    };
    Run {
        report,
        path,
        non_finite,
    }
}

/// An objective that remembers the last point where anything it computed was not finite.
struct Watched<'a, O> {
    inner: &'a O,
    bad: RefCell<Option<Vec<f64>>>,
}

impl<O: Objective> Watched<'_, O> {
    fn check(&self, x: &[f64], values: &[f64]) {
        if values.iter().any(|v| !v.is_finite()) {
            *self.bad.borrow_mut() = Some(x.to_vec());
        }
    }
}

impl<O: Objective> Objective for Watched<'_, O> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        let v = self.inner.value(x);
        self.check(x, &[v]);
        v
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let v = self.inner.value_grad(x, grad);
        self.check(x, &[v]);
        self.check(x, grad);
        v
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let ok = self.inner.hvp(x, v, out);
        self.check(x, out);
        ok
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let ok = self.inner.hessian(x, out);
        self.check(x, out);
        ok
    }
}

/// `x = 1, y = 2`.
fn assignments(variables: &[String], x: &[f64]) -> String {
    let parts: Vec<String> = variables
        .iter()
        .zip(x)
        .map(|(v, &x)| format!("{v} = {}", number(x + 0.0)))
        .collect();
    parts.join(", ")
}

/// `nabla minimize`.
pub fn minimize(args: &MinimizeArgs) -> Result<Output, Failure> {
    let f = parse(&args.formula)?;
    let x0 = point(f.variables(), &args.from, "--from")?;
    // NaN or infinity at the start: nothing to start from (exit code 4, traced).
    f.gradient(&x0).map_err(numeric)?;
    let run = run_minimize(
        &f,
        &x0,
        args.method,
        &options(args.gtol, args.max_iter),
        args.verbose,
    );
    let r = &run.report;
    let x: Vec<f64> = r.point.x.iter().map(|v| v + 0.0).collect();
    let value = r.point.f + 0.0;
    let mut message = r.status.to_string();
    if let Some(why) = &run.non_finite {
        message.push_str(&format!(" ({why}); the report shows the best finite point"));
    }
    let e = r.evaluations;
    let text = if args.json {
        json_line(json!({
            "variables": f.variables(),
            "method": args.method.name(),
            "x": x,
            "value": value,
            "gradient_norm": r.gradient_norm,
            "iterations": r.iterations,
            "evaluations": {"f": e.f, "grad": e.grad, "hvp": e.hvp, "hessian": e.hessian},
            "status": r.status.name(),
            "message": message,
        }))
    } else {
        let vars = f.variables();
        let mut out = format!(
            "minimizing by {} from {}\n",
            args.method.name(),
            assignments(vars, &x0)
        );
        let why = if r.converged() {
            format!(
                "the gradient test passed: |grad f|inf <= {} * max(1, |f|)",
                number(args.gtol)
            )
        } else {
            message
        };
        out.push_str(&format!("status: {} ({why})\n", r.status.name()));
        let mut lines: Vec<(String, f64)> = vars.iter().cloned().zip(x.iter().copied()).collect();
        lines.push((format!("f({})", vars.join(", ")), value));
        lines.push(("|grad f|inf".to_string(), r.gradient_norm));
        let width = lines
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        for (label, v) in lines {
            out.push_str(&format!("{label:<width$} = {}\n", number(v)));
        }
        out.push_str(&format!("iterations: {}\n", r.iterations));
        out.push_str(&format!(
            "evaluations: f {}, f and gradient {}, Hessian-vector products {}, Hessians {}\n",
            e.f, e.grad, e.hvp, e.hessian
        ));
        out
    };
    Ok(Output {
        text,
        code: if r.converged() { 0 } else { NOT_CONVERGED },
    })
}

/// The box of `--range` in the order of `variables`: each variable exactly once, no other
/// names.
pub(crate) fn bounds(variables: &[String], ranges: &[Range]) -> Result<Vec<(f64, f64)>, Failure> {
    let named: Vec<(String, (f64, f64))> = ranges
        .iter()
        .map(|r| (r.name.clone(), (r.lo, r.hi)))
        .collect();
    in_order(variables, &named, "--range", "range")
}

/// The critical points of `f` in `bounds` (see [`critical_points`]), negative zeros made
/// positive.
pub fn find_critical(f: &Formula, bounds: &[(f64, f64)]) -> Result<Vec<CriticalPoint>, Failure> {
    let objective = objective(f);
    let mut points =
        critical_points(&objective, bounds).map_err(|e| Failure::Usage(e.to_string()))?;
    for p in &mut points {
        p.value += 0.0;
        p.x.iter_mut()
            .chain(p.eigenvalues.iter_mut())
            .for_each(|v| *v += 0.0);
    }
    Ok(points)
}

/// `nabla critical`.
pub fn critical(args: &CriticalArgs) -> Result<Output, Failure> {
    let f = parse(&args.formula)?;
    let bounds = bounds(f.variables(), &args.range)?;
    let points = find_critical(&f, &bounds)?;
    let text = if args.json {
        let points: Vec<serde_json::Value> = points
            .iter()
            .map(|p| {
                json!({
                    "x": p.x,
                    "value": p.value,
                    "classification": p.classification.name(),
                    "global_min": p.global_min,
                    "eigenvalues": p.eigenvalues,
                })
            })
            .collect();
        json_line(json!({"variables": f.variables(), "points": points}))
    } else {
        human_critical(&f, &bounds, &points)
    };
    Ok(Output { text, code: 0 })
}

/// The points as a table: coordinates, value, classification.
fn human_critical(f: &Formula, bounds: &[(f64, f64)], points: &[CriticalPoint]) -> String {
    let vars = f.variables();
    let area: Vec<String> = vars
        .iter()
        .zip(bounds)
        .map(|(v, (lo, hi))| format!("{v} in [{}, {}]", number(*lo), number(*hi)))
        .collect();
    let mut out = format!(
        "{} critical point{} with {}\n",
        points.len(),
        if points.len() == 1 { "" } else { "s" },
        area.join(", ")
    );
    if points.is_empty() {
        return out;
    }
    let mut rows = vec![{
        let mut h: Vec<String> = vars.to_vec();
        h.push(format!("f({})", vars.join(", ")));
        h.push("classification".into());
        h
    }];
    for p in points {
        let mut row: Vec<String> = p.x.iter().map(|&x| short(x)).collect();
        row.push(short(p.value));
        let global = if p.global_min { " (global)" } else { "" };
        row.push(format!("{}{global}", p.classification));
        rows.push(row);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(&format!("  {}\n", cells.join("  ").trim_end()));
    }
    out
}

/// A number rounded to 10 significant digits for tables (`-0.9999999999999999` reads `-1`);
/// `--json` has the full values.
pub(crate) fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return number(x + 0.0);
    }
    let rounded: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    number(rounded + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(-0.9999999999999999), "-1");
        assert_eq!(short(2.0000000000000004), "2");
        assert_eq!(short(-32.0), "-32");
        assert_eq!(short(3.584428340330), "3.58442834");
        assert_eq!(short(-0.0), "0");
        assert_eq!(short(1.2345678901234e-20), "1.23456789e-20");
    }

    #[test]
    fn ranges_follow_the_variable_order() {
        let vars = vec!["x".to_string(), "y".to_string()];
        let r = |name: &str, lo, hi| Range {
            name: name.into(),
            lo,
            hi,
        };
        assert_eq!(
            bounds(&vars, &[r("y", 0.0, 1.0), r("x", -2.0, 3.0)]),
            Ok(vec![(-2.0, 3.0), (0.0, 1.0)])
        );
        assert_eq!(
            bounds(&vars, &[r("x", 0.0, 1.0)]),
            Err(Failure::Usage(
                "--range gives no range for the variable y".into()
            ))
        );
    }
}
