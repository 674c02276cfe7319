//! Matrix-vector products: the GEMM driver's fast path when C is one column (`n == 1`) or one
//! row (`m == 1`).
//!
//! Packing a whole matrix to produce a single column of C wastes most of the register tile (its
//! `NR`-wide slivers hold one useful column), so such products skip packing: both shapes become
//! `y = alpha * M x + beta * y` (a row of C is `C^T = op(B)^T op(A)^T`) with `M` an `m x k`
//! strided view, computed in one of three forms chosen by `M`'s layout:
//!
//! * **dot** (`M`'s rows unit-stride, e.g. a row-major `A x`): four rows at a time, each
//!   against the same vector loads of `x`, two vector accumulators per row, then one horizontal
//!   sum per row;
//! * **axpy** (`M`'s columns unit-stride, e.g. `A^T x` with a row-major `A`): a chunk of rows
//!   stays in vector registers while every column adds `x[p]` times its slice of the chunk
//!   (`NV` vectors by `U` interleaved depth steps, at least 8 independent chains). Chunks of 8
//!   vectors run while more rows remain than the registers hold at once (16 vectors on
//!   32-register paths, 8 on the others); the rest is one chunk, its last vector ending at the
//!   last row (reaching back over rows already summed, which it does not write again). So an
//!   `M` of up to 128 `f64` / 256 `f32` rows on AVX-512 (`A^T x` with A 1000 x 100) is read in
//!   one sequential pass. The `gemv/*/1000x100_t` perf rows with this (`cargo xtask perf
//!   --filter gemv`, before -> after): `f32` 5.5 -> 3.7-4.0 us (65% -> 91-97% of the L2 read
//!   roof); `f64` 9.1-9.4 -> 7.8-8.5 us in three interleaved pairs of runs;
//! * **gather** (neither): each row is copied to a unit-stride buffer, then the dot form.
//!
//! A strided `x` is first copied to a unit-stride buffer (`k` elements, next to the `m * k` of
//! the product). Rows are cut into blocks of [`ROWS_PER_BLOCK`] and every block is computed by
//! the same code whatever the thread count (blocks are split across threads only above
//! [`super::PAR_THRESHOLD_FLOPS`]), so results are bit-identical on 1 or many threads. Each
//! `y[i]` is a sum of `k` products accumulated in `T`, so GEMM's accuracy bound holds, and
//! `beta == 0` never reads `y`.

use super::kernel::CPtr;
use super::{MatRef, PAR_THRESHOLD_FLOPS, scratch};
use crate::element::Element;
use crate::isa::Isa;
use crate::parallel::should_split;
use crate::simd::{MAX_LANES, Simd, SimdOp};
use rayon::prelude::*;

/// Rows per block: the unit of work and of splitting across threads (a multiple of every
/// path's axpy chunk, `8 * LANES <= 128`).
pub(super) const ROWS_PER_BLOCK: usize = 256;

/// How `M`'s elements are reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Dot,
    Axpy,
    Gather,
}

/// Runs `C = alpha * op(A) op(B) + beta * C` as a matrix-vector product when `n == 1` or
/// `m == 1` (after the driver's checks: `k > 0`, `alpha != 0`, no epilogue). Returns whether it
/// did.
#[allow(clippy::too_many_arguments)]
pub(super) fn try_gemv<T: Element>(
    isa: Isa,
    alpha: T,
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    beta: T,
    c: CPtr<T>,
) -> bool {
    let (m, n) = (a.rows, b.cols);
    let (mat, x, xs, y, ys) = if n == 1 {
        // Column 0 of C = op(A) times column 0 of op(B).
        (*a, b.data, b.rs, c.ptr, c.rs)
    } else if m == 1 {
        // Row 0 of C, as a column: op(B)^T times row 0 of op(A).
        (b.t(), a.data, a.cs, c.ptr, c.cs)
    } else {
        return false;
    };
    gemv(
        isa,
        alpha,
        &mat,
        x,
        xs,
        beta,
        CPtr {
            ptr: y,
            rs: ys,
            cs: 0,
        },
    );
    true
}

