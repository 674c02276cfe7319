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
    /// Peak f32 FMA throughput on the widest path this CPU has, GFLOP/s (one FMA = 2 flops).
    pub peak_f32_gflops: f64,
    /// Peak f64 FMA throughput on the widest path, GFLOP/s.
    pub peak_f64_gflops: f64,
    /// Peak f32 throughput of 512-bit FMAs (AVX-512F), GFLOP/s; 0 where the CPU lacks them.
    pub avx512_f32_gflops: f64,
    /// Peak f64 throughput of 512-bit FMAs, GFLOP/s; 0 where absent.
    pub avx512_f64_gflops: f64,
    /// Peak f32 throughput of 256-bit FMAs (AVX2+FMA), GFLOP/s; 0 where absent.
    pub avx2_f32_gflops: f64,
    /// Peak f64 throughput of 256-bit FMAs, GFLOP/s; 0 where absent.
    pub avx2_f64_gflops: f64,
    /// Peak f32 throughput of 128-bit SSE2 multiplies and adds (no FMA), GFLOP/s; 0 off x86-64.
    pub sse2_f32_gflops: f64,
    /// Peak f64 throughput of 128-bit SSE2 multiplies and adds, GFLOP/s; 0 off x86-64.
    pub sse2_f64_gflops: f64,
    /// Read bandwidth with an L2-resident buffer (256 KiB), GB/s.
    pub l2_read_gbs: f64,
    /// Copy bandwidth (bytes read + bytes written) between two L2-resident buffers of 128 KiB
    /// each, GB/s.
    pub l2_copy_gbs: f64,
    /// Read bandwidth with a DRAM-sized buffer (2^24 x 4 bytes = 64 MiB, twice the L3 of the
    /// reference machine, and the size the streaming benches use), GB/s.
    pub dram_read_gbs: f64,
    /// Copy bandwidth (bytes read + bytes written per second, `copy_from_slice`), same size, GB/s.
    pub dram_copy_gbs: f64,
}

/// Median of `reps` timings of `f`, in seconds.
pub fn median_secs(reps: usize, f: impl FnMut()) -> f64 {
    quantile_secs(reps, 0.5, f)
}

/// The `q` quantile (0 = fastest) of `reps` timings of `f`, in seconds.
fn quantile_secs(reps: usize, q: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64()
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[((t.len() - 1) as f64 * q).round() as usize]
}

/// Peak GFLOP/s of the FMA loop for `width` (`f32_lanes = false` gives f64), 0 if the CPU
/// lacks it: the best of three runs.
fn peak_gflops(width: fma::Width, f32_lanes: bool) -> f64 {
    const ITERS: usize = 2_000_000;
    fma::run(width, ITERS, f32_lanes).map_or(0.0, |(secs, flops)| flops / secs / 1e9)
}

/// One pass of the FMA-peak loop of a nabla SIMD path (`"avx512"`, `"avx2"`, `"sse2"`, by
/// `Isa::name`; any other name takes the widest loop the CPU has) over `f32` or `f64` lanes,
/// `iters` iterations of 12 vector FMAs. Returns the flops executed (0 if the CPU lacks the
/// path). Exposed so a benchmark can time it next to a kernel, in the same interleaving.
pub fn peak_pass(isa: &str, f32_lanes: bool, iters: usize) -> f64 {
    use fma::Width;
    let widths: &[Width] = match isa {
        "avx512" => &[Width::V512],
        "avx2" => &[Width::V256],
        "sse2" => &[Width::V128],
        _ => &[Width::V512, Width::V256, Width::V128],
    };
    widths
        .iter()
        .find_map(|&w| fma::run(w, iters, f32_lanes))
        .map_or(0.0, |(_, flops)| flops)
}

/// The index of the element of `buf` that lies `offset` bytes (a multiple of the element size)
/// past `buf`'s first cache-line (64-byte) boundary: where a buffer padded by
/// `(64 + offset) / size_of::<T>()` elements places data on, or just off, a line.
pub fn line_start<T>(buf: &[T], offset: usize) -> usize {
    let to_line = buf.as_ptr().align_offset(64).min(64 / size_of::<T>());
    to_line + offset / size_of::<T>()
}

