//! A global allocator for tests that measure allocation: it forwards every call to the system
//! allocator and counts, per thread, the calls that allocate and the live bytes with their
//! peak (per thread, so tests running beside it in other threads do not disturb the figures).
//! A test binary installs it with `#[global_allocator] static A: common::Tracking = common::Tracking;`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The tracking allocator (see the module docs).
pub struct Tracking;

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// Records one call that changes this thread's live bytes by `bytes` (`allocates`: it counts
/// as an allocation). `try_with`: during thread teardown the counters may be gone; such calls
/// are not tracked.
fn track(allocates: bool, bytes: isize) {
    if allocates {
        let _ = CALLS.try_with(|c| c.set(c.get() + 1));
    }
    let _ = LIVE.try_with(|l| {
        l.set(l.get() + bytes);
        let _ = PEAK.try_with(|p| p.set(p.get().max(l.get())));
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; tracking touches only
// const-initialized thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(true, layout.size() as isize);
        // SAFETY: forwarded with the caller's layout, as `GlobalAlloc::alloc` requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(true, layout.size() as isize);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(true, new_size as isize - layout.size() as isize);
        // SAFETY: `ptr` and `layout` come from this allocator (that is, from `System`).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(false, -(layout.size() as isize));
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Calls that allocated (alloc, alloc_zeroed, realloc) on this thread so far.
#[allow(dead_code)] // each test binary uses part of this module
pub fn allocations() -> u64 {
    CALLS.with(Cell::get)
}

/// Bytes this thread has allocated and not freed.
#[allow(dead_code)]
pub fn live_bytes() -> isize {
    LIVE.with(Cell::get)
}

/// Restarts the peak at the current live bytes; returns them.
#[allow(dead_code)]
pub fn reset_peak() -> isize {
    let live = live_bytes();
    PEAK.with(|p| p.set(live));
    live
}

/// The most live bytes since the last [`reset_peak`].
#[allow(dead_code)]
pub fn peak_bytes() -> isize {
    PEAK.with(Cell::get)
}
