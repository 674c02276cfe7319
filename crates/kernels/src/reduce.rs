//! Reductions over a slice or along the rows of a row-major matrix: sum, dot, max, min, argmax,
//! argmin, L2 norm, mean and (population) variance, for `f32` and `f64`.
//!
//! # Fixed summation order
//!
//! Every reduction splits its input into blocks of [`BLOCK`] elements. A block is reduced with
//! several independent SIMD accumulators (in a fixed order for a given instruction set), and the
//! block partials are combined in a fixed binary tree that depends only on the number of
//! blocks: the tree a left-to-right binary counter builds (complete power-of-two subtrees left to
//! right, then the leftover subtrees combined right to left). When the input is large enough
//! ([`crate::parallel`] decides, with the threshold [`PAR_THRESHOLD`]) aligned
//! power-of-two groups of blocks are reduced on rayon's pool; such groups are exactly subtrees
//! of that tree, so **the result is bit-identical whatever the thread count**. It may differ
//! between instruction-set paths (they have different vector widths, and only AVX2/AVX-512 fuse
//! multiply-adds).
//!
//! # Accuracy
//!
//! A sum computed this way adds each element into a chain of at most
//! `BLOCK / (ACC * LANES)` others (`ACC` = 8 accumulators, `LANES` = 1 on the scalar path, 4-16
//! on SIMD paths) and then through at most `3 + log2(LANES) + ceil(log2(n / BLOCK))` tree levels.
//! With `d` that depth (at most 520 on the scalar path for one block, 39 for AVX-512 `f32`,
//! plus the block levels), the error is bounded by
//! `|computed - exact| <= d * eps * sum(|x_i|)` (to first order; `eps` = [`Element::EPSILON`]):
//! the pairwise-summation bound with a short sequential base case. In practice (random rounding
//! errors) the error is that of pairwise summation: on 2^24 uniform `[0, 1)` `f32` values it is
//! within 2x of classic recursive pairwise summation (checked by `tests/reduce.rs`).
//!
//! # NaN and infinities
//!
//! Sums, dots, means and variances follow IEEE arithmetic (NaN in, NaN out; `inf - inf` is
//! NaN). [`max`], [`min`] and the row forms **propagate NaN**: if any element is NaN the result
//! is NaN. [`argmax`]/[`argmin`] return the index of the **first NaN** if there is one, else the
//! first index of the extreme value. The sign of a zero maximum (`max(-0.0, 0.0)`) is
//! unspecified. [`l2_norm`] is NaN if any element is NaN, else infinite if any is infinite.
//!
//! # Errors
//!
//! The row forms panic on a shape that does not fit, with a [`KernelError`] message naming the
//! operation and both sizes; each has a `try_` form (e.g. [`try_sum_rows`]) that returns the
//! error instead, before writing anything. [`dot`] and [`try_dot`] do the same for lengths.

use crate::element::Element;
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa::{self, Isa};
use crate::parallel;
use crate::simd::{Simd, SimdOp};
use rayon::prelude::*;

/// Elements per block: the unit of the fixed reduction order (a constant, never the thread
/// count).
pub const BLOCK: usize = 4096;

/// Under [`Parallelism::Auto`](crate::parallel::Parallelism::Auto), reductions use rayon from
/// this many elements on (2^20).
///
/// Measured (AVX-512, 2-core AMD EPYC Zen 4 VM shared with other jobs): a fan-out to the pool
/// costs 10-15 microseconds, and one core sums 2^20 `f32` in about 45 microseconds (L2/L3
/// resident, ~24 Gelem/s); below 2^20 elements splitting was always slower, at 2^22 break-even,
/// beyond it bandwidth-bound either way. With more (idle) cores the break-even moves down, but
/// never below a few times the fan-out cost: 2^20 is safe on both sides.
pub const PAR_THRESHOLD: usize = 1 << 20;

/// Row-wise kernels aim for at least this many elements per rayon task.
const MIN_TASK_ELEMS: usize = 1 << 15;

// ============================================================================ shared machinery

/// Checks a row-major `rows x cols` view with row stride `ld` over a slice of `len` elements.
pub(crate) fn check_matrix(
    op: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    ld: usize,
) -> Result<(), KernelError> {
    if rows > 1 && ld < cols {
        return Err(KernelError::Invalid {
            op,
            reason: format!("row stride ld = {ld} is smaller than cols = {cols}"),
        });
    }
    let needed = if rows == 0 || cols == 0 {
        0
    } else {
        (rows - 1)
            .checked_mul(ld)
            .and_then(|v| v.checked_add(cols))
            .ok_or_else(|| KernelError::Invalid {
                op,
                reason: format!("a {rows} x {cols} view with stride {ld} overflows usize"),
            })?
    };
    if needed > len {
        return Err(KernelError::OutOfBounds { op, needed, len });
    }
    Ok(())
}

/// Checks that a slice has the length the operation needs.
pub(crate) fn check_len(op: &'static str, expected: usize, got: usize) -> Result<(), KernelError> {
    if expected == got {
        Ok(())
    } else {
        Err(KernelError::LengthMismatch { op, expected, got })
    }
}

/// Row `r` (its first `cols` elements) of a checked row-major view.
#[inline(always)]
pub(crate) fn row<T>(x: &[T], r: usize, cols: usize, ld: usize) -> &[T] {
    if cols == 0 {
        return &[];
    }
    &x[r * ld..r * ld + cols]
}

/// How many rows one rayon task takes in a row-wise kernel: at least `MIN_TASK_ELEMS` elements,
/// and about four tasks per thread.
pub(crate) fn rows_per_task(rows: usize, cols: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    rows.div_ceil(4 * threads)
        .max(MIN_TASK_ELEMS.div_ceil(cols.max(1)))
        .max(1)
}

