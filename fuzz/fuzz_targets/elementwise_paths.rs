//! libFuzzer target: see `nabla_fuzz::elementwise_paths`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nabla_fuzz::elementwise_paths(data));
