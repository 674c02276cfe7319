//! Vectorized elementary functions, written once over [`Simd<T>`] for `f32` and `f64`.
//!
//! Every function takes a SIMD token `s` and a vector `x` and is `#[inline(always)]`, so it is
//! compiled into the calling kernel for that kernel's instruction set. They are the building
//! blocks of [`crate::activation`] and the softmax family; slice-level entry points live there.
//!
//! The algorithms are correct whether [`Simd::mul_add`] is fused (AVX2, AVX-512) or not
//! (scalar, SSE2): range reductions use Cody-Waite splits whose leading products are exact
//! either way, and no result depends on the extra precision of a fused multiply-add.
//!
//! Special values follow the scalar `std` functions: NaN in gives NaN out, infinities and
//! overflow/underflow give what `f32::exp`, `f64::ln`, ... give.
//!
//! | function | bound (ULP from the correctly rounded result) | measured max, `f32` sweep / `f64` table |
//! |---|---|---|
//! | [`exp`] | 1 | 1 / 1 |
//! | [`log`] | 1 | 1 / 1 |
//! | [`log1p`], [`expm1`] | 2 | 1 / 1 |
//! | [`tanh`] | 2 | 2 / 2 |
//! | [`sigmoid`], [`silu`], [`softplus`] | 2 | 2 / 1 |
//! | [`erf`] | 2 | 1 / 1 |
//! | [`gelu`] | 2 | 2 / 2 (AVX-512: 1) |
//! | [`gelu_tanh`] | 2 for `x >= -1` (`f32`), `-1/4` (`f64`); grows in the tail | 2 / 1 |
//!
//! Where the correctly rounded result is subnormal, the 2-ULP functions are held to an absolute
//! error of at most the smallest normal instead (`exp` and `log` keep 1 ULP there too). The
//! measurements are `tests/math_accuracy.rs` on every path (scalar, SSE2, AVX2, AVX-512): every
//! 257th `f32` bit pattern against an `f64` reference, and `f64` points against mpmath.
//!
//! ```
//! use nabla_kernels::isa;
//! use nabla_kernels::simd::{Simd, SimdOp};
//! use nabla_kernels::Element;
//!
//! /// `y[i] = exp(x[i])` for the first LANES elements, on whatever path is active.
//! struct ExpHead<'a>(&'a [f32], &'a mut [f32]);
//! impl SimdOp<f32> for ExpHead<'_> {
//!     type Output = ();
//!     #[inline(always)]
//!     fn run<S: Simd<f32>>(self, s: S) {
//!         let n = self.0.len().min(S::LANES);
//!         let v = s.load_partial(&self.0[..n], 0.0);
//!         s.store_partial(&mut self.1[..n], nabla_kernels::math::exp(s, v));
//!     }
//! }
//!
//! let x = [0.0f32, 1.0, -1.0, 88.0];
//! let mut y = [0.0f32; 4];
//! f32::dispatch(isa::active(), ExpHead(&x, &mut y));
//! assert_eq!(y[0], 1.0);
//! assert!((y[1] - std::f32::consts::E).abs() <= f32::EPSILON * 3.0);
//! ```

use crate::element::Element;
use crate::simd::Simd;

// ---------------------------------------------------------------- small helpers

/// Whether `T` is `f32` (a constant: the untaken branch is compiled away).
#[inline(always)]
fn is_f32<T: Element>() -> bool {
    T::MANTISSA_BITS == 23
}

/// A constant vector (`v` rounded to `T`).
#[inline(always)]
fn k<T: Element, S: Simd<T>>(s: S, v: f64) -> S::V {
    s.splat(T::from_f64(v))
}

/// The sign bit of `T`, as a bit pattern.
#[inline(always)]
fn sign_bits<T: Element>() -> u64 {
    if is_f32::<T>() { 1 << 31 } else { 1 << 63 }
}

/// `|x|` (clears the sign bit; NaN stays NaN).
#[inline(always)]
pub fn abs<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    s.bit_and(x, s.splat_bits(!sign_bits::<T>() & mask_bits::<T>()))
}

/// All bits of a `T` set.
#[inline(always)]
fn mask_bits<T: Element>() -> u64 {
    if is_f32::<T>() {
        u32::MAX as u64
    } else {
        u64::MAX
    }
}

/// Horner evaluation of `c[0]*x^(N-1) + ... + c[N-1]` (coefficients highest degree first).
#[inline(always)]
fn horner<T: Element, S: Simd<T>, const N: usize>(s: S, x: S::V, c: &[f64; N]) -> S::V {
    let mut acc = k(s, c[0]);
    let mut i = 1;
    while i < N {
        acc = s.mul_add(acc, x, k(s, c[i]));
        i += 1;
    }
    acc
}

// ---------------------------------------------------------------- constants

/// Constants of the `exp` range reduction for one type.
struct ExpConsts {
    /// `1/ln 2`.
    log2e: f64,
    /// `ln 2` rounded so that `n * ln2_hi` is exact for every `n` the reduction produces.
    ln2_hi: f64,
    /// `ln 2 - ln2_hi`, rounded.
    ln2_lo: f64,
    /// `1.5 * 2^p + bias`: adding it rounds to an integer `n` and leaves `n + bias` in the low
    /// mantissa bits, which `shl_mantissa` moves into the exponent field to make `2^n`.
    shift: f64,
    /// `1.5 * 2^p`: adding and subtracting it rounds to the nearest integer.
    round: f64,
    /// Below this `|x|` one scaling by `2^n` cannot overflow or underflow.
    fast_limit: f64,
    /// Inputs are clamped to `[lo, hi]` on the slow path: beyond, the result is `0` or `inf`.
    lo: f64,
    /// See `lo`.
    hi: f64,
}

const EXP_F32: ExpConsts = ExpConsts {
    log2e: core::f64::consts::LOG2_E,
    // 0x3f317200: 15 significant bits, so n * ln2_hi is exact for |n| < 2^9.
    ln2_hi: 0.693_145_751_953_125,
    ln2_lo: 1.428_606_765_330_187e-6,
    shift: 12_582_912.0 + 127.0,
    round: 12_582_912.0,
    fast_limit: 87.0,
    // exp(-104) rounds to 0 in f32; exp(89) overflows.
    lo: -104.0,
    hi: 89.0,
};

const EXP_F64: ExpConsts = ExpConsts {
    log2e: core::f64::consts::LOG2_E,
    // ln 2 with the low 11 mantissa bits cleared: n * ln2_hi is exact for |n| < 2^11.
    ln2_hi: 0.693_147_180_559_890_3,
    ln2_lo: 5.497_923_018_708_371e-14,
    shift: 6_755_399_441_055_744.0 + 1023.0,
    round: 6_755_399_441_055_744.0,
    fast_limit: 708.0,
    // exp(-746) rounds to 0 in f64; exp(710) overflows.
    lo: -746.0,
    hi: 710.0,
};

/// `exp(r) ~ 1 + r + r^2 * P(r)` on `|r| <= 0.35`: minimax for relative error (fitted with a
/// Lawson iteration in 40-digit arithmetic), coefficients of `r^6 .. r^2`, then `1, 1`.
/// Relative error of the rounded coefficients: 2^-27.6.
const EXP_POLY_F32: [f64; 7] = [
    0.001_381_316_571_496_427,
    0.008_369_416_929_781_437,
    0.041_668_456_047_773_36,
    0.166_665_151_715_278_63,
    0.499_999_940_395_355_2,
    1.0,
    1.0,
];

/// As [`EXP_POLY_F32`] for `f64`: degree 11 on `|r| <= 0.347`, relative error 2^-56.6.
const EXP_POLY_F64: [f64; 12] = [
    2.499_995_570_588_210_4e-8,
    2.763_041_831_588_882e-7,
    2.755_758_757_876_515e-6,
    2.480_149_265_974_015_4e-5,
    1.984_126_950_427_054_6e-4,
    1.388_888_894_401_302_8e-3,
    8.333_333_333_495_957e-3,
    4.166_666_666_652_888_6e-2,
    1.666_666_666_666_641e-1,
    5.000_000_000_000_011e-1,
    1.0,
    1.0,
];

// ---------------------------------------------------------------- exp

/// `e^x`, within 1 ULP of the correctly rounded result for every input (`f32` and `f64`).
///
/// Overflow gives `+inf` (`f32` from `x > 88.72283`, `f64` from `x > 709.7827`), underflow goes
/// through the subnormals to `+0`, `exp(-inf) = 0`, `exp(+inf) = inf`, NaN gives NaN.
///
/// Method: `n = round(x / ln 2)`, `r = x - n ln2_hi - n ln2_lo` (Cody-Waite), a minimax polynomial
/// for `e^r` on `|r| <= ln 2 / 2`, and `2^n` built in the exponent field. When some lane has
/// `|x|` beyond 87 (`f32`) or 708 (`f64`) a slower path splits `2^n` into two factors so that
/// the result rounds once, also into the subnormal range. On AVX-512 the input is clamped to
/// where the result saturates and `vscalef` multiplies by `2^n` with one rounding instead, for
/// every input: no range check, no second path.
///
/// The accuracy is checked by `tests/math_accuracy.rs` on every 257th `f32` bit pattern and on
/// random `f64`s, on every instruction-set path.
#[inline(always)]
pub fn exp<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    if is_f32::<T>() {
        exp_impl(s, x, &EXP_F32, &EXP_POLY_F32)
    } else {
        exp_impl(s, x, &EXP_F64, &EXP_POLY_F64)
    }
}

#[inline(always)]
fn exp_impl<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    c: &ExpConsts,
    poly: &[f64; N],
) -> S::V {
    if S::FAST_SCALEF {
        return exp_wide(s, x, c, poly, true);
    }
    let big = s.lt(k(s, c.fast_limit), abs(s, x));
    if !s.any(big) {
        // Common case: 2^n is a normal number. NaN lanes stay NaN through the arithmetic.
        let (p, t) = exp_reduced(s, x, c, poly, false);
        s.mul(p, s.shl_mantissa(t))
    } else {
        exp_wide(s, x, c, poly, false)
    }
}

/// The reduction and polynomial of `exp`: returns `(e^r, t)` where `t` carries `n + bias` in its
/// low mantissa bits (for `shl_mantissa`) and `e^x = e^r * 2^n`. The reduction `r = x - n ln 2`
/// is Cody-Waite's (`ln2_hi`, then `ln2_lo`), or with `one_constant` a single multiply-add with
/// `ln 2` rounded to `T` (exact before its one rounding where the path fuses; see
/// [`exp_summand`] for what that costs in accuracy).
#[inline(always)]
fn exp_reduced<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    c: &ExpConsts,
    poly: &[f64; N],
    one_constant: bool,
) -> (S::V, S::V) {
    let shift = k(s, c.shift);
    let t = s.mul_add(x, k(s, c.log2e), shift);
    let n = s.sub(t, shift);
    let r = if one_constant {
        s.mul_add(n, k(s, -core::f64::consts::LN_2), x)
    } else {
        let r = s.mul_add(n, k(s, -c.ln2_hi), x);
        s.mul_add(n, k(s, -c.ln2_lo), r)
    };
    (horner(s, r, poly), t)
}

/// `exp` for any input: clamps to where the result saturates and scales by `2^n` so that only
/// the last multiplication rounds (into the subnormals, to 0 or to infinity): with `scalef`
/// (a constant at every call) by [`Simd::scalef`], one instruction on AVX-512, where this is
/// `exp` for every input with no range check and no second path (`exp/f32/l2` in
/// `cargo xtask perf`: 5.0 Gelem/s with the check, 5.9 this way); otherwise in two exact
/// steps.
#[inline(always)]
fn exp_wide<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    c: &ExpConsts,
    poly: &[f64; N],
    scalef: bool,
) -> S::V {
    // `max`/`min` return their second operand for NaN: NaN stays NaN.
    let xc = s.min(k(s, c.hi), s.max(k(s, c.lo), x));
    let shift = k(s, c.shift);
    let (p, t) = exp_reduced(s, xc, c, poly, false);
    let n = s.sub(t, shift);
    if scalef {
        return s.scalef(p, n);
    }
    let round = k(s, c.round);
    let n1 = s.sub(s.add(s.mul(n, k(s, 0.5)), round), round);
    let n2 = s.sub(n, n1);
    let s1 = s.shl_mantissa(s.add(n1, shift));
    let s2 = s.shl_mantissa(s.add(n2, shift));
    s.mul(s.mul(p, s1), s2)
}

/// `e^d` for `d <= 0` (or NaN, which gives NaN), as a term of a sum that also holds
/// `e^0 = 1`: the sums of `logsumexp` and `log_softmax`, `sum_j e^(x_j - m)`.
///
/// On paths with a one-instruction [`Simd::scalef`] (AVX-512), two operations lighter than
/// [`exp`]: no upper clamp (`d <= 0` cannot overflow), and the reduction `r = d - n ln 2` is one
/// fused multiply-add with `ln 2` rounded to `T` instead of Cody-Waite's two. That constant's
/// rounding (relative `2^-28.44` for `f32`, `2^-54.73` for `f64`) moves the result by a relative
/// `|d| 2^-28.44` (`|d| 2^-54.73`), at most `0.046 |d|` ULP (`f32`; `0.30 |d|` for `f64`) on top of
/// [`exp`]'s 1 ULP: a twentieth (a third) of what the rounding of `d = x_j - m` itself can cause
/// (relative `|d| eps/2`), and weighted in the sum by `e^d`: as `|d| e^d <= 1/e`, the sum's
/// relative error grows by at most `0.017` ULP (`0.11`). `cargo xtask perf --filter
/// logsumexp_rows`: see `softmax::Lse`. Elsewhere it is [`exp`].
#[inline(always)]
pub(crate) fn exp_summand<T: Element, S: Simd<T>>(s: S, d: S::V) -> S::V {
    if !(S::FAST_SCALEF && S::FUSED_MUL_ADD) {
        return exp(s, d);
    }
    // `max` returns its second operand for NaN: NaN stays NaN. Below `c.lo` the result rounds
    // to 0, as `exp`'s. Fused (AVX-512): the one-constant reduction rounds once.
    let c = if is_f32::<T>() { &EXP_F32 } else { &EXP_F64 };
    let dc = s.max(k(s, c.lo), d);
    let (p, t) = if is_f32::<T>() {
        exp_reduced(s, dc, c, &EXP_POLY_F32, true)
    } else {
        exp_reduced(s, dc, c, &EXP_POLY_F64, true)
    };
    s.scalef(p, s.sub(t, k(s, c.shift)))
}

/// `e^(c x)` for `x = hi + lo` given as an unevaluated sum (`|lo|` much smaller than `|hi|`) and
/// `c` a constant power of 2 or its negative (1; `-1/2` for the Gaussian, `-1` for `erf`), as
/// `(pm1, t)` with `e^(c x) ~ (1 + pm1) 2^n` where `shl_mantissa(t)` is `2^n` (callers may add
/// an integer to `t` first to scale by a further power of 2). Returning `e^r - 1` rather than
/// `e^r` lets callers fold the last addition into their own product (`v e^r = v + v pm1`, one
/// rounding). Valid for `|c hi|` up to 745 (`f32`: 104).
///
/// `c` costs no operation: the reduction runs on `r / c` with the constants scaled (`c log2 e`,
/// `ln 2 / c`) and the polynomial's coefficient of `r^j` times `c^j`, so every intermediate is
/// the one for `c hi + c lo` times a power of 2 and rounds the same: the bits are those of
/// scaling `hi` and `lo` first (except where that scaling would have rounded a subnormal `lo`),
/// one multiplication fewer (see [`gaussian_tail_by_lookup`] for what that gave).
#[inline(always)]
fn exp_pair<T: Element, S: Simd<T>>(s: S, hi: S::V, lo: S::V, c: f64) -> (S::V, S::V) {
    debug_assert!(
        c.abs().log2().fract() == 0.0,
        "c is a power of 2 or its negative"
    );
    let e = if is_f32::<T>() { &EXP_F32 } else { &EXP_F64 };
    let shift = k(s, e.shift);
    let t = s.mul_add(hi, k(s, c * e.log2e), shift);
    let n = s.sub(t, shift);
    let r = s.mul_add(n, k(s, -e.ln2_hi / c), hi);
    let r = s.add(r, s.mul_add(n, k(s, -e.ln2_lo / c), lo));
    // The exp polynomial without its final `* r + 1`, in `r / c`.
    let q = if is_f32::<T>() {
        horner_head(s, r, &EXP_POLY_F32, c)
    } else {
        horner_head(s, r, &EXP_POLY_F64, c)
    };
    (s.mul(q, r), t)
}

