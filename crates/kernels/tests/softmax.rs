//! The softmax family against an `f64` reference, on every instruction-set path.
//!
//! Tolerances follow the error analysis in the `softmax` module docs, with `d` the summation
//! depth bound of `sum` (at most `min(cols, 520) + 8 + log2(blocks)`):
//! * softmax: relative `(|x - m| / 2 + d + 4) * eps` (the rounding of `x - m` is amplified by
//!   `exp`, the exp itself is 1 ULP, the row sum `d * eps`, the scaling 2 roundings), plus the
//!   smallest normal number absolutely (results that underflow);
//! * log-softmax: absolute `(|x - m| + |ln sum| + d + 4) * eps`;
//! * logsumexp: absolute `(|lse| + d + 3) * eps`.

use nabla_kernels::Element;
use nabla_kernels::isa;
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use proptest::prelude::*;

/// The bit patterns of `v`: equal vectors of these are the same values, bit for bit.
fn bits<T: Element>(v: &[T]) -> Vec<u64> {
    v.iter().map(|a| a.to_bits_u64()).collect()
}

fn on_every_path(mut f: impl FnMut(isa::Isa)) {
    for path in isa::test_paths() {
        isa::with_isa(path, || f(path)).unwrap();
    }
}

fn depth(n: usize) -> f64 {
    (n.min(520) + 8) as f64 + (n.div_ceil(4096).max(1) as f64).log2().ceil()
}

/// Bit-equal or both NaN.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()) || (a == b)
}

/// `v` rounded to `T` (the best a kernel can return; the reference of the special cases).
fn rounded<T: Element>(v: f64) -> f64 {
    T::from_f64(v).to_f64()
}

/// Reference results of one row, in f64, following the documented conventions.
struct RowRef {
    softmax: Vec<f64>,
    log_softmax: Vec<f64>,
    lse: f64,
    /// `ln(sum exp(x - m))` for finite rows (0 otherwise).
    ln_sum: f64,
    m: f64,
}

fn reference(x: &[f64]) -> RowRef {
    let n = x.len();
    let nan = || RowRef {
        softmax: vec![f64::NAN; n],
        log_softmax: vec![f64::NAN; n],
        lse: f64::NAN,
        ln_sum: 0.0,
        m: f64::NAN,
    };
    if x.iter().any(|v| v.is_nan()) {
        return nan();
    }
    let m = x.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
    if m == f64::NEG_INFINITY {
        return RowRef {
            lse: f64::NEG_INFINITY,
            ..nan()
        };
    }
    if m == f64::INFINITY {
        let k = x.iter().filter(|v| **v == f64::INFINITY).count() as f64;
        let hit = |v: f64| v == f64::INFINITY;
        return RowRef {
            softmax: x
                .iter()
                .map(|&v| if hit(v) { 1.0 / k } else { 0.0 })
                .collect(),
            log_softmax: x
                .iter()
                .map(|&v| if hit(v) { -k.ln() } else { f64::NEG_INFINITY })
                .collect(),
            lse: f64::INFINITY,
            ln_sum: 0.0,
            m,
        };
    }
    let e: Vec<f64> = x.iter().map(|v| (v - m).exp()).collect();
    let sum: f64 = e.iter().sum();
    RowRef {
        softmax: e.iter().map(|v| v / sum).collect(),
        log_softmax: x.iter().map(|v| (v - m) - sum.ln()).collect(),
        lse: m + sum.ln(),
        ln_sum: sum.ln(),
        m,
    }
}

/// A matrix case: buffer, offset, shape.
#[derive(Debug, Clone)]
struct Case<T> {
    buf: Vec<T>,
    off: usize,
    rows: usize,
    cols: usize,
    ld: usize,
}

impl<T: Element> Case<T> {
    fn x(&self) -> &[T] {
        &self.buf[self.off..]
    }
    fn row(&self, r: usize) -> Vec<f64> {
        let s = self.off + r * self.ld;
        self.buf[s..s + self.cols]
            .iter()
            .map(|v| v.to_f64())
            .collect()
    }
    fn needed(&self) -> usize {
        if self.rows == 0 {
            0
        } else {
            (self.rows - 1) * self.ld + self.cols
        }
    }
}

