//! Every operation's derivative rule against central finite differences in f64 (via
//! `gradcheck`), including broadcasting; second derivatives against differences of gradients;
//! the functional API against itself; errors; and a million-operation chain.
//!
//! Tolerance: central differences with eps = 1e-6 have truncation error ~eps^2 |f'''| ~ 1e-12
//! and rounding error ~1e-16 |f| / eps ~ 1e-10 for values of order one, so a relative error of
//! 1e-6 (or an absolute 1e-7 near zero) leaves two orders of margin and still catches any wrong
//! rule (those are off by O(1)).

use nabla_graph::{
    Graph, GraphError, Tensor, Var, gradcheck, hessian, hvp, hvp_forward_over_reverse, jacobian,
    jvp, value_and_grad,
};

fn check(name: &str, f: impl for<'g> Fn(&[Var<'g, f64>]) -> Var<'g, f64>, inputs: &[Tensor<f64>]) {
    let report = gradcheck(f, inputs, 1e-6).unwrap();
    for (k, r) in report.iter().enumerate() {
        assert!(
            r.max_rel_error < 1e-6 || r.max_abs_error < 1e-7,
            "{name}: input {k}: abs {:.2e}, rel {:.2e}\nautodiff {:?}\nnumeric  {:?}",
            r.max_abs_error,
            r.max_rel_error,
            r.autodiff,
            r.numeric
        );
    }
}

fn r(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, -1.5, 1.5, seed)
}
fn pos(shape: &[usize], seed: u64) -> Tensor<f64> {
    Tensor::rand_uniform(shape, 0.2, 2.5, seed)
}

#[test]
fn elementwise_unary_rules() {
    let x = r(&[2, 3], 1);
    let p = pos(&[2, 3], 2);
    // Weight by a fixed tensor so every output element matters differently.
    let w = r(&[2, 3], 3);
    type Unary = for<'g> fn(Var<'g, f64>) -> Var<'g, f64>;
    let cases: &[(&str, Unary, bool)] = &[
        ("neg", |x| -x, false),
        ("exp", |x| x.exp(), false),
        ("log", |x| x.log(), true),
        ("log1p", |x| x.log1p(), true),
        ("sqrt", |x| x.sqrt(), true),
        ("abs", |x| x.abs(), false),
        ("sin", |x| x.sin(), false),
        ("cos", |x| x.cos(), false),
        ("tanh", |x| x.tanh(), false),
        ("sigmoid", |x| x.sigmoid(), false),
        ("relu", |x| x.relu(), false),
        ("leaky_relu", |x| x.leaky_relu(0.1), false),
        ("gelu", |x| x.gelu(), false),
        ("silu", |x| x.silu(), false),
        ("softplus", |x| x.softplus(), false),
        ("erf", |x| x.erf(), false),
        ("powi3", |x| x.powi(3), false),
        ("powi-2", |x| x.powi(-2), true),
        ("powf", |x| x.powf(1.7), true),
    ];
    for &(name, f, positive) in cases {
        let input = if positive { p.clone() } else { x.clone() };
        let wt = w.clone();
        check(
            name,
            move |v| (f(v[0]) * v[0].graph().constant(wt.clone())).sum(),
            &[input],
        );
    }
}

#[test]
fn binary_rules_with_broadcasting() {
    let shapes: &[(&[usize], &[usize])] = &[
        (&[2, 3], &[2, 3]),
        (&[2, 3], &[3]),
        (&[2, 1], &[1, 4]),
        (&[], &[3]),
        (&[4, 2, 3], &[2, 1]),
    ];
    for &(sa, sb) in shapes {
        let (a, b) = (r(sa, 4), pos(sb, 5));
        check(
            "add",
            |v| ((v[0] + v[1]) * (v[0] + v[1])).sum(),
            &[a.clone(), b.clone()],
        );
        check(
            "sub",
            |v| ((v[0] - v[1]).powi(3)).sum(),
            &[a.clone(), b.clone()],
        );
        check(
            "mul",
            |v| (v[0] * v[1]).sin().sum(),
            &[a.clone(), b.clone()],
        );
        check(
            "div",
            |v| (v[0] / v[1]).tanh().sum(),
            &[a.clone(), b.clone()],
        );
    }
    // Scalars on either side.
    check(
        "scalars",
        |v| ((2.0 - v[0]) * 3.0 / (v[0] + 4.0) - 1.0 / (v[0] * v[0] + 1.0)).sum(),
        &[r(&[3], 6)],
    );
}

