//! Prints the SIMD paths this CPU can run, one per line, lowest first (used by `.ci/run`).
fn main() {
    for path in nabla_kernels::isa::available() {
        println!("{path}");
    }
}
