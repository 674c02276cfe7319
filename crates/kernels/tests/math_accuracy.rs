//! Accuracy of the vectorized elementary functions ([`nabla_kernels::math`]) through the slice
//! kernels of [`nabla_kernels::activation`], on every SIMD path this CPU has.
//!
//! * `f32`: every 257th bit pattern (2^32 / 257 = 16 711 935 values: all of them sign, exponent
//!   and a spread of mantissas, NaNs and infinities included) plus edge values, against an `f64`
//!   reference: the `std` `f64` function, or an `f64` formula whose error is far below an `f32`
//!   ULP; `erf`/`erfc` (not in `std`) from the series / continued fraction in [`erfc_ref`]. The
//!   correctly rounded `f32` result is taken as the reference rounded to `f32`: wrong only when the
//!   exact value lies within the reference's own error (~2^-50 relative) of a rounding boundary,
//!   which for a sweep this size means at most a handful of values, each then off by one step.
//! * `f64`: (1) 512 points per function whose correctly rounded results were computed with
//!   mpmath at 60 digits (`tests/data/f64_reference.txt`, generated offline: no Python at test
//!   time): the strict bound is asserted on those; (2) 2^20 random bit patterns plus edges against
//!   `std`-based `f64` references, with the bound widened by the references' own error (stated
//!   per function): this catches gross errors and special-value mistakes anywhere in the range.
//!
//! The error is counted in steps between representable values ("ULP"), `+0` and `-0` equal;
//! where the correctly rounded result is subnormal, the 2-ULP functions are held to an absolute
//! error of at most the smallest normal instead. Run with `--nocapture` to see the table of
//! maximum errors.

use nabla_kernels::activation as act;
use nabla_kernels::isa::{self, Isa};

// ------------------------------------------------------------------ helpers

/// Bit pattern mapped to a monotonic integer (so that neighbours differ by 1; +0 == -0).
fn ord32(x: f32) -> i64 {
    let b = x.to_bits() as i32;
    (if b < 0 { i32::MIN.wrapping_sub(b) } else { b }) as i64
}
fn ord64(x: f64) -> i128 {
    let b = x.to_bits() as i64;
    (if b < 0 { i64::MIN.wrapping_sub(b) } else { b }) as i128
}

/// Size of an `f32` ULP at the magnitude of `r` (the ULP of the binade containing it).
fn ulp32(r: f64) -> f64 {
    let a = r.abs();
    if a < f32::MIN_POSITIVE as f64 {
        return 2f64.powi(-149);
    }
    let e = a.log2().floor() as i32;
    let e = if 2f64.powi(e) > a { e - 1 } else { e };
    2f64.powi(e - 23)
}

/// How a result compares with its reference.
#[derive(Clone, Copy, Debug, Default)]
struct Err {
    /// Steps from the correctly rounded result.
    steps: u64,
    /// `|z - exact| / ulp(exact)` (fractional; `f32` only).
    frac: f64,
    /// Accepted under the subnormal rule (absolute error at most the smallest normal).
    sub: bool,
}

/// The bound a function promises.
#[derive(Clone, Copy)]
struct Bound {
    ulp: u64,
    /// Whether subnormal results may instead be off by up to the smallest normal.
    subnormal_abs: bool,
}
const ONE_ULP: Bound = Bound {
    ulp: 1,
    subnormal_abs: false,
};
const TWO_ULP: Bound = Bound {
    ulp: 2,
    subnormal_abs: true,
};

