//! Least squares `f = sum_i r_i(x)^2` from residuals with their own gradients and Hessians, and
//! the small MGH least-squares problems.
//!
//! Formulas: Moré, Garbow, Hillstrom (1981), section 3; indices there are 1-based, here
//! 0-based (`x[0]` is the paper's `x1`), with the paper's `i` kept where it enters a formula.

use super::double_double::Dd;
use super::{Function, Scalar, sum};
use crate::Objective;
use nabla_graph::Var;
use std::f64::consts::PI;

/// A vector of residuals `r_i(x)`, `i < m`, each depending on a few variables (its support).
///
/// [`LeastSquares`] turns it into `f = sum r_i^2` with gradient `2 Jᵀr`, Hessian
/// `2 (JᵀJ + sum_i r_i ∇²r_i)` and Hessian-vector products, visiting one residual at a time.
pub(crate) trait Residuals: Send + Sync {
    /// The number of variables `n`.
    fn n(&self) -> usize;
    /// The number of residuals `m`.
    fn m(&self) -> usize;
    /// Writes the variables `r_i` depends on to `vars` (default: all `n`, in order). The
    /// derivatives of [`Residuals::derivatives`] are taken in this order.
    fn support(&self, _i: usize, vars: &mut Vec<usize>) {
        vars.clear();
        vars.extend(0..self.n());
    }
    /// `r_i(x)`, written once for values and graph checks.
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S;
    /// Writes `∂r_i/∂x_{vars[a]}` to `grad[a]` and, if `hess` is given, `∂²r_i/∂x_{vars[a]}
    /// ∂x_{vars[b]}` to `hess[a k + b]` (`k = vars.len()`). Both arrive zeroed: write the
    /// nonzero entries (both triangles).
    fn derivatives(&self, x: &[f64], i: usize, grad: &mut [f64], hess: Option<&mut [f64]>);
    /// For residuals whose `f64` evaluation is too inexact (Meyer's): `r_i` in double-double
    /// and, if `grad` is given (zeroed, in [`Residuals::support`] order), `∇r_i` too. Where it
    /// is `Some`, [`LeastSquares`] takes every `f64` residual from it (rounded) and forms the
    /// gradient `2 sum_i r_i ∇r_i` in double-double; the Hessian's `∇r_i` and `∇²r_i` stay
    /// [`Residuals::derivatives`]'. `None` (the default): plain `f64` throughout.
    fn residual_dd(&self, _x: &[f64], _i: usize, _grad: Option<&mut [Dd]>) -> Option<Dd> {
        None
    }
}

/// Boxes residuals as a least-squares [`Function`].
pub(super) fn lsq<R: Residuals + 'static>(r: R) -> Box<dyn Function> {
    Box::new(LeastSquares(r))
}

/// Sets `h[a][b]` and `h[b][a]` of a `k x k` row-major matrix.
pub(super) fn sym(h: &mut [f64], k: usize, a: usize, b: usize, v: f64) {
    h[a * k + b] = v;
    h[b * k + a] = v;
}

/// `f = sum_i r_i^2` for [`Residuals`].
pub(crate) struct LeastSquares<R>(pub R);

/// Per-call buffers for one residual's support, gradient and Hessian.
#[derive(Default)]
struct Scratch {
    vars: Vec<usize>,
    grad: Vec<f64>,
    hess: Vec<f64>,
}

impl<R: Residuals> LeastSquares<R> {
    /// `r_i(x)` in `f64`: the rounded [`Residuals::residual_dd`] where there is one.
    fn residual(&self, x: &[f64], i: usize) -> f64 {
        let r = &self.0;
        r.residual_dd(x, i, None)
            .map_or_else(|| r.residual(x, i), Dd::to_f64)
    }

    /// Visits each residual: `visit(i, r_i, vars, ∇r_i, ∇²r_i)` (the Hessian empty unless
    /// `with_hessian`).
    fn each(
        &self,
        x: &[f64],
        with_hessian: bool,
        mut visit: impl FnMut(f64, &[usize], &[f64], &[f64]),
    ) {
        let r = &self.0;
        assert_eq!(x.len(), r.n(), "x has the wrong length");
        let mut s = Scratch::default();
        for i in 0..r.m() {
            r.support(i, &mut s.vars);
            let k = s.vars.len();
            s.grad.clear();
            s.grad.resize(k, 0.0);
            s.hess.clear();
            if with_hessian {
                s.hess.resize(k * k, 0.0);
                r.derivatives(x, i, &mut s.grad, Some(&mut s.hess));
            } else {
                r.derivatives(x, i, &mut s.grad, None);
            }
            visit(self.residual(x, i), &s.vars, &s.grad, &s.hess);
        }
    }
}

impl<R: Residuals> Objective for LeastSquares<R> {
    fn dim(&self) -> usize {
        self.0.n()
    }

    fn value(&self, x: &[f64]) -> f64 {
        (0..self.0.m()).map(|i| self.residual(x, i).powi(2)).sum()
    }