/// [`horner`] without the last step, at `x / c` for a power of 2 `c`:
/// `c[0] (c x)^(N-2) + ... + c[N-2]` times `c` (the constant term `c[N-1]` left out; each
/// coefficient scaled exactly, by `c` to the power of its degree plus one).
#[inline(always)]
fn horner_head<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    coef: &[f64; N],
    c: f64,
) -> S::V {
    let scaled = |i: usize| {
        let mut v = coef[i];
        for _ in 0..N - 1 - i {
            v *= c;
        }
        k(s, v)
    };
    let mut acc = scaled(0);
    let mut i = 1;
    while i + 1 < N {
        acc = s.mul_add(acc, x, scaled(i));
        i += 1;
    }
    acc
}

// ---------------------------------------------------------------- log

/// `R(z) = (2 atanh(s) - 2s)/s` for `z = s^2 <= 0.0297`, coefficients of `z^K .. z^1`
/// (multiply by `z` after Horner). Relative error 2^-21.7 (`f32`), 2^-50.7 (`f64`); `R`
/// enters the result scaled by `z/3 <= 0.01`.
const LOG_R_F32: [f64; 3] = [
    0.295_908_927_917_480_47,
    0.399_885_356_426_239,
    0.666_666_865_348_815_9,
];
const LOG_R_F64: [f64; 7] = [
    0.146_304_665_299_208_52,
    0.153_305_794_569_085_08,
    0.181_829_237_401_441_97,
    0.222_222_106_561_373_17,
    0.285_714_286_289_284_2,
    0.399_999_999_998_929_66,
    0.666_666_666_666_667,
];

/// Splits a positive normal `x` into `(e, m)` with `x = 2^e * m`, `m` in `[sqrt(1/2), sqrt 2)`;
/// `e` is returned as a float.
#[inline(always)]
fn split_exponent<T: Element, S: Simd<T>>(s: S, x: S::V) -> (S::V, S::V) {
    let (mant_mask, one_bits, int_bits, int_base) = if is_f32::<T>() {
        (
            0x007f_ffffu64,
            0x3f80_0000u64,
            0x4b00_0000u64,
            8_388_608.0 + 127.0,
        )
    } else {
        (
            0x000f_ffff_ffff_ffffu64,
            0x3ff0_0000_0000_0000u64,
            0x4330_0000_0000_0000u64,
            4_503_599_627_370_496.0 + 1023.0,
        )
    };
    // The biased exponent as an integer in the low bits, turned into a float by placing it in
    // the mantissa of 2^p (p = mantissa bits) and subtracting 2^p + bias: exact.
    let eb = s.shr_mantissa(x);
    let e = s.sub(s.bit_or(eb, s.splat_bits(int_bits)), k(s, int_base));
    let m = s.bit_or(
        s.bit_and(x, s.splat_bits(mant_mask)),
        s.splat_bits(one_bits),
    );
    let big = s.lt(k(s, core::f64::consts::SQRT_2), m);
    let m = s.select(big, s.mul(m, k(s, 0.5)), m);
    let e = s.select(big, s.add(e, k(s, 1.0)), e);
    (e, m)
}

/// `e ln 2 + log(1 + f) + c` for `f = m - 1`, `m` in `[sqrt(1/2), sqrt 2)` (fdlibm's scheme:
/// `s = f/(2+f)`, `log(1+f) = f - (hfsq - s (hfsq + R(s^2)))`), `c` a small correction.
#[inline(always)]
fn log_finish<T: Element, S: Simd<T>>(s: S, e: S::V, f: S::V, c: S::V) -> S::V {
    let ec = if is_f32::<T>() { &EXP_F32 } else { &EXP_F64 };
    let sv = s.div(f, s.add(k(s, 2.0), f));
    let z = s.mul(sv, sv);
    let r = if is_f32::<T>() {
        s.mul(horner(s, z, &LOG_R_F32), z)
    } else {
        s.mul(horner(s, z, &LOG_R_F64), z)
    };
    let hfsq = s.mul(k(s, 0.5), s.mul(f, f));
    let lo = s.mul_add(e, k(s, ec.ln2_lo), c);
    let t = s.mul_add(sv, s.add(hfsq, r), lo);
    s.sub(s.mul(e, k(s, ec.ln2_hi)), s.sub(s.sub(hfsq, t), f))
}

/// Natural logarithm, within 1 ULP of the correctly rounded result for every input (`f32` and
/// `f64`), subnormals included.
///
/// `log(+0) = log(-0) = -inf`, `log(x < 0) = NaN`, `log(+inf) = +inf`, NaN gives NaN.
///
/// Method (fdlibm's): `x = 2^e m` with `m` in `[sqrt(1/2), sqrt 2)`, `f = m - 1`,
/// `s = f / (2 + f)`, `log(1 + f) = f - (f^2/2 - s (f^2/2 + R(s^2)))` with a minimax `R`, and
/// `e ln 2` added in two parts. Subnormal inputs are scaled by `2^25` (`2^54`) first.
#[inline(always)]
pub fn log<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let minp = s.splat(T::MIN_POSITIVE);
    let maxv = s.splat(T::MAX);
    let special = s.mask_or(s.mask_or(s.lt(x, minp), s.lt(maxv, x)), s.is_nan(x));
    if !s.any(special) {
        let (e, m) = split_exponent(s, x);
        return log_finish(s, e, s.sub(m, k(s, 1.0)), k(s, 0.0));
    }
    let (scale, shift) = if is_f32::<T>() {
        (33_554_432.0, 25.0)
    } else {
        (18_014_398_509_481_984.0, 54.0)
    };
    let tiny = s.lt(x, minp);
    let xs = s.select(tiny, s.mul(x, k(s, scale)), x);
    let (e, m) = split_exponent(s, xs);
    let e = s.select(tiny, s.sub(e, k(s, shift)), e);
    let y = log_finish(s, e, s.sub(m, k(s, 1.0)), k(s, 0.0));
    let zero = k(s, 0.0);
    let y = s.select(s.lt(x, zero), s.splat(T::NAN), y);
    let y = s.select(s.eq(x, zero), s.splat(T::NEG_INFINITY), y);
    let y = s.select(s.eq(x, s.splat(T::INFINITY)), x, y);
    s.select(s.is_nan(x), x, y)
}

/// `log(1 + x)` for `x > -1` finite or NaN (no special-value fix-ups).
#[inline(always)]
fn log1p_core<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let one = k(s, 1.0);
    let u = s.add(one, x);
    // Two-sum: the exact rounding error of 1 + x.
    let bb = s.sub(u, one);
    let err = s.add(s.sub(one, s.sub(u, bb)), s.sub(x, bb));
    let (e, m) = split_exponent(s, u);
    let c = s.div(err, u);
    log_finish(s, e, s.sub(m, one), c)
}

/// `log(1 + x)`, accurate also for tiny `x`: within 2 ULP of the correctly rounded result
/// (measured at most 1 ULP on the test sweeps; see `tests/math_accuracy.rs`).
///
/// `log1p(-1) = -inf`, `log1p(x < -1) = NaN`, `log1p(+inf) = +inf`, `log1p(-0) = -0`, NaN
/// gives NaN.
///
/// Method: `u = 1 + x` rounded, its rounding error recovered exactly (two-sum) and added as
/// `err / u` to the logarithm of `u` computed as in [`log`].
#[inline(always)]
pub fn log1p<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let m1 = k(s, -1.0);
    let special = s.mask_or(
        s.mask_or(s.le(x, m1), s.eq(x, s.splat(T::INFINITY))),
        s.is_nan(x),
    );
    let y = log1p_core(s, x);
    // Signed zero: log1p(-0) = -0.
    let y = s.select(s.eq(x, k(s, 0.0)), x, y);
    if !s.any(special) {
        return y;
    }
    let y = s.select(s.lt(x, m1), s.splat(T::NAN), y);
    let y = s.select(s.eq(x, m1), s.splat(T::NEG_INFINITY), y);
    let y = s.select(s.eq(x, s.splat(T::INFINITY)), x, y);
    s.select(s.is_nan(x), x, y)
}

// ---------------------------------------------------------------- expm1, tanh

/// `h(r) = (e^r - 1 - r) / r^2` on `|r| <= 0.35`, minimax with the error weighted relative to
/// `e^r - 1`; coefficients highest degree first. Weighted error 2^-28.7 (`f32`), 2^-59.8 (`f64`).
const EXPM1_H_F32: [f64; 6] = [
    0.000_198_459_791_135_974_23,
    0.001_394_164_981_320_500_4,
    0.008_333_391_509_950_161,
    0.041_666_347_533_464_43,
    0.166_666_656_732_559_2,
    0.5,
];
const EXPM1_H_F64: [f64; 11] = [
    2.087_532_800_045_329_3e-9,
    2.510_911_179_907_524e-8,
    2.755_740_302_935_398e-7,
    2.755_724_402_393_303_6e-6,
    2.480_158_717_163_521_5e-5,
    1.984_126_988_628_009_6e-4,
    1.388_888_888_896_306e-3,
    8.333_333_333_321_582e-3,
    4.166_666_666_666_650_5e-2,
    1.666_666_666_666_667_7e-1,
    0.5,
];

/// `h(r)` of [`EXPM1_H_F32`] / [`EXPM1_H_F64`]: `e^r - 1 ~ r + r^2 h(r)`.
#[inline(always)]
fn expm1_h<T: Element, S: Simd<T>>(s: S, r: S::V) -> S::V {
    if is_f32::<T>() {
        horner(s, r, &EXPM1_H_F32)
    } else {
        horner(s, r, &EXPM1_H_F64)
    }
}

/// `e^x - 1` for `x` in `[lo, hi]` where `2^n` stays normal (callers clamp), NaN propagating.
///
/// With `KEEP_ERR` the reduced argument is carried as a rounded value plus its exact rounding
/// error (what [`expm1`]'s own bound needs); without, the rounding of `r` (relative `2^-24` /
/// `2^-53`, only when `n != 0`, so for results above 0.4) is accepted, five instructions
/// fewer (what [`tanh`] uses, whose `E / (E + 2)` damps that error).
#[inline(always)]
fn expm1_core<T: Element, S: Simd<T>, const KEEP_ERR: bool>(s: S, x: S::V) -> S::V {
    let c = if is_f32::<T>() { &EXP_F32 } else { &EXP_F64 };
    let shift = k(s, c.shift);
    let t = s.mul_add(x, k(s, c.log2e), shift);
    let n = s.sub(t, shift);
    let rh = s.mul_add(n, k(s, -c.ln2_hi), x);
    let em1r = if KEEP_ERR {
        // r = rh + rl exactly (rh exact by Cody-Waite), then r rounded with its error kept:
        // expm1(r + r_err) ~ r + r^2 h + r_err (1 + r).
        let rl = s.mul(n, k(s, -c.ln2_lo));
        let r = s.add(rh, rl);
        let r_err = s.add(s.sub(rh, r), rl);
        let inner = s.mul_add(r_err, r, r_err);
        s.add(r, s.mul_add(s.mul(r, r), expm1_h(s, r), inner))
    } else {
        let r = s.mul_add(n, k(s, -c.ln2_lo), rh);
        s.mul_add(s.mul(r, r), expm1_h(s, r), r)
    };
    // e^x - 1 = 2^n (e^r - 1) + (2^n - 1)
    let scale = s.shl_mantissa(t);
    s.mul_add(scale, em1r, s.sub(scale, k(s, 1.0)))
}

/// `e^x - 1`, accurate also near 0: within 2 ULP of the correctly rounded result.
///
/// `expm1(+inf) = +inf`, `expm1(-inf) = -1`, overflow gives `+inf` (as [`exp`]), `expm1(-0) =
/// -0`, NaN gives NaN.
///
/// Method: the reduction of [`exp`] with the reduced argument kept as a rounded value plus its
/// exact error, a minimax polynomial for `e^r - 1`, and `2^n (e^r - 1) + (2^n - 1)`.
#[inline(always)]
pub fn expm1<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let (lo, hi) = if is_f32::<T>() {
        (-40.0, 80.0)
    } else {
        (-80.0, 700.0)
    };
    let xc = s.min(k(s, hi), s.max(k(s, lo), x));
    let y = expm1_core::<T, S, true>(s, xc);
    let y = s.select(s.eq(x, k(s, 0.0)), x, y);
    let big = s.lt(k(s, hi), x);
    if s.any(big) {
        s.select(big, exp(s, x), y)
    } else {
        y
    }
}

/// Copies the sign bit of `sign` onto the non-negative `mag`.
#[inline(always)]
fn with_sign_of<T: Element, S: Simd<T>>(s: S, mag: S::V, sign: S::V) -> S::V {
    s.bit_or(mag, s.bit_and(sign, s.splat_bits(sign_bits::<T>())))
}

/// Hyperbolic tangent, within 2 ULP of the correctly rounded result.
///
/// `tanh(+-inf) = +-1`, `tanh(+-0) = +-0`, NaN gives NaN; the result is exactly `+-1` from
/// `|x| = 9.1` (`f32`) / `19.1` (`f64`) on, as when rounding the exact value.
///
/// Method: `tanh |x| = E / (E + 2)` with `E = expm1(2|x|)` (no cancellation at any `x`), then
/// the sign of `x`. `f32` on AVX-512 instead evaluates the quarter-octave pieces of
/// `TANH_TABLE_F32`, each lane's coefficients looked up by its own piece (no exponential, no
/// division), and adds the piece's base (1 from 1/2 on, so `1 + p` rounds to exactly 1 where
/// `tanh` does): `cargo xtask perf --filter tanh/f32`, two interleaved pairs, `tanh/f32/l2`
/// 5.03-5.04 -> 3.86-4.01 us (6.5 -> 8.2-8.5 Gelem/s); the accuracy sweep measured at most
/// 1.06 ULP from the exact value there.
#[inline(always)]
pub fn tanh<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    if by_lookup::<T, S>() {
        // The pieces of `TANH_TABLE_F32`, then the base (1 from 1/2 on) and the sign.
        let ac = s.min(k(s, 15.5), abs(s, x));
        let key = pieces_key(s, ac);
        let p = by_pieces(s, ac, key, &TANH_CENTERS_F32, &TANH_TABLE_F32);
        return with_sign_of(s, s.add(p, piece(s, &TANH_BASE_F32, key)), x);
    }
    let cap = if is_f32::<T>() { 20.0 } else { 40.0 };
    let a = abs(s, x);
    let a2 = s.min(k(s, cap), s.add(a, a));
    let e = expm1_core::<T, S, false>(s, a2);
    let t = s.div(e, s.add(e, k(s, 2.0)));
    with_sign_of(s, t, x)
}

