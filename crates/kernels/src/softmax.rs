//! The softmax family over the rows of a row-major matrix, `f32` and `f64`: [`softmax`],
//! [`log_softmax`] (also in place), [`logsumexp`] (one value per row), and the backward passes
//! [`softmax_backward`] and [`log_softmax_backward`].
//!
//! # Layout
//!
//! Every matrix argument is row-major, `rows x cols`, with the same row stride `ld >= cols`:
//! element `(r, j)` is at `r * ld + j`, and a slice needs `(rows - 1) * ld + cols` elements.
//! Elements between rows are neither read nor written. Shapes that do not fit make each kernel
//! panic with a [`KernelError`] message; its `try_` form (e.g. [`try_softmax`]) returns that
//! error instead, before writing anything.
//!
//! # Algorithm
//!
//! Per row, with `m` the row maximum: pass 1 computes `m`; pass 2 computes `e_j = exp(x_j - m)`
//! with the crate's vector [`exp`](crate::math::exp), storing `e_j` into the output (softmax)
//! and summing it in the fixed blocked order of [`sum`](crate::sum); pass 3 scales by `1 / sum`
//! (softmax) or writes `(x_j - m) - ln(sum)` (log-softmax). Subtracting the maximum makes every
//! exponent `<= 0`, so nothing overflows whatever the input size, and `sum >= 1`. A row is read
//! twice and written twice (softmax) - about the minimum without an online rescaling that
//! would evaluate `exp` twice; rows up to the L2 size stay cached between the passes.
//!
//! # Special values (conventions)
//!
//! | row contains | `softmax` | `log_softmax` | `logsumexp` |
//! |---|---|---|---|
//! | a NaN | all NaN | all NaN | NaN |
//! | `+inf` (`k` times, no NaN) | `1/k` at the `+inf`s, `0` elsewhere | `-ln k` at the `+inf`s, `-inf` elsewhere | `+inf` |
//! | only `-inf` | all NaN | all NaN | `-inf` |
//! | some `-inf`, some finite | `0` at the `-inf`s | `-inf` at the `-inf`s | finite |
//! | nothing (`cols == 0`) | - | - | `-inf` |
//!
//! Rows with `+inf` get the limit of the finite formula (what the math gives as the entries go
//! to `+inf`), never a NaN. A row of only `-inf` has no softmax (`0/0`): it is NaN, as in PyTorch
//! and JAX, while its `logsumexp` (`ln 0`) is `-inf`, as in JAX and PyTorch.
//!
//! # Accuracy
//!
//! `x_j - m` is exact when `x_j >= m/2`; otherwise its rounding (relative `eps/2`) makes the
//! exponent off by up to `eps/2 * |x_j - m|`. With [`exp`](crate::math::exp) within 1 ULP and
//! the sum within `d * eps` (`d` the summation depth of [`sum`](crate::sum)), each softmax output
//! has relative error about `(|x_j - m| / 2 + d + 3) * eps`; log-softmax outputs have absolute
//! error about `(|x_j - m| + |ln sum| + d + 3) * eps`; logsumexp about
//! `(|lse| + |ln sum| + d + 2) * eps` (its logarithm is [`math::log`], within
//! 1 ULP). The exponentials that are only summed, those of log-softmax and logsumexp, reduce
//! their argument on AVX-512 with one constant (`ln 2` rounded) instead of two, which moves each
//! by at most a third (`f64`; a twentieth for `f32`) of what the rounding of `x_j - m` may; as
//! `e^(x_j - m)` weights it in the sum, the sum's relative error grows by at most 0.11 ULP
//! (`f64`; 0.017 for `f32`). Those two kernels may therefore differ from the other paths in
//! the last bits.
//!
//! # Threads
//!
//! Rows are spread over rayon's pool when `rows * cols >= PAR_THRESHOLD`
//! (under [`Parallelism::Auto`](crate::parallel::Parallelism::Auto)); rows are independent
//! and each is computed in a fixed order, so results never depend on the thread count. A single
//! row is never split.

use crate::element::{Element, is_f64};
use crate::elementwise::{Ew, MulOp, Src, WithScalar, map_into};
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::math;
use crate::parallel;
use crate::reduce::{
    BLOCK, BlockReduce, DotK, SumK, check_len, check_matrix, fold, merge_tree, reduce_blocks,
    rows_per_task,
};
use crate::simd::{BUNDLE, Bundle, Cache, MAX_LANES, Simd, SimdOp, bundles_pay, prefetch};
use crate::sweep;
use rayon::prelude::*;

/// Under [`Parallelism::Auto`](crate::parallel::Parallelism::Auto), the softmax family uses
/// rayon from `rows * cols >=` this many elements on (2^18). Each element costs an `exp`
/// (about 0.3 ns/element on one AVX-512 core), so 2^18 elements are ~80 microseconds of work,
/// several times the 10-15 microsecond fan-out cost measured on a 2-core host.
pub const PAR_THRESHOLD: usize = 1 << 18;

// ============================================================================ row machinery

/// Work on one row, generic over the SIMD path.
trait RowJob<T: Element>: Sync {
    /// Output element type.
    type Out: Send;
    /// Computes row `r`; `out` is that row's output (`cols` elements, or 1 for per-row values).
    fn row<S: Simd<T>>(&self, s: S, r: usize, out: &mut [Self::Out]);

    /// Computes `rows` rows from `first_row` on: output row `i` is
    /// `out[i * out_ld..][..out_cols]`. By default one [`RowJob::row`] after another.
    #[inline(always)]
    fn rows<S: Simd<T>>(
        &self,
        s: S,
        first_row: usize,
        rows: usize,
        out: &mut [Self::Out],
        out_cols: usize,
        out_ld: usize,
    ) {
        for i in 0..rows {
            let start = i * out_ld;
            self.row(s, first_row + i, &mut out[start..start + out_cols]);
        }
    }
}

