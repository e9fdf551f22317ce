//! Recovery, as a named policy: **inspect** a store into a typed [`Report`], compute a
//! [`Plan`] from it, show it (dry run) or **apply** it.
//!
//! The policy (beyond the .NET rollback, which loses or replays data):
//! 1. Data below the lowest of the consumer offsets and the confirmed offset (0 when it is
//!    missing, the earliest record when a consumer file is unreadable) is not needed for
//!    delivery; from there the scan keeps every complete, valid record. The end of that run is
//!    the data end D.
//! 2. The producer offset becomes max(D, every committed consumer offset): a consumed message is
//!    neither replayed as new nor overwritten unseen. The zero gap this leaves up to a consumer
//!    past D is recognised by later scans, which resume after it (`hole.rs`); readers behind
//!    the gap stop at it, so a consumer inside it moves to its far side (the records it had
//!    not read there are gone, and reported as such).
//!    Zeros a crash left below the confirmed offset, with certain records after them, and
//!    zeros up to the lowest consumer, are gaps too (`hole.rs`, `below.rs`).
//! 3. Everything past D is cleared: stale or torn bytes in D's segment are zeroed and later
//!    segments (unreachable past a gap or damage, or stream files off the chain of records)
//!    are removed; both are saved aside first unless told not to. Non-zero bytes below the
//!    confirmed offset are cleared only with the caller's consent (`confirmed.rs`,
//!    [`ApplyOptions::remove_confirmed`]); the producer's own repair never gives it.
//! 4. The confirmed offset is clamped to the producer offset; misaligned consumer offsets are
//!    snapped down to the record boundary below (redelivery rather than loss); a consumer in a
//!    deleted segment moves to the first existing record and the lost range is reported.
//! 5. Offset files are rewritten in place and synced; files of the wrong length are rewritten
//!    as 8 bytes.
//!
//! This module must not print; callers render reports and plans.

mod apply;
mod below;
mod confirmed;
#[doc(hidden)]
pub mod fault;
mod hazards;
mod hole;
mod inspect;
mod journal;
mod plan;
#[cfg(test)]
mod plan_tests;
mod producer;
mod walk;

use std::path::PathBuf;

use serde::Serialize;

pub use apply::{
    apply, check_files, held_files, keep_params_known, salvage_dir, Applied, ApplyOptions,
};
pub use confirmed::ConfirmedLoss;
pub use hazards::{Hazard, MAX_SEGMENTS as HAZARD_SEGMENTS, WINDOW as HAZARD_WINDOW};
pub(crate) use inspect::{inspect, inspect_with};
pub use plan::{plan, Action, Plan, Removed};
pub(crate) use producer::repair_for_producer;
pub use producer::Repair;

use crate::queue::format::gaps::Gap;
use crate::queue::format::layout::{ConsumerId, SegmentFile, StrayFile};
use crate::queue::format::params::{Format, ParamsSource};

/// How much an inspection reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Names, lengths and offsets only (no record data): fast on any store.
    Quick,
    /// From the segment of the producer/confirmed offset to the end (what a producer owns).
    Tail,
    /// From the lowest consumer or confirmed offset to the end.
    Full,
}

/// How serious an issue is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing to repair.
    Info,
    /// Tolerated by mfq, but a .NET reader may trip over it.
    Warning,
    /// `recover` changes something for it.
    Repair,
}

/// The kinds of inconsistency an inspection finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IssueKind {
    /// `producer.offset` is past the end of the valid data.
    ProducerAhead,
    /// Complete records lie past `producer.offset`.
    ProducerBehind,
    /// Complete records past the data end (left by a rollback or a lost write).
    StaleRecords,
    /// A record was started but not finished.
    TornRecord,
    /// An end marker byte is neither 0xFF nor 0x00.
    BadMarker,
    /// Bytes that cannot be records.
    Garbage,
    /// Records below the confirmed offset are missing or damaged.
    DamageBelowConfirmed,
    /// A damaged position below every consumer and the confirmed offset (left alone).
    DamageBelowConsumers,
    /// `producer.confirmed.offset` is past the producer offset.
    ConfirmedAhead,
    /// A consumer offset is not on a record boundary.
    ConsumerMisaligned,
    /// A consumer offset points into a segment that no longer exists.
    ConsumerInDeletedSegment,
    /// A consumer offset is past the end of the valid data.
    ConsumerAhead,
    /// A segment is missing between two others.
    SegmentGap,
    /// A segment file is not the length the parameters give.
    SegmentWrongSize,
    /// A segment file is longer than the parameters give.
    SegmentTooLong,
    /// A segment lies past the data end and cannot be reached.
    OrphanSegment,
    /// An offset file is not 8 bytes or holds a negative value.
    BadOffsetFile,
    /// A file in `commitlog/` that is not a segment.
    StrayFile,
    /// A zero gap a repair left on purpose is not recorded in `mfq.gaps` (a later run could
    /// take it for the data end): a repair records it.
    UnrecordedGap,
    /// A recorded gap: mfq's readers step over it; a .NET reader stops at its start.
    RecordedGap,
    /// A repair was interrupted (its journal, `mfq-repair.json`, is still there): the next
    /// repair finishes that plan.
    InterruptedRepair,
    /// A record ahead of the default consumer has a length of 238 mod 256: a .NET consumer
    /// takes its low length byte for the 0xEE segment end and stops there (bug SQ-1).
    DotnetEeLength,
    /// An empty record ahead of the default consumer: a .NET consumer waits at it forever
    /// (bug SQ-3).
    DotnetEmptyRecord,
    /// A record ahead of the default consumer follows a segment tail of 4 or 5 bytes without
    /// 0xEE: a live .NET consumer waits at the tail until it is restarted (bug SQ-2).
    DotnetShortTail,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// What kind.
    pub kind: IssueKind,
    /// How serious.
    pub severity: Severity,
    /// A sentence for people.
    pub message: String,
    /// The file concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::queue::format::layout::lossy::opt_path")]
    pub path: Option<PathBuf>,
    /// The logical offset concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A consumer as found on disk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsumerState {
    /// Its name (`consumer` for the default one).
    pub name: String,
    /// Its identity.
    #[serde(skip)]
    pub id: ConsumerId,
    /// Its committed offset (None when the file is unreadable).
    pub offset: Option<u64>,
    /// The record boundary at or below the offset, when the scan reached it.
    #[serde(skip)]
    pub boundary: Option<u64>,
}

