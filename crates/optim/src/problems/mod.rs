//! The More-Garbow-Hillstrom test problems, and a few more, as [`Objective`]s with hand-written
//! gradients, Hessians and Hessian-vector products.
//!
//! Moré, Garbow and Hillstrom, "Testing unconstrained optimization software", ACM TOMS 7(1),
//! 1981, collected small, hard, mostly least-squares functions `f(x) = sum_i r_i(x)^2` with a
//! standard starting point `x0` each; they are the usual first test of an unconstrained
//! minimizer. This module has 26 of them (MGH 1-26 and 35, numbered as in the paper), their
//! large "extended" variants, and the guide's own examples, 37 cases in all, in the order of the
//! project's reference table (`mgh.csv`, whose numbers are copied here).
//!
//! Each case is a [`TestProblem`]: its name, MGH number, `x0`, best-known value `f_best`, the
//! values of other known local minima, and, where one is known in closed form, a minimizer.
//! Value and gradient are written by hand (`O(n)` for the large problems); so are the Hessian
//! and the Hessian-vector product: for least squares, `∇²f = 2 (JᵀJ + sum_i r_i ∇²r_i)` from
//! each residual's own gradient and Hessian, so `H v` costs `O(m k²)` for residuals of `k`
//! variables each, without forming `H`. [`TestProblem::graph_value`] records the same function
//! with `nabla-graph` operations (slowly, one scalar at a time), for checking the hand-written
//! derivatives against automatic differentiation.
//!
//! | name | MGH | n | m | `x0` | `f_best` |
//! |---|---|---|---|---|---|
//! | `rosenbrock_2` | 1 | 2 | 2 | (-1.2, 1) | 3.039131011e-26 |
//! | `freudenstein_roth` | 2 | 2 | 2 | (0.5, -2) | 1.607577985e-17 (local: 48.9842) |
//! | `powell_badly_scaled` | 3 | 2 | 2 | (0, 1) | 1.306550874e-29 |
//! | `brown_badly_scaled` | 4 | 2 | 3 | (1, 1) | 0 |
//! | `beale` | 5 | 2 | 3 | (1, 1) | 1.035379938e-30 |
//! | `jennrich_sampson` | 6 | 2 | 10 | (0.3, 0.4) | 124.3621824 |
//! | `helical_valley` | 7 | 3 | 3 | (-1, 0, 0) | 1.262177489e-29 |
//! | `bard` | 8 | 3 | 15 | (1, 1, 1) | 0.008214877307 (local: 17.4286) |
//! | `gaussian` | 9 | 3 | 15 | (0.4, 1, 0) | 1.12793277e-08 |
//! | `meyer` | 10 | 3 | 16 | (0.02, 4000, 250) | 87.94585517 |
//! | `gulf` | 11 | 3 | 99 | (5, 2.5, 0.15) | 1.34591941e-20 |
//! | `box3d` | 12 | 3 | 10 | (0, 10, 20) | 1.091497152e-20 |
//! | `powell_singular` | 13 | 4 | 4 | (3, -1, 0, 1) | 4.927376254e-18 |
//! | `wood` | 14 | 4 | 6 | (-3, -1, -3, -1) | 9.005833309e-28 |
//! | `kowalik_osborne` | 15 | 4 | 11 | (0.25, 0.39, 0.415, 0.39) | 0.0003075056038 (local: 0.00102734) |
//! | `brown_dennis` | 16 | 4 | 20 | (25, 5, -5, -1) | 85822.20163 |
//! | `osborne1` | 17 | 5 | 33 | (0.5, 1.5, -1, 0.01, 0.02) | 5.464894697e-05 |
//! | `biggs_exp6` | 18 | 6 | 13 | (1, 2, 1, 1, 1, 1) | 1.973185365e-27 (local: 0.00565565) |
//! | `osborne2` | 19 | 11 | 65 | (1.3, 0.65, 0.65, 0.7, 0.6, 3, 5, 7, 2, 4.5, 5.5) | 0.04013773629 |
//! | `watson_6` | 20 | 6 | 31 | 0 | 0.002287670054 |
//! | `watson_9` | 20 | 9 | 31 | 0 | 1.399760138e-06 |
//! | `penalty1_10` | 23 | 10 | 11 | (1, 2, ..., 10) | 7.087651467e-05 |
//! | `penalty2_10` | 24 | 10 | 20 | (0.5, ..., 0.5) | 0.0002936605375 |
//! | `variably_dim_10` | 25 | 10 | 12 | (0.9, 0.8, ..., 0) | 7.395570986e-32 |
//! | `trigonometric_10` | 26 | 10 | 10 | (0.1, ..., 0.1) | 2.795056122e-05 (local: 2.79506e-05) |
//! | `chebyquad_8` | 35 | 8 | 8 | `x_j = j/9` | 0.003516873725 |
//! | `ext_rosenbrock_100` | 21 | 100 | 100 | (-1.2, 1) repeated | 0 |
//! | `ext_rosenbrock_10000` | 21 | 10000 | 10000 | (-1.2, 1) repeated | 0 |
//! | `ext_powell_100` | 22 | 100 | 100 | (3, -1, 0, 1) repeated | 2.424041327e-14 |
//! | `broyden_tridiag_100` | 30 | 100 | 100 | (-1, ..., -1) | 6.182169301e-25 |
//! | `discrete_bv_100` | 28 | 100 | 100 | `t_i (t_i - 1)`, `t_i = i/(n+1)` | 3.589967613e-16 |
//! | `quartic_x0=-2` | - | 1 | - | -2 | -5 (the local minimum at -1) |
//! | `quartic_x0=3` | - | 1 | - | 3 | -32 |
//! | `quartic_x0=0.5` | - | 1 | - | 0.5 | -32 |
//! | `logsumexp_quad` | - | 2 | - | (2, -1) | `ln 2 - 1/4` = 0.4431471806 |
//! | `matfact_V_only` | - | 200 | 2000 | seeded normal | 0 |
//! | `matfact_UV` | - | 450 | 2000 | seeded normal | 0 |
//!
//! Notes on the table:
//!
//! * `x0` and `f_best` are the reference table's. `f_best` is the best value known, which for a
//!   zero-residual problem is often a solver's tiny positive result rather than the exact 0 (the
//!   exact minimum, where known in closed form, is [`TestProblem::minimizer`]'s value).
//! * `chebyquad_8` starts at the exact MGH point `x_j = j/(n+1)`; the table prints it rounded to
//!   six digits.
//! * `helical_valley`'s `θ(x1, x2)` is `atan(x2/x1)/(2π)`, plus `1/2` when `x1 < 0` (MGH).
//! * `gulf` is `r_i = exp(-|y_i - x2|^x3 / x1) - t_i` (the paper's typeset "`y_i m i x2`" read
//!   as `y_i - x2`, which makes `(50, 25, 1.5)` an exact zero-residual minimizer).
//! * `meyer`'s residuals `x1 exp(x2/(t_i + x3)) - y_i` cancel two terms of up to `3.5e4` down
//!   to `|r_i| <= 5.4` at the minimizer `x* ≈ (0.0056096, 6181.35, 345.224)`, and
//!   `∂f/∂x1 = 2 sum_i r_i e_i` with `e_i = exp(x2/(t_i + x3))` up to `6.2e6` cancels terms of
//!   up to `6e7` to zero. In plain `f64` (`exp`, the products, and `z_i = x2/(t_i + x3) ≈ 16`,
//!   whose rounding `exp` turns into a relative `2e-15`) the residuals were off by up to `3e-11`
//!   and the gradient by up to `(8e-4, 1.2e-8, 1.8e-7)` (median `(2.5e-4, 3.6e-9, 5.5e-8)`),
//!   measured against `mpmath` at `x*` rounded to `f64` and 41 `f64` points within `1e-8`
//!   relative of it: `∂f/∂x1`'s noise alone exceeds the suite's `1e-6` gradient test. So the
//!   value and gradient are computed in double-double ([`double_double`]: `z_i`, `exp(z_i)`,
//!   `r_i` and the sum `2 sum_i r_i ∇r_i`), which leaves the gradient's final rounding: at the
//!   22 of those points where `|∇f| <= 1.5` the error is at most `(1e-16, 2e-21, 2e-20)`. The
//!   Hessian takes its `f64` entries from the same double-double `exp`.
//!
//!   That alone does not make `meyer` solvable in `f64`: the Hessian's eigenvalues at `x*` are
//!   `2.5e14, 4.2e4, 0.025`, so one ulp of `x1`, `x2` or `x3` moves `∂f/∂x1` by `2e-4, 3e-3,
//!   3e-3`. The *exact* gradient at `x*` rounded to `f64` is `(-2.1e-4, -2.9e-9, 4.4e-8)`, and of
//!   the `f64` points nearest the valley (for each `x2, x3` within 3000 ulps, the best `x1`)
//!   about one in 800 has `||∇f||_inf <= 1e-6` (the best, `4.9e-9`, is
//!   `(0.005609636471032473, 6181.346346285712, 345.22363462411414)`), while `f` is the same
//!   `f64` value at all of them. Solvers reach `f*` and stall on an arbitrary one of those
//!   points; the executor's grid polish ([`crate::polish`]) then chooses the coordinates'
//!   roundings together and lands on a passing one (3 probes and 1 candidate here).
//! * The quartic is the guide's `3x^4 - 4x^3 - 12x^2` (section 2): minima `-5` at `x = -1` and
//!   `-32` at `x = 2`; from `x0 = -2` the nearby minimum is `-5`, which is that case's `f_best`.
//! * `logsumexp_quad` is `log(e^x + e^y) + (x^2 + y^2)/2`, with the log-sum-exp computed stably
//!   (`max + log1p(exp(-|x - y|))`); its minimizer is `(-1/2, -1/2)`.
//! * The matrix factorizations use the guide's section 6 objective exactly, with no factor
//!   `1/2`: `f = ||X - U V||_F^2 = sum_ij (X - U V)_ij^2` (the guide's `np.sum((X - U@V)**2)`,
//!   gradient `-2 Uᵀ(X - U V)` in `V`). `X = U0 V0` with `U0` (50 x 5) and `V0` (5 x 40)
//!   standard normal from this module's splitmix64 + Box-Muller generator with seeds 1 and 2.
//!   `matfact_V_only` keeps `U = U0` fixed and minimizes over `V` (row-major, `n = 200`) from a
//!   seed-3 normal start; `X = U0 V0` is attained at `V = V0`, so its least-squares optimum is
//!   exactly 0 (and `V0` is the unique minimizer, `U0` having full column rank).
//!   `matfact_UV` minimizes over `x = (U, V)` (`U` row-major first, `n = 250 + 200`) from seed-4
//!   `U` and seed-3 `V`; its minimum is 0 at `(U0, V0)` and along the whole orbit
//!   `(U0 A, A⁻¹ V0)`.
//!
//! Hessians: [`Objective::hessian`] writes the dense `n x n` Hessian for `n <= 10,000` (800 MB
//! for `ext_rosenbrock_10000`, which dense Newton factors in band form) and returns `false`
//! above; [`Objective::hvp`] works for every case.
//!
//! ```
//! use nabla_optim::Objective;
//! use nabla_optim::problems::problem;
//! let p = problem("rosenbrock_2").unwrap();
//! assert_eq!((p.mgh_number, p.dim()), (Some(1), 2));
//! let mut g = [0.0; 2];
//! let f0 = p.value_grad(&p.x0, &mut g);
//! assert!((f0 - 24.2).abs() < 1e-12); // 4.4^2 + 2.2^2 at (-1.2, 1)
//! assert_eq!(p.value(&[1.0, 1.0]), 0.0);
//! let mut hv = [0.0; 2];
//! assert!(p.hvp(&[1.0, 1.0], &[1.0, 0.0], &mut hv));
//! assert_eq!(hv, [802.0, -400.0]);
//! ```

