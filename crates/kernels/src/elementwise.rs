//! Elementwise arithmetic on slices, `f32` and `f64`: `z = x op y` and `x op= y` for
//! `+ - * /`, the same with a scalar right operand, `axpy`, `scale`, `fill`, `copy`, and adding a
//! bias row to every row of a row-major matrix.
//!
//! Every arithmetic kernel here is one instance of a single generic driver (`map_into`): an
//! operation is a tiny [`Simd`] expression, the driver supplies the loads, stores, unrolling,
//! tail handling, ISA dispatch and (for large inputs) rayon chunking.
//!
//! **Accuracy**: each result element is the correctly rounded IEEE result of its operation
//! (`+ - * /` on every path), except [`axpy`], whose `alpha * x + y` is fused (one rounding) on
//! paths with FMA (AVX2, AVX-512) and rounded twice on the others. NaN and infinities follow
//! IEEE arithmetic.
//!
//! **Threads**: inputs of at least [`PAR_THRESHOLD`] elements are split into fixed chunks of
//! [`CHUNK`] elements on rayon's pool (under [`Parallelism::Auto`](crate::parallel::Parallelism));
//! since every element is computed independently, results never depend on the thread count.
//!
//! **Errors**: slices whose lengths disagree make the plain forms panic with a message naming
//! the operation and both lengths; the `try_` forms return
//! [`crate::KernelError::LengthMismatch`] instead.

use crate::element::Element;
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::parallel;
use crate::reduce::{check_len, check_matrix, rows_per_task};
use crate::simd::{BUNDLE, Bundle, Simd, SimdOp};
use crate::sweep::{self, Starts};
use rayon::prelude::*;

/// Under [`Parallelism::Auto`](crate::parallel::Parallelism::Auto), elementwise kernels use
/// rayon from this many elements on. These kernels are bound by memory bandwidth: on the 2-core
/// host this was measured on, a fan-out to the pool costs 10-15 microseconds and one core
/// streams about 2^20 elements in that time, so splitting earlier only loses.
pub const PAR_THRESHOLD: usize = 1 << 20;

/// Elements per rayon task when an elementwise kernel is split.
pub const CHUNK: usize = 1 << 16;

// ============================================================================ the driver

/// An elementwise operation: `z = apply(a, b)` where `a` is the first input and `b` the second
/// (ignored, and not loaded, when `ARITY == 1`).
pub(crate) trait Ew<T: Element>: Copy + Send + Sync {
    /// Number of input slices read: 1 or 2.
    const ARITY: usize;
    /// The operation on one vector (`#[inline(always)]`).
    fn apply<S: Simd<T>>(self, s: S, a: S::V, b: S::V) -> S::V;
}

/// Where an input of the driver comes from.
#[derive(Clone, Copy)]
pub(crate) enum Src<'a, T> {
    /// The output slice itself (in-place operation).
    Out,
    /// A separate slice of the same length as the output.
    In(&'a [T]),
}

impl<'a, T> Src<'a, T> {
    /// The part matching `off..off + len` of the output.
    fn part(self, off: usize, len: usize) -> Src<'a, T> {
        match self {
            Src::Out => Src::Out,
            Src::In(v) => Src::In(&v[off..off + len]),
        }
    }
}

