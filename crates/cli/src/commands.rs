//! Running the subcommands: each returns what to print on stdout and the exit code (an
//! [`Output`]), or a [`Failure`] that says what to print on stderr and the exit code.

use crate::cli::{Command, HessianArgs, PointArgs};
use crate::error::number;
use crate::{Derivatives, EvalError, Formula};
use serde_json::json;
use std::fmt;

/// Why a command failed, with its exit code.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// Bad arguments (exit code 2).
    Usage(String),
    /// The formula does not parse: the message, the formula and the caret line (exit code 3).
    Parse(String),
    /// A value or derivative went NaN or infinite (exit code 4).
    Numeric(String),
}

impl Failure {
    /// The process exit code: 2 usage, 3 parse error, 4 numeric failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Parse(_) => 3,
            Failure::Numeric(_) => 4,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Parse(m) | Failure::Numeric(m) => f.write_str(m),
        }
    }
}

/// What a command that ran prints on stdout, and its exit code: 0, or (for `minimize` that
/// did not converge, a `tour` with a failed check) another code with the report all the same.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The text for stdout.
    pub text: String,
    /// The exit code.
    pub code: u8,
}

impl From<String> for Output {
    fn from(text: String) -> Output {
        Output { text, code: 0 }
    }
}

/// Runs `command`; returns its stdout and exit code.
///
/// # Errors
/// A [`Failure`] for bad arguments, a formula that does not parse, or a numeric failure.
pub fn run(command: &Command) -> Result<Output, Failure> {
    match command {
        Command::Grad(args) => grad(args).map(Output::from),
        Command::Hessian(args) => hessian(args).map(Output::from),
        Command::Minimize(args) => crate::search::minimize(args),
        Command::Critical(args) => crate::search::critical(args),
        Command::Plot(args) => crate::plot::plot(args),
        Command::Tour(args) => crate::tour::tour(args),
    }
}

/// `nabla grad`.
fn grad(args: &PointArgs) -> Result<String, Failure> {
    let (f, at) = formula_and_point(args)?;
    let d = tidy(f.gradient(&at).map_err(numeric)?);
    Ok(if args.json {
        json_line(json!({
            "variables": f.variables(),
            "at": at,
            "value": d.value,
            "gradient": d.gradient,
        }))
    } else {
        human_derivatives(&f, &at, &d)
    })
}

/// `nabla hessian`.
fn hessian(args: &HessianArgs) -> Result<String, Failure> {
    let (f, at) = formula_and_point(&args.point)?;
    let d = tidy(f.hessian(&at).map_err(numeric)?);
    let n = at.len();
    let h = d.hessian.clone().unwrap_or_default();
    let (mut eigenvalues, class) = nabla_optim::classify_hessian(&h, n);
    eigenvalues.iter_mut().for_each(|w| *w += 0.0);
    let critical = d.gradient.iter().all(|g| g.abs() <= args.gtol);
    let classification = if critical { class.name() } else { NOT_CRITICAL };
    let rows: Vec<&[f64]> = h.chunks(n.max(1)).collect();
    Ok(if args.point.json {
        json_line(json!({
            "variables": f.variables(),
            "at": at,
            "value": d.value,
            "gradient": d.gradient,
            "hessian": rows,
            "eigenvalues": eigenvalues,
            "classification": classification,
        }))
    } else {
        let mut out = human_derivatives(&f, &at, &d);
        out.push_str("Hessian:\n");
        out.push_str(&matrix(&rows));
        let w: Vec<String> = eigenvalues.iter().map(|&w| number(w)).collect();
        out.push_str(&format!("eigenvalues: {}\n", w.join(", ")));
        let why = if critical {
            format!("the gradient vanishes; {}", eigen_reason(class))
        } else {
            format!("a gradient component exceeds {}", number(args.gtol))
        };
        out.push_str(&format!("classification: {classification} ({why})\n"));
        out
    })
}

/// The classification of a point where the gradient does not vanish.
pub const NOT_CRITICAL: &str = "not-critical";

/// Why the second-order test says what it says.
fn eigen_reason(c: nabla_optim::Classification) -> &'static str {
    use nabla_optim::Classification::*;
    match c {
        Minimum => "every eigenvalue is positive",
        Maximum => "every eigenvalue is negative",
        Saddle => "eigenvalues of both signs",
        Degenerate => "an eigenvalue is zero, so the second-order test says nothing",
    }
}

/// Parses the formula (a parse failure carries the caret display) and orders `--at`'s values
/// as its variables, each given exactly once.
fn formula_and_point(args: &PointArgs) -> Result<(Formula, Vec<f64>), Failure> {
    let f = Formula::parse(&args.formula).map_err(|e| Failure::Parse(e.render(&args.formula)))?;
    let at = point(f.variables(), &args.at, "--at")?;
    Ok((f, at))
}

/// Parses a formula; a failure carries the caret display.
pub(crate) fn parse(src: &str) -> Result<Formula, Failure> {
    Formula::parse(src).map_err(|e| Failure::Parse(e.render(src)))
}

