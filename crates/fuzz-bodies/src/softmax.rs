//! `softmax_paths`: the softmax family on every path against an `f64` reference that follows
//! the documented special-value conventions.

use crate::{Dist, El, Input, Specials, buffer, mismatch, on, paths, same};
use nabla_kernels::isa::Isa;
use nabla_kernels::parallel::{Parallelism, with_parallelism};

/// What one row should give, in `f64`.
struct RowRef {
    softmax: Vec<f64>,
    log_softmax: Vec<f64>,
    lse: f64,
    /// `|x_j - m|` per element (the documented error grows with it).
    dist: Vec<f64>,
    ln_sum: f64,
}

/// The conventions table of the softmax module, and the finite formula elsewhere.
fn row_reference(x: &[f64]) -> RowRef {
    let n = x.len();
    let dist0 = vec![0.0; n];
    if n == 0 {
        return RowRef {
            softmax: vec![],
            log_softmax: vec![],
            lse: f64::NEG_INFINITY,
            dist: dist0,
            ln_sum: 0.0,
        };
    }
    if x.iter().any(|v| v.is_nan()) {
        return RowRef {
            softmax: vec![f64::NAN; n],
            log_softmax: vec![f64::NAN; n],
            lse: f64::NAN,
            dist: dist0,
            ln_sum: 0.0,
        };
    }
    let k = x.iter().filter(|v| **v == f64::INFINITY).count();
    if k > 0 {
        return RowRef {
            softmax: x
                .iter()
                .map(|&v| {
                    if v == f64::INFINITY {
                        1.0 / k as f64
                    } else {
                        0.0
                    }
                })
                .collect(),
            log_softmax: x
                .iter()
                .map(|&v| {
                    if v == f64::INFINITY {
                        -(k as f64).ln()
                    } else {
                        f64::NEG_INFINITY
                    }
                })
                .collect(),
            lse: f64::INFINITY,
            dist: dist0,
            ln_sum: (k as f64).ln(),
        };
    }
    if x.iter().all(|&v| v == f64::NEG_INFINITY) {
        return RowRef {
            softmax: vec![f64::NAN; n],
            log_softmax: vec![f64::NAN; n],
            lse: f64::NEG_INFINITY,
            dist: dist0,
            ln_sum: 0.0,
        };
    }
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let s: f64 = x.iter().map(|&v| (v - m).exp()).sum();
    let ln_s = s.ln();
    RowRef {
        softmax: x.iter().map(|&v| (v - m).exp() / s).collect(),
        log_softmax: x.iter().map(|&v| (v - m) - ln_s).collect(),
        lse: m + ln_s,
        dist: x.iter().map(|&v| (v - m).abs()).collect(),
        ln_sum: ln_s,
    }
}

/// The softmax family (`softmax`, `log_softmax`, their in-place forms, `logsumexp`,
/// `softmax_backward`, `log_softmax_backward`) on decoded shapes, row strides, alignment
/// offsets, scales and special values (NaN, +-inf rows, all `-inf` rows, empty rows), on every
/// SIMD path: against an `f64` reference within the module's documented error (relative
/// `(|x_j - m|/2 + d + 3) eps` for softmax, absolute `(|x_j - m| + |ln sum| + d + 3) eps` for
/// log-softmax, `(|lse| + d + 2) eps` for logsumexp) and its special-value table; in-place equal
/// to out-of-place; rayon equal to one thread; elements between rows never written.
pub fn softmax_paths(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.bool() {
        run::<f32>(&mut inp, 6);
    } else {
        run::<f64>(&mut inp, 9);
    }
}

