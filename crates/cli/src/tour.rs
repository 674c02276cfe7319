//! `nabla tour`: the guide ("Multivariable Calculus: Gradients, Backpropagation, and Matrix
//! Derivatives") section by section, every value it shows computed with nabla and printed next
//! to the guide's, with a pass mark.
//!
//! The guide's values are written here (the tour reads no file): section 1's first-order
//! approximation 1.0819456 and true value 1.0821242 (its Python output to 7 decimals), section
//! 2's critical points -1, 0, 2 with values -5, 0, -32 and the global minimum f(2) = -32,
//! sections 3-4's f = 1024 and df/dw = df/dx = df/dy = df/dz = -4096 at (-1, 0, -2, 1). Where the
//! guide states a fact rather than a number (section 5's quadratic model, section 6's identities,
//! the exercises), the check is the fact: the Hessian equals the analytic one, the autodiff
//! gradient equals the closed form and central differences, and so on. The computations are
//! [`nabla_graph::guide`]'s, plus the same questions put through the formula language (as
//! `nabla grad`, `nabla hessian` and `nabla critical` would).

use crate::Formula;
use crate::cli::TourArgs;
use crate::commands::{Failure, Output};
use crate::error::number;
use crate::plot::{Plot, write};
use crate::search::{find_critical, short};
use nabla_graph::guide;
use nabla_optim::Classification;

/// The exit code of a tour with a value that disagrees with the guide.
pub const DISAGREES: u8 = 1;

/// The section 2 figure's file name (in `--out-dir`).
pub const FIGURE: &str = "guide_section2.svg";

/// One value: what nabla computed, what the guide shows, and whether they agree.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    /// What is checked.
    pub what: String,
    /// nabla's value.
    pub got: String,
    /// The guide's value (or the fact it states).
    pub want: String,
    /// Agreement.
    pub ok: bool,
}

fn check(what: &str, got: String, want: &str, ok: bool) -> Check {
    Check {
        what: what.to_string(),
        got,
        want: want.to_string(),
        ok,
    }
}

/// `got` within `tol` of `want`.
fn close(what: &str, got: f64, want: f64, tol: f64, shown: &str) -> Check {
    check(what, number(got), shown, (got - want).abs() <= tol)
}

