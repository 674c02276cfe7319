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
//! * Every buffer of two or more elements is pooled (one-element tensors hold their element
//!   inline and allocate nothing), and so is the shared, reference-counted shell around it: a
//!   loop that repeats its shapes reaches a state where making a tensor allocates nothing.
//! * The pool is per thread (no locks): a buffer returns to the pool of the thread that drops
//!   its last tensor.
//! * At most [`MAX_PER_LENGTH`] buffers of one length, of at most [`MAX_LENGTHS`] distinct
//!   lengths, and [`MAX_SHELLS`] shells are kept.
//! * A thread's pool keeps at most [`limit`] bytes (default [`DEFAULT_LIMIT_BYTES`]); a buffer
//!   that would exceed it is freed. [`set_limit`] changes it (0 turns pooling off) and
//!   [`clear`] frees what the pool holds.
//! * Reuse is by exact length, so a recycled buffer never holds more memory than asked for.
//! * A buffer the pool cannot serve is allocated fresh; on Linux, one of 32 MiB or more is
//!   first advised to use transparent huge pages (`madvise(MADV_HUGEPAGE)`), so that its first
//!   write faults 2 MiB at a time instead of 4 KiB (the first run of `examples/logistic_1e9.rs`,
//!   which writes a fresh 4 GB gradient, went from 1.9-2.8 s to 1.3-1.8 s on the Intel Xeon VM
//!   of stop 28).
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
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// The default most bytes a thread's pool holds: 256 MiB.
pub const DEFAULT_LIMIT_BYTES: usize = 256 << 20;

/// The most free buffers of one length a thread's pool keeps.
pub const MAX_PER_LENGTH: usize = 64;

/// The most distinct buffer lengths a pool keeps free lists for (each list is made at its full
/// size, `MAX_PER_LENGTH` slots, so this bounds the bookkeeping to about 1.5 MB per element
/// type however many lengths a program uses); buffers of other lengths are simply freed.
pub const MAX_LENGTHS: usize = 1024;

/// The most free buffer shells (the reference-counted box a tensor shares) a pool keeps.
pub const MAX_SHELLS: usize = 4096;

/// Counters of one thread's pool (since the thread started or [`clear`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests for a buffer served from the pool.
    pub hits: u64,
    /// Requests for a buffer that had to allocate.
    pub misses: u64,
    /// Bytes held in the pool now.
    pub held_bytes: usize,
}

/// Hashes a buffer length (a `usize` key): a multiply and a fold, so that lengths which are
/// multiples of a power of two still spread over the table's low bits.
#[derive(Default)]
struct LenHasher(u64);

impl Hasher for LenHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_usize(self.0 as usize ^ b as usize);
        }
    }
    fn write_usize(&mut self, n: usize) {
        let h = (n as u64 ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = h ^ (h >> 29);
    }
}

/// One element type's free lists.
struct Free<T> {
    by_len: HashMap<usize, Vec<Vec<T>>, BuildHasherDefault<LenHasher>>,
    shells: Vec<Arc<Buffer<T>>>,
}

impl<T> Free<T> {
    /// The free list for buffers of `len` elements, made now at its full size if there is
    /// room for another length (so that giving buffers back later, in a step that should not
    /// allocate, never grows it); `None` if the pool tracks [`MAX_LENGTHS`] others already.
    fn list(&mut self, len: usize) -> Option<&mut Vec<Vec<T>>> {
        if self.by_len.len() >= MAX_LENGTHS && !self.by_len.contains_key(&len) {
            return None;
        }
        Some(
            self.by_len
                .entry(len)
                .or_insert_with(|| Vec::with_capacity(MAX_PER_LENGTH)),
        )
    }
}

impl<T> Default for Free<T> {
    fn default() -> Self {
        Free {
            by_len: HashMap::default(),
            // At full size from the start: returning shells never grows it (32 KiB).
            shells: Vec::with_capacity(MAX_SHELLS),
        }
    }
}

