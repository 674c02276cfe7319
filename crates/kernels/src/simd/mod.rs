//! The SIMD abstraction: one small trait, one implementation per instruction set, and the single
//! [`dispatch`] function that enters a target-feature context.
//!
//! A kernel is written once, generically over [`Simd<T>`], as a [`SimdOp`]. [`dispatch`] calls
//! its `run` inside a function compiled with the path's `#[target_feature]`s; because every
//! method here and every kernel body is `#[inline(always)]`, the whole kernel is compiled for
//! that instruction set. A portable binary (no `-C target-cpu`) thus still reaches AVX-512 code.
//!
//! Tokens ([`Scalar`], and on x86-64 `Sse2`, `Avx2`, `Avx512`) are zero-sized proofs that the
//! CPU has the features: the x86 ones can only be made by a constructor that checks.

use crate::element::Element;
use crate::isa::Isa;

mod bundle;
#[cfg(target_arch = "x86_64")]
mod x86;
pub(crate) use bundle::bundled_len;
pub use bundle::{BUNDLE, BUNDLE_MAX_BYTES, Bundle, bundles_pay};
#[cfg(target_arch = "x86_64")]
pub use x86::{Avx2, Avx512, Sse2};

/// The widest vector, in elements (AVX-512 `f32`). Tail buffers use it.
pub const MAX_LANES: usize = 16;

/// The cache level a [`prefetch`] brings a line into.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cache {
    /// `prefetcht0`: into L1 (and L2).
    L1,
    /// `prefetcht1`: into L2 only.
    L2,
}

/// A hint to bring the cache line holding `p` into `level` (nothing off x86-64 or under
/// Miri). Never faults, whatever `p` is.
#[inline(always)]
pub(crate) fn prefetch<T>(p: *const T, level: Cache) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: a prefetch is only a hint: it reads nothing architecturally and cannot fault, for
    // any address; SSE (which `prefetcht0`/`prefetcht1` belong to) is part of the x86-64
    // baseline.
    unsafe {
        use core::arch::x86_64::{_MM_HINT_T0, _MM_HINT_T1, _mm_prefetch};
        match level {
            Cache::L1 => _mm_prefetch::<_MM_HINT_T0>(p.cast::<i8>()),
            Cache::L2 => _mm_prefetch::<_MM_HINT_T1>(p.cast::<i8>()),
        }
    }
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = (p, level);
}

