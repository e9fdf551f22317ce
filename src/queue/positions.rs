//! Record boundaries: the earliest record on disk, the end of the valid data, whether an offset
//! is a record boundary (and the nearest ones when it is not), and the offsets of the last N
//! records. Fixed stores answer by arithmetic; stream stores by walking one segment.
//!
//! This module only reads.

use super::codec;
use super::error::{Error, Result};
use super::layout::{Layout, SegmentFile};
use super::params::{Format, Params};
use super::reader::open_stream;
use super::scan::{self, Status};
use super::segment::Segment;
use super::sys;

/// Calls `f` with the whole content of a file, mapped read-only (no copy, so memory stays
/// bounded by the page cache on a file of any size). For tools that read one file that may not
/// belong to a store (`dump-segment PATH`).
pub fn with_file_bytes<R>(path: &std::path::Path, f: impl FnOnce(&[u8]) -> R) -> Result<R> {
    // Opening a FIFO would block, and a device has no end: only regular files are read.
    let meta = std::fs::metadata(path).map_err(|e| Error::io("stat", path, e))?;
    if !meta.is_file() {
        let why = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
        return Err(Error::io("read", path, why));
    }
    match Segment::open_read(path, 0, u64::MAX)? {
        Some(s) => Ok(f(s.map().slice(0, s.mapped_len()))),
        None => Err(Error::io(
            "open",
            path,
            std::io::Error::from(std::io::ErrorKind::NotFound),
        )),
    }
}

/// A segment's bytes as walks see them: borrowed from a read-only mapping when the file is
/// whole (no copy), zero-filled past a short file's end, empty when the file is gone.
pub(crate) enum SegmentBytes {
    /// The file holds the whole logical length: its first `.1` bytes.
    Mapped(Segment, usize),
    /// A short file: its bytes, then zeros, in memory whose untouched pages cost nothing (a
    /// huge segment size for a small file reserves address space, not memory).
    Padded(sys::Zeroed),
    /// The file is gone.
    Missing,
}

impl std::ops::Deref for SegmentBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            SegmentBytes::Mapped(s, len) => s.map().slice(0, *len),
            SegmentBytes::Padded(z) => z,
            SegmentBytes::Missing => &[],
        }
    }
}

/// The most zero bytes a short file is read with: walking zeros costs time even when they
/// cost no memory, and no store has segments this large (they are preallocated on disk).
const MAX_ZERO_FILL: usize = 64 << 30;

/// Reads a segment's bytes (zero past a short file's end). Fails, rather than aborting the
/// process, when the zero-filled length cannot even be reserved.
pub(crate) fn segment_bytes(params: &Params, seg: &SegmentFile) -> Result<SegmentBytes> {
    let opened = match params.format() {
        Format::Fixed => Segment::open_read(&seg.path, seg.start, params.file_len())?,
        Format::Stream => open_stream(&seg.path, seg.start, params)?,
    };
    let Some(s) = opened else {
        return Ok(SegmentBytes::Missing);
    };
    let len = usize::try_from(s.logical_len()).unwrap_or(usize::MAX);
    let have = s.mapped_len();
    if have >= len {
        return Ok(SegmentBytes::Mapped(s, len));
    }
    let reserve = if len - have <= MAX_ZERO_FILL {
        sys::Zeroed::new(len)
    } else {
        Err(std::io::Error::other(
            "more zeros than any walk here is meant to read",
        ))
    };
    let mut z = reserve.map_err(|e| {
        Error::InvalidParams(format!(
            "segment file {} is {have} bytes, but the segment size makes it {len}: cannot hold \
             the missing bytes as zeros ({e}); check --segment-size or mfq.json",
            seg.path.display()
        ))
    })?;
    z[..have].copy_from_slice(s.map().slice(0, have));
    Ok(SegmentBytes::Padded(z))
}

/// Calls `f` with a segment's bytes (see [`segment_bytes`]).
pub(crate) fn with_segment_bytes<R>(
    params: &Params,
    seg: &SegmentFile,
    f: impl FnOnce(&[u8]) -> R,
) -> Result<R> {
    Ok(f(&segment_bytes(params, seg)?))
}

/// The earliest record offset: the first segment's start (0 for a store without segments).
pub fn earliest(segs: &[SegmentFile]) -> u64 {
    segs.first().map_or(0, |s| s.start)
}

