//! # nabla-train
//!
//! Real training on nabla: data loading, seeded shuffling and splits, an MLP written with
//! nabla-graph operations, AdamW steps from nabla-optim, and safetensors checkpoints that resume
//! bit-identically. The crate's examples train on two bundled real data sets:
//!
//! * `cargo run --release -p nabla-train --example digits_mlp`: a 64-128-128-10 MLP on the UCI
//!   handwritten digits (AdamW, mini-batches), printing the test accuracy and writing an SVG
//!   plot of the loss and accuracy per epoch.
//! * `cargo run --release -p nabla-train --example logreg_newton`: L2-regularized logistic
//!   regression on the Wisconsin breast-cancer data by Newton (exact Hessian from the graph),
//!   Newton-CG, L-BFGS and gradient descent.
//!
//! Modules: [`data`] (the bundled sets, CSV loaders with file-and-line errors, standardization),
//! [`shuffle`] (a checkpointable generator, splits, mini-batch order), [`logreg`] (the logistic
//! objective).
//!
//! Newton's method on the breast-cancer logistic regression, from the bundled data:
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

pub mod data;
pub mod logreg;
pub mod shuffle;