    /// `2 Jᵀr`, accumulated in double-double for the residuals with a
    /// [`Residuals::residual_dd`] (whose terms `r_i ∂r_i/∂x_j` may cancel far below their size).
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let r = &self.0;
        assert_eq!(x.len(), r.n(), "x has the wrong length");
        grad.fill(0.0);
        let mut f = 0.0;
        let mut vars = Vec::new();
        let (mut g, mut g_dd) = (Vec::new(), Vec::new());
        // The double-double part of the gradient (empty if no residual has one).
        let mut acc: Vec<Dd> = Vec::new();
        for i in 0..r.m() {
            r.support(i, &mut vars);
            let k = vars.len();
            g_dd.clear();
            g_dd.resize(k, Dd::ZERO);
            if let Some(ri) = r.residual_dd(x, i, Some(&mut g_dd)) {
                acc.resize(r.n(), Dd::ZERO);
                f += ri.to_f64() * ri.to_f64();
                for (&j, &gj) in vars.iter().zip(&g_dd) {
                    acc[j] = acc[j] + ri * gj;
                }
            } else {
                g.clear();
                g.resize(k, 0.0);
                r.derivatives(x, i, &mut g, None);
                let ri = r.residual(x, i);
                f += ri * ri;
                for (&j, &gj) in vars.iter().zip(&g) {
                    grad[j] += 2.0 * ri * gj;
                }
            }
        }
        for (gj, a) in grad.iter_mut().zip(&acc) {
            *gj += 2.0 * a.to_f64();
        }
        f
    }

    /// `2 (Jᵀ(J v) + sum_i r_i ∇²r_i v)`, one residual at a time: `O(m k²)`.
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        out.fill(0.0);
        self.each(x, true, |r, vars, g, h| {
            let k = vars.len();
            let jv: f64 = vars.iter().zip(g).map(|(&j, gj)| gj * v[j]).sum();
            for a in 0..k {
                let hv: f64 = (0..k).map(|b| h[a * k + b] * v[vars[b]]).sum();
                out[vars[a]] += 2.0 * (g[a] * jv + r * hv);
            }
        });
        true
    }

    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let n = self.0.n();
        if n > super::DENSE_HESSIAN_MAX_N {
            return false;
        }
        out.fill(0.0);
        self.each(x, true, |r, vars, g, h| {
            let k = vars.len();
            for a in 0..k {
                for b in 0..k {
                    out[vars[a] * n + vars[b]] += 2.0 * (g[a] * g[b] + r * h[a * k + b]);
                }
            }
        });
        true
    }
}

impl<R: Residuals> Function for LeastSquares<R> {
    fn graph<'g>(&self, x: &[Var<'g, f64>]) -> Var<'g, f64> {
        sum((0..self.0.m()).map(|i| self.0.residual(x, i).powi(2)))
    }
    fn residual_count(&self) -> Option<usize> {
        Some(self.0.m())
    }
    fn residuals(&self, x: &[f64], out: &mut [f64]) -> bool {
        assert_eq!(x.len(), self.0.n(), "x has the wrong length");
        for (i, ri) in out.iter_mut().enumerate() {
            *ri = self.residual(x, i);
        }
        true
    }
}

/// MGH 2: `r1 = -13 + x1 + ((5 - x2) x2 - 2) x2`, `r2 = -29 + x1 + ((x2 + 1) x2 - 14) x2`.
pub(super) struct FreudensteinRoth;