/// `z[i] = op(x[i], y[i])` for every `i` of `z`, on one thread: the one loop behind every kernel
/// of this module. With `wide` (on paths with [`Simd::BUNDLES`]), groups of [`BUNDLE`] vectors
/// run as one [`Bundle`] (the same bits; worth it for long operations on cached data, see
/// [`bundles_pay`](crate::simd::bundles_pay)); the arithmetic of this module is one operation
/// per element and does not bundle.
///
/// # Panics
/// If an `In` source is not as long as `z`.
#[inline(always)]
pub(crate) fn map_into<T: Element, S: Simd<T>, O: Ew<T>>(
    s: S,
    op: O,
    z: &mut [T],
    x: Src<'_, T>,
    y: Src<'_, T>,
    wide: bool,
) {
    let n = z.len();
    let zp = z.as_mut_ptr();
    // In-place sources read through a pointer derived from the same `&mut` as the stores.
    let ptr = |src: Src<'_, T>| match src {
        Src::Out => zp as *const T,
        Src::In(v) => {
            assert_eq!(v.len(), n, "nabla-kernels: elementwise input length");
            v.as_ptr()
        }
    };
    let xp = ptr(x);
    let yp = if O::ARITY == 2 { ptr(y) } else { xp };
    let l = S::LANES;
    let bundle = Bundle::<S, BUNDLE>(s);
    // Groups of BUNDLE vectors, each one bundle with `wide` on a path with `Simd::BUNDLES` (see
    // `Bundle`: the same bits, more of them in flight), else BUNDLE single vectors; then single
    // vectors, then the partial tail. The groups run descending when the output lies just
    // ahead of an input (see `crate::sweep`).
    let groups = n / (BUNDLE * l);
    let down = sweep::descending(zp, &[xp, yp]);
    // SAFETY (all `map_vec` calls): `i + LANES <= n` (a bundle's `LANES`: `BUNDLE * l`); `xp`,
    // `yp` and `zp` address `n` elements each (`z`, or inputs checked above). An input either
    // is `z` itself, read at `i` before the store at `i` and never after it, or is a distinct
    // shared slice, which cannot overlap the `&mut` slice `z`.
    if S::BUNDLES && wide {
        for g in Starts::new(groups, BUNDLE * l, down) {
            // SAFETY: see above.
            unsafe { map_vec(bundle, op, xp, yp, zp, g) };
        }
    } else {
        for g in Starts::new(groups, BUNDLE * l, down) {
            for k in 0..BUNDLE {
                let k = if down { BUNDLE - 1 - k } else { k };
                // SAFETY: see above.
                unsafe { map_vec(s, op, xp, yp, zp, g + k * l) };
            }
        }
    }
    let mut i = groups * BUNDLE * l;
    while i + l <= n {
        // SAFETY: see above.
        unsafe { map_vec(s, op, xp, yp, zp, i) };
        i += l;
    }
    if i < n {
        let m = n - i;
        let mut buf = [T::ONE; crate::simd::MAX_LANES];
        let mut ybuf = [T::ONE; crate::simd::MAX_LANES];
        // SAFETY: `i + m == n`: the sources hold `m` readable elements from `i`, the buffers
        // `MAX_LANES >= LANES > m`; `z[i..n]` is written only after both reads.
        unsafe {
            core::ptr::copy_nonoverlapping(xp.add(i), buf.as_mut_ptr(), m);
            if O::ARITY == 2 {
                core::ptr::copy_nonoverlapping(yp.add(i), ybuf.as_mut_ptr(), m);
            }
            let a = s.load(buf.as_ptr());
            let b = if O::ARITY == 2 {
                s.load(ybuf.as_ptr())
            } else {
                a
            };
            s.store(buf.as_mut_ptr(), op.apply(s, a, b));
            core::ptr::copy_nonoverlapping(buf.as_ptr(), zp.add(i), m);
        }
    }
}

/// `z[i..i + LANES] = op(x[i..], y[i..])`: one vector of [`map_into`] (a function, not a
/// closure, so that it is always inlined into the target-feature context).
///
/// # Safety
/// `xp`, `yp` (when `O::ARITY == 2`) readable and `zp` writable at `i..i + LANES`; an input
/// pointer equals `zp` or does not overlap it.
#[inline(always)]
unsafe fn map_vec<T: Element, S: Simd<T>, O: Ew<T>>(
    s: S,
    op: O,
    xp: *const T,
    yp: *const T,
    zp: *mut T,
    i: usize,
) {
    // SAFETY: the caller's contract.
    unsafe {
        let a = s.load(xp.add(i));
        let b = if O::ARITY == 2 { s.load(yp.add(i)) } else { a };
        s.store(zp.add(i), op.apply(s, a, b));
    }
}

/// [`map_into`] as a dispatchable op.
struct MapOp<'a, T, O> {
    op: O,
    z: &'a mut [T],
    x: Src<'a, T>,
    y: Src<'a, T>,
}

impl<T: Element, O: Ew<T>> SimdOp<T> for MapOp<'_, T, O> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        map_into(s, self.op, self.z, self.x, self.y, false);
    }
}

