//! [`Bundle`]: `U` vectors of one path driven as one wider vector, one operation at a time
//! across all of them.
//!
//! A long dependency chain (an `exp` is about fifteen operations deep, each waiting 3-4 cycles
//! for the one before) keeps only as many vectors in flight as the core's schedulers hold
//! waiting operations. Written one vector after another, each vector's chain fills them; written
//! stage by stage across `U` vectors, the `U` operations of a stage are independent and their
//! inputs were produced `U` operations earlier, so far fewer wait. Every lane goes through
//! exactly the operations it would alone, so results are the same bits as one vector at a time.

use super::{Simd, check_funnel};
use crate::element::Element;

/// How many vectors the elementwise drivers bundle, on the paths with [`Simd::BUNDLES`]
/// (AVX-512).
///
/// One core, AVX-512, `cargo xtask perf --filter /l2`, two interleaved pairs, one vector at a
/// time (stop 20) -> bundles of 4: `exp/f32` 2.92-2.93 -> 2.66 us, `sigmoid/f32` 4.03-4.05 ->
/// 3.51-3.52, `exp/f64` 5.06-5.11 -> 4.00-4.02, `tanh/f64` 7.45-7.55 -> 5.96-5.99,
/// `logsumexp_rows/f32` 4.44-4.47 -> 3.77-3.83; `tanh/f32` and `gelu/f32` unchanged. Why 4: a
/// scratch program (32768 `f32` in L2, 15 interleaved runs) gave, one vector -> bundles of 2
/// -> of 4, Gelem/s, `exp` 11.0 -> 11.6 -> 12.4, `sigmoid` 8.1 -> 8.6 -> 9.4, `tanh` 8.5 ->
/// 9.0 -> 8.5, `softplus` 1.9 -> 2.0 -> 3.0. On AVX2 (16 registers), `cargo xtask perf --filter /l2`
/// with `NABLA_ISA=avx2`, two interleaved pairs, one vector -> bundles of 4: `exp/f32`
/// 5.89-5.97 -> 5.55-5.68 us, `sigmoid/f32` 7.74-7.80 -> 7.12-7.25, `exp/f64` 10.2-10.3 ->
/// 9.4-9.5, `tanh/f64` 14.3-14.9 -> 12.9, `softmax_rows/f32` 9.25-9.29 -> 8.63-8.66 (with 7%
/// more instructions: the bundle spills), `gelu/f32` within its noise; AVX2 does not bundle
/// for all that (see [`Simd::BUNDLES`]).
pub const BUNDLE: usize = 4;

/// Elementwise kernels that store their results bundle only when they stream at most this many
/// bytes (inputs and outputs together): beyond the caches the bundle's bursts of loads and
/// stores cost more than its overlap gains. One core, `cargo xtask perf --filter dram` (64 MiB
/// per array), two interleaved pairs, stop 20 -> bundles at every size: `sigmoid/f32/dram`
/// 3.40-3.43 -> 3.64-3.71 ms, `softmax_rows/f32/dram` 3.76-3.89 -> 4.05-4.18, `exp/f64/dram`
/// 3.44-3.53 -> 3.74-3.99 (`logsumexp_rows/f32/dram`, which stores nothing, 2.50-2.52 ->
/// 2.22-2.23: it bundles at every size). Where between L2 and DRAM: a scratch program (`y =
/// f(x)` on `n` `f32`, 41 interleaved runs, one vector -> bundles, Gelem/s) still gained at
/// `n = 2^20` (8 MiB streamed: `exp` 9.2-9.6 -> 9.6-10.6, `sigmoid` 7.7-7.8 -> 8.7-8.8) and was
/// mixed at `2^21` (`exp` 6.1-6.5 -> 6.6-6.8, `sigmoid` 6.4-6.5 -> 6.0). Functions with long
/// chains of dependent operations, which stay compute-bound even from DRAM, bundle at every size
/// instead (the `activation` kernels flagged `BUNDLED_STREAMING`: `softplus`, `gelu_tanh`, and
/// in `f64` `tanh`, `silu`, `expm1`; the backward kernels of `gelu_tanh`, `silu`, and of `gelu`
/// in `f64`; and softmax's `f64` exponentials).
pub const BUNDLE_MAX_BYTES: usize = 8 << 20;