/// Checks `z` against the `f64` reference `r` for an `f32` function; `Err` or a failure text.
fn judge32(x: f32, z: f32, r: f64, b: Bound) -> Result<Err, String> {
    if r.is_nan() {
        return if z.is_nan() {
            Ok(Err::default())
        } else {
            Err(format!(
                "x = {x:e} ({:#010x}): got {z:e}, want NaN",
                x.to_bits()
            ))
        };
    }
    if z.is_nan() {
        return Err(format!(
            "x = {x:e} ({:#010x}): got NaN, want {r:e}",
            x.to_bits()
        ));
    }
    let cr = r as f32;
    let steps = (ord32(z) - ord32(cr)).unsigned_abs();
    let frac = if r.is_infinite() || z.is_infinite() {
        if z as f64 == r { 0.0 } else { f64::INFINITY }
    } else {
        (z as f64 - r).abs() / ulp32(r)
    };
    let mut e = Err {
        steps,
        frac,
        sub: false,
    };
    let sub_ok = b.subnormal_abs
        && (cr.abs() < f32::MIN_POSITIVE || r.abs() < f32::MIN_POSITIVE as f64)
        && (z as f64 - r).abs() <= f32::MIN_POSITIVE as f64;
    if steps <= b.ulp || sub_ok {
        e.sub = steps > b.ulp;
        Ok(e)
    } else {
        Err(format!(
            "x = {x:e} ({:#010x}): got {z:e} ({:#010x}), want {cr:e} ({:#010x}, exact {r:e}): {steps} ULP",
            x.to_bits(),
            z.to_bits(),
            cr.to_bits()
        ))
    }
}

/// As [`judge32`] for `f64` against a correctly rounded `cr`.
fn judge64(x: f64, z: f64, cr: f64, b: Bound) -> Result<u64, String> {
    if cr.is_nan() {
        return if z.is_nan() {
            Ok(0)
        } else {
            Err(format!("x = {x:e}: got {z:e}, want NaN"))
        };
    }
    if z.is_nan() {
        return Err(format!("x = {x:e}: got NaN, want {cr:e}"));
    }
    let steps = (ord64(z) - ord64(cr)).unsigned_abs() as u64;
    let sub_ok =
        b.subnormal_abs && cr.abs() < f64::MIN_POSITIVE && (z - cr).abs() <= f64::MIN_POSITIVE;
    if steps <= b.ulp {
        Ok(steps)
    } else if sub_ok {
        Ok(0)
    } else {
        Err(format!(
            "x = {x:e} ({:#018x}): got {z:e} ({:#018x}), want {cr:e} ({:#018x}): {steps} ULP",
            x.to_bits(),
            z.to_bits(),
            cr.to_bits()
        ))
    }
}

// ------------------------------------------------------------------ references

/// `erfc(t)` for `t >= 0` in `f64`, relative error about 1e-15, with `e^(-t^2)` supplied by the
/// caller (`emt2`, computed from an exact `t^2` where possible): a Taylor series for `t < 0.5`,
/// the continued fraction `erfc t = e^(-t^2)/sqrt(pi) / (t + (1/2)/(t + 1/(t + (3/2)/(t + ...))))`
/// evaluated backwards beyond (enough terms for 1e-16 at each `t`; checked against mpmath).
fn erfc_ref(t: f64, emt2: f64) -> f64 {
    if t < 0.5 {
        return 1.0 - erf_series(t);
    }
    if t > 27.5 {
        return 0.0;
    }
    let n = if t < 1.0 {
        1600
    } else if t < 2.0 {
        400
    } else if t < 4.0 {
        200
    } else {
        100
    };
    let mut f = t;
    for k in (1..=n).rev() {
        f = t + (k as f64 / 2.0) / f;
    }
    emt2 / std::f64::consts::PI.sqrt() / f
}

/// `erf(t)` by its Taylor series (for `|t| < 1`: terms decrease from the start).
fn erf_series(t: f64) -> f64 {
    let t2 = t * t;
    let mut term = t;
    let mut sum = t;
    for n in 1..60 {
        let n = n as f64;
        term *= -t2 / n;
        let add = term / (2.0 * n + 1.0);
        sum += add;
        if add.abs() <= 1e-18 * sum.abs() {
            break;
        }
    }
    sum * std::f64::consts::FRAC_2_SQRT_PI
}

/// `e^(-a^2 / d)` with `a^2` split exactly (`d` a power of 2), so that it is accurate to about
/// 1 ULP for any `f64` `a`.
fn exp_neg_sq(a: f64, d: f64) -> f64 {
    let hi = a * a;
    let lo = a.mul_add(a, -hi);
    (-hi / d).exp() * (1.0 - lo / d)
}

fn erf_ref(x: f64) -> f64 {
    let a = x.abs();
    let y = if a < 0.5 {
        erf_series(a)
    } else {
        1.0 - erfc_ref(a, exp_neg_sq(a, 1.0))
    };
    y.copysign(x)
}

