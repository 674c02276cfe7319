//! Which way an elementwise loop runs: ascending, or descending to avoid 4K aliasing.
//!
//! A load issued while older stores are still in flight is first checked against them by the
//! low 12 address bits; when those overlap a store's bytes, the load waits for it although the
//! addresses differ (4K aliasing). A loop that reads `x[i]` and then writes `y[i]` meets this on
//! every vector when `y` lies a little *ahead* of `x` modulo 4 KiB: each store lands, modulo
//! 4 KiB, where the next loads read. Run from the last element down, the same loop sees `y`
//! *behind* `x`, where nothing collides.
//!
//! `cargo bench -p nabla-benches --bench kernels -- output_offset` measures it (one core,
//! 128 KiB of `f32` in L2, output 48 bytes ahead against at the same offset): with every loop
//! ascending (a local build whose [`descending`] always said no), exp 4.55 against 5.84 Gelem/s, add 10.5 against 14.1, softmax 2.76 against
//! 3.32; with the direction chosen here, 5.88, 12.8 and 3.19 (same offset: 5.88, 14.0, 3.29).
//!
//! Only loops whose order cannot change a result choose their direction (the elementwise maps of
//! [`crate::activation`] and [`crate::elementwise`]); loops that also sum keep one order, so
//! that their bits never depend on where buffers lie. Softmax, whose exponential pass both stores
//! and sums, splits it when its output lies just ahead of its input: an elementwise map stores
//! the exponentials (descending), and a second pass sums them from the output in the fused
//! pass's order (the same bits; a few percent slower than the fused pass, against the 17% the
//! aliasing cost in the bench above). The fused maps of
//! [`crate::fused`] keep their one pass: their sum is of values they do not store.

/// How far ahead of an input (in bytes, modulo 4 KiB) an output collides with it in an
/// ascending loop: about the bytes of the stores in flight (a descending loop collides within
/// as far behind).
const WINDOW: usize = 1024;

/// Whether a loop that writes `out[i]` after reading `inputs[j][i]` should run descending: some
/// input lies less than [`WINDOW`] bytes behind `out` modulo 4 KiB (an ascending loop would
/// collide with it) and none lies less than `WINDOW` bytes ahead (a descending one would). An
/// input at the same address modulo 4 KiB (an in-place operation) collides with neither.
pub(crate) fn descending<T>(out: *const T, inputs: &[*const T]) -> bool {
    let ahead = |x: &*const T| (out as usize).wrapping_sub(*x as usize) % 4096;
    let up = inputs.iter().any(|x| (1..WINDOW).contains(&ahead(x)));
    let down = inputs
        .iter()
        .any(|x| (4096 - WINDOW + 1..4096).contains(&ahead(x)));
    up && !down
}

/// The starts `0, len, 2 len, ...` of `count` consecutive runs of `len` elements, ascending or
/// descending (a sentinel, not a count, ends it: one add and one compare per step, as a plain
/// `while` loop).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Starts {
    next: usize,
    step: usize,
    stop: usize,
}

impl Starts {
    pub(crate) fn new(count: usize, len: usize, descending: bool) -> Self {
        if count == 0 {
            Starts {
                next: 0,
                step: len,
                stop: 0,
            }
        } else if descending {
            Starts {
                next: (count - 1) * len,
                step: len.wrapping_neg(),
                stop: len.wrapping_neg(),
            }
        } else {
            Starts {
                next: 0,
                step: len,
                stop: count * len,
            }
        }
    }
}

impl Iterator for Starts {
    type Item = usize;
    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        if self.next == self.stop {
            return None;
        }
        let i = self.next;
        self.next = self.next.wrapping_add(self.step);
        Some(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_cover_the_runs_in_either_order() {
        assert_eq!(
            Starts::new(4, 16, false).collect::<Vec<_>>(),
            [0, 16, 32, 48]
        );
        assert_eq!(
            Starts::new(4, 16, true).collect::<Vec<_>>(),
            [48, 32, 16, 0]
        );
        assert_eq!(Starts::new(0, 16, true).count(), 0);
        assert_eq!(Starts::new(1, 8, true).collect::<Vec<_>>(), [0]);
    }

    #[test]
    fn descends_only_when_an_output_is_just_ahead_of_an_input() {
        let at = |a: usize| std::ptr::without_provenance::<f32>(a);
        let x = 0x10_0010;
        // 48 bytes ahead (the measured worst case), and ahead across a page boundary.
        assert!(descending(at(x + 48), &[at(x)]));
        assert!(descending(at(x + 3 * 4096 + 1000), &[at(x)]));
        // In place, behind, or far ahead modulo 4 KiB: ascending.
        assert!(!descending(at(x), &[at(x)]));
        assert!(!descending(at(x + 4096), &[at(x)]));
        assert!(!descending(at(x - 48), &[at(x)]));
        assert!(!descending(at(x + 2048), &[at(x)]));
        // One input wants each direction: ascending (no direction is clear of both).
        assert!(!descending(at(x + 48), &[at(x), at(x + 96)]));
        // Two inputs just behind: descending.
        assert!(descending(at(x + 48), &[at(x), at(x + 16)]));
    }
}
