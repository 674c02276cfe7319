//! Criterion benches of nabla-kernels, each beside a same-run reference, followed by a summary
//! table of throughput, fraction of the measured roofline, and ratio to the reference.
//!
//! `cargo bench -p nabla-benches` runs everything (about five minutes);
//! `cargo bench -p nabla-benches -- gemm` runs one group. Everything is single-threaded
//! (`Parallelism::Sequential`): the figures rate one core against that core's roofline.

use criterion::{BenchmarkId, Criterion, Throughput};
use nabla_benches::roofline::Roofline;
use nabla_benches::summary::{self, Dram, Row, Work};
use nabla_kernels::Element;
use nabla_kernels::gemm::{self, Activation, Epilogue, MatMut, MatRef};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use std::hint::black_box;
use std::time::Duration;

fn data<T: Element>(len: usize, seed: u64) -> Vec<T> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            T::from_f64((x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0)
        })
        .collect()
}

/// GEMM shapes: (label, m, k, n, B transposed).
const GEMM_SHAPES: &[(&str, usize, usize, usize, bool)] = &[
    ("64", 64, 64, 64, false),
    ("256", 256, 256, 256, false),
    ("512", 512, 512, 512, false),
    ("1024", 1024, 1024, 1024, false),
    ("mlp_256x784x512", 256, 784, 512, false),
    ("mlp_256x784x512_bt", 256, 784, 512, true),
];

fn bench_gemm<T: Element>(c: &mut Criterion, rows: &mut Vec<Row>) {
    let group_name = format!("gemm_{}", T::NAME);
    let mut g = c.benchmark_group(&group_name);
    for &(label, m, k, n, bt) in GEMM_SHAPES {
        let a = data::<T>(m * k, 1);
        let b = data::<T>(k * n, 2);
        let mut out = vec![T::ZERO; m * n];
        let flops = 2.0 * (m * n * k) as f64;
        g.throughput(Throughput::Elements(flops as u64));
        let bv = if bt {
            MatRef::row_major(&b, n, k).t()
        } else {
            MatRef::row_major(&b, k, n)
        };
        g.bench_function(BenchmarkId::new("nabla", label), |bench| {
            bench.iter(|| {
                gemm::gemm(
                    T::ONE,
                    MatRef::row_major(&a, m, k),
                    bv,
                    T::ZERO,
                    MatMut::row_major(&mut out, m, n),
                )
            })
        });
        let (rsb, csb) = if bt { (1, k as isize) } else { (n as isize, 1) };
        g.bench_function(BenchmarkId::new("matrixmultiply", label), |bench| {
            bench.iter(|| {
                // SAFETY: the pointers and strides describe the live m x k, k x n and m x n buffers.
                unsafe {
                    T::reference_gemm(
                        m,
                        k,
                        n,
                        T::ONE,
                        a.as_ptr(),
                        k as isize,
                        1,
                        b.as_ptr(),
                        rsb,
                        csb,
                        T::ZERO,
                        out.as_mut_ptr(),
                        n as isize,
                        1,
                    )
                }
            })
        });
        rows.push(Row {
            label: format!("gemm {} {}", T::NAME, label),
            nabla: format!("{group_name}/nabla/{label}"),
            reference: Some(format!("{group_name}/matrixmultiply/{label}")),
            work: Work::Flops { flops, ty: T::NAME },
        });
    }
    // The fused epilogue against plain GEMM at 512^2 (ratio < 1 is its cost).
    let (m, k, n) = (512, 512, 512);
    let (a, b, bias) = (data::<T>(m * k, 3), data::<T>(k * n, 4), data::<T>(n, 5));
    let mut out = vec![T::ZERO; m * n];
    for (name, act) in [
        ("bias_identity", Activation::Identity),
        ("bias_relu", Activation::Relu),
        ("bias_sigmoid", Activation::Sigmoid),
        ("bias_tanh", Activation::Tanh),
        ("bias_gelu", Activation::Gelu),
    ] {
        g.bench_function(BenchmarkId::new("fused", name), |bench| {
            bench.iter(|| {
                gemm::try_gemm_with(
                    T::ONE,
                    MatRef::row_major(&a, m, k),
                    MatRef::row_major(&b, k, n),
                    T::ZERO,
                    MatMut::row_major(&mut out, m, n),
                    Epilogue::bias_act(&bias, act),
                )
                .unwrap()
            })
        });
        rows.push(Row {
            label: format!("gemm {} 512 + {name} (vs plain)", T::NAME),
            nabla: format!("{group_name}/fused/{name}"),
            reference: Some(format!("{group_name}/nabla/512")),
            work: Work::Flops {
                flops: 2.0 * (m * n * k) as f64,
                ty: T::NAME,
            },
        });
    }
    g.finish();
}

