//! Line searches along a descent direction `d` from `x`: `φ(α) = f(x + α d)`.
//!
//! * [`armijo`]: backtracking until sufficient decrease `φ(α) <= φ(0) + c1 α φ'(0)`.
//! * [`more_thuente`]: a step satisfying the strong Wolfe conditions, sufficient decrease and
//!   `|φ'(α)| <= c2 |φ'(0)|`, by Moré and Thuente's safeguarded cubic/quadratic interpolation
//!   ("Line search algorithms with guaranteed sufficient decrease", ACM TOMS 20(3), 1994), the
//!   algorithm of MINPACK-2's `dcsrch`.
//!
//! Both evaluate `f` and `∇f` together at every trial step and return the accepted [`Point`].

use crate::executor::{Point, Status};
use crate::linalg::dot;
use crate::objective::Objective;

/// Sufficient-decrease constant `c1` used by every solver.
pub const C1: f64 = 1e-4;

fn trial(objective: &dyn Objective, x: &[f64], d: &[f64], alpha: f64) -> Point {
    let xt = x.iter().zip(d).map(|(xi, di)| xi + alpha * di).collect();
    Point::at(objective, xt)
}

/// Backtracking from `alpha0`, halving (at most 60 times) until
/// `f(x + α d) <= f(x) + c1 α ∇f(x)·d`. Non-finite trial values count as insufficient decrease,
/// so the search backs away from a domain boundary (log of a negative number) instead of failing.
///
/// # Errors
/// [`Status::Stalled`] if `d` is not a descent direction or no step decreases `f` enough.
pub fn armijo(
    objective: &dyn Objective,
    start: &Point,
    d: &[f64],
    alpha0: f64,
) -> Result<Point, Status> {
    let slope = dot(&start.grad, d);
    if slope.is_nan() || slope >= 0.0 {
        return Err(Status::Stalled {
            reason: "not a descent direction",
        });
    }
    let mut alpha = alpha0;
    for _ in 0..60 {
        let p = trial(objective, &start.x, d, alpha);
        if p.is_finite() && p.f <= start.f + C1 * alpha * slope {
            return Ok(p);
        }
        alpha *= 0.5;
    }
    Err(Status::Stalled {
        reason: "the Armijo line search found no sufficient decrease",
    })
}

