//! `C = act(alpha * A B + beta * C + bias)` with few rows of A against a large row-major B,
//! streaming B row by row: the GEMM driver's path for a small batch through a large layer
//! (`x W` with `x` a few rows, `W` row-major and beyond the caches).
//!
//! The micro-kernel reads a row-major B in place in panels `NR` columns wide: two cache lines
//! of each row, rows `n` elements apart, so every depth touches a new page and the hardware
//! prefetchers cannot run ahead of the loads; with few rows of A nothing hides that latency
//! (`f32` `8x4096x4096` read its 64 MiB of B at 9.6 GB/s). Here C holds the sums: for each
//! block of [`KB`] rows of B, the micro-kernel's product runs along those rows from left to
//! right ([`KB`] sequential streams, each prefetched [`AHEAD_BYTES`] ahead), starting from the
//! sums so far in C, which stays in L2. B is read once, in order, for each group of up to 8
//! rows of A (up to 32 rows, in 4 passes); A once per column block.
//!
//! Each `C[i][j]` accumulates its `k` products in `T` one depth after another, starting from
//! `beta * C[i][j]` (nothing when `beta == 0`, which never reads C), with `alpha` folded into
//! A's elements (one more rounding per product, inside GEMM's bound `(k + 2) eps sum |a||b|`,
//! and none when `alpha` is 1); the epilogue then runs over the finished block. The order does
//! not depend on how the column blocks are split across threads.

use super::PAR_THRESHOLD_FLOPS;
use super::kernel::{self, Bias, CPtr, Update};
use super::{Activation, MatRef};
use crate::element::Element;
use crate::isa::Isa;
use crate::parallel::should_split;
use crate::simd::{MAX_LANES, Simd, SimdOp};

/// Rows of A per pass over B: each vector of B's rows serves this many rows of C.
const MAX_ROWS: usize = 8;

/// Rows of A at most (in passes of [`MAX_ROWS`]).
const MAX_STREAMED_ROWS: usize = 32;

/// Rows of B per pass over C's block: each row of C is loaded and stored once per `KB` depths.
/// Medians of `f32` `8x4096x4096` in a scratch program (one core, builds alternating), 8 ->
/// 2, 4, 16, 32: +156%, +19%, +28%, +46% (fewer rows load and store C more often; more rows are
/// more streams than the prefetchers follow).
const KB: usize = 8;

/// Elements per row of the tail buffers: at least a step (`2 * LANES` on 32-register paths).
const TAIL: usize = 2 * MAX_LANES;

/// How far ahead along each of its rows the product prefetches B (bytes), into L1. Same
/// measurements: 1024 bytes into L1 3.08 ms, no prefetch 4.62 ms, into L2 instead 512 to
/// 4096 bytes ahead 3.45-4.77 ms; an L2 hint 2 to 8 KiB ahead besides this one 5-14% slower.
const AHEAD_BYTES: usize = 1024;

/// Columns of C per block at most: `MAX_ROWS` rows of them (256 KiB in `f32`) stay in L2 while
/// B's rows stream past.
const COLS_PER_BLOCK: usize = 8192;

/// B larger than this (bytes; with two passes or more, at least this times the square of the
/// passes over it) streams with one row or more than 4 rows of A (see [`try_stream`]).
const MIN_B_BYTES: usize = 4 << 20;

