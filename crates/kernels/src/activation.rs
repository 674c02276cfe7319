//! Activation functions and their derivatives on slices, `f32` and `f64`.
//!
//! Every function comes as
//! * a forward kernel `f(x, y)`: `y[i] = f(x[i])`, plus `f_inplace(x)` and `try_f(x, y)`;
//! * a backward kernel `f_backward(arg, dy, dx)`: `dx[i] = dy[i] * f'(x[i])`, plus
//!   `try_f_backward`. `arg` is the forward input `x` or the forward output `y`, whichever makes
//!   the derivative cheaper; each function's documentation says which.
//!
//! The panicking forms panic when the slice lengths differ, with a message naming both lengths;
//! the `try_` forms return [`KernelError::LengthMismatch`] instead.
//!
//! The kernels read the SIMD path once ([`crate::isa::active`]), run one generic body compiled for
//! it (see [`crate::simd`]), handle the tail with partial loads/stores, and split slices longer
//! than 65 536 elements into fixed 16 384-element blocks for rayon (per
//! [`crate::parallel`]): results never depend on the thread count. The elementary functions
//! come from [`crate::math`], whose accuracy bounds (in ULP of the correctly rounded result) they
//! inherit; `tests/math_accuracy.rs` checks them on every path.
//!
//! ```
//! use nabla_kernels::activation;
//!
//! let x = [-2.0f32, -0.5, 0.0, 0.5, 2.0];
//! let mut y = [0.0f32; 5];
//! activation::sigmoid(&x, &mut y);
//! assert_eq!(y[2], 0.5);
//!
//! // Backward pass: dx = dy * y (1 - y), from the forward output.
//! let dy = [1.0f32; 5];
//! let mut dx = [0.0f32; 5];
//! activation::sigmoid_backward(&y, &dy, &mut dx);
//! assert_eq!(dx[2], 0.25);
//!
//! // Mismatched lengths: the try_ form reports both.
//! let mut short = [0.0f32; 4];
//! assert!(activation::try_sigmoid(&x, &mut short).is_err());
//! ```

use crate::element::{Element, is_f64};
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::math;
use crate::parallel::should_split;
use crate::simd::{BUNDLE, Bundle, Simd, SimdOp, bundled_len, bundles_pay};
use crate::sweep::{self, Starts};
use rayon::prelude::*;

/// Slices at least this long may be split across rayon (elements).
const PAR_THRESHOLD: usize = 1 << 16;
/// Block size of the parallel split (elements; a multiple of every vector width).
const PAR_BLOCK: usize = 1 << 14;

// ---------------------------------------------------------------- drivers

/// A lane-wise function of one vector.
trait Unary<T: Element>: Copy + Send + Sync {
    /// Whether the function runs in bundles also where [`bundles_pay`] says no (beyond
    /// [`BUNDLE_MAX_BYTES`](crate::simd::BUNDLE_MAX_BYTES) streamed): its chain of dependent
    /// operations is so long that one vector at a time leaves the core waiting even while data
    /// streams from DRAM. A scratch program, 2^23 `f64` (2^24 `f32`) from DRAM, one call (one
    /// vector at a time) against 16 calls of 8 MiB (bundled), interleaved medians of 15, three
    /// runs: `softplus` `f64` 12.75-12.86 -> 8.06-8.10 ms, `f32` 8.76-8.81 -> 5.79-5.83;
    /// `gelu_tanh` `f64` 4.86-4.89 -> 4.35-4.41, `f32` 3.55-3.61 -> 3.29-3.40; `tanh` `f64`
    /// 3.95-3.96 -> 3.45-3.48; `silu` `f64` 3.66-3.67 -> 3.39-3.43; `expm1` `f64` 3.81 -> 3.45
    /// (one run). `cargo xtask perf --filter softplus` (rows added for this), two interleaved
    /// pairs of runs against the build before: `softplus/f32/dram` 8.50-8.94 -> 5.66-5.71 ms
    /// (38% -> 56-58% of the copy roof), `softplus/f64/dram` 12.43-12.69 -> 8.13-8.17 ms
    /// (26-27% -> 40-43%), the `l2` rows unchanged. `gelu` `f64`, since its lookup route (see
    /// `math::gelu`): `cargo xtask perf --filter gelu/f64/dram`, two interleaved pairs, 9.10-9.40
    /// -> 8.68-8.69 ms. Left unbundled there: `exp` `f64` (11-13% slower bundled), `log` `f64`
    /// (8-11%), `log1p` `f64` (16%), `silu` `f32` (2%), `gelu` `f32`, `erf` and `sigmoid` `f64`
    /// (between -4% and +5%, either sign, measured before `gelu`'s `f64` lookup route), and
    /// `tanh` `f32`, its lookup route (`cargo xtask perf --filter dram` with every kernel
    /// bundled: `tanh/f32/dram` 3.43-3.49 -> 3.78-3.95 ms).
    const BUNDLED_STREAMING: bool = false;
    fn apply<S: Simd<T>>(self, s: S, x: S::V) -> S::V;
}

