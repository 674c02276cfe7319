//! The command line: arguments (clap), help texts with examples, and clap's errors turned
//! into one line.

use clap::{Args, Parser, Subcommand};

const ABOUT: &str = "Formulas in; gradients, Hessians, minima, critical points and plots out (autodiff on nabla-graph, in f64).";

const LONG_ABOUT: &str = "\
Formulas in; gradients, Hessians, minima, critical points and plots out (reverse-mode autodiff
on nabla-graph, in f64; optimizers from nabla-optim), and a tour of the guide.

A formula uses numbers (2, 0.5, 1e-3), variables (a letter, then letters, digits or _), the
constant pi, + - * / ^ with the usual precedence (^ binds tighter than unary minus and is
right-associative: -x^2 is -(x^2), 2^3^2 is 512), parentheses, and the functions exp, log
(natural), sqrt, sin, cos, tanh, sigmoid, softplus, abs and logsumexp(a, b, ...). Variables are
ordered by first appearance.

Exit codes: 0 success, 2 usage error, 3 parse error, 4 numeric failure (NaN or infinity),
5 minimize stopped without converging (its report printed all the same), 1 a tour value
disagrees with the guide.";

const EXAMPLES: &str = "\
Examples:
  nabla grad 'log(exp(x) + exp(y))' --at x=0,y=0.6931471805599453
  nabla hessian 'x^2*y + x*y^2' --at x=0,y=0 --json
  nabla minimize '(1 - x)^2 + 100*(y - x^2)^2' --from x=-1.2,y=1
  nabla critical '3*x^4 - 4*x^3 - 12*x^2' --range x=-2:3
  nabla plot '(x^2 + y - 11)^2 + (x + y^2 - 7)^2' --range x=-5:5,y=-5:5 --out himmelblau.svg
  nabla tour
  nabla help minimize";

const MINIMIZE_ABOUT: &str = "\
Minimizes a formula from a starting point and reports the point, the value, the gradient's
largest component, the iterations, the evaluations (f alone, f with gradient, Hessian-vector
products, dense Hessians) and the status: why it stopped.

Converged (status converged) means |grad f|inf <= GTOL * max(1, |f|), the relative gradient
test (absolute when |f| <= 1); nothing else counts as converged. The other statuses:
max-iterations, max-evaluations, stalled (no acceptable step), step-tolerance (the point
stopped moving), non-finite (f or its gradient became NaN or infinite: the report shows the
best finite point), unsupported.

Exit codes: 0 converged; 5 stopped without converging (the report is still printed, and its
status says why); 2 usage error, 3 parse error, 4 the formula is NaN or infinite at the
starting point (nothing to start from).";

