//! `reductions_thread_invariant`: reductions on every path, one thread against rayon, row forms
//! against slice forms, and against an `f64` reference.

use crate::{Dist, El, Input, Specials, buffer, mismatch, nsum, on, paths, same};
use nabla_kernels::isa::Isa;
use nabla_kernels::parallel::{Parallelism, with_parallelism};

/// Every whole-slice result, as `f64` (argmax/argmin as their index, `-1` for `None`).
fn all<T: El>(x: &[T], y: &[T]) -> [f64; 9] {
    use nabla_kernels as k;
    let idx = |i: Option<usize>| i.map_or(-1.0, |i| i as f64);
    [
        k::sum(x).to_f64(),
        k::dot(x, y).to_f64(),
        k::max(x).to_f64(),
        k::min(x).to_f64(),
        idx(k::argmax(x)),
        idx(k::argmin(x)),
        k::l2_norm(x).to_f64(),
        k::mean(x).to_f64(),
        k::variance(x).to_f64(),
    ]
}

const NAMES: [&str; 9] = [
    "sum", "dot", "max", "min", "argmax", "argmin", "l2_norm", "mean", "variance",
];

/// Reductions on decoded lengths (up to several 4096-element blocks), alignment offsets and
/// special values, on every SIMD path:
/// * on rayon's pool (`Parallelism::Always`) the bits must equal one thread's;
/// * each row of the `_rows` forms must have exactly the bits of the slice form on that row;
/// * sums, dots, norms, means and variances must be within the documented depth-times-eps
///   bound of an `f64` reference, max/min/argmax/argmin exact, and NaN/inf as documented.
pub fn reductions_thread_invariant(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.bool() {
        run::<f32>(&mut inp, 40);
    } else {
        run::<f64>(&mut inp, 300);
    }
}

fn run<T: El>(inp: &mut Input, max_exp: i32) {
    let len = inp.len(300, 20_000);
    let (ox, oy) = (inp.upto(15), inp.upto(15));
    let dist = Dist::decode(inp, max_exp);
    let sp = Specials {
        non_finite: true,
        huge: inp.u8().is_multiple_of(4),
    };
    let xb: Vec<T> = buffer(inp, len + ox, dist, sp);
    let yb: Vec<T> = buffer(inp, len + oy, dist, sp);
    let (x, y) = (&xb[ox..], &yb[oy..]);
    let cols = 1 + inp.upto(600);
    let ld = cols + inp.upto(3);
    let rows = if len >= cols {
        (len - cols) / ld + 1
    } else {
        0
    };
    let what = format!("{} len={len} offsets ({ox},{oy})", T::NAME);
    let reference = Reference::new(x, y);
    for path in paths() {
        let one = on(path, || {
            with_parallelism(Parallelism::Sequential, || all(x, y))
        });
        let many = on(path, || with_parallelism(Parallelism::Always, || all(x, y)));
        for (i, name) in NAMES.iter().enumerate() {
            if !(one[i] == many[i] || (one[i].is_nan() && many[i].is_nan())) {
                mismatch(
                    &format!("{name} {what}"),
                    path,
                    format!("1 thread gave {:e}, rayon {:e}", one[i], many[i]),
                );
            }
        }
        reference.check(&one, path, &what);
        if rows > 0 {
            rows_match(x, y, rows, cols, ld, path, &what);
        }
    }
}