fn run<T: El>(inp: &mut Input, max_exp: i32) {
    let rows = inp.upto(8);
    let cols = inp.len(40, 5000);
    let ld = cols + inp.upto(5);
    let off = inp.upto(15);
    let dist = Dist::decode(inp, max_exp);
    let sp = Specials {
        non_finite: true,
        huge: false,
    };
    let len = if rows == 0 { 0 } else { (rows - 1) * ld + cols };
    let mut xb: Vec<T> = buffer(inp, len + off, dist, sp);
    // Some rows made entirely of -inf or +inf, by request.
    let special_rows = inp.u8();
    for r in 0..rows {
        let fillv = match (special_rows >> (2 * (r % 4))) & 3 {
            1 if special_rows & 0x80 != 0 => Some(T::NEG_INFINITY),
            2 if special_rows & 0x40 != 0 => Some(T::INFINITY),
            _ => None,
        };
        if let Some(v) = fillv {
            for j in 0..cols {
                xb[off + r * ld + j] = v;
            }
        }
    }
    let x = &xb[off..];
    let dyb: Vec<T> = buffer(
        inp,
        len,
        dist,
        Specials {
            non_finite: false,
            huge: false,
        },
    );
    let what = |op: &str| {
        format!(
            "{op} {} rows={rows} cols={cols} ld={ld} offset {off}",
            T::NAME
        )
    };
    let refs: Vec<RowRef> = (0..rows)
        .map(|r| {
            let row: Vec<f64> = x[r * ld..r * ld + cols]
                .iter()
                .map(|v| v.to_f64())
                .collect();
            row_reference(&row)
        })
        .collect();
    let eps = T::EPSILON.to_f64();
    let d = 530.0 + 2.0 * (cols.div_ceil(4096).max(1) as f64).log2().ceil();
    let min_normal = T::MIN_POSITIVE.to_f64();
    let sentinel = T::from_f64(-3.0);
    for path in paths() {
        let (mut y, mut ly) = (vec![sentinel; len], vec![sentinel; len]);
        let mut lse = vec![T::ZERO; rows];
        on(path, || {
            with_parallelism(Parallelism::Sequential, || {
                nabla_kernels::softmax(x, rows, cols, ld, &mut y);
                nabla_kernels::log_softmax(x, rows, cols, ld, &mut ly);
                nabla_kernels::logsumexp(x, rows, cols, ld, &mut lse);
            })
        });
        for r in 0..rows {
            let rr = &refs[r];
            for j in 0..ld.min(len - r * ld) {
                let i = r * ld + j;
                if j >= cols {
                    if !same(y[i], sentinel) || !same(ly[i], sentinel) {
                        mismatch(
                            &what("softmax"),
                            path,
                            format!("wrote between rows at ({r}, {j})"),
                        );
                    }
                    continue;
                }
                let (sv, lv) = (y[i].to_f64(), ly[i].to_f64());
                let (sw, lw) = (rr.softmax[j], rr.log_softmax[j]);
                let stol = (rr.dist[j] / 2.0 + d + 3.0) * eps * sw + 2.0 * min_normal;
                if !close(sv, sw, stol) {
                    mismatch(
                        &what("softmax"),
                        path,
                        format!(
                            "({r}, {j}) x={:e}: {sv:e}, reference {sw:e}, tolerance {stol:e}",
                            x[i]
                        ),
                    );
                }
                let ltol = (rr.dist[j] + rr.ln_sum.abs() + d + 3.0) * eps;
                if !close(lv, lw, ltol) {
                    mismatch(
                        &what("log_softmax"),
                        path,
                        format!(
                            "({r}, {j}) x={:e}: {lv:e}, reference {lw:e}, tolerance {ltol:e}",
                            x[i]
                        ),
                    );
                }
            }
            let ltol = (rr.lse.abs() + d + 2.0) * eps;
            if !close(lse[r].to_f64(), rr.lse, ltol) {
                mismatch(
                    &what("logsumexp"),
                    path,
                    format!(
                        "row {r}: {:e}, reference {:e}, tolerance {ltol:e}",
                        lse[r], rr.lse
                    ),
                );
            }
        }
        // In place: the same bits.
        let mut z = x[..len].to_vec();
        let mut lz = x[..len].to_vec();
        on(path, || {
            nabla_kernels::softmax_inplace(&mut z, rows, cols, ld);
            nabla_kernels::log_softmax_inplace(&mut lz, rows, cols, ld);
        });
        for r in 0..rows {
            for j in 0..cols {
                let i = r * ld + j;
                if !same(z[i], y[i]) || !same(lz[i], ly[i]) {
                    mismatch(
                        &what("softmax_inplace / log_softmax_inplace"),
                        path,
                        format!(
                            "({r}, {j}): {} / {} in place, {} / {} out of place",
                            z[i], lz[i], y[i], ly[i]
                        ),
                    );
                }
            }
        }
        // Rayon: the same bits.
        let (mut y2, mut ly2) = (vec![sentinel; len], vec![sentinel; len]);
        let mut lse2 = vec![T::ZERO; rows];
        on(path, || {
            with_parallelism(Parallelism::Always, || {
                nabla_kernels::softmax(x, rows, cols, ld, &mut y2);
                nabla_kernels::log_softmax(x, rows, cols, ld, &mut ly2);
                nabla_kernels::logsumexp(x, rows, cols, ld, &mut lse2);
            })
        });
        if let Some(i) = (0..len).find(|&i| !same(y[i], y2[i]) || !same(ly[i], ly2[i])) {
            mismatch(
                &what("softmax"),
                path,
                format!("1 thread and rayon differ at {i}"),
            );
        }
        if let Some(r) = (0..rows).find(|&r| !same(lse[r], lse2[r])) {
            mismatch(
                &what("logsumexp"),
                path,
                format!("1 thread and rayon differ at row {r}"),
            );
        }
        backward(path, &y, &ly, &dyb, rows, cols, ld, &what, d);
    }
}