struct Pool {
    f32: Free<f32>,
    f64: Free<f64>,
    limit: usize,
    stats: Stats,
}

thread_local! {
    static POOL: RefCell<Pool> = RefCell::new(Pool {
        f32: Free::default(),
        f64: Free::default(),
        limit: DEFAULT_LIMIT_BYTES,
        stats: Stats::default(),
    });
}

/// Runs `f` on this thread's free lists for `T` (`None` during thread teardown). `f` must not
/// drop anything that could come back here (a `Shared`): callers return such values instead.
fn with_free<T: Element, R>(f: impl FnOnce(&mut Free<T>, &mut Stats, usize) -> R) -> Option<R> {
    POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        let Pool {
            f32,
            f64,
            limit,
            stats,
        } = &mut *p;
        // `Element` is sealed to f32 and f64, so one of the two downcasts succeeds.
        let free: &mut dyn Any = if TypeId::of::<T>() == TypeId::of::<f32>() {
            f32
        } else {
            f64
        };
        let free = free
            .downcast_mut::<Free<T>>()
            .expect("Element is f32 or f64");
        f(free, stats, *limit)
    })
    .ok()
}

fn bytes<T>(len: usize) -> usize {
    len * std::mem::size_of::<T>()
}

/// A recycled buffer of exactly `len` elements' capacity, if the pool has one (its contents
/// are whatever its last tensor held).
fn recycled<T: Element>(len: usize) -> Option<Vec<T>> {
    if len < 2 {
        return None;
    }
    with_free::<T, _>(|free, stats, _| {
        // A miss makes the free list for this length now (see `Free::list`).
        let got = free.list(len).and_then(Vec::pop);
        if got.is_some() {
            stats.hits += 1;
            stats.held_bytes -= bytes::<T>(len);
        } else {
            stats.misses += 1;
        }
        got
    })
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
        None => {
            // Zeroed lazily by the allocator (a `+0.0` fill is then no pass at all), advised to
            // use huge pages when large, then filled when the value is not `+0.0`.
            let mut v = crate::pages::zeroed(len);
            if value.to_bits_u64() != 0 {
                v.fill(value);
            }
            v
        }
    }
}

/// A buffer of `len` elements that the caller overwrites entirely (a kernel's output): a
/// recycled one keeps its old values (no fill pass), a new one is zeroed by the allocator
/// (lazily, and on huge pages when large: see [`crate::pages`]).
pub(crate) fn for_overwrite<T: Element>(len: usize) -> Vec<T> {
    match recycled(len) {
        Some(mut v) => {
            // A pooled buffer is full (tensors never shrink theirs); resize is a no-op then.
            v.resize(len, T::ZERO);
            v
        }
        None => crate::pages::zeroed(len),
    }
}

/// An empty buffer for exactly `len` elements (to be filled by `push`/`extend`).
pub(crate) fn with_capacity<T: Element>(len: usize) -> Vec<T> {
    match recycled(len) {
        Some(mut v) => {
            v.clear();
            v
        }
        None => crate::pages::with_capacity(len),
    }
}

/// Takes back the buffer and the shell of a tensor whose last clone was dropped; a shell
/// still shared with another tensor is only released.
fn give<T: Element>(mut shell: Arc<Buffer<T>>) {
    let Some(buffer) = Arc::get_mut(&mut shell) else {
        return;
    };
    give_back(std::mem::take(&mut buffer.data));
    // What the pool does not keep is dropped after it is released (a shell's drop is plain:
    // `Buffer` has no `Drop` of its own, but keep the borrow short regardless).
    let rejected = with_free::<T, _>(|free, _, _| {
        if free.shells.len() < MAX_SHELLS {
            free.shells.push(shell);
            None
        } else {
            Some(shell)
        }
    });
    drop(rejected);
}

