//! Every computation of the guide (gradients, backpropagation, Hessians and matrix calculus),
//! reproduced through the graph, not by hand. Each function returns the values the guide shows
//! together with what nabla computed, so a test can assert them and the `guide` example (and
//! later the CLI's tour) can print them.

use crate::{Graph, Tensor, Var, gradcheck, hessian};

/// Section 1: the first-order approximation of `f(x, y) = log(e^x + e^y)`.
#[derive(Clone, Debug)]
pub struct FirstOrder {
    /// `f(0, ln 2) + eps . grad f(0, ln 2)` with `eps = (0.01, -0.03)` (the guide: 1.0819456...).
    pub approximation: f64,
    /// `f(0.01, ln 2 - 0.03)` (the guide: 1.0821242...).
    pub true_value: f64,
    /// The gradient at `(0, ln 2)`.
    pub gradient: [f64; 2],
    /// `softmax(0, ln 2)`, which the gradient equals.
    pub softmax: [f64; 2],
}

/// Section 1 (and exercise 3).
pub fn first_order() -> FirstOrder {
    fn f<'g>(x: Var<'g, f64>, y: Var<'g, f64>) -> Var<'g, f64> {
        (x.exp() + y.exp()).log()
    }
    let g = Graph::<f64>::new();
    let (x, y) = (g.var(Tensor::scalar(0.0)), g.var(Tensor::scalar(2f64.ln())));
    let fxy = f(x, y);
    let grad = g.grad(fxy, &[x, y]).expect("scalar output");
    let gradient = [grad[0].item(), grad[1].item()];
    let eps = [0.01, -0.03];
    let approximation = fxy.value().item() + eps[0] * gradient[0] + eps[1] * gradient[1];
    let shifted = f(
        g.constant(Tensor::scalar(eps[0])),
        g.constant(Tensor::scalar(2f64.ln() + eps[1])),
    );
    let sm = g
        .constant(Tensor::vector(&[0.0, 2f64.ln()]))
        .softmax(0)
        .value();
    FirstOrder {
        approximation,
        true_value: shifted.value().item(),
        gradient,
        softmax: [sm.data()[0], sm.data()[1]],
    }
}

/// Section 2: a critical point of `f(x) = 3x^4 - 4x^3 - 12x^2`.
#[derive(Clone, Debug)]
pub struct CriticalPoint {
    /// The point.
    pub x: f64,
    /// `f(x)`.
    pub value: f64,
    /// `f'(x)` (zero at a critical point).
    pub gradient: f64,
    /// `f''(x)`: positive at a minimum, negative at a maximum.
    pub second_derivative: f64,
}

/// Section 2: value, gradient and second derivative at the critical points -1, 0 and 2.
pub fn critical_points() -> Vec<CriticalPoint> {
    [-1.0, 0.0, 2.0]
        .into_iter()
        .map(|x0| {
            let g = Graph::<f64>::new();
            let x = g.var(Tensor::scalar(x0));
            let f = x.powi(4) * 3.0 - x.powi(3) * 4.0 - x.powi(2) * 12.0;
            let d1 = g.grad_graph(f, &[x]).expect("scalar")[0];
            let d2 = g.grad(d1, &[x]).expect("scalar")[0].item();
            CriticalPoint {
                x: x0,
                value: f.value().item(),
                gradient: d1.value().item(),
                second_derivative: d2,
            }
        })
        .collect()
}

/// Section 2: one run of the guide's gradient descent, `w <- w - eps f'(w)`, on
/// `f(x) = 3x^4 - 4x^3 - 12x^2` with `f'` from the graph.
#[derive(Clone, Debug)]
pub struct Descent {
    /// The starting point.
    pub start: f64,
    /// The step size `eps`.
    pub learning_rate: f64,
    /// Steps taken (until `|f'| < 1e-12`, at most [`DESCENT_MAX_STEPS`]).
    pub steps: usize,
    /// Where it stopped.
    pub x: f64,
    /// `f(x)` there.
    pub value: f64,
    /// `f'(x)` there.
    pub gradient: f64,
    /// `f''(x)` there (positive: a minimum).
    pub second_derivative: f64,
    /// Whether no step raised `f` (beyond rounding): the descent direction at work.
    pub decreasing: bool,
}