/// A lane-wise function of two vectors (a backward kernel: forward argument and upstream
/// gradient).
trait Binary<T: Element>: Copy + Send + Sync {
    /// As [`Unary::BUNDLED_STREAMING`]. The same scratch program with three streams (16 calls
    /// of 8 MiB in all), three runs: `gelu_backward` `f64` 15.82-15.92 -> 13.86-14.26 ms,
    /// `gelu_tanh_backward` `f64` 6.55-6.59 -> 5.10-5.13, `f32` 5.17-5.31 -> 4.88-4.92,
    /// `silu_backward` `f64` 7.94-7.95 -> 6.86-6.92, `f32` 5.62-5.69 -> 5.18-5.31. Left
    /// unbundled there: `gelu_backward` `f32` (2-4% slower bundled), the backward passes of
    /// `softplus`, `erf`, `sigmoid` and `tanh` (between -3% and +5%, either sign).
    const BUNDLED_STREAMING: bool = false;
    fn apply<S: Simd<T>>(self, s: S, a: S::V, dy: S::V) -> S::V;
}

/// `y = f(x)` on one block.
struct MapOp<'a, T, F> {
    f: F,
    /// Whether to run bundles of vectors (see [`bundles_pay`]).
    wide: bool,
    x: &'a [T],
    y: &'a mut [T],
}

impl<T: Element, F: Unary<T>> SimdOp<T> for MapOp<'_, T, F> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let n = self.x.len();
        debug_assert_eq!(n, self.y.len());
        // SAFETY: both slices hold `n` elements.
        let main = unsafe {
            map_vectors(
                s,
                self.f,
                self.wide,
                self.x.as_ptr(),
                self.y.as_mut_ptr(),
                n,
            )
        };
        if main < n {
            let v = self.f.apply(s, s.load_partial(&self.x[main..], T::ONE));
            s.store_partial(&mut self.y[main..], v);
        }
    }
}

/// `y[i] = f(x[i])` for the whole vectors of `S` in `0..n`, returning where they end: bundles
/// of [`BUNDLE`] vectors first (with `wide`, on paths with [`Simd::BUNDLES`]), then single
/// vectors, the same bits either way (the drivers then do the partial vector). `xp` may equal
/// `yp` (in place): each vector is loaded before it is stored, and such a loop ascends.
///
/// # Safety
/// `xp` readable and `yp` writable for `n` elements.
#[inline(always)]
unsafe fn map_vectors<T: Element, S: Simd<T>, F: Unary<T>>(
    s: S,
    f: F,
    wide: bool,
    xp: *const T,
    yp: *mut T,
    n: usize,
) -> usize {
    let main = n - n % S::LANES;
    let down = sweep::descending(yp, &[xp]);
    let bundled = bundled_len::<T, S>(n, wide);
    // SAFETY: `bundled <= main <= n` (the caller's contract).
    unsafe {
        if S::BUNDLES {
            map_run(Bundle::<S, BUNDLE>(s), f, xp, yp, 0, bundled, down);
        }
        map_run(s, f, xp, yp, bundled, main, down);
    }
    main
}

