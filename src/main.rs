//! The `mfq` binary: parses the command line, runs the subcommand, prints any error as
//! `mfq: <cause chain>` and exits with the documented status.
//!
//! This file owns the process boundary; it must not implement subcommands or format
//! anything but the final error line.

mod bench;
mod cli;
mod commands;
// TODO(engine): drop these `allow`s once the subcommands use every status and helper.
#[allow(dead_code)]
mod exit;
#[allow(dead_code)]
mod render;
#[allow(dead_code)]
mod size;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A benchmark's consumer process (see bench/child.rs), not a user command.
    if let Ok(spec) = std::env::var(bench::child::CHILD_ENV) {
        return match bench::child::main(&spec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "mfq bench child: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    // Usage errors exit 2 and --help/--version exit 0, both inside clap.
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            if exit::should_print(&err) {
                let _ = writeln!(std::io::stderr(), "mfq: {}", cli::hints::error_line(&err));
            }
            ExitCode::from(u8::try_from(exit::exit_code_for(&err)).unwrap_or(1))
        }
    }
}
