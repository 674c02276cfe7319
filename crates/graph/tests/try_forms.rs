//! The `try_` forms: each refuses bad arguments with an error naming the operation (and both
//! shapes for a mismatch), its panicking form panics with the same message, and every operation
//! taking two `Var`s refuses a `Var` of another graph instead of reading the wrong nodes.

use nabla_graph::{Graph, GraphError, Tensor, stack, try_stack};

fn invalid_op(e: GraphError) -> &'static str {
    match e {
        GraphError::Invalid { op, .. } => op,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("should panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast::<&str>().map(|s| s.to_string()).unwrap(),
    }
}

#[test]
fn reductions_and_softmaxes_refuse_a_bad_axis() {
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::arange(6).reshape(&[2, 3]).unwrap());
    assert_eq!(
        invalid_op(x.try_mean_axes(&[0, 2], false).unwrap_err()),
        "mean"
    );
    assert_eq!(
        invalid_op(x.try_logsumexp(2, true).unwrap_err()),
        "logsumexp"
    );
    assert_eq!(invalid_op(x.try_log_softmax(2).unwrap_err()), "log_softmax");
    assert_eq!(invalid_op(x.try_softmax(5).unwrap_err()), "softmax");
    let e = x.try_softmax(2).unwrap_err();
    assert_eq!(e.to_string(), "softmax: axis 2 out of range for rank 2");
    // A scalar has no axis 0.
    let s = g.var(Tensor::scalar(1.0));
    assert_eq!(
        invalid_op(s.try_logsumexp(0, false).unwrap_err()),
        "logsumexp"
    );

    // The panicking forms carry the same message.
    let msg = panic_message(|| {
        let g = Graph::<f64>::new();
        let _ = g.var(Tensor::zeros(&[2, 3])).mean_axes(&[3], true);
    });
    assert!(
        msg.contains("mean: axis 3 out of range for rank 2"),
        "{msg}"
    );
    let msg = panic_message(|| {
        let g = Graph::<f64>::new();
        let _ = g.var(Tensor::zeros(&[2, 3])).log_softmax(2);
    });
    assert!(msg.contains("log_softmax: axis 2"), "{msg}");

    // The valid forms agree with the panicking ones.
    let a = x.try_softmax(1).unwrap().value();
    assert_eq!(a.to_vec(), x.softmax(1).value().to_vec());
    let row0: f64 = a.to_vec()[..3].iter().sum();
    assert!((row0 - 1.0).abs() < 1e-15);
    let l = x.try_logsumexp(0, true).unwrap();
    assert_eq!(l.shape(), vec![1, 3]);
    let want = (0f64.exp() + 3f64.exp()).ln();
    assert!((l.value().to_vec()[0] - want).abs() < 1e-15);
}

#[test]
fn mean_axes_counts_a_repeated_axis_once() {
    // The sum ignores a repeated axis, so the count must too (it used to divide by 3 * 3).
    let g = Graph::<f64>::new();
    let x = g.var(Tensor::arange(6).reshape(&[2, 3]).unwrap());
    let m = x.mean_axes(&[1, 1], false);
    assert_eq!(m.value().to_vec(), vec![1.0, 4.0]);
    assert_eq!(
        x.try_mean_axes(&[1, 0, 1], true).unwrap().value().to_vec(),
        vec![2.5]
    );
}

#[test]
fn dot_and_losses_name_both_shapes() {
    let g = Graph::<f64>::new();
    let a = g.var(Tensor::zeros(&[4, 1]));
    let b = g.var(Tensor::zeros(&[4]));
    assert_eq!(
        a.try_dot(b).unwrap_err(),
        GraphError::ShapeMismatch {
            op: "dot",
            lhs: vec![4, 1],
            rhs: vec![4]
        }
    );
    // The losses do not broadcast: [4, 1] against [4] would average a 4 x 4 grid.
    assert_eq!(
        a.try_mse_loss(b).unwrap_err(),
        GraphError::ShapeMismatch {
            op: "mse_loss",
            lhs: vec![4, 1],
            rhs: vec![4]
        }
    );
    assert_eq!(
        b.try_bce_with_logits(a).unwrap_err(),
        GraphError::ShapeMismatch {
            op: "bce_with_logits",
            lhs: vec![4],
            rhs: vec![4, 1]
        }
    );
    let msg = panic_message(|| {
        let g = Graph::<f64>::new();
        let _ = g
            .var(Tensor::zeros(&[3]))
            .mse_loss(g.var(Tensor::zeros(&[3, 1])));
    });
    assert!(
        msg.contains("mse_loss: shape mismatch: [3] and [3, 1]"),
        "{msg}"
    );

    let x = g.var(Tensor::vector(&[1.0, 2.0, 3.0]));
    let y = g.var(Tensor::vector(&[4.0, -5.0, 0.5]));
    assert_eq!(x.try_dot(y).unwrap().value().item(), 4.0 - 10.0 + 1.5);
    assert_eq!(
        x.try_mse_loss(y).unwrap().value().item(),
        (9.0 + 49.0 + 6.25) / 3.0
    );
    let bce = x.try_bce_with_logits(g.constant(Tensor::vector(&[1.0, 0.0, 1.0])));
    let want =
        ((1.0 + (-1f64).exp()).ln() + (1.0 + 2f64.exp()).ln() + (1.0 + (-3f64).exp()).ln()) / 3.0;
    assert!((bce.unwrap().value().item() - want).abs() < 1e-15);
}