#[test]
fn reduction_and_shape_rules() {
    let x = r(&[2, 3, 4], 7);
    let w = r(&[3, 2, 4], 8);
    check("sum", |v| v[0].sum() * v[0].sum(), std::slice::from_ref(&x));
    check(
        "sum_axes",
        |v| v[0].sum_axes(&[1], false).powi(2).sum(),
        std::slice::from_ref(&x),
    );
    check(
        "sum_axes keepdim",
        |v| (v[0].sum_axes(&[0, 2], true) * v[0]).sum(),
        std::slice::from_ref(&x),
    );
    check("mean", |v| v[0].mean().exp(), std::slice::from_ref(&x));
    check(
        "mean_axes",
        |v| v[0].mean_axes(&[2], false).powi(2).sum(),
        std::slice::from_ref(&x),
    );
    check("max", |v| v[0].max() * 2.0, std::slice::from_ref(&x));
    check(
        "max_axes",
        |v| v[0].max_axes(&[1], true).powi(2).sum(),
        std::slice::from_ref(&x),
    );
    check(
        "reshape",
        |v| (v[0].reshape(&[6, 4]).sin() * 2.0).sum(),
        std::slice::from_ref(&x),
    );
    let wt = w.clone();
    check(
        "permute",
        move |v| (v[0].permute(&[1, 0, 2]) * v[0].graph().constant(wt.clone())).sum(),
        std::slice::from_ref(&x),
    );
    check(
        "broadcast_to",
        |v| v[0].broadcast_to(&[5, 3, 4]).powi(2).sum(),
        &[r(&[3, 1], 9)],
    );
    check(
        "slice",
        |v| v[0].slice(2, 1, 3).powi(2).sum() + v[0].slice(0, 1, 2).sum(),
        std::slice::from_ref(&x),
    );
    check("at", |v| v[0].at(2) * v[0].at(0).exp(), &[r(&[4], 10)]);
}

#[test]
fn joining_and_gathering_rules() {
    check(
        "concat axis 0",
        |v| v[0].concat(v[1], 0).powi(2).sin().sum(),
        &[r(&[2, 3], 30), r(&[4, 3], 31)],
    );
    check(
        "concat axis 1",
        |v| (v[0].concat(v[1], 1) * 2.0).exp().sum(),
        &[r(&[2, 3], 32), r(&[2, 1], 33)],
    );
    check(
        "stack",
        |v| {
            nabla_graph::stack(&[v[0], v[1], v[0]], 1)
                .tanh()
                .powi(2)
                .sum()
        },
        &[r(&[2, 3], 34), r(&[2, 3], 35)],
    );
    // Repeated indices: the gradient adds up.
    check(
        "index_select",
        |v| v[0].index_select(&[2, 0, 2, 1]).powi(3).sum(),
        &[r(&[3, 4], 36)],
    );
    check(
        "cross_entropy",
        |v| v[0].cross_entropy(&[2, 0, 1]),
        &[r(&[3, 4], 37)],
    );
}

