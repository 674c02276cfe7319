//! The roofline of this core, measured rather than assumed.
//!
//! * Peak FMA throughput: independent chains of vector FMAs (more chains than
//!   latency x throughput needs), f32 and f64, on the widest path the CPU has.
//! * Memory bandwidth: a vector sum over a buffer (read) and a scaled copy (read + write), at an
//!   L2-resident size and a DRAM-sized one (far beyond the last-level cache).
//!
//! Everything runs on the calling thread: single-core figures, like the kernels they rate.

use std::hint::black_box;
use std::time::Instant;

/// Measured single-core limits.
#[derive(Clone, Copy, Debug)]
pub struct Roofline {
    /// Peak f32 FMA throughput, GFLOP/s (one FMA = 2 flops).
    pub peak_f32_gflops: f64,
    /// Peak f64 FMA throughput, GFLOP/s.
    pub peak_f64_gflops: f64,
    /// Read bandwidth with an L2-resident buffer (256 KiB), GB/s.
    pub l2_read_gbs: f64,
    /// Read bandwidth with a DRAM-sized buffer (2^24 x 4 bytes = 64 MiB, twice the L3 of the
    /// reference machine, and the size the streaming benches use), GB/s.
    pub dram_read_gbs: f64,
    /// Copy bandwidth (bytes read + bytes written per second, `copy_from_slice`), same size, GB/s.
    pub dram_copy_gbs: f64,
}

/// Median of `reps` timings of `f`, in seconds.
pub fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Peak FMA GFLOP/s for `f32` (`wide = false` gives f64).
fn peak_gflops(f32_lanes: bool) -> f64 {
    const ITERS: usize = 4_000_000;
    let (secs, flops) = fma::run(ITERS, f32_lanes);
    flops / secs / 1e9
}

/// Read bandwidth over `len` 4-byte values, GB/s: a wrapping integer sum, which the compiler
/// vectorizes freely (no floating-point order to keep), so it is bound by memory alone and owes
/// nothing to nabla's own kernels.
fn read_gbs(len: usize, reps: usize) -> f64 {
    let x = vec![1u32; len];
    let secs = median_secs(reps, || {
        black_box(black_box(&x).iter().fold(0u32, |s, &v| s.wrapping_add(v)));
    });
    (len * 4) as f64 / secs / 1e9
}

/// Copy bandwidth (read + write bytes) over `len` f32 values, GB/s.
fn copy_gbs(len: usize, reps: usize) -> f64 {
    let x = vec![1.0f32; len];
    let mut y = vec![0.0f32; len];
    let secs = median_secs(reps, || {
        y.copy_from_slice(black_box(&x));
        black_box(&mut y);
    });
    (len * 8) as f64 / secs / 1e9
}

impl Roofline {
    /// Measures the roofline (about two seconds; `quick` takes fewer repetitions).
    pub fn measure(quick: bool) -> Roofline {
        let dram = 1 << 24;
        let reps = if quick { 5 } else { 15 };
        Roofline {
            peak_f32_gflops: (0..3).map(|_| peak_gflops(true)).fold(0.0, f64::max),
            peak_f64_gflops: (0..3).map(|_| peak_gflops(false)).fold(0.0, f64::max),
            l2_read_gbs: read_gbs(1 << 16, 2000),
            dram_read_gbs: read_gbs(dram, reps),
            dram_copy_gbs: copy_gbs(dram, reps),
        }
    }

    /// The larger of each figure: limits are only ever under-measured on a busy machine.
    pub fn max(&self, other: &Roofline) -> Roofline {
        Roofline {
            peak_f32_gflops: self.peak_f32_gflops.max(other.peak_f32_gflops),
            peak_f64_gflops: self.peak_f64_gflops.max(other.peak_f64_gflops),
            l2_read_gbs: self.l2_read_gbs.max(other.l2_read_gbs),
            dram_read_gbs: self.dram_read_gbs.max(other.dram_read_gbs),
            dram_copy_gbs: self.dram_copy_gbs.max(other.dram_copy_gbs),
        }
    }

