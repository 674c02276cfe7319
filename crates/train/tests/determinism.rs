//! The same seed gives bit-identical weights after training whatever the thread count: rayon
//! pools of one and two threads, under each of nabla-kernels' parallelism policies.

use nabla_kernels::parallel::{Parallelism, with_parallelism};
use nabla_train::data::digits;
use nabla_train::shuffle::train_test_split;
use nabla_train::trainer::{TrainConfig, Trainer};

fn train(seed: u64, batch_size: usize, x: &[f32], y: &[usize]) -> Vec<u32> {
    let config = TrainConfig {
        batch_size,
        ..TrainConfig::digits(seed)
    };
    let mut t = Trainer::new(config, y.len());
    for _ in 0..30 {
        t.step(x, y);
    }
    t.mlp.params().iter().map(|p| p.to_bits()).collect()
}

#[test]
fn same_seed_same_bits_on_any_thread_count() {
    let d = digits().unwrap().scaled(1.0 / 16.0);
    let (train_idx, _) = train_test_split(d.rows(), 0.2, 2024);
    let train_set = d.select(&train_idx);
    let x: Vec<f32> = train_set.x.iter().map(|&v| v as f32).collect();
    let y = train_set.y;
    // Batch 32 as the example; batch 512 so that the GEMMs and reductions are several blocks
    // each and the parallel paths have work to split.
    for batch in [32, 512] {
        check(batch, &x, &y);
    }
}

fn check(batch: usize, x: &[f32], y: &[usize]) {
    let reference = train(3, batch, x, y);
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        for policy in [
            Parallelism::Sequential,
            Parallelism::Auto,
            Parallelism::Always,
        ] {
            // The policy is per thread: set it on the pool's thread that runs the training.
            let bits = pool.install(|| with_parallelism(policy, || train(3, batch, x, y)));
            assert!(
                bits == reference,
                "batch {batch}, {threads} threads, {policy:?}: weights differ"
            );
        }
    }
    assert_ne!(
        train(4, batch, x, y),
        reference,
        "another seed, other weights"
    );
}
