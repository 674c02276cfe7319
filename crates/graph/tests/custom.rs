//! Custom operations with user-given rules: any number of inputs, gradients against central
//! differences, second derivatives through the recorded rule, the optional forward rule (jvp,
//! both Hessian-vector products), and the errors for rules that return the wrong things.
//!
//! Tolerance for difference checks: as in `tests/rules.rs`, relative 1e-6 (or absolute 1e-7
//! near zero) against central differences with eps = 1e-6, whose error is ~1e-10 here.

use nabla_graph::{
    CustomOp, Graph, GraphError, Tensor, Var, gradcheck, hessian, hvp, hvp_forward_over_reverse,
    jvp,
};
use std::sync::Arc;

/// `a * b * c` elementwise (three inputs of one shape), with both rules.
struct Product3 {
    forward_rule: bool,
}

impl CustomOp<f64> for Product3 {
    fn name(&self) -> &str {
        "product3"
    }
    fn forward(&self, x: &[Tensor<f64>]) -> Result<Tensor<f64>, GraphError> {
        let d: Vec<f64> = (0..x[0].len())
            .map(|i| x[0].data()[i] * x[1].data()[i] * x[2].data()[i])
            .collect();
        Tensor::from_vec(d, x[0].shape())
    }
    fn vjp<'g>(&self, x: &[Var<'g, f64>], _y: Var<'g, f64>, dy: Var<'g, f64>) -> Vec<Var<'g, f64>> {
        vec![dy * x[1] * x[2], dy * x[0] * x[2], dy * x[0] * x[1]]
    }
    fn jvp<'g>(
        &self,
        x: &[Var<'g, f64>],
        _y: Var<'g, f64>,
        t: &[Option<Var<'g, f64>>],
    ) -> Option<Var<'g, f64>> {
        if !self.forward_rule {
            return None;
        }
        let terms = [
            t[0].map(|t| t * x[1] * x[2]),
            t[1].map(|t| x[0] * t * x[2]),
            t[2].map(|t| x[0] * x[1] * t),
        ];
        terms.into_iter().flatten().reduce(|a, b| a + b)
    }
}

fn product3<'g>(x: &[Var<'g, f64>], forward_rule: bool) -> Var<'g, f64> {
    x[0].graph()
        .custom(Arc::new(Product3 { forward_rule }), x)
        .unwrap()
}

#[test]
fn a_three_input_custom_op_matches_differences() {
    let inputs = [
        Tensor::rand_uniform(&[4], -1.5, 1.5, 1),
        Tensor::rand_uniform(&[4], -1.5, 1.5, 2),
        Tensor::rand_uniform(&[4], -1.5, 1.5, 3),
    ];
    let report = gradcheck(|x| product3(x, true).sin().sum(), &inputs, 1e-6).unwrap();
    for (k, r) in report.iter().enumerate() {
        assert!(
            r.max_rel_error < 1e-6 || r.max_abs_error < 1e-7,
            "input {k}: {r:?}"
        );
    }
}

/// `f(v) = sum sin(v0 v1 v2)` over the three thirds of `v` (length 6): both rules, inside a
/// function of one tensor, so the Hessian, both hvps and jvp apply.
fn thirds<'g>(v: Var<'g, f64>, forward_rule: bool) -> Var<'g, f64> {
    let parts = [v.slice(0, 0, 2), v.slice(0, 2, 4), v.slice(0, 4, 6)];
    product3(&parts, forward_rule).sin().sum()
}

/// The analytic Hessian of `sum_i sin(a_i b_i c_i)` with `v = [a, b, c]`.
fn analytic_hessian(v: &[f64]) -> Vec<f64> {
    let mut h = vec![0.0; 36];
    for i in 0..2 {
        let idx = [i, 2 + i, 4 + i];
        let x = [v[idx[0]], v[idx[1]], v[idx[2]]];
        let p = x[0] * x[1] * x[2];
        // d/dx_j of p = product of the other two; d2p/dx_j dx_k = the third (j != k).
        let dp = [x[1] * x[2], x[0] * x[2], x[0] * x[1]];
        for j in 0..3 {
            for k in 0..3 {
                let d2p = if j == k { 0.0 } else { x[3 - j - k] };
                h[idx[j] * 6 + idx[k]] = -p.sin() * dp[j] * dp[k] + p.cos() * d2p;
            }
        }
    }
    h
}

