//! The `mfq` binary: parses the command line, runs the subcommand, prints any error as
//! `mfq: <cause chain>` (under `--json`, as one JSON object) and exits with the documented
//! status.
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
    // --help/--version exit 0 and usage errors 2, as clap does, but under --json a usage
    // error is a JSON object too.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some(result) = commands::run_internal(&args[1.min(args.len())..]) {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                let _ = writeln!(std::io::stderr(), "mfq: {err:#}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() && commands::error_json::args_want_json(&args) => {
            let rendered = e.render().to_string();
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                commands::error_json::usage_object(&rendered)
            );
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let json = commands::error_json::wants_json(&cli);
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let code = exit::exit_code_for(&err);
            if exit::should_print(&err) {
                let line = if json {
                    commands::error_json::error_object(&err, code)
                } else {
                    format!("mfq: {}", cli::hints::error_line(&err))
                };
                let _ = writeln!(std::io::stderr(), "{line}");
            }
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