/// Runs a job on `rows` consecutive rows of an output chunk.
struct RowsOp<'a, J, O> {
    job: &'a J,
    out: &'a mut [O],
    first_row: usize,
    rows: usize,
    out_cols: usize,
    out_ld: usize,
}

impl<T: Element, O: Send, J: RowJob<T, Out = O>> SimdOp<T> for RowsOp<'_, J, O> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        self.job.rows(
            s,
            self.first_row,
            self.rows,
            self.out,
            self.out_cols,
            self.out_ld,
        );
    }
}

/// Runs `job` on every row; output row `r` is `out[r * out_ld..][..out_cols]`. `cols` is the
/// input width (the work measure). Shapes must have been checked.
#[allow(clippy::too_many_arguments)]
fn run_rows<T: Element, J: RowJob<T>>(
    isa: Isa,
    job: &J,
    out: &mut [J::Out],
    rows: usize,
    cols: usize,
    out_cols: usize,
    out_ld: usize,
) {
    if rows == 0 || out_cols == 0 {
        return;
    }
    let out = &mut out[..(rows - 1) * out_ld + out_cols];
    let run = |out: &mut [J::Out], first_row: usize, rows: usize| {
        T::dispatch(
            isa,
            RowsOp {
                job,
                out,
                first_row,
                rows,
                out_cols,
                out_ld,
            },
        )
    };
    if rows >= 2 && parallel::should_split(rows.saturating_mul(cols.max(1)), PAR_THRESHOLD) {
        let per = rows_per_task(rows, cols);
        out.par_chunks_mut(per * out_ld)
            .enumerate()
            .for_each(|(c, o)| run(o, c * per, per.min(rows - c * per)));
    } else {
        run(out, 0, rows);
    }
}

/// How many elements ahead of the row being computed its exponential pass prefetches (0: not
/// at all): `rows` rows (`ld` apart; [`ROWS_AHEAD`], or [`lse_rows_ahead`] for `logsumexp`),
/// when a row takes at most [`ROW_AHEAD_BYTES`].
///
/// A row is read from memory in a burst (its maximum) and then computed on from L1, so without
/// a hint the hardware prefetcher falls idle during the computation and every row waits for
/// DRAM. Prefetching rows ahead line by line as the exponentials go lets the two overlap.
/// `cargo xtask perf --filter _rows/f32`, 2^24 `f32` in rows of 1024, three interleaved pairs
/// of runs, one core, none -> the next row: `logsumexp_rows/f32/dram` 4.25-4.32 -> 3.00-3.07
/// ms, `softmax_rows/f32/dram` 5.05-5.40 -> 4.79-4.90 ms; the L2 rows 0-6% faster. (Prefetching
/// a whole row at once, before or after its maximum, measured slower.)
#[inline(always)]
fn row_ahead<T>(cols: usize, ld: usize, rows: usize) -> usize {
    if cols * size_of::<T>() <= ROW_AHEAD_BYTES {
        rows * ld
    } else {
        0
    }
}

/// How many rows ahead [`row_ahead`] prefetches. One row is issued during one row's
/// exponentials, so its lines are in flight only as long as that pass lasts; two keep them in
/// flight through the other passes too. 2^24 `f32`, interleaved medians of 21 runs each, one
/// core, 1 -> 2 rows ahead: `logsumexp` in rows of 256 / 1024 / 4096: 3104 -> 3008 / 2791 ->
/// 2440 / 2347 -> 2349 us; `softmax` 4493 -> 4062 / 4735 -> 4239 / 4556 -> 4420 us (3 rows:
/// from 6% better to 3% worse than 2, and 8 rows worse at 256). With the output prefetched
/// too ([`prefetch_ahead`]), `cargo xtask perf --filter _rows/`, two interleaved pairs of runs,
/// one row ahead -> two: `softmax_rows/f32/dram` 4.85-5.35 -> 4.07-4.28 ms,
/// `logsumexp_rows/f32/dram` 2.98-3.08 -> 2.54-2.68 ms, `softmax_rows/f64/dram` 4.83-5.11 ->
/// 4.50-4.58 ms, `logsumexp_rows/f64/dram` 3.72-3.79 -> 3.10-3.16 ms; `softmax_rows/f64/l2`
/// 7.08-7.12 -> 7.45-7.48 us, the one row slower (not for the output's prefetches: leaving them
/// out below 1 MiB of output left it as it was, and cost `softmax_rows/f32/l2` 2%), the other L2
/// rows unchanged.
const ROWS_AHEAD: usize = 2;

/// How many rows ahead `logsumexp` prefetches: as many as make [`LSE_AHEAD_BYTES`], from
/// [`ROWS_AHEAD`] to 4. It has no output rows to prefetch, so it can look further in the same
/// room. `cargo xtask perf --filter logsumexp_rows/`, interleaved pairs of runs, one core:
/// `logsumexp_rows/f32/dram` (rows of 4 KiB), 2 -> 4 rows ahead: 3.12/3.09/3.02/2.79/2.77/2.83/
/// 2.94 -> 2.89/2.80/2.99/2.60/2.57/2.69/2.75 ms; `logsumexp_rows/f64/dram` (8 KiB rows), 4
/// rows, 32 KiB, were slower: 3.30/3.14/3.14/3.22 -> 3.45/3.32/3.36/3.41 ms. The L2 rows did
/// not change.
#[inline(always)]
fn lse_rows_ahead<T>(cols: usize) -> usize {
    (LSE_AHEAD_BYTES / (cols * size_of::<T>()).max(1)).clamp(ROWS_AHEAD, 4)
}

/// See [`lse_rows_ahead`].
const LSE_AHEAD_BYTES: usize = 16 << 10;

/// Longer rows are not prefetched ahead: the hardware prefetcher follows a long row by itself,
/// and a next row much larger than L1 would be evicted again before its turn.
const ROW_AHEAD_BYTES: usize = 16 << 10;

