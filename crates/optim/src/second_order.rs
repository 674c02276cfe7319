//! Second derivatives as the Newton family needs them, with clear statuses when an objective
//! lacks them or they are not finite.

use crate::executor::Status;
use crate::objective::Objective;

/// `H(x) v`, from the objective's Hessian-vector product (or its dense Hessian).
///
/// # Errors
/// [`Status::Unsupported`] if the objective has neither; [`Status::NonFinite`] if the product
/// is not finite.
pub(crate) fn hess_vec(
    objective: &dyn Objective,
    x: &[f64],
    v: &[f64],
) -> Result<Vec<f64>, Status> {
    let mut out = vec![0.0; x.len()];
    if !objective.hvp(x, v, &mut out) {
        return Err(Status::Unsupported {
            needs: "Hessian-vector product",
        });
    }
    if out.iter().any(|h| !h.is_finite()) {
        return Err(Status::NonFinite {
            quantity: "Hessian-vector product",
        });
    }
    Ok(out)
}

/// The dense row-major Hessian, from the objective's Hessian or, failing that, from `n`
/// Hessian-vector products (symmetrized, since products computed column by column need not be
/// exactly symmetric in floating point).
///
/// # Errors
/// [`Status::Unsupported`] if the objective has neither; [`Status::NonFinite`] if an entry is
/// not finite.
pub(crate) fn dense_hessian(objective: &dyn Objective, x: &[f64]) -> Result<Vec<f64>, Status> {
    let n = x.len();
    let mut h = vec![0.0; n * n];
    if !objective.hessian(x, &mut h) {
        let mut e = vec![0.0; n];
        for j in 0..n {
            e[j] = 1.0;
            let col = hess_vec(objective, x, &e)?;
            e[j] = 0.0;
            for i in 0..n {
                h[i * n + j] = col[i];
            }
        }
    }
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (h[i * n + j] + h[j * n + i]);
            h[i * n + j] = m;
            h[j * n + i] = m;
        }
    }
    if h.iter().any(|v| !v.is_finite()) {
        return Err(Status::NonFinite {
            quantity: "Hessian",
        });
    }
    Ok(h)
}
