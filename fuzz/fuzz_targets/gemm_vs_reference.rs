//! libFuzzer target: see `nabla_fuzz::gemm_vs_reference`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nabla_fuzz::gemm_vs_reference(data));
