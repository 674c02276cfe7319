//! Mini-batch training of an [`Mlp`] classifier with AdamW: the loop the `digits_mlp` example
//! runs, with its whole state (parameters, optimizer moments and step count, the shuffler) in
//! one struct that [`checkpoint`](crate::checkpoint) saves and restores.

use crate::mlp::Mlp;
use crate::shuffle::{Rng, Shuffler};
use nabla_optim::Adam;

/// Hyperparameters of a training run.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Layer sizes, inputs first, classes last.
    pub sizes: Vec<usize>,
    /// Rows per mini-batch.
    pub batch_size: usize,
    /// AdamW's learning rate.
    pub learning_rate: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// Seeds the initialization and the shuffling.
    pub seed: u64,
}

impl TrainConfig {
    /// The digits network of the example: 64-128-128-10, batch 32, learning rate 1e-3, weight
    /// decay 1e-4.
    pub fn digits(seed: u64) -> TrainConfig {
        TrainConfig {
            sizes: vec![64, 128, 128, 10],
            batch_size: 32,
            learning_rate: 1e-3,
            weight_decay: 1e-4,
            seed,
        }
    }
}

/// A training run in progress over a fixed training set of `n` rows: the network, AdamW and the
/// shuffler, all `f32` parameters.
#[derive(Clone, Debug)]
pub struct Trainer {
    /// The hyperparameters.
    pub config: TrainConfig,
    /// The network being trained.
    pub mlp: Mlp<f32>,
    /// AdamW's state.
    pub adam: Adam<f32>,
    /// Which rows the next batches take.
    pub shuffler: Shuffler,
    /// Steps taken.
    pub steps: u64,
}

impl Trainer {
    /// A fresh run over a training set of `n` rows: the network initialized from `config.seed`,
    /// the shuffler seeded from the same generator's next draw.
    ///
    /// # Panics
    /// If the sizes are invalid or the batch size is zero.
    pub fn new(config: TrainConfig, n: usize) -> Trainer {
        assert!(config.batch_size > 0, "Trainer::new: batch size 0");
        let mut rng = Rng::new(config.seed);
        let mlp = Mlp::init(&config.sizes, &mut rng);
        let shuffler = Shuffler::new(n, rng.next_u64());
        let adam = Adam::adamw(config.learning_rate, config.weight_decay);
        Trainer {
            config,
            mlp,
            adam,
            shuffler,
            steps: 0,
        }
    }

    /// One step on the next mini-batch of the training set (`x` row-major with `y.len()` rows,
    /// the same set every call): gather the rows, loss and gradient by the graph, one AdamW
    /// update. Returns the batch's mean loss before the update.
    ///
    /// # Panics
    /// If `y.len()` differs from the shuffler's `n` or `x` does not hold `y.len()` rows.
    pub fn step(&mut self, x: &[f32], y: &[usize]) -> f32 {
        let d = self.config.sizes[0];
        assert_eq!(
            y.len(),
            self.shuffler.len(),
            "Trainer::step: training set size"
        );
        assert_eq!(x.len(), y.len() * d, "Trainer::step: rows of x vs labels");
        let batch = self.shuffler.next_batch(self.config.batch_size);
        let mut bx = Vec::with_capacity(batch.len() * d);
        let mut by = Vec::with_capacity(batch.len());
        for &i in batch {
            bx.extend_from_slice(&x[i * d..(i + 1) * d]);
            by.push(y[i]);
        }
        let (loss, grad) = self.mlp.loss_and_grad(&bx, &by);
        self.adam.update(self.mlp.params_mut(), &grad);
        self.steps += 1;
        loss
    }

    /// Steps until the current epoch has handed out every row; returns the mean batch loss.
    ///
    /// # Panics
    /// As [`Trainer::step`].
    pub fn epoch(&mut self, x: &[f32], y: &[usize]) -> f32 {
        let (mut sum, mut count) = (0.0f64, 0usize);
        loop {
            sum += f64::from(self.step(x, y));
            count += 1;
            if self.shuffler.epoch_done() {
                break;
            }
        }
        (sum / count as f64) as f32
    }
}