/// `y[i] = f(x[i])` for the whole vectors of `S` in `from..to` (see [`map_vectors`]).
///
/// # Safety
/// `xp` readable and `yp` writable at `from..to`; `to - from` a multiple of `S::LANES`.
#[inline(always)]
unsafe fn map_run<T: Element, S: Simd<T>, F: Unary<T>>(
    s: S,
    f: F,
    xp: *const T,
    yp: *mut T,
    from: usize,
    to: usize,
    down: bool,
) {
    for i in Starts::new((to - from) / S::LANES, S::LANES, down) {
        // SAFETY: the caller's contract.
        unsafe { s.store(yp.add(from + i), f.apply(s, s.load(xp.add(from + i)))) };
    }
}

/// `x = f(x)` on one block.
struct MapInPlace<'a, T, F> {
    f: F,
    /// As [`MapOp::wide`].
    wide: bool,
    x: &'a mut [T],
}

impl<T: Element, F: Unary<T>> SimdOp<T> for MapInPlace<'_, T, F> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let n = self.x.len();
        let p = self.x.as_mut_ptr();
        // SAFETY: `x` holds `n` elements, read and written through one pointer.
        let main = unsafe { map_vectors(s, self.f, self.wide, p, p, n) };
        if main < n {
            let v = self.f.apply(s, s.load_partial(&self.x[main..], T::ONE));
            s.store_partial(&mut self.x[main..], v);
        }
    }
}

/// `dx = f(a, dy)` on one block.
struct ZipOp<'a, T, F> {
    f: F,
    /// As [`MapOp::wide`].
    wide: bool,
    a: &'a [T],
    dy: &'a [T],
    dx: &'a mut [T],
}

impl<T: Element, F: Binary<T>> SimdOp<T> for ZipOp<'_, T, F> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let n = self.a.len();
        debug_assert!(self.dy.len() == n && self.dx.len() == n);
        let main = n - n % S::LANES;
        let (ap, gp, dp) = (self.a.as_ptr(), self.dy.as_ptr(), self.dx.as_mut_ptr());
        let down = sweep::descending(dp, &[ap, gp]);
        let wide = bundled_len::<T, S>(n, self.wide);
        // SAFETY: the three slices hold `n >= main >= wide` elements (the partner of
        // `map_vectors` for two inputs).
        unsafe {
            if S::BUNDLES {
                zip_run(Bundle::<S, BUNDLE>(s), self.f, [ap, gp], dp, 0, wide, down);
            }
            zip_run(s, self.f, [ap, gp], dp, wide, main, down);
        }
        if main < n {
            let a = s.load_partial(&self.a[main..], T::ONE);
            let g = s.load_partial(&self.dy[main..], T::ZERO);
            s.store_partial(&mut self.dx[main..], self.f.apply(s, a, g));
        }
    }
}

/// `dx[i] = f(a[i], dy[i])` for the whole vectors of `S` in `from..to`, with `[a, dy]` at
/// `src`.
///
/// # Safety
/// `src` readable and `dp` writable at `from..to`; `to - from` a multiple of `S::LANES`.
#[inline(always)]
unsafe fn zip_run<T: Element, S: Simd<T>, F: Binary<T>>(
    s: S,
    f: F,
    src: [*const T; 2],
    dp: *mut T,
    from: usize,
    to: usize,
    down: bool,
) {
    for i in Starts::new((to - from) / S::LANES, S::LANES, down) {
        let i = from + i;
        // SAFETY: the caller's contract.
        unsafe {
            s.store(
                dp.add(i),
                f.apply(s, s.load(src[0].add(i)), s.load(src[1].add(i))),
            )
        };
    }
}

#[inline]
fn check_len(op: &'static str, expected: usize, got: usize) -> Result<(), KernelError> {
    if expected == got {
        Ok(())
    } else {
        Err(KernelError::LengthMismatch { op, expected, got })
    }
}

