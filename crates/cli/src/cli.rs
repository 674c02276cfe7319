//! The command line: arguments (clap), help texts with examples, and clap's errors turned
//! into one line.

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Formulas in; values, gradients and Hessians out (reverse-mode autodiff on nabla-graph, in f64).";

const LONG_ABOUT: &str = "\
Formulas in; values, gradients and Hessians out (reverse-mode autodiff on nabla-graph, in f64).

A formula uses numbers (2, 0.5, 1e-3), variables (a letter, then letters, digits or _), the
constant pi, + - * / ^ with the usual precedence (^ binds tighter than unary minus and is
right-associative: -x^2 is -(x^2), 2^3^2 is 512), parentheses, and the functions exp, log
(natural), sqrt, sin, cos, tanh, sigmoid, softplus, abs and logsumexp(a, b, ...). Variables are
ordered by first appearance.

Exit codes: 0 success, 2 usage error, 3 parse error, 4 numeric failure (NaN or infinity).";

const EXAMPLES: &str = "\
Examples:
  nabla grad 'log(exp(x) + exp(y))' --at x=0,y=0.6931471805599453
  nabla hessian 'x^2*y + x*y^2' --at x=0,y=0 --json
  nabla help grad";

const GRAD_EXAMPLES: &str = "\
Examples:
  nabla grad 'x^2*y + x*y^2' --at x=1,y=2
      f = 6, df/dx = 8, df/dy = 5
  nabla grad 'log(exp(x) + exp(y))' --at x=0,y=0.6931471805599453 --json
      {\"variables\":[\"x\",\"y\"],\"at\":[0.0,0.6931471805599453],\"value\":1.0986122886681096,
       \"gradient\":[0.3333333333333333,0.6666666666666666]}   (the softmax of (x, y))
  nabla grad '-x^2' --at x=3
      -(x^2): f = -9, df/dx = -6
  nabla grad 'log(x)' --at x=-1
      error: log at column 1 gave NaN (argument -1)   (exit code 4)";

const HESSIAN_EXAMPLES: &str = "\
Examples:
  nabla hessian 'x^2*y + x*y^2' --at x=0,y=0
      the guide's exercise 4: the Hessian is zero there, degenerate (the test says nothing)
  nabla hessian '3*x^4 - 4*x^3 - 12*x^2' --at x=2
      f'' = 72 > 0 and f' = 0: minimum
  nabla hessian 'x^2 - y^2' --at x=0,y=0 --json
      eigenvalues [-2, 2]: saddle";

/// `nabla`'s arguments.
#[derive(Debug, Parser)]
#[command(
    name = "nabla",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = EXAMPLES,
    arg_required_else_help = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The value and gradient of a formula at a point.
    #[command(after_help = GRAD_EXAMPLES)]
    Grad(PointArgs),
    /// The value, gradient and Hessian at a point, the Hessian's eigenvalues, and what kind of
    /// point it is (minimum, maximum, saddle, degenerate, or not-critical).
    #[command(after_help = HESSIAN_EXAMPLES)]
    Hessian(HessianArgs),
}

/// A formula and a point.
#[derive(Debug, Args)]
pub struct PointArgs {
    /// The formula, e.g. 'x^2*y + x*y^2' (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    pub formula: String,
    /// The point: a value for every variable, each once, e.g. x=1,y=2.
    #[arg(
        long,
        value_name = "NAME=VALUE,...",
        value_delimiter = ',',
        value_parser = parse_assignment,
        allow_hyphen_values = true
    )]
    pub at: Vec<(String, f64)>,
    /// Print one JSON object on stdout instead of the human-readable report.
    #[arg(long)]
    pub json: bool,
}

/// `nabla hessian`'s arguments.
#[derive(Debug, Args)]
pub struct HessianArgs {
    /// The formula and the point.
    #[command(flatten)]
    pub point: PointArgs,
    /// The gradient vanishes (the point is critical) when no component exceeds this in
    /// absolute value; eigenvalues within 1e-8 (relative) of zero count as zero.
    #[arg(long, default_value = "1e-8", value_name = "TOL", value_parser = parse_tolerance)]
    pub gtol: f64,
}

/// A finite, non-negative tolerance.
fn parse_tolerance(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(t) if t.is_finite() && t >= 0.0 => Ok(t),
        _ => Err(format!("expected a finite number >= 0, found {s:?}")),
    }
}

/// One `NAME=VALUE` of `--at`.
fn parse_assignment(s: &str) -> Result<(String, f64), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, found {s:?}"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("expected a variable name before '=' in {s:?}"));
    }
    let v: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("expected a number after '{name}=', found {value:?}"))?;
    if !v.is_finite() {
        return Err(format!(
            "expected a finite number for {name}, found {value:?}"
        ));
    }
    Ok((name.to_string(), v))
}

/// A clap error as one line (its message without the usage and the hint), or `None` for the
/// "errors" that are requests for help or the version and print as clap prints them.
pub fn one_line(e: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        return None;
    }
    let text = e.render().to_string();
    let parts: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect();
    let line = parts.join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    Some(format!("{line} (see nabla --help)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn assignments() {
        assert_eq!(parse_assignment("x=-1.5"), Ok(("x".into(), -1.5)));
        assert_eq!(parse_assignment(" y = 2 "), Ok(("y".into(), 2.0)));
        assert!(parse_assignment("x").unwrap_err().contains("NAME=VALUE"));
        assert!(parse_assignment("=1").unwrap_err().contains("name"));
        assert!(parse_assignment("x=abc").unwrap_err().contains("number"));
        assert!(parse_assignment("x=inf").unwrap_err().contains("finite"));
        assert_eq!(parse_tolerance("1e-6"), Ok(1e-6));
        assert!(parse_tolerance("-1").is_err() && parse_tolerance("nan").is_err());
    }

    #[test]
    fn clap_errors_fold_to_one_line() {
        let e = Cli::try_parse_from(["nabla", "grad"]).unwrap_err();
        let line = one_line(&e).unwrap();
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("<FORMULA>"), "{line}");
        let e = Cli::try_parse_from(["nabla", "--version"]).unwrap_err();
        assert!(one_line(&e).is_none());
    }

    #[test]
    fn a_formula_may_start_with_a_minus() {
        let cli = Cli::try_parse_from(["nabla", "grad", "-x^2", "--at", "x=-3"]).unwrap();
        let Command::Grad(a) = cli.command else {
            panic!("not grad")
        };
        assert_eq!(
            (a.formula.as_str(), a.at),
            ("-x^2", vec![("x".into(), -3.0)])
        );
    }
}
