//! `C = alpha * A B^T + beta * C` with few rows of A, as dot products along the depth: the GEMM
//! driver's path when A's rows and B's columns are both unit-stride (`A` row-major, `op(B) =
//! W^T` with `W` row-major: the `dY W^T` of a linear layer's backward pass) and A has few rows
//! for the depth ([`DOT_DEPTH_PER_ROW`]).
//!
//! The micro-kernel path would pack `W^T`, a transpose of all of `W` (a 16 x 16 register block
//! at a time), and with few rows of A each packed element then serves only a few tiles, so the
//! transpose is a large part of the product. Here no operand is packed: a register tile of
//! `R` rows of A by `Q` rows of `W` holds `R * Q` vector accumulators along the depth, each depth
//! vector loading `R + Q` vectors for `R * Q` multiply-adds, and ends with one horizontal sum per
//! accumulator. The `Q` rows of `W` stay in L1 while every group of A's rows passes them, so `W`
//! is read once.
//!
//! Each `C[i][j]` is the sum of its `k` products accumulated in `T` in a fixed order (lane-wise
//! along the depth, a masked last vector, then the horizontal sum), so GEMM's bound
//! `k * eps * sum |a||b|` holds and the result does not depend on the thread count: columns are
//! cut into blocks of [`COLS_PER_BLOCK`], computed by the same code on one thread or many.
//! `beta == 0` never reads C.

use super::MatRef;
use super::gemv::{run_blocks, tail_mask, update_element};
use super::kernel::CPtr;
use crate::element::Element;
use crate::isa::Isa;
use crate::simd::{Cache, Simd, SimdOp, prefetch};

/// A's rows at most.
const DOT_MAX_ROWS: usize = 32;

/// Depth per row of A at least, and depth at least: the dot products pay when `k / m` exceeds
/// about 30. The packed path's transpose of `W` costs per element of `W`, shared by A's `m`
/// rows; the dot products' depth loop runs slower than the micro-kernel (for 32 rows, A no
/// longer fits L1 beside the rows of `W` and streams from L2 for every group of them; summing
/// a tile's 16 accumulators by a tree of shuffles instead of one horizontal sum each changed
/// nothing, nor did prefetching the next group's rows of `W` from a group's first or last
/// tile). Measured before the prefetch of [`PREFETCH_BYTES`] was added: median times in one
/// process, both paths alternating with an 8 MiB sweep between runs, one core, AVX-512, `f32`
/// `m x k x n` with
/// `n = 512` unless given, packed -> dots, by `k / m`: 16: `8x128` +26.9%, `32x512` +25.3% and
/// +27.3%; 24.5: `32x784` +12.5%; 32: `8x256` -3.3%, `16x512` +2.7% and +0.1%; 42: `12x512`
/// -31.9%; 64: `8x512` 40.2 -> 28.6 us, `32x2048x2048` -19.8%; 98: `8x784` -21.7%; 512:
/// `8x4096x4096` 6678 -> 3679 us; 1024: `4x2048x8192` -46.6%. `f64`: `32x512` +22.5%, `8x512`
/// -28.1%, `8x4096x4096` 15.3 -> 6.9 ms.
const DOT_DEPTH_PER_ROW: usize = 40;
const DOT_MIN_DEPTH: usize = 128;

/// How far ahead along its rows of `W` a tile prefetches (into L1: a hint, which past a row's
/// end touches the next row or nothing). The first tile of a group of `W`'s rows streams them
/// from memory when `W` is large. Interleaved medians of the builds without and with it (8 MiB
/// sweep between runs, one core), `f32`: `8x4096x4096` 3457-3640 -> 3220-3224 us,
/// `4x2048x8192` 3209-3274 -> 2588-2632 us, `8x512x512` 29.2-29.4 -> 27.4-28.0 us; `f64`
/// `8x4096x4096` 6722-6926 -> 5734-5826 us, `12x1024x2048` unchanged. 1 KiB ahead gained less
/// (`f32` `8x4096x4096` 3266-3292 us), 4 KiB nothing there.
const PREFETCH_BYTES: usize = 2048;

/// Columns of C (rows of `W`) per block: the unit of work and of splitting across threads.
const COLS_PER_BLOCK: usize = 64;

