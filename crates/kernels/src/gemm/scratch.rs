//! Per-thread packing buffers, reused across calls so a GEMM allocates only the first time.

use crate::element::Element;
use std::cell::RefCell;
use std::thread::LocalKey;

/// One cache line: the buffers' allocation unit, so packed panels start 64-byte aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Line([u64; 8]);

/// A thread's reusable buffer.
pub(crate) type Slot = RefCell<Vec<Line>>;

thread_local! {
    /// Packed A blocks.
    pub(crate) static PACK_A: Slot = const { RefCell::new(Vec::new()) };
    /// Packed B panels.
    pub(crate) static PACK_B: Slot = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a buffer of `len` elements (contents unspecified), taken from the thread's
/// `slot`. If the slot is already in use on this thread (a rayon task stolen while another GEMM
/// waits), a fresh buffer is allocated instead.
pub(crate) fn with_scratch<T: Element, R>(
    slot: &'static LocalKey<Slot>,
    len: usize,
    f: impl FnOnce(&mut [T]) -> R,
) -> R {
    let lines = (len * size_of::<T>()).div_ceil(size_of::<Line>());
    let run = |v: &mut Vec<Line>| {
        if v.len() < lines {
            v.resize(lines, Line([0; 8]));
        }
        // SAFETY: the Vec holds at least `len * size_of::<T>()` initialized bytes, aligned to 64
        // (>= align_of::<T>()); T is f32 or f64, for which every bit pattern is valid; the
        // slice borrows `v` mutably for its whole life.
        let buf = unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<T>(), len) };
        f(buf)
    };
    slot.with(|cell| match cell.try_borrow_mut() {
        Ok(mut v) => run(&mut v),
        Err(_) => run(&mut Vec::new()),
    })
}
