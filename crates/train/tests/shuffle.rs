//! The seeded generator, splits and the mini-batch shuffler.

use nabla_train::shuffle::{Rng, Shuffler, train_test_split};

#[test]
fn rng_is_reproducible_and_resumes_from_its_state() {
    let mut a = Rng::new(1);
    let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
    let mut b = Rng::new(1);
    assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
    assert_ne!(first[0], Rng::new(2).next_u64());
    let mut c = Rng::from_state(a.state()).unwrap();
    assert_eq!(a.next_u64(), c.next_u64());
    assert!(Rng::from_state([0; 4]).is_err());
}

#[test]
fn below_is_uniform_enough() {
    let mut r = Rng::new(9);
    let mut counts = [0u32; 7];
    for _ in 0..70_000 {
        counts[r.below(7) as usize] += 1;
    }
    // Each count is Binomial(70000, 1/7): mean 10000, sd ~ 93; 5 sd either side.
    assert!(
        counts.iter().all(|&c| (9_535..=10_465).contains(&c)),
        "{counts:?}"
    );
    let u: Vec<f64> = (0..1000).map(|_| r.uniform()).collect();
    assert!(u.iter().all(|&x| (0.0..1.0).contains(&x)));
}

#[test]
fn split_is_a_fixed_partition() {
    let (train, test) = train_test_split(100, 0.2, 5);
    assert_eq!((train.len(), test.len()), (80, 20));
    let mut all: Vec<usize> = train.iter().chain(&test).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    assert_eq!(train_test_split(100, 0.2, 5), (train, test.clone()));
    assert_ne!(train_test_split(100, 0.2, 6).1, test);
}

#[test]
fn shuffler_covers_each_epoch_and_resumes_mid_epoch() {
    let mut s = Shuffler::new(10, 3);
    let mut epoch1: Vec<usize> = Vec::new();
    for _ in 0..3 {
        epoch1.extend_from_slice(s.next_batch(4));
    }
    assert!(s.epoch_done());
    assert_eq!(epoch1.len(), 10);
    let mut sorted = epoch1.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    assert_ne!(epoch1, sorted, "the order is shuffled");

    // Mid-epoch-2 state: a restored copy hands out exactly the same batches from there on.
    let b = s.next_batch(4).to_vec();
    assert_eq!(s.epoch(), 2);
    assert_ne!(b, epoch1[..4].to_vec(), "a fresh permutation each epoch");
    let mut restored = Shuffler::from_state(s.state()).unwrap();
    for _ in 0..7 {
        assert_eq!(s.next_batch(4), restored.next_batch(4));
    }
    let mut bad = s.state();
    bad.order[0] = bad.order[1];
    assert!(Shuffler::from_state(bad).is_err());
}
