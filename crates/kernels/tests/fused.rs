//! Fused elementwise chains (`nabla_kernels::fused`) on every instruction-set path, against an
//! `f64` evaluation of the same generic function.
//!
//! Tolerances, and why:
//! * **Elementwise values and partials** (`map`, and the partials of `map_sum`): the function is
//!   a chain of a few operations, each within 2 ULP (the `math` table) or correctly rounded
//!   (`+ - * /`), so an error of at most `c` ULP *relative to the size of the terms* is expected;
//!   the chains below have condition numbers near 1 on the test ranges, and are checked to
//!   `8 eps` relative (plus `8 eps * MIN_POSITIVE`-scale absolute error near zero results).
//! * **Sums**: the blocked pairwise sum of `reduce` (depth at most `4096 / 4 + 8 + log2 blocks`
//!   on the scalar path): `|err| <= (depth * eps + 8 eps) * sum |f_i|`.
//! * **Scalar path vs plain `f32`**: bit-identical elementwise (same `math` code, one lane).

#![allow(clippy::needless_range_loop)] // index loops over parallel arrays read best here
use nabla_kernels::fused::{self, Dual, MapFn, Real};
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use nabla_kernels::{Element, KernelError};
use proptest::prelude::*;

/// `log(1 + exp(-y w x))` by softplus.
struct Logistic;
impl MapFn for Logistic {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).softplus()
    }
}

/// The same loss written as the peers write it: `log1p(exp(-y w x))`.
struct LogisticLiteral;
impl MapFn for LogisticLiteral {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).exp().log1p()
    }
}

/// Every operation of `Real` in one chain of two inputs (all arguments kept in range).
struct Everything;
impl MapFn for Everything {
    const ARITY: usize = 2;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        let (x, y) = (a[0], a[1]);
        let two = x.constant(2.0);
        let p = (x * y).tanh() + y.sigmoid() * x - (x * x + two).sqrt() / (y.abs() + two);
        p + (x * x).log1p() + (y * y + two).ln() + x.relu() * y.exp() - (x - y).softplus()
    }
}

/// The derivative of `Everything` by hand, in f64, for the dual-number check.
fn everything_grad(x: f64, y: f64) -> (f64, f64) {
    let sig = |t: f64| 1.0 / (1.0 + (-t).exp());
    let th = (x * y).tanh();
    let r = (x * x + 2.0).sqrt();
    let q = y.abs() + 2.0;
    let relu_d = if x > 0.0 { 1.0 } else { 0.0 };
    let s = sig(x - y);
    let dx =
        (1.0 - th * th) * y + sig(y) - x / r / q + 2.0 * x / (1.0 + x * x) + relu_d * y.exp() - s;
    let dy = (1.0 - th * th) * x
        + sig(y) * (1.0 - sig(y)) * x
        + r / (q * q) * y.signum()
        + 2.0 * y / (y * y + 2.0)
        + x.max(0.0) * y.exp()
        + s;
    (dx, dy)
}

/// Deterministic pseudo-random data in `[lo, hi)`.
fn data(n: usize, seed: u64, lo: f64, hi: f64) -> Vec<f64> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            lo + (hi - lo) * ((s >> 11) as f64 / (1u64 << 53) as f64)
        })
        .collect()
}

/// The logistic chain's condition at `(w, x, y)`: `z = -y w x` carries two roundings (relative
/// 2 eps), amplified by `|z|` through `exp` (in `softplus` and in its derivative `sigmoid`).
fn logistic_cond(a: &[f64]) -> f64 {
    1.0 + (a[0] * a[1] * a[2]).abs()
}

fn labels(n: usize, seed: u64) -> Vec<f64> {
    data(n, seed, -1.0, 1.0)
        .into_iter()
        .map(|v| if v < 0.0 { -1.0 } else { 1.0 })
        .collect()
}

fn cast<T: Element>(v: &[f64]) -> Vec<T> {
    v.iter().map(|&x| T::from_f64(x)).collect()
}

