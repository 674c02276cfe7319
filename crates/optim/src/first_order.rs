//! First-order methods: gradient descent and momentum.
//!
//! **Gradient descent** (the guide's section 2): `x_{k+1} = x_k - α_k ∇f(x_k)`, with `α_k`
//! fixed, from Armijo backtracking, or from a strong-Wolfe line search. With a line search, every
//! step decreases `f` and (for `f` bounded below with Lipschitz gradient) `∇f(x_k) -> 0`; the
//! rate is linear with constant `(κ - 1) / (κ + 1)` for a quadratic of condition number `κ`, so
//! ill-conditioned valleys (Rosenbrock) take thousands of steps. A fixed step guarantees nothing
//! unless `α < 2 / L`.
//!
//! **Momentum**: heavy ball (Polyak) `v_{k+1} = β v_k - α ∇f(x_k)`, `x_{k+1} = x_k + v_{k+1}`;
//! Nesterov's accelerated gradient evaluates the gradient at the look-ahead point. Here the
//! iterate *is* the look-ahead point (Sutskever et al.'s form), so one gradient per step:
//! `v_{k+1} = β v_k - α ∇f(x_k)`, `x_{k+1} = x_k + β v_{k+1} - α ∇f(x_k)`. Neither is
//! monotone; for convex quadratics with `α = 1/L` Nesterov reaches the `O(1/k^2)` rate.

use crate::executor::{Point, Solver, Status};
use crate::linalg::dot;
use crate::line_search::{armijo, more_thuente};
use crate::objective::Objective;

/// How gradient descent chooses its step length.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepRule {
    /// A constant `α` (the guide's `ε`).
    Fixed(f64),
    /// Armijo backtracking from the previous accepted step times 2 (from 1 at the start).
    Armijo,
    /// A strong-Wolfe step (Moré-Thuente, `c2 = 0.1`), starting from the step that would repeat
    /// the previous iteration's first-order decrease (Nocedal and Wright, eq. 3.60).
    StrongWolfe,
}

/// Gradient descent with a [`StepRule`].
///
/// ```
/// use nabla_optim::{minimize, FnObjective, GradientDescent, Options, StepRule};
/// // f(x) = (x0^2 + 10 x1^2) / 2.
/// let f = FnObjective::new(2, |x: &[f64], g: &mut [f64]| {
///     g[0] = x[0];
///     g[1] = 10.0 * x[1];
///     (x[0] * x[0] + 10.0 * x[1] * x[1]) / 2.0
/// });
/// let r = minimize(&f, &mut GradientDescent::new(StepRule::Fixed(0.1)), &[1.0, 1.0], &Options::default());
/// assert!(r.converged());
/// ```
#[derive(Clone, Debug)]
pub struct GradientDescent {
    rule: StepRule,
    previous: Option<(f64, f64)>, // (accepted α, slope ∇f·d) of the previous step
}

impl GradientDescent {
    /// Gradient descent with `rule`.
    pub fn new(rule: StepRule) -> Self {
        GradientDescent {
            rule,
            previous: None,
        }
    }
}

impl Solver for GradientDescent {
    fn name(&self) -> &'static str {
        match self.rule {
            StepRule::Fixed(_) => "gd-fixed",
            StepRule::Armijo => "gd-armijo",
            StepRule::StrongWolfe => "gd-wolfe",
        }
    }

    fn init(&mut self, _: &dyn Objective, _: &Point) -> Result<(), Status> {
        self.previous = None;
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let d: Vec<f64> = current.grad.iter().map(|g| -g).collect();
        let slope = dot(&current.grad, &d);
        let (next, alpha) = match self.rule {
            StepRule::Fixed(alpha) => {
                let x = current
                    .x
                    .iter()
                    .zip(&d)
                    .map(|(x, d)| x + alpha * d)
                    .collect();
                (Point::at(objective, x), alpha)
            }
            StepRule::Armijo => {
                let alpha0 = self.previous.map_or(1.0, |(a, _)| 2.0 * a);
                let p = armijo(objective, current, &d, alpha0)?;
                let alpha = step_length(&p.x, &current.x, &d);
                (p, alpha)
            }
            StepRule::StrongWolfe => {
                let alpha0 = match self.previous {
                    Some((a, s)) => (a * s / slope).min(1e10),
                    None => {
                        1.0 / current
                            .grad
                            .iter()
                            .fold(0.0f64, |m, g| m.max(g.abs()))
                            .max(1.0)
                    }
                };
                let p = more_thuente(objective, current, &d, alpha0, 0.1)?;
                let alpha = step_length(&p.x, &current.x, &d);
                (p, alpha)
            }
        };
        self.previous = Some((alpha, slope));
        Ok(next)
    }
}

/// The `α` with `x_new = x + α d` (recovered from the largest component of `d`).
fn step_length(x_new: &[f64], x: &[f64], d: &[f64]) -> f64 {
    let i = (0..d.len())
        .max_by(|&i, &j| d[i].abs().total_cmp(&d[j].abs()))
        .unwrap_or(0);
    if d.is_empty() || d[i] == 0.0 {
        0.0
    } else {
        (x_new[i] - x[i]) / d[i]
    }
}

/// Heavy-ball or Nesterov momentum with a fixed learning rate.
///
/// ```
/// use nabla_optim::{minimize, FnObjective, Momentum, Options};
/// let f = FnObjective::new(2, |x: &[f64], g: &mut [f64]| {
///     g[0] = x[0];
///     g[1] = 10.0 * x[1];
///     (x[0] * x[0] + 10.0 * x[1] * x[1]) / 2.0
/// });
/// let r = minimize(&f, &mut Momentum::nesterov(0.05, 0.9), &[1.0, 1.0], &Options::default());
/// assert!(r.converged());
/// ```
#[derive(Clone, Debug)]
pub struct Momentum {
    learning_rate: f64,
    beta: f64,
    nesterov: bool,
    velocity: Vec<f64>,
}

impl Momentum {
    /// Polyak's heavy ball: `v = β v - α ∇f(x)`, `x = x + v`.
    pub fn heavy_ball(learning_rate: f64, beta: f64) -> Self {
        Momentum {
            learning_rate,
            beta,
            nesterov: false,
            velocity: Vec::new(),
        }
    }

    /// Nesterov's accelerated gradient (look-ahead form, one gradient per step).
    pub fn nesterov(learning_rate: f64, beta: f64) -> Self {
        Momentum {
            learning_rate,
            beta,
            nesterov: true,
            velocity: Vec::new(),
        }
    }
}

impl Solver for Momentum {
    fn name(&self) -> &'static str {
        if self.nesterov {
            "nesterov"
        } else {
            "heavy-ball"
        }
    }

    fn init(&mut self, _: &dyn Objective, start: &Point) -> Result<(), Status> {
        self.velocity = vec![0.0; start.x.len()];
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let (a, b) = (self.learning_rate, self.beta);
        let x = current
            .x
            .iter()
            .zip(&current.grad)
            .zip(&mut self.velocity)
            .map(|((x, g), v)| {
                *v = b * *v - a * g;
                if self.nesterov {
                    x + b * *v - a * g
                } else {
                    x + *v
                }
            })
            .collect();
        Ok(Point::at(objective, x))
    }
}