/// Folds `N` equally long slices with `U` independent accumulators: the inner loop of every
/// reduction.
///
/// Vector `j` (elements `j*LANES ..`) of the unrolled part goes to accumulator `j % U`; the up to
/// `U - 1` full vectors after it go to accumulators `0, 1, ...`; the final partial vector (its
/// missing lanes set to `fill`, which must be neutral for `step`) goes to accumulator `U - 1`.
/// `step(acc, vectors, i)` receives the element offset `i` of the vectors. The order is fixed
/// for a given length and path, wherever the slices lie: on a path with a fast
/// [`Simd::funnel`] (AVX-512), slices that do not start on a vector boundary are read with
/// aligned loads, each vector built from the two around it, which are the same lanes.
///
/// `step` must stay a few vector operations: a closure cannot be `#[inline(always)]`, and one
/// LLVM declines to inline is compiled without the path's target features (every intrinsic in
/// it becomes a call). Larger bodies belong in `#[inline(always)]` functions called directly,
/// as `softmax::exp_vec` is.
///
/// # Panics
/// If the slices differ in length.
#[inline(always)]
pub(crate) fn fold<T, S, A, const N: usize, const U: usize>(
    s: S,
    xs: [&[T]; N],
    fill: [T; N],
    init: A,
    step: impl Fn(A, [S::V; N], usize) -> A,
) -> [A; U]
where
    T: Element,
    S: Simd<T>,
    A: Copy,
{
    let n = xs[0].len();
    for x in &xs {
        assert_eq!(
            x.len(),
            n,
            "nabla-kernels: fold over slices of unequal lengths"
        );
    }
    let l = S::LANES;
    let mut acc = [init; U];
    let mut i = 0;
    // Each slice's offset from a vector boundary, in elements. (Loops, not closures, build the
    // arrays here: see the note on `step` above.)
    let mut offset = [0usize; N];
    for j in 0..N {
        offset[j] = xs[j].as_ptr() as usize % (l * size_of::<T>()) / size_of::<T>();
    }
    if S::FAST_FUNNEL && offset.iter().any(|&o| o != 0) && n >= (U + 1) * l {
        // Built from aligned loads: vector `i` of slice `j` is the funnel of the two aligned
        // vectors around it (see `Simd::funnel`), the same lanes, so the same bits, as an
        // unaligned load, but no load straddles two cache lines (such a load costs two). One
        // core, unaligned loads -> funnels: `cargo xtask perf` (inputs where the allocator put
        // them, 16 bytes past a line), two interleaved pairs, `sum/f32/dram` 2.07-2.21 ->
        // 1.69-1.90 ms, `dot/f32/dram` 3.79-3.93 -> 3.09-3.25 ms, f64 likewise; the L2 rows
        // within 1%; `sum|dot/f32/l1_off16` (4096 `f32` 16 bytes past a line), two pairs,
        // `sum` 68.1-68.9 -> 48.8-49.4 ns, `dot` 125.8-127.0 -> 94.9-95.7 ns (line-aligned: 38
        // and 69 ns). At some sizes within L2 `dot` lost up to 6% (32768 `f32`: 25.3 -> 23.7
        // Gelem/s in one run of a scratch program, not kept).
        // `prev[j]` holds slice `j`'s elements `i - offset .. i - offset + LANES` in the lanes
        // from `offset` on (lanes below it are not read).
        let mut prev = [s.splat(T::ZERO); N];
        for j in 0..N {
            // SAFETY: `l <= n` elements (the condition above).
            let first = unsafe { s.load(xs[j].as_ptr()) };
            prev[j] = s.funnel(prev[j], first, l - offset[j]);
        }
        while i + (U + 1) * l <= n {
            for (k, a) in acc.iter_mut().enumerate() {
                let at = i + k * l;
                let mut v = prev;
                for j in 0..N {
                    // SAFETY: elements `at + l - offset .. at + 2l - offset` of slice `j`, all
                    // below `i + (U + 1) l <= n` (`k < U`, `offset >= 0`) and at or above
                    // `at + 1 > 0` (`offset < l`).
                    let next = unsafe { s.load(xs[j].as_ptr().add(at + l - offset[j])) };
                    v[j] = s.funnel(prev[j], next, offset[j]);
                    prev[j] = next;
                }
                *a = step(*a, v, at);
            }
            i += U * l;
        }
    }
    // SAFETY (all `load_n` calls below): `i + LANES <= n`, and each slice has exactly `n`
    // elements (asserted above).
    while i + U * l <= n {
        for (k, a) in acc.iter_mut().enumerate() {
            // SAFETY: see above.
            *a = step(*a, unsafe { load_n(s, &xs, i + k * l) }, i + k * l);
        }
        i += U * l;
    }
    for a in acc.iter_mut() {
        if i + l <= n {
            // SAFETY: see above.
            *a = step(*a, unsafe { load_n(s, &xs, i) }, i);
            i += l;
        }
    }
    if i < n {
        let mut v = [s.splat(T::ZERO); N];
        for j in 0..N {
            v[j] = s.load_partial(&xs[j][i..], fill[j]);
        }
        acc[U - 1] = step(acc[U - 1], v, i);
    }
    acc
}

/// Loads the vector at element `i` of each of `N` slices.
///
/// # Safety
/// `i + LANES <= x.len()` for every slice `x`.
#[inline(always)]
unsafe fn load_n<T: Element, S: Simd<T>, const N: usize>(
    s: S,
    xs: &[&[T]; N],
    i: usize,
) -> [S::V; N] {
    let mut v = [s.splat(T::ZERO); N];
    for j in 0..N {
        debug_assert!(i + S::LANES <= xs[j].len());
        // SAFETY: the caller's contract.
        v[j] = unsafe { s.load(xs[j].as_ptr().add(i)) };
    }
    v
}

/// Combines `U` (a power of two) accumulators pairwise: `acc[j] = merge(acc[j], acc[j + w])` for
/// `w = U/2, U/4, ..., 1`.
#[inline(always)]
pub(crate) fn merge_tree<A: Copy, const U: usize>(mut acc: [A; U], merge: impl Fn(A, A) -> A) -> A {
    debug_assert!(U.is_power_of_two());
    let mut w = U;
    while w > 1 {
        w /= 2;
        for j in 0..w {
            acc[j] = merge(acc[j], acc[j + w]);
        }
    }
    acc[0]
}

/// A reduction, described by how it reduces one block and how it combines two partials.
pub(crate) trait BlockReduce<T: Element> {
    /// A block's partial result.
    type P: Copy + Send;
    /// The partial of elements `start..end` (`0 < end - start <= BLOCK`). `#[inline(always)]`.
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> Self::P;
    /// Combines the partials of two adjacent ranges, `a` on the left.
    fn combine(&self, a: Self::P, b: Self::P) -> Self::P;
}

