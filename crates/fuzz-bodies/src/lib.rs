//! The bodies of nabla's fuzz targets.
//!
//! Each target in `fuzz/fuzz_targets/` is one line, `fuzz_target!(|d: &[u8]| body(d))`, over a
//! function here. Keeping the bodies in an ordinary workspace crate means they build and run on
//! stable Rust: `tests/corpus.rs` replays every committed seed (and every crash turned into a
//! regression seed) under `fuzz/corpus/<target>/` through its body in `cargo test`, so CI covers
//! them without nightly or libFuzzer. `cargo xtask fuzz replay TARGET FILE` does the same for
//! one file.
//!
//! A body decodes sizes, strides, alignment offsets, scalars and special values (NaN, +-inf,
//! signed zeros, subnormals) from the bytes, runs the kernel on **every SIMD path this CPU has**
//! ([`isa::available`], [`isa::with_isa`]) and compares with the scalar path or an `f64`
//! reference, within the bounds the kernels document. Any disagreement panics with a message
//! that names the path, the operation, the index and both values. Short inputs decode to
//! defaults (zeros), so every byte string is a valid input.
//!
//! The exceptions are [`formula`], which fuzzes the `nabla` command's formula language
//! (nabla-cli) rather than the kernels: the bytes are a formula and a point, and nothing may
//! panic; and [`graph_derivatives`], which checks nabla-graph's reverse mode against forward
//! mode and central differences on random expression graphs.

// Checking code indexes several arrays by one position; ranges read better than zips here.
#![allow(clippy::too_many_arguments, clippy::needless_range_loop)]

mod activations;
mod elementwise;
mod formula;
mod gemm;
mod graph_derivatives;
mod reductions;
mod softmax;

pub use activations::activations_paths;
pub use elementwise::elementwise_paths;
pub use formula::formula;
pub use gemm::gemm_vs_reference;
pub use graph_derivatives::graph_derivatives;
pub use reductions::reductions_thread_invariant;
pub use softmax::softmax_paths;

use nabla_kernels::Element;
use nabla_kernels::isa::{self, Isa};

/// A fuzz target: its name (as in `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/`) and
/// body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name.
pub const TARGETS: &[Target] = &[
    ("gemm_vs_reference", gemm_vs_reference),
    ("elementwise_paths", elementwise_paths),
    ("reductions_thread_invariant", reductions_thread_invariant),
    ("activations_paths", activations_paths),
    ("softmax_paths", softmax_paths),
    ("formula", formula),
    ("graph_derivatives", graph_derivatives),
];

/// The body of the target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// The element types the bodies run on: [`Element`] plus what messages and checks need.
pub(crate) trait El: Element + std::fmt::LowerExp {
    /// `+-inf`.
    fn is_inf(self) -> bool {
        !self.is_finite() && !self.is_nan()
    }
}
impl El for f32 {}
impl El for f64 {}

/// The SIMD paths to compare: every one this CPU has (scalar first).
pub(crate) fn paths() -> Vec<Isa> {
    isa::available()
}

/// Runs `f` on `path`.
pub(crate) fn on<R>(path: Isa, f: impl FnOnce() -> R) -> R {
    isa::with_isa(path, f).expect("isa::available() lists only supported paths")
}

// ------------------------------------------------------------------------------- decoding

/// Reads the fuzz input front to back; past the end it yields zeros.
pub(crate) struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Input { bytes, pos: 0 }
    }
    pub(crate) fn u8(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    pub(crate) fn u64(&mut self) -> u64 {
        (0..8).fold(0u64, |acc, i| acc | (u64::from(self.u8()) << (8 * i)))
    }
    pub(crate) fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// A value in `0..=max`.
    pub(crate) fn upto(&mut self, max: usize) -> usize {
        if max == 0 {
            return 0;
        }
        let v = if max < 256 {
            usize::from(self.u8())
        } else {
            usize::from(self.u16())
        };
        v % (max + 1)
    }
    /// A length: mostly small (`0..=small`), one time in four up to `big`.
    pub(crate) fn len(&mut self, small: usize, big: usize) -> usize {
        if self.u8() % 4 == 3 {
            self.upto(big)
        } else {
            self.upto(small)
        }
    }
}

/// splitmix64: the bulk data of an input comes from a seed it carries.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[-1, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// Which special values an operation's check can take.
#[derive(Clone, Copy)]
pub(crate) struct Specials {
    /// NaN and +-inf.
    pub non_finite: bool,
    /// Values near the top of the range (which may overflow intermediate results).
    pub huge: bool,
}

/// How the finite values of a buffer are spread.
#[derive(Clone, Copy)]
pub(crate) struct Dist {
    /// Largest magnitude (as a power of two) of the bulk values.
    scale_exp: i32,
    /// Magnitudes log-uniform over `2^(scale_exp - span) .. 2^scale_exp` (else uniform).
    span: i32,
    /// Only non-negative values.
    positive: bool,
}