/// The elements at the start of `0..n` that a driver runs in whole bundles of [`BUNDLE`]
/// vectors of `S` when it bundles (`wide`, on a path with [`Simd::BUNDLES`]):
/// `n - n % (BUNDLE * S::LANES)`, else none.
#[inline(always)]
pub(crate) fn bundled_len<T: Element, S: Simd<T>>(n: usize, wide: bool) -> usize {
    if S::BUNDLES && wide {
        n - n % (BUNDLE * S::LANES)
    } else {
        0
    }
}

/// Whether an elementwise kernel over `elements` elements of `T` in each of `streams` slices
/// (inputs and outputs) bundles: at most [`BUNDLE_MAX_BYTES`] in all.
pub fn bundles_pay<T>(elements: usize, streams: usize) -> bool {
    elements.saturating_mul(streams * size_of::<T>()) <= BUNDLE_MAX_BYTES
}

/// `self.0.$f` applied to each part of the bundle arguments, as a loop: not a closure, which
/// LLVM may leave out of line in a large kernel, compiled without the path's target features.
macro_rules! each {
    ($s:ident . $f:ident ($($a:ident),+)) => {{
        let mut r = [$s.0.$f($($a[0]),+); U];
        for j in 1..U {
            r[j] = $s.0.$f($($a[j]),+);
        }
        r
    }};
}

/// `U` vectors of the path `S` as one vector of `U * S::LANES` lanes: every operation of
/// [`Simd`] applies to the `U` parts in turn. Loads and stores move `U` consecutive vectors.
///
/// [`Simd::lookup`] looks each part up in its own part of the table vectors, which hold the same
/// table in every part (made by [`Simd::splat_part`]): the table period stays
/// [`Simd::PART_LANES`] of the path. [`Simd::funnel`] shifts across the whole bundle. The
/// defaults of the trait that go through buffers of [`MAX_LANES`](super::MAX_LANES) elements
/// (`scalef`, `funnel`, `lookup`, the partial loads and stores) are all overridden, part by part.
#[derive(Clone, Copy, Debug)]
pub struct Bundle<S, const U: usize>(pub S);

impl<T: Element, S: Simd<T>, const U: usize> Simd<T> for Bundle<S, U> {
    type V = [S::V; U];
    type M = [S::M; U];
    const LANES: usize = U * S::LANES;
    const PART_LANES: usize = S::PART_LANES;
    const REGISTERS: usize = S::REGISTERS;
    const FUSED_MUL_ADD: bool = S::FUSED_MUL_ADD;
    const FAST_SCALEF: bool = S::FAST_SCALEF;
    const FAST_FUNNEL: bool = S::FAST_FUNNEL;
    const FAST_LOOKUP: bool = S::FAST_LOOKUP;