/// The largest non-NaN entry of the row (`-inf` if there is none). NaN entries are skipped
/// here, without a per-vector NaN test: with a finite maximum they reach the sums through
/// `exp(NaN - m) = NaN` and make the whole row NaN there; [`classify`] scans for them in the
/// two rare cases that take no sum (maximum `-inf` or `+inf`). The order of `max` operands
/// keeps the accumulator when the new lane is NaN.
#[inline(always)]
fn row_max<T: Element, S: Simd<T>>(s: S, x: &[T]) -> T {
    let acc = fold::<T, S, S::V, 1, 4>(
        s,
        [x],
        [T::NEG_INFINITY],
        s.splat(T::NEG_INFINITY),
        |m, [v], _| s.max(v, m),
    );
    s.reduce_max(merge_tree(acc, |a, b| s.max(a, b)))
}

/// What [`exp_sum`] does with each element `x_j`: sums `exp(x_j - m)` ...
const EXP: u8 = 0;
/// ... sums it and stores it to `y_j` ...
const EXP_STORE: u8 = 1;
/// ... or sums `x_j` itself (exponentials stored by an earlier pass: the same sum, bit for bit,
/// as [`EXP_STORE`] gives; `m` is ignored).
const STORED: u8 = 2;

/// `sum_j exp(x_j - m)` over `n` elements at `xp` (prefetching the elements `ahead` further
/// on, when `ahead != 0`: see [`row_ahead`]), in blocks of [`BLOCK`] combined as
/// [`sum`](crate::sum) combines them (the same [`reduce_blocks`]); per `MODE` ([`EXP`],
/// [`EXP_STORE`], [`STORED`]) also storing `y_j = exp(x_j - m)`, or summing stored values.
///
/// `yp` is the output row (null if there is none): written only with `EXP_STORE`, and when it
/// is not `xp` the elements `ahead` further on are prefetched there too (the rows a later call
/// will write; see [`prefetch_ahead`]). With `wide` the vectors go in bundles of [`BUNDLE`]
/// (the same bits; see [`bundles_pay`] for when that pays with stores).
///
/// # Safety
/// `xp` must be readable for `n` elements; with `EXP_STORE`, `yp` writable for `n` elements
/// and either equal to `xp` or not overlapping it.
#[inline(always)]
unsafe fn exp_sum<T: Element, S: Simd<T>, const MODE: u8>(
    s: S,
    xp: *const T,
    yp: *mut T,
    n: usize,
    m: T,
    ahead: usize,
    wide: bool,
) -> T {
    if n == 0 {
        return T::ZERO;
    }
    // SAFETY: the function's contract is the one `ExpSumK::new` asks for, for these `n`.
    let k = unsafe { ExpSumK::<T, MODE>::new(xp, yp, m, ahead, wide) };
    reduce_blocks(s, &k, n, 0, n.div_ceil(BLOCK))
}

/// Prefetches into L1 the `bytes` from element `at` of `p` on, and as many from element `at` of
/// `q` unless `q` is null or `p` itself: the input rows, and the output rows that will be
/// written.
///
/// Prefetching the output before it is written matters as much as the input: a store to a line
/// that is not cached waits for it to be read. 2^24 `f32` in rows of 1024, two rows ahead,
/// interleaved medians of 21 runs each, one core, without -> with the output: `softmax`
/// 4511 -> 3679 us (into L2 only: 3732; with `prefetchw`: 3651).
#[inline(always)]
fn prefetch_ahead<T>(p: *const T, q: *const T, at: usize, bytes: usize) {
    let out = !q.is_null() && q != p;
    let (p, q) = (
        p.wrapping_add(at).cast::<u8>(),
        q.wrapping_add(at).cast::<u8>(),
    );
    for off in (0..bytes).step_by(64) {
        prefetch(p.wrapping_add(off), Cache::L1);
        if out {
            prefetch(q.wrapping_add(off), Cache::L1);
        }
    }
}

/// [`exp_sum`] as a block reduction: the partial of a block is its sum of `exp(x_j - m)`.
struct ExpSumK<T, const MODE: u8> {
    xp: *const T,
    yp: *mut T,
    m: T,
    ahead: usize,
    wide: bool,
}

impl<T: Element, const MODE: u8> ExpSumK<T, MODE> {
    /// # Safety
    /// As [`exp_sum`], for every `n` the reduction will ask blocks of: `xp` readable for `n`
    /// elements; with `EXP_STORE`, `yp` writable for `n` elements and equal to `xp` or not
    /// overlapping it.
    #[inline(always)]
    unsafe fn new(xp: *const T, yp: *mut T, m: T, ahead: usize, wide: bool) -> Self {
        ExpSumK {
            xp,
            yp,
            m,
            ahead,
            wide,
        }
    }
}

impl<T: Element, const MODE: u8> BlockReduce<T> for ExpSumK<T, MODE> {
    type P = T;
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> T {
        // SAFETY: `exp_sum` asks for blocks within its `0..n`, which `new`'s contract covers.
        unsafe { exp_sum_block(s, self, start, end) }
    }
    #[inline(always)]
    fn combine(&self, a: T, b: T) -> T {
        a + b
    }
}