/// A strong-Wolfe step by Moré-Thuente, starting from the trial step `alpha0`, with curvature
/// constant `c2` (0.9 for quasi-Newton and Newton directions, 0.1 for gradient descent), at most
/// 40 evaluations, steps within `[0, 1e10]`.
///
/// If the search ends early (interval shrunk to rounding level, evaluation budget), the best
/// trial that satisfies sufficient decrease is returned if there is one.
///
/// # Errors
/// [`Status::Stalled`] if `d` is not a descent direction or no trial decreased `f` enough.
pub fn more_thuente(
    objective: &dyn Objective,
    start: &Point,
    d: &[f64],
    alpha0: f64,
    c2: f64,
) -> Result<Point, Status> {
    const XTOL: f64 = 1e-14;
    const STPMIN: f64 = 0.0;
    const STPMAX: f64 = 1e10;
    const XTRAPL: f64 = 1.1;
    const XTRAPU: f64 = 4.0;
    let finit = start.f;
    let ginit = dot(&start.grad, d);
    if ginit.is_nan() || ginit >= 0.0 {
        return Err(Status::Stalled {
            reason: "not a descent direction",
        });
    }
    let gtest = C1 * ginit;
    let mut width = STPMAX - STPMIN;
    let mut width1 = 2.0 * width;
    let mut brackt = false;
    let mut stage1 = true;
    let (mut stx, mut fx, mut gx) = (0.0, finit, ginit);
    let (mut sty, mut fy, mut gy) = (0.0, finit, ginit);
    let mut stp = alpha0.clamp(STPMIN, STPMAX);
    let (mut stmin, mut stmax) = (0.0, stp + XTRAPU * stp);
    let mut best: Option<Point> = None;
    let mut limit = STPMAX;
    for _ in 0..40 {
        let p = trial(objective, &start.x, d, stp);
        if !p.is_finite() {
            // Past a domain boundary (log of a negative, overflow): never step this far again,
            // and retry halfway back toward the best step.
            limit = stp;
            stp = stx + 0.5 * (stp - stx);
            continue;
        }
        let (f, g) = (p.f, dot(&p.grad, d));
        let ftest = finit + stp * gtest;
        if f <= ftest && best.as_ref().is_none_or(|b| f < b.f) {
            best = Some(p.clone());
        }
        if f <= ftest && g.abs() <= c2 * -ginit {
            return Ok(p);
        }
        // Near a minimizer whose f is large, the decrease asked for falls below f's rounding
        // error: accept a step that meets sufficient decrease up to that noise and whose slope
        // meets the curvature condition. (Up to stop 19 the test was `f <= finit + noise`,
        // which also took real decreases far short of sufficient: a proptest found a step
        // with f 1.5e-3 above `ftest`, see `more_thuente_returns_a_strong_wolfe_step`.)
        if f <= ftest + 64.0 * f64::EPSILON * finit.abs() && g.abs() <= c2 * -ginit && stp > 0.0 {
            return Ok(p);
        }
        if stage1 && f <= ftest && g >= 0.0 {
            stage1 = false;
        }
        if brackt && (stp <= stmin || stp >= stmax || stmax - stmin <= XTOL * stmax) {
            break; // rounding errors prevent progress, or the interval is at tolerance
        }
        if stp == STPMAX && f <= ftest && g <= gtest {
            break;
        }
        if stage1 && f <= fx && f > ftest {
            // The modified function ψ(α) = φ(α) - φ(0) - c1 α φ'(0) in the first stage.
            let mut st = Bracket {
                stx,
                fx: fx - stx * gtest,
                dx: gx - gtest,
                sty,
                fy: fy - sty * gtest,
                dy: gy - gtest,
                brackt,
            };
            stp = st.step(stp, f - stp * gtest, g - gtest, stmin, stmax);
            (stx, sty, brackt) = (st.stx, st.sty, st.brackt);
            (fx, fy) = (st.fx + stx * gtest, st.fy + sty * gtest);
            (gx, gy) = (st.dx + gtest, st.dy + gtest);
        } else {
            let mut st = Bracket {
                stx,
                fx,
                dx: gx,
                sty,
                fy,
                dy: gy,
                brackt,
            };
            stp = st.step(stp, f, g, stmin, stmax);
            (stx, fx, gx, sty, fy, gy, brackt) =
                (st.stx, st.fx, st.dx, st.sty, st.fy, st.dy, st.brackt);
        }
        if brackt {
            if (sty - stx).abs() >= 0.66 * width1 {
                stp = stx + 0.5 * (sty - stx);
            }
            width1 = width;
            width = (sty - stx).abs();
            stmin = stx.min(sty);
            stmax = stx.max(sty);
        } else {
            stmin = stp + XTRAPL * (stp - stx);
            stmax = stp + XTRAPU * (stp - stx);
        }
        stp = stp.clamp(STPMIN, STPMAX);
        if stp >= limit {
            stp = stx + 0.5 * (limit - stx);
        }
        if brackt && (stp <= stmin || stp >= stmax || stmax - stmin <= XTOL * stmax) {
            stp = stx;
        }
    }
    best.ok_or(Status::Stalled {
        reason: "the line search found no sufficient decrease",
    })
}

/// The interval of uncertainty of the Moré-Thuente search: `stx` is the best step so far,
/// `sty` the other end; `f*` values and `d*` derivatives at them.
struct Bracket {
    stx: f64,
    fx: f64,
    dx: f64,
    sty: f64,
    fy: f64,
    dy: f64,
    brackt: bool,
}

