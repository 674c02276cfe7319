//! The guide's examples: the quartic of section 2, log-sum-exp plus a quadratic (section 1's
//! exercise 3 made strictly convex), and section 6's matrix factorization.

use super::least_squares::{Residuals, lsq, sym};
use super::{Function, Normals, Scalar, TestProblem};
use crate::Objective;
use nabla_graph::Var;

/// `3x^4 - 4x^3 - 12x^2` (`n = 1`): critical points -1 (minimum, -5), 0 (maximum), 2 (minimum,
/// -32).
pub(super) struct Quartic;

impl Quartic {
    fn f<S: Scalar>(x: S) -> S {
        x.powi(4) * 3.0 - x.powi(3) * 4.0 - x * x * 12.0
    }
}

impl Objective for Quartic {
    fn dim(&self) -> usize {
        1
    }
    fn value(&self, x: &[f64]) -> f64 {
        Self::f(x[0])
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let v = x[0];
        grad[0] = 12.0 * v.powi(3) - 12.0 * v * v - 24.0 * v;
        Self::f(v)
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let mut h = [0.0];
        self.hessian(x, &mut h);
        out[0] = h[0] * v[0];
        true
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        out[0] = 36.0 * x[0] * x[0] - 24.0 * x[0] - 24.0;
        true
    }
}

impl Function for Quartic {
    fn graph<'g>(&self, x: &[Var<'g, f64>]) -> Var<'g, f64> {
        Self::f(x[0])
    }
}

/// `log(e^x + e^y) + (x² + y²)/2`: gradient `softmax(x, y) + (x, y)`, Hessian
/// `diag(s) - s sᵀ + I` with `s = softmax(x, y)`.
pub(super) struct LogSumExpQuad;

impl LogSumExpQuad {
    /// `max + log1p(exp(-|x - y|))`: no overflow for large arguments.
    fn f<S: Scalar>(x: S, y: S) -> S {
        let (hi, lo) = if x.val() >= y.val() { (x, y) } else { (y, x) };
        hi + (lo - hi).exp().ln_1p() + (x * x + y * y) / 2.0
    }
    /// The softmax of `(x, y)`, stably.
    fn softmax(x: f64, y: f64) -> (f64, f64) {
        let m = x.max(y);
        let (a, b) = ((x - m).exp(), (y - m).exp());
        (a / (a + b), b / (a + b))
    }
}

impl Objective for LogSumExpQuad {
    fn dim(&self) -> usize {
        2
    }
    fn value(&self, x: &[f64]) -> f64 {
        Self::f(x[0], x[1])
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let (s0, s1) = Self::softmax(x[0], x[1]);
        grad[0] = s0 + x[0];
        grad[1] = s1 + x[1];
        Self::f(x[0], x[1])
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let mut h = [0.0; 4];
        self.hessian(x, &mut h);
        out[0] = h[0] * v[0] + h[1] * v[1];
        out[1] = h[2] * v[0] + h[3] * v[1];
        true
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let (s0, s1) = Self::softmax(x[0], x[1]);
        let c = s0 * s1;
        out.copy_from_slice(&[c + 1.0, -c, -c, c + 1.0]);
        true
    }
}

impl Function for LogSumExpQuad {
    fn graph<'g>(&self, x: &[Var<'g, f64>]) -> Var<'g, f64> {
        Self::f(x[0], x[1])
    }
}

const ROWS: usize = 50;
const COLS: usize = 40;
const RANK: usize = 5;
/// `U`'s entries come first in `matfact_UV`'s `x`.
const U_LEN: usize = ROWS * RANK;

/// `||X - U V||_F^2` over `V` (`U` fixed) or over `x = (U, V)`; `U` (50 x 5) and `V` (5 x 40)
/// row-major. Residual `i` is `(X - U V)_ab` with `a = i / 40`, `b = i % 40`.
struct MatFact {
    x: Vec<f64>,
    u_fixed: Option<Vec<f64>>,
}

impl MatFact {
    fn v_at(&self, k: usize, b: usize) -> usize {
        let offset = if self.u_fixed.is_some() { 0 } else { U_LEN };
        offset + k * COLS + b
    }
}

impl Residuals for MatFact {
    fn n(&self) -> usize {
        RANK * COLS + if self.u_fixed.is_some() { 0 } else { U_LEN }
    }
    fn m(&self) -> usize {
        ROWS * COLS
    }
    /// `V[:, b]` (and before it `U[a, :]` when `U` varies).
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        let (a, b) = (i / COLS, i % COLS);
        vars.clear();
        if self.u_fixed.is_none() {
            vars.extend((0..RANK).map(|k| a * RANK + k));
        }
        vars.extend((0..RANK).map(|k| self.v_at(k, b)));
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let (a, b) = (i / COLS, i % COLS);
        let uv = match &self.u_fixed {
            Some(u) => super::sum((0..RANK).map(|k| x[self.v_at(k, b)] * u[a * RANK + k])),
            None => super::sum((0..RANK).map(|k| x[a * RANK + k] * x[self.v_at(k, b)])),
        };
        -uv + self.x[i]
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (a, b) = (i / COLS, i % COLS);
        match &self.u_fixed {
            Some(u) => (0..RANK).for_each(|k| g[k] = -u[a * RANK + k]),
            None => {
                for k in 0..RANK {
                    g[k] = -x[self.v_at(k, b)];
                    g[RANK + k] = -x[a * RANK + k];
                }
                if let Some(h) = h {
                    (0..RANK).for_each(|k| sym(h, 2 * RANK, k, RANK + k, -1.0));
                }
            }
        }
    }
}

/// `(U0, V0, X = U0 V0)` from seeds 1 and 2.
fn instance() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let u0 = Normals::new(1).take(U_LEN);
    let v0 = Normals::new(2).take(RANK * COLS);
    let x = (0..ROWS * COLS)
        .map(|i| {
            let (a, b) = (i / COLS, i % COLS);
            (0..RANK).map(|k| u0[a * RANK + k] * v0[k * COLS + b]).sum()
        })
        .collect();
    (u0, v0, x)
}

fn matfact(name: &'static str, f: MatFact, x0: Vec<f64>, minimizer: Vec<f64>) -> TestProblem {
    TestProblem {
        name,
        mgh_number: None,
        x0,
        f_best: 0.0,
        other_local_minima: vec![],
        minimizer: Some(minimizer),
        m: Some(ROWS * COLS),
        f: lsq(f),
    }
}

/// `||U0 V0 - U0 V||_F^2` over `V`, from a seed-3 normal `V`.
pub(super) fn matfact_v_only() -> TestProblem {
    let (u0, v0, x) = instance();
    let f = MatFact {
        x,
        u_fixed: Some(u0),
    };
    matfact("matfact_V_only", f, Normals::new(3).take(RANK * COLS), v0)
}

/// `||U0 V0 - U V||_F^2` over `(U, V)`, from seed-4 `U` and seed-3 `V`.
pub(super) fn matfact_uv() -> TestProblem {
    let (u0, v0, x) = instance();
    let f = MatFact { x, u_fixed: None };
    let x0 = [
        Normals::new(4).take(U_LEN),
        Normals::new(3).take(RANK * COLS),
    ]
    .concat();
    matfact("matfact_UV", f, x0, [u0, v0].concat())
}
