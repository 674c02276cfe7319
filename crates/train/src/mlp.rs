//! A multilayer perceptron written with nabla-graph operations: `matmul`, a broadcast bias add
//! and `relu` per hidden layer, softmax cross-entropy on the logits.
//!
//! All parameters live in one flat vector (layer by layer: the weight `[in, out]` row-major,
//! then the bias `[out]`), which is what an optimizer such as
//! [`Adam::update`](nabla_optim::Adam::update) steps in place.

use crate::shuffle::Rng;
use nabla_graph::{Graph, Tensor, Var};
use nabla_kernels::Element;
use std::ops::Range;

/// An MLP with layer sizes `sizes[0] -> sizes[1] -> ... -> sizes[L]`, ReLU between layers and
/// none after the last (it gives logits).
#[derive(Clone, Debug, PartialEq)]
pub struct Mlp<T> {
    sizes: Vec<usize>,
    params: Vec<T>,
}

/// Where one layer's weight and bias sit in the flat parameter vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerSlices {
    /// The weight `[inputs, outputs]`, row-major.
    pub weight: Range<usize>,
    /// The bias `[outputs]`.
    pub bias: Range<usize>,
    /// The layer's inputs.
    pub inputs: usize,
    /// The layer's outputs.
    pub outputs: usize,
}

/// Where each layer's weight and bias sit in the flat parameter vector of an MLP of `sizes`
/// (the last entry's `bias.end` is the parameter count).
///
/// # Errors
/// If `sizes` has fewer than two entries or a zero.
pub fn layer_layout(sizes: &[usize]) -> Result<Vec<LayerSlices>, String> {
    check_sizes(sizes)?;
    Ok(layout(sizes))
}

fn layout(sizes: &[usize]) -> Vec<LayerSlices> {
    let mut at = 0;
    sizes
        .windows(2)
        .map(|w| {
            let (i, o) = (w[0], w[1]);
            let weight = at..at + i * o;
            let bias = weight.end..weight.end + o;
            at = bias.end;
            LayerSlices {
                weight,
                bias,
                inputs: i,
                outputs: o,
            }
        })
        .collect()
}

fn check_sizes(sizes: &[usize]) -> Result<(), String> {
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(format!(
            "an MLP needs at least two positive layer sizes, got {sizes:?}"
        ));
    }
    Ok(())
}

impl<T: Element> Mlp<T> {
    /// He-uniform initialization from `seed`: each weight uniform in
    /// `±sqrt(6 / inputs)` (keeps the activations' scale through ReLU layers), biases zero.
    ///
    /// # Panics
    /// If `sizes` has fewer than two entries or a zero.
    pub fn new(sizes: &[usize], seed: u64) -> Mlp<T> {
        Self::init(sizes, &mut Rng::new(seed))
    }

    /// As [`Mlp::new`], drawing from `rng`.
    ///
    /// # Panics
    /// As [`Mlp::new`].
    pub fn init(sizes: &[usize], rng: &mut Rng) -> Mlp<T> {
        if let Err(e) = check_sizes(sizes) {
            panic!("Mlp::new: {e}");
        }
        let layers = layout(sizes);
        let mut params = vec![T::ZERO; layers.last().map_or(0, |l| l.bias.end)];
        for l in &layers {
            let bound = (6.0 / l.inputs as f64).sqrt();
            for p in &mut params[l.weight.clone()] {
                *p = T::from_f64((2.0 * rng.uniform() - 1.0) * bound);
            }
        }
        Mlp {
            sizes: sizes.to_vec(),
            params,
        }
    }

    /// An MLP with the given parameters (laid out as [`Mlp::layers`] says).
    ///
    /// # Errors
    /// If the sizes are invalid or `params` has the wrong length.
    pub fn from_params(sizes: &[usize], params: Vec<T>) -> Result<Mlp<T>, String> {
        check_sizes(sizes)?;
        let want = layout(sizes).last().map_or(0, |l| l.bias.end);
        if params.len() != want {
            return Err(format!(
                "an MLP of sizes {sizes:?} has {want} parameters, given {}",
                params.len()
            ));
        }
        Ok(Mlp {
            sizes: sizes.to_vec(),
            params,
        })
    }

    /// The layer sizes.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Each layer's place in the parameter vector.
    pub fn layers(&self) -> Vec<LayerSlices> {
        layout(&self.sizes)
    }

    /// All parameters, flat.
    pub fn params(&self) -> &[T] {
        &self.params
    }

    /// All parameters, flat and mutable (for an optimizer step).
    pub fn params_mut(&mut self) -> &mut [T] {
        &mut self.params
    }