/// The `_rows` forms must give, row by row, the bits of the slice forms (on one thread and on
/// rayon's pool).
fn rows_match<T: El>(x: &[T], y: &[T], rows: usize, cols: usize, ld: usize, path: Isa, what: &str) {
    use nabla_kernels as k;
    for policy in [Parallelism::Sequential, Parallelism::Always] {
        let mut outs = vec![vec![T::ZERO; rows]; 7];
        let mut idx = vec![vec![0usize; rows]; 2];
        on(path, || {
            with_parallelism(policy, || {
                k::sum_rows(x, rows, cols, ld, &mut outs[0]);
                k::max_rows(x, rows, cols, ld, &mut outs[1]);
                k::min_rows(x, rows, cols, ld, &mut outs[2]);
                k::l2_norm_rows(x, rows, cols, ld, &mut outs[3]);
                k::mean_rows(x, rows, cols, ld, &mut outs[4]);
                k::variance_rows(x, rows, cols, ld, &mut outs[5]);
                k::dot_rows(x, y, rows, cols, ld, ld, &mut outs[6]);
                k::argmax_rows(x, rows, cols, ld, &mut idx[0]);
                k::argmin_rows(x, rows, cols, ld, &mut idx[1]);
            })
        });
        for r in 0..rows {
            let (xr, yr) = (&x[r * ld..r * ld + cols], &y[r * ld..r * ld + cols]);
            let want = on(path, || {
                with_parallelism(Parallelism::Sequential, || {
                    [
                        k::sum(xr),
                        k::max(xr),
                        k::min(xr),
                        k::l2_norm(xr),
                        k::mean(xr),
                        k::variance(xr),
                        k::dot(xr, yr),
                    ]
                })
            });
            let names = [
                "sum_rows",
                "max_rows",
                "min_rows",
                "l2_norm_rows",
                "mean_rows",
                "variance_rows",
                "dot_rows",
            ];
            for (j, name) in names.iter().enumerate() {
                if !same(outs[j][r], want[j]) {
                    mismatch(
                        &format!("{name} {what} rows={rows} cols={cols} ld={ld} {policy:?}"),
                        path,
                        format!(
                            "row {r}: {} but the slice form gives {}",
                            outs[j][r], want[j]
                        ),
                    );
                }
            }
            let am = on(path, || (k::argmax(xr), k::argmin(xr)));
            for (j, (got, w)) in [(idx[0][r], am.0), (idx[1][r], am.1)]
                .into_iter()
                .enumerate()
            {
                if Some(got) != w {
                    mismatch(
                        &format!(
                            "arg{}_rows {what} rows={rows} cols={cols} ld={ld}",
                            ["max", "min"][j]
                        ),
                        path,
                        format!("row {r}: {got} but the slice form gives {w:?}"),
                    );
                }
            }
        }
    }
}

/// What the reductions should give, from `f64` arithmetic.
struct Reference {
    n: usize,
    sum: f64,
    abs_sum: f64,
    dot: f64,
    abs_dot: f64,
    norm: f64,
    nan: bool,
    inf: bool,
    dot_nan: bool,
    first_nan: Option<usize>,
    max: f64,
    min: f64,
    argmax: Option<usize>,
    argmin: Option<usize>,
    var: f64,
    eps: f64,
    depth: f64,
    tiny: f64,
    big: f64,
}

impl Reference {
    fn new<T: El>(x: &[T], y: &[T]) -> Reference {
        let v: Vec<f64> = x.iter().map(|v| v.to_f64()).collect();
        let w: Vec<f64> = y.iter().map(|v| v.to_f64()).collect();
        let n = v.len();
        let sum = nsum(v.iter().copied());
        let abs_sum = nsum(v.iter().map(|a| a.abs()));
        let prods: Vec<f64> = v.iter().zip(&w).map(|(a, b)| a * b).collect();
        let dot = nsum(prods.iter().copied());
        let abs_dot = nsum(prods.iter().map(|p| p.abs()));
        // The norm scaled by the largest finite magnitude: squares of values below 1e-162
        // underflow f64 (the kernel scales too).
        let amax = v
            .iter()
            .filter(|a| a.is_finite())
            .fold(0.0f64, |m, a| m.max(a.abs()));
        let norm = if amax == 0.0 {
            0.0
        } else {
            amax * nsum(v.iter().map(|a| (a / amax) * (a / amax))).sqrt()
        };
        let first_nan = v.iter().position(|a| a.is_nan());
        let finite: Vec<f64> = v.iter().copied().filter(|a| !a.is_nan()).collect();
        let max = finite.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let min = finite.iter().copied().fold(f64::INFINITY, f64::min);
        let (argmax, argmin) = if n == 0 {
            (None, None)
        } else if first_nan.is_some() {
            (first_nan, first_nan)
        } else {
            (
                v.iter().position(|&a| a == max),
                v.iter().position(|&a| a == min),
            )
        };
        let mean = sum / n as f64;
        let var = nsum(v.iter().map(|a| (a - mean) * (a - mean))) / n as f64;
        let eps = T::EPSILON.to_f64();
        let blocks = n.div_ceil(4096).max(1) as f64;
        Reference {
            n,
            sum,
            abs_sum,
            dot,
            abs_dot,
            norm,
            nan: first_nan.is_some(),
            inf: v.iter().any(|a| a.is_infinite()),
            dot_nan: dot.is_nan(),
            first_nan,
            max,
            min,
            argmax,
            argmin,
            var,
            eps,
            // The documented depth: 512 sequential adds on the scalar path within a block, a
            // few levels of lanes, one level per doubling of blocks; with margin.
            depth: 530.0 + 2.0 * blocks.log2().ceil(),
            tiny: 4.0 * T::MIN_POSITIVE.to_f64() * eps * (n as f64 + 1.0),
            big: T::MAX.to_f64() / 4.0,
        }
    }

