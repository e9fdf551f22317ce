//! `mfq stat`: a store's parameters, segments, offsets, consumers with their lag, the time of
//! the last write, the processes holding it and the quick health check, as tables for people
//! or as one JSON object (`--json`, see `stat_facts::StatFacts` for the fields); with
//! `--check`, one monitoring line judged by `stat_check` and a Nagios exit status.
//!
//! It never scans record data beyond counting a stream consumer's lag (bounded), so it stays
//! fast on stores with many segments.
//!
//! This module owns the layout of the report; it must not change the store.

use std::io::Write;

use anyhow::Context;
use comfy_table::Table;
use mfq::queue::recovery::Severity;
use mfq::queue::ParamsSource;

use super::resolve;
use super::stat_check::{self, Level};
use super::stat_facts::{self, ConsumerFacts, StatFacts};
use super::stat_holders::Holders;
use crate::cli::{hints, GlobalOpts, StatArgs};
use crate::exit::{Exit, ExitStatus};
use crate::render::{self, duration, table::new_table};
use crate::size::format_size;

/// Runs `mfq stat`.
pub fn run(global: &GlobalOpts, args: &StatArgs) -> anyhow::Result<()> {
    if args.check {
        return check(global, args);
    }
    let facts = gather(global, args)?;
    let mut text = if global.json {
        serde_json::to_string_pretty(&crate::render::json::Line::new(&facts))?
    } else {
        render_text(&facts)
    };
    text.push('\n');
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to standard output")
}

fn gather(global: &GlobalOpts, args: &StatArgs) -> anyhow::Result<StatFacts> {
    let store = resolve::open_store(global, args.store_dir.as_ref())?;
    let path = store.path();
    stat_facts::gather(&store, args.check)
        .with_context(|| format!("cannot read the state of {}", path.display()))
}

/// `stat --check`: one line (or one JSON object) and the Nagios status; an error is UNKNOWN
/// (3), its line on standard output as well as the usual message on standard error.
fn check(global: &GlobalOpts, args: &StatArgs) -> anyhow::Result<()> {
    let judged = gather(global, args)
        .and_then(|facts| stat_check::judge(&facts, args, std::time::SystemTime::now()));
    let mut out = std::io::stdout().lock();
    let check = match judged {
        Ok(c) => c,
        Err(err) => {
            let line = format!("UNKNOWN: {}", hints::error_line(&err));
            let text = match global.json {
                true => serde_json::json!({
                    "v": crate::render::json::SCHEMA_VERSION,
                    "status": "unknown",
                    "code": ExitStatus::CheckUnknown.code(),
                    "summary": line,
                    "problems": [],
                    "consumers": [],
                })
                .to_string(),
                false => line,
            };
            // A closed standard output does not hide the error.
            let _ = writeln!(out, "{text}");
            let status = ExitStatus::CheckUnknown;
            return Err(Exit::new(status, hints::error_line(&err)).into());
        }
    };
    let text = match global.json {
        true => serde_json::to_string(&crate::render::json::Line::new(&check))?,
        false => check.summary.clone(),
    };
    writeln!(out, "{text}")
        .and_then(|()| out.flush())
        .context("cannot write to standard output")?;
    match check.status {
        Level::Ok => Ok(()),
        Level::Warning => Err(Exit::silent(ExitStatus::CheckWarning).into()),
        Level::Critical => Err(Exit::silent(ExitStatus::CheckCritical).into()),
    }
}

/// The report for people: an overview, the consumers and the health check.
fn render_text(f: &StatFacts) -> String {
    let terminal = render::Stream::Stdout.is_terminal();
    let color = render::color_enabled(render::Stream::Stdout);
    let mut parts = vec![overview(
        f,
        new_table(&["store", &f.path.display().to_string()], terminal, color),
    )
    .to_string()];
    if !f.consumers.is_empty() {
        let headers = [
            "consumer",
            "offset",
            "lag bytes",
            "lag messages",
            "last commit",
            "held by",
        ];
        let mut t = new_table(&headers, terminal, color);
        for c in &f.consumers {
            t.add_row(consumer_row(c));
        }
        parts.push(t.to_string());
    }
    let repairs = (f.issues.iter())
        .filter(|i| i.issue.severity == Severity::Repair)
        .count();
    if f.issues.is_empty() {
        parts.push("health: ok (quick check; `mfq recover --check` scans the records)".into());
    } else if repairs > 0 {
        let t = issues_table(f, terminal, color);
        parts.push(format!(
            "health: needs repair: run `mfq recover --dry-run` ({} issue(s), {repairs} to \
             repair)\n{t}",
            f.issues.len()
        ));
    } else {
        let t = issues_table(f, terminal, color);
        parts.push(format!("health: {} issue(s)\n{t}", f.issues.len()));
    }
    parts.join("\n")
}

