//! The activation slice kernels: derivatives (against analytic `f64` derivatives and central
//! finite differences), every path on random lengths, offsets and special values (proptest),
//! in-place forms, the parallel split, and argument checking.

use nabla_kernels::KernelError;
use nabla_kernels::activation as act;
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use proptest::prelude::*;

/// Whether `a` and `b` hold the same values, bit for bit.
fn same_bits(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

// ------------------------------------------------------------------ references (f64)

fn phi(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// `Phi(x)` from `erfc` by its continued fraction / series (as in `math_accuracy.rs`, simpler:
/// this file only needs about 1e-13 relative).
fn big_phi(x: f64) -> f64 {
    let a = x.abs();
    let t = a * std::f64::consts::FRAC_1_SQRT_2;
    let erfc = if t < 0.5 {
        let t2 = t * t;
        let (mut term, mut sum) = (t, t);
        for n in 1..40 {
            let n = n as f64;
            term *= -t2 / n;
            sum += term / (2.0 * n + 1.0);
        }
        1.0 - sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        let mut f = t;
        for k in (1..=1600).rev() {
            f = t + (k as f64 / 2.0) / f;
        }
        (-t * t).exp() / std::f64::consts::PI.sqrt() / f
    };
    if x < 0.0 {
        0.5 * erfc
    } else {
        1.0 - 0.5 * erfc
    }
}

fn erf(x: f64) -> f64 {
    if x.abs() < 0.5 {
        let t2 = x * x;
        let (mut term, mut sum) = (x, x);
        for n in 1..40 {
            let n = n as f64;
            term *= -t2 / n;
            sum += term / (2.0 * n + 1.0);
        }
        sum * std::f64::consts::FRAC_2_SQRT_PI
    } else {
        (2.0 * big_phi(x * std::f64::consts::SQRT_2) - 1.0).clamp(-1.0, 1.0)
    }
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

const C: f64 = 0.044715;
fn gelu_tanh_f(x: f64) -> f64 {
    let u = (2.0 / std::f64::consts::PI).sqrt() * (x + C * x * x * x);
    0.5 * x * (1.0 + u.tanh())
}

/// A forward kernel, its derivative kernel, and `f64` references for both.
struct Act {
    name: &'static str,
    fwd32: fn(&[f32], &mut [f32]),
    fwd64: fn(&[f64], &mut [f64]),
    bwd32: fn(&[f32], &[f32], &mut [f32]),
    bwd64: fn(&[f64], &[f64], &mut [f64]),
    /// Whether the backward kernel takes the forward output `y` (else the input `x`).
    takes_y: bool,
    f: fn(f64) -> f64,
    df: fn(f64) -> f64,
    /// Inputs to test derivatives on: `(lo, hi)`.
    domain: (f64, f64),
    /// Accuracy bound of the forward kernel in ULP (2 unless stated).
    ulp: u64,
}

impl Act {
    /// `x` itself, or `|x| + floor` for the functions taken on positive inputs only (log, sqrt).
    fn inputs(&self, x: &[f32], floor: f32) -> Vec<f32> {
        if matches!(self.name, "log" | "sqrt") {
            x.iter().map(|v| v.abs() + floor).collect()
        } else {
            x.to_vec()
        }
    }
}

fn acts() -> Vec<Act> {
    vec![
        Act {
            name: "relu",
            fwd32: act::relu,
            fwd64: act::relu,
            bwd32: act::relu_backward,
            bwd64: act::relu_backward,
            takes_y: false,
            f: |x| x.max(0.0),
            df: |x| if x > 0.0 { 1.0 } else { 0.0 },
            domain: (-5.0, 5.0),
            ulp: 0,
        },
        Act {
            name: "sigmoid",
            fwd32: act::sigmoid,
            fwd64: act::sigmoid,
            bwd32: act::sigmoid_backward,
            bwd64: act::sigmoid_backward,
            takes_y: true,
            f: sigmoid,
            df: |x| sigmoid(x) * (1.0 - sigmoid(x)),
            domain: (-20.0, 20.0),
            ulp: 2,
        },
        Act {
            name: "tanh",
            fwd32: act::tanh,
            fwd64: act::tanh,
            bwd32: act::tanh_backward,
            bwd64: act::tanh_backward,
            takes_y: true,
            f: f64::tanh,
            df: |x| 1.0 - x.tanh() * x.tanh(),
            domain: (-8.0, 8.0),
            ulp: 2,
        },
        Act {
            name: "gelu",
            fwd32: act::gelu,
            fwd64: act::gelu,
            bwd32: act::gelu_backward,
            bwd64: act::gelu_backward,
            takes_y: false,
            f: |x| x * big_phi(x),
            df: |x| big_phi(x) + x * phi(x),
            domain: (-10.0, 10.0),
            ulp: 2,
        },
        Act {
            name: "gelu_tanh",
            fwd32: act::gelu_tanh,
            fwd64: act::gelu_tanh,
            bwd32: act::gelu_tanh_backward,
            bwd64: act::gelu_tanh_backward,
            takes_y: false,
            f: gelu_tanh_f,
            df: |x| {
                let k = (2.0 / std::f64::consts::PI).sqrt();
                let u = k * (x + C * x * x * x);
                let t = u.tanh();
                0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * k * (1.0 + 3.0 * C * x * x)
            },
            domain: (-1.0, 10.0),
            ulp: 2,
        },
        Act {
            name: "silu",
            fwd32: act::silu,
            fwd64: act::silu,
            bwd32: act::silu_backward,
            bwd64: act::silu_backward,
            takes_y: false,
            f: |x| x * sigmoid(x),
            df: |x| sigmoid(x) * (1.0 + x * (1.0 - sigmoid(x))),
            domain: (-20.0, 20.0),
            ulp: 2,
        },
        Act {
            name: "softplus",
            fwd32: act::softplus,
            fwd64: act::softplus,
            bwd32: act::softplus_backward,
            bwd64: act::softplus_backward,
            takes_y: false,
            f: |x| x.max(0.0) + (-x.abs()).exp().ln_1p(),
            df: sigmoid,
            domain: (-20.0, 20.0),
            ulp: 2,
        },
        Act {
            name: "exp",
            fwd32: act::exp,
            fwd64: act::exp,
            bwd32: act::exp_backward,
            bwd64: act::exp_backward,
            takes_y: true,
            f: f64::exp,
            df: f64::exp,
            domain: (-20.0, 20.0),
            ulp: 1,
        },
        Act {
            name: "log",
            fwd32: act::log,
            fwd64: act::log,
            bwd32: act::log_backward,
            bwd64: act::log_backward,
            takes_y: false,
            f: f64::ln,
            df: |x| 1.0 / x,
            domain: (0.01, 100.0),
            ulp: 1,
        },
        Act {
            name: "log1p",
            fwd32: act::log1p,
            fwd64: act::log1p,
            bwd32: act::log1p_backward,
            bwd64: act::log1p_backward,
            takes_y: false,
            f: f64::ln_1p,
            df: |x| 1.0 / (1.0 + x),
            domain: (-0.9, 100.0),
            ulp: 2,
        },
        Act {
            name: "expm1",
            fwd32: act::expm1,
            fwd64: act::expm1,
            bwd32: act::expm1_backward,
            bwd64: act::expm1_backward,
            takes_y: false,
            f: f64::exp_m1,
            df: f64::exp,
            domain: (-20.0, 20.0),
            ulp: 2,
        },
        Act {
            name: "erf",
            fwd32: act::erf,
            fwd64: act::erf,
            bwd32: act::erf_backward,
            bwd64: act::erf_backward,
            takes_y: false,
            f: erf,
            df: |x| std::f64::consts::FRAC_2_SQRT_PI * (-x * x).exp(),
            domain: (-3.0, 3.0),
            ulp: 2,
        },
        Act {
            name: "sqrt",
            fwd32: act::sqrt,
            fwd64: act::sqrt,
            bwd32: act::sqrt_backward,
            bwd64: act::sqrt_backward,
            takes_y: true,
            f: f64::sqrt,
            df: |x| 0.5 / x.sqrt(),
            domain: (0.01, 100.0),
            ulp: 0,
        },
        Act {
            name: "reciprocal",
            fwd32: act::reciprocal,
            fwd64: act::reciprocal,
            bwd32: act::reciprocal_backward,
            bwd64: act::reciprocal_backward,
            takes_y: true,
            f: |x| 1.0 / x,
            df: |x| -1.0 / (x * x),
            domain: (0.1, 10.0),
            ulp: 0,
        },
    ]
}

type Fwd32 = fn(&[f32], &mut [f32]);
/// (name, kernel, f64 reference, ULP bound).
type Case = (&'static str, Fwd32, fn(f64) -> f64, u64);

fn leaky(x: &[f32], y: &mut [f32]) {
    act::leaky_relu(x, y, 0.1)
}

// ------------------------------------------------------------------ derivatives

/// Relative difference with an absolute floor (derivatives cross zero).
fn close(got: f64, want: f64, rel: f64, abs_floor: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(abs_floor)
}

/// The backward kernels against the analytic derivative and, independently, against central
/// finite differences of the forward kernels, on every path, in `f64` and `f32`.
#[test]
fn derivatives_match_analytic_and_finite_differences() {
    let n = 2001;
    for a in acts() {
        let (lo, hi) = a.domain;
        let xs: Vec<f64> = (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            // Keep away from the kinks of relu (the derivative at 0 is a convention).
            .filter(|&x| a.name != "relu" || x.abs() > 1e-3)
            .collect();
        let dy: Vec<f64> = xs.iter().map(|x| 0.5 + 0.25 * x.sin()).collect();
        for path in isa::available() {
            isa::with_isa(path, || {
                // f64: analytic, tight; the derivative's scale is its largest term.
                let mut y = vec![0.0; xs.len()];
                (a.fwd64)(&xs, &mut y);
                let arg = if a.takes_y { &y } else { &xs };
                let mut dx = vec![0.0; xs.len()];
                (a.bwd64)(arg, &dy, &mut dx);
                for i in 0..xs.len() {
                    let want = dy[i] * (a.df)(xs[i]);
                    let scale = match a.name {
                        // From y: y's rounding enters through d f'(y) / dy (at most 2).
                        "sigmoid" | "tanh" => dy[i] * ((a.df)(xs[i]).abs() + (a.f)(xs[i]).abs()),
                        "gelu" => dy[i] * (big_phi(xs[i]).abs() + (xs[i] * phi(xs[i])).abs()),
                        "silu" => dy[i] * (sigmoid(xs[i]) * (1.0 + xs[i].abs())),
                        "gelu_tanh" => dy[i] * (1.0 + xs[i].abs()),
                        _ => want.abs(),
                    };
                    assert!(
                        (dx[i] - want).abs() <= 1e-14 * scale + 1e-300,
                        "{} f64 {path}: d/dx at {} = {}, want {}",
                        a.name,
                        xs[i],
                        dx[i],
                        want
                    );
                }
                // f64: central differences of the forward kernel (step ~ cbrt(eps) x).
                let h: Vec<f64> = xs.iter().map(|x| 1e-5 * x.abs().max(1.0)).collect();
                let xp: Vec<f64> = xs.iter().zip(&h).map(|(x, h)| x + h).collect();
                let xm: Vec<f64> = xs.iter().zip(&h).map(|(x, h)| x - h).collect();
                let (mut yp, mut ym) = (vec![0.0; xs.len()], vec![0.0; xs.len()]);
                (a.fwd64)(&xp, &mut yp);
                (a.fwd64)(&xm, &mut ym);
                for i in 0..xs.len() {
                    if a.name == "relu" && xs[i].abs() < 2.0 * h[i] {
                        continue;
                    }
                    let fd = dy[i] * (yp[i] - ym[i]) / (xp[i] - xm[i]);
                    let floor = dy[i] * (a.f)(xs[i]).abs().max(1.0) / xs[i].abs().max(1.0);
                    assert!(
                        close(dx[i], fd, 1e-6, floor.max(1e-3)),
                        "{} f64 {path}: d/dx at {} = {}, finite difference {}",
                        a.name,
                        xs[i],
                        dx[i],
                        fd
                    );
                }
                // f32: against the analytic f64 derivative, a few f32 ULP of the larger term.
                let x32: Vec<f32> = xs.iter().map(|&x| x as f32).collect();
                let dy32: Vec<f32> = dy.iter().map(|&d| d as f32).collect();
                let mut y32 = vec![0.0f32; x32.len()];
                (a.fwd32)(&x32, &mut y32);
                let arg32 = if a.takes_y { &y32 } else { &x32 };
                let mut dx32 = vec![0.0f32; x32.len()];
                (a.bwd32)(arg32, &dy32, &mut dx32);
                for i in 0..x32.len() {
                    let x = x32[i] as f64;
                    let want = dy32[i] as f64 * (a.df)(x);
                    let scale = match a.name {
                        "gelu" => big_phi(x).abs() + (x * phi(x)).abs(),
                        "silu" => sigmoid(x) * (1.0 + x.abs()),
                        "gelu_tanh" => 1.0 + x.abs(),
                        // From y: the rounding of y (an ULP of y at most) enters through
                        // d f'(y) / dy, which is at most 2 for both.
                        "sigmoid" | "tanh" => (a.df)(x).abs() + (a.f)(x).abs(),
                        _ => (a.df)(x).abs(),
                    } * dy32[i] as f64;
                    assert!(
                        (dx32[i] as f64 - want).abs() <= 8.0 * f32::EPSILON as f64 * scale + 1e-37,
                        "{} f32 {path}: d/dx at {x} = {}, want {want}",
                        a.name,
                        dx32[i]
                    );
                }
            })
            .unwrap();
        }
    }
}

#[test]
fn leaky_relu_and_its_derivative() {
    let x = [-2.0f32, -0.0, 0.0, 3.0, f32::NAN, f32::NEG_INFINITY];
    let dy = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
    for path in isa::available() {
        isa::with_isa(path, || {
            let mut y = [0.0f32; 6];
            act::leaky_relu(&x, &mut y, 0.1);
            assert_eq!(&y[..4], &[-0.2f32, 0.0, 0.0, 3.0]);
            assert!(y[4].is_nan());
            assert_eq!(y[5], f32::NEG_INFINITY);
            let mut dx = [0.0f32; 6];
            act::leaky_relu_backward(&x, &dy, &mut dx, 0.1);
            assert_eq!(&dx[..4], &[0.1f32, 0.2, 0.3, 4.0]);
            assert!(dx[4].is_nan());
            assert_eq!(dx[5], 0.6);
            let mut z = x;
            act::leaky_relu_inplace(&mut z, 0.1);
            assert_eq!(&z[..4], &y[..4]);
        })
        .unwrap();
    }
}

#[test]
fn relu_backward_at_zero_nan_and_infinities() {
    let x = [
        0.0f64,
        -0.0,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1e-300,
    ];
    let dy = [1.0f64; 6];
    for path in isa::available() {
        let mut dx = [9.0f64; 6];
        isa::with_isa(path, || act::relu_backward(&x, &dy, &mut dx)).unwrap();
        assert_eq!(dx[0], 0.0);
        assert_eq!(dx[1], 0.0);
        assert!(dx[2].is_nan());
        assert_eq!(&dx[3..], &[1.0, 0.0, 1.0]);
    }
}

// ------------------------------------------------------------------ argument checks

#[test]
fn length_mismatch_panics_naming_both_lengths() {
    let x = [1.0f32; 5];
    let mut y = [0.0f32; 4];
    let r = std::panic::catch_unwind(move || act::tanh(&x, &mut y));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.contains("tanh") && msg.contains('5') && msg.contains('4'),
        "{msg}"
    );
    let r = std::panic::catch_unwind(|| {
        let mut dx = [0.0f64; 3];
        act::gelu_backward(&[1.0; 3], &[1.0; 2], &mut dx)
    });
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(
        msg.contains("gelu_backward") && msg.contains('3') && msg.contains('2'),
        "{msg}"
    );
}

#[test]
fn try_forms_report_length_mismatch() {
    let mut y = [0.0f32; 3];
    assert_eq!(
        act::try_sigmoid(&[0.0f32; 4], &mut y),
        Err(KernelError::LengthMismatch {
            op: "sigmoid",
            expected: 4,
            got: 3
        })
    );
    let mut dx = [0.0f64; 4];
    assert_eq!(
        act::try_silu_backward(&[0.0; 4], &[0.0; 4], &mut dx[..2]),
        Err(KernelError::LengthMismatch {
            op: "silu_backward",
            expected: 4,
            got: 2
        })
    );
    assert_eq!(
        act::try_leaky_relu(&[0.0f32; 2], &mut y, 0.5),
        Err(KernelError::LengthMismatch {
            op: "leaky_relu",
            expected: 2,
            got: 3
        })
    );
    assert!(act::try_exp(&[1.0f64], &mut [0.0]).is_ok());
    // Nothing was written on error.
    assert_eq!(y, [0.0; 3]);
}

// ------------------------------------------------------------------ structure

/// In-place forms equal out-of-place ones, and a slice long enough to be split across threads
/// gives the same bits as the sequential run.
#[test]
fn inplace_and_parallel_split_match() {
    let n = (1 << 17) + 13;
    let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin() * 12.0).collect();
    for path in isa::available() {
        isa::with_isa(path, || {
            for a in acts() {
                let x = a.inputs(&x, 0.0);
                let mut seq = vec![0.0f32; n];
                with_parallelism(Parallelism::Sequential, || (a.fwd32)(&x, &mut seq));
                let mut par = vec![0.0f32; n];
                with_parallelism(Parallelism::Always, || (a.fwd32)(&x, &mut par));
                assert!(same_bits(&seq, &par), "{} {path}: parallel differs", a.name);
            }
            let mut a = x.clone();
            act::gelu_inplace(&mut a);
            let mut b = vec![0.0f32; n];
            act::gelu(&x, &mut b);
            assert_eq!(a, b);
            let mut a = x.clone();
            with_parallelism(Parallelism::Always, || act::softplus_inplace(&mut a));
            act::softplus(&x, &mut b);
            assert_eq!(a, b);
            // Backward, split.
            let dy: Vec<f32> = x.iter().map(|v| v * 0.5).collect();
            let mut d1 = vec![0.0f32; n];
            let mut d2 = vec![0.0f32; n];
            with_parallelism(Parallelism::Sequential, || {
                act::silu_backward(&x, &dy, &mut d1)
            });
            with_parallelism(Parallelism::Always, || act::silu_backward(&x, &dy, &mut d2));
            assert!(same_bits(&d1, &d2));
        })
        .unwrap();
    }
}

// ------------------------------------------------------------------ proptest over paths

/// Steps between two floats (0 for +0 / -0; u64::MAX if exactly one is NaN).
fn steps32(a: f32, b: f32) -> u64 {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            0
        } else {
            u64::MAX
        };
    }
    let o = |x: f32| {
        let b = x.to_bits() as i32;
        (if b < 0 { i32::MIN.wrapping_sub(b) } else { b }) as i64
    };
    (o(a) - o(b)).unsigned_abs()
}

fn value() -> impl Strategy<Value = f32> {
    prop_oneof![
        8 => -30.0f32..30.0,
        2 => any::<f32>(),
        1 => Just(f32::NAN),
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(0.0f32),
        1 => Just(-0.0f32),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Random lengths (0..300) at random misalignments (the slices start 0..3 elements into
    /// their buffers), values with NaN and infinities: on every path each forward kernel is
    /// within its ULP bound of the `f64` reference (or of the smallest normal where the result is
    /// subnormal), NaN in gives NaN out, and every path agrees with the scalar path to within
    /// twice the bound.
    #[test]
    fn forward_kernels_on_every_path(
        vals in proptest::collection::vec(value(), 0..300),
        off_in in 0usize..4,
        off_out in 0usize..4,
    ) {
        let n = vals.len();
        let mut buf = vec![0.0f32; n + 4];
        buf[off_in..off_in + n].copy_from_slice(&vals);
        let x = &buf[off_in..off_in + n];
        let mut kernels: Vec<Case> =
            acts().into_iter().map(|a| (a.name, a.fwd32, a.f, a.ulp)).collect();
        kernels.push(("leaky_relu", leaky, |x| if x > 0.0 { x } else { 0.1 * x }, 1));
        for (name, k, f, ulp) in kernels {
            let mut scalar = vec![0.0f32; n + 4];
            isa::with_isa(Isa::Scalar, || k(x, &mut scalar[off_out..off_out + n])).unwrap();
            for path in isa::available() {
                let mut out = vec![7.0f32; n + 4];
                isa::with_isa(path, || k(x, &mut out[off_out..off_out + n])).unwrap();
                // Nothing outside the destination is touched.
                prop_assert!(out[..off_out].iter().chain(&out[off_out + n..]).all(|&v| v == 7.0));
                let y = &out[off_out..off_out + n];
                for i in 0..n {
                    let xi = x[i];
                    let r = if xi.is_nan() { f64::NAN } else { f(xi as f64) };
                    if xi.is_nan() {
                        prop_assert!(y[i].is_nan(), "{name} {path}: NaN in, {} out", y[i]);
                        continue;
                    }
                    if name == "gelu_tanh" && xi < -1.0 {
                        // Documented: the tail error grows with |2u|; check the sign and
                        // magnitude only.
                        prop_assert!(y[i] <= 0.0 && (y[i] as f64) >= xi as f64 * 0.2, "{name}({xi}) = {}", y[i]);
                        continue;
                    }
                    if xi.is_infinite() || r.is_nan() || r.is_infinite() {
                        // Limits: compared exactly with the reference's own limit where it has
                        // one (special values are tested exhaustively in math_accuracy.rs).
                        if r.is_nan() {
                            prop_assert!(y[i].is_nan() || xi.is_infinite(), "{name}({xi}) = {}", y[i]);
                        } else if !xi.is_infinite() {
                            prop_assert_eq!(y[i] as f64, r, "{}({})", name, xi);
                        }
                        continue;
                    }
                    let cr = r as f32;
                    let ok = steps32(y[i], cr) <= ulp
                        || (cr.abs() < f32::MIN_POSITIVE
                            && (y[i] as f64 - r).abs() <= f32::MIN_POSITIVE as f64);
                    prop_assert!(ok, "{name} {path}: f({xi:e}) = {:e}, want {cr:e} (exact {r:e})", y[i]);
                    prop_assert!(
                        steps32(y[i], scalar[off_out + i]) <= 2 * ulp.max(1)
                            || (cr.abs() < f32::MIN_POSITIVE),
                        "{name} {path} vs scalar at {xi:e}: {:e} vs {:e}", y[i], scalar[off_out + i]
                    );
                }
            }
        }
    }

    /// The backward kernels on every path, random lengths and offsets, equal the scalar path
    /// to a few ULP and propagate NaN from the upstream gradient.
    #[test]
    fn backward_kernels_on_every_path(
        vals in proptest::collection::vec(-20.0f32..20.0, 0..300),
        off in 0usize..4,
        nan_at in proptest::option::of(0usize..300),
    ) {
        let n = vals.len();
        let mut xb = vec![0.0f32; n + 4];
        xb[off..off + n].copy_from_slice(&vals);
        let x = &xb[off..off + n];
        let mut dy: Vec<f32> = (0..n).map(|i| 1.0 + (i % 7) as f32 * 0.25).collect();
        if let Some(j) = nan_at.filter(|&j| j < n) {
            dy[j] = f32::NAN;
        }
        for a in acts() {
            let x: Vec<f32> = if matches!(a.name, "log" | "sqrt" | "reciprocal") {
                x.iter().map(|v| v.abs() + 0.5).collect()
            } else if a.name == "log1p" {
                x.iter().map(|v| v.abs()).collect()
            } else {
                x.to_vec()
            };
            let mut y = vec![0.0f32; n];
            (a.fwd32)(&x, &mut y);
            let arg = if a.takes_y { &y } else { &x };
            let mut reference = vec![0.0f32; n];
            isa::with_isa(Isa::Scalar, || (a.bwd32)(arg, &dy, &mut reference)).unwrap();
            for path in isa::available() {
                let mut dx = vec![0.0f32; n];
                isa::with_isa(path, || (a.bwd32)(arg, &dy, &mut dx)).unwrap();
                for i in 0..n {
                    if dy[i].is_nan() && a.name == "relu" && x[i] <= 0.0 {
                        // Documented: dx is 0 where x <= 0, whatever dy (as PyTorch's
                        // threshold_backward).
                        prop_assert_eq!(dx[i], 0.0);
                    } else if dy[i].is_nan() {
                        prop_assert!(dx[i].is_nan(), "{} {path}: NaN dy gave {}", a.name, dx[i]);
                    } else {
                        let d = steps32(dx[i], reference[i]);
                        // Near a zero of the derivative, ULPs of the result are meaningless:
                        // compare against the scale of its terms (|dy| (1 + |x|)).
                        let scale = dy[i].abs() * (1.0 + x[i].abs());
                        prop_assert!(
                            d <= 8 || (dx[i] - reference[i]).abs() <= 1e-6 * scale,
                            "{} {path} at x = {}: {} vs scalar {}", a.name, x[i], dx[i], reference[i]
                        );
                    }
                }
            }
        }
    }
}

/// Throughput of the main forward kernels, `f32`, one thread, 32 Ki elements (input and output
/// in L2), best of 200 timings on every vector path. Not an assertion (machines differ); run
/// with `cargo test -p nabla-kernels --test activation -- --ignored --nocapture throughput`.
#[test]
#[ignore]
fn throughput() {
    use std::time::Instant;
    let n = 1 << 15;
    let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.001).sin() * 4.0).collect();
    let mut y = vec![0.0f32; n];
    let kernels: [(&str, Fwd32); 10] = [
        ("exp", act::exp),
        ("log", act::log),
        ("sigmoid", act::sigmoid),
        ("tanh", act::tanh),
        ("gelu", act::gelu),
        ("gelu_tanh", act::gelu_tanh),
        ("silu", act::silu),
        ("softplus", act::softplus),
        ("erf", act::erf),
        ("relu", act::relu),
    ];
    for path in isa::available().into_iter().filter(|&p| p != Isa::Scalar) {
        for (name, k) in kernels {
            let best = with_parallelism(Parallelism::Sequential, || {
                isa::with_isa(path, || {
                    let mut best = f64::MAX;
                    for _ in 0..200 {
                        let t = Instant::now();
                        for _ in 0..10 {
                            k(&x, &mut y);
                        }
                        best = best.min(t.elapsed().as_secs_f64());
                    }
                    best
                })
                .unwrap()
            });
            println!(
                "{path:>7} {name:>10}: {:.2} Gelem/s",
                (n * 10) as f64 / best / 1e9
            );
        }
    }
}

/// An output placed just ahead of its inputs modulo 4 KiB makes the kernels run descending (to
/// avoid 4K aliasing, see the crate's `sweep` module): the values must be bit-identical to those
/// written into a separate buffer. Input `x` at a page-aligned element, `dy` 4 KiB later, the
/// output 8 KiB plus `d` bytes later; `n` covers full vectors and a partial tail on every path.
#[test]
fn outputs_just_ahead_of_inputs_give_the_same_bits() {
    let n = 16 * 9 + 7;
    let mut arena = vec![0.0f32; 4 * 1024 + n];
    let page = (4096 - arena.as_ptr() as usize % 4096) % 4096 / 4;
    let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 6.0).collect();
    let dy: Vec<f32> = (0..n).map(|i| 1.0 + (i % 5) as f32 * 0.25).collect();
    for path in isa::available() {
        isa::with_isa(path, || {
            for a in acts() {
                let x = a.inputs(&x, 0.5);
                let mut fwd = vec![0.0f32; n];
                (a.fwd32)(&x, &mut fwd);
                let mut bwd = vec![0.0f32; n];
                (a.bwd32)(&x, &dy, &mut bwd);
                for d in [16usize, 48, 64, 256, 1008, 2048, 4000] {
                    let (xs, gs, zs) = (page, page + 1024, page + (8192 + d) / 4);
                    arena[xs..xs + n].copy_from_slice(&x);
                    arena[gs..gs + n].copy_from_slice(&dy);
                    let (head, out) = arena.split_at_mut(zs);
                    let out = &mut out[..n];
                    (a.fwd32)(&head[xs..xs + n], out);
                    assert!(
                        same_bits(out, &fwd),
                        "{} {path}: output {d} B ahead",
                        a.name
                    );
                    (a.bwd32)(&head[xs..xs + n], &head[gs..gs + n], out);
                    assert!(
                        same_bits(out, &bwd),
                        "{} backward {path}: output {d} B ahead",
                        a.name
                    );
                }
            }
        })
        .unwrap();
    }
}

