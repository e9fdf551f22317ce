//! Gaps that a repair leaves on purpose. Policy 2 sets the producer offset to
//! max(data end, every consumer offset): when a consumer is past the data end (its offset
//! survived a power loss that the records did not), the producer resumes at that consumer's
//! offset and the bytes between the data end and it stay zero. A later scan must step over
//! that gap instead of reading it as the end of the data, or it would clear every record
//! appended since (and report the producer and the consumer as ahead of the data).
//!
//! A gap is recognised only in its exact repaired shape: it starts where the valid records
//! end, ends where a gap recorded in `mfq.gaps` says (or, for a gap an older repair left
//! unrecorded, at the highest consumer offset), and every byte of it is zero (or in no file),
//! except a stream segment-end marker where the records stop. A repair records every gap it
//! steps over or leaves, so that later runs never take one for the data end.
//!
//! This module only reads.

use super::Report;
use crate::queue::error::Result;
use crate::queue::format::codec;
use crate::queue::format::layout::SegmentFile;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::segment_bytes;

/// Where the scan resumes when the valid data ends at `end` (in the stream segment starting
/// at `cur`) in front of a repaired gap.
pub(super) fn resume_point(
    r: &Report,
    params: &Params,
    segs: &[SegmentFile],
    cur: Option<u64>,
    end: u64,
) -> Result<Option<u64>> {
    // A gap recorded in `mfq.gaps` is known by its start; one an older repair left without a
    // record is known by the consumer it ends at.
    let recorded = r
        .recorded_gaps
        .iter()
        .find(|g| g.from <= end && end < g.to)
        .map(|g| g.to);
    let Some(k) = recorded.or_else(|| r.max_consumer().filter(|k| *k > end)) else {
        return Ok(None);
    };
    // A stream segment that starts inside the valid records conflicts with them: it is an
    // orphan for the repair to remove first, not the far side of a gap.
    if cur.is_some_and(|c| segs.iter().any(|s| s.start > c && s.start < end)) {
        return Ok(None);
    }
    if params.stride().is_some_and(|m| k % m != 0) {
        return Ok(None);
    }
    // Stream segments before `cur` end where the next one in the chain starts; only `cur` and
    // the files after it can hold bytes of the gap.
    for s in segs
        .iter()
        .filter(|s| s.start < k && cur.map_or(true, |c| s.start >= c))
    {
        let extent = match params.format() {
            Format::Fixed => params.span(),
            Format::Stream => s.len.max(params.file_len()),
        };
        if s.start + extent <= end {
            continue;
        }
        let bytes = segment_bytes(params, s)?;
        let mut a = (end.saturating_sub(s.start) as usize).min(bytes.len());
        // A stream segment may end at the gap's start with its 0xEE marker.
        if params.format() == Format::Stream
            && s.start + a as u64 == end
            && bytes.get(a) == Some(&codec::SEGMENT_END)
        {
            a += 1;
        }
        let b = ((k - s.start) as usize).min(bytes.len());
        if a < b && !codec::is_zero(&bytes[a..b]) {
            return Ok(None);
        }
    }
    Ok(Some(k))
}
