//! Strided matrix views: the operands of GEMM.

use crate::error::KernelError;

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