/// The step budget of [`gradient_descent`].
pub const DESCENT_MAX_STEPS: usize = 10_000;

/// Section 2's algorithm run from `-2, -0.5, 0.5, 3` with `eps = 0.01` (below `2 / f''` at both
/// minima, 36 and 72, so it cannot overshoot them): starts left of the maximum at 0 reach the
/// local minimum -1 (f = -5), starts right of it the global minimum 2 (f = -32).
pub fn gradient_descent() -> Vec<Descent> {
    let learning_rate = 0.01;
    [-2.0, -0.5, 0.5, 3.0]
        .into_iter()
        .map(|start| {
            let mut g = Graph::<f64>::new();
            let mut grads = Vec::new();
            let (mut x, mut steps, mut decreasing) = (start, 0, true);
            let mut last = f64::INFINITY;
            loop {
                // One graph reused: each step records f and takes one reverse sweep.
                g.clear();
                let w = g.var(Tensor::scalar(x));
                let f = w.powi(4) * 3.0 - w.powi(3) * 4.0 - w.powi(2) * 12.0;
                let value = f.value().item();
                // Near the minimum the true decrease falls below rounding: allow an ulp or two.
                decreasing &= value <= last + 1e-14 * last.abs().max(1.0) || steps == 0;
                last = value;
                g.grad_into(f, &[w], &mut grads).expect("scalar");
                let d = grads[0].item();
                if d.abs() < 1e-12 || steps == DESCENT_MAX_STEPS {
                    let d1 = g.grad_graph(f, &[w]).expect("scalar")[0];
                    let d2 = g.grad(d1, &[w]).expect("scalar")[0].item();
                    return Descent {
                        start,
                        learning_rate,
                        steps,
                        x,
                        value,
                        gradient: d,
                        second_derivative: d2,
                        decreasing,
                    };
                }
                x -= learning_rate * d;
                steps += 1;
            }
        })
        .collect()
}

/// Sections 3 and 4: the chain-rule example at `(w, x, y, z) = (-1, 0, -2, 1)`.
#[derive(Clone, Debug)]
pub struct ChainRule {
    /// Intermediates `a, b, u, v, f` from the graph's forward pass.
    pub forward: [f64; 5],
    /// The same from the guide's manual forward pass.
    pub manual_forward: [f64; 5],
    /// `df/du, df/dv, du/da, du/db, dv/da, dv/db, da/dw, db/dw` from the graph (each a gradient
    /// of one intermediate with respect to another).
    pub partials: [f64; 8],
    /// The same from the guide's manual formulas.
    pub manual_partials: [f64; 8],
    /// `df/dw, df/dx, df/dy, df/dz` from one reverse sweep (the guide: all -4096).
    pub gradient: [f64; 4],
    /// `du/dw, dv/dw` from the graph (one reverse sweep from `u`, one from `v`).
    pub backward: [f64; 2],
    /// `du/dw, dv/dw` from the guide's manual backward pass.
    pub manual_backward: [f64; 2],
    /// `df/dw` from the guide's manual backward pass.
    pub manual_df_dw: f64,
}

