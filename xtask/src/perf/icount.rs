//! `cargo xtask perf icount`: instruction counts under valgrind's callgrind.
//!
//! Wall-clock time on a shared two-core machine moves by several percent from run to run;
//! instruction counts do not (same binary, same inputs, same environment: same count). So a
//! deterministic subset of the kernels at fixed sizes is run once each, in a child process of
//! this binary under `valgrind --tool=callgrind`, with collection switched on only inside
//! [`nabla_icount_region`] (after a warm-up call, so lazily built scratch buffers are not
//! counted). The AVX2 path is forced (`NABLA_ISA=avx2 NABLA_ISA_STRICT=1`): valgrind cannot
//! execute AVX-512.
//!
//! The counts are compared with `xtask/icount-baseline.json`; a rise of more than
//! [`MAX_RISE`] fails. `--save` rewrites the baseline. Without valgrind the command says so
//! and succeeds.

use crate::{Args, fail};
use nabla_kernels::Element;
use nabla_kernels::gemm::{self, MatMut, MatRef};
use nabla_kernels::parallel::{Parallelism, with_parallelism};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The committed baseline.
pub const BASELINE: &str = "xtask/icount-baseline.json";

/// Largest accepted relative rise of a workload's instruction count.
pub const MAX_RISE: f64 = 0.02;

/// The committed counts.
#[derive(Debug, Serialize, Deserialize)]
struct Baseline {
    /// What the counts were taken with.
    isa: String,
    /// Compiler that built the measured binary.
    rustc: String,
    /// Instructions per workload (inside the measured region).
    counts: BTreeMap<String, u64>,
}

/// The measured region: one call of `f`. Callgrind's `--toggle-collect` names this symbol.
#[unsafe(no_mangle)]
#[inline(never)]
pub fn nabla_icount_region(f: &mut dyn FnMut()) {
    f();
}

fn gemm_case<T: Element>(m: usize, k: usize, n: usize, bt: bool) -> Box<dyn FnMut()> {
    let a: Vec<T> = crate::perf::suite::data(m * k, 1, 1.0);
    let b: Vec<T> = crate::perf::suite::data(k * n, 2, 1.0);
    let mut c = vec![T::ZERO; m * n];
    Box::new(move || {
        let bv = if bt {
            MatRef::row_major(&b, n, k).t()
        } else {
            MatRef::row_major(&b, k, n)
        };
        gemm::gemm(
            T::ONE,
            MatRef::row_major(&a, m, k),
            bv,
            T::ZERO,
            MatMut::row_major(&mut c, m, n),
        );
        black_box(&mut c);
    })
}

fn map_case<T: Element>(len: usize, f: fn(&[T], &mut [T])) -> Box<dyn FnMut()> {
    let x: Vec<T> = crate::perf::suite::data(len, 8, 8.0);
    let mut y = vec![T::ZERO; len];
    Box::new(move || {
        f(&x, &mut y);
        black_box(&mut y);
    })
}