/// Runs `z = op(x, y)` on the active path, in [`CHUNK`]s on rayon's pool for large inputs.
/// Lengths must have been checked.
fn run_map<T: Element, O: Ew<T>>(op: O, z: &mut [T], x: Src<'_, T>, y: Src<'_, T>) {
    let isa = isa::active();
    let n = z.len();
    if n > CHUNK && parallel::should_split(n, PAR_THRESHOLD) {
        z.par_chunks_mut(CHUNK).enumerate().for_each(|(c, zc)| {
            let len = zc.len();
            T::dispatch(
                isa,
                MapOp {
                    op,
                    z: zc,
                    x: x.part(c * CHUNK, len),
                    y: y.part(c * CHUNK, len),
                },
            )
        });
    } else {
        T::dispatch(isa, MapOp { op, z, x, y });
    }
}

// ============================================================================ operations

/// `a + b`.
#[derive(Clone, Copy)]
pub(crate) struct AddOp;
/// `a - b`.
#[derive(Clone, Copy)]
pub(crate) struct SubOp;
/// `a * b`.
#[derive(Clone, Copy)]
pub(crate) struct MulOp;
/// `a / b`.
#[derive(Clone, Copy)]
pub(crate) struct DivOp;

macro_rules! binary_op {
    ($t:ident, $method:ident) => {
        impl<T: Element> Ew<T> for $t {
            const ARITY: usize = 2;
            #[inline(always)]
            fn apply<S: Simd<T>>(self, s: S, a: S::V, b: S::V) -> S::V {
                s.$method(a, b)
            }
        }
    };
}
binary_op!(AddOp, add);
binary_op!(SubOp, sub);
binary_op!(MulOp, mul);
binary_op!(DivOp, div);

/// A binary operation with a scalar right operand: `a op c`.
#[derive(Clone, Copy)]
pub(crate) struct WithScalar<O, T>(pub(crate) O, pub(crate) T);

impl<T: Element, O: Ew<T>> Ew<T> for WithScalar<O, T> {
    const ARITY: usize = 1;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, a: S::V, _: S::V) -> S::V {
        self.0.apply(s, a, s.splat(self.1))
    }
}

/// `alpha * a + b` (fused where the path has FMA).
#[derive(Clone, Copy)]
struct AxpyOp<T>(T);

impl<T: Element> Ew<T> for AxpyOp<T> {
    const ARITY: usize = 2;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, a: S::V, b: S::V) -> S::V {
        s.mul_add(s.splat(self.0), a, b)
    }
}

// ============================================================================ public API

/// Generates the public functions of one binary operation.
macro_rules! binary_family {
    (
        $op:ident, $sym:literal,
        $name:ident, $try_name:ident,
        $assign:ident, $try_assign:ident,
        $scalar:ident, $try_scalar:ident, $scalar_assign:ident,
        $example:literal
    ) => {
        #[doc = concat!("`z[i] = x[i] ", $sym, " y[i]` for every `i`.")]
        ///
        /// Correctly rounded per element (IEEE), on every path. Large inputs are split over
        /// rayon's pool (see the [module docs](self)); results never depend on the thread count.
        ///
        /// # Panics
        /// If `y` or `z` is not as long as `x` (see the `try_` form).
        ///
        /// ```
        #[doc = concat!("let (x, y) = ([6.0f32, 8.0, 10.0], [2.0f32, 4.0, 5.0]);")]
        /// let mut z = [0.0f32; 3];
        #[doc = concat!("nabla_kernels::", stringify!($name), "(&x, &y, &mut z);")]
        #[doc = concat!("assert_eq!(z, ", $example, ");")]
        /// ```
        #[track_caller]
        pub fn $name<T: Element>(x: &[T], y: &[T], z: &mut [T]) {
            unwrap_or_panic($try_name(x, y, z))
        }

        #[doc = concat!("[`", stringify!($name), "`], returning [`KernelError::LengthMismatch`] instead of panicking.")]
        pub fn $try_name<T: Element>(x: &[T], y: &[T], z: &mut [T]) -> Result<(), KernelError> {
            check_len(stringify!($name), x.len(), y.len())?;
            check_len(stringify!($name), x.len(), z.len())?;
            run_map($op, z, Src::In(x), Src::In(y));
            Ok(())
        }

        #[doc = concat!("In place: `x[i] = x[i] ", $sym, " y[i]` for every `i`.")]
        ///
        #[doc = concat!("As [`", stringify!($name), "`].")]
        ///
        /// # Panics
        /// If `y` is not as long as `x`.
        #[track_caller]
        pub fn $assign<T: Element>(x: &mut [T], y: &[T]) {
            unwrap_or_panic($try_assign(x, y))
        }

        #[doc = concat!("[`", stringify!($assign), "`], returning [`KernelError::LengthMismatch`] instead of panicking.")]
        pub fn $try_assign<T: Element>(x: &mut [T], y: &[T]) -> Result<(), KernelError> {
            check_len(stringify!($assign), x.len(), y.len())?;
            run_map($op, x, Src::Out, Src::In(y));
            Ok(())
        }

        #[doc = concat!("Scalar broadcast: `z[i] = x[i] ", $sym, " c` for every `i`.")]
        ///
        #[doc = concat!("As [`", stringify!($name), "`].")]
        ///
        /// # Panics
        /// If `z` is not as long as `x`.
        #[track_caller]
        pub fn $scalar<T: Element>(x: &[T], c: T, z: &mut [T]) {
            unwrap_or_panic($try_scalar(x, c, z))
        }

        #[doc = concat!("[`", stringify!($scalar), "`], returning [`KernelError::LengthMismatch`] instead of panicking.")]
        pub fn $try_scalar<T: Element>(x: &[T], c: T, z: &mut [T]) -> Result<(), KernelError> {
            check_len(stringify!($scalar), x.len(), z.len())?;
            run_map(WithScalar($op, c), z, Src::In(x), Src::Out);
            Ok(())
        }

        #[doc = concat!("Scalar broadcast in place: `x[i] = x[i] ", $sym, " c` for every `i`.")]
        ///
        #[doc = concat!("As [`", stringify!($name), "`].")]
        pub fn $scalar_assign<T: Element>(x: &mut [T], c: T) {
            run_map(WithScalar($op, c), x, Src::Out, Src::Out);
        }
    };
}