const MINIMIZE_EXAMPLES: &str = "\
Examples:
  nabla minimize '(1 - x)^2 + 100*(y - x^2)^2' --from x=-1.2,y=1
      Rosenbrock by trust-region Newton-CG: x = 1, y = 1, converged
  nabla minimize '(1 - x)^2 + 100*(y - x^2)^2' --from x=-1.2,y=1 --method bfgs --json
      {\"variables\":[\"x\",\"y\"],\"method\":\"bfgs\",\"x\":[1.0,1.0],\"value\":...,
       \"gradient_norm\":...,\"iterations\":...,\"evaluations\":{\"f\":...,\"grad\":...,
       \"hvp\":0,\"hessian\":0},\"status\":\"converged\",\"message\":\"...\"}
  nabla minimize '(1 - x)^2 + 100*(y - x^2)^2' --from x=-1.2,y=1 --method gd
      status max-iterations after 1000 iterations, not at (1, 1) yet (exit code 5)
  nabla minimize 'log(exp(x) + exp(y)) + (x^2 + y^2)/2' --from x=2,y=-1 --verbose
      a progress line per iteration on stderr; the minimum ln 2 - 1/4 at (-1/2, -1/2)";

const CRITICAL_ABOUT: &str = "\
Every critical point (grad f = 0) of a formula in a box, each once, sorted by coordinates, with
its value, the Hessian's eigenvalues and the second-order test's classification: minimum,
maximum, saddle, or degenerate (a zero eigenvalue: the test says nothing). The minimum (or tied
minima) of lowest value is marked global: global over the critical points found in the box,
not over the box's boundary.

Method: damped Newton on grad f = 0 from a grid of starts (41 in one variable, 15 x 15 in two,
7^3 in three, 400 quasi-random points above), each result kept if its gradient is below
1e-9 * max(1, |f|) and it lies in the box. A point whose basin of attraction falls between the
grid's nodes can be missed.

Exit codes: 0 success (also when no point is found), 2 usage error (a bad or missing range),
3 parse error.";

const CRITICAL_EXAMPLES: &str = "\
Examples:
  nabla critical '3*x^4 - 4*x^3 - 12*x^2' --range x=-2:3
      the guide's section 2: x = -1 minimum (f = -5), x = 0 maximum (f = 0),
      x = 2 minimum, global (f = -32)
  nabla critical '(x^2 + y - 11)^2 + (x + y^2 - 7)^2' --range x=-5:5,y=-5:5 --json
      Himmelblau's function: 9 points, 4 minima (f = 0), 1 maximum, 4 saddles
  nabla critical 'x^2*y + x*y^2' --range x=-1:1,y=-1:1
      the guide's exercise 4: the origin, degenerate";

const PLOT_ABOUT: &str = "\
A plot of a formula over a box, written with plotters.

One variable: the curve (500 samples, broken where f is not finite) with the critical points
(as nabla critical finds them) marked and labelled with their kind and coordinates, like the
guide's section 2 figure.

Two variables: filled contours, a 100 x 100 grid coloured in 12 levels at the quantiles of
its values (viridis, dark = low; grey where f is not finite), the critical points marked by kind
(minimum red, maximum magenta, saddle orange, degenerate cyan) and labelled; with --from, the
optimizer's path from that point in white, up to its first iterate outside the box.

SVG, or PNG when the file name ends in .png. Exit codes: 0 written, 2 usage error (bad range,
not one or two variables, a file that cannot be written), 3 parse error, 4 the formula is NaN or
infinite at --from.";

const PLOT_EXAMPLES: &str = "\
Examples:
  nabla plot '3*x^4 - 4*x^3 - 12*x^2' --range x=-2:3 --out quartic.svg
      the guide's section 2 figure: minima at -1 and 2 (global), maximum at 0
  nabla plot '(x^2 + y - 11)^2 + (x + y^2 - 7)^2' --range x=-5:5,y=-5:5 --out himmelblau.png
      Himmelblau's function: 4 minima, 1 maximum, 4 saddles on filled contours
  nabla plot '(1 - x)^2 + 100*(y - x^2)^2' --range x=-2:2,y=-1:3 --from x=-1.2,y=1 --out rosenbrock.svg
      Rosenbrock's valley and the trust-region Newton-CG path from (-1.2, 1) to (1, 1)";

const TOUR_ABOUT: &str = "\
The guide (Multivariable Calculus: Gradients, Backpropagation, and Matrix Derivatives), section
by section: every value it shows computed with nabla (the graph, the optimizers and the formula
language), printed next to the guide's value with a pass mark (ok or FAIL); where the guide
states a fact instead of a number (the quadratic model, the matrix identities, the exercises),
the fact is checked. Writes the section 2 figure, guide_section2.svg, to --out-dir.

Exit codes: 0 every value agrees, 1 some value disagrees (the report says which), 2 the figure
cannot be written.";

const TOUR_EXAMPLES: &str = "\
Examples:
  nabla tour
      sections 1-6 and the exercises, 31 values, and ./guide_section2.svg
  nabla tour --out-dir /tmp
      the figure in /tmp
  cargo run --release -- tour
      from the workspace root of a clone";

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
    /// A minimum from a starting point (trust-region Newton-CG by default), and why it stopped.
    #[command(after_help = MINIMIZE_EXAMPLES, long_about = MINIMIZE_ABOUT)]
    Minimize(MinimizeArgs),
    /// Every critical point in a box, classified (minimum, maximum, saddle, degenerate).
    #[command(after_help = CRITICAL_EXAMPLES, long_about = CRITICAL_ABOUT)]
    Critical(CriticalArgs),
    /// A plot: the curve of one variable or filled contours of two, the critical points marked.
    #[command(after_help = PLOT_EXAMPLES, long_about = PLOT_ABOUT)]
    Plot(PlotArgs),
    /// The guide, section by section: every value it shows, computed, with a pass mark.
    #[command(after_help = TOUR_EXAMPLES, long_about = TOUR_ABOUT)]
    Tour(TourArgs),
}

/// `nabla tour`'s arguments.
#[derive(Debug, Args)]
pub struct TourArgs {
    /// Where to write the section 2 figure (guide_section2.svg).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out_dir: std::path::PathBuf,
}

/// `nabla plot`'s arguments.
#[derive(Debug, Args)]
pub struct PlotArgs {
    /// The formula, of one or two variables (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    pub formula: String,
    /// The box: a range LO:HI for every variable, e.g. x=-2:3 or x=-5:5,y=-5:5.
    #[arg(
        long,
        required = true,
        value_name = "NAME=LO:HI,...",
        value_delimiter = ',',
        value_parser = parse_range,
        allow_hyphen_values = true
    )]
    pub range: Vec<Range>,
    /// The file to write: PNG if its name ends in .png, else SVG.
    #[arg(long, value_name = "FILE")]
    pub out: std::path::PathBuf,
    /// Also minimize from this point and draw the path (every iterate inside the box).
    #[arg(
        long,
        value_name = "NAME=VALUE,...",
        value_delimiter = ',',
        value_parser = parse_assignment,
        allow_hyphen_values = true
    )]
    pub from: Vec<(String, f64)>,
    /// The method for --from's path.
    #[arg(long, value_enum, default_value_t = Method::TrustRegion)]
    pub method: Method,
}