impl Residuals for FreudensteinRoth {
    fn n(&self) -> usize {
        2
    }
    fn m(&self) -> usize {
        2
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let (x1, x2) = (x[0], x[1]);
        if i == 0 {
            x1 - 13.0 + ((-x2 + 5.0) * x2 - 2.0) * x2
        } else {
            x1 - 29.0 + ((x2 + 1.0) * x2 - 14.0) * x2
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let x2 = x[1];
        g[0] = 1.0;
        if i == 0 {
            g[1] = 10.0 * x2 - 3.0 * x2 * x2 - 2.0;
            if let Some(h) = h {
                h[3] = 10.0 - 6.0 * x2;
            }
        } else {
            g[1] = 3.0 * x2 * x2 + 2.0 * x2 - 14.0;
            if let Some(h) = h {
                h[3] = 6.0 * x2 + 2.0;
            }
        }
    }
}

/// MGH 3: `r1 = 10^4 x1 x2 - 1`, `r2 = exp(-x1) + exp(-x2) - 1.0001`.
pub(super) struct PowellBadlyScaled;

impl Residuals for PowellBadlyScaled {
    fn n(&self) -> usize {
        2
    }
    fn m(&self) -> usize {
        2
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        if i == 0 {
            x[0] * x[1] * 1e4 - 1.0
        } else {
            (-x[0]).exp() + (-x[1]).exp() - 1.0001
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        if i == 0 {
            g[0] = 1e4 * x[1];
            g[1] = 1e4 * x[0];
            if let Some(h) = h {
                sym(h, 2, 0, 1, 1e4);
            }
        } else {
            let (e1, e2) = ((-x[0]).exp(), (-x[1]).exp());
            g[0] = -e1;
            g[1] = -e2;
            if let Some(h) = h {
                h[0] = e1;
                h[3] = e2;
            }
        }
    }
}

/// MGH 4: `r1 = x1 - 10^6`, `r2 = x2 - 2 10^-6`, `r3 = x1 x2 - 2`.
pub(super) struct BrownBadlyScaled;

impl Residuals for BrownBadlyScaled {
    fn n(&self) -> usize {
        2
    }
    fn m(&self) -> usize {
        3
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        match i {
            0 => x[0] - 1e6,
            1 => x[1] - 2e-6,
            _ => x[0] * x[1] - 2.0,
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        match i {
            0 => g[0] = 1.0,
            1 => g[1] = 1.0,
            _ => {
                g[0] = x[1];
                g[1] = x[0];
                if let Some(h) = h {
                    sym(h, 2, 0, 1, 1.0);
                }
            }
        }
    }
}

/// MGH 5: `r_i = y_i - x1 (1 - x2^i)`, `y = (1.5, 2.25, 2.625)`.
pub(super) struct Beale;

impl Residuals for Beale {
    fn n(&self) -> usize {
        2
    }
    fn m(&self) -> usize {
        3
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        const Y: [f64; 3] = [1.5, 2.25, 2.625];
        let p = i as i32 + 1;
        -(x[0] * (-x[1].powi(p) + 1.0)) + Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let p = i as i32 + 1;
        let pf = f64::from(p);
        g[0] = x[1].powi(p) - 1.0;
        g[1] = x[0] * pf * x[1].powi(p - 1);
        if let Some(h) = h {
            sym(h, 2, 0, 1, pf * x[1].powi(p - 1));
            h[3] = if p >= 2 {
                x[0] * pf * (pf - 1.0) * x[1].powi(p - 2)
            } else {
                0.0
            };
        }
    }
}

/// MGH 6 (`m = 10`): `r_i = 2 + 2i - (exp(i x1) + exp(i x2))`.
pub(super) struct JennrichSampson;

impl Residuals for JennrichSampson {
    fn n(&self) -> usize {
        2
    }
    fn m(&self) -> usize {
        10
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = (i + 1) as f64;
        -((x[0] * t).exp() + (x[1] * t).exp()) + (2.0 + 2.0 * t)
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = (i + 1) as f64;
        let (e1, e2) = ((t * x[0]).exp(), (t * x[1]).exp());
        g[0] = -t * e1;
        g[1] = -t * e2;
        if let Some(h) = h {
            h[0] = -t * t * e1;
            h[3] = -t * t * e2;
        }
    }
}

/// MGH 7: `r1 = 10 (x3 - 10 θ(x1, x2))`, `r2 = 10 (sqrt(x1² + x2²) - 1)`, `r3 = x3`, with
/// `θ = atan(x2/x1)/(2π)`, plus `1/2` if `x1 < 0`.
pub(super) struct HelicalValley;

impl Residuals for HelicalValley {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        3
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        match i {
            0 => {
                let branch = if x[0].val() < 0.0 { 0.5 } else { 0.0 };
                let theta = (x[1] / x[0]).atan() / (2.0 * PI) + branch;
                (x[2] - theta * 10.0) * 10.0
            }
            1 => ((x[0] * x[0] + x[1] * x[1]).sqrt() - 1.0) * 10.0,
            _ => x[2],
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (x1, x2) = (x[0], x[1]);
        let rho2 = x1 * x1 + x2 * x2;
        match i {
            0 => {
                // ∇θ = (-x2, x1) / (2π ρ²).
                let c = 1.0 / (2.0 * PI * rho2);
                g[0] = 100.0 * x2 * c;
                g[1] = -100.0 * x1 * c;
                g[2] = 10.0;
                if let Some(h) = h {
                    let c2 = c / rho2;
                    h[0] = -100.0 * 2.0 * x1 * x2 * c2;
                    h[4] = 100.0 * 2.0 * x1 * x2 * c2;
                    sym(h, 3, 0, 1, -100.0 * (x2 * x2 - x1 * x1) * c2);
                }
            }
            1 => {
                let rho = rho2.sqrt();
                g[0] = 10.0 * x1 / rho;
                g[1] = 10.0 * x2 / rho;
                if let Some(h) = h {
                    let r3 = rho * rho2;
                    h[0] = 10.0 * x2 * x2 / r3;
                    h[4] = 10.0 * x1 * x1 / r3;
                    sym(h, 3, 0, 1, -10.0 * x1 * x2 / r3);
                }
            }
            _ => g[2] = 1.0,
        }
    }
}

/// MGH 8: `r_i = y_i - (x1 + u_i / (v_i x2 + w_i x3))`, `u_i = i`, `v_i = 16 - i`,
/// `w_i = min(u_i, v_i)`.
pub(super) struct Bard;

impl Bard {
    const Y: [f64; 15] = [
        0.14, 0.18, 0.22, 0.25, 0.29, 0.32, 0.35, 0.39, 0.37, 0.58, 0.73, 0.96, 1.34, 2.10, 4.39,
    ];
    fn uvw(i: usize) -> (f64, f64, f64) {
        let u = (i + 1) as f64;
        let v = 16.0 - u;
        (u, v, u.min(v))
    }
}

impl Residuals for Bard {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        15
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let (u, v, w) = Self::uvw(i);
        -(x[0] + (x[1] * v + x[2] * w).recip() * u) + Self::Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (u, v, w) = Self::uvw(i);
        let d = v * x[1] + w * x[2];
        let d2 = d * d;
        g[0] = -1.0;
        g[1] = u * v / d2;
        g[2] = u * w / d2;
        if let Some(h) = h {
            let d3 = d2 * d;
            h[4] = -2.0 * u * v * v / d3;
            sym(h, 3, 1, 2, -2.0 * u * v * w / d3);
            h[8] = -2.0 * u * w * w / d3;
        }
    }
}

/// MGH 9: `r_i = x1 exp(-x2 (t_i - x3)² / 2) - y_i`, `t_i = (8 - i)/2`.
pub(super) struct Gaussian;

impl Gaussian {
    const Y: [f64; 15] = [
        0.0009, 0.0044, 0.0175, 0.0540, 0.1295, 0.2420, 0.3521, 0.3989, 0.3521, 0.2420, 0.1295,
        0.0540, 0.0175, 0.0044, 0.0009,
    ];
    fn t(i: usize) -> f64 {
        (8.0 - (i + 1) as f64) / 2.0
    }
}

impl Residuals for Gaussian {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        15
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let d = -x[2] + Self::t(i);
        x[0] * (-(x[1] * d * d) / 2.0).exp() - Self::Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (x1, x2) = (x[0], x[1]);
        let d = Self::t(i) - x[2];
        let e = (-x2 * d * d / 2.0).exp();
        g[0] = e;
        g[1] = -x1 * e * d * d / 2.0;
        g[2] = x1 * x2 * e * d;
        if let Some(h) = h {
            sym(h, 3, 0, 1, -e * d * d / 2.0);
            sym(h, 3, 0, 2, x2 * e * d);
            h[4] = x1 * e * d.powi(4) / 4.0;
            sym(h, 3, 1, 2, x1 * e * (d - x2 * d.powi(3) / 2.0));
            h[8] = x1 * x2 * e * (x2 * d * d - 1.0);
        }
    }
}

/// MGH 10: `r_i = x1 exp(x2 / (t_i + x3)) - y_i`, `t_i = 45 + 5i`.
pub(super) struct Meyer;

impl Meyer {
    const Y: [f64; 16] = [
        34780.0, 28610.0, 23650.0, 19630.0, 16370.0, 13720.0, 11540.0, 9744.0, 8261.0, 7030.0,
        6005.0, 5147.0, 4427.0, 3820.0, 3307.0, 2872.0,
    ];
    fn t(i: usize) -> f64 {
        45.0 + 5.0 * (i + 1) as f64
    }
    /// `(s, e) = (t_i + x3, exp(x2 / s))` in double-double: `s` exact, `e` to a relative
    /// `(18 |z| + 200) u² ≈ 6e-30` at `z = x2/s ≈ 16` (`z`'s division error `15 u²` enters `exp`
    /// multiplied by `|z|`; the rest is [`Dd::exp`]'s bound), against the `f64` `exp`'s `~2e-15`
    /// (`z`'s own rounding, `16 · 1.1e-16`, entering `exp` the same way).
    fn s_e(x: &[f64], i: usize) -> (Dd, Dd) {
        let s = Dd::sum(Self::t(i), x[2]);
        (s, (Dd::from(x[1]) / s).exp())
    }
}

impl Residuals for Meyer {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        16
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        x[0] * (x[1] / (x[2] + Self::t(i))).exp() - Self::Y[i]
    }
    /// `∇r_i` and `∇²r_i` in `f64` from the double-double `s` and `e`, each entry within a few
    /// ulps (`e` itself rounded once).
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (x1, x2) = (x[0], x[1]);
        let (s, e) = Self::s_e(x, i);
        let (s, e) = (s.to_f64(), e.to_f64());
        g[0] = e;
        g[1] = x1 * e / s;
        g[2] = -x1 * x2 * e / (s * s);
        if let Some(h) = h {
            sym(h, 3, 0, 1, e / s);
            sym(h, 3, 0, 2, -x2 * e / (s * s));
            h[4] = x1 * e / (s * s);
            sym(h, 3, 1, 2, -x1 * e * (x2 + s) / s.powi(3));
            h[8] = x1 * x2 * e * (x2 + 2.0 * s) / s.powi(4);
        }
    }
    /// `r_i = x1 e - y_i` and `∇r_i = (e, x1 e/s, -x1 x2 e/s²)` in double-double: `x1 e`
    /// (`<= 3.5e4` at the minimizer) to a relative `~6e-30`, so `r_i` (`|r_i| <= 5.4`) to an
    /// absolute `~2e-25` before its rounding to `f64` (`<= 4.4e-16` for `|r_i| < 8`).
    fn residual_dd(&self, x: &[f64], i: usize, grad: Option<&mut [Dd]>) -> Option<Dd> {
        let (x1, x2) = (x[0], x[1]);
        let (s, e) = Self::s_e(x, i);
        let x1e = e * x1;
        if let Some(g) = grad {
            let x1e_s = x1e / s;
            g[0] = e;
            g[1] = x1e_s;
            g[2] = -(x1e_s * x2 / s);
        }
        Some(x1e - Dd::from(Self::Y[i]))
    }
}

