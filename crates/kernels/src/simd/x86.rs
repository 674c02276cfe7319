//! x86-64 tokens: SSE2 (baseline), AVX2+FMA, AVX-512F.
//!
//! Every method is a one-line intrinsic, except the register transposes (`transpose`, a fixed
//! sequence of unpacks and lane shuffles). The intrinsics need their target features; the
//! tokens prove those features are present, which is the single safety argument of this file,
//! stated once in the `intrinsic!` macro that wraps each call (and in each transpose).

use super::{Scalar, Simd, SimdOp};
use crate::element::Element;
use crate::isa::Isa;
use core::arch::x86_64::*;

/// Wraps one intrinsic call of a token method.
macro_rules! intrinsic {
    ($e:expr) => {
        // SAFETY: this expands only inside methods of `Sse2`, `Avx2` and `Avx512`, tokens that can
        // be constructed only by `try_new`, after the CPU was found to support the token's target
        // features; the intrinsic needs no more than those. Pointer arguments are covered by the
        // method's own `# Safety` contract.
        unsafe { $e }
    };
}

/// SSE2 token (x86-64 baseline: always available).
#[derive(Clone, Copy, Debug)]
pub struct Sse2(());
/// AVX2 + FMA token.
#[derive(Clone, Copy, Debug)]
pub struct Avx2(());
/// AVX-512F (+ AVX2, FMA) token.
#[derive(Clone, Copy, Debug)]
pub struct Avx512(());

impl Sse2 {
    /// The token (SSE2 is part of x86-64).
    pub fn try_new() -> Option<Self> {
        Some(Sse2(()))
    }
}
impl Avx2 {
    /// The token, if the CPU has AVX2 and FMA.
    pub fn try_new() -> Option<Self> {
        Isa::Avx2.is_supported().then_some(Avx2(()))
    }
}
impl Avx512 {
    /// The token, if the CPU has AVX-512F, AVX2 and FMA.
    pub fn try_new() -> Option<Self> {
        Isa::Avx512.is_supported().then_some(Avx512(()))
    }
}

#[target_feature(enable = "avx2,fma")]
fn run_avx2<T: Element, O: SimdOp<T>>(s: Avx2, op: O) -> O::Output
where
    Avx2: Simd<T>,
{
    op.run(s)
}

#[target_feature(enable = "avx512f,avx2,fma")]
fn run_avx512<T: Element, O: SimdOp<T>>(s: Avx512, op: O) -> O::Output
where
    Avx512: Simd<T>,
{
    op.run(s)
}

/// Pairwise reduction of a stored vector, in a fixed order: lane i with lane i + n/2, repeatedly.
#[inline(always)]
fn tree<T: Copy, const N: usize>(mut t: [T; N], f: impl Fn(T, T) -> T) -> T {
    let mut n = N;
    while n > 1 {
        n /= 2;
        for i in 0..n {
            t[i] = f(t[i], t[i + n]);
        }
    }
    t[0]
}

/// Runs `op` on `isa`. See [`super::dispatch`].
#[inline]
pub(super) fn dispatch<T: Element, O: SimdOp<T>>(isa: Isa, op: O) -> O::Output
where
    Scalar: Simd<T>,
    Sse2: Simd<T>,
    Avx2: Simd<T>,
    Avx512: Simd<T>,
{
    let unsupported = || -> ! { panic!("nabla-kernels: {isa} path used but this CPU lacks it") };
    match isa {
        Isa::Scalar | Isa::Neon => op.run(Scalar),
        Isa::Sse2 => op.run(Sse2(())),
        Isa::Avx2 => {
            let s = Avx2::try_new().unwrap_or_else(|| unsupported());
            // SAFETY: the token proves AVX2 and FMA are present.
            unsafe { run_avx2(s, op) }
        }
        Isa::Avx512 => {
            let s = Avx512::try_new().unwrap_or_else(|| unsupported());
            // SAFETY: the token proves AVX-512F, AVX2 and FMA are present.
            unsafe { run_avx512(s, op) }
        }
    }
}

