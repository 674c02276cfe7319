//! Double-double ("double-word") arithmetic: a value `hi + lo` held as two `f64`s with
//! `|lo| <= ulp(hi)/2`, about 106 significant bits. Used where an `f64` evaluation is too
//! inexact, namely [Meyer's](super) residuals `x1 exp(x2/(t_i + x3)) - y_i`, which cancel
//! `~3.5e4` down to `~2`.
//!
//! The operations are the error-free transformations [`two_sum`] and [`two_prod`] (the latter
//! by [`f64::mul_add`]) and the double-word algorithms of Joldes, Muller and Popescu, "Tight and
//! rigorous error bounds for basic building blocks of double-word arithmetic", ACM TOMS 44(2),
//! 2017, whose proven relative error bounds, in units of `u² = 2^-106 ≈ 1.2e-32`, are quoted
//! on each operation. They hold barring overflow and underflow (results and intermediate
//! products within the normal `f64` range).
//!
//! ```
//! use nabla_optim::problems::double_double::Dd;
//! let third = Dd::from(1.0) / Dd::from(3.0);
//! // 1/3 to ~32 digits: the error of the f64 1/3 is recovered in `lo`.
//! assert_eq!(third.hi, 1.0 / 3.0);
//! assert!((third.lo - 1.850371707708594e-17).abs() < 1e-32);
//! ```

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly (Knuth's TwoSum, 6 flops, no
/// condition on the magnitudes).
pub fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `(s, e)` with `s = fl(a + b)` and `s + e = a + b` exactly, provided `|a| >= |b|` (or `a = 0`)
/// (Dekker's Fast2Sum).
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `(p, e)` with `p = fl(a b)` and `p + e = a b` exactly (barring underflow of `e`), by one
/// fused multiply-add.
pub fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

/// A double-double number `hi + lo`, normalized: `hi = fl(hi + lo)`, so [`Dd::to_f64`] is the
/// nearest `f64`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dd {
    /// The leading part, the nearest `f64` to the value.
    pub hi: f64,
    /// The trailing part, `|lo| <= ulp(hi)/2`.
    pub lo: f64,
}

/// `ln 2` as a double-double: `ln 2 - (hi + lo)` is about `6e-34`.
const LN2: Dd = Dd {
    hi: std::f64::consts::LN_2,
    lo: 2.319_046_813_846_299_6e-17,
};

/// [`Dd::exp`] divides the reduced argument by `2^EXP_HALVINGS` and squares back.
const EXP_HALVINGS: i32 = 8;
/// The degree of [`Dd::exp`]'s Taylor polynomial for `expm1` on `|r| <= ln2/2^(EXP_HALVINGS+1)`
/// `≈ 1.4e-3`: the first omitted term is `r^10/10! < 1e-35 |r|`.
const EXP_DEGREE: u32 = 9;

impl Dd {
    /// Zero.
    pub const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };

    /// The nearest `f64`.
    pub fn to_f64(self) -> f64 {
        self.hi
    }

    /// `a + b` exactly (as [`two_sum`]).
    pub fn sum(a: f64, b: f64) -> Dd {
        let (hi, lo) = two_sum(a, b);
        Dd { hi, lo }
    }

    /// `a b` exactly (as [`two_prod`]).
    pub fn product(a: f64, b: f64) -> Dd {
        let (hi, lo) = two_prod(a, b);
        Dd { hi, lo }
    }

    /// `self * 2^k`, exact barring overflow and underflow.
    fn ldexp(self, k: i32) -> Dd {
        let s = 2f64.powi(k);
        Dd {
            hi: self.hi * s,
            lo: self.lo * s,
        }
    }

    /// `exp(self)`.
    ///
    /// Argument reduction `x = k ln2 + r`, `|r| <= ln2/2`, with `ln 2` in double-double;
    /// `expm1(r / 2^8)` by its degree-9 Taylor polynomial (Horner in double-double); 8
    /// squarings in the form `p -> p (p + 2)` (that is `(1 + p)^2 - 1`, which keeps the
    /// *relative* error of the small `p` from growing); then `(1 + p) 2^k`.
    ///
    /// Error: each double-double operation adds at most `15 u²` relative (the division's
    /// bound; the others' are 2-4), about `100 u²` over the Horner loop and the squarings,
    /// which the `expm1` form hardly amplifies (a squaring turns a relative error `δ` of `p`
    /// into `δ (2 + 2p)/(2 + p)`: a factor 1.2 over all 8, as `p <= 0.19` before the last); the reduction adds an absolute error below
    /// `3 |x| u²` to `r` (`ln 2`'s representation error and the product `k ln 2`'s rounding). So
    /// the relative error is below `(200 + 3|x|) u²`, i.e. under `1e-29` for `|x| <= 200`.
    /// Measured against `mpmath` (the tests) it is below `1e-31` for `|x| <= 100`. Outside
    /// `|x| <= 700` the result is `f64::exp(hi)` with `lo = 0` (`0`, a subnormal or infinity,
    /// or close to overflow), where no double-double accuracy is claimed; NaN stays NaN.
    pub fn exp(self) -> Dd {
        if self.hi.is_nan() || self.hi.abs() > 700.0 {
            return Dd::from(self.hi.exp());
        }
        let k = (self.hi / LN2.hi).round();
        let r = (self - LN2 * k).ldexp(-EXP_HALVINGS);
        // expm1(r) = r (1 + r/2 (1 + r/3 (... (1 + r/EXP_DEGREE)))).
        let mut q = Dd::from(1.0);
        for j in (2..=EXP_DEGREE).rev() {
            q = Dd::from(1.0) + r * q / f64::from(j);
        }
        let mut p = r * q;
        for _ in 0..EXP_HALVINGS {
            p = p * (p + Dd::from(2.0));
        }
        (Dd::from(1.0) + p).ldexp(k as i32)
    }
}

