//! The `Simd` trait's less obvious operations on every instruction-set path, against their
//! definitions written out with plain arrays: `funnel`, `lookup`, what `FUSED_MUL_ADD`
//! promises, and that a `Bundle` of vectors gives the bits of its parts.

use nabla_kernels::Element;
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::simd::{Bundle, MAX_LANES, Simd, SimdOp};

/// Runs `f` on every path this CPU has.
fn on_every_path(mut f: impl FnMut(Isa)) {
    for path in isa::test_paths() {
        isa::with_isa(path, || f(path)).unwrap();
    }
}

/// Lanes `k..` of `lo`, then lanes `..k` of `hi`, for every `k`.
#[test]
fn funnel_joins_two_vectors() {
    struct Funnel<T>(usize, core::marker::PhantomData<T>);
    impl<T: Element> SimdOp<T> for Funnel<T> {
        type Output = (usize, Vec<T>, Vec<T>);
        #[inline(always)]
        fn run<S: Simd<T>>(self, s: S) -> Self::Output {
            let l = S::LANES;
            let all: Vec<T> = (0..2 * l).map(|i| T::from_f64(i as f64 + 0.5)).collect();
            let (lo, hi) = (
                s.load_partial(&all[..l], T::NAN),
                s.load_partial(&all[l..], T::NAN),
            );
            let mut got = [T::ZERO; MAX_LANES];
            s.store_partial(&mut got[..l], s.funnel(lo, hi, self.0.min(l)));
            (l, got[..l].to_vec(), all[self.0.min(l)..][..l].to_vec())
        }
    }
    fn check<T: Element>(path: Isa) {
        for k in 0..=MAX_LANES {
            let (l, got, want) = T::dispatch(isa::active(), Funnel::<T>(k, Default::default()));
            if k <= l {
                assert_eq!(got, want, "{path} {} k={k}", T::NAME);
            }
        }
    }
    on_every_path(|path| {
        check::<f32>(path);
        check::<f64>(path);
    });
}

/// Each lane gets entry `(bits(key) >> SHIFT) mod 2 LANES` of the table `lo ++ hi`, for keys
/// that reach every entry (and NaN, infinities, negative and subnormal keys).
#[test]
fn lookup_reads_the_entry_the_key_bits_name() {
    struct Lookup<T>(Vec<T>, core::marker::PhantomData<T>);
    impl<T: Element> SimdOp<T> for Lookup<T> {
        type Output = Vec<(T, T, T)>;
        #[inline(always)]
        fn run<S: Simd<T>>(self, s: S) -> Self::Output {
            let l = S::LANES;
            let table: Vec<T> = (0..2 * l)
                .map(|i| T::from_f64(i as f64 * 1.25 - 7.0))
                .collect();
            let (lo, hi) = (
                s.load_partial(&table[..l], T::NAN),
                s.load_partial(&table[l..], T::NAN),
            );
            // The shifts that `gelu` uses: quarter binades for `f32`, half binades for `f64`.
            let shift = if T::MANTISSA_BITS == 23 { 21 } else { 51 };
            let mut out = Vec::new();
            for keys in self.0.chunks(l) {
                let key = s.load_partial(keys, T::ZERO);
                let mut got = [T::ZERO; MAX_LANES];
                let v = if shift == 21 {
                    s.lookup::<21>(lo, hi, key)
                } else {
                    s.lookup::<51>(lo, hi, key)
                };
                s.store_partial(&mut got[..l], v);
                for (i, &k) in keys.iter().enumerate() {
                    let want = table[(k.to_bits_u64() >> shift) as usize % (2 * l)];
                    out.push((k, got[i], want));
                }
            }
            out
        }
    }
    fn check<T: Element>(path: Isa) {
        let mut keys: Vec<T> = (0..400)
            .map(|i| T::from_f64(2f64.powf(i as f64 / 16.0 - 10.0)))
            .collect();
        keys.extend([
            T::NAN,
            T::INFINITY,
            T::NEG_INFINITY,
            T::ZERO,
            T::MIN_POSITIVE,
        ]);
        keys.extend((1..40).map(|i| T::from_f64(-(i as f64) * 0.37)));
        for (k, got, want) in T::dispatch(isa::active(), Lookup::<T>(keys, Default::default())) {
            assert_eq!(
                got.to_bits_u64(),
                want.to_bits_u64(),
                "{path} {} key {k:?}",
                T::NAME
            );
        }
    }
    on_every_path(|path| {
        check::<f32>(path);
        check::<f64>(path);
    });
}

