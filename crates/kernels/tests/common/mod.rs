//! What the GEMM and GEMV tests share: matrix layouts (row- or column-major, padded, strided,
//! offset), deterministic values, and runs on one and on three threads.

use nabla_kernels::parallel::{Parallelism, with_parallelism};
use proptest::prelude::*;

/// `run` under [`Parallelism::Sequential`] and, on a pool of three threads, under
/// [`Parallelism::Always`] (every split taken): `(one, three)`, for thread-count invariance.
pub fn one_and_three_threads<R: Send>(run: impl Fn() -> R + Sync) -> (R, R) {
    let one = with_parallelism(Parallelism::Sequential, &run);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let three = pool.install(|| with_parallelism(Parallelism::Always, &run));
    (one, three)
}

/// Strides for an `r x c` matrix: row- or column-major, the major axis padded, every element
/// `step` apart along the minor axis (`step > 1`: neither axis unit-stride), after `offset`.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub col_major: bool,
    pub pad: usize,
    pub step: usize,
    pub offset: usize,
}

impl Layout {
    pub fn strides(self, r: usize, c: usize) -> (usize, usize) {
        if self.col_major {
            (self.step, (r * self.step) + self.pad)
        } else {
            ((c * self.step) + self.pad, self.step)
        }
    }
    pub fn len(self, r: usize, c: usize) -> usize {
        let (rs, cs) = self.strides(r, c);
        self.offset
            + if r == 0 || c == 0 {
                0
            } else {
                (r - 1) * rs + (c - 1) * cs + 1
            }
    }
    pub fn index(self, r: usize, c: usize, i: usize, j: usize) -> usize {
        let (rs, cs) = self.strides(r, c);
        self.offset + i * rs + j * cs
    }
    /// For each element of a buffer of `len`, whether an `r x c` view in this layout covers it
    /// (`O(len + r c)`, so checks that nothing outside a view changed stay linear).
    #[allow(dead_code)] // not every test binary that shares this module uses it
    pub fn covers(self, r: usize, c: usize, len: usize) -> Vec<bool> {
        let mut mask = vec![false; len];
        for i in 0..r {
            for j in 0..c {
                mask[self.index(r, c, i, j)] = true;
            }
        }
        mask
    }
}

/// Dense row-major and column-major layouts; tests derive padded or offset ones from them.
pub const ROW: Layout = Layout {
    col_major: false,
    pad: 0,
    step: 1,
    offset: 0,
};
pub const COL: Layout = Layout {
    col_major: true,
    ..ROW
};

/// Random layouts; with `strided`, some have no unit-stride axis (`step > 1`).
pub fn layout(strided: bool) -> impl Strategy<Value = Layout> {
    (
        any::<bool>(),
        0usize..3,
        if strided {
            prop_oneof![Just(1usize), Just(1), 2usize..4].boxed()
        } else {
            Just(1usize).boxed()
        },
        0usize..3,
    )
        .prop_map(|(col_major, pad, step, offset)| Layout {
            col_major,
            pad,
            step,
            offset,
        })
}

/// A deterministic pseudo-random value in [-1, 1).
pub fn val(seed: u64, i: usize) -> f64 {
    let mut x = seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
}