/// Deepest stack a [`Counter`] can need (one entry per bit of the block count).
const COUNTER_DEPTH: usize = usize::BITS as usize;

/// Streaming pairwise combination: a binary counter whose entries are complete power-of-two
/// subtrees. Pushing `m` partials and finishing gives a tree that depends only on `m`.
pub(crate) struct Counter<P> {
    stack: [Option<P>; COUNTER_DEPTH],
    len: usize,
    count: usize,
}

impl<P: Copy> Counter<P> {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Counter {
            stack: [None; COUNTER_DEPTH],
            len: 0,
            count: 0,
        }
    }

    #[inline(always)]
    fn pop(&mut self) -> P {
        self.len -= 1;
        self.stack[self.len].expect("counter entries below len are set")
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, mut p: P, combine: impl Fn(P, P) -> P) {
        let mut c = self.count;
        while c & 1 == 1 {
            p = combine(self.pop(), p);
            c >>= 1;
        }
        self.stack[self.len] = Some(p);
        self.len += 1;
        self.count += 1;
    }

    /// Combines the entries right to left, `last` (a partial of everything after them) first.
    #[inline(always)]
    pub(crate) fn finish(mut self, last: Option<P>, combine: impl Fn(P, P) -> P) -> Option<P> {
        let mut acc = last;
        while self.len > 0 {
            let left = self.pop();
            acc = Some(match acc {
                None => left,
                Some(right) => combine(left, right),
            });
        }
        acc
    }
}

/// The partial of blocks `first..last` (non-empty) of an `n`-element reduction, on one thread.
#[inline(always)]
pub(crate) fn reduce_blocks<T: Element, S: Simd<T>, K: BlockReduce<T>>(
    s: S,
    k: &K,
    n: usize,
    first: usize,
    last: usize,
) -> K::P {
    // `k.block` is called directly, not through a closure: a closure is a function of its own
    // without the path's target features, and a large block body may not be inlined into it.
    let end = |b: usize| ((b + 1) * BLOCK).min(n);
    if last - first == 1 {
        return k.block(s, first * BLOCK, end(first));
    }
    let mut c = Counter::new();
    for b in first..last {
        c.push(k.block(s, b * BLOCK, end(b)), |x, y| k.combine(x, y));
    }
    c.finish(None, |x, y| k.combine(x, y))
        .expect("at least one block")
}

/// [`reduce_blocks`] as a dispatchable op.
struct Blocks<'a, K> {
    k: &'a K,
    n: usize,
    first: usize,
    last: usize,
}

impl<T: Element, K: BlockReduce<T>> SimdOp<T> for Blocks<'_, K> {
    type Output = K::P;
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) -> K::P {
        reduce_blocks(s, self.k, self.n, self.first, self.last)
    }
}

/// Reduces `n` elements with `k` on `isa`, in parallel above `threshold`; `None` if `n == 0`.
pub(crate) fn reduce_slice<T: Element, K: BlockReduce<T> + Sync>(
    isa: Isa,
    k: &K,
    n: usize,
    threshold: usize,
) -> Option<K::P> {
    if n == 0 {
        return None;
    }
    let nb = n.div_ceil(BLOCK);
    if nb < 2 || !parallel::should_split(n, threshold) {
        return Some(T::dispatch(
            isa,
            Blocks {
                k,
                n,
                first: 0,
                last: nb,
            },
        ));
    }
    // Groups of `g` (a power of two) blocks are complete subtrees of the counter's tree: any `g`
    // gives the same bits, so it can follow the thread count.
    let threads = rayon::current_num_threads().max(1);
    let g = 1usize << (nb / (4 * threads)).max(1).ilog2();
    let groups = nb / g;
    let parts: Vec<K::P> = (0..groups)
        .into_par_iter()
        .map(|i| {
            T::dispatch(
                isa,
                Blocks {
                    k,
                    n,
                    first: i * g,
                    last: (i + 1) * g,
                },
            )
        })
        .collect();
    let rest = (groups * g < nb).then(|| {
        T::dispatch(
            isa,
            Blocks {
                k,
                n,
                first: groups * g,
                last: nb,
            },
        )
    });
    let mut c = Counter::new();
    for p in parts {
        c.push(p, |x, y| k.combine(x, y));
    }
    c.finish(rest, |x, y| k.combine(x, y))
}

/// Row-wise reduction op: `out[i] = finish(reduce(row first_row + i))`.
struct Rows<'a, B, F, O> {
    build: &'a B,
    finish: &'a F,
    first_row: usize,
    cols: usize,
    out: &'a mut [O],
}

impl<T, K, B, F, O> SimdOp<T> for Rows<'_, B, F, O>
where
    T: Element,
    K: BlockReduce<T>,
    B: Fn(usize) -> K,
    F: Fn(Option<K::P>) -> O,
{
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let nb = self.cols.div_ceil(BLOCK);
        for (i, o) in self.out.iter_mut().enumerate() {
            let k = (self.build)(self.first_row + i);
            let p = (nb > 0).then(|| reduce_blocks(s, &k, self.cols, 0, nb));
            *o = (self.finish)(p);
        }
    }
}

/// Reduces each of `out.len()` rows of `cols` elements: row `r` is reduced by `build(r)` exactly
/// as the whole-slice form reduces a slice (same bits), and `out[r] = finish(partial)`.
/// Rows are spread over rayon's pool when the matrix is large enough.
pub(crate) fn reduce_rows<T, K, B, F, O>(
    isa: Isa,
    cols: usize,
    out: &mut [O],
    build: B,
    finish: F,
    threshold: usize,
) where
    T: Element,
    K: BlockReduce<T>,
    B: Fn(usize) -> K + Sync,
    F: Fn(Option<K::P>) -> O + Sync,
    O: Send,
{
    let rows = out.len();
    let op = |first_row: usize, out: &mut [O]| {
        T::dispatch(
            isa,
            Rows {
                build: &build,
                finish: &finish,
                first_row,
                cols,
                out,
            },
        )
    };
    if rows >= 2 && parallel::should_split(rows.saturating_mul(cols), threshold) {
        let per = rows_per_task(rows, cols);
        out.par_chunks_mut(per)
            .enumerate()
            .for_each(|(c, o)| op(c * per, o));
    } else {
        op(0, out);
    }
}

/// `T` from a count.
#[inline(always)]
fn from_count<T: Element>(n: usize) -> T {
    T::from_f64(n as f64)
}