/// Read bandwidth over `len` 4-byte values, GB/s: a wrapping integer sum, which the compiler
/// vectorizes freely (no floating-point order to keep), so it is bound by memory alone and owes
/// nothing to nabla's own kernels. Compiled for the widest vectors the CPU has, so that an
/// L2-resident buffer is not limited by instruction throughput. The buffer starts on a cache
/// line: a load that straddles two lines costs two, and over 64 MiB one element off a line read
/// about 20% slower on the reference machine.
fn read_gbs(len: usize, reps: usize) -> f64 {
    let buf = vec![1u32; len + 16];
    let x = &buf[line_start(&buf, 0)..][..len];
    // The fastest pass: a roof is what the machine can do, and a busy neighbour only slows it.
    let secs = quantile_secs(reps, 0.0, || {
        black_box(read_pass(black_box(x)));
    });
    (len * 4) as f64 / secs / 1e9
}

/// Copy bandwidth (read + write bytes) over `len` f32 values, GB/s: `y = a * x` with ordinary
/// stores, the traffic pattern of an elementwise kernel (not `memcpy`, whose large-size
/// strategy - `rep movsb`, non-temporal stores - varies by CPU and measured half the
/// bandwidth the kernels reach on the reference machine).
fn copy_gbs(len: usize, reps: usize) -> f64 {
    let x = vec![1.0f32; len];
    let mut y = vec![0.0f32; len];
    let secs = quantile_secs(reps, 0.0, || {
        copy_pass(black_box(&x), &mut y, black_box(1.000_1));
        black_box(&mut y);
    });
    (len * 8) as f64 / secs / 1e9
}

/// One pass of the read-bandwidth loop: a wrapping sum of `x`, on the widest vectors the CPU
/// has. Exposed so a benchmark can time it next to a kernel over the same number of bytes.
pub fn read_pass(x: &[u32]) -> u32 {
    wide::sum(x)
}

/// One pass of the copy-bandwidth loop: `y = a * x` with ordinary stores, on the widest
/// vectors the CPU has.
pub fn copy_pass(x: &[f32], y: &mut [f32], a: f32) {
    wide::scale(x, y, a)
}

/// The bandwidth loops, compiled for the widest vectors the CPU has.
mod wide {
    #[inline(always)]
    fn sum_body(x: &[u32]) -> u32 {
        x.iter().fold(0u32, |s, &v| s.wrapping_add(v))
    }
    #[inline(always)]
    fn scale_body(x: &[f32], y: &mut [f32], a: f32) {
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v * a;
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn sum512(x: &[u32]) -> u32 {
        sum_body(x)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn sum256(x: &[u32]) -> u32 {
        sum_body(x)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    fn scale512(x: &[f32], y: &mut [f32], a: f32) {
        scale_body(x, y, a)
    }
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn scale256(x: &[f32], y: &mut [f32], a: f32) {
        scale_body(x, y, a)
    }

    pub fn sum(x: &[u32]) -> u32 {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was detected just above.
                return unsafe { sum512(x) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected just above.
                return unsafe { sum256(x) };
            }
        }
        sum_body(x)
    }

    pub fn scale(x: &[f32], y: &mut [f32], a: f32) {
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx512f") {
                // SAFETY: AVX-512F was detected just above.
                return unsafe { scale512(x, y, a) };
            }
            if is_x86_feature_detected!("avx2") {
                // SAFETY: AVX2 was detected just above.
                return unsafe { scale256(x, y, a) };
            }
        }
        scale_body(x, y, a)
    }
}

impl Roofline {
    /// Measures the roofline (about two seconds; `quick` takes fewer repetitions).
    pub fn measure(quick: bool) -> Roofline {
        use fma::Width;
        let dram = 1 << 24;
        let reps = if quick { 5 } else { 15 };
        // Bring the core to its sustained vector clock first (about 0.1 s of FMAs): the first
        // loop measured up to 25% low without this.
        let warm = std::time::Instant::now();
        while warm.elapsed().as_secs_f64() < 0.1 {
            for w in [Width::V512, Width::V256] {
                let _ = fma::run(w, 100_000, true);
            }
        }
        // Best of 7 rounds, the six loops interleaved: a neighbour (or the hypervisor) taking
        // the core for a moment hits one round of one loop, not all of them.
        let loops = [
            (Width::V512, true),
            (Width::V512, false),
            (Width::V256, true),
            (Width::V256, false),
            (Width::V128, true),
            (Width::V128, false),
        ];
        let mut best = [0.0f64; 6];
        for _ in 0..7 {
            for (b, &(w, f32_lanes)) in best.iter_mut().zip(&loops) {
                *b = b.max(peak_gflops(w, f32_lanes));
            }
        }
        let [
            avx512_f32_gflops,
            avx512_f64_gflops,
            avx2_f32_gflops,
            avx2_f64_gflops,
            sse2_f32_gflops,
            sse2_f64_gflops,
        ] = best;
        let widest = |a: f64, b: f64, c: f64| {
            if a > 0.0 {
                a
            } else if b > 0.0 {
                b
            } else {
                c
            }
        };
        Roofline {
            peak_f32_gflops: widest(avx512_f32_gflops, avx2_f32_gflops, sse2_f32_gflops),
            peak_f64_gflops: widest(avx512_f64_gflops, avx2_f64_gflops, sse2_f64_gflops),
            avx512_f32_gflops,
            avx512_f64_gflops,
            avx2_f32_gflops,
            avx2_f64_gflops,
            sse2_f32_gflops,
            sse2_f64_gflops,
            l2_read_gbs: read_gbs(1 << 16, 2000),
            l2_copy_gbs: copy_gbs(1 << 15, 2000),
            dram_read_gbs: read_gbs(dram, reps),
            dram_copy_gbs: copy_gbs(dram, reps),
        }
    }