/// `y = alpha * M x + beta * y`: `M` is `rows x cols` (`k = cols > 0`), `x` holds element `p`
/// at `x[p * xs]`, `y` element `i` at `y.ptr + i * y.rs`.
fn gemv<T: Element>(
    isa: Isa,
    alpha: T,
    mat: &MatRef<'_, T>,
    x: &[T],
    xs: usize,
    beta: T,
    y: CPtr<T>,
) {
    let (m, k) = (mat.rows, mat.cols);
    let form = if mat.cs == 1 || k == 1 {
        Form::Dot
    } else if mat.rs == 1 && m > 1 {
        Form::Axpy
    } else {
        Form::Gather
    };
    let with_x = |x: &[T]| {
        let blocks = m.div_ceil(ROWS_PER_BLOCK);
        let op = |b0: usize, b1: usize| Rows {
            mat,
            x,
            form,
            alpha,
            beta,
            y,
            r0: b0 * ROWS_PER_BLOCK,
            r1: (b1 * ROWS_PER_BLOCK).min(m),
        };
        run_blocks::<T, _>(isa, blocks, 2 * m * k, op);
    };
    if xs == 1 || k == 1 {
        with_x(&x[..k]);
    } else {
        scratch::with_scratch::<T, _>(&scratch::PACK_B, k, |buf| {
            for (p, v) in buf.iter_mut().enumerate() {
                *v = x[p * xs];
            }
            with_x(buf);
        });
    }
}

/// Runs `op(b0, b1)`, the work of blocks `b0..b1`, for all `blocks`: one block per rayon task
/// when there are several and the product's `flops` reach [`PAR_THRESHOLD_FLOPS`], else all in
/// one call. The blocks are fixed by the caller, so the result does not depend on the thread
/// count.
pub(super) fn run_blocks<T: Element, O: SimdOp<T, Output = ()> + Send>(
    isa: Isa,
    blocks: usize,
    flops: usize,
    op: impl Fn(usize, usize) -> O + Sync,
) {
    if blocks > 1 && should_split(flops, PAR_THRESHOLD_FLOPS) {
        (0..blocks)
            .into_par_iter()
            .for_each(|b| T::dispatch(isa, op(b, b + 1)));
    } else {
        T::dispatch(isa, op(0, blocks));
    }
}

/// Rows `r0..r1` of `y = alpha * M x + beta * y`, cut into blocks of [`ROWS_PER_BLOCK`].
struct Rows<'a, 'm, T> {
    mat: &'a MatRef<'m, T>,
    /// Unit-stride, `mat.cols` elements.
    x: &'a [T],
    form: Form,
    alpha: T,
    beta: T,
    y: CPtr<T>,
    r0: usize,
    r1: usize,
}

impl<T: Element> SimdOp<T> for Rows<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let mut b0 = self.r0;
        while b0 < self.r1 {
            let b1 = (b0 + ROWS_PER_BLOCK).min(self.r1);
            match self.form {
                Form::Dot => self.dot_block(s, b0, b1),
                Form::Axpy => self.axpy_block(s, b0, b1),
                Form::Gather => self.gather_block(s, b0, b1),
            }
            b0 = b1;
        }
    }
}

impl<T: Element> Rows<'_, '_, T> {
    /// `y[i] = alpha * v + beta * y[i]` (`beta == 0` does not read `y[i]`).
    #[inline(always)]
    fn put(&self, i: usize, v: T) {
        // SAFETY: `i < mat.rows`, the length of y; this block's rows are written by this task
        // only (blocks are disjoint).
        unsafe { update_element(self.y.ptr.add(i * self.y.rs), self.alpha, self.beta, v) };
    }