/// Vector operations on `LANES` elements of `T`, for one instruction set.
///
/// Semantics every implementation keeps, so that one algorithm serves all paths:
/// * `min`/`max` follow x86: when either operand is NaN, the **second** operand is returned.
///   Put the value that should propagate NaN second.
/// * comparisons are ordered (false when either operand is NaN).
/// * `mul_add(a, b, c) = a*b + c`, fused where the ISA has FMA (AVX2, AVX-512), rounded twice
///   otherwise (scalar, SSE2). Algorithms must be accurate either way.
/// * `load`/`store` are unaligned.
pub trait Simd<T: Element>: Copy + Send + Sync + 'static {
    /// A vector of `LANES` elements.
    type V: Copy;
    /// A lane mask from a comparison.
    type M: Copy;
    /// Elements per vector.
    const LANES: usize;
    /// Architectural vector registers (16, or 32 with AVX-512): sizes GEMM's register tile.
    const REGISTERS: usize = 16;
    /// Lanes of one machine vector: `LANES` on every path, the path's own for a [`Bundle`] of
    /// several. The period of [`Simd::lookup`]'s tables and of [`Simd::splat_part`].
    const PART_LANES: usize = Self::LANES;

    /// All lanes `x`.
    fn splat(self, x: T) -> Self::V;
    /// All lanes hold the bit pattern `bits` (low 32 bits for `f32`).
    fn splat_bits(self, bits: u64) -> Self::V;
    /// `part` (at most [`Simd::PART_LANES`] elements, the lanes after it 0) in every machine
    /// vector of `V`: a table for [`Simd::lookup`].
    #[inline(always)]
    fn splat_part(self, part: &[T]) -> Self::V {
        self.load_partial(part, T::ZERO)
    }
    /// Loads `LANES` elements.
    ///
    /// # Safety
    /// `p..p+LANES` must be readable.
    unsafe fn load(self, p: *const T) -> Self::V;
    /// Stores `LANES` elements.
    ///
    /// # Safety
    /// `p..p+LANES` must be writable.
    unsafe fn store(self, p: *mut T, v: Self::V);

    /// `a + b`.
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a - b`.
    fn sub(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b`.
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a / b`, correctly rounded.
    fn div(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a * b + c` (see the trait docs on fusion).
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Whether [`Simd::mul_add`] rounds once (AVX2, AVX-512): `mul_add(a, b, -(a * b))` is then
    /// the exact error of the product.
    const FUSED_MUL_ADD: bool = false;
    /// Square root, correctly rounded.
    fn sqrt(self, a: Self::V) -> Self::V;
    /// `min(a, b)`; `b` if either is NaN.
    fn min(self, a: Self::V, b: Self::V) -> Self::V;
    /// `max(a, b)`; `b` if either is NaN.
    fn max(self, a: Self::V, b: Self::V) -> Self::V;

    /// `a < b` per lane.
    fn lt(self, a: Self::V, b: Self::V) -> Self::M;
    /// `a <= b` per lane.
    fn le(self, a: Self::V, b: Self::V) -> Self::M;
    /// `a == b` per lane.
    fn eq(self, a: Self::V, b: Self::V) -> Self::M;
    /// `a` is NaN per lane.
    fn is_nan(self, a: Self::V) -> Self::M;
    /// Lane-wise `m ? a : b`.
    fn select(self, m: Self::M, a: Self::V, b: Self::V) -> Self::V;
    /// Lane-wise `m1 && m2`.
    fn mask_and(self, m1: Self::M, m2: Self::M) -> Self::M;
    /// Lane-wise `m1 || m2`.
    fn mask_or(self, m1: Self::M, m2: Self::M) -> Self::M;
    /// Whether any lane is set.
    fn any(self, m: Self::M) -> bool;

    /// Bitwise and of the lanes' bit patterns.
    fn bit_and(self, a: Self::V, b: Self::V) -> Self::V;
    /// Bitwise or of the lanes' bit patterns.
    fn bit_or(self, a: Self::V, b: Self::V) -> Self::V;
    /// Bitwise xor of the lanes' bit patterns.
    fn bit_xor(self, a: Self::V, b: Self::V) -> Self::V;
    /// Each lane's bit pattern shifted left by `T::MANTISSA_BITS` (zeros in).
    fn shl_mantissa(self, a: Self::V) -> Self::V;
    /// Each lane's bit pattern shifted right (logical) by `T::MANTISSA_BITS`.
    fn shr_mantissa(self, a: Self::V) -> Self::V;

    /// Whether [`Simd::scalef`] is one instruction on this path (AVX-512 `vscalef`).
    const FAST_SCALEF: bool = false;

    /// `y * 2^floor(n)` per lane, rounded once (into the subnormals, to 0 or to infinity as the
    /// exact product would round); NaN in either gives NaN. AVX-512 overrides it with
    /// `vscalef`. The default goes one lane at a time through `f64`, valid for `|n| <= 2046`
    /// (both of its power-of-two factors stay finite): for `f32` the product is exact in `f64`
    /// and rounds once; for `f64` a result in the subnormal range may round twice (at most 1
    /// ULP off; no `f64` kernel takes this path outside the tests of the `scalef` form).
    #[inline(always)]
    fn scalef(self, y: Self::V, n: Self::V) -> Self::V {
        let mut ys = [T::ZERO; MAX_LANES];
        let mut ns = [T::ZERO; MAX_LANES];
        self.store_partial(&mut ys[..Self::LANES], y);
        self.store_partial(&mut ns[..Self::LANES], n);
        for (yv, nv) in ys.iter_mut().zip(&ns).take(Self::LANES) {
            let n = nv.to_f64().floor();
            // Two scalings by normal powers of 2 (exact unless the result leaves the normal
            // range), then the conversion to `T` (one rounding for `f32`).
            let n1 = (n * 0.5).floor();
            let y2 = yv.to_f64() * 2f64.powi(n1 as i32) * 2f64.powi((n - n1) as i32);
            *yv = if n.is_nan() { T::NAN } else { T::from_f64(y2) };
        }
        self.load_partial(&ys[..Self::LANES], T::ZERO)
    }

    /// Whether the elementwise kernels run this path's long lane functions in [`Bundle`]s of
    /// [`BUNDLE`] vectors (AVX-512). A constant, tested where the bundled loop is written, so a
    /// path without it never compiles that loop: bundles on every path nearly doubled the
    /// time CI spends compiling the tests (10.6-11.4 -> 19.7 minutes), and AVX2 gained only
    /// 5-10% from them (see [`BUNDLE`]).
    const BUNDLES: bool = false;

    /// Whether [`Simd::funnel`] is one instruction on this path (AVX-512's two-source permute),
    /// cheap enough for a loop to build every vector from two aligned loads.
    ///
    /// Not AVX2: its one-instruction funnel (`vperm2f128`) covers only the 16-byte offset, and
    /// with it (AVX2 forced on the reference machine, 16 bytes off a line, interleaved medians)
    /// `dot` gained in L1 and L2 (4096 `f32` 22.4 -> 29.5 Gelem/s, 65536 22.1 -> 25.6) but `sum`
    /// of 2^24 `f32` from DRAM lost 17% (11.3-11.5 -> 9.3-9.6 Gelem/s).
    const FAST_FUNNEL: bool = false;

    /// A funnel shift by whole lanes: lanes `k..LANES` of `lo`, then lanes `0..k` of `hi`
    /// (`k = 0` gives `lo`, `k = LANES` gives `hi`). Two aligned vectors of a slice give the
    /// unaligned one between them, bit for bit, without a load that straddles cache lines (see
    /// `reduce::fold`). AVX-512 overrides the default, which goes through memory.
    ///
    /// # Panics
    /// If `k > LANES` (a broken invariant of the caller).
    #[inline(always)]
    fn funnel(self, lo: Self::V, hi: Self::V, k: usize) -> Self::V {
        check_funnel(k, Self::LANES);
        let mut buf = [T::ZERO; 2 * MAX_LANES];
        // SAFETY: `buf` holds 2 MAX_LANES >= 2 LANES elements, and `k + LANES <= 2 LANES`.
        unsafe {
            self.store(buf.as_mut_ptr(), lo);
            self.store(buf.as_mut_ptr().add(Self::LANES), hi);
            self.load(buf.as_ptr().add(k))
        }
    }

    /// Whether [`Simd::lookup`] is one instruction on this path (AVX-512: a two-source
    /// permute), cheap enough to fetch a polynomial's coefficients per lane.
    const FAST_LOOKUP: bool = false;

    /// A table lookup per lane: lane `i` gets entry `(bits(key_i) >> SHIFT) mod 2 LANES` of the
    /// table whose entries `0..LANES` are the lanes of `lo` and `LANES..2 LANES` those of `hi`
    /// (with `LANES` here [`Simd::PART_LANES`]: a [`Bundle`] looks each part up in the same
    /// part of `lo` and `hi`).
    /// With `SHIFT = MANTISSA_BITS - 2` a positive key's entry follows its binade and the top two
    /// bits of its mantissa (quarter binades: the `f32` pieces of `math`, 32 entries), with
    /// `MANTISSA_BITS - 1` its binade and top bit (half binades: the `f64` pieces, 16 entries).
    /// AVX-512 overrides the default (which goes through memory).
    #[inline(always)]
    fn lookup<const SHIFT: u32>(self, lo: Self::V, hi: Self::V, key: Self::V) -> Self::V {
        let mut table = [T::ZERO; 2 * MAX_LANES];
        let mut keys = [T::ZERO; MAX_LANES];
        let l = Self::LANES;
        self.store_partial(&mut table[..l], lo);
        self.store_partial(&mut table[l..2 * l], hi);
        self.store_partial(&mut keys[..l], key);
        for v in keys.iter_mut().take(l) {
            *v = table[(v.to_bits_u64() >> SHIFT) as usize % (2 * l)];
        }
        self.load_partial(&keys[..l], T::ZERO)
    }

    /// Sum of the lanes (fixed order: deterministic for a given ISA).
    fn reduce_add(self, a: Self::V) -> T;
    /// Maximum of the lanes (NaN-free input assumed).
    fn reduce_max(self, a: Self::V) -> T;
    /// Minimum of the lanes (NaN-free input assumed).
    fn reduce_min(self, a: Self::V) -> T;

    /// Transposes a `LANES x LANES` block: element `k` of source row `i`
    /// (`src + i*src_stride + k`) is written to `dst + k*dst_stride + i`. GEMM's packing of a
    /// row-major A (or a transposed B) into panels. The default moves one element at a time;
    /// AVX2 and AVX-512 override it with in-register shuffles.
    ///
    /// # Safety
    /// The `LANES` rows of `LANES` elements at `src + i*src_stride` must be readable, the
    /// `LANES` rows of `LANES` at `dst + k*dst_stride` writable, and the two must not overlap.
    #[inline(always)]
    unsafe fn transpose(self, src: *const T, src_stride: usize, dst: *mut T, dst_stride: usize) {
        for i in 0..Self::LANES {
            for k in 0..Self::LANES {
                // SAFETY: i, k < LANES: inside the blocks the caller guarantees.
                unsafe { *dst.add(k * dst_stride + i) = *src.add(i * src_stride + k) };
            }
        }
    }

    /// Loads `src.len() <= LANES` elements, the other lanes set to `fill`. A whole vector is
    /// one load; fewer elements go through a buffer (a vector load right after the buffer's
    /// element stores waits for them: no store forwarding).
    #[inline(always)]
    fn load_partial(self, src: &[T], fill: T) -> Self::V {
        debug_assert!(src.len() <= Self::LANES);
        if src.len() == Self::LANES {
            // SAFETY: `src` holds LANES elements.
            return unsafe { self.load(src.as_ptr()) };
        }
        let mut buf = [fill; MAX_LANES];
        buf[..src.len()].copy_from_slice(src);
        // SAFETY: `buf` holds MAX_LANES >= LANES elements.
        unsafe { self.load(buf.as_ptr()) }
    }

    /// Stores the first `dst.len() <= LANES` lanes of `v` (a whole vector: one store).
    #[inline(always)]
    fn store_partial(self, dst: &mut [T], v: Self::V) {
        debug_assert!(dst.len() <= Self::LANES);
        if dst.len() == Self::LANES {
            // SAFETY: `dst` holds LANES elements.
            return unsafe { self.store(dst.as_mut_ptr(), v) };
        }
        let mut buf = [T::ZERO; MAX_LANES];
        // SAFETY: `buf` holds MAX_LANES >= LANES elements.
        unsafe { self.store(buf.as_mut_ptr(), v) };
        let n = dst.len();
        dst.copy_from_slice(&buf[..n]);
    }
}