// ============================================================================ kernels

/// Sum of one slice.
pub(crate) struct SumK<'a, T> {
    pub(crate) x: &'a [T],
}

impl<T: Element> BlockReduce<T> for SumK<'_, T> {
    type P = T;
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> T {
        let acc = fold::<T, S, S::V, 1, 8>(
            s,
            [&self.x[start..end]],
            [T::ZERO],
            s.splat(T::ZERO),
            |a, [v], _| s.add(a, v),
        );
        s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)))
    }
    #[inline(always)]
    fn combine(&self, a: T, b: T) -> T {
        a + b
    }
}

/// Dot product of two slices.
pub(crate) struct DotK<'a, T> {
    pub(crate) x: &'a [T],
    pub(crate) y: &'a [T],
}

impl<T: Element> BlockReduce<T> for DotK<'_, T> {
    type P = T;
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> T {
        let acc = fold::<T, S, S::V, 2, 8>(
            s,
            [&self.x[start..end], &self.y[start..end]],
            [T::ZERO; 2],
            s.splat(T::ZERO),
            |a, [u, v], _| s.mul_add(u, v, a),
        );
        s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)))
    }
    #[inline(always)]
    fn combine(&self, a: T, b: T) -> T {
        a + b
    }
}

/// Maximum (`MAX = true`) or minimum, propagating NaN.
pub(crate) struct ExtremeK<'a, T, const MAX: bool> {
    pub(crate) x: &'a [T],
}

impl<T: Element, const MAX: bool> ExtremeK<'_, T, MAX> {
    /// The identity: `-inf` for max, `+inf` for min.
    const IDENTITY: T = if MAX { T::NEG_INFINITY } else { T::INFINITY };
}

/// The larger (`MAX`) or smaller of two vectors (either lane when they are NaN).
#[inline(always)]
fn extreme<T: Element, S: Simd<T>, const MAX: bool>(s: S, a: S::V, b: S::V) -> S::V {
    if MAX { s.max(a, b) } else { s.min(a, b) }
}

/// Whether `b` is strictly better than `a` (greater for `MAX`), per lane; false with NaN.
#[inline(always)]
fn better<T: Element, S: Simd<T>, const MAX: bool>(s: S, a: S::V, b: S::V) -> S::M {
    if MAX { s.lt(a, b) } else { s.lt(b, a) }
}

/// A mask with no lane set.
#[inline(always)]
fn no_lanes<T: Element, S: Simd<T>>(s: S) -> S::M {
    let z = s.splat(T::ZERO);
    s.lt(z, z)
}

impl<T: Element, const MAX: bool> BlockReduce<T> for ExtremeK<'_, T, MAX> {
    type P = T;
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> T {
        let acc = fold::<T, S, (S::V, S::M), 1, 4>(
            s,
            [&self.x[start..end]],
            [Self::IDENTITY],
            (s.splat(Self::IDENTITY), no_lanes(s)),
            |(m, nan), [v], _| (extreme::<T, S, MAX>(s, m, v), s.mask_or(nan, s.is_nan(v))),
        );
        let (m, nan) = merge_tree(acc, |(a, na), (b, nb)| {
            (extreme::<T, S, MAX>(s, a, b), s.mask_or(na, nb))
        });
        if s.any(nan) {
            T::NAN
        } else if MAX {
            s.reduce_max(m)
        } else {
            s.reduce_min(m)
        }
    }
    #[inline(always)]
    fn combine(&self, a: T, b: T) -> T {
        if a.is_nan() || b.is_nan() {
            T::NAN
        } else if (MAX && b > a) || (!MAX && b < a) {
            b
        } else {
            a
        }
    }
}

/// Index of the maximum (`MAX = true`) or minimum: the first NaN, else the first extreme.
struct ArgK<'a, T, const MAX: bool> {
    x: &'a [T],
}

impl<T: Element, const MAX: bool> BlockReduce<T> for ArgK<'_, T, MAX> {
    /// `(value, index)`: the value is NaN when the index is that of the first NaN.
    type P = (T, usize);
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> (T, usize) {
        let x = &self.x[start..end];
        let identity = ExtremeK::<T, MAX>::IDENTITY;
        // Per lane: the best value so far and the offset of the vector it came from (exact as
        // a float: offsets are below BLOCK); a lane moves only on strict improvement, so it
        // keeps the first occurrence. Lanes never improved keep offset 0: they matter only when
        // the whole block is the identity, whose answer is the block's first element.
        let acc = fold::<T, S, (S::V, S::V, S::M), 1, 2>(
            s,
            [x],
            [identity],
            (s.splat(identity), s.splat(T::ZERO), no_lanes(s)),
            |(best, at, nan), [v], i| {
                let b = better::<T, S, MAX>(s, best, v);
                (
                    s.select(b, v, best),
                    s.select(b, s.splat(from_count(i)), at),
                    s.mask_or(nan, s.is_nan(v)),
                )
            },
        );
        if acc.iter().any(|a| s.any(a.2)) {
            let i = x.iter().position(|v| v.is_nan()).expect("a NaN lane");
            return (T::NAN, start + i);
        }
        let mut vals = [T::ZERO; crate::simd::MAX_LANES];
        let mut ats = [T::ZERO; crate::simd::MAX_LANES];
        let mut best = (identity, usize::MAX);
        for a in acc {
            // SAFETY: both buffers hold MAX_LANES >= LANES elements.
            unsafe {
                s.store(vals.as_mut_ptr(), a.0);
                s.store(ats.as_mut_ptr(), a.1);
            }
            for lane in 0..S::LANES {
                let (v, at) = (vals[lane], ats[lane].to_f64() as usize + lane);
                let strictly = if MAX { v > best.0 } else { v < best.0 };
                if strictly || (v == best.0 && at < best.1) {
                    best = (v, at);
                }
            }
        }
        (best.0, start + best.1.min(x.len() - 1))
    }
    #[inline(always)]
    fn combine(&self, a: (T, usize), b: (T, usize)) -> (T, usize) {
        let b_wins = !a.0.is_nan() && (b.0.is_nan() || if MAX { b.0 > a.0 } else { b.0 < a.0 });
        if b_wins { b } else { a }
    }
}

