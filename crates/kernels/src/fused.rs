//! Fused elementwise chains: a function written once, generically, evaluated in one streaming
//! pass with its exact partial derivatives.
//!
//! A [`MapFn`] is an elementwise function of `ARITY` inputs written once against the scalar-like
//! trait [`Real`]. The same body then runs as
//! * SIMD vectors ([`Lanes`]: each operation is a [`crate::math`] function, compiled for the
//!   active instruction set inside [`crate::simd::dispatch`]),
//! * plain `f32` / `f64` (the reference; the scalar path's exact arithmetic),
//! * forward-mode dual numbers ([`Dual`]: value and `N` tangents, so exact partial derivatives
//!   come out of the same evaluation), over any of the above,
//! * and, in nabla-graph, recorded graph `Var`s (so higher derivatives come for free).
//!
//! [`map_sum`] computes `L = sum_i f(a_0[i], ..., a_{k-1}[i])` and, for the inputs that ask for
//! them, the elementwise partials `dL/da_j[i] = df/da_j(a[i])`, in **one pass** over the inputs:
//! each element is read once, `f` is evaluated once on dual numbers, the value is accumulated and
//! the partials are written. Nothing of the inputs' size is allocated. [`map`] is the elementwise
//! form (`out[i] = f(a[i])`, with the same optional partials).
//!
//! ```
//! use nabla_kernels::fused::{self, MapFn, Real};
//!
//! /// The logistic loss of one example: `log(1 + exp(-y w x))`.
//! struct Logistic;
//! impl MapFn for Logistic {
//!     const ARITY: usize = 3; // w, x, y
//!     #[inline(always)]
//!     fn eval<R: Real>(&self, a: &[R]) -> R {
//!         (-(a[2] * a[0] * a[1])).softplus()
//!     }
//! }
//!
//! let w = [0.5f32, -1.0, 2.0];
//! let x = [1.0f32, 2.0, -0.25];
//! let y = [1.0f32, -1.0, 1.0];
//! let mut gw = [0.0f32; 3];
//! let loss = fused::map_sum(&Logistic, &[&w, &x, &y], &mut [Some(&mut gw), None, None]);
//! // d/dw log(1 + exp(-y w x)) = -y x sigmoid(-y w x)
//! let z = -(y[0] * w[0] * x[0]) as f64;
//! let exact = -(y[0] * x[0]) as f64 / (1.0 + (-z).exp());
//! assert!((gw[0] as f64 - exact).abs() <= 4.0 * f32::EPSILON as f64 * exact.abs());
//! assert!(loss > 0.0);
//! ```
//!
//! # Summation order and threads
//!
//! The elements are processed in blocks of [`crate::reduce::BLOCK`] elements; a block is summed
//! with four vector accumulators in a fixed order, and the block partials are combined in the
//! fixed pairwise tree of [`crate::reduce`]. Above [`PAR_THRESHOLD`] elements (under
//! [`crate::parallel::Parallelism::Auto`]) aligned power-of-two groups of blocks, which are
//! subtrees of that tree, run on rayon's pool: **the result is bit-identical whatever the thread
//! count**. It may differ between instruction-set paths (vector widths, fused multiply-add).
//!
//! # Accuracy
//!
//! Each operation is the corresponding [`crate::math`] function (at most 2 ULP each; see its
//! table), and the partials are the exact derivatives of the function written, evaluated with
//! the same functions; the error of a chain is that of evaluating the chain in floating point.
//! The sum carries the error bound of [`crate::sum`] (pairwise, `O(log n) eps sum |f|`).
//!
//! NaN in an input gives NaN in that element's value and partials (and in the sum). An
//! infinite input or intermediate value gives the value IEEE arithmetic gives, but partials at
//! that element may be NaN where the exact limit is finite: forward mode multiplies the zero
//! tangents of the other inputs by it (`0 * inf`).
//!
//! `softplus(z)` is stable for every `z`; `log1p(exp(z))` written literally is accurate as long
//! as `exp(z)` does not overflow (`z < 88` in `f32`), beyond which it is `inf` (and its partial
//! `NaN`), exactly as the same formula evaluated with `f32::exp`. Prefer `softplus`.
//!
//! # Errors
//!
//! The panicking forms panic with a [`KernelError`] message naming the operation and both
//! lengths; the `try_` forms return the error before writing anything.