    /// The dot form over rows `b0..b1`, four rows per pass over `x`. The block's bounds are
    /// checked once and its rows reached by pointer, rather than each row sliced and checked:
    /// `cargo xtask perf --filter 1000x100` with the builds before and after alternated seven
    /// times on the Intel Xeon VM of stop 29, `gemv/f64/1000x100` took a median 0.83 of its
    /// time before per pair (0.68-1.32: a noisy machine).
    #[inline(always)]
    fn dot_block<S: Simd<T>>(&self, s: S, b0: usize, b1: usize) {
        let tail = dot_tail(s, self.x);
        let (k, rs) = (self.mat.cols, self.mat.rs);
        // The block's last row ends inside the view's slice.
        let base = self.mat.data[b0 * rs..][..(b1 - 1 - b0) * rs + k].as_ptr();
        let n = b1 - b0;
        let mut i = 0;
        while i + 4 <= n {
            let rows: [*const T; 4] = core::array::from_fn(|r| base.wrapping_add((i + r) * rs));
            // SAFETY: rows i..i+4 < n of the block, each k long: inside the slice bounded above.
            let v = unsafe { dot_rows::<T, S, 4>(s, rows, self.x, tail) };
            for (r, &v) in v.iter().enumerate() {
                self.put(b0 + i + r, v);
            }
            i += 4;
        }
        while i < n {
            // SAFETY: as above, one row.
            let v = unsafe { dot_rows::<T, S, 1>(s, [base.wrapping_add(i * rs)], self.x, tail) };
            self.put(b0 + i, v[0]);
            i += 1;
        }
    }

    #[inline(always)]
    fn gather_block<S: Simd<T>>(&self, s: S, b0: usize, b1: usize) {
        let (k, rs, cs) = (self.mat.cols, self.mat.rs, self.mat.cs);
        let tail = dot_tail(s, self.x);
        scratch::with_scratch::<T, _>(&scratch::PACK_A, k, |buf| {
            for i in b0..b1 {
                for (p, v) in buf.iter_mut().enumerate() {
                    *v = self.mat.data[i * rs + p * cs];
                }
                // SAFETY: buf holds k elements.
                let v = unsafe { dot_rows::<T, S, 1>(s, [buf.as_ptr()], self.x, tail) };
                self.put(i, v[0]);
            }
        });
    }

    #[inline(always)]
    fn axpy_block<S: Simd<T>>(&self, s: S, b0: usize, b1: usize) {
        let l = S::LANES;
        if self.mat.rows < l {
            // The whole matrix is narrower than a vector.
            let (k, cs) = (self.mat.cols, self.mat.cs);
            for r in b0..b1 {
                let mut acc = T::ZERO;
                for p in 0..k {
                    acc += self.mat.data[r + p * cs] * self.x[p];
                }
                self.put(r, acc);
            }
            return;
        }
        // Rows that fit in the registers at once: each column of M is then read in a single
        // pass (one sequential stream over a row-major A for `A^T x`).
        let once = if S::REGISTERS >= 32 { 16 * l } else { 8 * l };
        let mut i = b0;
        while b1 - i > once {
            self.axpy_chunk::<S, 8, 1>(s, i, i + 8 * l);
            i += 8 * l;
        }
        let end = b1;
        match (end - i).div_ceil(l) {
            1 => self.axpy_chunk::<S, 1, 8>(s, i, end),
            2 => self.axpy_chunk::<S, 2, 4>(s, i, end),
            3 => self.axpy_chunk::<S, 3, 2>(s, i, end),
            4 => self.axpy_chunk::<S, 4, 2>(s, i, end),
            5 => self.axpy_chunk::<S, 5, 1>(s, i, end),
            6 => self.axpy_chunk::<S, 6, 1>(s, i, end),
            7 => self.axpy_chunk::<S, 7, 1>(s, i, end),
            8 => self.axpy_chunk::<S, 8, 1>(s, i, end),
            // Only 32-register paths get here (`once`); the guard keeps the wide chunks out of
            // the others' code.
            nv if S::REGISTERS >= 32 => match nv {
                9 => self.axpy_chunk::<S, 9, 1>(s, i, end),
                10 => self.axpy_chunk::<S, 10, 1>(s, i, end),
                11 => self.axpy_chunk::<S, 11, 1>(s, i, end),
                12 => self.axpy_chunk::<S, 12, 1>(s, i, end),
                13 => self.axpy_chunk::<S, 13, 1>(s, i, end),
                14 => self.axpy_chunk::<S, 14, 1>(s, i, end),
                15 => self.axpy_chunk::<S, 15, 1>(s, i, end),
                _ => self.axpy_chunk::<S, 16, 1>(s, i, end),
            },
            nv => unreachable!("{nv} vectors of rows left for a single pass"),
        }
    }