/// Where `FUSED_MUL_ADD` is claimed, `mul_add(a, b, -(a b))` is the exact error of the product
/// (checked in `f64` for `f32`, by an exact split for `f64`); where it is not, `mul_add` rounds
/// the product first, which gives 0 there.
#[test]
fn fused_mul_add_means_one_rounding() {
    struct Residual<T>(T, T);
    impl<T: Element> SimdOp<T> for Residual<T> {
        type Output = (bool, T, T);
        #[inline(always)]
        fn run<S: Simd<T>>(self, s: S) -> Self::Output {
            let (a, b) = (s.splat(self.0), s.splat(self.1));
            let p = s.mul(a, b);
            let r = s.mul_add(a, b, s.sub(s.splat(T::ZERO), p));
            let mut out = [T::ZERO; MAX_LANES];
            s.store_partial(&mut out[..S::LANES], p);
            let p0 = out[0];
            s.store_partial(&mut out[..S::LANES], r);
            (S::FUSED_MUL_ADD, p0, out[0])
        }
    }
    /// `a b - p` exactly, by Dekker's split (no fused operation involved).
    fn exact_residual(a: f64, b: f64, p: f64) -> f64 {
        let split = |x: f64| {
            let c = 134_217_729.0 * x;
            let hi = c - (c - x);
            (hi, x - hi)
        };
        let ((ah, al), (bh, bl)) = (split(a), split(b));
        ((ah * bh - p) + ah * bl + al * bh) + al * bl
    }
    on_every_path(|path| {
        let (a, b) = (1.0 + f32::EPSILON, 1.0 - f32::EPSILON);
        let (fused, p, r) = f32::dispatch(isa::active(), Residual(a, b));
        let want = if fused {
            (a as f64 * b as f64 - p as f64) as f32
        } else {
            0.0
        };
        assert!(want != 0.0 || !fused);
        assert_eq!(r, want, "{path} f32 (fused: {fused})");
        let (a, b) = (1.0 + 3.0 * f64::EPSILON, 1.0 - 5.0 * f64::EPSILON);
        let (fused, p, r) = f64::dispatch(isa::active(), Residual(a, b));
        let want = if fused { exact_residual(a, b, p) } else { 0.0 };
        assert!(want != 0.0 || !fused);
        assert_eq!(r, want, "{path} f64 (fused: {fused})");
    });
}

/// Every function of `math` on one vector, in a fixed order.
#[inline(always)]
fn every_function<T: Element, S: Simd<T>>(s: S, x: S::V) -> [S::V; 15] {
    use nabla_kernels::math::*;
    let (sp, sg) = softplus_sigmoid(s, x);
    [
        abs(s, x),
        exp(s, x),
        log(s, x),
        log1p(s, x),
        expm1(s, x),
        tanh(s, x),
        sigmoid(s, x),
        silu(s, x),
        sp,
        sg,
        erf(s, x),
        gelu(s, x),
        gelu_derivative(s, x),
        gelu_tanh(s, x),
        gelu_tanh_derivative(s, x),
    ]
}