    /// The parameters as tensors `[W0, b0, W1, b1, ...]` (weights `[in, out]`, biases `[out]`).
    pub fn param_tensors(&self) -> Vec<Tensor<T>> {
        self.layers()
            .into_iter()
            .flat_map(|l| {
                [
                    Tensor::new(self.params[l.weight].to_vec(), &[l.inputs, l.outputs]),
                    Tensor::new(self.params[l.bias].to_vec(), &[l.outputs]),
                ]
            })
            .collect()
    }

    /// The logits `[batch, classes]` for inputs `x` (`[batch, sizes[0]]`) with the parameters
    /// given as vars `[W0, b0, W1, b1, ...]` (shaped as [`Mlp::param_tensors`]), so the same
    /// network can be differentiated with respect to any parameters.
    ///
    /// # Panics
    /// If `params` does not hold two vars per layer or a shape does not fit.
    pub fn forward<'g>(&self, params: &[Var<'g, T>], x: Var<'g, T>) -> Var<'g, T> {
        assert_eq!(
            params.len(),
            2 * (self.sizes.len() - 1),
            "Mlp::forward: two vars per layer"
        );
        let last = params.len() / 2 - 1;
        let mut h = x;
        for (i, wb) in params.chunks_exact(2).enumerate() {
            h = h.matmul(wb[0]) + wb[1];
            if i < last {
                h = h.relu();
            }
        }
        h
    }

    /// The mean softmax cross-entropy of the logits of `x` against `labels`, with the
    /// parameters as vars (see [`Mlp::forward`]).
    ///
    /// # Panics
    /// As [`Mlp::forward`], or if a label is not below the class count.
    pub fn loss<'g>(&self, params: &[Var<'g, T>], x: Var<'g, T>, labels: &[usize]) -> Var<'g, T> {
        self.forward(params, x).cross_entropy(labels)
    }

    /// The mean cross-entropy on a batch (`x` row-major, `labels.len()` rows) and its gradient
    /// with respect to every parameter, flat as [`Mlp::params`]: one forward pass recorded on a
    /// fresh graph and one reverse sweep.
    ///
    /// # Panics
    /// If `x.len() != labels.len() * sizes[0]` or a label is not below the class count.
    pub fn loss_and_grad(&self, x: &[T], labels: &[usize]) -> (T, Vec<T>) {
        let g = Graph::new();
        let params: Vec<Var<'_, T>> = self.param_tensors().into_iter().map(|t| g.var(t)).collect();
        let xv = g.constant(Tensor::new(x.to_vec(), &[labels.len(), self.sizes[0]]));
        let loss = self.loss(&params, xv, labels);
        let grads = g
            .grad(loss, &params)
            .expect("the cross-entropy is a scalar");
        let mut flat = Vec::with_capacity(self.params.len());
        for t in &grads {
            flat.extend_from_slice(t.data());
        }
        (loss.value().item(), flat)
    }

    /// The logits for `rows` inputs in `x` (row-major), computed without recording gradients.
    ///
    /// # Panics
    /// If `x.len()` is not a multiple of `sizes[0]`.
    pub fn logits(&self, x: &[T]) -> Tensor<T> {
        let g = Graph::new();
        g.no_grad(|| {
            let params: Vec<Var<'_, T>> = self
                .param_tensors()
                .into_iter()
                .map(|t| g.constant(t))
                .collect();
            let rows = x.len() / self.sizes[0];
            let xv = g.constant(Tensor::new(x.to_vec(), &[rows, self.sizes[0]]));
            self.forward(&params, xv).value()
        })
    }

    /// The predicted class (the largest logit; the first on ties) of each input row.
    pub fn predict(&self, x: &[T]) -> Vec<usize> {
        let logits = self.logits(x);
        let classes = *self.sizes.last().expect("checked at construction");
        logits
            .data()
            .chunks_exact(classes)
            .map(|row| {
                let mut best = 0;
                for (j, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = j;
                    }
                }
                best
            })
            .collect()
    }

    /// The fraction of rows of `x` whose predicted class is the label.
    ///
    /// # Panics
    /// If `x` does not hold `labels.len()` rows.
    pub fn accuracy(&self, x: &[T], labels: &[usize]) -> f64 {
        assert_eq!(
            x.len(),
            labels.len() * self.sizes[0],
            "Mlp::accuracy: rows of x vs labels"
        );
        if labels.is_empty() {
            return 0.0;
        }
        let hits = self
            .predict(x)
            .iter()
            .zip(labels)
            .filter(|(p, l)| p == l)
            .count();
        hits as f64 / labels.len() as f64
    }
}