    /// `got` (from [`all`]) against the reference.
    fn check(&self, got: &[f64; 9], path: Isa, what: &str) {
        let bad =
            |i: usize, msg: String| -> ! { mismatch(&format!("{} {what}", NAMES[i]), path, msg) };
        let close = |i: usize, g: f64, want: f64, scale: f64| {
            if want.is_nan() {
                if !g.is_nan() {
                    bad(i, format!("{g:e}, expected NaN"));
                }
                return;
            }
            if scale > self.big {
                return; // partial sums may overflow in one order and not another
            }
            if want.is_infinite() {
                if g != want {
                    bad(i, format!("{g:e}, expected {want:e}"));
                }
                return;
            }
            let tol = self.depth * self.eps * scale + self.tiny;
            if g.is_nan() || (g - want).abs() > tol {
                bad(i, format!("{g:e}, reference {want:e}, tolerance {tol:e}"));
            }
        };
        if self.n == 0 {
            if got[0] != 0.0 {
                bad(0, format!("empty sum {}", got[0]));
            }
            if !got[7].is_nan() || !got[8].is_nan() {
                bad(7, "mean/variance of nothing should be NaN".into());
            }
            if got[4] != -1.0 || got[5] != -1.0 {
                bad(4, "argmax/argmin of nothing should be None".into());
            }
            return;
        }
        close(0, got[0], self.sum, self.abs_sum);
        let dot_want = if self.dot_nan { f64::NAN } else { self.dot };
        close(1, got[1], dot_want, self.abs_dot);
        // max/min: NaN if any NaN, else exact (the sign of a zero extreme is unspecified).
        for (i, want) in [(2, self.max), (3, self.min)] {
            let ok = if self.nan {
                got[i].is_nan()
            } else {
                got[i] == want
            };
            if !ok {
                bad(i, format!("{:e}, expected {want:e}", got[i]));
            }
        }
        for (i, want) in [(4, self.argmax), (5, self.argmin)] {
            if got[i] != want.map_or(-1.0, |w| w as f64) {
                bad(
                    i,
                    format!(
                        "{}, expected {want:?} (first NaN {:?})",
                        got[i], self.first_nan
                    ),
                );
            }
        }
        // l2_norm: NaN if any NaN, else inf if any inf, else within (d/2 + 2) eps (relative).
        let norm = self.norm;
        let g = got[6];
        if self.nan {
            if !g.is_nan() {
                bad(6, format!("{g:e}, expected NaN"));
            }
        } else if self.inf {
            if g != f64::INFINITY {
                bad(6, format!("{g:e}, expected inf"));
            }
        } else if norm.is_finite() && norm < self.big {
            let tol = (self.depth / 2.0 + 2.0) * self.eps * norm + self.tiny;
            if (g - norm).abs() > tol {
                bad(6, format!("{g:e}, reference {norm:e}, tolerance {tol:e}"));
            }
        }
        let n = self.n as f64;
        close(7, got[7], self.sum / n, self.abs_sum / n);
        // variance: NaN if any NaN or inf; relative (d + 4) eps otherwise (with the absolute
        // slack of the sums it is built from).
        if self.nan || self.inf {
            if !got[8].is_nan() {
                bad(8, format!("{:e}, expected NaN", got[8]));
            }
        } else if self.abs_sum < self.big.sqrt() / 4.0 {
            let mean_abs = self.abs_sum / n;
            // "About (d + 4) eps": allow 1.5x.
            let tol = 1.5 * (self.depth + 4.0) * self.eps * self.var
                + 4.0 * self.depth * self.eps * self.eps * mean_abs * mean_abs
                + self.tiny;
            if got[8].is_nan() || (got[8] - self.var).abs() > tol {
                bad(
                    8,
                    format!("{:e}, reference {:e}, tolerance {tol:e}", got[8], self.var),
                );
            }
        }
    }
}
