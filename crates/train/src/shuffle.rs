//! Seeded randomness for training: a small generator whose whole state is four `u64`s (so a
//! checkpoint can store it), Fisher-Yates permutations, a fixed train/test split, and an
//! epoch-by-epoch mini-batch [`Shuffler`] that can stop and resume mid-epoch.

/// xoshiro256++ (Blackman and Vigna), seeded by SplitMix64: fast, 256 bits of state, and the
/// same stream on every platform and thread count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// The generator for `seed` (its state expanded by SplitMix64, never all zero).
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        Rng {
            s: [
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
                splitmix64(&mut x),
            ],
        }
    }

    /// The full state, for checkpoints.
    pub fn state(&self) -> [u64; 4] {
        self.s
    }

    /// A generator continuing from a saved [`Rng::state`].
    ///
    /// # Errors
    /// If the state is all zero (xoshiro's one invalid state: it would only produce zeros).
    pub fn from_state(s: [u64; 4]) -> Result<Rng, String> {
        if s == [0; 4] {
            return Err("an all-zero xoshiro256++ state is invalid".into());
        }
        Ok(Rng { s })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform integer in `0..n` without modulo bias (Lemire's multiply-and-reject).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: u64) -> u64 {
        assert!(n > 0, "Rng::below(0)");
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// A uniform `f64` in `[0, 1)` (53 random bits).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Shuffles `items` in place (Fisher-Yates: every permutation equally likely).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    /// A random permutation of `0..n`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        self.shuffle(&mut p);
        p
    }
}

/// A fixed split of `0..n` into training and test indices: a seeded permutation whose first
/// `round(n * test_fraction)` entries are the test set. Both lists come back sorted, so the
/// split does not depend on the order inside it.
///
/// # Panics
/// If `test_fraction` is not in `[0, 1]`.
pub fn train_test_split(n: usize, test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    assert!(
        (0.0..=1.0).contains(&test_fraction),
        "train_test_split: test fraction {test_fraction} outside [0, 1]"
    );
    let p = Rng::new(seed).permutation(n);
    let n_test = (n as f64 * test_fraction).round() as usize;
    let mut test = p[..n_test].to_vec();
    let mut train = p[n_test..].to_vec();
    test.sort_unstable();
    train.sort_unstable();
    (train, test)
}

/// Mini-batches over `0..n`, reshuffled every epoch from a seeded [`Rng`]. Its state (the
/// generator, the current epoch's order and the position in it) is public through
/// [`Shuffler::state`] so a checkpoint resumes mid-epoch with the same batches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shuffler {
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
}

/// Everything a [`Shuffler`] needs to continue: see [`Shuffler::state`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShufflerState {
    /// The generator (already advanced past the current epoch's permutation).
    pub rng: [u64; 4],
    /// The current epoch's order of `0..n`.
    pub order: Vec<usize>,
    /// How many entries of `order` have been handed out.
    pub cursor: usize,
    /// Epochs started so far (1 during the first).
    pub epoch: u64,
}

impl Shuffler {
    /// A shuffler over `0..n` seeded with `seed`; the first epoch's order is drawn at once.
    pub fn new(n: usize, seed: u64) -> Shuffler {
        let mut rng = Rng::new(seed);
        let order = rng.permutation(n);
        Shuffler {
            rng,
            order,
            cursor: 0,
            epoch: 1,
        }
    }

    /// The next mini-batch of at most `batch` indices. An epoch ends with a shorter batch when
    /// `batch` does not divide `n`; the next call starts a new epoch with a fresh permutation.
    /// Empty only when `n == 0`.
    ///
    /// # Panics
    /// If `batch == 0`.
    pub fn next_batch(&mut self, batch: usize) -> &[usize] {
        assert!(batch > 0, "Shuffler::next_batch(0)");
        if self.cursor >= self.order.len() && !self.order.is_empty() {
            self.rng.shuffle(&mut self.order);
            self.cursor = 0;
            self.epoch += 1;
        }
        let start = self.cursor;
        self.cursor = (start + batch).min(self.order.len());
        &self.order[start..self.cursor]
    }

    /// `true` when the current epoch has handed out every index.
    pub fn epoch_done(&self) -> bool {
        self.cursor >= self.order.len()
    }

    /// Epochs started so far (1 during the first).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The number of indices, `n`.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// `true` if `n == 0`.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The state to checkpoint.
    pub fn state(&self) -> ShufflerState {
        ShufflerState {
            rng: self.rng.state(),
            order: self.order.clone(),
            cursor: self.cursor,
            epoch: self.epoch,
        }
    }

    /// A shuffler continuing from `state`.
    ///
    /// # Errors
    /// If the order is not a permutation of `0..n`, the cursor lies past its end, or the
    /// generator state is invalid.
    pub fn from_state(state: ShufflerState) -> Result<Shuffler, String> {
        let n = state.order.len();
        let mut seen = vec![false; n];
        for &i in &state.order {
            if i >= n || std::mem::replace(&mut seen[i], true) {
                return Err(format!("the saved order is not a permutation of 0..{n}"));
            }
        }
        if state.cursor > n {
            return Err(format!(
                "cursor {} past the order's end ({n})",
                state.cursor
            ));
        }
        Ok(Shuffler {
            rng: Rng::from_state(state.rng)?,
            order: state.order,
            cursor: state.cursor,
            epoch: state.epoch,
        })
    }
}
