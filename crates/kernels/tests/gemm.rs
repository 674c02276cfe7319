//! GEMM against a scalar f64 reference, on every SIMD path this CPU has.
//!
//! Tolerance: each `C[i][j]` accumulates `k` products in `T`, so the classic bound is
//! `|C - C_ref| <= gamma_k * (|alpha| sum_p |A_ip||B_pj| + |beta||C_ij|)` with
//! `gamma_k = k * eps / (1 - k * eps)`; we allow `(k + 2) * eps` times that magnitude (the `+ 2`
//! covers the alpha and beta roundings) and never less than the smallest normal.

use nabla_kernels::gemm::{self, Activation, Epilogue, MatMut, MatRef, Strided};
use nabla_kernels::isa::{self, Isa};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use nabla_kernels::{Element, KernelError};
use proptest::prelude::*;

mod common;
use common::{COL, Layout, ROW, layout, one_and_three_threads, val};

struct Case<T> {
    m: usize,
    k: usize,
    n: usize,
    a: Vec<T>,
    b: Vec<T>,
    c: Vec<T>,
    la: Layout,
    lb: Layout,
    lc: Layout,
}

impl<T: Element> Case<T> {
    fn new(m: usize, k: usize, n: usize, la: Layout, lb: Layout, lc: Layout, seed: u64) -> Self {
        let fill =
            |len: usize, s: u64| (0..len).map(|i| T::from_f64(val(s, i))).collect::<Vec<T>>();
        Case {
            m,
            k,
            n,
            a: fill(la.len(m, k), seed),
            b: fill(lb.len(k, n), seed + 1),
            c: fill(lc.len(m, n), seed + 2),
            la,
            lb,
            lc,
        }
    }

    fn a_ref(&self) -> MatRef<'_, T> {
        let (rs, cs) = self.la.strides(self.m, self.k);
        MatRef::from_strides(&self.a[self.la.offset..], self.m, self.k, rs, cs).unwrap()
    }
    fn b_ref(&self) -> MatRef<'_, T> {
        let (rs, cs) = self.lb.strides(self.k, self.n);
        MatRef::from_strides(&self.b[self.lb.offset..], self.k, self.n, rs, cs).unwrap()
    }

    /// Runs nabla's GEMM on a copy of C and returns it.
    fn run(&self, alpha: T, beta: T, epi: Epilogue<'_, T>) -> Vec<T> {
        let mut c = self.c.clone();
        let (rs, cs) = self.lc.strides(self.m, self.n);
        let off = self.lc.offset;
        let cm = MatMut::from_strides(&mut c[off..], self.m, self.n, rs, cs).unwrap();
        gemm::try_gemm_with(alpha, self.a_ref(), self.b_ref(), beta, cm, epi).unwrap();
        c
    }

    /// Checks `got` against the f64 reference of `alpha*A*B + beta*C + bias`, then `act`.
    fn check(
        &self,
        got: &[T],
        alpha: T,
        beta: T,
        bias: Option<&[T]>,
        act: fn(f64) -> f64,
        act_tol: f64,
    ) {
        let eps = T::EPSILON.to_f64();
        let (m, k, n) = (self.m, self.k, self.n);
        for i in 0..m {
            for j in 0..n {
                let (mut exact, mut mag) = (0.0f64, 0.0f64);
                for p in 0..k {
                    let x = self.a[self.la.index(m, k, i, p)].to_f64();
                    let y = self.b[self.lb.index(k, n, p, j)].to_f64();
                    exact += x * y;
                    mag += (x * y).abs();
                }
                let ci = self.lc.index(m, n, i, j);
                let mut want = alpha.to_f64() * exact;
                mag *= alpha.to_f64().abs();
                if beta != T::ZERO {
                    want += beta.to_f64() * self.c[ci].to_f64();
                    mag += (beta.to_f64() * self.c[ci].to_f64()).abs();
                }
                if let Some(bias) = bias {
                    want += bias[j].to_f64();
                    mag += bias[j].to_f64().abs();
                }
                let pre_tol = (k as f64 + 3.0) * eps * mag + T::MIN_POSITIVE.to_f64();
                let want_act = act(want);
                // The activation is 1-Lipschitz for all supported ones (|act'| <= 1.13 for gelu).
                let tol = 1.13 * pre_tol + act_tol * want_act.abs() + T::MIN_POSITIVE.to_f64();
                let g = got[ci].to_f64();
                assert!(
                    (g - want_act).abs() <= tol,
                    "C[{i}][{j}] = {g}, want {want_act} (tol {tol}) for m={m} k={k} n={n}"
                );
            }
        }
        // Elements of C's buffer outside the view are untouched.
        let in_view = self.lc.covers(m, n, got.len());
        for (idx, (g, c0)) in got.iter().zip(&self.c).enumerate() {
            if !in_view[idx] {
                assert_eq!(
                    g.to_bits_u64(),
                    c0.to_bits_u64(),
                    "element {idx} outside C changed"
                );
            }
        }
    }
}

