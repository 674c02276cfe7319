//! `graph_derivatives`: reverse-mode gradients of random expression graphs against forward mode
//! and central differences, and Hessian-vector products against the dense Hessian and against
//! differences of gradients (nabla-graph, f64).
//!
//! Input: the number of variables `n` (1-4) and their values in `[-2, 2]`, then up to 16
//! instructions, each an opcode and operands picked among the nodes so far (the `n` inputs,
//! then each instruction's result). The ops are smooth everywhere on the reals (no `log` of a
//! possibly negative number, no `abs`): `+ - *`, `a / (1 + b^2)`, sin, cos, tanh, sigmoid,
//! softplus, `exp(tanh a)`, `log(1 + a^2)`, `sqrt(1 + a^2)`, `a^2`, `a^3`, `c a`, and the
//! log-sum-exp and softmax-weighted sum of the whole input vector. The output is the last node.
//!
//! Checks (skipped when a value leaves `[-1e6, 1e6]`, where products of products overflow):
//! * reverse mode equals forward mode (`jvp` along each unit vector) to `1e-12` of the scale of
//!   the terms (the two modes sum the same products in different orders);
//! * the dense Hessian's rows equal `hvp` along each unit vector (same bound), and `H` is
//!   symmetric (same bound);
//! * the gradient and `H v` agree with central differences of `f` and of the gradient. The
//!   tolerance is estimated, not guessed: with steps `h` and `h/2`, the difference of the two
//!   estimates measures the truncation error (Richardson), so the test demands
//!   `|exact - D(h/2)| <= 4 |D(h) - D(h/2)| + 1e-8 (1 + |exact| + |f|)`. A wrong derivative
//!   fails this by its own error, however smooth `f` is.

use crate::Input;
use nabla_graph::{Graph, Tensor, Var, func, hessian, hvp, jvp, value_and_grad};

/// One decoded instruction: opcode and up to two operand indices, plus a constant.
#[derive(Clone, Copy, Debug)]
struct Instr {
    op: u8,
    a: usize,
    b: usize,
    c: f64,
}

const OPS: u8 = 18;

/// Every node of the program: the `n` inputs, then each instruction's result (the output last).
fn nodes<'g>(prog: &[Instr], x: Var<'g, f64>, n: usize) -> Vec<Var<'g, f64>> {
    let mut nodes: Vec<Var<'g, f64>> = (0..n).map(|i| x.at(i)).collect();
    for ins in prog {
        let (a, b) = (nodes[ins.a], nodes[ins.b]);
        let y = match ins.op {
            0 => a + b,
            1 => a - b,
            2 => a * b,
            3 => a / (b * b + 1.0),
            4 => a.sin(),
            5 => a.cos(),
            6 => a.tanh(),
            7 => a.sigmoid(),
            8 => a.softplus(),
            9 => a.tanh().exp(),
            10 => (a * a + 1.0).log(),
            11 => (a * a + 1.0).sqrt(),
            12 => a.powi(2),
            13 => a.powi(3),
            14 => a * ins.c,
            15 => x.logsumexp(0, false) + a,
            16 => (x.softmax(0) * x).sum() * a,
            _ => a + ins.c,
        };
        nodes.push(y);
    }
    nodes
}

/// The program's output: its last node.
fn eval<'g>(prog: &[Instr], x: Var<'g, f64>, n: usize) -> Var<'g, f64> {
    *nodes(prog, x, n).last().expect("n >= 1")
}

fn unit(n: usize, i: usize) -> Tensor<f64> {
    let mut d = vec![0.0; n];
    d[i] = 1.0;
    Tensor::vector(&d)
}

/// `|a - b| <= 1e-12 * scale` with a message.
fn close(what: &str, a: f64, b: f64, scale: f64) {
    assert!(
        (a - b).abs() <= 1e-12 * scale,
        "{what}: {a:e} vs {b:e} (difference {:e}, allowed {:e})",
        (a - b).abs(),
        1e-12 * scale
    );
}

/// Central difference of `g` (a vector function of a step `t`) at `t = 0` with step `h`.
fn central(g: &dyn Fn(f64) -> Vec<f64>, h: f64) -> Vec<f64> {
    let (p, m) = (g(h), g(-h));
    p.iter().zip(&m).map(|(p, m)| (p - m) / (2.0 * h)).collect()
}

