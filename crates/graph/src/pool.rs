//! Buffer reuse: tensors give their element buffers back here when dropped, and new tensors of
//! the same length take them again, so a training loop that repeats the same shapes stops
//! allocating after its first step.
//!
//! Why: a step allocates and frees the same large buffers (activations, adjoints, gradients)
//! every time. The system allocator hands buffers of more than about 128 KiB back to the
//! operating system, and taking them again costs page faults and zeroing in the kernel: a
//! quarter of an MLP step's time on this machine before this pool.
//!
//! The contract:
//! * Only buffers of at least [`MIN_POOLED_BYTES`] are pooled; smaller ones come from the
//!   system allocator, which serves them cheaply from its own free lists.
//! * The pool is per thread (no locks): a buffer returns to the pool of the thread that drops
//!   its last tensor.
//! * A thread's pool keeps at most [`limit`] bytes (default [`DEFAULT_LIMIT_BYTES`]); a buffer
//!   that would exceed it is freed. [`set_limit`] changes it (0 turns pooling off) and
//!   [`clear`] frees what the pool holds.
//! * Reuse is by exact length, so a recycled buffer never holds more memory than asked for.
//!
//! ```
//! use nabla_graph::{pool, Tensor};
//! pool::clear();
//! let a = Tensor::<f32>::zeros(&[256, 256]); // 256 KiB: pooled size
//! drop(a);
//! let before = pool::stats();
//! let b = Tensor::<f32>::ones(&[256, 256]); // takes the buffer `a` gave back
//! assert_eq!(pool::stats().hits, before.hits + 1);
//! assert_eq!(b.data()[0], 1.0);
//! ```

use nabla_kernels::Element;
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;

/// Buffers smaller than this (in bytes) are not pooled.
pub const MIN_POOLED_BYTES: usize = 32 * 1024;

/// The default most bytes a thread's pool holds: 256 MiB.
pub const DEFAULT_LIMIT_BYTES: usize = 256 << 20;

/// Counters of one thread's pool (since the thread started or [`clear`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests for a pooled-size buffer served from the pool.
    pub hits: u64,
    /// Requests for a pooled-size buffer that had to allocate.
    pub misses: u64,
    /// Bytes held in the pool now.
    pub held_bytes: usize,
}

struct Pool {
    free: HashMap<(TypeId, usize), Vec<Box<dyn Any>>>,
    limit: usize,
    stats: Stats,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        free: HashMap::new(),
        limit: DEFAULT_LIMIT_BYTES,
        stats: Stats::default(),
    });
}

fn bytes<T>(len: usize) -> usize {
    len * std::mem::size_of::<T>()
}

/// A recycled buffer of exactly `len` elements' capacity, if the pool has one (its contents
/// are whatever its last tensor held).
fn recycled<T: Element>(len: usize) -> Option<Vec<T>> {
    if bytes::<T>(len) < MIN_POOLED_BYTES {
        return None;
    }
    POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        let got = p
            .free
            .get_mut(&(TypeId::of::<T>(), len))
            .and_then(|list| list.pop());
        if got.is_some() {
            p.stats.hits += 1;
            p.stats.held_bytes -= bytes::<T>(len);
        } else {
            p.stats.misses += 1;
        }
        // The key's TypeId is T's, so the box holds a Vec<T>.
        got.map(|b| *b.downcast::<Vec<T>>().expect("keyed by element type"))
    })
    .ok()
    .flatten()
}

/// `len` copies of `value`, in a recycled buffer where possible.
pub(crate) fn filled<T: Element>(len: usize, value: T) -> Vec<T> {
    match recycled(len) {
        Some(mut v) => {
            v.clear();
            v.resize(len, value);
            v
        }
        None => vec![value; len],
    }
}

/// A buffer of `len` elements that the caller overwrites entirely (a kernel's output): a
/// recycled one keeps its old values (no fill pass), a new one is zeroed by the allocator.
pub(crate) fn for_overwrite<T: Element>(len: usize) -> Vec<T> {
    match recycled(len) {
        Some(mut v) => {
            // A pooled buffer is full (tensors never shrink theirs); resize is a no-op then.
            v.resize(len, T::ZERO);
            v
        }
        None => vec![T::ZERO; len],
    }
}

/// An empty buffer for exactly `len` elements (to be filled by `push`/`extend`).
pub(crate) fn with_capacity<T: Element>(len: usize) -> Vec<T> {
    match recycled(len) {
        Some(mut v) => {
            v.clear();
            v
        }
        None => Vec::with_capacity(len),
    }
}

/// Takes back a buffer whose last tensor was dropped.
fn give<T: Element>(v: Vec<T>) {
    let cap = v.capacity();
    let size = bytes::<T>(cap);
    if size < MIN_POOLED_BYTES {
        return;
    }
    // During thread teardown the pool may be gone: then the buffer is simply freed.
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        if p.stats.held_bytes + size <= p.limit {
            p.stats.held_bytes += size;
            p.free
                .entry((TypeId::of::<T>(), cap))
                .or_default()
                .push(Box::new(v));
        }
    });
}

/// This thread's pool counters.
pub fn stats() -> Stats {
    POOL.try_with(|p| p.borrow().stats).unwrap_or_default()
}

/// Frees every buffer this thread's pool holds and resets its counters.
pub fn clear() {
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        p.free.clear();
        p.stats = Stats::default();
    });
}

/// The most bytes this thread's pool holds (0: no pooling). Lowering it frees what is held.
pub fn set_limit(bytes: usize) {
    let _ = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        p.limit = bytes;
        if p.stats.held_bytes > bytes {
            p.free.clear();
            p.stats.held_bytes = 0;
        }
    });
}

/// This thread's pool limit in bytes.
pub fn limit() -> usize {
    POOL.try_with(|p| p.borrow().limit).unwrap_or(0)
}

/// A tensor's element buffer: a `Vec` that goes back to the pool when dropped. (The recycling
/// function is stored, so the type needs no bounds and neither do the tensors holding it.)
pub(crate) struct Buffer<T> {
    data: Vec<T>,
    recycle: fn(Vec<T>),
}

impl<T: Element> Buffer<T> {
    pub(crate) fn new(data: Vec<T>) -> Self {
        Buffer {
            data,
            recycle: give::<T>,
        }
    }
}

impl<T> std::ops::Deref for Buffer<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.data
    }
}

impl<T> Drop for Buffer<T> {
    fn drop(&mut self) {
        (self.recycle)(std::mem::take(&mut self.data));
    }
}