fn for_each_path(mut f: impl FnMut(Isa)) {
    for path in isa::test_paths() {
        isa::with_isa(path, || f(path)).unwrap();
    }
}

/// Shapes `(m, k, n)` and layouts of A, B and C.
type Shape = ((usize, usize, usize), (Layout, Layout, Layout));

fn check_plain<T: Element>(((m, k, n), (la, lb, lc)): Shape, ab: (f64, f64), seed: u64) {
    let case = Case::<T>::new(m, k, n, la, lb, lc, seed);
    let (alpha, beta) = (T::from_f64(ab.0), T::from_f64(ab.1));
    for_each_path(|_| {
        let got = case.run(alpha, beta, Epilogue::none());
        case.check(&got, alpha, beta, None, |x| x, 0.0);
    });
}

fn coef() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), Just(-1.0), -2.0f64..2.0]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn gemm_f32_matches_reference(m in 0usize..40, k in 0usize..40, n in 0usize..40,
        la in layout(false), lb in layout(false), lc in layout(false), alpha in coef(), beta in coef(), seed in any::<u64>()) {
        check_plain::<f32>(((m, k, n), (la, lb, lc)), (alpha, beta), seed);
    }

    #[test]
    fn gemm_f64_matches_reference(m in 0usize..40, k in 0usize..40, n in 0usize..40,
        la in layout(false), lb in layout(false), lc in layout(false), alpha in coef(), beta in coef(), seed in any::<u64>()) {
        check_plain::<f64>(((m, k, n), (la, lb, lc)), (alpha, beta), seed);
    }
}