/// `x Phi(x)` in `f64`. `x` is an `f32` value or close to one's precision, so `x^2` is exact.
fn gelu_ref(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    let a = x.abs();
    let t = a * std::f64::consts::FRAC_1_SQRT_2;
    if x >= 0.0 {
        x * (1.0 - 0.5 * erfc_ref(t, exp_neg_sq(a, 2.0)))
    } else if a < 1.0 {
        x * 0.5 * erfc_ref(t, exp_neg_sq(a, 2.0))
    } else {
        // Phi(-a) scaled by 2^100 so that it stays normal until the product with x.
        let q = 0.5 * erfc_ref(t, exp_neg_sq(a, 2.0) * 2f64.powi(100));
        x * q * 2f64.powi(-100)
    }
}

fn gelu_tanh_ref(x: f64) -> f64 {
    if x.is_nan() || x == f64::INFINITY {
        return x;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    let u2 = 2.0 * (2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x * x * x);
    x / (1.0 + (-u2).exp())
}

fn sigmoid_ref(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}
fn silu_ref(x: f64) -> f64 {
    if x == f64::NEG_INFINITY {
        return -0.0;
    }
    if x < -700.0 {
        // 1 + e^-x = e^-x to far below an ULP; e^x scaled to stay normal.
        let h = (0.5 * x).exp();
        return x * h * 2f64.powi(100) * h * 2f64.powi(-100);
    }
    x / (1.0 + (-x).exp())
}
fn softplus_ref(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

// ------------------------------------------------------------------ the function table

type Kernel32 = fn(&[f32], &mut [f32]);
type Kernel64 = fn(&[f64], &mut [f64]);

struct Func {
    name: &'static str,
    k32: Kernel32,
    k64: Kernel64,
    reference: fn(f64) -> f64,
    bound: Bound,
    /// Extra steps allowed in the broad `f64` sweep, for the error of `reference` in `f64`.
    ref64_slack: u64,
    /// Restricts the `f32` bound to inputs `>= min_x` (below, only sanity is checked): for
    /// `gelu_tanh`, whose tail error is documented as growing.
    min_x: f64,
    /// As `min_x`, for `f64`.
    min_x64: f64,
}

fn funcs() -> Vec<Func> {
    fn f(
        name: &'static str,
        k32: Kernel32,
        k64: Kernel64,
        reference: fn(f64) -> f64,
        bound: Bound,
        ref64_slack: u64,
    ) -> Func {
        Func {
            name,
            k32,
            k64,
            reference,
            bound,
            ref64_slack,
            min_x: f64::NEG_INFINITY,
            min_x64: f64::NEG_INFINITY,
        }
    }
    vec![
        f("exp", act::exp, act::exp, f64::exp, ONE_ULP, 1),
        f("log", act::log, act::log, f64::ln, ONE_ULP, 1),
        f("log1p", act::log1p, act::log1p, f64::ln_1p, TWO_ULP, 1),
        f("expm1", act::expm1, act::expm1, f64::exp_m1, TWO_ULP, 1),
        f("tanh", act::tanh, act::tanh, f64::tanh, TWO_ULP, 1),
        f(
            "sigmoid",
            act::sigmoid,
            act::sigmoid,
            sigmoid_ref,
            TWO_ULP,
            3,
        ),
        f("silu", act::silu, act::silu, silu_ref, TWO_ULP, 3),
        f(
            "softplus",
            act::softplus,
            act::softplus,
            softplus_ref,
            TWO_ULP,
            3,
        ),
        f("erf", act::erf, act::erf, erf_ref, TWO_ULP, 3),
        f("gelu", act::gelu, act::gelu, gelu_ref, TWO_ULP, 4),
        Func {
            min_x: -1.0,
            min_x64: -0.25,
            ..f(
                "gelu_tanh",
                act::gelu_tanh,
                act::gelu_tanh,
                gelu_tanh_ref,
                TWO_ULP,
                4,
            )
        },
    ]
}

fn func(name: &str) -> Func {
    funcs().into_iter().find(|f| f.name == name).unwrap()
}

// ------------------------------------------------------------------ f32

/// Edge inputs for every `f32` function.
fn edges32() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        -f32::NAN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),
        f32::from_bits(0x8000_0001),
        f32::from_bits(0x007f_ffff),
        1e-40,
        -1e-40,
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
        1.0,
        -1.0,
        1.0 - f32::EPSILON / 2.0,
        1.0 + f32::EPSILON,
        -1.0 + f32::EPSILON / 2.0,
        2.0,
        0.5,
        std::f32::consts::LN_2 / 2.0,
        -std::f32::consts::LN_2 / 2.0,
        std::f32::consts::SQRT_2,
        std::f32::consts::FRAC_1_SQRT_2,
        0.75,
        9.0,
        9.1,
        20.0,
        13.15,
        -13.15,
        -13.2,
        -13.0,
        87.0,
        -87.0,
        87.3,
        -87.3,
        88.0,
        88.72283,
        88.72284,
        89.0,
        -88.7,
        -103.9,
        -103.97,
        -103.98,
        -104.0,
        -150.0,
        1e10,
        -1e10,
        1e30,
        -1e30,
    ];
    // Three ULP on either side of breakpoints; 13.146246 is the largest `|x|` where GELU's
    // negative side is normal (past it `gelu` returns -0 without evaluating its tail).
    for x in [0.5f32, 1.0, 2.0, 3.92, 4.0, 5.0, 13.146_246] {
        for d in -3i32..=3 {
            let b = (x.to_bits() as i32 + d) as u32;
            v.push(f32::from_bits(b));
            v.push(-f32::from_bits(b));
        }
    }
    v
}