/// `(a, b, ...)`, each to 10 significant digits.
fn list(xs: &[f64]) -> String {
    let s: Vec<String> = xs.iter().map(|&x| short(x)).collect();
    format!("({})", s.join(", "))
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

fn formula(src: &str) -> Formula {
    Formula::parse(src).expect("the tour's formulas parse")
}

/// Every section's title and checks; writes the section 2 figure to `figure`.
///
/// # Errors
/// A [`Failure::Usage`] if the figure cannot be written.
pub fn sections(figure: &std::path::Path) -> Result<Vec<(String, Vec<Check>)>, Failure> {
    let mut out = Vec::new();

    // 1. The first-order approximation.
    let s = guide::first_order();
    let lse = formula("log(exp(x) + exp(y))");
    let d = lse
        .gradient(&[0.0, 2f64.ln()])
        .expect("finite at (0, ln 2)");
    out.push((
        "1. Higher-dimensional differentiation: f(x, y) = log(e^x + e^y) at (0, ln 2), eps = (0.01, -0.03)".into(),
        vec![
            close(
                "approximation f + eps . grad f",
                s.approximation,
                1.081_945_6,
                5e-8,
                "1.0819456",
            ),
            close(
                "true value f(0.01, ln 2 - 0.03)",
                s.true_value,
                1.082_124_2,
                5e-8,
                "1.0821242",
            ),
            check(
                "gradient = softmax(0, ln 2)",
                list(&s.gradient),
                "(1/3, 2/3)",
                max_abs_diff(&s.gradient, &s.softmax) < 1e-15
                    && (s.gradient[0] - 1.0 / 3.0).abs() < 1e-15,
            ),
            check(
                "nabla grad 'log(exp(x) + exp(y))'",
                list(&d.gradient),
                "(1/3, 2/3)",
                max_abs_diff(&d.gradient, &[1.0 / 3.0, 2.0 / 3.0]) < 1e-15,
            ),
        ],
    ));

    // 2. Critical points of 3x^4 - 4x^3 - 12x^2, and the figure.
    let mut checks = Vec::new();
    for (p, (x, v)) in guide::critical_points()
        .iter()
        .zip([(-1.0, -5.0), (0.0, 0.0), (2.0, -32.0)])
    {
        checks.push(check(
            &format!("f({x}), f'({x})"),
            format!("{}, {}", number(p.value), number(p.gradient + 0.0)),
            &format!("{v}, 0"),
            p.x == x && p.value == v && p.gradient == 0.0,
        ));
    }
    let quartic = formula("3*x^4 - 4*x^3 - 12*x^2");
    let found = find_critical(&quartic, &[(-2.0, 3.0)])?;
    let described: Vec<String> = found
        .iter()
        .map(|p| {
            let global = if p.global_min { ", global" } else { "" };
            format!("{} {}{global}", short(p.x[0]), p.classification)
        })
        .collect();
    let want = [
        (-1.0, Classification::Minimum, false),
        (0.0, Classification::Maximum, false),
        (2.0, Classification::Minimum, true),
    ];
    checks.push(check(
        "nabla critical on [-2, 3]",
        described.join("; "),
        "-1 minimum; 0 maximum; 2 minimum, global",
        found.len() == 3
            && found.iter().zip(want).all(|(p, (x, c, g))| {
                (p.x[0] - x).abs() < 1e-12 && p.classification == c && p.global_min == g
            }),
    ));
    let global = found.iter().find(|p| p.global_min);
    checks.push(check(
        "global minimum",
        global.map_or("none".into(), |p| {
            format!("f({}) = {}", short(p.x[0]), short(p.value))
        }),
        "f(2) = -32",
        global.is_some_and(|p| (p.x[0] - 2.0).abs() < 1e-12 && (p.value + 32.0).abs() < 1e-12),
    ));
    let plot = Plot {
        formula: &quartic,
        bounds: vec![(-2.0, 3.0)],
        critical: found,
        path: Vec::new(),
    };
    write(&plot, figure)
        .map_err(|e| Failure::Usage(format!("cannot write {}: {e}", figure.display())))?;
    let bytes = std::fs::metadata(figure).map_or(0, |m| m.len());
    checks.push(check(
        "the figure: the curve, the critical points marked",
        format!("{} ({bytes} bytes)", figure.display()),
        "plt.plot + plt.scatter",
        bytes > 1000,
    ));
    out.push((
        "2. Geometry of gradients: f(x) = 3x^4 - 4x^3 - 12x^2 on [-2, 3]".into(),
        checks,
    ));

    // 3-4. The chain rule and backpropagation.
    let c = guide::chain_rule();
    let (a, b) = ("(w + x + y + z)^2", "(w + x - y - z)^2");
    let composed = formula(&format!("(({a} + {b})^2 + ({a} - {b})^2)^2"));
    let d = composed
        .gradient(&[-1.0, 0.0, -2.0, 1.0])
        .expect("finite at (-1, 0, -2, 1)");
    out.push((
        "3-4. Chain rule and backpropagation: f = (u + v)^2, u = (a + b)^2, v = (a - b)^2, a = (w + x + y + z)^2, b = (w + x - y - z)^2 at (w, x, y, z) = (-1, 0, -2, 1)".into(),
        vec![
            check(
                "f (forward pass)",
                number(c.forward[4]),
                "1024",
                c.forward[4] == 1024.0 && c.forward == c.manual_forward,
            ),
            check(
                "df/du, df/dv, du/da, du/db, dv/da, dv/db, da/dw, db/dw",
                list(&c.partials),
                "its manual formulas",
                c.partials == c.manual_partials,
            ),
            check(
                "df/dw (manual backward pass)",
                number(c.manual_df_dw),
                "-4096",
                c.manual_df_dw == -4096.0,
            ),
            check(
                "df/dw, df/dx, df/dy, df/dz (one reverse sweep)",
                list(&c.gradient),
                "-4096 each (PyTorch, TensorFlow)",
                c.gradient == [-4096.0; 4],
            ),
            check(
                "nabla grad on the composed formula",
                list(&d.gradient),
                "-4096 each",
                d.value == 1024.0 && d.gradient == [-4096.0; 4],
            ),
        ],
    ));

    // 5. The Hessian and the quadratic approximation.
    let q = guide::quadratic_approximation();
    let h = formula("exp(x)*y + sin(y*z) + x^2*z^3")
        .hessian(&[0.5, -1.0, 0.8])
        .expect("finite")
        .hessian
        .expect("asked for");
    let ratios: Vec<f64> = q.model_errors.windows(2).map(|w| w[0].1 / w[1].1).collect();
    let linear: Vec<f64> = q.model_errors.windows(2).map(|w| w[0].2 / w[1].2).collect();
    let scale = q.analytic.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    out.push((
        "5. Hessians: f(x, y, z) = e^x y + sin(yz) + x^2 z^3 at (0.5, -1, 0.8)".into(),
        vec![
            check(
                "Hessian (graph) vs the analytic one, max difference",
                format!("{:.1e}", max_abs_diff(&q.hessian, &q.analytic)),
                "equal (to rounding)",
                max_abs_diff(&q.hessian, &q.analytic) <= 1e-14 * scale,
            ),
            check(
                "nabla hessian vs the analytic one, max difference",
                format!("{:.1e}", max_abs_diff(&h, &q.analytic)),
                "equal (to rounding)",
                max_abs_diff(&h, &q.analytic) <= 1e-14 * scale,
            ),
            check(
                "quadratic model: error ratio per 10x smaller step",
                list(&ratios.iter().map(|r| r.round()).collect::<Vec<_>>()),
                "about 1000 (error ~ step^3)",
                ratios.iter().all(|r| (300.0..3000.0).contains(r)),
            ),
            check(
                "linear model: error ratio per 10x smaller step",
                list(&linear.iter().map(|r| r.round()).collect::<Vec<_>>()),
                "about 100 (error ~ step^2)",
                linear.iter().all(|r| (30.0..300.0).contains(r)),
            ),
        ],
    ));

    // 6. Matrix calculus.
    let checks = guide::matrix_calculus()
        .into_iter()
        .flat_map(|id| {
            [
                check(
                    &format!("{}: vs closed form", id.name),
                    format!("{:.1e}", id.vs_closed_form),
                    "equal (< 1e-13)",
                    id.vs_closed_form < 1e-13,
                ),
                check(
                    &format!("{}: vs central differences", id.name),
                    format!("{:.1e}", id.vs_differences),
                    "maximum difference small (< 1e-7)",
                    id.vs_differences < 1e-7,
                ),
            ]
        })
        .collect();
    out.push((
        "6. Matrix calculus (n, m, r = 3, 4, 2; seeded random matrices)".into(),
        checks,
    ));

    // The exercises.
    let e = guide::exercises();
    let ex4 = formula("x^2*y + x*y^2");
    let d4 = ex4.hessian(&[0.0, 0.0]).expect("finite");
    let diagonal = [
        ex4.value(&[0.1, 0.1]).expect("finite"),
        ex4.value(&[-0.1, -0.1]).expect("finite"),
    ];
    let origin = find_critical(&ex4, &[(-1.0, 1.0), (-1.0, 1.0)])?;
    out.push((
        "Exercises".into(),
        vec![
            check(
                "1. d(beta^T x)/dx - d(x^T beta)/dx",
                number(e.transpose_gap),
                "0 (the same function)",
                e.transpose_gap == 0.0,
            ),
            check(
                "2. d||v||/dv - v/||v||, max",
                format!("{:.1e}", e.norm_gradient_gap),
                "0",
                e.norm_gradient_gap < 1e-15,
            ),
            check(
                "3. sum of grad log(e^x + e^y)",
                number(e.logsumexp_gradient_sum),
                "1",
                (e.logsumexp_gradient_sum - 1.0).abs() < 1e-15,
            ),
            check(
                "4. gradient and Hessian of x^2 y + x y^2 at (0, 0)",
                format!(
                    "{}, {}",
                    list(&d4.gradient),
                    list(d4.hessian.as_deref().unwrap_or(&[]))
                ),
                "zero: the second-order test says nothing",
                d4.gradient == [0.0; 2]
                    && d4.hessian.as_deref() == Some(&[0.0; 4][..])
                    && e.origin_hessian == [0.0; 4],
            ),
            check(
                "4. f(0.1, 0.1), f(-0.1, -0.1)",
                list(&diagonal),
                "opposite signs: neither minimum nor maximum",
                diagonal[0] > 0.0 && diagonal[1] < 0.0,
            ),
            check(
                "4. nabla critical on [-1, 1]^2",
                origin
                    .iter()
                    .map(|p| format!("{} at {}", p.classification, list(&p.x)))
                    .collect::<Vec<_>>()
                    .join("; "),
                "one point, the origin, degenerate",
                origin.len() == 1
                    && origin[0].classification == Classification::Degenerate
                    && origin[0].x.iter().all(|c| c.abs() < 1e-12),
            ),
        ],
    ));
    Ok(out)
}

/// `nabla tour`.
pub fn tour(args: &TourArgs) -> Result<Output, Failure> {
    let figure = args.out_dir.join(FIGURE);
    Ok(report(&sections(&figure)?))
}

/// The sections as text, and the exit code: 0 if every check passed, else [`DISAGREES`].
pub fn report(sections: &[(String, Vec<Check>)]) -> Output {
    let mut text = String::from(
        "The guide (Multivariable Calculus: Gradients, Backpropagation, and Matrix Derivatives), computed with nabla\n",
    );
    let (mut total, mut failed) = (0, 0);
    for (title, checks) in sections {
        text.push_str(&format!("\n{title}\n"));
        let what = checks.iter().map(|c| c.what.len()).max().unwrap_or(0);
        for c in checks {
            total += 1;
            if !c.ok {
                failed += 1;
            }
            let mark = if c.ok { "ok  " } else { "FAIL" };
            text.push_str(&format!(
                "  {mark} {:<what$}  {}   (guide: {})\n",
                c.what, c.got, c.want
            ));
        }
    }
    text.push_str(&format!(
        "\n{} of {total} values agree with the guide{}\n",
        total - failed,
        if failed == 0 {
            String::new()
        } else {
            format!("; {failed} disagree")
        }
    ));
    Output {
        text,
        code: if failed == 0 { 0 } else { DISAGREES },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disagreeing_value_fails_the_tour() {
        let good = check("f(2)", "-32".into(), "-32", true);
        let bad = check("f(0)", "1".into(), "0", false);
        let ok = report(&[("2.".into(), vec![good.clone()])]);
        assert_eq!(ok.code, 0);
        assert!(
            ok.text.contains("  ok   f(2)  -32   (guide: -32)\n"),
            "{}",
            ok.text
        );
        assert!(ok.text.ends_with("\n1 of 1 values agree with the guide\n"));
        let failed = report(&[("2.".into(), vec![good, bad])]);
        assert_eq!(failed.code, DISAGREES);
        assert!(
            failed.text.contains("  FAIL f(0)  1   (guide: 0)\n"),
            "{}",
            failed.text
        );
        assert!(
            failed
                .text
                .ends_with("1 of 2 values agree with the guide; 1 disagree\n")
        );
    }

    #[test]
    fn close_compares_within_the_tolerance() {
        assert!(close("a", 1.081_945_62, 1.081_945_6, 5e-8, "1.0819456").ok);
        assert!(!close("a", 1.081_946, 1.081_945_6, 5e-8, "1.0819456").ok);
    }
}