// ---------------------------------------------------------------- sigmoid, softplus, silu

/// The logistic function `1 / (1 + e^-x)`, within 2 ULP of the correctly rounded result (where
/// the result is subnormal, below `x = -87.3` / `-708.4`, the absolute error is at most the
/// smallest normal; from `x < -88.8` / `-745.2` on the result is 0).
///
/// `sigmoid(-inf) = 0`, `sigmoid(+inf) = 1`, NaN gives NaN.
#[inline(always)]
pub fn sigmoid<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let one = k(s, 1.0);
    let e = exp(s, s.bit_xor(x, s.splat_bits(sign_bits::<T>())));
    // `1 + e^-x = inf` gives 0. (A reciprocal estimate refined by a Newton step needed a clamp
    // for infinity and, on Zen 4, ran slower than the division.)
    s.div(one, s.add(one, e))
}

/// `x * sigmoid(x) = x / (1 + e^-x)` (SiLU, swish), within 2 ULP of the correctly rounded
/// result (absolute error at most the smallest normal where that is subnormal).
///
/// `silu(-inf) = -0`, `silu(+inf) = +inf`, NaN gives NaN.
#[inline(always)]
pub fn silu<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    // The clamp keeps -inf from giving -inf * 0; `max` returns its second operand for NaN.
    let xc = s.max(k(s, -2000.0), x);
    x_sigmoid(s, xc, xc)
}

/// `x sigmoid(u) = x / (1 + e^-u)`; below `u = -80` (`f32`) / `-700` (`f64`), where `e^-u` may
/// overflow although the result is still normal, as `x e^u` (`1 + e^-u` equals `e^-u` there to
/// far below an ULP), with `e^u` scaled by `2^64` so that it stays normal until the final
/// product.
#[inline(always)]
fn x_sigmoid<T: Element, S: Simd<T>>(s: S, x: S::V, u: S::V) -> S::V {
    let y = s.div(
        x,
        s.add(
            k(s, 1.0),
            exp(s, s.bit_xor(u, s.splat_bits(sign_bits::<T>()))),
        ),
    );
    let (lim, low) = if is_f32::<T>() {
        (-80.0, -110.0)
    } else {
        (-700.0, -750.0)
    };
    let far = s.lt(u, k(s, lim));
    if s.any(far) {
        // max: NaN stays NaN; below `low` the result is 0 after rounding anyway.
        let uc = s.max(k(s, low), u);
        let (pm1, t) = exp_pair(s, uc, k(s, 0.0), 1.0);
        let xe = s.mul(s.mul_add(x, pm1, x), s.shl_mantissa(s.add(t, k(s, 64.0))));
        let xe = s.mul(xe, k(s, 5.421_010_862_427_522e-20));
        // Below `low` the exact result rounds to (signed) zero.
        let xe = s.select(s.lt(u, k(s, low)), with_sign_of(s, k(s, 0.0), x), xe);
        s.select(far, xe, y)
    } else {
        y
    }
}

/// `log(1 + e^x)` (softplus), computed as `max(x, 0) + log1p(e^-|x|)`: no overflow, no
/// cancellation. Within 2 ULP of the correctly rounded result (absolute error at most the
/// smallest normal where that is subnormal).
///
/// `softplus(-inf) = 0`, `softplus(+inf) = +inf`, NaN gives NaN.
#[inline(always)]
pub fn softplus<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let e = exp(s, s.bit_or(x, s.splat_bits(sign_bits::<T>())));
    s.add(s.max(k(s, 0.0), x), log1p_core(s, e))
}

/// `P(z) = sum_(k=1..N) z^(k-1) / (2k+1)`, highest degree first (`1/(2N+1), ..., 1/5, 1/3`):
/// the series `log(1 + e) = 2 atanh(s) = 2s (1 + z P(z))`, `s = e / (2 + e)`, `z = s^2 <= 1/9`.
const fn atanh_series<const N: usize>() -> [f64; N] {
    let mut p = [0.0; N];
    let mut i = 0;
    while i < N {
        p[i] = 1.0 / (2 * (N - i) + 1) as f64;
        i += 1;
    }
    p
}
/// [`atanh_series`] truncated where the next term is below `9^-8 / 17 < 2^-30` relative (`f32`).
const ATANH_SERIES_F32: [f64; 7] = atanh_series();
/// As [`ATANH_SERIES_F32`] for `f64`: 16 terms, the next below `9^-17 / 35 < 2^-58`.
const ATANH_SERIES_F64: [f64; 16] = atanh_series();

/// `(softplus(x), sigmoid(x))` with one exponential and two divisions, for fused chains that
/// need softplus with its derivative ([`crate::fused`]). With `e = e^-|x|` in `(0, 1]`:
/// `softplus(x) = max(x, 0) + log1p(e)` where `log1p(e) = 2 atanh(e / (2 + e))` by its series
/// (the argument is at most `1/3`, so a fixed number of terms suffices and no range reduction is
/// needed), and `sigmoid(x) = 1 / (1 + e)` for `x >= 0`, `e / (1 + e)` below (no overflow, no
/// cancellation).
///
/// Accuracy (measured on every 131st `f32` bit pattern by `tests/fused.rs`, which asserts the
/// bound): softplus within 3 ULP (measured 2.6), sigmoid within 2.5 ULP (measured 2.24) of the
/// correctly rounded results
/// (absolute error at most the smallest normal where those are subnormal): `e` carries 1 ULP
/// into both, the series and divisions the rest. About half the
/// instructions of [`softplus`] and [`sigmoid`] apart (one exponential instead of two, no
/// exponent split). NaN gives NaN in both; `x = +inf` gives `(inf, 1)`, `x = -inf` gives
/// `(0, 0)`.
#[inline(always)]
pub fn softplus_sigmoid<T: Element, S: Simd<T>>(s: S, x: S::V) -> (S::V, S::V) {
    let one = k(s, 1.0);
    let e = exp(s, s.bit_or(x, s.splat_bits(sign_bits::<T>())));
    let sv = s.div(e, s.add(k(s, 2.0), e));
    let z = s.mul(sv, sv);
    let p = if is_f32::<T>() {
        horner(s, z, &ATANH_SERIES_F32)
    } else {
        horner(s, z, &ATANH_SERIES_F64)
    };
    let s2 = s.add(sv, sv);
    let lp = s.mul_add(s.mul(s2, z), p, s2);
    let sp = s.add(s.max(k(s, 0.0), x), lp);
    let num = s.select(s.le(k(s, 0.0), x), one, e);
    (sp, s.div(num, s.add(one, e)))
}

// ---------------------------------------------------------------- erf, gelu

/// `erf(x) = x (1 + q0 + z P(z))`, `z = x^2 <= 1`, `q0 = 2/sqrt(pi) - 1` (stored on its own, so
/// that the leading coefficient carries more than working precision); `P` highest degree first,
/// fitted for relative error with the coefficients rounded to the type one by one (the rest
/// refitted). Error 2^-29.3 (`f32`), 2^-62.2 (`f64`).
const ERF_P_F32: [f64; 6] = [
    7.869_608_816_690_743e-5,
    -0.000_801_602_669_525_891_5,
    0.005_189_166_869_968_176,
    -0.026_854_399_591_684_34,
    0.112_836_055_457_592_01,
    -0.376_126_289_367_675_8,
];
const ERF_P_F64: [f64; 12] = [
    5.908_120_632_414_489e-11,
    -1.134_405_651_103_350_7e-9,
    1.465_240_488_878_674_7e-8,
    -1.634_923_335_514_868e-7,
    1.646_090_081_939_728_8e-6,
    -1.492_558_923_852_151_5e-5,
    0.000_120_553_308_714_734_3,
    -0.000_854_832_697_466_598_7,
    0.005_223_977_624_721_415_5,
    -0.026_866_170_645_068_597,
    0.112_837_916_709_548_51,
    -0.376_126_389_031_837_5,
];
const ERF_Q0: f64 = 0.128_379_167_095_512_6;

/// `Phi(x) - 1/2 = x Q(x^2)` on `|x| <= 1/2`, for `gelu(x) = x/2 + x^2 Q(x^2)`. Relative error
/// 2^-25.1 (`f32`), 2^-53.8 (`f64`); `x^2 Q` is at most 40% of the result.
const GELU_Q_F32: [f64; 5] = [
    0.000_190_627_950_360_067_2,
    -0.001_231_795_642_524_957_7,
    0.009_982_057_847_082_615,
    -0.066_490_978_002_548_22,
    0.398_942_291_736_602_8,
];
const GELU_Q_F64: [f64; 10] = [
    -8.771_896_854_642_962e-8,
    1.065_185_254_135_570_1e-7,
    -9.346_195_026_156_631e-8,
    6.802_857_357_360_926e-7,
    -9.446_988_590_277_447e-6,
    0.000_115_434_917_328_852_53,
    -0.001_187_328_228_775_035_5,
    0.009_973_557_010_452_784,
    -0.066_490_380_066_911_4,
    0.398_942_280_401_432_7,
];

/// `K(a) = a e^(a^2/2) Phi(-a)` on `a` in `[1/2, 2]`, as a polynomial in `w = a - 1` (exact
/// there), highest degree first; fitted for relative error with the coefficients rounded to the
/// type one by one. Relative error 2^-29.3 (`f32`).
const GELU_KM_F32: [f64; 11] = [
    -1.1181067748111673e-05,
    6.293658225331455e-05,
    -0.00022192837786860764,
    0.000708335661329329,
    -0.002150516491383314,
    0.006089447066187859,
    -0.015830352902412415,
    0.037021487951278687,
    -0.0752568244934082,
    0.124214306473732,
    0.2615782916545868,
];
/// As [`GELU_KM_F32`] for `f64`: degree 20, relative error 2^-54.8.
const GELU_KM_F64: [f64; 21] = [
    1.1096154343502506e-09,
    -5.27623274545841e-09,
    8.650414385697411e-09,
    -2.6631663094310374e-09,
    -1.0196276765399238e-08,
    2.393036076887588e-08,
    -7.246055005627615e-08,
    3.0081591828054047e-07,
    -1.2280539250025955e-06,
    4.786069756572091e-06,
    -1.7905143246465175e-05,
    6.412984967074878e-05,
    -0.00021886014242048898,
    0.0007075819556601863,
    -0.002151155601897625,
    0.006089339353846303,
    -0.015830227446992518,
    0.03702153937377451,
    -0.07525683687190543,
    0.12421430332881406,
    0.2615782918651234,
];
/// `K(v) = a H(a)` for `a = 1/v` in `[2, 13.5]`, as a polynomial in `t = (v - vc) / hw` on
/// `[-1, 1]`. Relative error 2^-26.9 (`f32`).
const GELU_K_F32: [f64; 11] = [
    -2.501_590_643_078_088_8e-6,
    2.152_170_736_735_570_2e-6,
    1.001_400_141_831_254_6e-5,
    -3.582_522_549_550_049e-5,
    7.446_094_241_458_923e-5,
    -1.068_476_285_581_709_8e-5,
    -0.000_694_835_558_533_668_5,
    0.003_141_464_898_362_755_8,
    -0.004_891_791_380_941_868,
    -0.033_389_296_382_665_634,
    0.372_000_843_286_514_3,
];
/// `(vc, 1/hw)` of [`GELU_K_F32`].
const GELU_K_F32_MAP: (f64, f64) = (0.287_037_037_037_037_03, 4.695_652_173_913_044);
/// As [`GELU_K_F32`] for `f64` on `a` in `[2, 5]`: relative error 2^-53.9.
const GELU_K1_F64: [f64; 18] = [
    -2.090_055_747_814_845_3e-12,
    6.761_371_518_939_880_5e-12,
    -1.485_317_036_795_175_8e-12,
    -5.179_609_991_026_826_4e-11,
    3.228_443_609_049_317e-10,
    -1.355_435_218_022_476_7e-9,
    3.676_832_997_427_787_7e-9,
    -1.704_879_938_273_672_8e-9,
    -5.093_013_745_541_945_4e-8,
    3.661_151_651_141_336_5e-7,
    -1.495_919_756_327_507_2e-6,
    2.857_178_150_095_096e-6,
    1.252_005_427_068_448_2e-5,
    -0.000_157_229_547_261_710_66,
    0.000_817_825_503_325_493_7,
    -0.001_223_257_347_979_047,
    -0.025_025_063_918_149_515,
    0.361_777_530_367_961_8,
];
const GELU_K1_F64_MAP: (f64, f64) = (0.35, 6.666_666_666_666_667);
/// As [`GELU_K_F32`] for `f64` on `a` in `[5, 38.6]`: relative error 2^-53.8.
const GELU_K2_F64: [f64; 18] = [
    -1.541_698_770_201_305_2e-13,
    2.008_020_030_595_856_2e-13,
    -5.369_469_536_574_669e-13,
    -8.849_422_185_916_54e-12,
    5.071_688_245_781_5e-11,
    -2.464_273_593_792_38e-11,
    -7.266_431_035_080_812e-10,
    3.223_906_533_009_412_5e-9,
    4.288_377_936_546_439_7e-10,
    -6.574_554_759_206_049e-8,
    2.588_636_850_661_544e-7,
    5.299_761_762_639_953e-7,
    -9.393_028_198_655_646e-6,
    2.326_940_176_167_705e-5,
    0.000_265_760_024_153_97,
    -0.002_423_719_864_275_105,
    -0.007_295_895_190_164_626,
    0.394_035_777_494_604_83,
];
const GELU_K2_F64_MAP: (f64, f64) = (0.112_953_367_875_647_66, 11.488_095_238_095_237);

