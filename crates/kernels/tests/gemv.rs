//! The GEMM entry point's matrix-vector fast path (`n == 1` or `m == 1`) against a scalar f64
//! reference, on every SIMD path this CPU has (`NABLA_ISA` forces one, as for the other kernel
//! tests), with arbitrary strides: row-major, column-major, padded, and neither axis unit-stride
//! (the gather form).
//!
//! Tolerance, as `tests/gemm.rs`: each element is a sum of `k` products in `T`, so
//! `|C - C_ref| <= (k + 3) * eps * (|alpha| sum_p |A_ip||B_pj| + |beta||C_ij|)` plus the
//! smallest normal.

use nabla_kernels::Element;
use nabla_kernels::gemm::{self, MatMut, MatRef};
use nabla_kernels::isa::{self, Isa};
use proptest::prelude::*;

mod common;
use common::{COL, Layout, ROW, layout, one_and_three_threads, val};

/// One product `C (m x n) = alpha * A (m x k) * B (k x n) + beta * C`.
struct Case<T> {
    dims: (usize, usize, usize),
    lay: [Layout; 3],
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
}

impl<T: Element> Case<T> {
    /// C starts as NaN when `nan_c` (beta = 0 must never read it).
    fn new(dims: (usize, usize, usize), lay: [Layout; 3], seed: u64, nan_c: bool) -> Self {
        let (m, k, n) = dims;
        let fill =
            |len: usize, s: u64| (0..len).map(|i| T::from_f64(val(s, i))).collect::<Vec<T>>();
        let mut c = fill(lay[2].len(m, n), seed + 2);
        if nan_c {
            for i in 0..m {
                for j in 0..n {
                    c[lay[2].index(m, n, i, j)] = T::from_f64(f64::NAN);
                }
            }
        }
        Case {
            dims,
            lay,
            a: fill(lay[0].len(m, k), seed),
            b: fill(lay[1].len(k, n), seed + 1),
            c,
        }
    }

    fn run<'a>(&'a self, alpha: T, beta: T) -> Vec<T> {
        let (m, k, n) = self.dims;
        let view = |d: &'a [T], l: Layout, r: usize, c: usize| {
            let (rs, cs) = l.strides(r, c);
            MatRef::from_strides(&d[l.offset..], r, c, rs, cs).unwrap()
        };
        let a = view(&self.a, self.lay[0], m, k);
        let b = view(&self.b, self.lay[1], k, n);
        let mut c = self.c.clone();
        let (crs, ccs) = self.lay[2].strides(m, n);
        let co = self.lay[2].offset;
        let cm = MatMut::from_strides(&mut c[co..], m, n, crs, ccs).unwrap();
        gemm::try_gemm(alpha, a, b, beta, cm).unwrap();
        c
    }

    fn check(&self, got: &[T], alpha: T, beta: T, path: Isa) {
        let eps = T::EPSILON.to_f64();
        let (m, k, n) = self.dims;
        let [la, lb, lc] = self.lay;
        for i in 0..m {
            for j in 0..n {
                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let x = self.a[la.index(m, k, i, p)].to_f64();
                    let y = self.b[lb.index(k, n, p, j)].to_f64();
                    exact += x * y;
                    mag += (x * y).abs();
                }
                let ci = lc.index(m, n, i, j);
                let mut want = alpha.to_f64() * exact;
                mag *= alpha.to_f64().abs();
                if beta != T::ZERO {
                    want += beta.to_f64() * self.c[ci].to_f64();
                    mag += (beta.to_f64() * self.c[ci].to_f64()).abs();
                }
                let tol = (k as f64 + 3.0) * eps * mag + T::MIN_POSITIVE.to_f64();
                let g = got[ci].to_f64();
                assert!(
                    (g - want).abs() <= tol,
                    "{path}: C[{i}][{j}] = {g}, want {want} (tol {tol}) for m={m} k={k} n={n} {:?}",
                    self.lay
                );
            }
        }
        // Elements of C's buffer outside the view are untouched.
        let in_view = lc.covers(m, n, got.len());
        for (idx, (g, c0)) in got.iter().zip(&self.c).enumerate() {
            if !in_view[idx] {
                assert_eq!(
                    g.to_bits_u64(),
                    c0.to_bits_u64(),
                    "{path}: element {idx} outside C changed"
                );
            }
        }
    }
}

fn check_all_paths<T: Element>(
    dims: (usize, usize, usize),
    lay: [Layout; 3],
    ab: (f64, f64),
    seed: u64,
) {
    let (alpha, beta) = (T::from_f64(ab.0), T::from_f64(ab.1));
    let case = Case::<T>::new(dims, lay, seed, beta == T::ZERO);
    for path in isa::test_paths() {
        isa::with_isa(path, || {
            let got = case.run(alpha, beta);
            case.check(&got, alpha, beta, path);
        })
        .unwrap();
    }
}

fn coef() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(-1.0), -2.0f64..2.0]
}

/// `(m, k, n)` with `n == 1` (a column of C) or `m == 1` (a row), sizes up to past the
/// widest single axpy pass (16 AVX-512 f32 vectors = 256 rows).
fn gemv_dims() -> impl Strategy<Value = (usize, usize, usize)> {
    (0usize..300, 1usize..70, any::<bool>())
        .prop_map(|(len, k, column)| if column { (len, k, 1) } else { (1, k, len) })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn gemv_f64_matches_reference(dims in gemv_dims(), la in layout(true), lb in layout(true),
        lc in layout(true), alpha in coef(), beta in coef(), seed in any::<u64>()) {
        check_all_paths::<f64>(dims, [la, lb, lc], (alpha, beta), seed);
    }

    #[test]
    fn gemv_f32_matches_reference(dims in gemv_dims(), la in layout(true), lb in layout(true),
        lc in layout(true), alpha in coef(), beta in coef(), seed in any::<u64>()) {
        check_all_paths::<f32>(dims, [la, lb, lc], (alpha, beta), seed);
    }
}