/// Whether the product's layout and size suit the dot products (see the module docs).
pub(super) fn suits<T>(a: &MatRef<'_, T>, b: &MatRef<'_, T>) -> bool {
    let (m, k) = (a.rows, a.cols);
    a.cs == 1 && b.rs == 1 && m <= DOT_MAX_ROWS && k >= DOT_MIN_DEPTH.max(DOT_DEPTH_PER_ROW * m)
}

/// Whether `m` rows of A fill the vectors of a path with `lanes` lanes well enough that the
/// product runs faster as `C^T = W A^T` on the micro-kernel (W's rows read in place, `A^T`
/// packed in panels that its `m` rows fill: at least 16 rows, and 3/4 of the lanes of the
/// vectors they take) than as dot products. Median times in one process, both routes
/// alternating with an 8 MiB sweep between runs, one core, dot products -> micro-kernel:
/// AVX-512 `f32` `16x512x512` -20%, `16x4096x4096` 5.20 -> 3.96 ms, `16x2048x2048` -34%,
/// `24x2048x2048` -13%, `32x2048x2048` -20%, `32x4096x4096` 9.24 -> 7.22 ms; `f64`
/// `16x2048x2048` 2.61 -> 1.56 ms; AVX2 `f32` `16x2048x2048` -22%. Emptier vectors lost:
/// `f32` `8x4096x4096` +27%, `2x4096x4096` +72%, `20x1024x1024` (20 of 32 lanes) +30%,
/// `12x512x512` +20%; AVX2 `f32` `8x1024x1024` (one full vector) +6%; `f64` with 8 rows (one
/// full vector) won at `8x1024x1024` (-25%) but lost at `8x4096x4096` (+14%).
pub(super) fn rows_fill_vectors(m: usize, lanes: usize) -> bool {
    m >= 16 && 4 * m >= 3 * m.next_multiple_of(lanes)
}

/// Runs the product as dot products when its layout and size suit (see the module docs;
/// after the driver's checks: `k > 0`, `alpha != 0`, no epilogue). Returns whether it did.
#[allow(clippy::too_many_arguments)]
pub(super) fn try_dot<T: Element>(
    isa: Isa,
    alpha: T,
    a: &MatRef<'_, T>,
    b: &MatRef<'_, T>,
    beta: T,
    c: CPtr<T>,
) -> bool {
    if !suits(a, b) {
        return false;
    }
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let blocks = n.div_ceil(COLS_PER_BLOCK);
    let op = |b0: usize, b1: usize| Dots {
        a,
        b,
        alpha,
        beta,
        c,
        j0: b0 * COLS_PER_BLOCK,
        j1: (b1 * COLS_PER_BLOCK).min(n),
    };
    run_blocks::<T, _>(isa, blocks, 2 * m * n * k, op);
    true
}

/// Columns `j0..j1` of C (all its rows).
struct Dots<'a, 'm, T> {
    a: &'a MatRef<'m, T>,
    b: &'a MatRef<'m, T>,
    alpha: T,
    beta: T,
    c: CPtr<T>,
    j0: usize,
    j1: usize,
}

impl<T: Element> SimdOp<T> for Dots<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        if S::REGISTERS >= 32 {
            self.sweep::<S, 4, 4>(s)
        } else {
            self.sweep::<S, 2, 4>(s)
        }
    }
}

impl<T: Element> Dots<'_, '_, T> {
    /// Groups of `Q` rows of `W` (columns of C), each against every group of `R` rows of A;
    /// ragged groups one row at a time.
    #[inline(always)]
    fn sweep<S: Simd<T>, const R: usize, const Q: usize>(&self, s: S) {
        let (m, k) = (self.a.rows, self.a.cols);
        let mask = tail_mask(s, k);
        let mut j = self.j0;
        while j + Q <= self.j1 {
            self.rows_against::<S, R, Q>(s, j, m, mask);
            j += Q;
        }
        while j < self.j1 {
            self.rows_against::<S, R, 1>(s, j, m, mask);
            j += 1;
        }
    }

