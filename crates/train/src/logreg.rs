//! L2-regularized logistic regression written with nabla-graph, as a nabla-optim objective:
//!
//! ```text
//! f(w, b) = (1/n) sum_i [softplus(z_i) - y_i z_i] + (λ/2) ||w||^2,   z = X w + b
//! ```
//!
//! (the mean binary cross-entropy from logits, stable for any `z`; the bias is not penalized).
//! The parameter vector is `θ = (w_1, ..., w_d, b)`. `f` is strictly convex for `λ > 0`, so
//! Newton's method converges quadratically from any start once near the minimizer.
//!
//! Newton's method on the bundled breast-cancer data (features standardized with the training
//! split's statistics):
//!
//! ```
//! use nabla_optim::{minimize, Gtol, Newton, Options};
//! use nabla_train::{data, logreg::LogisticRegression, shuffle::train_test_split};
//! let cancer = data::breast_cancer()?;
//! let (train, test) = train_test_split(cancer.rows(), 0.2, 42);
//! let (train, test) = (cancer.select(&train), cancer.select(&test));
//! let scaler = data::Standardizer::fit(&train);
//! let problem = LogisticRegression::new(&scaler.apply(&train), 1e-3);
//! let options = Options { gtol: Gtol::Absolute(1e-8), ..Options::default() };
//! let r = minimize(&problem.objective()?, &mut Newton::default(), &vec![0.0; problem.dim()], &options);
//! assert!(r.converged() && r.iterations <= 15);
//! assert!(problem.accuracy(&r.point.x, &scaler.apply(&test)) >= 0.95);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::data::Dataset;
use nabla_graph::{GraphError, Tensor, Var, func};
use nabla_optim::GraphObjective;

/// A binary classification problem: the design matrix, the 0/1 labels and the penalty `λ`.
#[derive(Clone, Debug)]
pub struct LogisticRegression {
    x: Tensor<f64>,
    y: Tensor<f64>,
    rows: usize,
    features: usize,
    /// The L2 penalty `λ` on the weights.
    pub lambda: f64,
}

impl LogisticRegression {
    /// The problem on `data` (which must have two classes; standardize its features first).
    ///
    /// # Panics
    /// If `data` does not have exactly two classes or has no rows.
    pub fn new(data: &Dataset, lambda: f64) -> LogisticRegression {
        assert_eq!(data.classes, 2, "LogisticRegression: two classes");
        assert!(data.rows() > 0, "LogisticRegression: no rows");
        LogisticRegression {
            x: Tensor::new(data.x.clone(), &[data.rows(), data.features]),
            y: Tensor::new(
                data.y.iter().map(|&l| l as f64).collect(),
                &[data.rows(), 1],
            ),
            rows: data.rows(),
            features: data.features,
            lambda,
        }
    }

    /// The number of parameters, `features + 1`.
    pub fn dim(&self) -> usize {
        self.features + 1
    }

    /// `f(θ)` recorded on `theta`'s graph (`theta` of length [`LogisticRegression::dim`]).
    ///
    /// # Panics
    /// If `theta` has the wrong length.
    pub fn loss<'g>(&self, theta: Var<'g, f64>) -> Var<'g, f64> {
        let g = theta.graph();
        let d = self.features;
        let w = theta.slice(0, 0, d);
        let b = theta.slice(0, d, d + 1);
        let z = g.constant(self.x.clone()).matmul(w.reshape(&[d, 1])) + b;
        let data = z.bce_with_logits(g.constant(self.y.clone()));
        data + (w * w).sum() * (self.lambda / 2.0)
    }

    /// `f` as an objective for nabla-optim's solvers: gradient by one reverse sweep, `H v`
    /// forward-over-reverse, the dense Hessian from the graph.
    ///
    /// # Errors
    /// Not expected (the loss is a scalar of any `θ` of the right length); passed on from
    /// [`GraphObjective::new`].
    pub fn objective(
        &self,
    ) -> Result<GraphObjective<impl for<'g> Fn(Var<'g, f64>) -> Var<'g, f64> + '_>, GraphError>
    {
        GraphObjective::new(self.dim(), func(move |theta| self.loss(theta)))
    }

    /// The number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The fraction of `data`'s rows classified right by `θ` (class 1 where `z > 0`).
    ///
    /// # Panics
    /// If `theta` or `data` do not fit this problem's feature count.
    pub fn accuracy(&self, theta: &[f64], data: &Dataset) -> f64 {
        assert_eq!(theta.len(), self.dim(), "LogisticRegression::accuracy: θ");
        assert_eq!(data.features, self.features, "LogisticRegression: features");
        let (w, b) = theta.split_at(self.features);
        let hits = (0..data.rows())
            .filter(|&i| {
                let z: f64 = data.row(i).iter().zip(w).map(|(x, w)| x * w).sum::<f64>() + b[0];
                usize::from(z > 0.0) == data.y[i]
            })
            .count();
        hits as f64 / data.rows().max(1) as f64
    }
}