/// Runs `kernel` on `xs` on `path`.
fn run32(path: Isa, kernel: Kernel32, xs: &[f32]) -> Vec<f32> {
    let mut y = vec![0.0f32; xs.len()];
    isa::with_isa(path, || kernel(xs, &mut y)).unwrap();
    y
}

/// The `f32` sweep and edges for one function on every path; returns the report lines.
fn sweep32(name: &str) {
    let fun = func(name);
    const STEP: u64 = 257;
    const BATCH: u64 = 1 << 20;
    let total = (1u64 << 32) / STEP;
    let paths = isa::available();
    // Worst over normal results (steps, fraction, x); over subnormal ones (steps, abs error).
    let mut worst: Vec<(u64, f64, f32)> = vec![(0, 0.0, 0.0); paths.len()];
    let mut worst_sub: Vec<(u64, f64)> = vec![(0, 0.0); paths.len()];
    let mut failures: Vec<String> = Vec::new();
    let mut consider = |xs: &[f32], refs: &[f64]| {
        for (pi, &path) in paths.iter().enumerate() {
            let z = run32(path, fun.k32, xs);
            for i in 0..xs.len() {
                let x = xs[i];
                let checked = (x as f64) >= fun.min_x || x.is_nan();
                match judge32(x, z[i], refs[i], fun.bound) {
                    Ok(e) => {
                        let r = refs[i];
                        let subnormal = r != 0.0 && (r as f32).abs() < f32::MIN_POSITIVE;
                        if checked && subnormal {
                            let ws = &mut worst_sub[pi];
                            ws.0 = ws.0.max(e.steps);
                            ws.1 = ws.1.max((z[i] as f64 - r).abs());
                        } else if checked
                            && !e.sub
                            && (e.steps > worst[pi].0
                                || (e.steps == worst[pi].0 && e.frac > worst[pi].1))
                        {
                            worst[pi] = (e.steps, e.frac, x);
                        }
                    }
                    Err(msg) => {
                        if checked && failures.len() < 20 {
                            failures.push(format!("{name} f32 {path}: {msg}"));
                        }
                    }
                }
            }
        }
    };
    let mut start = 0u64;
    while start < total {
        let end = (start + BATCH).min(total + 1);
        let xs: Vec<f32> = (start..end)
            .map(|i| f32::from_bits((i * STEP) as u32))
            .collect();
        let refs: Vec<f64> = xs.iter().map(|&x| (fun.reference)(x as f64)).collect();
        consider(&xs, &refs);
        start = end;
    }
    let xs = edges32();
    let refs: Vec<f64> = xs.iter().map(|&x| (fun.reference)(x as f64)).collect();
    consider(&xs, &refs);
    for (pi, path) in paths.iter().enumerate() {
        let (steps, frac, x) = worst[pi];
        let (sub_steps, sub_abs) = worst_sub[pi];
        println!(
            "{name:>10} f32 {path:>7}: max {steps} ULP from correctly rounded (max {frac:.3} ULP from exact), worst at x = {x:e}; subnormal results: max {sub_steps} ULP, abs error {sub_abs:.2e}"
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------ f64

/// The mpmath table for `name`: (input, correctly rounded result).
fn table64(name: &str) -> Vec<(f64, f64)> {
    include_str!("data/f64_reference.txt")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            (it.next()? == name).then(|| {
                let x = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                let y = u64::from_str_radix(it.next().unwrap(), 16).unwrap();
                (f64::from_bits(x), f64::from_bits(y))
            })
        })
        .collect()
}

fn edges64() -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        1e-310,
        -1e-310,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        1.0,
        -1.0,
        1.0 - f64::EPSILON / 2.0,
        1.0 + f64::EPSILON,
        -1.0 + f64::EPSILON / 2.0,
        0.5,
        2.0,
        std::f64::consts::LN_2 / 2.0,
        19.0,
        19.1,
        37.6,
        -37.6,
        -37.5,
        708.0,
        -708.0,
        708.5,
        -708.5,
        709.78,
        709.79,
        710.0,
        -745.1,
        -745.2,
        -746.0,
        1e300,
        -1e300,
    ];
    // Three ULP on either side of breakpoints; 37.615868313955986 is the largest `|x|` where
    // GELU's negative side is normal (past it `gelu` returns -0 without evaluating its tail).
    for x in [0.5f64, 1.0, 2.0, 5.0, 5.93, 6.0, 37.615_868_313_955_986] {
        for d in -3i64..=3 {
            let b = (x.to_bits() as i64 + d) as u64;
            v.push(f64::from_bits(b));
            v.push(-f64::from_bits(b));
        }
    }
    v
}