/// The issues the quick inspection found, with their advice.
fn issues_table(f: &StatFacts, terminal: bool, color: bool) -> Table {
    let mut t = new_table(&["severity", "issue", "where"], terminal, color);
    for facts in &f.issues {
        let i = &facts.issue;
        let message = match &facts.hint {
            Some(h) => format!("{}\nhint: {h}", i.message),
            None => i.message.clone(),
        };
        let at = match (&i.path, i.offset) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(o)) => format!("offset {o}"),
            (None, None) => String::new(),
        };
        t.add_row(vec![severity(i.severity).to_string(), message, at]);
    }
    t
}

/// The segment size; for a fixed store whose parameters were inferred, the range of .NET
/// `SegmentSize` values that lay out the same files (the files cannot tell them apart).
fn segment_size(f: &StatFacts, stride: Option<u64>) -> String {
    let size = format_size(f.segment_size);
    match stride {
        Some(m) if f.params_source == ParamsSource::Inferred && m > 1 => {
            let span = f.segment_size / m * m;
            format!(
                "{size} (inferred: any SegmentSize from {span} to {} gives these files)",
                span + m - 1
            )
        }
        _ => size,
    }
}

/// The key/value rows about the store as a whole.
fn overview(f: &StatFacts, mut t: Table) -> Table {
    let stride = f.record_size.map(|p| p as u64 + 1);
    let rows: Vec<(&str, String)> = vec![
        ("format", f.format.to_string()),
        (
            "record size",
            match (f.record_size, stride) {
                (Some(p), Some(m)) => format!("{p} bytes (+1 marker byte: stride {m})"),
                _ => "variable (length-prefixed)".into(),
            },
        ),
        ("segment size", segment_size(f, stride)),
        ("params source", source(f.params_source).into()),
        ("segments", segments(f)),
        ("earliest offset", f.earliest_offset.to_string()),
        ("producer offset", opt(f.producer_offset)),
        ("confirmed offset", confirmed(f)),
        ("producer held by", held(&f.producer, "a live producer")),
        (
            "last write",
            f.last_write_unix_ms.map_or("unknown".into(), |ms| {
                duration::ago(stat_facts::to_time(ms))
            }),
        ),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    // Shown only while it is held: a recovery is under way for a moment at most.
    if f.recovery_lock.held == Some(true) {
        t.add_row(vec![
            "recovery lock held by".into(),
            held(
                &f.recovery_lock,
                "a recovery (a .NET process starting, or an mfq change)",
            ),
        ]);
    }
    t
}

fn consumer_row(c: &ConsumerFacts) -> Vec<String> {
    let messages = match (c.lag_messages, c.lag_messages_at_least) {
        (Some(n), _) => n.to_string(),
        (None, Some(n)) => format!("≥{n}"),
        (None, None) => "-".into(),
    };
    let last_commit = match (c.last_commit_unix_ms, &c.last_commit) {
        (Some(ms), Some(at)) => format!("{} ({at})", duration::ago(stat_facts::to_time(ms))),
        _ => "unknown".into(),
    };
    vec![
        c.name.clone(),
        opt(c.offset),
        opt(c.lag_bytes),
        messages,
        last_commit,
        held(&c.holders, "a live consumer"),
    ]
}

fn segments(f: &StatFacts) -> String {
    let s = &f.segments;
    match (s.first, s.last) {
        (Some(first), Some(last)) => format!(
            "{} (first {first}, last {last}), {} on disk",
            s.count,
            bytes(s.bytes)
        ),
        _ => "none yet".into(),
    }
}

fn confirmed(f: &StatFacts) -> String {
    match (f.confirmed_offset, f.unflushed_bytes) {
        (Some(c), Some(0)) => format!("{c} (everything flushed)"),
        (Some(c), Some(u)) => format!("{c} ({} not yet flushed)", bytes(u)),
        (Some(c), None) => c.to_string(),
        (None, _) => "none (the .NET stream format keeps no confirmed offset)".into(),
    }
}

fn held(h: &Holders, who: &str) -> String {
    let pids = h
        .pids
        .iter()
        .map(|p| format!("pid {p}"))
        .collect::<Vec<_>>()
        .join(", ");
    match h.held {
        Some(true) if pids.is_empty() => who.to_string(),
        Some(true) => format!("{who} ({pids})"),
        Some(false) => "nobody".into(),
        None => "unknown".into(),
    }
}

fn source(s: ParamsSource) -> &'static str {
    match s {
        ParamsSource::Metadata => "mfq.json",
        ParamsSource::Inferred => "inferred from the files",
        ParamsSource::Explicit => "given options",
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Repair => "repair",
    }
}

/// A byte count, with an approximate binary unit from 1 KiB on (`1536 bytes (1.5 KiB)`).
fn bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("TiB", 1 << 40),
        ("GiB", 1 << 30),
        ("MiB", 1 << 20),
        ("KiB", 1 << 10),
    ];
    match UNITS.iter().find(|(_, u)| n >= *u) {
        Some((name, u)) => format!("{n} bytes ({:.1} {name})", n as f64 / *u as f64),
        None => format!("{n} bytes"),
    }
}

fn opt(v: Option<u64>) -> String {
    v.map_or("-".into(), |v| v.to_string())
}