    /// Rows `i0..end` of `M x` (M's columns unit-stride, `cs` apart), with
    /// `(NV - 1) * LANES < end - i0 <= NV * LANES` and `end >= LANES`: `NV` vectors of rows held
    /// in registers (`U` interleaved depth steps each) while every column adds `x[p]` times its
    /// slice. Vector `v < NV - 1` covers rows `i0 + v * LANES ..`; the last covers the `LANES`
    /// rows ending at `end`, reaching back over rows the others (or an earlier chunk) cover,
    /// which it recomputes but does not write.
    #[inline(always)]
    fn axpy_chunk<S: Simd<T>, const NV: usize, const U: usize>(&self, s: S, i0: usize, end: usize) {
        let l = S::LANES;
        let (k, cs) = (self.mat.cols, self.mat.cs);
        debug_assert!(self.mat.rs == 1 && end <= self.mat.rows && end >= l);
        debug_assert!((NV - 1) * l < end - i0 && end - i0 <= NV * l);
        // The first row any vector reads, and each vector's offset from it.
        let lo = i0.min(end - l);
        let mut off = [0; NV];
        for (v, o) in off.iter_mut().enumerate() {
            *o = if v + 1 == NV { end - l } else { i0 + v * l } - lo;
        }
        // Bounds: the last vector's last row, end - 1, of column k - 1 is the view's element
        // (end - 1, k - 1).
        let base = self.mat.data[lo..][..(k - 1) * cs + (end - lo)].as_ptr();
        let x = self.x;
        let mut acc = [[s.splat(T::ZERO); NV]; U];
        let mut p = 0;
        while p + U <= k {
            for (u, accu) in acc.iter_mut().enumerate() {
                let xb = s.splat(x[p + u]);
                // SAFETY: p + u < k and off[v] + LANES <= end - lo: inside the slice bounded
                // above.
                let col = unsafe { base.add((p + u) * cs) };
                for (a, &o) in accu.iter_mut().zip(&off) {
                    // SAFETY: as above.
                    *a = s.mul_add(unsafe { s.load(col.add(o)) }, xb, *a);
                }
            }
            p += U;
        }
        while p < k {
            let xb = s.splat(x[p]);
            // SAFETY: p < k: inside the slice bounded above.
            let col = unsafe { base.add(p * cs) };
            for (a, &o) in acc[0].iter_mut().zip(&off) {
                // SAFETY: as above.
                *a = s.mul_add(unsafe { s.load(col.add(o)) }, xb, *a);
            }
            p += 1;
        }
        let mut buf = [T::ZERO; MAX_LANES];
        for (v, &o) in off.iter().enumerate() {
            let mut sum = acc[0][v];
            for accu in &acc[1..] {
                sum = s.add(sum, accu[v]);
            }
            s.store_partial(&mut buf[..l], sum);
            // Rows below i0 + v * LANES belong to an earlier vector or chunk.
            let row0 = lo + o;
            let from = (i0 + v * l).saturating_sub(row0);
            for (j, &val) in buf[..l].iter().enumerate().skip(from) {
                self.put(row0 + j, val);
            }
        }
    }
}

/// `*p = alpha * v + beta * *p`; `beta == 0` does not read `*p` (it may hold NaN).
///
/// # Safety
/// `p` is valid for reads and writes, and no other thread accesses it now.
#[inline(always)]
pub(super) unsafe fn update_element<T: Element>(p: *mut T, alpha: T, beta: T, v: T) {
    // SAFETY: the caller's contract.
    unsafe {
        *p = if beta == T::ZERO {
            alpha * v
        } else {
            alpha * v + beta * *p
        }
    };
}

