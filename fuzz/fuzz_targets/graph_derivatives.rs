//! libFuzzer target: see `nabla_fuzz::graph_derivatives`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nabla_fuzz::graph_derivatives(data));