#[test]
fn matmul_and_composite_rules() {
    check(
        "matmul",
        |v| v[0].matmul(v[1]).powi(2).sum(),
        &[r(&[3, 4], 11), r(&[4, 5], 12)],
    );
    check(
        "matmul batched",
        |v| v[0].matmul(v[1]).tanh().sum(),
        &[r(&[2, 3, 4], 13), r(&[2, 4, 2], 14)],
    );
    check(
        "transpose",
        |v| v[0].t().matmul(v[0]).sum(),
        &[r(&[3, 2], 15)],
    );
    check(
        "dot",
        |v| v[0].dot(v[1]) * v[0].dot(v[0]),
        &[r(&[5], 16), r(&[5], 17)],
    );
    check("l2_norm", |v| v[0].l2_norm(), &[r(&[2, 3], 18)]);
    check(
        "frobenius_norm",
        |v| v[0].frobenius_norm(),
        &[r(&[2, 3], 19)],
    );
    let w = r(&[3, 5], 20);
    let w2 = w.clone();
    check(
        "softmax",
        move |v| (v[0].softmax(1) * v[0].graph().constant(w2.clone())).sum(),
        &[r(&[3, 5], 21)],
    );
    let w3 = w.clone();
    check(
        "log_softmax",
        move |v| (v[0].log_softmax(1) * v[0].graph().constant(w3.clone())).sum(),
        &[r(&[3, 5], 22)],
    );
    check(
        "logsumexp",
        |v| v[0].logsumexp(0, false).powi(2).sum(),
        &[r(&[3, 5], 23)],
    );
    check(
        "mse",
        |v| v[0].mse_loss(v[1]),
        &[r(&[4, 2], 24), r(&[4, 2], 25)],
    );
    let labels = Tensor::new(vec![1.0, 0.0, 1.0, 0.0], &[4]);
    check(
        "bce_with_logits",
        move |v| v[0].bce_with_logits(v[0].graph().constant(labels.clone())),
        &[r(&[4], 26)],
    );
}

#[test]
fn second_derivatives_match_differences_of_gradients() {
    type F = for<'g> fn(Var<'g, f64>) -> Var<'g, f64>;
    let fs: &[(&str, F)] = &[
        ("rosenbrock", |x| {
            let (a, b) = (x.at(0), x.at(1));
            (1.0 - a).powi(2) + (b - a * a).powi(2) * 100.0
        }),
        ("softmax-weighted", |x| {
            (x.softmax(0) * x).sum() + x.tanh().sum() * x.sum()
        }),
        ("quadratic form", |x| {
            let m = x.graph().constant(Tensor::new(
                vec![2.0, 1.0, 0.0, -1.0, 3.0, 0.5, 0.0, 1.0, 1.0],
                &[3, 3],
            ));
            x.reshape(&[1, 3])
                .matmul(m)
                .matmul(x.reshape(&[3, 1]))
                .sum()
        }),
        ("gelu-silu-erf", |x| {
            (x.gelu() * x.silu() + x.erf().powi(2) + x.softplus().log1p()).sum()
        }),
        // The second derivative flows through ReLU's gradient masking the gradient of the
        // square (no point puts `1.3 x - 0.1` within `eps` of the kink).
        ("relu-squared", |x| {
            ((x * 1.3 - 0.1).relu().powi(2) * x.exp()).sum()
        }),
    ];
    let points = [
        Tensor::vector(&[-1.2, 1.0, 0.4]),
        Tensor::vector(&[0.3, -0.7, 2.0]),
        Tensor::vector(&[0.5, -0.2, 1.1]),
    ];
    for &(name, f) in fs {
        for x in &points {
            let n = x.len();
            let h = hessian(f, x).unwrap();
            let eps = 1e-5;
            for j in 0..n {
                let mut xp = x.to_vec();
                let mut xm = x.to_vec();
                xp[j] += eps;
                xm[j] -= eps;
                let (_, gp) = value_and_grad(f, &Tensor::new(xp, x.shape())).unwrap();
                let (_, gm) = value_and_grad(f, &Tensor::new(xm, x.shape())).unwrap();
                for i in 0..n {
                    let fd = (gp.data()[i] - gm.data()[i]) / (2.0 * eps);
                    let ad = h.data()[i * n + j];
                    assert!(
                        (fd - ad).abs() <= 1e-6 * ad.abs().max(1.0),
                        "{name} H[{i}][{j}]: {ad} vs {fd}"
                    );
                }
            }
            // Symmetric to rounding.
            for i in 0..n {
                for j in 0..n {
                    let (a, b) = (h.data()[i * n + j], h.data()[j * n + i]);
                    assert!(
                        (a - b).abs() <= 1e-12 * a.abs().max(1.0),
                        "{name}: H not symmetric"
                    );
                }
            }
            // hvp agrees with H v, both ways round (forward-over-reverse runs the forward rules
            // of the gradient's own operations, ReLU's masking among them).
            let v = Tensor::rand_uniform(x.shape(), -1.0, 1.0, 3);
            let hv = hvp(f, x, &v).unwrap();
            let hv_for = hvp_forward_over_reverse(f, x, &v).unwrap();
            for i in 0..n {
                let want: f64 = (0..n).map(|j| h.data()[i * n + j] * v.data()[j]).sum();
                for (how, got) in [
                    ("hvp", hv.data()[i]),
                    ("forward over reverse", hv_for.data()[i]),
                ] {
                    assert!(
                        (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                        "{name}: {how}"
                    );
                }
            }
        }
    }
}