fn case<T: Element>(max_cols: usize) -> impl Strategy<Value = Case<T>> {
    let scale = prop_oneof![Just(1.0f64), Just(30.0), Just(1e3), Just(1e30)];
    (
        0usize..6,
        0usize..max_cols,
        0usize..3,
        0usize..4,
        scale,
        any::<u64>(),
        0u32..10,
    )
        .prop_map(|(rows, cols, pad, off, scale, seed, special)| {
            let ld = cols + pad;
            let len = off + if rows == 0 { 0 } else { (rows - 1) * ld + cols } + pad;
            let mut rng = seed | 1;
            let mut next = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let mut buf: Vec<T> = (0..len)
                .map(|_| {
                    let u = (next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
                    // Large scales beyond the type's range are clamped to it.
                    T::from_f64((u * scale).clamp(-T::MAX.to_f64(), T::MAX.to_f64()))
                })
                .collect();
            if rows > 0 && cols > 0 {
                let r = (next() as usize) % rows;
                let at = |j: usize| off + r * ld + j;
                let j = (next() as usize) % cols;
                match special {
                    0 => buf[at(j)] = T::NAN,
                    1 => buf[at(j)] = T::INFINITY,
                    2 => {
                        buf[at(j)] = T::INFINITY;
                        buf[at((j + 1) % cols)] = T::INFINITY;
                    }
                    3 => (0..cols).for_each(|j| buf[at(j)] = T::NEG_INFINITY),
                    4 | 5 => (0..cols)
                        .filter(|k| k % 3 == 0)
                        .for_each(|j| buf[at(j)] = T::NEG_INFINITY),
                    6 => buf[at(j)] = T::NEG_INFINITY,
                    _ => {}
                }
            }
            Case {
                buf,
                off,
                rows,
                cols,
                ld,
            }
        })
}

fn check_forward<T: Element>(c: &Case<T>) {
    let eps = T::EPSILON.to_f64();
    let tiny = T::MIN_POSITIVE.to_f64();
    let d = depth(c.cols);
    let n = c.needed();
    let refs: Vec<RowRef> = (0..c.rows).map(|r| reference(&c.row(r))).collect();
    on_every_path(|path| {
        let mut y = vec![T::from_f64(7.0); c.x().len()];
        nabla_kernels::softmax(c.x(), c.rows, c.cols, c.ld, &mut y);
        let mut y_in = c.x().to_vec();
        nabla_kernels::softmax_inplace(&mut y_in, c.rows, c.cols, c.ld);
        let mut ly = vec![T::from_f64(7.0); c.x().len()];
        nabla_kernels::log_softmax(c.x(), c.rows, c.cols, c.ld, &mut ly);
        let mut ly_in = c.x().to_vec();
        nabla_kernels::log_softmax_inplace(&mut ly_in, c.rows, c.cols, c.ld);
        let mut lse = vec![T::ZERO; c.rows];
        nabla_kernels::logsumexp(c.x(), c.rows, c.cols, c.ld, &mut lse);

        for (r, rf) in refs.iter().enumerate() {
            let x = c.row(r);
            let tag = format!("{path} row {r} of {}x{} ld {}", c.rows, c.cols, c.ld);
            let tol_lse = (rf.lse.abs() + d + 3.0) * eps;
            let got = lse[r].to_f64();
            assert!(
                same(got, rounded::<T>(rf.lse)) || (got - rf.lse).abs() <= tol_lse,
                "logsumexp {tag}: {got} vs {}",
                rf.lse
            );
            for (j, &xj) in x.iter().enumerate() {
                let k = r * c.ld + j;
                let (s, s_ref) = (y[k].to_f64(), rf.softmax[j]);
                let dxm = (xj - rf.m).abs();
                let tol = (dxm / 2.0 + d + 4.0) * eps * s_ref + tiny;
                assert!(
                    same(s, rounded::<T>(s_ref)) || (s - s_ref).abs() <= tol,
                    "softmax {tag} col {j}: x={xj} got {s} want {s_ref}",
                );
                assert!(!s.is_nan() || s_ref.is_nan(), "softmax {tag}: spurious NaN");
                let (l, l_ref) = (ly[k].to_f64(), rf.log_softmax[j]);
                let tol = (dxm + rf.ln_sum.abs() + d + 4.0) * eps;
                assert!(
                    same(l, rounded::<T>(l_ref)) || (l - l_ref).abs() <= tol,
                    "log_softmax {tag} col {j}: x={xj} got {l} want {l_ref}",
                );
                // In place: the same bits.
                assert_eq!(
                    y_in[k].to_bits_u64(),
                    y[k].to_bits_u64(),
                    "softmax_inplace {tag}"
                );
                assert_eq!(
                    ly_in[k].to_bits_u64(),
                    ly[k].to_bits_u64(),
                    "log_softmax_inplace {tag}"
                );
            }
        }
        // Padding between rows and after the matrix is untouched.
        for k in 0..y.len() {
            let in_matrix = k < n && k % c.ld.max(1) < c.cols;
            if !in_matrix {
                assert_eq!(y[k].to_f64(), 7.0, "{path}: softmax wrote padding at {k}");
                assert_eq!(ly[k].to_f64(), 7.0, "{path}: log_softmax wrote padding");
                assert_eq!(y_in[k].to_bits_u64(), c.x()[k].to_bits_u64());
            }
        }
    });
}

fn check_backward<T: Element>(c: &Case<T>, seed: u64) {
    let eps = T::EPSILON.to_f64();
    let tiny = T::MIN_POSITIVE.to_f64();
    let d = depth(c.cols);
    let len = c.x().len();
    // y: a softmax output (finite rows only matter), dy: random gradients.
    let x: Vec<T> = c
        .x()
        .iter()
        .map(|v| if v.is_finite() { *v } else { T::ZERO })
        .collect();
    let x: Vec<T> = x.iter().map(|v| *v * T::from_f64(1e-29)).collect(); // modest logits
    let mut y = vec![T::ZERO; len];
    nabla_kernels::softmax(&x, c.rows, c.cols, c.ld, &mut y);
    let mut ly = vec![T::ZERO; len];
    nabla_kernels::log_softmax(&x, c.rows, c.cols, c.ld, &mut ly);
    let mut rng = seed | 1;
    let dy: Vec<T> = (0..len)
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            T::from_f64((rng >> 11) as f64 / (1u64 << 53) as f64 * 4.0 - 2.0)
        })
        .collect();
    on_every_path(|path| {
        let mut dx = vec![T::ZERO; len];
        nabla_kernels::softmax_backward(&y, &dy, c.rows, c.cols, c.ld, &mut dx);
        let mut ldx = vec![T::ZERO; len];
        nabla_kernels::log_softmax_backward(&ly, &dy, c.rows, c.cols, c.ld, &mut ldx);
        for r in 0..c.rows {
            let row = |v: &[T]| -> Vec<f64> {
                v[r * c.ld..r * c.ld + c.cols]
                    .iter()
                    .map(|a| a.to_f64())
                    .collect()
            };
            let (yr, lyr, dyr) = (row(&y), row(&ly), row(&dy));
            let dot: f64 = yr.iter().zip(&dyr).map(|(a, b)| a * b).sum();
            let abs_dot: f64 = yr.iter().zip(&dyr).map(|(a, b)| (a * b).abs()).sum();
            let sum: f64 = dyr.iter().sum();
            let abs_sum: f64 = dyr.iter().map(|v| v.abs()).sum();
            for j in 0..c.cols {
                let k = r * c.ld + j;
                let want = yr[j] * (dyr[j] - dot);
                let tol = yr[j] * ((d + 2.0) * eps * abs_dot + eps * (dyr[j] - dot).abs())
                    + eps * want.abs()
                    + tiny;
                let got = dx[k].to_f64();
                assert!(
                    (got - want).abs() <= tol,
                    "softmax_backward {path} r={r} j={j}: {got} vs {want}"
                );
                let e = lyr[j].exp();
                let want = dyr[j] - e * sum;
                let tol = eps * want.abs()
                    + e * (d + 1.0) * eps * abs_sum
                    + 3.0 * eps * (e * sum).abs()
                    + tiny;
                let got = ldx[k].to_f64();
                assert!(
                    (got - want).abs() <= tol,
                    "log_softmax_backward {path} r={r} j={j}: {got} vs {want}"
                );
            }
        }
    });
}

