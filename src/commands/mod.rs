//! Dispatch from a parsed command line to the subcommand implementations.
//!
//! This module owns which code runs for which subcommand; it must not parse arguments or
//! print errors (main does), and each subcommand's work belongs in its own file.

use std::io::Write;

use anyhow::Context;

use crate::cli::{self, Cli, Command, CompletionsArgs};

/// Runs the subcommand `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Completions(args) => completions(&args),
        // TODO(engine): resolve the arguments and dispatch the other subcommands.
        _ => anyhow::bail!("not implemented yet"),
    }
}

/// `mfq completions SHELL`: the completion script on standard output.
fn completions(args: &CompletionsArgs) -> anyhow::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli::command(), "mfq", &mut script);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(&script)
        .and_then(|()| stdout.flush())
        .context("cannot write the completion script")
}