/// `K(a) = a e^(a^2/2) Phi(-a)` for `f32` on `[0, 14)` in 32 pieces, for paths with a fast
/// [`Simd::lookup`]: entry `(bits(a) >> 21) mod 32` is the piece of `a`'s binade and top two
/// mantissa bits (quarter octaves from `2^-4` to `14`; `a < 2^-4` uses the first, fitted on
/// `[0, 0.078125)`, and one entry, never reached below the cap, repeats `[12, 14)`). Each piece is
/// a degree-5 polynomial in `u = a - c` (exact: `c` is an `f32` in the piece), coefficients
/// highest degree first, fitted for relative error with the coefficients rounded to `f32` one
/// by one from the constant term up (the rest refitted), the center chosen among the `f32`s
/// near the middle for the one whose `K(c)` rounds with the least error; the first piece has
/// `c = 0` and a zero constant term, so `K` keeps its relative accuracy down to 0. Reference
/// `K = a erfcx(a / sqrt 2) / 2` (scipy). Relative error of the rounded coefficients: at most
/// 2^-27.0 (the piece `[4, 5)`), 2^-27.7 or better elsewhere. `fits/quarter_octave_pieces.py`
/// (in this crate; numpy and scipy) computes these tables and prints them as they stand here.
const GELU_CENTERS_F32: [f64; 32] = [
    2.2502077,
    2.749397,
    3.2497096,
    3.7495844,
    4.500408,
    5.4999905,
    6.499926,
    7.498786,
    9.001071,
    10.999277,
    13.001533,
    13.001533,
    0.0,
    0.08594862,
    0.1015787,
    0.117201164,
    0.14062692,
    0.17187493,
    0.20309857,
    0.23440239,
    0.28131104,
    0.34371725,
    0.40626517,
    0.468677,
    0.56264204,
    0.6873399,
    0.8125332,
    0.9376305,
    1.1252398,
    1.3747047,
    1.6248152,
    1.8747315,
];
/// The pieces' coefficients: `GELU_TABLE_F32[i][slot]` is coefficient `i`, highest degree first.
const GELU_TABLE_F32: [[f64; 32]; 6] = [
    [
        0.00057263894,
        0.00025276325,
        0.00011941755,
        5.9227063e-05,
        2.3279688e-05,
        7.5625903e-06,
        2.815408e-06,
        1.168148e-06,
        3.7442058e-07,
        1.0057085e-07,
        3.2988453e-08,
        3.2988453e-08,
        0.05756066,
        0.6319788,
        6.7947917,
        -4.12253,
        0.23945974,
        0.25266492,
        0.12866728,
        0.18606147,
        0.04160976,
        -0.0062902085,
        0.013498013,
        0.010862737,
        0.015476494,
        0.012642239,
        0.0088447025,
        0.0064868177,
        0.004739776,
        0.0028118093,
        0.0017591459,
        0.0011042701,
    ],
    [
        -0.0018796254,
        -0.00090863445,
        -0.0004658129,
        -0.00025193047,
        -0.00011024706,
        -4.117352e-05,
        -1.7381108e-05,
        -8.100456e-06,
        -3.016719e-06,
        -9.701611e-07,
        -3.7052794e-07,
        -3.7052794e-07,
        -0.13265064,
        -0.10849988,
        -0.10514492,
        -0.10095708,
        -0.09598404,
        -0.08954191,
        -0.08326152,
        -0.07769558,
        -0.06995173,
        -0.060951594,
        -0.053197037,
        -0.046517573,
        -0.038147025,
        -0.029460622,
        -0.0228744,
        -0.01787512,
        -0.012513298,
        -0.007921094,
        -0.005116735,
        -0.003373672,
    ],
    [
        0.0056252074,
        0.0029906835,
        0.0016783193,
        0.0009889026,
        0.00048254954,
        0.00020896873,
        0.00010072104,
        5.2889463e-05,
        2.2733799e-05,
        8.808712e-06,
        3.9429615e-06,
        3.9429615e-06,
        0.24999107,
        0.2085312,
        0.20132545,
        0.19580361,
        0.18614349,
        0.17455512,
        0.16381468,
        0.1537208,
        0.13992456,
        0.123675264,
        0.10939042,
        0.09696694,
        0.08111314,
        0.06436299,
        0.051350806,
        0.04122109,
        0.029966582,
        0.019992143,
        0.0135984095,
        0.0094312215,
    ],
    [
        -0.015090058,
        -0.008875568,
        -0.0054805237,
        -0.0035332474,
        -0.0019547022,
        -0.0009841565,
        -0.00054270914,
        -0.0003215888,
        -0.00016235102,
        -7.5537784e-05,
        -3.9549264e-05,
        -3.9549264e-05,
        -0.3989422,
        -0.3399989,
        -0.33037615,
        -0.32106578,
        -0.30765763,
        -0.2907509,
        -0.27490437,
        -0.25999594,
        -0.23934655,
        -0.21470901,
        -0.1928781,
        -0.17358774,
        -0.14856389,
        -0.12148772,
        -0.09986051,
        -0.082568616,
        -0.06272462,
        -0.04431361,
        -0.031885803,
        -0.023360563,
    ],
    [
        0.033888474,
        0.022249965,
        0.01523024,
        0.010809979,
        0.006830226,
        0.0040266654,
        0.0025532164,
        0.0017134877,
        0.0010198166,
        0.00057155866,
        0.00035069775,
        0.00035069775,
        0.5,
        0.4366419,
        0.42616472,
        0.41598836,
        0.40126258,
        0.38256916,
        0.3649126,
        0.3481731,
        0.32476485,
        0.2964607,
        0.27099484,
        0.24814722,
        0.21794613,
        0.18440129,
        0.15679185,
        0.13404964,
        0.10698877,
        0.08059564,
        0.061736587,
        0.048059322,
    ],
    [
        0.3457239,
        0.3594796,
        0.36871478,
        0.37514254,
        0.38161805,
        0.38688478,
        0.3901017,
        0.39219615,
        0.3941902,
        0.39572337,
        0.39662293,
        0.39662293,
        0.0,
        0.040179014,
        0.046921488,
        0.053499363,
        0.0630705,
        0.075314336,
        0.08698131,
        0.09814003,
        0.113915764,
        0.13328394,
        0.1510163,
        0.16720408,
        0.18906552,
        0.21408135,
        0.23538245,
        0.25352913,
        0.27602348,
        0.29923096,
        0.31690115,
        0.33053252,
    ],
];

/// The tail of [`gelu`] for `f64` on `[0, 37.75]` in 16 pieces, for paths with a fast
/// [`Simd::lookup`] (AVX-512): entry `(bits(a) >> 51) mod 16` is the piece of `a`'s binade and
/// top mantissa bit (half binades `[2^e, 1.5 2^e)` and `[1.5 2^e, 2^(e+1))` from `1/4` to `48`;
/// `a < 1/4` uses the first, and the entry of `[48, 64)`, never reached below the cap, repeats
/// `[32, 48)`). Below `1/2` a piece holds the tail `T(a) = a Phi(-a)` itself (the first, fitted
/// on `[0, 3/8)`, with `c = 0` and a zero constant term, so that `T` keeps its relative
/// accuracy down to 0); from `1/2` on, `K(a) = a e^(a^2/2) Phi(-a)`. Each piece is a degree-15
/// polynomial in `u = a - c` (exact: `c` is an `f64` in the piece), coefficients highest degree
/// first, fitted for relative error in 50-digit arithmetic, the center chosen among the `f64`s
/// near the middle for the one whose value rounds with the least error. Relative error of the
/// rounded coefficients: at most 2^-56.4 (the piece `[8, 12)`), 2^-56.8 or better elsewhere.
/// `fits/half_binade_pieces_f64.py` (in this crate; mpmath) computes these tables and prints
/// them as they stand here, with each piece's error.
const GELU_CENTERS_F64: [f64; 16] = [
    2.500000149011612,
    3.499999956227839,
    5.000000029802322,
    7.000000283122063,
    10.000000389292836,
    14.00000013411045,
    19.9999987334013,
    27.999999538064003,
    35.00000157952309,
    35.00000157952309,
    0.0,
    0.4374999972060323,
    0.6249999749707058,
    0.8749999665888026,
    1.2500000249128789,
    1.7499999401625246,
];
/// The pieces' coefficients: `GELU_TABLE_F64[i][slot]` is coefficient `i`, highest degree first.
const GELU_TABLE_F64: [[f64; 16]; 16] = [
    [
        1.271699956477079e-10,
        1.9051499113309827e-12,
        1.8135779708471637e-13,
        2.7753783637494362e-15,
        2.003570003805772e-17,
        1.1092135578012508e-19,
        4.076373228746883e-22,
        1.4379020460136318e-24,
        1.0772024103777163e-26,
        1.0772024103777163e-26,
        3.963405853365111e-06,
        554.1865381557265,
        0.06092211321640126,
        -0.025621204691347748,
        1.1482404042527448e-06,
        4.6223421408095244e-07,
    ],
    [
        -6.358314509564151e-10,
        -4.843912052938029e-11,
        -1.2288649466584126e-12,
        -2.2586450076982036e-14,
        -2.1212068052915166e-16,
        -1.5585124530382458e-18,
        -7.793331287652611e-21,
        -4.0017674479361556e-23,
        -8.493756528964925e-23,
        -8.493756528964925e-23,
        -1.09500903902291e-05,
        -7.736983990831252,
        -9.681598129184166e-05,
        -0.001330651167958838,
        -2.5123506048132636e-07,
        -1.041665425850845e-08,
    ],
    [
        3.1171181217626404e-09,
        2.329146831257286e-10,
        7.557556478335769e-12,
        1.745109233093353e-13,
        1.9456316317488243e-15,
        2.0305367214859468e-17,
        1.2558792374103326e-19,
        9.400816451179846e-22,
        3.576736472049749e-23,
        3.576736472049749e-23,
        1.2030912194854186e-05,
        -8.363889514616941,
        -0.0036073187986613805,
        0.0015484547104444508,
        -1.5056758417446182e-07,
        -8.120233731691398e-08,
    ],
    [
        -1.5297176931047625e-08,
        -1.255272730637953e-09,
        -4.9767519649941614e-11,
        -1.4124925914439306e-12,
        -2.0494500469610317e-14,
        -2.82939108773322e-16,
        -2.4261017366926923e-18,
        -2.4818362811568362e-20,
        1.4913483471785538e-21,
        1.4913483471785538e-21,
        1.1381756214606309e-06,
        0.09977386281478144,
        -1.2377338917186124e-06,
        6.908064941543817e-05,
        -5.097459486199573e-07,
        -1.2248561593613156e-07,
    ],
    [
        7.27744320466048e-08,
        6.8086384426234685e-09,
        3.2153009876067934e-10,
        1.1241485677366776e-11,
        2.1452382646331783e-13,
        3.9093024574441816e-15,
        4.694566500697416e-17,
        6.569876021563588e-19,
        3.7600206543904054e-20,
        3.7600206543904054e-20,
        3.752825540724076e-06,
        0.05057178004546769,
        0.00010116100744407036,
        -3.0427931643527246e-05,
        2.271959157918771e-06,
        5.417579061101167e-07,
    ],
    [
        -3.350781875412504e-07,
        -3.57350742772066e-08,
        -2.022876029512343e-09,
        -8.769195681404871e-11,
        -2.193673520563344e-12,
        -5.32879393194914e-14,
        -8.875042776507465e-16,
        -1.7139279151971713e-17,
        -1.2520955373271178e-18,
        -1.2520955373271178e-18,
        -0.00011659895639133441,
        -0.0005197004222408803,
        -5.5575800462777986e-05,
        -2.74221266874523e-05,
        -8.700729023607912e-06,
        -2.209301508856034e-06,
    ],
    [
        1.4892695948545013e-06,
        1.8180297975424277e-07,
        1.2409249224784325e-08,
        6.704365143369511e-10,
        2.2081189290087696e-11,
        7.172774432843189e-13,
        1.6597404630323987e-14,
        4.4277031251476337e-16,
        3.917402682198516e-17,
        3.917402682198516e-17,
        2.532947691594553e-07,
        -0.0005066790630496238,
        0.00018718225560951412,
        9.167262914501245e-05,
        3.231707665940899e-05,
        8.82889034032262e-06,
    ],
    [
        -6.3665620185708945e-06,
        -8.942731759140703e-07,
        -7.404631817160718e-08,
        -5.012962512215904e-09,
        -2.1846904852787502e-10,
        -9.517273062655459e-12,
        -3.067394332886449e-13,
        -1.1312020241601956e-14,
        -1.2447521547801843e-15,
        -1.2447521547801843e-15,
        0.0011872894455935887,
        0.0003522358860451106,
        -0.0006059179500616895,
        -0.0003052839410601045,
        -0.00011462916175102935,
        -3.378942089993301e-05,
    ],
    [
        2.606207529183594e-05,
        4.236604684826167e-06,
        4.283691683972054e-07,
        3.6555268838172815e-08,
        2.1186083680190753e-09,
        1.2417543193950668e-10,
        5.585984986007765e-12,
        2.8508643357005533e-13,
        3.9045281097438236e-14,
        3.9045281097438236e-14,
        4.126261019100133e-09,
        0.0031090744409327793,
        0.0018423393895821705,
        0.0009671260398352243,
        0.00038591417472877567,
        0.00012319641963054177,
    ],
    [
        -0.00010157672624289052,
        -1.923451672301616e-05,
        -2.3924397700566155e-06,
        -2.589917739775765e-07,
        -2.00671138581413e-08,
        -1.5877699825544205e-09,
        -9.990191330302345e-11,
        -7.063801943555995e-12,
        -1.2044771104668901e-12,
        -1.2044771104668901e-12,
        -0.009973557306966243,
        -0.004439738760359316,
        -0.0052489486978183125,
        -0.0028775527994936282,
        -0.0012244988732405737,
        -0.0004251704540359543,
    ],
    [
        0.00037403687795703,
        8.312317775208823e-05,
        1.2823528270148844e-05,
        1.7732823175096957e-06,
        1.847154789578896e-07,
        1.9798292545938268e-08,
        1.7461198014022797e-09,
        1.7124175924218753e-10,
        3.636856749452544e-11,
        3.636856749452544e-11,
        1.3744502778480264e-11,
        -0.02105674062719727,
        0.01386593299685418,
        0.007960939165833314,
        0.0036274479094182445,
        0.0013769341002449016,
    ],
    [
        -0.0012871271734983835,
        -0.00033861518218800823,
        -6.539356688825567e-05,
        -1.1639106139346334e-05,
        -1.6396312827311208e-06,
        -2.3891893182222024e-07,
        -2.9601504401876287e-08,
        -4.03095999182446e-09,
        -1.0667723145009139e-09,
        -1.0667723145009139e-09,
        0.0664903800665298,
        0.04073643657741163,
        -0.03346658333912563,
        -0.020192614840345065,
        -0.009901085997166291,
        -0.004133881097750025,
    ],
    [
        0.004070402012267215,
        0.0012806152092696495,
        0.00031286838220398965,
        7.227212628687976e-05,
        1.3855912693096297e-05,
        2.755085232223793e-06,
        4.806085200348172e-07,
        9.097846937158146e-08,
        3.001510045113712e-08,
        3.001510045113712e-08,
        5.174832890339432e-15,
        0.10067883514869973,
        0.07219702307538121,
        0.04597858646984003,
        0.024410877834473373,
        0.011295169740617169,
    ],
    [
        -0.011493385748396093,
        -0.004377460428859627,
        -0.0013694371409278898,
        -0.00041434599677061455,
        -0.00010883824309311284,
        -2.9645152010930253e-05,
        -7.297931857178298e-06,
        -1.9226407052602964e-06,
        -7.910967393465e-07,
        -7.910967393465e-07,
        -0.3989422804014327,
        -0.3278368422300643,
        -0.13424210322860228,
        -0.09075129074033195,
        -0.052588456417525714,
        -0.027226553070903967,
    ],
    [
        0.027296448080293155,
        0.012775304624804593,
        0.005190527261375488,
        0.002078158982376945,
        0.0007533001409196109,
        0.0002821982585502829,
        9.826696897320767e-05,
        3.607124951150486e-05,
        1.8518954952011135e-05,
        1.8518954952011135e-05,
        0.5,
        0.17226650116761552,
        0.20032825358929202,
        0.14489542385016613,
        0.09264547022363083,
        0.05435465031117487,
    ],
    [
        0.35332833251892626,
        0.3722080371587664,
        0.38459652502972125,
        0.39125437767215643,
        0.3950669413071144,
        0.3969372474206469,
        0.39795231284207583,
        0.39843536027589765,
        0.3986174075784076,
        0.3986174075784076,
        0.0,
        0.1447575442865776,
        0.202097600433214,
        0.24479924414721804,
        0.2884504039401051,
        0.3241554099344732,
    ],
];