impl Dist {
    /// Decodes a distribution whose magnitudes stay within `2^-max_exp .. 2^max_exp`.
    pub(crate) fn decode(inp: &mut Input, max_exp: i32) -> Dist {
        let b = inp.u8();
        let scale_exp = (i32::from(inp.u8()) % (2 * max_exp + 1)) - max_exp;
        let span = match b % 4 {
            0 | 1 => 0,
            2 => 8,
            _ => 2 * max_exp,
        };
        Dist {
            scale_exp,
            span,
            positive: b & 0x10 != 0,
        }
    }
    fn sample(&self, rng: &mut Rng) -> f64 {
        let u = rng.unit();
        let e = if self.span == 0 {
            self.scale_exp
        } else {
            self.scale_exp - (rng.next() % (self.span as u64 + 1)) as i32
        };
        let v = u * 2f64.powi(e);
        if self.positive { v.abs() } else { v }
    }
}

/// A special value of `T` by code.
pub(crate) fn special<T: Element>(code: u8, allowed: Specials) -> T {
    let sub = T::MIN_POSITIVE * T::EPSILON; // the smallest subnormal
    let n = if allowed.non_finite { 12 } else { 9 };
    let n = if allowed.huge { n } else { n.min(9) };
    match code % n {
        0 => T::ZERO,
        1 => -T::ZERO,
        2 => sub,
        3 => -(sub * T::from_f64(3.0)),
        4 => T::MIN_POSITIVE,
        5 => T::MIN_POSITIVE * T::from_f64(0.75), // subnormal
        6 => T::ONE,
        7 => -T::ONE,
        8 => T::from_f64(0.5),
        9 => T::NAN,
        10 => T::INFINITY,
        _ => T::NEG_INFINITY,
    }
}

/// A buffer of `len` values: bulk values from the input's seed and distribution, then up to
/// eight special values at positions the input picks.
pub(crate) fn buffer<T: Element>(
    inp: &mut Input,
    len: usize,
    dist: Dist,
    allowed: Specials,
) -> Vec<T> {
    let mut rng = Rng::new(inp.u64());
    let mut v: Vec<T> = (0..len)
        .map(|_| T::from_f64(dist.sample(&mut rng)))
        .collect();
    let specials = inp.u8() % 9;
    for _ in 0..specials {
        let pos = usize::from(inp.u16());
        let code = inp.u8();
        if len > 0 {
            v[pos % len] = special(code, allowed);
        }
    }
    if allowed.huge && len > 0 && inp.u8() % 8 == 7 {
        let pos = usize::from(inp.u16()) % len;
        v[pos] = T::MAX * T::from_f64(0.5);
    }
    v
}

/// A scalar from a small menu (and a random one).
pub(crate) fn scalar<T: Element>(inp: &mut Input, allow_zero: bool) -> T {
    let code = inp.u8();
    let v = match code % 8 {
        0 => 1.0,
        1 => -1.0,
        2 => 0.5,
        3 => 2.0,
        4 if allow_zero => 0.0,
        4 => 3.0,
        5 => -0.25,
        _ => (f64::from(inp.u16()) / 65536.0 * 2.0 - 1.0) * 4.0,
    };
    T::from_f64(v)
}

// ------------------------------------------------------------------------------- comparing

/// `a` and `b` are the same value: equal bits, or both NaN (NaN payloads and signs are not
/// specified).
pub fn same<T: Element>(a: T, b: T) -> bool {
    (a.is_nan() && b.is_nan()) || a.to_bits_u64() == b.to_bits_u64()
}

/// The spacing of `T` values at magnitude `|v|` (the subnormal spacing below the normal range).
pub fn ulp_at<T: Element>(v: f64) -> f64 {
    let min_sub = T::MIN_POSITIVE.to_f64() * T::EPSILON.to_f64();
    let a = v.abs();
    if a < T::MIN_POSITIVE.to_f64() {
        return min_sub;
    }
    let e = a.log2().floor();
    (2f64.powf(e) * T::EPSILON.to_f64()).max(min_sub)
}

/// A sum accurate to about one rounding whatever `n` (Neumaier's compensated summation): the
/// references must be much more accurate than the kernels for `f64` too. Non-finite terms give
/// the plain IEEE sum.
pub(crate) fn nsum(terms: impl Iterator<Item = f64> + Clone) -> f64 {
    let plain: f64 = terms.clone().sum();
    if !plain.is_finite() {
        return plain;
    }
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in terms {
        let t = s + x;
        if s.abs() >= x.abs() {
            c += (s - t) + x;
        } else {
            c += (x - t) + s;
        }
        s = t;
    }
    s + c
}

/// Panics with a uniform message.
#[track_caller]
pub(crate) fn mismatch(what: &str, path: Isa, detail: String) -> ! {
    panic!("nabla-fuzz: {what} on the {path} path: {detail}")
}
