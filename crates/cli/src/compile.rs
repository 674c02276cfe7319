//! Compiling: each node of an [`Expr`] recorded as nabla-graph operations on `f64` scalars.
//!
//! The forms are the numerically stable ones: `softplus` and `logsumexp` are the graph's
//! (`max(x, 0) + log1p(e^-|x|)`, and the maximum shifted out), a constant integer exponent is
//! `powi` (so `(-2)^3` is `-8` and its derivatives are exact), any other constant exponent is
//! `powf`, and only a variable exponent goes through `exp(b log a)` (which needs `a > 0`).

use crate::ast::{BinOp, Expr, Func, Kind, NodeId};
use crate::error::{EvalError, Stage};
use nabla_graph::{Graph, Var, stack};

/// Records every node of `expr` on the graph of `inputs` (one scalar `Var` per variable) and
/// returns their `Var`s, indexed like `expr.nodes` (the root last).
///
/// With `check`, recording stops at the first node whose value is NaN or infinite, and that
/// node is reported: its children are finite (they come first), so the operation itself went
/// wrong. Without it, non-finite values simply propagate.
///
/// # Errors
/// [`EvalError::NonFinite`] (only with `check`).
///
/// # Panics
/// If `inputs` has fewer entries than `expr` has variables.
pub fn record<'g>(
    g: &'g Graph<f64>,
    expr: &Expr,
    inputs: &[Var<'g, f64>],
    check: bool,
) -> Result<Vec<Var<'g, f64>>, EvalError> {
    let mut vars: Vec<Var<'g, f64>> = Vec::with_capacity(expr.nodes.len());
    // Whether each subtree is free of variables (its exponent then is a constant).
    let mut constant: Vec<bool> = Vec::with_capacity(expr.nodes.len());
    for (id, node) in expr.nodes.iter().enumerate() {
        let v = record_node(g, &node.kind, &vars, &constant, inputs);
        constant.push(match &node.kind {
            Kind::Var(_) => false,
            k => k.children().iter().all(|&c| constant[c]),
        });
        vars.push(v);
        if check {
            let value = scalar(v);
            if !value.is_finite() {
                return Err(non_finite(expr, id, Stage::Value, value, &vars));
            }
        }
    }
    Ok(vars)
}

/// The value of a scalar `Var`.
pub fn scalar(v: Var<'_, f64>) -> f64 {
    v.value().data()[0]
}