/// Strict check on the mpmath table plus the broad sweep, for one function on every path.
fn check64(name: &str) {
    let fun = func(name);
    let table = table64(name);
    assert!(table.len() >= 500, "missing f64 reference data for {name}");
    let xs: Vec<f64> = table.iter().map(|p| p.0).collect();
    // Broad sweep inputs: 2^20 random bit patterns (splitmix64) and the edges.
    let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ name.len() as u64;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut broad: Vec<f64> = (0..1 << 20).map(|_| f64::from_bits(next())).collect();
    // Half of them with exponents near 1 (where most of the structure is).
    for x in broad.iter_mut().step_by(2) {
        let b = x.to_bits();
        *x = f64::from_bits((b & 0x800f_ffff_ffff_ffff) | ((0x3f0 + (b >> 52) % 0x20) << 52));
    }
    broad.extend(edges64());
    let broad_ref: Vec<f64> = broad.iter().map(|&x| (fun.reference)(x)).collect();
    let loose = Bound {
        ulp: fun.bound.ulp + fun.ref64_slack,
        subnormal_abs: true,
    };
    let mut failures = Vec::new();
    for path in isa::available() {
        let mut z = vec![0.0f64; xs.len()];
        isa::with_isa(path, || (fun.k64)(&xs, &mut z)).unwrap();
        let mut worst = (0u64, 0.0f64);
        for i in 0..xs.len() {
            if xs[i] < fun.min_x64 {
                continue;
            }
            match judge64(xs[i], z[i], table[i].1, fun.bound) {
                Ok(s) => {
                    if s > worst.0 {
                        worst = (s, xs[i]);
                    }
                }
                Err(m) => failures.push(format!("{name} f64 {path} (mpmath table): {m}")),
            }
        }
        let mut zb = vec![0.0f64; broad.len()];
        isa::with_isa(path, || (fun.k64)(&broad, &mut zb)).unwrap();
        let mut worst_b = 0u64;
        for i in 0..broad.len() {
            if broad[i] < fun.min_x64 {
                continue;
            }
            match judge64(broad[i], zb[i], broad_ref[i], loose) {
                Ok(s) => worst_b = worst_b.max(s),
                Err(m) => {
                    if failures.len() < 20 {
                        failures.push(format!(
                            "{name} f64 {path} (broad sweep, std reference): {m}"
                        ))
                    }
                }
            }
        }
        println!(
            "{name:>10} f64 {path:>7}: max {} ULP from correctly rounded on the mpmath table (worst at x = {:e}); max {worst_b} ULP from the f64 std reference on the broad sweep",
            worst.0, worst.1
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ------------------------------------------------------------------ tests

macro_rules! accuracy_tests {
    ($($name:ident),*) => {
        mod f32_sweep {
            $(#[test] fn $name() { super::sweep32(stringify!($name)); })*
        }
        mod f64_check {
            $(#[test] fn $name() { super::check64(stringify!($name)); })*
        }
    };
}

accuracy_tests!(
    exp, log, log1p, expm1, tanh, sigmoid, silu, softplus, erf, gelu, gelu_tanh
);

/// Special values stated in the documentation, exactly, on every path.
#[test]
fn special_values() {
    type Case = (Kernel32, f32, f32);
    let nan = f32::NAN;
    let inf = f32::INFINITY;
    let cases: Vec<(&str, Case)> = vec![
        ("exp(-inf)", (act::exp, -inf, 0.0)),
        ("exp(inf)", (act::exp, inf, inf)),
        ("exp(89)", (act::exp, 89.0, inf)),
        ("exp(-104)", (act::exp, -104.0, 0.0)),
        ("exp(0)", (act::exp, 0.0, 1.0)),
        ("log(0)", (act::log, 0.0, -inf)),
        ("log(-0)", (act::log, -0.0, -inf)),
        ("log(-1)", (act::log, -1.0, nan)),
        ("log(inf)", (act::log, inf, inf)),
        ("log(1)", (act::log, 1.0, 0.0)),
        (
            "log(min subnormal)",
            (act::log, f32::from_bits(1), -103.27893),
        ),
        ("log1p(-1)", (act::log1p, -1.0, -inf)),
        ("log1p(-2)", (act::log1p, -2.0, nan)),
        ("log1p(inf)", (act::log1p, inf, inf)),
        ("log1p(-0)", (act::log1p, -0.0, -0.0)),
        ("expm1(-inf)", (act::expm1, -inf, -1.0)),
        ("expm1(inf)", (act::expm1, inf, inf)),
        ("expm1(-0)", (act::expm1, -0.0, -0.0)),
        ("tanh(inf)", (act::tanh, inf, 1.0)),
        ("tanh(-inf)", (act::tanh, -inf, -1.0)),
        ("tanh(-0)", (act::tanh, -0.0, -0.0)),
        ("sigmoid(-inf)", (act::sigmoid, -inf, 0.0)),
        ("sigmoid(inf)", (act::sigmoid, inf, 1.0)),
        ("silu(-inf)", (act::silu, -inf, -0.0)),
        ("silu(inf)", (act::silu, inf, inf)),
        ("softplus(-inf)", (act::softplus, -inf, 0.0)),
        ("softplus(inf)", (act::softplus, inf, inf)),
        ("erf(inf)", (act::erf, inf, 1.0)),
        ("erf(-inf)", (act::erf, -inf, -1.0)),
        ("gelu(inf)", (act::gelu, inf, inf)),
        ("gelu(-inf)", (act::gelu, -inf, -0.0)),
        ("gelu_tanh(-inf)", (act::gelu_tanh, -inf, -0.0)),
        ("gelu_tanh(inf)", (act::gelu_tanh, inf, inf)),
    ];
    for path in isa::available() {
        for (what, (k, x, want)) in &cases {
            let got = run32(path, *k, &[*x])[0];
            let ok = if want.is_nan() {
                got.is_nan()
            } else {
                got.to_bits() == want.to_bits()
            };
            assert!(
                ok,
                "{path}: {what} = {got:e} ({:#x}), want {want:e}",
                got.to_bits()
            );
        }
        for f in funcs() {
            let got = run32(path, f.k32, &[nan, -nan])[0];
            assert!(got.is_nan(), "{path}: {}(NaN) = {got}", f.name);
            let mut y = [0.0f64; 1];
            isa::with_isa(path, || (f.k64)(&[f64::NAN], &mut y)).unwrap();
            assert!(y[0].is_nan(), "{path}: {}(NaN) f64 = {}", f.name, y[0]);
        }
    }
}

/// Special values in `f64`, exactly, on every path.
#[test]
fn special_values_f64() {
    type Case = (Kernel64, f64, f64);
    let nan = f64::NAN;
    let inf = f64::INFINITY;
    let tiny = f64::from_bits(1);
    let cases: Vec<(&str, Case)> = vec![
        ("exp(-inf)", (act::exp, -inf, 0.0)),
        ("exp(inf)", (act::exp, inf, inf)),
        ("exp(710)", (act::exp, 710.0, inf)),
        ("exp(-746)", (act::exp, -746.0, 0.0)),
        ("exp(0)", (act::exp, 0.0, 1.0)),
        ("log(0)", (act::log, 0.0, -inf)),
        ("log(-0)", (act::log, -0.0, -inf)),
        ("log(-1)", (act::log, -1.0, nan)),
        ("log(inf)", (act::log, inf, inf)),
        ("log(1)", (act::log, 1.0, 0.0)),
        ("log(min subnormal)", (act::log, tiny, -744.4400719213812)),
        ("log1p(-1)", (act::log1p, -1.0, -inf)),
        ("log1p(-2)", (act::log1p, -2.0, nan)),
        ("log1p(inf)", (act::log1p, inf, inf)),
        ("log1p(-0)", (act::log1p, -0.0, -0.0)),
        ("log1p(tiny)", (act::log1p, tiny, tiny)),
        ("expm1(-inf)", (act::expm1, -inf, -1.0)),
        ("expm1(inf)", (act::expm1, inf, inf)),
        ("expm1(-0)", (act::expm1, -0.0, -0.0)),
        ("expm1(tiny)", (act::expm1, tiny, tiny)),
        ("tanh(inf)", (act::tanh, inf, 1.0)),
        ("tanh(-inf)", (act::tanh, -inf, -1.0)),
        ("tanh(-0)", (act::tanh, -0.0, -0.0)),
        ("tanh(-tiny)", (act::tanh, -tiny, -tiny)),
        ("sigmoid(-inf)", (act::sigmoid, -inf, 0.0)),
        ("sigmoid(inf)", (act::sigmoid, inf, 1.0)),
        ("silu(-inf)", (act::silu, -inf, -0.0)),
        ("silu(inf)", (act::silu, inf, inf)),
        ("softplus(-inf)", (act::softplus, -inf, 0.0)),
        ("softplus(inf)", (act::softplus, inf, inf)),
        ("erf(inf)", (act::erf, inf, 1.0)),
        ("erf(-inf)", (act::erf, -inf, -1.0)),
        ("erf(-0)", (act::erf, -0.0, -0.0)),
        ("gelu(inf)", (act::gelu, inf, inf)),
        ("gelu(-inf)", (act::gelu, -inf, -0.0)),
        ("gelu(0)", (act::gelu, 0.0, 0.0)),
        ("gelu_tanh(-inf)", (act::gelu_tanh, -inf, -0.0)),
        ("gelu_tanh(inf)", (act::gelu_tanh, inf, inf)),
    ];
    for path in isa::available() {
        for (what, (k, x, want)) in &cases {
            let mut y = [0.0f64];
            isa::with_isa(path, || k(&[*x], &mut y)).unwrap();
            let got = y[0];
            let ok = if want.is_nan() {
                got.is_nan()
            } else {
                got.to_bits() == want.to_bits()
            };
            assert!(
                ok,
                "{path}: {what} = {got:e} ({:#x}), want {want:e}",
                got.to_bits()
            );
        }
    }
}

/// The `erf`/`erfc` reference of this file against values from mpmath.
#[test]
fn erf_reference_is_accurate() {
    // (x, erfc(x)) from mpmath.
    let erfc_pts = [
        (0.5, 0.479_500_122_186_953_5),
        (1.0, 0.157_299_207_050_285_13),
        (2.0, 0.004_677_734_981_047_266),
        (4.0, 1.541_725_790_028_002e-8),
        (9.0, 4.137_031_746_513_81e-37),
        (26.0, 5.663_192_408_856_143e-296),
    ];
    for (x, want) in erfc_pts {
        let got = erfc_ref(x, (-(x * x)).exp());
        assert!(
            ((got - want) / want).abs() < 2e-15,
            "erfc({x}) = {got:e}, want {want:e}"
        );
    }
    let got = erf_ref(0.25);
    assert!((got - 0.276_326_390_168_236_9).abs() < 1e-16);
}
