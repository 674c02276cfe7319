//! Support for nabla's benchmarks: the machine's roofline (peak FMA throughput and memory
//! bandwidth, measured in the same run as the kernels) and the summary that turns criterion's
//! medians into fractions of that roofline and ratios to same-run references.

pub mod roofline;
pub mod summary;