/// The partial of [`exp_sum`] for the elements `start..end` (one block) of `k`.
///
/// # Safety
/// As [`exp_sum`], for the elements `start..end` of `k`'s pointers.
#[inline(always)]
unsafe fn exp_sum_block<T: Element, S: Simd<T>, const MODE: u8>(
    s: S,
    k: &ExpSumK<T, MODE>,
    start: usize,
    end: usize,
) -> T {
    let (xp, yp, ahead, wide) = (k.xp, k.yp, k.ahead, k.wide);
    let mv = s.splat(k.m);
    // Accumulator `k` takes vector `k` of each group of `U`, computed as one bundle with `wide`
    // on paths with `Simd::BUNDLES` (see `Bundle`: the same bits as one vector at a time, more
    // of them in flight).
    const U: usize = BUNDLE;
    let l = S::LANES;
    let bundle = Bundle::<S, U>(s);
    let zero = s.splat(T::ZERO);
    // SAFETY (all `exp_vec` calls): `i + LANES <= end` (a bundle's `LANES`: `U * l`), and the
    // function's contract covers the pointers.
    let mut acc = [zero; U];
    let mut i = start;
    while i + U * l <= end {
        if ahead != 0 {
            // `yp` is null (logsumexp) or `xp` (in place, or `STORED`) when there is no
            // separate output to prefetch; `prefetch_ahead` skips it then.
            prefetch_ahead(xp, yp.cast_const(), i + ahead, U * l * size_of::<T>());
        }
        if S::BUNDLES && wide {
            // SAFETY: see above.
            let e = unsafe { exp_vec::<T, _, MODE>(bundle, xp, yp, i, [mv; U]) };
            acc = bundle.add(acc, e);
        } else {
            for (k, a) in acc.iter_mut().enumerate() {
                // SAFETY: see above.
                *a = s.add(*a, unsafe {
                    exp_vec::<T, S, MODE>(s, xp, yp, i + k * l, mv)
                });
            }
        }
        i += U * l;
    }
    for a in acc.iter_mut() {
        if i + l <= end {
            // SAFETY: see above.
            *a = s.add(*a, unsafe { exp_vec::<T, S, MODE>(s, xp, yp, i, mv) });
            i += l;
        }
    }
    if i < end {
        // The missing lanes hold -inf, whose exp(-inf - m) = 0 adds nothing (for `STORED`: 0).
        let k = end - i;
        let pad = if MODE == STORED {
            T::ZERO
        } else {
            T::NEG_INFINITY
        };
        let mut buf = [pad; MAX_LANES];
        // SAFETY: `k < LANES <= MAX_LANES` elements from `i` are readable (`i + k == end`) and,
        // with `EXP_STORE`, writable; the read precedes the write.
        unsafe {
            core::ptr::copy_nonoverlapping(xp.add(i), buf.as_mut_ptr(), k);
            let e = if MODE == STORED {
                s.load(buf.as_ptr())
            } else {
                exp_shifted::<T, S, MODE>(s, s.load(buf.as_ptr()), mv)
            };
            if MODE == EXP_STORE {
                s.store(buf.as_mut_ptr(), e);
                core::ptr::copy_nonoverlapping(buf.as_ptr(), yp.add(i), k);
            }
            acc[U - 1] = s.add(acc[U - 1], e);
        }
    }
    s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)))
}

/// `exp(x - m)` of the vector at `i`, stored to `yp` with `EXP_STORE`; with `STORED` the vector
/// itself (a function, not a closure, so that it is always inlined into the target-feature
/// context).
///
/// # Safety
/// `xp` readable at `i..i + LANES`; with `EXP_STORE`, `yp` writable there, equal to `xp` or not
/// overlapping it.
#[inline(always)]
unsafe fn exp_vec<T: Element, S: Simd<T>, const MODE: u8>(
    s: S,
    xp: *const T,
    yp: *mut T,
    i: usize,
    mv: S::V,
) -> S::V {
    // SAFETY: the caller's contract; the load precedes the store.
    unsafe {
        let x = s.load(xp.add(i));
        if MODE == STORED {
            return x;
        }
        let e = exp_shifted::<T, S, MODE>(s, x, mv);
        if MODE == EXP_STORE {
            s.store(yp.add(i), e);
        }
        e
    }
}

/// `exp(x - m)` for [`exp_sum`]'s `MODE` ([`EXP`] or [`EXP_STORE`]): a term that is only summed
/// ([`EXP`]) takes [`math::exp_summand`], lighter on AVX-512; a stored one (a softmax output)
/// takes [`math::exp`], which [`ExpShiftOp`] also uses, so that both ways of storing give the
/// same bits.
#[inline(always)]
fn exp_shifted<T: Element, S: Simd<T>, const MODE: u8>(s: S, x: S::V, mv: S::V) -> S::V {
    if MODE == EXP {
        math::exp_summand(s, s.sub(x, mv))
    } else {
        math::exp(s, s.sub(x, mv))
    }
}

/// `exp(a - m)`: softmax's exponentials as an elementwise map (see [`Forward`]).
#[derive(Clone, Copy)]
struct ExpShiftOp<T>(T);

impl<T: Element> Ew<T> for ExpShiftOp<T> {
    const ARITY: usize = 1;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, a: S::V, _: S::V) -> S::V {
        math::exp(s, s.sub(a, s.splat(self.0)))
    }
}

/// `ln` of a positive scalar (through `f64`: correctly rounded for `f32`, `std`'s for `f64`).
#[inline(always)]
fn ln<T: Element>(x: T) -> T {
    T::from_f64(x.to_f64().ln())
}

/// How a row's maximum classifies it.
enum RowCase<T> {
    /// NaN somewhere.
    Nan,
    /// Only `-inf` (or empty).
    AllNegInf,
    /// `k >= 1` entries are `+inf` (no NaN).
    PosInf(usize),
    /// Finite maximum.
    Finite(T),
}

/// The case of a row from its [`row_max`] `m` (which skips NaN): with a finite `m` NaN entries
/// are left to the sums; an infinite `m` takes no sum, so the row is scanned for NaN.
#[inline(always)]
fn classify<T: Element>(m: T, x: &[T]) -> RowCase<T> {
    if m != T::NEG_INFINITY && m != T::INFINITY {
        RowCase::Finite(m)
    } else if x.iter().any(|v| v.is_nan()) {
        RowCase::Nan
    } else if m == T::NEG_INFINITY {
        RowCase::AllNegInf
    } else {
        RowCase::PosInf(x.iter().filter(|v| **v == T::INFINITY).count())
    }
}

/// `(a - m) - c`: the last pass of log-softmax.
#[derive(Clone, Copy)]
struct ShiftOp<T> {
    m: T,
    c: T,
}

impl<T: Element> Ew<T> for ShiftOp<T> {
    const ARITY: usize = 1;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, a: S::V, _: S::V) -> S::V {
        s.sub(s.sub(a, s.splat(self.m)), s.splat(self.c))
    }
}

// ============================================================================ forward jobs