    /// The larger of each figure: limits are only ever under-measured on a busy machine.
    pub fn max(&self, other: &Roofline) -> Roofline {
        Roofline {
            peak_f32_gflops: self.peak_f32_gflops.max(other.peak_f32_gflops),
            peak_f64_gflops: self.peak_f64_gflops.max(other.peak_f64_gflops),
            avx512_f32_gflops: self.avx512_f32_gflops.max(other.avx512_f32_gflops),
            avx512_f64_gflops: self.avx512_f64_gflops.max(other.avx512_f64_gflops),
            avx2_f32_gflops: self.avx2_f32_gflops.max(other.avx2_f32_gflops),
            avx2_f64_gflops: self.avx2_f64_gflops.max(other.avx2_f64_gflops),
            sse2_f32_gflops: self.sse2_f32_gflops.max(other.sse2_f32_gflops),
            sse2_f64_gflops: self.sse2_f64_gflops.max(other.sse2_f64_gflops),
            l2_read_gbs: self.l2_read_gbs.max(other.l2_read_gbs),
            l2_copy_gbs: self.l2_copy_gbs.max(other.l2_copy_gbs),
            dram_read_gbs: self.dram_read_gbs.max(other.dram_read_gbs),
            dram_copy_gbs: self.dram_copy_gbs.max(other.dram_copy_gbs),
        }
    }

    /// Peak GFLOP/s for an element type by name (`"f32"` or `"f64"`), on the widest path.
    pub fn peak_gflops(&self, ty: &str) -> f64 {
        if ty == "f64" {
            self.peak_f64_gflops
        } else {
            self.peak_f32_gflops
        }
    }