#[test]
fn third_derivative_by_nesting() {
    // f = x^4 / 12 + sin x: f''' = 2x - cos x.
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::scalar(0.7));
    let f = x.powi(4) / 12.0 + x.sin();
    let d1 = g.grad_graph(f, &[x]).unwrap()[0];
    let d2 = g.grad_graph(d1, &[x]).unwrap()[0];
    let d3 = g.grad(d2, &[x]).unwrap()[0].item();
    assert!((d3 - (1.4 - 0.7f64.cos())).abs() < 1e-14);
}

#[test]
fn jvp_and_jacobian_agree_with_vjp() {
    fn f<'g>(x: Var<'g, f64>) -> Var<'g, f64> {
        let m = x.graph().constant(Tensor::new(
            (0..12).map(|i| (i as f64).sin()).collect(),
            &[4, 3],
        ));
        m.matmul(x.reshape(&[3, 1])).tanh().reshape(&[4])
    }
    let x = Tensor::vector(&[0.3, -0.5, 0.9]);
    let jac = jacobian(f, &x).unwrap(); // 4 outputs > 3 inputs: forward columns
    assert_eq!(jac.shape(), &[4, 3]);
    for i in 0..4 {
        // Row i by a reverse sweep.
        let g = Graph::new();
        let xv = g.var(x.clone());
        let y = f(xv);
        let mut seed = vec![0.0; 4];
        seed[i] = 1.0;
        let row = g.vjp(y, &[xv], Tensor::vector(&seed)).unwrap().remove(0);
        for j in 0..3 {
            assert!((row.data()[j] - jac.get(&[i, j])).abs() < 1e-14);
        }
    }
    let v = Tensor::vector(&[1.0, 2.0, -1.0]);
    let jv = jvp(f, &x, &v).unwrap();
    for i in 0..4 {
        let want: f64 = (0..3).map(|j| jac.get(&[i, j]) * v.data()[j]).sum();
        assert!((jv.data()[i] - want).abs() < 1e-14);
    }
    // Fewer outputs than inputs: reverse rows.
    let jac2 = jacobian(
        |x: Var<'_, f64>| x.sum_axes(&[0], true) * x.sum(),
        &Tensor::vector(&[1.0, 2.0, 3.0]),
    )
    .unwrap();
    assert_eq!(jac2.to_vec(), vec![12.0, 12.0, 12.0]);
}

