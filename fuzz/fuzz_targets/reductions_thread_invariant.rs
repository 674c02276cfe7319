//! libFuzzer target: see `nabla_fuzz::reductions_thread_invariant`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nabla_fuzz::reductions_thread_invariant(data));
