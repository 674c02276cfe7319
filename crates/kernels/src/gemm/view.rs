//! Strided matrix views: the operands of GEMM.

use crate::error::KernelError;
use std::ops::Range;

/// A read-only `rows x cols` matrix inside a slice: element `(i, j)` is
/// `data[i * row_stride + j * col_stride]`.
///
/// Row-major is `row_stride = cols, col_stride = 1`; column-major is the reverse; [`MatRef::t`]
/// transposes without copying. Views are checked when built: every element lies inside `data`.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub(crate) data: &'a [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

/// One operand of a batched product ([`try_gemm_batched`](super::try_gemm_batched)): matrix
/// `t` of the batch is `mat` moved `t * stride` elements further into its slice (`stride` 0
/// repeats one matrix for every entry).
#[derive(Clone, Copy, Debug)]
pub struct Strided<M> {
    /// The batch's first matrix.
    pub mat: M,
    /// Elements from one matrix of the batch to the next.
    pub stride: usize,
}

impl<M> Strided<M> {
    /// `mat`, then one matrix every `stride` elements.
    pub fn new(mat: M, stride: usize) -> Self {
        Strided { mat, stride }
    }
}

/// A mutable `rows x cols` matrix inside a slice, laid out as [`MatRef`].
///
/// Rows and columns must not overlap (no two `(i, j)` at the same address): checked when built.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub(crate) data: &'a mut [T],
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) rs: usize,
    pub(crate) cs: usize,
}

/// Elements a view needs: its largest index plus one (0 for an empty view).
fn extent(rows: usize, cols: usize, rs: usize, cs: usize) -> Option<usize> {
    if rows == 0 || cols == 0 {
        return Some(0);
    }
    (rows - 1)
        .checked_mul(rs)?
        .checked_add((cols - 1).checked_mul(cs)?)?
        .checked_add(1)
}

/// Whether two elements of the view could share an address. Sufficient test: along an axis of
/// length > 1 the stride is nonzero, and when both axes are longer than 1 the larger stride steps
/// over the whole extent of the smaller one.
fn overlaps(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return false;
    }
    match (rows > 1, cols > 1) {
        (false, false) => false,
        (true, false) => rs == 0,
        (false, true) => cs == 0,
        (true, true) => {
            let ((small, small_n), big) = if rs <= cs {
                ((rs, rows), cs)
            } else {
                ((cs, cols), rs)
            };
            small == 0 || big < small * small_n
        }
    }
}

/// The offset of column `range.start` in a `rows x cols` view with column stride `cs`, for
/// [`MatRef::cols`] and [`MatMut::cols`] (0 for an empty result, whose start may lie past the
/// data).
#[track_caller]
fn cols_offset(rows: usize, cols: usize, cs: usize, range: &Range<usize>) -> usize {
    assert!(
        range.start <= range.end && range.end <= cols,
        "columns {range:?} outside a {rows}x{cols} view"
    );
    if range.is_empty() || rows == 0 {
        0
    } else {
        range.start * cs
    }
}

fn check(
    op: &'static str,
    len: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
) -> Result<(), KernelError> {
    let needed = extent(rows, cols, rs, cs).ok_or_else(|| KernelError::Invalid {
        op,
        reason: format!("a {rows}x{cols} view with strides ({rs}, {cs}) overflows usize"),
    })?;
    if needed > len {
        return Err(KernelError::OutOfBounds { op, needed, len });
    }
    Ok(())
}

impl<'a, T> MatRef<'a, T> {
    /// A row-major `rows x cols` view of `data[..rows * cols]`.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        crate::error::unwrap_or_panic(Self::from_strides(data, rows, cols, cols, 1))
    }

    /// A column-major `rows x cols` view of `data[..rows * cols]`.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Self {
        crate::error::unwrap_or_panic(Self::from_strides(data, rows, cols, 1, rows))
    }

    /// A view with explicit strides (in elements).
    ///
    /// # Errors
    /// [`KernelError::OutOfBounds`] if an element lies past the end of `data`.
    pub fn from_strides(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, KernelError> {
        check("MatRef", data.len(), rows, cols, row_stride, col_stride)?;
        Ok(MatRef {
            data,
            rows,
            cols,
            rs: row_stride,
            cs: col_stride,
        })
    }

    /// The transpose (swaps the strides; no copy).
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// The columns `range` of the view: same rows, same strides, no copy.
    ///
    /// # Panics
    /// If `range` is not within `0..cols`.
    #[track_caller]
    pub fn cols(self, range: Range<usize>) -> Self {
        let offset = cols_offset(self.rows, self.cols, self.cs, &range);
        MatRef {
            data: &self.data[offset..],
            cols: range.len(),
            ..self
        }
    }

    /// Element `(i, j)`.
    ///
    /// # Panics
    /// If `i >= rows` or `j >= cols`.
    pub fn get(&self, i: usize, j: usize) -> T
    where
        T: Copy,
    {
        assert!(
            i < self.rows && j < self.cols,
            "index ({i}, {j}) outside {}x{}",
            self.rows,
            self.cols
        );
        self.data[i * self.rs + j * self.cs]
    }
}