fn map<T: Element, F: Unary<T>>(
    op: &'static str,
    f: F,
    x: &[T],
    y: &mut [T],
) -> Result<(), KernelError> {
    check_len(op, x.len(), y.len())?;
    let isa: Isa = isa::active();
    let wide = F::BUNDLED_STREAMING || bundles_pay::<T>(x.len(), 2);
    if x.len() > PAR_BLOCK && should_split(x.len(), PAR_THRESHOLD) {
        x.par_chunks(PAR_BLOCK)
            .zip(y.par_chunks_mut(PAR_BLOCK))
            .for_each(|(x, y)| T::dispatch(isa, MapOp { f, wide, x, y }));
    } else {
        T::dispatch(isa, MapOp { f, wide, x, y });
    }
    Ok(())
}

fn map_inplace<T: Element, F: Unary<T>>(f: F, x: &mut [T]) {
    let isa: Isa = isa::active();
    let wide = F::BUNDLED_STREAMING || bundles_pay::<T>(x.len(), 2);
    if x.len() > PAR_BLOCK && should_split(x.len(), PAR_THRESHOLD) {
        x.par_chunks_mut(PAR_BLOCK)
            .for_each(|x| T::dispatch(isa, MapInPlace { f, wide, x }));
    } else {
        T::dispatch(isa, MapInPlace { f, wide, x });
    }
}

fn zip<T: Element, F: Binary<T>>(
    op: &'static str,
    f: F,
    a: &[T],
    dy: &[T],
    dx: &mut [T],
) -> Result<(), KernelError> {
    check_len(op, a.len(), dy.len())?;
    check_len(op, a.len(), dx.len())?;
    let isa: Isa = isa::active();
    let wide = F::BUNDLED_STREAMING || bundles_pay::<T>(a.len(), 3);
    if a.len() > PAR_BLOCK && should_split(a.len(), PAR_THRESHOLD) {
        a.par_chunks(PAR_BLOCK)
            .zip(dy.par_chunks(PAR_BLOCK))
            .zip(dx.par_chunks_mut(PAR_BLOCK))
            .for_each(|((a, dy), dx)| T::dispatch(isa, ZipOp { f, wide, a, dy, dx }));
    } else {
        T::dispatch(isa, ZipOp { f, wide, a, dy, dx });
    }
    Ok(())
}

// ---------------------------------------------------------------- lane functions

#[inline(always)]
fn splat<T: Element, S: Simd<T>>(s: S, v: f64) -> S::V {
    s.splat(T::from_f64(v))
}

/// NaN where `x` is NaN, else `v`: backward kernels whose formula would drop a NaN input.
#[inline(always)]
fn keep_nan<T: Element, S: Simd<T>>(s: S, x: S::V, v: S::V) -> S::V {
    s.select(s.is_nan(x), x, v)
}

macro_rules! unary_fn {
    ($name:ident, |$s:ident, $x:ident| $body:expr) => {
        unary_fn!($name, bundled_streaming: false, |$s, $x| $body);
    };
    ($name:ident, bundled_streaming: $streaming:expr, |$s:ident, $x:ident| $body:expr) => {
        #[derive(Clone, Copy)]
        struct $name;
        impl<T: Element> Unary<T> for $name {
            const BUNDLED_STREAMING: bool = $streaming;
            #[inline(always)]
            fn apply<S: Simd<T>>(self, $s: S, $x: S::V) -> S::V {
                $body
            }
        }
    };
}

macro_rules! binary_fn {
    ($name:ident, |$s:ident, $a:ident, $dy:ident| $body:expr) => {
        binary_fn!($name, bundled_streaming: false, |$s, $a, $dy| $body);
    };
    ($name:ident, bundled_streaming: $streaming:expr, |$s:ident, $a:ident, $dy:ident| $body:expr) => {
        #[derive(Clone, Copy)]
        struct $name;
        impl<T: Element> Binary<T> for $name {
            const BUNDLED_STREAMING: bool = $streaming;
            #[inline(always)]
            fn apply<S: Simd<T>>(self, $s: S, $a: S::V, $dy: S::V) -> S::V {
                $body
            }
        }
    };
}