/// Bytes past the data end inside one segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TailRegion {
    /// The segment file.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// Its start offset.
    pub segment_start: u64,
    /// First position to clear.
    pub from_pos: u64,
    /// End of the region (the file length).
    pub to_pos: u64,
    /// Complete-looking records inside it.
    pub records: u64,
}

/// A segment past the data end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrphanSegment {
    /// The file.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// Its start offset.
    pub start: u64,
    /// Complete records found in it.
    pub records: u64,
}

/// A segment file longer than the parameters give.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OversizedSegment {
    /// The file.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// Its length.
    pub len: u64,
    /// The length the parameters give.
    pub want: u64,
}

/// Everything an inspection learned.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The store folder.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// The format.
    pub format: Format,
    /// Fixed payload size.
    pub record_size: Option<u32>,
    /// SegmentSize.
    pub segment_size: u64,
    /// Where the parameters came from.
    pub params_source: ParamsSource,
    /// Segment files.
    pub segments: Vec<SegmentFile>,
    /// Files in `commitlog/` that are not segments.
    pub stray_files: Vec<StrayFile>,
    /// `producer.offset` (None when missing or unreadable).
    pub producer_offset: Option<u64>,
    /// `producer.confirmed.offset` (None when missing or unreadable).
    pub confirmed_offset: Option<u64>,
    /// Consumers.
    pub consumers: Vec<ConsumerState>,
    /// The earliest record offset (first segment start).
    pub earliest: u64,
    /// Where the scan started (None for a quick inspection).
    pub scanned_from: Option<u64>,
    /// End of the valid data (None for a quick inspection).
    pub data_end: Option<u64>,
    /// Bytes past the data end to clear.
    pub tail: Vec<TailRegion>,
    /// Segments past the data end.
    pub orphans: Vec<OrphanSegment>,
    /// Segment files longer than the parameters give (the .NET libraries cannot map them).
    pub oversized: Vec<OversizedSegment>,
    /// Zero gaps a repair left on purpose (policy 2) that the scan stepped over: `[from, to)`.
    pub gaps: Vec<(u64, u64)>,
    /// Offset files whose length is not 8.
    #[serde(skip)]
    pub bad_offset_files: Vec<PathBuf>,
    /// The gaps recorded in `mfq.gaps`.
    pub recorded_gaps: Vec<Gap>,
    /// Non-zero bytes below the confirmed offset that clearing the tail and the orphans would
    /// remove (None: nothing confirmed is at risk).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_at_risk: Option<ConfirmedLoss>,
    /// The plan of an interrupted repair (its journal): the next repair finishes it.
    #[serde(skip)]
    pub pending: Option<Plan>,
    /// Findings.
    pub issues: Vec<Issue>,
}

impl Report {
    /// True when `recover` would change something.
    pub fn needs_repair(&self) -> bool {
        self.issues.iter().any(|i| i.severity == Severity::Repair)
    }

    /// An issue that must be fixed by hand before any repair (a folder or other non-file where
    /// a needed segment belongs): repairing around it would move offsets past intact records
    /// that come back once it is fixed.
    pub fn blocker(&self) -> Option<&Issue> {
        self.issues
            .iter()
            .find(|i| i.kind == IssueKind::StrayFile && i.severity == Severity::Repair)
    }

    /// Complete records past the data end that a repair would set aside.
    pub fn salvageable_records(&self) -> u64 {
        self.tail.iter().map(|t| t.records).sum::<u64>()
            + self.orphans.iter().map(|o| o.records).sum::<u64>()
    }

    /// The highest committed consumer offset.
    pub fn max_consumer(&self) -> Option<u64> {
        self.consumers.iter().filter_map(|c| c.offset).max()
    }

    fn push(&mut self, kind: IssueKind, severity: Severity, message: String) -> &mut Issue {
        self.issues.push(Issue {
            kind,
            severity,
            message,
            path: None,
            offset: None,
        });
        self.issues.last_mut().expect("just pushed")
    }
}

impl Issue {
    fn at(&mut self, offset: u64) -> &mut Issue {
        self.offset = Some(offset);
        self
    }
    fn file(&mut self, path: &std::path::Path) -> &mut Issue {
        self.path = Some(path.to_path_buf());
        self
    }
}
