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
/// the result rounds once, also into the subnormal range.
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
    let big = s.lt(k(s, c.fast_limit), abs(s, x));
    if !s.any(big) {
        // Common case: 2^n is a normal number. NaN lanes stay NaN through the arithmetic.
        let (p, t) = exp_reduced(s, x, c, poly);
        s.mul(p, s.shl_mantissa(t))
    } else {
        exp_wide(s, x, c, poly)
    }
}

/// The reduction and polynomial of `exp`: returns `(e^r, t)` where `t` carries `n + bias` in its
/// low mantissa bits (for `shl_mantissa`) and `e^x = e^r * 2^n`.
#[inline(always)]
fn exp_reduced<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    c: &ExpConsts,
    poly: &[f64; N],
) -> (S::V, S::V) {
    let shift = k(s, c.shift);
    let t = s.mul_add(x, k(s, c.log2e), shift);
    let n = s.sub(t, shift);
    let r = s.mul_add(n, k(s, -c.ln2_hi), x);
    let r = s.mul_add(n, k(s, -c.ln2_lo), r);
    (horner(s, r, poly), t)
}

/// `exp` for any input: clamps to where the result saturates and scales by `2^n` in two exact
/// steps, so that only the last multiplication rounds (into the subnormals if need be).
#[inline(always)]
fn exp_wide<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    x: S::V,
    c: &ExpConsts,
    poly: &[f64; N],
) -> S::V {
    // `max`/`min` return their second operand for NaN: NaN stays NaN.
    let xc = s.min(k(s, c.hi), s.max(k(s, c.lo), x));
    let shift = k(s, c.shift);
    let (p, t) = exp_reduced(s, xc, c, poly);
    let n = s.sub(t, shift);
    let round = k(s, c.round);
    let n1 = s.sub(s.add(s.mul(n, k(s, 0.5)), round), round);
    let n2 = s.sub(n, n1);
    let s1 = s.shl_mantissa(s.add(n1, shift));
    let s2 = s.shl_mantissa(s.add(n2, shift));
    s.mul(s.mul(p, s1), s2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa;
    use crate::simd::SimdOp;

    /// Applies `exp` to a slice on `path`.
    fn exp_slice<T: Element>(path: isa::Isa, x: &[T]) -> Vec<T> {
        struct Op<'a, T>(&'a [T], &'a mut [T]);
        impl<T: Element> SimdOp<T> for Op<'_, T> {
            type Output = ();
            #[inline(always)]
            fn run<S: Simd<T>>(self, s: S) {
                for (xi, yi) in self.0.chunks(S::LANES).zip(self.1.chunks_mut(S::LANES)) {
                    let v = s.load_partial(xi, T::ZERO);
                    s.store_partial(yi, exp(s, v));
                }
            }
        }
        let mut y = vec![T::ZERO; x.len()];
        T::dispatch(path, Op(x, &mut y));
        y
    }

    #[test]
    fn exp_f32_sampled() {
        let x: Vec<f32> = (0..(1u64 << 32))
            .step_by(65_537)
            .map(|b| f32::from_bits(b as u32))
            .collect();
        for path in isa::available() {
            let y = exp_slice(path, &x);
            for (&xi, &yi) in x.iter().zip(&y) {
                let r = (xi as f64).exp() as f32;
                if r.is_nan() {
                    assert!(yi.is_nan(), "{path} exp({xi}) = {yi}");
                } else {
                    let d = (r.to_bits() as i64 - yi.to_bits() as i64).abs();
                    assert!(d <= 1, "{path} exp({xi:e}) = {yi:e}, want {r:e}");
                }
            }
        }
    }

    #[test]
    fn exp_f64_sampled() {
        let x: Vec<f64> = (0..(1u64 << 20))
            .map(|i| f64::from_bits(i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        for path in isa::available() {
            let y = exp_slice(path, &x);
            for (&xi, &yi) in x.iter().zip(&y) {
                let r = xi.exp();
                if r.is_nan() {
                    assert!(yi.is_nan(), "{path} exp({xi}) = {yi}");
                } else {
                    let d = (r.to_bits() as i64 - yi.to_bits() as i64).abs();
                    assert!(d <= 1, "{path} exp({xi:e}) = {yi:e}, want {r:e}");
                }
            }
        }
    }
}