use crate::element::Element;
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::math;
use crate::parallel;
use crate::reduce::{BLOCK, Counter, merge_tree};
use crate::simd::{MAX_LANES, Scalar, Simd, SimdOp};
use core::ops::{Add, Div, Mul, Neg, Sub};
use rayon::prelude::*;

/// The most inputs a [`MapFn`] may take.
pub const MAX_ARITY: usize = 8;

/// Partials computed per pass: more are computed in further passes (each re-reading the inputs).
pub const MAX_PARTIALS_PER_PASS: usize = 4;

/// Under [`Parallelism::Auto`](crate::parallel::Parallelism::Auto), fused maps use rayon from
/// this many elements on (2^16): the activation kernels' measured threshold, since a fused chain
/// is at least one activation's work per element.
pub const PAR_THRESHOLD: usize = 1 << 16;

/// Vector accumulators per block.
const ACC: usize = 4;

// ============================================================================ the Real trait

/// A scalar-like number: what an elementwise function is written against, once.
///
/// Implemented by `f32`, `f64` (through the scalar path of [`crate::math`]), [`Lanes`] (SIMD
/// vectors), [`Dual`] (forward-mode derivatives over any of these) and, in nabla-graph, by
/// graph `Var`s. Every method is elementwise.
pub trait Real:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
{
    /// The constant `c` (rounded to the element type), of the same kind as `self` (`self`'s
    /// value is not used: it only says which kind, e.g. which graph or SIMD path).
    fn constant(self, c: f64) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// The natural logarithm.
    fn ln(self) -> Self;
    /// `ln(1 + x)`, accurate for small `x`.
    fn log1p(self) -> Self;
    /// `ln(1 + e^x)`, stable for every `x`.
    fn softplus(self) -> Self;
    /// `1 / (1 + e^-x)`.
    fn sigmoid(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Square root.
    fn sqrt(self) -> Self;
    /// `|x|` (derivative `sign(x)`).
    fn abs(self) -> Self;
    /// `max(x, 0)` (derivative `step(x)`).
    fn relu(self) -> Self;
    /// `-1`, `0` or `1` by the sign of `x`: piecewise constant (no derivative flows).
    fn sign(self) -> Self;
    /// `1` where `x > 0`, else `0`: piecewise constant (no derivative flows).
    fn step(self) -> Self;
    /// `(softplus(x), sigmoid(x))`: the value and derivative of softplus together (SIMD shares
    /// one exponential between them).
    #[inline(always)]
    fn softplus_sigmoid(self) -> (Self, Self) {
        (self.softplus(), self.sigmoid())
    }
}

macro_rules! impl_real_scalar {
    ($t:ty) => {
        /// The scalar path of [`crate::math`]: the same algorithms as the SIMD paths, one lane.
        impl Real for $t {
            #[inline(always)]
            fn constant(self, c: f64) -> Self {
                c as $t
            }
            #[inline(always)]
            fn exp(self) -> Self {
                math::exp::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn ln(self) -> Self {
                math::log::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn log1p(self) -> Self {
                math::log1p::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn softplus(self) -> Self {
                math::softplus::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn sigmoid(self) -> Self {
                math::sigmoid::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn tanh(self) -> Self {
                math::tanh::<$t, Scalar>(Scalar, self)
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn relu(self) -> Self {
                Simd::<$t>::max(Scalar, 0.0, self)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                if self > 0.0 {
                    1.0
                } else if self < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            #[inline(always)]
            fn step(self) -> Self {
                if self > 0.0 { 1.0 } else { 0.0 }
            }
            #[inline(always)]
            fn softplus_sigmoid(self) -> (Self, Self) {
                math::softplus_sigmoid::<$t, Scalar>(Scalar, self)
            }
        }
    };
}

impl_real_scalar!(f32);
impl_real_scalar!(f64);

// ============================================================================ SIMD lanes

/// One SIMD vector of `T` on the path `S`, as a [`Real`]: each operation is the [`crate::math`]
/// function for that path (so a [`MapFn`] body is compiled per instruction set).
pub struct Lanes<T: Element, S: Simd<T>> {
    /// The token of the path.
    pub s: S,
    /// The lanes.
    pub v: S::V,
}

impl<T: Element, S: Simd<T>> Clone for Lanes<T, S> {
    #[inline(always)]
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Element, S: Simd<T>> Copy for Lanes<T, S> {}

impl<T: Element, S: Simd<T>> Lanes<T, S> {
    #[inline(always)]
    fn with(self, v: S::V) -> Self {
        Lanes { s: self.s, v }
    }
}

macro_rules! lanes_binop {
    ($trait:ident, $method:ident) => {
        impl<T: Element, S: Simd<T>> $trait for Lanes<T, S> {
            type Output = Self;
            #[inline(always)]
            fn $method(self, rhs: Self) -> Self {
                self.with(self.s.$method(self.v, rhs.v))
            }
        }
    };
}
lanes_binop!(Add, add);
lanes_binop!(Sub, sub);
lanes_binop!(Mul, mul);
lanes_binop!(Div, div);

impl<T: Element, S: Simd<T>> Neg for Lanes<T, S> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        // Flips the sign bit: exact, -0 for 0, NaN stays NaN.
        let s = self.s;
        self.with(s.bit_xor(self.v, s.splat(T::from_f64(-0.0))))
    }
}

impl<T: Element, S: Simd<T>> Real for Lanes<T, S> {
    #[inline(always)]
    fn constant(self, c: f64) -> Self {
        self.with(self.s.splat(T::from_f64(c)))
    }
    #[inline(always)]
    fn exp(self) -> Self {
        self.with(math::exp(self.s, self.v))
    }
    #[inline(always)]
    fn ln(self) -> Self {
        self.with(math::log(self.s, self.v))
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        self.with(math::log1p(self.s, self.v))
    }
    #[inline(always)]
    fn softplus(self) -> Self {
        self.with(math::softplus(self.s, self.v))
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        self.with(math::sigmoid(self.s, self.v))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        self.with(math::tanh(self.s, self.v))
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        self.with(self.s.sqrt(self.v))
    }
    #[inline(always)]
    fn abs(self) -> Self {
        self.with(math::abs(self.s, self.v))
    }
    #[inline(always)]
    fn relu(self) -> Self {
        // `max` returns its second operand for NaN: NaN propagates.
        self.with(self.s.max(self.s.splat(T::ZERO), self.v))
    }
    #[inline(always)]
    fn sign(self) -> Self {
        let s = self.s;
        let (zero, one) = (s.splat(T::ZERO), s.splat(T::ONE));
        let neg = s.select(s.lt(self.v, zero), s.splat(-T::ONE), zero);
        self.with(s.select(s.lt(zero, self.v), one, neg))
    }
    #[inline(always)]
    fn step(self) -> Self {
        let s = self.s;
        let zero = s.splat(T::ZERO);
        self.with(s.select(s.lt(zero, self.v), s.splat(T::ONE), zero))
    }
    #[inline(always)]
    fn softplus_sigmoid(self) -> (Self, Self) {
        let (p, q) = math::softplus_sigmoid(self.s, self.v);
        (self.with(p), self.with(q))
    }
}

// ============================================================================ dual numbers

/// A forward-mode dual number: a value `v` and `N` tangents `d` (directional derivatives along
/// `N` seed directions). Every operation applies the chain rule exactly, so evaluating a
/// function on duals seeded with unit tangents gives its value and partial derivatives at once.
///
/// ```
/// use nabla_kernels::fused::{Dual, Real};
/// // d/dx [x * exp(x)] at x = 1 is 2e.
/// let x = Dual::<f64, 1>::seed(1.0, 0);
/// let y = x * x.exp();
/// assert!((y.d[0] - 2.0 * std::f64::consts::E).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dual<R, const N: usize = 1> {
    /// The value.
    pub v: R,
    /// The tangents.
    pub d: [R; N],
}

impl<R: Real, const N: usize> Dual<R, N> {
    /// A constant (all tangents zero).
    #[inline(always)]
    pub fn konst(v: R) -> Self {
        Dual {
            v,
            d: [v.constant(0.0); N],
        }
    }
    /// The variable number `k`: tangent `k` is one, the others zero (`k >= N`: a constant).
    #[inline(always)]
    pub fn seed(v: R, k: usize) -> Self {
        let mut d = [v.constant(0.0); N];
        if k < N {
            d[k] = v.constant(1.0);
        }
        Dual { v, d }
    }
    /// `self` with every tangent multiplied by `f` (the chain rule for a unary function whose
    /// derivative at `self.v` is `f`).
    #[inline(always)]
    fn chain(self, v: R, f: R) -> Self {
        let mut d = self.d;
        for t in d.iter_mut() {
            *t = *t * f;
        }
        Dual { v, d }
    }
}

impl<R: Real, const N: usize> Add for Dual<R, N> {
    type Output = Self;
    #[inline(always)]
    fn add(self, o: Self) -> Self {
        let mut d = self.d;
        for (t, u) in d.iter_mut().zip(o.d) {
            *t = *t + u;
        }
        Dual { v: self.v + o.v, d }
    }
}
impl<R: Real, const N: usize> Sub for Dual<R, N> {
    type Output = Self;
    #[inline(always)]
    fn sub(self, o: Self) -> Self {
        let mut d = self.d;
        for (t, u) in d.iter_mut().zip(o.d) {
            *t = *t - u;
        }
        Dual { v: self.v - o.v, d }
    }
}
impl<R: Real, const N: usize> Mul for Dual<R, N> {
    type Output = Self;
    #[inline(always)]
    fn mul(self, o: Self) -> Self {
        let mut d = self.d;
        for (t, u) in d.iter_mut().zip(o.d) {
            *t = *t * o.v + self.v * u;
        }
        Dual { v: self.v * o.v, d }
    }
}
impl<R: Real, const N: usize> Div for Dual<R, N> {
    type Output = Self;
    #[inline(always)]
    fn div(self, o: Self) -> Self {
        // (a/b)' = (a' - (a/b) b') / b
        let q = self.v / o.v;
        let mut d = self.d;
        for (t, u) in d.iter_mut().zip(o.d) {
            *t = (*t - q * u) / o.v;
        }
        Dual { v: q, d }
    }
}
impl<R: Real, const N: usize> Neg for Dual<R, N> {
    type Output = Self;
    #[inline(always)]
    fn neg(self) -> Self {
        let mut d = self.d;
        for t in d.iter_mut() {
            *t = -*t;
        }
        Dual { v: -self.v, d }
    }
}

impl<R: Real, const N: usize> Real for Dual<R, N> {
    #[inline(always)]
    fn constant(self, c: f64) -> Self {
        Dual::konst(self.v.constant(c))
    }
    #[inline(always)]
    fn exp(self) -> Self {
        let e = self.v.exp();
        self.chain(e, e)
    }
    #[inline(always)]
    fn ln(self) -> Self {
        let one = self.v.constant(1.0);
        self.chain(self.v.ln(), one / self.v)
    }
    #[inline(always)]
    fn log1p(self) -> Self {
        let one = self.v.constant(1.0);
        self.chain(self.v.log1p(), one / (one + self.v))
    }
    #[inline(always)]
    fn softplus(self) -> Self {
        let (p, q) = self.v.softplus_sigmoid();
        self.chain(p, q)
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        let s = self.v.sigmoid();
        self.chain(s, s * (self.v.constant(1.0) - s))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        let t = self.v.tanh();
        self.chain(t, self.v.constant(1.0) - t * t)
    }
    #[inline(always)]
    fn sqrt(self) -> Self {
        let r = self.v.sqrt();
        self.chain(r, self.v.constant(0.5) / r)
    }
    #[inline(always)]
    fn abs(self) -> Self {
        self.chain(self.v.abs(), self.v.sign())
    }
    #[inline(always)]
    fn relu(self) -> Self {
        self.chain(self.v.relu(), self.v.step())
    }
    #[inline(always)]
    fn sign(self) -> Self {
        Dual::konst(self.v.sign())
    }
    #[inline(always)]
    fn step(self) -> Self {
        Dual::konst(self.v.step())
    }
    #[inline(always)]
    fn softplus_sigmoid(self) -> (Self, Self) {
        (self.softplus(), self.sigmoid())
    }
}

// ============================================================================ the function trait

/// An elementwise function of `ARITY` inputs, written once for every [`Real`].
///
/// `eval` receives exactly `ARITY` values. Mark it `#[inline(always)]`: it is then compiled into
/// the kernel for each instruction set (a function LLVM declines to inline would be compiled
/// without the path's target features, correct but several times slower).
pub trait MapFn: Sync {
    /// Number of inputs (at most [`MAX_ARITY`]).
    const ARITY: usize;
    /// The function's value at `a` (`a.len() == ARITY`).
    fn eval<R: Real>(&self, a: &[R]) -> R;
}

// ============================================================================ the kernels

/// Checks arity and lengths; returns `n`.
fn check<T>(
    op: &'static str,
    arity: usize,
    inputs: &[&[T]],
    out: Option<usize>,
    grads: &[Option<&mut [T]>],
) -> Result<usize, KernelError> {
    if arity > MAX_ARITY {
        return Err(KernelError::Invalid {
            op,
            reason: format!("the function takes {arity} inputs, at most {MAX_ARITY} supported"),
        });
    }
    if inputs.len() != arity {
        return Err(KernelError::Invalid {
            op,
            reason: format!("the function takes {arity} inputs, {} given", inputs.len()),
        });
    }
    if !grads.is_empty() && grads.len() != arity {
        return Err(KernelError::Invalid {
            op,
            reason: format!(
                "{} gradient slots for {arity} inputs (give one per input, or none)",
                grads.len()
            ),
        });
    }
    let n = inputs.first().map_or(0, |x| x.len());
    for x in inputs {
        if x.len() != n {
            return Err(KernelError::LengthMismatch {
                op,
                expected: n,
                got: x.len(),
            });
        }
    }
    if let Some(len) = out
        && len != n
    {
        return Err(KernelError::LengthMismatch {
            op,
            expected: n,
            got: len,
        });
    }
    for g in grads.iter().flatten() {
        if g.len() != n {
            return Err(KernelError::LengthMismatch {
                op,
                expected: n,
                got: g.len(),
            });
        }
    }
    Ok(n)
}

/// One contiguous range of the work: input sub-slices, and output/partial sub-slices.
struct Part<'a, T> {
    xs: [&'a [T]; MAX_ARITY],
    out: Option<&'a mut [T]>,
    /// `grads[j]`: where the partial for input `j` goes, with its tangent slot.
    grads: [Option<(&'a mut [T], usize)>; MAX_ARITY],
}

/// The dispatchable pass over one [`Part`] with `N` tangents: returns the part's partial sum
/// (computed for `map` too, where it is discarded: one addition per vector).
struct Pass<'a, 'f, T, F, const N: usize> {
    f: &'f F,
    part: Part<'a, T>,
    /// Input `j` carries tangent `slot[j]` (`>= N`: none).
    slot: [usize; MAX_ARITY],
}

impl<T: Element, F: MapFn, const N: usize> SimdOp<T> for Pass<'_, '_, T, F, N> {
    type Output = T;
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) -> T {
        let Pass { f, mut part, slot } = self;
        let n = part.xs[0].len();
        let nb = n.div_ceil(BLOCK);
        let mut c = Counter::new();
        for b in 0..nb {
            let p =
                block::<T, S, F, N>(s, f, &mut part, &slot, b * BLOCK, ((b + 1) * BLOCK).min(n));
            c.push(p, |x, y| x + y);
        }
        c.finish(None, |x, y| x + y).unwrap_or(T::ZERO)
    }
}

/// Evaluates `f` on the duals at element `i` (`LANES` elements, or `m < LANES` with `partial`).
#[inline(always)]
fn eval_at<T: Element, S: Simd<T>, F: MapFn, const N: usize>(
    s: S,
    f: &F,
    xs: &[&[T]; MAX_ARITY],
    slot: &[usize; MAX_ARITY],
    i: usize,
    m: usize,
) -> Dual<Lanes<T, S>, N> {
    let zero = Lanes {
        s,
        v: s.splat(T::ZERO),
    };
    let mut a = [Dual::<Lanes<T, S>, N>::konst(zero); MAX_ARITY];
    for j in 0..F::ARITY {
        let v = if m == S::LANES {
            debug_assert!(i + S::LANES <= xs[j].len());
            // SAFETY: the callers pass `i + LANES <= n` when `m == LANES`, and every input
            // sub-slice has `n` elements (checked by `check` and kept by the splitting).
            unsafe { s.load(xs[j].as_ptr().add(i)) }
        } else {
            s.load_partial(&xs[j][i..i + m], T::ZERO)
        };
        a[j] = Dual::seed(Lanes { s, v }, slot[j]);
    }
    f.eval(&a[..F::ARITY])
}

/// The partial sum of elements `start..end` (one block), writing outputs and partials there.
#[inline(always)]
fn block<T: Element, S: Simd<T>, F: MapFn, const N: usize>(
    s: S,
    f: &F,
    part: &mut Part<'_, T>,
    slot: &[usize; MAX_ARITY],
    start: usize,
    end: usize,
) -> T {
    let l = S::LANES;
    let mut acc = [s.splat(T::ZERO); ACC];
    let mut i = start;
    let mut k = 0;
    while i + l <= end {
        let r = eval_at::<T, S, F, N>(s, f, &part.xs, slot, i, l);
        acc[k % ACC] = s.add(acc[k % ACC], r.v.v);
        if let Some(out) = part.out.as_deref_mut() {
            debug_assert!(i + l <= out.len());
            // SAFETY: `i + LANES <= end <= n = out.len()`.
            unsafe { s.store(out.as_mut_ptr().add(i), r.v.v) };
        }
        for g in part.grads[..F::ARITY].iter_mut().flatten() {
            debug_assert!(i + l <= g.0.len() && g.1 < N);
            // SAFETY: as for `out`; every partial slice has `n` elements.
            unsafe { s.store(g.0.as_mut_ptr().add(i), r.d[g.1].v) };
        }
        i += l;
        k += 1;
    }
    if i < end {
        let m = end - i;
        let r = eval_at::<T, S, F, N>(s, f, &part.xs, slot, i, m);
        // The lanes past the end hold f(0, ...): zero them before they reach the sum.
        let mut buf = [T::ZERO; MAX_LANES];
        // SAFETY: `buf` holds MAX_LANES >= LANES elements.
        unsafe { s.store(buf.as_mut_ptr(), r.v.v) };
        buf[m..].fill(T::ZERO);
        // SAFETY: as above.
        let v = unsafe { s.load(buf.as_ptr()) };
        acc[ACC - 1] = s.add(acc[ACC - 1], v);
        if let Some(out) = part.out.as_deref_mut() {
            s.store_partial(&mut out[i..end], r.v.v);
        }
        for g in part.grads[..F::ARITY].iter_mut().flatten() {
            s.store_partial(&mut g.0[i..end], r.d[g.1].v);
        }
    }
    s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)))
}

/// Runs one pass with `N` tangents over all `n` elements (split for rayon when large).
fn run_pass<T: Element, F: MapFn, const N: usize>(
    isa: Isa,
    f: &F,
    n: usize,
    part: Part<'_, T>,
    slot: [usize; MAX_ARITY],
) -> T {
    let nb = n.div_ceil(BLOCK);
    if nb < 2 || !parallel::should_split(n, PAR_THRESHOLD) {
        return T::dispatch(isa, Pass::<T, F, N> { f, part, slot });
    }
    // Groups of `g` (a power of two) blocks are complete subtrees of the blocks' pairwise tree,
    // so any `g` gives the same bits; it can follow the thread count.
    let threads = rayon::current_num_threads().max(1);
    let g = 1usize << (nb / (4 * threads)).max(1).ilog2();
    let chunk = g * BLOCK;
    let groups = nb / g;
    let mut parts = Vec::with_capacity(groups + 1);
    let Part {
        mut xs,
        mut out,
        mut grads,
    } = part;
    let mut left = n;
    while left > 0 {
        let len = chunk.min(left);
        let mut head_xs = [&[][..]; MAX_ARITY];
        for (h, x) in head_xs.iter_mut().zip(xs.iter_mut()).take(F::ARITY) {
            let (a, b) = x.split_at(len);
            *h = a;
            *x = b;
        }
        let head_out = out.take().map(|o| {
            let (a, b) = o.split_at_mut(len);
            out = Some(b);
            a
        });
        let mut head_grads: [Option<(&mut [T], usize)>; MAX_ARITY] = Default::default();
        for (h, gr) in head_grads.iter_mut().zip(grads.iter_mut()) {
            if let Some((sl, k)) = gr.take() {
                let (a, b) = sl.split_at_mut(len);
                *h = Some((a, k));
                *gr = Some((b, k));
            }
        }
        parts.push(Part {
            xs: head_xs,
            out: head_out,
            grads: head_grads,
        });
        left -= len;
    }
    let sums: Vec<T> = parts
        .into_par_iter()
        .map(|part| T::dispatch(isa, Pass::<T, F, N> { f, part, slot }))
        .collect();
    let mut c = Counter::new();
    let rest = (groups * g < nb).then(|| sums[groups]);
    for &p in &sums[..groups] {
        c.push(p, |x, y| x + y);
    }
    c.finish(rest, |x, y| x + y).unwrap_or(T::ZERO)
}

/// The shared driver of [`try_map_sum`] and [`try_map`].
fn drive<T: Element, F: MapFn>(
    op: &'static str,
    f: &F,
    inputs: &[&[T]],
    mut out: Option<&mut [T]>,
    grads: &mut [Option<&mut [T]>],
) -> Result<T, KernelError> {
    let n = check(op, F::ARITY, inputs, out.as_deref().map(<[T]>::len), grads)?;
    let isa = isa::active();
    let mut xs = [&[][..]; MAX_ARITY];
    xs[..inputs.len()].copy_from_slice(inputs);
    let wanted: Vec<usize> = (0..grads.len()).filter(|&j| grads[j].is_some()).collect();
    let mut grads_iter: Vec<Option<&mut [T]>> =
        grads.iter_mut().map(|g| g.as_deref_mut()).collect();
    grads_iter.resize_with(MAX_ARITY, || None);
    let mut sum = None;
    // Passes of up to MAX_PARTIALS_PER_PASS partials; the first one also gives the value.
    let mut chunks: Vec<&[usize]> = wanted.chunks(MAX_PARTIALS_PER_PASS).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    for ids in chunks {
        let mut slot = [usize::MAX; MAX_ARITY];
        let mut pg: [Option<(&mut [T], usize)>; MAX_ARITY] = Default::default();
        for (k, &j) in ids.iter().enumerate() {
            slot[j] = k;
            pg[j] = grads_iter[j].take().map(|g| (g, k));
        }
        let part = Part {
            xs,
            out: if sum.is_none() { out.take() } else { None },
            grads: pg,
        };
        let v = match ids.len() {
            0 => run_pass::<T, F, 0>(isa, f, n, part, slot),
            1 => run_pass::<T, F, 1>(isa, f, n, part, slot),
            2 => run_pass::<T, F, 2>(isa, f, n, part, slot),
            3 => run_pass::<T, F, 3>(isa, f, n, part, slot),
            _ => run_pass::<T, F, MAX_PARTIALS_PER_PASS>(isa, f, n, part, slot),
        };
        sum.get_or_insert(v);
    }
    Ok(sum.unwrap_or(T::ZERO))
}

/// `sum_i f(inputs[0][i], ..., inputs[k-1][i])`, and into each `grads[j]` that is `Some` the
/// partials `df/da_j` at every element, in one streaming pass (see the [module](self) docs).
///
/// `inputs`: `F::ARITY` slices of one length `n`. `grads`: empty (value only) or one slot per
/// input, each `None` or a slice of length `n` (overwritten). Up to four partials come from one
/// pass; each further four re-read the inputs once more. Memory: nothing beyond the arguments.
///
/// # Panics
/// On a length mismatch (the message names both lengths) or a wrong number of inputs or slots;
/// see [`try_map_sum`].
#[track_caller]
pub fn map_sum<T: Element, F: MapFn>(f: &F, inputs: &[&[T]], grads: &mut [Option<&mut [T]>]) -> T {
    unwrap_or_panic(try_map_sum(f, inputs, grads))
}

/// [`map_sum`], returning an error instead of panicking (before anything is written).
///
/// # Errors
/// [`KernelError::LengthMismatch`] when an input or partial slice's length differs from the
/// first input's; [`KernelError::Invalid`] when the number of inputs is not `F::ARITY` (or more
/// than [`MAX_ARITY`]) or `grads` is neither empty nor one slot per input.
pub fn try_map_sum<T: Element, F: MapFn>(
    f: &F,
    inputs: &[&[T]],
    grads: &mut [Option<&mut [T]>],
) -> Result<T, KernelError> {
    drive("map_sum", f, inputs, None, grads)
}

/// `out[i] = f(inputs[0][i], ..., inputs[k-1][i])`, and into each `grads[j]` that is `Some` the
/// partials `df/da_j` at every element, in one pass. Arguments as for [`map_sum`] plus `out`
/// (length `n`).
///
/// # Panics
/// As [`map_sum`].
#[track_caller]
pub fn map<T: Element, F: MapFn>(
    f: &F,
    inputs: &[&[T]],
    out: &mut [T],
    grads: &mut [Option<&mut [T]>],
) {
    unwrap_or_panic(try_map(f, inputs, out, grads));
}

/// [`map`], returning an error instead of panicking (before anything is written).
///
/// # Errors
/// As [`try_map_sum`], and a length mismatch for `out`.
pub fn try_map<T: Element, F: MapFn>(
    f: &F,
    inputs: &[&[T]],
    out: &mut [T],
    grads: &mut [Option<&mut [T]>],
) -> Result<(), KernelError> {
    drive("map", f, inputs, Some(out), grads).map(|_| ())
}
