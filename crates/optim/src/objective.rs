//! Objectives: what a solver may ask of `f: R^n -> R`.
//!
//! Parameters, gradients and directions are plain `&[f64]` slices of length [`Objective::dim`];
//! a Hessian is a row-major `n x n` slice. An objective always gives `f` and `∇f`; it may give
//! Hessian-vector products `H v` and the dense Hessian `H`. [`GraphObjective`] gets all four from
//! any function written with `nabla-graph`; [`FnObjective`] wraps closures with hand-written
//! derivatives.

use nabla_graph::{Graph, GraphError, Tensor, Var, hessian, hvp, value_and_grad};
use std::cell::Cell;

/// A twice-differentiable scalar function of `n` parameters.
///
/// Non-finite values are allowed: a solver's executor checks every value and gradient and stops
/// with [`Status::NonFinite`](crate::Status::NonFinite) naming it.
pub trait Objective {
    /// The number of parameters `n`.
    fn dim(&self) -> usize;

    /// `f(x)`.
    fn value(&self, x: &[f64]) -> f64;

    /// `f(x)`, with `∇f(x)` written to `grad` (length `n`).
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64;

    /// Writes `H(x) v` to `out` and returns `true`, or returns `false` if this objective has no
    /// Hessian-vector product. The default forms the dense Hessian when [`Objective::hessian`]
    /// gives one (`O(n^2)`; override it where `H v` is cheaper).
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let n = self.dim();
        let mut h = vec![0.0; n * n];
        if !self.hessian(x, &mut h) {
            return false;
        }
        for (o, row) in out.iter_mut().zip(h.chunks_exact(n)) {
            *o = row.iter().zip(v).map(|(a, b)| a * b).sum();
        }
        true
    }

    /// Writes the dense row-major Hessian `H(x)` (`n x n`) to `out` and returns `true`, or
    /// returns `false` if this objective has none.
    fn hessian(&self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

impl<O: Objective + ?Sized> Objective for &O {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        (**self).value(x)
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        (**self).value_grad(x, grad)
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        (**self).hvp(x, v, out)
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        (**self).hessian(x, out)
    }
}

/// Any function written with `nabla-graph`, of a length-`n` vector, as an [`Objective`]: value
/// and gradient by one reverse sweep, `H v` forward-over-reverse, `H` by `n` sweeps over the
/// recorded gradient.
///
/// ```
/// use nabla_optim::{GraphObjective, Objective};
/// // Rosenbrock: f(x, y) = (1 - x)^2 + 100 (y - x^2)^2.
/// let f = GraphObjective::new(2, |v| {
///     let (x, y) = (v.at(0), v.at(1));
///     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
/// })
/// .unwrap();
/// let mut g = [0.0; 2];
/// assert_eq!(f.value_grad(&[1.0, 1.0], &mut g), 0.0);
/// assert_eq!(g, [0.0, 0.0]);
/// let mut h = [0.0; 4];
/// assert!(f.hessian(&[1.0, 1.0], &mut h));
/// assert_eq!(h, [802.0, -400.0, -400.0, 200.0]);
/// ```
pub struct GraphObjective<F> {
    n: usize,
    f: F,
}

impl<F: for<'g> Fn(Var<'g, f64>) -> Var<'g, f64>> GraphObjective<F> {
    /// Wraps `f`, a function of a length-`n` vector.
    ///
    /// # Errors
    /// [`GraphError`] if `f`, run once on a vector of zeros, fails or does not return a scalar
    /// (values may be NaN there; only the shape is checked).
    pub fn new(n: usize, f: F) -> Result<Self, GraphError> {
        let g = Graph::new();
        let y = g.no_grad(|| f(g.var(Tensor::zeros(&[n]))));
        if !y.shape().is_empty() && y.shape() != [1] {
            return Err(GraphError::NotScalar { shape: y.shape() });
        }
        Ok(GraphObjective { n, f })
    }

    fn expect<R>(r: Result<R, GraphError>) -> R {
        r.unwrap_or_else(|e| {
            panic!("nabla-optim: the objective passed GraphObjective::new's check but failed later: {e}")
        })
    }
}

