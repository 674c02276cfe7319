//! `activations_paths`: the activation kernels on every path against `f64` references and
//! against each other.

use crate::{Dist, El, Input, Specials, buffer, mismatch, on, paths, same, ulp_at};
use nabla_kernels::activation as act;
use nabla_kernels::isa::Isa;

/// An activation: name, the kernel, the in-place kernel, its documented bound in ULP, and an
/// `f64` reference (`None` where `std` has no such function: then the paths are compared with
/// each other, within twice the bound).
struct Fun<T: 'static> {
    name: &'static str,
    f: fn(&[T], &mut [T]),
    inplace: fn(&mut [T]),
    ulps: f64,
    reference: Option<fn(f64) -> f64>,
    /// How far (ULP) the `f64` reference, computed in `f64`, may itself be from the exact
    /// value; `f64` results are allowed that on top of their bound. 1 for one `std` function,
    /// 3 for a composition of several `std` operations, 2 for `std`'s `tanh` (the system
    /// libm): at `x = 0.20508035368186484`, `0.20667486746156838` and `0.23177270511072423` it
    /// is 2 ULP from the correctly rounded result (1.67-1.96 from the exact value, by mpmath)
    /// and nabla's `tanh` 2 ULP the other way (within its bound), so the fuzzer saw 4 ULP
    /// between them.
    ref_ulps: f64,
    /// Only inputs `>= min_x` are held to the bound (gelu_tanh's bound grows in its tail: the
    /// documented range is `x >= -1` for `f32`, `x >= -1/4` for `f64`).
    min_x: f64,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `x * sigmoid(x)`, with its limits at the infinities (`-0` at `-inf`, not `-inf * 0`). Far
/// left, `sigmoid(x) = e^x` is subnormal in `f64` while `x e^x` is not (to `x = -744`): there
/// the product is formed as `(x e^(x/2)) e^(x/2)`, every factor normal.
fn silu(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        -0.0
    } else if x < -700.0 {
        let h = (x / 2.0).exp();
        (x * h) * h
    } else {
        x * sigmoid(x)
    }
}

/// GELU's tanh form, with its limits at the infinities.
fn gelu_tanh(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return -0.0;
    }
    if x == f64::INFINITY {
        return x;
    }
    let c = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * x * (1.0 + (c * (x + 0.044_715 * x * x * x)).tanh())
}

fn funs<T: El>() -> Vec<Fun<T>> {
    macro_rules! fun {
        ($name:ident, $inplace:ident, $ulps:expr, $r:expr) => {
            fun!($name, $inplace, $ulps, $r, f64::NEG_INFINITY, 1.0)
        };
        ($name:ident, $inplace:ident, $ulps:expr, $r:expr, composite) => {
            fun!($name, $inplace, $ulps, $r, f64::NEG_INFINITY, 3.0)
        };
        ($name:ident, $inplace:ident, $ulps:expr, $r:expr, $min:expr, $ref_ulps:expr) => {
            Fun {
                name: stringify!($name),
                f: act::$name::<T>,
                inplace: act::$inplace::<T>,
                ulps: $ulps,
                reference: $r,
                ref_ulps: $ref_ulps,
                min_x: $min,
            }
        };
    }
    vec![
        fun!(exp, exp_inplace, 1.0, Some(f64::exp)),
        fun!(log, log_inplace, 1.0, Some(f64::ln)),
        fun!(log1p, log1p_inplace, 2.0, Some(f64::ln_1p)),
        fun!(expm1, expm1_inplace, 2.0, Some(f64::exp_m1)),
        fun!(
            tanh,
            tanh_inplace,
            2.0,
            Some(f64::tanh),
            f64::NEG_INFINITY,
            2.0
        ),
        fun!(sigmoid, sigmoid_inplace, 2.0, Some(sigmoid), composite),
        fun!(silu, silu_inplace, 2.0, Some(silu), composite),
        fun!(softplus, softplus_inplace, 2.0, Some(softplus), composite),
        fun!(erf, erf_inplace, 2.0, None),
        fun!(gelu, gelu_inplace, 2.0, None),
        fun!(
            gelu_tanh,
            gelu_tanh_inplace,
            2.0,
            Some(gelu_tanh),
            if T::MANTISSA_BITS == 52 { -0.25 } else { -1.0 },
            3.0
        ),
        fun!(sqrt, sqrt_inplace, 0.0, Some(f64::sqrt)),
        fun!(reciprocal, reciprocal_inplace, 0.0, Some(|x: f64| 1.0 / x)),
        fun!(
            relu,
            relu_inplace,
            0.0,
            Some(|x: f64| if x.is_nan() { x } else { x.max(0.0) })
        ),
    ]
}

/// The activation kernels on decoded lengths, alignment offsets and inputs (bulk values at a
/// decoded scale, plus NaN, +-inf, signed zeros, subnormals, values near overflow), on every
/// SIMD path: each result within the documented ULP bound of an `f64` reference (NaN in, NaN
/// out; infinities and over/underflow as `std`; below the normal range an absolute error of at
/// most the smallest normal for the 2-ULP functions), `erf` and `gelu` (no `std` reference)
/// within twice the bound of the scalar path, and every in-place form bit-identical to its
/// out-of-place form.
pub fn activations_paths(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.bool() {
        run::<f32>(&mut inp, 7);
    } else {
        run::<f64>(&mut inp, 10);
    }
}