pub mod double_double;
mod large;
mod least_squares;
mod other;

use crate::Objective;
use nabla_graph::{CustomOp, GraphError, Tensor, Var};
use std::ops::{Add, Div, Mul, Neg, Sub};
use std::sync::Arc;

/// Dense Hessians are written up to this dimension; above it [`Objective::hessian`] returns
/// `false` (use [`Objective::hvp`]).
pub const DENSE_HESSIAN_MAX_N: usize = 10_000;

/// One test case: a function with its starting point and reference values.
///
/// It is an [`Objective`] (value, gradient, Hessian-vector product and, for
/// `n <=` [`DENSE_HESSIAN_MAX_N`], the dense Hessian, all hand-written).
pub struct TestProblem {
    /// The case's name in the reference table, e.g. `"rosenbrock_2"`.
    pub name: &'static str,
    /// The function's number in Moré, Garbow, Hillstrom (1981), if it is one of theirs.
    pub mgh_number: Option<u32>,
    /// The standard starting point.
    pub x0: Vec<f64>,
    /// The best known minimum value (from the reference table).
    pub f_best: f64,
    /// The values of other known local minima (some at infinity, e.g. `bard`'s 17.4286).
    pub other_local_minima: Vec<f64>,
    /// A minimizer known in closed form (the one `f_best` refers to), if there is one.
    pub minimizer: Option<Vec<f64>>,
    /// The number of residuals `m` for a least-squares problem `f = sum_i r_i^2`.
    pub m: Option<usize>,
    f: Box<dyn Function>,
}

