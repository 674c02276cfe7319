//! nabla-optim on the More-Garbow-Hillstrom suite: prints the table (solved out of 37,
//! median f+g evaluations over the solved cases, false successes), gradient descent's iteration
//! counts on Rosenbrock (the guide's section 2), and criterion timings of L-BFGS and Newton-CG on
//! extended Rosenbrock with n = 10,000.
//!
//! `cargo bench -p nabla-benches --bench optim`  (`-- --table-only` skips the timings;
//! `-- --verbose` prints every run)

use criterion::Criterion;
use nabla_optim::problems::{mgh_problems, problem};
use nabla_optim::suite::{Outcome, median_evaluations, methods, run, suite_options};
use nabla_optim::{
    GradientDescent, Lbfgs, Momentum, NewtonCg, Options, Solver, StepRule, minimize,
};
use std::hint::black_box;

fn table(verbose: bool) {
    let problems = mgh_problems();
    let opts = suite_options();
    println!(
        "\nMGH suite: {} cases, gradient test |g|inf <= 1e-6, f within 1e-6 of best known",
        problems.len()
    );
    println!(
        "{:<20} {:>8} {:>14} {:>8} {:>10}",
        "method", "solved", "median f+g", "false", "time (s)"
    );
    for m in methods() {
        let start = std::time::Instant::now();
        let outcomes: Vec<Outcome> = problems.iter().map(|p| run(p, &m, &opts)).collect();
        let refs: Vec<&Outcome> = outcomes.iter().collect();
        let solved = outcomes.iter().filter(|o| o.solved).count();
        let false_successes = outcomes.iter().filter(|o| o.false_success).count();
        let median = median_evaluations(&refs).map_or("-".to_string(), |m| format!("{m:.1}"));
        println!(
            "{:<20} {:>5}/{:<2} {:>14} {:>8} {:>10.2}",
            m.name,
            solved,
            problems.len(),
            median,
            false_successes,
            start.elapsed().as_secs_f64()
        );
        for o in outcomes.iter().filter(|o| verbose || !o.solved) {
            match &o.report {
                Some(r) => println!(
                    "    {} {:<22} f = {:<12.6e} |g| = {:<9.2e} it = {:<5} f+g = {:<6} hvp = {:<6} H = {:<5} {:>8.1} ms  {}",
                    if o.solved { "ok  " } else { "FAIL" },
                    o.problem,
                    r.point.f,
                    r.gradient_norm,
                    r.iterations,
                    r.evaluations.f_and_grad(),
                    r.evaluations.hvp,
                    r.evaluations.hessian,
                    r.elapsed.as_secs_f64() * 1e3,
                    r.status
                ),
                None => println!("    skip {:<22} (n above the method's max_n)", o.problem),
            }
        }
    }
}

fn gradient_descent_on_rosenbrock() {
    let p = problem("rosenbrock_2").expect("rosenbrock_2");
    let opts = Options {
        max_iterations: 200_000,
        max_evaluations: 10_000_000,
        ..Options::default()
    };
    println!(
        "\nGradient descent on Rosenbrock from (-1.2, 1), gtol 1e-8, budget 200,000 iterations:"
    );
    let runs: Vec<(&str, Box<dyn Solver>)> = vec![
        (
            "fixed step 1e-3",
            Box::new(GradientDescent::new(StepRule::Fixed(1e-3))),
        ),
        (
            "Armijo backtracking",
            Box::new(GradientDescent::new(StepRule::Armijo)),
        ),
        (
            "strong Wolfe",
            Box::new(GradientDescent::new(StepRule::StrongWolfe)),
        ),
        (
            "Nesterov 1e-3, 0.9",
            Box::new(Momentum::nesterov(1e-3, 0.9)),
        ),
        (
            "heavy ball 1e-3, 0.9",
            Box::new(Momentum::heavy_ball(1e-3, 0.9)),
        ),
    ];
    for (name, mut s) in runs {
        let r = minimize(&p, s.as_mut(), &p.x0, &opts);
        println!(
            "    {:<22} iterations = {:>7}  f+g evals = {:>7}  f = {:.3e}  {}",
            name,
            r.iterations,
            r.evaluations.f_and_grad(),
            r.point.f,
            r.status
        );
    }
}

fn timings(c: &mut Criterion) {
    let p = problem("ext_rosenbrock_10000").expect("ext_rosenbrock_10000");
    let opts = Options::default();
    let r = minimize(&p, &mut Lbfgs::default(), &p.x0, &opts);
    println!(
        "\next_rosenbrock_10000: L-BFGS {} in {} iterations, {} f+g evals; Newton-CG below",
        r.status,
        r.iterations,
        r.evaluations.f_and_grad()
    );
    let r = minimize(&p, &mut NewtonCg, &p.x0, &opts);
    println!(
        "ext_rosenbrock_10000: Newton-CG {} in {} iterations, {} f+g evals, {} hvp",
        r.status,
        r.iterations,
        r.evaluations.f_and_grad(),
        r.evaluations.hvp
    );
    c.bench_function("optim/lbfgs_ext_rosenbrock_10000", |b| {
        b.iter(|| black_box(minimize(&p, &mut Lbfgs::default(), &p.x0, &opts)))
    });
    c.bench_function("optim/newton_cg_ext_rosenbrock_10000", |b| {
        b.iter(|| black_box(minimize(&p, &mut NewtonCg, &p.x0, &opts)))
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    table(verbose);
    gradient_descent_on_rosenbrock();
    if !args.iter().any(|a| a == "--table-only") {
        let mut c = Criterion::default().configure_from_args();
        timings(&mut c);
        c.final_summary();
    }
}
