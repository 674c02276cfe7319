//! Adam and AdamW: per-parameter adaptive steps for training, applied in place on `f32` or
//! `f64` parameter slices (a trainer's tensors), and usable as a [`Solver`] on `f64` objectives.
//!
//! With gradient `g_t` at step `t = 1, 2, ...` (Kingma and Ba, 2015; Loshchilov and Hutter,
//! 2019):
//!
//! ```text
//! m_t = β1 m_{t-1} + (1 - β1) g_t          v_t = β2 v_{t-1} + (1 - β2) g_t^2
//! m̂_t = m_t / (1 - β1^t)                   v̂_t = v_t / (1 - β2^t)
//! Adam:  g_t includes the L2 term λ θ (coupled weight decay), θ -= α m̂_t / (sqrt(v̂_t) + ε)
//! AdamW: θ -= α (m̂_t / (sqrt(v̂_t) + ε) + λ θ)   (decoupled weight decay)
//! ```
//!
//! Defaults: `α` as given, `β1 = 0.9`, `β2 = 0.999`, `ε = 1e-8`, `λ = 0` (Adam) or `0.01`
//! (AdamW), as in PyTorch. The moments are kept in the parameter type; the bias corrections are
//! computed in f64 once per step.

use crate::executor::{Point, Solver, Status};
use crate::objective::Objective;
use nabla_kernels::Element;

/// Adam or AdamW state for one parameter vector.
///
/// ```
/// use nabla_optim::Adam;
/// // Minimize sum (θ - 3)^2 by hand-fed gradients, in f32, in place.
/// let mut theta = vec![0.0f32; 4];
/// let mut adam = Adam::new(0.1);
/// for _ in 0..500 {
///     let grad: Vec<f32> = theta.iter().map(|t| 2.0 * (t - 3.0)).collect();
///     adam.update(&mut theta, &grad);
/// }
/// assert!(theta.iter().all(|t| (t - 3.0).abs() < 1e-3), "{theta:?}");
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T> {
    /// The learning rate `α`.
    pub learning_rate: f64,
    /// `β1`, the first moment's decay.
    pub beta1: f64,
    /// `β2`, the second moment's decay.
    pub beta2: f64,
    /// `ε` in the denominator.
    pub epsilon: f64,
    /// The weight decay `λ`.
    pub weight_decay: f64,
    decoupled: bool,
    m: Vec<T>,
    v: Vec<T>,
    t: u32,
}

impl<T: Element> Adam<T> {
    /// Adam with learning rate `learning_rate` and no weight decay.
    pub fn new(learning_rate: f64) -> Self {
        Adam {
            learning_rate,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            m: Vec::new(),
            v: Vec::new(),
            t: 0,
        }
    }

    /// AdamW: decoupled weight decay `weight_decay` (PyTorch's default is 0.01).
    pub fn adamw(learning_rate: f64, weight_decay: f64) -> Self {
        Adam {
            weight_decay,
            decoupled: true,
            ..Adam::new(learning_rate)
        }
    }

    /// `true` for AdamW (decoupled weight decay), `false` for Adam: what a checkpoint records.
    pub fn is_decoupled(&self) -> bool {
        self.decoupled
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u32 {
        self.t
    }

    /// The first and second moment estimates `m`, `v` (empty before the first step), for
    /// checkpointing.
    pub fn moments(&self) -> (&[T], &[T]) {
        (&self.m, &self.v)
    }

    /// Restores a checkpointed state: moments `m`, `v` and the step count `t`, so training resumes
    /// bit-identically.
    ///
    /// # Errors
    /// A message naming both lengths if `m` and `v` differ in length.
    pub fn restore(&mut self, m: Vec<T>, v: Vec<T>, t: u32) -> Result<(), String> {
        if m.len() != v.len() {
            return Err(format!(
                "Adam::restore: m has {} entries but v has {}",
                m.len(),
                v.len()
            ));
        }
        (self.m, self.v, self.t) = (m, v, t);
        Ok(())
    }

    /// Forgets the moments and the step count.
    pub fn reset(&mut self) {
        self.m.clear();
        self.v.clear();
        self.t = 0;
    }

    /// One step: updates `params` in place from `grad`. The first call fixes the length.
    ///
    /// # Panics
    /// If `grad.len() != params.len()` or the length differs from the first call's (a broken
    /// training loop, not a user input).
    pub fn update(&mut self, params: &mut [T], grad: &[T]) {
        assert_eq!(
            params.len(),
            grad.len(),
            "Adam::update: {} parameters but {} gradient entries",
            params.len(),
            grad.len()
        );
        if self.t == 0 && self.m.is_empty() {
            self.m = vec![T::ZERO; params.len()];
            self.v = vec![T::ZERO; params.len()];
        }
        assert_eq!(
            self.m.len(),
            params.len(),
            "Adam::update: the state was built for {} parameters, now given {}",
            self.m.len(),
            params.len()
        );
        self.t += 1;
        let (b1, b2) = (self.beta1, self.beta2);
        let c1 = 1.0 - b1.powi(self.t as i32);
        let c2 = 1.0 - b2.powi(self.t as i32);
        // θ -= step * m / (sqrt(v) / sqrt(c2) + ε), step = α / c1.
        let step = T::from_f64(self.learning_rate / c1);
        let inv_sqrt_c2 = T::from_f64(1.0 / c2.sqrt());
        let (b1t, b2t) = (T::from_f64(b1), T::from_f64(b2));
        let (one_b1, one_b2) = (T::from_f64(1.0 - b1), T::from_f64(1.0 - b2));
        let eps = T::from_f64(self.epsilon);
        let wd = T::from_f64(self.weight_decay);
        let decay = T::from_f64(self.learning_rate * self.weight_decay);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = if self.decoupled { g } else { g + wd * *p };
            *m = b1t * *m + one_b1 * g;
            *v = b2t * *v + one_b2 * g * g;
            let update = step * *m / ((*v).sqrt() * inv_sqrt_c2 + eps);
            *p = if self.decoupled {
                *p - update - decay * *p
            } else {
                *p - update
            };
        }
    }
}

impl Solver for Adam<f64> {
    fn name(&self) -> &'static str {
        if self.decoupled { "adamw" } else { "adam" }
    }

    fn init(&mut self, _: &dyn Objective, _: &Point) -> Result<(), Status> {
        self.reset();
        Ok(())
    }

    fn step(&mut self, objective: &dyn Objective, current: &Point) -> Result<Point, Status> {
        let mut x = current.x.clone();
        self.update(&mut x, &current.grad);
        Ok(Point::at(objective, x))
    }
}
