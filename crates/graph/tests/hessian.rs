//! Dense Hessians by batched reverse sweeps and Hessian-vector products (reverse-over-forward
//! and forward-over-reverse),
//! against the closed form of `f(x) = sum softplus(A x) + ||x||^2 / 2`,
//! `H = A^T diag(s (1 - s)) A + I` with `s = sigmoid(A x)`, and against the one-sweep-per-row
//! Hessian on functions that exercise every batched rule.
//!
//! Tolerance: every entry is a sum of at most `m` products of magnitude `<= |A_ri||A_rj| / 4`,
//! so relative to `M_ij = 1 + sum_r |A_ri||A_rj| / 4` the rounding error is below `m * eps`
//! times a small factor; we allow `4 * m * eps * M_ij`.

use nabla_graph::{Tensor, Var, func, hessian, hessian_unbatched, hvp, hvp_forward_over_reverse};

fn scaled(t: Tensor<f64>, s: f64) -> Tensor<f64> {
    Tensor::new(t.data().iter().map(|v| v * s).collect(), t.shape())
}

fn softplus_f<'g>(a: &Tensor<f64>, x: Var<'g, f64>) -> Var<'g, f64> {
    let n = x.shape()[0];
    x.graph()
        .constant(a.clone())
        .matmul(x.reshape(&[n, 1]))
        .softplus()
        .sum()
        + (x * x).sum() * 0.5
}

/// The closed-form Hessian and the magnitudes `M_ij` the tolerance scales with.
fn closed_form(a: &Tensor<f64>, x: &Tensor<f64>) -> (Vec<f64>, Vec<f64>) {
    let (m, n) = (a.shape()[0], a.shape()[1]);
    let (ad, xd) = (a.data(), x.data());
    let mut h = vec![0.0; n * n];
    let mut mag = vec![1.0; n * n];
    for r in 0..m {
        let z: f64 = (0..n).map(|j| ad[r * n + j] * xd[j]).sum();
        let s = 1.0 / (1.0 + (-z).exp());
        let w = s * (1.0 - s);
        for i in 0..n {
            for j in 0..n {
                h[i * n + j] += w * ad[r * n + i] * ad[r * n + j];
                mag[i * n + j] += (ad[r * n + i] * ad[r * n + j]).abs() / 4.0;
            }
        }
    }
    for i in 0..n {
        h[i * n + i] += 1.0;
    }
    (h, mag)
}

fn assert_close(got: &[f64], want: &[f64], mag: &[f64], m: usize, what: &str) {
    assert_eq!(got.len(), want.len());
    for (idx, ((g, w), s)) in got.iter().zip(want).zip(mag).enumerate() {
        let tol = 4.0 * m as f64 * f64::EPSILON * s;
        assert!(
            (g - w).abs() <= tol,
            "{what}[{idx}] = {g}, want {w} (tol {tol})"
        );
    }
}

fn assert_exactly_symmetric(h: &[f64], n: usize) {
    for i in 0..n {
        for j in 0..i {
            assert_eq!(
                h[i * n + j],
                h[j * n + i],
                "H[{i}][{j}] against H[{j}][{i}]"
            );
        }
    }
}

#[test]
fn softplus_hessian_matches_closed_form() {
    // n = 100 and 200 take 2 and 4 sweeps (of 64 rows), each computing only the columns from
    // its first row on: the lower triangle is mirrored, so H is exactly symmetric.
    for (m, n) in [(1000, 100), (400, 200), (300, 37), (50, 1)] {
        let a = scaled(Tensor::<f64>::randn(&[m, n], 1), 0.3);
        let x = Tensor::<f64>::randn(&[n], 2);
        let f = func(|x| softplus_f(&a, x));
        let (want, mag) = closed_form(&a, &x);
        let h = hessian(f, &x).unwrap();
        assert_eq!(h.shape(), &[n, n]);
        assert_close(h.data(), &want, &mag, m, "batched H");
        assert_exactly_symmetric(h.data(), n);
        let rows = hessian_unbatched(f, &x).unwrap();
        assert_close(rows.data(), &want, &mag, m, "row-by-row H");
        // The same f with x as a row on the left, `x^T A^T`: the identity seeds now select
        // rows of A (the other gather of the batched matrix-product rule).
        let f_row = func(|x: Var<'_, f64>| {
            let row = x.reshape(&[1, n]);
            row.matmul(x.graph().constant(a.clone()).t())
                .softplus()
                .sum()
                + (x * x).sum() * 0.5
        });
        let h_row = hessian(f_row, &x).unwrap();
        assert_close(h_row.data(), &want, &mag, m, "batched H, x as a row");
        assert_exactly_symmetric(h_row.data(), n);
        // Hessian-vector products: H v for a random v, against the closed form's product.
        let v = Tensor::<f64>::randn(&[n], 3);
        let by_rof = hvp(f, &x, &v).unwrap();
        let by_for = hvp_forward_over_reverse(f, &x, &v).unwrap();
        for (hv, how) in [
            (by_rof, "reverse-over-forward"),
            (by_for, "forward-over-reverse"),
        ] {
            for i in 0..n {
                let w: f64 = (0..n).map(|j| want[i * n + j] * v.data()[j]).sum();
                let s: f64 = (0..n).map(|j| mag[i * n + j] * v.data()[j].abs()).sum();
                let tol = 4.0 * m as f64 * f64::EPSILON * s;
                assert!(
                    (hv.data()[i] - w).abs() <= tol,
                    "{how} hvp[{i}] = {}, want {w}",
                    hv.data()[i]
                );
            }
        }
    }
}