/// The values of `flag` (`--at`, `--from`) in the order of `variables`: each variable exactly
/// once, no other names.
pub(crate) fn point(
    variables: &[String],
    at: &[(String, f64)],
    flag: &str,
) -> Result<Vec<f64>, Failure> {
    in_order(variables, at, flag, "value")
}

/// What `flag` gives for each of `variables`, in their order: each variable exactly once, no
/// other names (`what` names a missing item in the message: "value", "range").
pub(crate) fn in_order<T: Clone>(
    variables: &[String],
    given: &[(String, T)],
    flag: &str,
    what: &str,
) -> Result<Vec<T>, Failure> {
    for (k, (name, _)) in given.iter().enumerate() {
        if !variables.contains(name) {
            let known = if variables.is_empty() {
                "it has none".to_string()
            } else {
                format!("it has {}", variables.join(", "))
            };
            return Err(Failure::Usage(format!(
                "{flag} gives {name}, which is not a variable of the formula ({known})"
            )));
        }
        if given[..k].iter().any(|(n, _)| n == name) {
            return Err(Failure::Usage(format!(
                "{flag} gives {name} more than once"
            )));
        }
    }
    variables
        .iter()
        .map(|v| {
            given
                .iter()
                .find(|(n, _)| n == v)
                .map(|(_, x)| x.clone())
                .ok_or_else(|| {
                    Failure::Usage(format!("{flag} gives no {what} for the variable {v}"))
                })
        })
        .collect()
}

pub(crate) fn numeric(e: EvalError) -> Failure {
    match e {
        // The point was checked against the variables, and --at takes only finite numbers.
        EvalError::WrongDimension { .. } | EvalError::NonFiniteInput { .. } => {
            Failure::Usage(e.to_string())
        }
        EvalError::NonFinite { .. } => Failure::Numeric(e.to_string()),
    }
}

/// Negative zeros made positive (`-0 + 0 = 0`): a derivative of `-y^2` at 0 reads `0`.
pub(crate) fn tidy(mut d: Derivatives) -> Derivatives {
    d.value += 0.0;
    let h = d.hessian.iter_mut().flatten();
    d.gradient.iter_mut().chain(h).for_each(|x| *x += 0.0);
    d
}

pub(crate) fn json_line(v: serde_json::Value) -> String {
    format!("{v}\n")
}

/// The point, the value and the gradient, one per line, aligned.
fn human_derivatives(f: &Formula, at: &[f64], d: &Derivatives) -> String {
    let vars = f.variables();
    let mut out = String::new();
    if !vars.is_empty() {
        let point: Vec<String> = vars
            .iter()
            .zip(at)
            .map(|(v, &x)| format!("{v} = {}", number(x)))
            .collect();
        out.push_str(&format!("at {}\n", point.join(", ")));
    }
    let mut lines = vec![(format!("f({})", vars.join(", ")), d.value)];
    lines.extend(
        vars.iter()
            .zip(&d.gradient)
            .map(|(v, g)| (format!("df/d{v}"), *g)),
    );
    let width = lines
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in lines {
        out.push_str(&format!("{label:<width$} = {}\n", number(value)));
    }
    out
}

/// Rows of numbers, right-aligned in columns.
fn matrix(rows: &[&[f64]]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|&x| number(x)).collect())
        .collect();
    let width = cells.iter().flatten().map(String::len).max().unwrap_or(0);
    cells
        .iter()
        .map(|r| {
            let r: Vec<String> = r.iter().map(|c| format!("{c:>width$}")).collect();
            format!("  {}\n", r.join("  "))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_point_follows_the_variable_order() {
        let at = vec![("y".to_string(), 2.0), ("x".to_string(), 1.0)];
        assert_eq!(point(&names(&["x", "y"]), &at, "--at"), Ok(vec![1.0, 2.0]));
    }

    #[test]
    fn every_variable_exactly_once() {
        let vars = names(&["x", "y"]);
        let missing = point(&vars, &[("x".into(), 1.0)], "--at").unwrap_err();
        assert_eq!(
            missing,
            Failure::Usage("--at gives no value for the variable y".into())
        );
        let unknown = point(&vars, &[("x".into(), 1.0), ("z".into(), 1.0)], "--at").unwrap_err();
        assert_eq!(
            unknown,
            Failure::Usage(
                "--at gives z, which is not a variable of the formula (it has x, y)".into()
            )
        );
        let twice = point(&vars, &[("x".into(), 1.0), ("x".into(), 2.0)], "--from").unwrap_err();
        assert_eq!(
            twice,
            Failure::Usage("--from gives x more than once".into())
        );
        assert_eq!(twice.exit_code(), 2);
    }

    #[test]
    fn matrices_align() {
        let rows: [&[f64]; 2] = [&[4.0, 6.0], &[6.0, -12.5]];
        assert_eq!(matrix(&rows), "      4      6\n      6  -12.5\n");
    }
}
