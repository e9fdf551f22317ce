//! `mfq consume`: takes up to N messages for a consumer, prints them in the `--output` layout
//! and commits exactly what reached standard output.
//!
//! Commit rule: records are formatted into a batch (at most 4096 records or 256 KiB; on a pipe
//! at most [`PIPE_BATCH_RECORDS`]); a batch is written and flushed, and only then is the
//! consumer's offset committed to the end of it. On a pipe, a successful write only means the
//! bytes sit in the pipe's buffer (64 KiB and more), which a reader that exits (`| head -n 3`)
//! discards: there the batch is committed only once the reader has read all of it (the pipe is
//! empty), and the next batch is written only after that. So at most one batch, up to
//! `PIPE_BATCH_RECORDS` records, is committed but not used by a reader that read it and then
//! stopped; nothing is committed that the reader did not read. A failed write (a closed pipe)
//! commits nothing of the failed batch, so records may be delivered again but never lost. A
//! batch is also delivered before waiting (`--wait`), and a wait ends early, as a closed pipe,
//! when standard output hangs up.
//! `--peek` reads through an observer at the consumer's offset and changes no file.
//!
//! This module must not write segments or move any offset but the chosen consumer's.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Context;
use mfq::queue::{Consumer, ConsumerId, Observer, StartAt, Store, WaitOptions};

use super::output::{self, Output};
use super::resolve;
use crate::cli::values::{Count, OutputMode};
use crate::cli::{ConsumeArgs, GlobalOpts};
use crate::exit::{Exit, ExitStatus};
use crate::render::progress::{self, Unit};

/// Records per batch at most (see the module comment).
const BATCH_RECORDS: u64 = 4096;

/// Records per batch at most when standard output is a pipe: the most a reader that stops
/// early (`| head`) may have read, and so been committed, without using it. The README states
/// this number; change both together.
pub const PIPE_BATCH_RECORDS: u64 = 64;

/// How waiting readers of the command line poll: a short spin, then the engine's futex.
pub const CLI_WAIT: WaitOptions = WaitOptions {
    spin: Duration::from_millis(1),
    retry: Duration::from_secs(1),
};

/// Runs `mfq consume`.
pub fn run(global: &GlobalOpts, args: &ConsumeArgs) -> anyhow::Result<()> {
    let store = resolve::open_store(global, args.store_dir.as_ref())?;
    let path = store.path();
    let id = resolve::consumer_id(args.consumer.as_deref())?;
    let mut source = Source::open(&store, &id, args.peek)
        .with_context(|| format!("cannot open consumer {id} of {}", path.display()))?;
    let limit = match args.count {
        Count::N(n) => n,
        Count::All => u64::MAX,
    };
    if limit == 0 {
        return Ok(());
    }
    let wait = args.wait.map(Duration::from);
    if let (Some(d), Some(given)) = (wait, args.wait) {
        if deadline_after(d).is_err() {
            let why = format!("invalid --wait {given}: longer than the clock can count");
            return Err(Exit::new(ExitStatus::Usage, why).into());
        }
    }
    let mut out = Output::for_command(global, args.output, args.payload)?;
    let mut bar = backlog_bar(global, args, &store, &source);
    let taken = take(&mut source, limit, wait, &mut out, bar.as_mut())?;
    if taken > 0 {
        return Ok(());
    }
    let note = match args.wait {
        Some(d) => format!("no message arrived within {d}"),
        None => "no message available".to_string(),
    };
    Err(Exit::new(ExitStatus::NothingAvailable, note).into())
}

/// Takes up to `limit` records, waiting up to `wait` for each when none is ready. Returns how
/// many were printed.
fn take(
    source: &mut Source,
    limit: u64,
    wait: Option<Duration>,
    out: &mut Output,
    bar: Option<&mut Backlog>,
) -> anyhow::Result<u64> {
    let mut stdout = output::stdout_writer();
    let pipe = output::stdout_is_pipe();
    let batch = if pipe {
        PIPE_BATCH_RECORDS
    } else {
        BATCH_RECORDS
    };
    let mut sink = Sink {
        w: &mut stdout,
        pipe,
    };
    let result = take_into(source, limit, wait, out, &mut sink, batch, bar);
    if result.is_err() {
        // The records read before a damaged one are printed (and committed) before the error
        // is: the consumer stops at the damaged record.
        let _ = deliver(source, out, &mut sink);
    }
    result
}

/// Standard output and whether it is a pipe (see the module comment).
struct Sink<'a> {
    w: &'a mut dyn Write,
    pipe: bool,
}