macro_rules! props {
    ($modname:ident, $t:ty) => {
        mod $modname {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(160))]

                #[test]
                fn forward(c in case::<$t>(90)) {
                    check_forward(&c);
                }

                #[test]
                fn forward_long_rows(c in case::<$t>(9000)) {
                    check_forward(&c);
                }

                #[test]
                fn backward(c in case::<$t>(90), seed in any::<u64>()) {
                    check_backward(&c, seed);
                }
            }
        }
    };
}

props!(f32_props, f32);
props!(f64_props, f64);

#[test]
fn huge_inputs_do_not_overflow() {
    on_every_path(|path| {
        let x = [3e38f32, 3e38, -3e38, 0.0];
        let mut y = [0.0f32; 4];
        nabla_kernels::softmax(&x, 1, 4, 4, &mut y);
        assert_eq!(y, [0.5, 0.5, 0.0, 0.0], "{path}");
        let mut ly = [0.0f32; 4];
        nabla_kernels::log_softmax(&x, 1, 4, 4, &mut ly);
        assert_eq!(ly[0], -std::f32::consts::LN_2, "{path}");
        assert_eq!(ly[2], f32::NEG_INFINITY, "{path}"); // -6e38 rounds to -inf: exact limit
        let mut lse = [0.0f32];
        nabla_kernels::logsumexp(&x, 1, 4, 4, &mut lse);
        assert_eq!(lse[0], 3e38f32 + std::f32::consts::LN_2, "{path}");

        let x = [1e308f64, 1e308, 1e307];
        let mut y = [0.0f64; 3];
        nabla_kernels::softmax(&x, 1, 3, 3, &mut y);
        assert_eq!(y, [0.5, 0.5, 0.0], "{path}");
    });
}