/// The `f32` GELU derivative densely, on every path: 200 001 points over `[-13.15, 13.15]` (the
/// cap beyond which it is returned as 0 or 1) and both sides of every boundary of the
/// quarter-octave pieces the AVX-512 path looks its polynomial up by (`2^e (1 + j/4)`, one
/// `f32` step either way), against the analytic `f64` value, within 8 `f32` epsilons of the
/// larger of its two terms (the contract of `math::gelu_derivative`).
#[test]
fn gelu_derivative_dense_on_every_path() {
    let mut xs: Vec<f32> = (0..=200_000)
        .map(|i| (-13.15 + 26.3 * i as f64 / 200_000.0) as f32)
        .collect();
    for e in -6..4 {
        for j in 0..4 {
            let b = (2f64.powi(e) * (1.0 + j as f64 / 4.0)) as f32;
            for v in [
                b,
                f32::from_bits(b.to_bits() - 1),
                f32::from_bits(b.to_bits() + 1),
            ] {
                xs.extend([v, -v]);
            }
        }
    }
    xs.extend([0.0, -0.0, 13.15, -13.15, 1e-30, -1e-30]);
    let dy = vec![1.0f32; xs.len()];
    // (value, scale of its larger term)
    let want: Vec<(f64, f64)> = xs
        .iter()
        .map(|&x| {
            let (p, xp) = (big_phi(x as f64), x as f64 * phi(x as f64));
            (p + xp, p.abs() + xp.abs())
        })
        .collect();
    for path in isa::available() {
        let mut dx = vec![0.0f32; xs.len()];
        isa::with_isa(path, || act::gelu_backward(&xs, &dy, &mut dx)).unwrap();
        for ((&x, &d), &(want, scale)) in xs.iter().zip(&dx).zip(&want) {
            assert!(
                (d as f64 - want).abs() <= 8.0 * f32::EPSILON as f64 * scale + 1e-37,
                "gelu' f32 {path} at {x}: {d}, want {want}"
            );
        }
    }
}