/// A workload: its name and what builds its buffers and the call to count.
type Workload = (&'static str, fn() -> Box<dyn FnMut()>);

/// The workloads. Fixed sizes, fixed data: the counts are exact.
fn workloads() -> Vec<Workload> {
    use nabla_kernels::activation as act;
    vec![
        ("gemm/f32/64", || gemm_case::<f32>(64, 64, 64, false)),
        ("gemm/f64/64", || gemm_case::<f64>(64, 64, 64, false)),
        ("gemm/f32/97x300x83", || {
            gemm_case::<f32>(97, 300, 83, false)
        }),
        ("gemm/f32/mlp_64x784x128_bt", || {
            gemm_case::<f32>(64, 784, 128, true)
        }),
        ("sum/f32/100000", || {
            let x: Vec<f32> = crate::perf::suite::data(100_000, 6, 1.0);
            Box::new(move || {
                black_box(nabla_kernels::sum(black_box(&x)));
            })
        }),
        ("dot/f64/50000", || {
            let x: Vec<f64> = crate::perf::suite::data(50_000, 6, 1.0);
            let y: Vec<f64> = crate::perf::suite::data(50_000, 7, 1.0);
            Box::new(move || {
                black_box(nabla_kernels::dot(black_box(&x), &y));
            })
        }),
        ("exp/f32/16384", || map_case::<f32>(16_384, act::exp)),
        ("sigmoid/f32/16384", || {
            map_case::<f32>(16_384, act::sigmoid)
        }),
        ("tanh/f32/16384", || map_case::<f32>(16_384, act::tanh)),
        ("gelu/f32/16384", || map_case::<f32>(16_384, act::gelu)),
        ("exp/f64/8192", || map_case::<f64>(8_192, act::exp)),
        ("softmax_rows/f32/64x1024", || {
            let x: Vec<f32> = crate::perf::suite::data(64 * 1024, 9, 20.0);
            let mut y = vec![0.0f32; x.len()];
            Box::new(move || {
                nabla_kernels::softmax(&x, 64, 1024, 1024, &mut y);
                black_box(&mut y);
            })
        }),
        ("logsumexp_rows/f64/32x1000", || {
            let x: Vec<f64> = crate::perf::suite::data(32 * 1000, 9, 20.0);
            let mut o = vec![0.0f64; 32];
            Box::new(move || {
                nabla_kernels::logsumexp(&x, 32, 1000, 1000, &mut o);
                black_box(&mut o);
            })
        }),
    ]
}

/// `perf icount-run NAME`: the child process's side (one workload, once, in the region).
pub fn run_workload(mut args: Args) -> ExitCode {
    let Some(name) = args.next() else {
        return fail("perf icount-run: missing workload name");
    };
    let Some((_, make)) = workloads().into_iter().find(|(n, _)| *n == name) else {
        return fail(&format!("perf icount-run: no workload {name:?}"));
    };
    with_parallelism(Parallelism::Sequential, || {
        let mut f = make();
        f(); // warm-up: scratch buffers, the ISA probe
        nabla_icount_region(&mut *f);
    });
    ExitCode::SUCCESS
}

/// Total `Ir` of a callgrind output file (its `totals:` or `summary:` line).
pub fn parse_total(text: &str) -> Option<u64> {
    let line = text
        .lines()
        .find(|l| l.starts_with("totals:"))
        .or_else(|| text.lines().find(|l| l.starts_with("summary:")))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn valgrind_available() -> bool {
    Command::new("valgrind")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn measure(exe: &Path, name: &str, dir: &Path) -> Result<u64, String> {
    let out = dir.join(format!("callgrind.{}.out", name.replace('/', "_")));
    let run = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=nabla_icount_region")
        .arg(exe)
        .args(["perf", "icount-run", name])
        .env("NABLA_ISA", "avx2")
        .env("NABLA_ISA_STRICT", "1")
        .output()
        .map_err(|e| format!("cannot run valgrind: {e}"))?;
    if !run.status.success() {
        return Err(format!(
            "valgrind run of {name} failed ({}):\n{}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
        ));
    }
    let text =
        std::fs::read_to_string(&out).map_err(|e| format!("cannot read {}: {e}", out.display()))?;
    let n = parse_total(&text).ok_or_else(|| format!("no totals line in {}", out.display()))?;
    if n == 0 {
        return Err(format!(
            "{name}: callgrind counted nothing (is the symbol nabla_icount_region stripped?)"
        ));
    }
    Ok(n)
}

/// `cargo xtask perf icount [--save] [--baseline PATH]`.
pub fn main(mut args: Args) -> ExitCode {
    let mut save = false;
    let mut path = PathBuf::from(BASELINE);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--save" => save = true,
            "--baseline" => path = args.value(&a).into(),
            _ => return fail(&format!("perf icount: unknown argument {a:?}")),
        }
    }
    if !valgrind_available() {
        println!("perf icount: valgrind is not installed; skipping the instruction counts");
        return ExitCode::SUCCESS;
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => return fail(&format!("cannot locate this binary: {e}")),
    };
    let dir = exe
        .parent()
        .map_or_else(std::env::temp_dir, Path::to_path_buf)
        .join("icount");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return fail(&format!("cannot create {}: {e}", dir.display()));
    }
    let base: Option<Baseline> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    if base.is_none() && !save {
        println!(
            "perf icount: no baseline at {} (run with --save to write one)",
            path.display()
        );
    }
    println!(
        "instruction counts under callgrind, NABLA_ISA=avx2 (rise limit {:.0}%):",
        100.0 * MAX_RISE
    );
    println!(
        "{:<30} {:>14} {:>14} {:>9}",
        "workload", "instructions", "baseline", "change"
    );
    let mut counts = BTreeMap::new();
    let mut rises = 0;
    for (name, _) in workloads() {
        let n = match measure(&exe, name, &dir) {
            Ok(n) => n,
            Err(e) => return fail(&e),
        };
        let old = base.as_ref().and_then(|b| b.counts.get(name)).copied();
        let change = old.map(|o| n as f64 / o as f64 - 1.0);
        let bad = change.is_some_and(|c| c > MAX_RISE);
        rises += bad as usize;
        println!(
            "{:<30} {:>14} {:>14} {:>9}{}",
            name,
            n,
            old.map_or("-".into(), |o| o.to_string()),
            change.map_or("-".into(), |c| format!("{:+.2}%", 100.0 * c)),
            if bad { "  RISE" } else { "" }
        );
        counts.insert(name.to_string(), n);
    }
    if let Some(b) = base
        .as_ref()
        .filter(|b| b.rustc != env!("XTASK_RUSTC_VERSION"))
    {
        println!(
            "note: baseline built by {}, this binary by {}: codegen may differ",
            b.rustc,
            env!("XTASK_RUSTC_VERSION")
        );
    }
    if save {
        let b = Baseline {
            isa: "avx2".into(),
            rustc: env!("XTASK_RUSTC_VERSION").into(),
            counts,
        };
        let text = serde_json::to_string_pretty(&b).expect("serializes") + "\n";
        if let Err(e) = std::fs::write(&path, text) {
            return fail(&format!("cannot write {}: {e}", path.display()));
        }
        println!("saved {}", path.display());
        return ExitCode::SUCCESS;
    }
    if rises > 0 {
        println!(
            "{rises} workload(s) rose by more than {:.0}%",
            100.0 * MAX_RISE
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_callgrind_totals() {
        let text = "version: 1\ncreator: callgrind-3.19.0\nevents: Ir\nfl=(1)\nfn=(1)\n16 3\nsummary: 123456\n\n\ntotals: 123456\n";
        assert_eq!(parse_total(text), Some(123_456));
        assert_eq!(parse_total("events: Ir\n"), None);
    }

    #[test]
    fn workloads_run() {
        for (_, make) in workloads() {
            let mut f = make();
            nabla_icount_region(&mut *f);
        }
    }
}
