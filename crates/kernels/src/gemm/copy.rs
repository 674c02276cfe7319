//! Copying a strided matrix view into another: `dst = src`, and so a transpose when `src` is a
//! transposed view ([`MatRef::t`]).

use super::view::{MatMut, MatRef};
use crate::element::Element;
use crate::error::{KernelError, unwrap_or_panic};
use crate::isa;
use crate::simd::{Simd, SimdOp};

/// `dst[i][j] = src[i][j]` for two `rows x cols` views of any strides.
///
/// Copying `a.t()` transposes `a`. When the source is column-major and the destination
/// row-major (the transpose of a row-major matrix into a row-major one) the copy goes
/// `LANES x LANES` block by block through registers ([`Simd::transpose`]); rows that are
/// unit-stride on both sides are copied as slices; other layouts element by element. Exact:
/// values (NaN payloads included) are moved, not computed.
///
/// # Panics
/// If the shapes differ (the message names both); see [`try_copy_matrix`].
///
/// ```
/// use nabla_kernels::gemm::{copy_matrix, MatMut, MatRef};
/// let a = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]; // 2x3, row-major
/// let mut at = [0.0f32; 6];                   // 3x2
/// copy_matrix(MatRef::row_major(&a, 2, 3).t(), MatMut::row_major(&mut at, 3, 2));
/// assert_eq!(at, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
/// ```
#[track_caller]
pub fn copy_matrix<T: Element>(src: MatRef<'_, T>, dst: MatMut<'_, T>) {
    unwrap_or_panic(try_copy_matrix(src, dst))
}

/// [`copy_matrix`] returning an error instead of panicking.
///
/// # Errors
/// [`KernelError::ShapeMismatch`] when the two views' shapes differ.
pub fn try_copy_matrix<T: Element>(
    src: MatRef<'_, T>,
    dst: MatMut<'_, T>,
) -> Result<(), KernelError> {
    if src.shape() != dst.shape() {
        return Err(KernelError::ShapeMismatch {
            op: "copy_matrix",
            lhs: src.shape(),
            rhs: dst.shape(),
        });
    }
    T::dispatch(isa::active(), CopyOp { src, dst });
    Ok(())
}

struct CopyOp<'a, 'b, T> {
    src: MatRef<'a, T>,
    dst: MatMut<'b, T>,
}

impl<T: Element> SimdOp<T> for CopyOp<'_, '_, T> {
    type Output = ();
    #[inline(always)]
    fn run<S: Simd<T>>(self, s: S) {
        let CopyOp { src, dst } = self;
        let (m, n) = src.shape();
        if m == 0 || n == 0 {
            return;
        }
        let l = S::LANES;
        let (mb, nb) = if src.rs == 1 && dst.cs == 1 && l > 1 {
            (m - m % l, n - n % l)
        } else {
            (0, 0)
        };
        if mb > 0 && nb > 0 {
            let sp = src.data.as_ptr();
            let dp = dst.data.as_mut_ptr();
            for i in (0..mb).step_by(l) {
                for j in (0..nb).step_by(l) {
                    // SAFETY: source row `b < l` of the block is column j + b of `src`, whose
                    // elements i..i+l (unit stride) are inside `src.data` (views are bounds-
                    // checked when built and i + l <= m, j + l <= n); likewise destination row
                    // i + k, columns j..j+l, are inside `dst.data`. A shared and a mutable
                    // borrow cannot alias.
                    unsafe {
                        s.transpose(
                            sp.add(i + j * src.cs),
                            src.cs,
                            dp.add(i * dst.rs + j),
                            dst.rs,
                        )
                    };
                }
            }
        }
        // What the blocks left: every row below `mb`, and the columns from `nb` above it.
        let (sd, dd) = (src.data, dst.data);
        for i in 0..m {
            let j0 = if i < mb { nb } else { 0 };
            if src.cs == 1 && dst.cs == 1 {
                let from = &sd[i * src.rs + j0..i * src.rs + n];
                dd[i * dst.rs + j0..i * dst.rs + n].copy_from_slice(from);
            } else {
                for j in j0..n {
                    dd[i * dst.rs + j * dst.cs] = sd[i * src.rs + j * src.cs];
                }
            }
        }
    }
}
