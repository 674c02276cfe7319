//! The MLP: its gradient against central differences, and training on the digits reaching a
//! stated accuracy in a test-sized run.

use nabla_graph::{Tensor, gradcheck};
use nabla_train::data::{Dataset, digits};
use nabla_train::mlp::{Mlp, layer_layout};
use nabla_train::shuffle::{Rng, train_test_split};
use nabla_train::trainer::{TrainConfig, Trainer};

#[test]
fn layout_and_param_count() {
    let l = layer_layout(&[64, 128, 128, 10]).unwrap();
    assert_eq!(
        l.last().unwrap().bias.end,
        64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    );
    assert_eq!(
        (l[1].weight.start, l[1].inputs, l[1].outputs),
        (64 * 128 + 128, 128, 128)
    );
    assert!(layer_layout(&[3]).is_err() && layer_layout(&[3, 0, 2]).is_err());
    let mlp = Mlp::<f32>::new(&[64, 128, 128, 10], 1);
    assert_eq!(mlp.params().len(), l.last().unwrap().bias.end);
    // He-uniform: weights within ±sqrt(6 / fan_in), biases zero.
    let bound = (6.0f32 / 64.0).sqrt();
    assert!(
        mlp.params()[l[0].weight.clone()]
            .iter()
            .all(|w| w.abs() <= bound)
    );
    assert!(mlp.params()[l[2].bias.clone()].iter().all(|&b| b == 0.0));
    assert!(Mlp::from_params(&[2, 2], vec![0.0f32; 5]).is_err());
}

#[test]
fn gradient_matches_central_differences() {
    // A tiny 3-5-4-3 net in f64 on 6 random rows; biases made nonzero so every parameter matters.
    let sizes = [3, 5, 4, 3];
    let mut mlp = Mlp::<f64>::new(&sizes, 11);
    let mut rng = Rng::new(12);
    for l in mlp.layers() {
        for b in &mut mlp.params_mut()[l.bias] {
            *b = rng.uniform() - 0.5;
        }
    }
    let x: Vec<f64> = (0..18).map(|_| 2.0 * rng.uniform() - 1.0).collect();
    let labels = [0, 2, 1, 1, 0, 2];
    let xt = Tensor::new(x.clone(), &[6, 3]);
    let report = gradcheck(
        |v| mlp.loss(v, v[0].graph().constant(xt.clone()), &labels),
        &mlp.param_tensors(),
        1e-6,
    )
    .unwrap();
    let mut autodiff = Vec::new();
    for r in &report {
        assert!(r.max_abs_error < 1e-8, "{r:?}");
        autodiff.extend_from_slice(r.autodiff.data());
    }
    // The flat gradient of loss_and_grad is the same, in the parameter vector's layout.
    let (loss, flat) = mlp.loss_and_grad(&x, &labels);
    assert_eq!(flat, autodiff);
    assert!(flat.iter().any(|g| g.abs() > 1e-3));
    // And the loss is the mean cross-entropy of the logits.
    let logits = mlp.logits(&x);
    let mut want = 0.0;
    for (row, &l) in logits.data().chunks_exact(3).zip(&labels) {
        let lse = row.iter().map(|z| z.exp()).sum::<f64>().ln();
        want += (lse - row[l]) / 6.0;
    }
    assert!((loss - want).abs() < 1e-14, "{loss} vs {want}");
}

fn f32s(d: &Dataset) -> Vec<f32> {
    d.x.iter().map(|&v| v as f32).collect()
}

/// Trains the example's configuration (seeded with `seed`, also the split's seed); returns
/// the test accuracy after 12 epochs and at the end, the first and last epoch's mean loss, the
/// untrained accuracy and the step count.
fn run(seed: u64, epochs: usize) -> (f64, f64, f32, f32, f64, u64) {
    let d = digits().unwrap().scaled(1.0 / 16.0);
    let (train, test) = train_test_split(d.rows(), 0.2, seed);
    let (train, test) = (d.select(&train), d.select(&test));
    let (xtr, xte) = (f32s(&train), f32s(&test));
    let mut t = Trainer::new(TrainConfig::digits(seed), train.rows());
    let before = t.mlp.accuracy(&xte, &test.y);
    let (mut first, mut last, mut at12) = (0.0, 0.0, 0.0);
    for e in 1..=epochs {
        last = t.epoch(&xtr, &train.y);
        if e == 1 {
            first = last;
        }
        if e == 12 {
            at12 = t.mlp.accuracy(&xte, &test.y);
        }
    }
    let acc = t.mlp.accuracy(&xte, &test.y);
    (at12, acc, first, last, before, t.steps)
}

#[test]
fn digits_reach_96_percent_in_12_epochs_and_97_in_40_on_average() {
    // The example's seed and configuration, then two other seeds (other splits, other
    // initializations): the 97% is not one lucky draw. Measured: 98.3%, 97.5%, 98.1% after 40
    // epochs. Each run must pass 96.5% (a margin of a few images of 359 for another SIMD path's
    // rounding) and their mean 97%.
    let mut sum = 0.0;
    for seed in [2024, 1, 2] {
        let (at12, acc, first, last, before, steps) = run(seed, 40);
        eprintln!("seed {seed}: {at12} after 12 epochs, {acc} after 40");
        assert_eq!(
            steps,
            40 * 45,
            "45 batches of at most 32 per epoch of 1438 rows"
        );
        assert!(before < 0.3, "untrained accuracy {before}");
        assert!(last < first / 100.0, "loss {first} -> {last}");
        assert!(
            at12 >= 0.96,
            "seed {seed}: test accuracy {at12} after 12 epochs"
        );
        assert!(
            acc >= 0.965,
            "seed {seed}: test accuracy {acc} after 40 epochs"
        );
        if seed == 2024 {
            assert!(acc >= 0.97, "the example's run: test accuracy {acc}");
        }
        sum += acc;
    }
    assert!(sum / 3.0 >= 0.97, "mean test accuracy {}", sum / 3.0);
}
