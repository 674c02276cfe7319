//! `gemm_vs_reference`: GEMM on every path against an `f64` reference.

use crate::{Dist, El, Input, Specials, buffer, mismatch, on, paths, same, scalar};
use nabla_kernels::gemm::{Activation, Epilogue, MatMut, MatRef, try_gemm, try_gemm_with};
use nabla_kernels::parallel::{Parallelism, with_parallelism};

/// A strided matrix inside a buffer: offset (alignment), strides, and the elements outside the
/// view set to a poison value.
struct Layout {
    off: usize,
    rs: usize,
    cs: usize,
    len: usize,
}

impl Layout {
    fn decode(inp: &mut Input, rows: usize, cols: usize) -> Layout {
        let kind = inp.u8();
        let pad = inp.upto(5);
        let off = inp.upto(7);
        let (rs, cs) = if kind.is_multiple_of(2) {
            (cols + pad, 1)
        } else {
            (1, rows + pad)
        };
        let span = if rows == 0 || cols == 0 {
            0
        } else {
            (rows - 1) * rs + (cols - 1) * cs + 1
        };
        Layout {
            off,
            rs,
            cs,
            len: off + span + inp.upto(3),
        }
    }
    fn at(&self, i: usize, j: usize) -> usize {
        self.off + i * self.rs + j * self.cs
    }
    fn inside(&self, rows: usize, cols: usize) -> Vec<bool> {
        let mut v = vec![false; self.len];
        for i in 0..rows {
            for j in 0..cols {
                v[self.at(i, j)] = true;
            }
        }
        v
    }
}

/// A matrix of decoded values laid out as `l`, NaN outside the view.
fn matrix<T: El>(inp: &mut Input, l: &Layout, rows: usize, cols: usize, dist: Dist) -> Vec<T> {
    let vals: Vec<T> = buffer(
        inp,
        rows * cols,
        dist,
        Specials {
            non_finite: true,
            huge: false,
        },
    );
    let mut m = vec![T::NAN; l.len];
    for i in 0..rows {
        for j in 0..cols {
            m[l.at(i, j)] = vals[i * cols + j];
        }
    }
    m
}

fn act_f64(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Identity => z,
        Activation::Relu => {
            if z.is_nan() {
                z
            } else {
                z.max(0.0)
            }
        }
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Tanh => z.tanh(),
        // Not decoded (std has no erf for an f64 reference).
        Activation::Gelu => unreachable!(),
    }
}

/// GEMM `C = act(alpha op(A) op(B) + beta C + bias)` with decoded shapes, strides, offsets,
/// scalars, epilogue and special values, on every SIMD path, against an `f64` reference within
/// the documented bound `k eps sum |A||B|` (plus the epilogue's). With `beta = 0`, C starts full
/// of NaN, which must not leak; elements around the views are poison that must be neither read
/// (A, B) nor written (C). On the widest path the result on rayon's pool must have the same
/// bits as on one thread.
pub fn gemm_vs_reference(data: &[u8]) {
    let mut inp = Input::new(data);
    if inp.bool() {
        run::<f32>(&mut inp, 8);
    } else {
        run::<f64>(&mut inp, 30);
    }
}