/// Softmax or log-softmax of each row, from `x` or in place.
struct Forward<'a, T> {
    log: bool,
    /// `None`: in place (the input is the output).
    x: Option<&'a [T]>,
    cols: usize,
    ld: usize,
    /// Whether the passes that store exponentials run bundles of vectors ([`bundles_pay`]).
    wide: bool,
}

impl<T: Element> RowJob<T> for Forward<'_, T> {
    type Out = T;
    #[inline(always)]
    fn row<S: Simd<T>>(&self, s: S, r: usize, y: &mut [T]) {
        let x_row = self.x.map(|x| &x[r * self.ld..r * self.ld + self.cols]);
        let n = y.len();
        let case = {
            let xs: &[T] = x_row.unwrap_or(&*y);
            classify(row_max(s, xs), xs)
        };
        let src = x_row.map_or(Src::Out, Src::In);
        match case {
            RowCase::Nan | RowCase::AllNegInf => y.fill(T::NAN),
            RowCase::PosInf(k) => {
                let (hit, miss) = if self.log {
                    (-ln(T::from_f64(k as f64)), T::NEG_INFINITY)
                } else {
                    (T::from_f64(1.0 / k as f64), T::ZERO)
                };
                for (j, yj) in y.iter_mut().enumerate() {
                    let v = x_row.map_or(*yj, |x| x[j]);
                    *yj = if v == T::INFINITY { hit } else { miss };
                }
            }
            RowCase::Finite(m) => {
                let ahead = row_ahead::<T>(self.cols, self.ld, ROWS_AHEAD);
                let yp = y.as_mut_ptr();
                let xp = x_row.map_or(yp as *const T, <[T]>::as_ptr);
                if self.log {
                    // SAFETY: `xp` addresses `n` readable elements (the input row, or `y`).
                    let sum = unsafe { exp_sum::<T, S, EXP>(s, xp, yp, n, m, ahead, true) };
                    map_into(s, ShiftOp { m, c: ln(sum) }, y, src, Src::Out, false);
                } else {
                    let sum = if sweep::descending(yp, &[xp]) {
                        // `y` just ahead of `x` modulo 4 KiB: one pass that stores and sums
                        // would stall on 4K aliasing (see `crate::sweep`), so the exponentials
                        // are stored by an elementwise map (which runs descending) and summed
                        // from `y` afterwards, in the same order: the same bits.
                        map_into(s, ExpShiftOp(m), y, src, Src::Out, self.wide);
                        // SAFETY: `y` holds `n` readable elements; nothing is stored.
                        unsafe { exp_sum::<T, S, STORED>(s, yp, yp, n, m, 0, true) }
                    } else {
                        // SAFETY: `xp` addresses `n` readable elements, `yp` `n` writable
                        // ones; they are equal (in place) or distinct (`x` is shared, `y`
                        // exclusive).
                        unsafe { exp_sum::<T, S, EXP_STORE>(s, xp, yp, n, m, ahead, self.wide) }
                    };
                    map_into(
                        s,
                        WithScalar(MulOp, T::ONE / sum),
                        y,
                        Src::Out,
                        Src::Out,
                        false,
                    );
                }
            }
        }
    }
}

/// `logsumexp` of each row, into one value per row.
///
/// The rows go in groups of [`LSE_GROUP`]: each row's maximum `m` and sum first, then the
/// logarithms of the group's sums as one vector ([`math::log`], within 1 ULP) instead of a
/// call to `ln` per row (which took 7.6% of the time in rows of 1024 `f32`, `perf record`).
/// Together with [`math::exp_summand`]'s lighter exponential, `cargo xtask perf --filter
/// _rows/`, one core, two interleaved pairs of runs: `logsumexp_rows/f32/l2` 3.76-3.78 ->
/// 3.18-3.31 us (8.7 -> 9.9-10.3 Gelem/s), `logsumexp_rows/f32/dram` 2.06-2.15 -> 1.76-1.81 ms
/// (71-78% -> 89-92% of the read roof beside it), `logsumexp_rows/f64/l2` 5.18-5.19 ->
/// 4.32-4.53 us, `logsumexp_rows/f64/dram` 2.79-2.89 -> 2.39-2.49 ms. (One `log` per row on a
/// splatted vector instead was slower than the call: its latency stays on the row's path.)
struct Lse<'a, T> {
    x: &'a [T],
    cols: usize,
    ld: usize,
}

/// Rows per group of [`Lse`]: as many as the widest vector of `f32` holds.
const LSE_GROUP: usize = 16;

impl<T: Element> Lse<'_, T> {
    /// Row `r`'s maximum and sum of `exp(x_j - m)`, or its value when that is not
    /// `m + ln(sum)` (NaN, `-inf`, `+inf`), given with the sum 1 (`ln 1 = 0` adds nothing).
    #[inline(always)]
    fn max_and_sum<S: Simd<T>>(&self, s: S, r: usize) -> (T, T) {
        let x = if self.cols == 0 {
            &[]
        } else {
            &self.x[r * self.ld..r * self.ld + self.cols]
        };
        match classify(row_max(s, x), x) {
            RowCase::Nan => (T::NAN, T::ONE),
            RowCase::AllNegInf => (T::NEG_INFINITY, T::ONE),
            RowCase::PosInf(_) => (T::INFINITY, T::ONE),
            RowCase::Finite(m) => {
                let ahead = row_ahead::<T>(self.cols, self.ld, lse_rows_ahead::<T>(self.cols));
                // SAFETY: `x` has `x.len()` readable elements; nothing is stored.
                let sum = unsafe {
                    exp_sum::<T, S, EXP>(
                        s,
                        x.as_ptr(),
                        core::ptr::null_mut(),
                        x.len(),
                        m,
                        ahead,
                        true,
                    )
                };
                (m, sum)
            }
        }
    }
}

