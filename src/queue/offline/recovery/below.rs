//! Damage below the scan: records under the lowest consumer and the confirmed offset are not
//! needed for delivery (policy 1), so the repair scan starts above them and never changes
//! them. A reader started from the beginning still stops at damage there, so a full
//! inspection walks the records below the scan: zeros that intact records follow (a crash's
//! lost page, `hole.rs`), or zeros (and missing files) up to the scan start, are a gap for the
//! repair to record, so that readers from the beginning step over it; the first other damage
//! is reported as a warning, naming what readers will see.
//!
//! This module only reads; it must not plan or change anything.

use super::{hole, IssueKind, Report, Severity};
use crate::queue::error::Result;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::segment_bytes;
use crate::queue::format::scan::{self, Entry, Status};

/// Where the records of one segment stop short below the scan.
enum Stop {
    /// Damage (or a zero fixed slot) at this entry.
    At(Entry),
    /// The records end cleanly at this offset, but no file starts there.
    Short(u64),
    /// The records end cleanly at this offset, where the next file starts (or the scan).
    Next(u64),
    /// The walk of this file went on to its end, or to the scan start.
    Through,
}

/// Finds the gaps below `r.scanned_from` and reports the first other damaged position there.
pub(super) fn check_below_scan(r: &mut Report, params: &Params) -> Result<()> {
    let Some(from) = r.scanned_from.filter(|f| *f > r.earliest) else {
        return Ok(());
    };
    let segs = r.segments.clone();
    // Records resume after a gap below `from` or, when the confirmed offset is higher, below
    // it (the scan then starts at a consumer).
    let limit = r.confirmed_offset.map_or(from, |c| c.max(from));
    let mut pos = r.earliest;
    // The file the walk is in: the chain goes from file to file where the records of one end
    // (a stale stream file that starts inside them is off the chain, and never walked here).
    let mut cur = segs.iter().find(|s| s.start == pos);
    let mut last = None;
    while pos < from {
        // Every step moves on; a file that leads back to itself ends the walk.
        if last.is_some_and(|l| pos <= l) {
            return Ok(());
        }
        last = Some(pos);
        let Some(seg) = cur.filter(|s| s.start < from) else {
            return Ok(());
        };
        let file_at = |offset: u64| segs.iter().find(|s| s.start == offset);
        // The records go on into a later file that starts where they end (or reach the scan).
        let goes_on = |end: u64| end >= from || (end > seg.start && file_at(end).is_some());
        let bytes = segment_bytes(params, seg)?;
        let at = ((pos - seg.start) as usize).min(bytes.len());
        let mut stop = Stop::Through;
        let mut last_end = pos;
        scan::visit(params, pos, &bytes[at..], |e| {
            if e.offset >= from {
                return false;
            }
            last_end = e.offset + e.size;
            let stream_end = matches!(e.status, Status::Unwritten | Status::SegmentEnd);
            stop = match params.format() {
                // A zero slot below the data is a hole to a fixed-format reader.
                Format::Fixed if e.status == Status::Unwritten || e.status.is_damage() => {
                    Stop::At(e)
                }
                Format::Stream if e.status.is_damage() => Stop::At(e),
                // A stream segment's records end there: a hole only when no file starts
                // where they end.
                Format::Stream if stream_end => match goes_on(e.offset) {
                    true => Stop::Next(e.offset),
                    false => Stop::Short(e.offset),
                },
                _ => Stop::Through,
            };
            matches!(stop, Stop::Through)
        });
        if matches!(stop, Stop::Through) {
            let end = match params.format() {
                Format::Fixed => seg.start + params.span(),
                Format::Stream => last_end,
            };
            stop = match goes_on(end) {
                true => Stop::Next(end),
                false => Stop::Short(end),
            };
        }
        let (hole, entry) = match stop {
            Stop::Through => return Ok(()),
            Stop::Next(end) => {
                pos = end;
                cur = file_at(end);
                continue;
            }
            Stop::Short(end) => (end, None),
            Stop::At(e) if e.status == Status::Unwritten => (e.offset, Some(e)),
            Stop::At(e) => {
                warn(r, seg, e);
                return Ok(());
            }
        };
        // Intact records after the zeros; or zeros (and missing files) all the way up to
        // where the offsets say the records begin: a reader from the beginning would wait at
        // the zeros forever, never seeing what is appended there.
        let here = Some(seg.start);
        let far = match hole::far_side(params, &segs, here, hole, limit)? {
            Some(k) => Some(k),
            None => hole::zeros_between(params, &segs, here, hole, from)?.then_some(from),
        };
        match (far, entry) {
            (Some(k), _) => {
                r.gaps.push((hole, k));
                pos = k;
                // On in this file, or in the file the far side lies in.
                let within = k < seg.start + bytes.len() as u64;
                cur = match params.format() {
                    Format::Stream if within => Some(seg),
                    Format::Stream => file_at(k),
                    Format::Fixed => file_at(params.fixed_segment_start(k)),
                };
            }
            (None, Some(e)) if params.format() == Format::Fixed => {
                warn(r, seg, e);
                return Ok(());
            }
            (None, _) => return Ok(()),
        }
    }
    Ok(())
}

fn warn(r: &mut Report, seg: &crate::queue::format::layout::SegmentFile, e: Entry) {
    let msg = format!(
        "{} at offset {}, below every consumer and the confirmed offset: nothing needs it for \
         delivery and recover leaves it, but a reader started from the beginning stops there",
        e.status.as_str(),
        e.offset
    );
    r.push(IssueKind::DamageBelowConsumers, Severity::Warning, msg)
        .file(&seg.path)
        .at(e.offset);
}