/// MGH 11: `r_i = exp(-|y_i - x2|^x3 / x1) - t_i`, `t_i = i/100`,
/// `y_i = 25 + (-50 ln t_i)^(2/3)`.
pub(super) struct Gulf {
    pub m: usize,
}

impl Gulf {
    fn ty(i: usize) -> (f64, f64) {
        let t = (i + 1) as f64 / 100.0;
        (t, 25.0 + (-50.0 * t.ln()).powf(2.0 / 3.0))
    }
}

impl Residuals for Gulf {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        self.m
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let (t, y) = Self::ty(i);
        let p = (x[2] * (-x[1] + y).abs().ln()).exp();
        (-(p / x[0])).exp() - t
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (x1, x2, x3) = (x[0], x[1], x[2]);
        let (_, y) = Self::ty(i);
        // r = exp(z) - t with z = -P/x1, P = a^x3, a = |y - x2|, σ = sign(y - x2).
        let a = (y - x2).abs();
        let sigma = (y - x2).signum();
        let l = a.ln();
        let p = (x3 * l).exp();
        let e = (-p / x1).exp();
        let z = [p / (x1 * x1), sigma * x3 * p / (a * x1), -p * l / x1];
        for (gk, zk) in g.iter_mut().zip(z) {
            *gk = e * zk;
        }
        if let Some(h) = h {
            let zz = [
                [
                    -2.0 * p / x1.powi(3),
                    -sigma * x3 * p / (a * x1 * x1),
                    p * l / (x1 * x1),
                ],
                [
                    0.0,
                    -x3 * (x3 - 1.0) * p / (a * a * x1),
                    sigma * p * (1.0 + x3 * l) / (a * x1),
                ],
                [0.0, 0.0, -p * l * l / x1],
            ];
            for r in 0..3 {
                for c in r..3 {
                    sym(h, 3, r, c, e * (z[r] * z[c] + zz[r][c]));
                }
            }
        }
    }
}