/// The Richardson-calibrated check of the module docs.
fn against_differences(what: &str, exact: &[f64], g: &dyn Fn(f64) -> Vec<f64>, h: f64, f: f64) {
    let (d1, d2) = (central(g, h), central(g, h / 2.0));
    for i in 0..exact.len() {
        let tol = 4.0 * (d1[i] - d2[i]).abs() + 1e-8 * (1.0 + exact[i].abs() + f.abs());
        assert!(
            (exact[i] - d2[i]).abs() <= tol,
            "{what}[{i}]: exact {:e}, central differences {:e} (h {h:e}) and {:e} (h/2); allowed {tol:e}",
            exact[i],
            d1[i],
            d2[i]
        );
    }
}

/// The fuzz body: see the module documentation.
pub fn graph_derivatives(data: &[u8]) {
    let mut inp = Input::new(data);
    let n = 1 + inp.upto(3);
    let x0: Vec<f64> = (0..n)
        .map(|_| f64::from(inp.u16()) / 65535.0 * 4.0 - 2.0)
        .collect();
    let len = inp.upto(16);
    let mut prog = Vec::with_capacity(len);
    for k in 0..len {
        let nodes = n + k;
        prog.push(Instr {
            op: inp.u8() % OPS,
            a: inp.upto(nodes - 1),
            b: inp.upto(nodes - 1),
            c: f64::from(inp.u8()) / 255.0 * 4.0 - 2.0,
        });
    }
    let f = func(|x| eval(&prog, x, n));
    let x = Tensor::vector(&x0);
    // Every node's value must stay moderate for the tolerances to mean something.
    let moderate = {
        let g = Graph::new();
        let all = nodes(&prog, g.var(x.clone()), n);
        all.iter().all(|v| {
            let v = v.value().item();
            v.is_finite() && v.abs() <= 1e6
        })
    };
    if !moderate {
        return;
    }
    let (fx, grad) = value_and_grad(f, &x).expect("a scalar output");
    let grad = grad.to_vec();
    let h = hessian(f, &x).expect("a scalar output").to_vec();
    let scale = 1.0
        + fx.abs()
        + grad.iter().map(|g| g.abs()).sum::<f64>()
        + h.iter().map(|v| v.abs()).sum::<f64>();
    if !scale.is_finite() || scale > 1e8 {
        return;
    }
    for i in 0..n {
        let e = unit(n, i);
        let fwd = jvp(f, &x, &e).expect("shapes match").item();
        close(&format!("reverse vs forward d/dx{i}"), grad[i], fwd, scale);
        let hv = hvp(f, &x, &e).expect("shapes match").to_vec();
        for j in 0..n {
            close(
                &format!("hvp(e{i})[{j}] vs H[{j}][{i}]"),
                hv[j],
                h[j * n + i],
                scale,
            );
            close(
                &format!("H[{i}][{j}] vs H[{j}][{i}]"),
                h[i * n + j],
                h[j * n + i],
                scale,
            );
        }
    }
    let step = 1e-3;
    let shifted = |dir: &[f64], t: f64| -> Tensor<f64> {
        Tensor::vector(
            &x0.iter()
                .zip(dir)
                .map(|(x, d)| x + t * d)
                .collect::<Vec<_>>(),
        )
    };
    for i in 0..n {
        let e = unit(n, i).to_vec();
        let value_along = |t: f64| vec![value_and_grad(f, &shifted(&e, t)).expect("scalar").0];
        against_differences(
            &format!("gradient d/dx{i}"),
            &[grad[i]],
            &value_along,
            step,
            fx,
        );
    }
    // H v along a direction from the input against differences of gradients.
    let v: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { 1.0 } else { -0.5 })
        .collect();
    let hv = hvp(f, &x, &Tensor::vector(&v))
        .expect("shapes match")
        .to_vec();
    let grad_along = |t: f64| {
        value_and_grad(f, &shifted(&v, t))
            .expect("scalar")
            .1
            .to_vec()
    };
    against_differences("hvp", &hv, &grad_along, step, fx);
}