/// A case: the batched and the row-by-row Hessian at a point.
type Pair<'a> = Box<dyn Fn(&Tensor<f64>) -> (Tensor<f64>, Tensor<f64>) + 'a>;

/// Functions whose gradients use every batched rule (broadcasts, sums over axes, transposed
/// and matrix-matrix products, division, permutes, scalars), and one (max) that has none and
/// falls back: the batched Hessian must equal the row-by-row one.
#[test]
fn batched_hessian_equals_row_by_row() {
    let b = scaled(Tensor::<f64>::randn(&[4, 3], 5), 0.5);
    let c = scaled(Tensor::<f64>::randn(&[3, 6], 6), 0.5);
    let x = scaled(Tensor::<f64>::randn(&[6], 7), 0.5);
    let cases: Vec<(&str, Pair<'_>)> = vec![
        (
            "matrix products, tanh, broadcast bias",
            Box::new(|x: &Tensor<f64>| {
                let f = func(|x: Var<'_, f64>| {
                    let g = x.graph();
                    let xm = x.reshape(&[2, 3]); // 2 x 3
                    let y = xm.matmul(g.constant(c.clone())).tanh(); // 2 x 6
                    let z = g.constant(b.clone()).matmul(xm.t()); // 4 x 2
                    (y * y).sum()
                        + z.sigmoid().sum_axes(&[0], false).exp().sum()
                        + (x + 1.0).powi(3).sum()
                });
                (hessian(f, x).unwrap(), hessian_unbatched(f, x).unwrap())
            }),
        ),
        (
            "x^T x products, division, log, sqrt, permute",
            Box::new(|x: &Tensor<f64>| {
                let f = func(|x: Var<'_, f64>| {
                    let xm = x.reshape(&[3, 2]);
                    let gram = xm.t().matmul(xm); // 2 x 2, both operands vary
                    let q = (x * x + 1.0).log() / (x * x + 2.0).sqrt();
                    gram.sum() + q.sum() + xm.permute(&[1, 0]).softplus().sum_axes(&[1], true).sum()
                        - x.sin().sum() / 3.0
                });
                (hessian(f, x).unwrap(), hessian_unbatched(f, x).unwrap())
            }),
        ),
        (
            "x as a row on the left of a product (unit seeds gathered from B^T)",
            Box::new(|x: &Tensor<f64>| {
                let f = func(|x: Var<'_, f64>| {
                    let g = x.graph();
                    let row = x.reshape(&[1, 6]);
                    let bt = g.constant(c.clone()).t(); // 6 x 3
                    row.matmul(bt).softplus().sum() + (x * x).sum()
                });
                (hessian(f, x).unwrap(), hessian_unbatched(f, x).unwrap())
            }),
        ),
        (
            "max (no batched rule: the fallback)",
            Box::new(|x: &Tensor<f64>| {
                let f = func(|x: Var<'_, f64>| (x * x).max() * x.sum() + x.exp().sum());
                (hessian(f, x).unwrap(), hessian_unbatched(f, x).unwrap())
            }),
        ),
    ];
    for (name, run) in cases {
        let (batched, rows) = run(&x);
        assert_eq!(batched.shape(), rows.shape(), "{name}");
        for (i, (p, q)) in batched.data().iter().zip(rows.data()).enumerate() {
            let tol = 1e-13 * (1.0 + q.abs());
            assert!(
                (p - q).abs() <= tol,
                "{name}: H[{i}] batched {p}, row-by-row {q}"
            );
        }
        // Not all zero: the comparison means something.
        assert!(rows.data().iter().any(|v| v.abs() > 1e-3), "{name}");
    }
}

