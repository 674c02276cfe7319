//! Elementwise kernels against scalar references, on every instruction-set path.
//!
//! `+ - * /` are correctly rounded IEEE operations on every path, so the kernels must match the
//! scalar Rust operation in the same type **bit for bit** (NaNs: only NaN-ness is compared,
//! payloads may differ). `axpy` is fused on FMA paths and rounded twice elsewhere: it is checked
//! against an `f64` reference within `eps * (|alpha x| + |y|)`, which bounds both.

use nabla_kernels::Element;
use nabla_kernels::isa;
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use proptest::prelude::*;

/// Runs `f` on every path under test.
fn on_every_path(mut f: impl FnMut(isa::Isa)) {
    for path in isa::test_paths() {
        isa::with_isa(path, || f(path)).unwrap();
    }
}

/// Bit-equal, or both NaN.
fn same<T: Element>(a: T, b: T) -> bool {
    a.to_bits_u64() == b.to_bits_u64() || (a.is_nan() && b.is_nan())
}

fn assert_all_same<T: Element>(got: &[T], want: &[T], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(same(*g, *w), "{what}: element {i}: {g} vs {w}");
    }
}

/// Two buffers of `len + off` values (the test uses `[off..]`: misaligned starts), with
/// occasional NaN, infinities, zeros of both signs and subnormals.
fn inputs<T: Element>(
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = (Vec<T>, Vec<T>, usize, T)> {
    (len, 0usize..4, any::<u64>(), -100.0f64..100.0).prop_map(|(n, off, seed, c)| {
        let mut rng = seed | 1;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut value = move || {
            let r = next();
            match r % 29 {
                0 => T::NAN,
                1 => T::INFINITY,
                2 => T::NEG_INFINITY,
                3 => T::ZERO,
                4 => -T::ZERO,
                5 => T::MIN_POSITIVE * T::from_f64(0.25), // subnormal
                _ => T::from_f64(((r >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 1e3),
            }
        };
        let x = (0..n + off).map(|_| value()).collect();
        let y = (0..n + off).map(|_| value()).collect();
        (x, y, off, T::from_f64(c))
    })
}

type Binary<T> = fn(&[T], &[T], &mut [T]);
type Assign<T> = fn(&mut [T], &[T]);
type Scalar<T> = fn(&[T], T, &mut [T]);
type ScalarAssign<T> = fn(&mut [T], T);

/// One operation: name, the four kernels, the scalar reference.
type Family<T> = (
    &'static str,
    Binary<T>,
    Assign<T>,
    Scalar<T>,
    ScalarAssign<T>,
    fn(T, T) -> T,
);

/// The four operations.
fn families<T: Element>() -> [Family<T>; 4] {
    [
        (
            "add",
            nabla_kernels::add,
            nabla_kernels::add_assign,
            nabla_kernels::add_scalar,
            nabla_kernels::add_scalar_assign,
            |a, b| a + b,
        ),
        (
            "sub",
            nabla_kernels::sub,
            nabla_kernels::sub_assign,
            nabla_kernels::sub_scalar,
            nabla_kernels::sub_scalar_assign,
            |a, b| a - b,
        ),
        (
            "mul",
            nabla_kernels::mul,
            nabla_kernels::mul_assign,
            nabla_kernels::mul_scalar,
            nabla_kernels::mul_scalar_assign,
            |a, b| a * b,
        ),
        (
            "div",
            nabla_kernels::div,
            nabla_kernels::div_assign,
            nabla_kernels::div_scalar,
            nabla_kernels::div_scalar_assign,
            |a, b| a / b,
        ),
    ]
}

fn check_binary_family<T: Element>(x: &[T], y: &[T], c: T) {
    let n = x.len();
    on_every_path(|path| {
        for (name, op, op_assign, op_scalar, op_scalar_assign, f) in families::<T>() {
            let want: Vec<T> = x.iter().zip(y).map(|(a, b)| f(*a, *b)).collect();
            let want_c: Vec<T> = x.iter().map(|a| f(*a, c)).collect();

            let mut z = vec![T::ZERO; n];
            op(x, y, &mut z);
            assert_all_same(&z, &want, &format!("{name} {path}"));

            let mut z = x.to_vec();
            op_assign(&mut z, y);
            assert_all_same(&z, &want, &format!("{name}_assign {path}"));

            let mut z = vec![T::ZERO; n];
            op_scalar(x, c, &mut z);
            assert_all_same(&z, &want_c, &format!("{name}_scalar {path}"));

            let mut z = x.to_vec();
            op_scalar_assign(&mut z, c);
            assert_all_same(&z, &want_c, &format!("{name}_scalar_assign {path}"));
        }

        let mut z = x.to_vec();
        nabla_kernels::scale(c, &mut z);
        let want: Vec<T> = x.iter().map(|a| *a * c).collect();
        assert_all_same(&z, &want, &format!("scale {path}"));

        let mut z = vec![T::ZERO; n];
        nabla_kernels::copy(x, &mut z);
        assert_all_same(&z, x, &format!("copy {path}"));
        nabla_kernels::fill(&mut z, c);
        assert!(z.iter().all(|v| same(*v, c)), "fill {path}");
    });
}

fn check_axpy<T: Element>(alpha: T, x: &[T], y: &[T]) {
    let eps = T::EPSILON.to_f64();
    on_every_path(|path| {
        let mut z = y.to_vec();
        nabla_kernels::axpy(alpha, x, &mut z);
        for i in 0..x.len() {
            let (a, xi, yi) = (alpha.to_f64(), x[i].to_f64(), y[i].to_f64());
            let want = a.mul_add(xi, yi);
            let got = z[i].to_f64();
            let ok = if want.is_finite() && got.is_finite() {
                // Fused: |err| <= eps/2 |want|; unfused: eps/2 (|a x| + |a x + y|). Plus half
                // the subnormal spacing for tiny results.
                (got - want).abs()
                    <= 1.01 * eps * ((a * xi).abs() + yi.abs())
                        + (T::MIN_POSITIVE * T::EPSILON).to_f64()
            } else if want.is_nan() {
                got.is_nan()
            } else {
                // An infinite input, or a result beyond T's range: the reference rounded to T.
                got == T::from_f64(want).to_f64()
            };
            assert!(
                ok,
                "axpy {path} i={i}: {alpha} * {} + {} = {got} vs {want}",
                x[i], y[i]
            );
        }
    });
}

fn check_row_bias<T: Element>(rows: usize, cols: usize, pad: usize, off: usize, seed: u64) {
    let ld = cols + pad;
    let len = off + if rows == 0 { 0 } else { (rows - 1) * ld + cols } + pad;
    let mut rng = seed | 1;
    let mut next = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        T::from_f64((rng >> 40) as f64 / 1024.0 - 8192.0)
    };
    let buf: Vec<T> = (0..len).map(|_| next()).collect();
    let bias: Vec<T> = (0..cols).map(|_| next()).collect();
    let mut want = buf.clone();
    for r in 0..rows {
        for j in 0..cols {
            want[off + r * ld + j] += bias[j];
        }
    }
    on_every_path(|path| {
        let mut got = buf.clone();
        nabla_kernels::add_row_bias(&mut got[off..], rows, cols, ld, &bias);
        assert_all_same(
            &got,
            &want,
            &format!("add_row_bias {path} {rows}x{cols} ld={ld}"),
        );
    });
}

macro_rules! props {
    ($modname:ident, $t:ty) => {
        mod $modname {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(160))]

                #[test]
                fn binary_ops((x, y, off, c) in inputs::<$t>(0..300)) {
                    check_binary_family(&x[off..], &y[off..], c);
                }

                #[test]
                fn binary_ops_long((x, y, off, c) in inputs::<$t>(300..3000)) {
                    check_binary_family(&x[off..], &y[off..], c);
                }

                #[test]
                fn axpy((x, y, off, c) in inputs::<$t>(0..300)) {
                    check_axpy(c, &x[off..], &y[off..]);
                }

                #[test]
                fn row_bias(
                    rows in 0usize..7,
                    cols in 0usize..70,
                    pad in 0usize..4,
                    off in 0usize..4,
                    seed in any::<u64>(),
                ) {
                    check_row_bias::<$t>(rows, cols, pad, off, seed);
                }
            }
        }
    };
}

