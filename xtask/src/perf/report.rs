//! The perf report: rows, the stdout table, the JSON form, and the baseline check.

use serde::{Deserialize, Serialize};

/// Allowed relative falls of a row's two unitless figures before `--check` fails.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    /// Relative fall allowed in the fraction of the roofline (0.10 = may drop 10%).
    pub fraction: f64,
    /// Relative fall allowed in the speed-up over the same-run reference.
    pub ratio: f64,
}

/// One measured row.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// Unique key, `kernel/type/size`.
    pub name: String,
    /// `gemm`, `reduce`, `activation`, `softmax`.
    pub group: String,
    /// Median seconds per nabla call.
    pub median_s: f64,
    /// Median seconds per reference call.
    pub reference_median_s: f64,
    /// Fastest sample of nabla, seconds per call.
    #[serde(default)]
    pub best_s: f64,
    /// Fastest sample of the reference, seconds per call.
    #[serde(default)]
    pub reference_best_s: f64,
    /// Fastest sample of the roof loop beside this row (streaming rows), seconds per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof_best_s: Option<f64>,
    /// Median of the roof loop beside this row (streaming rows), seconds per call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roof_median_s: Option<f64>,
    /// What the reference is.
    pub reference: String,
    /// nabla's rate in `rate_unit`.
    pub rate: f64,
    /// `GFLOP/s` or `GB/s`.
    pub rate_unit: String,
    /// Elements per second, in billions (streaming rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gelem_s: Option<f64>,
    /// The roof: `fma avx512 f32`, `l2 read`, `dram copy`, ...
    pub roof: String,
    /// The roof's measured value (same unit as `rate`).
    pub roof_value: f64,
    /// `rate / roof_value`.
    pub fraction: f64,
    /// `reference_median_s / median_s`: the speed-up over the reference.
    pub ratio: f64,
    /// Interquartile range over median of nabla's samples (noise indicator).
    pub rel_iqr: f64,
    /// The tolerance `--check` applies (written by `--save`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
}

/// The measured roofline, as recorded in the JSON.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RooflineJson {
    /// 512-bit FMA peak, f32, GFLOP/s (0 if absent).
    pub avx512_f32_gflops: f64,
    /// 512-bit FMA peak, f64.
    pub avx512_f64_gflops: f64,
    /// 256-bit FMA peak, f32.
    pub avx2_f32_gflops: f64,
    /// 256-bit FMA peak, f64.
    pub avx2_f64_gflops: f64,
    /// 128-bit SSE2 mul+add peak, f32.
    pub sse2_f32_gflops: f64,
    /// 128-bit SSE2 mul+add peak, f64.
    pub sse2_f64_gflops: f64,
    /// L2 read bandwidth, GB/s.
    pub l2_read_gbs: f64,
    /// L2 copy (read + write) bandwidth, GB/s.
    pub l2_copy_gbs: f64,
    /// DRAM read bandwidth, GB/s.
    pub dram_read_gbs: f64,
    /// DRAM copy (read + write) bandwidth, GB/s.
    pub dram_copy_gbs: f64,
}

/// A whole run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    /// Format version of this file.
    pub schema: u32,
    /// `quick` or `full`.
    pub mode: String,
    /// CPU model from `/proc/cpuinfo`.
    pub cpu: String,
    /// The SIMD path the kernels ran on (`nabla_kernels::isa::active()`).
    pub isa: String,
    /// `rustc -V` of the compiler that built this binary.
    pub rustc: String,
    /// Threads the kernels used (the suite is single-threaded).
    pub threads: usize,
    /// Hardware threads the machine offers.
    pub available_threads: usize,
    /// The roofline measured in the same run.
    pub roofline: RooflineJson,
    /// The rows.
    pub rows: Vec<Row>,
}

fn fmt_time(t: f64) -> String {
    if t < 1e-6 {
        format!("{:.1} ns", t * 1e9)
    } else if t < 1e-3 {
        format!("{:.2} us", t * 1e6)
    } else if t < 1.0 {
        format!("{:.2} ms", t * 1e3)
    } else {
        format!("{t:.3} s")
    }
}

/// Header line and separator of the table.
pub fn table_header() -> String {
    let h = format!(
        "{:<30} {:>10} {:>10} {:>16} {:>10} {:>16} {:>7} {:>8}",
        "row", "nabla", "reference", "rate", "Gelem/s", "roof", "of roof", "vs ref"
    );
    let sep = "-".repeat(h.len());
    format!("{h}\n{sep}")
}

/// One row of the table.
pub fn table_line(r: &Row) -> String {
    format!(
        "{:<30} {:>10} {:>10} {:>16} {:>10} {:>16} {:>6.1}% {:>8}",
        r.name,
        fmt_time(r.median_s),
        fmt_time(r.reference_median_s),
        format!("{:.1} {}", r.rate, r.rate_unit),
        r.gelem_s.map_or("-".to_string(), |g| format!("{g:.2}")),
        r.roof,
        100.0 * r.fraction,
        fmt_ratio(r.ratio)
    )
}

/// A ratio to the reference, with two significant digits even when it is far below one (the
/// scalar graph rows are compared with hand-written code a hundred times faster).
fn fmt_ratio(r: f64) -> String {
    if r >= 0.1 {
        format!("{r:.2}x")
    } else {
        format!("{r:.1e}x")
    }
}