/// The f64 reference: value and partials from `Dual<f64, K>` per element, elementwise sum.
fn reference<F: MapFn, const K: usize>(f: &F, inputs: &[Vec<f64>]) -> (Vec<f64>, Vec<[f64; K]>) {
    let n = inputs[0].len();
    let mut vals = Vec::with_capacity(n);
    let mut parts = Vec::with_capacity(n);
    for i in 0..n {
        let a: Vec<Dual<f64, K>> = (0..K).map(|j| Dual::seed(inputs[j][i], j)).collect();
        let r = f.eval(&a);
        vals.push(r.v);
        parts.push(r.d);
    }
    (vals, parts)
}

fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    if want.is_nan() {
        return got.is_nan();
    }
    if want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= rel * want.abs() + abs
}

/// Runs the fused kernel for `T` on `path` with every partial wanted; returns (sum, out, grads).
fn run<T: Element, F: MapFn>(path: Isa, f: &F, inputs: &[Vec<T>]) -> (T, Vec<T>, Vec<Vec<T>>) {
    let n = inputs[0].len();
    let refs: Vec<&[T]> = inputs.iter().map(|v| v.as_slice()).collect();
    let mut grads: Vec<Vec<T>> = vec![vec![T::ZERO; n]; inputs.len()];
    let mut out = vec![T::ZERO; n];
    let sum = isa::with_isa(path, || {
        let mut slots: Vec<Option<&mut [T]>> =
            grads.iter_mut().map(|g| Some(g.as_mut_slice())).collect();
        let s = fused::map_sum(f, &refs, &mut slots);
        let mut slots2: Vec<Option<&mut [T]>> = (0..inputs.len()).map(|_| None).collect();
        fused::map(f, &refs, &mut out, &mut slots2);
        s
    })
    .unwrap();
    (sum, out, grads)
}

/// `elem_rel` ULPs per unit of `cond(a)` (the chain's condition number at `a`: how much the
/// rounding of the inputs and intermediate results is amplified), relative to `|result| +
/// floor` (`floor` > 0 for chains whose terms may cancel: then the error is relative to the
/// terms, of order `floor`, not to the result).
fn check_against_reference<T: Element, F: MapFn, const K: usize>(
    f: &F,
    inputs64: &[Vec<f64>],
    elem_rel: f64,
    floor: f64,
    cond: fn(&[f64]) -> f64,
) {
    let inputs: Vec<Vec<T>> = inputs64.iter().map(|v| cast::<T>(v)).collect();
    // The reference sees exactly the rounded inputs.
    let rounded: Vec<Vec<f64>> = inputs
        .iter()
        .map(|v| v.iter().map(|x| x.to_f64()).collect())
        .collect();
    let (vals, parts) = reference::<F, K>(f, &rounded);
    let n = vals.len();
    let eps = T::EPSILON.to_f64();
    let tiny = T::MIN_POSITIVE.to_f64();
    let conds: Vec<f64> = (0..n)
        .map(|i| cond(&rounded.iter().map(|v| v[i]).collect::<Vec<f64>>()))
        .collect();
    let elem_tol = |i: usize, w: f64| elem_rel * eps * conds[i] * (w.abs() + floor) + 8.0 * tiny;
    let elem_err: f64 = (0..n).map(|i| elem_tol(i, vals[i])).sum();
    let abs_sum: f64 = vals.iter().map(|v| v.abs()).sum();
    let exact_sum: f64 = vals.iter().sum();
    let depth = (n.min(4096 / 4 + 8) + 8) as f64 + (n.div_ceil(4096).max(1) as f64).log2().ceil();
    for path in isa::test_paths() {
        let (sum, out, grads) = run::<T, F>(path, f, &inputs);
        assert!(
            close(
                sum.to_f64(),
                exact_sum,
                0.0,
                (depth + 8.0) * eps * abs_sum + elem_err
            ),
            "{path} {}: sum {sum} vs {exact_sum} (n = {n})",
            T::NAME
        );
        for i in 0..n {
            assert!(
                close(out[i].to_f64(), vals[i], 0.0, elem_tol(i, vals[i])),
                "{path} {}: value at {i}: {} vs {}",
                T::NAME,
                out[i],
                vals[i]
            );
            for j in 0..K {
                let (g, w) = (grads[j][i].to_f64(), parts[i][j]);
                assert!(
                    close(g, w, 0.0, elem_tol(i, w)),
                    "{path} {}: partial {j} at {i}: {g} vs {w}",
                    T::NAME
                );
            }
        }
    }
}