/// The derivative's pieces for `f64`, on the pieces and centers of [`GELU_TABLE_F64`]: `M(a) =
/// K(a)/a - a / sqrt(2 pi)` (`gelu'(-a) = e^(-a^2/2) M(a)`), below `1/2` the product
/// `Phi(-a) - a phi(a)` itself, fitted as [`GELU_DERIVATIVE_TABLE_F32`] for error relative to
/// the larger of the two terms: at most 2^-53.5 of it (the constant terms' rounding to `f64`,
/// from centers chosen for `K`), 2^-54 or better but in the pieces `[3, 4)` and `[6, 8)`.
const GELU_DERIVATIVE_TABLE_F64: [[f64; 16]; 16] = [
    [
        1.6617169525440612e-09,
        -3.0573815871940697e-09,
        -7.764266419037068e-14,
        1.8777558079574573e-13,
        -1.8165957157890145e-17,
        9.360367424653875e-18,
        -2.6056008371750683e-22,
        -1.2223669785558532e-22,
        7.290221219185532e-21,
        7.290221219185532e-21,
        -7.110763732692514e-05,
        -5359.58645578347,
        0.1722592343332094,
        -0.1513427766128494,
        2.7311679853195787e-05,
        2.3860466711407126e-05,
    ],
    [
        4.976108585697086e-09,
        -1.1400955113300071e-08,
        6.210783609756133e-13,
        1.2590538771192791e-12,
        1.1561583811242805e-16,
        1.2191463428786057e-16,
        1.629560558021908e-20,
        -3.2351615386586143e-21,
        2.9968949906153686e-19,
        2.9968949906153686e-19,
        0.0002022869023330797,
        4097.554351919698,
        -0.11070974053129082,
        -0.1318085930162505,
        2.7887701577525834e-05,
        4.6744623040490176e-05,
    ],
    [
        -2.6408500779128128e-09,
        2.5473996861748995e-09,
        -3.841628982556384e-12,
        -7.776770893668638e-13,
        -1.520801945857335e-15,
        -1.5625104673229174e-16,
        -2.008883158683218e-19,
        4.801752482955951e-21,
        -2.2335461313129976e-19,
        -2.2335461313129976e-19,
        -0.00026603426162101777,
        75.21512502479189,
        -0.010342495445604139,
        0.008287750860968977,
        -6.194631733672743e-06,
        -5.130369348406192e-06,
    ],
    [
        1.907942613230181e-09,
        1.0561003860455108e-08,
        2.659552945465307e-11,
        -3.426343138292565e-12,
        1.8355793696064638e-14,
        -1.3603844690466354e-15,
        3.551204368570973e-18,
        2.3991375498903086e-19,
        -9.439875132589208e-18,
        -9.439875132589208e-18,
        0.00019368089877034583,
        -56.03623396875576,
        0.006050270249494242,
        0.007211094728263513,
        -5.911620006935795e-06,
        -1.0183628886303428e-05,
    ],
    [
        -2.9970725020868807e-08,
        -4.1447071778237165e-09,
        -1.8388255526697916e-10,
        -7.039147752090023e-12,
        -1.997267081181906e-13,
        -4.0892078234018384e-15,
        -8.037548864464446e-17,
        -1.7063060255354413e-18,
        2.545672193900728e-18,
        2.545672193900728e-18,
        1.6685618219531855e-05,
        -0.41853681726024944,
        0.0002444745123381595,
        -0.00018086286385785954,
        -2.407393351264186e-07,
        2.2789678677746397e-07,
    ],
    [
        1.503567991806308e-07,
        1.4741221096108877e-08,
        1.2411579704234083e-09,
        7.304892228136588e-11,
        2.2051973937422143e-12,
        8.100994312068455e-14,
        1.6673177765445378e-15,
        4.0197553472000704e-17,
        1.2090056393636757e-16,
        1.2090056393636757e-16,
        3.3579264693187844e-05,
        0.30163806342071664,
        -0.00011106323797996905,
        -0.00014596111807667122,
        3.7563243925072807e-06,
        1.762830705872796e-06,
    ],
    [
        -7.074764834003527e-07,
        -9.921396168786927e-08,
        -8.227375979712829e-09,
        -5.576453035357868e-10,
        -2.4273531681276567e-11,
        -1.0595975717009574e-12,
        -3.408539363735627e-14,
        -1.2552641890297934e-15,
        -1.536984339410102e-16,
        -1.536984339410102e-16,
        -0.0011626733887579374,
        0.0009884888525038085,
        -7.04081156112483e-05,
        -3.201179712497736e-05,
        -1.2761359207566556e-05,
        -3.7719672581795173e-06,
    ],
    [
        3.2575151278305993e-06,
        5.301633041021609e-07,
        5.354600127940316e-08,
        4.565303758426231e-09,
        2.648344431120973e-10,
        1.5496551925126462e-11,
        6.981673873618033e-13,
        3.568043111484926e-14,
        4.160976877203452e-15,
        4.160976877203452e-15,
        1.486028804704681e-06,
        -0.003963573557508553,
        0.00023167557378657032,
        0.00012254755070393791,
        4.821687194311399e-05,
        1.5361960788899243e-05,
    ],
    [
        -1.451095422977953e-05,
        -2.7478008093920454e-06,
        -3.417771092079754e-07,
        -3.69985897655576e-08,
        -2.866731649386189e-09,
        -2.2682116694274207e-10,
        -1.4271684770267262e-11,
        -1.0091237800511322e-12,
        -1.7202419698237291e-13,
        -1.7202419698237291e-13,
        0.009498435672981947,
        0.00280626086613188,
        -0.0007498292485349095,
        -0.0004110894975008604,
        -0.000174927821252681,
        -6.073827451592996e-05,
    ],
    [
        6.233950114878236e-05,
        1.3853811243222927e-05,
        2.137254759272345e-06,
        2.9554849767128915e-07,
        3.078590096292306e-08,
        3.2997511482582234e-09,
        2.9102041367614777e-10,
        2.854004184802849e-11,
        6.0637076092091084e-12,
        6.0637076092091084e-12,
        1.7128386474730405e-08,
        0.021762828200246737,
        0.0023109812531010277,
        0.0013268140828783016,
        0.0006045751438896663,
        0.0002294898435866616,
    ],
    [
        -0.0002574254349480592,
        -6.772303593630654e-05,
        -1.307871337724358e-05,
        -2.3278212694953774e-06,
        -3.2792625584644206e-07,
        -4.778378862119453e-08,
        -5.920300921301991e-09,
        -8.061919732092525e-10,
        -2.1335451680574522e-10,
        -2.1335451680574522e-10,
        -0.05984134311432544,
        -0.026638421980171714,
        -0.00669331673891656,
        -0.004038522940168141,
        -0.0019802172064710653,
        -0.0008267762228986571,
    ],
    [
        0.0010176005021602023,
        0.0003201538045000756,
        7.821709554341227e-05,
        1.8068031327820614e-05,
        3.463978181701812e-06,
        6.887712839359324e-07,
        1.2015212881832874e-07,
        2.274461802195971e-08,
        7.503771649305236e-09,
        7.503771649305236e-09,
        4.2032131252281555e-11,
        -0.10528370277567156,
        0.018049255788712897,
        0.011494646641494487,
        0.006102719453431796,
        0.0028237924264309915,
    ],
    [
        -0.0038311285827958546,
        -0.0014591534762934016,
        -0.00045647904697607074,
        -0.00013811533225389854,
        -3.6279414364531385e-05,
        -9.881717336304896e-06,
        -2.4326439523632408e-06,
        -6.408802351134193e-07,
        -2.636989131007315e-07,
        -2.636989131007315e-07,
        0.26596152026662717,
        0.16294574630557418,
        -0.04474736774275767,
        -0.030250430246805838,
        -0.017529485472472725,
        -0.009075517690291975,
    ],
    [
        0.01364822404016124,
        0.006387652312366971,
        0.002595263630688208,
        0.0010390794912042622,
        0.00037665007045758065,
        0.0001410991292813857,
        4.9133484487821625e-05,
        1.8035624755048865e-05,
        9.25947747802323e-06,
        9.25947747802323e-06,
        1.1900300135906365e-14,
        0.3020365054460391,
        0.10016412679462619,
        0.07244771192505875,
        0.04632273511183633,
        0.02717732515562272,
    ],
    [
        -0.4445562282839391,
        -0.42567652364409897,
        -0.4132880357731441,
        -0.406630183130709,
        -0.40281761949575096,
        -0.4009473133822185,
        -0.3999322479607895,
        -0.3994492005269677,
        -0.39926715322445777,
        -0.39926715322445777,
        -0.7978845608028654,
        -0.6556736844601282,
        -0.5957869603696514,
        -0.5530853166556473,
        -0.5094341568627603,
        -0.4737291508683921,
    ],
    [
        -0.8560244358670469,
        -1.2899528091385275,
        -1.9177921093491004,
        -2.7367025954954647,
        -3.9499162667269543,
        -5.55683931886394,
        -7.958947485826661,
        -11.156153832423987,
        -13.951591375914711,
        -13.951591375914711,
        0.5,
        0.17226650116761552,
        0.07401725837689357,
        -0.0693039065996138,
        -0.26791754188763056,
        -0.5129172976775119,
    ],
];

/// The derivative's pieces, on the pieces and centers of [`GELU_TABLE_F32`]: `M(a) = K(a)/a -
/// a / sqrt(2 pi)`, so that `gelu'(-a) = e^(-a^2/2) M(a)` and `gelu'(a) = 1 - e^(-a^2/2) M(a)`.
/// Fitted as `K` is (every piece with a constant term: `M(0) = 1/2`), for error relative to the
/// larger of `M`'s two terms, since `M` has a zero where the derivative has one (`a = 0.7518`):
/// at most 2^-24.2 of it (the constant terms' rounding to `f32`, from centers chosen for `K`).
const GELU_DERIVATIVE_TABLE_F32: [[f64; 32]; 6] = [
    [
        -0.00036434428,
        -0.00017437484,
        -6.186447e-05,
        -6.925965e-05,
        -2.316105e-05,
        -1.0927181e-05,
        -1.5413588e-06,
        -1.2630952e-06,
        -6.686144e-07,
        -1.6504632e-07,
        -1.6836653e-07,
        -1.6836653e-07,
        -0.030243395,
        -20.547102,
        -2.9933,
        17.470129,
        0.38881654,
        -0.97803026,
        -2.0192852,
        0.23512259,
        0.015458256,
        0.015736658,
        -0.06701967,
        -0.084177844,
        -0.011162786,
        -0.009093574,
        -0.00091571175,
        -0.007169334,
        -0.0024508054,
        -0.0015119604,
        -0.0009731936,
        -0.00094753626,
    ],
    [
        0.0014371023,
        0.0007668441,
        0.0004734227,
        0.0002089444,
        0.00012006706,
        4.6413512e-05,
        3.0904026e-05,
        1.4784071e-05,
        5.590954e-06,
        2.4356852e-06,
        3.1185957e-07,
        3.1185957e-07,
        0.0635037,
        -11.432683,
        8.023674,
        10.262462,
        0.36734366,
        0.77589923,
        0.5239343,
        -0.08615015,
        0.08593688,
        0.014953539,
        0.032876655,
        0.0469636,
        0.02094124,
        0.015812892,
        0.013249745,
        0.01012095,
        0.007490204,
        0.005017352,
        0.003358914,
        0.0021320581,
    ],
    [
        -0.0050307936,
        -0.002959074,
        -0.0018292792,
        -0.001176265,
        -0.0006512204,
        -0.0003272124,
        -0.00018150434,
        -0.0001073106,
        -5.4033535e-05,
        -2.5213465e-05,
        -1.3074568e-05,
        -1.3074568e-05,
        -0.13305818,
        -0.11192702,
        -0.109456725,
        -0.10809419,
        -0.10271073,
        -0.09663712,
        -0.09103591,
        -0.08675755,
        -0.07982196,
        -0.07160174,
        -0.06421658,
        -0.05777251,
        -0.04950216,
        -0.04047795,
        -0.0333061,
        -0.027503649,
        -0.020909475,
        -0.014772744,
        -0.010629826,
        -0.007781319,
    ],
    [
        0.016942367,
        0.011123732,
        0.00761112,
        0.005407953,
        0.0034155946,
        0.0020152067,
        0.0012749031,
        0.00085628364,
        0.0005101,
        0.00028551626,
        0.00017617602,
        0.00017617602,
        0.25000232,
        0.21917462,
        0.21248968,
        0.20723501,
        0.20053591,
        0.19106686,
        0.18231273,
        0.1741236,
        0.16232184,
        0.14824933,
        0.13549085,
        0.1240466,
        0.10896996,
        0.09220201,
        0.078393996,
        0.06702571,
        0.05349466,
        0.040297598,
        0.030869158,
        0.024034016,
    ],
    [
        -0.45216066,
        -0.43840495,
        -0.42916974,
        -0.42274204,
        -0.41626653,
        -0.41099983,
        -0.40778282,
        -0.4056884,
        -0.4036944,
        -0.40216118,
        -0.40126166,
        -0.40126166,
        -0.7978846,
        -0.75770557,
        -0.7509631,
        -0.7443852,
        -0.73481405,
        -0.72257024,
        -0.7109033,
        -0.6997445,
        -0.6839688,
        -0.6646006,
        -0.6468683,
        -0.6306805,
        -0.60881907,
        -0.58380324,
        -0.5625021,
        -0.54435545,
        -0.5218611,
        -0.4986536,
        -0.4809834,
        -0.46735206,
    ],
    [
        -0.74406207,
        -0.9661022,
        -1.1829857,
        -1.3958187,
        -1.7106068,
        -2.123836,
        -2.533079,
        -2.9392815,
        -3.5471141,
        -4.3520994,
        -5.1563554,
        -5.1563554,
        0.5,
        0.43318856,
        0.4213985,
        0.4097182,
        0.39239317,
        0.36962453,
        0.34724683,
        0.32516885,
        0.2927191,
        0.2506487,
        0.20964219,
        0.16978252,
        0.111569926,
        0.03725463,
        -0.034464203,
        -0.103667,
        -0.20360385,
        -0.33075857,
        -0.45316923,
        -0.57160044,
    ],
];

