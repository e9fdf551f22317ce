//! The facts `mfq stat` shows, gathered cheaply: the quick inspection (names, lengths and
//! offset files, no record data), lags, the time of the last write and lock holders. The
//! structs here are what `stat --json` prints; their field names are stable.
//!
//! Lag in messages: the engine counts the records from the consumer offset to the data end
//! (fixed stores by arithmetic; stream stores reading at most `SCAN_BUDGET` bytes per
//! consumer). Past the budget the count is a lower bound: `lag_messages` is then null, and
//! `lag_messages_at_least` holds the bound (`lag_messages_exact: false`).
//!
//! This module only reads; it must not print.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use mfq::queue::{
    positions, ConsumerId, Extent, Format, Issue, Params, ParamsSource, SegmentFile, Store,
};
use serde::Serialize;

use super::stat_holders::{Holders, LockTable};
use crate::cli::hints;

/// Most record bytes read per consumer to count a stream store's lag in messages.
pub const SCAN_BUDGET: u64 = 64 << 20;
/// Most segment files opened per consumer to count a stream store's lag in messages.
pub const SCAN_SEGMENTS: u32 = 256;

/// Everything `mfq stat` reports. `stat --json` prints this object.
#[derive(Debug, Serialize)]
pub struct StatFacts {
    /// The store folder as given (lossy text when it is not UTF-8).
    #[serde(serialize_with = "mfq::queue::layout::lossy::path")]
    pub path: PathBuf,
    /// `"fixed"` or `"stream"`.
    pub format: Format,
    /// The payload size of every record (fixed); null for stream stores.
    pub record_size: Option<u32>,
    /// The SegmentSize in bytes.
    pub segment_size: u64,
    /// Where the parameters came from: `"metadata"` (mfq.json), `"inferred"` or `"explicit"`.
    pub params_source: ParamsSource,
    /// The segment files.
    pub segments: SegmentFacts,
    /// The offset of the oldest record still stored (the first segment's start).
    pub earliest_offset: u64,
    /// `offset/producer.offset`; null when missing or unreadable.
    pub producer_offset: Option<u64>,
    /// `offset/producer.confirmed.offset` (synced to disk); null when missing (the .NET
    /// stream library keeps none) or unreadable.
    pub confirmed_offset: Option<u64>,
    /// `producer_offset - confirmed_offset`: written but not yet known to be on disk; null
    /// when either is unknown.
    pub unflushed_bytes: Option<u64>,
    /// The offset lags are measured to: the producer offset (what was written, readable or
    /// not), or the end of the valid data when there is no producer offset.
    pub end_offset: u64,
    /// Who holds `producer.offset` (a live producer).
    pub producer: Holders,
    /// Who holds `recovery_lock.lock`: a .NET process in its start-up recovery, or an mfq
    /// command or producer changing the store.
    pub recovery_lock: Holders,
    /// Every consumer with an offset file.
    pub consumers: Vec<ConsumerFacts>,
    /// Time of the last write (the newest modification time of the last segment and
    /// `producer.offset`), in milliseconds since the Unix epoch; null when unknown.
    pub last_write_unix_ms: Option<u64>,
    /// Problems the quick inspection found (`kind`, `severity`, `message`, `path`, `offset`,
    /// and `hint` where the command line has advice);
    /// empty when the store looks sound. `mfq recover --check` scans the records too.
    pub issues: Vec<IssueFacts>,
}