#[test]
fn gemm_spans_several_blocks() {
    // k above every depth block (so partial sums are carried through C with beta = 1), n above
    // the column block (a packed B block holds at most 4 MiB: 512 f64 columns 1024 deep, so
    // 512 + 18 here), m above the row block (at most 256 rows of f32 1024 deep, with a 1 MiB
    // block), ragged everywhere.
    let rm = ROW;
    let cm = Layout { pad: 1, ..COL };
    check_plain::<f32>(((600, 1100, 45), (rm, rm, rm)), (1.0, 0.5), 1);
    check_plain::<f64>(((45, 2100, 70), (cm, rm, rm)), (-0.5, 0.0), 2);
    check_plain::<f64>(((70, 1030, 530), (rm, cm, rm)), (1.0, 0.5), 23);
    check_plain::<f32>(((3, 5, 4200), (rm, cm, rm)), (1.0, 1.0), 3);
    check_plain::<f64>(((200, 70, 9), (rm, rm, cm)), (2.0, 0.0), 4);
    // A single row panel (m <= MR) with a row-major B of whole panels, too big for the
    // small-B rule: B is read in place, over column blocks (f32: 4 x 1024 + 256; f64 300 deep:
    // 1744 + 1744 + 864) and depth blocks.
    check_plain::<f32>(((5, 1600, 4352), (rm, rm, rm)), (1.0, 0.5), 5);
    check_plain::<f64>(((8, 300, 4352), (rm, rm, rm)), (1.5, 0.0), 6);
    check_plain::<f32>(((1, 257, 512), (cm, rm, rm)), (1.0, 1.0), 7);
    // A row-major A read in place beside a ragged packed panel, also with rows 2 KiB apart.
    check_plain::<f32>(((37, 40, 33), (rm, rm, rm)), (1.0, 0.0), 13);
    check_plain::<f32>(((40, 512, 20), (rm, rm, rm)), (0.5, 1.0), 14);
    // Several row panels (up to 8) over a row-major B read in place, several depth blocks;
    // the most panels read in place (8: 64 rows on AVX-512, 48 on AVX2), and one more (65 and
    // 49 rows; B above the 16 KiB small-B rule, so the panel count decides).
    check_plain::<f32>(((60, 1300, 64), (rm, rm, rm)), (1.0, 0.5), 11);
    check_plain::<f64>(((45, 1290, 48), (cm, rm, rm)), (-1.0, 0.0), 12);
    check_plain::<f32>(((64, 80, 64), (rm, rm, rm)), (1.0, 0.5), 17);
    check_plain::<f64>(((65, 50, 48), (cm, rm, rm)), (1.0, 0.0), 18);
    check_plain::<f32>(((49, 80, 64), (rm, rm, rm)), (1.0, 0.5), 22);
    // A row-major B, more row panels than B is read in place for, one depth block of at most
    // 512: the first tile of each whole panel packs B as it reads it, the others (and a second
    // A block, and a packed column-major A) read the packed panel; a ragged last panel is
    // packed by the packing pass. Ragged last row tiles; B rows 4 KiB apart in f64.
    check_plain::<f32>(((100, 300, 64), (rm, rm, rm)), (1.0, 0.5), 23);
    check_plain::<f32>(((100, 300, 70), (rm, rm, rm)), (1.0, 1.0), 27);
    check_plain::<f64>(((70, 60, 48), (cm, rm, rm)), (0.5, 1.0), 24);
    check_plain::<f64>(((70, 60, 50), (rm, rm, rm)), (1.0, 0.0), 28);
    check_plain::<f64>(((75, 40, 512), (rm, rm, rm)), (-1.0, 0.0), 25);
    // Sequentially: a 520-deep block, just past the depth limit, and 1300 deep, a 1024-deep
    // block then a 276-deep one whose sums are added to the first's in C, all packed as read
    // (A has 2 or 3 blocks, at most PACK_AS_READ_MAX_A_BLOCKS); f64 1100 deep with 9 A blocks
    // of 32 rows on AVX-512 (A column-major, so packed, in blocks whose size does not follow
    // the L2): the 1024-deep block through the packing pass, the 76-deep one packed as read, a
    // ragged last panel.
    with_parallelism(Parallelism::Sequential, || {
        check_plain::<f32>(((130, 520, 96), (rm, rm, rm)), (1.0, 0.0), 26);
        check_plain::<f32>(((130, 1300, 96), (rm, rm, rm)), (1.0, 0.5), 30);
        check_plain::<f64>(((260, 1100, 40), (cm, rm, rm)), (1.0, 0.5), 31);
    });
    // A read in place in blocks sized by the product's depth and the L2 (f64, 500 deep: blocks
    // of 64 rows with a 256 KiB block, 128 with 512 KiB, 256 with 1 MiB, on AVX-512; the last
    // ragged; B packed as read by the first block).
    with_parallelism(Parallelism::Sequential, || {
        check_plain::<f64>(((600, 500, 40), (rm, rm, rm)), (1.0, 0.5), 29)
    });
    // B rows 2 KiB apart (512 f32), 800 deep: a panel spans 1.6 MiB of L2 sets, so with 4
    // row panels B is packed (as read), with 2 it is read in place at any span.
    check_plain::<f32>(((30, 800, 512), (rm, rm, rm)), (1.0, 0.5), 32);
    check_plain::<f32>(((16, 800, 512), (rm, rm, rm)), (1.0, 0.0), 33);
    // B rows 4 KiB apart (512 f64): in place for at most 4 panels, packed for 25.
    check_plain::<f64>(((30, 20, 512), (rm, rm, rm)), (1.0, 0.0), 21);
    check_plain::<f64>(((200, 20, 512), (rm, rm, rm)), (1.0, 0.0), 19);
    // Packing transposes register blocks (LANES x LANES) when a panel's rows are contiguous
    // along the depth: row-major A, column-major B. Whole panels with depth tails (k not a
    // multiple of 16 or 8), a padded leading dimension, and a ragged last panel.
    let rm_pad = Layout { pad: 3, ..rm };
    check_plain::<f32>(((48, 53, 37), (rm_pad, cm, rm)), (1.0, 0.0), 8);
    check_plain::<f64>(((40, 29, 50), (rm, cm, rm)), (1.0, 0.5), 9);
    check_plain::<f32>(((32, 300, 32), (rm, cm, rm)), (-1.0, 0.0), 10);
    // A row-major f32 A with rows 4 KiB apart, read in place: whole row panels, a ragged
    // packed one, a depth that is not a multiple of the vector width.
    check_plain::<f32>(
        ((45, 1000, 20), (Layout { pad: 24, ..rm }, rm, rm)),
        (1.0, 0.5),
        20,
    );
    // C above 1 MiB, so each tile's rows are prefetched before the update (ragged tiles too,
    // padded rows; a shallow depth keeps the naive reference cheap).
    let rm_pad1 = Layout { pad: 1, ..rm };
    check_plain::<f64>(((333, 7, 410), (rm, rm, rm_pad1)), (1.0, 0.5), 15);
    check_plain::<f32>(((600, 5, 481), (rm, cm, rm)), (-0.5, 0.0), 16);
}