/// Sections 3 and 4.
pub fn chain_rule() -> ChainRule {
    let (w0, x0, y0, z0) = (-1.0, 0.0, -2.0, 1.0);
    let g = Graph::<f64>::new();
    let [w, x, y, z] = [w0, x0, y0, z0].map(|v| g.var(Tensor::scalar(v)));
    let a = (w + x + y + z).powi(2);
    let b = (w + x - y - z).powi(2);
    let u = (a + b).powi(2);
    let v = (a - b).powi(2);
    let f = (u + v).powi(2);
    let d = |out: Var<'_, f64>, inp: Var<'_, f64>| g.grad(out, &[inp]).expect("scalar")[0].item();
    let partials = [
        d(f, u),
        d(f, v),
        d(u, a),
        d(u, b),
        d(v, a),
        d(v, b),
        d(a, w),
        d(b, w),
    ];
    let gradient = g
        .grad(f, &[w, x, y, z])
        .expect("scalar")
        .iter()
        .map(Tensor::item)
        .collect::<Vec<_>>();

    // The guide's manual computation, verbatim.
    let a0 = (w0 + x0 + y0 + z0) * (w0 + x0 + y0 + z0);
    let b0 = (w0 + x0 - y0 - z0) * (w0 + x0 - y0 - z0);
    let u0 = (a0 + b0) * (a0 + b0);
    let v0 = (a0 - b0) * (a0 - b0);
    let f0 = (u0 + v0) * (u0 + v0);
    let (df_du, df_dv) = (2.0 * (u0 + v0), 2.0 * (u0 + v0));
    let (du_da, du_db) = (2.0 * (a0 + b0), 2.0 * (a0 + b0));
    let (dv_da, dv_db) = (2.0 * (a0 - b0), -2.0 * (a0 - b0));
    let (da_dw, db_dw) = (2.0 * (w0 + x0 + y0 + z0), 2.0 * (w0 + x0 - y0 - z0));
    let du_dw = du_da * da_dw + du_db * db_dw;
    let dv_dw = dv_da * da_dw + dv_db * db_dw;
    ChainRule {
        forward: [a, b, u, v, f].map(|t| t.value().item()),
        manual_forward: [a0, b0, u0, v0, f0],
        partials,
        manual_partials: [df_du, df_dv, du_da, du_db, dv_da, dv_db, da_dw, db_dw],
        gradient: [gradient[0], gradient[1], gradient[2], gradient[3]],
        backward: [d(u, w), d(v, w)],
        manual_backward: [du_dw, dv_dw],
        manual_df_dw: df_du * du_dw + df_dv * dv_dw,
    }
}

/// Section 5: the Hessian and quadratic approximation of
/// `f(x, y, z) = e^x y + sin(y z) + x^2 z^3` at `(0.5, -1, 0.8)`.
#[derive(Clone, Debug)]
pub struct Quadratic {
    /// The Hessian from the graph (row-major 3 x 3).
    pub hessian: Vec<f64>,
    /// The analytic Hessian.
    pub analytic: Vec<f64>,
    /// `(step, |f(x0 + d) - quadratic model|, |f(x0 + d) - linear model|)` for steps shrinking
    /// by 10: the quadratic model's error falls like `step^3`, the linear one's like `step^2`.
    pub model_errors: Vec<(f64, f64, f64)>,
}

/// Section 5.
pub fn quadratic_approximation() -> Quadratic {
    fn f<'g>(v: Var<'g, f64>) -> Var<'g, f64> {
        let (x, y, z) = (v.at(0), v.at(1), v.at(2));
        x.exp() * y + (y * z).sin() + x * x * z.powi(3)
    }
    let p = [0.5f64, -1.0, 0.8];
    let x0 = Tensor::vector(&p);
    let h = hessian(f, &x0).expect("scalar");
    let (x, y, z) = (p[0], p[1], p[2]);
    let s = (y * z).sin();
    let analytic = vec![
        x.exp() * y + 2.0 * z.powi(3),
        x.exp(),
        6.0 * x * z * z,
        x.exp(),
        -z * z * s,
        (y * z).cos() - y * z * s,
        6.0 * x * z * z,
        (y * z).cos() - y * z * s,
        -y * y * s + 6.0 * x * x * z,
    ];
    let (f0, grad) = crate::value_and_grad(f, &x0).expect("scalar");
    let dir = [0.3, -0.5, 0.4];
    let model_errors = [1e-1, 1e-2, 1e-3]
        .into_iter()
        .map(|t| {
            let d: Vec<f64> = dir.iter().map(|c| c * t).collect();
            let xt = Tensor::vector(&[p[0] + d[0], p[1] + d[1], p[2] + d[2]]);
            let ft = crate::value_and_grad(f, &xt).expect("scalar").0;
            let lin = f0 + (0..3).map(|i| grad.data()[i] * d[i]).sum::<f64>();
            let quad = lin
                + 0.5
                    * (0..3)
                        .map(|i| {
                            (0..3)
                                .map(|j| d[i] * h.data()[i * 3 + j] * d[j])
                                .sum::<f64>()
                        })
                        .sum::<f64>();
            (t, (ft - quad).abs(), (ft - lin).abs())
        })
        .collect();
    Quadratic {
        hessian: h.to_vec(),
        analytic,
        model_errors,
    }
}

