//! The record walks of an inspection: from the scan start forward through the chain of
//! segments, finding the data end, the damage or stale bytes past it (to clear), and the record
//! boundary at or below each consumer offset. Fixed stores are walked slot by slot over the
//! mapping; stream stores by following lengths, stepping over a gap a repair left on purpose.
//!
//! This module only reads.

use super::{hole, IssueKind, Report, Severity, TailRegion};
use crate::queue::error::Result;
use crate::queue::format::codec::SEGMENT_END;
use crate::queue::format::layout::{Layout, SegmentFile};
use crate::queue::format::params::Params;
use crate::queue::format::positions::{self, segment_bytes};
use crate::queue::format::scan::{self, Status};

/// Counts the bytes of the segment files a scan reads, for a progress callback
/// `progress(done, total)`: `total` is the length of every segment from the one the scan
/// starts in; each segment counts once, when it is read, and [`Meter::finish`] ends at
/// `total` (segments a walk stepped over count as done). The values never go down.
pub(super) struct Meter<'a> {
    progress: &'a mut dyn FnMut(u64, u64),
    first: u64,
    done: u64,
    total: u64,
    seen: Vec<u64>,
}

impl<'a> Meter<'a> {
    /// A meter for a scan of `segs` that starts at offset `from`.
    pub(super) fn new(
        progress: &'a mut dyn FnMut(u64, u64),
        segs: &[SegmentFile],
        from: u64,
    ) -> Meter<'a> {
        let first = positions::segment_for(segs, from).map_or(from, |s| s.start);
        let total = segs
            .iter()
            .filter(|s| s.start >= first)
            .map(|s| s.len)
            .sum();
        Meter {
            progress,
            first,
            done: 0,
            total,
            seen: Vec::new(),
        }
    }

    /// Notes that `seg` is read.
    pub(super) fn segment(&mut self, seg: &SegmentFile) {
        if seg.start < self.first || self.seen.contains(&seg.start) {
            return;
        }
        self.seen.push(seg.start);
        self.done = (self.done + seg.len).min(self.total);
        (self.progress)(self.done, self.total);
    }

    /// Notes that the scan is over.
    pub(super) fn finish(&mut self) {
        self.done = self.total;
        (self.progress)(self.done, self.total);
    }
}

/// Walks fixed slots from `from`; returns the data end and the start of its segment (None when
/// the data ends where a segment file is missing).
pub(super) fn walk_fixed(
    r: &mut Report,
    layout: &Layout,
    params: &Params,
    segs: &[SegmentFile],
    from: u64,
    meter: &mut Meter<'_>,
) -> Result<(u64, Option<u64>)> {
    let span = params.span();
    let mut offset = from;
    loop {
        let start = params.fixed_segment_start(offset);
        let Some(seg) = segs.iter().find(|s| s.start == start) else {
            if let Some(k) = hole::resume_point(r, params, segs, None, offset)? {
                r.gaps.push((offset, k));
                offset = k;
                continue;
            }
            return Ok((offset, None));
        };
        // Stream through the mapped slots (no copy, no per-slot allocation); the tail is only
        // walked when the data ends in this segment.
        let bytes = segment_bytes(params, seg)?;
        meter.segment(seg);
        let mut first_bad = None;
        scan::visit(params, start, &bytes, |e| {
            if e.offset >= offset && e.status != Status::Ok {
                first_bad = Some(e);
                return false;
            }
            true
        });
        note_boundaries(
            r,
            params,
            offset,
            first_bad.map_or(start + span, |e| e.offset),
        );
        match first_bad {
            None => offset = start + span,
            Some(bad) => {
                let end = bad.offset;
                if let Some(k) = hole::resume_point(r, params, segs, None, end)? {
                    r.gaps.push((end, k));
                    offset = k;
                    continue;
                }
                // Only what lies past the end, and not its unwritten slots: a large segment
                // can hold tens of millions of them.
                let mut entries = Vec::new();
                scan::visit(params, start, &bytes, |e| {
                    if e.offset >= end && e.status != Status::Unwritten {
                        entries.push(e);
                    }
                    true
                });
                tail_fixed(r, layout, params, seg, &bytes, &entries, end);
                return Ok((end, Some(start)));
            }
        }
    }
}

fn tail_fixed(
    r: &mut Report,
    _layout: &Layout,
    params: &Params,
    seg: &SegmentFile,
    bytes: &[u8],
    entries: &[scan::Entry],
    end: u64,
) {
    let pos = (end - seg.start) as usize;
    let extra_dirty = bytes.len() > params.span() as usize && bytes[params.span() as usize] != 0;
    let past: Vec<_> = entries.iter().filter(|e| e.offset >= end).collect();
    let records = past.iter().filter(|e| e.status == Status::Ok).count() as u64;
    let mut dirty = extra_dirty;
    for (status, kind, what) in [
        (
            Status::Ok,
            IssueKind::StaleRecords,
            "complete records past the data end",
        ),
        (Status::Torn, IssueKind::TornRecord, "unfinished records"),
        (
            Status::BadMarker,
            IssueKind::BadMarker,
            "records with a bad end marker",
        ),
    ] {
        let hits: Vec<_> = past.iter().filter(|e| e.status == status).collect();
        if let Some(first) = hits.first() {
            dirty = true;
            let msg = format!("{} {what} from offset {}", hits.len(), first.offset);
            r.push(kind, Severity::Repair, msg)
                .file(&seg.path)
                .at(first.offset);
        }
    }
    if extra_dirty {
        let msg = "the never-written last byte of the file is not zero".to_string();
        r.push(IssueKind::Garbage, Severity::Repair, msg)
            .file(&seg.path);
    }
    if dirty {
        r.tail.push(TailRegion {
            path: seg.path.clone(),
            segment_start: seg.start,
            from_pos: pos as u64,
            to_pos: bytes.len() as u64,
            records,
        });
    }
}

