//! This core's cache sizes, read once from CPUID's deterministic cache parameters (leaf 4 on
//! Intel, `0x8000_001D` on AMD). `None` where the CPU does not report them, off x86-64, and
//! under Miri (which has no CPUID); callers then keep their fixed defaults.

use std::sync::OnceLock;

/// Bytes of this core's level-2 data or unified cache, if the CPU reports it.
pub(crate) fn l2_bytes() -> Option<usize> {
    static L2: OnceLock<Option<usize>> = OnceLock::new();
    *L2.get_or_init(|| cache_bytes(2))
}

/// Bytes of the data or unified cache at `level`, from the first CPUID leaf that lists it.
#[cfg(all(target_arch = "x86_64", not(miri)))]
fn cache_bytes(level: u32) -> Option<usize> {
    use std::arch::x86_64::__cpuid_count;
    let max_basic = __cpuid_count(0, 0).eax;
    let max_extended = __cpuid_count(0x8000_0000, 0).eax;
    let leaves = [
        (4, max_basic >= 4),
        (0x8000_001D, max_extended >= 0x8000_001D),
    ];
    leaves
        .into_iter()
        .filter(|&(_, listed)| listed)
        .find_map(|(leaf, _)| {
            // Subleaf i describes one cache until its type field (EAX bits 0-4) is 0.
            (0..32)
                .map(|i| __cpuid_count(leaf, i))
                .take_while(|r| r.eax & 0x1f != 0)
                .find(|r| (r.eax >> 5) & 7 == level && matches!(r.eax & 0x1f, 1 | 3))
                .map(|r| {
                    let ways = (r.ebx >> 22) as usize + 1;
                    let partitions = ((r.ebx >> 12) & 0x3ff) as usize + 1;
                    let line = (r.ebx & 0xfff) as usize + 1;
                    let sets = r.ecx as usize + 1;
                    ways * partitions * line * sets
                })
        })
}

#[cfg(not(all(target_arch = "x86_64", not(miri))))]
fn cache_bytes(_level: u32) -> Option<usize> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l2_size_is_plausible_when_reported() {
        // Every x86-64 core of the last decade has 256 KiB to 4 MiB of L2 per core; a value
        // outside 64 KiB..64 MiB would be a misread register.
        if let Some(l2) = l2_bytes() {
            assert!((64 << 10..=64 << 20).contains(&l2), "L2 of {l2} bytes");
        }
    }
}