    #[inline(always)]
    fn splat(self, x: T) -> Self::V {
        [self.0.splat(x); U]
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> Self::V {
        [self.0.splat_bits(bits); U]
    }
    #[inline(always)]
    fn splat_part(self, part: &[T]) -> Self::V {
        [self.0.splat_part(part); U]
    }
    #[inline(always)]
    unsafe fn load(self, p: *const T) -> Self::V {
        let mut v = [self.0.splat(T::ZERO); U];
        for (j, v) in v.iter_mut().enumerate() {
            // SAFETY: part `j` lies inside the `U * S::LANES` elements the caller guarantees.
            *v = unsafe { self.0.load(p.add(j * S::LANES)) };
        }
        v
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut T, v: Self::V) {
        for (j, v) in v.into_iter().enumerate() {
            // SAFETY: part `j` lies inside the `U * S::LANES` elements the caller guarantees.
            unsafe { self.0.store(p.add(j * S::LANES), v) };
        }
    }

    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.add(a, b))
    }
    #[inline(always)]
    fn sub(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.sub(a, b))
    }
    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.mul(a, b))
    }
    #[inline(always)]
    fn div(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.div(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        each!(self.mul_add(a, b, c))
    }
    #[inline(always)]
    fn sqrt(self, a: Self::V) -> Self::V {
        each!(self.sqrt(a))
    }
    #[inline(always)]
    fn min(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.min(a, b))
    }
    #[inline(always)]
    fn max(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.max(a, b))
    }

    #[inline(always)]
    fn lt(self, a: Self::V, b: Self::V) -> Self::M {
        each!(self.lt(a, b))
    }
    #[inline(always)]
    fn le(self, a: Self::V, b: Self::V) -> Self::M {
        each!(self.le(a, b))
    }
    #[inline(always)]
    fn eq(self, a: Self::V, b: Self::V) -> Self::M {
        each!(self.eq(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: Self::V) -> Self::M {
        each!(self.is_nan(a))
    }
    #[inline(always)]
    fn select(self, m: Self::M, a: Self::V, b: Self::V) -> Self::V {
        each!(self.select(m, a, b))
    }
    #[inline(always)]
    fn mask_and(self, m1: Self::M, m2: Self::M) -> Self::M {
        each!(self.mask_and(m1, m2))
    }
    #[inline(always)]
    fn mask_or(self, m1: Self::M, m2: Self::M) -> Self::M {
        each!(self.mask_or(m1, m2))
    }
    #[inline(always)]
    fn any(self, m: Self::M) -> bool {
        let mut all = m[0];
        for &p in &m[1..] {
            all = self.0.mask_or(all, p);
        }
        self.0.any(all)
    }

    #[inline(always)]
    fn bit_and(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.bit_and(a, b))
    }
    #[inline(always)]
    fn bit_or(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.bit_or(a, b))
    }
    #[inline(always)]
    fn bit_xor(self, a: Self::V, b: Self::V) -> Self::V {
        each!(self.bit_xor(a, b))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: Self::V) -> Self::V {
        each!(self.shl_mantissa(a))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: Self::V) -> Self::V {
        each!(self.shr_mantissa(a))
    }
    #[inline(always)]
    fn scalef(self, y: Self::V, n: Self::V) -> Self::V {
        each!(self.scalef(y, n))
    }
    #[inline(always)]
    fn funnel(self, lo: Self::V, hi: Self::V, k: usize) -> Self::V {
        check_funnel(k, Self::LANES);
        // Part `j` of the result starts at part `k / l + j` of `lo` then `hi`.
        let l = S::LANES;
        let mut r = lo;
        for (j, r) in r.iter_mut().enumerate() {
            let q = k / l + j;
            let a = if q < U { lo[q] } else { hi[q - U] };
            *r = if k.is_multiple_of(l) {
                a
            } else {
                let b = if q + 1 < U { lo[q + 1] } else { hi[q + 1 - U] };
                self.0.funnel(a, b, k % l)
            };
        }
        r
    }
    #[inline(always)]
    fn lookup<const SHIFT: u32>(self, lo: Self::V, hi: Self::V, key: Self::V) -> Self::V {
        let mut r = key;
        for j in 0..U {
            r[j] = self.0.lookup::<SHIFT>(lo[j], hi[j], key[j]);
        }
        r
    }

    #[inline(always)]
    fn reduce_add(self, a: Self::V) -> T {
        let mut t = T::ZERO;
        for v in a {
            t += self.0.reduce_add(v);
        }
        t
    }
    #[inline(always)]
    fn reduce_max(self, a: Self::V) -> T {
        let mut t = self.0.reduce_max(a[0]);
        for &v in &a[1..] {
            let m = self.0.reduce_max(v);
            t = if m > t { m } else { t };
        }
        t
    }
    #[inline(always)]
    fn reduce_min(self, a: Self::V) -> T {
        let mut t = self.0.reduce_min(a[0]);
        for &v in &a[1..] {
            let m = self.0.reduce_min(v);
            t = if m < t { m } else { t };
        }
        t
    }

    #[inline(always)]
    fn load_partial(self, src: &[T], fill: T) -> Self::V {
        debug_assert!(src.len() <= Self::LANES);
        let l = S::LANES;
        let mut v = [self.0.splat(fill); U];
        for (j, v) in v.iter_mut().enumerate() {
            let part = &src[(j * l).min(src.len())..((j + 1) * l).min(src.len())];
            // A whole vector is one load (see `Simd::load_partial`).
            if !part.is_empty() {
                *v = self.0.load_partial(part, fill);
            }
        }
        v
    }
    #[inline(always)]
    fn store_partial(self, dst: &mut [T], v: Self::V) {
        debug_assert!(dst.len() <= Self::LANES);
        let l = S::LANES;
        let n = dst.len();
        for (j, v) in v.into_iter().enumerate() {
            let part = &mut dst[(j * l).min(n)..((j + 1) * l).min(n)];
            if !part.is_empty() {
                self.0.store_partial(part, v);
            }
        }
    }
}