const STRIDED: Layout = Layout {
    col_major: false,
    pad: 1,
    step: 2,
    offset: 1,
};

#[test]
fn every_form_over_several_row_blocks() {
    // m past two 256-row blocks with a ragged end; the three forms (dot: row-major A, axpy:
    // column-major A, gather: neither) and a strided x and y, in both orientations.
    for la in [ROW, COL, STRIDED] {
        for lb in [ROW, STRIDED] {
            check_all_paths::<f64>((523, 37, 1), [la, lb, ROW], (1.0, 0.0), 1);
            check_all_paths::<f32>((523, 37, 1), [la, lb, STRIDED], (-0.5, 2.0), 2);
            check_all_paths::<f64>((1, 37, 523), [lb, la, COL], (2.0, -1.0), 3);
            check_all_paths::<f32>((1, 37, 523), [lb, la, ROW], (1.0, 0.0), 4);
        }
    }
    // The sizes of the workload the fast path is for: A x and A^T g with A 1000 x 100.
    check_all_paths::<f64>((1000, 100, 1), [ROW, ROW, ROW], (1.0, 0.0), 5);
    check_all_paths::<f64>((100, 1000, 1), [COL, ROW, ROW], (1.0, 0.0), 6);
}

#[test]
fn every_row_count_up_to_two_blocks() {
    // Every length of the output vector from 1 to past two 256-row blocks: each number of
    // vectors an axpy pass holds (1 to 16, with or without a ragged last vector) and each
    // remainder of the dot form's 4-row groups, on every path.
    for m in 1..=530 {
        check_all_paths::<f32>((m, 3, 1), [COL, ROW, ROW], (1.0, 0.0), m as u64);
        check_all_paths::<f64>((m, 3, 1), [COL, ROW, ROW], (-1.5, 0.5), m as u64);
        check_all_paths::<f64>((m, 11, 1), [ROW, ROW, ROW], (1.0, 0.0), m as u64);
        // Rows shorter than a vector (scalar dot products on the SIMD paths).
        check_all_paths::<f32>((m, 5, 1), [ROW, ROW, ROW], (0.5, -1.0), m as u64);
    }
}

#[test]
fn beta_zero_never_reads_c_in_any_form() {
    // NaN in C with beta = 0 must not leak, whichever form and path runs.
    for la in [ROW, COL, STRIDED] {
        for (m, k, n) in [(70, 9, 1), (1, 9, 70), (3, 200, 1)] {
            let a: Vec<f64> = (0..la.len(m, k)).map(|i| val(7, i)).collect();
            let b: Vec<f64> = (0..k * n).map(|i| val(8, i)).collect();
            let (rs, cs) = la.strides(m, k);
            for path in isa::test_paths() {
                isa::with_isa(path, || {
                    let mut c = vec![f64::NAN; m * n];
                    gemm::gemm(
                        1.0,
                        MatRef::from_strides(&a[la.offset..], m, k, rs, cs).unwrap(),
                        MatRef::row_major(&b, k, n),
                        0.0,
                        MatMut::row_major(&mut c, m, n),
                    );
                    assert!(
                        c.iter().all(|x| x.is_finite()),
                        "{path}: NaN leaked, {la:?} {m}x{k}x{n}"
                    );
                })
                .unwrap();
            }
        }
    }
}

#[test]
fn nan_in_a_or_x_reaches_only_its_outputs() {
    for path in isa::test_paths() {
        isa::with_isa(path, || {
            for la in [ROW, COL] {
                let (m, k) = (40, 33);
                let mut a: Vec<f64> = (0..m * k).map(|i| val(9, i)).collect();
                a[la.index(m, k, 17, 5)] = f64::NAN;
                let x: Vec<f64> = (0..k).map(|i| val(10, i)).collect();
                let (rs, cs) = la.strides(m, k);
                let mut y = vec![0.0; m];
                gemm::gemm(
                    1.0,
                    MatRef::from_strides(&a, m, k, rs, cs).unwrap(),
                    MatRef::row_major(&x, k, 1),
                    0.0,
                    MatMut::row_major(&mut y, m, 1),
                );
                for (i, v) in y.iter().enumerate() {
                    assert_eq!(v.is_nan(), i == 17, "{path} {la:?}: y[{i}] = {v}");
                }
            }
        })
        .unwrap();
    }
}

#[test]
fn gemv_results_do_not_depend_on_thread_count() {
    // Above the parallel threshold (2 * m * k >= 8 Mi flops), in every form.
    let (m, k) = (2100, 2050);
    for la in [ROW, COL, STRIDED] {
        let a: Vec<f64> = (0..la.len(m, k)).map(|i| val(11, i)).collect();
        let x: Vec<f64> = (0..k).map(|i| val(12, i)).collect();
        let (rs, cs) = la.strides(m, k);
        let (one, many) = one_and_three_threads(|| {
            let mut y: Vec<f64> = (0..m).map(|i| val(13, i)).collect();
            gemm::gemm(
                0.5,
                MatRef::from_strides(&a[la.offset..], m, k, rs, cs).unwrap(),
                MatRef::row_major(&x, k, 1),
                -1.0,
                MatMut::row_major(&mut y, m, 1),
            );
            y
        });
        assert!(
            one.iter()
                .zip(&many)
                .all(|(p, q)| p.to_bits() == q.to_bits()),
            "{la:?}"
        );
    }
}