/// A wide intermediate (`[30000, 24]`, 720k elements) limits a batched sweep to 5 seeds, so the
/// Hessian takes five sweeps, each writing its rows into the result: the same matrix as the
/// row-by-row Hessian, and exactly symmetric.
#[test]
fn hessian_over_several_batched_sweeps() {
    let n = 24;
    let c = scaled(Tensor::<f64>::randn(&[30_000, n], 8), 0.2);
    let x = scaled(Tensor::<f64>::randn(&[n], 9), 0.5);
    let f = func(|x: Var<'_, f64>| {
        let wide = x.reshape(&[1, n]) * x.graph().constant(c.clone()); // [30000, n]
        wide.tanh().sum() + (x * x * x).sum()
    });
    let (batched, rows) = (hessian(f, &x).unwrap(), hessian_unbatched(f, &x).unwrap());
    assert_eq!(batched.shape(), &[n, n]);
    let (b, r) = (batched.data(), rows.data());
    for i in 0..n {
        for j in 0..n {
            let (p, q) = (b[i * n + j], r[i * n + j]);
            assert!(
                (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                "H[{i}][{j}] {p} vs {q}"
            );
        }
    }
    assert!(r.iter().any(|v| v.abs() > 1e-3));
    assert_exactly_symmetric(b, n);
}

/// With n = 150 the batched Hessian takes three sweeps whose matrix products of `x` compute only
/// the columns from the sweep's first row on, in every operand form: `x` as a column on the
/// right of a transposed constant, as a row on the left, and reshaped into a matrix (which is
/// not a vector, so its product computes every column). Against the row-by-row Hessian, which
/// computes both triangles.
#[test]
fn column_restricted_sweeps_match_row_by_row() {
    let n = 150;
    let a = scaled(Tensor::<f64>::randn(&[n, 40], 10), 0.2);
    let b = scaled(Tensor::<f64>::randn(&[n, 20], 11), 0.2);
    let c = scaled(Tensor::<f64>::randn(&[15, 4], 12), 0.3);
    let x = scaled(Tensor::<f64>::randn(&[n], 13), 0.5);
    let f = func(|x: Var<'_, f64>| {
        let g = x.graph();
        let col = g.constant(a.clone()).t().matmul(x.reshape(&[n, 1])); // 40 x 1
        let row = x.reshape(&[1, n]).matmul(g.constant(b.clone())); // 1 x 20
        let mat = x.reshape(&[10, 15]).matmul(g.constant(c.clone())); // 10 x 4
        col.softplus().sum() + row.tanh().sum() + mat.sigmoid().sum() + (x * x * x).sum()
    });
    let (batched, rows) = (hessian(f, &x).unwrap(), hessian_unbatched(f, &x).unwrap());
    let (h, r) = (batched.data(), rows.data());
    assert_exactly_symmetric(h, n);
    for i in 0..n {
        for j in 0..n {
            let (p, q) = (h[i * n + j], r[i * n + j]);
            assert!(
                (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                "H[{i}][{j}] {p} vs {q}"
            );
        }
    }
    // Off-diagonal blocks carry weight (the products couple the coordinates).
    assert!((0..n).any(|i| r[i * n + (i + 100) % n].abs() > 1e-3));
}

/// An infinite entry in the constant matrix: the batched Hessian (whose unit seeds would
/// otherwise gather the matrix's columns instead of multiplying by them) has NaN exactly where
/// the row-by-row Hessian, which multiplies, has it (here everywhere: the zero-weighted products
/// `0 * inf` reach every entry), and the same finite values wherever it has any.
#[test]
fn non_finite_constant_gives_the_row_by_row_nans() {
    let (m, n) = (30, 8);
    let mut a = scaled(Tensor::<f64>::randn(&[m, n], 14), 0.3).to_vec();
    a[7 * n + 3] = f64::INFINITY;
    let a = Tensor::new(a, &[m, n]);
    let x = scaled(Tensor::<f64>::randn(&[n], 15), 0.5);
    let f = func(|x: Var<'_, f64>| softplus_f(&a, x));
    let (batched, rows) = (hessian(f, &x).unwrap(), hessian_unbatched(f, &x).unwrap());
    let (h, r) = (batched.data(), rows.data());
    assert!(r.iter().any(|v| v.is_nan()), "the reference has NaNs");
    for (i, (p, q)) in h.iter().zip(r).enumerate() {
        if q.is_nan() {
            assert!(p.is_nan(), "H[{i}]: batched {p}, row-by-row NaN");
        } else {
            assert!(
                (p - q).abs() <= 1e-12 * (1.0 + q.abs()),
                "H[{i}]: batched {p}, row-by-row {q}"
            );
        }
    }
}
