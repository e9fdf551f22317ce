//! `mfq tail`: follows a store with an observer (it never commits), printing records in the
//! `--output` layout as they are appended, across segment rolls.
//!
//! Start: `--from`, else the last `-n` records before the end, else the earliest record with
//! `-e` (it reads what is there, like `kcat -C -e`), else the end of the data. Records ready
//! now are printed in batches; whenever the reader catches up, the batch is flushed at once, so
//! a new record shows within milliseconds. While idle it sleeps on the engine's wake-up word in
//! rounds of a quarter second, and between rounds checks whether standard output has hung up
//! (the reader of its pipe is gone), so `mfq tail | head` ends once head has its lines even when
//! no further record comes. A closed standard output ends the command quietly (exit 0).
//!
//! This module must not write any store file.

use std::time::Instant;

use anyhow::Context;
use mfq::queue::{positions, Observer, StartAt, Store};

use super::consume::CLI_WAIT;
use super::output::{self, Output};
use super::resolve;
use crate::cli::values::TailFrom;
use crate::cli::{GlobalOpts, TailArgs};

/// Runs `mfq tail`.
pub fn run(global: &GlobalOpts, args: &TailArgs) -> anyhow::Result<()> {
    let store = resolve::open_store(global, args.store_dir.as_ref())?;
    let path = store.path();
    let start = start_at(&store, args)
        .with_context(|| format!("cannot find where to start in {}", path.display()))?;
    let mut observer = store
        .observer_with(start, CLI_WAIT)
        .with_context(|| format!("cannot follow {}", path.display()))?;
    follow(
        &mut observer,
        &mut Output::for_command(global, args.output, args.payload)?,
        args.exit_at_end,
    )
}

/// Where the observer starts: `--from`, else the first of the last `-n` records, else the
/// earliest record with `-e`, else the end.
fn start_at(store: &Store, args: &TailArgs) -> anyhow::Result<StartAt> {
    match args.from {
        Some(TailFrom::Beginning) => return Ok(StartAt::Earliest),
        Some(TailFrom::End) => return Ok(StartAt::Latest),
        Some(TailFrom::Offset(o)) => return Ok(StartAt::Offset(o)),
        None => {}
    }
    let lines = match args.lines {
        None if args.exit_at_end => return Ok(StartAt::Earliest),
        None | Some(0) => return Ok(StartAt::Latest),
        Some(n) => n,
    };
    let segs = store.segments()?;
    let end = positions::data_end(store.params(), &segs)?;
    let last = positions::last_records(store.params(), &segs, end, lines)?;
    Ok(last
        .first()
        .map_or(StartAt::Offset(end), |o| StartAt::Offset(*o)))
}

/// Prints records as they come; returns at the end with `exit_at_end`, else never (but for
/// errors, including a closed standard output).
fn follow(observer: &mut Observer, out: &mut Output, exit_at_end: bool) -> anyhow::Result<()> {
    let mut stdout = output::stdout_writer();
    let result = follow_into(observer, out, exit_at_end, &mut stdout);
    if result.is_err() {
        // The records read before a damaged one are printed before the error is.
        let _ = out.write_to(&mut stdout);
    }
    result
}

fn follow_into(
    observer: &mut Observer,
    out: &mut Output,
    exit_at_end: bool,
    stdout: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    loop {
        let ready = next_into(observer, None, out)?;
        if ready && !out.is_full() {
            continue;
        }
        out.write_to(stdout)
            .context("cannot write to standard output")?;
        if ready {
            continue;
        }
        if exit_at_end {
            return Ok(());
        }
        output::wait_watching_stdout(None, |until| next_into(observer, Some(until), out))?;
    }
}

/// Reads the next record into `out`, waiting until `deadline` when given; false when none.
fn next_into(
    observer: &mut Observer,
    deadline: Option<Instant>,
    out: &mut Output,
) -> anyhow::Result<bool> {
    let rec = match deadline {
        None => observer.try_next(),
        Some(d) => observer.next_until(Some(d), None),
    }
    .context("cannot read the next record")?;
    let got = rec
        .map(|r| out.push(r.offset, r.next_offset, r.payload))
        .is_some();
    output::note_skipped_gaps(observer.take_skipped_gaps());
    Ok(got)
}
