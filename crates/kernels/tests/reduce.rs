//! Reductions against an `f64` (compensated) reference, on every instruction-set path.
//!
//! Tolerances: a sum computed with the crate's blocked scheme has a summation depth `d` (the
//! longest chain of additions any element goes through): at most `4096 / 8 = 512` in a block on
//! the scalar path, plus 3 accumulator levels, plus `log2(LANES) <= 4` lane levels, plus
//! `ceil(log2(blocks))`. The classical bound is then `|err| <= d * eps * sum |x_i|`; the tests
//! use `DEPTH = min(n, 520) + 8 + log2(blocks)` with a factor 1.5 for second-order terms. The
//! references are accurate to about `eps_f64`, negligible at these tolerances.

use nabla_kernels::Element;
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use proptest::prelude::*;

// ---------------------------------------------------------------- references

/// Neumaier-compensated sum of `f64`s: error about `2 eps |s| + n^2 eps^2 sum|x|`.
fn neumaier(xs: impl IntoIterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
    }
    s + c
}

/// Dot product with exact products (FMA error-free transformation) and a compensated sum.
fn ref_dot(x: &[f64], y: &[f64]) -> f64 {
    let mut terms = Vec::with_capacity(2 * x.len());
    for (a, b) in x.iter().zip(y) {
        let p = a * b;
        terms.push(p);
        terms.push(a.mul_add(*b, -p));
    }
    neumaier(terms)
}

/// Summation depth bound for `n` elements (see the module docs).
fn depth(n: usize) -> f64 {
    let blocks = n.div_ceil(4096).max(1);
    (n.min(520) + 8) as f64 + (blocks as f64).log2().ceil()
}

fn to64<T: Element>(x: &[T]) -> Vec<f64> {
    x.iter().map(|v| v.to_f64()).collect()
}

/// `a` and `b` are both NaN, or equal infinities, or within `tol`.
fn close(a: f64, b: f64, tol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= tol
}

/// Runs `f` on every path this CPU has.
fn on_every_path(mut f: impl FnMut(Isa)) {
    for path in isa::test_paths() {
        isa::with_isa(path, || f(path)).unwrap();
    }
}

// ---------------------------------------------------------------- value strategies