    /// Peak GFLOP/s of the FMA width a nabla SIMD path uses (`"avx512"`, `"avx2"`, `"sse2"`,
    /// by [`nabla_kernels::isa::Isa::name`]) for `ty` (`"f32"` or `"f64"`). The scalar and
    /// NEON paths are rated against the widest peak measured: the ceiling the machine offers.
    pub fn peak_gflops_for(&self, isa: &str, ty: &str) -> f64 {
        let f64_ty = ty == "f64";
        let pick = |f32v: f64, f64v: f64| if f64_ty { f64v } else { f32v };
        let v = match isa {
            "avx512" => pick(self.avx512_f32_gflops, self.avx512_f64_gflops),
            "avx2" => pick(self.avx2_f32_gflops, self.avx2_f64_gflops),
            "sse2" => pick(self.sse2_f32_gflops, self.sse2_f64_gflops),
            _ => 0.0,
        };
        if v > 0.0 { v } else { self.peak_gflops(ty) }
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    //! The FMA loops are inline assembly: written in Rust, LLVM kept only 16 of AVX-512's 32
    //! registers and spilled accumulators inside the loop, which measured a peak ~30% below
    //! what nabla's own GEMM reaches. Here each loop is 12 independent chains (more than FMA
    //! latency 4 x 2 per cycle needs) of `x = x * a + b`, which stays near `b / (1 - a)`
    //! (normal numbers, no denormal slow path).
    use std::arch::asm;
    use std::hint::black_box;
    use std::time::Instant;

    /// Independent chains per loop iteration.
    const CHAINS: usize = 12;

    /// A vector width, i.e. an instruction set to measure.
    #[derive(Clone, Copy)]
    pub enum Width {
        /// AVX-512F FMAs.
        V512,
        /// AVX2 + FMA (256-bit).
        V256,
        /// SSE2 multiplies and adds (128-bit, no FMA).
        V128,
    }

    macro_rules! fma_loop {
        ($name:ident, $feat:literal, $bcast:literal, $mov:literal, $fma:literal, $r:literal) => {
            #[target_feature(enable = $feat)]
            fn $name(iters: usize, a: *const u8, b: *const u8) {
                // SAFETY: `a` and `b` point to live constants of the element type (read by the
                // broadcasts); the loop touches only the registers declared clobbered; the
                // caller checked the CPU has the instructions (`$feat`).
                unsafe {
                    asm!(
                        concat!($bcast, " ", $r, "12, [{a}]"),
                        concat!($bcast, " ", $r, "13, [{b}]"),
                        concat!($mov, " ", $r, "0, ", $r, "13"),
                        concat!($mov, " ", $r, "1, ", $r, "13"),
                        concat!($mov, " ", $r, "2, ", $r, "13"),
                        concat!($mov, " ", $r, "3, ", $r, "13"),
                        concat!($mov, " ", $r, "4, ", $r, "13"),
                        concat!($mov, " ", $r, "5, ", $r, "13"),
                        concat!($mov, " ", $r, "6, ", $r, "13"),
                        concat!($mov, " ", $r, "7, ", $r, "13"),
                        concat!($mov, " ", $r, "8, ", $r, "13"),
                        concat!($mov, " ", $r, "9, ", $r, "13"),
                        concat!($mov, " ", $r, "10, ", $r, "13"),
                        concat!($mov, " ", $r, "11, ", $r, "13"),
                        "2:",
                        concat!($fma, " ", $r, "0, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "1, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "2, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "3, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "4, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "5, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "6, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "7, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "8, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "9, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "10, ", $r, "12, ", $r, "13"),
                        concat!($fma, " ", $r, "11, ", $r, "12, ", $r, "13"),
                        "dec {n}",
                        "jnz 2b",
                        a = in(reg) a,
                        b = in(reg) b,
                        n = inout(reg) iters.max(1) => _,
                        out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                        out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                        out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                        out("xmm12") _, out("xmm13") _,
                        options(nostack, readonly),
                    );
                }
            }
        };
    }

    fma_loop!(
        fma512_ps,
        "avx512f",
        "vbroadcastss",
        "vmovaps",
        "vfmadd213ps",
        "zmm"
    );
    fma_loop!(
        fma512_pd,
        "avx512f",
        "vbroadcastsd",
        "vmovapd",
        "vfmadd213pd",
        "zmm"
    );
    fma_loop!(
        fma256_ps,
        "avx2,fma",
        "vbroadcastss",
        "vmovaps",
        "vfmadd213ps",
        "ymm"
    );
    fma_loop!(
        fma256_pd,
        "avx2,fma",
        "vbroadcastsd",
        "vmovapd",
        "vfmadd213pd",
        "ymm"
    );

    /// SSE2 has no FMA: each chain step is a multiply and an add (2 flops per lane, two
    /// dependent instructions), which is what the SSE2 path's kernels execute. Twelve chains
    /// of two 3-cycle operations keep two multiply and two add pipes busy.
    fn muladd128(iters: usize, f32_lanes: bool) {
        macro_rules! body {
            ($mul:literal, $add:literal, $bc:literal, $c:expr) => {
                // SAFETY: SSE2 is part of the x86-64 baseline; only the declared registers are
                // touched.
                unsafe {
                    asm!(
                        $bc,
                        "movaps xmm0, xmm13", "movaps xmm1, xmm13", "movaps xmm2, xmm13",
                        "movaps xmm3, xmm13", "movaps xmm4, xmm13", "movaps xmm5, xmm13",
                        "movaps xmm6, xmm13", "movaps xmm7, xmm13", "movaps xmm8, xmm13",
                        "movaps xmm9, xmm13", "movaps xmm10, xmm13", "movaps xmm11, xmm13",
                        "2:",
                        concat!($mul, " xmm0, xmm12"), concat!($mul, " xmm1, xmm12"),
                        concat!($mul, " xmm2, xmm12"), concat!($mul, " xmm3, xmm12"),
                        concat!($mul, " xmm4, xmm12"), concat!($mul, " xmm5, xmm12"),
                        concat!($mul, " xmm6, xmm12"), concat!($mul, " xmm7, xmm12"),
                        concat!($mul, " xmm8, xmm12"), concat!($mul, " xmm9, xmm12"),
                        concat!($mul, " xmm10, xmm12"), concat!($mul, " xmm11, xmm12"),
                        concat!($add, " xmm0, xmm13"), concat!($add, " xmm1, xmm13"),
                        concat!($add, " xmm2, xmm13"), concat!($add, " xmm3, xmm13"),
                        concat!($add, " xmm4, xmm13"), concat!($add, " xmm5, xmm13"),
                        concat!($add, " xmm6, xmm13"), concat!($add, " xmm7, xmm13"),
                        concat!($add, " xmm8, xmm13"), concat!($add, " xmm9, xmm13"),
                        concat!($add, " xmm10, xmm13"), concat!($add, " xmm11, xmm13"),
                        "dec {n}",
                        "jnz 2b",
                        n = inout(reg) iters.max(1) => _,
                        c = in(reg) $c,
                        out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
                        out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
                        out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _,
                        out("xmm12") _, out("xmm13") _,
                        options(nostack, readonly),
                    )
                }
            };
        }
        /// 16-byte aligned constants for `movaps`.
        #[repr(align(16))]
        struct Aligned<T>(T);
        static C32: Aligned<[f32; 8]> =
            Aligned([0.999_9, 0.999_9, 0.999_9, 0.999_9, 1e-7, 1e-7, 1e-7, 1e-7]);
        static C64: Aligned<[f64; 4]> = Aligned([0.999_9, 0.999_9, 1e-7, 1e-7]);
        if f32_lanes {
            let c = C32.0.as_ptr();
            body!(
                "mulps",
                "addps",
                "movaps xmm12, [{c}]\nmovaps xmm13, [{c} + 16]",
                c
            );
        } else {
            let c = C64.0.as_ptr();
            body!(
                "mulpd",
                "addpd",
                "movaps xmm12, [{c}]\nmovaps xmm13, [{c} + 16]",
                c
            );
        }
    }

    /// Runs the FMA loop of `width`; returns (seconds, flops), or `None` if the CPU lacks it.
    pub fn run(width: Width, iters: usize, f32_lanes: bool) -> Option<(f64, f64)> {
        let lanes_per_128 = if f32_lanes { 4.0 } else { 2.0 };
        let (a32, b32) = (black_box(0.999_9f32), black_box(1e-7f32));
        let (a64, b64) = (black_box(0.999_9f64), black_box(1e-7f64));
        let (pa, pb) = if f32_lanes {
            (
                &a32 as *const f32 as *const u8,
                &b32 as *const f32 as *const u8,
            )
        } else {
            (
                &a64 as *const f64 as *const u8,
                &b64 as *const f64 as *const u8,
            )
        };
        let t = Instant::now();
        let vectors = match width {
            Width::V512 => {
                if !is_x86_feature_detected!("avx512f") {
                    return None;
                }
                // SAFETY: AVX-512F was detected on this CPU just above.
                unsafe {
                    if f32_lanes {
                        fma512_ps(iters, pa, pb)
                    } else {
                        fma512_pd(iters, pa, pb)
                    }
                }
                4.0
            }
            Width::V256 => {
                if !(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")) {
                    return None;
                }
                // SAFETY: AVX2 and FMA were detected on this CPU just above.
                unsafe {
                    if f32_lanes {
                        fma256_ps(iters, pa, pb)
                    } else {
                        fma256_pd(iters, pa, pb)
                    }
                }
                2.0
            }
            Width::V128 => {
                muladd128(iters, f32_lanes);
                1.0
            }
        };
        let secs = t.elapsed().as_secs_f64();
        Some((
            secs,
            2.0 * (iters * CHAINS) as f64 * lanes_per_128 * vectors,
        ))
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod fma {
    use std::hint::black_box;
    use std::time::Instant;

    /// A vector width (only the scalar loop exists off x86-64).
    #[derive(Clone, Copy)]
    pub enum Width {
        /// 512-bit: not measured here.
        V512,
        /// 256-bit: not measured here.
        V256,
        /// The scalar FMA loop.
        V128,
    }

    /// Scalar FMA chains (the compiler vectorizes what it can): a lower bound off x86-64.
    pub fn run(width: Width, iters: usize, f32_lanes: bool) -> Option<(f64, f64)> {
        if !matches!(width, Width::V128) {
            return None;
        }
        let t = Instant::now();
        let mut acc = [black_box(1.0f64); 16];
        for _ in 0..iters {
            for x in acc.iter_mut() {
                *x = x.mul_add(0.9999, 1e-7);
            }
        }
        black_box(acc);
        let _ = f32_lanes;
        Some((t.elapsed().as_secs_f64(), 2.0 * (iters * 16) as f64))
    }
}