/// MGH 12: `r_i = exp(-t_i x1) - exp(-t_i x2) - x3 (exp(-t_i) - exp(-10 t_i))`, `t_i = i/10`.
pub(super) struct Box3d {
    pub m: usize,
}

impl Residuals for Box3d {
    fn n(&self) -> usize {
        3
    }
    fn m(&self) -> usize {
        self.m
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = 0.1 * (i + 1) as f64;
        (x[0] * -t).exp() - (x[1] * -t).exp() - x[2] * ((-t).exp() - (-10.0 * t).exp())
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = 0.1 * (i + 1) as f64;
        let (e1, e2) = ((-t * x[0]).exp(), (-t * x[1]).exp());
        g[0] = -t * e1;
        g[1] = t * e2;
        g[2] = -((-t).exp() - (-10.0 * t).exp());
        if let Some(h) = h {
            h[0] = t * t * e1;
            h[4] = -t * t * e2;
        }
    }
}

/// MGH 14: `r = (10 (x2 - x1²), 1 - x1, √90 (x4 - x3²), 1 - x3, √10 (x2 + x4 - 2),
/// (x2 - x4)/√10)`.
pub(super) struct Wood;

impl Residuals for Wood {
    fn n(&self) -> usize {
        4
    }
    fn m(&self) -> usize {
        6
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        match i {
            0 => (x[1] - x[0] * x[0]) * 10.0,
            1 => -x[0] + 1.0,
            2 => (x[3] - x[2] * x[2]) * 90f64.sqrt(),
            3 => -x[2] + 1.0,
            4 => (x[1] + x[3] - 2.0) * 10f64.sqrt(),
            _ => (x[1] - x[3]) / 10f64.sqrt(),
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (s90, s10) = (90f64.sqrt(), 10f64.sqrt());
        match i {
            0 => {
                g[0] = -20.0 * x[0];
                g[1] = 10.0;
                if let Some(h) = h {
                    h[0] = -20.0;
                }
            }
            1 => g[0] = -1.0,
            2 => {
                g[2] = -2.0 * s90 * x[2];
                g[3] = s90;
                if let Some(h) = h {
                    h[2 * 4 + 2] = -2.0 * s90;
                }
            }
            3 => g[2] = -1.0,
            4 => {
                g[1] = s10;
                g[3] = s10;
            }
            _ => {
                g[1] = 1.0 / s10;
                g[3] = -1.0 / s10;
            }
        }
    }
}

/// MGH 15: `r_i = y_i - x1 (u_i² + u_i x2) / (u_i² + u_i x3 + x4)`.
pub(super) struct KowalikOsborne;

impl KowalikOsborne {
    const Y: [f64; 11] = [
        0.1957, 0.1947, 0.1735, 0.1600, 0.0844, 0.0627, 0.0456, 0.0342, 0.0323, 0.0235, 0.0246,
    ];
    const U: [f64; 11] = [
        4.0, 2.0, 1.0, 0.5, 0.25, 0.167, 0.125, 0.1, 0.0833, 0.0714, 0.0625,
    ];
}

impl Residuals for KowalikOsborne {
    fn n(&self) -> usize {
        4
    }
    fn m(&self) -> usize {
        11
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let u = Self::U[i];
        let num = x[1] * u + u * u;
        let den = x[2] * u + x[3] + u * u;
        -(x[0] * num / den) + Self::Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let u = Self::U[i];
        let x1 = x[0];
        let num = u * u + u * x[1];
        let d = u * u + u * x[2] + x[3];
        let d2 = d * d;
        g[0] = -num / d;
        g[1] = -x1 * u / d;
        g[2] = x1 * num * u / d2;
        g[3] = x1 * num / d2;
        if let Some(h) = h {
            let d3 = d2 * d;
            sym(h, 4, 0, 1, -u / d);
            sym(h, 4, 0, 2, num * u / d2);
            sym(h, 4, 0, 3, num / d2);
            sym(h, 4, 1, 2, x1 * u * u / d2);
            sym(h, 4, 1, 3, x1 * u / d2);
            h[2 * 4 + 2] = -2.0 * x1 * num * u * u / d3;
            sym(h, 4, 2, 3, -2.0 * x1 * num * u / d3);
            h[3 * 4 + 3] = -2.0 * x1 * num / d3;
        }
    }
}

/// MGH 16: `r_i = (x1 + t_i x2 - exp(t_i))² + (x3 + x4 sin t_i - cos t_i)²`, `t_i = i/5`.
pub(super) struct BrownDennis {
    pub m: usize,
}

impl Residuals for BrownDennis {
    fn n(&self) -> usize {
        4
    }
    fn m(&self) -> usize {
        self.m
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = (i + 1) as f64 / 5.0;
        let a = x[0] + x[1] * t - t.exp();
        let b = x[2] + x[3] * t.sin() - t.cos();
        a * a + b * b
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = (i + 1) as f64 / 5.0;
        let (s, c) = t.sin_cos();
        let a = x[0] + t * x[1] - t.exp();
        let b = x[2] + s * x[3] - c;
        let (da, db) = ([1.0, t, 0.0, 0.0], [0.0, 0.0, 1.0, s]);
        for k in 0..4 {
            g[k] = 2.0 * (a * da[k] + b * db[k]);
        }
        if let Some(h) = h {
            for r in 0..4 {
                for c in 0..4 {
                    h[r * 4 + c] = 2.0 * (da[r] * da[c] + db[r] * db[c]);
                }
            }
        }
    }
}

/// MGH 17: `r_i = y_i - (x1 + x2 exp(-t_i x4) + x3 exp(-t_i x5))`, `t_i = 10 (i - 1)`.
pub(super) struct Osborne1;

impl Osborne1 {
    const Y: [f64; 33] = [
        0.844, 0.908, 0.932, 0.936, 0.925, 0.908, 0.881, 0.850, 0.818, 0.784, 0.751, 0.718, 0.685,
        0.658, 0.628, 0.603, 0.580, 0.558, 0.538, 0.522, 0.506, 0.490, 0.478, 0.467, 0.457, 0.448,
        0.438, 0.431, 0.424, 0.420, 0.414, 0.411, 0.406,
    ];
}

impl Residuals for Osborne1 {
    fn n(&self) -> usize {
        5
    }
    fn m(&self) -> usize {
        33
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = 10.0 * i as f64;
        -(x[0] + x[1] * (x[3] * -t).exp() + x[2] * (x[4] * -t).exp()) + Self::Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = 10.0 * i as f64;
        let (e4, e5) = ((-t * x[3]).exp(), (-t * x[4]).exp());
        g[0] = -1.0;
        g[1] = -e4;
        g[2] = -e5;
        g[3] = t * x[1] * e4;
        g[4] = t * x[2] * e5;
        if let Some(h) = h {
            sym(h, 5, 1, 3, t * e4);
            h[3 * 5 + 3] = -t * t * x[1] * e4;
            sym(h, 5, 2, 4, t * e5);
            h[4 * 5 + 4] = -t * t * x[2] * e5;
        }
    }
}

/// MGH 18: `r_i = x3 exp(-t_i x1) - x4 exp(-t_i x2) + x6 exp(-t_i x5) - y_i`, `t_i = i/10`,
/// `y_i = exp(-t_i) - 5 exp(-10 t_i) + 3 exp(-4 t_i)`.
pub(super) struct BiggsExp6 {
    pub m: usize,
}

impl Residuals for BiggsExp6 {
    fn n(&self) -> usize {
        6
    }
    fn m(&self) -> usize {
        self.m
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = 0.1 * (i + 1) as f64;
        let y = (-t).exp() - 5.0 * (-10.0 * t).exp() + 3.0 * (-4.0 * t).exp();
        x[2] * (x[0] * -t).exp() - x[3] * (x[1] * -t).exp() + x[5] * (x[4] * -t).exp() - y
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = 0.1 * (i + 1) as f64;
        let (ea, eb, ec) = ((-t * x[0]).exp(), (-t * x[1]).exp(), (-t * x[4]).exp());
        g[0] = -t * x[2] * ea;
        g[1] = t * x[3] * eb;
        g[2] = ea;
        g[3] = -eb;
        g[4] = -t * x[5] * ec;
        g[5] = ec;
        if let Some(h) = h {
            h[0] = t * t * x[2] * ea;
            sym(h, 6, 0, 2, -t * ea);
            h[6 + 1] = -t * t * x[3] * eb;
            sym(h, 6, 1, 3, t * eb);
            h[4 * 6 + 4] = t * t * x[5] * ec;
            sym(h, 6, 4, 5, -t * ec);
        }
    }
}

/// MGH 19: `r_i = y_i - (x1 exp(-t_i x5) + sum_{k=2..4} x_k exp(-(t_i - x_{k+7})² x_{k+4}))`,
/// `t_i = (i - 1)/10`.
pub(super) struct Osborne2;

impl Osborne2 {
    const Y: [f64; 65] = [
        1.366, 1.191, 1.112, 1.013, 0.991, 0.885, 0.831, 0.847, 0.786, 0.725, 0.746, 0.679, 0.608,
        0.655, 0.616, 0.606, 0.602, 0.626, 0.651, 0.724, 0.649, 0.649, 0.694, 0.644, 0.624, 0.661,
        0.612, 0.558, 0.533, 0.495, 0.500, 0.423, 0.395, 0.375, 0.372, 0.391, 0.396, 0.405, 0.428,
        0.429, 0.523, 0.562, 0.607, 0.653, 0.672, 0.708, 0.633, 0.668, 0.645, 0.632, 0.591, 0.559,
        0.597, 0.625, 0.739, 0.710, 0.729, 0.720, 0.636, 0.581, 0.428, 0.292, 0.162, 0.098, 0.054,
    ];
}

impl Residuals for Osborne2 {
    fn n(&self) -> usize {
        11
    }
    fn m(&self) -> usize {
        65
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let t = i as f64 / 10.0;
        let bump = |c: S, w: S, mu: S| {
            let d = -mu + t;
            c * (-(d * d * w)).exp()
        };
        let model = x[0] * (x[4] * -t).exp()
            + bump(x[1], x[5], x[8])
            + bump(x[2], x[6], x[9])
            + bump(x[3], x[7], x[10]);
        -model + Self::Y[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let t = i as f64 / 10.0;
        const N: usize = 11;
        // Derivatives of the model, negated at the end (r = y - model).
        let e = (-t * x[4]).exp();
        g[0] = e;
        g[4] = -t * x[0] * e;
        let mut hm = [0.0; N * N];
        sym(&mut hm, N, 0, 4, -t * e);
        hm[4 * N + 4] = t * t * x[0] * e;
        for k in 1..4 {
            let (c, w, mu) = (k, k + 4, k + 7);
            let d = t - x[mu];
            let gk = (-d * d * x[w]).exp();
            g[c] = gk;
            g[w] = -x[c] * d * d * gk;
            g[mu] = 2.0 * x[c] * d * x[w] * gk;
            sym(&mut hm, N, c, w, -d * d * gk);
            sym(&mut hm, N, c, mu, 2.0 * d * x[w] * gk);
            hm[w * N + w] = x[c] * d.powi(4) * gk;
            sym(
                &mut hm,
                N,
                w,
                mu,
                x[c] * gk * (2.0 * d - 2.0 * d.powi(3) * x[w]),
            );
            hm[mu * N + mu] = 2.0 * x[c] * x[w] * gk * (2.0 * d * d * x[w] - 1.0);
        }
        g.iter_mut().for_each(|v| *v = -*v);
        if let Some(h) = h {
            for (hv, m) in h.iter_mut().zip(hm) {
                *hv = -m;
            }
        }
    }
}

/// MGH 20 (`m = 31`): for `i <= 29`, `t_i = i/29`,
/// `r_i = sum_{j>=2} (j - 1) x_j t_i^(j-2) - (sum_j x_j t_i^(j-1))² - 1`; `r_30 = x1`,
/// `r_31 = x2 - x1² - 1`.
pub(super) struct Watson {
    pub n: usize,
}

impl Residuals for Watson {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        31
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        match i {
            29 => x[0],
            30 => x[1] - x[0] * x[0] - 1.0,
            _ => {
                let t = (i + 1) as f64 / 29.0;
                let s1 = sum((1..self.n).map(|j| x[j] * (j as f64 * t.powi(j as i32 - 1))));
                let s2 = sum((0..self.n).map(|j| x[j] * t.powi(j as i32)));
                s1 - s2 * s2 - 1.0
            }
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let n = self.n;
        match i {
            29 => g[0] = 1.0,
            30 => {
                g[0] = -2.0 * x[0];
                g[1] = 1.0;
                if let Some(h) = h {
                    h[0] = -2.0;
                }
            }
            _ => {
                let t = (i + 1) as f64 / 29.0;
                let p: Vec<f64> = (0..n).map(|j| t.powi(j as i32)).collect();
                let s2: f64 = x.iter().zip(&p).map(|(a, b)| a * b).sum();
                for j in 0..n {
                    let d1 = if j > 0 { j as f64 * p[j - 1] } else { 0.0 };
                    g[j] = d1 - 2.0 * s2 * p[j];
                }
                if let Some(h) = h {
                    for a in 0..n {
                        for b in 0..n {
                            h[a * n + b] = -2.0 * p[a] * p[b];
                        }
                    }
                }
            }
        }
    }
}

/// MGH 23 (`m = n + 1`, `a = 10^-5`): `r_i = √a (x_i - 1)` for `i <= n`,
/// `r_{n+1} = sum_j x_j² - 1/4`.
pub(super) struct Penalty1 {
    pub n: usize,
}

const PENALTY_A: f64 = 1e-5;

impl Residuals for Penalty1 {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n + 1
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        vars.clear();
        if i < self.n {
            vars.push(i);
        } else {
            vars.extend(0..self.n);
        }
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        if i < self.n {
            (x[i] - 1.0) * PENALTY_A.sqrt()
        } else {
            sum(x.iter().map(|&v| v * v)) - 0.25
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let n = self.n;
        if i < n {
            g[0] = PENALTY_A.sqrt();
        } else {
            for j in 0..n {
                g[j] = 2.0 * x[j];
            }
            if let Some(h) = h {
                (0..n).for_each(|j| h[j * n + j] = 2.0);
            }
        }
    }
}

/// MGH 24 (`m = 2n`, `a = 10^-5`): `r_1 = x1 - 0.2`;
/// `r_i = √a (exp(x_i/10) + exp(x_{i-1}/10) - y_i)` for `2 <= i <= n`,
/// `y_i = exp(i/10) + exp((i-1)/10)`; `r_i = √a (exp(x_{i-n+1}/10) - exp(-1/10))` for
/// `n < i < 2n`; `r_2n = sum_j (n - j + 1) x_j² - 1`.
pub(super) struct Penalty2 {
    pub n: usize,
}

impl Residuals for Penalty2 {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        2 * self.n
    }
    fn support(&self, k: usize, vars: &mut Vec<usize>) {
        let n = self.n;
        vars.clear();
        match k {
            0 => vars.push(0),
            _ if k < n => vars.extend([k - 1, k]),
            _ if k < 2 * n - 1 => vars.push(k + 1 - n),
            _ => vars.extend(0..n),
        }
    }
    fn residual<S: Scalar>(&self, x: &[S], k: usize) -> S {
        let n = self.n;
        let sa = PENALTY_A.sqrt();
        if k == 0 {
            x[0] - 0.2
        } else if k < n {
            let i = (k + 1) as f64;
            let y = (i / 10.0).exp() + ((i - 1.0) / 10.0).exp();
            ((x[k] / 10.0).exp() + (x[k - 1] / 10.0).exp() - y) * sa
        } else if k < 2 * n - 1 {
            ((x[k + 1 - n] / 10.0).exp() - (-0.1f64).exp()) * sa
        } else {
            sum((0..n).map(|j| x[j] * x[j] * (n - j) as f64)) - 1.0
        }
    }
    fn derivatives(&self, x: &[f64], k: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let n = self.n;
        let sa = PENALTY_A.sqrt();
        // d/dx exp(x/10) = exp(x/10)/10, d² = exp(x/10)/100.
        let e = |v: f64| (v / 10.0).exp();
        if k == 0 {
            g[0] = 1.0;
        } else if k < n {
            let (a, b) = (e(x[k - 1]), e(x[k]));
            g[0] = sa * a / 10.0;
            g[1] = sa * b / 10.0;
            if let Some(h) = h {
                h[0] = sa * a / 100.0;
                h[3] = sa * b / 100.0;
            }
        } else if k < 2 * n - 1 {
            let a = e(x[k + 1 - n]);
            g[0] = sa * a / 10.0;
            if let Some(h) = h {
                h[0] = sa * a / 100.0;
            }
        } else {
            for j in 0..n {
                g[j] = 2.0 * (n - j) as f64 * x[j];
            }
            if let Some(h) = h {
                (0..n).for_each(|j| h[j * n + j] = 2.0 * (n - j) as f64);
            }
        }
    }
}

/// MGH 25 (`m = n + 2`): `r_i = x_i - 1` for `i <= n`, `r_{n+1} = sum_j j (x_j - 1)`,
/// `r_{n+2} = r_{n+1}²`.
pub(super) struct VariablyDim {
    pub n: usize,
}

impl Residuals for VariablyDim {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n + 2
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        vars.clear();
        if i < self.n {
            vars.push(i);
        } else {
            vars.extend(0..self.n);
        }
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        if i < self.n {
            return x[i] - 1.0;
        }
        let s = sum(x
            .iter()
            .enumerate()
            .map(|(j, &v)| (v - 1.0) * (j + 1) as f64));
        if i == self.n { s } else { s * s }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let n = self.n;
        if i < n {
            g[0] = 1.0;
            return;
        }
        let w = |j: usize| (j + 1) as f64;
        if i == n {
            (0..n).for_each(|j| g[j] = w(j));
        } else {
            let s: f64 = (0..n).map(|j| w(j) * (x[j] - 1.0)).sum();
            (0..n).for_each(|j| g[j] = 2.0 * s * w(j));
            if let Some(h) = h {
                for a in 0..n {
                    for b in 0..n {
                        h[a * n + b] = 2.0 * w(a) * w(b);
                    }
                }
            }
        }
    }
}

