//! The error type of the `try_` forms.

use std::fmt;

/// Why a kernel refused its arguments. The panicking forms panic with the same message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelError {
    /// Two slices that must have the same length do not.
    LengthMismatch {
        /// The kernel.
        op: &'static str,
        /// The length required (from the first operand or the shape).
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// Two matrix operands have incompatible shapes.
    ShapeMismatch {
        /// The kernel.
        op: &'static str,
        /// Shape (rows, cols) of the left operand.
        lhs: (usize, usize),
        /// Shape (rows, cols) of the right operand.
        rhs: (usize, usize),
    },
    /// A matrix view reaches past the end of its slice.
    OutOfBounds {
        /// The kernel or constructor.
        op: &'static str,
        /// Elements the view needs (largest index + 1).
        needed: usize,
        /// Elements the slice has.
        len: usize,
    },
    /// Any other invalid argument, described.
    Invalid {
        /// The kernel.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::LengthMismatch { op, expected, got } => {
                write!(f, "{op}: length mismatch: expected {expected}, got {got}")
            }
            KernelError::ShapeMismatch { op, lhs, rhs } => write!(
                f,
                "{op}: shape mismatch: {}x{} and {}x{}",
                lhs.0, lhs.1, rhs.0, rhs.1
            ),
            KernelError::OutOfBounds { op, needed, len } => write!(
                f,
                "{op}: the view needs {needed} elements but the slice has {len}"
            ),
            KernelError::Invalid { op, reason } => write!(f, "{op}: {reason}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// Panics with the error's message: the panicking forms of the kernels call this.
#[track_caller]
pub(crate) fn unwrap_or_panic<R>(r: Result<R, KernelError>) -> R {
    match r {
        Ok(v) => v,
        Err(e) => panic!("nabla-kernels: {e}"),
    }
}