/// `x * 2^e` for a scalar, exact unless the result over- or underflows.
#[inline(always)]
fn mul_pow2<T: Element>(mut x: T, mut e: i32) -> T {
    let step = T::EXPONENT_BIAS - 1;
    let pow2 = |k: i32| T::from_bits_u64(((k + T::EXPONENT_BIAS) as u64) << T::MANTISSA_BITS);
    while e > step {
        x *= pow2(step);
        e -= step;
    }
    while e < -step {
        x *= pow2(-step);
        e += step;
    }
    x * pow2(e)
}

/// The unbiased binary exponent of a finite positive `x` (subnormals report the minimum).
#[inline(always)]
fn exponent<T: Element>(x: T) -> i32 {
    let biased = (x.to_bits_u64() >> T::MANTISSA_BITS) as i32;
    biased.max(1) - T::EXPONENT_BIAS
}

/// A sum of squares kept as `ssq * 4^k` with `ssq` in a safe range.
#[derive(Clone, Copy, Debug)]
struct Ssq<T> {
    k: i32,
    ssq: T,
}

impl<T: Element> Ssq<T> {
    /// Renormalizes so that `ssq` stays far from overflow: partials can then be added freely.
    #[inline(always)]
    fn normalized(k: i32, ssq: T) -> Self {
        if ssq.is_finite() && ssq > T::ONE {
            let e = exponent(ssq) / 2;
            Ssq {
                k: k + e,
                ssq: mul_pow2(ssq, -2 * e),
            }
        } else {
            Ssq { k, ssq }
        }
    }
}

/// Sum of squares for the L2 norm, without overflow or harmful underflow.
struct SsqK<'a, T> {
    x: &'a [T],
}

impl<T: Element> BlockReduce<T> for SsqK<'_, T> {
    type P = Ssq<T>;
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> Ssq<T> {
        let x = &self.x[start..end];
        // Fast path: the plain sum of squares. It is exact enough when finite (no square
        // overflowed: the sum is monotone) and not tiny (squares that underflowed add at most
        // BLOCK * MIN_POSITIVE * EPSILON absolutely, negligible against this bound).
        let acc = fold::<T, S, S::V, 1, 8>(s, [x], [T::ZERO], s.splat(T::ZERO), |a, [v], _| {
            s.mul_add(v, v, a)
        });
        let ssq = s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)));
        let small = T::MIN_POSITIVE / (T::EPSILON * T::EPSILON);
        if ssq.is_finite() && ssq >= small {
            return Ssq::normalized(0, ssq);
        }
        // Slow path (blocks with huge, tiny, zero, infinite or NaN entries): scale by a power of
        // two near 1 / max|x| so that the squares are around 1.
        let abs_bits = s.splat_bits((1u64 << (8 * core::mem::size_of::<T>() - 1)) - 1);
        let acc = fold::<T, S, (S::V, S::M), 1, 4>(
            s,
            [x],
            [T::ZERO],
            (s.splat(T::ZERO), no_lanes(s)),
            |(m, nan), [v], _| {
                (
                    s.max(m, s.bit_and(v, abs_bits)),
                    s.mask_or(nan, s.is_nan(v)),
                )
            },
        );
        let (m, nan) = merge_tree(acc, |(a, na), (b, nb)| (s.max(a, b), s.mask_or(na, nb)));
        let amax = if s.any(nan) { T::NAN } else { s.reduce_max(m) };
        if amax.is_nan() || amax == T::INFINITY || amax == T::ZERO {
            return Ssq {
                k: 0,
                ssq: amax * amax,
            };
        }
        let e = exponent(amax);
        let scale = s.splat(mul_pow2(T::ONE, -e));
        let acc = fold::<T, S, S::V, 1, 8>(s, [x], [T::ZERO], s.splat(T::ZERO), |a, [v], _| {
            let y = s.mul(v, scale);
            s.mul_add(y, y, a)
        });
        let ssq = s.reduce_add(merge_tree(acc, |a, b| s.add(a, b)));
        // The squares were scaled by (2^-e)^2 = 4^-e.
        Ssq::normalized(e, ssq)
    }
    #[inline(always)]
    fn combine(&self, a: Ssq<T>, b: Ssq<T>) -> Ssq<T> {
        let k = a.k.max(b.k);
        let sum = mul_pow2(a.ssq, 2 * (a.k - k)) + mul_pow2(b.ssq, 2 * (b.k - k));
        Ssq::normalized(k, sum)
    }
}

impl<T: Element> Ssq<T> {
    /// `sqrt(ssq * 4^k)`.
    #[inline(always)]
    fn norm(self) -> T {
        mul_pow2(self.ssq.sqrt(), self.k)
    }
}

/// Sums of `x - mean` and of its square (the corrected two-pass variance).
struct CenteredK<'a, T> {
    x: &'a [T],
    mean: T,
}

impl<T: Element> BlockReduce<T> for CenteredK<'_, T> {
    type P = (T, T);
    #[inline(always)]
    fn block<S: Simd<T>>(&self, s: S, start: usize, end: usize) -> (T, T) {
        let m = s.splat(self.mean);
        let zero = s.splat(T::ZERO);
        let acc = fold::<T, S, (S::V, S::V), 1, 4>(
            s,
            [&self.x[start..end]],
            [self.mean],
            (zero, zero),
            |(d1, d2), [v], _| {
                let d = s.sub(v, m);
                (s.add(d1, d), s.mul_add(d, d, d2))
            },
        );
        let (d1, d2) = merge_tree(acc, |(a1, a2), (b1, b2)| (s.add(a1, b1), s.add(a2, b2)));
        (s.reduce_add(d1), s.reduce_add(d2))
    }
    #[inline(always)]
    fn combine(&self, a: (T, T), b: (T, T)) -> (T, T) {
        (a.0 + b.0, a.1 + b.1)
    }
}

/// Population variance from the centered sums of `n` elements.
#[inline(always)]
fn variance_from<T: Element>(sums: (T, T), n: usize) -> T {
    let n = from_count::<T>(n);
    let v = (sums.1 - sums.0 * sums.0 / n) / n;
    // The correction can round below zero for (near-)constant data.
    if v < T::ZERO { T::ZERO } else { v }
}

/// Whole-slice sum on `isa` (used by mean and variance).
fn sum_on<T: Element>(isa: Isa, x: &[T]) -> T {
    reduce_slice(isa, &SumK { x }, x.len(), PAR_THRESHOLD).unwrap_or(T::ZERO)
}

