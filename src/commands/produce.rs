//! `mfq produce`: appends messages from `-m`, `--file` or standard input to a store, creating
//! the store when it does not exist and its parameters are given.
//!
//! A rejected message (too long, the wrong size for a fixed store, empty on a fixed store, or
//! one a .NET consumer cannot get past on a stream store without mfq.json unless
//! `--allow-dotnet-hazards`) stops the run with
//! an error naming its 1-based index; the messages before it stay written and are flushed,
//! because the producer is always closed before the error is returned. A summary (messages,
//! payload bytes, the new producer offset) goes to standard error, or as JSON to standard
//! output with `--json`.
//!
//! This module must not read records or move consumer offsets.

use std::io::{IsTerminal, Write};

use anyhow::{bail, Context};
use mfq::queue::{Params, Producer, ProducerOptions, Store};
use serde::Serialize;

use super::produce_input::{Messages, Split};
use super::{actions, resolve};
use crate::cli::values::InputMode;
use crate::cli::{GlobalOpts, ProduceArgs};

/// What `produce` did; `--json` prints it as one object with exactly these fields (after `v`).
#[derive(Serialize, Default)]
struct Summary {
    /// Messages appended.
    messages: u64,
    /// Payload bytes appended (after padding).
    bytes: u64,
    /// The offset of the first message appended (the producer offset before the run).
    first_offset: u64,
    /// The producer offset after the run: where the next message will go.
    producer_offset: u64,
}

/// Runs `mfq produce`.
pub fn run(global: &GlobalOpts, args: &ProduceArgs) -> anyhow::Result<()> {
    let path = resolve::store_path(global, args.store_dir.as_ref());
    let store = Store::open_or_create(&path, &resolve::params_request(global))
        .with_context(|| format!("cannot open store {}", path.display()))?;
    resolve::remember_params(global, &store)?;
    let params = *store.params();
    if args.pad && params.record_size().is_none() {
        bail!(
            "--pad applies to fixed stores only; {} is a stream store",
            path.display()
        );
    }
    let opts = ProducerOptions {
        flush_every: Some(args.flush_every),
        flush_interval: args.flush_interval.map(Into::into),
        background: true,
        allow_dotnet_hazards: args.allow_dotnet_hazards,
    };
    let mut producer = store
        .producer(opts)
        .with_context(|| format!("cannot open the producer of {}", path.display()))?;
    report_repair(&producer);
    let mut sink = Sink {
        pad: (args.pad).then(|| (params.record_size().unwrap_or(0) as usize, args.pad_byte)),
        padded: Vec::new(),
        summary: Summary {
            first_offset: producer.offset(),
            ..Summary::default()
        },
    };
    let fed = feed(&mut producer, &mut sink, args, &params);
    sink.summary.producer_offset = producer.offset();
    let closed = producer
        .close()
        .context("cannot flush the written messages to disk");
    print_summary(&sink.summary, global.json, &path)?;
    fed.and(closed)
}

/// Appends every message of the run.
fn feed(
    producer: &mut Producer,
    sink: &mut Sink,
    args: &ProduceArgs,
    params: &Params,
) -> anyhow::Result<()> {
    if !args.messages.is_empty() {
        for m in &args.messages {
            sink.append(producer, m.as_bytes())?;
        }
        return Ok(());
    }
    let split = match (args.input, params.record_size()) {
        (InputMode::Lines, _) => Split::Lines,
        (InputMode::Raw, Some(p)) => Split::Chunks(p as usize),
        (InputMode::Raw, None) => Split::Whole,
        (InputMode::LengthPrefixed, _) => Split::LengthPrefixed {
            max: params.max_payload(),
        },
    };
    if args.file.is_none() && std::io::stdin().is_terminal() {
        note(format_args!(
            "mfq: reading messages from the terminal, one per line; end with Ctrl-D"
        ));
    }
    let mut input = Messages::open(args.file.as_deref(), split)?;
    let mut buf = Vec::with_capacity(64 * 1024);
    while input.next_into(&mut buf)? {
        sink.append(producer, &buf)?;
    }
    Ok(())
}

/// Pads and appends messages, counting them.
struct Sink {
    /// `(record size, pad byte)` with `--pad`.
    pad: Option<(usize, u8)>,
    /// Reused buffer for padded messages.
    padded: Vec<u8>,
    summary: Summary,
}

impl Sink {
    #[inline]
    fn append(&mut self, producer: &mut Producer, msg: &[u8]) -> anyhow::Result<()> {
        let index = self.summary.messages + 1;
        let bytes = match self.pad {
            Some((size, byte)) if !msg.is_empty() && msg.len() < size => {
                self.padded.clear();
                self.padded.extend_from_slice(msg);
                self.padded.resize(size, byte);
                &self.padded[..]
            }
            _ => msg,
        };
        producer
            .append(bytes)
            .with_context(|| format!("message {index}"))?;
        self.summary.messages = index;
        self.summary.bytes += bytes.len() as u64;
        Ok(())
    }
}

/// The summary on standard error, or as JSON on standard output.
fn print_summary(s: &Summary, json: bool, store: &std::path::Path) -> anyhow::Result<()> {
    if json {
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &crate::render::json::Line::new(s))?;
        writeln!(out).context("cannot write to standard output")?;
        return Ok(());
    }
    let plural = if s.messages == 1 { "" } else { "s" };
    let store = resolve::shown_path(store);
    note(format_args!(
        "store {}: produced {} message{plural} ({} bytes); producer offset {}",
        store.display(),
        s.messages,
        s.bytes,
        s.producer_offset
    ));
    Ok(())
}

/// Tells on standard error what the producer's open-time repair changed, if anything.
fn report_repair(producer: &Producer) {
    let repair = producer.repair();
    if repair.actions.is_empty() {
        return;
    }
    note(format_args!(
        "mfq: the store was not shut down cleanly; the producer repaired it:"
    ));
    let saved_in = repair.saved.first().and_then(|p| p.parent());
    for action in &repair.actions {
        note(format_args!("  {}", actions::describe(action, saved_in)));
    }
}

/// A line on standard error (a closed standard error is ignored).
fn note(line: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
