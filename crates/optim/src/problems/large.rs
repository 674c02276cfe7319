//! The MGH problems of any size `n` whose residuals each depend on at most 4 neighbouring
//! variables, so value, gradient and `H v` cost `O(n)`. MGH 1 and 13 are the `n = 2` and
//! `n = 4` cases of MGH 21 and 22 and share their code.

use super::Scalar;
use super::least_squares::{Residuals, sym};

/// MGH 21 (`m = n`, `n` even): `r_{2i-1} = 10 (x_{2i} - x_{2i-1}²)`, `r_{2i} = 1 - x_{2i-1}`.
pub(super) struct ExtRosenbrock {
    pub n: usize,
}

impl Residuals for ExtRosenbrock {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        let b = i - i % 2;
        vars.clear();
        vars.extend([b, b + 1]);
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let b = i - i % 2;
        if i.is_multiple_of(2) {
            (x[b + 1] - x[b] * x[b]) * 10.0
        } else {
            -x[b] + 1.0
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        if i.is_multiple_of(2) {
            g[0] = -20.0 * x[i];
            g[1] = 10.0;
            if let Some(h) = h {
                h[0] = -20.0;
            }
        } else {
            g[0] = -1.0;
        }
    }
}

/// MGH 22 (`m = n`, `n` a multiple of 4), on each block `(a, b, c, d)` of 4:
/// `a + 10 b`, `√5 (c - d)`, `(b - 2c)²`, `√10 (a - d)²`.
pub(super) struct ExtPowell {
    pub n: usize,
}

impl Residuals for ExtPowell {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        let b = i - i % 4;
        vars.clear();
        vars.extend(b..b + 4);
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let k = i - i % 4;
        let (a, b, c, d) = (x[k], x[k + 1], x[k + 2], x[k + 3]);
        match i % 4 {
            0 => a + b * 10.0,
            1 => (c - d) * 5f64.sqrt(),
            2 => (b - c * 2.0).powi(2),
            _ => (a - d).powi(2) * 10f64.sqrt(),
        }
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let k = i - i % 4;
        let (a, b, c, d) = (x[k], x[k + 1], x[k + 2], x[k + 3]);
        match i % 4 {
            0 => {
                g[0] = 1.0;
                g[1] = 10.0;
            }
            1 => {
                g[2] = 5f64.sqrt();
                g[3] = -5f64.sqrt();
            }
            2 => {
                let e = b - 2.0 * c;
                g[1] = 2.0 * e;
                g[2] = -4.0 * e;
                if let Some(h) = h {
                    h[4 + 1] = 2.0;
                    sym(h, 4, 1, 2, -4.0);
                    h[2 * 4 + 2] = 8.0;
                }
            }
            _ => {
                let s = 10f64.sqrt();
                let e = a - d;
                g[0] = 2.0 * s * e;
                g[3] = -2.0 * s * e;
                if let Some(h) = h {
                    h[0] = 2.0 * s;
                    sym(h, 4, 0, 3, -2.0 * s);
                    h[3 * 4 + 3] = 2.0 * s;
                }
            }
        }
    }
}

/// Writes `i-1, i, i+1` (those in `0..n`) to `vars`: `x_i` is at position `min(i, 1)`.
fn tridiagonal_support(n: usize, i: usize, vars: &mut Vec<usize>) {
    vars.clear();
    vars.extend(i.saturating_sub(1)..(i + 2).min(n));
}

/// MGH 30 (`m = n`): `r_i = (3 - 2 x_i) x_i - x_{i-1} - 2 x_{i+1} + 1`, `x_0 = x_{n+1} = 0`.
pub(super) struct BroydenTridiag {
    pub n: usize,
}

impl Residuals for BroydenTridiag {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        tridiagonal_support(self.n, i, vars);
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let mut r = (-(x[i] * 2.0) + 3.0) * x[i] + 1.0;
        if i > 0 {
            r = r - x[i - 1];
        }
        if i + 1 < self.n {
            r = r - x[i + 1] * 2.0;
        }
        r
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], h: Option<&mut [f64]>) {
        let (c, k) = (i.min(1), g.len()); // x_i's position in the support, its length
        g[c] = 3.0 - 4.0 * x[i];
        if i > 0 {
            g[c - 1] = -1.0;
        }
        if i + 1 < self.n {
            g[c + 1] = -2.0;
        }
        if let Some(h) = h {
            h[c * k + c] = -4.0;
        }
    }
}

/// MGH 28 (`m = n`, `h = 1/(n+1)`, `t_i = i h`):
/// `r_i = 2 x_i - x_{i-1} - x_{i+1} + h² (x_i + t_i + 1)³ / 2`, `x_0 = x_{n+1} = 0`.
pub(super) struct DiscreteBv {
    pub n: usize,
}

impl DiscreteBv {
    fn h(&self) -> f64 {
        1.0 / (self.n + 1) as f64
    }
    /// The MGH start `x_i = t_i (t_i - 1)`.
    pub(super) fn x0(&self) -> Vec<f64> {
        (1..=self.n)
            .map(|i| {
                let t = i as f64 * self.h();
                t * (t - 1.0)
            })
            .collect()
    }
}

impl Residuals for DiscreteBv {
    fn n(&self) -> usize {
        self.n
    }
    fn m(&self) -> usize {
        self.n
    }
    fn support(&self, i: usize, vars: &mut Vec<usize>) {
        tridiagonal_support(self.n, i, vars);
    }
    fn residual<S: Scalar>(&self, x: &[S], i: usize) -> S {
        let h = self.h();
        let t = (i + 1) as f64 * h;
        let mut r = x[i] * 2.0 + (x[i] + t + 1.0).powi(3) * (h * h / 2.0);
        if i > 0 {
            r = r - x[i - 1];
        }
        if i + 1 < self.n {
            r = r - x[i + 1];
        }
        r
    }
    fn derivatives(&self, x: &[f64], i: usize, g: &mut [f64], hess: Option<&mut [f64]>) {
        let (c, k) = (i.min(1), g.len()); // x_i's position in the support, its length
        let h = self.h();
        let u = x[i] + (i + 1) as f64 * h + 1.0;
        g[c] = 2.0 + 1.5 * h * h * u * u;
        if i > 0 {
            g[c - 1] = -1.0;
        }
        if i + 1 < self.n {
            g[c + 1] = -1.0;
        }
        if let Some(hs) = hess {
            hs[c * k + c] = 3.0 * h * h * u;
        }
    }
}