impl<T: Element> RowJob<T> for Lse<'_, T> {
    type Out = T;
    #[inline(always)]
    fn row<S: Simd<T>>(&self, s: S, r: usize, out: &mut [T]) {
        self.rows(s, r, 1, out, 1, 1);
    }

    #[inline(always)]
    fn rows<S: Simd<T>>(
        &self,
        s: S,
        first_row: usize,
        rows: usize,
        out: &mut [T],
        _out_cols: usize,
        _out_ld: usize,
    ) {
        for (g, group) in out[..rows].chunks_mut(LSE_GROUP).enumerate() {
            let mut sums = [T::ONE; LSE_GROUP];
            for (i, (o, sum)) in group.iter_mut().zip(&mut sums).enumerate() {
                (*o, *sum) = self.max_and_sum(s, first_row + g * LSE_GROUP + i);
            }
            for (o, sum) in group.chunks_mut(S::LANES).zip(sums.chunks(S::LANES)) {
                let mut ln = [T::ZERO; LSE_GROUP];
                s.store_partial(
                    &mut ln[..o.len()],
                    math::log(s, s.load_partial(&sum[..o.len()], T::ONE)),
                );
                for (oj, lj) in o.iter_mut().zip(&ln) {
                    *oj += *lj;
                }
            }
        }
    }
}

/// Whether a forward job's passes that store exponentials run bundles ([`Forward::wide`]):
/// where [`bundles_pay`] says so, and for `f64` at every size, like the `f64` activations whose
/// chains are long (see `activation`'s `Unary::BUNDLED_STREAMING`): the degree-11 polynomial of
/// its exponential keeps the pass compute-bound even from DRAM. `cargo xtask perf --filter
/// f64/dram`, three interleaved pairs of runs, one core: `softmax_rows/f64/dram` 4.16-4.36 ->
/// 3.88-3.93 ms (75-79% -> 81-85% of the copy roof beside it), with `tanh/f64/dram` (bundled
/// by its flag) 3.76-3.96 -> 3.44-3.74 ms (81-85% -> 87-93%); `exp/f64/dram` and
/// `sigmoid/f64/dram`, unflagged, unchanged. (`f32` softmax stays unbundled there: 4.03-4.30 ->
/// 3.91-4.33 ms bundled, within its noise.)
fn forward_bundles<T>(rows: usize, cols: usize) -> bool {
    is_f64::<T>() || bundles_pay::<T>(rows.saturating_mul(cols), 2)
}

// ============================================================================ backward jobs

/// `y * (dy - c)`: softmax backward with `c = sum(dy * y)`.
#[derive(Clone, Copy)]
struct SoftmaxBwdOp<T>(T);

impl<T: Element> Ew<T> for SoftmaxBwdOp<T> {
    const ARITY: usize = 2;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, y: S::V, dy: S::V) -> S::V {
        s.mul(y, s.sub(dy, s.splat(self.0)))
    }
}

/// `dy - exp(y) * c`: log-softmax backward with `c = sum(dy)`.
#[derive(Clone, Copy)]
struct LogSoftmaxBwdOp<T>(T);

impl<T: Element> Ew<T> for LogSoftmaxBwdOp<T> {
    const ARITY: usize = 2;
    #[inline(always)]
    fn apply<S: Simd<T>>(self, s: S, y: S::V, dy: S::V) -> S::V {
        s.sub(dy, s.mul(math::exp(s, y), s.splat(self.0)))
    }
}

/// Backward of softmax (`log == false`) or log-softmax, row by row, into `dx`.
struct Backward<'a, T> {
    log: bool,
    y: &'a [T],
    dy: &'a [T],
    cols: usize,
    ld: usize,
    /// Whether log-softmax's pass (an exponential per element) runs bundles ([`bundles_pay`]).
    wide: bool,
}

impl<T: Element> RowJob<T> for Backward<'_, T> {
    type Out = T;
    #[inline(always)]
    fn row<S: Simd<T>>(&self, s: S, r: usize, dx: &mut [T]) {
        let range = r * self.ld..r * self.ld + self.cols;
        let (y, dy) = (&self.y[range.clone()], &self.dy[range]);
        let nb = self.cols.div_ceil(BLOCK);
        if self.log {
            let c = reduce_blocks(s, &SumK { x: dy }, self.cols, 0, nb);
            map_into(
                s,
                LogSoftmaxBwdOp(c),
                dx,
                Src::In(y),
                Src::In(dy),
                self.wide,
            );
        } else {
            let c = reduce_blocks(s, &DotK { x: dy, y }, self.cols, 0, nb);
            map_into(s, SoftmaxBwdOp(c), dx, Src::In(y), Src::In(dy), false);
        }
    }
}

// ============================================================================ public API

/// Row-wise softmax: `y[r, j] = exp(x[r, j] - m_r) / sum_k exp(x[r, k] - m_r)` with `m_r` the
/// row maximum.
///
/// `x` and `y` are row-major `rows x cols` with row stride `ld` (see the [module docs](self)
/// for layout, the special-value conventions, accuracy and threading). Each output row sums to
/// 1 within a few `eps`, and no input size overflows.
///
/// # Panics
/// If `ld < cols` (with more than one row) or `x` or `y` is shorter than
/// `(rows - 1) * ld + cols`, with the message of the error [`try_softmax`] returns.
///
/// ```
/// let x = [1.0f32, 2.0, 3.0, 1000.0, 1000.0, f32::NEG_INFINITY];
/// let mut y = [0.0f32; 6];
/// nabla_kernels::softmax(&x, 2, 3, 3, &mut y);
/// assert!((y[2] - 0.665_240_94).abs() < 1e-6);
/// assert_eq!(&y[3..], &[0.5, 0.5, 0.0]); // huge inputs: no overflow; -inf gives 0
/// ```
#[track_caller]
pub fn softmax<T: Element>(x: &[T], rows: usize, cols: usize, ld: usize, y: &mut [T]) {
    unwrap_or_panic(try_softmax(x, rows, cols, ld, y))
}

