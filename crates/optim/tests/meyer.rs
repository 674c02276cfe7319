//! Meyer (MGH 10) in double-double: [`Dd::exp`] and the residuals against `mpmath`, and the
//! gradient at the minimizer, which in plain `f64` carried rounding noise of `~1e-4` (see the
//! `problems` module docs).
//!
//! The reference values were computed offline with `mpmath` at 60 significant digits (never at
//! build or test time) and are copied in as sums of `f64`s (`hi + mid + lo` or `hi + lo`, exact
//! to far below the tolerances). The points are `f64`s, so the references are exact functions
//! of exactly the arguments the code sees.

use nabla_optim::Objective;
use nabla_optim::problems::double_double::{Dd, two_prod, two_sum};
use nabla_optim::problems::problem;

/// `(x.hi, x.lo, exp(x.hi + x.lo) as hi + mid + lo)`. (The leading parts of `e`, `√2` and
/// `1/√2`, at `x = 1, ±fl(ln2/2)`, are meant: they are mpmath's values, not stand-ins.)
#[allow(clippy::approx_constant)]
const EXP_REFS: [(f64, f64, [f64; 3]); 16] = [
    (
        0.5,
        0.0,
        [
            1.6487212707001282,
            -4.731568479435833e-17,
            -2.3158591640901675e-33,
        ],
    ),
    (
        -0.3,
        0.0,
        [
            0.7408182206817179,
            -1.805530505953e-18,
            9.878807466042958e-35,
        ],
    ),
    (
        1.0,
        0.0,
        [
            2.718281828459045,
            1.4456468917292502e-16,
            -2.1277171080381768e-33,
        ],
    ),
    (
        1e-10,
        0.0,
        [1.0000000001, -8.269037096265652e-18, 6.784750937279242e-34],
    ),
    (
        0.34657359027997264,
        0.0,
        [
            1.414213562373095,
            1.0897353451090442e-16,
            4.149176354004187e-33,
        ],
    ),
    (
        -0.34657359027997264,
        0.0,
        [
            0.7071067811865476,
            -4.013739792746569e-17,
            2.1591572517254837e-33,
        ],
    ),
    (
        0.6666666666666666,
        3.700743415417188e-17,
        [
            1.947734041054676,
            -1.0084377897804308e-16,
            -1.4722446871302767e-33,
        ],
    ),
    (
        7.25,
        0.0,
        [
            1408.1048482046956,
            -2.4613764761569833e-14,
            1.0020449407197177e-30,
        ],
    ),
    (
        15.648,
        1e-16,
        [
            6249424.890758022,
            -8.913995003464855e-12,
            2.0660821740589061e-29,
        ],
    ),
    (
        15.64805736117226,
        -4.3e-16,
        [
            6249783.375377154,
            2.967428943327374e-10,
            -2.0878714692500382e-26,
        ],
    ),
    (
        20.0,
        0.0,
        [
            485165195.4097903,
            4.880277289790406e-10,
            -2.354308077000704e-26,
        ],
    ),
    (
        -20.0,
        0.0,
        [
            2.061153622438558e-09,
            -4.19755767595054e-26,
            2.0335046343786383e-42,
        ],
    ),
    (
        29.9,
        1.5e-15,
        [
            9669522068253.506,
            0.0008011945835124624,
            3.7057978853610723e-20,
        ],
    ),
    (
        -29.9,
        0.0,
        [
            1.0341772767478878e-13,
            -1.9397873164150725e-30,
            -1.0334776809116063e-46,
        ],
    ),
    (
        100.0,
        0.0,
        [
            2.6881171418161356e+43,
            -1.6101271449201627e+27,
            -101381290641.22626,
        ],
    ),
    (
        -100.0,
        0.0,
        [
            3.720075976020836e-44,
            -1.5705024907732008e-60,
            -1.420577626387684e-77,
        ],
    ),
];

/// `|d - e| / |e|` for the double-double `d` against `e = hi + mid + lo`. `d.hi - hi` is exact
/// (the two are within an ulp), the rest is tiny, so the `f64` evaluation adds nothing visible.
fn rel_err(d: Dd, e: [f64; 3]) -> f64 {
    (((d.hi - e[0]) + (d.lo - e[1])) - e[2]).abs() / e[0].abs()
}

