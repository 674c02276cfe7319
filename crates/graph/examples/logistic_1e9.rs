//! The gradient of `L(w) = sum_i log(1 + exp(-y_i w_i x_i))` over `n` elements (`f32`), by one
//! fused graph node ([`Graph::map_sum`]): value and gradient in a single streaming pass, nothing
//! of size `n` allocated besides the inputs and the gradient.
//!
//! ```sh
//! cargo run --release -p nabla-graph --example logistic_1e9                 # n = 10^7
//! /usr/bin/time -v cargo run --release -p nabla-graph --example logistic_1e9 -- 1000000000
//! ```
//!
//! At `n = 10^9` the inputs are 12 GB and the gradient 4 GB: about 16 GB of memory. Prints the
//! time of the forward + backward (twice: the first includes the first touch of the gradient's
//! fresh memory), the loss, and a sample of gradient entries checked against a
//! scalar `f64` evaluation (and the loss itself for `n <= 10^8`).

mod common;

use common::fill;
use nabla_graph::{Graph, MapFn, Real, Tensor};
use std::time::Instant;

/// `log(1 + exp(-y w x))`, written once for every `Real`.
#[derive(Clone)]
struct Logistic;
impl MapFn for Logistic {
    const ARITY: usize = 3; // w, x, y
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).softplus()
    }
}

/// The `f64` reference loss term and its derivative in `w`.
fn reference(w: f32, x: f32, y: f32) -> (f64, f64) {
    let (w, x, y) = (w as f64, x as f64, y as f64);
    let z = -y * w * x;
    let loss = z.max(0.0) + (-z.abs()).exp().ln_1p();
    (loss, -y * x / (1.0 + (-z).exp()))
}

fn main() {
    let n: usize = match std::env::args().nth(1) {
        Some(a) => a.replace('_', "").parse().unwrap_or_else(|_| {
            eprintln!("usage: logistic_1e9 [N]   (N elements, default 10000000)");
            std::process::exit(2)
        }),
        None => 10_000_000,
    };
    let t = Instant::now();
    let w = fill(n, 1, |u| u * 2.0);
    let x = fill(n, 2, |u| u * 2.0);
    let y = fill(n, 3, |u| if u < 0.0 { -1.0 } else { 1.0 });
    println!(
        "n = {n}: inputs w, x, y ({:.2} GB) made in {:.2} s",
        12.0 * n as f64 / 1e9,
        t.elapsed().as_secs_f64()
    );

    // `Tensor::from_vec` takes the vectors over: no copy.
    let w = Tensor::from_vec(w, &[n]).expect("n elements");
    let x = Tensor::from_vec(x, &[n]).expect("n elements");
    let y = Tensor::from_vec(y, &[n]).expect("n elements");

    // The fused kernel alone, into a gradient buffer already in memory (touched before the
    // clock starts): the pass itself, without the operating system's cost of fresh pages.
    {
        let mut gw = vec![1.0f32; n];
        let t = Instant::now();
        let l = nabla_kernels::fused::map_sum(
            &Logistic,
            &[w.data(), x.data(), y.data()],
            &mut [Some(&mut gw), None, None],
        );
        let secs = t.elapsed().as_secs_f64();
        println!(
            "kernel into a resident buffer: {secs:.3} s ({:.1} GB/s), loss {l}",
            16.0 * n as f64 / secs / 1e9
        );
    }

    // Twice, as two steps of a training loop: the first call also pays the operating system for
    // the gradient's fresh memory (a page fault per 4 KiB page on first touch). The tensor pool
    // keeps buffers up to its limit (256 MiB by default) when they are dropped; raised to hold
    // one gradient, it hands the first run's buffer to the second, which then takes no fresh
    // pages. (Left at the default, the 4 GB buffer goes back to the operating system and the
    // second run faults it in again.)
    nabla_graph::pool::set_limit(nabla_graph::pool::limit().max(4 * n + (1 << 20)));
    let mut result = None;
    for run in 1..=2 {
        drop(result.take());
        let g = Graph::<f32>::new();
        let wv = g.var(w.clone());
        let (xv, yv) = (g.constant(x.clone()), g.constant(y.clone()));
        let t = Instant::now();
        let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
        let grad = g.grad(loss, &[wv]).expect("a scalar loss").remove(0);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "run {run}: loss and gradient in {secs:.3} s ({:.1} GB/s effective on 16 bytes per element: read w, x, y, write the gradient)",
            16.0 * n as f64 / secs / 1e9
        );
        result = Some((loss.value().item(), grad));
    }
    let (loss, grad) = result.expect("two runs");
    println!("loss = {loss} (mean {:.6})", loss as f64 / n.max(1) as f64);

    // A sample of gradient entries against the f64 reference. Tolerance: the f32 chain (2-3 ULP
    // per operation, condition 1 + |z| <= 5 here) stays within 32 eps_f32 relative.
    let (w, x, y, gd) = (w.data(), x.data(), y.data(), grad.data());
    let samples = 1000.min(n);
    let mut worst = 0.0f64;
    for k in 0..samples {
        let i = if samples > 1 {
            k * (n - 1) / (samples - 1)
        } else {
            0
        };
        let (_, want) = reference(w[i], x[i], y[i]);
        let rel = (gd[i] as f64 - want).abs() / want.abs().max(f32::MIN_POSITIVE as f64);
        worst = worst.max(rel / f32::EPSILON as f64);
        assert!(
            rel <= 32.0 * f32::EPSILON as f64,
            "gradient entry {i}: {} vs the f64 reference {want}",
            gd[i]
        );
    }
    println!(
        "gradient: {samples} sampled entries match the f64 reference (worst {worst:.2} eps_f32 relative)"
    );
    if n <= 100_000_000 {
        let want: f64 = (0..n).map(|i| reference(w[i], x[i], y[i]).0).sum();
        let rel = (loss as f64 - want).abs() / want;
        assert!(rel <= 1e-5, "loss {loss} vs the f64 reference {want}");
        println!("loss matches the f64 reference {want:.1} (relative difference {rel:.1e})");
    } else {
        println!("(the loss is checked against f64 only for n <= 10^8: the reference takes long)");
    }
}
