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
//! [`shuffle`] (a checkpointable generator, splits, mini-batch order), [`mlp`] (the network),
//! [`trainer`] (the AdamW loop), [`checkpoint`] (safetensors), [`logreg`] (the logistic
//! objective).
//!
//! Training the digits network for two epochs and checking that it learned something:
//!
//! ```
//! use nabla_train::{data, shuffle::train_test_split, trainer::{TrainConfig, Trainer}};
//! let digits = data::digits()?.scaled(1.0 / 16.0);
//! let (train, test) = train_test_split(digits.rows(), 0.2, 7);
//! let (train, test) = (digits.select(&train), digits.select(&test));
//! let to_f32 = |d: &data::Dataset| d.x.iter().map(|&v| v as f32).collect::<Vec<f32>>();
//! let (xtr, xte) = (to_f32(&train), to_f32(&test));
//! let mut trainer = Trainer::new(TrainConfig::digits(7), train.rows());
//! for _ in 0..2 {
//!     trainer.epoch(&xtr, &train.y);
//! }
//! let accuracy = trainer.mlp.accuracy(&xte, &test.y);
//! assert!(accuracy > 0.8, "{accuracy}"); // ten classes: chance is 0.1
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod checkpoint;
pub mod data;
pub mod logreg;
pub mod mlp;
pub mod shuffle;
pub mod trainer;