#[test]
fn few_rows_against_a_transposed_weight() {
    // `A W^T` with few rows for the depth: dot products of rows, no packing (gemm/dot.rs).
    // Ragged row and column groups, depths that leave a partial last vector, beta = 1 reading
    // C, a padded A, a column-major C (computed as C^T = W A^T, still few rows), 32 rows.
    let rm = ROW;
    let cm = Layout { pad: 1, ..COL };
    let rm_pad = Layout { pad: 3, ..rm };
    check_plain::<f32>(((8, 403, 37), (rm, cm, rm)), (1.0, 0.0), 40);
    check_plain::<f64>(((5, 260, 10), (rm_pad, cm, rm)), (-0.5, 1.0), 41);
    check_plain::<f32>(((3, 1000, 20), (rm, cm, cm)), (2.0, 0.5), 42);
    check_plain::<f32>(((32, 1300, 40), (rm, cm, rm)), (1.0, 0.0), 43);
    // Rows that fill their vectors (at least 16, 3/4 of the lanes) go to the micro-kernel as
    // C^T = W A^T instead, the others stay dot products; which is which depends on the path's
    // lanes, so every path sees both.
    check_plain::<f32>(((20, 900, 50), (rm, cm, rm)), (1.0, 1.0), 44);
    check_plain::<f64>(((16, 700, 33), (rm, cm, rm)), (0.5, 0.0), 45);
    check_plain::<f32>(((24, 1000, 45), (rm_pad, cm, cm)), (1.0, -1.0), 46);
    // Split across threads by blocks of columns: the same bits as on one thread.
    let (m, k, n) = (8, 2000, 600);
    let a: Vec<f32> = (0..m * k).map(|i| val(9, i) as f32).collect();
    let w: Vec<f32> = (0..n * k).map(|i| val(10, i) as f32).collect();
    let (one, many) = one_and_three_threads(|| {
        let mut c = vec![0.0f32; m * n];
        gemm::gemm(
            1.0,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&w, n, k).t(),
            0.0,
            MatMut::row_major(&mut c, m, n),
        );
        c
    });
    assert!(
        one.iter()
            .zip(&many)
            .all(|(x, y)| x.to_bits() == y.to_bits())
    );
}

#[test]
fn beta_zero_never_reads_c_and_alpha_zero_never_reads_ab() {
    for_each_path(|path| {
        // The micro-kernel, and the streaming path (3 rows).
        for (m, k, n) in [(19, 23, 37), (3, 23, 37)] {
            let a: Vec<f32> = (0..m * k).map(|i| val(7, i) as f32).collect();
            let b: Vec<f32> = (0..k * n).map(|i| val(8, i) as f32).collect();
            let mut c = vec![f32::NAN; m * n];
            gemm::gemm(
                1.0,
                MatRef::row_major(&a, m, k),
                MatRef::row_major(&b, k, n),
                0.0,
                MatMut::row_major(&mut c, m, n),
            );
            assert!(
                c.iter().all(|x| x.is_finite()),
                "{path}: NaN leaked from C with beta = 0 ({m} x {k} x {n})"
            );
        }
        let (m, k, n) = (19, 23, 37);

        let nan_a = vec![f64::NAN; m * k];
        let nan_b = vec![f64::INFINITY; k * n];
        let mut c: Vec<f64> = (0..m * n).map(|i| i as f64).collect();
        gemm::gemm(
            0.0,
            MatRef::row_major(&nan_a, m, k),
            MatRef::row_major(&nan_b, k, n),
            2.0,
            MatMut::row_major(&mut c, m, n),
        );
        assert!(
            c.iter().enumerate().all(|(i, &x)| x == 2.0 * i as f64),
            "{path}: alpha = 0 read A or B"
        );
    });
}

#[test]
fn nan_and_inf_in_inputs_propagate() {
    for_each_path(|path| {
        let (m, k, n) = (5, 7, 33);
        let mut a = vec![1.0f32; m * k];
        a[2 * k + 3] = f32::NAN;
        let b = vec![1.0f32; k * n];
        let mut c = vec![0.0f32; m * n];
        gemm::gemm(
            1.0,
            MatRef::row_major(&a, m, k),
            MatRef::row_major(&b, k, n),
            0.0,
            MatMut::row_major(&mut c, m, n),
        );
        for i in 0..m {
            for j in 0..n {
                assert_eq!(
                    c[i * n + j].is_nan(),
                    i == 2,
                    "{path}: C[{i}][{j}] = {}",
                    c[i * n + j]
                );
            }
        }
    });
}

