//! Dispatch from a parsed command line to the subcommand implementations.
//!
//! This module owns which code runs for which subcommand; it must not parse arguments or
//! print errors (main does), and each subcommand's work belongs in its own file.

mod actions;
mod adjust_offset;
mod bench;
mod consume;
mod dump_segment;
pub mod error_json;
mod output;
mod produce;
mod produce_input;
mod prune;
mod recover;
pub mod resolve;
mod stat;
mod stat_facts;
mod stat_holders;
mod tail;

use std::io::Write;

use anyhow::Context;

use crate::cli::{self, Cli, Command, CompletionsArgs};

/// Runs the subcommand `cli` names.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let g = &cli.global;
    match &cli.command {
        Command::Produce(a) => produce::run(g, a),
        Command::Consume(a) => consume::run(g, a),
        Command::Tail(a) => tail::run(g, a),
        Command::Stat(a) => stat::run(g, a),
        Command::DumpSegment(a) => dump_segment::run(g, a),
        Command::AdjustOffset(a) => adjust_offset::run(g, a),
        Command::Prune(a) => prune::run(g, a),
        Command::Recover(a) => recover::run(g, a),
        Command::Bench(a) => bench::run(g, a),
        Command::Completions(args) => completions(args),
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