// ============================================================================ public: slices

/// Sum of the elements: `sum_i x[i]`; `0` for an empty slice.
///
/// **Accuracy**: `|computed - exact| <= d * eps * sum |x_i|` with `d` the depth described in the
/// [module docs](self) (at most 520 on the scalar path, 39 for AVX-512 `f32`, plus
/// `log2(len / 4096)`); in practice the error of pairwise summation.
///
/// **Threads**: parallel above [`PAR_THRESHOLD`] elements under the current
/// [`Parallelism`](crate::parallel::Parallelism), with the same bits as on one thread. The
/// result can differ in the last bits between instruction-set paths.
///
/// ```
/// let x = [1.0f32, 2.0, 3.0, 4.5];
/// assert_eq!(nabla_kernels::sum(&x), 10.5);
/// assert_eq!(nabla_kernels::sum::<f64>(&[]), 0.0);
/// ```
pub fn sum<T: Element>(x: &[T]) -> T {
    sum_on(isa::active(), x)
}

/// Dot product `sum_i x[i] * y[i]`; `0` for empty slices.
///
/// Products are fused into the accumulation on paths with FMA (AVX2, AVX-512), rounded
/// separately on the others. **Accuracy**: as [`sum`], relative to `sum |x_i y_i|`, one more
/// rounding. **Threads**: as [`sum`].
///
/// # Panics
/// If the lengths differ (see [`try_dot`]).
///
/// ```
/// let x = [1.0f64, 2.0, 3.0];
/// let y = [4.0f64, -5.0, 6.0];
/// assert_eq!(nabla_kernels::dot(&x, &y), 12.0);
/// ```
#[track_caller]
pub fn dot<T: Element>(x: &[T], y: &[T]) -> T {
    unwrap_or_panic(try_dot(x, y))
}

/// [`dot`], returning [`KernelError::LengthMismatch`] instead of panicking.
pub fn try_dot<T: Element>(x: &[T], y: &[T]) -> Result<T, KernelError> {
    check_len("dot", x.len(), y.len())?;
    let k = DotK { x, y };
    Ok(reduce_slice(isa::active(), &k, x.len(), PAR_THRESHOLD).unwrap_or(T::ZERO))
}

/// The largest element; **NaN if any element is NaN**; `-inf` for an empty slice.
///
/// Exact (no rounding). Which zero is returned when `-0.0` and `0.0` tie is unspecified.
/// **Threads**: as [`sum`].
///
/// ```
/// assert_eq!(nabla_kernels::max(&[1.0f32, 7.0, -3.0]), 7.0);
/// assert!(nabla_kernels::max(&[1.0f32, f32::NAN, 2.0]).is_nan());
/// ```
pub fn max<T: Element>(x: &[T]) -> T {
    reduce_slice(
        isa::active(),
        &ExtremeK::<T, true> { x },
        x.len(),
        PAR_THRESHOLD,
    )
    .unwrap_or(T::NEG_INFINITY)
}

/// The smallest element; **NaN if any element is NaN**; `+inf` for an empty slice.
///
/// As [`max`], mirrored.
///
/// ```
/// assert_eq!(nabla_kernels::min(&[1.0f64, 7.0, -3.0]), -3.0);
/// ```
pub fn min<T: Element>(x: &[T]) -> T {
    reduce_slice(
        isa::active(),
        &ExtremeK::<T, false> { x },
        x.len(),
        PAR_THRESHOLD,
    )
    .unwrap_or(T::INFINITY)
}

/// Index of the largest element: the **first** such index; the index of the **first NaN** if
/// there is a NaN; `None` for an empty slice. (A slice of only `-inf` gives `Some(0)`.)
///
/// Exact and independent of the path and the thread count.
///
/// ```
/// assert_eq!(nabla_kernels::argmax(&[1.0f32, 7.0, 7.0, -3.0]), Some(1));
/// assert_eq!(nabla_kernels::argmax(&[1.0f32, f32::NAN, 9.0]), Some(1));
/// assert_eq!(nabla_kernels::argmax::<f64>(&[]), None);
/// ```
pub fn argmax<T: Element>(x: &[T]) -> Option<usize> {
    reduce_slice(
        isa::active(),
        &ArgK::<T, true> { x },
        x.len(),
        PAR_THRESHOLD,
    )
    .map(|p| p.1)
}

/// Index of the smallest element: the first such index, or the first NaN; `None` if empty.
///
/// As [`argmax`], mirrored.
///
/// ```
/// assert_eq!(nabla_kernels::argmin(&[3.0f64, -1.0, 2.0, -1.0]), Some(1));
/// ```
pub fn argmin<T: Element>(x: &[T]) -> Option<usize> {
    reduce_slice(
        isa::active(),
        &ArgK::<T, false> { x },
        x.len(),
        PAR_THRESHOLD,
    )
    .map(|p| p.1)
}

/// Euclidean norm `sqrt(sum_i x[i]^2)`, without spurious overflow or underflow; `0` if empty.
///
/// Blocks whose plain sum of squares is finite and not tiny take the fast path (one fused pass,
/// the speed of [`dot`]); other blocks (entries near `1e±19` in `f32`, `1e±154` in `f64`, or
/// beyond) are rescaled by a power of two near `1 / max|x|` and summed again. Partials are kept
/// as `ssq * 4^k`, so `[3e30, 4e30]` gives `5e30` and `[3e-30, 4e-30]` gives `5e-30` in `f32`.
/// The result overflows to `inf` only when the norm itself exceeds the largest finite value.
///
/// NaN if any element is NaN, else `inf` if any is infinite. **Accuracy**: relative error about
/// half that of [`sum`] on the squares plus one rounding (`<= (d/2 + 2) * eps` with `d` the
/// summation depth). **Threads**: as [`sum`].
///
/// ```
/// assert_eq!(nabla_kernels::l2_norm(&[3.0f32, 4.0]), 5.0);
/// let big = nabla_kernels::l2_norm(&[3e30f32, 4e30]); // the squares overflow f32
/// assert!((big / 5e30 - 1.0).abs() < 1e-6);
/// let tiny = nabla_kernels::l2_norm(&[3e-30f32, 4e-30]); // the squares underflow f32
/// assert!((tiny / 5e-30 - 1.0).abs() < 1e-6);
/// ```
pub fn l2_norm<T: Element>(x: &[T]) -> T {
    reduce_slice(isa::active(), &SsqK { x }, x.len(), PAR_THRESHOLD).map_or(T::ZERO, Ssq::norm)
}