/// `nabla minimize`'s arguments.
#[derive(Debug, Args)]
pub struct MinimizeArgs {
    /// The formula, e.g. '(1 - x)^2 + 100*(y - x^2)^2' (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    pub formula: String,
    /// The starting point: a value for every variable, each once, e.g. x=-1.2,y=1.
    #[arg(
        long,
        required = true,
        value_name = "NAME=VALUE,...",
        value_delimiter = ',',
        value_parser = parse_assignment,
        allow_hyphen_values = true
    )]
    pub from: Vec<(String, f64)>,
    /// The method.
    #[arg(long, value_enum, default_value_t = Method::TrustRegion)]
    pub method: Method,
    /// Converged when |grad f|inf <= GTOL * max(1, |f|) (relative to f; absolute when |f| <= 1).
    #[arg(
        long,
        default_value = "1e-8",
        value_name = "GTOL",
        value_parser = parse_tolerance,
        allow_hyphen_values = true
    )]
    pub gtol: f64,
    /// The iteration budget.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_iter: usize,
    /// One progress line per iteration on stderr (iteration, f, |grad f|inf, step, evaluations).
    #[arg(long)]
    pub verbose: bool,
    /// Print one JSON object on stdout instead of the human-readable report.
    #[arg(long)]
    pub json: bool,
}

/// The minimization methods of `nabla minimize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// Trust-region Newton-CG (Steihaug): Hessian-vector products only; the default.
    TrustRegion,
    /// Trust region with the exact subproblem on the dense Hessian (small n).
    TrustExact,
    /// Newton with a modified Cholesky (the dense Hessian plus a multiple of I when it is not
    /// positive definite), line search.
    Newton,
    /// Line-search Newton-CG (truncated Newton on Hessian-vector products).
    NewtonCg,
    /// BFGS (dense inverse-Hessian update), strong-Wolfe line search.
    Bfgs,
    /// L-BFGS (the last 10 pairs), strong-Wolfe line search.
    Lbfgs,
    /// Gradient descent with a strong-Wolfe line search (slow on curved valleys: a baseline).
    Gd,
}

impl Method {
    /// The name `--method` takes.
    pub fn name(self) -> &'static str {
        match self {
            Method::TrustRegion => "trust-region",
            Method::TrustExact => "trust-exact",
            Method::Newton => "newton",
            Method::NewtonCg => "newton-cg",
            Method::Bfgs => "bfgs",
            Method::Lbfgs => "lbfgs",
            Method::Gd => "gd",
        }
    }

    /// Every method, in `--help`'s order.
    pub const ALL: [Method; 7] = [
        Method::TrustRegion,
        Method::TrustExact,
        Method::Newton,
        Method::NewtonCg,
        Method::Bfgs,
        Method::Lbfgs,
        Method::Gd,
    ];
}

/// `nabla critical`'s arguments.
#[derive(Debug, Args)]
pub struct CriticalArgs {
    /// The formula, e.g. '3*x^4 - 4*x^3 - 12*x^2' (quote it for the shell).
    #[arg(allow_hyphen_values = true)]
    pub formula: String,
    /// The box: a range LO:HI (LO < HI) for every variable, each once, e.g. x=-5:5,y=-5:5.
    #[arg(
        long,
        required = true,
        value_name = "NAME=LO:HI,...",
        value_delimiter = ',',
        value_parser = parse_range,
        allow_hyphen_values = true
    )]
    pub range: Vec<Range>,
    /// Print one JSON object on stdout instead of the human-readable table.
    #[arg(long)]
    pub json: bool,
}

/// One `NAME=LO:HI` of `--range`.
#[derive(Clone, Debug, PartialEq)]
pub struct Range {
    /// The variable.
    pub name: String,
    /// The lower end.
    pub lo: f64,
    /// The upper end (`> lo`).
    pub hi: f64,
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
    #[arg(
        long,
        default_value = "1e-8",
        value_name = "TOL",
        value_parser = parse_tolerance,
        allow_hyphen_values = true
    )]
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

/// One `NAME=LO:HI` of `--range`: finite ends, `LO < HI`, a finite width.
fn parse_range(s: &str) -> Result<Range, String> {
    let (name, range) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=LO:HI, found {s:?}"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("expected a variable name before '=' in {s:?}"));
    }
    let (lo, hi) = range
        .split_once(':')
        .ok_or_else(|| format!("expected LO:HI after '{name}=', found {range:?}"))?;
    let end = |text: &str, which: &str| -> Result<f64, String> {
        match text.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            Ok(_) => Err(format!(
                "expected a finite {which} end for {name}, found {text:?}"
            )),
            Err(_) => Err(format!(
                "expected a number as the {which} end for {name}, found {text:?}"
            )),
        }
    };
    let (lo, hi) = (end(lo, "lower")?, end(hi, "upper")?);
    if lo >= hi {
        return Err(format!(
            "the range of {name} is empty: {lo} is not below {hi} (expected LO < HI)"
        ));
    }
    if !(hi - lo).is_finite() {
        return Err(format!(
            "the range of {name} is too wide for a 64-bit float"
        ));
    }
    Ok(Range {
        name: name.to_string(),
        lo,
        hi,
    })
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