#[test]
fn error_free_transformations() {
    let (s, e) = two_sum(1.0, 1e-20);
    assert_eq!((s, e), (1.0, 1e-20));
    let (s, e) = two_sum(0.1, 0.2);
    assert_eq!(s, 0.1 + 0.2);
    assert_eq!(e, -2.7755575615628914e-17); // 0.1 + 0.2 - fl(0.1 + 0.2), exactly
    let a = 1.0 + f64::EPSILON;
    let (p, e) = two_prod(a, a); // (1 + ε)² = 1 + 2ε + ε²
    assert_eq!(
        (p, e),
        (1.0 + 2.0 * f64::EPSILON, f64::EPSILON * f64::EPSILON)
    );
}

/// Relative error `<= 1e-30`, against `(200 + 3|x|) u² = 6e-30` at `|x| = 100` proven (the
/// `Dd::exp` docs); measured: printed, `8.7e-32` here.
#[test]
fn exp_against_mpmath() {
    let mut worst: f64 = 0.0;
    for (hi, lo, e) in EXP_REFS {
        let x = Dd::from(hi) + Dd::from(lo);
        assert_eq!(x, Dd { hi, lo }, "the inputs are normalized");
        let err = rel_err(x.exp(), e);
        assert!(err <= 1e-30, "exp({hi:e} + {lo:e}): relative error {err:e}");
        worst = worst.max(err);
    }
    println!("worst relative error of Dd::exp: {worst:e}");
    // Outside |x| <= 700: f64's exp, including its overflow and underflow.
    assert_eq!(Dd::from(800.0).exp().hi, f64::INFINITY);
    assert_eq!(Dd::from(-800.0).exp().hi, 0.0);
    assert!(Dd::from(f64::NAN).exp().hi.is_nan());
}

#[test]
fn arithmetic_against_mpmath() {
    // 1/3, 2/3 and (1/3)(3/7) as double-doubles; e.g. 1/3 = 0.3333333333333333 +
    // 1.850371707708594e-17 + 1.0272e-33 (mpmath).
    let third = Dd::from(1.0) / Dd::from(3.0);
    assert!(
        rel_err(
            third,
            [1.0 / 3.0, 1.850371707708594e-17, 1.0271626370065257e-33]
        ) < 1e-31
    );
    let two_thirds = third + third;
    assert!(
        rel_err(
            two_thirds,
            [2.0 / 3.0, 3.700743415417188e-17, 2.0543252740130515e-33]
        ) < 1e-31
    );
    assert!(
        rel_err(
            Dd::from(1.0) - two_thirds,
            [1.0 / 3.0, 1.850371707708594e-17, 1.0271626370065257e-33]
        ) < 1e-31
    );
    let x = third * (Dd::from(3.0) / 7.0);
    assert!(rel_err(x, [1.0 / 7.0, 7.93016446160826e-18, 4.402125587170826e-34]) < 1e-31);
}

/// The minimizer of Meyer to 30 digits is `(0.00560963647102805253525472665181,
/// 6181.34634628637227937722570774, 345.223634624136495903600746659)`, `f* =
/// 87.9458551708511208972086006671` (Newton in `mpmath`); `X_STAR` is its rounding to `f64`.
const X_STAR: [f64; 3] = [0.005609636471028053, 6181.346346286372, 345.2236346241365];
/// A point `(5096, -726, -393)` ulps from `X_STAR` where the exact gradient is below `5e-9`
/// (found by a lattice search in `mpmath`; at `X_STAR` itself it is `2.1e-4`, see below).
const X_LAT: [f64; 3] = [0.005609636471032473, 6181.346346285712, 345.22363462411414];

/// A point and its 16 exact residuals as `hi + lo`.
type ResidualRef = ([f64; 3], [(f64, f64); 16]);