/// Section 6: a matrix-calculus identity, its autodiff gradient against the closed form and
/// against central differences.
#[derive(Clone, Debug)]
pub struct MatrixIdentity {
    /// The identity.
    pub name: &'static str,
    /// `max |autodiff - closed form|`.
    pub vs_closed_form: f64,
    /// `max |autodiff - central differences|` (the guide prints this "maximum difference").
    pub vs_differences: f64,
}

/// Section 6: `d(beta^T x)/dx = beta`, `d(x^T A x)/dx = (A + A^T) x` and
/// `d||X - UV||^2/dV = -2 U^T (X - UV)`, with the guide's sizes `n, m, r = 3, 4, 2`.
pub fn matrix_calculus() -> Vec<MatrixIdentity> {
    let max_diff = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max)
    };
    let beta = Tensor::<f64>::randn(&[4], 1);
    let x = Tensor::<f64>::randn(&[4], 2);
    let a = Tensor::<f64>::randn(&[4, 4], 3);
    let (n, m, r) = (3, 4, 2);
    let (xm, u, vm) = (
        Tensor::<f64>::randn(&[n, m], 4),
        Tensor::<f64>::randn(&[n, r], 5),
        Tensor::<f64>::randn(&[r, m], 6),
    );

    let mut out = Vec::new();
    // beta^T x
    let b2 = beta.clone();
    let rep = gradcheck(
        move |v| v[0].graph().constant(b2.clone()).dot(v[0]),
        std::slice::from_ref(&x),
        1e-6,
    )
    .expect("scalar");
    out.push(MatrixIdentity {
        name: "d(beta^T x)/dx = beta",
        vs_closed_form: max_diff(rep[0].autodiff.data(), beta.data()),
        vs_differences: rep[0].max_abs_error,
    });
    // x^T A x
    let a2 = a.clone();
    let rep = gradcheck(
        move |v| {
            v[0].reshape(&[1, 4])
                .matmul(v[0].graph().constant(a2.clone()))
                .matmul(v[0].reshape(&[4, 1]))
                .sum()
        },
        std::slice::from_ref(&x),
        1e-6,
    )
    .expect("scalar");
    let closed: Vec<f64> = (0..4)
        .map(|i| {
            (0..4)
                .map(|j| (a.get(&[i, j]) + a.get(&[j, i])) * x.data()[j])
                .sum()
        })
        .collect();
    out.push(MatrixIdentity {
        name: "d(x^T A x)/dx = (A + A^T) x",
        vs_closed_form: max_diff(rep[0].autodiff.data(), &closed),
        vs_differences: rep[0].max_abs_error,
    });
    // ||X - UV||^2 with respect to V
    let (x2, u2) = (xm.clone(), u.clone());
    let rep = gradcheck(
        move |v| {
            let g = v[0].graph();
            let d = g.constant(x2.clone()) - g.constant(u2.clone()).matmul(v[0]);
            (d * d).sum()
        },
        std::slice::from_ref(&vm),
        1e-6,
    )
    .expect("scalar");
    let g = Graph::<f64>::new();
    let (xc, uc, vc) = (g.constant(xm), g.constant(u), g.constant(vm));
    let closed = (uc.t().matmul(xc - uc.matmul(vc)) * -2.0).value();
    out.push(MatrixIdentity {
        name: "d||X - UV||^2/dV = -2 U^T (X - UV)",
        vs_closed_form: max_diff(rep[0].autodiff.data(), closed.data()),
        vs_differences: rep[0].max_abs_error,
    });
    out
}