/// Runs the product by streaming B when its layout and size suit (see the module docs; after
/// the driver's checks: `k > 0`, `alpha != 0`). Returns whether it did.
///
/// Which products stream, from median times in one process with the micro-kernel path
/// alternating, an 8 MiB sweep between runs (so B comes from L3 or DRAM, as a layer's weights
/// do in a training step), one core, AVX-512, `f32`, micro-kernel -> streamed:
/// * 2 to 4 rows, every size measured from 2 columns on: `4x128x128` 2.0 -> 1.3 us, `4x512x512`
///   24.0 -> 19.7 us, `4x784x512` -22.5%, `4x1024x1024` -35.8%, `2x512x512` -38.3%, `3x100x300`
///   -9.6%, `4x1000x65` 13.0 -> 9.3 us, `4x10000x2` 113 -> 45 us;
/// * 5 to 8 rows, with B larger than [`MIN_B_BYTES`]: `8x2048x2048` 1048 -> 608 us,
///   `8x4096x4096` 6832 -> 3115 us (B read at 21.5 GB/s), `8x8192x512` -47.9%, `8x512x8192`
///   -36.9%, `8x2048x1024` -15.2%; up to it the micro-kernel's 8-row tiles stay ahead:
///   `8x512x512` 21.8 -> 30.5 us, `8x256x4096` (4 MiB) +53%, `8x1024x1024` (4 MiB) even;
/// * one row, likewise (below, the matrix-vector path's axpy form is as fast or faster):
///   `1x4096x4096` 2258 -> 1981 us (against numpy's 1751 us here);
/// * 9 to 32 rows, in passes of 8 rows over B, each streaming all of it, so with B of at least
///   [`MIN_B_BYTES`] times the square of the passes (one pass: more than it): `12x4096x4096` 10.8 -> 5.5 ms,
///   `16x4096x4096` 10.3 -> 6.5 ms, `24x4096x4096` -26%, `32x4096x4096` 15.2 -> 12.7 ms,
///   `12x2048x2048` -27%, `10x8192x2048` -44%; below it: `16x2048x2048` even, `24x2048x2048`
///   +15%, `32x2048x2048` +22%. Passes of 16 rows (16 accumulators of one vector, 16
///   broadcasts per 16 multiply-adds) lost to passes of 8: `16x4096x4096` 12.0 -> 6.3 ms.
#[allow(clippy::too_many_arguments)]
pub(super) fn try_stream<T: Element>(
    isa: Isa,
    alpha: T,
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    beta: T,
    c: CPtr<T>,
    bias: Bias<'_, T>,
    act: Activation,
) -> bool {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    // Each group of up to `MAX_ROWS` rows streams all of B once.
    let passes = m.div_ceil(MAX_ROWS);
    let (bytes, need) = (k * n * size_of::<T>(), MIN_B_BYTES * passes * passes);
    // One pass needs more than the threshold: at exactly 4 MiB `8x256x4096` lost 53%.
    let big = if passes == 1 {
        bytes > need
    } else {
        bytes >= need
    };
    let rows_fit = (2..=4).contains(&m) || (m <= MAX_STREAMED_ROWS && big);
    // One column is the matrix-vector path's (its dot form: `4x10000x1` 1.0 us, 45 us here).
    if !rows_fit || n < 2 || b.cs != 1 || c.cs != 1 {
        return false;
    }
    let upd = Update {
        alpha: T::ONE,
        beta: T::ZERO,
        bias,
        act,
    };
    // One column block per thread (each element's sum is the same whoever computes it), at
    // most `COLS_PER_BLOCK` wide, a whole number of cache lines.
    let flops = 2 * m * k * n;
    let threads = if should_split(flops, PAR_THRESHOLD_FLOPS) {
        rayon::current_num_threads()
    } else {
        1
    };
    let width = n.div_ceil(threads).next_multiple_of(64).min(COLS_PER_BLOCK);
    super::gemv::run_blocks::<T, _>(isa, n.div_ceil(width), flops, |b0, b1| Columns {
        a,
        b,
        alpha,
        beta,
        c,
        upd: &upd,
        width,
        j0: b0 * width,
        j1: (b1 * width).min(n),
    });
    true
}

/// Columns `j0..j1` of C, all its rows (in groups of at most `MAX_ROWS`).
struct Columns<'a, 'm, T> {
    a: &'a MatRef<'m, T>,
    b: &'a MatRef<'m, T>,
    alpha: T,
    beta: T,
    c: CPtr<T>,
    /// The epilogue, applied to the finished sums (`alpha` 1, `beta` 0).
    upd: &'a Update<'a, T>,
    /// Columns per block.
    width: usize,
    j0: usize,
    j1: usize,
}

