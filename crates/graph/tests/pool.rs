//! Buffer reuse across training steps: after the warm-up of a loop that repeats its shapes,
//! no tensor buffer of pooled size is allocated again (every request is served by the pool),
//! and recycled buffers never leak old contents into results.

use nabla_graph::{Graph, Tensor, pool};

/// One step of a 256-256-10 MLP at batch 64 (f32): forward, cross-entropy, gradients of every
/// parameter. Returns the loss and the gradients.
fn step(x: &Tensor<f32>, labels: &[usize], params: &[Tensor<f32>]) -> (f32, Vec<Tensor<f32>>) {
    let g = Graph::new();
    let vars: Vec<_> = params.iter().map(|p| g.var(p.clone())).collect();
    let mut h = g.constant(x.clone());
    for (l, wb) in vars.chunks(2).enumerate() {
        h = h.matmul(wb[0]) + wb[1];
        if l == 0 {
            h = h.relu();
        }
    }
    let loss = h.cross_entropy(labels);
    let grads = g.grad(loss, &vars).unwrap();
    (loss.value().item(), grads)
}

#[test]
fn a_repeated_training_step_allocates_no_pooled_buffer_after_the_first() {
    let x = Tensor::<f32>::randn(&[64, 256], 1);
    let labels: Vec<usize> = (0..64).map(|i| i % 10).collect();
    let params = vec![
        Tensor::<f32>::randn(&[256, 256], 2),
        Tensor::<f32>::zeros(&[256]),
        Tensor::<f32>::randn(&[256, 10], 3),
        Tensor::<f32>::zeros(&[10]),
    ];
    pool::clear();
    // Warm-up: the first step allocates everything; the second allocates the buffers of its
    // gradients once more, since this test keeps the first step's gradients alive.
    let (loss0, grads0) = step(&x, &labels, &params);
    drop(step(&x, &labels, &params));
    let warm = pool::stats();
    assert!(warm.misses > 0, "the first step allocates: {warm:?}");
    for _ in 0..3 {
        let (loss, grads) = step(&x, &labels, &params);
        // Same inputs, same bits: recycled buffers hold stale data, which must never show.
        assert_eq!(loss.to_bits(), loss0.to_bits());
        assert_eq!(grads, grads0);
    }
    let after = pool::stats();
    assert_eq!(
        after.misses, warm.misses,
        "later steps allocated: {after:?}"
    );
    assert!(after.hits > warm.hits);
}

#[test]
fn the_pool_respects_its_limit_and_can_be_cleared() {
    pool::clear();
    let old = pool::limit();
    pool::set_limit(100 * 1024);
    drop(Tensor::<f64>::zeros(&[10_000])); // 80 KB: kept
    drop(Tensor::<f64>::zeros(&[10_001])); // would exceed 100 KB: freed
    assert_eq!(pool::stats().held_bytes, 80_000);
    pool::set_limit(0); // lowering below what is held frees it
    assert_eq!(pool::stats().held_bytes, 0);
    drop(Tensor::<f64>::zeros(&[10_000]));
    assert_eq!(pool::stats().held_bytes, 0);
    pool::set_limit(old);
    drop(Tensor::<f32>::scalar(1.0)); // one element: held inline, nothing to pool
    assert_eq!(pool::stats().held_bytes, 0);
    drop(Tensor::<f32>::zeros(&[100])); // small buffers are pooled too
    assert_eq!(pool::stats().held_bytes, 400);
    drop(Tensor::<f32>::zeros(&[20_000]));
    assert_eq!(pool::stats().held_bytes, 80_400);
    // At most MAX_PER_LENGTH free buffers of one length are kept.
    let many: Vec<_> = (0..pool::MAX_PER_LENGTH + 5)
        .map(|_| Tensor::<f64>::zeros(&[7]))
        .collect();
    drop(many);
    assert_eq!(
        pool::stats().held_bytes,
        80_400 + pool::MAX_PER_LENGTH * 7 * 8
    );
    pool::clear();
    assert_eq!(pool::stats(), pool::Stats::default());
}

#[test]
fn the_pool_keeps_free_lists_for_a_bounded_number_of_lengths() {
    pool::clear();
    // Twice as many distinct lengths as the pool tracks: the later ones are freed, not held.
    for n in 2..2 + 2 * pool::MAX_LENGTHS {
        drop(Tensor::<f64>::zeros(&[n]));
    }
    let held = pool::stats().held_bytes;
    let most: usize = (2..2 + pool::MAX_LENGTHS).map(|n| n * 8).sum();
    assert!(
        held > 0 && held <= most,
        "held {held} bytes, at most {most}"
    );
    pool::clear();
}