props!(f32_props, f32);
props!(f64_props, f64);

#[test]
fn large_inputs_same_bits_on_any_thread_count() {
    let n = 3 * nabla_kernels::elementwise::CHUNK + 123;
    let x: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.37 - 100.0).collect();
    let y: Vec<f32> = (0..n).map(|i| (i % 777) as f32 * 0.11 + 1.0).collect();
    let run = || {
        let mut z = vec![0.0f32; n];
        nabla_kernels::div(&x, &y, &mut z);
        let mut w = y.clone();
        nabla_kernels::axpy(1.5, &x, &mut w);
        nabla_kernels::add_scalar_assign(&mut w, 2.0);
        let mut m = x.clone();
        nabla_kernels::add_row_bias(&mut m, 3, n / 3, n / 3, &y[..n / 3]);
        (z, w, m)
    };
    on_every_path(|path| {
        let one = with_parallelism(Parallelism::Sequential, run);
        let many = with_parallelism(Parallelism::Always, run);
        assert!(one == many, "{path}");
        // And the same as the definition.
        let want: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a / b).collect();
        assert!(one.0 == want, "{path}");
    });
}

#[test]
#[should_panic(expected = "nabla-kernels: add: length mismatch: expected 3, got 2")]
fn add_length_mismatch_panics() {
    let mut z = [0.0f32; 3];
    nabla_kernels::add(&[1.0, 2.0, 3.0], &[1.0, 2.0], &mut z);
}