impl<T: Element> SimdOp<T> for Columns<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        // Groups of equal size (up to one row apart), each a pass over B's column block.
        let m = self.a.rows;
        let size = m.div_ceil(m.div_ceil(MAX_ROWS));
        let mut i0 = 0;
        while i0 < m {
            let rows = size.min(m - i0);
            let g = Group { i0, rows };
            if rows <= 2 {
                self.run_rows::<S, 2>(s, g)
            } else if rows <= 4 {
                self.run_rows::<S, 4>(s, g)
            } else {
                self.run_rows::<S, MAX_ROWS>(s, g)
            }
            i0 += rows;
        }
    }
}

/// Rows `i0 .. i0 + rows` of A and C.
#[derive(Clone, Copy)]
struct Group {
    i0: usize,
    rows: usize,
}

impl<T: Element> Columns<'_, '_, T> {
    /// The column blocks for the rows of `g`, with `M >= g.rows` rows of accumulators by two
    /// vectors (one with 16 registers).
    #[inline(always)]
    fn run_rows<S: Simd<T>, const M: usize>(&self, s: S, g: Group) {
        let mut j0 = self.j0;
        while j0 < self.j1 {
            let j1 = (j0 + self.width).min(self.j1);
            if S::REGISTERS >= 32 {
                self.block::<S, M, 2>(s, g, j0, j1);
            } else {
                self.block::<S, M, 1>(s, g, j0, j1);
            }
            j0 = j1;
        }
    }

