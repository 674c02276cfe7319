//! The MGH test problems: hand-written derivatives against nabla-graph's, Hessian-vector
//! products against dense Hessians, known minimizers and starting values.
//!
//! Tolerance. The hand-written and the graph derivatives evaluate the same mathematical
//! expressions in different orders and groupings (e.g. `2 Jᵀr` against a reverse sweep over
//! `sum r_i^2`), so they differ by rounding only: a few ulps of the largest *terms* summed, not
//! of the result. We compare entrywise with `|a - b| <= RTOL * max_k |b_k|`, the scale being the
//! largest entry of the whole gradient or Hessian (a stand-in for the largest term; an entry
//! that cancels to a tiny value is held to the precision its neighbours allow, not to its own
//! size). `RTOL = 1e-12` is ~4500 ulps: the worst ratio over all cases and points is about
//! `1e-15` (osborne2; `derivatives_match_the_graph` prints it), so there is a factor ~1000 of
//! headroom for other platforms' `exp`/`sin`, while a wrong term (a sign, a factor 2, a missing
//! entry) shows up at relative size ~1e-2 or more and a constant off in its sixth digit at
//! ~1e-6: `the_comparison_catches_small_errors` checks that such errors fail.

use approx::assert_relative_eq;
use nabla_graph::{Tensor, hessian, hvp, value_and_grad};
use nabla_optim::Objective;
use nabla_optim::problems::{TestProblem, mgh_problems, problem};

const RTOL: f64 = 1e-12;

/// `max_k |a_k - b_k| / max_k |b_k|` (with a floor on the scale of `1e-300`).
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    let diff = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    diff / scale
}

#[track_caller]
fn assert_close(what: &str, a: &[f64], b: &[f64]) -> f64 {
    assert!(
        a.iter().chain(b).all(|v| v.is_finite()),
        "{what}: non-finite entries"
    );
    let e = rel_err(a, b);
    assert!(e <= RTOL, "{what}: relative error {e:e} > {RTOL:e}");
    e
}

/// splitmix64 + Box-Muller: seeded normals for the test points.
struct Rng(u64);