/// The error for node `id` of `expr` going non-finite (`result`) in `stage`, with its
/// arguments' values read from `vars`.
pub fn non_finite(
    expr: &Expr,
    id: NodeId,
    stage: Stage,
    result: f64,
    vars: &[Var<'_, f64>],
) -> EvalError {
    EvalError::NonFinite {
        op: expr.op_name(id),
        column: expr.nodes[id].span.start,
        stage,
        result,
        arguments: expr.children(id).iter().map(|&c| scalar(vars[c])).collect(),
    }
}

fn record_node<'g>(
    g: &'g Graph<f64>,
    kind: &Kind,
    vars: &[Var<'g, f64>],
    constant: &[bool],
    inputs: &[Var<'g, f64>],
) -> Var<'g, f64> {
    match kind {
        Kind::Num(v) => g.scalar(*v),
        Kind::Pi => g.scalar(std::f64::consts::PI),
        Kind::Var(i) => inputs[*i],
        Kind::Neg(a) => -vars[*a],
        Kind::Bin(op, [a, b]) => {
            let (x, y) = (vars[*a], vars[*b]);
            match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Pow if constant[*b] => {
                    let p = scalar(y);
                    // An integer exponent in i32's range (the cast is exact there).
                    if p.fract() == 0.0 && p.abs() <= f64::from(i32::MAX) {
                        x.powi(p as i32)
                    } else {
                        x.powf(p)
                    }
                }
                BinOp::Pow => (y * x.log()).exp(),
            }
        }
        Kind::Call(f, args) => {
            let x = vars[args[0]];
            match f {
                Func::Exp => x.exp(),
                Func::Log => x.log(),
                Func::Sqrt => x.sqrt(),
                Func::Sin => x.sin(),
                Func::Cos => x.cos(),
                Func::Tanh => x.tanh(),
                Func::Sigmoid => x.sigmoid(),
                Func::Softplus => x.softplus(),
                Func::Abs => x.abs(),
                Func::LogSumExp => {
                    let xs: Vec<Var<'g, f64>> = args.iter().map(|&a| vars[a]).collect();
                    stack(&xs, 0).logsumexp(0, false)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{EvalError, Formula, Stage};

    fn f(src: &str) -> Formula {
        Formula::parse(src).unwrap_or_else(|e| panic!("{}", e.render(src)))
    }

    /// Value, gradient and Hessian of `src` at `at`.
    fn eval(src: &str, at: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
        let d = f(src).hessian(at).unwrap_or_else(|e| panic!("{src}: {e}"));
        let g = f(src).gradient(at).unwrap();
        assert_eq!((g.value, &g.gradient), (d.value, &d.gradient));
        assert_eq!(f(src).value(at).unwrap(), d.value);
        (d.value, d.gradient, d.hessian.unwrap())
    }

    #[track_caller]
    fn close(a: f64, b: f64, rel: f64) {
        assert!(
            (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE),
            "{a} vs {b} (relative error {:e})",
            (a - b).abs() / b.abs()
        );
    }

    fn numeric(src: &str, at: &[f64]) -> EvalError {
        let r = f(src).hessian(at);
        r.expect_err(src)
    }

    #[test]
    fn the_guides_examples() {
        // Exercise 4: f = x^2 y + x y^2.
        let (v, g, h) = eval("x^2*y + x*y^2", &[1.0, 2.0]);
        assert_eq!((v, g, h), (6.0, vec![8.0, 5.0], vec![4.0, 6.0, 6.0, 2.0]));
        // Exercise 3: the gradient of log(e^x + e^y) is the softmax; its components sum to 1.
        for (x, y) in [(0.0, 2f64.ln()), (-3.0, 1.5), (10.0, 10.0)] {
            let (v, g, _) = eval("log(exp(x) + exp(y))", &[x, y]);
            close(v, (x.exp() + y.exp()).ln(), 1e-15);
            close(g[0], x.exp() / (x.exp() + y.exp()), 1e-15);
            close(g[1], y.exp() / (x.exp() + y.exp()), 1e-15);
            close(g[0] + g[1], 1.0, 2e-16);
        }
        // Section 2: 3x^4 - 4x^3 - 12x^2 has a minimum at 2 with f = -32, f'' = 72.
        let (v, g, h) = eval("3*x^4 - 4*x^3 - 12*x^2", &[2.0]);
        assert_eq!((v, g, h), (-32.0, vec![0.0], vec![72.0]));
        // Section 4: the chain-rule example, written out.
        let a = "(w + x + y + z)^2";
        let b = "(w + x - y - z)^2";
        let src = format!("(({a} + {b})^2 + ({a} - {b})^2)^2");
        let d = f(&src).gradient(&[-1.0, 0.0, -2.0, 1.0]).unwrap();
        assert_eq!(f(&src).variables(), ["w", "x", "y", "z"]);
        assert_eq!(d.value, 1024.0);
        assert_eq!(d.gradient, vec![-4096.0; 4]);
    }

    #[test]
    fn functions_against_their_derivatives() {
        let x = 0.7f64;
        let s = 1.0 / (1.0 + (-x).exp());
        let cases: [(&str, f64, f64, f64); 10] = [
            ("exp(x)", x.exp(), x.exp(), x.exp()),
            ("log(x)", x.ln(), 1.0 / x, -1.0 / (x * x)),
            ("sqrt(x)", x.sqrt(), 0.5 / x.sqrt(), -0.25 / x.powf(1.5)),
            ("sin(x)", x.sin(), x.cos(), -x.sin()),
            ("cos(x)", x.cos(), -x.sin(), -x.cos()),
            (
                "tanh(x)",
                x.tanh(),
                1.0 - x.tanh().powi(2),
                -2.0 * x.tanh() * (1.0 - x.tanh().powi(2)),
            ),
            (
                "sigmoid(x)",
                s,
                s * (1.0 - s),
                s * (1.0 - s) * (1.0 - 2.0 * s),
            ),
            ("softplus(x)", x.exp().ln_1p(), s, s * (1.0 - s)),
            ("abs(-x)", x, 1.0, 0.0),
            ("x^0.5", x.sqrt(), 0.5 / x.sqrt(), -0.25 / x.powf(1.5)),
        ];
        for (src, v, d1, d2) in cases {
            let (fv, g, h) = eval(src, &[x]);
            close(fv, v, 4e-16);
            close(g[0], d1, 1e-15);
            if d2 == 0.0 {
                assert_eq!(h[0], 0.0, "{src}");
            } else {
                close(h[0], d2, 1e-15);
            }
        }
        close(eval("sin(pi/2)", &[]).0, 1.0, 0.0);
        assert_eq!(eval("2^3^2", &[]).0, 512.0);
        assert_eq!(eval("-2^2", &[]).0, -4.0);
        assert_eq!(eval("2^-1", &[]).0, 0.5);
        assert_eq!(eval("8/4/2", &[]).0, 1.0);
        assert_eq!(eval("8-4-2", &[]).0, 2.0);
    }

    #[test]
    fn powers() {
        // A constant integer exponent is powi: negative bases work, derivatives are exact.
        let (v, g, h) = eval("x^3", &[-2.0]);
        assert_eq!((v, g, h), (-8.0, vec![12.0], vec![-12.0]));
        let (v, g, h) = eval("x^(1+1)", &[-3.0]);
        assert_eq!((v, g, h), (9.0, vec![-6.0], vec![2.0]));
        let (v, g, _) = eval("x^-1", &[-4.0]);
        assert_eq!((v, g), (-0.25, vec![-1.0 / 16.0]));
        // A variable exponent: exp(b log a), both partial derivatives.
        let (v, g, h) = eval("x^y", &[2.0, 3.0]);
        close(v, 8.0, 4e-16);
        close(g[0], 12.0, 4e-16); // y x^(y-1)
        close(g[1], 8.0 * 2f64.ln(), 4e-16); // x^y ln x
        close(h[3], 8.0 * 2f64.ln().powi(2), 1e-15);
        let (v, g, _) = eval("2^x", &[3.0]);
        close(v, 8.0, 4e-16);
        close(g[0], 8.0 * 2f64.ln(), 4e-16);
    }

    #[test]
    fn stable_forms() {
        // logsumexp(1000x, 1000y) at (1, 1): the naive form overflows.
        let (v, g, h) = eval("logsumexp(1000*x, 1000*y)", &[1.0, 1.0]);
        assert_eq!(v, 1000.0 + std::f64::consts::LN_2);
        assert_eq!(g, vec![500.0, 500.0]);
        // H = 1000^2 (diag(p) - p p^T) with p = (1/2, 1/2).
        assert_eq!(h, vec![250_000.0, -250_000.0, -250_000.0, 250_000.0]);
        let (v, g, _) = eval("logsumexp(x, y, z)", &[-800.0, -800.0, -800.0]);
        close(v, -800.0 + 3f64.ln(), 2e-16);
        for gi in g {
            close(gi, 1.0 / 3.0, 4e-16);
        }
        assert_eq!(eval("logsumexp(x)", &[-3.5]).0, -3.5);
        // softplus(-50) = ln(1 + e^-50) = e^-50 - e^-100/2 + ...: full relative accuracy,
        // and its derivative sigmoid(-50) too.
        let e50 = (-50f64).exp();
        let (v, g, _) = eval("softplus(x)", &[-50.0]);
        close(v, e50, 2.0 * f64::EPSILON);
        close(g[0], e50, 2.0 * f64::EPSILON);
        close(eval("softplus(x)", &[800.0]).0, 800.0, 0.0);
        close(
            eval("sigmoid(x)", &[-700.0]).0,
            (-700f64).exp(),
            4.0 * f64::EPSILON,
        );
    }

    #[test]
    fn numeric_failures_name_the_operation() {
        let e = numeric("log(x)", &[-1.0]);
        assert_eq!(e.to_string(), "log at column 1 gave NaN (argument -1)");
        let e = numeric("2 * sqrt(x)", &[-1.0]);
        assert_eq!(e.to_string(), "sqrt at column 5 gave NaN (argument -1)");
        let e = numeric("1/x", &[0.0]);
        assert_eq!(
            e.to_string(),
            "division at column 2 gave inf (arguments 1, 0)"
        );
        let e = numeric("x + exp(x)", &[1000.0]);
        assert_eq!(e.to_string(), "exp at column 5 gave inf (argument 1000)");
        let e = numeric("x*x", &[1e200]);
        assert_eq!(
            e.to_string(),
            "multiplication at column 2 gave inf (arguments 1e200, 1e200)"
        );
        let e = numeric("(-8)^(1/3) + x", &[1.0]);
        assert_eq!(
            e.to_string(),
            "power at column 5 gave NaN (arguments -8, 0.3333333333333333)"
        );
        // Only the first failure counts: the log, not the sqrt after it.
        let e = numeric("sqrt(log(x))", &[-1.0]);
        assert!(
            matches!(
                e,
                EvalError::NonFinite {
                    op: "log",
                    column: 6,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn derivative_failures_name_the_operation() {
        // sqrt'(0) = inf: the value is fine, the gradient is not.
        assert_eq!(f("sqrt(x)").value(&[0.0]), Ok(0.0));
        let e = f("1 + sqrt(x)").gradient(&[0.0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "sqrt at column 5 gave inf in its gradient (argument 0)"
        );
        // sqrt(x^2) at 0: the chain rule multiplies sqrt's infinite derivative by 0 (NaN); the
        // square's own gradient is finite, so the sqrt is named.
        let e = f("sqrt(x^2)").gradient(&[0.0]).unwrap_err();
        assert!(
            matches!(
                e,
                EvalError::NonFinite {
                    op: "sqrt",
                    column: 1,
                    stage: Stage::Gradient,
                    ..
                }
            ),
            "{e}"
        );
        // x^1.5 at 0 (y comes first): value 0, gradient 0, Hessian 0.75 / sqrt(0) = inf.
        let e = f("y + x^1.5").hessian(&[1.0, 0.0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "power at column 6 gave inf in its Hessian (arguments 0, 1.5)"
        );
        assert!(f("y + x^1.5").gradient(&[1.0, 0.0]).is_ok());
    }

    #[test]
    fn bad_points() {
        assert_eq!(
            f("x + y").value(&[1.0]),
            Err(EvalError::WrongDimension {
                expected: 2,
                found: 1
            })
        );
        let e = f("x + y").gradient(&[1.0, f64::NAN]).unwrap_err();
        assert_eq!(e.to_string(), "the variable y is NaN, not a finite number");
    }

    #[test]
    fn apply_is_the_same_function_on_a_vector() {
        let src = "x^2*y + log(1 + exp(y))";
        let formula = f(src);
        let (v, g) = nabla_graph::value_and_grad(
            |x| formula.apply(x),
            &nabla_graph::Tensor::vector(&[1.5, -0.5]),
        )
        .unwrap();
        let d = formula.gradient(&[1.5, -0.5]).unwrap();
        assert_eq!((v, g.to_vec()), (d.value, d.gradient));
        // No checks: a NaN propagates.
        let g = nabla_graph::Graph::new();
        let x = g.var(nabla_graph::Tensor::vector(&[-1.0]));
        assert!(f("log(x)").apply(x).value().data()[0].is_nan());
    }
}
