//! Logistic regression on the breast-cancer data: Newton converges in few iterations to a
//! classifier that generalizes, and the other solvers reach the same minimum.

use nabla_optim::{Gtol, Lbfgs, Newton, NewtonCg, Objective, Options, minimize};
use nabla_train::data::{Standardizer, breast_cancer};
use nabla_train::logreg::LogisticRegression;
use nabla_train::shuffle::train_test_split;

fn problem(lambda: f64) -> (LogisticRegression, nabla_train::data::Dataset) {
    let data = breast_cancer().unwrap();
    let (train, test) = train_test_split(data.rows(), 0.2, 42);
    let (train, test) = (data.select(&train), data.select(&test));
    let s = Standardizer::fit(&train);
    (
        LogisticRegression::new(&s.apply(&train), lambda),
        s.apply(&test),
    )
}

fn options() -> Options {
    Options {
        gtol: Gtol::Absolute(1e-8),
        ..Options::default()
    }
}

#[test]
fn newton_converges_in_few_iterations_and_generalizes() {
    let (p, test) = problem(1e-3);
    let f = p.objective().unwrap();
    let x0 = vec![0.0; p.dim()];
    let r = minimize(&f, &mut Newton::default(), &x0, &options());
    assert!(r.converged(), "{}", r.status);
    assert!(
        r.iterations <= 15,
        "Newton took {} iterations",
        r.iterations
    );
    assert!(r.gradient_norm <= 1e-8);
    let acc = p.accuracy(&r.point.x, &test);
    assert!(acc >= 0.95, "test accuracy {acc}");

    // Newton-CG and L-BFGS find the same minimum (f agrees to rounding, θ to ~1e-7).
    for r2 in [
        minimize(&f, &mut NewtonCg, &x0, &options()),
        minimize(&f, &mut Lbfgs::new(10), &x0, &options()),
    ] {
        assert!(r2.converged(), "{}: {}", r2.solver, r2.status);
        assert!((r2.point.f - r.point.f).abs() <= 1e-12, "{}", r2.solver);
        let dx = r2
            .point
            .x
            .iter()
            .zip(&r.point.x)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(dx < 1e-5, "{}: max |Δθ| {dx}", r2.solver);
    }
}

#[test]
fn objective_matches_a_hand_written_loss_and_gradient() {
    let (p, _) = problem(0.5);
    let f = p.objective().unwrap();
    let data = breast_cancer().unwrap();
    // θ = (0.01, 0.02, ..., 0.30, b = -0.1): the closed forms of f and ∇f.
    let theta: Vec<f64> = (1..=30).map(|i| i as f64 / 100.0).chain([-0.1]).collect();
    let mut g = vec![0.0; 31];
    let v = f.value_grad(&theta, &mut g);
    // Rebuild the standardized training set the same way.
    let (train, _) = train_test_split(data.rows(), 0.2, 42);
    let train = data.select(&train);
    let train = Standardizer::fit(&train).apply(&train);
    let n = train.rows() as f64;
    let (mut want, mut want_g) = (0.0, vec![0.0; 31]);
    for i in 0..train.rows() {
        let z: f64 = train
            .row(i)
            .iter()
            .zip(&theta)
            .map(|(x, w)| x * w)
            .sum::<f64>()
            + theta[30];
        let y = train.y[i] as f64;
        want += ((-z.abs()).exp().ln_1p() + z.max(0.0) - y * z) / n;
        let r = 1.0 / (1.0 + (-z).exp()) - y;
        for (wg, x) in want_g.iter_mut().zip(train.row(i)) {
            *wg += r * x / n;
        }
        want_g[30] += r / n;
    }
    want += 0.25 * theta[..30].iter().map(|w| w * w).sum::<f64>();
    for (wg, w) in want_g.iter_mut().zip(&theta[..30]) {
        *wg += 0.5 * w;
    }
    assert!((v - want).abs() <= 1e-12 * want.abs(), "{v} vs {want}");
    for (a, b) in g.iter().zip(&want_g) {
        assert!((a - b).abs() <= 1e-12, "{a} vs {b}");
    }
}