#[test]
fn logistic_every_path_f32_f64() {
    for &n in &[0usize, 1, 7, 15, 16, 17, 33, 4095, 4096, 4097, 10_000] {
        let w = data(n, 1, -3.0, 3.0);
        let x = data(n, 2, -3.0, 3.0);
        let y = labels(n, 3);
        let inputs = vec![w, x, y];
        check_against_reference::<f32, _, 3>(&Logistic, &inputs, 8.0, 0.0, logistic_cond);
        check_against_reference::<f64, _, 3>(&Logistic, &inputs, 8.0, 0.0, logistic_cond);
        check_against_reference::<f32, _, 3>(&LogisticLiteral, &inputs, 8.0, 0.0, logistic_cond);
        check_against_reference::<f64, _, 3>(&LogisticLiteral, &inputs, 8.0, 0.0, logistic_cond);
    }
}

#[test]
fn every_operation_every_path() {
    let n = 1000;
    let inputs = vec![data(n, 4, -2.0, 2.0), data(n, 5, -2.0, 2.0)];
    // The chain has about 20 operations, each within 2 ULP: 32 eps relative to the terms.
    check_against_reference::<f32, _, 2>(&Everything, &inputs, 32.0, 16.0, |_| 1.0);
    check_against_reference::<f64, _, 2>(&Everything, &inputs, 32.0, 16.0, |_| 1.0);
}

#[test]
fn dual_numbers_match_hand_derivatives() {
    let xs = data(200, 6, -2.0, 2.0);
    let ys = data(200, 7, -2.0, 2.0);
    for (&x, &y) in xs.iter().zip(&ys) {
        let a = [Dual::<f64, 2>::seed(x, 0), Dual::seed(y, 1)];
        let r = Everything.eval(&a);
        let (dx, dy) = everything_grad(x, y);
        // Same formula, different rounding order: tens of ulps of the terms at most.
        assert!(
            (r.d[0] - dx).abs() <= 1e-13 * (1.0 + dx.abs()),
            "{x} {y}: {} vs {dx}",
            r.d[0]
        );
        assert!(
            (r.d[1] - dy).abs() <= 1e-13 * (1.0 + dy.abs()),
            "{x} {y}: {} vs {dy}",
            r.d[1]
        );
    }
}

#[test]
fn scalar_path_equals_plain_f32_bitwise() {
    let n = 777;
    let (w, x, y) = (
        cast::<f32>(&data(n, 8, -5.0, 5.0)),
        cast::<f32>(&data(n, 9, -5.0, 5.0)),
        cast::<f32>(&labels(n, 10)),
    );
    let (_, out, grads) = run::<f32, _>(Isa::Scalar, &Logistic, &[w.clone(), x.clone(), y.clone()]);
    for i in 0..n {
        let r = Logistic.eval(&[
            Dual::<f32, 3>::seed(w[i], 0),
            Dual::seed(x[i], 1),
            Dual::seed(y[i], 2),
        ]);
        assert_eq!(out[i].to_bits(), r.v.to_bits(), "value at {i}");
        for j in 0..3 {
            assert_eq!(
                grads[j][i].to_bits(),
                r.d[j].to_bits(),
                "partial {j} at {i}"
            );
        }
    }
}

