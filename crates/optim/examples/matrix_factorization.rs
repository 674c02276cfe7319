//! The guide's section 6 objective, minimized: `f(U, V) = ||X - U V||_F^2` over `U` (50 x 5)
//! and `V` (5 x 40), with `X = U0 V0` for seeded normal `U0`, `V0`, from a seeded normal start.
//! The gradient comes from nabla-graph (it is the guide's `-2 U^T (X - U V)` for `V`, and
//! `-2 (X - U V) V^T` for `U`); L-BFGS and trust-region Newton-CG minimize it.
//!
//! Run with `cargo run --release -p nabla-optim --example matrix_factorization`.

use nabla_graph::Tensor;
use nabla_optim::{GraphObjective, Lbfgs, Options, Solver, TrustRegionCg, minimize};

const M: usize = 50;
const R: usize = 5;
const N: usize = 40;

fn main() {
    let u0 = Tensor::<f64>::randn(&[M, R], 1);
    let v0 = Tensor::<f64>::randn(&[R, N], 2);
    let x = nabla_graph::Graph::new();
    let target = {
        let (u, v) = (x.constant(u0), x.constant(v0));
        u.matmul(v).value()
    };
    let f = GraphObjective::new(M * R + R * N, move |p| {
        let g = p.graph();
        let u = p.slice(0, 0, M * R).reshape(&[M, R]);
        let v = p.slice(0, M * R, M * R + R * N).reshape(&[R, N]);
        (g.constant(target.clone()) - u.matmul(v)).powi(2).sum()
    })
    .expect("a scalar objective");
    let start: Vec<f64> = Tensor::<f64>::randn(&[M * R + R * N], 3).to_vec();
    let solvers: Vec<Box<dyn Solver>> = vec![
        Box::new(Lbfgs::default()),
        Box::new(TrustRegionCg::default()),
    ];
    for mut solver in solvers {
        let r = minimize(
            &f,
            solver.as_mut(),
            &start,
            &Options {
                max_iterations: 5000,
                ..Options::default()
            },
        );
        println!(
            "{:<16} f = {:.3e}  |grad|inf = {:.1e}  iterations = {:>4}  f+g evals = {:>4}  hvp = {:>5}  {:.1} ms  {}",
            r.solver,
            r.point.f,
            r.gradient_norm,
            r.iterations,
            r.evaluations.f_and_grad(),
            r.evaluations.hvp,
            r.elapsed.as_secs_f64() * 1e3,
            r.status
        );
        assert!(r.converged(), "{}", r.status);
    }
}
