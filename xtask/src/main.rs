//! nabla's developer tasks, run as `cargo xtask ...` (an alias in `.cargo/config.toml`).
//!
//! * `cargo xtask perf`: the kernel benchmark suite against this machine's measured roofline,
//!   with `--quick`, `--json`, `--save` and `--check` against a committed baseline, and
//!   `perf icount` (instruction counts under callgrind). See [`perf`].
//! * `cargo xtask fuzz`: libFuzzer over the targets in `fuzz/` (see [`fuzz`]).
//! * `cargo xtask ci`: what CI runs (`bash .ci/run`).

mod fuzz;
mod perf;

use std::process::{Command, ExitCode};

/// Printed by `--help` and on a usage error.
pub const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  perf [--quick] [--runs N] [--filter SUBSTR] [--json PATH] [--save PATH] [--check BASELINE]
        benchmark the kernels (one thread) against the roofline measured in the same run
        (--runs N: each row's figures are medians over N runs of the suite; default 3 with
        --check or --save, else 1);
        --check fails when a row's fraction of roofline or speed-up over its reference falls
        beyond the tolerance the baseline states (e.g. --check xtask/baseline.json)
  perf icount [--save] [--baseline PATH]
        instruction counts of fixed workloads under valgrind (AVX2 path); fails on a rise
        above 2% against xtask/icount-baseline.json
  fuzz [TARGET] [--seconds N] [--stable] [--require]
        run libFuzzer (cargo-fuzz; nightly + AddressSanitizer when nightly is installed, else
        stable without a sanitizer) on one target or all, N seconds each (default 60);
        minimizes a crash and prints how to replay it and keep it as a regression seed
  fuzz replay TARGET FILE...
        run inputs through a target's body on stable Rust (no libFuzzer)
  fuzz list
        the targets
  ci    run .ci/run (what CI runs)";

/// The command-line arguments after the task name.
pub struct Args(std::iter::Peekable<std::vec::IntoIter<String>>);

impl Args {
    fn new(v: Vec<String>) -> Args {
        Args(v.into_iter().peekable())
    }
    /// The next argument without taking it.
    pub fn peek(&mut self) -> Option<&str> {
        self.0.peek().map(String::as_str)
    }
    /// The value following the flag `flag`; exits with a usage error if there is none.
    pub fn value(&mut self, flag: &str) -> String {
        match self.0.next() {
            Some(v) => v,
            None => {
                eprintln!("error: {flag} needs a value\n\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
}

impl Iterator for Args {
    type Item = String;
    fn next(&mut self) -> Option<String> {
        self.0.next()
    }
}

/// Prints `msg` as an error and returns the usage-error exit code.
pub fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// The workspace root (xtask's manifest is one level below it).
pub fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

fn ci() -> ExitCode {
    match Command::new("bash")
        .arg(root().join(".ci/run"))
        .current_dir(root())
        .status()
    {
        Ok(s) if s.success() => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(e) => fail(&format!("cannot run bash .ci/run: {e}")),
    }
}

fn main() -> ExitCode {
    let mut args = Args::new(std::env::args().skip(1).collect());
    match args.next().as_deref() {
        Some("perf") => perf::main(args),
        Some("fuzz") => fuzz::main(args),
        Some("ci") => ci(),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some(t) => fail(&format!("unknown task {t:?}\n\n{USAGE}")),
        None => fail(&format!("no task given\n\n{USAGE}")),
    }
}