/// A buffer of `len + offset` values; the test uses `[offset..]` (misaligned starts).
fn values<T: Element>(
    len: std::ops::Range<usize>,
    specials: bool,
) -> impl Strategy<Value = (Vec<T>, usize)> {
    let scale = prop_oneof![Just(1.0f64), Just(1e-3), Just(1e3), Just(1e10)];
    (len, 0usize..4, scale, any::<u64>(), 0u32..8).prop_map(move |(n, off, scale, seed, sp)| {
        let mut rng = seed | 1;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        let mut v: Vec<T> = (0..n + off)
            .map(|_| T::from_f64(((next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) * scale))
            .collect();
        if specials && n > 0 && sp < 4 {
            let special = [T::NAN, T::INFINITY, T::NEG_INFINITY, T::NAN][sp as usize];
            let at = off + (next() as usize) % n;
            v[at] = special;
        }
        (v, off)
    })
}

// ---------------------------------------------------------------- checks

fn check_sum_family<T: Element>(x: &[T]) {
    let n = x.len();
    let x64 = to64(x);
    let eps = T::EPSILON.to_f64();
    let abs_sum: f64 = x64.iter().map(|v| v.abs()).sum();
    let want = if x64.iter().all(|v| v.is_finite()) {
        neumaier(x64.iter().copied())
    } else {
        x64.iter().sum() // IEEE: NaN, or the infinity
    };
    let tol = 1.5 * depth(n) * eps * abs_sum;
    on_every_path(|path| {
        let got = nabla_kernels::sum(x).to_f64();
        assert!(
            close(got, want, tol),
            "sum {path} n={n}: {got} vs {want} (tol {tol})"
        );
        let got = nabla_kernels::mean(x).to_f64();
        let want_mean = want / n as f64;
        let tol_mean = tol / n as f64 + 2.0 * eps * want_mean.abs();
        assert!(
            n == 0 && got.is_nan() || close(got, want_mean, tol_mean),
            "mean {path} n={n}: {got} vs {want_mean}"
        );
    });
}

fn check_dot<T: Element>(x: &[T], y: &[T]) {
    let (x64, y64) = (to64(x), to64(y));
    let eps = T::EPSILON.to_f64();
    let abs: f64 = x64.iter().zip(&y64).map(|(a, b)| (a * b).abs()).sum();
    let want = ref_dot(&x64, &y64);
    let tol = 1.5 * (depth(x.len()) + 1.0) * eps * abs;
    on_every_path(|path| {
        let got = nabla_kernels::dot(x, y).to_f64();
        assert!(
            close(got, want, tol),
            "dot {path} n={}: {got} vs {want} (tol {tol})",
            x.len()
        );
    });
}

/// Scalar reference for max/min/argmax/argmin with the documented NaN rules.
fn ref_extreme(x: &[f64], want_max: bool) -> (f64, Option<usize>) {
    if let Some(i) = x.iter().position(|v| v.is_nan()) {
        return (f64::NAN, Some(i));
    }
    let mut best: Option<(f64, usize)> = None;
    for (i, &v) in x.iter().enumerate() {
        let better = match best {
            None => true,
            Some((b, _)) => (want_max && v > b) || (!want_max && v < b),
        };
        if better {
            best = Some((v, i));
        }
    }
    match best {
        None => (
            if want_max {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            None,
        ),
        Some((v, i)) => (v, Some(i)),
    }
}

fn check_extremes<T: Element>(x: &[T]) {
    let x64 = to64(x);
    let (mx, amx) = ref_extreme(&x64, true);
    let (mn, amn) = ref_extreme(&x64, false);
    on_every_path(|path| {
        let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
        assert!(same(nabla_kernels::max(x).to_f64(), mx), "max {path}");
        assert!(same(nabla_kernels::min(x).to_f64(), mn), "min {path}");
        assert_eq!(nabla_kernels::argmax(x), amx, "argmax {path}");
        assert_eq!(nabla_kernels::argmin(x), amn, "argmin {path}");
    });
}

/// L2 norm reference: scaled by the largest magnitude, compensated sum in f64.
fn ref_l2(x: &[f64]) -> f64 {
    if x.iter().any(|v| v.is_nan()) {
        return f64::NAN;
    }
    if x.iter().any(|v| v.is_infinite()) {
        return f64::INFINITY;
    }
    let amax = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if amax == 0.0 {
        return 0.0;
    }
    amax * neumaier(x.iter().map(|v| (v / amax) * (v / amax))).sqrt()
}

fn check_l2<T: Element>(x: &[T]) {
    let want = ref_l2(&to64(x));
    let eps = T::EPSILON.to_f64();
    // Relative: half the sum-of-squares bound, the square root, the final scaling.
    // Plus half the spacing of subnormals, for results that land there.
    let tol = (0.75 * depth(x.len()) + 3.0) * eps * want + (T::MIN_POSITIVE * T::EPSILON).to_f64();
    on_every_path(|path| {
        let got = nabla_kernels::l2_norm(x).to_f64();
        assert!(
            close(got, want, tol),
            "l2 {path} n={}: {got} vs {want}",
            x.len()
        );
    });
}

fn ref_variance(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let m = neumaier(x.iter().copied()) / n;
    let d: Vec<f64> = x.iter().map(|v| v - m).collect();
    let s1 = neumaier(d.iter().copied());
    (neumaier(d.iter().map(|v| v * v)) - s1 * s1 / n) / n
}

fn check_variance<T: Element>(x: &[T]) {
    let x64 = to64(x);
    let want = if x.is_empty() {
        f64::NAN
    } else {
        ref_variance(&x64)
    };
    let eps = T::EPSILON.to_f64();
    let n = x.len().max(1) as f64;
    let mean = neumaier(x64.iter().copied()) / n;
    let d = depth(x.len());
    // Corrected two-pass: relative (d + 4) eps on the centered sum of squares, plus the
    // second-order effect of the rounded mean, (d eps |mean|)^2.
    let tol = 1.5 * (d + 4.0) * eps * want.abs() + 2.0 * (d * eps * mean.abs()).powi(2);
    on_every_path(|path| {
        let got = nabla_kernels::variance(x).to_f64();
        assert!(
            close(got, want, tol),
            "variance {path} n={}: {got} vs {want} (tol {tol})",
            x.len()
        );
    });
}

// ---------------------------------------------------------------- proptests

macro_rules! slice_props {
    ($modname:ident, $t:ty) => {
        mod $modname {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(192))]

                #[test]
                fn sum_mean((v, off) in values::<$t>(0..700, false)) {
                    check_sum_family(&v[off..]);
                }

                #[test]
                fn sum_mean_multi_block((v, off) in values::<$t>(4090..13000, false)) {
                    check_sum_family(&v[off..]);
                }

                #[test]
                fn sum_specials((v, off) in values::<$t>(1..300, true)) {
                    check_sum_family(&v[off..]);
                }

                #[test]
                fn dot((v, off) in values::<$t>(0..700, false), seed in any::<u64>()) {
                    let x = &v[off..];
                    let y: Vec<$t> = x.iter().enumerate()
                        .map(|(i, a)| *a * <$t>::from_f64(((seed >> (i % 50)) & 7) as f64 - 3.5))
                        .collect();
                    check_dot(x, &y[..]);
                }

                #[test]
                fn dot_multi_block((v, off) in values::<$t>(4090..10000, false)) {
                    let x = &v[off..];
                    let y: Vec<$t> = x.iter().rev().copied().collect();
                    check_dot(x, &y);
                }

                #[test]
                fn extremes((v, off) in values::<$t>(0..700, true)) {
                    check_extremes(&v[off..]);
                }

                #[test]
                fn extremes_multi_block((v, off) in values::<$t>(4090..13000, true)) {
                    check_extremes(&v[off..]);
                }

                #[test]
                fn extremes_ties(n in 1usize..300, at in any::<usize>(), val in -3i32..3) {
                    // Few distinct values: many ties; the first index must win.
                    let x: Vec<$t> = (0..n).map(|i| ((i * 7 + at) % 5) as $t - 2.0 + val as $t).collect();
                    check_extremes(&x);
                    let all_neg_inf = vec![<$t>::NEG_INFINITY; n];
                    check_extremes(&all_neg_inf);
                }

                #[test]
                fn l2((v, off) in values::<$t>(0..700, true)) {
                    check_l2(&v[off..]);
                }

                #[test]
                fn l2_multi_block((v, off) in values::<$t>(4090..10000, false)) {
                    check_l2(&v[off..]);
                }

                #[test]
                fn variance((v, off) in values::<$t>(0..700, false), shift in -10.0f64..10.0) {
                    let x: Vec<$t> = v[off..].iter().map(|a| *a + <$t>::from_f64(shift)).collect();
                    check_variance(&x);
                }

                #[test]
                fn variance_multi_block((v, off) in values::<$t>(4090..10000, false)) {
                    check_variance(&v[off..]);
                }

                #[test]
                fn rows(
                    rows in 0usize..6,
                    cols in 0usize..80,
                    pad in 0usize..4,
                    off in 0usize..4,
                    seed in any::<u64>(),
                    special in any::<bool>(),
                ) {
                    check_rows::<$t>(rows, cols, cols + pad, off, seed, special);
                }
            }
        }
    };
}