impl Rng {
    fn normal(&mut self) -> f64 {
        let mut u = || {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            (((z ^ (z >> 31)) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let (u1, u2) = (u(), u());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn vector(&mut self, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.normal()).collect()
    }
}

/// `x0` and three seeded points near it: `x0_j + 0.1 (1 + |x0_j|) N(0, 1)`.
fn test_points(p: &TestProblem) -> Vec<Vec<f64>> {
    let mut rng = Rng(0x5EED ^ p.dim() as u64);
    let mut pts = vec![p.x0.clone()];
    for _ in 0..3 {
        pts.push(
            p.x0.iter()
                .map(|&v| v + 0.1 * (1.0 + v.abs()) * rng.normal())
                .collect(),
        );
    }
    pts
}

/// Graph checks: value and gradient always; the dense Hessian up to this `n`, above it
/// Hessian-vector products in two seeded directions (the graph's dense Hessian takes `n`
/// sweeps over a graph with one node per scalar operation).
const GRAPH_HESSIAN_MAX_N: usize = 100;
/// Above this `n` the problem is checked through a smaller instance of the same code.
const GRAPH_MAX_N: usize = 500;

#[test]
fn derivatives_match_the_graph() {
    let mut worst: (f64, &str) = (0.0, "");
    for p in mgh_problems().iter().filter(|p| p.dim() <= GRAPH_MAX_N) {
        let n = p.dim();
        for (k, x) in test_points(p).iter().enumerate() {
            let what = |s: &str| format!("{} at point {k}: {s}", p.name);
            let xt = Tensor::vector(x);
            let (gv, gg) = value_and_grad(|v| p.graph_value(v), &xt).unwrap();
            let mut g = vec![0.0; n];
            let f = p.value_grad(x, &mut g);
            // The value is the same generic code run on f64 and on graph scalars.
            assert_relative_eq!(f, gv, max_relative = 1e-13);
            assert_eq!(f, p.value(x), "{}", what("value_grad's value"));
            let mut errs = vec![assert_close(&what("gradient"), &g, gg.data())];
            if n <= GRAPH_HESSIAN_MAX_N {
                let mut h = vec![0.0; n * n];
                assert!(p.hessian(x, &mut h));
                let gh = hessian(|v| p.graph_value(v), &xt).unwrap();
                errs.push(assert_close(&what("Hessian"), &h, gh.data()));
            } else {
                let mut rng = Rng(k as u64);
                for _ in 0..2 {
                    let v = rng.vector(n);
                    let mut hv = vec![0.0; n];
                    assert!(p.hvp(x, &v, &mut hv));
                    let ghv = hvp(|y| p.graph_value(y), &xt, &Tensor::vector(&v)).unwrap();
                    errs.push(assert_close(&what("hvp"), &hv, ghv.data()));
                }
            }
            for e in errs {
                if e > worst.0 {
                    worst = (e, p.name);
                }
            }
        }
    }
    println!(
        "worst relative derivative error: {:e} ({})",
        worst.0, worst.1
    );
}

#[test]
fn the_comparison_catches_small_errors() {
    // A Hessian entry off by a relative 1e-6, or a missing small entry, must fail the check
    // that the correct Hessian passes.
    let p = problem("wood").unwrap();
    let x = &p.x0;
    let mut h = vec![0.0; 16];
    assert!(p.hessian(x, &mut h));
    let gh = hessian(|v| p.graph_value(v), &Tensor::vector(x)).unwrap();
    let gh = gh.data();
    assert!(rel_err(&h, gh) <= RTOL);
    let mut bad = h.clone();
    bad[0] *= 1.0 + 1e-6;
    assert!(rel_err(&bad, gh) > RTOL);
    let mut bad = h.clone();
    bad[5] = 0.0; // ∂²f/∂x2², 220.2 of a largest entry 10,802
    assert!(rel_err(&bad, gh) > RTOL);
}

#[test]
fn hvp_matches_the_dense_hessian() {
    for p in mgh_problems().iter().filter(|p| p.dim() <= 500) {
        let n = p.dim();
        let mut h = vec![0.0; n * n];
        let mut rng = Rng(7);
        for x in test_points(p) {
            assert!(p.hessian(&x, &mut h), "{}", p.name);
            for row in 0..n {
                for col in 0..row {
                    assert_eq!(
                        h[row * n + col],
                        h[col * n + row],
                        "{} not symmetric",
                        p.name
                    );
                }
            }
            let v = rng.vector(n);
            let hv_dense: Vec<f64> = h
                .chunks_exact(n)
                .map(|row| row.iter().zip(&v).map(|(a, b)| a * b).sum())
                .collect();
            let mut hv = vec![0.0; n];
            assert!(p.hvp(&x, &v, &mut hv));
            assert_close(&format!("{} hvp", p.name), &hv, &hv_dense);
        }
    }
}

#[test]
fn ext_rosenbrock_10000_is_100_copies_of_the_100_case() {
    // Both are ExtRosenbrock { n }, residual pairs independent: on x = 100 copies of a
    // 100-vector y, f is 100 f_100(y) and the gradient and H v are 100 copies of f_100's.
    // (ext_rosenbrock_100's derivatives are checked against the graph above.)
    let (small, big) = (
        problem("ext_rosenbrock_100").unwrap(),
        problem("ext_rosenbrock_10000").unwrap(),
    );
    assert_eq!(big.dim(), 10_000);
    assert_eq!(big.x0, small.x0.repeat(100));
    let mut rng = Rng(3);
    let (y, v) = (rng.vector(100), rng.vector(100));
    let (mut gs, mut gb) = (vec![0.0; 100], vec![0.0; 10_000]);
    let fs = small.value_grad(&y, &mut gs);
    let fb = big.value_grad(&y.repeat(100), &mut gb);
    assert_relative_eq!(fb, 100.0 * fs, max_relative = 1e-12);
    assert_eq!(gb, gs.repeat(100));
    let (mut hs, mut hb) = (vec![0.0; 100], vec![0.0; 10_000]);
    assert!(small.hvp(&y, &v, &mut hs));
    assert!(big.hvp(&y.repeat(100), &v.repeat(100), &mut hb));
    assert_eq!(hb, hs.repeat(100));
    // The dense Hessian (800 MB, for dense Newton) is block diagonal: 100 copies of the small
    // case's 100 x 100 Hessian, zero elsewhere.
    let (n, k) = (10_000, 100);
    let mut h_small = vec![0.0; k * k];
    assert!(small.hessian(&y, &mut h_small));
    let mut h_big = vec![f64::NAN; n * n];
    assert!(big.hessian(&y.repeat(100), &mut h_big));
    for (i, row) in h_big.chunks_exact(n).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            let expected = if i / k == j / k {
                h_small[(i % k) * k + j % k]
            } else {
                0.0
            };
            assert!(v == expected, "H[{i}][{j}] = {v}, expected {expected}");
        }
    }
}

#[test]
fn known_minimizers_attain_the_exact_minimum() {
    // (name, exact minimum value at `minimizer`); f_best is the table's figure, a solver's
    // result for the zero-residual problems, within 1e-13 of the exact value.
    let exact = |name: &str| match name {
        "quartic_x0=-2" => -5.0,
        "quartic_x0=3" | "quartic_x0=0.5" => -32.0,
        "logsumexp_quad" => 2f64.ln() - 0.25,
        _ => 0.0,
    };
    let mut checked = 0;
    for p in mgh_problems() {
        let Some(xs) = &p.minimizer else { continue };
        let fx = p.value(xs);
        let want = exact(p.name);
        assert_relative_eq!(fx, want, epsilon = 1e-15, max_relative = 1e-14);
        // The table's figures have 10 significant digits.
        let tol = 1e-13 + 1e-9 * want.abs();
        assert!(
            (p.f_best - want).abs() <= tol,
            "{}: f_best {}",
            p.name,
            p.f_best
        );
        let mut g = vec![0.0; p.dim()];
        p.value_grad(xs, &mut g);
        // Rounding of r_i ~ 1e-16 times a Jacobian entry ~ |x| (brown_badly_scaled's 10^6).
        let gmax = g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let xmax = xs.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        assert!(
            gmax <= 1e-12 * xmax,
            "{}: gradient {gmax:e} at the minimizer",
            p.name
        );
        checked += 1;
    }
    assert_eq!(checked, 20);
    assert_relative_eq!(
        problem("logsumexp_quad").unwrap().f_best,
        2f64.ln() - 0.25,
        max_relative = 1e-10
    );
}

#[test]
fn starting_values() {
    // f(x0) worked out by hand from the MGH formulas (these are also the values commonly
    // tabulated for these starts).
    for (name, f0) in [
        ("rosenbrock_2", 24.2),                 // (-4.4)^2 + 2.2^2
        ("freudenstein_roth", 400.5),           // 19.5^2 + (-4.5)^2
        ("helical_valley", 2500.0),             // θ = 1/2: (10 (0 - 5))^2
        ("powell_singular", 215.0),             // 49 + 5 + 1 + 160
        ("wood", 19192.0),                      // 10^4 + 16 + 9000 + 16 + 160 + 0
        ("beale", 14.203125),                   // 1.5^2 + 2.25^2 + 2.625^2
        ("brown_badly_scaled", 999998000003.0), // (1 - 10^6)^2 + (1 - 2e-6)^2 + 1
    ] {
        let p = problem(name).unwrap();
        assert_relative_eq!(p.value(&p.x0), f0, max_relative = 1e-14);
    }
}

#[test]
fn the_table() {
    let ps = mgh_problems();
    let names: Vec<&str> = ps.iter().map(|p| p.name).collect();
    assert_eq!(
        names,
        [
            "rosenbrock_2",
            "freudenstein_roth",
            "powell_badly_scaled",
            "brown_badly_scaled",
            "beale",
            "jennrich_sampson",
            "helical_valley",
            "bard",
            "gaussian",
            "meyer",
            "gulf",
            "box3d",
            "powell_singular",
            "wood",
            "kowalik_osborne",
            "brown_dennis",
            "osborne1",
            "biggs_exp6",
            "osborne2",
            "watson_6",
            "watson_9",
            "penalty1_10",
            "penalty2_10",
            "variably_dim_10",
            "trigonometric_10",
            "chebyquad_8",
            "ext_rosenbrock_100",
            "ext_rosenbrock_10000",
            "ext_powell_100",
            "broyden_tridiag_100",
            "discrete_bv_100",
            "quartic_x0=-2",
            "quartic_x0=3",
            "quartic_x0=0.5",
            "logsumexp_quad",
            "matfact_V_only",
            "matfact_UV",
        ]
    );
    let dims: Vec<usize> = ps.iter().map(|p| p.dim()).collect();
    assert_eq!(
        dims,
        [
            2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 11, 6, 9, 10, 10, 10, 10, 8, 100,
            10000, 100, 100, 100, 1, 1, 1, 2, 200, 450
        ]
    );
    let ms: Vec<Option<usize>> = ps.iter().map(|p| p.m).collect();
    let expect_m = [
        2, 2, 2, 3, 3, 10, 3, 15, 15, 16, 99, 10, 4, 6, 11, 20, 33, 13, 65, 31, 31, 11, 20, 12, 10,
        8, 100, 10000, 100, 100, 100,
    ];
    for (k, m) in expect_m.iter().enumerate() {
        assert_eq!(ms[k], Some(*m), "{}", names[k]);
    }
    assert_eq!(&ms[31..], [None, None, None, None, Some(2000), Some(2000)]);
    let mgh: Vec<Option<u32>> = ps.iter().map(|p| p.mgh_number).collect();
    assert_eq!(mgh[19..21], [Some(20), Some(20)]);
    assert_eq!(
        mgh[26..31],
        [Some(21), Some(21), Some(22), Some(30), Some(28)]
    );
    assert!(mgh[31..].iter().all(Option::is_none));
    for p in &ps {
        assert_eq!(p.x0.len(), p.dim(), "{}", p.name);
        assert!(p.value(&p.x0).is_finite(), "{}", p.name);
        assert_eq!(problem(p.name).unwrap().x0, p.x0, "{}", p.name);
    }
    // Starts built from formulas.
    let bv = problem("discrete_bv_100").unwrap();
    assert_relative_eq!(bv.x0[0], (1.0 / 101.0) * (1.0 / 101.0 - 1.0));
    assert_relative_eq!(bv.x0[99], (100.0 / 101.0) * (100.0 / 101.0 - 1.0));
    assert_eq!(
        problem("ext_powell_100").unwrap().x0[96..],
        [3.0, -1.0, 0.0, 1.0]
    );
    let cheb = problem("chebyquad_8").unwrap();
    for (j, v) in cheb.x0.iter().enumerate() {
        assert_relative_eq!(*v, (j + 1) as f64 / 9.0);
    }
    assert!(problem("rosenbrock").is_none());
}

#[test]
fn matfact_is_the_guides_unscaled_frobenius_objective() {
    // f = ||X - U V||_F^2 with no 1/2: at V = V0 + E (U fixed at U0), f = ||U0 E||_F^2 and the
    // gradient is -2 U0ᵀ(X - U0 V) = 2 U0ᵀ U0 E, so along E the function is exactly quadratic
    // with f(V0 + t E) = t^2 f(V0 + E).
    let p = problem("matfact_V_only").unwrap();
    let v0 = p.minimizer.clone().unwrap();
    let e = Rng(11).vector(200);
    let at = |t: f64| -> Vec<f64> { v0.iter().zip(&e).map(|(a, b)| a + t * b).collect() };
    let (f1, f2) = (p.value(&at(1.0)), p.value(&at(2.0)));
    assert_relative_eq!(f2, 4.0 * f1, max_relative = 1e-12);
    // Directional derivative at V0 + E along E is 2 f (homogeneous of degree 2 in E).
    let mut g = vec![0.0; 200];
    p.value_grad(&at(1.0), &mut g);
    let dd: f64 = g.iter().zip(&e).map(|(a, b)| a * b).sum();
    assert_relative_eq!(dd, 2.0 * f1, max_relative = 1e-12);
    // The UV case starts away from its minimum; its minimizer is the same instance.
    let q = problem("matfact_UV").unwrap();
    assert!(q.value(&q.x0) > 1.0);
    assert_eq!(&q.minimizer.unwrap()[250..], &v0[..]);
}
