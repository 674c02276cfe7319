//! What the large examples share: reproducible inputs filled by all cores.

/// A reproducible value in `[-1, 1)` for index `i` of stream `k` (splitmix64 of `(k, i)`).
pub fn uniform(k: u64, i: u64) -> f32 {
    let mut z = i
        .wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z ^= z >> 31;
    z = z.wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 29;
    ((z >> 40) as f32) / (1u64 << 23) as f32 - 1.0
}

/// `n` values `map(uniform(k, i))` of stream `k`, filled by all cores.
pub fn fill(n: usize, k: u64, map: impl Fn(f32) -> f32 + Copy + Send) -> Vec<f32> {
    let mut v = vec![0.0f32; n];
    let threads = std::thread::available_parallelism().map_or(1, |t| t.get());
    let chunk = n.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (c, part) in v.chunks_mut(chunk).enumerate() {
            s.spawn(move || {
                for (j, out) in part.iter_mut().enumerate() {
                    *out = map(uniform(k, (c * chunk + j) as u64));
                }
            });
        }
    });
    v
}