fn act_ref(act: Activation) -> fn(f64) -> f64 {
    match act {
        Activation::Identity => |x| x,
        Activation::Relu => |x| x.max(0.0),
        Activation::Sigmoid => |x| 1.0 / (1.0 + (-x).exp()),
        Activation::Tanh => f64::tanh,
        Activation::Gelu => |x| 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
    }
}

/// erf to ~1e-15 relative (series below 3, continued fraction above): an independent reference.
fn erf(x: f64) -> f64 {
    let ax = x.abs();
    let r = if ax < 3.0 {
        let (mut term, mut sum, x2) = (ax, ax, ax * ax);
        for n in 1..200 {
            term *= -x2 / n as f64;
            let add = term / (2 * n + 1) as f64;
            sum += add;
            if add.abs() < 1e-17 * sum.abs() {
                break;
            }
        }
        2.0 / std::f64::consts::PI.sqrt() * sum
    } else {
        // erfc continued fraction (Lentz), converges fast for x >= 3.
        let mut f = ax;
        for n in (1..60).rev() {
            f = ax + (n as f64 / 2.0) / f;
        }
        1.0 - (-ax * ax).exp() / (std::f64::consts::PI.sqrt() * f)
    };
    r.copysign(x)
}

#[test]
fn fused_bias_activation_matches_gemm_then_activation() {
    let layouts = [
        ROW,
        Layout {
            pad: 2,
            offset: 1,
            ..COL
        },
    ];
    let acts = [
        Activation::Identity,
        Activation::Relu,
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
    ];
    // (7, 1300, 19) spans two depth blocks: bias and activation apply after the last only.
    for (t, &(m, k, n)) in [(1, 1, 1), (7, 1300, 19), (64, 64, 64), (33, 5, 70)]
        .iter()
        .enumerate()
    {
        for lc in layouts {
            for act in acts {
                let rm = layouts[0];
                let case = Case::<f32>::new(m, k, n, rm, rm, lc, 10 + t as u64);
                let bias: Vec<f32> = (0..n).map(|j| val(99, j) as f32).collect();
                for beta in [0.0f32, 0.75] {
                    for_each_path(|_| {
                        let got = case.run(
                            1.0,
                            beta,
                            Epilogue {
                                bias: Some(&bias),
                                act,
                            },
                        );
                        // The activations' own bound is 2 ULP (see crate::activation).
                        case.check(
                            &got,
                            1.0,
                            beta,
                            Some(&bias),
                            act_ref(act),
                            4.0 * f32::EPSILON as f64,
                        );
                    });
                }
            }
        }
    }
}

/// The bias and ReLU of the fused epilogue change nothing they should not, in full tiles and
/// edge tiles, with the bias per column (row-major C) and per row (column-major C):
/// `-AB = -0` plus a bias of `-0` stays `-0` (an absent bias must not add `+0`), and NaN passes
/// through ReLU.
#[test]
fn epilogue_keeps_negative_zero_and_nan() {
    let (m, k, n) = (37, 9, 70);
    let a = vec![0.0f32; m * k];
    let b: Vec<f32> = (0..k * n).map(|i| val(5, i) as f32).collect();
    let bias = vec![-0.0f32; m.max(n)];
    let mut a_nan = a.clone();
    a_nan[20 * k + 3] = f32::NAN; // row 20 of C becomes NaN
    for col_major in [false, true] {
        for_each_path(|path| {
            for (act, a) in [(Activation::Identity, &a), (Activation::Relu, &a_nan)] {
                let mut c = vec![1.0f32; m * n];
                let cm = if col_major {
                    MatMut::from_strides(&mut c, m, n, 1, m).unwrap()
                } else {
                    MatMut::row_major(&mut c, m, n)
                };
                gemm::try_gemm_with(
                    -1.0,
                    MatRef::row_major(a, m, k),
                    MatRef::row_major(&b, k, n),
                    0.0,
                    cm,
                    Epilogue {
                        bias: Some(&bias[..n]),
                        act,
                    },
                )
                .unwrap();
                for i in 0..m {
                    for j in 0..n {
                        let x = c[if col_major { j * m + i } else { i * n + j }];
                        let ok = if i == 20 && act == Activation::Relu {
                            x.is_nan()
                        } else if act == Activation::Relu {
                            x == 0.0
                        } else {
                            x.to_bits() == (-0.0f32).to_bits()
                        };
                        assert!(
                            ok,
                            "{path:?} {act:?} col-major {col_major}: C[{i}][{j}] = {x}"
                        );
                    }
                }
            }
        });
    }
}