/// MGH 26 (`m = n`): `r_i = n - sum_j cos x_j + i (1 - cos x_i) - sin x_i`.
pub(super) struct Trigonometric {
    pub n: usize,
}

impl Residuals for Trigonometric {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n
    }
    fn residual<S: Scalar>(&self, x: &[S], k: usize) -> S {
        let i = (k + 1) as f64;
        -sum(x.iter().map(|&v| v.cos())) + self.n as f64 + (-x[k].cos() + 1.0) * i - x[k].sin()
    }
    fn derivatives(&self, x: &[f64], k: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let n = self.n;
        let i = (k + 1) as f64;
        for j in 0..n {
            g[j] = x[j].sin();
        }
        g[k] += i * x[k].sin() - x[k].cos();
        if let Some(h) = h {
            for j in 0..n {
                h[j * n + j] = x[j].cos();
            }
            h[k * n + k] += i * x[k].cos() + x[k].sin();
        }
    }
}

/// MGH 35: `r_i = (1/n) sum_j T_i(2 x_j - 1) - ∫_0^1 T_i(2x - 1) dx` with `T_i` the Chebyshev
/// polynomials; the integral is `0` for odd `i`, `-1/(i² - 1)` for even `i`.
pub(super) struct Chebyquad {
    pub n: usize,
    pub m: usize,
}

