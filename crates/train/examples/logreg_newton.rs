//! L2-regularized logistic regression on the Wisconsin breast-cancer data, solved to
//! `||∇f||_inf <= 1e-8` by Newton (exact Hessian from the graph), Newton-CG (Hessian-vector
//! products), L-BFGS and gradient descent.
//!
//! `cargo run --release -p nabla-train --example logreg_newton [LAMBDA]` (default 0.001; a
//! smaller penalty makes the problem worse conditioned and gradient descent slower).

use nabla_optim::{
    GradientDescent, Gtol, Lbfgs, Newton, NewtonCg, Options, Solver, StepRule, minimize,
};
use nabla_train::data::{Standardizer, breast_cancer};
use nabla_train::logreg::LogisticRegression;
use nabla_train::shuffle::train_test_split;

/// The split's seed.
const SEED: u64 = 42;
/// The default penalty.
const LAMBDA: f64 = 1e-3;
/// Gradient descent's iteration budget (it converges linearly, at a rate set by the condition
/// number of the Hessian).
const GD_BUDGET: usize = 20_000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lambda: f64 = match std::env::args().nth(1) {
        Some(a) => a
            .parse()
            .map_err(|_| format!("LAMBDA {a:?} is not a number"))?,
        None => LAMBDA,
    };
    let data = breast_cancer()?;
    let (train_idx, test_idx) = train_test_split(data.rows(), 0.2, SEED);
    let (train, test) = (data.select(&train_idx), data.select(&test_idx));
    let scaler = Standardizer::fit(&train);
    let (train, test) = (scaler.apply(&train), scaler.apply(&test));
    let problem = LogisticRegression::new(&train, lambda);
    let objective = problem.objective()?;
    println!(
        "breast cancer: {} training and {} test rows, {} standardized features + bias, lambda = {lambda}",
        train.rows(),
        test.rows(),
        train.features
    );
    println!("each solver from theta = 0 to |grad f|_inf <= 1e-8\n");
    println!(
        "{:<10} {:>10} {:>6} {:>7} {:>6} {:>9} {:>11} {:>22} {:>10}  status",
        "method", "iterations", "f+g", "hvp", "hess", "time ms", "us/iter", "f", "|g|inf"
    );
    let x0 = vec![0.0; problem.dim()];
    let mut solvers: Vec<(Box<dyn Solver>, usize)> = vec![
        (Box::new(Newton::default()), 1000),
        (Box::new(NewtonCg), 1000),
        (Box::new(Lbfgs::new(10)), 1000),
        (
            Box::new(GradientDescent::new(StepRule::StrongWolfe)),
            GD_BUDGET,
        ),
    ];
    let mut newton_theta = None;
    for (solver, budget) in &mut solvers {
        let options = Options {
            gtol: Gtol::Absolute(1e-8),
            max_iterations: *budget,
            max_evaluations: 10 * *budget,
            ..Options::default()
        };
        let r = minimize(&objective, solver.as_mut(), &x0, &options);
        let e = r.evaluations;
        let ms = r.elapsed.as_secs_f64() * 1e3;
        println!(
            "{:<10} {:>10} {:>6} {:>7} {:>6} {:>9.2} {:>11.1} {:>22.16e} {:>10.2e}  {}",
            r.solver,
            r.iterations,
            e.f_and_grad(),
            e.hvp,
            e.hessian,
            ms,
            ms * 1e3 / r.iterations.max(1) as f64,
            r.point.f,
            r.gradient_norm,
            r.status
        );
        if r.solver == "newton" {
            newton_theta = Some(r.point.x.clone());
        }
    }
    let theta = newton_theta.expect("Newton ran");
    println!(
        "\ntrain accuracy: {:.1}%",
        100.0 * problem.accuracy(&theta, &train)
    );
    println!(
        "test accuracy: {:.1}%",
        100.0 * problem.accuracy(&theta, &test)
    );
    Ok(())
}
