//! `formula`: the `nabla` command's formula language on arbitrary bytes. Nothing may panic:
//! not the lexer, the parser, the error display, the evaluator or the failure tracing.
//!
//! Input: the formula's text up to the first NUL byte (invalid UTF-8 replaced), then the point:
//! per variable one byte choosing a value from a menu of ordinary and awkward values (zeros of
//! both signs, +-1, +-700, 1e-300, 1e300, a subnormal) or, for codes past the menu, the next
//! eight bytes as raw `f64` bits (NaN and infinities included, which must be refused cleanly).
//!
//! Checks, beyond not panicking:
//! * a formula that parses, printed back with the fewest parentheses, parses to the same tree;
//! * `value`, `gradient` and `hessian` agree on the value and gradient, and give finite numbers
//!   when they succeed; a failing value fails the derivatives the same way;
//! * [`Formula::apply`] (the unchecked vector form) gives the same value, bit for bit.

use crate::Input;
use nabla_cli::{EvalError, Formula};

/// The values a point's coordinates are drawn from (then raw bits).
const MENU: [f64; 14] = [
    0.0, -0.0, 1.0, -1.0, 0.5, 2.0, -2.0, 3.0, 700.0, -700.0, 1e-300, 1e300, 5e-324, -1e-8,
];

/// Second derivatives only for small formulas: their cost is variables x nodes.
const HESSIAN_MAX_VARIABLES: usize = 6;
const HESSIAN_MAX_NODES: usize = 400;

/// The fuzz body: see the module documentation.
pub fn formula(data: &[u8]) {
    let nul = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let src = String::from_utf8_lossy(&data[..nul]);
    let mut inp = Input::new(data.get(nul + 1..).unwrap_or(&[]));
    let f = match Formula::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            let shown = e.render(&src);
            assert!(
                e.column() >= 1 && e.column() <= src.chars().count() + 1,
                "column {} outside {src:?}",
                e.column()
            );
            assert_eq!(shown.lines().count(), 3, "{shown}");
            return;
        }
    };
    roundtrip(&f);
    let at: Vec<f64> = f
        .variables()
        .iter()
        .map(|_| {
            let code = usize::from(inp.u8());
            MENU.get(code)
                .copied()
                .unwrap_or_else(|| f64::from_bits(inp.u64()))
        })
        .collect();
    evaluate(&f, &at);
}

fn roundtrip(f: &Formula) {
    let printed = f.expr().to_string();
    let again = Formula::parse(&printed).unwrap_or_else(|e| {
        panic!(
            "{:?} printed as {printed:?} does not parse: {}",
            f.source(),
            e.render(&printed)
        )
    });
    let kinds = |f: &Formula| -> Vec<nabla_cli::ast::Kind> {
        f.expr().nodes.iter().map(|n| n.kind.clone()).collect()
    };
    assert!(
        kinds(&again) == kinds(f) && again.variables() == f.variables(),
        "{:?} printed as {printed:?} parses to another tree",
        f.source()
    );
}

fn evaluate(f: &Formula, at: &[f64]) {
    let value = f.value(at);
    let grad = f.gradient(at);
    // Messages format without panicking.
    for e in [value.as_ref().err(), grad.as_ref().err()]
        .into_iter()
        .flatten()
    {
        let _ = e.to_string();
    }
    match (&value, &grad) {
        (Ok(v), Ok(d)) => {
            assert!(v.is_finite() && d.gradient.iter().all(|g| g.is_finite()));
            assert_eq!(v.to_bits(), d.value.to_bits(), "{:?} at {at:?}", f.source());
        }
        (Ok(_), Err(e)) => assert!(
            matches!(
                e,
                EvalError::NonFinite {
                    stage: nabla_cli::Stage::Gradient,
                    ..
                }
            ),
            "{:?} at {at:?}: the value is fine but the gradient failed with {e}",
            f.source()
        ),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (Err(e), Ok(_)) => panic!(
            "{:?} at {at:?}: the value failed ({e}) but the gradient did not",
            f.source()
        ),
    }
    if let Ok(v) = value {
        let g = nabla_graph::Graph::new();
        let x = g.var(nabla_graph::Tensor::vector(at));
        let y = f.apply(x).value().data()[0];
        assert_eq!(
            y.to_bits(),
            v.to_bits(),
            "{:?} at {at:?}: apply",
            f.source()
        );
    }
    if f.variables().len() <= HESSIAN_MAX_VARIABLES && f.expr().nodes.len() <= HESSIAN_MAX_NODES {
        match (f.hessian(at), &grad) {
            (Ok(h), Ok(d)) => {
                assert_eq!(h.value.to_bits(), d.value.to_bits());
                assert_eq!(h.gradient, d.gradient, "{:?} at {at:?}", f.source());
                let m = h.hessian.expect("asked for");
                assert_eq!(m.len(), at.len() * at.len());
                assert!(
                    m.iter().all(|x| x.is_finite()),
                    "{:?} at {at:?}",
                    f.source()
                );
            }
            (Err(e), Ok(_)) => assert!(
                matches!(
                    e,
                    EvalError::NonFinite {
                        stage: nabla_cli::Stage::Hessian | nabla_cli::Stage::Gradient,
                        ..
                    }
                ),
                "{e}"
            ),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            (Ok(_), Err(e)) => panic!(
                "{:?} at {at:?}: the Hessian succeeded where the gradient failed ({e})",
                f.source()
            ),
        }
    }
}