#[test]
fn nan_and_inf_propagate() {
    // w = NaN, an overflowing -y w x (softplus stays finite: the argument itself), and inf.
    let w = vec![f32::NAN, 1e30, f32::INFINITY, 1.0, -f32::INFINITY];
    let x = vec![1.0f32, -1e30, 1.0, 1.0, 1.0];
    let y = vec![1.0f32; 5];
    for path in isa::test_paths() {
        let (sum, out, grads) = run::<f32, _>(path, &Logistic, &[w.clone(), x.clone(), y.clone()]);
        assert!(sum.is_nan(), "{path}: a NaN element makes the sum NaN");
        assert!(out[0].is_nan() && grads[0][0].is_nan(), "{path}");
        // -y w x = +inf (rounded product 1e60 overflows): softplus(inf) = inf, d/dw = -x * 1.
        assert_eq!(out[1], f32::INFINITY, "{path}");
        assert_eq!(grads[0][1], 1e30, "{path}: -y x sigmoid(inf) = 1e30");
        // w = +inf: z = -inf, softplus = 0. The partial is NaN, not the limit -0: forward mode
        // multiplies the zero tangent of y by w = inf (documented).
        assert_eq!(out[2], 0.0, "{path}");
        assert!(grads[0][2].is_nan(), "{path}");
        // w = -inf: z = +inf, loss +inf.
        assert_eq!(out[4], f32::INFINITY, "{path}");
        // The finite element is unaffected by its neighbours.
        let z = -1.0f64;
        assert!(
            (out[3] as f64 - (1.0 + z.exp()).ln()).abs() < 1e-6,
            "{path}"
        );
    }
}

#[test]
fn thread_count_invariant_bits() {
    // Several hundred blocks, not a multiple of anything.
    let n = 4096 * 300 + 1234;
    let inputs: Vec<Vec<f32>> = vec![
        cast(&data(n, 11, -4.0, 4.0)),
        cast(&data(n, 12, -4.0, 4.0)),
        cast(&labels(n, 13)),
    ];
    let go = |policy: Parallelism, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            with_parallelism(policy, || run::<f32, _>(isa::active(), &Logistic, &inputs))
        })
    };
    let (s1, o1, g1) = go(Parallelism::Sequential, 1);
    for (policy, threads) in [
        (Parallelism::Always, 2),
        (Parallelism::Always, 3),
        (Parallelism::Auto, 4),
    ] {
        let (s, o, g) = go(policy, threads);
        assert_eq!(s.to_bits(), s1.to_bits(), "{policy:?} on {threads} threads");
        assert!(o == o1 && g == g1, "{policy:?} on {threads} threads");
    }
}

#[test]
fn lengths_and_arity_are_checked() {
    let a = [1.0f32; 4];
    let b = [1.0f32; 3];
    let mut g = [0.0f32; 3];
    let e = fused::try_map_sum(&Logistic, &[&a, &b, &a], &mut []).unwrap_err();
    assert_eq!(
        e,
        KernelError::LengthMismatch {
            op: "map_sum",
            expected: 4,
            got: 3
        }
    );
    let e =
        fused::try_map_sum(&Logistic, &[&a, &a, &a], &mut [Some(&mut g), None, None]).unwrap_err();
    assert_eq!(e.to_string(), "map_sum: length mismatch: expected 4, got 3");
    assert!(matches!(
        fused::try_map_sum(&Logistic, &[&a, &a], &mut []),
        Err(KernelError::Invalid { .. })
    ));
    let mut out = [0.0f32; 3];
    assert!(matches!(
        fused::try_map(&Logistic, &[&a, &a, &a], &mut out, &mut []),
        Err(KernelError::LengthMismatch {
            expected: 4,
            got: 3,
            ..
        })
    ));
    // Nothing was written.
    assert_eq!(g, [0.0; 3]);
    let r = std::panic::catch_unwind(|| fused::map_sum(&Logistic, &[&a, &b, &a], &mut []));
    let msg = *r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("expected 4, got 3"), "{msg}");
}

/// Nine inputs of which five want partials: two passes.
struct Wide;
impl MapFn for Wide {
    const ARITY: usize = 6;
    #[inline(always)]
    fn eval<R: Real>(&self, a: &[R]) -> R {
        (a[0] * a[1] + a[2] * a[3]).tanh() * a[4].exp() - a[5].sigmoid()
    }
}

