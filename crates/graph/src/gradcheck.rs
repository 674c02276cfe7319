//! Gradient checking: central finite differences against the autodiff gradient, as the
//! matrix-factorization check of the guide does.

use crate::error::GraphError;
use crate::graph::{Graph, Var};
use crate::tensor::Tensor;

/// How one input's autodiff gradient compared with central differences.
#[derive(Clone, Debug, PartialEq)]
pub struct InputCheck {
    /// `max |autodiff - numeric|` over the input's elements.
    pub max_abs_error: f64,
    /// `max |autodiff - numeric| / max(|autodiff|, |numeric|, 1e-300)`.
    pub max_rel_error: f64,
    /// The autodiff gradient.
    pub autodiff: Tensor<f64>,
    /// The central-difference gradient.
    pub numeric: Tensor<f64>,
}

/// Compares the gradient of a scalar `f` with central differences
/// `(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)` for every element of every input (in `f64`).
///
/// The truncation error of central differences is `O(eps^2 f''')` and the rounding error
/// `O(eps_machine |f| / eps)`: `eps = 1e-6` balances them for values of order one.
///
/// # Errors
/// [`GraphError::NotScalar`] if `f` is not scalar.
///
/// ```
/// use nabla_graph::{gradcheck, Tensor};
/// let report = gradcheck(|v| (v[0] * v[1]).sin().sum(), &[Tensor::vector(&[0.3, -1.2]), Tensor::vector(&[2.0, 0.5])], 1e-6).unwrap();
/// assert!(report.iter().all(|r| r.max_rel_error < 1e-8));
/// ```
pub fn gradcheck(
    f: impl for<'g> Fn(&[Var<'g, f64>]) -> Var<'g, f64>,
    inputs: &[Tensor<f64>],
    eps: f64,
) -> Result<Vec<InputCheck>, GraphError> {
    let g = Graph::new();
    let vars: Vec<Var<'_, f64>> = inputs.iter().map(|t| g.var(t.clone())).collect();
    let y = f(&vars);
    let grads = g.grad(y, &vars)?;
    let eval = |args: &[Tensor<f64>]| -> f64 {
        let g = Graph::new();
        let vars: Vec<Var<'_, f64>> = args.iter().map(|t| g.constant(t.clone())).collect();
        f(&vars).value().item()
    };
    let mut report = Vec::with_capacity(inputs.len());
    for (k, ad) in grads.into_iter().enumerate() {
        let mut numeric = Vec::with_capacity(inputs[k].len());
        for i in 0..inputs[k].len() {
            let shifted = |delta: f64| {
                let mut args = inputs.to_vec();
                let mut d = args[k].to_vec();
                d[i] += delta;
                args[k] = Tensor::new(d, inputs[k].shape());
                eval(&args)
            };
            numeric.push((shifted(eps) - shifted(-eps)) / (2.0 * eps));
        }
        let numeric = Tensor::new(numeric, inputs[k].shape());
        let (mut max_abs, mut max_rel) = (0.0f64, 0.0f64);
        for (&a, &n) in ad.data().iter().zip(numeric.data()) {
            let e = (a - n).abs();
            max_abs = max_abs.max(e);
            max_rel = max_rel.max(e / a.abs().max(n.abs()).max(1e-300));
        }
        report.push(InputCheck {
            max_abs_error: max_abs,
            max_rel_error: max_rel,
            autodiff: ad,
            numeric,
        });
    }
    Ok(report)
}