/// Panics unless `k <= lanes`: the bound of every [`Simd::funnel`] (a broken invariant of its
/// caller).
#[inline(always)]
#[track_caller]
pub(crate) fn check_funnel(k: usize, lanes: usize) {
    assert!(k <= lanes, "nabla-kernels: funnel by {k} lanes of {lanes}");
}

/// A kernel body, generic over the SIMD path: the unit [`dispatch`] runs.
///
/// Implementations mark `run` `#[inline(always)]` so it is compiled for each path.
pub trait SimdOp<T: Element> {
    /// What the kernel returns.
    type Output;
    /// Runs the kernel with the token `s`.
    fn run<S: Simd<T>>(self, s: S) -> Self::Output;
}

/// The portable path: one element per "vector", plain Rust (runs under Miri).
#[derive(Clone, Copy, Debug, Default)]
pub struct Scalar;

impl<T: Element> Simd<T> for Scalar {
    type V = T;
    type M = bool;
    const LANES: usize = 1;

    #[inline(always)]
    fn splat(self, x: T) -> T {
        x
    }
    #[inline(always)]
    fn splat_bits(self, bits: u64) -> T {
        T::from_bits_u64(bits)
    }
    #[inline(always)]
    unsafe fn load(self, p: *const T) -> T {
        // SAFETY: the caller guarantees `p` is readable.
        unsafe { p.read_unaligned() }
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut T, v: T) {
        // SAFETY: the caller guarantees `p` is writable.
        unsafe { p.write_unaligned(v) }
    }
    #[inline(always)]
    fn add(self, a: T, b: T) -> T {
        a + b
    }
    #[inline(always)]
    fn sub(self, a: T, b: T) -> T {
        a - b
    }
    #[inline(always)]
    fn mul(self, a: T, b: T) -> T {
        a * b
    }
    #[inline(always)]
    fn div(self, a: T, b: T) -> T {
        a / b
    }
    #[inline(always)]
    fn mul_add(self, a: T, b: T, c: T) -> T {
        a * b + c
    }
    #[inline(always)]
    fn sqrt(self, a: T) -> T {
        a.sqrt()
    }
    #[inline(always)]
    fn min(self, a: T, b: T) -> T {
        if a < b { a } else { b }
    }
    #[inline(always)]
    fn max(self, a: T, b: T) -> T {
        if a > b { a } else { b }
    }
    #[inline(always)]
    fn lt(self, a: T, b: T) -> bool {
        a < b
    }
    #[inline(always)]
    fn le(self, a: T, b: T) -> bool {
        a <= b
    }
    #[inline(always)]
    fn eq(self, a: T, b: T) -> bool {
        a == b
    }
    #[inline(always)]
    fn is_nan(self, a: T) -> bool {
        a.is_nan()
    }
    #[inline(always)]
    fn select(self, m: bool, a: T, b: T) -> T {
        if m { a } else { b }
    }
    #[inline(always)]
    fn mask_and(self, m1: bool, m2: bool) -> bool {
        m1 && m2
    }
    #[inline(always)]
    fn mask_or(self, m1: bool, m2: bool) -> bool {
        m1 || m2
    }
    #[inline(always)]
    fn any(self, m: bool) -> bool {
        m
    }
    #[inline(always)]
    fn bit_and(self, a: T, b: T) -> T {
        T::from_bits_u64(a.to_bits_u64() & b.to_bits_u64())
    }
    #[inline(always)]
    fn bit_or(self, a: T, b: T) -> T {
        T::from_bits_u64(a.to_bits_u64() | b.to_bits_u64())
    }
    #[inline(always)]
    fn bit_xor(self, a: T, b: T) -> T {
        T::from_bits_u64(a.to_bits_u64() ^ b.to_bits_u64())
    }
    #[inline(always)]
    fn shl_mantissa(self, a: T) -> T {
        // `from_bits_u64` keeps the low 32 bits for f32, as a 32-bit shift would.
        T::from_bits_u64(a.to_bits_u64() << T::MANTISSA_BITS)
    }
    #[inline(always)]
    fn shr_mantissa(self, a: T) -> T {
        T::from_bits_u64(a.to_bits_u64() >> T::MANTISSA_BITS)
    }
    #[inline(always)]
    fn reduce_add(self, a: T) -> T {
        a
    }
    #[inline(always)]
    fn reduce_max(self, a: T) -> T {
        a
    }
    #[inline(always)]
    fn reduce_min(self, a: T) -> T {
        a
    }
}

