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
    let mut h = Vec::new();
    dense_hessian_into(objective, x, &mut h)?;
    Ok(h)
}

/// [`dense_hessian`] into `h` (resized to `n * n`), so a solver that keeps `h` between steps
/// does not allocate (and page-fault) `8 n^2` bytes per step: 800 MB at `n = 10,000`.
pub(crate) fn dense_hessian_into(
    objective: &dyn Objective,
    x: &[f64],
    h: &mut Vec<f64>,
) -> Result<(), Status> {
    let n = x.len();
    h.resize(n * n, 0.0);
    if !objective.hessian(x, h) {
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
    // Symmetrize tile by tile (64 x 64), so the column reads stay in cache at large n, and
    // check finiteness in the same pass (a mean is finite iff both entries are, barring
    // overflow of the sum, which is then reported too).
    const TILE: usize = 64;
    let mut finite = (0..n).all(|i| h[i * n + i].is_finite());
    for i0 in (0..n).step_by(TILE) {
        for j0 in (0..=i0).step_by(TILE) {
            for i in i0..n.min(i0 + TILE) {
                for j in j0..i.min(j0 + TILE) {
                    let m = 0.5 * (h[i * n + j] + h[j * n + i]);
                    finite &= m.is_finite();
                    h[i * n + j] = m;
                    h[j * n + i] = m;
                }
            }
        }
    }
    if !finite {
        return Err(Status::NonFinite {
            quantity: "Hessian",
        });
    }
    Ok(())
}