    /// Every row of A against rows `j..j + Q` of `W`.
    #[inline(always)]
    fn rows_against<S: Simd<T>, const R: usize, const Q: usize>(
        &self,
        s: S,
        j: usize,
        m: usize,
        mask: Option<S::M>,
    ) {
        let mut w: [&[T]; Q] = [&[]; Q];
        for (q, row) in w.iter_mut().enumerate() {
            *row = self.w_row(j + q);
        }
        let mut i = 0;
        while i + R <= m {
            let mut a: [&[T]; R] = [&[]; R];
            for (r, row) in a.iter_mut().enumerate() {
                *row = self.a_row(i + r);
            }
            let v = dot_tile::<T, S, R, Q>(s, a, w, mask);
            self.put(i, j, &v);
            i += R;
        }
        while i < m {
            let v = dot_tile::<T, S, 1, Q>(s, [self.a_row(i)], w, mask);
            self.put(i, j, &v);
            i += 1;
        }
    }

    /// Row `i` of A (unit-stride, `k` long).
    #[inline(always)]
    fn a_row(&self, i: usize) -> &[T] {
        &self.a.data[i * self.a.rs..][..self.a.cols]
    }

    /// Column `j` of `op(B)`, a row of `W` (unit-stride, `k` long).
    #[inline(always)]
    fn w_row(&self, j: usize) -> &[T] {
        &self.b.data[j * self.b.cs..][..self.b.rows]
    }

    /// `C[i + r][j + q] = alpha * v[r][q] + beta * C[..]` (`beta == 0` does not read C).
    #[inline(always)]
    fn put<const R: usize, const Q: usize>(&self, i: usize, j: usize, v: &[[T; Q]; R]) {
        for (r, row) in v.iter().enumerate() {
            for (q, &x) in row.iter().enumerate() {
                // SAFETY: `i + r < m` and `j + q < n` (the callers' loops): inside C, whose
                // columns `j0..j1` this task alone writes.
                unsafe {
                    let p = self.c.ptr.add((i + r) * self.c.rs + (j + q) * self.c.cs);
                    update_element(p, self.alpha, self.beta, x);
                }
            }
        }
    }
}

/// The `R x Q` dot products of rows `a` with rows `w` (all `k >= LANES` long): one vector
/// accumulator per pair over the whole vectors, the last partial vector (the one ending at `k`,
/// its lanes already summed masked to zero in both operands, so nothing is read twice or out
/// of bounds), then one horizontal sum per pair.
#[inline(always)]
fn dot_tile<T: Element, S: Simd<T>, const R: usize, const Q: usize>(
    s: S,
    a: [&[T]; R],
    w: [&[T]; Q],
    mask: Option<S::M>,
) -> [[T; Q]; R] {
    let l = S::LANES;
    let k = w[0].len();
    assert!(
        k >= l,
        "dot products shorter than a vector (broken invariant)"
    );
    for row in a.iter().chain(&w) {
        assert_eq!(row.len(), k, "rows of one depth (broken invariant)");
    }
    let zero = s.splat(T::ZERO);
    let mut acc = [[zero; Q]; R];
    let mut p = 0;
    while p + l <= k {
        for row in &w {
            prefetch(
                row.as_ptr()
                    .wrapping_add(p + PREFETCH_BYTES / size_of::<T>()),
                Cache::L1,
            );
        }
        let mut wv = [zero; Q];
        for q in 0..Q {
            // SAFETY: p + LANES <= k, the length of every row.
            wv[q] = unsafe { s.load(w[q].as_ptr().add(p)) };
        }
        for r in 0..R {
            // SAFETY: as above.
            let av = unsafe { s.load(a[r].as_ptr().add(p)) };
            for q in 0..Q {
                acc[r][q] = s.mul_add(av, wv[q], acc[r][q]);
            }
        }
        p += l;
    }
    if let Some(mask) = mask {
        let mut wv = [zero; Q];
        for q in 0..Q {
            // SAFETY: k >= LANES: the vector ending at k lies inside every row.
            wv[q] = s.select(mask, unsafe { s.load(w[q].as_ptr().add(k - l)) }, zero);
        }
        for r in 0..R {
            // SAFETY: as above.
            let av = s.select(mask, unsafe { s.load(a[r].as_ptr().add(k - l)) }, zero);
            for q in 0..Q {
                acc[r][q] = s.mul_add(av, wv[q], acc[r][q]);
            }
        }
    }
    let mut out = [[T::ZERO; Q]; R];
    for r in 0..R {
        for q in 0..Q {
            out[r][q] = s.reduce_add(acc[r][q]);
        }
    }
    out
}
