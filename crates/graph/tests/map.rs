//! `Graph::map_sum`: the fused node against an f64 scalar loop, finite differences, the unfused
//! composition, and analytic second and third derivatives.
//!
//! Tolerances: in `f64`, the fused value and partials are chains of a few operations each within
//! 2-3 ULP, amplified by the chain's condition number (`1 + |z|` for the logistic loss, `z = y w
//! x`; at most about 10 here), so `64 eps` relative per element; sums add the pairwise-sum bound
//! (`~20 eps sum |f|` at these sizes). Central differences with step `h = 1e-5` have truncation
//! error `h^2 |f'''| / 6` and rounding error `eps |f| / h`: about `1e-10` here, checked to `1e-7`.

#![allow(clippy::needless_range_loop)] // index loops over parallel arrays read best here
use nabla_graph::{Graph, GraphError, MapFn, Real, Tensor, Var, func, hessian, hvp};
use proptest::prelude::*;

#[derive(Clone)]
struct Logistic;
impl MapFn for Logistic {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).softplus()
    }
}

/// As the peers write it.
#[derive(Clone)]
struct LogisticLiteral;
impl MapFn for LogisticLiteral {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).exp().log1p()
    }
}

/// A chain with a quotient, a root and tanh: `tanh(a b) + sqrt(a^2 + 1) / (b^2 + 2)`.
#[derive(Clone)]
struct Mixed;
impl MapFn for Mixed {
    const ARITY: usize = 2;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        let (x, y) = (a[0], a[1]);
        (x * y).tanh() + (x * x + x.constant(1.0)).sqrt() / (y * y + y.constant(2.0))
    }
}

fn data(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

fn labels(n: usize, seed: u64) -> Vec<f64> {
    data(n, seed, -1.0, 1.0)
        .into_iter()
        .map(|v| if v < 0.0 { -1.0 } else { 1.0 })
        .collect()
}

/// The scalar reference: value and d/dw of log(1 + exp(-y w x)) in plain f64.
fn logistic_ref(w: &[f64], x: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let mut sum = 0.0;
    let mut grad = Vec::with_capacity(w.len());
    for i in 0..w.len() {
        let z = -y[i] * w[i] * x[i];
        sum += z.max(0.0) + (-z.abs()).exp().ln_1p();
        grad.push(-y[i] * x[i] / (1.0 + (-z).exp()));
    }
    (sum, grad)
}

fn vec_t(v: &[f64]) -> Tensor<f64> {
    Tensor::from_vec(v.to_vec(), &[v.len()]).unwrap()
}

/// Logistic-loss data: weights and inputs in `[-r, r)` and labels `+-1`, from seeds `seed`,
/// `seed + 1`, `seed + 2`.
fn logistic_data(n: usize, seed: u64, r: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    (
        data(n, seed, -r, r),
        data(n, seed + 1, -r, r),
        labels(n, seed + 2),
    )
}

/// `w` as a variable, `x` and `y` as constants of `g`.
fn record<'g>(g: &'g Graph<f64>, w: &[f64], x: &[f64], y: &[f64]) -> [Var<'g, f64>; 3] {
    [g.var(vec_t(w)), g.constant(vec_t(x)), g.constant(vec_t(y))]
}

fn check_logistic<F: MapFn + Clone + Send + Sync + 'static>(f: &F, n: usize, seed: u64) {
    let (w, x, y) = logistic_data(n, seed, 3.0);
    let (want, want_grad) = logistic_ref(&w, &x, &y);
    let g = Graph::<f64>::new();
    let [wv, xv, yv] = record(&g, &w, &x, &y);
    let loss = g.map_sum(f, &[wv, xv, yv]);
    let eps = f64::EPSILON;
    let abs_sum: f64 = (0..n)
        .map(|i| {
            let z = y[i] * w[i] * x[i];
            (z.max(0.0) + (-z.abs()).exp().ln_1p()) * (1.0 + z.abs())
        })
        .sum();
    let got = loss.value().item();
    assert!(
        (got - want).abs() <= 64.0 * eps * abs_sum,
        "n = {n}: {got} vs {want}"
    );
    let grad = g.grad(loss, &[wv]).unwrap().remove(0);
    assert_eq!(grad.shape(), &[n]);
    for i in 0..n {
        let z = (y[i] * w[i] * x[i]).abs();
        let tol = 64.0 * eps * (1.0 + z) * want_grad[i].abs() + 1e-300;
        assert!(
            (grad.data()[i] - want_grad[i]).abs() <= tol,
            "n = {n}, i = {i}: {} vs {}",
            grad.data()[i],
            want_grad[i]
        );
    }
}

#[test]
fn value_and_gradient_against_a_scalar_loop() {
    for &n in &[1usize, 2, 17, 4096, 4097, 20_000] {
        check_logistic(&Logistic, n, n as u64);
        check_logistic(&LogisticLiteral, n, n as u64 + 7);
    }
}

