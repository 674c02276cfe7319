//! Packing: copies a block of an operand into the contiguous panel layout the micro-kernel
//! streams through, zero-padding ragged edges so the micro-kernel never needs a tail.
//!
//! * A block (`mc x kc`) becomes `ceil(mc / MR)` panels; panel `p` holds element
//!   `(p*MR + i, k)` at `k*MR + i`.
//! * B block (`kc x nc`) becomes `ceil(nc / NR)` panels; panel `q` holds element
//!   `(k, q*NR + j)` at `k*NR + j`.
//!
//! Both are one operation: a panel of width `w` (MR or NR) whose element `(k, j)` comes from
//! `base + j*j_stride + k*k_stride`. When `j_stride == 1` each depth's `w` elements are
//! contiguous (row-major B, column-major A) and are copied with vector moves, depth by depth
//! across all panels. When instead `k_stride == 1` (row-major A, column-major B) the panel is
//! a transpose of the source, done `LANES x LANES` block by block in registers
//! ([`Simd::transpose`]) for panels a whole number of vectors wide; on AVX-512 this took a
//! 512^3 f32 GEMM from 87% to 91% of peak and an `A * B^T` of the MLP shapes from 79% to 91%.
//! Other layouts go element by element. Packing runs inside the SIMD dispatch, unchecked: at a
//! few cycles per element it would otherwise cost as much as the multiply on small matrices.

use super::view::MatRef;
use crate::element::Element;
use crate::simd::Simd;

/// Packs `(rows r0.., cols c0..)` of `x` as panels of width `w` along `x`'s rows
/// (`along_rows`, the A layout) or along its columns (the B layout).
///
/// `len_j` is the extent along the panel width (`mc` or `nc`), `kc` the depth; `out` holds
/// `ceil(len_j / w) * w * kc` elements. `w` is a tile width: 2, 4, 6, 8, 16 or 32.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn pack<T: Element, S: Simd<T>>(
    s: S,
    x: &MatRef<'_, T>,
    along_rows: bool,
    j0: usize,
    len_j: usize,
    k0: usize,
    kc: usize,
    w: usize,
    out: &mut [T],
) {
    // (j, k) -> x(j0 + j, k0 + k) for A, x(k0 + k, j0 + j) for B.
    let (j_stride, k_stride) = if along_rows {
        (x.rs, x.cs)
    } else {
        (x.cs, x.rs)
    };
    let origin = if along_rows {
        j0 * x.rs + k0 * x.cs
    } else {
        k0 * x.rs + j0 * x.cs
    };
    assert!(
        out.len() >= len_j.div_ceil(w) * w * kc,
        "packing buffer too small"
    );
    if len_j == 0 || kc == 0 {
        return;
    }
    // Every source index touched is at most this (checked once, not per element).
    let last = origin + (len_j - 1) * j_stride + (kc - 1) * k_stride;
    assert!(
        last < x.data.len(),
        "packing outside the view (broken invariant)"
    );
    let src = Src {
        ptr: x.data.as_ptr(),
        origin,
        j_stride,
        k_stride,
        len_j,
        kc,
    };
    match w {
        2 => panels::<T, S, 2>(s, src, out),
        4 => panels::<T, S, 4>(s, src, out),
        6 => panels::<T, S, 6>(s, src, out),
        8 => panels::<T, S, 8>(s, src, out),
        16 => panels::<T, S, 16>(s, src, out),
        32 => panels::<T, S, 32>(s, src, out),
        _ => unreachable!("tile widths are 2, 4, 6, 8, 16 or 32 (broken invariant)"),
    }
}

/// Where a block's elements are: `(j, k)` at `ptr + origin + j*j_stride + k*k_stride`, for
/// `j < len_j`, `k < kc`, all inside the source slice (checked by [`pack`]).
#[derive(Clone, Copy)]
struct Src<T> {
    ptr: *const T,
    origin: usize,
    j_stride: usize,
    k_stride: usize,
    len_j: usize,
    kc: usize,
}

/// [`pack`] for a panel width known at compile time, so the per-depth loop over the width is
/// straight-line code (as matrixmultiply's packing does).
#[inline(always)]
fn panels<T: Element, S: Simd<T>, const W: usize>(s: S, x: Src<T>, out: &mut [T]) {
    let Src {
        ptr: src,
        origin,
        j_stride,
        k_stride,
        len_j,
        kc,
    } = x;
    let dst = out.as_mut_ptr();
    let mut first = 0;
    if j_stride == 1 {
        // Unit-stride panels: copy the full ones depth by depth, so the source is read along
        // its rows (one sequential stream per depth, which the prefetchers follow) rather
        // than panel by panel (`kc` lines `k_stride` apart per panel, a stride the L1 maps to
        // few sets). `W` is a constant, so each copy is one or two vector moves.
        let full = len_j / W;
        for k in 0..kc {
            for p in 0..full {
                // SAFETY: source (p*W .. p*W + W, k) has j < full*W <= len_j, inside the
                // slice; the destination is depth k of panel p of `out`, which does not alias
                // the source.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        src.add(origin + p * W + k * k_stride),
                        dst.add(p * W * kc + k * W),
                        W,
                    )
                };
            }
        }
        first = full;
    }
    for p in first..len_j.div_ceil(W) {
        let valid = W.min(len_j - p * W);
        let base = origin + p * W * j_stride;
        let panel = p * W * kc;
        if valid == W && k_stride == 1 && W.is_multiple_of(S::LANES) {
            // Rows contiguous along the depth (row-major A, transposed B): LANES x LANES
            // blocks transposed in registers, the depth's tail one element at a time.
            let k_blocks = kc - kc % S::LANES;
            for k in (0..k_blocks).step_by(S::LANES) {
                for jb in (0..W).step_by(S::LANES) {
                    // SAFETY: source rows j = jb..jb+LANES < W = valid at depths k..k+LANES
                    // <= kc are inside the slice; the destination rows k.. of this panel,
                    // columns jb..jb+LANES, are inside `out`; `out` does not alias the source.
                    unsafe {
                        s.transpose(
                            src.add(base + jb * j_stride + k),
                            j_stride,
                            dst.add(panel + k * W + jb),
                            W,
                        )
                    };
                }
            }
            for k in k_blocks..kc {
                for j in 0..W {
                    // SAFETY: as in the branch below.
                    unsafe { *dst.add(panel + k * W + j) = *src.add(base + j * j_stride + k) };
                }
            }
        } else if valid == W {
            for k in 0..kc {
                for j in 0..W {
                    // SAFETY: (j, k) with j < W = valid and k < kc is inside the slice; the
                    // destination is inside this panel of `out`.
                    unsafe {
                        *dst.add(panel + k * W + j) = *src.add(base + j * j_stride + k * k_stride)
                    };
                }
            }
        } else {
            for k in 0..kc {
                for j in 0..W {
                    let v = if j < valid {
                        // SAFETY: (j, k) with j < valid, k < kc is inside the slice.
                        unsafe { *src.add(base + j * j_stride + k * k_stride) }
                    } else {
                        T::ZERO
                    };
                    // SAFETY: the destination is inside this panel of `out`.
                    unsafe { *dst.add(panel + k * W + j) = v };
                }
            }
        }
    }
}