unary_fn!(ReluF, |s, x| s.max(splat(s, 0.0), x));
unary_fn!(SigmoidF, |s, x| math::sigmoid(s, x));
unary_fn!(TanhF, bundled_streaming: is_f64::<T>(), |s, x| math::tanh(s, x));
unary_fn!(GeluF, bundled_streaming: is_f64::<T>(), |s, x| math::gelu(s, x));
unary_fn!(GeluTanhF, bundled_streaming: true, |s, x| math::gelu_tanh(s, x));
unary_fn!(SiluF, bundled_streaming: is_f64::<T>(), |s, x| math::silu(s, x));
unary_fn!(SoftplusF, bundled_streaming: true, |s, x| math::softplus(s, x));
unary_fn!(ExpF, |s, x| math::exp(s, x));
unary_fn!(LogF, |s, x| math::log(s, x));
unary_fn!(Log1pF, |s, x| math::log1p(s, x));
unary_fn!(SqrtF, |s, x| s.sqrt(x));
unary_fn!(RecipF, |s, x| s.div(splat(s, 1.0), x));
unary_fn!(ErfF, |s, x| math::erf(s, x));
unary_fn!(Expm1F, bundled_streaming: is_f64::<T>(), |s, x| math::expm1(s, x));

binary_fn!(ReluB, |s, x, dy| keep_nan(
    s,
    x,
    s.select(s.lt(splat(s, 0.0), x), dy, splat(s, 0.0))
));
binary_fn!(SigmoidB, |s, y, dy| s
    .mul(dy, s.mul(y, s.sub(splat(s, 1.0), y))));
binary_fn!(TanhB, |s, y, dy| {
    let one = splat(s, 1.0);
    s.mul(dy, s.mul(s.sub(one, y), s.add(one, y)))
});
binary_fn!(GeluB, bundled_streaming: is_f64::<T>(), |s, x, dy| {
    s.mul(dy, math::gelu_derivative(s, x))
});
binary_fn!(GeluTanhB, bundled_streaming: true, |s, x, dy| s
    .mul(dy, math::gelu_tanh_derivative(s, x)));
binary_fn!(SiluB, bundled_streaming: true, |s, x, dy| {
    let q = math::sigmoid(s, x);
    let one_m_q = s.sub(splat(s, 1.0), q);
    // silu' = q + silu(x) (1 - q); the product is 0 where 1 - q is (also for x = +inf).
    let t = s.mul(math::silu(s, x), one_m_q);
    let t = s.select(s.eq(one_m_q, splat(s, 0.0)), splat(s, 0.0), t);
    s.mul(dy, s.add(q, t))
});
binary_fn!(SoftplusB, |s, x, dy| s.mul(dy, math::sigmoid(s, x)));
binary_fn!(ExpB, |s, y, dy| s.mul(dy, y));
binary_fn!(LogB, |s, x, dy| s.div(dy, x));
binary_fn!(Log1pB, |s, x, dy| s.div(dy, s.add(splat(s, 1.0), x)));
binary_fn!(SqrtB, |s, y, dy| s.div(dy, s.add(y, y)));
binary_fn!(RecipB, |s, y, dy| s
    .sub(splat(s, 0.0), s.mul(s.mul(dy, y), y)));
binary_fn!(ErfB, |s, x, dy| {
    // erf'(x) = 2/sqrt(pi) e^(-x^2)
    let e = math::exp(s, s.sub(splat(s, 0.0), s.mul(x, x)));
    s.mul(dy, s.mul(e, splat(s, core::f64::consts::FRAC_2_SQRT_PI)))
});
binary_fn!(Expm1B, |s, x, dy| s.mul(dy, math::exp(s, x)));

#[derive(Clone, Copy)]
struct LeakyF<T>(T);
impl<T: Element> Unary<T> for LeakyF<T> {
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, x: S::V) -> S::V {
        s.select(s.lt(s.splat(T::ZERO), x), x, s.mul(x, s.splat(self.0)))
    }
}

