//! Records ahead of the default consumer that a .NET (MappedFileQueues.Stream) consumer cannot
//! get past, though mfq's readers read them: a payload length of 238 mod 256 (bug SQ-1), an
//! empty payload (SQ-3), and a record that follows a segment tail of 4 or 5 bytes without a
//! 0xEE (SQ-2). Each is a [`Severity::Warning`]: nothing to repair, but a .NET consumer that
//! reaches it stops there.
//!
//! Only the default consumer (`offset/consumer.offset`, when the file exists) is followed:
//! it is the only offset a .NET consumer reads; named consumers are mfq's own, and mfq's
//! readers read these records. Only the first such record ahead of it is reported (a .NET
//! consumer stops at the first one; once past it, the next inspection shows the next).
//!
//! Bounded work, so that `stat` stays fast: the walk reads at most [`WINDOW`] bytes of records
//! past the consumer offset, opens at most [`MAX_SEGMENTS`] segment files, and stops at the
//! data end (or the producer offset) and at the first position that is not a complete record.
//!
//! This module only reads.

use super::{Depth, IssueKind, Report, Severity};
use crate::queue::error::DotnetHazard;
use crate::queue::format::layout::{ConsumerId, SegmentFile};
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::{segment_bytes, segment_for};
use crate::queue::format::scan::{self, Status};

/// The most record bytes past the consumer offset that one inspection reads for hazards.
pub const WINDOW: u64 = 16 << 20;
/// The most segment files one inspection opens for hazards.
pub const MAX_SEGMENTS: u32 = 256;

/// A record a .NET consumer cannot get past.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hazard {
    /// The record's offset (for a short tail: the offset of the record after it, which is
    /// also where the tail lies, since tails do not count toward offsets).
    pub offset: u64,
    /// The record's payload length (for a short tail: the tail's length).
    pub len: usize,
    /// Which .NET bug it hits.
    pub kind: DotnetHazard,
}

/// Adds a warning for the first hazard ahead of the default consumer (stream stores; not for
/// the producer's own repair, which reads only what it owns).
pub(super) fn check(r: &mut Report, params: &Params, depth: Depth) {
    if params.format() != Format::Stream || depth == Depth::Tail {
        return;
    }
    let Some(k) = r
        .consumers
        .iter()
        .find(|c| c.id == ConsumerId::Default)
        .and_then(|c| c.offset)
    else {
        return;
    };
    let end = r.data_end.or(r.producer_offset);
    let Some(h) = first(params, &r.segments, k, end, WINDOW) else {
        return;
    };
    let (kind, what) = match h.kind {
        DotnetHazard::EeLength => (IssueKind::DotnetEeLength, format!("{} bytes", h.len)),
        DotnetHazard::EmptyPayload => (IssueKind::DotnetEmptyRecord, "empty".to_string()),
        DotnetHazard::ShortTail => (
            IssueKind::DotnetShortTail,
            format!("after a {}-byte tail", h.len),
        ),
    };
    let place = if h.offset == k {
        "is where the default consumer is".to_string()
    } else {
        format!("lies ahead of the default consumer (at {k})")
    };
    let msg = format!(
        "the record at offset {} ({what}) {place}: {}; mfq's readers read it",
        h.offset, h.kind
    );
    r.push(kind, Severity::Warning, msg).at(h.offset);
}

/// The first hazard at or after `from` within `window` bytes, before `end` if given.
pub fn first(
    params: &Params,
    segs: &[SegmentFile],
    from: u64,
    end: Option<u64>,
    window: u64,
) -> Option<Hazard> {
    let limit = from.saturating_add(window);
    let stop = end.map_or(limit, |e| e.min(limit));
    let mut offset = from;
    for _ in 0..MAX_SEGMENTS {
        if offset >= stop {
            return None;
        }
        let seg = segment_for(segs, offset)?;
        let bytes = segment_bytes(params, seg).ok()?;
        let pos = usize::try_from(offset - seg.start).ok()?;
        let rest = bytes.get(pos..)?;
        let mut found = None;
        let mut tail = None;
        let mut broken = false;
        scan::visit(params, offset, rest, |e| match e.status {
            Status::Ok if e.offset < stop => {
                if let Some(kind) = DotnetHazard::of_payload(e.payload_len as usize) {
                    found = Some(Hazard {
                        offset: e.offset,
                        len: e.payload_len as usize,
                        kind,
                    });
                    return false;
                }
                offset = e.offset + e.size;
                true
            }
            Status::Ok => false,
            Status::SegmentEnd => {
                tail = Some(e);
                false
            }
            _ => {
                broken = true;
                false
            }
        });
        if found.is_some() {
            return found;
        }
        // The records go on in the segment named after the offset where these stop: after a
        // segment end, or when they fill the file exactly.
        let filled = offset == seg.start + bytes.len() as u64;
        if broken || !(filled || tail.is_some()) || offset >= stop {
            return None;
        }
        if !segs
            .iter()
            .any(|s| s.start == offset && s.start > seg.start)
        {
            return None;
        }
        if let Some(t) = tail {
            let at = pos + t.position as usize;
            let short = (4..=5).contains(&t.size);
            if short && bytes.get(at) == Some(&0) {
                return Some(Hazard {
                    offset,
                    len: t.size as usize,
                    kind: DotnetHazard::ShortTail,
                });
            }
        }
    }
    None
}