/// Matrix-vector shapes: (label, rows of A, cols of A, A transposed). `y = A x` reads A's rows
/// (the dot form), `y = A^T x` its columns (the axpy form); A is row-major, L2-resident.
const GEMV_SHAPES: &[(&str, usize, usize, bool)] = &[
    ("1000x100", 1000, 100, false),
    ("1000x100_t", 1000, 100, true),
    ("1000x500", 1000, 500, false),
    ("1000x500_t", 1000, 500, true),
];

/// GEMM's matrix-vector fast path (`n == 1`) against matrixmultiply on the same product.
fn bench_gemv<T: Element>(c: &mut Criterion, rows: &mut Vec<Row>) {
    let group_name = format!("gemv_{}", T::NAME);
    let mut g = c.benchmark_group(&group_name);
    for &(label, r, k, t) in GEMV_SHAPES {
        let a = data::<T>(r * k, 6);
        // op(A) is m x kk: A itself, or its transpose (a strided view, never a copy).
        let (m, kk, rsa, csa) = if t { (k, r, 1, k) } else { (r, k, k, 1) };
        let x = data::<T>(kk, 7);
        let mut y = vec![T::ZERO; m];
        let flops = 2.0 * (m * kk) as f64;
        g.throughput(Throughput::Elements(flops as u64));
        let av = MatRef::from_strides(&a, m, kk, rsa, csa).expect("A view");
        g.bench_function(BenchmarkId::new("nabla", label), |bench| {
            bench.iter(|| {
                gemm::gemm(
                    T::ONE,
                    av,
                    MatRef::row_major(&x, kk, 1),
                    T::ZERO,
                    MatMut::row_major(&mut y, m, 1),
                )
            })
        });
        g.bench_function(BenchmarkId::new("matrixmultiply", label), |bench| {
            bench.iter(|| {
                // SAFETY: the pointers and strides describe the live m x kk view of `a`, the kk
                // elements of `x` and the m of `y`.
                unsafe {
                    T::reference_gemm(
                        m,
                        kk,
                        1,
                        T::ONE,
                        a.as_ptr(),
                        rsa as isize,
                        csa as isize,
                        x.as_ptr(),
                        1,
                        1,
                        T::ZERO,
                        y.as_mut_ptr(),
                        1,
                        1,
                    )
                }
            })
        });
        rows.push(Row {
            label: format!("gemv {} {}", T::NAME, label),
            nabla: format!("{group_name}/nabla/{label}"),
            reference: Some(format!("{group_name}/matrixmultiply/{label}")),
            work: Work::Flops { flops, ty: T::NAME },
        });
    }
    g.finish();
}

/// Sizes for streaming kernels: L2-resident (128 KiB of f32) and DRAM-sized (2^24).
const STREAM: &[(&str, usize, bool)] = &[("l2_32k", 1 << 15, false), ("dram_16m", 1 << 24, true)];

fn dram(is_dram: bool, kind: Dram) -> Dram {
    if is_dram { kind } else { Dram::No }
}

fn bench_reductions(c: &mut Criterion, rows: &mut Vec<Row>) {
    let mut g = c.benchmark_group("reduce_f32");
    for &(label, len, is_dram) in STREAM {
        let x = data::<f32>(len, 6);
        let y = data::<f32>(len, 7);
        g.throughput(Throughput::Elements(len as u64));
        g.bench_function(BenchmarkId::new("sum", label), |b| {
            b.iter(|| nabla_kernels::sum(black_box(&x)))
        });
        g.bench_function(BenchmarkId::new("sum_scalar", label), |b| {
            b.iter(|| black_box(&x).iter().fold(0.0f32, |s, &v| s + v))
        });
        g.bench_function(BenchmarkId::new("dot", label), |b| {
            b.iter(|| nabla_kernels::dot(black_box(&x), &y))
        });
        g.bench_function(BenchmarkId::new("dot_scalar", label), |b| {
            b.iter(|| {
                black_box(&x)
                    .iter()
                    .zip(&y)
                    .fold(0.0f32, |s, (&u, &v)| s + u * v)
            })
        });
        for (op, bytes) in [("sum", 4.0), ("dot", 8.0)] {
            rows.push(Row {
                label: format!("{op} f32 {label}"),
                nabla: format!("reduce_f32/{op}/{label}"),
                reference: Some(format!("reduce_f32/{op}_scalar/{label}")),
                work: Work::Elements {
                    n: len as f64,
                    bytes: bytes * len as f64,
                    dram: dram(is_dram, Dram::Read),
                },
            });
        }
    }
    g.finish();
}