/// [`softmax`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// Checked in this order; on an error nothing is written:
/// * [`KernelError::Invalid`] if `ld < cols` with more than one row (or the view's extent
///   overflows `usize`);
/// * [`KernelError::OutOfBounds`] if `x`, then if `y`, is shorter than
///   `(rows - 1) * ld + cols` (`needed` that, `len` the slice's length).
///
/// ```
/// use nabla_kernels::KernelError;
/// let mut y = [0.0f32; 10];
/// let e = nabla_kernels::try_softmax(&[0.0f32; 12], 3, 3, 4, &mut y);
/// assert_eq!(e, Err(KernelError::OutOfBounds { op: "softmax", needed: 11, len: 10 }));
/// ```
pub fn try_softmax<T: Element>(
    x: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    y: &mut [T],
) -> Result<(), KernelError> {
    check_matrix("softmax", x.len(), rows, cols, ld)?;
    check_matrix("softmax", y.len(), rows, cols, ld)?;
    let job = Forward {
        log: false,
        x: Some(x),
        cols,
        ld,
        wide: forward_bundles::<T>(rows, cols),
    };
    run_rows(isa::active(), &job, y, rows, cols, cols, ld);
    Ok(())
}

/// [`softmax`] in place: `x` is overwritten by its row-wise softmax.
///
/// # Panics
/// As [`softmax`] (see [`try_softmax_inplace`]).
///
/// ```
/// let mut x = [0.0f64, 0.0, f64::INFINITY, 1.0];
/// nabla_kernels::softmax_inplace(&mut x, 1, 4, 4);
/// assert_eq!(x, [0.0, 0.0, 1.0, 0.0]); // +inf takes all the mass
/// ```
#[track_caller]
pub fn softmax_inplace<T: Element>(x: &mut [T], rows: usize, cols: usize, ld: usize) {
    unwrap_or_panic(try_softmax_inplace(x, rows, cols, ld))
}

/// [`softmax_inplace`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// As [`try_softmax`] for its `x` (op `"softmax_inplace"`); on an error `x` is unchanged.
pub fn try_softmax_inplace<T: Element>(
    x: &mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
) -> Result<(), KernelError> {
    check_matrix("softmax_inplace", x.len(), rows, cols, ld)?;
    let job = Forward {
        log: false,
        x: None,
        cols,
        ld,
        wide: forward_bundles::<T>(rows, cols),
    };
    run_rows(isa::active(), &job, x, rows, cols, cols, ld);
    Ok(())
}

/// Row-wise log-softmax: `y[r, j] = (x[r, j] - m_r) - ln(sum_k exp(x[r, k] - m_r))`.
///
/// Computed without forming `ln(softmax)`: outputs far below the maximum are accurate (no
/// `ln(0)`), e.g. `-1000` stays `-1000`. Layout, conventions, accuracy and threading as in the
/// [module docs](self).
///
/// # Panics
/// As [`softmax`] (see [`try_log_softmax`]).
///
/// ```
/// let x = [0.0f32, -1000.0];
/// let mut y = [0.0f32; 2];
/// nabla_kernels::log_softmax(&x, 1, 2, 2, &mut y);
/// assert_eq!(y, [0.0, -1000.0]);
/// ```
#[track_caller]
pub fn log_softmax<T: Element>(x: &[T], rows: usize, cols: usize, ld: usize, y: &mut [T]) {
    unwrap_or_panic(try_log_softmax(x, rows, cols, ld, y))
}

/// [`log_softmax`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// As [`try_softmax`] (op `"log_softmax"`); on an error nothing is written.
pub fn try_log_softmax<T: Element>(
    x: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    y: &mut [T],
) -> Result<(), KernelError> {
    check_matrix("log_softmax", x.len(), rows, cols, ld)?;
    check_matrix("log_softmax", y.len(), rows, cols, ld)?;
    let job = Forward {
        log: true,
        x: Some(x),
        cols,
        ld,
        wide: forward_bundles::<T>(rows, cols),
    };
    run_rows(isa::active(), &job, y, rows, cols, cols, ld);
    Ok(())
}

/// [`log_softmax`] in place.
///
/// # Panics
/// As [`softmax`] (see [`try_log_softmax_inplace`]).
#[track_caller]
pub fn log_softmax_inplace<T: Element>(x: &mut [T], rows: usize, cols: usize, ld: usize) {
    unwrap_or_panic(try_log_softmax_inplace(x, rows, cols, ld))
}

/// [`log_softmax_inplace`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// As [`try_softmax`] for its `x` (op `"log_softmax_inplace"`); on an error `x` is unchanged.
pub fn try_log_softmax_inplace<T: Element>(
    x: &mut [T],
    rows: usize,
    cols: usize,
    ld: usize,
) -> Result<(), KernelError> {
    check_matrix("log_softmax_inplace", x.len(), rows, cols, ld)?;
    let job = Forward {
        log: true,
        x: None,
        cols,
        ld,
        wide: forward_bundles::<T>(rows, cols),
    };
    run_rows(isa::active(), &job, x, rows, cols, cols, ld);
    Ok(())
}

/// Row-wise log-sum-exp: `out[r] = m_r + ln(sum_j exp(x[r, j] - m_r))`, one value per row.
///
/// `-inf` for a row of only `-inf` and for `cols == 0`; `+inf` if the row has a `+inf`; NaN if
/// it has a NaN. Accuracy about `(|out| + |ln sum| + d + 2) * eps` absolute (`d` the summation
/// depth; the logarithm within 1 ULP).
///
/// # Panics
/// If `ld < cols` (with more than one row), `x` is shorter than `(rows - 1) * ld + cols`, or
/// `out.len() != rows`, with the message of the error [`try_logsumexp`] returns.
///
/// ```
/// let x = [1e4f64, 1e4, 0.0, f64::NEG_INFINITY];
/// let mut out = [0.0f64; 2];
/// nabla_kernels::logsumexp(&x, 2, 2, 2, &mut out);
/// assert_eq!(out[0], 1e4 + std::f64::consts::LN_2);
/// assert_eq!(out[1], 0.0);
/// ```
#[track_caller]
pub fn logsumexp<T: Element>(x: &[T], rows: usize, cols: usize, ld: usize, out: &mut [T]) {
    unwrap_or_panic(try_logsumexp(x, rows, cols, ld, out))
}