/// NaN matches NaN, infinities match exactly, finite values within `tol`.
fn close(got: f64, want: f64, tol: f64) -> bool {
    if want.is_nan() || got.is_nan() {
        return want.is_nan() && got.is_nan();
    }
    if want.is_infinite() || got.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= tol
}

/// The backward passes on finite forward outputs, against `f64`:
/// `dx = y (dy - sum dy y)` and `dx = dy - exp(ly) sum dy`.
fn backward<T: El>(
    path: Isa,
    y: &[T],
    ly: &[T],
    dy: &[T],
    rows: usize,
    cols: usize,
    ld: usize,
    what: &dyn Fn(&str) -> String,
    d: f64,
) {
    let eps = T::EPSILON.to_f64();
    let len = y.len();
    let mut dx = vec![T::ZERO; len];
    let mut ldx = vec![T::ZERO; len];
    on(path, || {
        nabla_kernels::softmax_backward(y, dy, rows, cols, ld, &mut dx);
        nabla_kernels::log_softmax_backward(ly, dy, rows, cols, ld, &mut ldx);
    });
    for r in 0..rows {
        let idx = |j: usize| r * ld + j;
        let finite = (0..cols).all(|j| y[idx(j)].is_finite() && ly[idx(j)].to_f64() > -1e300);
        if !finite {
            continue;
        }
        let dot: f64 = (0..cols)
            .map(|j| dy[idx(j)].to_f64() * y[idx(j)].to_f64())
            .sum();
        let adot: f64 = (0..cols)
            .map(|j| (dy[idx(j)].to_f64() * y[idx(j)].to_f64()).abs())
            .sum();
        let sdy: f64 = (0..cols).map(|j| dy[idx(j)].to_f64()).sum();
        let asdy: f64 = (0..cols).map(|j| dy[idx(j)].to_f64().abs()).sum();
        for j in 0..cols {
            let i = idx(j);
            let (yv, g) = (y[i].to_f64(), dy[i].to_f64());
            let want = yv * (g - dot);
            let tol = (d + 4.0) * eps * yv.abs() * (g.abs() + adot) + T::MIN_POSITIVE.to_f64();
            if !close(dx[i].to_f64(), want, tol) {
                mismatch(
                    &what("softmax_backward"),
                    path,
                    format!(
                        "({r}, {j}): {:e}, reference {want:e}, tolerance {tol:e}",
                        dx[i]
                    ),
                );
            }
            let p = ly[i].to_f64().exp();
            let lwant = g - p * sdy;
            // exp(ly) carries ly's absolute error as a relative one.
            let ltol = (d + 8.0 + ly[i].to_f64().abs()) * eps * (g.abs() + p * asdy)
                + T::MIN_POSITIVE.to_f64();
            if !close(ldx[i].to_f64(), lwant, ltol) {
                mismatch(
                    &what("log_softmax_backward"),
                    path,
                    format!(
                        "({r}, {j}): {:e}, reference {lwant:e}, tolerance {ltol:e}",
                        ldx[i]
                    ),
                );
            }
        }
    }
}