/// `tanh` for `f32` on `[0, 16)` in the 32 quarter-octave pieces of [`GELU_TABLE_F32`]'s kind
/// (every piece reached; `a` is capped below 16, and `tanh` is 1 in `f32` from 9.01 on): below
/// 1/2 a piece holds `tanh` itself (the first, on `[0, 0.078125)`, with center 0 and no
/// constant term), from 1/2 on `tanh(a) - 1 = -2 / (e^(2a) + 1)`, whose base
/// ([`TANH_BASE_F32`]) 1 is added last: `1 + p` is exact down to 1/2 (Sterbenz), and it rounds
/// to exactly 1 where `tanh` does. Fitted as [`GELU_TABLE_F32`] is, for error relative to `tanh`:
/// at most 2^-26.1 (the piece `[4, 5)`), 2^-27.1 or better elsewhere.
const TANH_CENTERS_F32: [f64; 32] = [
    2.2496336,
    2.7499845,
    3.2500024,
    3.7494197,
    4.500355,
    5.5008526,
    6.5011,
    7.4994383,
    9.001883,
    10.9984255,
    13.000176,
    14.998797,
    0.0,
    0.085925296,
    0.101560496,
    0.11719151,
    0.1405984,
    0.17188764,
    0.20316914,
    0.23441929,
    0.28121307,
    0.34375155,
    0.40618768,
    0.4688358,
    0.562342,
    0.6873469,
    0.8123744,
    0.9374301,
    1.1253259,
    1.3750327,
    1.6250975,
    1.8751545,
];
/// The base added to each piece of [`TANH_TABLE_F32`]: 0 below 1/2, 1 from there on.
const TANH_BASE_F32: [f64; 32] = [
    1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
];
/// Coefficients of [`TANH_CENTERS_F32`]'s pieces, highest degree first.
const TANH_TABLE_F32: [[f64; 32]; 6] = [
    [
        0.0039784424,
        0.0019148996,
        0.00077052915,
        0.0002925872,
        6.831491e-05,
        9.282521e-06,
        1.2569944e-06,
        1.700356e-07,
        9.5835e-09,
        1.7533361e-10,
        3.213156e-12,
        5.8824934e-14,
        0.13203119,
        -12.8221245,
        5.4061155,
        15.218085,
        0.75478303,
        0.86761755,
        0.10605499,
        0.65318435,
        -0.009224036,
        -0.018507665,
        -0.0540514,
        -0.001514378,
        -0.04061554,
        -0.061138798,
        -0.066315316,
        -0.05166014,
        -0.032068208,
        -0.009525089,
        0.0013738291,
        0.0046074307,
    ],
    [
        -0.012393139,
        -0.0051478636,
        -0.0019779692,
        -0.00074012333,
        -0.00017186983,
        -2.3282588e-05,
        -3.1502395e-06,
        -4.2776443e-07,
        -2.4326503e-08,
        -4.485684e-10,
        -8.187874e-12,
        -1.5036925e-13,
        0.00011432318,
        0.055731922,
        0.06497183,
        0.07460422,
        0.08864578,
        0.105389655,
        0.120445356,
        0.13390343,
        0.14986262,
        0.16405503,
        0.16994736,
        0.16808158,
        0.15329604,
        0.11949738,
        0.079934254,
        0.043371785,
        0.0036187668,
        -0.021113722,
        -0.02512661,
        -0.020846397,
    ],
    [
        0.02710581,
        0.010546577,
        0.0039609605,
        0.0014700105,
        0.00032817535,
        4.44041e-05,
        6.006973e-06,
        8.158388e-07,
        3.967681e-08,
        7.331604e-10,
        1.3368326e-11,
        2.4571426e-13,
        -0.33333668,
        -0.32249722,
        -0.32022634,
        -0.31664923,
        -0.30791762,
        -0.295801,
        -0.28139487,
        -0.26566958,
        -0.23875809,
        -0.19931827,
        -0.15740515,
        -0.11498365,
        -0.05443909,
        0.014310998,
        0.064231254,
        0.09475697,
        0.11098,
        0.09956869,
        0.07515461,
        0.051788706,
    ],
    [
        -0.04253838,
        -0.016081857,
        -0.0059772697,
        -0.0022098438,
        -0.00049243524,
        -6.660535e-05,
        -9.010101e-06,
        -1.2234548e-06,
        -5.9376507e-08,
        -1.0951133e-09,
        -1.99871e-11,
        -3.6709446e-13,
        2.9091868e-08,
        -0.08508467,
        -0.100175865,
        -0.11507029,
        -0.13695405,
        -0.16528295,
        -0.19236867,
        -0.2180161,
        -0.25345042,
        -0.29461607,
        -0.32806152,
        -0.3536567,
        -0.37728557,
        -0.38427302,
        -0.36892408,
        -0.338529,
        -0.27912804,
        -0.19874865,
        -0.1329825,
        -0.08564708,
    ],
    [
        0.043496083,
        0.016214788,
        0.005995688,
        0.0022124562,
        0.00049317896,
        6.669246e-05,
        9.021645e-06,
        1.2250086e-06,
        6.079259e-08,
        1.1209156e-09,
        2.046096e-11,
        3.757552e-13,
        1.0,
        0.992653,
        0.989756,
        0.98639095,
        0.98048973,
        0.971027,
        0.9598322,
        0.94699985,
        0.92490894,
        0.89055645,
        0.85159713,
        0.8088053,
        0.74019265,
        0.64445627,
        0.5498958,
        0.46118635,
        0.3448498,
        0.22589199,
        0.14370842,
        0.089771174,
    ],
    [
        -0.021989819,
        -0.008140527,
        -0.0030023502,
        -0.0011068404,
        -0.00024661413,
        -3.3345936e-05,
        -4.5107136e-06,
        -6.1249216e-07,
        -3.034549e-08,
        -5.596532e-10,
        -1.0214573e-11,
        -1.8760313e-13,
        0.0,
        0.08571445,
        0.10121275,
        0.11665794,
        0.13967922,
        0.17021458,
        0.20041908,
        0.23021765,
        0.27402744,
        0.3308225,
        0.3852309,
        0.43725818,
        -0.49028698,
        -0.40372512,
        -0.32910198,
        -0.26596072,
        -0.1905865,
        -0.12016592,
        -0.07463976,
        -0.04594087,
    ],
];

/// The variable `t = (v - vc) / hw` of a polynomial of `K` in `v = 1/a` (see [`GELU_K_F32`]),
/// given its `map = (vc, 1/hw)`.
#[inline(always)]
fn tail_var<T: Element, S: Simd<T>>(s: S, v: S::V, map: (f64, f64)) -> S::V {
    s.mul(s.sub(v, k(s, map.0)), k(s, map.1))
}

/// Coefficient `i` (highest degree first) of the polynomial `c` written with `n >= c.len()`
/// coefficients: the `n - c.len()` leading ones are 0.
#[inline(always)]
fn padded<const M: usize>(c: &[f64; M], n: usize, i: usize) -> f64 {
    if i + M >= n { c[i + M - n] } else { 0.0 }
}

/// Up to three polynomials chosen per lane: `near` in the lanes of `is_near`, else `mid` in the
/// lanes of `is_mid`, else `far` (highest degree first; `mid` and `far` padded to `near`'s `N`
/// coefficients by [`padded`]).
#[derive(Clone, Copy)]
struct LanePieces<'a, M, const N: usize, const NM: usize, const NF: usize> {
    is_near: M,
    near: &'a [f64; N],
    is_mid: M,
    mid: &'a [f64; NM],
    far: &'a [f64; NF],
}

impl<M: Copy, const N: usize, const NM: usize, const NF: usize> LanePieces<'_, M, N, NM, NF> {
    /// Coefficient `i`, per lane.
    #[inline(always)]
    fn coefficient<T: Element, S: Simd<T, M = M>>(self, s: S, i: usize) -> S::V {
        let rest = s.select(
            self.is_mid,
            k(s, padded(self.mid, N, i)),
            k(s, padded(self.far, N, i)),
        );
        s.select(self.is_near, k(s, self.near[i]), rest)
    }

    /// Horner's rule at `x` with each lane's coefficients. Lanes that need different
    /// polynomials share one evaluation, one multiply-add per coefficient, instead of each
    /// polynomial costing its own (the per-lane choices are selections, which do not compete
    /// for the multiply-add units). A padded polynomial gives the same bits as it would alone:
    /// the accumulator stays an exact zero until its first coefficient. (Tables, not a closure:
    /// a closure LLVM leaves out of line is compiled without the path's target features; and a
    /// counted loop, which LLVM unrolls: an iterator over `near` was left rolled, `gelu` `f64`
    /// 0.64 -> 0.50 Gelem/s.)
    #[inline(always)]
    fn horner<T: Element, S: Simd<T, M = M>>(self, s: S, x: S::V) -> S::V {
        let mut acc = self.coefficient(s, 0);
        for i in 1..N {
            acc = s.mul_add(acc, x, self.coefficient(s, i));
        }
        acc
    }
}

/// `K(a) = a e^(a^2/2) Phi(-a)` for `1/2 <= a <= 38.6` (NaN propagates), given also `v = 1/a`:
/// per lane the polynomial in `w = a - 1` (`a < 2`) or one in `1/a` (`f64`: one for `a < 5`,
/// one beyond).
///
/// A vector whose lanes all need one piece evaluates that piece alone; one that mixes pieces
/// evaluates a single polynomial with per-lane coefficients ([`LanePieces::horner`]), bit for bit
/// what each piece gives alone. Against evaluating each piece some lane needs and selecting,
/// one core: `cargo xtask perf --filter gelu/`, two interleaved pairs of runs, `gelu/f32/l2`
/// 14.82 -> 13.03-13.12 us, `gelu/f32/dram` 7.82-7.92 -> 7.04-7.07 ms, `gelu/f64/l2` 32.0-32.2
/// -> 24.7-24.8 us, `gelu/f64/dram` 17.3-17.4 -> 13.8 ms; `erf` on 32768 values spread over
/// `[-8, 8)`, interleaved medians of 300 runs, f32 2.38 -> 2.50 Gelem/s, f64 0.57 -> 0.62.
#[inline(always)]
fn mills<T: Element, S: Simd<T>>(s: S, a: S::V, v: S::V) -> S::V {
    let two = k(s, 2.0);
    let near = s.lt(a, two);
    let w = s.sub(a, k(s, 1.0));
    if is_f32::<T>() {
        return match (s.any(near), s.any(s.le(two, a))) {
            (true, false) => horner(s, w, &GELU_KM_F32),
            (false, true) => horner(s, tail_var(s, v, GELU_K_F32_MAP), &GELU_K_F32),
            (true, true) => {
                // Two pieces: `mid` and `far` are the same polynomial.
                let pieces = LanePieces {
                    is_near: near,
                    near: &GELU_KM_F32,
                    is_mid: near,
                    mid: &GELU_K_F32,
                    far: &GELU_K_F32,
                };
                pieces.horner(s, s.select(near, w, tail_var(s, v, GELU_K_F32_MAP)))
            }
            // Only NaN lanes.
            (false, false) => a,
        };
    }
    let five = k(s, 5.0);
    // `a < 5`, the lanes near 0 included.
    let below5 = s.lt(a, five);
    let pieces = [
        s.any(near),
        s.any(s.mask_and(below5, s.le(two, a))),
        s.any(s.le(five, a)),
    ];
    match pieces {
        [true, false, false] => horner(s, w, &GELU_KM_F64),
        [false, true, false] => horner(s, tail_var(s, v, GELU_K1_F64_MAP), &GELU_K1_F64),
        [false, false, true] => horner(s, tail_var(s, v, GELU_K2_F64_MAP), &GELU_K2_F64),
        // Only NaN lanes.
        [false, false, false] => a,
        _ => {
            let (t1, t2) = (
                tail_var(s, v, GELU_K1_F64_MAP),
                tail_var(s, v, GELU_K2_F64_MAP),
            );
            let x = s.select(near, w, s.select(below5, t1, t2));
            let pieces = LanePieces {
                is_near: near,
                near: &GELU_KM_F64,
                is_mid: below5,
                mid: &GELU_K1_F64,
                far: &GELU_K2_F64,
            };
            pieces.horner(s, x)
        }
    }
}

/// `x^2 = hi + lo` exactly (up to the rounding of the tiny `lo`), by Dekker's split through a
/// bit mask: correct with or without a fused multiply-add. `|x|` must be small enough for
/// `x^2` not to overflow.
#[inline(always)]
fn square_pair<T: Element, S: Simd<T>>(s: S, x: S::V) -> (S::V, S::V) {
    let mask = if is_f32::<T>() {
        0xffff_f000u64
    } else {
        0xffff_ffff_f800_0000u64
    };
    let xh = s.bit_and(x, s.splat_bits(mask));
    let xl = s.sub(x, xh);
    let hi = s.mul(xh, xh);
    let lo = s.mul_add(xl, xl, s.mul(s.add(xh, xh), xl));
    (hi, lo)
}

/// `x^2 = hi + lo` exactly, as [`square_pair`] but in two operations where the path fuses
/// multiply-adds (the rounded square and its error by one multiply-add).
#[inline(always)]
fn square_exact<T: Element, S: Simd<T>>(s: S, x: S::V) -> (S::V, S::V) {
    if S::FUSED_MUL_ADD {
        let hi = s.mul(x, x);
        (
            hi,
            s.mul_add(x, x, s.bit_xor(hi, s.splat_bits(sign_bits::<T>()))),
        )
    } else {
        square_pair(s, x)
    }
}

/// The pieces of the normal distribution at `a = |x|` (clamped by the caller to at most
/// [`gelu_cap`]; `a >= 1/2` where `tail` is used): `(tail, e, v)` with `tail = a Phi(-a) 2^bias`
/// (`= K(a) e^(-a^2/2) 2^bias`, rounded once after `K`) and `v = 1/a`;
/// `bias` is 0 for `f32`, 64 for `f64` (it keeps the values normal up to the cap).
#[inline(always)]
fn normal_tail<T: Element, S: Simd<T>>(s: S, a: S::V) -> (S::V, S::V) {
    let (hi, lo) = square_exact(s, a);
    let (pm1, t) = exp_pair(s, hi, lo, -0.5);
    let t = if is_f32::<T>() {
        t
    } else {
        s.add(t, k(s, 64.0))
    };
    let scale = s.shl_mantissa(t);
    let v = s.div(k(s, 1.0), a);
    let kk = mills(s, a, v);
    (s.mul(s.mul_add(kk, pm1, kk), scale), v)
}

/// Undoes the `2^bias` of [`normal_tail`] (one rounding, into the subnormals if need be).
#[inline(always)]
fn unbias<T: Element, S: Simd<T>>(s: S, v: S::V) -> S::V {
    if is_f32::<T>() {
        v
    } else {
        s.mul(v, k(s, 5.421_010_862_427_522e-20))
    }
}

/// The largest `|x|` (a `T`) for which GELU's magnitude on the negative side, `|x| Phi(-|x|)`,
/// is a normal number (`f32` 13.146246, `f64` 37.615868313955986; by mpmath, the next `T` up
/// gives `0.999997` and `0.99999999999996` times the smallest normal). Past it [`gelu`] returns
/// `-0` for negative `x`, within its absolute bound there, and `x` for positive `x`, what
/// `x - |x| Phi(-|x|)` rounds to; its tail is not evaluated, for it would be subnormal, and on
/// Intel cores each vector that computes a subnormal takes a microcode assist (the generic
/// route's `Phi(-a)` is kept normal too: see [`gelu`]). No perf row covers this band; the
/// closing note of stop 29 gives what a scratch program measured.
#[inline(always)]
fn gelu_normal_limit<T: Element>() -> f64 {
    if is_f32::<T>() {
        13.146_245_956_420_898
    } else {
        37.615_868_313_955_986
    }
}

/// Past this `|x|` (`f32` 13.15, `f64` 37.75) [`gelu_derivative`] returns 0 or 1 without
/// evaluating its tails.
#[inline(always)]
fn gelu_cap<T: Element>() -> f64 {
    if is_f32::<T>() { 13.15 } else { 37.75 }
}

/// The error function, within 2 ULP of the correctly rounded result.
///
/// `erf(+-inf) = +-1`, `erf(+-0) = +-0`, NaN gives NaN.
///
/// Method: `|x| <= 1`: `x + x (q0 + x^2 P(x^2))` with a minimax `P`; beyond, `1 - erfc |x|` with
/// `erfc a = 2 e^(-a^2) H(a sqrt 2)`, `e^(-a^2)` from an exact split of `a^2` and `H` the
/// scaled complementary function shared with [`gelu`] (for `f32` on AVX-512 its 32 pieces,
/// looked up per lane: `cargo xtask perf --filter erf`, lookup route off -> on, two interleaved
/// pairs, `erf/f32/l2` 13.1-13.2 -> 10.95-10.98 us, 2.5 -> 3.0 Gelem/s; the exact split of
/// `a^2` by a fused multiply-add (then in three operations, now two: see `exp_pair`) gave
/// AVX2, in a scratch program, 1.02 -> 1.06-1.07 Gelem/s; for `f64` on AVX-512 the 16 pieces
/// of `GELU_TABLE_F64`: a scratch program, `erf` on 2^16 values over `[-8, 8)` one vector at a
/// time, three alternations of the two builds, 0.646-0.648 -> 0.752-0.758 Gelem/s).
#[inline(always)]
pub fn erf<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let one = k(s, 1.0);
    let a = abs(s, x);
    let small = s.le(a, one);
    let z = s.mul(x, x);
    let p = if is_f32::<T>() {
        horner(s, z, &ERF_P_F32)
    } else {
        horner(s, z, &ERF_P_F64)
    };
    let ys = s.mul_add(x, s.mul_add(z, p, k(s, ERF_Q0)), x);
    let large = s.lt(one, a);
    if !s.any(large) {
        return ys;
    }
    // erf is 1 (rounded) from 3.92 (f32) / 5.93 (f64) on.
    let cap = if is_f32::<T>() { 4.0 } else { 6.0 };
    let ac = s.min(k(s, cap), a);
    let (hi, lo) = square_exact(s, ac);
    let (pm1, t) = exp_pair(s, hi, lo, -1.0);
    // erfc a = 2 Phi(-a sqrt 2) = e^(-a^2) K(a') 2/a', a' = a sqrt 2.
    let a2 = s.mul(ac, k(s, core::f64::consts::SQRT_2));
    let kk = if pieces_fit::<T, S>() {
        // `a'` in `[1.41, 5.66]` (`f64`: `[1.41, 8.49]`, where every piece holds `K`): the
        // pieces of `gelu`'s `K` (one polynomial per vector, no division for `1/a'`).
        if is_f32::<T>() {
            by_pieces(s, a2, pieces_key(s, a2), &GELU_CENTERS_F32, &GELU_TABLE_F32)
        } else {
            by_pieces(s, a2, pieces_key(s, a2), &GELU_CENTERS_F64, &GELU_TABLE_F64)
        }
    } else {
        mills(s, a2, s.div(k(s, 1.0), a2))
    };
    let erfc = s.mul(
        s.div(s.mul_add(kk, pm1, kk), a2),
        s.shl_mantissa(s.add(t, k(s, 1.0))),
    );
    let yl = with_sign_of(s, s.sub(one, erfc), x);
    s.select(small, ys, yl)
}