/// Fewer outputs than inputs: the reverse rows come from batched sweeps (all 20 seeds in one
/// sweep, the matrix product's rule a GEMM); they must equal one reverse sweep per output
/// element, also for an output of rank 2 (seeds shaped `[b, 4, 5]`).
#[test]
fn batched_jacobian_rows_equal_one_sweep_per_row() {
    fn f<'g>(x: Var<'g, f64>) -> Var<'g, f64> {
        let g = x.graph();
        let m = g.constant(Tensor::new(
            (0..1200).map(|i| (i as f64 * 0.37).sin() * 0.2).collect(),
            &[20, 60],
        ));
        let h = m.matmul(x.reshape(&[60, 1])).tanh().reshape(&[4, 5]);
        h * x.mean().exp() + x.powi(2).sum()
    }
    let x = Tensor::new((0..60).map(|i| (i as f64 * 0.21).cos()).collect(), &[60]);
    let jac = jacobian(f, &x).unwrap();
    assert_eq!(jac.shape(), &[4, 5, 60]);
    let g = Graph::new();
    let xv = g.var(x.clone());
    let y = f(xv);
    for i in 0..20 {
        let mut seed = vec![0.0; 20];
        seed[i] = 1.0;
        let row = g
            .vjp(y, &[xv], Tensor::new(seed, &[4, 5]))
            .unwrap()
            .remove(0);
        for j in 0..60 {
            let (got, want) = (jac.data()[i * 60 + j], row.data()[j]);
            assert!(
                (got - want).abs() <= 1e-14 * (1.0 + want.abs()),
                "J[{i}][{j}] = {got}, one sweep gives {want}"
            );
        }
    }
    assert!(jac.data().iter().any(|v| v.abs() > 0.1));
}

#[test]
fn errors_name_the_op_and_both_shapes() {
    let g = Graph::<f32>::new();
    let a = g.var(Tensor::zeros(&[2, 3]));
    let b = g.var(Tensor::zeros(&[4]));
    let e = a.try_add(b).unwrap_err();
    assert_eq!(
        e,
        GraphError::ShapeMismatch {
            op: "add",
            lhs: vec![2, 3],
            rhs: vec![4]
        }
    );
    assert_eq!(e.to_string(), "add: shape mismatch: [2, 3] and [4]");
    let e = a.try_matmul(a).unwrap_err();
    assert_eq!(e.to_string(), "matmul: shape mismatch: [2, 3] and [2, 3]");
    assert!(matches!(
        a.try_sum_axes(&[2], false),
        Err(GraphError::Invalid { op: "sum", .. })
    ));
    assert!(matches!(
        a.try_reshape(&[5]),
        Err(GraphError::ShapeMismatch { op: "reshape", .. })
    ));
    assert_eq!(
        g.grad(a, &[a]).unwrap_err(),
        GraphError::NotScalar { shape: vec![2, 3] }
    );
    let r = std::panic::catch_unwind(|| {
        let g = Graph::<f64>::new();
        let a = g.var(Tensor::zeros(&[2]));
        let b = g.var(Tensor::zeros(&[3]));
        let _ = a * b;
    });
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("mul: shape mismatch: [2] and [3]"), "{msg}");
}

#[test]
fn unused_inputs_get_zeros_and_detach_stops_gradients() {
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::vector(&[1.0, 2.0]));
    let y = g.var(Tensor::vector(&[3.0, 4.0]));
    let f = (x * x.detach()).sum();
    let grads = g.grad(f, &[x, y]).unwrap();
    assert_eq!(grads[0].to_vec(), vec![1.0, 2.0]); // d/dx (x * const) = const
    assert_eq!(grads[1].to_vec(), vec![0.0, 0.0]);
    let h = g.no_grad(|| (y * y).sum());
    assert_eq!(g.grad(h, &[y]).unwrap()[0].to_vec(), vec![0.0, 0.0]);
    // First-order grad leaves no nodes behind.
    let before = g.len();
    let _ = g.grad(f, &[x]).unwrap();
    assert_eq!(g.len(), before);
}

#[test]
fn a_million_op_chain_differentiates_without_recursion() {
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::scalar(1.0));
    let mut y = x;
    for _ in 0..1_000_000 {
        y = y * 1.000_000_1;
    }
    let d = g.grad(y, &[x]).unwrap()[0].item();
    let want = 1.000_000_1f64.powi(1_000_000);
    assert!((d - want).abs() < 1e-9 * want, "{d} vs {want}");
}