/// The exercises' computations.
#[derive(Clone, Debug)]
pub struct Exercises {
    /// Exercise 1: `max |d(beta^T x)/dx - d(x^T beta)/dx|` (zero: the same function).
    pub transpose_gap: f64,
    /// Exercise 2: `max |d||v||/dv - v / ||v|||`.
    pub norm_gradient_gap: f64,
    /// Exercise 3: the components of the gradient of `log(e^x + e^y)` at `(0, ln 2)` sum to this.
    pub logsumexp_gradient_sum: f64,
    /// Exercise 4: gradient and Hessian of `x^2 y + x y^2` at the origin (all zero: the
    /// second-order test says nothing).
    pub origin_gradient: Vec<f64>,
    /// See [`Exercises::origin_gradient`].
    pub origin_hessian: Vec<f64>,
    /// Exercise 4 settled: `(t, f(t, t))` along the diagonal for `t = ±0.1, ±0.01, ±0.001`,
    /// from the graph. `f(t, t) = 2t^3` takes both signs arbitrarily close to `(0, 0)`, where
    /// `f = 0`: the origin is neither a minimum nor a maximum.
    pub origin_diagonal: Vec<(f64, f64)>,
    /// `"neither"` when [`Exercises::origin_diagonal`] has values both above and below
    /// `f(0, 0)` (so no neighbourhood of the origin has it as its minimum or maximum).
    pub origin_kind: &'static str,
}

/// Exercise 5: at a minimum of `f = g + h`, `grad f = grad g + grad h = 0`, so
/// `grad g = -grad h`: the two gradients are equal in length and opposite in direction (the
/// level sets of `g` and `h` through the point are tangent, and a step that lowers one raises
/// the other by as much, to first order).
#[derive(Clone, Debug)]
pub struct SumMinimum {
    /// The minimizer of `g + h`, found by gradient descent on the graph's gradients.
    pub point: [f64; 2],
    /// Gradient-descent steps taken.
    pub steps: usize,
    /// `grad g` there.
    pub grad_g: [f64; 2],
    /// `grad h` there.
    pub grad_h: [f64; 2],
    /// `|grad g + grad h|` there (`|grad f|`: zero at the minimum).
    pub sum_norm: f64,
    /// The cosine of the angle between `grad g` and `grad h` there (-1: opposite).
    pub cosine: f64,
    /// `|grad g + grad h|` at the start, for contrast (not zero: away from the minimum the
    /// gradients do not cancel).
    pub start_sum_norm: f64,
}