impl<'a, T> MatMut<'a, T> {
    /// A row-major `rows x cols` view of `data[..rows * cols]`.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        crate::error::unwrap_or_panic(Self::from_strides(data, rows, cols, cols, 1))
    }

    /// A column-major `rows x cols` view of `data[..rows * cols]`.
    ///
    /// # Panics
    /// If `data` is shorter than `rows * cols`.
    #[track_caller]
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Self {
        crate::error::unwrap_or_panic(Self::from_strides(data, rows, cols, 1, rows))
    }

    /// A view with explicit strides (in elements).
    ///
    /// # Errors
    /// [`KernelError::OutOfBounds`] if an element lies past the end of `data`;
    /// [`KernelError::Invalid`] if two elements would share an address (a zero stride, or
    /// strides that interleave rows and columns).
    pub fn from_strides(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, KernelError> {
        check("MatMut", data.len(), rows, cols, row_stride, col_stride)?;
        if overlaps(rows, cols, row_stride, col_stride) {
            return Err(KernelError::Invalid {
                op: "MatMut",
                reason: format!(
                    "strides ({row_stride}, {col_stride}) make elements of a {rows}x{cols} view overlap"
                ),
            });
        }
        Ok(MatMut {
            data,
            rows,
            cols,
            rs: row_stride,
            cs: col_stride,
        })
    }

    /// `(rows, cols)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// A read-only view of the same elements.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// Reborrows (to pass the view on and keep using it).
    pub fn rb(&mut self) -> MatMut<'_, T> {
        MatMut {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// The columns `range` of the view: same rows, same strides, no copy.
    ///
    /// # Panics
    /// If `range` is not within `0..cols`.
    #[track_caller]
    pub fn cols(self, range: Range<usize>) -> Self {
        let MatMut {
            data,
            rows,
            cols,
            rs,
            cs,
        } = self;
        let offset = cols_offset(rows, cols, cs, &range);
        MatMut {
            data: &mut data[offset..],
            rows,
            cols: range.len(),
            rs,
            cs,
        }
    }

    /// The transpose (swaps the strides; no copy).
    pub fn t(self) -> Self {
        MatMut {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_ranges_view_the_same_elements() {
        let data: Vec<i32> = (0..12).collect();
        for v in [
            MatRef::row_major(&data, 3, 4),
            MatRef::col_major(&data, 3, 4),
            MatRef::row_major(&data, 4, 3).t(),
        ] {
            for range in [0..4, 1..3, 3..4, 4..4, 2..2] {
                let s = v.cols(range.clone());
                assert_eq!(s.shape(), (3, range.len()));
                for i in 0..3 {
                    for j in 0..range.len() {
                        assert_eq!(s.get(i, j), v.get(i, range.start + j));
                    }
                }
            }
        }
    }

    #[test]
    fn a_mutable_column_range_writes_only_its_columns() {
        let mut data = vec![0; 12];
        let v = MatMut::row_major(&mut data, 3, 4).cols(1..3);
        assert_eq!(v.shape(), (3, 2));
        let MatMut {
            data: d, rs, cs, ..
        } = v;
        for i in 0..3 {
            for j in 0..2 {
                d[i * rs + j * cs] = 1;
            }
        }
        assert_eq!(data, [0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]);
    }

    #[test]
    #[should_panic(expected = "columns 2..5 outside a 3x4 view")]
    fn a_column_range_past_the_end_panics() {
        let data = [0.0f32; 12];
        let _ = MatRef::row_major(&data, 3, 4).cols(2..5);
    }
}
