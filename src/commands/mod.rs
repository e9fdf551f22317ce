//! Dispatch from a parsed command line to the subcommand implementations.
//!
//! This module owns which code runs for which subcommand; it must not parse arguments or
//! print errors (main does), and each subcommand's work belongs in its own file.

mod actions;
mod adjust_offset;
mod bench;
mod completions;
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
mod stat_check;
mod stat_facts;
mod stat_holders;
mod tail;

use crate::cli::{Cli, Command};

/// Runs the subcommand `cli` names.
pub fn run(mut cli: Cli) -> anyhow::Result<()> {
    resolve::store_from_env(&mut cli.global, &cli.command)?;
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
        Command::Completions(a) => completions::completions(a),
    }
}

/// The internal entry points that scripts call as `mfq __man DIR` and `mfq __consumers -- WORDS`
/// (see `completions`); not subcommands, so that help, completions and manual pages do not
/// show them. `None` when `args` (after the program name) is not one of them.
pub fn run_internal(args: &[std::ffi::OsString]) -> Option<anyhow::Result<()>> {
    let (first, rest) = args.split_first()?;
    let rest: Vec<String> = rest
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match first.to_str()? {
        completions::MAN => Some(completions::man(&rest)),
        completions::CONSUMERS => Some(completions::consumers(&rest)),
        _ => None,
    }
}