binary_family!(
    AddOp,
    "+",
    add,
    try_add,
    add_assign,
    try_add_assign,
    add_scalar,
    try_add_scalar,
    add_scalar_assign,
    "[8.0, 12.0, 15.0]"
);
binary_family!(
    SubOp,
    "-",
    sub,
    try_sub,
    sub_assign,
    try_sub_assign,
    sub_scalar,
    try_sub_scalar,
    sub_scalar_assign,
    "[4.0, 4.0, 5.0]"
);
binary_family!(
    MulOp,
    "*",
    mul,
    try_mul,
    mul_assign,
    try_mul_assign,
    mul_scalar,
    try_mul_scalar,
    mul_scalar_assign,
    "[12.0, 32.0, 50.0]"
);
binary_family!(
    DivOp,
    "/",
    div,
    try_div,
    div_assign,
    try_div_assign,
    div_scalar,
    try_div_scalar,
    div_scalar_assign,
    "[3.0, 2.0, 2.0]"
);

/// `y[i] += alpha * x[i]` for every `i` (BLAS `axpy`).
///
/// Fused (one rounding) on paths with FMA (AVX2, AVX-512), two roundings on the scalar and
/// SSE2 paths. Threads as [`add`].
///
/// # Panics
/// If `x` and `y` differ in length (see [`try_axpy`]).
///
/// ```
/// let x = [1.0f64, 2.0, 3.0];
/// let mut y = [10.0f64, 20.0, 30.0];
/// nabla_kernels::axpy(2.0, &x, &mut y);
/// assert_eq!(y, [12.0, 24.0, 36.0]);
/// ```
#[track_caller]
pub fn axpy<T: Element>(alpha: T, x: &[T], y: &mut [T]) {
    unwrap_or_panic(try_axpy(alpha, x, y))
}

/// [`axpy`], returning [`KernelError::LengthMismatch`] instead of panicking.
pub fn try_axpy<T: Element>(alpha: T, x: &[T], y: &mut [T]) -> Result<(), KernelError> {
    check_len("axpy", x.len(), y.len())?;
    run_map(AxpyOp(alpha), y, Src::In(x), Src::Out);
    Ok(())
}

/// `x[i] *= alpha` for every `i` (BLAS `scal`). Correctly rounded; threads as [`add`].
///
/// ```
/// let mut x = [1.0f32, -2.0, 3.0];
/// nabla_kernels::scale(0.5, &mut x);
/// assert_eq!(x, [0.5, -1.0, 1.5]);
/// ```
pub fn scale<T: Element>(alpha: T, x: &mut [T]) {
    mul_scalar_assign(x, alpha);
}

