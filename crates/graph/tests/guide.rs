//! The guide (gradients, backpropagation, Hessians, matrix calculus), reproduced through the
//! graph: every value it shows, asserted.

use nabla_graph::guide;

#[test]
fn section1_first_order_approximation() {
    let s = guide::first_order();
    // The guide's printed values, and the exact ones: ln 3 - 0.05/3 and ln(e^0.01 + 2 e^-0.03).
    assert!(
        (s.approximation - 1.081_945_6).abs() < 1e-7,
        "{}",
        s.approximation
    );
    assert!(
        (s.true_value - 1.082_124_2).abs() < 1e-7,
        "{}",
        s.true_value
    );
    assert!((s.approximation - (3f64.ln() - 0.05 / 3.0)).abs() < 1e-15);
    assert!((s.true_value - (0.01f64.exp() + 2.0 * (-0.03f64).exp()).ln()).abs() < 1e-15);
    // The gradient is the softmax, and sums to 1.
    for i in 0..2 {
        assert!((s.gradient[i] - s.softmax[i]).abs() < 1e-15);
    }
    assert!((s.gradient[0] - 1.0 / 3.0).abs() < 1e-15);
    assert!((s.gradient[0] + s.gradient[1] - 1.0).abs() < 1e-15);
}

#[test]
fn section2_critical_points() {
    let pts = guide::critical_points();
    let want = [(-1.0, -5.0, 36.0), (0.0, 0.0, -24.0), (2.0, -32.0, 72.0)];
    for (p, (x, v, d2)) in pts.iter().zip(want) {
        assert_eq!(p.x, x);
        assert_eq!(p.value, v);
        assert_eq!(p.gradient, 0.0, "f'({x})");
        assert_eq!(p.second_derivative, d2, "f''({x})");
    }
    // min, max, min; the global minimum is f(2) = -32.
    assert!(
        pts[0].second_derivative > 0.0
            && pts[1].second_derivative < 0.0
            && pts[2].second_derivative > 0.0
    );
}

#[test]
fn section2_gradient_descent_reaches_a_minimum() {
    let runs = guide::gradient_descent();
    assert_eq!(runs.len(), 4);
    // Left of the maximum at 0: the local minimum -1; right of it: the global minimum 2.
    for (run, (start, x, value)) in runs.iter().zip([
        (-2.0, -1.0, -5.0),
        (-0.5, -1.0, -5.0),
        (0.5, 2.0, -32.0),
        (3.0, 2.0, -32.0),
    ]) {
        assert_eq!(run.start, start);
        assert!(
            run.steps > 0 && run.steps < guide::DESCENT_MAX_STEPS,
            "{run:?}"
        );
        assert!((run.x - x).abs() < 1e-12, "{run:?}");
        assert!((run.value - value).abs() < 1e-12, "{run:?}");
        assert!(run.gradient.abs() < 1e-12, "{run:?}");
        assert!(run.second_derivative > 0.0, "{run:?}: a minimum");
        assert!(run.decreasing, "{run:?}: every step lowered f");
    }
}

#[test]
fn sections3_4_chain_rule_and_backpropagation() {
    let s = guide::chain_rule();
    assert_eq!(s.forward, s.manual_forward);
    assert_eq!(s.forward[4], 1024.0);
    assert_eq!(s.partials, s.manual_partials);
    assert_eq!(s.gradient, [-4096.0; 4]);
    assert_eq!(s.manual_df_dw, -4096.0);
    // The manual backward pass, intermediate by intermediate: du/dw and dv/dw.
    assert_eq!(s.backward, s.manual_backward);
    // a = 4, b = 0, da/dw = -4, db/dw = 0: du/dw = 2(a + b) da/dw + 2(a + b) db/dw = -32,
    // dv/dw = 2(a - b) da/dw - 2(a - b) db/dw = -32; df/dw = 64 (-32) + 64 (-32) = -4096.
    assert_eq!(s.backward, [-32.0, -32.0]);
    assert_eq!(
        s.manual_df_dw,
        s.partials[0] * s.backward[0] + s.partials[1] * s.backward[1]
    );
}

#[test]
fn section5_hessian_and_quadratic_model() {
    let s = guide::quadratic_approximation();
    for (i, (h, a)) in s.hessian.iter().zip(&s.analytic).enumerate() {
        assert!(
            (h - a).abs() <= 1e-14 * a.abs().max(1.0),
            "H[{}][{}] = {h}, analytic {a}",
            i / 3,
            i % 3
        );
    }
    for i in 0..3 {
        for j in 0..3 {
            assert!((s.hessian[i * 3 + j] - s.hessian[j * 3 + i]).abs() < 1e-15);
        }
    }
    // Shrinking the step 10x shrinks the quadratic model's error ~1000x, the linear one's ~100x.
    for w in s.model_errors.windows(2) {
        let (q, l) = (w[0].1 / w[1].1, w[0].2 / w[1].2);
        assert!((300.0..3000.0).contains(&q), "quadratic error ratio {q}");
        assert!((30.0..300.0).contains(&l), "linear error ratio {l}");
    }
}

#[test]
fn section6_matrix_calculus() {
    for id in guide::matrix_calculus() {
        assert!(
            id.vs_closed_form < 1e-13,
            "{}: {}",
            id.name,
            id.vs_closed_form
        );
        assert!(
            id.vs_differences < 1e-7,
            "{}: {}",
            id.name,
            id.vs_differences
        );
    }
}

#[test]
fn exercises() {
    let e = guide::exercises();
    assert_eq!(e.transpose_gap, 0.0);
    assert!(e.norm_gradient_gap < 1e-15);
    assert!((e.logsumexp_gradient_sum - 1.0).abs() < 1e-15);
    assert_eq!(e.origin_gradient, vec![0.0, 0.0]);
    assert_eq!(e.origin_hessian, vec![0.0; 4]);
    // ... so look along the diagonal: f(t, t) = 2t^3 changes sign at the origin.
    assert_eq!(e.origin_diagonal.len(), 6);
    for &(t, v) in &e.origin_diagonal {
        assert!(
            (v - 2.0 * t * t * t).abs() <= 1e-15 * t.abs().powi(3),
            "f({t}, {t}) = {v}"
        );
        assert_eq!(v > 0.0, t > 0.0, "f({t}, {t}) = {v}");
    }
    assert_eq!(e.origin_kind, "neither");
}

#[test]
fn exercise5_gradients_of_the_parts_cancel_at_the_minimum_of_the_sum() {
    let s = guide::sum_minimum();
    assert!(s.steps > 0 && s.steps < guide::DESCENT_MAX_STEPS, "{s:?}");
    // grad g = -grad h: equal lengths, opposite directions, and not both zero.
    assert!(s.sum_norm < 1e-13, "{s:?}");
    assert!((s.cosine + 1.0).abs() < 1e-12, "{s:?}");
    assert!(s.grad_g[0].hypot(s.grad_g[1]) > 0.1, "{s:?}");
    // Away from the minimum they do not cancel.
    assert!(s.start_sum_norm > 1.0, "{s:?}");
    // The closed form: grad h is softmax(x) and grad g = x - a.
    let (x, a) = (s.point, [1.0, -2.0]);
    let z = x[0].exp() + x[1].exp();
    for i in 0..2 {
        assert!((s.grad_h[i] - x[i].exp() / z).abs() < 1e-15);
        assert!((s.grad_g[i] - (x[i] - a[i])).abs() < 1e-15);
    }
}