#[test]
fn forward_mode_matches_reverse_for_every_rule_family() {
    // J v by forward mode against the reverse-mode Jacobian, over functions that touch every
    // operation family (elementwise, broadcasting, reductions, shapes, gathers, matmul).
    fn f<'g>(x: Var<'g, f64>) -> Var<'g, f64> {
        let g = x.graph();
        let m = g.constant(Tensor::new(
            (0..12).map(|i| (i as f64 * 0.7).cos()).collect(),
            &[3, 4],
        ));
        let h = m.matmul(x.reshape(&[4, 1])).reshape(&[3]); // [3]
        let s = (h.exp() / (h * h + 1.0)).log1p() - h.sigmoid() * h.tanh();
        let w = s.concat(x.slice(0, 1, 3).abs().sqrt(), 0); // [5]
        let r = w.reshape(&[5, 1]).broadcast_to(&[5, 2]).permute(&[1, 0]); // [2, 5]
        let q = r.softmax(1).sum_axes(&[0], false) + r.max_axes(&[0], false).softplus(); // [5]
        (q.index_select(&[4, 0, 0, 2]) * x.powi(3).sum().erf()).relu() + x.mean().powf(2.0)
    }
    let x = Tensor::vector(&[0.3, -0.5, 0.9, 1.4]);
    let jac = jacobian(f, &x).unwrap();
    let v = Tensor::vector(&[1.0, -2.0, 0.5, 0.25]);
    let jv = jvp(f, &x, &v).unwrap();
    let rows = jac.shape()[0];
    for i in 0..rows {
        let want: f64 = (0..4).map(|j| jac.get(&[i, j]) * v.data()[j]).sum();
        assert!(
            (jv.data()[i] - want).abs() <= 1e-13 * want.abs().max(1.0),
            "row {i}: {} vs {want}",
            jv.data()[i]
        );
    }
}

#[test]
fn recorded_forward_mode_differentiates_again() {
    // d/dt f(x + t v) twice: v^T H v, from a recorded jvp differentiated by reverse mode.
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::vector(&[0.4, -1.1]));
    let v = g.constant(Tensor::vector(&[1.0, 2.0]));
    let f = (x.sin() * x.exp()).sum(); // H = diag(2 cos(x) e^x)
    let jv = g.jvp_graph(f, &[x], &[v], true).unwrap();
    let hv = g.grad(jv, &[x]).unwrap()[0].clone();
    for (i, &xi) in [0.4f64, -1.1].iter().enumerate() {
        let want = 2.0 * xi.cos() * xi.exp() * [1.0, 2.0][i];
        assert!(
            (hv.data()[i] - want).abs() < 1e-14,
            "{} vs {want}",
            hv.data()[i]
        );
    }
}

#[test]
fn the_l2_norm_neither_overflows_nor_underflows_and_is_zero_safe() {
    // Entries of 1e200 square to infinity and of 1e-200 to zero; the norm is scaled first.
    for scale in [1e200f64, 1e-200, 1.0] {
        let v = Tensor::vector(&[3.0 * scale, -4.0 * scale]);
        let (n, g) = value_and_grad(|x| x.l2_norm(), &v).unwrap();
        assert!(
            (n / (5.0 * scale) - 1.0).abs() <= 2.0 * f64::EPSILON,
            "{n} at {scale}"
        );
        // The guide's exercise: d||v||/dv = v / ||v||, whatever the scale.
        for (gi, want) in g.data().iter().zip([0.6, -0.8]) {
            assert!(
                (gi - want).abs() <= 4.0 * f64::EPSILON,
                "{gi} vs {want} at {scale}"
            );
        }
    }
    // At 0 the norm is 0 and its gradient is the subgradient 0, not NaN.
    let (n, g) = value_and_grad(|x| x.l2_norm(), &Tensor::vector(&[0.0, 0.0, 0.0])).unwrap();
    assert_eq!(n, 0.0);
    assert_eq!(g.to_vec(), vec![0.0; 3]);
    // An infinite entry gives an infinite norm.
    let (n, _) = value_and_grad(|x| x.l2_norm(), &Tensor::vector(&[f64::INFINITY, 1.0])).unwrap();
    assert_eq!(n, f64::INFINITY);
}