// ---------------------------------------------------------------- SSE2 f32
impl Simd<f32> for Sse2 {
    type V = __m128;
    type M = __m128;
    const LANES: usize = 4;
    #[inline(always)]
    fn splat(self, x: f32) -> __m128 {
        intrinsic!(_mm_set1_ps(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m128 {
        intrinsic!(_mm_castsi128_ps(_mm_set1_epi32(bits as u32 as i32)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m128 {
        intrinsic!(_mm_loadu_ps(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m128) {
        intrinsic!(_mm_storeu_ps(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_add_ps(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_sub_ps(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_mul_ps(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_div_ps(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m128, b: __m128, c: __m128) -> __m128 {
        intrinsic!(_mm_add_ps(_mm_mul_ps(a, b), c))
    }
    #[inline(always)]
    fn sqrt(self, a: __m128) -> __m128 {
        intrinsic!(_mm_sqrt_ps(a))
    }
    #[inline(always)]
    fn min(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_min_ps(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_max_ps(a, b))
    }
    #[inline(always)]
    fn lt(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_cmplt_ps(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_cmple_ps(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_cmpeq_ps(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m128) -> __m128 {
        intrinsic!(_mm_cmpunord_ps(a, a))
    }
    #[inline(always)]
    fn select(self, m: __m128, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b)))
    }
    #[inline(always)]
    fn mask_and(self, m1: __m128, m2: __m128) -> __m128 {
        intrinsic!(_mm_and_ps(m1, m2))
    }
    #[inline(always)]
    fn mask_or(self, m1: __m128, m2: __m128) -> __m128 {
        intrinsic!(_mm_or_ps(m1, m2))
    }
    #[inline(always)]
    fn any(self, m: __m128) -> bool {
        intrinsic!(_mm_movemask_ps(m)) != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_and_ps(a, b))
    }
    #[inline(always)]
    fn bit_or(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_or_ps(a, b))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m128, b: __m128) -> __m128 {
        intrinsic!(_mm_xor_ps(a, b))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m128) -> __m128 {
        intrinsic!(_mm_castsi128_ps(_mm_slli_epi32::<23>(_mm_castps_si128(a))))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m128) -> __m128 {
        intrinsic!(_mm_castsi128_ps(_mm_srli_epi32::<23>(_mm_castps_si128(a))))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m128) -> f32 {
        let mut t = [0.0f32; 4];
        intrinsic!(_mm_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m128) -> f32 {
        let mut t = [0.0f32; 4];
        intrinsic!(_mm_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m128) -> f32 {
        let mut t = [0.0f32; 4];
        intrinsic!(_mm_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}

// ---------------------------------------------------------------- SSE2 f64
impl Simd<f64> for Sse2 {
    type V = __m128d;
    type M = __m128d;
    const LANES: usize = 2;
    #[inline(always)]
    fn splat(self, x: f64) -> __m128d {
        intrinsic!(_mm_set1_pd(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m128d {
        intrinsic!(_mm_castsi128_pd(_mm_set1_epi64x(bits as i64)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m128d {
        intrinsic!(_mm_loadu_pd(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m128d) {
        intrinsic!(_mm_storeu_pd(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_add_pd(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_sub_pd(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_mul_pd(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_div_pd(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m128d, b: __m128d, c: __m128d) -> __m128d {
        intrinsic!(_mm_add_pd(_mm_mul_pd(a, b), c))
    }
    #[inline(always)]
    fn sqrt(self, a: __m128d) -> __m128d {
        intrinsic!(_mm_sqrt_pd(a))
    }
    #[inline(always)]
    fn min(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_min_pd(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_max_pd(a, b))
    }
    #[inline(always)]
    fn lt(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_cmplt_pd(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_cmple_pd(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_cmpeq_pd(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m128d) -> __m128d {
        intrinsic!(_mm_cmpunord_pd(a, a))
    }
    #[inline(always)]
    fn select(self, m: __m128d, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b)))
    }
    #[inline(always)]
    fn mask_and(self, m1: __m128d, m2: __m128d) -> __m128d {
        intrinsic!(_mm_and_pd(m1, m2))
    }
    #[inline(always)]
    fn mask_or(self, m1: __m128d, m2: __m128d) -> __m128d {
        intrinsic!(_mm_or_pd(m1, m2))
    }
    #[inline(always)]
    fn any(self, m: __m128d) -> bool {
        intrinsic!(_mm_movemask_pd(m)) != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_and_pd(a, b))
    }
    #[inline(always)]
    fn bit_or(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_or_pd(a, b))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m128d, b: __m128d) -> __m128d {
        intrinsic!(_mm_xor_pd(a, b))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m128d) -> __m128d {
        intrinsic!(_mm_castsi128_pd(_mm_slli_epi64::<52>(_mm_castpd_si128(a))))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m128d) -> __m128d {
        intrinsic!(_mm_castsi128_pd(_mm_srli_epi64::<52>(_mm_castpd_si128(a))))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m128d) -> f64 {
        let mut t = [0.0f64; 2];
        intrinsic!(_mm_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m128d) -> f64 {
        let mut t = [0.0f64; 2];
        intrinsic!(_mm_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m128d) -> f64 {
        let mut t = [0.0f64; 2];
        intrinsic!(_mm_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}

// ---------------------------------------------------------------- Avx2 f32
impl Simd<f32> for Avx2 {
    type V = __m256;
    type M = __m256;
    const LANES: usize = 8;
    #[inline(always)]
    fn splat(self, x: f32) -> __m256 {
        intrinsic!(_mm256_set1_ps(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m256 {
        intrinsic!(_mm256_castsi256_ps(_mm256_set1_epi32(bits as u32 as i32)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m256 {
        intrinsic!(_mm256_loadu_ps(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m256) {
        intrinsic!(_mm256_storeu_ps(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_add_ps(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_sub_ps(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_mul_ps(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_div_ps(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_min_ps(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_max_ps(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m256, b: __m256, c: __m256) -> __m256 {
        intrinsic!(_mm256_fmadd_ps(a, b, c))
    }
    const FUSED_MUL_ADD: bool = true;
    #[inline(always)]
    unsafe fn transpose(
        self,
        src: *const f32,
        src_stride: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        // SAFETY: the token proves AVX2; the caller guarantees the 8 source rows of 8 and the
        // 8 destination rows of 8 (the method's contract).
        unsafe {
            let mut r = [_mm256_setzero_ps(); 8];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm256_loadu_ps(src.add(i * src_stride));
            }
            // t[2i], t[2i+1]: rows 2i, 2i+1 interleaved within each 128-bit lane.
            let mut t = r;
            for i in 0..4 {
                t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            // u[4g + c], lane l: column 4l + c of rows 4g..4g+4.
            let mut u = r;
            for g in 0..2 {
                let (lo0, hi0, lo1, hi1) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
                u[4 * g] = _mm256_shuffle_ps::<0x44>(lo0, lo1);
                u[4 * g + 1] = _mm256_shuffle_ps::<0xEE>(lo0, lo1);
                u[4 * g + 2] = _mm256_shuffle_ps::<0x44>(hi0, hi1);
                u[4 * g + 3] = _mm256_shuffle_ps::<0xEE>(hi0, hi1);
            }
            // Column c takes the low lanes of u[c], u[4 + c]; column 4 + c the high ones.
            for c in 0..4 {
                let lo = _mm256_permute2f128_ps::<0x20>(u[c], u[4 + c]);
                let hi = _mm256_permute2f128_ps::<0x31>(u[c], u[4 + c]);
                _mm256_storeu_ps(dst.add(c * dst_stride), lo);
                _mm256_storeu_ps(dst.add((4 + c) * dst_stride), hi);
            }
        }
    }
    #[inline(always)]
    fn sqrt(self, a: __m256) -> __m256 {
        intrinsic!(_mm256_sqrt_ps(a))
    }
    #[inline(always)]
    fn lt(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_cmp_ps::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_cmp_ps::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_cmp_ps::<_CMP_EQ_OQ>(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m256) -> __m256 {
        intrinsic!(_mm256_cmp_ps::<_CMP_UNORD_Q>(a, a))
    }
    #[inline(always)]
    fn select(self, m: __m256, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_blendv_ps(b, a, m))
    }
    #[inline(always)]
    fn mask_and(self, m1: __m256, m2: __m256) -> __m256 {
        intrinsic!(_mm256_and_ps(m1, m2))
    }
    #[inline(always)]
    fn mask_or(self, m1: __m256, m2: __m256) -> __m256 {
        intrinsic!(_mm256_or_ps(m1, m2))
    }
    #[inline(always)]
    fn any(self, m: __m256) -> bool {
        intrinsic!(_mm256_movemask_ps(m)) != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_and_ps(a, b))
    }
    #[inline(always)]
    fn bit_or(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_or_ps(a, b))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m256, b: __m256) -> __m256 {
        intrinsic!(_mm256_xor_ps(a, b))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m256) -> __m256 {
        intrinsic!(_mm256_castsi256_ps(_mm256_slli_epi32::<23>(
            _mm256_castps_si256(a)
        )))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m256) -> __m256 {
        intrinsic!(_mm256_castsi256_ps(_mm256_srli_epi32::<23>(
            _mm256_castps_si256(a)
        )))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m256) -> f32 {
        let mut t = [0.0f32; 8];
        intrinsic!(_mm256_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m256) -> f32 {
        let mut t = [0.0f32; 8];
        intrinsic!(_mm256_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m256) -> f32 {
        let mut t = [0.0f32; 8];
        intrinsic!(_mm256_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}

// ---------------------------------------------------------------- Avx2 f64
impl Simd<f64> for Avx2 {
    type V = __m256d;
    type M = __m256d;
    const LANES: usize = 4;
    #[inline(always)]
    fn splat(self, x: f64) -> __m256d {
        intrinsic!(_mm256_set1_pd(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m256d {
        intrinsic!(_mm256_castsi256_pd(_mm256_set1_epi64x(bits as i64)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m256d {
        intrinsic!(_mm256_loadu_pd(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m256d) {
        intrinsic!(_mm256_storeu_pd(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_add_pd(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_sub_pd(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_mul_pd(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_div_pd(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_min_pd(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_max_pd(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m256d, b: __m256d, c: __m256d) -> __m256d {
        intrinsic!(_mm256_fmadd_pd(a, b, c))
    }
    const FUSED_MUL_ADD: bool = true;
    #[inline(always)]
    unsafe fn transpose(
        self,
        src: *const f64,
        src_stride: usize,
        dst: *mut f64,
        dst_stride: usize,
    ) {
        // SAFETY: the token proves AVX2; the caller guarantees the 4 source rows of 4 and the
        // 4 destination rows of 4 (the method's contract).
        unsafe {
            let mut r = [_mm256_setzero_pd(); 4];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm256_loadu_pd(src.add(i * src_stride));
            }
            // t[2i + c], 128-bit lane l: column 2l + c of rows 2i, 2i+1.
            let t = [
                _mm256_unpacklo_pd(r[0], r[1]),
                _mm256_unpackhi_pd(r[0], r[1]),
                _mm256_unpacklo_pd(r[2], r[3]),
                _mm256_unpackhi_pd(r[2], r[3]),
            ];
            for c in 0..2 {
                let lo = _mm256_permute2f128_pd::<0x20>(t[c], t[2 + c]);
                let hi = _mm256_permute2f128_pd::<0x31>(t[c], t[2 + c]);
                _mm256_storeu_pd(dst.add(c * dst_stride), lo);
                _mm256_storeu_pd(dst.add((2 + c) * dst_stride), hi);
            }
        }
    }
    #[inline(always)]
    fn sqrt(self, a: __m256d) -> __m256d {
        intrinsic!(_mm256_sqrt_pd(a))
    }
    #[inline(always)]
    fn lt(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_cmp_pd::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_cmp_pd::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_cmp_pd::<_CMP_EQ_OQ>(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m256d) -> __m256d {
        intrinsic!(_mm256_cmp_pd::<_CMP_UNORD_Q>(a, a))
    }
    #[inline(always)]
    fn select(self, m: __m256d, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_blendv_pd(b, a, m))
    }
    #[inline(always)]
    fn mask_and(self, m1: __m256d, m2: __m256d) -> __m256d {
        intrinsic!(_mm256_and_pd(m1, m2))
    }
    #[inline(always)]
    fn mask_or(self, m1: __m256d, m2: __m256d) -> __m256d {
        intrinsic!(_mm256_or_pd(m1, m2))
    }
    #[inline(always)]
    fn any(self, m: __m256d) -> bool {
        intrinsic!(_mm256_movemask_pd(m)) != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_and_pd(a, b))
    }
    #[inline(always)]
    fn bit_or(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_or_pd(a, b))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m256d, b: __m256d) -> __m256d {
        intrinsic!(_mm256_xor_pd(a, b))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m256d) -> __m256d {
        intrinsic!(_mm256_castsi256_pd(_mm256_slli_epi64::<52>(
            _mm256_castpd_si256(a)
        )))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m256d) -> __m256d {
        intrinsic!(_mm256_castsi256_pd(_mm256_srli_epi64::<52>(
            _mm256_castpd_si256(a)
        )))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m256d) -> f64 {
        let mut t = [0.0f64; 4];
        intrinsic!(_mm256_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m256d) -> f64 {
        let mut t = [0.0f64; 4];
        intrinsic!(_mm256_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m256d) -> f64 {
        let mut t = [0.0f64; 4];
        intrinsic!(_mm256_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}

// ---------------------------------------------------------------- Avx512 f32
impl Simd<f32> for Avx512 {
    type V = __m512;
    type M = __mmask16;
    const LANES: usize = 16;
    const REGISTERS: usize = 32;
    #[inline(always)]
    fn splat(self, x: f32) -> __m512 {
        intrinsic!(_mm512_set1_ps(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_set1_epi32(bits as u32 as i32)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f32) -> __m512 {
        intrinsic!(_mm512_loadu_ps(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32, v: __m512) {
        intrinsic!(_mm512_storeu_ps(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_add_ps(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_sub_ps(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_mul_ps(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_div_ps(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_min_ps(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_max_ps(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m512, b: __m512, c: __m512) -> __m512 {
        intrinsic!(_mm512_fmadd_ps(a, b, c))
    }
    const FUSED_MUL_ADD: bool = true;
    #[inline(always)]
    fn sqrt(self, a: __m512) -> __m512 {
        intrinsic!(_mm512_sqrt_ps(a))
    }
    #[inline(always)]
    unsafe fn transpose(
        self,
        src: *const f32,
        src_stride: usize,
        dst: *mut f32,
        dst_stride: usize,
    ) {
        // SAFETY: the token proves AVX-512F; the caller guarantees the 16 source rows of 16
        // and the 16 destination rows of 16 (the method's contract).
        unsafe {
            let mut r = [_mm512_setzero_ps(); 16];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm512_loadu_ps(src.add(i * src_stride));
            }
            // Pairs of rows interleaved within each 128-bit lane l: t[2i] holds columns 4l and
            // 4l+1 of rows 2i, 2i+1; t[2i+1] columns 4l+2 and 4l+3.
            let mut t = r;
            for i in 0..8 {
                t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
            }
            // u[4g + c], lane l: column 4l + c of rows 4g..4g+4.
            let mut u = r;
            for g in 0..4 {
                let (lo0, hi0, lo1, hi1) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
                u[4 * g] = _mm512_shuffle_ps::<0x44>(lo0, lo1);
                u[4 * g + 1] = _mm512_shuffle_ps::<0xEE>(lo0, lo1);
                u[4 * g + 2] = _mm512_shuffle_ps::<0x44>(hi0, hi1);
                u[4 * g + 3] = _mm512_shuffle_ps::<0xEE>(hi0, hi1);
            }
            // Column 4l + c gathers lane l of u[c], u[4 + c], u[8 + c], u[12 + c].
            for c in 0..4 {
                let v_lo = _mm512_shuffle_f32x4::<0x44>(u[c], u[4 + c]);
                let v_hi = _mm512_shuffle_f32x4::<0xEE>(u[c], u[4 + c]);
                let w_lo = _mm512_shuffle_f32x4::<0x44>(u[8 + c], u[12 + c]);
                let w_hi = _mm512_shuffle_f32x4::<0xEE>(u[8 + c], u[12 + c]);
                let cols = [
                    _mm512_shuffle_f32x4::<0x88>(v_lo, w_lo),
                    _mm512_shuffle_f32x4::<0xDD>(v_lo, w_lo),
                    _mm512_shuffle_f32x4::<0x88>(v_hi, w_hi),
                    _mm512_shuffle_f32x4::<0xDD>(v_hi, w_hi),
                ];
                for (l, &col) in cols.iter().enumerate() {
                    _mm512_storeu_ps(dst.add((4 * l + c) * dst_stride), col);
                }
            }
        }
    }
    #[inline(always)]
    fn lt(self, a: __m512, b: __m512) -> __mmask16 {
        intrinsic!(_mm512_cmp_ps_mask::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m512, b: __m512) -> __mmask16 {
        intrinsic!(_mm512_cmp_ps_mask::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m512, b: __m512) -> __mmask16 {
        intrinsic!(_mm512_cmp_ps_mask::<_CMP_EQ_OQ>(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m512) -> __mmask16 {
        intrinsic!(_mm512_cmp_ps_mask::<_CMP_UNORD_Q>(a, a))
    }
    #[inline(always)]
    fn select(self, m: __mmask16, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_mask_blend_ps(m, b, a))
    }
    #[inline(always)]
    fn mask_and(self, m1: __mmask16, m2: __mmask16) -> __mmask16 {
        m1 & m2
    }
    #[inline(always)]
    fn mask_or(self, m1: __mmask16, m2: __mmask16) -> __mmask16 {
        m1 | m2
    }
    #[inline(always)]
    fn any(self, m: __mmask16) -> bool {
        m != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_and_epi32(
            _mm512_castps_si512(a),
            _mm512_castps_si512(b)
        )))
    }
    #[inline(always)]
    fn bit_or(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_or_epi32(
            _mm512_castps_si512(a),
            _mm512_castps_si512(b)
        )))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m512, b: __m512) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_xor_epi32(
            _mm512_castps_si512(a),
            _mm512_castps_si512(b)
        )))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m512) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_slli_epi32::<23>(
            _mm512_castps_si512(a)
        )))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m512) -> __m512 {
        intrinsic!(_mm512_castsi512_ps(_mm512_srli_epi32::<23>(
            _mm512_castps_si512(a)
        )))
    }
    const FAST_SCALEF: bool = true;
    #[inline(always)]
    fn scalef(self, y: __m512, n: __m512) -> __m512 {
        intrinsic!(_mm512_scalef_ps(y, n))
    }
    const FAST_LOOKUP: bool = true;
    #[inline(always)]
    fn lookup<const SHIFT: u32>(self, lo: __m512, hi: __m512, key: __m512) -> __m512 {
        // The permute reads the low 5 bits of each index: entry (bits >> SHIFT) mod 32.
        let idx = intrinsic!(_mm512_srli_epi32::<SHIFT>(_mm512_castps_si512(key)));
        intrinsic!(_mm512_permutex2var_ps(lo, idx, hi))
    }
    const FAST_FUNNEL: bool = true;
    const BUNDLES: bool = true;
    #[inline(always)]
    fn funnel(self, lo: __m512, hi: __m512, k: usize) -> __m512 {
        super::check_funnel(k, 16);
        // Index k + i picks lane k + i of lo (below 16) or lane k + i - 16 of hi.
        let lanes = intrinsic!(_mm512_setr_epi32(
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        ));
        let idx = intrinsic!(_mm512_add_epi32(lanes, _mm512_set1_epi32(k as i32)));
        intrinsic!(_mm512_permutex2var_ps(lo, idx, hi))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m512) -> f32 {
        let mut t = [0.0f32; 16];
        intrinsic!(_mm512_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m512) -> f32 {
        let mut t = [0.0f32; 16];
        intrinsic!(_mm512_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m512) -> f32 {
        let mut t = [0.0f32; 16];
        intrinsic!(_mm512_storeu_ps(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}

// ---------------------------------------------------------------- Avx512 f64
impl Simd<f64> for Avx512 {
    type V = __m512d;
    type M = __mmask8;
    const LANES: usize = 8;
    const REGISTERS: usize = 32;
    #[inline(always)]
    fn splat(self, x: f64) -> __m512d {
        intrinsic!(_mm512_set1_pd(x))
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_set1_epi64(bits as i64)))
    }
    #[inline(always)]
    unsafe fn load(self, p: *const f64) -> __m512d {
        intrinsic!(_mm512_loadu_pd(p))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f64, v: __m512d) {
        intrinsic!(_mm512_storeu_pd(p, v))
    }
    #[inline(always)]
    fn add(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_add_pd(a, b))
    }
    #[inline(always)]
    fn sub(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_sub_pd(a, b))
    }
    #[inline(always)]
    fn mul(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_mul_pd(a, b))
    }
    #[inline(always)]
    fn div(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_div_pd(a, b))
    }
    #[inline(always)]
    fn min(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_min_pd(a, b))
    }
    #[inline(always)]
    fn max(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_max_pd(a, b))
    }
    #[inline(always)]
    fn mul_add(self, a: __m512d, b: __m512d, c: __m512d) -> __m512d {
        intrinsic!(_mm512_fmadd_pd(a, b, c))
    }
    const FUSED_MUL_ADD: bool = true;
    #[inline(always)]
    fn sqrt(self, a: __m512d) -> __m512d {
        intrinsic!(_mm512_sqrt_pd(a))
    }
    #[inline(always)]
    unsafe fn transpose(
        self,
        src: *const f64,
        src_stride: usize,
        dst: *mut f64,
        dst_stride: usize,
    ) {
        // SAFETY: the token proves AVX-512F; the caller guarantees the 8 source rows of 8 and
        // the 8 destination rows of 8 (the method's contract).
        unsafe {
            let mut r = [_mm512_setzero_pd(); 8];
            for (i, v) in r.iter_mut().enumerate() {
                *v = _mm512_loadu_pd(src.add(i * src_stride));
            }
            // t[2i + c], 128-bit lane l: column 2l + c of rows 2i, 2i+1.
            let mut t = r;
            for i in 0..4 {
                t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
            }
            // Column 2l + c gathers lane l of t[c], t[2 + c], t[4 + c], t[6 + c].
            for c in 0..2 {
                let v_lo = _mm512_shuffle_f64x2::<0x44>(t[c], t[2 + c]);
                let v_hi = _mm512_shuffle_f64x2::<0xEE>(t[c], t[2 + c]);
                let w_lo = _mm512_shuffle_f64x2::<0x44>(t[4 + c], t[6 + c]);
                let w_hi = _mm512_shuffle_f64x2::<0xEE>(t[4 + c], t[6 + c]);
                let cols = [
                    _mm512_shuffle_f64x2::<0x88>(v_lo, w_lo),
                    _mm512_shuffle_f64x2::<0xDD>(v_lo, w_lo),
                    _mm512_shuffle_f64x2::<0x88>(v_hi, w_hi),
                    _mm512_shuffle_f64x2::<0xDD>(v_hi, w_hi),
                ];
                for (l, &col) in cols.iter().enumerate() {
                    _mm512_storeu_pd(dst.add((2 * l + c) * dst_stride), col);
                }
            }
        }
    }
    #[inline(always)]
    fn lt(self, a: __m512d, b: __m512d) -> __mmask8 {
        intrinsic!(_mm512_cmp_pd_mask::<_CMP_LT_OQ>(a, b))
    }
    #[inline(always)]
    fn le(self, a: __m512d, b: __m512d) -> __mmask8 {
        intrinsic!(_mm512_cmp_pd_mask::<_CMP_LE_OQ>(a, b))
    }
    #[inline(always)]
    fn eq(self, a: __m512d, b: __m512d) -> __mmask8 {
        intrinsic!(_mm512_cmp_pd_mask::<_CMP_EQ_OQ>(a, b))
    }
    #[inline(always)]
    fn is_nan(self, a: __m512d) -> __mmask8 {
        intrinsic!(_mm512_cmp_pd_mask::<_CMP_UNORD_Q>(a, a))
    }
    #[inline(always)]
    fn select(self, m: __mmask8, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_mask_blend_pd(m, b, a))
    }
    #[inline(always)]
    fn mask_and(self, m1: __mmask8, m2: __mmask8) -> __mmask8 {
        m1 & m2
    }
    #[inline(always)]
    fn mask_or(self, m1: __mmask8, m2: __mmask8) -> __mmask8 {
        m1 | m2
    }
    #[inline(always)]
    fn any(self, m: __mmask8) -> bool {
        m != 0
    }
    #[inline(always)]
    fn bit_and(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_and_epi64(
            _mm512_castpd_si512(a),
            _mm512_castpd_si512(b)
        )))
    }
    #[inline(always)]
    fn bit_or(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_or_epi64(
            _mm512_castpd_si512(a),
            _mm512_castpd_si512(b)
        )))
    }
    #[inline(always)]
    fn bit_xor(self, a: __m512d, b: __m512d) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_xor_epi64(
            _mm512_castpd_si512(a),
            _mm512_castpd_si512(b)
        )))
    }
    #[inline(always)]
    fn shl_mantissa(self, a: __m512d) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_slli_epi64::<52>(
            _mm512_castpd_si512(a)
        )))
    }
    #[inline(always)]
    fn shr_mantissa(self, a: __m512d) -> __m512d {
        intrinsic!(_mm512_castsi512_pd(_mm512_srli_epi64::<52>(
            _mm512_castpd_si512(a)
        )))
    }
    const FAST_SCALEF: bool = true;
    #[inline(always)]
    fn scalef(self, y: __m512d, n: __m512d) -> __m512d {
        intrinsic!(_mm512_scalef_pd(y, n))
    }
    const FAST_LOOKUP: bool = true;
    #[inline(always)]
    fn lookup<const SHIFT: u32>(self, lo: __m512d, hi: __m512d, key: __m512d) -> __m512d {
        // The permute reads the low 4 bits of each index: entry (bits >> SHIFT) mod 16.
        let idx = intrinsic!(_mm512_srli_epi64::<SHIFT>(_mm512_castpd_si512(key)));
        intrinsic!(_mm512_permutex2var_pd(lo, idx, hi))
    }
    const FAST_FUNNEL: bool = true;
    const BUNDLES: bool = true;
    #[inline(always)]
    fn funnel(self, lo: __m512d, hi: __m512d, k: usize) -> __m512d {
        super::check_funnel(k, 8);
        // Index k + i picks lane k + i of lo (below 8) or lane k + i - 8 of hi.
        let lanes = intrinsic!(_mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
        let idx = intrinsic!(_mm512_add_epi64(lanes, _mm512_set1_epi64(k as i64)));
        intrinsic!(_mm512_permutex2var_pd(lo, idx, hi))
    }
    #[inline(always)]
    fn reduce_add(self, a: __m512d) -> f64 {
        let mut t = [0.0f64; 8];
        intrinsic!(_mm512_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| x + y)
    }
    #[inline(always)]
    fn reduce_max(self, a: __m512d) -> f64 {
        let mut t = [0.0f64; 8];
        intrinsic!(_mm512_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x > y { x } else { y })
    }
    #[inline(always)]
    fn reduce_min(self, a: __m512d) -> f64 {
        let mut t = [0.0f64; 8];
        intrinsic!(_mm512_storeu_pd(t.as_mut_ptr(), a));
        tree(t, |x, y| if x < y { x } else { y })
    }
}
