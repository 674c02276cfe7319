//! Fresh buffers backed by transparent huge pages where Linux offers them.
//!
//! A new buffer's pages are mapped by the operating system when first written, one fault per
//! 4 KiB page. `examples/logistic_1e9.rs` shows the cost: its first run writes a fresh 4 GB
//! gradient, its second reuses the first one's buffer. On the Intel Xeon VM of stop 28, with
//! the builds before and after this advice alternated three times, the first run took 1.89,
//! 2.13 and 2.77 s before (the second 0.85-0.98 s) and 1.76, 1.33 and 1.28 s after: advised with
//! `MADV_HUGEPAGE` before the first write, the kernel maps 2 MiB at a time. How much it saves
//! depends on how easily the kernel finds free 2 MiB blocks (it compacts memory when it must).
//! Where the system's transparent-huge-page setting is `madvise` (the default of many
//! distributions, and this machine's) nothing else asks for them; under `always` the advice
//! changes nothing, under `never` it is ignored.
//!
//! Only buffers of at least [`HUGE_PAGE_MIN_BYTES`] are advised: smaller ones are served by
//! the tensor pool after their first use, and a huge page per small buffer would waste memory.

/// Buffers at least this big (bytes) are advised to use huge pages: 32 MiB, sixteen 2 MiB pages.
const HUGE_PAGE_MIN_BYTES: usize = 32 << 20;

/// `len` zeros in a fresh allocation (not the tensor pool's), advised to use huge pages when
/// it is at least [`HUGE_PAGE_MIN_BYTES`]. The allocator maps zeroed pages lazily, so the
/// advice comes before any page is touched.
pub(crate) fn zeroed<T: Clone + Default>(len: usize) -> Vec<T> {
    let v = vec![T::default(); len];
    advise(v.as_ptr().cast(), len * size_of::<T>());
    v
}

/// An empty fresh allocation with room for `len` elements, advised like [`zeroed`].
pub(crate) fn with_capacity<T>(len: usize) -> Vec<T> {
    let v: Vec<T> = Vec::with_capacity(len);
    advise(v.as_ptr().cast(), len * size_of::<T>());
    v
}

/// Asks Linux to back the whole 2 MiB pages inside `bytes` bytes from `ptr` with huge pages,
/// when `bytes` is at least [`HUGE_PAGE_MIN_BYTES`]. A hint: the result is ignored.
#[cfg(all(target_os = "linux", not(miri)))]
fn advise(ptr: *const u8, bytes: usize) {
    const HUGE: usize = 2 << 20;
    if bytes < HUGE_PAGE_MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + bytes) & !(HUGE - 1);
    if end > start {
        // SAFETY: `start..end` lies inside an allocation of `bytes` bytes from `ptr` that the
        // caller just made and owns. `MADV_HUGEPAGE` changes no contents and unmaps nothing: it
        // only marks how the kernel may back those pages, so no reference into the range (there
        // is none yet) can be invalidated. A failure (transparent huge pages compiled out)
        // leaves ordinary pages.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Elsewhere (and under Miri, which cannot call the operating system) there is no advice.
#[cfg(not(all(target_os = "linux", not(miri))))]
fn advise(_ptr: *const u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    /// Advised buffers are ordinary buffers: the zeros are there, capacity as asked, and they
    /// take writes over their whole length (a 40 MiB one is advised, a small one is not).
    #[test]
    fn advised_buffers_hold_their_values() {
        for len in [1000usize, (40 << 20) / 4 + 3] {
            let mut v = super::zeroed::<f32>(len);
            assert_eq!(v.len(), len);
            assert!(v.iter().all(|&x| x == 0.0));
            v.iter_mut().enumerate().for_each(|(i, x)| *x = i as f32);
            assert_eq!(v[len - 1], (len - 1) as f32);
            let mut w = super::with_capacity::<f64>(len);
            assert!(w.capacity() >= len && w.is_empty());
            w.extend((0..len).map(|i| i as f64));
            assert_eq!(w[len / 2], (len / 2) as f64);
        }
    }
}
