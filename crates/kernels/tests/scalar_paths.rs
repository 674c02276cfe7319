//! Small end-to-end checks of every kernel family on the paths without wide registers (scalar
//! and SSE2), against plain `f64` loops. Fast enough for Miri, which is what runs this file:
//!
//! `cargo +nightly miri test -p nabla-kernels --test scalar_paths`
//!
//! (Under Miri the CPU reports no AVX, so these are the paths it can interpret; the wide paths are
//! covered against the same references by the other test files.)

use nabla_kernels::gemm::{Activation, MatMut, MatRef, gemm, gemm_bias_act};
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::{activation, softmax};

fn narrow_paths() -> Vec<Isa> {
    isa::available()
        .into_iter()
        .filter(|p| matches!(p, Isa::Scalar | Isa::Sse2))
        .collect()
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-300)
        || (got.is_nan() && want.is_nan())
        || got == want
}

#[test]
fn gemm_small_shapes() {
    for path in narrow_paths() {
        isa::with_isa(path, || {
            let (m, k, n) = (5, 7, 9);
            let a: Vec<f64> = (0..m * k).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..k * n).map(|i| (i as f64 * 0.11).cos()).collect();
            let bias: Vec<f64> = (0..n).map(|j| j as f64 * 0.1 - 0.4).collect();
            let mut c = vec![f64::NAN; m * n];
            gemm(
                1.0,
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&b, k, n),
                0.0,
                MatMut::row_major(&mut c, m, n),
            );
            let mut fused = vec![0.0; m * n];
            gemm_bias_act(
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&b, k, n),
                &bias,
                Activation::Relu,
                MatMut::row_major(&mut fused, m, n),
            );
            for i in 0..m {
                for j in 0..n {
                    let want: f64 = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
                    assert!(close(c[i * n + j], want, 1e-14), "{path} C[{i}][{j}]");
                    assert!(
                        close(fused[i * n + j], (want + bias[j]).max(0.0), 1e-14),
                        "{path} fused"
                    );
                }
            }
        })
        .unwrap();
    }
}

#[test]
fn reductions_and_elementwise() {
    for path in narrow_paths() {
        isa::with_isa(path, || {
            let x: Vec<f32> = (0..37).map(|i| i as f32 - 10.0).collect();
            let y: Vec<f32> = (0..37).map(|i| (i % 5) as f32).collect();
            let want_dot: f32 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            assert_eq!(nabla_kernels::sum(&x), x.iter().sum::<f32>(), "{path}");
            assert_eq!(nabla_kernels::dot(&x, &y), want_dot, "{path}");
            assert_eq!(nabla_kernels::max(&x), 26.0);
            assert_eq!(nabla_kernels::argmax(&x), Some(36));
            let mut z = vec![0.0f32; 37];
            nabla_kernels::add(&x, &y, &mut z);
            assert!(
                z.iter()
                    .zip(x.iter().zip(&y))
                    .all(|(z, (a, b))| *z == a + b)
            );
            nabla_kernels::axpy(2.0, &x, &mut z);
            assert!(
                z.iter()
                    .zip(x.iter().zip(&y))
                    .all(|(z, (a, b))| *z == a + b + 2.0 * a)
            );
        })
        .unwrap();
    }
}

#[test]
fn activations_and_softmax() {
    for path in narrow_paths() {
        isa::with_isa(path, || {
            let x: Vec<f64> = (0..23).map(|i| i as f64 * 0.7 - 8.0).collect();
            let mut y = vec![0.0; x.len()];
            activation::exp(&x, &mut y);
            assert!(
                x.iter().zip(&y).all(|(a, b)| close(*b, a.exp(), 1e-15)),
                "{path} exp"
            );
            activation::tanh(&x, &mut y);
            assert!(
                x.iter().zip(&y).all(|(a, b)| close(*b, a.tanh(), 1e-15)),
                "{path} tanh"
            );
            activation::sigmoid(&x, &mut y);
            let dy = vec![1.0; x.len()];
            let mut dx = vec![0.0; x.len()];
            activation::sigmoid_backward(&y, &dy, &mut dx);
            assert!(
                y.iter()
                    .zip(&dx)
                    .all(|(s, d)| close(*d, s * (1.0 - s), 1e-15)),
                "{path} sigmoid'"
            );

            let (rows, cols) = (2, 5);
            let logits = [
                1000.0f32,
                1001.0,
                999.0,
                f32::NEG_INFINITY,
                1000.5,
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
            ];
            let mut p = [0.0f32; 10];
            softmax::softmax(&logits, rows, cols, cols, &mut p);
            assert!(p.iter().all(|v| v.is_finite()), "{path}: {p:?}");
            assert_eq!(p[3], 0.0);
            assert!((p[..5].iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(p[5..].iter().all(|&v| (v - 0.2).abs() < 1e-7));
        })
        .unwrap();
    }
}