/// Few rows of A against a row-major B take the streaming path (`gemm/stream.rs`): 2 to 4
/// rows at any size, 1 or 5 to 8 rows when B holds more than 4 MiB, up to 32 rows in passes of
/// 8 when B holds 4 MiB times the square of the passes. Depths not a multiple of its 8-row
/// blocks, columns not a multiple of its steps, A column-major or row-major, C with padded
/// rows, alpha and beta folded in, with and without an epilogue.
#[test]
fn streamed_products_match_the_reference() {
    let rm = ROW;
    let (am, cp) = (Layout { pad: 3, ..COL }, Layout { pad: 5, ..ROW });
    for (t, &m) in [1usize, 2, 3, 4, 5, 8].iter().enumerate() {
        let seed = 40 + 3 * t as u64;
        if m <= 4 {
            check_plain::<f32>(((m, 37, 70), (rm, rm, cp)), (1.0, 0.0), seed);
            check_plain::<f64>(((m, 8, 64), (am, rm, rm)), (-0.5, 2.0), seed + 1);
            check_plain::<f32>(((m, 1, 33), (am, rm, cp)), (2.0, 1.0), seed + 2);
            check_plain::<f32>(((m, 20, 3), (rm, rm, rm)), (1.0, 0.0), seed + 3);
            check_plain::<f64>(((m, 19, 21), (rm, rm, cp)), (1.0, -1.0), seed + 4);
        }
        // B above 4 MiB: 1030 x 1031 f32, 730 x 721 f64.
        check_plain::<f32>(((m, 1030, 1031), (rm, rm, cp)), (1.0, 0.5), seed);
        check_plain::<f64>(((m, 730, 721), (am, rm, rm)), (-1.5, 0.0), seed + 1);
    }
    // Two passes (12 rows: 6 + 6) over 16.8 MB of B, three (17 rows: 6 + 6 + 5) over 38 MB.
    check_plain::<f32>(((12, 2050, 2049), (rm, rm, cp)), (1.0, 0.5), 70);
    check_plain::<f32>(((17, 3100, 3090), (am, rm, rm)), (0.5, 0.0), 71);
    // The epilogue after the last depth block, bias per column.
    let case = Case::<f32>::new(3, 45, 77, am, rm, cp, 60);
    let bias: Vec<f32> = (0..77).map(|j| val(61, j) as f32).collect();
    for act in [Activation::Relu, Activation::Gelu] {
        for_each_path(|_| {
            let epi = Epilogue {
                bias: Some(&bias),
                act,
            };
            let got = case.run(1.0, 0.25, epi);
            case.check(
                &got,
                1.0,
                0.25,
                Some(&bias),
                act_ref(act),
                4.0 * f32::EPSILON as f64,
            );
        });
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    // B transposed (packed by the packing pass), row-major with whole panels (packed by the
    // first tile of each panel when sequential, by the pass when parallel), and 8 rows of A
    // against 4.2 MB of B (streamed, in one column block per thread).
    for (m, k, n, b_transposed) in [
        (300, 300, 260, true),
        (300, 300, 256, false),
        (8, 1030, 1031, false),
    ] {
        let a: Vec<f32> = (0..m * k).map(|i| val(1, i) as f32).collect();
        let b: Vec<f32> = (0..k * n).map(|i| val(2, i) as f32).collect();
        let bias: Vec<f32> = (0..n).map(|i| val(3, i) as f32).collect();
        let (one, many) = one_and_three_threads(|| {
            let mut c = vec![0.0f32; m * n];
            let bv = if b_transposed {
                MatRef::row_major(&b, n, k).t()
            } else {
                MatRef::row_major(&b, k, n)
            };
            gemm::gemm_bias_act(
                MatRef::row_major(&a, m, k),
                bv,
                &bias,
                Activation::Gelu,
                MatMut::row_major(&mut c, m, n),
            );
            c
        });
        assert!(
            one.iter()
                .zip(&many)
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "n = {n}, B transposed: {b_transposed}"
        );
    }
}

#[test]
fn batched_equals_one_at_a_time() {
    let (batch, m, k, n) = (5, 9, 13, 17);
    let a: Vec<f64> = (0..batch * m * k).map(|i| val(4, i)).collect();
    let b: Vec<f64> = (0..batch * k * n + 3).map(|i| val(5, i)).collect();
    let c0: Vec<f64> = (0..batch * m * n).map(|i| val(6, i)).collect();
    for policy in [Parallelism::Sequential, Parallelism::Always] {
        let mut c = c0.clone();
        with_parallelism(policy, || {
            gemm::gemm_batched(
                batch,
                0.5,
                Strided::new(MatRef::row_major(&a, m, k), m * k),
                Strided::new(MatRef::row_major(&b, k, n), k * n),
                2.0,
                Strided::new(MatMut::row_major(&mut c, m, n), m * n),
            )
        });
        for t in 0..batch {
            let mut want = c0[t * m * n..(t + 1) * m * n].to_vec();
            gemm::gemm(
                0.5,
                MatRef::row_major(&a[t * m * k..], m, k),
                MatRef::row_major(&b[t * k * n..], k, n),
                2.0,
                MatMut::row_major(&mut want, m, n),
            );
            assert_eq!(&c[t * m * n..(t + 1) * m * n], &want[..], "batch entry {t}");
        }
    }
}

/// A batch whose last matrix reaches past its slice is `OutOfBounds` (naming the elements
/// needed and held), a C stride shorter than one C (entries would overlap) is `Invalid`, and
/// neither writes anything.
#[test]
fn batched_errors_name_the_reach_and_the_overlap() {
    let (m, k, n) = (2, 3, 2);
    let a = [1.0f32; 3 * 6];
    let b = [1.0f32; 3 * 6];
    let mut c = [7.0f32; 3 * 4];
    // Three A's 6 apart need 2 * 7 + 6 = 20 elements; the slice holds 18.
    let err = gemm::try_gemm_batched(
        3,
        1.0,
        Strided::new(MatRef::row_major(&a, m, k), 7),
        Strided::new(MatRef::row_major(&b, k, n), 6),
        0.0,
        Strided::new(MatMut::row_major(&mut c, m, n), 4),
    )
    .unwrap_err();
    assert_eq!(
        err,
        KernelError::OutOfBounds {
            op: "gemm_batched",
            needed: 20,
            len: 18
        }
    );
    let err = gemm::try_gemm_batched(
        3,
        1.0,
        Strided::new(MatRef::row_major(&a, m, k), 6),
        Strided::new(MatRef::row_major(&b, k, n), 6),
        0.0,
        Strided::new(MatMut::row_major(&mut c, m, n), 3),
    )
    .unwrap_err();
    assert!(
        matches!(&err, KernelError::Invalid { op: "gemm_batched", reason } if reason.contains("overlap")),
        "{err:?}"
    );
    assert!(c.iter().all(|&v| v == 7.0), "an error wrote into C");
}

#[test]
fn errors_name_both_shapes() {
    let a = [0.0f32; 6];
    let b = [0.0f32; 8];
    let mut c = [0.0f32; 8];
    let err = gemm::try_gemm(
        1.0,
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&b, 4, 2),
        0.0,
        MatMut::row_major(&mut c, 2, 2),
    )
    .unwrap_err();
    assert_eq!(
        err,
        KernelError::ShapeMismatch {
            op: "gemm",
            lhs: (2, 3),
            rhs: (4, 2)
        }
    );
    assert_eq!(err.to_string(), "gemm: shape mismatch: 2x3 and 4x2");
    let err = gemm::try_gemm(
        1.0,
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&b[..6], 3, 2),
        0.0,
        MatMut::row_major(&mut c, 4, 2),
    )
    .unwrap_err();
    assert_eq!(
        err,
        KernelError::ShapeMismatch {
            op: "gemm",
            lhs: (2, 2),
            rhs: (4, 2)
        }
    );
    let err = gemm::try_gemm_with(
        1.0,
        MatRef::row_major(&a, 2, 3),
        MatRef::row_major(&b[..6], 3, 2),
        0.0,
        MatMut::row_major(&mut c[..4], 2, 2),
        Epilogue::bias_act(&[1.0; 3], Activation::Relu),
    )
    .unwrap_err();
    assert_eq!(
        err,
        KernelError::LengthMismatch {
            op: "gemm",
            expected: 2,
            got: 3
        }
    );
    assert!(matches!(
        MatRef::from_strides(&a, 3, 3, 3, 1),
        Err(KernelError::OutOfBounds {
            needed: 9,
            len: 6,
            ..
        })
    ));
    assert!(matches!(
        MatMut::from_strides(&mut c, 2, 2, 1, 1),
        Err(KernelError::Invalid { .. })
    ));
    assert!(MatMut::from_strides(&mut c, 1, 8, 0, 1).is_ok());
    let r = std::panic::catch_unwind(|| {
        let mut c = [0.0f32; 4];
        gemm::gemm(
            1.0,
            MatRef::row_major(&a, 2, 3),
            MatRef::row_major(&a, 2, 3),
            0.0,
            MatMut::row_major(&mut c, 2, 2),
        );
    });
    let msg = r.unwrap_err().downcast::<String>().unwrap();
    assert!(msg.contains("2x3 and 2x3"), "{msg}");
}

