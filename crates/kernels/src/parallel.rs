//! When kernels use more than one thread: a scoped setting, never a hidden global default.
//!
//! Every kernel splits its work into blocks whose size and order do not depend on the thread
//! count, so a result is bit-identical whether it ran on one thread or many. Whether the blocks
//! run on rayon's pool is decided here: [`Parallelism::Auto`] (the default) goes parallel only
//! above a per-kernel work threshold measured on this project's benchmarks, so small inputs never
//! touch the pool; [`with_parallelism`] overrides that for the calling thread.

use std::cell::Cell;

/// Threading policy for kernels called on this thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// One thread (the caller's). Nothing touches the rayon pool.
    Sequential,
    /// Rayon's current pool when the work exceeds the kernel's threshold, else sequential.
    #[default]
    Auto,
    /// Rayon's current pool whenever the work has more than one block (for tests and benches).
    Always,
}

thread_local! {
    static POLICY: Cell<Parallelism> = const { Cell::new(Parallelism::Auto) };
}

/// The policy in force on this thread.
pub fn parallelism() -> Parallelism {
    POLICY.with(Cell::get)
}

/// Runs `f` with `policy` in force on this thread, restoring the previous one afterwards
/// (also on panic).
///
/// ```
/// use nabla_kernels::parallel::{with_parallelism, Parallelism};
/// let x = vec![1.0f64; 1 << 20];
/// let one = with_parallelism(Parallelism::Sequential, || nabla_kernels::sum(&x));
/// let many = with_parallelism(Parallelism::Always, || nabla_kernels::sum(&x));
/// assert_eq!(one.to_bits(), many.to_bits()); // fixed blocking: same bits
/// ```
pub fn with_parallelism<R>(policy: Parallelism, f: impl FnOnce() -> R) -> R {
    struct Restore(Parallelism);
    impl Drop for Restore {
        fn drop(&mut self) {
            POLICY.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(POLICY.with(|p| p.replace(policy)));
    f()
}

/// Whether a kernel with `work` units (its own measure: elements, or flops) and the given
/// threshold should fan out to rayon under the current policy.
pub(crate) fn should_split(work: usize, threshold: usize) -> bool {
    match parallelism() {
        Parallelism::Sequential => false,
        Parallelism::Always => rayon::current_num_threads() > 1 || cfg!(test),
        Parallelism::Auto => work >= threshold && rayon::current_num_threads() > 1,
    }
}