impl Bracket {
    /// MINPACK-2's `dcstep`: a safeguarded trial step from the new trial `(stp, fp, dp)`, and the
    /// interval updated to keep a minimizer bracketed.
    fn step(&mut self, stp: f64, fp: f64, dp: f64, stpmin: f64, stpmax: f64) -> f64 {
        let (stx, fx, dx, sty, fy, dy) = (self.stx, self.fx, self.dx, self.sty, self.fy, self.dy);
        let sgnd = dp * dx.signum();
        let cubic = |fa: f64, da: f64, a: f64, fb: f64, db: f64, b: f64| {
            // theta, gamma of the cubic through (a, fa, da) and (b, fb, db), gamma signed so the
            // minimizer formula is stable.
            let theta = 3.0 * (fa - fb) / (b - a) + da + db;
            let s = theta.abs().max(da.abs()).max(db.abs());
            let gamma = s * ((theta / s).powi(2) - (da / s) * (db / s)).max(0.0).sqrt();
            (theta, gamma)
        };
        let stpf;
        if fp > fx {
            // Case 1: higher value: the minimum is bracketed.
            let (theta, mut gamma) = cubic(fx, dx, stx, fp, dp, stp);
            if stp < stx {
                gamma = -gamma;
            }
            let p = (gamma - dx) + theta;
            let q = ((gamma - dx) + gamma) + dp;
            let stpc = stx + p / q * (stp - stx);
            let stpq = stx + dx / ((fx - fp) / (stp - stx) + dx) / 2.0 * (stp - stx);
            stpf = if (stpc - stx).abs() < (stpq - stx).abs() {
                stpc
            } else {
                stpc + (stpq - stpc) / 2.0
            };
            self.brackt = true;
        } else if sgnd < 0.0 {
            // Case 2: lower value, derivatives of opposite sign: bracketed.
            let (theta, mut gamma) = cubic(fx, dx, stx, fp, dp, stp);
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = ((gamma - dp) + gamma) + dx;
            let stpc = stp + p / q * (stx - stp);
            let stpq = stp + dp / (dp - dx) * (stx - stp);
            stpf = if (stpc - stp).abs() > (stpq - stp).abs() {
                stpc
            } else {
                stpq
            };
            self.brackt = true;
        } else if dp.abs() < dx.abs() {
            // Case 3: lower value, same-sign derivative decreasing in magnitude.
            let (theta, mut gamma) = cubic(fx, dx, stx, fp, dp, stp);
            if stp > stx {
                gamma = -gamma;
            }
            let p = (gamma - dp) + theta;
            let q = (gamma + (dx - dp)) + gamma;
            let r = p / q;
            let stpc = if r < 0.0 && gamma != 0.0 {
                stp + r * (stx - stp)
            } else if stp > stx {
                stpmax
            } else {
                stpmin
            };
            let stpq = stp + dp / (dp - dx) * (stx - stp);
            stpf = if self.brackt {
                let s = if (stpc - stp).abs() < (stpq - stp).abs() {
                    stpc
                } else {
                    stpq
                };
                if stp > stx {
                    s.min(stp + 0.66 * (sty - stp))
                } else {
                    s.max(stp + 0.66 * (sty - stp))
                }
            } else {
                let s = if (stpc - stp).abs() > (stpq - stp).abs() {
                    stpc
                } else {
                    stpq
                };
                s.clamp(stpmin, stpmax)
            };
        } else {
            // Case 4: lower value, derivative not decreasing in magnitude.
            stpf = if self.brackt {
                let (theta, mut gamma) = cubic(fp, dp, stp, fy, dy, sty);
                if stp > sty {
                    gamma = -gamma;
                }
                let p = (gamma - dp) + theta;
                let q = ((gamma - dp) + gamma) + dy;
                stp + p / q * (sty - stp)
            } else if stp > stx {
                stpmax
            } else {
                stpmin
            };
        }
        if fp > fx {
            (self.sty, self.fy, self.dy) = (stp, fp, dp);
        } else {
            if sgnd < 0.0 {
                (self.sty, self.fy, self.dy) = (stx, fx, dx);
            }
            (self.stx, self.fx, self.dx) = (stp, fp, dp);
        }
        stpf
    }
}