#[test]
#[should_panic(expected = "nabla-kernels: div: length mismatch: expected 2, got 5")]
fn output_length_mismatch_panics() {
    let mut z = [0.0f64; 5];
    nabla_kernels::div(&[1.0, 2.0], &[1.0, 2.0], &mut z);
}

#[test]
#[should_panic(expected = "axpy: length mismatch: expected 1, got 2")]
fn axpy_length_mismatch_panics() {
    nabla_kernels::axpy(1.0f32, &[1.0], &mut [1.0, 2.0]);
}

#[test]
fn try_forms_report_the_op_and_lengths() {
    use nabla_kernels::KernelError;
    let mut z = [0.0f32; 4];
    let e = nabla_kernels::try_sub(&[1.0f32; 4], &[1.0; 3], &mut z).unwrap_err();
    assert_eq!(
        e,
        KernelError::LengthMismatch {
            op: "sub",
            expected: 4,
            got: 3
        }
    );
    assert_eq!(e.to_string(), "sub: length mismatch: expected 4, got 3");
    let e = nabla_kernels::try_mul_assign(&mut z, &[1.0; 9]).unwrap_err();
    assert!(matches!(
        e,
        KernelError::LengthMismatch {
            op: "mul_assign",
            expected: 4,
            got: 9
        }
    ));
    let e = nabla_kernels::try_div_scalar(&[1.0f32; 2], 2.0, &mut z).unwrap_err();
    assert!(matches!(
        e,
        KernelError::LengthMismatch {
            op: "div_scalar",
            ..
        }
    ));
    assert!(nabla_kernels::try_copy(&[1.0f32; 4], &mut z).is_ok());
    assert!(nabla_kernels::try_copy(&[1.0f32; 5], &mut z).is_err());
    let e = nabla_kernels::try_add_row_bias(&mut z, 2, 2, 2, &[1.0f32; 3]).unwrap_err();
    assert!(matches!(
        e,
        KernelError::LengthMismatch {
            op: "add_row_bias",
            expected: 2,
            got: 3
        }
    ));
    let e = nabla_kernels::try_add_row_bias(&mut z, 2, 3, 3, &[1.0f32; 3]).unwrap_err();
    assert!(matches!(
        e,
        KernelError::OutOfBounds {
            op: "add_row_bias",
            needed: 6,
            len: 4
        }
    ));
    let _: &dyn std::error::Error = &e;
}

