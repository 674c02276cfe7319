//! The summary table printed after the criterion run: each nabla kernel's median as throughput,
//! as a fraction of the measured roofline, and as a ratio to a reference measured in the same
//! run (`matrixmultiply` for GEMM, a plain scalar loop for the rest).

use crate::roofline::Roofline;
use std::path::{Path, PathBuf};

/// What one benchmark's work is, to turn its time into a rate.
#[derive(Clone, Copy, Debug)]
pub enum Work {
    /// Floating-point operations (GEMM: `2mnk`), against the FMA peak of the element type.
    Flops {
        /// Flops per iteration.
        flops: f64,
        /// `"f32"` or `"f64"`.
        ty: &'static str,
    },
    /// Elements streamed, against DRAM read+write bandwidth when `dram` (else reported as
    /// elements per second only).
    Elements {
        /// Elements per iteration.
        n: f64,
        /// Bytes moved per iteration (read + written).
        bytes: f64,
        /// How the data streams from DRAM, when it is DRAM-sized (then the fraction of
        /// bandwidth is meaningful).
        dram: Dram,
    },
}

/// Which measured bandwidth a streaming kernel is rated against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dram {
    /// Cache-resident data: no bandwidth fraction.
    No,
    /// Reads only (sum, dot): DRAM read bandwidth.
    Read,
    /// Reads and writes (y = f(x)): DRAM copy bandwidth.
    ReadWrite,
}

/// One line of the summary.
#[derive(Clone, Debug)]
pub struct Row {
    /// What it measures.
    pub label: String,
    /// Criterion benchmark path of nabla's run, `group/function/parameter`.
    pub nabla: String,
    /// Criterion benchmark path of the reference, if any.
    pub reference: Option<String>,
    /// The work per iteration.
    pub work: Work,
}

/// Where the benches write criterion's output (also given to criterion).
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("criterion")
}

/// The median time, in seconds, criterion recorded for a benchmark path.
pub fn median_secs(dir: &Path, bench: &str) -> Option<f64> {
    let path = dir.join(bench).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some(v["median"]["point_estimate"].as_f64()? * 1e-9)
}

/// Formats the table (rows whose medians are missing are skipped).
pub fn render(rows: &[Row], roof: &Roofline, dir: &Path) -> String {
    let mut out = format!(
        "roofline (measured this run, one core): f32 peak {:.1} GFLOP/s, f64 peak {:.1} GFLOP/s, \
         L2 read {:.1} GB/s, DRAM read {:.1} GB/s, DRAM copy {:.1} GB/s\n",
        roof.peak_f32_gflops,
        roof.peak_f64_gflops,
        roof.l2_read_gbs,
        roof.dram_read_gbs,
        roof.dram_copy_gbs
    );
    out += &format!(
        "{:<44} {:>11} {:>14} {:>10} {:>12}\n",
        "benchmark", "median", "rate", "roofline", "vs ref"
    );
    for row in rows {
        let Some(t) = median_secs(dir, &row.nabla) else {
            continue;
        };
        let (rate, frac) = match row.work {
            Work::Flops { flops, ty } => {
                let g = flops / t / 1e9;
                (
                    format!("{g:.1} GFLOP/s"),
                    format!("{:.0}%", 100.0 * g / roof.peak_gflops(ty)),
                )
            }
            Work::Elements { n, bytes, dram } => {
                let e = n / t / 1e9;
                let bw = match dram {
                    Dram::No => None,
                    Dram::Read => Some(roof.dram_read_gbs),
                    Dram::ReadWrite => Some(roof.dram_copy_gbs),
                };
                let frac = bw.map_or("-".to_string(), |bw| {
                    format!("{:.0}% bw", 100.0 * bytes / t / 1e9 / bw)
                });
                (format!("{e:.2} Gelem/s"), frac)
            }
        };
        let ratio = row
            .reference
            .as_deref()
            .and_then(|r| median_secs(dir, r))
            .map_or("-".to_string(), |r| format!("{:.2}x", r / t));
        out += &format!(
            "{:<44} {:>11} {:>14} {:>10} {:>12}\n",
            row.label,
            fmt_time(t),
            rate,
            frac,
            ratio
        );
    }
    out
}

fn fmt_time(t: f64) -> String {
    if t < 1e-6 {
        format!("{:.1} ns", t * 1e9)
    } else if t < 1e-3 {
        format!("{:.2} us", t * 1e6)
    } else {
        format!("{:.3} ms", t * 1e3)
    }
}
