//! The timing harness: medians of repeated samples, nabla and its reference interleaved.
//!
//! Criterion is built for one function at a time; here every row is a *pair* (nabla and a
//! reference), and what matters is their ratio and the fraction of a roofline measured in the
//! same run. So each sample of nabla is taken right next to a sample of the reference,
//! alternating which goes first, and any drift (frequency, a neighbour's load, thermal) hits
//! both sides alike.

use std::hint::black_box;
use std::time::Instant;

/// How long and how often to sample.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Samples per side.
    pub samples: usize,
    /// Each sample repeats the function until it takes at least this long (seconds), so short
    /// kernels are not timed at the clock's resolution.
    pub min_sample_secs: f64,
}

/// What a measurement found: seconds per call.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Median seconds per call of the measured function.
    pub median: f64,
    /// The fastest sample's seconds per call (noise on a shared machine only adds time).
    pub best: f64,
    /// Interquartile range of the samples over their median (a noise indicator).
    pub rel_iqr: f64,
}

/// Calls per sample for `f`, from one warm call (already made) taking `first` seconds.
fn calls_for(first: f64, plan: &Plan) -> usize {
    if first <= 0.0 {
        return 1000;
    }
    ((plan.min_sample_secs / first).ceil() as usize).clamp(1, 1_000_000)
}

fn time_calls(f: &mut dyn FnMut(), calls: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..calls {
        f();
    }
    black_box(());
    t.elapsed().as_secs_f64() / calls as f64
}

fn summarize(mut v: Vec<f64>) -> Timing {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = v[n / 2];
    let (q1, q3) = (v[n / 4], v[(3 * n) / 4]);
    Timing {
        median,
        best: v[0],
        rel_iqr: if median > 0.0 {
            (q3 - q1) / median
        } else {
            0.0
        },
    }
}

/// Times the functions in alternation: warm-up, calibration, then `plan.samples` samples of
/// each, the order rotated every sample (so none always runs first, right after another one
/// left the caches in its state). Returns one timing per function, in order.
pub fn interleaved(fs: &mut [&mut dyn FnMut()], plan: &Plan) -> Vec<Timing> {
    // Warm: caches, page faults of freshly allocated outputs, lazily built scratch buffers.
    let first: Vec<f64> = fs.iter_mut().map(|f| time_calls(*f, 1)).collect();
    // A second call is a better estimate than the first (which paid the warm-up).
    let calls: Vec<usize> = fs
        .iter_mut()
        .zip(first)
        .map(|(f, t)| calls_for(time_calls(*f, 1).min(t), plan))
        .collect();
    let n = fs.len();
    let mut samples = vec![Vec::with_capacity(plan.samples); n];
    for i in 0..plan.samples.max(1) {
        for j in 0..n {
            let k = (i + j) % n;
            samples[k].push(time_calls(fs[k], calls[k]));
        }
    }
    samples.into_iter().map(summarize).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_spread() {
        let t = summarize(vec![3.0, 1.0, 2.0, 100.0, 2.0]);
        assert_eq!(t.median, 2.0);
        assert!(t.rel_iqr >= 0.0);
        let mut n = 0u64;
        let mut m = 0u64;
        let plan = Plan {
            samples: 3,
            min_sample_secs: 1e-4,
        };
        let t = interleaved(&mut [&mut || n += 1, &mut || m += 1], &plan);
        assert!(t[0].median >= 0.0 && t[1].median >= 0.0);
        assert!(n >= 5 && m >= 5);
    }
}