#[derive(Clone, Copy)]
struct LeakyB<T>(T);
impl<T: Element> Binary<T> for LeakyB<T> {
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, x: S::V, dy: S::V) -> S::V {
        let d = s.select(s.lt(s.splat(T::ZERO), x), dy, s.mul(dy, s.splat(self.0)));
        keep_nan(s, x, d)
    }
}

// ---------------------------------------------------------------- public kernels

macro_rules! forward {
    ($name:ident, $try_name:ident, $inplace:ident, $op:expr, $doc:expr) => {
        #[doc = $doc]
        ///
        /// # Panics
        /// If `x.len() != y.len()` (the message names both lengths).
        pub fn $name<T: Element>(x: &[T], y: &mut [T]) {
            unwrap_or_panic(map(stringify!($name), $op, x, y))
        }

        #[doc = concat!("[`", stringify!($name), "`], returning an error instead of panicking when `x.len() != y.len()`.")]
        pub fn $try_name<T: Element>(x: &[T], y: &mut [T]) -> Result<(), KernelError> {
            map(stringify!($name), $op, x, y)
        }

        #[doc = concat!("[`", stringify!($name), "`] in place: `x[i] = f(x[i])`.")]
        pub fn $inplace<T: Element>(x: &mut [T]) {
            map_inplace($op, x)
        }
    };
}

macro_rules! backward {
    ($name:ident, $try_name:ident, $arg:ident, $op:expr, $doc:expr) => {
        #[doc = $doc]
        ///
        /// # Panics
        #[doc = concat!("If `dy` or `dx` is not as long as `", stringify!($arg), "` (the message names both lengths).")]
        pub fn $name<T: Element>($arg: &[T], dy: &[T], dx: &mut [T]) {
            unwrap_or_panic(zip(stringify!($name), $op, $arg, dy, dx))
        }

        #[doc = concat!("[`", stringify!($name), "`], returning an error instead of panicking on mismatched lengths.")]
        pub fn $try_name<T: Element>($arg: &[T], dy: &[T], dx: &mut [T]) -> Result<(), KernelError> {
            zip(stringify!($name), $op, $arg, dy, dx)
        }
    };
}

forward!(
    relu,
    try_relu,
    relu_inplace,
    ReluF,
    "ReLU: `y = max(x, 0)`, exact. NaN gives NaN."
);
backward!(
    relu_backward,
    try_relu_backward,
    x,
    ReluB,
    "ReLU derivative: `dx = dy` where `x > 0`, else `0` (the subgradient at 0 is taken as 0), \
     exact. Takes the input `x` (the output `y` would do equally: `y > 0` iff `x > 0`). \
     NaN in `x` gives NaN; where `x <= 0` the result is 0 even for a NaN `dy` (as PyTorch's \
     `threshold_backward`)."
);

/// Leaky ReLU: `y = x` for `x > 0`, else `alpha * x` (one rounding). NaN gives NaN.
///
/// # Panics
/// If `x.len() != y.len()` (the message names both lengths).
pub fn leaky_relu<T: Element>(x: &[T], y: &mut [T], alpha: T) {
    unwrap_or_panic(map("leaky_relu", LeakyF(alpha), x, y))
}

/// [`leaky_relu`], returning an error instead of panicking when `x.len() != y.len()`.
pub fn try_leaky_relu<T: Element>(x: &[T], y: &mut [T], alpha: T) -> Result<(), KernelError> {
    map("leaky_relu", LeakyF(alpha), x, y)
}

/// [`leaky_relu`] in place.
pub fn leaky_relu_inplace<T: Element>(x: &mut [T], alpha: T) {
    map_inplace(LeakyF(alpha), x)
}

/// Leaky ReLU derivative: `dx = dy` where `x > 0`, else `alpha * dy` (one rounding). Takes the
/// input `x` (for `alpha > 0` the output's sign would do too, but not for `alpha <= 0`). NaN in
/// `x` gives NaN.
///
/// # Panics
/// If `dy` or `dx` is not as long as `x` (the message names both lengths).
pub fn leaky_relu_backward<T: Element>(x: &[T], dy: &[T], dx: &mut [T], alpha: T) {
    unwrap_or_panic(zip("leaky_relu_backward", LeakyB(alpha), x, dy, dx))
}