/// The row maximum skips NaN; rows whose maximum is infinite take no sum, so their NaN must be
/// found by the scan that classifies them: NaN beside `+inf`, beside only `-inf`, and alone.
#[test]
fn nan_beside_infinities_gives_nan_rows() {
    let (inf, ninf, nan) = (f64::INFINITY, f64::NEG_INFINITY, f64::NAN);
    let x = [nan, inf, 0.0, ninf, nan, ninf, nan, nan, nan, 3.0, inf, nan];
    on_every_path(|path| {
        let mut y = [0.0f64; 12];
        nabla_kernels::softmax(&x, 4, 3, 3, &mut y);
        assert!(y.iter().all(|v| v.is_nan()), "{path}: softmax {y:?}");
        nabla_kernels::log_softmax(&x, 4, 3, 3, &mut y);
        assert!(y.iter().all(|v| v.is_nan()), "{path}: log_softmax {y:?}");
        let mut lse = [0.0f64; 4];
        nabla_kernels::logsumexp(&x, 4, 3, 3, &mut lse);
        assert!(lse.iter().all(|v| v.is_nan()), "{path}: logsumexp {lse:?}");
    });
}

#[test]
fn special_rows_follow_the_conventions() {
    let ninf = f32::NEG_INFINITY;
    let inf = f32::INFINITY;
    // Rows: all -inf; some -inf; one +inf; two +inf; NaN; +inf and -inf.
    let x = [
        ninf,
        ninf,
        ninf, //
        ninf,
        0.0,
        ninf, //
        1.0,
        inf,
        -5.0, //
        inf,
        2.0,
        inf, //
        1.0,
        f32::NAN,
        2.0, //
        ninf,
        inf,
        ninf,
    ];
    on_every_path(|path| {
        let mut y = [0.0f32; 18];
        nabla_kernels::softmax(&x, 6, 3, 3, &mut y);
        assert!(y[..3].iter().all(|v| v.is_nan()), "{path}: all -inf row");
        assert_eq!(&y[3..6], &[0.0, 1.0, 0.0], "{path}");
        assert_eq!(&y[6..9], &[0.0, 1.0, 0.0], "{path}");
        assert_eq!(&y[9..12], &[0.5, 0.0, 0.5], "{path}");
        assert!(y[12..15].iter().all(|v| v.is_nan()), "{path}: NaN row");
        assert_eq!(&y[15..18], &[0.0, 1.0, 0.0], "{path}");

        let mut ly = [0.0f32; 18];
        nabla_kernels::log_softmax(&x, 6, 3, 3, &mut ly);
        assert!(ly[..3].iter().all(|v| v.is_nan()), "{path}");
        assert_eq!(&ly[3..6], &[ninf, 0.0, ninf], "{path}");
        assert_eq!(&ly[6..9], &[ninf, 0.0, ninf], "{path}");
        let l2 = -std::f32::consts::LN_2;
        assert_eq!(&ly[9..12], &[l2, ninf, l2], "{path}");
        assert!(ly[12..15].iter().all(|v| v.is_nan()), "{path}");

        let mut lse = [0.0f32; 6];
        nabla_kernels::logsumexp(&x, 6, 3, 3, &mut lse);
        assert_eq!(lse[0], ninf, "{path}");
        assert_eq!(lse[1], 0.0, "{path}");
        assert_eq!(lse[2], inf, "{path}");
        assert_eq!(lse[3], inf, "{path}");
        assert!(lse[4].is_nan(), "{path}");
        assert_eq!(lse[5], inf, "{path}");

        // cols == 0: logsumexp of nothing is -inf; softmax writes nothing.
        let mut lse = [1.0f64; 3];
        nabla_kernels::logsumexp(&[], 3, 0, 0, &mut lse);
        assert_eq!(lse, [f64::NEG_INFINITY; 3], "{path}");
        nabla_kernels::softmax::<f64>(&[], 3, 0, 0, &mut []);
    });
}

