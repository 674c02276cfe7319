//! The guide, section by section, computed with nabla-graph.
//!
//! `cargo run --release -p nabla-graph --example guide`

use nabla_graph::guide;

fn main() {
    let s = guide::first_order();
    println!("1. f(x, y) = log(e^x + e^y) at (0, ln 2), eps = (0.01, -0.03)");
    println!(
        "   first-order approximation {:.7} (guide 1.0819456), true value {:.7} (guide 1.0821242)",
        s.approximation, s.true_value
    );
    println!(
        "   gradient {:?} = softmax {:?}; sum {}",
        s.gradient,
        s.softmax,
        s.gradient[0] + s.gradient[1]
    );

    println!("2. f(x) = 3x^4 - 4x^3 - 12x^2");
    for p in guide::critical_points() {
        let kind = if p.second_derivative > 0.0 {
            "minimum"
        } else {
            "maximum"
        };
        println!(
            "   x = {:>2}: f = {:>4}, f' = {}, f'' = {:>4} ({kind})",
            p.x, p.value, p.gradient, p.second_derivative
        );
    }

    println!("   gradient descent w <- w - eps f'(w), f' from the graph:");
    for d in guide::gradient_descent() {
        println!(
            "   start {:>4}, eps {}: {:>3} steps to x = {:.12}, f = {:.12}, f' = {:.1e}, f'' = {:.1} ({})",
            d.start,
            d.learning_rate,
            d.steps,
            d.x,
            d.value,
            d.gradient,
            d.second_derivative,
            if d.second_derivative > 0.0 {
                "a minimum"
            } else {
                "not a minimum"
            }
        );
    }

    let c = guide::chain_rule();
    println!("3-4. chain rule at (w, x, y, z) = (-1, 0, -2, 1)");
    println!(
        "   a, b, u, v, f = {:?} (manual {:?})",
        c.forward, c.manual_forward
    );
    println!(
        "   df/du, df/dv, du/da, du/db, dv/da, dv/db, da/dw, db/dw = {:?}",
        c.partials
    );
    println!(
        "   manual                                             = {:?}",
        c.manual_partials
    );
    println!(
        "   du/dw, dv/dw = {:?} (manual backward pass {:?})",
        c.backward, c.manual_backward
    );
    println!(
        "   df/dw, df/dx, df/dy, df/dz = {:?} (manual df/dw {})",
        c.gradient, c.manual_df_dw
    );

    let q = guide::quadratic_approximation();
    println!("5. Hessian of e^x y + sin(yz) + x^2 z^3 at (0.5, -1, 0.8)");
    for i in 0..3 {
        println!(
            "   {:>10.6?}   analytic {:>10.6?}",
            &q.hessian[i * 3..i * 3 + 3],
            &q.analytic[i * 3..i * 3 + 3]
        );
    }
    for (t, quad, lin) in &q.model_errors {
        println!("   step {t:e}: quadratic model error {quad:.2e}, linear model error {lin:.2e}");
    }

    println!("6. matrix calculus");
    for id in guide::matrix_calculus() {
        println!(
            "   {:<36} max diff vs closed form {:.1e}, vs central differences {:.1e}",
            id.name, id.vs_closed_form, id.vs_differences
        );
    }

    let e = guide::exercises();
    println!(
        "exercises: d(b^T x) - d(x^T b) = {}, d||v||/dv - v/||v|| = {:.1e}, sum of softmax gradient = {}",
        e.transpose_gap, e.norm_gradient_gap, e.logsumexp_gradient_sum
    );
    println!(
        "   x^2 y + x y^2 at (0, 0): gradient {:?}, Hessian {:?}: zero, so the second-order test says nothing",
        e.origin_gradient, e.origin_hessian
    );
    let diagonal: Vec<String> = e
        .origin_diagonal
        .iter()
        .map(|(t, v)| format!("f({t}, {t}) = {v:.1e}"))
        .collect();
    println!(
        "   along the diagonal f(t, t) = 2t^3: {}: both signs next to f(0, 0) = 0, so (0, 0) is {}",
        diagonal.join(", "),
        e.origin_kind
    );
    let m = guide::sum_minimum();
    println!(
        "   5. g = |x - (1, -2)|^2 / 2, h = log(e^x0 + e^x1): g + h is minimal at ({:.6}, {:.6}) ({} steps)",
        m.point[0], m.point[1], m.steps
    );
    println!(
        "      grad g = {:.6?}, grad h = {:.6?}: |grad g + grad h| = {:.1e} (at the start {:.2}), cosine {:.12}: grad g = -grad h",
        m.grad_g, m.grad_h, m.sum_norm, m.start_sum_norm, m.cosine
    );
}