/// [`leaky_relu_backward`], returning an error instead of panicking on mismatched lengths.
pub fn try_leaky_relu_backward<T: Element>(
    x: &[T],
    dy: &[T],
    dx: &mut [T],
    alpha: T,
) -> Result<(), KernelError> {
    zip("leaky_relu_backward", LeakyB(alpha), x, dy, dx)
}

forward!(
    sigmoid,
    try_sigmoid,
    sigmoid_inplace,
    SigmoidF,
    "Logistic sigmoid: `y = 1 / (1 + e^-x)`, within 2 ULP (see [`math::sigmoid`]).\n\n\
     ```\nlet x = [0.0f64, 40.0, -800.0];\nlet mut y = [0.0; 3];\n\
     nabla_kernels::activation::sigmoid(&x, &mut y);\nassert_eq!(y, [0.5, 1.0, 0.0]);\n```"
);
backward!(
    sigmoid_backward,
    try_sigmoid_backward,
    y,
    SigmoidB,
    "Sigmoid derivative: `dx = dy * y (1 - y)`. Takes the forward **output** `y`: the \
     derivative is a polynomial in it, no exponential needed. Three roundings after `y`: \
     within 2 ULP of `dy * y (1 - y)` evaluated exactly (for `y >= 1/2`, `1 - y` is exact)."
);

forward!(
    tanh,
    try_tanh,
    tanh_inplace,
    TanhF,
    "Hyperbolic tangent, within 2 ULP (see [`math::tanh`])."
);
backward!(
    tanh_backward,
    try_tanh_backward,
    y,
    TanhB,
    "Tanh derivative: `dx = dy (1 - y^2)`, evaluated as `dy (1 - y)(1 + y)` (no cancellation \
     near `|y| = 1`). Takes the forward **output** `y` (a polynomial in it; no exponential). \
     Within 2 ULP of that expression evaluated exactly; where `y` rounded to `+-1` the \
     derivative is 0."
);

forward!(
    gelu,
    try_gelu,
    gelu_inplace,
    GeluF,
    "GELU, exact form `x Phi(x) = x (1 + erf(x / sqrt 2)) / 2`, within 2 ULP (see \
     [`math::gelu`]).\n\n```\nlet x = [0.0f32, 1.0, -1.0];\nlet mut y = [0.0; 3];\n\
     nabla_kernels::activation::gelu(&x, &mut y);\n\
     assert!((y[1] - 0.841_344_75).abs() < 1e-7 && (y[2] + 0.158_655_25).abs() < 1e-7);\n```"
);
backward!(
    gelu_backward,
    try_gelu_backward,
    x,
    GeluB,
    "GELU derivative: `dx = dy (Phi(x) + x phi(x))`, `phi` the standard normal density. Takes \
     the input `x` (the output does not determine `x`). Accurate to a few ULP of the larger \
     term `max(Phi(x), |x phi(x)|)` (see [`math::gelu_derivative`])."
);

forward!(
    gelu_tanh,
    try_gelu_tanh,
    gelu_tanh_inplace,
    GeluTanhF,
    "GELU, tanh approximation `x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2` (see \
     [`math::gelu_tanh`] for its accuracy)."
);
backward!(
    gelu_tanh_backward,
    try_gelu_tanh_backward,
    x,
    GeluTanhB,
    "Derivative of [`gelu_tanh`]: with `u = sqrt(2/pi) (x + 0.044715 x^3)` and \
     `q = (1 + tanh u)/2`, `dx = dy (q + x q (1 - q) 2u')`. Takes the input `x` (the output \
     does not determine `x`: the function is not monotonic). Accurate to a few ULP of its \
     larger term."
);

forward!(
    silu,
    try_silu,
    silu_inplace,
    SiluF,
    "SiLU / swish: `y = x sigmoid(x) = x / (1 + e^-x)`, within 2 ULP (see [`math::silu`])."
);
backward!(
    silu_backward,
    try_silu_backward,
    x,
    SiluB,
    "SiLU derivative: `dx = dy (s + x s (1 - s))`, `s = sigmoid(x)`. Takes the input `x` \
     (`x` is not a function of `y`: SiLU is not monotonic). Accurate to a few ULP of its \
     larger term (it crosses 0 near `x = -1.278`)."
);

