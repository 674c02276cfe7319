//! Packing: copies a block of an operand into the contiguous panel layout the micro-kernel
//! streams through, zero-padding ragged edges so the micro-kernel never needs a tail.
//!
//! * A block (`mc x kc`) becomes `ceil(mc / MR)` panels; panel `p` holds element
//!   `(p*MR + i, k)` at `k*MR + i`.
//! * B block (`kc x nc`) becomes `ceil(nc / NR)` panels; panel `q` holds element
//!   `(k, q*NR + j)` at `k*NR + j`.

use super::view::MatRef;
use crate::element::Element;

/// Packs rows `i0..i0+mc`, columns `p0..p0+kc` of `a` into `out` (length `ceil(mc/mr)*mr*kc`).
pub(crate) fn pack_a<T: Element>(
    a: &MatRef<'_, T>,
    i0: usize,
    mc: usize,
    p0: usize,
    kc: usize,
    mr: usize,
    out: &mut [T],
) {
    for (p, panel) in out.chunks_exact_mut(mr * kc).enumerate() {
        let r0 = i0 + p * mr;
        let valid = mr.min(i0 + mc - r0);
        if a.cs == 1 {
            // Row-major A: each row's kc elements are contiguous; scatter them with stride mr.
            for i in 0..valid {
                let row = &a.data[(r0 + i) * a.rs + p0..][..kc];
                for (k, &x) in row.iter().enumerate() {
                    panel[k * mr + i] = x;
                }
            }
        } else if a.rs == 1 {
            // Column-major A: each column's run of rows is contiguous.
            for k in 0..kc {
                let col = &a.data[(p0 + k) * a.cs + r0..][..valid];
                panel[k * mr..k * mr + valid].copy_from_slice(col);
            }
        } else {
            for i in 0..valid {
                for k in 0..kc {
                    panel[k * mr + i] = a.data[(r0 + i) * a.rs + (p0 + k) * a.cs];
                }
            }
        }
        if valid < mr {
            for k in 0..kc {
                panel[k * mr + valid..(k + 1) * mr].fill(T::ZERO);
            }
        }
    }
}

/// Packs rows `p0..p0+kc`, columns `j0..j0+nc` of `b` into `out` (length `ceil(nc/nr)*nr*kc`).
pub(crate) fn pack_b<T: Element>(
    b: &MatRef<'_, T>,
    p0: usize,
    kc: usize,
    j0: usize,
    nc: usize,
    nr: usize,
    out: &mut [T],
) {
    for (q, panel) in out.chunks_exact_mut(nr * kc).enumerate() {
        let c0 = j0 + q * nr;
        let valid = nr.min(j0 + nc - c0);
        if b.cs == 1 {
            // Row-major B: each row of the panel is a contiguous run.
            for k in 0..kc {
                let row = &b.data[(p0 + k) * b.rs + c0..][..valid];
                panel[k * nr..k * nr + valid].copy_from_slice(row);
                panel[k * nr + valid..(k + 1) * nr].fill(T::ZERO);
            }
        } else {
            if b.rs == 1 {
                // Column-major B (as in A * B^T with B^T row-major): columns are contiguous.
                for j in 0..valid {
                    let col = &b.data[(c0 + j) * b.cs + p0..][..kc];
                    for (k, &x) in col.iter().enumerate() {
                        panel[k * nr + j] = x;
                    }
                }
            } else {
                for k in 0..kc {
                    for j in 0..valid {
                        panel[k * nr + j] = b.data[(p0 + k) * b.rs + (c0 + j) * b.cs];
                    }
                }
            }
            if valid < nr {
                for k in 0..kc {
                    panel[k * nr + valid..(k + 1) * nr].fill(T::ZERO);
                }
            }
        }
    }
}
