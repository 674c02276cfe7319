//! Errors of the `try_` forms and of the gradient API.

use std::fmt;

/// Why a graph operation or a gradient request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphError {
    /// Two operands' shapes do not fit the operation (broadcasting, matmul, reshape).
    ShapeMismatch {
        /// The operation.
        op: &'static str,
        /// Shape of the left (or only) operand.
        lhs: Vec<usize>,
        /// Shape of the right operand (or the requested shape).
        rhs: Vec<usize>,
    },
    /// An argument is invalid for the operation (an axis out of range, a wrong length).
    Invalid {
        /// The operation.
        op: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// `grad` of an output that is not a scalar, without a seed.
    NotScalar {
        /// The output's shape.
        shape: Vec<usize>,
    },
    /// A `Var` from another graph was passed.
    ForeignVar,
}

impl fmt::Display for GraphError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GraphError::ShapeMismatch { op, lhs, rhs } => {
                write!(f, "{op}: shape mismatch: {lhs:?} and {rhs:?}")
            }
            GraphError::Invalid { op, reason } => write!(f, "{op}: {reason}"),
            GraphError::NotScalar { shape } => write!(
                f,
                "grad: the output has shape {shape:?}, not a scalar: give a seed (vjp) or reduce it first"
            ),
            GraphError::ForeignVar => write!(f, "a Var from another graph was used"),
        }
    }
}

impl std::error::Error for GraphError {}

/// Panics with the error's message (the operator forms).
#[track_caller]
pub(crate) fn unwrap_or_panic<R>(r: Result<R, GraphError>) -> R {
    match r {
        Ok(v) => v,
        Err(e) => panic!("nabla-graph: {e}"),
    }
}