#[test]
fn the_l2_norm_hessian_is_the_projection_over_the_norm() {
    // H = (I - v v^T / |v|^2) / |v|, away from 0.
    let v = [1.0f64, -2.0, 2.0];
    let h = hessian(|x| x.l2_norm(), &Tensor::vector(&v)).unwrap();
    let n = 3.0;
    for i in 0..3 {
        for j in 0..3 {
            let want = (f64::from(u8::from(i == j)) - v[i] * v[j] / (n * n)) / n;
            assert!(
                (h.get(&[i, j]) - want).abs() < 1e-15,
                "H[{i},{j}] = {} vs {want}",
                h.get(&[i, j])
            );
        }
    }
}

#[test]
fn reductions_with_and_without_keepdim() {
    let x = r(&[2, 3, 4], 40);
    // max without keepdim: [2, 4], weighted so each maximum's gradient differs.
    let w = r(&[2, 4], 41);
    let g = Graph::<f64>::new();
    let m = g.var(x.clone()).max_axes(&[1], false);
    assert_eq!(m.shape(), vec![2, 4]);
    check(
        "max_axes no keepdim",
        move |v| (v[0].max_axes(&[1], false) * v[0].graph().constant(w.clone())).sum(),
        std::slice::from_ref(&x),
    );
    check(
        "max_axes two axes no keepdim",
        |v| v[0].max_axes(&[0, 2], false).exp().sum(),
        std::slice::from_ref(&x),
    );
    // mean with keepdim: [1, 3, 1], broadcast back against the input.
    let m = g.var(x.clone()).mean_axes(&[0, 2], true);
    assert_eq!(m.shape(), vec![1, 3, 1]);
    check(
        "mean_axes keepdim",
        |v| (v[0].mean_axes(&[0, 2], true) * v[0]).sin().sum(),
        std::slice::from_ref(&x),
    );
    // logsumexp with keepdim, along the last and a middle axis.
    let l = g.var(x.clone()).logsumexp(1, true);
    assert_eq!(l.shape(), vec![2, 1, 4]);
    check(
        "logsumexp keepdim last axis",
        |v| (v[0].logsumexp(2, true) * v[0]).sum(),
        std::slice::from_ref(&x),
    );
    check(
        "logsumexp keepdim middle axis",
        |v| (v[0].logsumexp(1, true) * v[0]).tanh().sum(),
        std::slice::from_ref(&x),
    );
    check(
        "logsumexp no keepdim middle axis",
        |v| v[0].logsumexp(1, false).powi(2).sum(),
        std::slice::from_ref(&x),
    );
}

