//! Checkpoints: N steps straight equal k steps, save, load into fresh objects, N - k steps, to
//! the bit; and broken files fail with a message naming them.

use nabla_train::checkpoint::{self, load, save};
use nabla_train::data::digits;
use nabla_train::shuffle::train_test_split;
use nabla_train::trainer::{TrainConfig, Trainer};
use std::path::PathBuf;

fn train_set() -> (Vec<f32>, Vec<usize>) {
    let d = digits().unwrap().scaled(1.0 / 16.0);
    let (train, _) = train_test_split(d.rows(), 0.2, 2024);
    let train = d.select(&train);
    (train.x.iter().map(|&v| v as f32).collect(), train.y)
}

fn tmp(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_same(a: &Trainer, b: &Trainer) {
    assert_eq!(bits(a.mlp.params()), bits(b.mlp.params()), "parameters");
    let ((am, av), (bm, bv)) = (a.adam.moments(), b.adam.moments());
    assert_eq!((bits(am), bits(av)), (bits(bm), bits(bv)), "Adam moments");
    assert_eq!(a.adam.steps(), b.adam.steps());
    assert_eq!(a.shuffler, b.shuffler);
    assert_eq!((a.steps, &a.config), (b.steps, &b.config));
}

#[test]
fn resume_is_bit_identical() {
    let (x, y) = train_set();
    let config = TrainConfig::digits(5);
    const N: usize = 100; // 45 steps per epoch: crosses two epoch boundaries
    let mut straight = Trainer::new(config.clone(), y.len());
    for _ in 0..N {
        straight.step(&x, &y);
    }
    for k in [0, 45, 57] {
        let mut first = Trainer::new(config.clone(), y.len());
        for _ in 0..k {
            first.step(&x, &y);
        }
        let path = tmp(&format!("resume_{k}.safetensors"));
        save(&first, &path).unwrap();
        drop(first);
        let mut resumed = load(&path).unwrap();
        assert_eq!(resumed.steps, k as u64);
        for _ in k..N {
            resumed.step(&x, &y);
        }
        assert_same(&straight, &resumed);
    }
    // Not vacuous: one step more or less changes the weights.
    let mut other = Trainer::new(config, y.len());
    for _ in 0..N - 1 {
        other.step(&x, &y);
    }
    assert_ne!(bits(other.mlp.params()), bits(straight.mlp.params()));
}

#[test]
fn checkpoint_is_plain_safetensors() {
    let (x, y) = train_set();
    let mut t = Trainer::new(TrainConfig::digits(1), y.len());
    for _ in 0..3 {
        t.step(&x, &y);
    }
    let bytes = checkpoint::to_bytes(&t).unwrap();
    // The format: an 8-byte little-endian header length, then a JSON header naming the tensors.
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = std::str::from_utf8(&bytes[8..8 + n]).unwrap();
    for name in [
        "\"layers.0.weight\":{\"dtype\":\"F32\",\"shape\":[64,128]",
        "\"layers.2.bias\":{\"dtype\":\"F32\",\"shape\":[10]",
        "\"optim.m.layers.1.weight\"",
        "\"optim.step\"",
        "\"shuffler.rng\"",
    ] {
        assert!(header.contains(name), "{name} not in {header}");
    }
    let back = checkpoint::from_bytes(&bytes).unwrap();
    assert_same(&t, &back);
}

#[test]
fn broken_checkpoints_fail_with_the_file_named() {
    let e = load(tmp("does_not_exist.safetensors")).unwrap_err();
    assert!(
        e.to_string()
            .contains("does_not_exist.safetensors: cannot read"),
        "{e}"
    );
    let path = tmp("garbage.safetensors");
    std::fs::write(&path, b"not a checkpoint").unwrap();
    let e = load(&path).unwrap_err();
    assert!(e.to_string().contains("not a safetensors file"), "{e}");
    // A valid safetensors file that lacks the trainer's tensors.
    let t = Trainer::new(TrainConfig::digits(1), 10);
    let bytes = checkpoint::to_bytes(&t).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let partial: Vec<_> = st
        .tensors()
        .into_iter()
        .filter(|(n, _)| n != "optim.step")
        .collect();
    let partial = safetensors::serialize(partial, None).unwrap();
    let e = checkpoint::from_bytes(&partial).unwrap_err();
    assert_eq!(e, "tensor \"optim.step\" missing");
}
