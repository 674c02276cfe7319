//! Criterion benches of nabla-graph's overheads and second-order products, against the issue's
//! peer figures (measured on this machine, one core): per-op cost of a scalar chain, the guide's
//! chain-rule example, a Hessian-vector product against a gradient of the same function, dense
//! Hessians, and a batched Jacobian against one reverse sweep per row.
//!
//! `cargo bench -p nabla-benches --bench graph`

use criterion::{Criterion, criterion_group, criterion_main};
use nabla_graph::{
    Graph, Tensor, Var, func, hessian, hvp, hvp_forward_over_reverse, jacobian, value_and_grad,
};
use std::hint::black_box;

fn scalar_chain(c: &mut Criterion) {
    const N: usize = 10_000;
    c.bench_function("graph/scalar_chain_10k_fwd_bwd", |b| {
        b.iter(|| {
            let g = Graph::<f64>::new();
            let x = g.var(Tensor::scalar(0.5));
            let mut y = x;
            for i in 0..N {
                y = if i % 2 == 0 { y * 1.0001 } else { y + 0.001 };
            }
            black_box(g.grad(y, &[x]).unwrap())
        })
    });
}

fn chain_rule_example(c: &mut Criterion) {
    c.bench_function("graph/chain_rule_example_fwd_4grads", |b| {
        b.iter(|| {
            let g = Graph::<f64>::new();
            let [w, x, y, z] = [-1.0, 0.0, -2.0, 1.0].map(|v| g.var(Tensor::scalar(black_box(v))));
            let a = (w + x + y + z).powi(2);
            let bb = (w + x - y - z).powi(2);
            let u = (a + bb).powi(2);
            let v = (a - bb).powi(2);
            let f = (u + v).powi(2);
            black_box(g.grad(f, &[w, x, y, z]).unwrap())
        })
    });
}

/// `f(x) = sum log(1 + exp(A x)) + |x|^2 / 2`, `A` 1000 x 100 (the trainer issue's Hessian
/// workload): hvp against a gradient of the same function.
fn hvp_vs_grad(c: &mut Criterion) {
    let a = Tensor::<f64>::randn(&[1000, 100], 1);
    let x = Tensor::<f64>::randn(&[100], 2);
    let v = Tensor::<f64>::randn(&[100], 3);
    let f = func(|xv: Var<'_, f64>| {
        let av = xv.graph().constant(a.clone());
        av.matmul(xv.reshape(&[100, 1])).softplus().sum() + (xv * xv).sum() * 0.5
    });
    c.bench_function("graph/softplus_1000x100_grad", |b| {
        b.iter(|| black_box(value_and_grad(f, &x).unwrap()))
    });
    c.bench_function("graph/softplus_1000x100_hvp", |b| {
        b.iter(|| black_box(hvp(f, &x, &v).unwrap()))
    });
    c.bench_function("graph/softplus_1000x100_hvp_forward_over_reverse", |b| {
        b.iter(|| black_box(hvp_forward_over_reverse(f, &x, &v).unwrap()))
    });
}

/// The dense Hessian of the same function (batched reverse sweeps), A 1000 x 100 and 1000 x 500.
fn hessian_softplus(c: &mut Criterion) {
    for n in [100usize, 500] {
        let a = Tensor::<f64>::randn(&[1000, n], 1);
        let x = Tensor::<f64>::randn(&[n], 2);
        let f = func(|xv: Var<'_, f64>| {
            let av = xv.graph().constant(a.clone());
            av.matmul(xv.reshape(&[n, 1])).softplus().sum() + (xv * xv).sum() * 0.5
        });
        c.bench_function(&format!("graph/softplus_1000x{n}_hessian"), |b| {
            b.iter(|| black_box(hessian(f, &x).unwrap()))
        });
    }
}

/// The 200 x 500 Jacobian of `tanh(A x)` (f64): `jacobian` (one batched reverse sweep, the
/// seeds reaching `A x` as scaled unit rows, a gather) against one reverse sweep per output row
/// on the same recorded graph.
fn jacobian_tanh(c: &mut Criterion) {
    let (m, n) = (200usize, 500usize);
    let a = Tensor::<f64>::randn(&[m, n], 1);
    let x = Tensor::<f64>::randn(&[n], 2);
    let f = func(|xv: Var<'_, f64>| {
        let av = xv.graph().constant(a.clone());
        av.matmul(xv.reshape(&[n, 1])).tanh().reshape(&[m])
    });
    c.bench_function("graph/tanh_200x500_jacobian", |b| {
        b.iter(|| black_box(jacobian(f, &x).unwrap()))
    });
    c.bench_function("graph/tanh_200x500_jacobian_row_by_row", |b| {
        b.iter(|| {
            let g = Graph::new();
            let xv = g.var(x.clone());
            let y = f(xv);
            let rows: Vec<Tensor<f64>> = (0..m)
                .map(|i| {
                    let mut seed = vec![0.0; m];
                    seed[i] = 1.0;
                    g.vjp(y, &[xv], Tensor::vector(&seed)).unwrap().remove(0)
                })
                .collect();
            black_box(rows)
        })
    });
}

criterion_group!(
    benches,
    scalar_chain,
    chain_rule_example,
    hvp_vs_grad,
    hessian_softplus,
    jacobian_tanh
);
criterion_main!(benches);