/// Arithmetic mean `sum(x) / len`; NaN for an empty slice.
///
/// **Accuracy**: that of [`sum`] plus one rounding. **Threads**: as [`sum`].
///
/// ```
/// assert_eq!(nabla_kernels::mean(&[1.0f64, 2.0, 6.0]), 3.0);
/// ```
pub fn mean<T: Element>(x: &[T]) -> T {
    if x.is_empty() {
        return T::NAN;
    }
    sum_on(isa::active(), x) / from_count(x.len())
}

/// **Population** variance `sum_i (x[i] - mean)^2 / len` (divides by `len`, not `len - 1`);
/// NaN for an empty slice, NaN if any element is NaN or infinite.
///
/// Corrected two-pass algorithm (Chan, Golub & LeVeque): a pass for the mean `m`, then one for
/// `S1 = sum (x - m)` and `S2 = sum (x - m)^2`, and `(S2 - S1^2 / len) / len`, clamped at 0.
/// Reads the input twice. **Accuracy**: relative error about `(d + 4) * eps` where `d` is the
/// summation depth of [`sum`], independent of the size of the mean (no cancellation of
/// `E[x^2] - E[x]^2`). **Threads**: as [`sum`].
///
/// ```
/// let v = nabla_kernels::variance(&[1.0f64, 2.0, 3.0, 4.0]);
/// assert_eq!(v, 1.25);
/// // A large offset does not hurt:
/// assert_eq!(nabla_kernels::variance(&[1e8f64 + 1.0, 1e8 + 2.0, 1e8 + 3.0, 1e8 + 4.0]), 1.25);
/// ```
pub fn variance<T: Element>(x: &[T]) -> T {
    if x.is_empty() {
        return T::NAN;
    }
    let isa = isa::active();
    let mean = sum_on(isa, x) / from_count(x.len());
    let k = CenteredK { x, mean };
    let sums = reduce_slice(isa, &k, x.len(), PAR_THRESHOLD).expect("non-empty");
    variance_from(sums, x.len())
}

// ============================================================================ public: rows

/// The matrix arguments of a row-wise reduction, checked: the view first ([`check_matrix`]),
/// then the length of `out`.
fn check_rows<T, O>(
    op: &'static str,
    x: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    out: &[O],
) -> Result<(), KernelError> {
    check_matrix(op, x.len(), rows, cols, ld)?;
    check_len(op, rows, out.len())
}

/// Generates a row-wise form of a one-input reduction and its `try_` form.
macro_rules! row_reduction {
    (
        $(#[$doc:meta])*
        $name:ident, $try_name:ident, $opname:literal, $out:ty,
        |$xr:ident| $kernel:expr, |$p:ident, $c:ident| $finish:expr
    ) => {
        $(#[$doc])*
        ///
        /// `x` is a row-major `rows x cols` matrix with row stride `ld` (`ld >= cols`; the slice
        /// needs `(rows - 1) * ld + cols` elements), `out` has `rows` elements. Each row gives
        /// exactly the bits the whole-slice form gives on that row. Rows are spread over rayon's
        /// pool above [`PAR_THRESHOLD`] elements (same bits).
        ///
        /// # Panics
        /// If `ld < cols` (with more than one row), the slice is too short, or
        #[doc = concat!(
            "`out.len() != rows`, with the message of the error [`",
            stringify!($try_name),
            "`] returns."
        )]
        #[track_caller]
        pub fn $name<T: Element>(x: &[T], rows: usize, cols: usize, ld: usize, out: &mut [$out]) {
            unwrap_or_panic($try_name(x, rows, cols, ld, out))
        }

        #[doc = concat!(
            "[`",
            stringify!($name),
            "`], returning a [`KernelError`] instead of panicking."
        )]
        ///
        /// # Errors
        /// Checked in this order; on an error nothing is written:
        /// * [`KernelError::Invalid`] if `ld < cols` with more than one row (or the view's
        ///   extent overflows `usize`);
        /// * [`KernelError::OutOfBounds`] if `x` is shorter than `(rows - 1) * ld + cols`
        ///   (`needed` that, `len` the slice's length);
        /// * [`KernelError::LengthMismatch`] if `out.len() != rows` (`expected` is `rows`).
        pub fn $try_name<T: Element>(
            x: &[T],
            rows: usize,
            cols: usize,
            ld: usize,
            out: &mut [$out],
        ) -> Result<(), KernelError> {
            check_rows($opname, x, rows, cols, ld, out)?;
            reduce_rows(
                isa::active(),
                cols,
                out,
                |r| {
                    let $xr = row(x, r, cols, ld);
                    $kernel
                },
                |$p| {
                    let $c = cols;
                    $finish
                },
                PAR_THRESHOLD,
            );
            Ok(())
        }
    };
}

row_reduction!(
    /// Row sums: `out[r] = sum_j x[r*ld + j]` (see [`sum`] for accuracy).
    ///
    /// ```
    /// // 2 x 3 matrix stored with stride 4 (one padding element per row).
    /// let x = [1.0f32, 2.0, 3.0, 99.0, 4.0, 5.0, 6.0];
    /// let mut out = [0.0f32; 2];
    /// nabla_kernels::sum_rows(&x, 2, 3, 4, &mut out);
    /// assert_eq!(out, [6.0, 15.0]);
    /// ```
    sum_rows, try_sum_rows, "sum_rows", T, |xr| SumK { x: xr }, |p, _c| p.unwrap_or(T::ZERO)
);

row_reduction!(
    /// Row maxima, NaN-propagating; `-inf` for `cols == 0` (see [`max`]).
    max_rows, try_max_rows, "max_rows", T, |xr| ExtremeK::<T, true> { x: xr }, |p, _c| p.unwrap_or(T::NEG_INFINITY)
);

row_reduction!(
    /// Row minima, NaN-propagating; `+inf` for `cols == 0` (see [`min`]).
    min_rows, try_min_rows, "min_rows", T, |xr| ExtremeK::<T, false> { x: xr }, |p, _c| p.unwrap_or(T::INFINITY)
);