fn run<T: El>(inp: &mut Input, max_exp: i32) {
    let len = inp.len(80, 2000);
    let off = inp.upto(15);
    let dist = Dist::decode(inp, max_exp);
    let sp = Specials {
        non_finite: true,
        huge: true,
    };
    let xb: Vec<T> = buffer(inp, len + off, dist, sp);
    let x = &xb[off..];
    let only = inp.u8();
    let all = funs::<T>();
    // One function per input most of the time (a quarter of inputs run them all).
    let chosen: Vec<&Fun<T>> = if only.is_multiple_of(4) {
        all.iter().collect()
    } else {
        vec![&all[usize::from(only / 4) % all.len()]]
    };
    let what = |name: &str| format!("{name} {} len={len} offset {off}", T::NAME);
    for fun in chosen {
        let what = what(fun.name); // once, not per element: the fuzzer's throughput
        let mut scalar_out: Option<Vec<T>> = None;
        for path in paths() {
            let mut y = vec![T::ZERO; len];
            on(path, || (fun.f)(x, &mut y));
            let mut z = x.to_vec();
            on(path, || (fun.inplace)(&mut z));
            if let Some(i) = (0..len).find(|&i| !same(y[i], z[i])) {
                mismatch(
                    &what,
                    path,
                    format!("in place gave {} at [{i}], out of place {}", z[i], y[i]),
                );
            }
            for i in 0..len {
                match fun.reference {
                    Some(r) => against_reference(fun, r, x[i], y[i], path, &what, i),
                    None => {
                        if let Some(s) = &scalar_out {
                            against_scalar(fun, x[i], y[i], s[i], path, &what, i);
                        }
                    }
                }
            }
            if path == Isa::Scalar {
                scalar_out = Some(y);
            }
        }
    }
}

/// The error of `got` from the real value `want`, in ULPs of `T` at `want` (subnormal results:
/// absolute, against the smallest normal when `loose_subnormal`).
fn ulp_error<T: El>(got: f64, want: f64) -> f64 {
    (got - want).abs() / ulp_at::<T>(want)
}

fn against_reference<T: El>(
    fun: &Fun<T>,
    r: fn(f64) -> f64,
    x: T,
    got: T,
    path: Isa,
    what: &str,
    i: usize,
) {
    let xv = x.to_f64();
    let want = r(xv);
    let want_t = T::from_f64(want);
    let g = got.to_f64();
    let fail = |why: &str| -> ! {
        mismatch(
            what,
            path,
            format!("[{i}] f({xv:e}) = {g:e}, reference {want:e} ({why})"),
        )
    };
    if want.is_nan() {
        if !got.is_nan() {
            fail("NaN expected");
        }
        return;
    }
    if got.is_nan() {
        fail("NaN from a non-NaN result");
    }
    if xv < fun.min_x {
        return;
    }
    if want_t.is_inf() || got.is_inf() {
        // Overflow: the correctly rounded result is inf (or the largest finite value, one ULP
        // below it).
        let near_max = want.abs() >= T::MAX.to_f64() * (1.0 - 2.0 * T::EPSILON.to_f64());
        if !(g == want_t.to_f64()
            || (near_max && got.abs() >= T::MAX && g.signum() == want.signum()))
        {
            fail("overflow differs");
        }
        return;
    }
    // Half an ULP for the rounding of the correctly rounded result; for f64 results the
    // reference is itself computed in f64 (`Fun::ref_ulps`).
    let slack = if T::MANTISSA_BITS == 52 {
        0.5 + fun.ref_ulps
    } else {
        0.5
    };
    if want.abs() < T::MIN_POSITIVE.to_f64() {
        let bound = if fun.ulps >= 2.0 {
            T::MIN_POSITIVE.to_f64()
        } else {
            (fun.ulps + slack) * ulp_at::<T>(want)
        };
        if (g - want).abs() > bound {
            fail(&format!("subnormal range, allowed {bound:e}"));
        }
        return;
    }
    let e = ulp_error::<T>(g, want);
    if e > fun.ulps + slack {
        fail(&format!("{e:.2} ULP, bound {}", fun.ulps));
    }
}

/// Paths with no `std` reference: each within twice the bound of the scalar path (both are
/// within the bound of the truth), NaN and infinities alike.
fn against_scalar<T: El>(fun: &Fun<T>, x: T, got: T, scalar: T, path: Isa, what: &str, i: usize) {
    let (g, s) = (got.to_f64(), scalar.to_f64());
    let ok = if s.is_nan() || g.is_nan() {
        s.is_nan() && g.is_nan()
    } else if s.is_infinite() || g.is_infinite() {
        g == s
    } else if s.abs() < T::MIN_POSITIVE.to_f64() || g.abs() < T::MIN_POSITIVE.to_f64() {
        (g - s).abs() <= 2.0 * T::MIN_POSITIVE.to_f64()
    } else {
        ulp_error::<T>(g, s) <= 2.0 * fun.ulps + 1.0
    };
    if !ok {
        mismatch(
            what,
            path,
            format!("[{i}] f({x:e}) = {g:e}, scalar path {s:e}"),
        );
    }
}