forward!(
    softplus,
    try_softplus,
    softplus_inplace,
    SoftplusF,
    "Softplus: `y = log(1 + e^x)`, computed without overflow or cancellation, within 2 ULP \
     (see [`math::softplus`])."
);
backward!(
    softplus_backward,
    try_softplus_backward,
    x,
    SoftplusB,
    "Softplus derivative: `dx = dy sigmoid(x)`. Takes the input `x` (from `y` it would need \
     `1 - e^-y`, which cancels for small `y`). Within 3 ULP (sigmoid's 2 plus the product)."
);

forward!(
    exp,
    try_exp,
    exp_inplace,
    ExpF,
    "`y = e^x`, within 1 ULP (see [`math::exp`])."
);
backward!(
    exp_backward,
    try_exp_backward,
    y,
    ExpB,
    "Exp derivative: `dx = dy y`. Takes the forward **output** `y` (the derivative is the \
     output itself). One rounding."
);

forward!(
    log,
    try_log,
    log_inplace,
    LogF,
    "Natural logarithm, within 1 ULP (see [`math::log`])."
);
backward!(
    log_backward,
    try_log_backward,
    x,
    LogB,
    "Log derivative: `dx = dy / x`. Takes the input `x` (from `y` it would need `e^-y`). One \
     rounding (correctly rounded)."
);

forward!(
    log1p,
    try_log1p,
    log1p_inplace,
    Log1pF,
    "`y = log(1 + x)`, accurate for tiny `x`, within 2 ULP (see [`math::log1p`])."
);
backward!(
    log1p_backward,
    try_log1p_backward,
    x,
    Log1pB,
    "Log1p derivative: `dx = dy / (1 + x)`. Takes the input `x` (from `y` it would need \
     `e^-y`). Two roundings: within 1.5 ULP of that expression."
);

forward!(
    expm1,
    try_expm1,
    expm1_inplace,
    Expm1F,
    "`y = e^x - 1`, accurate near 0, within 2 ULP (see [`math::expm1`])."
);
backward!(
    expm1_backward,
    try_expm1_backward,
    x,
    Expm1B,
    "Expm1 derivative: `dx = dy e^x`. Takes the input `x` (`y + 1` would round for small `x`). \
     Within 1.5 ULP."
);

forward!(
    erf,
    try_erf,
    erf_inplace,
    ErfF,
    "The error function, within 2 ULP (see [`math::erf`])."
);
backward!(
    erf_backward,
    try_erf_backward,
    x,
    ErfB,
    "Erf derivative: `dx = dy 2/sqrt(pi) e^(-x^2)`. Takes the input `x` (`y` near 1 does not \
     determine `x`). The rounding of `x^2` \
     gives a relative error up to `x^2` ULP, so a few ULP for `|x| <= 2` and more in the tail \
     where the derivative is below `1e-1`."
);

forward!(
    sqrt,
    try_sqrt,
    sqrt_inplace,
    SqrtF,
    "Square root, correctly rounded (the hardware instruction). `sqrt(x < 0) = NaN`."
);
backward!(
    sqrt_backward,
    try_sqrt_backward,
    y,
    SqrtB,
    "Sqrt derivative: `dx = dy / (2 y)`. Takes the forward **output** `y = sqrt(x)` (saves a \
     square root). One rounding."
);

forward!(
    reciprocal,
    try_reciprocal,
    reciprocal_inplace,
    RecipF,
    "`y = 1 / x`, correctly rounded (a true division). `1/+-0 = +-inf`."
);
backward!(
    reciprocal_backward,
    try_reciprocal_backward,
    y,
    RecipB,
    "Reciprocal derivative: `dx = -dy / x^2 = -dy y^2`. Takes the forward **output** `y` \
     (two multiplications instead of a division). Two roundings (within 1 ULP + 1 ULP)."
);