/// The `f64` GELU derivative on every path against mpmath (`data/f64_reference.txt`: 2264
/// points over every half-binade piece the AVX-512 path looks its polynomial up by, both signs,
/// and the `f64`s next to every piece boundary; `fits/f64_piece_points.py`), within 8 `f64`
/// epsilons of the larger of its two terms (the contract of `math::gelu_derivative`), or of the
/// smallest normal where the result is subnormal (near `x = -37.7`).
#[test]
fn gelu_derivative_f64_against_mpmath_on_every_path() {
    let table: Vec<(f64, f64)> = include_str!("data/f64_reference.txt")
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            (it.next()? == "gelu_derivative").then(|| {
                let x = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                let y = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                (f64::from_bits(x), f64::from_bits(y))
            })
        })
        .collect();
    assert!(
        table.len() >= 2000,
        "missing gelu_derivative reference data"
    );
    let xs: Vec<f64> = table.iter().map(|p| p.0).collect();
    let dy = vec![1.0f64; xs.len()];
    for path in isa::available() {
        let mut dx = vec![0.0f64; xs.len()];
        isa::with_isa(path, || act::gelu_backward(&xs, &dy, &mut dx)).unwrap();
        let mut worst = 0.0f64;
        for (&d, &(x, want)) in dx.iter().zip(&table) {
            let scale = big_phi(x).abs() + (x * phi(x)).abs();
            assert!(
                (d - want).abs() <= 8.0 * f64::EPSILON * scale + f64::MIN_POSITIVE,
                "gelu' f64 {path} at {x:e}: {d:e}, want {want:e}"
            );
            if want.abs() >= f64::MIN_POSITIVE {
                worst = worst.max((d - want).abs() / (f64::EPSILON * scale));
            }
        }
        println!("gelu' f64 {path}: at most {worst:.2} epsilons of the larger term");
    }
}

