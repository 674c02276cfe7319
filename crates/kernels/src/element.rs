//! The element trait: the two floating-point types every kernel supports.

use crate::isa::Isa;
use crate::simd::{self, SimdOp};
use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// Seals [`Element`] and holds the code compiled once, here, for each element type (GEMM's
/// driver, behind the plain and the batched entry points).
///
/// A generic function is compiled by every crate that calls it with a concrete type, and with
/// optimizations on (the test profile too) crates do not share those copies: before this, each
/// test binary, example and dependent crate that multiplied matrices compiled its own GEMM, its
/// whole driver, on every SIMD path, for `f32` and `f64` (a one-line example calling `gemm`
/// took 25 s to build in the test profile; the tests of `cargo test --workspace` held about
/// forty such copies). A method of a trait implemented for a concrete type is compiled where the
/// impl is, once: the public generic functions are thin and call these.
mod sealed {
    use crate::KernelError;
    use crate::gemm::{Epilogue, MatMut, MatRef, Strided};

    pub trait Sealed: Sized {
        /// `C = act(alpha op(A) op(B) + beta C + bias)` on the active path, shapes checked:
        /// [`crate::gemm::try_gemm_with`]. (A generic caller outside this crate can reach this
        /// method, so it must stay as safe as the public function.)
        fn gemm(
            alpha: Self,
            a: MatRef<'_, Self>,
            b: MatRef<'_, Self>,
            beta: Self,
            c: MatMut<'_, Self>,
            epilogue: Epilogue<'_, Self>,
        ) -> Result<(), KernelError>;

        /// The batched product, all checks included: [`crate::gemm::try_gemm_batched`].
        fn gemm_batched(
            batch: usize,
            alpha: Self,
            a: Strided<MatRef<'_, Self>>,
            b: Strided<MatRef<'_, Self>>,
            beta: Self,
            c: Strided<MatMut<'_, Self>>,
        ) -> Result<(), KernelError>;
    }
}

/// A floating-point element type: `f32` or `f64` (sealed).
///
/// It carries the constants and scalar fallbacks the kernels need, and the one entry point
/// ([`Element::dispatch`]) through which every kernel reaches the SIMD code for an [`Isa`].
pub trait Element:
    sealed::Sealed
    + Copy
    + Send
    + Sync
    + Default
    + Debug
    + Display
    + PartialOrd
    + PartialEq
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + 'static
{
    /// `0.0`.
    const ZERO: Self;
    /// `1.0`.
    const ONE: Self;
    /// Machine epsilon: the distance from 1.0 to the next larger value.
    const EPSILON: Self;
    /// The smallest positive normal value.
    const MIN_POSITIVE: Self;
    /// The largest finite value.
    const MAX: Self;
    /// `+Inf`.
    const INFINITY: Self;
    /// `-Inf`.
    const NEG_INFINITY: Self;
    /// A quiet NaN.
    const NAN: Self;
    /// Number of explicit mantissa bits (23 or 52).
    const MANTISSA_BITS: u32;
    /// Exponent bias (127 or 1023).
    const EXPONENT_BIAS: i32;
    /// `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` exactly.
    fn to_f64(self) -> f64;
    /// The bit pattern, zero-extended to 64 bits.
    fn to_bits_u64(self) -> u64;
    /// The value with the given bit pattern (the low 32 bits for `f32`).
    fn from_bits_u64(bits: u64) -> Self;
    /// Square root, correctly rounded.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `true` for NaN.
    fn is_nan(self) -> bool;
    /// `true` for neither NaN nor infinite.
    fn is_finite(self) -> bool;

    /// Runs `op` with the SIMD token of `isa`.
    ///
    /// # Panics
    /// If `isa` is not supported by this CPU (a broken invariant: every `Isa` handed out by
    /// [`crate::isa`] has been checked).
    fn dispatch<O: SimdOp<Self>>(isa: Isa, op: O) -> O::Output;

    /// `matrixmultiply`'s GEMM for this type: the reference and fallback.
    ///
    /// # Safety
    /// As `matrixmultiply::sgemm`: the pointers with their strides must address valid
    /// `m x k`, `k x n` and `m x n` matrices, `c` writable and not aliasing `a` or `b`.
    #[allow(clippy::too_many_arguments)]
    unsafe fn reference_gemm(
        m: usize,
        k: usize,
        n: usize,
        alpha: Self,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        beta: Self,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

/// Whether `T` is `f64` (a constant: the kernels that choose a schedule per type test it).
pub(crate) const fn is_f64<T>() -> bool {
    size_of::<T>() == 8
}

macro_rules! impl_element {
    ($t:ty, $bits:ty, $mant:expr, $bias:expr, $mm:path) => {
        impl sealed::Sealed for $t {
            fn gemm(
                alpha: Self,
                a: crate::gemm::MatRef<'_, Self>,
                b: crate::gemm::MatRef<'_, Self>,
                beta: Self,
                c: crate::gemm::MatMut<'_, Self>,
                epilogue: crate::gemm::Epilogue<'_, Self>,
            ) -> Result<(), crate::KernelError> {
                crate::gemm::checked_gemm(alpha, a, b, beta, c, epilogue)
            }
            fn gemm_batched(
                batch: usize,
                alpha: Self,
                a: crate::gemm::Strided<crate::gemm::MatRef<'_, Self>>,
                b: crate::gemm::Strided<crate::gemm::MatRef<'_, Self>>,
                beta: Self,
                c: crate::gemm::Strided<crate::gemm::MatMut<'_, Self>>,
            ) -> Result<(), crate::KernelError> {
                crate::gemm::checked_gemm_batched(batch, alpha, a, b, beta, c)
            }
        }

        impl Element for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = <$t>::EPSILON;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;
            const MAX: Self = <$t>::MAX;
            const INFINITY: Self = <$t>::INFINITY;
            const NEG_INFINITY: Self = <$t>::NEG_INFINITY;
            const NAN: Self = <$t>::NAN;
            const MANTISSA_BITS: u32 = $mant;
            const EXPONENT_BIAS: i32 = $bias;
            const NAME: &'static str = stringify!($t);

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn to_bits_u64(self) -> u64 {
                self.to_bits() as u64
            }
            #[inline(always)]
            fn from_bits_u64(bits: u64) -> Self {
                <$t>::from_bits(bits as $bits)
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
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline(always)]
            fn dispatch<O: SimdOp<Self>>(isa: Isa, op: O) -> O::Output {
                simd::dispatch(isa, op)
            }
            unsafe fn reference_gemm(
                m: usize,
                k: usize,
                n: usize,
                alpha: Self,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                beta: Self,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded contract of this function, which is matrixmultiply's.
                unsafe { $mm(m, k, n, alpha, a, rsa, csa, b, rsb, csb, beta, c, rsc, csc) }
            }
        }
    };
}

impl_element!(f32, u32, 23, 127, matrixmultiply::sgemm);
impl_element!(f64, u64, 52, 1023, matrixmultiply::dgemm);