    /// Columns `j0..j1`, one column block, `NV` vectors wide at a time. The last columns
    /// (fewer than a step) go through zero-padded copies: of C's rows, held for the whole
    /// depth, and of each block of B's rows; a vector loaded right after its elements were
    /// stored one by one stalls (no store forwarding), which made a one-column tail cost as
    /// much as 64 columns (`4x1000x65` 4.7 -> 37.4 us against `4x1000x64`).
    #[inline(always)]
    fn block<S: Simd<T>, const M: usize, const NV: usize>(
        &self,
        s: S,
        g: Group,
        j0: usize,
        j1: usize,
    ) {
        let (a, b) = (self.a, self.b);
        let (i0, m, k) = (g.i0, g.rows, a.cols);
        let (l, w) = (S::LANES, NV * S::LANES);
        debug_assert!(w <= TAIL, "a step fits the tail buffers (broken invariant)");
        let jt = j0 + (j1 - j0) / w * w;
        let tail = j1 - jt;
        let mut c_tail = [[T::ZERO; TAIL]; M];
        let mut b_tail = [[T::ZERO; TAIL]; KB];
        if tail > 0 {
            for (i, row) in c_tail.iter_mut().enumerate().take(m) {
                // -0 is the neutral element of addition: an empty sum that does not read C.
                let c = self.c_row(i0 + i, jt, tail);
                for (x, &old) in row.iter_mut().zip(c.iter()) {
                    *x = if self.beta == T::ZERO {
                        T::from_f64(-0.0)
                    } else {
                        self.beta * old
                    };
                }
            }
        }
        let mut p0 = 0;
        while p0 < k {
            let kb = KB.min(k - p0);
            // `alpha A`'s elements depth by depth (`[d][i]`), as the micro-kernel reads them.
            let mut ap = [[T::ZERO; M]; KB];
            for (d, row) in ap.iter_mut().enumerate().take(kb) {
                for (i, x) in row.iter_mut().enumerate().take(m) {
                    *x = self.alpha * a.data[(i0 + i) * a.rs + (p0 + d) * a.cs];
                }
            }
            let ap = ap.as_ptr().cast::<T>();
            // Rows p0.. of B, bounds-checked once: depth d's columns j0..j1 at
            // `brow + d * b.rs`.
            let brow = b.data[p0 * b.rs + j0..][..(kb - 1) * b.rs + (j1 - j0)].as_ptr();
            let read_c = p0 > 0 || self.beta != T::ZERO;
            let beta = s.splat(self.beta);
            for j in (j0..jt).step_by(w) {
                let mut acc0 = [[s.splat(T::ZERO); NV]; M];
                if read_c {
                    for (i, row) in acc0.iter_mut().enumerate().take(m) {
                        let c = &self.c_row(i0 + i, j, w)[..w];
                        for (v, x) in row.iter_mut().enumerate() {
                            // SAFETY: `c` holds w = NV * LANES elements.
                            let old = unsafe { s.load(c.as_ptr().add(v * l)) };
                            // C's old value as the start of the sum: times beta before the
                            // first depth.
                            *x = if p0 > 0 { old } else { s.mul(beta, old) };
                        }
                    }
                }
                // SAFETY: depths p0..p0+kb, columns j..j+w <= jt lie in the rows checked
                // above; `ap` holds M x kb elements.
                let acc = unsafe {
                    kernel::product::<T, S, M, NV, true, false, AHEAD_BYTES>(
                        s,
                        kb,
                        ap,
                        0,
                        brow.add(j - j0),
                        b.rs,
                        core::ptr::null_mut(),
                        read_c.then_some(acc0),
                    )
                };
                for (i, row) in acc.iter().enumerate().take(m) {
                    let c = &mut self.c_row(i0 + i, j, w)[..w];
                    for (v, &x) in row.iter().enumerate() {
                        // SAFETY: `c` holds w = NV * LANES elements.
                        unsafe { s.store(c.as_mut_ptr().add(v * l), x) };
                    }
                }
            }
            if tail > 0 {
                for (d, row) in b_tail.iter_mut().enumerate().take(kb) {
                    row[..tail].copy_from_slice(&b.data[(p0 + d) * b.rs + jt..][..tail]);
                }
                let mut acc0 = [[s.splat(T::ZERO); NV]; M];
                for (row, c) in acc0.iter_mut().zip(&c_tail) {
                    for (v, x) in row.iter_mut().enumerate() {
                        // SAFETY: v * LANES + LANES <= w <= TAIL: inside the row.
                        *x = unsafe { s.load(c.as_ptr().add(v * l)) };
                    }
                }
                // SAFETY: `b_tail` holds kb rows of TAIL >= w elements; `ap` as above.
                let acc = unsafe {
                    kernel::product::<T, S, M, NV, true, false, 0>(
                        s,
                        kb,
                        ap,
                        0,
                        b_tail.as_ptr().cast::<T>(),
                        TAIL,
                        core::ptr::null_mut(),
                        Some(acc0),
                    )
                };
                for (row, c) in acc.iter().zip(c_tail.iter_mut()) {
                    for (v, &x) in row.iter().enumerate() {
                        // SAFETY: as above.
                        unsafe { s.store(c.as_mut_ptr().add(v * l), x) };
                    }
                }
            }
            p0 += kb;
        }
        for (i, row) in c_tail.iter().enumerate().take(m) {
            self.c_row(i0 + i, jt, tail).copy_from_slice(&row[..tail]);
        }
        if matches!(
            (self.upd.bias, self.upd.act),
            (Bias::None, Activation::Identity)
        ) {
            return;
        }
        for i in i0..i0 + m {
            let mut j = j0;
            while j < j1 {
                let cols = (j1 - j).min(l);
                let v = s.load_partial(self.c_row(i, j, cols), T::ZERO);
                // SAFETY: the 1 x cols tile at (i, j) lies inside C, written by this task only.
                unsafe { kernel::update::<T, S, 1, 1>(s, &[[v]], self.c, i, j, 1, cols, self.upd) };
                j += cols;
            }
        }
    }

    /// Columns `j .. j + cols` of C's row `i`.
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    fn c_row(&self, i: usize, j: usize, cols: usize) -> &mut [T] {
        // SAFETY: row i < m, columns j..j+cols <= n of C, which this task alone reads and
        // writes (column blocks are disjoint), through no other reference while this one lives.
        unsafe { core::slice::from_raw_parts_mut(self.c.ptr.add(i * self.c.rs + j), cols) }
    }
}