fn run<T: El>(inp: &mut Input, max_exp: i32) {
    let m = inp.len(24, 100);
    let k = inp.len(24, 520);
    let n = inp.len(24, 100);
    let la = Layout::decode(inp, m, k);
    let lb = Layout::decode(inp, k, n);
    let lc = Layout::decode(inp, m, n);
    let dist = Dist::decode(inp, max_exp);
    let a: Vec<T> = matrix(inp, &la, m, k, dist);
    let b: Vec<T> = matrix(inp, &lb, k, n, dist);
    let alpha: T = scalar(inp, true);
    let beta: T = scalar(inp, true);
    let act = match inp.u8() % 8 {
        4 => Some(Activation::Identity),
        5 => Some(Activation::Relu),
        6 => Some(Activation::Sigmoid),
        7 => Some(Activation::Tanh),
        _ => None,
    };
    let bias: Vec<T> = buffer(
        inp,
        n,
        dist,
        Specials {
            non_finite: true,
            huge: false,
        },
    );
    let c0: Vec<T> = if beta == T::ZERO {
        vec![T::NAN; lc.len]
    } else {
        let mut c: Vec<T> = matrix(inp, &lc, m, n, dist);
        // Poison around C's view: a finite sentinel that must survive.
        let inside = lc.inside(m, n);
        for (v, &ins) in c.iter_mut().zip(&inside) {
            if !ins {
                *v = T::from_f64(-12345.0);
            }
        }
        c
    };
    let threads_check = inp.bool();
    let shape_check = inp.bool();

    // The f64 reference and its error bound, per element of C.
    let eps = T::EPSILON.to_f64();
    let min_sub = T::MIN_POSITIVE.to_f64() * eps;
    let mut want = vec![0.0f64; m * n];
    let mut tol = vec![0.0f64; m * n];
    let skip_product = alpha == T::ZERO || k == 0;
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut sabs) = (0.0f64, 0.0f64);
            if !skip_product {
                for p in 0..k {
                    let x = a[la.at(i, p)].to_f64() * b[lb.at(p, j)].to_f64();
                    s += x;
                    sabs += x.abs();
                }
            }
            let al = alpha.to_f64();
            let mut z = if skip_product { 0.0 } else { al * s };
            let mut zabs = if skip_product { 0.0 } else { al.abs() * sabs };
            if beta != T::ZERO {
                let bc = beta.to_f64() * c0[lc.at(i, j)].to_f64();
                z += bc;
                zabs += bc.abs();
            }
            if let Some(_act) = act {
                let bj = bias[j].to_f64();
                z += bj;
                zabs += bj.abs();
            }
            let y = act.map_or(z, |a| act_f64(a, z));
            let tz = 2.0 * (k as f64 + 3.0) * eps * zabs + 4.0 * (k as f64 + 4.0) * min_sub;
            want[i * n + j] = y;
            tol[i * n + j] = tz + 3.0 * eps * y.abs();
        }
    }

    let call = |c: &mut [T]| {
        let av = MatRef::from_strides(&a[la.off..], m, k, la.rs, la.cs).expect("A view");
        let bv = MatRef::from_strides(&b[lb.off..], k, n, lb.rs, lb.cs).expect("B view");
        let cv = MatMut::from_strides(&mut c[lc.off..], m, n, lc.rs, lc.cs).expect("C view");
        let epi = match act {
            Some(act) => Epilogue::bias_act(&bias, act),
            None => Epilogue::none(),
        };
        try_gemm_with(alpha, av, bv, beta, cv, epi).expect("shapes agree");
    };
    let what = format!(
        "gemm {} m={m} k={k} n={n} alpha={alpha} beta={beta} act={act:?} strides A({},{}) B({},{}) C({},{}) offsets {},{},{}",
        T::NAME,
        la.rs,
        la.cs,
        lb.rs,
        lb.cs,
        lc.rs,
        lc.cs,
        la.off,
        lb.off,
        lc.off
    );
    let inside_c = lc.inside(m, n);
    let all = paths();
    for &path in &all {
        let mut c = c0.clone();
        on(path, || {
            with_parallelism(Parallelism::Sequential, || call(&mut c))
        });
        for i in 0..m {
            for j in 0..n {
                let got = c[lc.at(i, j)].to_f64();
                let (w, t) = (want[i * n + j], tol[i * n + j]);
                let ok = if w.is_nan() {
                    got.is_nan()
                } else if w.is_infinite() || got.is_infinite() {
                    got == w
                } else {
                    !got.is_nan() && (got - w).abs() <= t
                };
                if !ok {
                    mismatch(
                        &what,
                        path,
                        format!("C[{i}][{j}] = {got:e}, reference {w:e} (tolerance {t:e})"),
                    );
                }
            }
        }
        for (idx, (&ins, (&now, &before))) in inside_c.iter().zip(c.iter().zip(&c0)).enumerate() {
            if !ins && !same(now, before) {
                mismatch(
                    &what,
                    path,
                    format!("wrote outside C's view at buffer index {idx}: {before} -> {now}"),
                );
            }
        }
        if threads_check && Some(&path) == all.last() {
            let mut c2 = c0.clone();
            on(path, || {
                with_parallelism(Parallelism::Always, || call(&mut c2))
            });
            if let Some(idx) = (0..c.len()).find(|&x| !same(c[x], c2[x])) {
                mismatch(
                    &what,
                    path,
                    format!(
                        "1 thread and rayon differ at buffer index {idx}: {} vs {}",
                        c[idx], c2[idx]
                    ),
                );
            }
        }
    }
    if shape_check && m > 0 {
        // C one row short: an error, not a panic or a write out of bounds.
        let mut c = vec![T::ZERO; (m - 1) * n];
        let r = try_gemm(
            alpha,
            MatRef::from_strides(&a[la.off..], m, k, la.rs, la.cs).expect("A view"),
            MatRef::from_strides(&b[lb.off..], k, n, lb.rs, lb.cs).expect("B view"),
            beta,
            MatMut::row_major(&mut c, m - 1, n),
        );
        assert!(r.is_err(), "{what}: a {}x{n} C was accepted", m - 1);
    }
}