/// Runs `op` on the path `isa`, inside a function compiled for that path's target features.
///
/// # Panics
/// If the CPU lacks `isa` (a broken invariant: [`crate::isa`] only hands out supported paths).
#[inline]
pub fn dispatch<T, O>(isa: Isa, op: O) -> O::Output
where
    T: Element,
    O: SimdOp<T>,
    Scalar: Simd<T>,
    X86Tokens: X86Simd<T>,
{
    <X86Tokens as X86Simd<T>>::dispatch(isa, op)
}

/// Bound helper: on x86-64, "the x86 tokens implement `Simd<T>`"; elsewhere always true.
#[doc(hidden)]
pub struct X86Tokens;

/// See [`X86Tokens`].
#[doc(hidden)]
pub trait X86Simd<T: Element> {
    /// Dispatches on x86-64 paths, falling back to scalar.
    fn dispatch<O: SimdOp<T>>(isa: Isa, op: O) -> O::Output;
}

#[cfg(target_arch = "x86_64")]
impl<T: Element> X86Simd<T> for X86Tokens
where
    Sse2: Simd<T>,
    Avx2: Simd<T>,
    Avx512: Simd<T>,
{
    #[inline]
    fn dispatch<O: SimdOp<T>>(isa: Isa, op: O) -> O::Output {
        x86::dispatch(isa, op)
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl<T: Element> X86Simd<T> for X86Tokens {
    #[inline]
    fn dispatch<O: SimdOp<T>>(isa: Isa, op: O) -> O::Output {
        assert!(
            isa.is_supported(),
            "nabla-kernels: {isa} path used but unsupported"
        );
        op.run(Scalar)
    }
}