/// A `Bundle` of 3 vectors gives, in every function of `math`, the bits its parts give one at a
/// time (NaN for NaN, whatever its payload), on inputs that send the parts of one bundle down
/// different branches (all lanes near 0, mixed, all far, NaN, infinities, subnormals); and its
/// partial loads, stores and funnel agree with their definitions.
#[test]
fn bundle_gives_the_bits_of_its_parts() {
    struct Parts<T>(Vec<T>);
    impl<T: Element> SimdOp<T> for Parts<T> {
        type Output = Vec<(usize, T, T, T)>;
        #[inline(always)]
        fn run<S: Simd<T>>(self, s: S) -> Self::Output {
            let b = Bundle::<S, 3>(s);
            let (l, w) = (S::LANES, 3 * S::LANES);
            let mut bad = Vec::new();
            for chunk in self.0.chunks_exact(w) {
                // SAFETY: `chunk` holds `w` elements, a bundle's lanes.
                let wide = every_function(b, unsafe { b.load(chunk.as_ptr()) });
                let mut got = vec![T::ZERO; w];
                let mut want = vec![T::ZERO; w];
                for f in 0..wide.len() {
                    // SAFETY: `got` holds `w` elements.
                    unsafe { b.store(got.as_mut_ptr(), wide[f]) };
                    for (p, part) in chunk.chunks_exact(l).enumerate() {
                        // SAFETY: `part` holds `l` elements, `want` `w >= (p + 1) l`.
                        unsafe {
                            let one = every_function(s, s.load(part.as_ptr()));
                            s.store(want.as_mut_ptr().add(p * l), one[f]);
                        }
                    }
                    for i in 0..w {
                        // NaN's sign and payload are not part of any result's contract.
                        let same = got[i].to_bits_u64() == want[i].to_bits_u64()
                            || (got[i].is_nan() && want[i].is_nan());
                        if !same {
                            bad.push((f, chunk[i], got[i], want[i]));
                        }
                    }
                }
            }
            // Partial moves and the funnel, against their definitions.
            let all: Vec<T> = (0..2 * w).map(|i| T::from_f64(i as f64 + 0.5)).collect();
            for n in 0..=w {
                let v = b.load_partial(&all[..n], T::NAN);
                let mut out = vec![T::ZERO; w];
                b.store_partial(&mut out[..n], v);
                assert_eq!(out[..n], all[..n], "partial move of {n}");
                let mut full = vec![T::ZERO; w];
                // SAFETY: `full` holds `w` elements.
                unsafe { b.store(full.as_mut_ptr(), v) };
                assert!(full[n..].iter().all(|v| v.is_nan()), "fill after {n}");
                // SAFETY: `all` holds `2 w` elements.
                let (lo, hi) = unsafe { (b.load(all.as_ptr()), b.load(all.as_ptr().add(w))) };
                // SAFETY: `out` holds `w` elements.
                unsafe { b.store(out.as_mut_ptr(), b.funnel(lo, hi, n)) };
                assert_eq!(out, all[n..n + w], "funnel by {n}");
            }
            bad
        }
    }
    fn check<T: Element>(path: Isa) {
        let specials = [
            T::NAN,
            T::INFINITY,
            T::NEG_INFINITY,
            T::ZERO,
            -T::ZERO,
            T::MIN_POSITIVE,
            T::from_f64(1e-40),
            T::from_f64(-1e-40),
            T::MAX,
            -T::MAX,
        ];
        // Bundles whose parts are: near 0 | mixed | far (and the reverse), then specials mixed
        // into ordinary values, for every path's width (the widest is 3 * 16 lanes).
        let mut x = Vec::new();
        // Under Miri (the scalar path, slowly) one round checks the bundle's memory accesses.
        let rounds: u64 = if cfg!(miri) { 1 } else { 40 };
        for round in 0..rounds {
            let mut r = round.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
            let mut next = || {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                (r >> 11) as f64 / (1u64 << 53) as f64
            };
            for i in 0..3 * MAX_LANES * 3 {
                let scale = match (round + i as u64 / MAX_LANES as u64) % 4 {
                    0 => 0.3,
                    1 => 3.0,
                    2 => 30.0,
                    _ => 800.0,
                };
                let v = (next() - 0.5) * 2.0 * scale;
                let special = round % 3 == 0 && i % 7 == 3;
                x.push(if special {
                    specials[(i / 7) % specials.len()]
                } else {
                    T::from_f64(v)
                });
            }
        }
        let bad = T::dispatch(isa::active(), Parts(x));
        assert!(
            bad.is_empty(),
            "{path} {}: {} lanes differ, first (function, x, bundle, alone): {:?}",
            T::NAME,
            bad.len(),
            bad.first()
        );
    }
    on_every_path(|path| {
        check::<f32>(path);
        check::<f64>(path);
    });
}