/// GELU, exact (erf) form: `x Phi(x) = x (1 + erf(x / sqrt 2)) / 2`, within 2 ULP of the
/// correctly rounded result (absolute error at most the smallest normal where that is
/// subnormal: `x < -13.146246` for `f32`, `-37.615868` for `f64`, where `-0` is returned: see
/// `gelu_normal_limit`).
///
/// `gelu(+inf) = +inf`, `gelu(-inf) = -0`, NaN gives NaN.
///
/// Method: for `|x| <= 1/2`, `x/2 + x^2 Q(x^2)` (a minimax odd part of `Phi`). Beyond, with
/// `a = |x|`, `Phi(-a) = e^(-a^2/2) H(a)` where `H` is smooth and slowly varying (polynomials in
/// `a - 1` below 2, in `1/a` above) and `e^(-a^2/2)` is evaluated from an exact split of `a^2`,
/// so that the result keeps full relative accuracy in the far negative tail:
/// `gelu(x) = -a e^(-a^2/2) H(a)` for `x < 0`, `x (1 - e^(-a^2/2) H(a))` for `x > 0`.
///
/// `f32` on AVX-512 takes another route to the same bound (`gelu_by_lookup`): one formula for
/// every lane, `-tail` or `x - tail` with `tail = a Phi(-a)`, whose smooth factor comes from 32
/// quarter-octave polynomial pieces fetched per lane by a permute ([`Simd::lookup`]), so a
/// vector whose lanes lie in different pieces still evaluates one polynomial of degree 5, and
/// nothing divides. `cargo xtask perf --filter gelu/f32` (inputs uniform in `[-8, 8)`, one
/// core, two interleaved pairs): `gelu/f32/l2` 13.6-13.8 -> 8.0-8.1 us (2.4 -> 4.0-4.1 Gelem/s),
/// `gelu/f32/dram` 7.5 -> 4.4 ms (46% -> 76-79% of the copy roof). Its results differ from
/// the other paths' in the last bit at times; the accuracy sweep measured at most 1.82 ULP from
/// the exact value (2.06 on the scalar path).
///
/// `f64` on AVX-512 takes the same route with 16 half-binade pieces of degree 15
/// (`GELU_TABLE_F64`; below `|x| = 1/2` they hold the tail itself and the exponential is
/// skipped). It replaces a polynomial near 0, a division and a polynomial of degree 20 whose
/// coefficients were chosen per lane among three by selections. A permute here costs about as
/// much as a multiply-add (they share the two multiply-add pipes: a scratch loop of independent
/// permutes and multiply-adds ran at 1.6 operations per cycle, against 2 for either alone), so
/// the pieces' 17 permutes and the exponential's 14 multiply-adds are most of the cost.
/// `cargo xtask perf --filter gelu/f64`, this route off -> on, two interleaved pairs:
/// `gelu/f64/l2` 23.4-23.7 -> 16.1-16.3 us (0.69-0.70 -> 1.01-1.02 Gelem/s), `gelu/f64/dram`
/// 13.9 -> 9.0 ms (24-25% -> 35-37% of the copy roof). On the mpmath table (2776 points, dense
/// at the pieces' boundaries) it measured at most 1 ULP, the other paths 2.
///
/// ```
/// use nabla_kernels::{isa, math, simd::{Simd, SimdOp}, Element};
///
/// struct Gelu(f64);
/// impl SimdOp<f64> for Gelu {
///     type Output = f64;
///     #[inline(always)]
///     fn run<S: Simd<f64>>(self, s: S) -> f64 {
///         let mut out = [0.0];
///         s.store_partial(&mut out, math::gelu(s, s.splat(self.0)));
///         out[0]
///     }
/// }
/// // Far in the negative tail the result keeps its relative accuracy: -10 Phi(-10).
/// let y = f64::dispatch(isa::active(), Gelu(-10.0));
/// assert!((y / -7.619_853_024_160_526e-23 - 1.0).abs() < 1e-15);
/// ```
#[inline(always)]
pub fn gelu<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    if pieces_fit::<T, S>() {
        return gelu_by_lookup(s, x);
    }
    let a = abs(s, x);
    let zero = k(s, 0.0);
    let half = k(s, 0.5);
    let near = s.le(a, half);
    let z = s.mul(x, x);
    let q = if is_f32::<T>() {
        horner(s, z, &GELU_Q_F32)
    } else {
        horner(s, z, &GELU_Q_F64)
    };
    let y_near = s.mul_add(z, q, s.mul(x, half));
    if !s.any(s.lt(half, a)) {
        // All lanes near 0 (or NaN: NaN * anything is NaN).
        return y_near;
    }
    let out = s.lt(k(s, gelu_normal_limit::<T>()), a);
    // Past the limit the tail is evaluated at 1, not where it is subnormal (see
    // `gelu_normal_limit`), and then replaced by 0.
    let ac = s.select(out, k(s, 1.0), a);
    let (tail, v) = normal_tail(s, ac);
    // a Phi(-a), normal up to the limit; past it 0.
    let t = s.select(out, zero, unbias(s, tail));
    // Phi(-a) = t / a, for `x (1 - Phi(-a))` on the positive side only. From `a = 12.95`
    // (`f32`) it is subnormal, so `t` is raised to 16 (`f64`: 64) smallest normals first: the
    // product is then normal, and below `2^-24` either way, where `1 - w` rounds to 1.
    let tiny = if is_f32::<T>() {
        16.0 * f32::MIN_POSITIVE as f64
    } else {
        64.0 * f64::MIN_POSITIVE
    };
    let w = s.mul(s.max(t, k(s, tiny)), v);
    let neg = s.bit_xor(t, s.splat_bits(sign_bits::<T>()));
    let pos = s.mul(x, s.sub(k(s, 1.0), w));
    s.select(near, y_near, s.select(s.lt(x, zero), neg, pos))
}

/// Whether this path has the fast [`Simd::lookup`] that the piece tables assume: 16 lanes per
/// machine vector for `f32` (32-entry tables, quarter binades), 8 for `f64` (16 entries, half
/// binades).
#[inline(always)]
fn pieces_fit<T: Element, S: Simd<T>>() -> bool {
    S::FAST_LOOKUP && S::PART_LANES == if is_f32::<T>() { 16 } else { 8 }
}

/// Whether the `f32` functions take their quarter-octave pieces ([`by_pieces`]) on this path
/// ([`pieces_fit`]; `f64` has pieces for [`gelu`] and [`erf`] only, which ask
/// [`pieces_fit`] themselves).
#[inline(always)]
fn by_lookup<T: Element, S: Simd<T>>() -> bool {
    is_f32::<T>() && pieces_fit::<T, S>()
}

/// Half `h` (0 or 1) of a table of `2 PART_LANES` entries in every machine vector of `S::V`
/// (see [`Simd::lookup`]).
#[inline(always)]
fn table_half<T: Element, S: Simd<T>>(s: S, table: &[f64], h: usize) -> S::V {
    let l = table.len() / 2;
    debug_assert_eq!(l, S::PART_LANES, "a piece table has two vectors' entries");
    let mut lanes = [T::ZERO; 16];
    for (v, &t) in lanes.iter_mut().zip(&table[l * h..l * (h + 1)]) {
        *v = T::from_f64(t);
    }
    s.splat_part(&lanes[..l])
}

/// Entry `(bits(key) >> 21) mod 32` (`f32`) or `(bits(key) >> 51) mod 16` (`f64`) of `table`
/// per lane: the piece of `key`'s binade and top two mantissa bits (quarter binades, as
/// [`GELU_TABLE_F32`]) or top bit (half binades, as [`GELU_TABLE_F64`]); paths where
/// [`pieces_fit`].
#[inline(always)]
fn piece<T: Element, S: Simd<T>>(s: S, table: &[f64], key: S::V) -> S::V {
    let (lo, hi) = (table_half(s, table, 0), table_half(s, table, 1));
    if is_f32::<T>() {
        s.lookup::<21>(lo, hi, key)
    } else {
        s.lookup::<51>(lo, hi, key)
    }
}

/// The key of `a >= 0` for [`by_pieces`] and [`piece`]: `a` itself, or the start of the first
/// piece below it (`2^-4` for the `f32` tables, `1/4` for `f64`'s; that piece is fitted down to
/// 0); NaN stays NaN (`max` returns it).
#[inline(always)]
fn pieces_key<T: Element, S: Simd<T>>(s: S, a: S::V) -> S::V {
    s.max(k(s, if is_f32::<T>() { 0.0625 } else { 0.25 }), a)
}

/// The piecewise polynomial `table` (of [`GELU_TABLE_F32`]'s or [`GELU_TABLE_F64`]'s form, with
/// its `centers`) at `a` in `[0, 16)` (`f32`) or `[0, 64)` (`f64`; NaN gives NaN),
/// `key = pieces_key(a)`: each lane's coefficients fetched by its own piece, one Horner
/// evaluation for the vector.
#[inline(always)]
fn by_pieces<T: Element, S: Simd<T>, const L: usize, const N: usize>(
    s: S,
    a: S::V,
    key: S::V,
    centers: &[f64; L],
    table: &[[f64; L]; N],
) -> S::V {
    let u = s.sub(a, piece(s, centers, key));
    let mut p = piece(s, &table[0], key);
    for c in &table[1..] {
        p = s.mul_add(p, u, piece(s, c, key));
    }
    p
}

/// `v 2^n` for the `t` of [`exp_pair`], rounded once where `vscalef` is one instruction, else
/// multiplied by the power of 2 built from `t` (exact while that power is normal).
#[inline(always)]
fn scale_by_exp_pair<T: Element, S: Simd<T>>(s: S, v: S::V, t: S::V) -> S::V {
    if S::FAST_SCALEF {
        let shift = if is_f32::<T>() {
            EXP_F32.shift
        } else {
            EXP_F64.shift
        };
        s.scalef(v, s.sub(t, k(s, shift)))
    } else {
        s.mul(v, s.shl_mantissa(t))
    }
}

/// `e^(-a^2/2) P(a)` at `a = |x|`, with `P` the pieces `table` (on `centers`), 0 past `cap`
/// ([`gelu_normal_limit`] for [`gelu`], [`gelu_cap`] for its derivative) and at +-inf, NaN for
/// NaN: the shared tail of the lookup routes of [`gelu`]
/// (`P = K`) and [`gelu_derivative`] (`P = M`). Below `bare` (0 for the `f32` tables, `1/2` for
/// [`GELU_TABLE_F64`]) the pieces hold the whole product and the exponential is skipped (its
/// argument set to 0, which gives exactly 1).
///
/// `-a^2/2` reaches [`exp_pair`] as the exact square of `a` (two operations) with the `-1/2`
/// folded into its constants, one multiplication fewer than scaling first, with the same bits
/// (a scratch program hashed `gelu`, `erf`, `silu` and `gelu_backward` on 2^18 random and
/// 400 001 walked inputs, every path, `f32` and `f64`: identical but for the sign of NaN
/// results on SSE2). `cargo xtask perf --filter gelu/f32`, three interleaved pairs:
/// `gelu/f32/l2` 7.33-7.41 -> 6.81-6.82 us (4.4 -> 4.8 Gelem/s), `gelu/f32/dram` 4.16-4.29 ->
/// 4.03-4.07 ms (76-79% -> 81-82% of the copy roof); `gelu_backward/f32/l2` 7.55-7.92 ->
/// 7.39-7.43 us in two pairs; `f64` within noise.
#[inline(always)]
fn gaussian_tail_by_lookup<T: Element, S: Simd<T>, const L: usize, const N: usize>(
    s: S,
    x: S::V,
    centers: &[f64; L],
    table: &[[f64; L]; N],
    bare: f64,
    cap: f64,
) -> S::V {
    let a = abs(s, x);
    let out = s.lt(k(s, cap), a);
    // Past `cap` the tail is evaluated at 1 instead (and replaced by 0 at the end): past
    // `gelu_normal_limit` it is subnormal, and on Intel cores each lane that computes a
    // subnormal takes a microcode assist: `f32` `gelu` on inputs over [-14, 14) took 7.5 times
    // as long as over [-12, 12) (Intel Xeon, 32768 values in L2), 13 times over [-40, 40). NaN
    // is not past the cap (every comparison with it is false) and stays NaN.
    let ac = s.select(out, k(s, 1.0), a);
    let p = by_pieces(s, ac, pieces_key(s, ac), centers, table);
    let e = if bare > 0.0 {
        s.select(s.lt(ac, k(s, bare)), k(s, 0.0), ac)
    } else {
        ac
    };
    let (hi, lo) = square_exact(s, e);
    let (pm1, t) = exp_pair(s, hi, lo, -0.5);
    let v = scale_by_exp_pair(s, s.mul_add(p, pm1, p), t);
    s.select(out, k(s, 0.0), v)
}

/// [`gelu`] where [`Simd::lookup`] is fast (AVX-512, [`pieces_fit`]): one formula for every
/// lane, with `a = |x|` up to [`gelu_normal_limit`] (0 past it) and
/// `tail = a Phi(-a) = K(a) e^(-a^2/2)`: `-tail` for `x < 0`, `x - tail` otherwise
/// (`tail <= x/2`: no cancellation). `K` comes from the 32 pieces of [`GELU_TABLE_F32`]
/// (`f64`: the 16 of [`GELU_TABLE_F64`], which hold the tail itself below `1/2`), each lane's
/// coefficients fetched by its own piece, so no vector evaluates more than one polynomial and
/// nothing divides. The results are within the same
/// 2 ULP as the other paths' (`tests/math_accuracy.rs`), not bit-identical to them.
#[inline(always)]
fn gelu_by_lookup<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    // Past the cap the tail is 0: gelu is x, or -0 below the smallest normal.
    let tail = if is_f32::<T>() {
        gaussian_tail_by_lookup(
            s,
            x,
            &GELU_CENTERS_F32,
            &GELU_TABLE_F32,
            0.0,
            gelu_normal_limit::<T>(),
        )
    } else {
        gaussian_tail_by_lookup(
            s,
            x,
            &GELU_CENTERS_F64,
            &GELU_TABLE_F64,
            0.5,
            gelu_normal_limit::<T>(),
        )
    };
    // `max(-0, x) - tail`: `x - tail` for `x >= +0`, `-tail` (`-0` for `tail = 0`) for
    // `x <= -0`; `max` returns NaN for NaN `x` (its second operand).
    s.sub(s.max(k(s, -0.0), x), tail)
}