/// A slice activation kernel and the scalar `std` form it is compared with.
type Activation32 = (&'static str, fn(&[f32], &mut [f32]), fn(f32) -> f32);

/// Activations (y = f(x)) against a scalar loop over the `std` function.
fn bench_activations(c: &mut Criterion, rows: &mut Vec<Row>) {
    use nabla_kernels::activation as act;
    fn sigmoid(x: f32) -> f32 {
        1.0 / (1.0 + (-x).exp())
    }
    fn gelu_tanh(x: f32) -> f32 {
        0.5 * x * (1.0 + (0.797_884_6 * (x + 0.044_715 * x * x * x)).tanh())
    }
    let kernels: [Activation32; 4] = [
        ("exp", act::exp, f32::exp),
        ("sigmoid", act::sigmoid, sigmoid),
        ("tanh", act::tanh, f32::tanh),
        ("gelu_tanh", act::gelu_tanh, gelu_tanh),
    ];
    let mut g = c.benchmark_group("activation_f32");
    for &(label, len, is_dram) in STREAM {
        let x: Vec<f32> = data::<f32>(len, 8).iter().map(|v| v * 8.0).collect();
        let mut y = vec![0.0f32; len];
        g.throughput(Throughput::Elements(len as u64));
        for (name, kernel, scalar) in kernels {
            g.bench_function(BenchmarkId::new(name, label), |b| {
                b.iter(|| kernel(black_box(&x), &mut y))
            });
            g.bench_function(BenchmarkId::new(format!("{name}_scalar"), label), |b| {
                b.iter(|| {
                    for (o, &v) in y.iter_mut().zip(black_box(&x)) {
                        *o = scalar(v);
                    }
                })
            });
            rows.push(Row {
                label: format!("{name} f32 {label}"),
                nabla: format!("activation_f32/{name}/{label}"),
                reference: Some(format!("activation_f32/{name}_scalar/{label}")),
                work: Work::Elements {
                    n: len as f64,
                    bytes: 8.0 * len as f64,
                    dram: dram(is_dram, Dram::ReadWrite),
                },
            });
        }
    }
    g.finish();
}

/// Softmax and logsumexp over rows of 1024 against a scalar two-pass loop.
fn bench_softmax(c: &mut Criterion, rows: &mut Vec<Row>) {
    let cols = 1024;
    let mut g = c.benchmark_group("softmax_f32");
    for &(label, len, is_dram) in STREAM {
        let r = len / cols;
        let x: Vec<f32> = data::<f32>(len, 9).iter().map(|v| v * 20.0).collect();
        let mut y = vec![0.0f32; len];
        let mut lse = vec![0.0f32; r];
        g.throughput(Throughput::Elements(len as u64));
        g.bench_function(BenchmarkId::new("softmax", label), |b| {
            b.iter(|| nabla_kernels::softmax::softmax(black_box(&x), r, cols, cols, &mut y))
        });
        g.bench_function(BenchmarkId::new("softmax_scalar", label), |b| {
            b.iter(|| {
                for (xr, yr) in black_box(&x)
                    .chunks_exact(cols)
                    .zip(y.chunks_exact_mut(cols))
                {
                    let m = xr.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
                    let mut s = 0.0;
                    for (o, &v) in yr.iter_mut().zip(xr) {
                        *o = (v - m).exp();
                        s += *o;
                    }
                    for o in yr.iter_mut() {
                        *o /= s;
                    }
                }
            })
        });
        g.bench_function(BenchmarkId::new("logsumexp", label), |b| {
            b.iter(|| nabla_kernels::softmax::logsumexp(black_box(&x), r, cols, cols, &mut lse))
        });
        g.bench_function(BenchmarkId::new("logsumexp_scalar", label), |b| {
            b.iter(|| {
                for (xr, o) in black_box(&x).chunks_exact(cols).zip(lse.iter_mut()) {
                    let m = xr.iter().fold(f32::NEG_INFINITY, |a, &v| a.max(v));
                    *o = m + xr.iter().map(|&v| (v - m).exp()).sum::<f32>().ln();
                }
            })
        });
        for (name, bytes, kind) in [
            ("softmax", 8.0, Dram::ReadWrite),
            ("logsumexp", 4.0, Dram::Read),
        ] {
            rows.push(Row {
                label: format!("{name} rows f32 {label}"),
                nabla: format!("softmax_f32/{name}/{label}"),
                reference: Some(format!("softmax_f32/{name}_scalar/{label}")),
                work: Work::Elements {
                    n: len as f64,
                    bytes: bytes * len as f64,
                    dram: dram(is_dram, kind),
                },
            });
        }
    }
    g.finish();
}

/// `log(1 + exp(-y w x))`: the trainer issue's elementwise logistic loss.
struct Logistic;
impl nabla_kernels::fused::MapFn for Logistic {
    const ARITY: usize = 3;
    #[inline(always)]
    fn eval<R: nabla_kernels::fused::Real>(&self, a: &[R]) -> R {
        (-(a[2] * a[0] * a[1])).softplus()
    }
}

/// The logistic loss and its gradient in `w` at n = 10^7 (f32, 16 bytes per element against
/// DRAM copy bandwidth): the fused kernel against a plain scalar loop computing the same value
/// and gradient.
fn bench_fused(c: &mut Criterion, rows: &mut Vec<Row>) {
    let n = 10_000_000;
    let w = data::<f32>(n, 41);
    let x = data::<f32>(n, 42);
    let y: Vec<f32> = data::<f32>(n, 43)
        .into_iter()
        .map(|v| if v < 0.0 { -1.0 } else { 1.0 })
        .collect();
    let mut gw = vec![0.0f32; n];
    let mut g = c.benchmark_group("fused_f32");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("nabla", "logistic_grad_1e7"), |b| {
        b.iter(|| {
            nabla_kernels::fused::map_sum(
                &Logistic,
                &[&w, &x, &y],
                &mut [Some(&mut gw), None, None],
            )
        })
    });
    g.bench_function(BenchmarkId::new("scalar_loop", "logistic_grad_1e7"), |b| {
        b.iter(|| {
            let mut l = 0.0f32;
            for i in 0..n {
                let z = -y[i] * w[i] * x[i];
                l += z.max(0.0) + (-z.abs()).exp().ln_1p();
                gw[i] = -y[i] * x[i] / (1.0 + (-z).exp());
            }
            black_box(l)
        })
    });
    g.finish();
    rows.push(Row {
        label: "logistic loss + gradient f32 1e7 (fused)".to_string(),
        nabla: "fused_f32/nabla/logistic_grad_1e7".to_string(),
        reference: Some("fused_f32/scalar_loop/logistic_grad_1e7".to_string()),
        work: Work::Elements {
            n: n as f64,
            bytes: 16.0 * n as f64,
            dram: Dram::ReadWrite,
        },
    });
}