/// `logsumexp` takes its rows in groups (their logarithms as one vector): over 41 rows (two
/// whole groups of 16 and a part) with special rows at group edges, every row is what the row
/// alone gives, bit for bit, and within the accuracy bound of the `f64` reference.
fn lse_groups_match_single_rows<T: Element>() {
    let (rows, cols, ld) = (41usize, 37usize, 40usize);
    let mut x: Vec<T> = (0..rows * ld)
        .map(|i| T::from_f64(((i * 7919) % 1000) as f64 * 0.03 - 20.0 + (i / ld) as f64))
        .collect();
    let (nan, inf) = (T::from_f64(f64::NAN), T::from_f64(f64::INFINITY));
    x[15 * ld + 3] = nan;
    x[16 * ld..16 * ld + cols].fill(-inf);
    x[31 * ld + 36] = inf;
    x[32 * ld + 5] = -inf;
    x[40 * ld] = nan;
    on_every_path(|path| {
        let mut all = vec![T::ZERO; rows];
        nabla_kernels::logsumexp(&x, rows, cols, ld, &mut all);
        for r in 0..rows {
            let row = &x[r * ld..r * ld + cols];
            let mut one = [T::ZERO];
            nabla_kernels::logsumexp(row, 1, cols, cols, &mut one);
            assert!(
                bits(&[all[r]]) == bits(&one),
                "{path} row {r}: {:?} vs {:?}",
                all[r],
                one[0]
            );
            let rf = reference(&row.iter().map(|v| v.to_f64()).collect::<Vec<_>>());
            let tol = (rf.lse.abs() + depth(cols) + 3.0) * T::EPSILON.to_f64();
            let got = all[r].to_f64();
            assert!(
                same(got, rounded::<T>(rf.lse)) || (got - rf.lse).abs() <= tol,
                "{path} row {r}: {got} vs {}",
                rf.lse
            );
        }
    });
}

#[test]
fn logsumexp_row_groups_match_single_rows() {
    lse_groups_match_single_rows::<f32>();
    lse_groups_match_single_rows::<f64>();
}

#[test]
fn same_bits_on_any_thread_count() {
    let (rows, cols, ld) = (300, 1003, 1010);
    let x: Vec<f32> = (0..rows * ld)
        .map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0)
        .collect();
    let dy: Vec<f32> = (0..rows * ld)
        .map(|i| ((i * 104_729) % 777) as f32 * 0.001)
        .collect();
    let run = || {
        let mut y = vec![0.0f32; rows * ld];
        nabla_kernels::softmax(&x, rows, cols, ld, &mut y);
        let mut ly = vec![0.0f32; rows * ld];
        nabla_kernels::log_softmax(&x, rows, cols, ld, &mut ly);
        let mut lse = vec![0.0f32; rows];
        nabla_kernels::logsumexp(&x, rows, cols, ld, &mut lse);
        let mut dx = vec![0.0f32; rows * ld];
        nabla_kernels::softmax_backward(&y, &dy, rows, cols, ld, &mut dx);
        (bits(&y), bits(&ly), bits(&lse), bits(&dx))
    };
    on_every_path(|path| {
        let one = with_parallelism(Parallelism::Sequential, run);
        let many = with_parallelism(Parallelism::Always, run);
        assert!(one == many, "{path}");
    });
}

