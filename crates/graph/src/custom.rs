//! Custom operations: a forward computation and a user-given derivative rule.

use crate::error::GraphError;
use crate::graph::{Graph, Op, Var};
use crate::tensor::Tensor;
use nabla_kernels::Element;
use std::sync::Arc;

/// An operation of any number of inputs with its own derivative rules: a reverse rule (`vjp`,
/// required) and a forward rule (`jvp`, optional: without it, forward mode, and so [`crate::jvp`],
/// [`crate::hvp`] and column-wise [`crate::jacobian`], report an error on a path through the op).
///
/// The rules are written with `Var` operations, like the built-in ones: a gradient recorded
/// through a custom operation can then be differentiated again. What `vjp` returns is checked:
/// one contribution per input, each of its input's shape, or the sweep returns an error naming
/// the operation.
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
    /// The directional derivative `sum_k d(output)/d(input_k) t_k`, of the output's shape, for
    /// tangents `t_k` (`None`: zero) of each input; `None` if the operation has no forward
    /// rule (the default).
    fn jvp<'g>(
        &self,
        inputs: &[Var<'g, T>],
        output: Var<'g, T>,
        tangents: &[Option<Var<'g, T>>],
    ) -> Option<Var<'g, T>> {
        let _ = (inputs, output, tangents);
        None
    }
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
    /// Applies a custom operation to its inputs (at least one).
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for no inputs; [`GraphError::ForeignVar`] for an input of another
    /// graph; the operation's own errors.
    pub fn custom<'g>(
        &'g self,
        op: Arc<dyn CustomOp<T>>,
        inputs: &[Var<'g, T>],
    ) -> Result<Var<'g, T>, GraphError> {
        if inputs.is_empty() {
            return Err(GraphError::Invalid {
                op: "custom",
                reason: format!("{} needs at least one input", op.name()),
            });
        }
        if inputs.iter().any(|v| !std::ptr::eq(v.g, self)) {
            return Err(GraphError::ForeignVar);
        }
        let values: Vec<Tensor<T>> = inputs.iter().map(|v| v.value()).collect();
        let out = op.forward(&values)?;
        Ok(self.push_op(Op::Custom(CustomRef(op)), inputs, out))
    }
}

/// The reverse rule of a custom node: the user's `vjp`, checked (one contribution per input,
/// each of its input's shape).
pub(crate) fn vjp<'g, T: Element>(
    g: &'g Graph<T>,
    op: &CustomRef<T>,
    id: usize,
    parents: &[usize],
    dy: Var<'g, T>,
) -> Result<Vec<Option<Var<'g, T>>>, GraphError> {
    let inputs: Vec<Var<'g, T>> = parents.iter().map(|&id| Var { g, id }).collect();
    let grads = op.0.vjp(&inputs, Var { g, id }, dy);
    let name = op.0.name();
    if grads.len() != inputs.len() {
        return Err(GraphError::Invalid {
            op: "custom vjp",
            reason: format!(
                "{name}: the rule returned {} contributions for {} inputs",
                grads.len(),
                inputs.len()
            ),
        });
    }
    for (k, (d, x)) in grads.iter().zip(&inputs).enumerate() {
        if !std::ptr::eq(d.g, g) {
            return Err(GraphError::ForeignVar);
        }
        let (ds, xs) = (d.dims(), x.dims());
        if !crate::tensor::same_dims(&ds, &xs) {
            return Err(GraphError::Invalid {
                op: "custom vjp",
                reason: format!(
                    "{name}: the contribution for input {k} has shape {:?}, the input {:?}",
                    &*ds, &*xs
                ),
            });
        }
    }
    Ok(grads.into_iter().map(Some).collect())
}

/// The forward rule of a custom node: the user's `jvp`, or an error if it has none.
pub(crate) fn jvp<'g, T: Element>(
    g: &'g Graph<T>,
    op: &CustomRef<T>,
    id: usize,
    parents: &[usize],
    tangents: &[Option<Var<'g, T>>],
) -> Result<Var<'g, T>, GraphError> {
    let inputs: Vec<Var<'g, T>> = parents.iter().map(|&id| Var { g, id }).collect();
    let y = Var { g, id };
    let t =
        op.0.jvp(&inputs, y, tangents)
            .ok_or_else(|| GraphError::Invalid {
                op: "jvp",
                reason: format!("custom operation {} has no forward rule", op.0.name()),
            })?;
    let (ts, ys) = (t.dims(), y.dims());
    if !crate::tensor::same_dims(&ts, &ys) {
        return Err(GraphError::Invalid {
            op: "custom jvp",
            reason: format!(
                "{}: the tangent has shape {:?}, the output {:?}",
                op.0.name(),
                &*ts,
                &*ys
            ),
        });
    }
    Ok(t)
}