#[test]
fn empty_inputs_give_zero_and_empty_gradients() {
    let g = Graph::<f32>::new();
    let e = || Tensor::<f32>::from_vec(vec![], &[0]).unwrap();
    let (w, x, y) = (g.var(e()), g.constant(e()), g.constant(e()));
    let loss = g.map_sum(&Logistic, &[w, x, y]);
    assert_eq!(loss.value().item(), 0.0);
    assert_eq!(g.grad(loss, &[w]).unwrap()[0].shape(), &[0]);
}

#[test]
fn matches_the_unfused_composition_and_central_differences() {
    let n = 300;
    let (a, b) = (data(n, 3, -2.0, 2.0), data(n, 4, -2.0, 2.0));
    let g = Graph::<f64>::new();
    let (av, bv) = (g.var(vec_t(&a)), g.var(vec_t(&b)));
    let fused = g.map_sum(&Mixed, &[av, bv]);
    let unfused = Mixed.eval(&[av, bv]).sum();
    let fg = g.grad(fused, &[av, bv]).unwrap();
    let ug = g.grad(unfused, &[av, bv]).unwrap();
    let eps = f64::EPSILON;
    assert!((fused.value().item() - unfused.value().item()).abs() <= 64.0 * eps * n as f64);
    for k in 0..2 {
        for i in 0..n {
            // Terms of size <= 2: 64 eps absolute.
            assert!(
                (fg[k].data()[i] - ug[k].data()[i]).abs() <= 64.0 * eps,
                "{k} {i}"
            );
        }
    }
    // Central differences on a few coordinates.
    let f = |a: &[f64], b: &[f64]| {
        (0..n)
            .map(|i| (a[i] * b[i]).tanh() + (a[i] * a[i] + 1.0).sqrt() / (b[i] * b[i] + 2.0))
            .sum::<f64>()
    };
    let h = 1e-5;
    for &i in &[0usize, 7, 150, 299] {
        let (mut ap, mut am) = (a.clone(), a.clone());
        ap[i] += h;
        am[i] -= h;
        let fd = (f(&ap, &b) - f(&am, &b)) / (2.0 * h);
        assert!(
            (fg[0].data()[i] - fd).abs() <= 1e-7,
            "{i}: {} vs {fd}",
            fg[0].data()[i]
        );
        let (mut bp, mut bm) = (b.clone(), b.clone());
        bp[i] += h;
        bm[i] -= h;
        let fd = (f(&a, &bp) - f(&a, &bm)) / (2.0 * h);
        assert!(
            (fg[1].data()[i] - fd).abs() <= 1e-7,
            "{i}: {} vs {fd}",
            fg[1].data()[i]
        );
    }
}

#[test]
fn the_gradient_is_the_kept_partial_shared_and_scaled_by_the_adjoint() {
    let n = 1000;
    let (w, x, y) = logistic_data(n, 5, 1.0);
    let g = Graph::<f64>::new();
    let [wv, xv, yv] = record(&g, &w, &x, &y);
    let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
    let g1 = g.grad(loss, &[wv]).unwrap().remove(0);
    let g2 = g.grad(loss, &[wv]).unwrap().remove(0);
    // Adjoint 1: both are the node's partials, not copies.
    assert_eq!(g1.data().as_ptr(), g2.data().as_ptr());
    // Adjoint 3: scaled (exactly: one multiplication by 3 each).
    let g3 = g.grad(loss * 3.0, &[wv]).unwrap().remove(0);
    for i in 0..n {
        assert_eq!(g3.data()[i], g1.data()[i] * 3.0);
    }
    // A gradient w.r.t. an input that did not require one at record time: one more fused pass.
    let gx = g.grad(loss, &[xv]).unwrap().remove(0);
    let (_, gw_ref) = logistic_ref(&x, &w, &y); // symmetric in w and x
    for i in 0..n {
        assert!((gx.data()[i] - gw_ref[i]).abs() <= 1e-14, "{i}");
    }
}

/// d^2/dw^2 log(1 + exp(-y w x)) = (y x)^2 s (1 - s), s = sigmoid(-y w x); the Hessian of the sum
/// is diagonal.
#[test]
fn hessian_and_hvp_are_exact() {
    let n = 6;
    let (x, y) = (data(n, 8, -2.0, 2.0), labels(n, 9));
    let w = data(n, 10, -2.0, 2.0);
    let (xc, yc) = (x.clone(), y.clone());
    let f = func(move |wv| {
        let g = wv.graph();
        let xv = g.constant(vec_t(&xc));
        let yv = g.constant(vec_t(&yc));
        g.map_sum(&Logistic, &[wv, xv, yv])
    });
    let h = hessian(&f, &vec_t(&w)).unwrap();
    let v = data(n, 11, -1.0, 1.0);
    let hv = hvp(&f, &vec_t(&w), &vec_t(&v)).unwrap();
    for i in 0..n {
        let z = -y[i] * w[i] * x[i];
        let s = 1.0 / (1.0 + (-z).exp());
        let d2 = (y[i] * x[i]).powi(2) * s * (1.0 - s);
        for j in 0..n {
            let want = if i == j { d2 } else { 0.0 };
            assert!((h.data()[i * n + j] - want).abs() <= 1e-15, "H[{i},{j}]");
        }
        assert!((hv.data()[i] - d2 * v[i]).abs() <= 1e-15, "Hv[{i}]");
    }
}

