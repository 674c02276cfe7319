//! A 64-128-128-10 ReLU MLP on the UCI handwritten digits: softmax cross-entropy, AdamW,
//! mini-batches of 32 reshuffled every epoch from a seed, a fixed seeded 80/20 train/test split,
//! pixels scaled to `[0, 1]`. Prints `test accuracy: NN.N%` and writes the training loss and
//! test accuracy per epoch to an SVG plot.
//!
//! `cargo run --release -p nabla-train --example digits_mlp [PLOT.svg]`
//! (default plot path: `target/digits_mlp.svg`).

use indicatif::{ProgressBar, ProgressStyle};
use nabla_train::data::{Dataset, digits};
use nabla_train::shuffle::train_test_split;
use nabla_train::trainer::{TrainConfig, Trainer};
use plotters::prelude::*;
use std::path::PathBuf;
use std::time::Instant;

/// Seeds the split, the initialization and the shuffling.
const SEED: u64 = 2024;
/// Passes over the training set.
const EPOCHS: usize = 40;

fn to_f32(d: &Dataset) -> Vec<f32> {
    d.x.iter().map(|&v| v as f32).collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let plot_path = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/digits_mlp.svg"), PathBuf::from);
    let data = digits()?.scaled(1.0 / 16.0);
    let (train_idx, test_idx) = train_test_split(data.rows(), 0.2, SEED);
    let (train, test) = (data.select(&train_idx), data.select(&test_idx));
    let (xtr, xte) = (to_f32(&train), to_f32(&test));
    let config = TrainConfig::digits(SEED);
    println!(
        "digits: {} training and {} test images; MLP {:?}, AdamW lr {} weight decay {}, batch {}, {EPOCHS} epochs",
        train.rows(),
        test.rows(),
        config.sizes,
        config.learning_rate,
        config.weight_decay,
        config.batch_size
    );
    let mut trainer = Trainer::new(config, train.rows());
    let bar = ProgressBar::new(EPOCHS as u64).with_style(ProgressStyle::with_template(
        "{bar:40} epoch {pos}/{len} {msg} [{elapsed_precise}]",
    )?);
    let start = Instant::now();
    let (mut losses, mut accuracies) = (Vec::new(), Vec::new());
    for _ in 0..EPOCHS {
        let loss = trainer.epoch(&xtr, &train.y);
        let acc = trainer.mlp.accuracy(&xte, &test.y);
        losses.push(loss);
        accuracies.push(acc);
        bar.set_message(format!("loss {loss:.4} test {:.1}%", 100.0 * acc));
        bar.inc(1);
    }
    bar.finish();
    let elapsed = start.elapsed();
    let acc = *accuracies.last().expect("at least one epoch");
    println!(
        "{} steps in {:.2} s ({:.0} us/step incl. evaluation); final training loss {:.4}",
        trainer.steps,
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / trainer.steps as f64,
        losses.last().expect("at least one epoch")
    );
    println!(
        "train accuracy: {:.1}%",
        100.0 * trainer.mlp.accuracy(&xtr, &train.y)
    );
    println!("test accuracy: {:.1}%", 100.0 * acc);
    plot(&plot_path, &losses, &accuracies)?;
    println!("plot: {}", plot_path.display());
    Ok(())
}

/// Training loss (left axis, log scale) and test accuracy (right axis) per epoch.
fn plot(
    path: &PathBuf,
    losses: &[f32],
    accuracies: &[f64],
) -> Result<(), Box<dyn std::error::Error>> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let root = SVGBackend::new(path, (800, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let n = losses.len() as f64;
    let lo = losses.iter().copied().fold(f32::INFINITY, f32::min) as f64;
    let hi = losses.iter().copied().fold(0.0f32, f32::max) as f64;
    let acc_lo = accuracies.iter().copied().fold(1.0, f64::min);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "digits MLP 64-128-128-10, AdamW: training loss and test accuracy",
            ("sans-serif", 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .right_y_label_area_size(60)
        .build_cartesian_2d(1.0..n, (lo * 0.8..hi * 1.2).log_scale())?
        .set_secondary_coord(1.0..n, (acc_lo - 0.02).max(0.0)..1.0);
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_desc("mean training loss (log)")
        .draw()?;
    chart
        .configure_secondary_axes()
        .y_desc("test accuracy")
        .draw()?;
    chart
        .draw_series(LineSeries::new(
            losses
                .iter()
                .enumerate()
                .map(|(i, &l)| (i as f64 + 1.0, l as f64)),
            &BLUE,
        ))?
        .label("training loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .draw_secondary_series(LineSeries::new(
            accuracies
                .iter()
                .enumerate()
                .map(|(i, &a)| (i as f64 + 1.0, a)),
            &RED,
        ))?
        .label("test accuracy")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