/// The backward kernels of the bounded derivatives stay within their range for every input, on
/// every path, `f32` and `f64`: random bit patterns (every binade, subnormals, infinities, NaN)
/// and a dense walk over `|x| <= 40` (the caps of the tails: `gelu` at 13.15 and 37.75). NaN
/// in gives NaN out; nothing else may be NaN or leave the range (with `dy = 1`). A derivative
/// built from an exponential whose `2^n` went below the smallest normal gave `-1.7e308` here.
#[test]
fn bounded_derivatives_stay_in_range_for_every_input() {
    use nabla_kernels::Element;
    type Bwd<T> = fn(&[T], &[T], &mut [T]);
    // gelu' and its tanh form: min -0.17 near x = -1.41 (-0.1701), max 1.13 near 1.41
    // (1.1289); silu': -0.0998 .. 1.0998; softplus' (sigmoid): 0 .. 1; erf': 0 .. 2/sqrt(pi)
    // (with room for the rounding of the f32 result at 0).
    const ERF_MAX: f64 = std::f64::consts::FRAC_2_SQRT_PI * (1.0 + 1e-6);
    fn check<T: Element>() {
        let cases: [(&str, Bwd<T>, f64, f64); 5] = [
            ("gelu", act::gelu_backward, -0.171, 1.13),
            ("gelu_tanh", act::gelu_tanh_backward, -0.171, 1.13),
            ("silu", act::silu_backward, -0.1, 1.1),
            ("softplus", act::softplus_backward, 0.0, 1.0),
            ("erf", act::erf_backward, 0.0, ERF_MAX),
        ];
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut xs: Vec<T> = (0..1 << 16)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                if T::MANTISSA_BITS == 23 {
                    T::from_f64(f32::from_bits(state as u32) as f64)
                } else {
                    T::from_f64(f64::from_bits(state))
                }
            })
            .collect();
        xs.extend((0..=160_000).map(|i| T::from_f64(-40.0 + i as f64 * 0.0005)));
        xs.extend([T::INFINITY, T::NEG_INFINITY, T::ZERO, T::MIN_POSITIVE]);
        let dy = vec![T::ONE; xs.len()];
        for (name, bwd, lo, hi) in cases {
            for path in isa::available() {
                let mut dx = vec![T::ZERO; xs.len()];
                isa::with_isa(path, || bwd(&xs, &dy, &mut dx)).unwrap();
                for (&x, &d) in xs.iter().zip(&dx) {
                    let (x, d) = (x.to_f64(), d.to_f64());
                    assert!(
                        if x.is_nan() {
                            d.is_nan()
                        } else {
                            (lo..=hi).contains(&d)
                        },
                        "{name}' {path} at {x:e} gave {d:e}, outside [{lo}, {hi}]"
                    );
                }
            }
        }
    }
    check::<f32>();
    check::<f64>();
}

