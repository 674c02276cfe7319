//! Gradient checkpointing: a segment of the computation whose intermediate values are not kept
//! for the backward pass but recomputed there, trading one more forward pass of the segment for
//! the memory of its intermediates.

use crate::custom::CustomOp;
use crate::error::GraphError;
use crate::graph::{Graph, Var};
use crate::tensor::Tensor;
use nabla_kernels::Element;
use std::sync::Arc;

/// A checkpointed segment `f` as a custom operation: its forward rule runs `f` on a scratch
/// graph (dropped at once, so only the output stays), its reverse and forward rules run `f`
/// again on the graph being differentiated and differentiate that.
struct Segment<F> {
    f: F,
}

impl<T, F> CustomOp<T> for Segment<F>
where
    T: Element,
    F: for<'h> Fn(&[Var<'h, T>]) -> Var<'h, T> + Send + Sync,
{
    fn name(&self) -> &str {
        "checkpoint"
    }

    fn forward(&self, inputs: &[Tensor<T>]) -> Result<Tensor<T>, GraphError> {
        let scratch = Graph::new();
        scratch.no_grad(|| {
            let vars: Vec<Var<'_, T>> =
                inputs.iter().map(|t| scratch.constant(t.clone())).collect();
            Ok((self.f)(&vars).value())
        })
    }

    fn vjp<'g>(
        &self,
        inputs: &[Var<'g, T>],
        _output: Var<'g, T>,
        dy: Var<'g, T>,
    ) -> Vec<Var<'g, T>> {
        let g = dy.graph();
        let recorded = g.recording.get();
        let (stand_ins, y) = recompute(g, &self.f, inputs);
        let result = if recorded {
            // Recorded sweep (second derivatives): the recomputed segment and its gradient stay
            // in the graph, differentiable again.
            g.vjp_graph(y, &stand_ins, dy)
        } else {
            // Value sweep: the recomputed nodes are cut back by the sweep after this rule.
            g.vjp(y, &stand_ins, dy.value())
                .map(|ts| ts.into_iter().map(|t| g.constant(t)).collect())
        };
        result.expect("the segment's output has its recorded shape")
    }

    fn jvp<'g>(
        &self,
        inputs: &[Var<'g, T>],
        _output: Var<'g, T>,
        tangents: &[Option<Var<'g, T>>],
    ) -> Option<Var<'g, T>> {
        let g = inputs[0].graph();
        let record = g.recording.get();
        let (stand_ins, y) = recompute(g, &self.f, inputs);
        let ts: Vec<Var<'g, T>> = inputs
            .iter()
            .zip(tangents)
            .map(|(x, t)| t.unwrap_or_else(|| g.constant(Tensor::zeros(&x.shape()))))
            .collect();
        Some(
            g.jvp_graph(y, &stand_ins, &ts, record)
                .expect("tangents have their inputs' shapes"),
        )
    }
}

/// `f` recorded on `g` (whatever the sweep's recording mode), so it can be differentiated, on
/// stand-ins for the inputs: a new node per input (a reshape to its own shape: no copy) that
/// depends on it, so differentiating with respect to the stand-ins gives the partial
/// derivative in each input (a sweep stops at them even where one input depends on another,
/// as with a weight shared by two segments) while the result, recorded, still depends on the
/// inputs themselves (higher derivatives).
fn recompute<'g, T: Element>(
    g: &'g Graph<T>,
    f: &impl for<'h> Fn(&[Var<'h, T>]) -> Var<'h, T>,
    inputs: &[Var<'g, T>],
) -> (Vec<Var<'g, T>>, Var<'g, T>) {
    let before = g.recording.replace(true);
    let stand_ins: Vec<Var<'g, T>> = inputs.iter().map(|x| x.reshape(&x.shape())).collect();
    let y = f(&stand_ins);
    g.recording.set(before);
    (stand_ins, y)
}

impl<T: Element> Graph<T> {
    /// `f(inputs)` as a checkpointed segment: its value is computed now, but its intermediate
    /// values are not kept; a backward (or forward-mode) pass through it runs `f` again and
    /// differentiates that, to any order. A gradient ([`Graph::grad`]) is the same bits as
    /// without the checkpoint (the same operations run); higher derivatives agree to rounding
    /// (the segment's contributions are summed inside it first). The memory of the segment's
    /// intermediates is traded for one more forward pass of it, once per backward pass.
    ///
    /// `f` must be a pure function of its inputs (it runs two or more times) and build its
    /// constants from them or from what it captures.
    ///
    /// # Errors
    /// [`GraphError::Invalid`] for no inputs, [`GraphError::ForeignVar`] for an input of
    /// another graph; the errors of `f`'s operations panic as they would outside.
    ///
    /// ```
    /// use nabla_graph::{Graph, Tensor};
    /// let g = Graph::<f64>::new();
    /// let (x, w) = (g.var(Tensor::vector(&[0.5, -1.0])), g.var(Tensor::vector(&[2.0, 3.0])));
    /// // A layer whose intermediates (x * w, its tanh) are recomputed in the backward pass.
    /// let y = g.checkpoint(&[x, w], |v| (v[0] * v[1]).tanh().sum()).unwrap();
    /// let with = g.grad(y, &[x, w]).unwrap();
    /// let without = g.grad((x * w).tanh().sum(), &[x, w]).unwrap();
    /// assert_eq!(with, without);
    /// ```
    pub fn checkpoint<'g, F>(
        &'g self,
        inputs: &[Var<'g, T>],
        f: F,
    ) -> Result<Var<'g, T>, GraphError>
    where
        F: for<'h> Fn(&[Var<'h, T>]) -> Var<'h, T> + Send + Sync + 'static,
    {
        self.custom(Arc::new(Segment { f }), inputs)
    }
}