/// Third derivative through two recorded gradients: d^3/dw^3 = -(y x)^3 s (1 - s)(1 - 2s).
#[test]
fn third_derivative() {
    let (w, x, y) = (0.7f64, -1.3f64, 1.0f64);
    let g = Graph::<f64>::new();
    let wv = g.var(Tensor::vector(&[w]));
    let (xv, yv) = (
        g.constant(Tensor::vector(&[x])),
        g.constant(Tensor::vector(&[y])),
    );
    let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
    let d1 = g.grad_graph(loss, &[wv]).unwrap()[0].sum();
    let d2 = g.grad_graph(d1, &[wv]).unwrap()[0].sum();
    let d3 = g.grad(d2, &[wv]).unwrap()[0].data()[0];
    let s = 1.0 / (1.0 + (y * w * x).exp());
    let want = -(y * x).powi(3) * s * (1.0 - s) * (1.0 - 2.0 * s);
    assert!((d3 - want).abs() <= 1e-14, "{d3} vs {want}");
}

#[test]
fn forward_mode_through_map_sum() {
    let n = 50;
    let (w, x, y) = logistic_data(n, 12, 1.0);
    let t = data(n, 15, -1.0, 1.0);
    let g = Graph::<f64>::new();
    let [wv, xv, yv] = record(&g, &w, &x, &y);
    let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
    let tv = g.constant(vec_t(&t));
    let jv = g
        .jvp_graph(loss, &[wv], &[tv], false)
        .unwrap()
        .value()
        .item();
    let (_, grad) = logistic_ref(&w, &x, &y);
    let want: f64 = grad.iter().zip(&t).map(|(a, b)| a * b).sum();
    assert!((jv - want).abs() <= 1e-14, "{jv} vs {want}");
}

#[test]
fn f32_inputs_and_no_grad() {
    let n = 5000;
    let (w, x, y) = logistic_data(n, 16, 3.0);
    let t = |v: &[f64]| Tensor::from_vec(v.iter().map(|&a| a as f32).collect(), &[n]).unwrap();
    let g = Graph::<f32>::new();
    let (wv, xv, yv) = (g.var(t(&w)), g.constant(t(&x)), g.constant(t(&y)));
    let loss = g.map_sum(&Logistic, &[wv, xv, yv]);
    let unfused = (-(yv * wv * xv)).softplus().sum();
    let (a, b) = (loss.value().item() as f64, unfused.value().item() as f64);
    // Two f32 evaluations with different summation orders: ~64 eps_f32 relative on positive terms.
    assert!(
        (a - b).abs() <= 64.0 * f32::EPSILON as f64 * a,
        "{a} vs {b}"
    );
    // Under no_grad nothing is recorded (and no partials are computed).
    let before = g.len();
    let v = g.no_grad(|| g.map_sum(&Logistic, &[wv, xv, yv]));
    assert_eq!(g.len(), before + 1);
    assert_eq!(v.value().item(), loss.value().item());
    assert_eq!(
        g.grad(v, &[wv]).unwrap()[0]
            .data()
            .iter()
            .filter(|&&d| d != 0.0)
            .count(),
        0
    );
}

#[test]
fn errors_name_the_shapes() {
    let g = Graph::<f64>::new();
    let a = g.var(Tensor::vector(&[1.0, 2.0]));
    let b = g.var(Tensor::vector(&[1.0, 2.0, 3.0]));
    assert_eq!(
        g.try_map_sum(&Logistic, &[a, b, a]).unwrap_err(),
        GraphError::ShapeMismatch {
            op: "map_sum",
            lhs: vec![2],
            rhs: vec![3]
        }
    );
    assert!(matches!(
        g.try_map_sum(&Logistic, &[a, a]),
        Err(GraphError::Invalid { op: "map_sum", .. })
    ));
    let other = Graph::<f64>::new();
    let c = other.var(Tensor::vector(&[1.0, 2.0]));
    assert_eq!(
        g.try_map_sum(&Logistic, &[a, a, c]).unwrap_err(),
        GraphError::ForeignVar
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn random_lengths(n in 1usize..6000, seed in 0u64..10_000) {
        check_logistic(&Logistic, n, seed);
    }
}