/// Throughput of the elementwise kernels (`cargo test --release --test elementwise --
/// --ignored --nocapture probe`).
#[test]
#[ignore]
fn probe_throughput() {
    use std::hint::black_box;
    use std::time::Instant;
    fn rate(n: usize, mut f: impl FnMut()) -> f64 {
        let reps = (1usize << 25) / n.max(1) + 3;
        f();
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = Instant::now();
            for _ in 0..reps / 5 + 1 {
                f();
            }
            best = best.min(t.elapsed().as_secs_f64() / (reps / 5 + 1) as f64);
        }
        n as f64 / best / 1e9
    }
    for n in [1024usize, 8192, 1 << 15, 1 << 18, 1 << 20, 1 << 22] {
        let x = vec![1.5f32; n];
        let y = vec![2.5f32; n];
        let mut z = vec![0.0f32; n];
        for path in isa::available() {
            isa::with_isa(path, || {
                for pol in [Parallelism::Sequential, Parallelism::Always] {
                    with_parallelism(pol, || {
                        let a = rate(n, || nabla_kernels::add(black_box(&x), &y, &mut z));
                        let d = rate(n, || nabla_kernels::div(black_box(&x), &y, &mut z));
                        let ax = rate(n, || nabla_kernels::axpy(1.0001, black_box(&x), &mut z));
                        let sc = rate(n, || nabla_kernels::scale(0.9999, black_box(&mut z)));
                        eprintln!(
                            "n={n:>8} {path:>6} {pol:>10?}: Gelem/s add {a:6.2} div {d:6.2} axpy {ax:6.2} scale {sc:6.2}"
                        );
                    })
                }
            })
            .unwrap();
        }
    }
}

/// An output placed just ahead of its inputs modulo 4 KiB makes the loops run descending (to
/// avoid 4K aliasing, see the crate's `sweep` module): the results must not change. Inputs and
/// output share one buffer: `x` at a page-aligned element, `y` 4 KiB later, the output 8 KiB plus
/// `d` bytes later; `n` covers the unrolled groups, single vectors and a partial tail.
#[test]
fn outputs_just_ahead_of_inputs_give_the_same_values() {
    fn check<T: Element>() {
        let size = size_of::<T>();
        let n = 4 * 16 * 3 + 16 * 2 + 5;
        let mut arena = vec![T::ZERO; 4 * 4096 / size + n];
        let page = (4096 - arena.as_ptr() as usize % 4096) % 4096 / size;
        let x: Vec<T> = (0..n)
            .map(|i| T::from_f64(i as f64 * 0.37 - 20.0))
            .collect();
        let y: Vec<T> = (0..n).map(|i| T::from_f64(1.5 + (i % 7) as f64)).collect();
        let sums: Vec<T> = x.iter().zip(&y).map(|(a, b)| *a + *b).collect();
        let axpy: Vec<T> = x
            .iter()
            .zip(&y)
            .map(|(a, b)| T::from_f64(0.5) * *a + *b)
            .collect();
        for d in [16usize, 48, 64, 256, 1008, 2048, 4000] {
            let (xs, ys, zs) = (page, page + 4096 / size, page + (8192 + d) / size);
            arena[xs..xs + n].copy_from_slice(&x);
            arena[ys..ys + n].copy_from_slice(&y);
            on_every_path(|path| {
                let (head, out) = arena.split_at_mut(zs);
                let out = &mut out[..n];
                nabla_kernels::add(&head[xs..xs + n], &head[ys..ys + n], out);
                assert_all_same(out, &sums, &format!("add, output {d} B ahead, {path}"));
                out.copy_from_slice(&y);
                nabla_kernels::axpy(T::from_f64(0.5), &head[xs..xs + n], out);
                assert_all_same(out, &axpy, &format!("axpy, output {d} B ahead, {path}"));
            });
        }
    }
    check::<f32>();
    check::<f64>();
}