/// Output placement: exp, add and softmax rows (1024 wide) on 128 KiB of `f32` in L2, with the
/// output at the input's offset modulo 4 KiB (`same_offset`) and 48 bytes ahead of it
/// (`48B_ahead`, where a loop that reads then writes stalls on 4K aliasing unless it runs
/// descending: see `nabla_kernels`' `sweep` module). The two should be close.
fn bench_output_offset(c: &mut Criterion) {
    let n = 32 * 1024;
    let mut arena = vec![0.0f32; 4 * n + 2048];
    let page = (4096 - arena.as_ptr() as usize % 4096) % 4096 / 4;
    let x = data::<f32>(n, 10);
    arena[page..page + n].copy_from_slice(&x);
    let mut g = c.benchmark_group("output_offset_f32");
    g.throughput(Throughput::Elements(n as u64));
    for (label, ahead) in [("same_offset", 0usize), ("48B_ahead", 48)] {
        // The output starts 2 pages after the input ends, plus `ahead` bytes.
        let (head, rest) = arena.split_at_mut(page + n + 2048 + ahead / 4);
        let (x, y) = (&head[page..page + n], &mut rest[..n]);
        g.bench_function(BenchmarkId::new("exp", label), |b| {
            b.iter(|| nabla_kernels::activation::exp(black_box(x), y))
        });
        g.bench_function(BenchmarkId::new("add", label), |b| {
            b.iter(|| nabla_kernels::add(black_box(x), black_box(x), y))
        });
        g.bench_function(BenchmarkId::new("softmax", label), |b| {
            b.iter(|| nabla_kernels::softmax(black_box(x), n / 1024, 1024, 1024, y))
        });
    }
    g.finish();
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&summary::criterion_dir())
        .sample_size(20)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    // The roofline is measured before and after the suite and the larger figure kept: on a shared
    // machine a limit can only be under-measured (another process took the core), never over.
    let before = Roofline::measure(false);
    let mut rows = Vec::new();
    with_parallelism(Parallelism::Sequential, || {
        bench_gemm::<f32>(&mut c, &mut rows);
        bench_gemm::<f64>(&mut c, &mut rows);
        bench_gemv::<f32>(&mut c, &mut rows);
        bench_gemv::<f64>(&mut c, &mut rows);
        bench_reductions(&mut c, &mut rows);
        bench_activations(&mut c, &mut rows);
        bench_softmax(&mut c, &mut rows);
        bench_fused(&mut c, &mut rows);
        bench_output_offset(&mut c);
    });
    c.final_summary();
    let roof = before.max(&Roofline::measure(false));
    println!(
        "\n{}",
        summary::render(&rows, &roof, &summary::criterion_dir())
    );
}
