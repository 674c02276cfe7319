//! A training step that reuses its graph ([`Graph::clear`]) and its gradient vector
//! ([`Graph::grad_into`]) allocates nothing after its warm-up: no tensor buffers or shells (the
//! pool), no shapes (the shape cache and inline shape arithmetic), no nodes or sweep vectors
//! (kept by the graph). Counted by a global allocator that counts this thread's calls, so tests
//! running beside it in other threads do not disturb the count.

use nabla_graph::{Graph, Tensor};
mod common;
use common::allocations;

#[global_allocator]
static ALLOCATOR: common::Tracking = common::Tracking;

/// One step of a 256-256-10 MLP at batch 64 with cross-entropy, into the same graph and
/// gradient vector each time; returns the loss.
fn mlp_step<T: nabla_kernels::Element>(
    g: &mut Graph<T>,
    x: &Tensor<T>,
    labels: &[usize],
    params: &[Tensor<T>; 4],
    grads: &mut Vec<Tensor<T>>,
) -> T {
    g.clear();
    let g = &*g;
    let vars: [_; 4] = std::array::from_fn(|i| g.var(params[i].clone()));
    let mut h = g.constant(x.clone());
    for (l, wb) in vars.chunks(2).enumerate() {
        h = h.matmul(wb[0]) + wb[1];
        if l == 0 {
            h = h.relu();
        }
    }
    let loss = h.cross_entropy(labels);
    g.grad_into(loss, &vars, grads).unwrap();
    loss.value().item()
}

fn check_mlp<T: nabla_kernels::Element>() {
    let x = Tensor::<T>::randn(&[64, 256], 1);
    let labels: Vec<usize> = (0..64).map(|i| (i * 7) % 10).collect();
    let params = [
        Tensor::<T>::randn(&[256, 256], 2),
        Tensor::<T>::rand_uniform(&[256], -0.1, 0.1, 3),
        Tensor::<T>::randn(&[256, 10], 4),
        Tensor::<T>::rand_uniform(&[10], -0.1, 0.1, 5),
    ];
    let (mut g, mut grads) = (Graph::new(), Vec::new());
    // The first step allocates; its results are kept for comparison (copies, so that they
    // hold no pooled buffer the loop would otherwise have reused).
    let loss0 = mlp_step(&mut g, &x, &labels, &params, &mut grads);
    let grads0: Vec<Vec<T>> = grads.iter().map(|t| t.to_vec()).collect();
    for step in 1..5 {
        let before = allocations();
        let loss = mlp_step(&mut g, &x, &labels, &params, &mut grads);
        let made = allocations() - before;
        assert_eq!(made, 0, "step {step} allocated {made} times");
        // Same inputs, same bits: reused memory never leaks into results.
        assert_eq!(loss, loss0);
        assert!(grads.iter().zip(&grads0).all(|(a, b)| a.data() == &b[..]));
    }
}

#[test]
fn an_mlp_training_step_allocates_nothing_after_its_warm_up() {
    check_mlp::<f32>();
    check_mlp::<f64>();
}

#[test]
fn a_scalar_graph_allocates_nothing_after_its_warm_up() {
    // The guide's chain-rule example, differentiated again and again in one graph.
    let (mut g, mut grads) = (Graph::<f64>::new(), Vec::new());
    let mut run = |g: &mut Graph<f64>| {
        g.clear();
        let g = &*g;
        let [w, x, y, z] = [-1.0, 0.0, -2.0, 1.0].map(|v| g.var(Tensor::scalar(v)));
        let a = (w + x + y + z).powi(2);
        let b = (w + x - y - z).powi(2);
        let f = ((a + b).powi(2) + (a - b).powi(2)).powi(2);
        g.grad_into(f, &[w, x, y, z], &mut grads).unwrap();
        assert!(grads.iter().all(|d| d.item() == -4096.0));
    };
    run(&mut g);
    for _ in 0..3 {
        let before = allocations();
        run(&mut g);
        assert_eq!(allocations() - before, 0);
    }
}

#[test]
fn the_counter_sees_allocations() {
    // The test above would pass vacuously if the allocator were not counting.
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 100]);
    assert!(allocations() > before);
    drop(v);
}
