//! `elementwise_paths`: every elementwise kernel on every path against the scalar path.

use crate::{Dist, El, Input, Specials, buffer, mismatch, on, paths, same, scalar};
use nabla_kernels::isa::Isa;

/// The elementwise kernels on decoded lengths, alignment offsets, scalars and special values
/// (NaN, +-inf, signed zeros, subnormals, values near overflow), on every SIMD path. Each
/// result must have the bits of IEEE arithmetic on that element (what the scalar path
/// computes) - except `axpy`, whose `alpha x + y` is fused on FMA paths, and is held to
/// `eps (|alpha x| + |y|)` of the exact value. In-place forms must equal the out-of-place ones,
/// and nothing past the output slice may be written.
pub fn elementwise_paths(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.bool() {
        run::<f32>(&mut inp, 126);
    } else {
        run::<f64>(&mut inp, 1022);
    }
}

/// One operation: a name and how to run it on (x, y) into z (all of the same length).
type Op<T> = (&'static str, fn(&[T], &[T], T, &mut [T]));

fn ops<T: El>() -> Vec<Op<T>> {
    use nabla_kernels as k;
    vec![
        ("add", |x, y, _, z| k::add(x, y, z)),
        ("sub", |x, y, _, z| k::sub(x, y, z)),
        ("mul", |x, y, _, z| k::mul(x, y, z)),
        ("div", |x, y, _, z| k::div(x, y, z)),
        ("add_assign", |x, y, _, z| {
            z.copy_from_slice(x);
            k::add_assign(z, y)
        }),
        ("sub_assign", |x, y, _, z| {
            z.copy_from_slice(x);
            k::sub_assign(z, y)
        }),
        ("mul_assign", |x, y, _, z| {
            z.copy_from_slice(x);
            k::mul_assign(z, y)
        }),
        ("div_assign", |x, y, _, z| {
            z.copy_from_slice(x);
            k::div_assign(z, y)
        }),
        ("add_scalar", |x, _, c, z| k::add_scalar(x, c, z)),
        ("sub_scalar", |x, _, c, z| k::sub_scalar(x, c, z)),
        ("mul_scalar", |x, _, c, z| k::mul_scalar(x, c, z)),
        ("div_scalar", |x, _, c, z| k::div_scalar(x, c, z)),
        ("add_scalar_assign", |x, _, c, z| {
            z.copy_from_slice(x);
            k::add_scalar_assign(z, c)
        }),
        ("mul_scalar_assign", |x, _, c, z| {
            z.copy_from_slice(x);
            k::mul_scalar_assign(z, c)
        }),
        ("scale", |x, _, c, z| {
            z.copy_from_slice(x);
            k::scale(c, z)
        }),
        ("fill", |_, _, c, z| k::fill(z, c)),
        ("copy", |x, _, _, z| k::copy(x, z)),
        ("axpy", |x, y, c, z| {
            z.copy_from_slice(y);
            k::axpy(c, x, z)
        }),
    ]
}

/// The exact IEEE result of an operation on one element (computed in `T`, which is exact for
/// these single operations), or for `axpy` the `f64` value with its bound.
fn expected<T: El>(name: &str, x: T, y: T, c: T) -> T {
    match name {
        "add" | "add_assign" => x + y,
        "sub" | "sub_assign" => x - y,
        "mul" | "mul_assign" => x * y,
        "div" | "div_assign" => x / y,
        "add_scalar" | "add_scalar_assign" => x + c,
        "sub_scalar" => x - c,
        "mul_scalar" | "mul_scalar_assign" | "scale" => x * c,
        "div_scalar" => x / c,
        "fill" => c,
        "copy" => x,
        _ => unreachable!("{name}"),
    }
}

fn run<T: El>(inp: &mut Input, max_exp: i32) {
    let len = inp.len(70, 3000);
    let offs = [inp.upto(15), inp.upto(15), inp.upto(15)];
    let dist = Dist::decode(inp, max_exp);
    let sp = Specials {
        non_finite: true,
        huge: true,
    };
    let xb: Vec<T> = buffer(inp, len + offs[0], dist, sp);
    let yb: Vec<T> = buffer(inp, len + offs[1], dist, sp);
    let c: T = scalar(inp, true);
    let (x, y) = (&xb[offs[0]..], &yb[offs[1]..]);
    let what = |op: &str| format!("{op} {} len={len} offsets {offs:?} c={c}", T::NAME);
    let sentinel = T::from_f64(-7.0);
    for (name, f) in ops::<T>() {
        let what = what(name); // once, not per element: the fuzzer's throughput
        for path in paths() {
            // z lives inside a larger buffer: offset for alignment, sentinels after it.
            let mut zb = vec![sentinel; offs[2] + len + 4];
            on(path, || f(x, y, c, &mut zb[offs[2]..offs[2] + len]));
            let z = &zb[offs[2]..offs[2] + len];
            if let Some(i) = zb[offs[2] + len..].iter().position(|v| !same(*v, sentinel)) {
                mismatch(&what, path, format!("wrote past the output, at len+{i}"));
            }
            if zb[..offs[2]].iter().any(|v| !same(*v, sentinel)) {
                mismatch(&what, path, "wrote before the output".into());
            }
            for i in 0..len {
                check(name, path, &what, i, x[i], y[i], c, z[i]);
            }
        }
    }
    // add_row_bias over a strided matrix.
    let cols = inp.upto(40);
    let ld = cols + inp.upto(4);
    let rows = if ld == 0 {
        0
    } else {
        inp.upto(6).min(len / ld.max(1))
    };
    if rows > 0 && cols > 0 {
        let bias: Vec<T> = buffer(inp, cols, dist, sp);
        let need = (rows - 1) * ld + cols;
        for path in paths() {
            let mut m = x[..need].to_vec();
            on(path, || {
                nabla_kernels::add_row_bias(&mut m, rows, cols, ld, &bias)
            });
            for r in 0..rows {
                for j in 0..ld.min(need - r * ld) {
                    let i = r * ld + j;
                    let want = if j < cols { x[i] + bias[j] } else { x[i] };
                    if !same(m[i], want) {
                        mismatch(
                            &format!("add_row_bias {} rows={rows} cols={cols} ld={ld}", T::NAME),
                            path,
                            format!("element ({r}, {j}) = {}, expected {want}", m[i]),
                        );
                    }
                }
            }
        }
    }
}

fn check<T: El>(name: &str, path: Isa, what: &str, i: usize, x: T, y: T, c: T, got: T) {
    if name == "axpy" {
        // Fused (one rounding, FMA paths) or not (two, the others): the result must be one of
        // the two forms, or within eps (|c x| + |y|) of the exact value (the f32 fused form is
        // computed through f64, a double rounding). Where `c x` overflows T but the real
        // product is finite, the forms legitimately differ: `inf + -inf = NaN` unfused, the
        // exact sign fused.
        let (cx, yy) = (c.to_f64() * x.to_f64(), y.to_f64());
        let fused64 = c.to_f64().mul_add(x.to_f64(), yy);
        let fused = T::from_f64(fused64);
        let unfused = c * x + y;
        let bound = T::EPSILON.to_f64() * (cx.abs() + yy.abs())
            + T::MIN_POSITIVE.to_f64() * T::EPSILON.to_f64();
        let ok = same(got, fused)
            || same(got, unfused)
            || (fused64.is_finite() && got.is_finite() && (got.to_f64() - fused64).abs() <= bound);
        if !ok {
            mismatch(
                what,
                path,
                format!(
                    "[{i}]: {c:e} * {x:e} + {y:e} = {got:e}; fused {fused:e}, unfused {unfused:e}"
                ),
            );
        }
        return;
    }
    let want = expected(name, x, y, c);
    if !same(got, want) {
        mismatch(
            what,
            path,
            format!("[{i}]: x={x:e} y={y:e} gave {got:e}, IEEE gives {want:e}"),
        );
    }
}
