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
//! A crash can leave the same shape below the confirmed offset: zeros where synced records
//! were (a lost page), then intact confirmed records. Taking the zeros for the data end would
//! clear those records, so the zeros are a gap too when the records after them are certain:
//! for a fixed store, the first non-zero slot after the zeros is a complete record below the
//! confirmed offset; for a stream store, the bytes after the zeros chain as complete records
//! to the confirmed offset or to the start of the next segment file (or the zeros run to the
//! end of the file and the next file starts below the confirmed offset). Anything less certain
//! is damage, which a repair may clear only with the operator's consent (`confirmed.rs`).
//!
//! This module only reads.

use super::Report;
use crate::queue::error::Result;
use crate::queue::format::codec;
use crate::queue::format::layout::SegmentFile;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::segment_bytes;
use crate::queue::format::scan::{self, Status};

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
    // A stream segment that starts inside the valid records conflicts with them: it is an
    // orphan for the repair to remove first, not the far side of a gap.
    if cur.is_some_and(|c| segs.iter().any(|s| s.start > c && s.start < end)) {
        return Ok(None);
    }
    let left = recorded.or_else(|| r.max_consumer().filter(|k| *k > end));
    let crash = match r.confirmed_offset {
        Some(c) => far_side(params, segs, cur, end, c)?,
        None => None,
    };
    for k in [left, crash].into_iter().flatten() {
        if zeros_between(params, segs, cur, end, k)? {
            return Ok(Some(k));
        }
    }
    Ok(None)
}

/// Where intact records resume below `c` (the confirmed offset, or where the repair scan
/// starts) after zeros that start at `end` in the stream segment `cur` (any segment for a
/// fixed store), if they certainly do (see the module note), with every byte between zero.
pub(super) fn far_side(
    params: &Params,
    segs: &[SegmentFile],
    cur: Option<u64>,
    end: u64,
    c: u64,
) -> Result<Option<u64>> {
    if c <= end {
        return Ok(None);
    }
    let k = match params.format() {
        Format::Fixed => fixed_far_side(params, segs, end, c)?,
        Format::Stream => stream_far_side(params, segs, cur, end, c)?,
    };
    match k {
        Some(k) if zeros_between(params, segs, cur, end, k)? => Ok(Some(k)),
        _ => Ok(None),
    }
}

fn fixed_far_side(params: &Params, segs: &[SegmentFile], end: u64, c: u64) -> Result<Option<u64>> {
    let span = params.span();
    let mut o = end;
    while o < c {
        // Slots in no file read as zeros: go on at the next file (never step through the
        // offsets one span at a time: the confirmed offset may be absurdly far).
        let Some(seg) = segs
            .iter()
            .filter(|s| s.start.saturating_add(span) > o)
            .min_by_key(|s| s.start)
        else {
            return Ok(None);
        };
        let start = seg.start;
        o = o.max(start);
        if o >= c {
            return Ok(None);
        }
        let bytes = segment_bytes(params, seg)?;
        let mut found = None;
        scan::visit(params, start, &bytes, |e| {
            if e.offset < o {
                return true;
            }
            if e.offset >= c {
                return false;
            }
            match e.status {
                Status::Unwritten => true,
                s => {
                    found = Some((e.offset, s));
                    false
                }
            }
        });
        match found {
            Some((k, Status::Ok)) if k > end => return Ok(Some(k)),
            Some(_) => return Ok(None),
            None => o = start + span,
        }
    }
    Ok(None)
}

fn stream_far_side(
    params: &Params,
    segs: &[SegmentFile],
    cur: Option<u64>,
    end: u64,
    c: u64,
) -> Result<Option<u64>> {
    let Some(seg) = cur.and_then(|c| segs.iter().find(|s| s.start == c)) else {
        return Ok(None);
    };
    let bytes = segment_bytes(params, seg)?;
    let from = ((end - seg.start) as usize).min(bytes.len());
    let next = segs.iter().map(|s| s.start).filter(|s| *s > end).min();
    // A segment-end marker where the records stop ends this file's part of the chain.
    let from = from + usize::from(bytes.get(from) == Some(&codec::SEGMENT_END));
    let Some(q) = bytes[from..].iter().position(|&b| b != 0).map(|p| from + p) else {
        // Zeros to the end of the file: the chain resumes with the next file.
        return Ok(next.filter(|n| *n < c));
    };
    let k = seg.start + q as u64;
    if k >= c {
        return Ok(None);
    }
    for e in scan::walk(params, k, &bytes[q..]) {
        match e.status {
            Status::Ok if e.offset + e.size == c => return Ok(Some(k)),
            Status::Ok if e.offset + e.size < c => {}
            Status::Ok => return Ok(None),
            // A clean end of the file, where the next file of the chain starts.
            Status::SegmentEnd | Status::Unwritten => {
                let rest = &bytes[q + (e.offset - k) as usize..];
                let clean = codec::is_zero(rest.get(1..).unwrap_or_default())
                    && (e.status == Status::SegmentEnd || codec::is_zero(rest));
                return Ok((clean && next == Some(e.offset)).then_some(k));
            }
            _ => return Ok(None),
        }
    }
    // Records that fill the file exactly: the next file starts where they end.
    let filled = seg.start + bytes.len() as u64;
    Ok((next == Some(filled) && filled < c).then_some(k))
}

/// True when every byte from `end` up to `k` is zero (or in no file), but for a stream
/// segment-end marker right at `end`.
pub(super) fn zeros_between(
    params: &Params,
    segs: &[SegmentFile],
    cur: Option<u64>,
    end: u64,
    k: u64,
) -> Result<bool> {
    if params.stride().is_some_and(|m| k % m != 0) {
        return Ok(false);
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
            return Ok(false);
        }
    }
    Ok(true)
}
