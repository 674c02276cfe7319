//! `Dims`: a short list of sizes (a shape, its strides, a list of axes) kept inline, so the
//! shape arithmetic of an operation allocates nothing for tensors of rank up to
//! [`INLINE`]; longer lists spill to the heap. And a per-thread cache of shared shapes, so that
//! a loop repeating its shapes does not allocate one per new tensor.

use std::sync::Arc;

/// The most entries kept inline.
pub(crate) const INLINE: usize = 8;

/// A short list of `usize` (see the module docs). Dereferences to a slice.
#[derive(Clone)]
pub(crate) enum Dims {
    Inline { len: u8, d: [usize; INLINE] },
    Heap(Vec<usize>),
}

impl Dims {
    /// `n` copies of `value`.
    pub(crate) fn filled(n: usize, value: usize) -> Self {
        if n <= INLINE {
            Dims::Inline {
                len: n as u8,
                d: [value; INLINE],
            }
        } else {
            Dims::Heap(vec![value; n])
        }
    }

    /// A copy of `s`.
    pub(crate) fn from_slice(s: &[usize]) -> Self {
        let mut d = Dims::filled(s.len(), 0);
        d.copy_from_slice(s);
        d
    }
}

impl std::ops::Deref for Dims {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        match self {
            Dims::Inline { len, d } => &d[..*len as usize],
            Dims::Heap(v) => v,
        }
    }
}

impl std::ops::DerefMut for Dims {
    fn deref_mut(&mut self) -> &mut [usize] {
        match self {
            Dims::Inline { len, d } => &mut d[..*len as usize],
            Dims::Heap(v) => v,
        }
    }
}

impl FromIterator<usize> for Dims {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Self {
        let mut d = [0; INLINE];
        let mut len = 0;
        let mut iter = iter.into_iter();
        for x in iter.by_ref() {
            if len == INLINE {
                let mut v = d.to_vec();
                v.push(x);
                v.extend(iter);
                return Dims::Heap(v);
            }
            d[len] = x;
            len += 1;
        }
        Dims::Inline { len: len as u8, d }
    }
}

impl std::fmt::Debug for Dims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl PartialEq for Dims {
    fn eq(&self, other: &Self) -> bool {
        crate::tensor::same_dims(self, other)
    }
}

impl PartialEq<[usize]> for Dims {
    fn eq(&self, other: &[usize]) -> bool {
        crate::tensor::same_dims(self, other)
    }
}

/// Shapes cached per thread: enough for the distinct shapes of a model's step.
const CACHED_SHAPES: usize = 64;

thread_local! {
    static SHAPES: std::cell::RefCell<(Vec<Arc<[usize]>>, usize)> =
        const { std::cell::RefCell::new((Vec::new(), 0)) };
}

/// `shape` as a shared slice: a clone of a cached one when this thread made the same shape
/// recently (no allocation), else a new one that joins the cache (replacing the oldest when
/// it is full).
pub(crate) fn shared(shape: &[usize]) -> Arc<[usize]> {
    SHAPES
        .try_with(|c| {
            let mut c = c.borrow_mut();
            let (cache, next) = &mut *c;
            if let Some(hit) = cache.iter().find(|s| crate::tensor::same_dims(s, shape)) {
                return hit.clone();
            }
            let new: Arc<[usize]> = shape.into();
            if cache.len() < CACHED_SHAPES {
                cache.push(new.clone());
            } else {
                cache[*next] = new.clone();
                *next = (*next + 1) % CACHED_SHAPES;
            }
            new
        })
        .unwrap_or_else(|_| shape.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dims_spill_to_the_heap_past_the_inline_length() {
        let short: Dims = (0..3).collect();
        assert!(matches!(short, Dims::Inline { .. }));
        assert_eq!(&*short, &[0, 1, 2]);
        let long: Dims = (0..11).collect();
        assert!(matches!(long, Dims::Heap(_)));
        assert_eq!(&*long, &(0..11).collect::<Vec<_>>()[..]);
        assert_eq!(Dims::filled(9, 1).len(), 9);
        assert_eq!(&*Dims::from_slice(&[4, 5]), &[4, 5]);
    }

    #[test]
    fn shared_shapes_are_reused_and_correct() {
        let a = shared(&[3, 4]);
        let b = shared(&[3, 4]);
        assert!(Arc::ptr_eq(&a, &b));
        for n in 0..2 * CACHED_SHAPES {
            assert_eq!(&*shared(&[n, 1]), &[n, 1]);
        }
        assert_eq!(&*shared(&[3, 4]), &[3, 4]);
    }
}