/// Takes back a buffer (a temporary, or one whose tensor is gone) if the pool has room.
pub(crate) fn give_back<T: Element>(v: Vec<T>) {
    let cap = v.capacity();
    let rejected = with_free::<T, _>(|free, stats, limit| {
        let size = bytes::<T>(cap);
        if cap < 2 || stats.held_bytes + size > limit {
            return Some(v);
        }
        match free.list(cap) {
            Some(list) if list.len() < MAX_PER_LENGTH => {
                stats.held_bytes += size;
                list.push(v);
                None
            }
            _ => Some(v),
        }
    });
    drop(rejected);
}

/// This thread's pool counters.
pub fn stats() -> Stats {
    POOL.try_with(|p| p.borrow().stats).unwrap_or_default()
}

/// Frees every buffer and shell this thread's pool holds and resets its counters.
pub fn clear() {
    let held = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        p.stats = Stats::default();
        (std::mem::take(&mut p.f32), std::mem::take(&mut p.f64))
    });
    drop(held);
}

/// The most bytes this thread's pool holds (0: no pooling). Lowering it frees what is held.
pub fn set_limit(bytes: usize) {
    let freed = POOL.try_with(|p| {
        let mut p = p.borrow_mut();
        p.limit = bytes;
        if p.stats.held_bytes > bytes {
            p.stats.held_bytes = 0;
            let f32 = std::mem::take(&mut p.f32.by_len);
            let f64 = std::mem::take(&mut p.f64.by_len);
            Some((f32, f64))
        } else {
            None
        }
    });
    drop(freed);
}

/// This thread's pool limit in bytes.
pub fn limit() -> usize {
    POOL.try_with(|p| p.borrow().limit).unwrap_or(0)
}

/// A tensor's element buffer, inside the reference-counted shell tensors share. (The recycling
/// function is stored, so the type needs no bounds and neither do the tensors holding it.)
pub(crate) struct Buffer<T> {
    data: Vec<T>,
    recycle: fn(Arc<Buffer<T>>),
}

/// A shared buffer: clones share it, and when the last one is dropped the buffer and its shell
/// go back to the pool.
pub(crate) struct Shared<T>(Option<Arc<Buffer<T>>>);

impl<T: Element> Shared<T> {
    /// `data` in a recycled shell where the pool has one.
    pub(crate) fn new(data: Vec<T>) -> Self {
        let shell = with_free::<T, _>(|free, _, _| free.shells.pop()).flatten();
        Shared(Some(match shell {
            Some(mut shell) => {
                Arc::get_mut(&mut shell)
                    .expect("a pooled shell has no other owner")
                    .data = data;
                shell
            }
            None => Arc::new(Buffer {
                data,
                recycle: give::<T>,
            }),
        }))
    }
}

impl<T> Shared<T> {
    /// The elements, writable, if this is the buffer's only holder.
    pub(crate) fn get_mut(&mut self) -> Option<&mut [T]> {
        self.0
            .as_mut()
            .and_then(Arc::get_mut)
            .map(|b| &mut b.data[..])
    }
}

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> std::ops::Deref for Shared<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0.as_ref().expect("only taken when dropped").data
    }
}

impl<T> Drop for Shared<T> {
    fn drop(&mut self) {
        if let Some(shell) = self.0.take() {
            (shell.recycle)(shell);
        }
    }
}

#[cfg(test)]
mod tests {
    /// A fresh `filled` buffer holds its value with its sign: `+0.0` comes from the lazily
    /// zeroed allocation, `-0.0` and other values are written; small and huge-page sizes.
    #[test]
    fn fresh_filled_buffers_hold_their_value() {
        super::clear();
        for len in [3000usize, (40 << 20) / 8 + 5] {
            for value in [0.0f64, -0.0, 1.5, f64::NAN] {
                let v = super::filled(len, value);
                assert_eq!(v.len(), len);
                for x in [v[0], v[len / 2], v[len - 1]] {
                    assert_eq!(x.to_bits(), value.to_bits(), "{len} {value}");
                }
            }
        }
    }
}