/// `x[i] = value` for every `i` (single-threaded: a store stream, as fast as `memset`).
///
/// ```
/// let mut x = [0.0f64; 4];
/// nabla_kernels::fill(&mut x, 2.5);
/// assert_eq!(x, [2.5; 4]);
/// ```
pub fn fill<T: Element>(x: &mut [T], value: T) {
    x.fill(value);
}

/// `dst[i] = src[i]` for every `i` (single-threaded `memcpy`).
///
/// # Panics
/// If the lengths differ (see [`try_copy`]).
///
/// ```
/// let mut dst = [0.0f32; 3];
/// nabla_kernels::copy(&[1.0, 2.0, 3.0], &mut dst);
/// assert_eq!(dst, [1.0, 2.0, 3.0]);
/// ```
#[track_caller]
pub fn copy<T: Element>(src: &[T], dst: &mut [T]) {
    unwrap_or_panic(try_copy(src, dst))
}

/// [`copy`], returning [`KernelError::LengthMismatch`] instead of panicking.
pub fn try_copy<T: Element>(src: &[T], dst: &mut [T]) -> Result<(), KernelError> {
    check_len("copy", src.len(), dst.len())?;
    dst.copy_from_slice(src);
    Ok(())
}

/// Row-wise map op: `row r = op(row r, bias)` for `rows` rows of a matrix chunk.
struct RowsOp<'a, T, O> {
    op: O,
    x: &'a mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
    bias: &'a [T],
}

impl<T: Element, O: Ew<T>> SimdOp<T> for RowsOp<'_, T, O> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        for r in 0..self.rows {
            let row = &mut self.x[r * self.ld..r * self.ld + self.cols];
            map_into(s, self.op, row, Src::Out, Src::In(self.bias), false);
        }
    }
}

/// Applies `row = op(row, v)` to every row of a checked matrix view.
fn run_rows<T: Element, O: Ew<T>>(
    isa: Isa,
    op: O,
    x: &mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
    v: &[T],
) {
    if rows == 0 || cols == 0 {
        return;
    }
    let x = &mut x[..(rows - 1) * ld + cols];
    let run = |x: &mut [T], rows: usize| {
        T::dispatch(
            isa,
            RowsOp {
                op,
                x,
                rows,
                cols,
                ld,
                bias: v,
            },
        )
    };
    if rows >= 2 && parallel::should_split(rows * cols, PAR_THRESHOLD) {
        let per = rows_per_task(rows, cols);
        x.par_chunks_mut(per * ld)
            .enumerate()
            .for_each(|(c, xc)| run(xc, per.min(rows - c * per)));
    } else {
        run(x, rows);
    }
}

/// Bias-row broadcast, in place: `x[r*ld + j] += bias[j]` for every row `r < rows` and column
/// `j < cols` of the row-major matrix `x` (row stride `ld >= cols`; elements between rows are
/// left alone).
///
/// Correctly rounded per element; rows are spread over rayon's pool for large matrices.
///
/// # Panics
/// If `bias.len() != cols`, `ld < cols` (with more than one row), or `x` is shorter than
/// `(rows - 1) * ld + cols` (see [`try_add_row_bias`]).
///
/// ```
/// // 2 x 2 matrix with row stride 3.
/// let mut x = [1.0f32, 2.0, -7.0, 3.0, 4.0];
/// nabla_kernels::add_row_bias(&mut x, 2, 2, 3, &[10.0, 20.0]);
/// assert_eq!(x, [11.0, 22.0, -7.0, 13.0, 24.0]);
/// ```
#[track_caller]
pub fn add_row_bias<T: Element>(x: &mut [T], rows: usize, cols: usize, ld: usize, bias: &[T]) {
    unwrap_or_panic(try_add_row_bias(x, rows, cols, ld, bias))
}

/// [`add_row_bias`], returning a [`KernelError`] instead of panicking.
pub fn try_add_row_bias<T: Element>(
    x: &mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
    bias: &[T],
) -> Result<(), KernelError> {
    check_len("add_row_bias", cols, bias.len())?;
    check_matrix("add_row_bias", x.len(), rows, cols, ld)?;
    run_rows(isa::active(), AddOp, x, rows, cols, ld, bias);
    Ok(())
}