slice_props!(f32_props, f32);
slice_props!(f64_props, f64);

type Whole<T> = fn(&[T]) -> T;
type Rows<T> = fn(&[T], usize, usize, usize, &mut [T]);

/// Every row-wise form against its whole-slice form applied to each row (same bits), on
/// every path; the whole-slice forms are checked against references above.
fn check_rows<T: Element>(
    rows: usize,
    cols: usize,
    ld: usize,
    off: usize,
    seed: u64,
    special: bool,
) {
    let len = off + if rows == 0 { 0 } else { (rows - 1) * ld + cols };
    let mut rng = seed | 1;
    let mut next = move || {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((rng >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    };
    let mut buf: Vec<T> = (0..len).map(|_| T::from_f64(next() * 10.0)).collect();
    let ybuf: Vec<T> = (0..len).map(|_| T::from_f64(next())).collect();
    if special && rows > 0 && cols > 0 {
        buf[off + (rows - 1) * ld + cols / 2] = T::NAN;
    }
    let x = &buf[off..];
    let y = &ybuf[off..];
    let row = |m: &[T], r: usize| -> Vec<T> { m[r * ld..r * ld + cols].to_vec() };
    let bits = |v: T| v.to_bits_u64();
    on_every_path(|path| {
        let mut out = vec![T::ZERO; rows];
        let mut idx = vec![0usize; rows];
        let pairs: [(&str, Whole<T>, Rows<T>); 6] = [
            ("sum", nabla_kernels::sum, nabla_kernels::sum_rows),
            ("max", nabla_kernels::max, nabla_kernels::max_rows),
            ("min", nabla_kernels::min, nabla_kernels::min_rows),
            ("l2", nabla_kernels::l2_norm, nabla_kernels::l2_norm_rows),
            ("mean", nabla_kernels::mean, nabla_kernels::mean_rows),
            (
                "variance",
                nabla_kernels::variance,
                nabla_kernels::variance_rows,
            ),
        ];
        for (name, whole, by_rows) in pairs {
            by_rows(x, rows, cols, ld, &mut out);
            for (r, &got) in out.iter().enumerate() {
                let want = whole(&row(x, r));
                assert_eq!(
                    bits(got),
                    bits(want),
                    "{name}_rows {path} r={r} rows={rows} cols={cols} ld={ld}: {got} vs {want}",
                );
            }
        }
        nabla_kernels::dot_rows(x, y, rows, cols, ld, ld, &mut out);
        for (r, &got) in out.iter().enumerate() {
            assert_eq!(
                bits(got),
                bits(nabla_kernels::dot(&row(x, r), &row(y, r))),
                "dot_rows {path}"
            );
        }
        nabla_kernels::argmax_rows(x, rows, cols, ld, &mut idx);
        for (r, &got) in idx.iter().enumerate() {
            let want = nabla_kernels::argmax(&row(x, r)).unwrap_or(usize::MAX);
            assert_eq!(got, want, "argmax_rows {path}");
        }
        nabla_kernels::argmin_rows(x, rows, cols, ld, &mut idx);
        for (r, &got) in idx.iter().enumerate() {
            let want = nabla_kernels::argmin(&row(x, r)).unwrap_or(usize::MAX);
            assert_eq!(got, want, "argmin_rows {path}");
        }
    });
}

// ---------------------------------------------------------------- fixed cases

#[test]
fn empty_conventions() {
    on_every_path(|_| {
        let e: [f32; 0] = [];
        assert_eq!(nabla_kernels::sum(&e), 0.0);
        assert_eq!(nabla_kernels::dot(&e, &e), 0.0);
        assert_eq!(nabla_kernels::max(&e), f32::NEG_INFINITY);
        assert_eq!(nabla_kernels::min(&e), f32::INFINITY);
        assert_eq!(nabla_kernels::argmax(&e), None);
        assert_eq!(nabla_kernels::argmin(&e), None);
        assert_eq!(nabla_kernels::l2_norm(&e), 0.0);
        assert!(nabla_kernels::mean(&e).is_nan());
        assert!(nabla_kernels::variance(&e).is_nan());
    });
}

#[test]
fn nan_rules() {
    on_every_path(|path| {
        for n in [1usize, 5, 17, 100, 5000] {
            for at in [0, n / 2, n - 1] {
                let mut x: Vec<f64> = (0..n).map(|i| i as f64).collect();
                x[at] = f64::NAN;
                if at + 1 < n {
                    x[n - 1] = f64::NAN; // a later NaN must not win
                }
                assert!(nabla_kernels::max(&x).is_nan(), "{path}");
                assert!(nabla_kernels::min(&x).is_nan(), "{path}");
                assert_eq!(nabla_kernels::argmax(&x), Some(at), "{path} n={n}");
                assert_eq!(nabla_kernels::argmin(&x), Some(at), "{path} n={n}");
                assert!(nabla_kernels::l2_norm(&x).is_nan(), "{path}");
            }
        }
    });
}

#[test]
#[should_panic(expected = "dot: length mismatch: expected 3, got 2")]
fn dot_length_mismatch_panics() {
    nabla_kernels::dot(&[1.0f32, 2.0, 3.0], &[1.0, 2.0]);
}

#[test]
fn try_dot_reports_lengths() {
    let e = nabla_kernels::try_dot(&[1.0f64; 4], &[1.0; 5]).unwrap_err();
    assert_eq!(
        e,
        nabla_kernels::KernelError::LengthMismatch {
            op: "dot",
            expected: 4,
            got: 5
        }
    );
}

#[test]
#[should_panic(expected = "sum_rows")]
fn rows_bad_stride_panics() {
    let mut out = [0.0f32; 2];
    nabla_kernels::sum_rows(&[0.0f32; 8], 2, 4, 3, &mut out);
}

#[test]
#[should_panic(expected = "the view needs 7 elements but the slice has 6")]
fn rows_short_slice_panics() {
    let mut out = [0.0f32; 2];
    nabla_kernels::sum_rows(&[0.0f32; 6], 2, 3, 4, &mut out);
}

#[test]
fn l2_no_overflow_or_underflow_f32() {
    on_every_path(|path| {
        for n in [2usize, 7, 100, 5000, 20000] {
            for scale in [1e30f32, 1e-30, 1e38, 1e-38, 1e-44] {
                // Entries scale * (1, 2, 3, ...) mod 5 + 1.
                let x: Vec<f32> = (0..n).map(|i| scale * ((i % 5) as f32 + 1.0)).collect();
                let want = ref_l2(&to64(&x));
                let got = nabla_kernels::l2_norm(&x) as f64;
                // 1e-44 is subnormal: its entries themselves carry a relative error of ~10%.
                // Results in the subnormal range carry an absolute error of up to half their
                // spacing, 2^-150.
                assert!(
                    // (f32 norms beyond f32::MAX are inf, as the rounded reference.)
                    got == (want as f32) as f64
                        || (got - want).abs() <= 1e-5 * want + 2f64.powi(-150),
                    "{path} n={n} scale={scale}: {got} vs {want}"
                );
            }
            // Mixed: one huge entry dominates, tiny ones must not break anything.
            let mut x = vec![1e-30f32; n];
            x[n / 2] = 3e30;
            assert!((nabla_kernels::l2_norm(&x) / 3e30 - 1.0).abs() < 1e-6);
            // A norm beyond f32::MAX is inf; a vector of zeros has norm 0.
            assert_eq!(nabla_kernels::l2_norm(&vec![3e38f32; n]), f32::INFINITY);
            assert_eq!(nabla_kernels::l2_norm(&vec![0.0f32; n]), 0.0);
            let mut x = vec![1.0f32; n];
            x[0] = f32::NEG_INFINITY;
            assert_eq!(nabla_kernels::l2_norm(&x), f32::INFINITY);
        }
    });
}

#[test]
fn l2_no_overflow_or_underflow_f64() {
    on_every_path(|path| {
        for n in [2usize, 9, 5000] {
            for scale in [1e300f64, 1e-300, 1e-310] {
                let x: Vec<f64> = (0..n).map(|i| scale * ((i % 5) as f64 + 1.0)).collect();
                let want = ref_l2(&x);
                let got = nabla_kernels::l2_norm(&x);
                assert!(
                    (got / want - 1.0).abs() <= 1e-12,
                    "{path} n={n} scale={scale}: {got} vs {want}"
                );
            }
        }
        assert_eq!(nabla_kernels::l2_norm(&[3e300f64, 4e300]), 5e300);
    });
}

/// Same bits sequentially and on rayon's pool, for sizes spanning several blocks.
#[test]
fn deterministic_across_thread_counts() {
    let sizes = [4096 * 3 + 5, 100_003, (1 << 20) + 77];
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    for n in sizes {
        let x: Vec<f32> = (0..n).map(|_| next()).collect();
        let y: Vec<f32> = (0..n).map(|_| next()).collect();
        let x64: Vec<f64> = x.iter().map(|&v| v as f64 * 1e3 + 7.0).collect();
        let run = || {
            (
                nabla_kernels::sum(&x).to_bits(),
                nabla_kernels::dot(&x, &y).to_bits(),
                nabla_kernels::max(&x).to_bits(),
                nabla_kernels::argmin(&x),
                nabla_kernels::l2_norm(&x).to_bits(),
                nabla_kernels::variance(&x).to_bits(),
                nabla_kernels::sum(&x64).to_bits(),
                nabla_kernels::variance(&x64).to_bits(),
                nabla_kernels::l2_norm(&x64).to_bits(),
                {
                    let mut out = vec![0.0f32; 97];
                    nabla_kernels::sum_rows(&x, 97, n / 97, n / 97, &mut out);
                    out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                },
            )
        };
        on_every_path(|path| {
            let one = with_parallelism(Parallelism::Sequential, run);
            let many = with_parallelism(Parallelism::Always, run);
            let auto = with_parallelism(Parallelism::Auto, run);
            assert_eq!(one, many, "{path} n={n}");
            assert_eq!(one, auto, "{path} n={n}");
        });
        // A pool of a different size must not matter either.
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let three = pool.install(|| with_parallelism(Parallelism::Always, run));
        assert_eq!(with_parallelism(Parallelism::Sequential, run), three);
    }
}

/// Classic recursive pairwise summation with a base case of 8, in `f32`.
fn pairwise(x: &[f32]) -> f32 {
    if x.len() <= 8 {
        x.iter().fold(0.0f32, |s, v| s + v)
    } else {
        let mid = x.len() / 2;
        pairwise(&x[..mid]) + pairwise(&x[mid..])
    }
}

/// The error of `sum` on 2^24 uniform `[0, 1)` `f32` values, against the exact sum (the values
/// are multiples of 2^-24 below 1, so their `f64` sum is exact), over several seeds: its mean
/// absolute error must be within 2x that of pairwise summation, on every path.
///
/// The sum is near 2^23, where the `f32` spacing is 0.5 or 1: both methods are at the level of
/// the final rounding (a single seed would compare noise), hence the mean over 24 seeds
/// (`PAIRWISE_TRIALS` overrides). Measured: mean |error| 0.18-0.24 for every path, pairwise 0.19.
#[test]
fn sum_accuracy_vs_pairwise_2_pow_24() {
    let n = 1usize << 24;
    let trials: usize = std::env::var("PAIRWISE_TRIALS").map_or(24, |v| v.parse().unwrap());
    let paths = isa::test_paths();
    let mut ours = vec![0.0f64; paths.len()];
    let mut pair = 0.0f64;
    let mut x = vec![0.0f32; n];
    for t in 0..trials {
        let mut rng = 0x2545_f491_4f6c_dd1du64.wrapping_mul(t as u64 + 1) | 1;
        for v in x.iter_mut() {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            *v = (rng >> 40) as f32 * (1.0 / (1u64 << 24) as f32);
        }
        let exact: f64 = x.iter().map(|&v| v as f64).sum();
        let p = pairwise(&x) as f64 - exact;
        pair += p.abs();
        let mut line = format!("trial {t}: exact {exact} pairwise {p:+.3}");
        for (k, &path) in paths.iter().enumerate() {
            let s = isa::with_isa(path, || nabla_kernels::sum(&x)).unwrap();
            ours[k] += (s as f64 - exact).abs();
            // Near 2^23 the f32 spacing is 0.5 below and 1.0 above: the sum is within 1.5
            // spacings of the exact value in every trial.
            assert!(
                (s as f64 - exact).abs() <= 1.5,
                "{path} trial {t}: {s} vs {exact}"
            );
            line += &format!(" {path} {:+.3}", s as f64 - exact);
        }
        eprintln!("{line}");
    }
    let pair = pair / trials as f64;
    for (k, path) in paths.iter().enumerate() {
        let e = ours[k] / trials as f64;
        eprintln!(
            "2^24 uniform f32 sum, mean |error| over {trials} seeds: {path}: {e:.3} (pairwise: {pair:.3}; ratio {:.2}; relative {:.2e})",
            e / pair,
            e / (n as f64 / 2.0)
        );
        assert!(e <= 2.0 * pair, "{path}: {e} vs pairwise {pair}");
    }
}

// ---------------------------------------------------------------- throughput probe

/// Throughput of the reductions (not a benchmark: `cargo test --release --test reduce --
/// --ignored --nocapture probe`).
#[test]
#[ignore]
fn probe_throughput() {
    use std::hint::black_box;
    use std::time::Instant;
    fn rate(n: usize, mut f: impl FnMut()) -> f64 {
        let reps = (1usize << 26) / n.max(1) + 3;
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
    for n in [
        1024usize,
        4096,
        1 << 14,
        1 << 16,
        1 << 18,
        1 << 20,
        1 << 22,
        1 << 24,
    ] {
        // 64-byte aligned starts, or misaligned by 4 bytes with PROBE_MISALIGN=1.
        let mis = std::env::var("PROBE_MISALIGN").is_ok() as usize;
        fn aligned<T: Copy + Default>(n: usize, mis: usize) -> (Vec<T>, usize) {
            let v = vec![T::default(); n + 64];
            let a = v.as_ptr().align_offset(64) + mis;
            (v, a)
        }
        let (mut xb, xo) = aligned::<f32>(n, mis);
        let (mut yb, yo) = aligned::<f32>(n, mis);
        let (mut zb, zo) = aligned::<f64>(n, mis);
        for i in 0..n {
            xb[xo + i] = (i % 7) as f32 * 0.25;
            yb[yo + i] = (i % 5) as f32 * 0.5;
            zb[zo + i] = xb[xo + i] as f64;
        }
        let (x, y, x64) = (&xb[xo..xo + n], &yb[yo..yo + n], &zb[zo..zo + n]);
        for path in isa::test_paths() {
            if path < Isa::Avx2 && n > 1 << 16 || std::env::var("PROBE_PAR").is_err() && n > 1 << 22
            {
                continue;
            }
            isa::with_isa(path, || {
                let pols: &[Parallelism] = if std::env::var("PROBE_PAR").is_ok() {
                    &[Parallelism::Sequential, Parallelism::Always]
                } else {
                    &[Parallelism::Sequential]
                };
                for &pol in pols {
                    with_parallelism(pol, || {
                        let s = rate(n, || {
                            black_box(nabla_kernels::sum(black_box(x)));
                        });
                        let d = rate(n, || {
                            black_box(nabla_kernels::dot(black_box(x), black_box(y)));
                        });
                        let s64 = rate(n, || {
                            black_box(nabla_kernels::sum(black_box(x64)));
                        });
                        let m = rate(n, || {
                            black_box(nabla_kernels::max(black_box(x)));
                        });
                        let a = rate(n, || {
                            black_box(nabla_kernels::argmax(black_box(x)));
                        });
                        let l = rate(n, || {
                            black_box(nabla_kernels::l2_norm(black_box(x)));
                        });
                        let v = rate(n, || {
                            black_box(nabla_kernels::variance(black_box(x)));
                        });
                        eprintln!(
                            "n={n:>9} {path:>6} {pol:>10?}: Gelem/s sum {s:6.2} dot {d:6.2} sum64 {s64:6.2} max {m:6.2} argmax {a:6.2} l2 {l:6.2} var {v:6.2}"
                        );
                    })
                }
            })
            .unwrap();
        }
    }
}

// ---------------------------------------------------------------- try_ forms: errors

/// One bad call: the op, its `try_` form, its panicking form, the error, and the two sizes the
/// error (and so the panic message) must name.
type ErrCase = (
    &'static str,
    Box<dyn Fn() -> Result<(), nabla_kernels::KernelError>>,
    Box<dyn Fn()>,
    nabla_kernels::KernelError,
    [usize; 2],
);

/// A view needing `needed` elements over a slice of `len`.
fn oob(op: &'static str, needed: usize, len: usize) -> (nabla_kernels::KernelError, [usize; 2]) {
    let e = nabla_kernels::KernelError::OutOfBounds { op, needed, len };
    (e, [needed, len])
}

/// A row stride `ld` smaller than `cols`.
fn bad_ld(op: &'static str, ld: usize, cols: usize) -> (nabla_kernels::KernelError, [usize; 2]) {
    let reason = format!("row stride ld = {ld} is smaller than cols = {cols}");
    (
        nabla_kernels::KernelError::Invalid { op, reason },
        [ld, cols],
    )
}

/// An output of `got` elements where `expected` are needed.
fn mismatch(
    op: &'static str,
    expected: usize,
    got: usize,
) -> (nabla_kernels::KernelError, [usize; 2]) {
    let e = nabla_kernels::KernelError::LengthMismatch { op, expected, got };
    (e, [expected, got])
}

/// Builds an [`ErrCase`] calling `try_name` and `name` with the same arguments.
macro_rules! err_case {
    ($name:ident, $try_name:ident, ($($arg:expr),*), $want:expr) => {{
        let (want, sizes) = $want;
        (
            stringify!($name),
            Box::new(|| nabla_kernels::$try_name($($arg),*))
                as Box<dyn Fn() -> Result<(), nabla_kernels::KernelError>>,
            Box::new(|| nabla_kernels::$name($($arg),*)) as Box<dyn Fn()>,
            want,
            sizes,
        )
    }};
}

/// The `try_` form returns exactly the error; the panicking form panics with
/// `"nabla-kernels: {error}"`, which names the op and both sizes.
fn check_err_cases(cases: Vec<ErrCase>) {
    for (op, try_form, panicking, want, [a, b]) in cases {
        assert_eq!(try_form(), Err(want.clone()), "{op}");
        let payload =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(panicking)).expect_err(op);
        let msg = payload
            .downcast_ref::<String>()
            .expect("a formatted panic message");
        assert_eq!(*msg, format!("nabla-kernels: {want}"), "{op}");
        assert!(msg.contains(op), "{msg}");
        assert!(
            msg.contains(&a.to_string()) && msg.contains(&b.to_string()),
            "{msg}"
        );
    }
}

fn zeros(n: usize) -> Vec<f32> {
    vec![0.0; n]
}

#[test]
fn try_rows_report_exact_errors() {
    // 5 x 7 with ld = 9 needs 4 * 9 + 7 = 43 elements.
    macro_rules! one_input {
        ($cases:ident: $($name:ident, $try_name:ident, $zero:expr;)*) => {$(
            let op = stringify!($name);
            $cases.push(err_case!($name, $try_name, (&zeros(40), 5, 7, 9, &mut [$zero; 5]), oob(op, 43, 40)));
            $cases.push(err_case!($name, $try_name, (&zeros(64), 5, 7, 6, &mut [$zero; 5]), bad_ld(op, 6, 7)));
            $cases.push(err_case!($name, $try_name, (&zeros(43), 5, 7, 9, &mut [$zero; 4]), mismatch(op, 5, 4)));
        )*};
    }
    let mut cases: Vec<ErrCase> = Vec::new();
    one_input!(cases:
        sum_rows, try_sum_rows, 0.0f32;
        max_rows, try_max_rows, 0.0f32;
        min_rows, try_min_rows, 0.0f32;
        argmax_rows, try_argmax_rows, 0usize;
        argmin_rows, try_argmin_rows, 0usize;
        l2_norm_rows, try_l2_norm_rows, 0.0f32;
        mean_rows, try_mean_rows, 0.0f32;
        variance_rows, try_variance_rows, 0.0f32;
    );
    let op = "dot_rows";
    cases.extend([
        err_case!(
            dot_rows,
            try_dot_rows,
            (&zeros(40), &zeros(43), 5, 7, 9, 9, &mut zeros(5)),
            oob(op, 43, 40)
        ),
        err_case!(
            dot_rows,
            try_dot_rows,
            (&zeros(43), &zeros(40), 5, 7, 9, 9, &mut zeros(5)),
            oob(op, 43, 40)
        ),
        err_case!(
            dot_rows,
            try_dot_rows,
            (&zeros(64), &zeros(43), 5, 7, 6, 9, &mut zeros(5)),
            bad_ld(op, 6, 7)
        ),
        err_case!(
            dot_rows,
            try_dot_rows,
            (&zeros(43), &zeros(64), 5, 7, 9, 6, &mut zeros(5)),
            bad_ld(op, 6, 7)
        ),
        err_case!(
            dot_rows,
            try_dot_rows,
            (&zeros(43), &zeros(43), 5, 7, 9, 9, &mut zeros(4)),
            mismatch(op, 5, 4)
        ),
    ]);
    check_err_cases(cases);
}

#[test]
fn try_rows_match_panicking_forms() {
    let (rows, cols, ld) = (3usize, 5usize, 6usize);
    let x: Vec<f64> = (0..rows * ld)
        .map(|i| ((i * 37) % 11) as f64 - 4.5)
        .collect();
    let y: Vec<f64> = (0..rows * ld)
        .map(|i| ((i * 13) % 7) as f64 * 0.25)
        .collect();
    macro_rules! same_out {
        ($($name:ident, $try_name:ident, $zero:expr;)*) => {$(
            let mut a = vec![$zero; rows];
            let mut b = vec![$zero; rows];
            nabla_kernels::$name(&x, rows, cols, ld, &mut a);
            assert_eq!(nabla_kernels::$try_name(&x, rows, cols, ld, &mut b), Ok(()));
            assert_eq!(format!("{a:?}"), format!("{b:?}"), stringify!($name));
        )*};
    }
    same_out!(
        sum_rows, try_sum_rows, 0.0f64;
        max_rows, try_max_rows, 0.0f64;
        min_rows, try_min_rows, 0.0f64;
        argmax_rows, try_argmax_rows, 0usize;
        argmin_rows, try_argmin_rows, 0usize;
        l2_norm_rows, try_l2_norm_rows, 0.0f64;
        mean_rows, try_mean_rows, 0.0f64;
        variance_rows, try_variance_rows, 0.0f64;
    );
    let (mut a, mut b) = (vec![0.0f64; rows], vec![0.0f64; rows]);
    nabla_kernels::dot_rows(&x, &y, rows, cols, ld, ld, &mut a);
    assert_eq!(
        nabla_kernels::try_dot_rows(&x, &y, rows, cols, ld, ld, &mut b),
        Ok(())
    );
    assert_eq!(a, b);
}

/// A reduction's bits depend on the values and their order, not on where the slice lies: the
/// paths that build vectors from aligned loads (`Simd::FAST_FUNNEL`) give, at every offset from
/// a cache line, what the same values give one line-aligned.
#[test]
fn results_do_not_depend_on_alignment() {
    fn bits<T: Element>(x: &[T], y: &[T]) -> Vec<u64> {
        let rows = 7;
        let mut out = vec![T::ZERO; rows];
        nabla_kernels::sum_rows(x, rows, x.len() / rows, x.len() / rows, &mut out);
        let mut v: Vec<u64> = out.iter().map(|r| r.to_f64().to_bits()).collect();
        v.extend(
            [
                nabla_kernels::sum(x),
                nabla_kernels::dot(x, y),
                nabla_kernels::max(x),
                nabla_kernels::min(x),
                nabla_kernels::l2_norm(x),
                nabla_kernels::mean(x),
                nabla_kernels::variance(x),
            ]
            .map(|r| r.to_f64().to_bits()),
        );
        v.push(nabla_kernels::argmax(x).unwrap() as u64);
        v.push(nabla_kernels::argmin(x).unwrap() as u64);
        v
    }
    /// A buffer holding `values` from element `start`, which lies `off` elements past a
    /// 64-byte boundary.
    fn placed<T: Element>(values: &[T], off: usize) -> (Vec<T>, usize) {
        let mut buf = vec![T::ZERO; values.len() + 2 * 64 / size_of::<T>()];
        let start = buf.as_ptr().align_offset(64) + off;
        buf[start..start + values.len()].copy_from_slice(values);
        (buf, start)
    }
    fn check<T: Element>(path: Isa) {
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        // Lengths below, at and past the aligned loop's minimum, and over several blocks.
        for n in [3usize, 150, 300, 1021, 4096 * 2 + 37] {
            let mut next = || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                T::from_f64((rng >> 11) as f64 / (1u64 << 53) as f64 - 0.3)
            };
            let x: Vec<T> = (0..n).map(|_| next()).collect();
            let y: Vec<T> = (0..n).map(|_| next()).collect();
            let (px, py) = (placed(&x, 0), placed(&y, 0));
            assert_eq!(px.0[px.1..].as_ptr() as usize % 64, 0);
            let want = bits(&px.0[px.1..][..n], &py.0[py.1..][..n]);
            for ox in 0..64 / size_of::<T>() {
                // Each input at its own offset.
                let oy = (ox * 5 + 3) % (64 / size_of::<T>());
                let (px, py) = (placed(&x, ox), placed(&y, oy));
                let got = bits(&px.0[px.1..][..n], &py.0[py.1..][..n]);
                assert_eq!(got, want, "{path} {} n={n} offsets {ox}, {oy}", T::NAME);
            }
        }
    }
    on_every_path(|path| {
        check::<f32>(path);
        check::<f64>(path);
    });
}