#[test]
fn more_partials_than_one_pass_carries() {
    let n = 5000;
    let ins: Vec<Vec<f64>> = (0..6).map(|j| data(n, 20 + j, -1.0, 1.0)).collect();
    check_against_reference::<f64, _, 6>(&Wide, &ins, 16.0, 4.0, |_| 1.0);
    check_against_reference::<f32, _, 6>(&Wide, &ins, 16.0, 4.0, |_| 1.0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn random_lengths_and_values(n in 0usize..9000, seed in 0u64..1000, scale in 0.1f64..20.0) {
        let inputs = vec![
            data(n, seed, -scale, scale),
            data(n, seed + 1, -scale, scale),
            labels(n, seed + 2),
        ];
        check_against_reference::<f32, _, 3>(&Logistic, &inputs, 8.0, 0.0, logistic_cond);
        check_against_reference::<f64, _, 3>(&Logistic, &inputs, 8.0, 0.0, logistic_cond);
    }
}

/// ULPs between `got` and the `f64` value `want` rounded to `f32`, with results below the
/// smallest normal compared absolutely (any error up to `MIN_POSITIVE` counts as 0).
fn ulps_f32(got: f32, want: f64) -> f64 {
    if want.is_nan() {
        return if got.is_nan() { 0.0 } else { f64::INFINITY };
    }
    if want.abs() < f32::MIN_POSITIVE as f64 {
        return if (got as f64 - want).abs() <= f32::MIN_POSITIVE as f64 {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let w = want as f32;
    if got == w {
        return 0.0;
    }
    let ulp = (f32::from_bits(w.abs().to_bits() + 1) - w.abs()) as f64;
    (got as f64 - want).abs() / ulp
}

#[test]
fn softplus_sigmoid_sweep_every_path() {
    use nabla_kernels::simd::{Simd, SimdOp};
    struct Op<'a>(&'a [f32], &'a mut [f32], &'a mut [f32]);
    impl SimdOp<f32> for Op<'_> {
        type Output = ();
        #[inline(always)]
        fn run<S: Simd<f32>>(self, s: S) {
            let l = S::LANES;
            let mut i = 0;
            while i < self.0.len() {
                let m = l.min(self.0.len() - i);
                let v = s.load_partial(&self.0[i..i + m], 0.0);
                let (p, q) = nabla_kernels::math::softplus_sigmoid(s, v);
                s.store_partial(&mut self.1[i..i + m], p);
                s.store_partial(&mut self.2[i..i + m], q);
                i += m;
            }
        }
    }
    // Every 131st bit pattern of the finite f32s, both signs, plus the specials.
    let mut x: Vec<f32> = (0..0x7f80_0000u32)
        .step_by(131)
        .flat_map(|b| [f32::from_bits(b), -f32::from_bits(b)])
        .collect();
    x.extend([f32::INFINITY, f32::NEG_INFINITY, f32::NAN, 0.0, -0.0]);
    let sp_ref = |x: f64| x.max(0.0) + (-x.abs()).exp().ln_1p();
    let sg_ref = |x: f64| {
        if x >= 0.0 {
            1.0 / (1.0 + (-x).exp())
        } else {
            x.exp() / (1.0 + x.exp())
        }
    };
    for path in isa::test_paths() {
        let (mut p, mut q) = (vec![0.0f32; x.len()], vec![0.0f32; x.len()]);
        isa::with_isa(path, || f32::dispatch(path, Op(&x, &mut p, &mut q))).unwrap();
        let (mut worst_p, mut worst_q) = (0.0f64, 0.0f64);
        for i in 0..x.len() {
            let xi = x[i] as f64;
            worst_p = worst_p.max(ulps_f32(p[i], sp_ref(xi)));
            worst_q = worst_q.max(ulps_f32(q[i], sg_ref(xi)));
        }
        assert!(worst_p <= 3.0, "{path}: softplus {worst_p} ULP");
        assert!(worst_q <= 2.5, "{path}: sigmoid {worst_q} ULP");
        eprintln!("{path}: softplus_sigmoid max {worst_p:.2} / {worst_q:.2} ULP");
    }
}
