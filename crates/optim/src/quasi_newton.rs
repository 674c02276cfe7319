//! Quasi-Newton methods: BFGS and L-BFGS.
//!
//! Both step along `d = -H_k ∇f(x_k)`, where `H_k` approximates the inverse Hessian from the
//! pairs `s_k = x_{k+1} - x_k`, `y_k = ∇f(x_{k+1}) - ∇f(x_k)`, with a strong-Wolfe line search
//! (Moré-Thuente, `c2 = 0.9`, first trial `α = 1`). The Wolfe curvature condition gives
//! `s_k·y_k > 0`, which keeps `H_k` positive definite, so every `d` is a descent direction.
//! Convergence is superlinear near a minimizer with positive definite Hessian (Nocedal and
//! Wright, ch. 6-7).
//!
//! **BFGS** keeps the dense `n x n` `H` and updates it in `O(n^2)` (never a solve):
//! `H+ = (I - ρ s y^T) H (I - ρ y s^T) + ρ s s^T` with `ρ = 1 / y·s`, expanded as
//! `H - ρ (s (Hy)^T + (Hy) s^T) + (ρ^2 y·Hy + ρ) s s^T`; `H_0 = (s·y / y·y) I` after the first
//! step. **L-BFGS** keeps the last `m` pairs and applies `H_k` by the two-loop recursion in
//! `O(m n)`, with `H_0 = (s·y / y·y) I` from the newest pair.

use crate::executor::{Point, Solver, Status};
use crate::linalg::{dot, norm_inf};
use crate::line_search::more_thuente;
use crate::objective::Objective;
use std::collections::VecDeque;

/// First trial step: 1, except at the start, where the gradient's scale is unknown and the first
/// step is capped to move no coordinate by more than 1.
fn first_trial(iteration0: bool, grad: &[f64]) -> f64 {
    if iteration0 {
        (1.0 / norm_inf(grad)).min(1.0)
    } else {
        1.0
    }
}

/// `(s, y)` from two points.
fn pair(old: &Point, new: &Point) -> (Vec<f64>, Vec<f64>) {
    let s = new.x.iter().zip(&old.x).map(|(a, b)| a - b).collect();
    let y = new.grad.iter().zip(&old.grad).map(|(a, b)| a - b).collect();
    (s, y)
}

/// `s·y` large enough (relative to `|s||y|`) for a numerically safe update.
fn curvature_ok(s: &[f64], y: &[f64]) -> bool {
    let sy = dot(s, y);
    sy > 1e-10 * dot(s, s).sqrt() * dot(y, y).sqrt() && sy.is_finite()
}

/// Dense BFGS on the inverse Hessian.
///
/// ```
/// use nabla_optim::{minimize, Bfgs, GraphObjective, Options};
/// let f = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let r = minimize(&f, &mut Bfgs::default(), &[-1.2, 1.0], &Options::default());
/// assert!(r.converged() && (r.point.x[0] - 1.0).abs() < 1e-6);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Bfgs {
    h: Vec<f64>,
    scaled: bool,
}

impl Solver for Bfgs {
    fn name(&self) -> &'static str {
        "bfgs"
    }

    fn init(&mut self, _: &dyn Objective, start: &Point) -> Result<(), Status> {
        let n = start.x.len();
        self.h = vec![0.0; n * n];
        (0..n).for_each(|i| self.h[i * n + i] = 1.0);
        self.scaled = false;
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let n = current.x.len();
        let d: Vec<f64> = self
            .h
            .chunks_exact(n)
            .map(|row| -dot(row, &current.grad))
            .collect();
        let next = more_thuente(
            objective,
            current,
            &d,
            first_trial(!self.scaled, &current.grad),
            0.9,
        )?;
        let (s, y) = pair(current, &next);
        if curvature_ok(&s, &y) {
            let sy = dot(&s, &y);
            if !self.scaled {
                let gamma = sy / dot(&y, &y);
                self.h.iter_mut().for_each(|h| *h *= gamma);
                self.scaled = true;
            }
            let rho = 1.0 / sy;
            let hy: Vec<f64> = self.h.chunks_exact(n).map(|row| dot(row, &y)).collect();
            let c = rho * rho * dot(&y, &hy) + rho;
            for i in 0..n {
                for j in 0..n {
                    self.h[i * n + j] += -rho * (s[i] * hy[j] + hy[i] * s[j]) + c * s[i] * s[j];
                }
            }
        }
        Ok(next)
    }
}

/// Limited-memory BFGS with `m` pairs (default 10).
///
/// ```
/// use nabla_optim::{minimize, FnObjective, Lbfgs, Options};
/// // sum_i i x_i^2 / 2 for i = 1..100: condition number 100.
/// let f = FnObjective::new(100, |x: &[f64], g: &mut [f64]| {
///     let mut v = 0.0;
///     for (i, (x, g)) in x.iter().zip(g.iter_mut()).enumerate() {
///         *g = (i + 1) as f64 * x;
///         v += (i + 1) as f64 * x * x / 2.0;
///     }
///     v
/// });
/// let r = minimize(&f, &mut Lbfgs::new(10), &vec![1.0; 100], &Options::default());
/// assert!(r.converged(), "{}", r.status);
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs {
    m: usize,
    pairs: VecDeque<(Vec<f64>, Vec<f64>, f64)>, // (s, y, 1 / y·s)
}

impl Lbfgs {
    /// L-BFGS keeping the last `m` pairs.
    ///
    /// # Panics
    /// If `m == 0`.
    pub fn new(m: usize) -> Self {
        assert!(m > 0, "Lbfgs::new: the memory m must be at least 1");
        Lbfgs {
            m,
            pairs: VecDeque::with_capacity(m),
        }
    }

    /// `d = -H g` by the two-loop recursion.
    fn direction(&self, g: &[f64]) -> Vec<f64> {
        let mut q: Vec<f64> = g.to_vec();
        let mut alphas = Vec::with_capacity(self.pairs.len());
        for (s, y, rho) in self.pairs.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(q, y)| *q -= a * y);
            alphas.push(a);
        }
        if let Some((s, y, _)) = self.pairs.back() {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|q| *q *= gamma);
        }
        for ((s, y, rho), a) in self.pairs.iter().zip(alphas.iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(q, s)| *q += (a - b) * s);
        }
        q.iter_mut().for_each(|q| *q = -*q);
        q
    }
}

impl Default for Lbfgs {
    fn default() -> Self {
        Lbfgs::new(10)
    }
}

impl Solver for Lbfgs {
    fn name(&self) -> &'static str {
        "lbfgs"
    }

    fn init(&mut self, _: &dyn Objective, _: &Point) -> Result<(), Status> {
        self.pairs.clear();
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let d = self.direction(&current.grad);
        let next = more_thuente(
            objective,
            current,
            &d,
            first_trial(self.pairs.is_empty(), &current.grad),
            0.9,
        )?;
        let (s, y) = pair(current, &next);
        if curvature_ok(&s, &y) {
            if self.pairs.len() == self.m {
                self.pairs.pop_front();
            }
            let rho = 1.0 / dot(&s, &y);
            self.pairs.push_back((s, y, rho));
        }
        Ok(next)
    }
}