fn residual_refs() -> [ResidualRef; 3] {
    [
        (
            [0.02, 4000.0, 250.0],
            [
                (-22431.247461757353, 2.1895433376180286e-13),
                (-18685.80401771387, 1.3751616861447307e-12),
                (-15617.88787979086, 4.942253184011226e-13),
                (-13085.438404494082, 1.657199311719562e-13),
                (-11003.25426958251, -2.8898444558117556e-13),
                (-9292.150512088927, 1.3784511692031076e-13),
                (-7865.438386147038, -3.0969725910623715e-13),
                (-6677.550974102415, 1.905346847963472e-13),
                (-5688.372891650185, 1.209905018501279e-13),
                (-4860.656441594551, 8.426589391782806e-14),
                (-4166.788396841911, 1.7474856550966315e-13),
                (-3582.0915100728134, -2.6343441532081288e-14),
                (-3088.790098174275, -1.92622652063215e-13),
                (-2670.7313021542627, -2.0959630875190634e-13),
                (-2315.9273857265675, -1.3167633215582538e-13),
                (-2013.9660553465703, -8.014137503112699e-14),
            ],
        ),
        (
            X_STAR,
            [
                (1.9502973536861439, -5.3126013604662075e-17),
                (-1.4311375823909034, -7.802569387757442e-17),
                (-5.374840852757047, 1.163226835220362e-16),
                (2.981640925821214, 4.2579491875351455e-17),
                (5.129018034037514, 2.3477292737463874e-16),
                (-3.0224190023896704, 5.562685754566768e-17),
                (-1.7164901448640226, 7.768451973046258e-18),
                (0.7339621065931279, -4.65714048603663e-17),
                (0.9886923811832015, 4.99395280281344e-17),
                (1.1698826338000605, 3.0878739865930286e-17),
                (0.43001330302371493, 7.425161764415725e-18),
                (0.3266346620257015, 5.337506165527538e-18),
                (-0.19569086342006273, -2.956931505816309e-18),
                (-0.36420858224044383, -4.321570860301241e-18),
                (-0.7877061335922906, 9.813600302334863e-18),
                (-1.3996067328055897, -9.8513597588923e-17),
            ],
        ),
        (
            X_LAT,
            [
                (1.9502973537312573, 8.094654727978062e-17),
                (-1.4311375823846575, -3.493887015105241e-17),
                (-5.374840852770476, 3.9472521080991075e-16),
                (2.9816409257999696, -3.029331442267633e-17),
                (5.129018034015524, 1.9358534788253434e-16),
                (-3.0224190024084354, 1.0310223010264046e-16),
                (-1.7164901448775647, -5.411466666485901e-17),
                (0.7339621065855748, -1.5063563086555e-17),
                (0.9886923811816613, 4.4255917755714173e-17),
                (1.1698826338041326, 1.2473544280387512e-17),
                (0.430013303032779, -1.886327231770406e-17),
                (0.3266346620390465, -8.383980934131208e-18),
                (-0.1956908634031598, 7.233585471536703e-18),
                (-0.3642085822206717, -1.9993390222854593e-18),
                (-0.787706133570279, -7.900978126669803e-18),
                (-1.3996067327818982, 3.27065954726352e-17),
            ],
        ),
    ]
}

/// Each residual within `ulp(r)/2 + 1e-20` of the exact value: the double-double `r_i` is
/// within `~2e-25` of it (`x1 e_i <= 3.5e4` at the last two points, `2.3e5` at `x0`, to a
/// relative `~6e-30`: `Dd::exp`'s and the division's error bounds, `|z| <= 27`), and rounding
/// to `f64` adds at most half an ulp. Plain `f64` was off by up to `3e-11` near the minimizer
/// (`3.5e4 · 2^-53` several times over, `exp` amplifying `z`'s rounding by `z ≈ 16`).
#[test]
fn meyer_residuals_against_mpmath() {
    let p = problem("meyer").unwrap();
    for (x, refs) in residual_refs() {
        let r = p.residuals(&x).unwrap();
        assert_eq!(r.len(), 16);
        for (i, (&ri, (hi, lo))) in r.iter().zip(refs).enumerate() {
            let err = ((ri - hi) - lo).abs();
            let bound = hi.abs() * f64::EPSILON / 2.0 + 1e-20;
            assert!(err <= bound, "r_{i} at {x:?}: error {err:e} > {bound:e}");
        }
        assert_eq!(p.value(&x), r.iter().map(|v| v * v).sum::<f64>());
    }
}

