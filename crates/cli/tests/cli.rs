//! The built `nabla` binary, run as a user runs it: the guide's examples, every exit code, and
//! JSON output parsed back.

use serde_json::Value;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn nabla(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_nabla"))
        .args(args)
        .output()
        .expect("run nabla");
    Run {
        code: out.status.code().expect("exited, not killed by a signal"),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

/// Runs with `--json`, expects success and one JSON object on one line.
fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let r = nabla(&a);
    assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// Expects failure with `code`, nothing on stdout and `lines` lines on stderr, the first
/// starting with `error: `; returns stderr.
#[track_caller]
fn fails(args: &[&str], code: i32, lines: usize) -> String {
    let r = nabla(args);
    assert_eq!(r.code, code, "{args:?}: {}{}", r.stdout, r.stderr);
    assert!(r.stdout.is_empty(), "{args:?} printed {}", r.stdout);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), lines, "{}", r.stderr);
    r.stderr
}

#[test]
fn grad_of_the_guides_softmax_example() {
    let v = json(&[
        "grad",
        "log(exp(x) + exp(y))",
        "--at",
        "x=0,y=0.6931471805599453",
    ]);
    assert_eq!(v["variables"], serde_json::json!(["x", "y"]));
    assert_eq!(floats(&v["at"]), [0.0, std::f64::consts::LN_2]);
    assert!((v["value"].as_f64().unwrap() - 3f64.ln()).abs() < 1e-15);
    let g = floats(&v["gradient"]);
    assert!((g[0] - 1.0 / 3.0).abs() < 1e-15 && (g[1] - 2.0 / 3.0).abs() < 1e-15);
    // The keys in the documented order.
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["variables", "at", "value", "gradient"]);
}

#[test]
fn grad_of_the_chain_rule_example() {
    let (a, b) = ("(w + x + y + z)^2", "(w + x - y - z)^2");
    let f = format!("(({a} + {b})^2 + ({a} - {b})^2)^2");
    let v = json(&["grad", &f, "--at", "w=-1,x=0,y=-2,z=1"]);
    assert_eq!(v["value"].as_f64(), Some(1024.0));
    assert_eq!(floats(&v["gradient"]), [-4096.0; 4]);
}

#[test]
fn grad_human_output() {
    let r = nabla(&["grad", "x^2*y + x*y^2", "--at", "y=2,x=1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        r.stdout,
        "at x = 1, y = 2\nf(x, y) = 6\ndf/dx   = 8\ndf/dy   = 5\n"
    );
    // A formula may start with a minus; -x^2 is -(x^2).
    let r = nabla(&["grad", "-x^2", "--at", "x=-3"]);
    assert_eq!(r.stdout, "at x = -3\nf(x)  = -9\ndf/dx = 6\n");
}

#[test]
fn hessian_classifies_the_guides_points() {
    // Exercise 4: x^2 y + x y^2 at the origin: the second-order test says nothing.
    let v = json(&["hessian", "x^2*y + x*y^2", "--at", "x=0,y=0"]);
    assert_eq!(v["hessian"], serde_json::json!([[0.0, 0.0], [0.0, 0.0]]));
    assert_eq!(v["classification"], "degenerate");
    let v = json(&["hessian", "x^2*y + x*y^2", "--at", "x=1,y=2"]);
    assert_eq!(v["hessian"], serde_json::json!([[4.0, 6.0], [6.0, 2.0]]));
    let w = floats(&v["eigenvalues"]);
    let r = 37f64.sqrt();
    assert!(
        (w[0] - (3.0 - r)).abs() < 1e-14 && (w[1] - (3.0 + r)).abs() < 1e-14,
        "{w:?}"
    );
    assert_eq!(v["classification"], "not-critical");
    // Section 2: 3x^4 - 4x^3 - 12x^2 has critical points -1 (minimum), 0 (maximum), 2.
    let f = "3*x^4 - 4*x^3 - 12*x^2";
    for (x, class, h) in [
        ("-1", "minimum", 36.0),
        ("0", "maximum", -24.0),
        ("2", "minimum", 72.0),
    ] {
        let v = json(&["hessian", f, "--at", &format!("x={x}")]);
        assert_eq!(v["classification"], class, "x = {x}");
        assert_eq!(floats(&v["eigenvalues"]), [h]);
        assert_eq!(floats(&v["gradient"]), [0.0]);
    }
    let v = json(&["hessian", "x^2 - y^2", "--at", "x=0,y=0"]);
    assert_eq!(
        (floats(&v["eigenvalues"]), &v["classification"]),
        (vec![-2.0, 2.0], &serde_json::json!("saddle"))
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "variables",
            "at",
            "value",
            "gradient",
            "hessian",
            "eigenvalues",
            "classification"
        ]
    );
}

