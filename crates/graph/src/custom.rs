//! Custom operations: a forward computation and a user-given derivative rule.

use crate::error::GraphError;
use crate::graph::{Graph, Op, Var};
use crate::tensor::Tensor;
use nabla_kernels::Element;
use std::sync::Arc;

/// An operation of one or two inputs with its own derivative rule.
///
/// The rule is written with `Var` operations, like the built-in ones: a gradient recorded through
/// a custom operation can then be differentiated again.
///
/// ```
/// use nabla_graph::{CustomOp, Graph, GraphError, Tensor, Var};
/// use std::sync::Arc;
///
/// /// `x^2`, with its derivative `2x` given by hand.
/// struct Square;
/// impl CustomOp<f64> for Square {
///     fn name(&self) -> &str { "square" }
///     fn forward(&self, inputs: &[Tensor<f64>]) -> Result<Tensor<f64>, GraphError> {
///         let x = &inputs[0];
///         Tensor::from_vec(x.data().iter().map(|v| v * v).collect(), x.shape())
///     }
///     fn vjp<'g>(&self, inputs: &[Var<'g, f64>], _output: Var<'g, f64>, dy: Var<'g, f64>) -> Vec<Var<'g, f64>> {
///         vec![dy * inputs[0] * 2.0]
///     }
/// }
/// let g = Graph::<f64>::new();
/// let x = g.var(Tensor::scalar(3.0));
/// let y = g.custom(Arc::new(Square), &[x]).unwrap();
/// let dy = g.grad_graph(y, &[x]).unwrap()[0];
/// assert_eq!(dy.value().item(), 6.0);
/// assert_eq!(g.grad(dy, &[x]).unwrap()[0].item(), 2.0); // the rule is differentiable too
/// ```
pub trait CustomOp<T: Element>: Send + Sync {
    /// A name for error messages.
    fn name(&self) -> &str;
    /// The output for the input values.
    ///
    /// # Errors
    /// Whatever the operation finds wrong with its inputs.
    fn forward(&self, inputs: &[Tensor<T>]) -> Result<Tensor<T>, GraphError>;
    /// The contribution `dy * d(output)/d(input_k)` for each input, each with its input's shape.
    fn vjp<'g>(&self, inputs: &[Var<'g, T>], output: Var<'g, T>, dy: Var<'g, T>)
    -> Vec<Var<'g, T>>;
}

/// A shared custom operation inside the graph's op enum.
#[derive(Clone)]
pub(crate) struct CustomRef<T>(pub Arc<dyn CustomOp<T>>);

impl<T> std::fmt::Debug for CustomRef<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("custom op")
    }
}

impl<T: Element> Graph<T> {
    /// Applies a custom operation to one or two inputs.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for no or more than two inputs; the operation's own errors.
    pub fn custom<'g>(
        &'g self,
        op: Arc<dyn CustomOp<T>>,
        inputs: &[Var<'g, T>],
    ) -> Result<Var<'g, T>, GraphError> {
        if inputs.is_empty() || inputs.len() > 2 {
            return Err(GraphError::Invalid {
                op: "custom",
                reason: format!(
                    "{} takes one or two inputs, got {}",
                    op.name(),
                    inputs.len()
                ),
            });
        }
        let values: Vec<Tensor<T>> = inputs.iter().map(|v| v.value()).collect();
        let out = op.forward(&values)?;
        Ok(self.push_op(Op::Custom(CustomRef(op)), inputs, out))
    }
}