#[test]
#[should_panic(
    expected = "nabla-kernels: softmax: the view needs 11 elements but the slice has 10"
)]
fn short_output_panics() {
    let x = [0.0f32; 12];
    let mut y = [0.0f32; 10];
    nabla_kernels::softmax(&x, 3, 3, 4, &mut y);
}

#[test]
#[should_panic(expected = "logsumexp: length mismatch: expected 3, got 2")]
fn logsumexp_out_length_panics() {
    let mut out = [0.0f32; 2];
    nabla_kernels::logsumexp(&[0.0f32; 9], 3, 3, 3, &mut out);
}

#[test]
#[should_panic(expected = "row stride ld = 2 is smaller than cols = 3")]
fn bad_stride_panics() {
    let mut y = [0.0f32; 9];
    nabla_kernels::softmax_inplace(&mut y, 3, 3, 2);
}

/// Throughput (`cargo test --release --test softmax -- --ignored --nocapture probe`).
#[test]
#[ignore]
fn probe_throughput() {
    use std::hint::black_box;
    use std::time::Instant;
    fn rate(n: usize, mut f: impl FnMut()) -> f64 {
        let reps = (1usize << 24) / n.max(1) + 3;
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
    for (rows, cols) in [
        (64usize, 128usize),
        (16, 1024),
        (4, 8192),
        (1, 1 << 15),
        (256, 1024),
        (64, 1 << 14),
    ] {
        let n = rows * cols;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 * 0.01 - 5.0)
            .collect();
        let mut y = vec![0.0f32; n];
        let mut lse = vec![0.0f32; rows];
        for path in isa::available() {
            isa::with_isa(path, || {
                for pol in [Parallelism::Sequential, Parallelism::Always] {
                    with_parallelism(pol, || {
                        let s = rate(n, || nabla_kernels::softmax(black_box(&x), rows, cols, cols, &mut y));
                        let l = rate(n, || nabla_kernels::log_softmax(black_box(&x), rows, cols, cols, &mut y));
                        let e = rate(n, || nabla_kernels::logsumexp(black_box(&x), rows, cols, cols, &mut lse));
                        eprintln!(
                            "{rows:>4}x{cols:<6} {path:>6} {pol:>10?}: Gelem/s softmax {s:6.2} log_softmax {l:6.2} logsumexp {e:6.2}"
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
fn try_forms_report_exact_errors() {
    // 5 x 7 with ld = 9 needs 4 * 9 + 7 = 43 elements.
    let mut cases: Vec<ErrCase> = Vec::new();
    // Too-short input, too-short output, ld < cols.
    macro_rules! forward {
        ($($name:ident, $try_name:ident;)*) => {$(
            let op = stringify!($name);
            cases.extend([
                err_case!($name, $try_name, (&zeros(40), 5, 7, 9, &mut zeros(43)), oob(op, 43, 40)),
                err_case!($name, $try_name, (&zeros(43), 5, 7, 9, &mut zeros(42)), oob(op, 43, 42)),
                err_case!($name, $try_name, (&zeros(64), 5, 7, 6, &mut zeros(64)), bad_ld(op, 6, 7)),
            ]);
        )*};
    }
    forward!(softmax, try_softmax; log_softmax, try_log_softmax;);
    // Too-short matrix, ld < cols (there is no separate output).
    macro_rules! inplace {
        ($($name:ident, $try_name:ident;)*) => {$(
            let op = stringify!($name);
            cases.extend([
                err_case!($name, $try_name, (&mut zeros(40), 5, 7, 9), oob(op, 43, 40)),
                err_case!($name, $try_name, (&mut zeros(64), 5, 7, 6), bad_ld(op, 6, 7)),
            ]);
        )*};
    }
    inplace!(softmax_inplace, try_softmax_inplace; log_softmax_inplace, try_log_softmax_inplace;);
    // Too-short input, ld < cols, output too short and too long.
    let op = "logsumexp";
    cases.extend([
        err_case!(
            logsumexp,
            try_logsumexp,
            (&zeros(40), 5, 7, 9, &mut zeros(5)),
            oob(op, 43, 40)
        ),
        err_case!(
            logsumexp,
            try_logsumexp,
            (&zeros(64), 5, 7, 6, &mut zeros(5)),
            bad_ld(op, 6, 7)
        ),
        err_case!(
            logsumexp,
            try_logsumexp,
            (&zeros(43), 5, 7, 9, &mut zeros(4)),
            mismatch(op, 5, 4)
        ),
        err_case!(
            logsumexp,
            try_logsumexp,
            (&zeros(43), 5, 7, 9, &mut zeros(6)),
            mismatch(op, 5, 6)
        ),
    ]);
    // `y`, `dy`, `dx` too short in turn (checked in that order), ld < cols.
    macro_rules! backward {
        ($($name:ident, $try_name:ident;)*) => {$(
            let op = stringify!($name);
            cases.extend([
                err_case!($name, $try_name, (&zeros(40), &zeros(43), 5, 7, 9, &mut zeros(43)), oob(op, 43, 40)),
                err_case!($name, $try_name, (&zeros(43), &zeros(41), 5, 7, 9, &mut zeros(43)), oob(op, 43, 41)),
                err_case!($name, $try_name, (&zeros(43), &zeros(43), 5, 7, 9, &mut zeros(42)), oob(op, 43, 42)),
                err_case!($name, $try_name, (&zeros(64), &zeros(64), 5, 7, 6, &mut zeros(64)), bad_ld(op, 6, 7)),
            ]);
        )*};
    }
    backward!(softmax_backward, try_softmax_backward; log_softmax_backward, try_log_softmax_backward;);
    check_err_cases(cases);
}

#[test]
fn try_forms_leave_outputs_untouched_on_error() {
    let mut y = vec![7.0f32; 42];
    assert!(nabla_kernels::try_softmax(&zeros(43), 5, 7, 9, &mut y).is_err());
    assert!(y.iter().all(|v| *v == 7.0));
    let mut out = vec![7.0f32; 4];
    assert!(nabla_kernels::try_logsumexp(&zeros(43), 5, 7, 9, &mut out).is_err());
    assert!(out.iter().all(|v| *v == 7.0));
    let mut x = vec![7.0f32; 64];
    assert!(nabla_kernels::try_log_softmax_inplace(&mut x, 5, 7, 6).is_err());
    assert!(x.iter().all(|v| *v == 7.0));
}

#[test]
fn try_forms_match_panicking_forms() {
    let (rows, cols, ld) = (3usize, 5usize, 6usize);
    let n = (rows - 1) * ld + cols;
    let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 * 0.3 - 1.5).collect();
    let dy: Vec<f64> = (0..n).map(|i| ((i * 13) % 7) as f64 * 0.25 - 0.5).collect();
    for log in [false, true] {
        let (mut a, mut b) = (vec![0.0f64; n], vec![0.0f64; n]);
        let (mut ia, mut ib) = (x.clone(), x.clone());
        let (mut da, mut db) = (vec![0.0f64; n], vec![0.0f64; n]);
        if log {
            nabla_kernels::log_softmax(&x, rows, cols, ld, &mut a);
            assert_eq!(
                nabla_kernels::try_log_softmax(&x, rows, cols, ld, &mut b),
                Ok(())
            );
            nabla_kernels::log_softmax_inplace(&mut ia, rows, cols, ld);
            assert_eq!(
                nabla_kernels::try_log_softmax_inplace(&mut ib, rows, cols, ld),
                Ok(())
            );
            nabla_kernels::log_softmax_backward(&a, &dy, rows, cols, ld, &mut da);
            let r = nabla_kernels::try_log_softmax_backward(&a, &dy, rows, cols, ld, &mut db);
            assert_eq!(r, Ok(()));
        } else {
            nabla_kernels::softmax(&x, rows, cols, ld, &mut a);
            assert_eq!(
                nabla_kernels::try_softmax(&x, rows, cols, ld, &mut b),
                Ok(())
            );
            nabla_kernels::softmax_inplace(&mut ia, rows, cols, ld);
            assert_eq!(
                nabla_kernels::try_softmax_inplace(&mut ib, rows, cols, ld),
                Ok(())
            );
            nabla_kernels::softmax_backward(&a, &dy, rows, cols, ld, &mut da);
            let r = nabla_kernels::try_softmax_backward(&a, &dy, rows, cols, ld, &mut db);
            assert_eq!(r, Ok(()));
        }
        assert_eq!(bits(&a), bits(&b), "log={log}");
        assert_eq!(bits(&ia), bits(&ib), "log={log}");
        assert_eq!(bits(&da), bits(&db), "log={log}");
    }
    let (mut a, mut b) = (vec![0.0f64; rows], vec![0.0f64; rows]);
    nabla_kernels::logsumexp(&x, rows, cols, ld, &mut a);
    assert_eq!(
        nabla_kernels::try_logsumexp(&x, rows, cols, ld, &mut b),
        Ok(())
    );
    assert_eq!(bits(&a), bits(&b));
}

/// An output placed just ahead of its input modulo 4 KiB takes the split path (exponentials
/// stored by a descending map, then summed from the output, see the crate's `sweep` module): the
/// rows must have the same bits as when written to a separate buffer, for softmax and
/// log-softmax, rows with a tail on every path (1000 and 37 columns), several offsets.
#[test]
fn outputs_just_ahead_of_inputs_give_the_same_bits() {
    for (rows, cols) in [(3usize, 1000usize), (5, 37)] {
        let n = rows * cols;
        let x: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin() * 30.0).collect();
        let mut arena = vec![0.0f32; 6 * 1024 + 2 * n];
        let page = (4096 - arena.as_ptr() as usize % 4096) % 4096 / 4;
        arena[page..page + n].copy_from_slice(&x);
        on_every_path(|path| {
            let mut want = vec![0.0f32; n];
            let mut want_log = vec![0.0f32; n];
            nabla_kernels::softmax(&x, rows, cols, cols, &mut want);
            nabla_kernels::log_softmax(&x, rows, cols, cols, &mut want_log);
            // The output starts 4 KiB past the end of x, rounded to a page, plus d bytes.
            let out0 = page + n.div_ceil(1024) * 1024 + 1024;
            for d in [16usize, 48, 64, 256, 1008, 2048, 4000] {
                let (head, rest) = arena.split_at_mut(out0 + d / 4);
                let (xs, y) = (&head[page..page + n], &mut rest[..n]);
                nabla_kernels::softmax(xs, rows, cols, cols, y);
                assert_eq!(
                    bits(y),
                    bits(&want),
                    "softmax {rows}x{cols} {path}: output {d} B ahead"
                );
                nabla_kernels::log_softmax(xs, rows, cols, cols, y);
                assert_eq!(
                    bits(y),
                    bits(&want_log),
                    "log_softmax {rows}x{cols} {path}: output {d} B ahead"
                );
            }
        });
    }
}

/// Up to `BUNDLE_MAX_BYTES` streamed the passes that store exponentials run bundles of vectors,
/// beyond it one vector at a time (`simd::bundles_pay`): softmax, log-softmax and log-softmax's
/// backward pass give the same bits either way, on every path. The whole matrix is beyond the
/// limit, blocks of its rows within it.
#[test]
fn bundled_and_unbundled_runs_give_the_same_bits() {
    use nabla_kernels::simd::{BUNDLE_MAX_BYTES, bundles_pay};
    let cols = 1000 + 7;
    let rows = BUNDLE_MAX_BYTES / (8 * cols) + 3;
    let block = 64;
    assert!(!bundles_pay::<f32>(rows * cols, 2) && bundles_pay::<f32>(block * cols, 3));
    let n = rows * cols;
    let x: Vec<f32> = (0..n).map(|i| ((i as f32) * 0.37).sin() * 30.0).collect();
    let dy: Vec<f32> = (0..n).map(|i| ((i % 7) as f32 - 3.0) * 0.25).collect();
    type Kernel<'a> = &'a dyn Fn(&[f32], &[f32], usize, &mut [f32]);
    let kernels: [(&str, Kernel); 3] = [
        ("softmax", &|x, _, r, y| {
            nabla_kernels::softmax(x, r, cols, cols, y)
        }),
        ("log_softmax", &|x, _, r, y| {
            nabla_kernels::log_softmax(x, r, cols, cols, y)
        }),
        ("log_softmax_backward", &|x, g, r, y| {
            nabla_kernels::log_softmax_backward(x, g, r, cols, cols, y)
        }),
    ];
    on_every_path(|path| {
        with_parallelism(Parallelism::Sequential, || {
            for (name, k) in kernels {
                let mut whole = vec![0.0f32; n];
                k(&x, &dy, rows, &mut whole);
                let mut pieces = vec![0.0f32; n];
                let w = block * cols;
                for ((x, g), y) in x.chunks(w).zip(dy.chunks(w)).zip(pieces.chunks_mut(w)) {
                    k(x, g, x.len() / cols, y);
                }
                assert_eq!(bits(&whole), bits(&pieces), "{name} {path}");
            }
        })
    });
}
