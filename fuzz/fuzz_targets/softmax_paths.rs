//! libFuzzer target: see `nabla_fuzz::softmax_paths`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nabla_fuzz::softmax_paths(data));