/// Walks stream records from the start of the segment holding `from`.
pub(super) fn walk_stream(
    r: &mut Report,
    params: &Params,
    segs: &[SegmentFile],
    from: u64,
    chain: &mut Vec<u64>,
    meter: &mut Meter<'_>,
) -> Result<(u64, Option<u64>)> {
    let Some(mut seg) = positions::segment_for(segs, from).cloned() else {
        return Ok((from, None));
    };
    // Where the walk starts in `seg`: 0, or the far side of a repaired gap (hole.rs).
    let mut pos0 = 0usize;
    loop {
        chain.push(seg.start);
        let bytes = segment_bytes(params, &seg)?;
        meter.segment(&seg);
        let base = std::mem::take(&mut pos0).min(bytes.len());
        let entries = scan::walk(params, seg.start + base as u64, &bytes[base..]);
        let last = entries.last().copied();
        let end = entries
            .iter()
            .find(|e| e.status != Status::Ok)
            .map_or(seg.start + bytes.len() as u64, |e| e.offset);
        note_stream_boundaries(r, &entries, seg.start + base as u64, end);
        let next = segs.iter().find(|s| s.start == end && s.start > seg.start);
        // The chain goes on at `end` after a segment end, unwritten space, or records that
        // fill the file exactly (the walk then ends on a record, with no tail byte at all).
        let clean_end = last.map_or(true, |e| {
            matches!(
                e.status,
                Status::Ok | Status::SegmentEnd | Status::Unwritten
            )
        });
        // A 0xEE byte with stray bytes after it still ends the segment when the next file
        // starts there, as readers (.NET's and mfq's) take it: the records on are kept.
        let marked_end = last.is_some_and(|e| {
            e.status != Status::Ok && bytes.get(base + e.position as usize) == Some(&SEGMENT_END)
        });
        if let (true, Some(n), Some(e)) = (marked_end && !clean_end, next, last) {
            let msg = format!(
                "bytes after the segment-end marker at offset {} are not zero (readers ignore them)",
                e.offset
            );
            r.push(IssueKind::Garbage, Severity::Warning, msg)
                .file(&seg.path)
                .at(e.offset);
            seg = n.clone();
            continue;
        }
        if let (true, Some(n)) = (clean_end, next) {
            seg = n.clone();
            continue;
        }
        if let Some(k) = hole::resume_point(r, params, segs, Some(seg.start), end)? {
            r.gaps.push((end, k));
            match positions::segment_for(segs, k) {
                Some(s) if k < s.start + s.len.max(params.file_len()) => {
                    pos0 = (k - s.start) as usize;
                    seg = s.clone();
                    continue;
                }
                _ => return Ok((k, None)),
            }
        }
        if let Some(e) = last.filter(|e| e.status != Status::Ok) {
            let pos = base + e.position as usize;
            let rest = &bytes[pos..];
            let clean = match e.status {
                Status::SegmentEnd => {
                    crate::queue::format::codec::is_zero(&rest[1.min(rest.len())..])
                }
                Status::Unwritten => true,
                _ => false,
            };
            if !clean {
                let (kind, what) = match e.status {
                    Status::Torn => (IssueKind::TornRecord, "an unfinished record"),
                    Status::BadMarker => (IssueKind::BadMarker, "a record with a bad end marker"),
                    _ => (IssueKind::Garbage, "bytes that are not a record"),
                };
                let msg = format!("{what} at the data end, offset {}", e.offset);
                r.push(kind, Severity::Repair, msg)
                    .file(&seg.path)
                    .at(e.offset);
                r.tail.push(TailRegion {
                    path: seg.path.clone(),
                    segment_start: seg.start,
                    from_pos: pos as u64,
                    to_pos: bytes.len() as u64,
                    records: 0,
                });
            }
        }
        return Ok((end, Some(seg.start)));
    }
}

/// Fixed: consumer offsets in `[from, to)` are boundaries when they are multiples of m.
fn note_boundaries(r: &mut Report, params: &Params, from: u64, to: u64) {
    let m = params.stride().expect("fixed");
    for c in r.consumers.iter_mut() {
        if let Some(k) = c.offset.filter(|k| *k >= from && *k <= to) {
            c.boundary = Some(k / m * m);
        }
    }
}

/// Stream: the boundary at or below each consumer offset inside the records walked from
/// `from` (a segment start, or the far side of a repaired gap).
fn note_stream_boundaries(r: &mut Report, entries: &[scan::Entry], from: u64, end: u64) {
    for c in r.consumers.iter_mut() {
        let Some(k) = c.offset.filter(|k| *k >= from && *k <= end) else {
            continue;
        };
        let below = entries
            .iter()
            .filter(|e| e.status == Status::Ok && e.offset <= k)
            .map(|e| {
                if e.offset + e.size <= k {
                    e.offset + e.size
                } else {
                    e.offset
                }
            })
            .max()
            .unwrap_or(from);
        c.boundary = Some(below);
    }
}
