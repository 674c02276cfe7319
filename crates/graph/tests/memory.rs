//! Peak memory of a first-order backward pass: each adjoint is freed (back to the pool, where
//! the next one takes it) once its node's rule has consumed it, so the sweep adds the gradients
//! and one rule's temporaries to what the forward pass holds, not an adjoint per node. Measured
//! with a global allocator that tracks this thread's live bytes and their peak.

use nabla_graph::{Graph, Tensor, Var};
mod common;

#[global_allocator]
static ALLOCATOR: common::Tracking = common::Tracking;

#[test]
fn the_backward_pass_of_a_long_chain_holds_a_few_buffers_beyond_its_activations() {
    const N: usize = 100_000; // one buffer: 800 KB
    const DEPTH: usize = 60;
    let buffer = (N * 8) as isize;
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::rand_uniform(&[N], -1.0, 1.0, 7));
    let mut y = x;
    for k in 0..DEPTH {
        // Two ops per step, both with rules that need temporaries (cos, a product).
        y = if k % 2 == 0 { y.sin() } else { y * y.tanh() };
    }
    let loss = y.sum();
    let before = common::reset_peak();
    let grads = g.grad(loss, &[x]).unwrap();
    let peak = common::peak_bytes() - before;
    // The forward pass holds about 1.5 * DEPTH buffers of activations. Keeping every adjoint
    // would add about as many again; freeing them once consumed leaves the gradient and a few
    // temporaries of one rule (cos(a) or tanh's derivative, a product, the new adjoint, the
    // sum of two contributions where a value feeds two ops): measured 7.0 buffers, against
    // about 265 for the same sweep recorded (`grad_graph`, which keeps every node).
    assert!(
        peak <= 8 * buffer,
        "the sweep's peak was {:.1} buffers above the forward pass",
        peak as f64 / buffer as f64
    );
    assert!(peak >= buffer, "the gradient itself is a buffer: {peak}");
    assert_eq!(grads[0].shape(), &[N]);
}

/// Steps `from..to` of the chain above.
fn steps(y: Var<'_, f64>, from: usize, to: usize) -> Var<'_, f64> {
    (from..to).fold(y, |y, k| if k % 2 == 0 { y.sin() } else { y * y.tanh() })
}

/// The chain above in segments of `seg` steps, each checkpointed when `checkpoint` is set:
/// the peak live bytes of the forward and backward passes together, in buffers, and the
/// gradient.
fn chain_peak(checkpoint: bool, seg: usize) -> (f64, Vec<f64>) {
    const N: usize = 100_000;
    const DEPTH: usize = 60;
    let before = common::reset_peak();
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::rand_uniform(&[N], -1.0, 1.0, 7));
    let mut y = x;
    for s in 0..DEPTH / seg {
        let (from, to) = (s * seg, (s + 1) * seg);
        y = if checkpoint {
            g.checkpoint(&[y], move |v| steps(v[0], from, to)).unwrap()
        } else {
            steps(y, from, to)
        };
    }
    let grad = g.grad(y.sum(), &[x]).unwrap().remove(0).to_vec();
    let peak = common::peak_bytes() - before;
    (peak as f64 / (N * 8) as f64, grad)
}

#[test]
fn checkpointed_segments_cut_the_peak_and_keep_the_gradient_bits() {
    let (plain, g0) = chain_peak(false, 10);
    let (ckpt, g1) = chain_peak(true, 10);
    assert_eq!(g0, g1, "recomputation runs the same operations");
    // Without checkpoints the forward pass keeps ~1.5 buffers per step (90); with segments of
    // 10 steps it keeps 6 segment outputs, and the backward pass recomputes one segment (15
    // buffers) at a time.
    assert!(
        ckpt < 0.5 * plain,
        "peak {ckpt:.1} buffers with checkpoints, {plain:.1} without"
    );
}