impl TestProblem {
    /// The same function recorded with `nabla-graph` operations on a length-`n` vector, for
    /// checking the hand-written derivatives with automatic differentiation (e.g. with
    /// [`nabla_graph::value_and_grad`] or [`crate::GraphObjective`]). Each scalar is its own
    /// node, so this is slow: meant for tests, at moderate `n`.
    ///
    /// # Panics
    /// If `x` is not a vector of length [`Objective::dim`].
    pub fn graph_value<'g>(&self, x: Var<'g, f64>) -> Var<'g, f64> {
        assert_eq!(x.shape(), [self.dim()], "graph_value of {}", self.name);
        let xs: Vec<Var<'g, f64>> = (0..self.dim()).map(|i| x.at(i)).collect();
        self.f.graph(&xs)
    }

    /// The residuals `r_i(x)` of a least-squares problem (`f = sum_i r_i^2`, `i <` [`m`](
    /// TestProblem::m)) as the value and gradient use them; `None` for the others.
    ///
    /// ```
    /// use nabla_optim::problems::problem;
    /// let r = problem("rosenbrock_2").unwrap().residuals(&[-1.2, 1.0]).unwrap();
    /// assert_eq!(r.len(), 2); // 10 (x2 - x1^2) and 1 - x1
    /// assert!((r[0] + 4.4).abs() < 1e-14 && (r[1] - 2.2).abs() < 1e-15);
    /// assert!(problem("quartic_x0=3").unwrap().residuals(&[0.0]).is_none());
    /// ```
    pub fn residuals(&self, x: &[f64]) -> Option<Vec<f64>> {
        let mut r = vec![0.0; self.m?];
        self.f.residuals(x, &mut r).then_some(r)
    }
}

