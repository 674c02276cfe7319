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
    Exercises {
        transpose_gap,
        norm_gradient_gap,
        logsumexp_gradient_sum: first.gradient[0] + first.gradient[1],
        origin_gradient: crate::value_and_grad(f, &origin)
            .expect("scalar")
            .1
            .to_vec(),
        origin_hessian: hessian(f, &origin).expect("scalar").to_vec(),
    }
}