/// The roofline line printed above the table.
pub fn roofline_line(r: &RooflineJson) -> String {
    format!(
        "roofline (this run, one core): FMA f32/f64 GFLOP/s: avx512 {:.1}/{:.1}, avx2 {:.1}/{:.1}, \
         sse2 {:.1}/{:.1}; GB/s: L2 read {:.1}, L2 copy {:.1}, DRAM read {:.1}, DRAM copy {:.1}",
        r.avx512_f32_gflops,
        r.avx512_f64_gflops,
        r.avx2_f32_gflops,
        r.avx2_f64_gflops,
        r.sse2_f32_gflops,
        r.sse2_f64_gflops,
        r.l2_read_gbs,
        r.l2_copy_gbs,
        r.dram_read_gbs,
        r.dram_copy_gbs
    )
}

/// What `--check` found.
#[derive(Debug, Default)]
pub struct CheckOutcome {
    /// One line per compared row.
    pub lines: Vec<String>,
    /// Rows that fell beyond their tolerance.
    pub failures: usize,
    /// Rows compared (present in both).
    pub compared: usize,
    /// Baseline rows this run did not measure.
    pub missing: Vec<String>,
}

/// Compares `current` with `baseline` row by row (by name; rows present in both only): the
/// roofline fraction and the reference ratio may each fall by at most the tolerance the
/// baseline states for the row (else `default_tol(row)`). Seconds are never compared.
pub fn check(
    current: &Report,
    baseline: &Report,
    default_tol: impl Fn(&Row) -> Tolerance,
) -> CheckOutcome {
    let mut out = CheckOutcome::default();
    for b in &baseline.rows {
        let Some(c) = current.rows.iter().find(|c| c.name == b.name) else {
            out.missing.push(b.name.clone());
            continue;
        };
        out.compared += 1;
        let tol = b.tolerance.unwrap_or_else(|| default_tol(b));
        let mut verdicts = Vec::new();
        let mut failed = false;
        for (what, cur, base, t) in [
            ("of roof", c.fraction, b.fraction, tol.fraction),
            ("vs ref", c.ratio, b.ratio, tol.ratio),
        ] {
            let change = if base > 0.0 { cur / base - 1.0 } else { 0.0 };
            let bad = change < -t;
            failed |= bad;
            verdicts.push(format!(
                "{what} {:+.1}% (tol -{:.0}%){}",
                100.0 * change,
                100.0 * t,
                if bad { " FAIL" } else { "" }
            ));
        }
        if failed {
            out.failures += 1;
        }
        out.lines.push(format!(
            "{:<5} {:<30} {}",
            if failed { "FAIL" } else { "ok" },
            b.name,
            verdicts.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, fraction: f64, ratio: f64) -> Row {
        Row {
            name: name.into(),
            group: "gemm".into(),
            median_s: 1.0,
            reference_median_s: 1.0,
            best_s: 1.0,
            reference_best_s: 1.0,
            roof_best_s: None,
            roof_median_s: None,
            reference: "r".into(),
            rate: 1.0,
            rate_unit: "GFLOP/s".into(),
            gelem_s: None,
            roof: "fma".into(),
            roof_value: 1.0,
            fraction,
            ratio,
            rel_iqr: 0.0,
            tolerance: None,
        }
    }

    fn report(rows: Vec<Row>) -> Report {
        Report {
            schema: 1,
            mode: "quick".into(),
            cpu: "x".into(),
            isa: "avx2".into(),
            rustc: "rustc".into(),
            threads: 1,
            available_threads: 2,
            roofline: RooflineJson {
                avx512_f32_gflops: 0.0,
                avx512_f64_gflops: 0.0,
                avx2_f32_gflops: 1.0,
                avx2_f64_gflops: 1.0,
                sse2_f32_gflops: 1.0,
                sse2_f64_gflops: 1.0,
                l2_read_gbs: 1.0,
                l2_copy_gbs: 1.0,
                dram_read_gbs: 1.0,
                dram_copy_gbs: 1.0,
            },
            rows,
        }
    }

    #[test]
    fn check_compares_shared_rows_against_tolerance() {
        let tol = |_: &Row| Tolerance {
            fraction: 0.10,
            ratio: 0.10,
        };
        let mut stated = row("c", 0.5, 2.0);
        stated.tolerance = Some(Tolerance {
            fraction: 0.5,
            ratio: 0.5,
        });
        let base = report(vec![
            row("a", 0.5, 2.0),
            row("b", 0.5, 2.0),
            stated,
            row("gone", 0.5, 2.0),
        ]);
        let cur = report(vec![
            row("a", 0.46, 1.9),  // -8%, -5%: within 10%
            row("b", 0.5, 1.7),   // ratio -15%: fails
            row("c", 0.3, 1.2),   // -40%: within its own 50%
            row("new", 0.1, 0.1), // not in the baseline: ignored
        ]);
        let out = check(&cur, &base, tol);
        assert_eq!(out.compared, 3);
        assert_eq!(out.failures, 1);
        assert_eq!(out.missing, ["gone"]);
        assert!(out.lines[1].starts_with("FAIL"));
        // Round trip through JSON.
        let text = serde_json::to_string(&base).unwrap();
        let back: Report = serde_json::from_str(&text).unwrap();
        assert_eq!(back.rows.len(), 4);
        assert_eq!(back.rows[2].tolerance.unwrap().fraction, 0.5);
    }
}