#[test]
fn second_derivatives_go_through_the_recorded_rule_and_the_forward_rule() {
    let x = Tensor::vector(&[0.3, -0.7, 1.1, 0.4, -0.9, 0.6]);
    let want = analytic_hessian(x.data());
    let h = hessian(|v| thirds(v, true), &x).unwrap();
    for (k, (got, w)) in h.data().iter().zip(&want).enumerate() {
        assert!((got - w).abs() <= 1e-14, "H[{k}] = {got}, want {w}");
    }
    let v = Tensor::vector(&[1.0, -2.0, 0.5, 0.25, 3.0, -1.0]);
    let hv_want: Vec<f64> = (0..6)
        .map(|i| (0..6).map(|j| want[i * 6 + j] * v.data()[j]).sum())
        .collect();
    let by_rof = hvp(|u| thirds(u, true), &x, &v).unwrap();
    let by_for = hvp_forward_over_reverse(|u| thirds(u, true), &x, &v).unwrap();
    for hv in [by_rof, by_for] {
        for (got, w) in hv.data().iter().zip(&hv_want) {
            assert!((got - w).abs() <= 1e-13, "hvp {got}, want {w}");
        }
    }
    // jvp of the scalar function: the gradient along v.
    let grad = nabla_graph::value_and_grad(|u| thirds(u, true), &x)
        .unwrap()
        .1;
    let dir: f64 = grad.data().iter().zip(v.data()).map(|(g, t)| g * t).sum();
    let j = jvp(|u| thirds(u, true), &x, &v).unwrap().item();
    assert!((j - dir).abs() <= 1e-14 * dir.abs().max(1.0));
}

#[test]
fn without_a_forward_rule_forward_mode_says_so() {
    let x = Tensor::vector(&[0.3, -0.7, 1.1, 0.4, -0.9, 0.6]);
    let v = Tensor::vector(&[1.0; 6]);
    match hvp(|u| thirds(u, false), &x, &v) {
        Err(GraphError::Invalid { op, reason }) => {
            assert_eq!(op, "jvp");
            assert!(reason.contains("product3"), "{reason}");
        }
        other => panic!("expected an error, got {other:?}"),
    }
    // The reverse-only Hessian still works.
    assert!(hessian(|u| thirds(u, false), &x).is_ok());
}

/// A rule that returns the wrong number or shapes of contributions.
struct Broken {
    count: usize,
    shape: Vec<usize>,
}

impl CustomOp<f64> for Broken {
    fn name(&self) -> &str {
        "broken"
    }
    fn forward(&self, x: &[Tensor<f64>]) -> Result<Tensor<f64>, GraphError> {
        Ok(x[0].clone())
    }
    fn vjp<'g>(
        &self,
        _x: &[Var<'g, f64>],
        y: Var<'g, f64>,
        _dy: Var<'g, f64>,
    ) -> Vec<Var<'g, f64>> {
        let g = y.graph();
        (0..self.count)
            .map(|_| g.constant(Tensor::zeros(&self.shape)))
            .collect()
    }
}

#[test]
fn a_rule_returning_the_wrong_count_or_shape_is_an_error() {
    for (count, shape, needle) in [
        (2, vec![3], "2 contributions for 1 inputs"),
        (1, vec![4], "shape [4], the input [3]"),
    ] {
        let g = Graph::<f64>::new();
        let x = g.var(Tensor::vector(&[1.0, 2.0, 3.0]));
        let y = g.custom(Arc::new(Broken { count, shape }), &[x]).unwrap();
        match g.grad(y.sum(), &[x]) {
            Err(GraphError::Invalid { op, reason }) => {
                assert_eq!(op, "custom vjp");
                assert!(reason.contains(needle), "{reason}");
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
}

#[test]
fn inputs_must_be_of_this_graph() {
    let (g, h) = (Graph::<f64>::new(), Graph::<f64>::new());
    let x = h.var(Tensor::vector(&[1.0, 2.0]));
    let op = Arc::new(Product3 { forward_rule: true });
    assert!(matches!(
        g.custom(op.clone(), &[x, x, x]),
        Err(GraphError::ForeignVar)
    ));
    assert!(matches!(g.custom(op, &[]), Err(GraphError::Invalid { .. })));
}

#[test]
fn forward_mode_rejects_vars_of_another_graph() {
    let (g, h) = (Graph::<f64>::new(), Graph::<f64>::new());
    let x = g.var(Tensor::vector(&[1.0, 2.0]));
    let y = (x * x).sum();
    let t = h.constant(Tensor::vector(&[1.0, 0.0]));
    assert!(matches!(
        g.jvp_graph(y, &[x], &[t], false),
        Err(GraphError::ForeignVar)
    ));
}
