//! Replays every file of every committed corpus (`fuzz/corpus/<target>/`) through its target's
//! body: the seeds, and every crash ever found (each kept as a regression seed). This is how
//! CI covers the fuzz targets on stable Rust, without libFuzzer.

use std::path::{Path, PathBuf};

fn corpus_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus")
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (name, _) in nabla_fuzz::TARGETS {
        let dir = corpus_root().join(name);
        let n = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .count();
        assert!(n > 0, "{} is empty", dir.display());
    }
}

#[test]
fn corpus_dirs_name_targets() {
    for entry in std::fs::read_dir(corpus_root()).expect("fuzz/corpus") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        assert!(
            nabla_fuzz::target(&name).is_some(),
            "fuzz/corpus/{name} is not a target"
        );
    }
}

/// Every target takes any input, including one too short to decode: it does nothing then.
#[test]
fn every_input_decodes() {
    for t in nabla_fuzz::TARGETS {
        (t.1)(&[]);
        (t.1)(&[0xff; 7]);
    }
}

/// The comparison helpers the bodies use: the spacing of values and NaN-tolerant equality.
#[test]
fn ulps() {
    use nabla_fuzz::{same, ulp_at};
    assert_eq!(ulp_at::<f32>(1.0), f32::EPSILON as f64);
    assert_eq!(ulp_at::<f32>(1e-45), 2f64.powi(-149));
    assert!(same(f32::NAN, -f32::NAN));
    assert!(!same(0.0f32, -0.0));
}

/// One test per target, so a failure names it.
macro_rules! replay {
    ($name:ident) => {
        #[test]
        fn $name() {
            let dir = corpus_root().join(stringify!($name));
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.expect("entry").path())
                .collect();
            files.sort();
            for f in files {
                let data = std::fs::read(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let r = std::panic::catch_unwind(|| nabla_fuzz::$name(&data));
                if r.is_err() {
                    panic!("replaying {} failed (message above)", f.display());
                }
            }
        }
    };
}

replay!(gemm_vs_reference);
replay!(elementwise_paths);
replay!(reductions_thread_invariant);
replay!(activations_paths);
replay!(softmax_paths);
replay!(formula);
replay!(graph_derivatives);