#[test]
fn eye_arange_and_linspace() {
    let e = Tensor::<f64>::eye(3);
    assert_eq!(e.shape(), &[3, 3]);
    assert_eq!(
        e.to_vec(),
        vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    );
    for i in 0..3 {
        for j in 0..3 {
            assert_eq!(e.get(&[i, j]), if i == j { 1.0 } else { 0.0 });
        }
    }
    assert_eq!(Tensor::<f32>::eye(1).to_vec(), vec![1.0]);
    assert_eq!(Tensor::<f64>::eye(0).shape(), &[0, 0]);
    assert!(Tensor::<f64>::eye(0).is_empty());

    let a = Tensor::<f64>::arange(5);
    assert_eq!(a.shape(), &[5]);
    assert_eq!(a.to_vec(), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    assert_eq!(Tensor::<f32>::arange(3).to_vec(), vec![0.0f32, 1.0, 2.0]);
    assert!(Tensor::<f64>::arange(0).is_empty());

    let l = Tensor::<f64>::linspace(0.0, 1.0, 5);
    assert_eq!(l.shape(), &[5]);
    assert_eq!(l.to_vec(), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(
        Tensor::<f64>::linspace(3.0, -1.0, 3).to_vec(),
        vec![3.0, 1.0, -1.0]
    );
    assert_eq!(Tensor::<f64>::linspace(2.0, 7.0, 1).to_vec(), vec![2.0]);
    assert!(Tensor::<f64>::linspace(0.0, 1.0, 0).is_empty());
    // The guide's plotting grid: both ends exact, even steps, increasing.
    for n in [78, 500] {
        let l = Tensor::<f64>::linspace(-2.0, 3.0, n).to_vec();
        assert_eq!(l.len(), n);
        assert_eq!((l[0], l[n - 1]), (-2.0, 3.0), "n = {n}");
        let step = 5.0 / (n - 1) as f64;
        for w in l.windows(2) {
            assert!(w[1] > w[0]);
            assert!((w[1] - w[0] - step).abs() < 1e-12);
        }
    }
}

#[test]
fn a_million_op_tensor_chain_takes_the_general_sweep_without_recursion() {
    // Shape [2], not a scalar: every node goes through the general (tensor) rules. Half the
    // ops scale by c, half shift; f = sum(w * y), so df/dx = w c^(500 000) elementwise.
    let c = 1.000_000_1f64;
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::vector(&[1.0, -2.0]));
    let k = g.constant(Tensor::vector(&[c, c]));
    let mut y = x;
    for i in 0..1_000_000 {
        y = match i % 4 {
            0 => y * c,
            1 => y - 0.25,
            2 => y * k,
            _ => y + 0.25,
        };
    }
    assert!(g.len() > 1_000_000);
    let f = (y * g.constant(Tensor::vector(&[1.0, -3.0]))).sum();
    let d = g.grad(f, &[x]).unwrap()[0].to_vec();
    let cn = c.powi(500_000);
    for (got, want) in d.iter().zip([cn, -3.0 * cn]) {
        assert!((got - want).abs() < 1e-9 * want.abs(), "{got} vs {want}");
    }
}

#[test]
fn a_hundred_thousand_op_recorded_gradient_differentiates_again() {
    // y = c^50 000 x + b (b from the shifts), f = sum(y^2): df/dx = 2 c^50 000 y, recorded,
    // and d(sum df/dx)/dx = 2 c^100 000 per element.
    let c = 1.000_01f64;
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::vector(&[0.5, -1.5]));
    let mut y = x;
    for i in 0..100_000 {
        y = if i % 2 == 0 { y * c } else { y + 0.001 };
    }
    let f = (y * y).sum();
    let before = g.len();
    let dx = g.grad_graph(f, &[x]).unwrap()[0];
    // Recorded: at least one node per scaling (the shifts pass the adjoint through).
    assert!(g.len() > before + 50_000, "{} new nodes", g.len() - before);
    let cn = c.powi(50_000);
    let yv = y.value().to_vec();
    for (got, yi) in dx.value().to_vec().iter().zip(&yv) {
        let want = 2.0 * cn * yi;
        assert!((got - want).abs() < 1e-9 * want.abs(), "{got} vs {want}");
    }
    let d2 = g.grad(dx.sum(), &[x]).unwrap()[0].to_vec();
    let want = 2.0 * c.powi(100_000);
    for got in d2 {
        assert!((got - want).abs() < 1e-9 * want, "{got} vs {want}");
    }
}

#[test]
fn relu_gradient_masks_in_one_pass_with_the_kernels_conventions() {
    // Upstream gradient w: NaN where x is NaN, 0 where x <= 0 even for an infinite w (the
    // product form, w * step(x), would give NaN there), w where x > 0.
    let g = Graph::<f32>::new();
    let x = g.var(Tensor::vector(&[f32::NAN, -1.0, 0.0, 2.0]));
    let w = g.constant(Tensor::vector(&[
        1.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        3.0,
    ]));
    let dx = g.grad((x.relu() * w).sum(), &[x]).unwrap()[0].to_vec();
    assert!(dx[0].is_nan(), "{dx:?}");
    assert_eq!(&dx[1..], &[0.0, 0.0, 3.0]);
}