/// Up to `BUNDLE_MAX_BYTES` streamed the kernels run bundles of vectors, beyond it one vector at
/// a time (`simd::bundles_pay`): both give the same bits, for every activation forward,
/// backward and in place, on every path. The whole slice is beyond the limit, its pieces
/// within it. Every length leaves, after its last bundle of 4 x 16 `f32`, two whole vectors
/// and a partial one, so the single-vector loop and the tail run too; that is all this
/// compares for the functions that bundle at every size (`softplus`, `gelu_tanh`, the
/// backward kernels of `gelu_tanh` and `silu`), whose whole slice bundles as well.
#[test]
fn bundled_and_unbundled_runs_give_the_same_bits() {
    use nabla_kernels::simd::{BUNDLE_MAX_BYTES, bundles_pay};
    let n = BUNDLE_MAX_BYTES / 8 + 4096 + 45;
    let piece = 4096 + 109;
    assert!(n % 64 == 45 && piece % 64 == 45);
    assert!(!bundles_pay::<f32>(n, 2) && bundles_pay::<f32>(piece, 3));
    let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin() * 12.0).collect();
    let dy: Vec<f32> = (0..n).map(|i| 1.0 + (i % 5) as f32 * 0.25).collect();
    type Kernel<'a> = &'a dyn Fn(&[f32], &[f32], &mut [f32]);
    let by_pieces = |f: Kernel, x: &[f32]| {
        let mut out = vec![0.0f32; n];
        for ((x, g), o) in x
            .chunks(piece)
            .zip(dy.chunks(piece))
            .zip(out.chunks_mut(piece))
        {
            f(x, g, o);
        }
        out
    };
    for path in isa::available() {
        isa::with_isa(path, || {
            with_parallelism(Parallelism::Sequential, || {
                for a in acts() {
                    let x = a.inputs(&x, 0.0);
                    let mut whole = vec![0.0f32; n];
                    (a.fwd32)(&x, &mut whole);
                    let pieces = by_pieces(&|x, _, o| (a.fwd32)(x, o), &x);
                    assert!(same_bits(&whole, &pieces), "{} {path}", a.name);
                    (a.bwd32)(&x, &dy, &mut whole);
                    let pieces = by_pieces(&|x, g, o| (a.bwd32)(x, g, o), &x);
                    assert!(same_bits(&whole, &pieces), "{} backward {path}", a.name);
                }
                let mut whole = x.clone();
                act::gelu_inplace(&mut whole);
                let pieces = by_pieces(&|x, _, o| act::gelu(x, o), &x);
                assert!(same_bits(&whole, &pieces), "gelu in place {path}");
            })
        })
        .unwrap();
    }
}