impl std::fmt::Debug for TestProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProblem")
            .field("name", &self.name)
            .field("mgh_number", &self.mgh_number)
            .field("n", &self.dim())
            .field("m", &self.m)
            .field("f_best", &self.f_best)
            .finish_non_exhaustive()
    }
}

impl Objective for TestProblem {
    fn dim(&self) -> usize {
        self.f.dim()
    }
    fn value(&self, x: &[f64]) -> f64 {
        self.f.value(x)
    }
    fn value_grad(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.f.value_grad(x, grad)
    }
    fn hvp(&self, x: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        self.f.hvp(x, v, out)
    }
    fn hessian(&self, x: &[f64], out: &mut [f64]) -> bool {
        self.f.hessian(x, out)
    }
}

/// The 37 cases in the reference table's order.
pub fn mgh_problems() -> Vec<TestProblem> {
    use large::{BroydenTridiag, DiscreteBv, ExtPowell, ExtRosenbrock};
    use least_squares::*;
    use other::{LogSumExpQuad, Quartic, matfact_uv, matfact_v_only};

    let ls = |name, mgh, f: Box<dyn Function>, x0: Vec<f64>, f_best| {
        let m = f.residual_count();
        TestProblem {
            name,
            mgh_number: Some(mgh),
            x0,
            f_best,
            other_local_minima: vec![],
            minimizer: None,
            m,
            f,
        }
    };
    let with_min = |mut p: TestProblem, x: Vec<f64>| {
        p.minimizer = Some(x);
        p
    };
    let with_local = |mut p: TestProblem, v: f64| {
        p.other_local_minima = vec![v];
        p
    };
    let repeat = |pattern: &[f64], n: usize| -> Vec<f64> {
        pattern.iter().copied().cycle().take(n).collect()
    };

    let mut v = vec![
        with_min(
            ls(
                "rosenbrock_2",
                1,
                lsq(ExtRosenbrock { n: 2 }),
                vec![-1.2, 1.0],
                3.039131011e-26,
            ),
            vec![1.0, 1.0],
        ),
        with_local(
            with_min(
                ls(
                    "freudenstein_roth",
                    2,
                    lsq(FreudensteinRoth),
                    vec![0.5, -2.0],
                    1.607577985e-17,
                ),
                vec![5.0, 4.0],
            ),
            48.9842,
        ),
        ls(
            "powell_badly_scaled",
            3,
            lsq(PowellBadlyScaled),
            vec![0.0, 1.0],
            1.306550874e-29,
        ),
        with_min(
            ls(
                "brown_badly_scaled",
                4,
                lsq(BrownBadlyScaled),
                vec![1.0, 1.0],
                0.0,
            ),
            vec![1e6, 2e-6],
        ),
        with_min(
            ls("beale", 5, lsq(Beale), vec![1.0, 1.0], 1.035379938e-30),
            vec![3.0, 0.5],
        ),
        ls(
            "jennrich_sampson",
            6,
            lsq(JennrichSampson),
            vec![0.3, 0.4],
            124.3621824,
        ),
        with_min(
            ls(
                "helical_valley",
                7,
                lsq(HelicalValley),
                vec![-1.0, 0.0, 0.0],
                1.262177489e-29,
            ),
            vec![1.0, 0.0, 0.0],
        ),
        with_local(
            ls("bard", 8, lsq(Bard), vec![1.0, 1.0, 1.0], 0.008214877307),
            17.4286,
        ),
        ls(
            "gaussian",
            9,
            lsq(Gaussian),
            vec![0.4, 1.0, 0.0],
            1.12793277e-08,
        ),
        ls(
            "meyer",
            10,
            lsq(Meyer),
            vec![0.02, 4000.0, 250.0],
            87.94585517,
        ),
        with_min(
            ls(
                "gulf",
                11,
                lsq(Gulf { m: 99 }),
                vec![5.0, 2.5, 0.15],
                1.34591941e-20,
            ),
            vec![50.0, 25.0, 1.5],
        ),
        with_min(
            ls(
                "box3d",
                12,
                lsq(Box3d { m: 10 }),
                vec![0.0, 10.0, 20.0],
                1.091497152e-20,
            ),
            vec![1.0, 10.0, 1.0],
        ),
        with_min(
            ls(
                "powell_singular",
                13,
                lsq(ExtPowell { n: 4 }),
                vec![3.0, -1.0, 0.0, 1.0],
                4.927376254e-18,
            ),
            vec![0.0; 4],
        ),
        with_min(
            ls(
                "wood",
                14,
                lsq(Wood),
                vec![-3.0, -1.0, -3.0, -1.0],
                9.005833309e-28,
            ),
            vec![1.0; 4],
        ),
        with_local(
            ls(
                "kowalik_osborne",
                15,
                lsq(KowalikOsborne),
                vec![0.25, 0.39, 0.415, 0.39],
                0.0003075056038,
            ),
            0.00102734,
        ),
        ls(
            "brown_dennis",
            16,
            lsq(BrownDennis { m: 20 }),
            vec![25.0, 5.0, -5.0, -1.0],
            85822.20163,
        ),
        ls(
            "osborne1",
            17,
            lsq(Osborne1),
            vec![0.5, 1.5, -1.0, 0.01, 0.02],
            5.464894697e-05,
        ),
        with_local(
            with_min(
                ls(
                    "biggs_exp6",
                    18,
                    lsq(BiggsExp6 { m: 13 }),
                    vec![1.0, 2.0, 1.0, 1.0, 1.0, 1.0],
                    1.973185365e-27,
                ),
                vec![1.0, 10.0, 1.0, 5.0, 4.0, 3.0],
            ),
            0.00565565,
        ),
        ls(
            "osborne2",
            19,
            lsq(Osborne2),
            vec![1.3, 0.65, 0.65, 0.7, 0.6, 3.0, 5.0, 7.0, 2.0, 4.5, 5.5],
            0.04013773629,
        ),
        ls(
            "watson_6",
            20,
            lsq(Watson { n: 6 }),
            vec![0.0; 6],
            0.002287670054,
        ),
        ls(
            "watson_9",
            20,
            lsq(Watson { n: 9 }),
            vec![0.0; 9],
            1.399760138e-06,
        ),
        ls(
            "penalty1_10",
            23,
            lsq(Penalty1 { n: 10 }),
            (1..=10).map(f64::from).collect(),
            7.087651467e-05,
        ),
        ls(
            "penalty2_10",
            24,
            lsq(Penalty2 { n: 10 }),
            vec![0.5; 10],
            0.0002936605375,
        ),
        with_min(
            ls(
                "variably_dim_10",
                25,
                lsq(VariablyDim { n: 10 }),
                (1..=10).map(|j| 1.0 - f64::from(j) / 10.0).collect(),
                7.395570986e-32,
            ),
            vec![1.0; 10],
        ),
        with_local(
            ls(
                "trigonometric_10",
                26,
                lsq(Trigonometric { n: 10 }),
                vec![0.1; 10],
                2.795056122e-05,
            ),
            2.79506e-05,
        ),
        ls(
            "chebyquad_8",
            35,
            lsq(Chebyquad { n: 8, m: 8 }),
            (1..=8).map(|j| f64::from(j) / 9.0).collect(),
            0.003516873725,
        ),
        with_min(
            ls(
                "ext_rosenbrock_100",
                21,
                lsq(ExtRosenbrock { n: 100 }),
                repeat(&[-1.2, 1.0], 100),
                0.0,
            ),
            vec![1.0; 100],
        ),
        with_min(
            ls(
                "ext_rosenbrock_10000",
                21,
                lsq(ExtRosenbrock { n: 10_000 }),
                repeat(&[-1.2, 1.0], 10_000),
                0.0,
            ),
            vec![1.0; 10_000],
        ),
        with_min(
            ls(
                "ext_powell_100",
                22,
                lsq(ExtPowell { n: 100 }),
                repeat(&[3.0, -1.0, 0.0, 1.0], 100),
                2.424041327e-14,
            ),
            vec![0.0; 100],
        ),
        ls(
            "broyden_tridiag_100",
            30,
            lsq(BroydenTridiag { n: 100 }),
            vec![-1.0; 100],
            6.182169301e-25,
        ),
        ls(
            "discrete_bv_100",
            28,
            lsq(DiscreteBv { n: 100 }),
            DiscreteBv { n: 100 }.x0(),
            3.589967613e-16,
        ),
    ];
    let quartic = |name, x0: f64, f_best| TestProblem {
        name,
        mgh_number: None,
        x0: vec![x0],
        f_best,
        other_local_minima: vec![-5.0],
        minimizer: Some(vec![if f_best == -5.0 { -1.0 } else { 2.0 }]),
        m: None,
        f: Box::new(Quartic),
    };
    v.push(quartic("quartic_x0=-2", -2.0, -5.0));
    v.push(quartic("quartic_x0=3", 3.0, -32.0));
    v.push(quartic("quartic_x0=0.5", 0.5, -32.0));
    v.push(TestProblem {
        name: "logsumexp_quad",
        mgh_number: None,
        x0: vec![2.0, -1.0],
        f_best: 0.4431471806,
        other_local_minima: vec![],
        minimizer: Some(vec![-0.5, -0.5]),
        m: None,
        f: Box::new(LogSumExpQuad),
    });
    v.push(matfact_v_only());
    v.push(matfact_uv());
    v
}

