//! `cargo xtask fuzz`: libFuzzer over the targets in `fuzz/`, through cargo-fuzz.
//!
//! ```text
//! cargo xtask fuzz [TARGET] [--seconds N] [--stable] [--require]
//! cargo xtask fuzz replay TARGET FILE...
//! cargo xtask fuzz list
//! ```
//!
//! With a nightly toolchain installed the targets are built with AddressSanitizer (cargo-fuzz's
//! default); otherwise (or with `--stable`) on stable Rust with `-s none` (libFuzzer's coverage
//! guidance and the bodies' own checks, no sanitizer). New inputs go to a scratch corpus under
//! `fuzz/target/` (ignored by git); the committed seeds in `fuzz/corpus/<target>/` are read, not
//! written. A crash is minimized (`cargo fuzz tmin`) and the command prints how to replay it and
//! how to keep it as a regression seed. Without cargo-fuzz the command says so and succeeds,
//! unless `--require`.

use crate::{Args, fail, root};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::SystemTime;

/// `cargo xtask fuzz ...`.
pub fn main(mut args: Args) -> ExitCode {
    match args.peek() {
        Some("replay") => {
            args.next();
            return replay(args);
        }
        Some("list") => {
            for (name, _) in nabla_fuzz::TARGETS {
                println!("{name}");
            }
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
    let mut target: Option<String> = None;
    let mut seconds = 60u64;
    let mut stable = false;
    let mut require = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--seconds" => match args.value(&a).parse() {
                Ok(s) => seconds = s,
                Err(_) => return fail("--seconds needs a whole number"),
            },
            "--stable" => stable = true,
            "--require" => require = true,
            t if !t.starts_with('-') && target.is_none() => target = Some(t.to_string()),
            _ => return fail(&format!("fuzz: unknown argument {a:?}")),
        }
    }
    let targets: Vec<&str> = match &target {
        Some(t) if nabla_fuzz::target(t).is_some() => vec![t.as_str()],
        Some(t) => {
            return fail(&format!(
                "no fuzz target {t:?} (see `cargo xtask fuzz list`)"
            ));
        }
        None => nabla_fuzz::TARGETS.iter().map(|(n, _)| *n).collect(),
    };
    let have_cargo_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_cargo_fuzz {
        println!(
            "cargo-fuzz is not installed (`cargo install cargo-fuzz`), so no fuzzing ran. The \
             fuzz bodies still run over the committed corpus in `cargo test -p nabla-fuzz`."
        );
        return if require {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    let nightly = !stable
        && Command::new("rustup")
            .args(["run", "nightly", "rustc", "-V"])
            .output()
            .is_ok_and(|o| o.status.success());
    let mode = if nightly {
        "nightly, AddressSanitizer"
    } else {
        "stable, no sanitizer (-s none)"
    };
    println!(
        "fuzzing {} target(s) for {seconds} s each ({mode})",
        targets.len()
    );
    let mut crashes = Vec::new();
    for t in &targets {
        match run_one(t, seconds, nightly) {
            Ok(None) => println!("{t}: no crash in {seconds} s"),
            Ok(Some(file)) => crashes.push((t.to_string(), file)),
            Err(e) => return fail(&e),
        }
    }
    if crashes.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!("\n{} target(s) crashed:", crashes.len());
    for (t, f) in &crashes {
        let name = f
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!(
            "  {t}: {}\n    replay (stable):  cargo xtask fuzz replay {t} {}\n    replay (libFuzzer): cargo fuzz run{} {t} {}\n    keep as a regression seed: cp {} fuzz/corpus/{t}/crash-{name} && cargo test -p nabla-fuzz",
            f.display(),
            f.display(),
            if nightly { "" } else { " -s none" },
            f.display(),
            f.display()
        );
    }
    ExitCode::FAILURE
}

/// The cargo command for cargo-fuzz on the chosen toolchain.
fn cargo_fuzz(nightly: bool, sub: &str) -> Command {
    let mut c = Command::new("cargo");
    if nightly {
        c.arg("+nightly");
    }
    c.args(["fuzz", sub]);
    if !nightly {
        c.args(["-s", "none"]);
    }
    // `cargo xtask` runs us with cargo's environment; let the child pick its own toolchain and
    // target directory (fuzz/target).
    for v in [
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
        "RUSTDOC",
        "CARGO_TARGET_DIR",
        "CARGO",
    ] {
        c.env_remove(v);
    }
    c.current_dir(root());
    c
}

/// Fuzzes one target; returns the minimized crash input, if any.
fn run_one(target: &str, seconds: u64, nightly: bool) -> Result<Option<PathBuf>, String> {
    let root = root();
    let work = root.join("fuzz/target/corpus").join(target);
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let artifacts = root.join("fuzz/artifacts").join(target);
    let started = SystemTime::now();
    println!("== {target}");
    let status = cargo_fuzz(nightly, "run")
        .arg(target)
        .arg(&work)
        .arg(root.join("fuzz/corpus").join(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-timeout=60")
        .arg("-max_len=1024")
        .arg("-print_final_stats=1")
        .status()
        .map_err(|e| format!("cannot run cargo fuzz: {e}"))?;
    if status.success() {
        return Ok(None);
    }
    let Some(crash) = newest_artifact(&artifacts, started) else {
        return Err(format!(
            "cargo fuzz run {target} failed ({status}) without leaving an artifact in {}",
            artifacts.display()
        ));
    };
    println!("{target}: crash input {}; minimizing", crash.display());
    let before = SystemTime::now();
    let _ = cargo_fuzz(nightly, "tmin")
        .arg(target)
        .arg(&crash)
        .args(["--", "-runs=2000"])
        .status();
    Ok(Some(
        newest_artifact(&artifacts, before)
            .filter(|p| p.to_string_lossy().contains("minimized"))
            .unwrap_or(crash),
    ))
}

/// The most recently modified file in `dir` written after `since`.
fn newest_artifact(dir: &Path, since: SystemTime) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let t = e.metadata().ok()?.modified().ok()?;
            (t >= since).then(|| (t, e.path()))
        })
        .max_by_key(|(t, _)| *t)
        .map(|(_, p)| p)
}

/// `cargo xtask fuzz replay TARGET FILE...`: runs files through a body on stable Rust.
fn replay(mut args: Args) -> ExitCode {
    let Some(t) = args.next() else {
        return fail("fuzz replay: missing TARGET");
    };
    let Some(body) = nabla_fuzz::target(&t) else {
        return fail(&format!("no fuzz target {t:?}"));
    };
    let files: Vec<String> = args.collect();
    if files.is_empty() {
        return fail("fuzz replay: no input files");
    }
    let mut failed = 0;
    for f in &files {
        let data = match std::fs::read(f) {
            Ok(d) => d,
            Err(e) => return fail(&format!("{f}: {e}")),
        };
        match std::panic::catch_unwind(|| body(&data)) {
            Ok(()) => println!("ok    {f}"),
            Err(_) => {
                failed += 1;
                println!("FAIL  {f} (panic message above)");
            }
        }
    }
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