/// The derivative of [`gelu`]: `Phi(x) + x phi(x)` with `phi(x) = e^(-x^2/2) / sqrt(2 pi)`.
///
/// Accurate to a few ULP of the larger of its two terms (its zero near `x = -0.7518` makes a
/// relative bound meaningless there). `+inf -> 1`, `-inf -> 0`, NaN gives NaN. Beyond the cap
/// of [`gelu`] (`|x| > 13.15` for `f32`, `37.75` for `f64`) 0 or 1 is returned: the true
/// value's distance from them is then below `1.5e-37` (`f32`).
///
/// `f32` on AVX-512 evaluates `e^(-a^2/2) M(a)` with `M` from 32 polynomial pieces
/// (`GELU_DERIVATIVE_TABLE_F32`), as [`gelu`] does its tail: one exponential instead of two, no
/// division. `cargo xtask perf --filter gelu_backward`, lookup route off -> on, two interleaved
/// pairs: `gelu_backward/f32/l2` 17.9-18.4 -> 8.4-8.5 us (1.8 -> 3.8-3.9 Gelem/s; in a scratch
/// program first, 1.69-1.70 -> 3.80-3.87). `tests/activation.rs` checks every path within 8
/// `f32` epsilons of the larger term on 200 001 points and at every piece boundary.
///
/// `f64` on AVX-512 likewise, from the 16 pieces of `GELU_DERIVATIVE_TABLE_F64` (a scratch
/// program, `gelu_backward` on 32768 values over `[-8, 8)`, three alternations of the two
/// builds: 0.61-0.62 -> 0.98-1.02 Gelem/s). `tests/activation.rs` checks every path against
/// mpmath on 2264 points dense at the pieces' boundaries: within 1.00 `f64` epsilons of the
/// larger term on AVX-512, 1.34 on AVX2, 1.92 on SSE2 and scalar (the test allows 8).
#[inline(always)]
pub fn gelu_derivative<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    if pieces_fit::<T, S>() {
        return gelu_derivative_by_lookup(s, x);
    }
    let a = abs(s, x);
    let zero = k(s, 0.0);
    let half = k(s, 0.5);
    let out = s.lt(k(s, gelu_cap::<T>()), a);
    // Past the cap everything is evaluated at 1, not at the cap, where it is subnormal (see
    // `gaussian_tail_by_lookup`), and then replaced. `max`: a lane near 0 would give 1/0 in the
    // tail pieces, which it does not use.
    let a_in = s.select(out, k(s, 1.0), a);
    let ac = s.max(half, a_in);
    let (tail, v) = normal_tail(s, ac);
    let w = s.select(out, zero, unbias(s, s.mul(tail, v)));
    let q = if is_f32::<T>() {
        horner(s, s.mul(x, x), &GELU_Q_F32)
    } else {
        horner(s, s.mul(x, x), &GELU_Q_F64)
    };
    let cdf_near = s.mul_add(x, q, half);
    let cdf_far = s.select(s.lt(x, zero), w, s.sub(k(s, 1.0), w));
    let cdf = s.select(s.le(a, half), cdf_near, cdf_far);
    // e^(-x^2/2) for all lanes (the tail pieces were evaluated at max(a, 1/2)), times 2^64 for
    // `f64` as in `normal_tail`: near the cap `2^n` is below the smallest normal, which
    // `shl_mantissa` cannot build (without the bias `f64` gave -1.7e308 at x = 37.749999...).
    let (hi, lo) = square_exact(s, a_in);
    let (pm1, t) = exp_pair(s, hi, lo, -0.5);
    let t = if is_f32::<T>() {
        t
    } else {
        s.add(t, k(s, 64.0))
    };
    let pdf = s.mul(
        s.mul_add(pm1, k(s, FRAC_1_SQRT_2PI), k(s, FRAC_1_SQRT_2PI)),
        s.shl_mantissa(t),
    );
    // Past the cap x * pdf is 0 (also for x = +-inf, where the product would be NaN).
    let xpdf = s.select(out, zero, unbias(s, s.mul(x, pdf)));
    s.add(cdf, xpdf)
}

/// [`gelu_derivative`] where [`Simd::lookup`] is fast (AVX-512, [`pieces_fit`]), as
/// [`gelu_by_lookup`]: with `a = |x|` up to [`gelu_cap`] (0 past it), `D = e^(-a^2/2) M(a)` from the
/// pieces of [`GELU_DERIVATIVE_TABLE_F32`] (`f64`: [`GELU_DERIVATIVE_TABLE_F64`], which hold
/// `D` itself below `1/2`) is the derivative at `-a`, and `1 - D` the one at `a`. One
/// exponential instead of two, no division, no second polynomial.
#[inline(always)]
fn gelu_derivative_by_lookup<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    // Past the cap (and at +-inf) D is 0: the derivative is 0 below, 1 above.
    let d = if is_f32::<T>() {
        gaussian_tail_by_lookup(
            s,
            x,
            &GELU_CENTERS_F32,
            &GELU_DERIVATIVE_TABLE_F32,
            0.0,
            gelu_cap::<T>(),
        )
    } else {
        gaussian_tail_by_lookup(
            s,
            x,
            &GELU_CENTERS_F64,
            &GELU_DERIVATIVE_TABLE_F64,
            0.5,
            gelu_cap::<T>(),
        )
    };
    s.select(s.lt(x, k(s, 0.0)), d, s.sub(k(s, 1.0), d))
}

/// `1 / sqrt(2 pi)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `2 sqrt(2/pi)` and `2 sqrt(2/pi) * 0.044715`: `gelu_tanh(x) = x sigmoid(x (C1 + C3 x^2))`.
const GELU_TANH_C1: f64 = 1.595_769_121_605_730_7;
const GELU_TANH_C3: f64 = 0.071_354_816_272_600_25;

/// GELU, tanh approximation form: `x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2`, computed as
/// the equal `x / (1 + e^(-2u))`, `2u = x (C1 + C3 x^2)`.
///
/// Accuracy, relative to that formula evaluated exactly: within 2 ULP for `x >= -1` (`f32`)
/// / `x >= -1/4` (`f64`). Below, the rounding of `2u` (relative 2^-24 / 2^-53, a few roundings)
/// is amplified by `|2u|`: the error grows to about `1.5 |2u|` ULP (e.g. 4 ULP at `x = -2`,
/// ~30 ULP at `x = -5` for `f32`, where the result is already below `1e-6`). Use [`gelu`] where
/// the tail matters. `gelu_tanh(-inf) = -0`, `gelu_tanh(+inf) = +inf`, NaN gives NaN.
#[inline(always)]
pub fn gelu_tanh<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let (u2, xc) = gelu_tanh_arg(s, x);
    x_sigmoid(s, xc, u2)
}

/// `(2u, x clamped)` for [`gelu_tanh`]: the clamp keeps `x^3` finite and `-inf` from giving
/// NaN; beyond it the result is `x` or `-0` anyway.
#[inline(always)]
fn gelu_tanh_arg<T: Element, S: Simd<T>>(s: S, x: S::V) -> (S::V, S::V) {
    let xc = s.min(k(s, 1.0e4), s.max(k(s, -1.0e4), x));
    let x2 = s.mul(xc, xc);
    let u2 = s.mul(xc, s.mul_add(x2, k(s, GELU_TANH_C3), k(s, GELU_TANH_C1)));
    (u2, s.select(s.lt(k(s, 1.0e4), x), x, xc))
}

/// The derivative of [`gelu_tanh`]: with `q = sigmoid(2u)`, `q + x q (1 - q) (C1 + 3 C3 x^2)`.
#[inline(always)]
pub fn gelu_tanh_derivative<T: Element, S: Simd<T>>(s: S, x: S::V) -> S::V {
    let (u2, xc) = gelu_tanh_arg(s, x);
    let one = k(s, 1.0);
    let q = sigmoid(s, u2);
    let du = s.mul_add(s.mul(xc, xc), k(s, 3.0 * GELU_TANH_C3), k(s, GELU_TANH_C1));
    let d = s.mul(s.mul(xc, q), s.mul(s.sub(one, q), du));
    let d = s.select(s.lt(k(s, 1.0e4), x), k(s, 0.0), d);
    s.add(q, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa;
    use crate::simd::SimdOp;

    /// Applies `exp` to a slice on `path`; with `scalef_form`, its clamp-and-`Simd::scalef`
    /// form whatever the path (AVX-512 takes it anyway).
    fn exp_slice<T: Element>(path: isa::Isa, x: &[T], scalef_form: bool) -> Vec<T> {
        struct Op<'a, T>(&'a [T], &'a mut [T], bool);
        impl<T: Element> SimdOp<T> for Op<'_, T> {
            type Output = ();
            #[inline(always)]
            fn run<S: Simd<T>>(self, s: S) {
                for (xi, yi) in self.0.chunks(S::LANES).zip(self.1.chunks_mut(S::LANES)) {
                    let v = s.load_partial(xi, T::ZERO);
                    let e = match (self.2, is_f32::<T>()) {
                        (false, _) => exp(s, v),
                        (true, true) => exp_wide(s, v, &EXP_F32, &EXP_POLY_F32, true),
                        (true, false) => exp_wide(s, v, &EXP_F64, &EXP_POLY_F64, true),
                    };
                    s.store_partial(yi, e);
                }
            }
        }
        let mut y = vec![T::ZERO; x.len()];
        T::dispatch(path, Op(x, &mut y, scalef_form));
        y
    }

    /// Asserts that `exp` (or its `scalef` form) is within 1 ULP of `want` on every path
    /// (NaN where `want` is NaN). `exp`'s results are never negative, so bit patterns order
    /// them.
    fn check_exp<T: Element>(x: &[T], scalef_form: bool, want: impl Fn(T) -> T) {
        for path in isa::available() {
            let y = exp_slice(path, x, scalef_form);
            for (&xi, &yi) in x.iter().zip(&y) {
                let r = want(xi);
                let ok = if r.is_nan() {
                    yi.is_nan()
                } else {
                    r.to_bits_u64().abs_diff(yi.to_bits_u64()) <= 1
                };
                assert!(ok, "{path} exp({xi:?}) = {yi:?}, want {r:?}");
            }
        }
    }

    #[test]
    fn exp_f32_sampled() {
        // Under Miri (the scalar path, interpreted) every 64th of these points.
        let step = if cfg!(miri) { 65_537 * 64 } else { 65_537 };
        let x: Vec<f32> = (0..(1u64 << 32))
            .step_by(step)
            .map(|b| f32::from_bits(b as u32))
            .collect();
        check_exp(&x, false, |v| (v as f64).exp() as f32);
    }

    /// `n + 1` points evenly spaced over `[lo, hi]`, then `extra`.
    fn grid<T: Element>(lo: f64, hi: f64, n: usize, extra: &[f64]) -> Vec<T> {
        (0..=n)
            .map(|i| lo + (hi - lo) * i as f64 / n as f64)
            .chain(extra.iter().copied())
            .map(T::from_f64)
            .collect()
    }

    /// The `scalef` form of `exp` on every path (AVX-512 `vscalef`, elsewhere the one-lane
    /// default `Simd::scalef`, so that the scalar path and Miri check the same algorithm),
    /// within 1 ULP of the correctly rounded result, subnormal and saturated results included.
    #[test]
    fn exp_scalef_form_every_path() {
        let n = if cfg!(miri) { 3_000 } else { 300_000 };
        let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.0, -0.0];
        let x32: Vec<f32> = grid(
            -110.0,
            90.0,
            n,
            &[&special[..], &[88.72, -87.4, -103.9]].concat(),
        );
        check_exp(&x32, true, |v| (v as f64).exp() as f32);
        // Miri perturbs the results of `f64::exp` by a few ULP on purpose, so the `f64`
        // reference is only trusted natively (the `f32` one absorbs that in its rounding).
        if !cfg!(miri) {
            let x64: Vec<f64> = grid(
                -750.0,
                715.0,
                n,
                &[&special[..], &[709.78, -708.5, -745.1]].concat(),
            );
            check_exp(&x64, true, f64::exp);
        }
    }

    /// `exp_summand` on `path`, one lane at a time, and whether the path takes its own
    /// reduction (else it is `exp`).
    fn exp_summand_slice<T: Element>(path: isa::Isa, d: &[T]) -> (Vec<T>, bool) {
        struct Op<'a, T>(&'a [T], &'a mut [T]);
        impl<T: Element> SimdOp<T> for Op<'_, T> {
            type Output = bool;
            #[inline(always)]
            fn run<S: Simd<T>>(self, s: S) -> bool {
                for (di, yi) in self.0.iter().zip(self.1.iter_mut()) {
                    let mut y = [T::ZERO];
                    s.store_partial(&mut y, exp_summand(s, s.splat(*di)));
                    *yi = y[0];
                }
                S::FAST_SCALEF && S::FUSED_MUL_ADD
            }
        }
        let mut y = vec![T::ZERO; d.len()];
        let own = T::dispatch(path, Op(d, &mut y));
        (y, own)
    }

    /// `exp_summand` on every path against the correctly rounded `e^d`, for `d <= 0` down into
    /// the subnormal results and to 0: within 1 ULP plus `per_unit * |d|` ULP for its one-constant
    /// reduction (0.046 for `f32`, 0.301 for `f64`, derived on the function; 0.05 and 0.31 here),
    /// and exactly [`exp`] off AVX-512. NaN gives NaN.
    fn check_exp_summand<T: Element>(lo: f64, per_unit: f64, want: impl Fn(T) -> T) {
        let n = if cfg!(miri) { 2_000 } else { 200_000 };
        let d: Vec<T> = grid(lo, 0.0, n, &[f64::NAN, f64::NEG_INFINITY, -0.0, -1e-30]);
        for path in isa::available() {
            let (y, own) = exp_summand_slice(path, &d);
            let plain = exp_slice(path, &d, false);
            for ((&di, &yi), &pi) in d.iter().zip(&y).zip(&plain) {
                let r = want(di);
                if r.is_nan() {
                    assert!(yi.is_nan(), "{path} exp_summand({di:?}) = {yi:?}");
                    continue;
                }
                let ulps = r.to_bits_u64().abs_diff(yi.to_bits_u64()) as f64;
                let bound = 1.0 + (per_unit * di.to_f64().abs()).floor();
                assert!(
                    ulps <= bound,
                    "{path} exp_summand({di:?}) = {yi:?}, want {r:?} ({ulps} ULP)"
                );
                if !own {
                    assert_eq!(yi.to_bits_u64(), pi.to_bits_u64(), "{path}: exp here");
                }
            }
        }
    }

    #[test]
    fn exp_summand_f32() {
        check_exp_summand::<f32>(-110.0, 0.05, |v| (v as f64).exp() as f32);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri perturbs f64::exp by a few ULP on purpose: the f64 reference is trusted natively only"
    )]
    fn exp_summand_f64() {
        check_exp_summand::<f64>(-750.0, 0.31, f64::exp);
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "Miri perturbs f64::exp by a few ULP on purpose: the f64 reference is trusted natively only"
    )]
    fn exp_f64_sampled() {
        let x: Vec<f64> = (0..(1u64 << 20))
            .map(|i| f64::from_bits(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        check_exp(&x, false, f64::exp);
    }
}