#[test]
fn stack_refuses_nothing_bad_shapes_and_bad_axes() {
    let g = Graph::<f64>::new();
    let a = g.var(Tensor::zeros(&[2, 3]));
    let b = g.var(Tensor::zeros(&[3, 2]));
    assert_eq!(invalid_op(try_stack::<f64>(&[], 0).unwrap_err()), "stack");
    assert_eq!(invalid_op(try_stack(&[a, a], 3).unwrap_err()), "stack");
    assert_eq!(
        try_stack(&[a, a, b], 0).unwrap_err(),
        GraphError::ShapeMismatch {
            op: "stack",
            lhs: vec![2, 3],
            rhs: vec![3, 2]
        }
    );
    let msg = panic_message(|| {
        let _ = stack::<f64>(&[], 1);
    });
    assert!(msg.contains("stack: no vars to stack"), "{msg}");

    let x = g.var(Tensor::vector(&[1.0, 2.0]));
    let y = g.var(Tensor::vector(&[3.0, 4.0]));
    let s = try_stack(&[x, y, x], 1).unwrap();
    assert_eq!(s.shape(), vec![2, 3]);
    assert_eq!(s.value().to_vec(), vec![1.0, 3.0, 1.0, 2.0, 4.0, 2.0]);
    assert_eq!(try_stack(&[y], 0).unwrap().shape(), vec![1, 2]);
}

#[test]
fn at_needs_a_vector_and_an_index_in_range() {
    let g = Graph::<f64>::new();
    let v = g.var(Tensor::vector(&[5.0, 6.0, 7.0]));
    assert_eq!(v.try_at(2).unwrap().value().item(), 7.0);
    assert_eq!(v.try_at(2).unwrap().shape(), Vec::<usize>::new());
    assert_eq!(invalid_op(v.try_at(3).unwrap_err()), "at");
    let m = g.var(Tensor::zeros(&[2, 2]));
    let e = m.try_at(0).unwrap_err();
    assert_eq!(invalid_op(e.clone()), "at");
    assert!(e.to_string().contains("[2, 2]"), "{e}");
    assert_eq!(invalid_op(g.scalar(1.0).try_at(0).unwrap_err()), "at");
    let msg = panic_message(|| {
        let g = Graph::<f64>::new();
        let _ = g.var(Tensor::vector(&[1.0])).at(1);
    });
    assert!(msg.contains("at: index 1"), "{msg}");
}

#[test]
fn two_var_operations_refuse_a_var_of_another_graph() {
    let g1 = Graph::<f64>::new();
    let g2 = Graph::<f64>::new();
    // Equal shapes and node ids that exist in both graphs: nothing but the check stops the mix.
    let a = g1.var(Tensor::vector(&[1.0, 2.0]));
    let c1 = g1.var(Tensor::vector(&[3.0, 4.0]));
    let b = g2.var(Tensor::vector(&[5.0, 6.0]));
    let c2 = g2.var(Tensor::vector(&[7.0, 8.0]));
    let (m1, m2) = (g1.var(Tensor::ones(&[2, 2])), g2.var(Tensor::ones(&[2, 2])));
    let (len1, len2) = (g1.len(), g2.len());
    let foreign = Err::<(), _>(GraphError::ForeignVar);
    assert_eq!(a.try_add(b).map(|_| ()), foreign);
    assert_eq!(a.try_sub(b).map(|_| ()), foreign);
    assert_eq!(a.try_mul(b).map(|_| ()), foreign);
    assert_eq!(b.try_div(a).map(|_| ()), foreign);
    assert_eq!(m1.try_matmul(m2).map(|_| ()), foreign);
    assert_eq!(a.try_concat(b, 0).map(|_| ()), foreign);
    assert_eq!(a.try_dot(b).map(|_| ()), foreign);
    assert_eq!(a.try_mse_loss(b).map(|_| ()), foreign);
    assert_eq!(a.try_bce_with_logits(b).map(|_| ()), foreign);
    assert_eq!(try_stack(&[a, c1, b], 0).map(|_| ()), foreign);
    assert_eq!(try_stack(&[b, c2, a], 1).map(|_| ()), foreign);
    // Nothing was recorded in either graph.
    assert_eq!((g1.len(), g2.len()), (len1, len2));
    // Shape errors do not hide the graph error.
    let short = g2.var(Tensor::vector(&[1.0]));
    assert_eq!(a.try_dot(short).map(|_| ()), foreign);

    // The operators panic with the error's message.
    let msg = panic_message(std::panic::AssertUnwindSafe(|| {
        let _ = a * b;
    }));
    assert!(msg.contains("a Var from another graph was used"), "{msg}");
    let msg = panic_message(std::panic::AssertUnwindSafe(|| {
        let _ = m1.matmul(m2);
    }));
    assert!(msg.contains("another graph"), "{msg}");

    // Each graph still differentiates its own vars correctly afterwards.
    let f = a.dot(c1);
    let grads = g1.grad(f, &[a, c1]).unwrap();
    assert_eq!(grads[0].to_vec(), vec![3.0, 4.0]);
    assert_eq!(grads[1].to_vec(), vec![1.0, 2.0]);
    assert_eq!(g1.grad(f, &[b]).unwrap_err(), GraphError::ForeignVar);
}