impl Chebyquad {
    fn integral(i: usize) -> f64 {
        if i % 2 == 1 {
            0.0
        } else {
            -1.0 / ((i * i) as f64 - 1.0)
        }
    }
}

impl Residuals for Chebyquad {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.m
    }
    fn residual<S: Scalar>(&self, x: &[S], k: usize) -> S {
        let i = k + 1;
        let t = |v: S| {
            // T_0 = 1, T_1 = y, T_{l+1} = 2 y T_l - T_{l-1}.
            let y = v * 2.0 - 1.0;
            let (mut prev, mut cur) = (None, y);
            for _ in 1..i {
                let next = match prev {
                    None => y * y * 2.0 - 1.0,
                    Some(p) => y * cur * 2.0 - p,
                };
                prev = Some(cur);
                cur = next;
            }
            cur
        };
        sum(x.iter().map(|&v| t(v))) / self.n as f64 - Self::integral(i)
    }
    fn derivatives(&self, x: &[f64], k: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (n, i) = (self.n, k + 1);
        let nf = n as f64;
        let mut h = h;
        for (j, &v) in x.iter().enumerate() {
            let y = 2.0 * v - 1.0;
            // (T, T', T'') by the recurrence differentiated in y.
            let (mut t0, mut d0, mut s0) = (1.0, 0.0, 0.0);
            let (mut t1, mut d1, mut s1) = (y, 1.0, 0.0);
            for _ in 1..i {
                let t2 = 2.0 * y * t1 - t0;
                let d2 = 2.0 * t1 + 2.0 * y * d1 - d0;
                let s2 = 4.0 * d1 + 2.0 * y * s1 - s0;
                (t0, d0, s0, t1, d1, s1) = (t1, d1, s1, t2, d2, s2);
            }
            // d/dx = 2 d/dy.
            g[j] = 2.0 * d1 / nf;
            if let Some(h) = h.as_deref_mut() {
                h[j * n + j] = 4.0 * s1 / nf;
            }
        }
    }
}
