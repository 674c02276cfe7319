//! Gradient checkpointing: the same gradients (to the bit) and second derivatives as without
//! it, and each segment recomputed exactly once per backward pass.

use nabla_graph::{Graph, Tensor, Var, hessian, hvp};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `tanh(x * w + x)`: a segment with a product, a sum and a nonlinearity.
fn layer<'g>(x: Var<'g, f64>, w: Var<'g, f64>) -> Var<'g, f64> {
    (x * w + x).tanh()
}

#[test]
fn checkpointed_layers_give_the_same_gradient_bits_and_run_once_more_each() {
    let runs = Arc::new(AtomicUsize::new(0));
    let x0 = Tensor::rand_uniform(&[5], -1.0, 1.0, 1);
    let ws: Vec<Tensor<f64>> = (0..3)
        .map(|l| Tensor::rand_uniform(&[5], -1.5, 1.5, 10 + l))
        .collect();
    let grads = |checkpoint: bool| {
        let g = Graph::<f64>::new();
        let x = g.var(x0.clone());
        let w: Vec<Var<'_, f64>> = ws.iter().map(|t| g.var(t.clone())).collect();
        let mut h = x;
        for &wl in &w {
            h = if checkpoint {
                let runs = runs.clone();
                g.checkpoint(&[h, wl], move |v| {
                    runs.fetch_add(1, Ordering::Relaxed);
                    layer(v[0], v[1])
                })
                .unwrap()
            } else {
                layer(h, wl)
            };
        }
        let mut inputs = vec![x];
        inputs.extend(&w);
        g.grad(h.sum(), &inputs).unwrap()
    };
    let plain = grads(false);
    let with = grads(true);
    assert_eq!(plain, with);
    // Three segments: each run once to record its value and once in the backward pass (a
    // segment reached as an input of a later segment's recomputation is not run again).
    assert_eq!(runs.load(Ordering::Relaxed), 6);
}

/// `f(v) = sum tanh(v * w + v)` twice over, the layers checkpointed or not.
fn stacked<'g>(v: Var<'g, f64>, checkpoint: bool) -> Var<'g, f64> {
    let g = v.graph();
    let w = g.constant(Tensor::vector(&[0.3, -1.2, 0.8, 2.0]));
    let mut h = v;
    for _ in 0..2 {
        h = if checkpoint {
            g.checkpoint(&[h, w], |u| layer(u[0], u[1])).unwrap()
        } else {
            layer(h, w)
        };
    }
    h.sum()
}

#[test]
fn second_derivatives_through_checkpoints_match() {
    let x = Tensor::vector(&[0.1, -0.4, 0.7, -1.1]);
    let v = Tensor::vector(&[1.0, 2.0, -1.0, 0.5]);
    // Second derivatives sum the same terms in another order (the batched Hessian falls back
    // to row-by-row sweeps at a custom node, and a segment's contributions are summed inside it
    // first): equal to a few ULP of the entries, which are of order one here.
    let close = |a: &Tensor<f64>, b: &Tensor<f64>| {
        a.data()
            .iter()
            .zip(b.data())
            .all(|(x, y)| (x - y).abs() <= 4.0 * f64::EPSILON * x.abs().max(y.abs()))
    };
    let h0 = hessian(|u| stacked(u, false), &x).unwrap();
    let h1 = hessian(|u| stacked(u, true), &x).unwrap();
    assert!(close(&h0, &h1), "{h0:?}\n{h1:?}");
    let p0 = hvp(|u| stacked(u, false), &x, &v).unwrap();
    let p1 = hvp(|u| stacked(u, true), &x, &v).unwrap();
    assert!(close(&p0, &p1), "{p0:?}\n{p1:?}");
    // And both against differences of gradients: (g(x + e v) - g(x - e v)) / 2e.
    let e = 1e-6;
    let shifted = |s: f64| {
        let xs = Tensor::vector(
            &x.data()
                .iter()
                .zip(v.data())
                .map(|(a, b)| a + s * b)
                .collect::<Vec<_>>(),
        );
        nabla_graph::value_and_grad(|u| stacked(u, true), &xs)
            .unwrap()
            .1
    };
    let (gp, gm) = (shifted(e), shifted(-e));
    for i in 0..4 {
        let fd = (gp.data()[i] - gm.data()[i]) / (2.0 * e);
        assert!((fd - p1.data()[i]).abs() < 1e-7, "{fd} vs {}", p1.data()[i]);
    }
}

#[test]
fn a_weight_shared_by_segments_is_counted_once_per_use() {
    // The segments' inputs depend on one another (w feeds every layer, and so every h): the
    // rule must return partial derivatives, or w's gradient would count paths twice.
    let x0 = Tensor::rand_uniform(&[3], -1.0, 1.0, 3);
    let w0 = Tensor::rand_uniform(&[3], -1.0, 1.0, 4);
    let grads = |checkpoint: bool| {
        let g = Graph::<f64>::new();
        let (x, w) = (g.var(x0.clone()), g.var(w0.clone()));
        let mut h = x;
        for _ in 0..3 {
            h = if checkpoint {
                g.checkpoint(&[h, w], |v| layer(v[0], v[1])).unwrap()
            } else {
                layer(h, w)
            };
        }
        g.grad(h.sum(), &[x, w]).unwrap()
    };
    assert_eq!(grads(false), grads(true));
}