/// The lanes of the vector ending at depth `k` that the whole vectors before it did not cover
/// (the last `k % LANES`), or `None` when `k` is a whole number of vectors.
#[inline(always)]
pub(super) fn tail_mask<T: Element, S: Simd<T>>(s: S, k: usize) -> Option<S::M> {
    let (l, r) = (S::LANES, k % S::LANES);
    if r == 0 {
        return None;
    }
    let mut idx = [T::ZERO; MAX_LANES];
    for (j, v) in idx.iter_mut().enumerate() {
        *v = T::from_f64(j as f64);
    }
    // SAFETY: `idx` holds MAX_LANES >= LANES elements.
    let idx = unsafe { s.load(idx.as_ptr()) };
    Some(s.le(s.splat(T::from_f64((l - r) as f64)), idx))
}

/// The last, partial vector of the dot form: lanes `LANES - r ..` of the vector ending at `k`
/// are the `r = k % (LANES)` elements not yet summed (the mask, [`tail_mask`]), and `x` there
/// (zero elsewhere). `None` when `k` is a whole number of vectors or shorter than one.
#[inline(always)]
fn dot_tail<T: Element, S: Simd<T>>(s: S, x: &[T]) -> Option<(S::M, S::V)> {
    let (l, k) = (S::LANES, x.len());
    if k < l {
        return None;
    }
    let mask = tail_mask(s, k)?;
    // SAFETY: k >= LANES: the LANES elements ending at k are inside x.
    let xt = unsafe { s.load(x.as_ptr().add(k - l)) };
    Some((mask, s.select(mask, xt, s.splat(T::ZERO))))
}

/// The dot products of `R` rows (each `x.len()` long, at `rows`) with `x`: two vector
/// accumulators per row over full vectors, then the last partial vector (`tail`, from
/// [`dot_tail`]: the vector ending at `k` with the lanes already summed masked off, so no element
/// is read twice or out of bounds), then one horizontal sum. Rows shorter than a vector
/// (`k < LANES`) are summed in scalars, in order.
///
/// # Safety
/// Each of `rows` is valid for reading `x.len()` elements.
#[inline(always)]
unsafe fn dot_rows<T: Element, S: Simd<T>, const R: usize>(
    s: S,
    rows: [*const T; R],
    x: &[T],
    tail: Option<(S::M, S::V)>,
) -> [T; R] {
    let l = S::LANES;
    let k = x.len();
    if k < l {
        // Shorter than one vector: scalar products (a partial vector load goes through a
        // stack copy per row, which made such products several times slower than this).
        return rows.map(|row| {
            // SAFETY: the caller's contract.
            let row = unsafe { core::slice::from_raw_parts(row, k) };
            row.iter().zip(x).fold(T::ZERO, |acc, (&a, &b)| acc + a * b)
        });
    }
    let zero = s.splat(T::ZERO);
    let mut acc0 = [zero; R];
    let mut acc1 = [zero; R];
    let xp = x.as_ptr();
    let mut p = 0;
    while p + 2 * l <= k {
        // SAFETY: p + 2*LANES <= k = the length of x and of every row.
        let (x0, x1) = unsafe { (s.load(xp.add(p)), s.load(xp.add(p + l))) };
        for r in 0..R {
            // SAFETY: as above.
            let (a0, a1) = unsafe { (s.load(rows[r].add(p)), s.load(rows[r].add(p + l))) };
            acc0[r] = s.mul_add(a0, x0, acc0[r]);
            acc1[r] = s.mul_add(a1, x1, acc1[r]);
        }
        p += 2 * l;
    }
    if p + l <= k {
        // SAFETY: p + LANES <= k.
        let x0 = unsafe { s.load(xp.add(p)) };
        for r in 0..R {
            // SAFETY: as above.
            let a0 = unsafe { s.load(rows[r].add(p)) };
            acc0[r] = s.mul_add(a0, x0, acc0[r]);
        }
        p += l;
    }
    if p < k {
        let (mask, xt) = tail.expect("k >= LANES and not a whole number of vectors: a tail");
        for r in 0..R {
            // SAFETY: k >= LANES: the vector ending at k.
            let a = unsafe { s.load(rows[r].add(k - l)) };
            acc1[r] = s.mul_add(s.select(mask, a, zero), xt, acc1[r]);
        }
    }
    core::array::from_fn(|r| s.reduce_add(s.add(acc0[r], acc1[r])))
}