fn take_into(
    source: &mut Source,
    limit: u64,
    wait: Option<Duration>,
    out: &mut Output,
    stdout: &mut Sink,
    batch: u64,
    mut bar: Option<&mut Backlog>,
) -> anyhow::Result<u64> {
    let mut taken = 0;
    while taken < limit {
        if let Some(b) = bar.as_deref_mut() {
            if taken % PROGRESS_EVERY == 0 {
                b.update(source.position());
            }
        }
        if !source.next(None, out)? {
            deliver(source, out, stdout)?;
            let Some(d) = wait else { break };
            let deadline = Some(deadline_after(d)?);
            if !output::wait_watching_stdout(deadline, |until| source.next(Some(until), out))? {
                break;
            }
        }
        taken += 1;
        if out.is_full() || out.pending() >= batch {
            deliver(source, out, stdout)?;
        }
    }
    deliver(source, out, stdout)?;
    Ok(taken)
}

/// Records between two updates of the progress bar.
const PROGRESS_EVERY: u64 = 1 << 14;

/// The progress of `consume -n all` through the backlog it found at the start, in bytes of
/// offsets: drawn on standard error (a terminal, without NO_COLOR) while standard output goes
/// elsewhere, never with `--wait` (the backlog grows) or JSON output.
struct Backlog {
    work: progress::Work,
    start: u64,
    end: u64,
}

impl Backlog {
    fn update(&mut self, at: u64) {
        let total = self.end.saturating_sub(self.start);
        let done = at.saturating_sub(self.start).min(total);
        self.work.update(done, total);
    }
}

fn backlog_bar(
    global: &GlobalOpts,
    args: &ConsumeArgs,
    store: &Store,
    source: &Source,
) -> Option<Backlog> {
    let wanted = args.count == Count::All && args.wait.is_none();
    let json = resolve::output_mode(global, args.output) == OutputMode::Json;
    let visible = wanted && !std::io::stdout().is_terminal() && progress::work_visible(json);
    if !visible {
        return None;
    }
    let end = store.data_end().ok()?;
    Some(Backlog {
        work: progress::Work::new("consuming", Unit::Bytes, true),
        start: source.position(),
        end,
    })
}

/// The instant `d` from now; an error (not a panic) when the clock cannot represent it.
fn deadline_after(d: Duration) -> anyhow::Result<Instant> {
    Instant::now().checked_add(d).ok_or_else(|| {
        let d = humantime::format_duration(d);
        anyhow::anyhow!("a wait of {d} is longer than the clock can count")
    })
}

/// Writes the batch, waits on a pipe until the reader has read it, then commits the consumer
/// to its end.
fn deliver(source: &mut Source, out: &mut Output, stdout: &mut Sink) -> anyhow::Result<()> {
    if out.pending() == 0 {
        return Ok(());
    }
    out.write_to(&mut stdout.w)
        .context("cannot write to standard output")?;
    if stdout.pipe {
        output::wait_drained()?;
    }
    source.commit().context("cannot commit the consumer offset")
}

/// What `consume` reads through: the consumer itself, or an observer for `--peek`.
enum Source {
    Commit(Consumer),
    Peek(Observer),
}

impl Source {
    fn open(store: &Store, id: &ConsumerId, peek: bool) -> anyhow::Result<Source> {
        if !peek {
            return Ok(Source::Commit(store.consumer_with(
                id,
                StartAt::Earliest,
                CLI_WAIT,
            )?));
        }
        Ok(Source::Peek(store.peek_consumer(id, CLI_WAIT)?))
    }

    /// Reads the next record into `out` (waiting until `deadline` when given); false when none.
    #[inline]
    fn next(&mut self, deadline: Option<Instant>, out: &mut Output) -> anyhow::Result<bool> {
        let rec = match (&mut *self, deadline) {
            (Source::Commit(c), None) => c.try_next(),
            (Source::Commit(c), Some(d)) => c.next_until(Some(d), None),
            (Source::Peek(o), None) => o.try_next(),
            (Source::Peek(o), Some(d)) => o.next_until(Some(d), None),
        }
        .context("cannot read the next record")?;
        let got = match rec {
            Some(r) => {
                out.push(r.offset, r.next_offset, r.payload);
                true
            }
            None => false,
        };
        output::note_skipped_gaps(match self {
            Source::Commit(c) => c.take_skipped_gaps(),
            Source::Peek(o) => o.take_skipped_gaps(),
        });
        Ok(got)
    }

    fn commit(&mut self) -> anyhow::Result<()> {
        match self {
            Source::Commit(c) => Ok(c.commit()?),
            Source::Peek(_) => Ok(()),
        }
    }

    /// The offset of the next record to read.
    fn position(&self) -> u64 {
        match self {
            Source::Commit(c) => c.position(),
            Source::Peek(o) => o.position(),
        }
    }
}