    /// Peak GFLOP/s for an element type by name (`"f32"` or `"f64"`).
    pub fn peak_gflops(&self, ty: &str) -> f64 {
        if ty == "f64" {
            self.peak_f64_gflops
        } else {
            self.peak_f32_gflops
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    use std::arch::x86_64::*;
    use std::hint::black_box;
    use std::time::Instant;

    /// 16 independent accumulators: more than FMA latency (4) x throughput (2/cycle) needs.
    const CHAINS: usize = 16;

    #[target_feature(enable = "avx512f")]
    fn chains512(iters: usize, f32_lanes: bool) -> f64 {
        if f32_lanes {
            let (a, b) = (_mm512_set1_ps(0.999_9), _mm512_set1_ps(1e-7));
            let mut acc = [_mm512_set1_ps(black_box(1.0)); CHAINS];
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm512_fmadd_ps(*x, a, b);
                }
            }
            acc.iter().map(|&v| _mm512_reduce_add_ps(v) as f64).sum()
        } else {
            let (a, b) = (_mm512_set1_pd(0.999_9), _mm512_set1_pd(1e-7));
            let mut acc = [_mm512_set1_pd(black_box(1.0)); CHAINS];
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm512_fmadd_pd(*x, a, b);
                }
            }
            acc.iter().map(|&v| _mm512_reduce_add_pd(v)).sum()
        }
    }

    #[target_feature(enable = "avx2,fma")]
    fn chains256(iters: usize, f32_lanes: bool) -> f64 {
        let mut out = [0.0f64; 4];
        if f32_lanes {
            let (a, b) = (_mm256_set1_ps(0.999_9), _mm256_set1_ps(1e-7));
            let mut acc = [_mm256_set1_ps(black_box(1.0)); CHAINS];
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm256_fmadd_ps(*x, a, b);
                }
            }
            let mut s = _mm256_setzero_ps();
            for v in acc {
                s = _mm256_add_ps(s, v);
            }
            out[0] = _mm256_cvtss_f32(s) as f64;
        } else {
            let (a, b) = (_mm256_set1_pd(0.999_9), _mm256_set1_pd(1e-7));
            let mut acc = [_mm256_set1_pd(black_box(1.0)); CHAINS];
            for _ in 0..iters {
                for x in acc.iter_mut() {
                    *x = _mm256_fmadd_pd(*x, a, b);
                }
            }
            let mut s = _mm256_setzero_pd();
            for v in acc {
                s = _mm256_add_pd(s, v);
            }
            out[0] = _mm256_cvtsd_f64(s);
        }
        out[0]
    }

    /// Runs the widest FMA loop the CPU has; returns (seconds, flops).
    pub fn run(iters: usize, f32_lanes: bool) -> (f64, f64) {
        let lanes_per_512 = if f32_lanes { 16.0 } else { 8.0 };
        let t = Instant::now();
        let width = if is_x86_feature_detected!("avx512f") {
            // SAFETY: AVX-512F was detected on this CPU just above.
            black_box(unsafe { chains512(iters, f32_lanes) });
            1.0
        } else if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            // SAFETY: AVX2 and FMA were detected on this CPU just above.
            black_box(unsafe { chains256(iters, f32_lanes) });
            0.5
        } else {
            return (1.0, 0.0);
        };
        let secs = t.elapsed().as_secs_f64();
        (secs, 2.0 * (iters * CHAINS) as f64 * lanes_per_512 * width)
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod fma {
    use std::hint::black_box;
    use std::time::Instant;

    /// Scalar FMA chains (the compiler vectorizes what it can): a lower bound off x86-64.
    pub fn run(iters: usize, f32_lanes: bool) -> (f64, f64) {
        let t = Instant::now();
        let mut acc = [black_box(1.0f64); 16];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = x.mul_add(0.9999, 1e-7);
            }
        }
        black_box(acc);
        let _ = f32_lanes;
        (t.elapsed().as_secs_f64(), 2.0 * (iters * 16) as f64)
    }
}