/// Exercise 5 with `g(x) = |x - a|^2 / 2`, `a = (1, -2)` and `h(x) = log(e^x0 + e^x1)` (exercise
/// 3's function), whose sum is strongly convex: one minimum, where `x - a = -softmax(x)`.
pub fn sum_minimum() -> SumMinimum {
    fn parts<'g>(v: Var<'g, f64>) -> (Var<'g, f64>, Var<'g, f64>) {
        let a = v.graph().constant(Tensor::vector(&[1.0, -2.0]));
        let d = v - a;
        ((d * d).sum() * 0.5, v.logsumexp(0, false))
    }
    // grad g and grad h at `x`, each from its own reverse sweep.
    let grads = |x: [f64; 2]| {
        let g = Graph::<f64>::new();
        let v = g.var(Tensor::vector(&x));
        let (gv, hv) = parts(v);
        let gg = g.grad(gv, &[v]).expect("scalar")[0].to_vec();
        let gh = g.grad(hv, &[v]).expect("scalar")[0].to_vec();
        ([gg[0], gg[1]], [gh[0], gh[1]])
    };
    let norm = |p: [f64; 2]| p[0].hypot(p[1]);
    let start = [3.0, 1.0];
    let (gg, gh) = grads(start);
    let start_sum_norm = norm([gg[0] + gh[0], gg[1] + gh[1]]);
    // Gradient descent on f = g + h (its Hessian is at most 1.25 I: eps = 0.5 is stable).
    let (mut x, mut steps) = (start, 0);
    let mut fg = Vec::new();
    let mut g = Graph::<f64>::new();
    while steps < DESCENT_MAX_STEPS {
        g.clear();
        let v = g.var(Tensor::vector(&x));
        let (gv, hv) = parts(v);
        g.grad_into(gv + hv, &[v], &mut fg).expect("scalar");
        let d = fg[0].data();
        if norm([d[0], d[1]]) < 1e-14 {
            break;
        }
        x = [x[0] - 0.5 * d[0], x[1] - 0.5 * d[1]];
        steps += 1;
    }
    let (grad_g, grad_h) = grads(x);
    SumMinimum {
        point: x,
        steps,
        grad_g,
        grad_h,
        sum_norm: norm([grad_g[0] + grad_h[0], grad_g[1] + grad_h[1]]),
        cosine: (grad_g[0] * grad_h[0] + grad_g[1] * grad_h[1]) / (norm(grad_g) * norm(grad_h)),
        start_sum_norm,
    }
}

/// The exercises.
pub fn exercises() -> Exercises {
    let beta = Tensor::<f64>::randn(&[5], 7);
    let x = Tensor::<f64>::randn(&[5], 8);
    let g = Graph::<f64>::new();
    let (b, xv) = (g.constant(beta.clone()), g.var(x.clone()));
    let g1 = g
        .grad(b.reshape(&[1, 5]).matmul(xv.reshape(&[5, 1])).sum(), &[xv])
        .expect("scalar");
    let g2 = g
        .grad(xv.reshape(&[1, 5]).matmul(b.reshape(&[5, 1])).sum(), &[xv])
        .expect("scalar");
    let transpose_gap = g1[0]
        .data()
        .iter()
        .zip(g2[0].data())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max);
    let norm = x.data().iter().map(|v| v * v).sum::<f64>().sqrt();
    let gn = g.grad(xv.l2_norm(), &[xv]).expect("scalar");
    let norm_gradient_gap = gn[0]
        .data()
        .iter()
        .zip(x.data())
        .map(|(d, v)| (d - v / norm).abs())
        .fold(0.0, f64::max);
    let first = first_order();
    fn f<'g>(v: Var<'g, f64>) -> Var<'g, f64> {
        let (x, y) = (v.at(0), v.at(1));
        x * x * y + x * y * y
    }
    let origin = Tensor::vector(&[0.0, 0.0]);
    let at = |p: [f64; 2]| {
        let g = Graph::<f64>::new();
        f(g.constant(Tensor::vector(&p))).value().item()
    };
    let f0 = at([0.0, 0.0]);
    let origin_diagonal: Vec<(f64, f64)> = [0.1, -0.1, 0.01, -0.01, 0.001, -0.001]
        .into_iter()
        .map(|t| (t, at([t, t])))
        .collect();
    let above = origin_diagonal.iter().any(|&(_, v)| v > f0);
    let below = origin_diagonal.iter().any(|&(_, v)| v < f0);
    let origin_kind = if above && below {
        "neither"
    } else {
        "undecided along the diagonal"
    };
    Exercises {
        transpose_gap,
        norm_gradient_gap,
        logsumexp_gradient_sum: first.gradient[0] + first.gradient[1],
        origin_gradient: crate::value_and_grad(f, &origin)
            .expect("scalar")
            .1
            .to_vec(),
        origin_hessian: hessian(f, &origin).expect("scalar").to_vec(),
        origin_diagonal,
        origin_kind,
    }
}