row_reduction!(
    /// Row L2 norms (see [`l2_norm`]); `0` for `cols == 0`.
    l2_norm_rows, try_l2_norm_rows, "l2_norm_rows", T, |xr| SsqK { x: xr }, |p, _c| p.map_or(T::ZERO, Ssq::norm)
);

row_reduction!(
    /// Row means (see [`mean`]); NaN for `cols == 0`.
    mean_rows, try_mean_rows, "mean_rows", T, |xr| SumK { x: xr }, |p, c| p.map_or(T::NAN, |s| s / from_count(c))
);

row_reduction!(
    /// Index of each row's maximum within the row (see [`argmax`]: first maximum, or first
    /// NaN); `usize::MAX` for `cols == 0`.
    ///
    /// ```
    /// let x = [1.0f64, 5.0, 2.0, 9.0, 0.0, 9.0];
    /// let mut idx = [0usize; 2];
    /// nabla_kernels::argmax_rows(&x, 2, 3, 3, &mut idx);
    /// assert_eq!(idx, [1, 0]);
    /// ```
    argmax_rows, try_argmax_rows, "argmax_rows", usize, |xr| ArgK::<T, true> { x: xr }, |p, _c| p.map_or(usize::MAX, |p| p.1)
);

row_reduction!(
    /// Index of each row's minimum (see [`argmin`]); `usize::MAX` for `cols == 0`.
    argmin_rows, try_argmin_rows, "argmin_rows", usize, |xr| ArgK::<T, false> { x: xr }, |p, _c| p.map_or(usize::MAX, |p| p.1)
);

/// Row-wise population variances (see [`variance`]); NaN for `cols == 0`.
///
/// Layout, panics and threading as [`sum_rows`] (see [`try_variance_rows`]). Each row is read
/// twice (mean, then centered sums); the pass over a row stays in cache for rows up to a few
/// hundred KiB.
///
/// ```
/// let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 5.0, 5.0, 5.0];
/// let mut v = [0.0f32; 2];
/// nabla_kernels::variance_rows(&x, 2, 4, 4, &mut v);
/// assert_eq!(v, [1.25, 0.0]);
/// ```
#[track_caller]
pub fn variance_rows<T: Element>(x: &[T], rows: usize, cols: usize, ld: usize, out: &mut [T]) {
    unwrap_or_panic(try_variance_rows(x, rows, cols, ld, out))
}

/// [`variance_rows`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// As [`try_sum_rows`] (op `"variance_rows"`); on an error nothing is written.
///
/// ```
/// use nabla_kernels::KernelError;
/// let mut v = [0.0f64; 3];
/// let e = nabla_kernels::try_variance_rows(&[1.0f64; 8], 2, 4, 4, &mut v).unwrap_err();
/// assert_eq!(e, KernelError::LengthMismatch { op: "variance_rows", expected: 2, got: 3 });
/// ```
pub fn try_variance_rows<T: Element>(
    x: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    out: &mut [T],
) -> Result<(), KernelError> {
    check_rows("variance_rows", x, rows, cols, ld, out)?;
    let isa = isa::active();
    // First pass: the means, into `out`.
    reduce_rows(
        isa,
        cols,
        out,
        |r| SumK {
            x: row(x, r, cols, ld),
        },
        |p| p.map_or(T::NAN, |s| s / from_count(cols)),
        PAR_THRESHOLD,
    );
    let means = out.to_vec();
    reduce_rows(
        isa,
        cols,
        out,
        |r| CenteredK {
            x: row(x, r, cols, ld),
            mean: means[r],
        },
        |p| p.map_or(T::NAN, |sums| variance_from(sums, cols)),
        PAR_THRESHOLD,
    );
    Ok(())
}

/// Row-wise dot products of two matrices of the same shape: `out[r] = dot(x row r, y row r)`,
/// `x` with row stride `ldx`, `y` with row stride `ldy`.
///
/// Accuracy and threading as [`dot`].
///
/// # Panics
/// If a stride is smaller than `cols`, a slice is too short, or `out.len() != rows`, with the
/// message of the error [`try_dot_rows`] returns.
///
/// ```
/// let x = [1.0f32, 2.0, 3.0, 4.0];
/// let y = [1.0f32, 1.0, 0.5, 0.5];
/// let mut out = [0.0f32; 2];
/// nabla_kernels::dot_rows(&x, &y, 2, 2, 2, 2, &mut out);
/// assert_eq!(out, [3.0, 3.5]);
/// ```
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn dot_rows<T: Element>(
    x: &[T],
    y: &[T],
    rows: usize,
    cols: usize,
    ldx: usize,
    ldy: usize,
    out: &mut [T],
) {
    unwrap_or_panic(try_dot_rows(x, y, rows, cols, ldx, ldy, out))
}

/// [`dot_rows`], returning a [`KernelError`] instead of panicking.
///
/// # Errors
/// Checked in this order; on an error nothing is written:
/// * `x` (with `ldx`) as [`try_sum_rows`] checks its input: [`KernelError::Invalid`] if
///   `ldx < cols` with more than one row, [`KernelError::OutOfBounds`] if `x` is too short;
/// * [`KernelError::LengthMismatch`] if `out.len() != rows`;
/// * `y` (with `ldy`) as `x`.
///
/// ```
/// use nabla_kernels::KernelError;
/// let mut out = [0.0f32; 2];
/// let e = nabla_kernels::try_dot_rows(&[1.0f32; 4], &[1.0; 3], 2, 2, 2, 2, &mut out);
/// assert_eq!(e, Err(KernelError::OutOfBounds { op: "dot_rows", needed: 4, len: 3 }));
/// ```
#[allow(clippy::too_many_arguments)]
pub fn try_dot_rows<T: Element>(
    x: &[T],
    y: &[T],
    rows: usize,
    cols: usize,
    ldx: usize,
    ldy: usize,
    out: &mut [T],
) -> Result<(), KernelError> {
    check_rows("dot_rows", x, rows, cols, ldx, out)?;
    check_matrix("dot_rows", y.len(), rows, cols, ldy)?;
    reduce_rows(
        isa::active(),
        cols,
        out,
        |r| DotK {
            x: row(x, r, cols, ldx),
            y: row(y, r, cols, ldy),
        },
        |p| p.unwrap_or(T::ZERO),
        PAR_THRESHOLD,
    );
    Ok(())
}
