//! The `nabla` command: see `nabla --help` and the `nabla_cli` library.

use clap::Parser;
use nabla_cli::cli::{Cli, one_line};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            return match one_line(&e) {
                Some(line) => {
                    eprintln!("error: {line}");
                    ExitCode::from(2)
                }
                // Help and version: printed as clap prints them (help on a missing
                // subcommand goes to stderr with exit code 2).
                None => {
                    let _ = e.print();
                    ExitCode::from(if e.use_stderr() { 2 } else { 0 })
                }
            };
        }
    };
    match nabla_cli::commands::run(&cli.command) {
        Ok(out) => {
            // A closed stdout (`nabla ... | head -0`) is not worth a panic.
            let _ = std::io::stdout().lock().write_all(out.text.as_bytes());
            ExitCode::from(out.code)
        }
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