impl<F: for<'g> Fn(Var<'g, f64>) -> Var<'g, f64>> Objective for GraphObjective<F> {
    fn dim(&self) -> usize {
        self.n
    }

    fn value(&self, x: &[f64]) -> f64 {
        let g = Graph::new();
        g.no_grad(|| (self.f)(g.var(Tensor::vector(x))).value().data()[0])
    }

    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let (v, g) = Self::expect(value_and_grad(&self.f, &Tensor::vector(x)));
        grad.copy_from_slice(g.data());
        v
    }

    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let hv = Self::expect(hvp(&self.f, &Tensor::vector(x), &Tensor::vector(v)));
        out.copy_from_slice(hv.data());
        true
    }

    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let h = Self::expect(hessian(&self.f, &Tensor::vector(x)));
        out.copy_from_slice(h.data());
        true
    }
}

/// An objective from closures with hand-written derivatives. The Hessian is optional.
///
/// ```
/// use nabla_optim::{FnObjective, Objective};
/// // f(x) = sum x_i^2 / 2: gradient x, Hessian I.
/// let f = FnObjective::new(3, |x: &[f64], g: &mut [f64]| {
///     g.copy_from_slice(x);
///     x.iter().map(|v| v * v).sum::<f64>() / 2.0
/// })
/// .with_hessian(|_x: &[f64], h: &mut [f64]| {
///     h.fill(0.0);
///     (0..3).for_each(|i| h[i * 3 + i] = 1.0);
/// });
/// let mut hv = [0.0; 3];
/// assert!(f.hvp(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0], &mut hv));
/// assert_eq!(hv, [4.0, 5.0, 6.0]);
/// ```
pub struct FnObjective<G, H = fn(&[f64], &mut [f64])> {
    n: usize,
    value_grad: G,
    hessian: Option<H>,
}

impl<G: Fn(&[f64], &mut [f64]) -> f64> FnObjective<G> {
    /// `value_grad(x, g)` returns `f(x)` and writes `∇f(x)` to `g`.
    pub fn new(n: usize, value_grad: G) -> Self {
        FnObjective {
            n,
            value_grad,
            hessian: None,
        }
    }
}

impl<G: Fn(&[f64], &mut [f64]) -> f64, H> FnObjective<G, H> {
    /// Adds `hessian(x, h)`, which writes the row-major `n x n` Hessian to `h`.
    pub fn with_hessian<H2: Fn(&[f64], &mut [f64])>(self, hessian: H2) -> FnObjective<G, H2> {
        FnObjective {
            n: self.n,
            value_grad: self.value_grad,
            hessian: Some(hessian),
        }
    }
}

impl<G: Fn(&[f64], &mut [f64]) -> f64, H: Fn(&[f64], &mut [f64])> Objective for FnObjective<G, H> {
    fn dim(&self) -> usize {
        self.n
    }
    fn value(&self, x: &[f64]) -> f64 {
        let mut g = vec![0.0; self.n];
        (self.value_grad)(x, &mut g)
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        (self.value_grad)(x, grad)
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        match &self.hessian {
            Some(h) => {
                h(x, out);
                true
            }
            None => false,
        }
    }
}

/// How many times each kind of evaluation ran.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Evaluations {
    /// Calls of [`Objective::value`] alone.
    pub f: usize,
    /// Calls of [`Objective::value_grad`] (each also computes `f`).
    pub grad: usize,
    /// Hessian-vector products.
    pub hvp: usize,
    /// Dense Hessians.
    pub hessian: usize,
}

impl Evaluations {
    /// Function-plus-gradient evaluations: `f + grad` (a `value_grad` call counts once), the
    /// figure the issue's table and scipy's `nfev` compare.
    pub fn f_and_grad(&self) -> usize {
        self.f + self.grad
    }
}

/// An objective that counts its evaluations (the executor wraps every objective in one).
pub struct Counted<O> {
    inner: O,
    counts: Cell<Evaluations>,
}

impl<O: Objective> Counted<O> {
    /// Wraps `inner` with all counts at zero.
    pub fn new(inner: O) -> Self {
        Counted {
            inner,
            counts: Cell::new(Evaluations::default()),
        }
    }

    /// The counts so far.
    pub fn evaluations(&self) -> Evaluations {
        self.counts.get()
    }

    fn bump(&self, f: impl FnOnce(&mut Evaluations)) {
        let mut c = self.counts.get();
        f(&mut c);
        self.counts.set(c);
    }
}

impl<O: Objective> Objective for Counted<O> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.bump(|c| c.f += 1);
        self.inner.value(x)
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.bump(|c| c.grad += 1);
        self.inner.value_grad(x, grad)
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let ok = self.inner.hvp(x, v, out);
        if ok {
            self.bump(|c| c.hvp += 1);
        }
        ok
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        let ok = self.inner.hessian(x, out);
        if ok {
            self.bump(|c| c.hessian += 1);
        }
        ok
    }
}