/// The gradient against `mpmath`'s at `x0` (relative `1e-14`), `X_STAR` and `X_LAT` (absolute
/// `1e-15`, against `~1e-4` in plain `f64`). The double-double gradient's terms
/// `2 r_i ∂r_i/∂x_j` (up to `6e7`) are each within `~1e-21` and summed in double-double, so what
/// remains is the final rounding, `ulp(g_j)/2 <= 3e-20` at these two points.
#[test]
fn meyer_gradient_at_the_minimizer() {
    let p = problem("meyer").unwrap();
    let cases: [([f64; 3], [f64; 3], f64); 3] = [
        (
            [0.02, 4000.0, 250.0],
            [-87276662983.66699, -5619363.134236186, 72479077.05414924],
            1e-14 * 87276662983.66699,
        ),
        (
            X_STAR,
            [
                -0.00021249627468191513,
                -2.927149420237006e-09,
                4.448095952867771e-08,
            ],
            1e-15,
        ),
        (
            X_LAT,
            [
                4.206106484307759e-09,
                1.494422937758178e-10,
                -4.927272360885216e-09,
            ],
            1e-15,
        ),
    ];
    for (x, exact, tol) in cases {
        let mut g = [0.0; 3];
        let f = p.value_grad(&x, &mut g);
        assert_eq!(f, p.value(&x));
        for j in 0..3 {
            let err = (g[j] - exact[j]).abs();
            assert!(err <= tol, "g_{j} at {x:?}: {:e} vs {:e}", g[j], exact[j]);
        }
    }
    // At the lattice point the gradient passes far below the suite's 1e-6.
    let mut g = [0.0; 3];
    p.value_grad(&X_LAT, &mut g);
    assert!(g.iter().all(|v| v.abs() < 1e-8), "{g:?}");
    // f* to its f64 rounding.
    assert!((p.value(&X_LAT) - 87.94585517085112).abs() <= 2e-14);
}

/// Grid polishing ([`nabla_optim::polish`]) from `X_STAR`, the `f64` point nearest the
/// minimizer (exact gradient `2.1e-4`, 200 times the suite's test): the lattice search finds a
/// point whose *evaluated* gradient passes `1e-6`, with the same `f`, for `n = 3` probes plus at
/// most `POLISH_CANDIDATES` candidates. It is the same point whatever the stalled solver was, as
/// long as it starts near the valley (see `every_method_solves_meyer_by_polishing`).
#[test]
fn polishing_reaches_the_gradient_test_from_the_nearest_point() {
    use nabla_optim::polish::{POLISH_CANDIDATES, polish};
    use nabla_optim::suite::suite_options;
    use nabla_optim::{Counted, Point};
    let p = problem("meyer").unwrap();
    let base = Point::at(&p, X_STAR.to_vec());
    assert!(base.grad[0].abs() > 1e-4, "{:?}", base.grad);
    let counted = Counted::new(&p);
    let polished = polish(&counted, &base, &suite_options()).expect("a grid point passes");
    let calls = counted.evaluations().f_and_grad();
    assert!(calls <= 3 + POLISH_CANDIDATES, "{calls} evaluations");
    assert!(
        polished.grad.iter().all(|g| g.abs() <= 1e-6),
        "{:?}",
        polished.grad
    );
    assert!(polished.f <= base.f, "{} > {}", polished.f, base.f);
    // The point moved by a few thousand ulps at most, along the valley.
    for (a, b) in polished.x.iter().zip(&X_STAR) {
        assert!((a - b).abs() <= 1e-10 * b.abs(), "{a} vs {b}");
    }
}

/// Every suite method stalls on Meyer with `|g|` between `6e-5` and `3e-3` when polishing is
/// off, and converges when it is on (the default), at the cost of at most `3 + 6` more
/// evaluations.
#[test]
fn every_method_solves_meyer_by_polishing() {
    use nabla_optim::minimize;
    use nabla_optim::polish::POLISH_CANDIDATES;
    use nabla_optim::suite::{methods, suite_options};
    let p = problem("meyer").unwrap();
    for m in methods() {
        let off = nabla_optim::Options {
            polish: false,
            ..suite_options()
        };
        let stalled = minimize(&p, (m.make)().as_mut(), &p.x0, &off);
        assert!(
            !stalled.converged() && stalled.gradient_norm > 1e-6,
            "{}",
            m.name
        );
        let r = minimize(&p, (m.make)().as_mut(), &p.x0, &suite_options());
        assert!(r.converged(), "{}: {}", m.name, r.status);
        assert!(r.gradient_norm <= 1e-6);
        assert!(
            (r.point.f - 87.94585517085112).abs() <= 2e-14,
            "{}",
            r.point.f
        );
        let extra = r.evaluations.f_and_grad() - stalled.evaluations.f_and_grad();
        assert!(extra <= 3 + POLISH_CANDIDATES, "{}: {extra}", m.name);
    }
}