/// One issue as `stat` shows it: the engine's finding and the command line's advice.
#[derive(Debug, Serialize)]
pub struct IssueFacts {
    /// The finding.
    #[serde(flatten)]
    pub issue: Issue,
    /// What to do about it, with the commands to run; absent when there is no advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// The segment files of a store.
#[derive(Debug, Serialize)]
pub struct SegmentFacts {
    /// How many segment files there are.
    pub count: usize,
    /// The start offset of the first one; null without segments.
    pub first: Option<u64>,
    /// The start offset of the last one; null without segments.
    pub last: Option<u64>,
    /// The sum of their file lengths in bytes.
    pub bytes: u64,
}

/// One consumer.
#[derive(Debug, Serialize)]
pub struct ConsumerFacts {
    /// `consumer` for the default consumer (`offset/consumer.offset`), else its name.
    pub name: String,
    /// The committed offset; null when the file is unreadable.
    pub offset: Option<u64>,
    /// `end_offset - offset` (0 when the consumer is ahead); null when the offset is unknown.
    pub lag_bytes: Option<u64>,
    /// Records between the offset and `end_offset`, counted exactly; null when they could
    /// not be counted exactly (the offset is unknown, the count stopped at the scan budget, at
    /// damaged data, at a gap or in a deleted segment).
    pub lag_messages: Option<u64>,
    /// A lower bound of the lag in messages (equal to `lag_messages` when that is exact);
    /// null when the offset is unknown.
    pub lag_messages_at_least: Option<u64>,
    /// False when `lag_messages` is null because the count is only a lower bound.
    pub lag_messages_exact: bool,
    /// When the consumer last committed (its offset file's modification time), in
    /// milliseconds since the Unix epoch; null when unknown.
    pub last_commit_unix_ms: Option<u64>,
    /// The same time in RFC 3339 (UTC, whole seconds); null when unknown.
    pub last_commit: Option<String>,
    /// Who holds the consumer's offset file (a live consumer).
    pub holders: Holders,
}

/// Gathers the facts of an opened store: from the quick inspection, or with `full` from the
/// inspection `recover --check` makes (the records scanned from the lowest consumer or the
/// confirmed offset), which finds every repair a store needs.
pub fn gather(store: &Store, full: bool) -> anyhow::Result<StatFacts> {
    let report = match full {
        true => store.inspect()?,
        false => store.inspect_quick()?,
    };
    let params = store.params();
    let segs = &report.segments;
    let max_consumer = report.consumers.iter().filter_map(|c| c.offset).max();
    let default_consumer = report
        .consumers
        .iter()
        .find(|c| c.id == ConsumerId::Default)
        .and_then(|c| c.offset);
    let end_offset =
        Extent::from_parts(*params, segs.clone(), report.producer_offset, max_consumer)
            .with_gaps(report.recorded_gaps.clone())
            .lag_end()?;
    let gaps: Vec<(u64, u64)> = (report.gaps.iter().copied())
        .chain(report.recorded_gaps.iter().map(|g| (g.from, g.to)))
        .collect();
    let locks = LockTable::read();
    let layout = store.layout();
    let consumers = report
        .consumers
        .iter()
        .map(|c| {
            let (at_least, lag_messages_exact) = match c.offset {
                Some(k) => lag_messages(params, segs, &gaps, k, end_offset),
                None => (None, false),
            };
            let last_commit_unix_ms = last_write(&[layout.consumer_offset(&c.id)]);
            ConsumerFacts {
                name: c.name.clone(),
                offset: c.offset,
                lag_bytes: c.offset.map(|k| end_offset.saturating_sub(k)),
                lag_messages: at_least.filter(|_| lag_messages_exact),
                lag_messages_at_least: at_least,
                lag_messages_exact,
                last_commit_unix_ms,
                last_commit: last_commit_unix_ms
                    .map(|ms| humantime::format_rfc3339_seconds(to_time(ms)).to_string()),
                holders: locks.holders(&layout.consumer_offset(&c.id)),
            }
        })
        .collect();
    let mut touched: Vec<PathBuf> = segs.last().map(|s| s.path.clone()).into_iter().collect();
    touched.push(layout.producer_offset());
    Ok(StatFacts {
        path: report.path.clone(),
        format: report.format,
        record_size: report.record_size,
        segment_size: report.segment_size,
        params_source: report.params_source,
        segments: SegmentFacts {
            count: segs.len(),
            first: segs.first().map(|s| s.start),
            last: segs.last().map(|s| s.start),
            bytes: segs.iter().map(|s| s.len).sum(),
        },
        earliest_offset: report.earliest,
        producer_offset: report.producer_offset,
        confirmed_offset: report.confirmed_offset,
        unflushed_bytes: report
            .producer_offset
            .zip(report.confirmed_offset)
            .map(|(p, c)| p.saturating_sub(c)),
        end_offset,
        producer: locks.holders(&layout.producer_offset()),
        recovery_lock: locks.holders(&layout.recovery_lock()),
        consumers,
        last_write_unix_ms: last_write(&touched),
        issues: report
            .issues
            .into_iter()
            .map(|issue| IssueFacts {
                hint: hints::issue_hint(&issue, default_consumer),
                issue,
            })
            .collect(),
    })
}

/// The lag in messages of a consumer at `from` (a lower bound), and whether the count is
/// exact. A consumer in a deleted segment counts from the earliest record (the records it
/// missed are gone); zero gaps hold no records (a fixed count by arithmetic leaves them out).
fn lag_messages(
    params: &Params,
    segs: &[SegmentFile],
    gaps: &[(u64, u64)],
    from: u64,
    end: u64,
) -> (Option<u64>, bool) {
    let earliest = segs.first().map_or(from, |s| s.start);
    let start = from.max(earliest);
    let (count, exact) =
        positions::count_records(params, segs, start, end, SCAN_BUDGET, SCAN_SEGMENTS);
    let (mut count, mut exact) = (count, exact && start == from);
    if let Some(m) = params.stride() {
        for &(a, b) in gaps {
            let overlap = b.min(end).saturating_sub(a.max(start));
            if overlap > 0 {
                count = count.saturating_sub(overlap / m);
                exact = false;
            }
        }
    }
    (Some(count), exact)
}

/// The newest modification time of `paths`, in milliseconds since the epoch.
fn last_write(paths: &[PathBuf]) -> Option<u64> {
    paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .max()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
}

/// A `last_write_unix_ms` value as a time.
pub fn to_time(ms: u64) -> SystemTime {
    UNIX_EPOCH + std::time::Duration::from_millis(ms)
}