/// The case called `name` (as in [`mgh_problems`]), if there is one.
///
/// ```
/// use nabla_optim::problems::problem;
/// assert_eq!(problem("watson_9").unwrap().x0, vec![0.0; 9]);
/// assert!(problem("no such problem").is_none());
/// ```
pub fn problem(name: &str) -> Option<TestProblem> {
    mgh_problems().into_iter().find(|p| p.name == name)
}

/// A function of the table: an [`Objective`] that can also record itself with graph operations.
trait Function: Objective + Send + Sync {
    /// `f` on scalar graph variables, one per coordinate.
    fn graph<'g>(&self, x: &[Var<'g, f64>]) -> Var<'g, f64>;
    /// The number of residuals of a least-squares function.
    fn residual_count(&self) -> Option<usize> {
        None
    }
    /// Writes a least-squares function's residuals to `out` (length `m`); `false` for others.
    fn residuals(&self, _x: &[f64], _out: &mut [f64]) -> bool {
        false
    }
}

/// The scalar arithmetic the functions are written in once, for `f64` (their values) and for
/// scalar graph variables (to check the hand-written derivatives against the graph's).
trait Scalar:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
{
    /// The current value (for branches, as define-by-run code may take them).
    fn val(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn ln_1p(self) -> Self;
    fn sqrt(self) -> Self;
    fn sin(self) -> Self;
    fn cos(self) -> Self;
    fn atan(self) -> Self;
    fn abs(self) -> Self;
    fn powi(self, n: i32) -> Self;
    fn recip(self) -> Self;
}

impl Scalar for f64 {
    fn val(self) -> f64 {
        self
    }
    fn exp(self) -> f64 {
        f64::exp(self)
    }
    fn ln(self) -> f64 {
        f64::ln(self)
    }
    fn ln_1p(self) -> f64 {
        f64::ln_1p(self)
    }
    fn sqrt(self) -> f64 {
        f64::sqrt(self)
    }
    fn sin(self) -> f64 {
        f64::sin(self)
    }
    fn cos(self) -> f64 {
        f64::cos(self)
    }
    fn atan(self) -> f64 {
        f64::atan(self)
    }
    fn abs(self) -> f64 {
        f64::abs(self)
    }
    fn powi(self, n: i32) -> f64 {
        f64::powi(self, n)
    }
    fn recip(self) -> f64 {
        1.0 / self
    }
}

impl<'g> Scalar for Var<'g, f64> {
    fn val(self) -> f64 {
        self.value().item()
    }
    fn exp(self) -> Self {
        Var::exp(self)
    }
    fn ln(self) -> Self {
        self.log()
    }
    fn ln_1p(self) -> Self {
        self.log1p()
    }
    fn sqrt(self) -> Self {
        Var::sqrt(self)
    }
    fn sin(self) -> Self {
        Var::sin(self)
    }
    fn cos(self) -> Self {
        Var::cos(self)
    }
    fn atan(self) -> Self {
        self.graph()
            .custom(Arc::new(Atan), &[self])
            .expect("atan takes one input")
    }
    fn abs(self) -> Self {
        Var::abs(self)
    }
    fn powi(self, n: i32) -> Self {
        Var::powi(self, n)
    }
    fn recip(self) -> Self {
        Var::powi(self, -1)
    }
}

/// `atan` for the graph (which has no built-in one): `d atan(u) = du / (1 + u^2)`, written with
/// graph operations so it can be differentiated again.
struct Atan;

impl CustomOp<f64> for Atan {
    fn name(&self) -> &str {
        "atan"
    }
    fn forward(&self, inputs: &[Tensor<f64>]) -> Result<Tensor<f64>, GraphError> {
        let u = &inputs[0];
        Tensor::from_vec(u.data().iter().map(|v| v.atan()).collect(), u.shape())
    }
    fn vjp<'g>(
        &self,
        inputs: &[Var<'g, f64>],
        _output: Var<'g, f64>,
        dy: Var<'g, f64>,
    ) -> Vec<Var<'g, f64>> {
        let u = inputs[0];
        vec![dy / (u * u + 1.0)]
    }
}

/// Sums `terms` (at least one).
fn sum<S: Scalar>(mut terms: impl Iterator<Item = S>) -> S {
    let first = terms.next().expect("at least one term");
    terms.fold(first, |a, b| a + b)
}

/// Deterministic standard normals: splitmix64 (Steele, Lea, Flood 2014) for uniform bits,
/// Box-Muller (cosine branch only) for the normals.
struct Normals(u64);

impl Normals {
    fn new(seed: u64) -> Self {
        Normals(seed)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in the open interval (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn sample(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
    fn take(&mut self, len: usize) -> Vec<f64> {
        (0..len).map(|_| self.sample()).collect()
    }
}