#[test]
fn hessian_gtol() {
    let args = ["hessian", "(x - 1)^2", "--at", "x=1.000001"];
    assert_eq!(json(&args)["classification"], "not-critical");
    let mut loose = args.to_vec();
    loose.extend(["--gtol", "1e-5"]);
    assert_eq!(json(&loose)["classification"], "minimum");
}

#[test]
fn stable_forms_from_the_command_line() {
    let v = json(&["grad", "logsumexp(1000*x, 1000*y)", "--at", "x=1,y=1"]);
    // 1000 + ln 2, correctly rounded (the naive form overflows to inf).
    assert_eq!(v["value"].as_f64(), Some(1000.0 + std::f64::consts::LN_2));
    assert_eq!(floats(&v["gradient"]), [500.0, 500.0]);
    let v = json(&["grad", "softplus(x)", "--at", "x=-50"]);
    let e50 = (-50f64).exp();
    assert!((v["value"].as_f64().unwrap() - e50).abs() <= 2.0 * f64::EPSILON * e50);
}

#[test]
fn exit_code_0_help_and_version() {
    let r = nabla(&["--version"]);
    assert_eq!(
        (r.code, r.stdout.trim()),
        (0, concat!("nabla ", env!("CARGO_PKG_VERSION")))
    );
    let r = nabla(&["--help"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains("Examples:") && r.stdout.contains("Exit codes"),
        "{}",
        r.stdout
    );
    for cmd in ["grad", "hessian"] {
        let r = nabla(&["help", cmd]);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("Examples:\n  nabla "), "{}", r.stdout);
        assert!(r.stdout.contains("--at"), "{}", r.stdout);
    }
    for (cmd, flag) in [
        ("minimize", "--from"),
        ("critical", "--range"),
        ("plot", "--out"),
        ("tour", "--out-dir"),
    ] {
        let r = nabla(&["help", cmd]);
        assert_eq!(r.code, 0);
        assert!(
            r.stdout.contains(&format!("Examples:\n  nabla {cmd}")),
            "{}",
            r.stdout
        );
        assert!(
            r.stdout.contains(flag) && r.stdout.contains("Exit codes"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn exit_code_2_usage() {
    let e = fails(&["grad", "x + y", "--at", "x=1"], 2, 1);
    assert_eq!(e, "error: --at gives no value for the variable y\n");
    let e = fails(&["grad", "x", "--at", "x=1,z=2", "--json"], 2, 1);
    assert!(
        e.contains("z, which is not a variable of the formula (it has x)"),
        "{e}"
    );
    let e = fails(&["hessian", "x", "--at", "x=1,x=2"], 2, 1);
    assert!(e.contains("x more than once"), "{e}");
    let e = fails(&["grad", "x", "--at", "x=abc"], 2, 1);
    assert!(e.contains("expected a number after 'x='"), "{e}");
    let e = fails(&["grad", "x", "--at", "x=nan", "--json"], 2, 1);
    assert!(e.contains("finite"), "{e}");
    let e = fails(&["grad"], 2, 1);
    assert!(e.contains("<FORMULA>"), "{e}");
    let e = fails(&["frobnicate"], 2, 1);
    assert!(e.contains("frobnicate"), "{e}");
    // No subcommand at all: the help, on stderr.
    let r = nabla(&[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.is_empty() && r.stderr.contains("Usage: nabla"),
        "{}",
        r.stderr
    );
}

#[test]
fn exit_code_3_parse_errors_point_at_the_column() {
    let e = fails(&["grad", "2 * (x + 1", "--at", "x=0", "--json"], 3, 3);
    assert_eq!(
        e,
        "error: expected an operator or `)` at column 11, found the end of the formula\n  2 * (x + 1\n            ^\n"
    );
    let e = fails(&["grad", "x + foo(y)", "--at", "x=0,y=1"], 3, 3);
    assert!(
        e.starts_with("error: expected a known function at column 5, found `foo`"),
        "{e}"
    );
    assert!(e.ends_with("  x + foo(y)\n      ^\n"), "{e}");
    let e = fails(&["hessian", "exp(x, y)"], 3, 3);
    assert!(
        e.starts_with("error: expected 1 argument to exp at column 1, found 2"),
        "{e}"
    );
    let e = fails(&["grad", "x ? y"], 3, 3);
    assert!(e.contains("column 3, found `?`"), "{e}");
    // A parse error comes before any complaint about --at.
    fails(&["grad", "(x", "--at", "nope=1"], 3, 3);
}

#[test]
fn exit_code_4_numeric_failures_name_the_operation() {
    let e = fails(&["grad", "log(x)", "--at", "x=-1", "--json"], 4, 1);
    assert_eq!(e, "error: log at column 1 gave NaN (argument -1)\n");
    let e = fails(&["grad", "1 + sqrt(x)", "--at", "x=-1"], 4, 1);
    assert_eq!(e, "error: sqrt at column 5 gave NaN (argument -1)\n");
    let e = fails(&["grad", "1/x", "--at", "x=0"], 4, 1);
    assert_eq!(e, "error: division at column 2 gave inf (arguments 1, 0)\n");
    let e = fails(&["grad", "sqrt(x)", "--at", "x=0"], 4, 1);
    assert_eq!(
        e,
        "error: sqrt at column 1 gave inf in its gradient (argument 0)\n"
    );
    let e = fails(&["hessian", "x^1.5", "--at", "x=0", "--json"], 4, 1);
    assert_eq!(
        e,
        "error: power at column 2 gave inf in its Hessian (arguments 0, 1.5)\n"
    );
    // The gradient alone is fine there.
    assert_eq!(
        floats(&json(&["grad", "x^1.5", "--at", "x=0"])["gradient"]),
        [0.0]
    );
}

const ROSENBROCK: &str = "(1 - x)^2 + 100*(y - x^2)^2";

/// Runs `args` (with `--json`), expects `code` and one JSON object on stdout.
fn json_with_code(args: &[&str], code: i32) -> (Value, String) {
    let mut a = args.to_vec();
    a.push("--json");
    let r = nabla(&a);
    assert_eq!(r.code, code, "{args:?}: {}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout));
    (v, r.stderr)
}

#[test]
fn minimize_rosenbrock_converges_with_every_method_but_gd() {
    for method in [
        "trust-region",
        "trust-exact",
        "newton",
        "newton-cg",
        "bfgs",
        "lbfgs",
    ] {
        let v = json(&[
            "minimize",
            ROSENBROCK,
            "--from",
            "x=-1.2,y=1",
            "--method",
            method,
        ]);
        assert_eq!(v["status"], "converged", "{method}: {v}");
        assert_eq!(v["method"], method);
        let x = floats(&v["x"]);
        assert!(
            (x[0] - 1.0).abs() < 1e-6 && (x[1] - 1.0).abs() < 1e-6,
            "{method}: {x:?}"
        );
        let (f, g) = (
            v["value"].as_f64().unwrap(),
            v["gradient_norm"].as_f64().unwrap(),
        );
        assert!(f < 1e-12 && g <= 1e-8, "{method}: f = {f}, |g| = {g}");
        let iterations = v["iterations"].as_u64().unwrap();
        assert!((1..1000).contains(&iterations), "{method}: {iterations}");
        let e = &v["evaluations"];
        assert!(e["grad"].as_u64().unwrap() > iterations, "{method}: {e}");
        // Second-order methods use what they say they use.
        let (hvp, hessian) = (e["hvp"].as_u64().unwrap(), e["hessian"].as_u64().unwrap());
        match method {
            "trust-region" | "newton-cg" => assert!(hvp > 0 && hessian == 0, "{method}: {e}"),
            "trust-exact" | "newton" => assert!(hessian > 0, "{method}: {e}"),
            _ => assert!(hvp == 0 && hessian == 0, "{method}: {e}"),
        }
    }
    // The default method is trust-region Newton-CG.
    let v = json(&["minimize", ROSENBROCK, "--from", "x=-1.2,y=1"]);
    assert_eq!(v["method"], "trust-region");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "variables",
            "method",
            "x",
            "value",
            "gradient_norm",
            "iterations",
            "evaluations",
            "status",
            "message"
        ]
    );
    let keys: Vec<&String> = v["evaluations"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["f", "grad", "hvp", "hessian"]);
}

#[test]
fn minimize_gd_runs_out_of_iterations_and_says_so() {
    let (v, stderr) = json_with_code(
        &[
            "minimize",
            ROSENBROCK,
            "--from",
            "x=-1.2,y=1",
            "--method",
            "gd",
        ],
        5,
    );
    assert!(stderr.is_empty(), "{stderr}");
    assert_eq!(v["status"], "max-iterations");
    assert_eq!(v["message"], "stopped: iteration budget exhausted");
    assert_eq!(v["iterations"].as_u64(), Some(1000));
    // Progress along the valley, but not at (1, 1), and the gradient test not passed.
    let x = floats(&v["x"]);
    assert!((x[0] - 1.0).abs() > 1e-4 && x[0] > 0.5, "{x:?}");
    assert!(v["gradient_norm"].as_f64().unwrap() > 1e-8);
    // The human report says the same, with the same exit code.
    let r = nabla(&[
        "minimize",
        ROSENBROCK,
        "--from",
        "x=-1.2,y=1",
        "--method",
        "gd",
    ]);
    assert_eq!(r.code, 5);
    assert!(
        r.stdout
            .contains("status: max-iterations (stopped: iteration budget exhausted)\n")
            && r.stdout.contains("iterations: 1000\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn minimize_budget_tolerance_and_progress_lines() {
    let args = ["minimize", ROSENBROCK, "--from", "x=-1.2,y=1"];
    let mut short = args.to_vec();
    short.extend(["--max-iter", "3"]);
    let (v, _) = json_with_code(&short, 5);
    assert_eq!(
        (v["status"].as_str(), v["iterations"].as_u64()),
        (Some("max-iterations"), Some(3))
    );
    // A loose --gtol stops sooner, with the gradient within it.
    let mut loose = args.to_vec();
    loose.extend(["--gtol", "1e-2"]);
    let (tight, rough) = (json(&args), json(&loose));
    assert_eq!(rough["status"], "converged");
    assert!(rough["iterations"].as_u64() < tight["iterations"].as_u64());
    let f = rough["value"].as_f64().unwrap();
    assert!(rough["gradient_norm"].as_f64().unwrap() <= 1e-2 * f.abs().max(1.0));
    // --verbose: a line per iteration and one for the start, on stderr; stdout unchanged.
    let mut verbose = args.to_vec();
    verbose.extend(["--verbose", "--json"]);
    let r = nabla(&verbose);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len() as u64, v["iterations"].as_u64().unwrap() + 1);
    assert!(
        lines[0].trim_start().starts_with("0 ") && lines[0].contains("f = "),
        "{}",
        lines[0]
    );
    // The human report.
    let r = nabla(&args);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("minimizing by trust-region from x = -1.2, y = 1\nstatus: converged (")
            && r.stdout.contains("\nf(x, y)     = "),
        "{}",
        r.stdout
    );
}

#[test]
fn minimize_non_finite_runs_and_starts() {
    // Newton runs log(x) down towards 0 until its Hessian (-1/x^2) overflows: the status says
    // so and names the operation; the report keeps the best finite point.
    let (v, _) = json_with_code(
        &[
            "minimize", "log(x)", "--from", "x=0.5", "--method", "newton",
        ],
        5,
    );
    assert_eq!(v["status"], "non-finite");
    let m = v["message"].as_str().unwrap();
    assert!(
        m.starts_with(
            "stopped: the Hessian became NaN or infinite (log at column 1 gave -inf in its Hessian"
        ),
        "{m}"
    );
    assert!(floats(&v["x"])[0] > 0.0 && v["value"].as_f64().unwrap().is_finite());
    // NaN at the start: nothing to minimize from (exit code 4, nothing on stdout).
    let e = fails(&["minimize", "log(x)", "--from", "x=-1", "--json"], 4, 1);
    assert_eq!(e, "error: log at column 1 gave NaN (argument -1)\n");
}

#[test]
fn minimize_usage_errors() {
    let e = fails(&["minimize", ROSENBROCK, "--from", "x=1"], 2, 1);
    assert_eq!(e, "error: --from gives no value for the variable y\n");
    let e = fails(&["minimize", ROSENBROCK, "--json"], 2, 1);
    assert!(e.contains("--from"), "{e}");
    let e = fails(
        &["minimize", "x^2", "--from", "x=1", "--method", "adam"],
        2,
        1,
    );
    assert!(
        e.contains("possible values: trust-region, trust-exact, newton"),
        "{e}"
    );
    let e = fails(&["minimize", "x^2", "--from", "x=1", "--gtol", "-1"], 2, 1);
    assert!(e.contains(">= 0"), "{e}");
    let e = fails(
        &["minimize", "x^2", "--from", "x=1", "--max-iter", "many"],
        2,
        1,
    );
    assert!(e.contains("many"), "{e}");
    fails(&["minimize", "x^", "--from", "x=1"], 3, 3);
}

#[test]
fn critical_points_of_the_guides_quartic() {
    let v = json(&["critical", "3*x^4 - 4*x^3 - 12*x^2", "--range", "x=-2:3"]);
    assert_eq!(v["variables"], serde_json::json!(["x"]));
    let points = v["points"].as_array().unwrap();
    let want = [
        (-1.0, -5.0, "minimum", false),
        (0.0, 0.0, "maximum", false),
        (2.0, -32.0, "minimum", true),
    ];
    assert_eq!(points.len(), 3, "{v}");
    for (p, (x, f, class, global)) in points.iter().zip(want) {
        assert!((floats(&p["x"])[0] - x).abs() < 1e-12, "{p}");
        assert!((p["value"].as_f64().unwrap() - f).abs() < 1e-12, "{p}");
        assert_eq!(
            (p["classification"].as_str(), p["global_min"].as_bool()),
            (Some(class), Some(global))
        );
    }
    let keys: Vec<&String> = points[0].as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["x", "value", "classification", "global_min", "eigenvalues"]
    );
    let r = nabla(&["critical", "3*x^4 - 4*x^3 - 12*x^2", "--range", "x=-2:3"]);
    assert_eq!(
        r.stdout,
        "3 critical points with x in [-2, 3]\n  x   f(x)  classification\n  -1  -5    minimum\n  0   0     maximum\n  2   -32   minimum (global)\n"
    );
}

#[test]
fn critical_points_of_himmelblau_and_a_degenerate_one() {
    let v = json(&[
        "critical",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "--range",
        "x=-5:5,y=-5:5",
    ]);
    let points = v["points"].as_array().unwrap();
    let count = |c: &str| points.iter().filter(|p| p["classification"] == c).count();
    assert_eq!(points.len(), 9, "{v}");
    assert_eq!(
        (count("minimum"), count("maximum"), count("saddle")),
        (4, 1, 4)
    );
    let globals: Vec<&Value> = points.iter().filter(|p| p["global_min"] == true).collect();
    assert_eq!(globals.len(), 4);
    assert!(globals.iter().all(|p| p["value"].as_f64().unwrap() < 1e-20));
    assert!(points.iter().any(|p| floats(&p["x"]) == [3.0, 2.0]));
    // Sorted by coordinates.
    let xs: Vec<Vec<f64>> = points.iter().map(|p| floats(&p["x"])).collect();
    assert!(xs.windows(2).all(|w| w[0] < w[1]), "{xs:?}");
    // The guide's exercise 4: the origin, once, degenerate.
    let v = json(&["critical", "x^2*y + x*y^2", "--range", "y=-1:1,x=-1:1"]);
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{v}");
    assert_eq!(points[0]["classification"], "degenerate");
    assert!(
        floats(&points[0]["x"]).iter().all(|c| c.abs() < 1e-20),
        "{v}"
    );
    // No critical point: an empty list.
    let v = json(&["critical", "x + y", "--range", "x=0:1,y=0:1"]);
    assert_eq!(v["points"], serde_json::json!([]));
}

#[test]
fn critical_bad_ranges_are_usage_errors() {
    let f = "x^2 + y^2";
    let e = fails(&["critical", f, "--range", "x=3:-2,y=0:1"], 2, 1);
    assert!(
        e.contains("the range of x is empty: 3 is not below -2"),
        "{e}"
    );
    let e = fails(&["critical", f, "--range", "x=1:1,y=0:1", "--json"], 2, 1);
    assert!(e.contains("empty"), "{e}");
    let e = fails(&["critical", f, "--range", "x=-1:1"], 2, 1);
    assert_eq!(e, "error: --range gives no range for the variable y\n");
    let e = fails(&["critical", f, "--range", "x=-1:1,y=-1:1,z=0:1"], 2, 1);
    assert!(
        e.contains("z, which is not a variable of the formula (it has x, y)"),
        "{e}"
    );
    let e = fails(&["critical", f, "--range", "x=-1:1,x=0:1,y=0:1"], 2, 1);
    assert!(e.contains("x more than once"), "{e}");
    let e = fails(&["critical", f, "--range", "x=-1,y=0:1"], 2, 1);
    assert!(e.contains("expected LO:HI after 'x='"), "{e}");
    let e = fails(&["critical", f, "--range", "x=a:1,y=0:1"], 2, 1);
    assert!(
        e.contains("expected a number as the lower end for x"),
        "{e}"
    );
    let e = fails(&["critical", f, "--range", "x=0:inf,y=0:1"], 2, 1);
    assert!(e.contains("finite upper end"), "{e}");
    let e = fails(&["critical", f, "--range", "x=-1e308:1e308,y=0:1"], 2, 1);
    assert!(e.contains("too wide"), "{e}");
    let e = fails(&["critical", f], 2, 1);
    assert!(e.contains("--range"), "{e}");
    fails(&["critical", "x^", "--range", "x=0:1"], 3, 3);
}

/// A fresh directory for one test's files.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nabla-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The lines of an SVG that are exactly `text` (plotters writes each text element's content
/// on its own line).
fn svg_texts(svg: &str, text: &str) -> usize {
    svg.lines().filter(|l| l.trim() == text).count()
}

#[test]
fn plot_one_variable_marks_and_labels_the_critical_points() {
    let dir = scratch("plot1");
    let out = dir.join("quartic.svg");
    let r = nabla(&[
        "plot",
        "3*x^4 - 4*x^3 - 12*x^2",
        "--range",
        "x=-2:3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(": 3 critical points marked\n"),
        "{}",
        r.stdout
    );
    let svg = std::fs::read_to_string(&out).unwrap();
    assert!(svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("<circle").count(), 3);
    for label in [
        "minimum (-1, -5)",
        "maximum (0, 0)",
        "global minimum (2, -32)",
    ] {
        assert_eq!(svg_texts(&svg, label), 1, "{label}");
    }
    assert_eq!(svg_texts(&svg, "f(x) = 3*x^4 - 4*x^3 - 12*x^2"), 1);
    // A curve broken where it is not finite (log(x) for x <= 0) still draws.
    let out = dir.join("log.svg");
    let r = nabla(&[
        "plot",
        "log(x)",
        "--range",
        "x=-1:2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(": 0 critical points marked\n"),
        "{}",
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_two_variables_contours_critical_points_and_the_path() {
    let dir = scratch("plot2");
    let out = dir.join("himmelblau.svg");
    let r = nabla(&[
        "plot",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "--range",
        "x=-5:5,y=-5:5",
        "--from",
        "x=0,y=0",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let svg = std::fs::read_to_string(&out).unwrap();
    assert_eq!(svg.matches("<circle").count(), 9);
    assert_eq!(svg_texts(&svg, "global minimum"), 4);
    assert_eq!(svg_texts(&svg, "maximum"), 1);
    assert_eq!(svg_texts(&svg, "saddle"), 4);
    assert_eq!(svg_texts(&svg, "start"), 1);
    // The filled cells: many rectangles in more than one colour.
    assert!(svg.matches("<rect").count() > 100);
    // The path: the one white polyline of width 2, a point per iterate (the start included).
    let v = json(&[
        "minimize",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "--from",
        "x=0,y=0",
    ]);
    let iterates = v["iterations"].as_u64().unwrap() as usize + 1;
    let paths: Vec<&str> = svg
        .lines()
        .filter(|l| {
            l.starts_with("<polyline") && l.contains("stroke=\"#FFFFFF\" stroke-width=\"2\"")
        })
        .collect();
    assert_eq!(paths.len(), 1, "{paths:?}");
    let points = paths[0]
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert_eq!(points.split_whitespace().count(), iterates, "{points}");
    assert!(
        r.stdout
            .contains(&format!("{iterates} of its {iterates} points drawn")),
        "{}",
        r.stdout
    );
    // The same as PNG.
    let png = dir.join("himmelblau.PNG");
    let r = nabla(&[
        "plot",
        "(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "--range",
        "x=-5:5,y=-5:5",
        "--out",
        png.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plot_errors() {
    let dir = scratch("plot-errors");
    let out = dir.join("f.svg");
    let out = out.to_str().unwrap();
    let e = fails(
        &[
            "plot",
            "x + y + z",
            "--range",
            "x=0:1,y=0:1,z=0:1",
            "--out",
            out,
        ],
        2,
        1,
    );
    assert!(
        e.contains("one or two variables; this one has 3 (x, y, z)"),
        "{e}"
    );
    let e = fails(&["plot", "2", "--range", "x=0:1", "--out", out], 2, 1);
    assert!(e.contains("this one has 0"), "{e}");
    let e = fails(&["plot", "x", "--range", "x=1:0", "--out", out], 2, 1);
    assert!(e.contains("empty"), "{e}");
    let e = fails(&["plot", "x^2", "--range", "x=0:1"], 2, 1);
    assert!(e.contains("--out"), "{e}");
    let missing = dir.join("no/such/dir/f.svg");
    let e = fails(
        &[
            "plot",
            "x^2",
            "--range",
            "x=0:1",
            "--out",
            missing.to_str().unwrap(),
        ],
        2,
        1,
    );
    assert!(e.starts_with("error: cannot write "), "{e}");
    let e = fails(
        &[
            "plot", "log(x)", "--range", "x=0:1", "--from", "x=-1", "--out", out,
        ],
        4,
        1,
    );
    assert!(e.contains("log at column 1 gave NaN"), "{e}");
    fails(&["plot", "x^", "--range", "x=0:1", "--out", out], 3, 3);
    assert!(!std::path::Path::new(out).exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_tour_agrees_with_the_guide_and_draws_section_2() {
    let dir = scratch("tour");
    let r = nabla(&["tour", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(!r.stdout.contains("FAIL"), "{}", r.stdout);
    assert!(
        r.stdout
            .ends_with("\n31 of 31 values agree with the guide\n"),
        "{}",
        r.stdout
    );
    let titles: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.is_empty())
        .collect();
    assert_eq!(titles.len(), 8, "{titles:?}");
    for shown in [
        "1.081945622001443   (guide: 1.0819456)",
        "-32, 0   (guide: -32, 0)",
        "f(2) = -32   (guide: f(2) = -32)",
        "(-4096, -4096, -4096, -4096)   (guide: -4096 each (PyTorch, TensorFlow))",
        "1024   (guide: 1024)",
    ] {
        assert!(r.stdout.contains(shown), "{shown}: {}", r.stdout);
    }
    let svg = std::fs::read_to_string(dir.join("guide_section2.svg")).unwrap();
    assert_eq!(svg.matches("<circle").count(), 3);
    assert_eq!(svg_texts(&svg, "global minimum (2, -32)"), 1);
    // A directory that does not exist: a usage error, one line.
    let e = fails(
        &["tour", "--out-dir", dir.join("missing").to_str().unwrap()],
        2,
        1,
    );
    assert!(e.starts_with("error: cannot write "), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