/// The end of the valid data: the offset after the last complete record of the last segment
/// (or of the chain, when the last segment holds none yet).
pub fn data_end(params: &Params, segs: &[SegmentFile]) -> Result<u64> {
    let Some(last) = segs.last() else {
        return Ok(0);
    };
    let bytes = segment_bytes(params, last)?;
    Ok(scan::valid_end(params, last.start, &bytes))
}

/// The segment holding `offset` (greatest start <= offset).
pub fn segment_for(segs: &[SegmentFile], offset: u64) -> Option<&SegmentFile> {
    segs.iter().rev().find(|s| s.start <= offset)
}

/// Checks that `offset` is a record boundary of the store; on failure names the nearest ones.
pub fn check_boundary(params: &Params, segs: &[SegmentFile], offset: u64) -> Result<()> {
    if let Some(m) = params.stride() {
        if offset % m == 0 {
            return Ok(());
        }
        let before = offset / m * m;
        return Err(Error::Misaligned {
            offset,
            before: Some(before),
            after: Some(before + m),
        });
    }
    let Some(seg) = segment_for(segs, offset) else {
        return Ok(());
    };
    if seg.start == offset {
        return Ok(());
    }
    let bytes = segment_bytes(params, seg)?;
    let mut before = seg.start;
    let mut after = None;
    let mut exact = false;
    let mut stop = None;
    scan::visit(params, seg.start, &bytes, |e| {
        if e.status != Status::Ok {
            exact = e.offset == offset;
            stop = Some(e.offset);
            return false;
        }
        let end = e.offset + e.size;
        if e.offset == offset || end == offset {
            exact = true;
            return false;
        }
        if end > offset {
            before = e.offset;
            after = Some(end);
            return false;
        }
        before = end;
        true
    });
    if exact || past_repaired_gap(params, seg, &bytes, stop, offset) {
        return Ok(());
    }
    Err(Error::Misaligned {
        offset,
        before: Some(before),
        after,
    })
}

/// Stream: true when the records stop at `stop` < `offset`, every byte between is zero (but a
/// 0xEE where they stop) and a
/// complete record starts at `offset`: the far side of a gap that a repair leaves when it moves
/// the producer up to a consumer's offset (see `recovery/hole.rs`).
fn past_repaired_gap(
    params: &Params,
    seg: &SegmentFile,
    bytes: &[u8],
    stop: Option<u64>,
    offset: u64,
) -> bool {
    let Some(stop) = stop.filter(|s| *s < offset) else {
        return false;
    };
    let (mut a, b) = ((stop - seg.start) as usize, (offset - seg.start) as usize);
    if bytes.get(a) == Some(&codec::SEGMENT_END) {
        a += 1; // the records stopped at a segment-end marker
    }
    a <= b
        && b <= bytes.len()
        && codec::is_zero(&bytes[a..b])
        && matches!(
            codec::classify_stream(&bytes[b..], params.max_payload()),
            codec::StreamSlot::Record { .. } | codec::StreamSlot::Ambiguous { .. }
        )
}

/// Offsets of the last `n` complete records before `end` (oldest first).
pub fn last_records(params: &Params, segs: &[SegmentFile], end: u64, n: u64) -> Result<Vec<u64>> {
    if n == 0 {
        return Ok(vec![]);
    }
    if let Some(m) = params.stride() {
        let first = earliest(segs).max(end.saturating_sub(n * m));
        return Ok((first..end).step_by(m as usize).collect());
    }
    let mut out: Vec<u64> = Vec::new();
    for seg in segs.iter().rev().filter(|s| s.start < end) {
        let bytes = segment_bytes(params, seg)?;
        let mut here = Vec::new();
        scan::visit(params, seg.start, &bytes, |e| {
            if e.status == Status::Ok && e.offset < end {
                here.push(e.offset);
                true
            } else {
                false
            }
        });
        here.extend(out);
        out = here;
        if out.len() as u64 >= n {
            break;
        }
    }
    let skip = out.len().saturating_sub(n as usize);
    Ok(out.split_off(skip))
}

/// Layout helper used by the store: lists segments, ignoring stray files.
pub(crate) fn segments(layout: &Layout) -> Result<Vec<SegmentFile>> {
    Ok(layout.list_segments()?.0)
}