/// [`logsumexp`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// Checked in this order; on an error nothing is written:
/// * [`KernelError::Invalid`] if `ld < cols` with more than one row (or the view's extent
///   overflows `usize`);
/// * [`KernelError::OutOfBounds`] if `x` is shorter than `(rows - 1) * ld + cols`;
/// * [`KernelError::LengthMismatch`] if `out.len() != rows` (`expected` is `rows`).
///
/// ```
/// use nabla_kernels::KernelError;
/// let mut out = [0.0f32; 2];
/// let e = nabla_kernels::try_logsumexp(&[0.0f32; 9], 3, 3, 3, &mut out);
/// assert_eq!(e, Err(KernelError::LengthMismatch { op: "logsumexp", expected: 3, got: 2 }));
/// ```
pub fn try_logsumexp<T: Element>(
    x: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    out: &mut [T],
) -> Result<(), KernelError> {
    check_matrix("logsumexp", x.len(), rows, cols, ld)?;
    check_len("logsumexp", rows, out.len())?;
    let job = Lse { x, cols, ld };
    run_rows(isa::active(), &job, out, rows, cols, 1, 1);
    Ok(())
}

/// Checks the three matrices of a backward pass, in the order `y`, `dy`, `dx`.
fn check_backward(
    op: &'static str,
    lens: [usize; 3],
    rows: usize,
    cols: usize,
    ld: usize,
) -> Result<(), KernelError> {
    lens.into_iter()
        .try_for_each(|len| check_matrix(op, len, rows, cols, ld))
}

/// Backward of [`softmax`]: given its output `y` and the gradient `dy` of a loss with respect
/// to `y`, writes `dx[r, j] = y[r, j] * (dy[r, j] - sum_k dy[r, k] * y[r, k])`.
///
/// All three matrices share the shape and stride. The row dot product follows [`dot`](crate::dot)
/// (same order and accuracy); each output then takes two roundings.
///
/// # Panics
/// If a matrix is shorter than `(rows - 1) * ld + cols`, or `ld < cols` with more than one row,
/// with the message of the error [`try_softmax_backward`] returns.
///
/// ```
/// let y = [0.25f32, 0.75];
/// let dy = [1.0f32, 0.0];
/// let mut dx = [0.0f32; 2];
/// nabla_kernels::softmax_backward(&y, &dy, 1, 2, 2, &mut dx);
/// assert_eq!(dx, [0.25 * 0.75, -0.75 * 0.25]);
/// ```
#[track_caller]
pub fn softmax_backward<T: Element>(
    y: &[T],
    dy: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    dx: &mut [T],
) {
    unwrap_or_panic(try_softmax_backward(y, dy, rows, cols, ld, dx))
}

/// [`softmax_backward`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// Checked in this order; on an error nothing is written:
/// * [`KernelError::Invalid`] if `ld < cols` with more than one row (or the view's extent
///   overflows `usize`);
/// * [`KernelError::OutOfBounds`] if `y`, then `dy`, then `dx` is shorter than
///   `(rows - 1) * ld + cols` (`needed` that, `len` the slice's length).
///
/// ```
/// use nabla_kernels::KernelError;
/// let mut dx = [0.0f32; 4];
/// let e = nabla_kernels::try_softmax_backward(&[0.5f32; 4], &[1.0; 3], 2, 2, 2, &mut dx);
/// assert_eq!(e, Err(KernelError::OutOfBounds { op: "softmax_backward", needed: 4, len: 3 }));
/// ```
pub fn try_softmax_backward<T: Element>(
    y: &[T],
    dy: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    dx: &mut [T],
) -> Result<(), KernelError> {
    check_backward(
        "softmax_backward",
        [y.len(), dy.len(), dx.len()],
        rows,
        cols,
        ld,
    )?;
    let job = Backward {
        log: false,
        y,
        dy,
        cols,
        ld,
        wide: bundles_pay::<T>(rows.saturating_mul(cols), 3),
    };
    run_rows(isa::active(), &job, dx, rows, cols, cols, ld);
    Ok(())
}

/// Backward of [`log_softmax`]: given its output `y` and the gradient `dy`, writes
/// `dx[r, j] = dy[r, j] - exp(y[r, j]) * sum_k dy[r, k]`.
///
/// Uses the vector [`exp`](crate::math::exp) (1 ULP); the row sum follows [`sum`](crate::sum).
///
/// # Panics
/// As [`softmax_backward`] (see [`try_log_softmax_backward`]).
///
/// ```
/// let y = [0.5f64.ln(), 0.5f64.ln()];
/// let dy = [1.0f64, 3.0];
/// let mut dx = [0.0f64; 2];
/// nabla_kernels::log_softmax_backward(&y, &dy, 1, 2, 2, &mut dx);
/// assert!((dx[0] + 1.0).abs() < 1e-15 && (dx[1] - 1.0).abs() < 1e-15);
/// ```
#[track_caller]
pub fn log_softmax_backward<T: Element>(
    y: &[T],
    dy: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    dx: &mut [T],
) {
    unwrap_or_panic(try_log_softmax_backward(y, dy, rows, cols, ld, dx))
}

/// [`log_softmax_backward`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// As [`try_softmax_backward`] (op `"log_softmax_backward"`); on an error nothing is written.
pub fn try_log_softmax_backward<T: Element>(
    y: &[T],
    dy: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    dx: &mut [T],
) -> Result<(), KernelError> {
    check_backward(
        "log_softmax_backward",
        [y.len(), dy.len(), dx.len()],
        rows,
        cols,
        ld,
    )?;
    let job = Backward {
        log: true,
        y,
        dy,
        cols,
        ld,
        wide: bundles_pay::<T>(rows.saturating_mul(cols), 3),
    };
    run_rows(isa::active(), &job, dx, rows, cols, cols, ld);
    Ok(())
}