#[test]
fn matrix_vector_shapes_take_every_layout() {
    // n == 1 or m == 1 go to the dot/axpy path when the vector has unit stride; every layout
    // combination must agree with the reference either way.
    let layouts = [
        ROW,
        Layout { offset: 1, ..COL },
        Layout {
            pad: 2,
            offset: 2,
            ..ROW
        },
        Layout { pad: 1, ..COL },
    ];
    for &(m, k, n) in &[
        (37, 300, 1),
        (1, 300, 45),
        (1, 1, 9),
        (8, 1, 1),
        (1, 5000, 1),
    ] {
        for la in layouts {
            for lb in layouts {
                for lc in layouts {
                    check_plain::<f64>(((m, k, n), (la, lb, lc)), (1.5, 0.0), 40);
                    check_plain::<f32>(((m, k, n), (la, lb, lc)), (-0.5, 2.0), 41);
                }
            }
        }
    }
}

/// `copy_matrix` moves every element exactly (bit patterns, NaN included), for any pair of
/// layouts, on every path; sizes straddle the register blocks (16 x 16 f32, 8 x 8 f64 on
/// AVX-512), so the transposed block copy and its tails both run.
fn check_copy<T: Element>(m: usize, n: usize, ls: Layout, ld: Layout, seed: u64) {
    let mut src: Vec<T> = (0..ls.len(m, n))
        .map(|i| T::from_f64(val(seed, i)))
        .collect();
    if let Some(x) = src.get_mut(ls.offset) {
        *x = T::from_f64(f64::NAN);
    }
    let dst0: Vec<T> = (0..ld.len(m, n))
        .map(|i| T::from_f64(val(seed + 1, i)))
        .collect();
    for_each_path(|path| {
        let mut dst = dst0.clone();
        let (rs, cs) = ls.strides(m, n);
        let sv = MatRef::from_strides(&src[ls.offset..], m, n, rs, cs).unwrap();
        let (rs, cs) = ld.strides(m, n);
        let dv = MatMut::from_strides(&mut dst[ld.offset..], m, n, rs, cs).unwrap();
        gemm::copy_matrix(sv, dv);
        let mut want = dst0.clone();
        for i in 0..m {
            for j in 0..n {
                want[ld.index(m, n, i, j)] = src[ls.index(m, n, i, j)];
            }
        }
        let bits = |v: &[T]| v.iter().map(|x| x.to_bits_u64()).collect::<Vec<_>>();
        assert_eq!(
            bits(&dst),
            bits(&want),
            "{m}x{n} {ls:?} -> {ld:?} on {path}"
        );
    });
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn copy_matrix_moves_every_element(m in 0usize..40, n in 0usize..40, ls in layout(true),
        ld in layout(true), seed in any::<u64>()) {
        check_copy::<f32>(m, n, ls, ld, seed);
        check_copy::<f64>(m, n, ls, ld, seed);
    }
}

#[test]
fn copy_matrix_transposes_whole_blocks_and_names_shapes() {
    let (rm, cm) = (ROW, COL);
    // Column-major source into row-major destination: the register-block path.
    check_copy::<f32>(48, 35, cm, rm, 1);
    check_copy::<f64>(17, 40, Layout { pad: 5, ..cm }, Layout { pad: 2, ..rm }, 2);
    let a = [0.0f32; 6];
    let mut b = [0.0f32; 6];
    let err = gemm::try_copy_matrix(MatRef::row_major(&a, 2, 3), MatMut::row_major(&mut b, 3, 2));
    assert_eq!(
        err.unwrap_err().to_string(),
        "copy_matrix: shape mismatch: 2x3 and 3x2"
    );
}