impl From<f64> for Dd {
    fn from(hi: f64) -> Dd {
        Dd { hi, lo: 0.0 }
    }
}

/// AccurateDWPlusDW (JMP Algorithm 6): relative error `<= 3u²`.
impl Add for Dd {
    type Output = Dd;
    fn add(self, y: Dd) -> Dd {
        let (sh, sl) = two_sum(self.hi, y.hi);
        let (th, tl) = two_sum(self.lo, y.lo);
        let (vh, vl) = fast_two_sum(sh, sl + th);
        let (hi, lo) = fast_two_sum(vh, tl + vl);
        Dd { hi, lo }
    }
}

/// Exact.
impl Neg for Dd {
    type Output = Dd;
    fn neg(self) -> Dd {
        Dd {
            hi: -self.hi,
            lo: -self.lo,
        }
    }
}

/// `self + (-y)`: relative error `<= 3u²`.
impl Sub for Dd {
    type Output = Dd;
    fn sub(self, y: Dd) -> Dd {
        self + -y
    }
}

/// DWTimesDW3 (JMP Algorithm 12, with FMA): relative error `<= 4u²`.
impl Mul for Dd {
    type Output = Dd;
    fn mul(self, y: Dd) -> Dd {
        let (ch, cl1) = two_prod(self.hi, y.hi);
        let tl1 = self.hi.mul_add(y.lo, self.lo * y.lo);
        let cl2 = self.lo.mul_add(y.hi, tl1);
        let (hi, lo) = fast_two_sum(ch, cl1 + cl2);
        Dd { hi, lo }
    }
}

/// DWTimesFP3 (JMP Algorithm 9, with FMA): relative error `<= 2u²`.
impl Mul<f64> for Dd {
    type Output = Dd;
    fn mul(self, y: f64) -> Dd {
        let (ch, cl1) = two_prod(self.hi, y);
        let (hi, lo) = fast_two_sum(ch, self.lo.mul_add(y, cl1));
        Dd { hi, lo }
    }
}

/// DWDivFP3 (JMP Algorithm 15): relative error `<= 3u²`.
impl Div<f64> for Dd {
    type Output = Dd;
    fn div(self, y: f64) -> Dd {
        let th = self.hi / y;
        let (ph, pl) = two_prod(th, y);
        let delta = ((self.hi - ph) - pl) + self.lo;
        let (hi, lo) = fast_two_sum(th, delta / y);
        Dd { hi, lo }
    }
}

/// DWDivDW2 (JMP Algorithm 17): relative error `<= 15u²`.
impl Div for Dd {
    type Output = Dd;
    fn div(self, y: Dd) -> Dd {
        let th = self.hi / y.hi;
        let r = y * th;
        let delta = (self.hi - r.hi) + (self.lo - r.lo);
        let (hi, lo) = fast_two_sum(th, delta / y.hi);
        Dd { hi, lo }
    }
}
