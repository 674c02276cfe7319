//! Every method on the 37 More-Garbow-Hillstrom cases, scored by the bar (see
//! `nabla_optim::suite`): no false successes ever; the cases each method fails are named (so a
//! regression anywhere else fails this test); medians of f+g evaluations within the bar.
//!
//! The solved-count bars are met: trust-region Newton-CG 36/37, dense Newton 35/37
//! (the exact trust region: 34/37), BFGS 34/37 and L-BFGS 34/37 (35 measured). Every
//! method fails Freudenstein-Roth (it converges to the known local minimum 48.98, a true
//! minimizer that passes the gradient test). Biggs EXP6's standard start lies on the subspace
//! `x1 = x5, x3 = x6` that the function's symmetry preserves, so gradient iterates stay on it
//! and converge to `f = 5.66e-3`, a saddle of the whole space (Hessian eigenvalue -0.0098); the
//! matrix-free second-order methods (Steihaug's trust region, Newton-CG) leave it along
//! negative curvature found by Lanczos (`Options::escape_saddles`) and reach `f = 0`; BFGS and
//! L-BFGS cannot see it; Newton and the exact trust region take another path, into a valley
//! where `x3, x4, x6` grow without bound and `f` falls towards about 0.2427 (Hessian eigenvalues
//! down to `1e-15`). The exact trust region and BFGS skip the 10,000-variable case; Newton
//! solves it, factoring the banded Hessian in band form.
//!
//! Meyer is solved by every method: its gradient is evaluated to its last bit (double-double,
//! see `nabla_optim::problems`), the methods reach `f*` and stall with `|g|` between `6e-5` and
//! `3e-3` because one ulp of a coordinate moves `∂f/∂x1` by `2e-4..3e-3`, and the executor's grid
//! polish (`nabla_optim::polish`) then picks a nearby `f64` point that passes `1e-6`
//! (`tests/meyer.rs` shows each method with it off and on).

use nabla_optim::Lbfgs;
use nabla_optim::problems::{mgh_problems, problem};
use nabla_optim::suite::{Outcome, median_evaluations, methods, run, suite_options};
use nabla_optim::{NewtonCg, Objective, Options, minimize};

const HARD: [&str; 2] = ["freudenstein_roth", "biggs_exp6"];

/// The methods that solve Biggs EXP6 (by leaving the symmetric saddle, see above).
const SOLVE_BIGGS: [&str; 2] = ["trust-region-cg", "newton-cg"];

#[test]
fn every_method_on_the_suite() {
    let problems = mgh_problems();
    assert_eq!(problems.len(), 37);
    let opts = suite_options();
    // (method, bar on the median f+g evaluations over solved cases, solved count: the issue's
    // bar for the methods it names, the measured count for the others)
    let bars = [
        ("trust-region-cg", 40.0, 36),
        ("trust-region-exact", 30.0, 34),
        ("newton", 30.0, 35),
        ("newton-cg", 90.0, 36),
        ("bfgs", 90.0, 34),
        ("lbfgs", 90.0, 34),
    ];
    for m in methods() {
        let outcomes: Vec<Outcome> = problems.iter().map(|p| run(p, &m, &opts)).collect();
        for o in &outcomes {
            assert!(
                !o.false_success,
                "{} reported convergence on {} at a point failing the gradient test",
                m.name, o.problem
            );
            let skipped = o.report.is_none();
            let may_fail = HARD.contains(&o.problem)
                && !(o.problem == "biggs_exp6" && SOLVE_BIGGS.contains(&m.name));
            assert!(
                o.solved || may_fail || skipped,
                "{} failed {}: {:?}",
                m.name,
                o.problem,
                o.report
                    .as_ref()
                    .map(|r| (r.point.f, r.gradient_norm, r.status.clone()))
            );
        }
        let refs: Vec<&Outcome> = outcomes.iter().collect();
        let median = median_evaluations(&refs).unwrap();
        let &(_, bar, solved_bar) = bars.iter().find(|(n, _, _)| *n == m.name).unwrap();
        assert!(
            median <= bar,
            "{}: median {median} f+g evaluations, bar {bar}",
            m.name
        );
        let solved = outcomes.iter().filter(|o| o.solved).count();
        assert!(
            solved >= solved_bar,
            "{}: {solved}/37 solved, bar {solved_bar}",
            m.name
        );
    }
}

#[test]
fn extended_rosenbrock_10000() {
    let p = problem("ext_rosenbrock_10000").unwrap();
    assert_eq!(p.dim(), 10_000);
    let r = minimize(&p, &mut Lbfgs::default(), &p.x0, &Options::default());
    assert!(r.converged(), "{}", r.status);
    assert!(r.iterations < 50, "L-BFGS took {} iterations", r.iterations);
    assert!(r.point.f < 1e-12);
    let r = minimize(&p, &mut NewtonCg, &p.x0, &Options::default());
    assert!(r.converged(), "{}", r.status);
    assert!(r.evaluations.hvp > 0 && r.evaluations.hessian == 0);
}
