//! The gradient of an MLP whose weights total about 10^9 parameters (default: 4 layers of
//! 16384 x 16384 f32, 4.3 GB, plus biases), at batch 8, with softmax cross-entropy over 16384
//! classes. Optionally every layer is a checkpointed segment ([`Graph::checkpoint`]).
//!
//! ```sh
//! /usr/bin/time -v cargo run --release -p nabla-graph --example mlp_1e9
//! /usr/bin/time -v cargo run --release -p nabla-graph --example mlp_1e9 -- --checkpoint
//! cargo run --release -p nabla-graph --example mlp_1e9 -- --width 2048   # a small trial
//! ```
//!
//! Prints the time of building the graph (the forward pass) and of the gradient, the peak
//! resident memory (`VmHWM`) against parameters + gradients, and checks the last layer's bias
//! gradient against `(softmax(logits) - onehot) / batch` computed in f64 from the logits.

mod common;

use common::fill;
use nabla_graph::{Graph, Tensor, Var};
use std::time::Instant;

/// This process's peak resident memory in bytes (Linux `VmHWM`), if known.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// One layer: `relu(h W + b)` (no relu on the last).
fn layer<'g>(h: Var<'g, f32>, w: Var<'g, f32>, b: Var<'g, f32>, last: bool) -> Var<'g, f32> {
    let z = h.matmul(w) + b;
    if last { z } else { z.relu() }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut width, mut layers, mut batch, mut checkpoint) = (16384usize, 4usize, 8usize, false);
    while let Some(a) = args.next() {
        let mut num = |name: &str| -> usize {
            args.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match a.as_str() {
            "--width" => width = num("--width"),
            "--layers" => layers = num("--layers"),
            "--batch" => batch = num("--batch"),
            "--checkpoint" => checkpoint = true,
            _ => {
                eprintln!("usage: mlp_1e9 [--width N] [--layers L] [--batch B] [--checkpoint]");
                std::process::exit(2);
            }
        }
    }
    let t0 = Instant::now();
    let scale = (6.0 / width as f32).sqrt(); // He-uniform: activations stay of order one
    let weights: Vec<Tensor<f32>> = (0..layers)
        .map(|l| {
            Tensor::new(
                fill(width * width, 10 + l as u64, |u| scale * u),
                &[width, width],
            )
        })
        .collect();
    let biases: Vec<Tensor<f32>> = (0..layers)
        .map(|l| Tensor::new(fill(width, 100 + l as u64, |u| 0.01 * u), &[width]))
        .collect();
    let x = Tensor::new(fill(batch * width, 1, |u| u), &[batch, width]);
    let labels: Vec<usize> = (0..batch).map(|i| (i * 7919) % width).collect();
    let params = layers * (width * width + width);
    let param_bytes = (params * 4) as f64;
    println!(
        "{layers} layers of {width} x {width}: {params} parameters ({:.2} GB), batch {batch}, \
         checkpoint {checkpoint}; made in {:.2} s",
        param_bytes / 1e9,
        t0.elapsed().as_secs_f64()
    );

    let g = Graph::<f32>::new();
    let t1 = Instant::now();
    let ws: Vec<Var<'_, f32>> = weights.iter().map(|w| g.var(w.clone())).collect();
    let bs: Vec<Var<'_, f32>> = biases.iter().map(|b| g.var(b.clone())).collect();
    let mut h = g.constant(x);
    for l in 0..layers {
        let last = l + 1 == layers;
        h = if checkpoint {
            g.checkpoint(&[h, ws[l], bs[l]], move |v| layer(v[0], v[1], v[2], last))
                .expect("inputs of this graph")
        } else {
            layer(h, ws[l], bs[l], last)
        };
    }
    let logits = h.value();
    let loss = h.cross_entropy(&labels);
    let forward = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let mut inputs = ws.clone();
    inputs.extend(&bs);
    let grads = g.grad(loss, &inputs).expect("a scalar loss");
    let backward = t2.elapsed().as_secs_f64();
    println!(
        "loss {:.4}; forward {forward:.2} s, gradient {backward:.2} s",
        loss.value().item()
    );

    // The last bias's gradient is the column mean of softmax(logits) - onehot.
    let db = grads.last().expect("a bias gradient");
    let mut want = vec![0.0f64; width];
    for (r, row) in logits.data().chunks_exact(width).enumerate() {
        let m = row.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b)) as f64;
        let z: f64 = row.iter().map(|&v| (v as f64 - m).exp()).sum();
        for (j, &v) in row.iter().enumerate() {
            let p = (v as f64 - m).exp() / z;
            want[j] += (p - if j == labels[r] { 1.0 } else { 0.0 }) / batch as f64;
        }
    }
    let err = db
        .data()
        .iter()
        .zip(&want)
        .map(|(&a, &b)| (a as f64 - b).abs())
        .fold(0.0, f64::max);
    println!("last bias gradient: max |error| against f64 = {err:.2e}");
    assert!(err < 1e-5, "the bias gradient is off by {err:e}");

    let grad_bytes = (grads.iter().map(|t| t.len()).sum::<usize>() * 4) as f64;
    if let Some(peak) = peak_rss() {
        println!(
            "peak resident {:.2} GB = parameters {:.2} + gradients {:.2} + {:.2} GB",
            peak as f64 / 1e9,
            param_bytes / 1e9,
            grad_bytes / 1e9,
            (peak as f64 - param_bytes - grad_bytes) / 1e9
        );
    }
}
