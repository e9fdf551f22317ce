//! Record boundaries: the store's [`Extent`] (the earliest record on disk, the data end, the
//! readable range), whether an offset is a record boundary (and the nearest ones when it is
//! not), and the offsets of the last N records. Fixed stores answer by arithmetic; stream
//! stores by walking one segment.
//!
//! Each of these facts is computed here and nowhere else: every command, `StartAt` and the
//! offline repairs ask an `Extent`. This module only reads.

use crate::queue::error::{Error, Result};
use crate::queue::format::codec;
use crate::queue::format::gaps::{self, Gap};
use crate::queue::format::layout::{Layout, SegmentFile};
use crate::queue::format::offsets;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::scan::{self, Status};
use crate::queue::os::segment::Segment;
use crate::queue::os::sys;

/// The most bytes [`with_file_bytes`] reads (it holds them in memory).
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// Calls `f` with the first `max` bytes of a file (all of it when shorter) and the file's
/// length, read with `pread` into anonymous memory (whose pages cost nothing until read into).
/// For tools that read one file that may not belong to a store (`dump-segment PATH`).
///
/// Not a mapping: `recover --force` may cut a file while a live process holds it (that is what
/// `--force` is for, so no lock of ours would stop it), and touching a mapped page past the new
/// end kills the process with SIGBUS. A read of a file cut meanwhile just ends early: `f` gets
/// the bytes that were there. Reading more than [`MAX_FILE_BYTES`] is refused.
pub fn with_file_bytes<R>(
    path: &std::path::Path,
    max: u64,
    f: impl FnOnce(&[u8], u64) -> R,
) -> Result<R> {
    use std::os::unix::fs::FileExt;
    // Opening a FIFO would block, and a device has no end: only regular files are read.
    let meta = std::fs::metadata(path).map_err(|e| Error::io("stat", path, e))?;
    if !meta.is_file() {
        let why = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a regular file");
        return Err(Error::io("read", path, why));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io("open", path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    let len = file_len.min(max);
    if len > MAX_FILE_BYTES {
        let why = std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{len} bytes to read, more than the {MAX_FILE_BYTES} read at once"),
        );
        return Err(Error::io("read", path, why));
    }
    let mut buf = sys::Zeroed::new(len as usize).map_err(|e| Error::io("read", path, e))?;
    let mut have = 0usize;
    while have < buf.len() {
        match file.read_at(&mut buf[have..], have as u64) {
            Ok(0) => break, // cut while being read: what is left is what it holds
            Ok(n) => have += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io("read", path, e)),
        }
    }
    Ok(f(&buf[..have], file_len))
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
    let mut z = reserve.map_err(|e| Error::SegmentTooLarge {
        path: seg.path.clone(),
        have: have as u64,
        len: len as u64,
        why: e.to_string(),
    })?;
    z[..have].copy_from_slice(s.map().slice(0, have));
    Ok(SegmentBytes::Padded(z))
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

/// Counts the complete records in `[from, end)`, reading at most `budget` bytes of at most
/// `max_files` segment files; the flag is false when the count stopped early (at the budget,
/// at damaged data or at a missing segment), so that the count is only a lower bound. Fixed
/// stores count by arithmetic.
pub fn count_records(
    params: &Params,
    segs: &[SegmentFile],
    from: u64,
    end: u64,
    budget: u64,
    max_files: u32,
) -> (u64, bool) {
    if from >= end {
        return (0, true);
    }
    if let Some(m) = params.stride() {
        return ((end - from) / m, true);
    }
    let (mut offset, mut count, mut budget, mut files) = (from, 0, budget, max_files);
    while offset < end {
        let Some(seg) = segment_for(segs, offset) else {
            return (count, false);
        };
        let pos = offset - seg.start;
        let want = (end - offset).min(seg.len.saturating_sub(pos));
        if want == 0 || budget == 0 || files == 0 {
            return (count, false);
        }
        let len = want.min(budget);
        budget -= len;
        files -= 1;
        let Ok(bytes) = segment_bytes(params, seg) else {
            return (count, false);
        };
        let Some(window) = bytes.get(pos as usize..(pos + len) as usize) else {
            return (count, false);
        };
        let before = offset;
        scan::visit(params, offset, window, |e| {
            if e.status != Status::Ok || e.offset + e.size > end {
                return false;
            }
            count += 1;
            offset = e.offset + e.size;
            true
        });
        if offset == before {
            return (count, false);
        }
    }
    (count, true)
}

/// Opens a stream segment read-only; its logical length is the larger of the file's length and
/// the SegmentSize (a file shorter than SegmentSize reads as zero past its end).
pub(crate) fn open_stream(
    path: &std::path::Path,
    start: u64,
    params: &Params,
) -> Result<Option<Segment>> {
    let actual = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Segment::open_read(path, start, actual.max(params.file_len()))
}

/// The highest committed consumer offset among readable offset files.
fn max_consumer(layout: &Layout) -> Option<u64> {
    offsets::read_consumers(layout)
        .ok()?
        .into_iter()
        .map(|(_, k)| k)
        .max()
}

/// Where a reader starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StartAt {
    /// The earliest record on disk.
    Earliest,
    /// The end of the data: only records written from now on.
    Latest,
    /// This exact logical offset (must be a record boundary).
    Offset(u64),
}

/// Where a store's records lie, read once: the segment files (one listing of `commitlog/`),
/// `producer.offset` (one read) and the highest committed consumer offset. The earliest
/// offset, the data end and whether a reader may start at an offset are all answered from this
/// one snapshot, so that they agree.
#[derive(Clone, Debug)]
pub struct Extent {
    params: Params,
    segs: Vec<SegmentFile>,
    producer: Option<u64>,
    max_consumer: Option<u64>,
    gaps: Vec<Gap>,
}

impl Extent {
    /// Lists the segments and reads `producer.offset` and the consumers' offset files (an
    /// unreadable one counts as missing).
    pub fn read(layout: &Layout, params: &Params) -> Result<Extent> {
        let segs = layout.list_segments()?.0;
        let producer = offsets::read_offset(&layout.producer_offset())
            .ok()
            .flatten();
        let max_consumer = max_consumer(layout);
        let extent = Extent::from_parts(*params, segs, producer, max_consumer);
        Ok(extent.with_gaps(gaps::read(layout)?))
    }

    /// The same extent, with the gaps recorded in `mfq.gaps`.
    pub fn with_gaps(mut self, gaps: Vec<Gap>) -> Extent {
        self.gaps = gaps;
        self
    }

    /// The recorded gaps, sorted.
    pub fn gaps(&self) -> &[Gap] {
        &self.gaps
    }

    /// An extent of segments already listed and offsets already read.
    pub fn from_parts(
        params: Params,
        segs: Vec<SegmentFile>,
        producer: Option<u64>,
        max_consumer: Option<u64>,
    ) -> Extent {
        Extent {
            params,
            segs,
            producer,
            max_consumer,
            gaps: vec![],
        }
    }

    /// The segment files, sorted by start.
    pub fn segments(&self) -> &[SegmentFile] {
        &self.segs
    }

    /// The segment files, sorted by start.
    pub fn into_segments(self) -> Vec<SegmentFile> {
        self.segs
    }

    /// `producer.offset` as read (None when missing or unreadable).
    pub fn producer(&self) -> Option<u64> {
        self.producer
    }

    /// The earliest record offset on disk (0 without segments).
    pub fn earliest(&self) -> u64 {
        earliest(&self.segs)
    }

    /// The end of the records on disk: after the last complete record of the last segment.
    pub fn records_end(&self) -> Result<u64> {
        data_end(&self.params, &self.segs)
    }

    /// The data end: where the next record will be read, where `StartAt::Latest` starts and
    /// where `adjust-offset ... latest` moves an offset. That is the end of the records on
    /// disk, or the producer offset past them when a repair left a gap on purpose (policy 2,
    /// `offline/recovery/hole.rs`): the producer offset then lies past the records on a
    /// readable boundary, a consumer has committed at least that far, and new records go
    /// there. A producer offset past the records that no consumer reached is damage (records
    /// lost in a crash), not a gap: the data end stays where the records end, unless (fixed
    /// format) a complete record ends right at the producer offset (damage below it that a
    /// repair left alone, since nothing needs it for delivery: new records still go there).
    pub fn data_end(&self) -> Result<u64> {
        let mut end = self.records_end()?;
        // The records go on past a recorded gap that starts where they stop.
        while let Some(g) = self.gaps.iter().find(|g| g.from == end) {
            end = self.records_end_from(g.to)?;
        }
        match self.producer {
            Some(p)
                if p > end
                    && self.max_consumer.is_some_and(|k| k >= p)
                    && self.check_readable(p).is_ok() =>
            {
                Ok(p)
            }
            Some(p) if p > end && self.record_ends_at(p)? && self.check_readable(p).is_ok() => {
                Ok(p)
            }
            _ => Ok(end),
        }
    }

    /// Fixed format: whether the slot before `offset` holds a complete record.
    fn record_ends_at(&self, offset: u64) -> Result<bool> {
        let Some(m) = self.params.stride() else {
            return Ok(false);
        };
        let Some(at) = offset.checked_sub(m) else {
            return Ok(false);
        };
        let Some(seg) = segment_for(&self.segs, at).filter(|s| at - s.start < self.params.span())
        else {
            return Ok(false);
        };
        let bytes = segment_bytes(&self.params, seg)?;
        let pos = (at - seg.start) as usize;
        Ok(bytes.get(pos..pos + m as usize).is_some_and(|slot| {
            crate::queue::format::codec::classify_fixed(slot)
                == crate::queue::format::codec::FixedSlot::Record
        }))
    }

    /// The end of the records that start at `from` (a gap's far side) in its segment; `from`
    /// itself where no segment holds it yet.
    fn records_end_from(&self, from: u64) -> Result<u64> {
        let Some(seg) = segment_for(&self.segs, from) else {
            return Ok(from);
        };
        let bytes = segment_bytes(&self.params, seg)?;
        let pos = (from - seg.start) as usize;
        Ok(match bytes.get(pos..) {
            Some(rest) if !rest.is_empty() => scan::valid_end(&self.params, from, rest),
            _ => from,
        })
    }

    /// Where lags are measured to: the producer offset when there is one (what was written,
    /// whether or not a reader can get to it: a consumer stuck before damage still lags),
    /// else the data end.
    pub fn lag_end(&self) -> Result<u64> {
        match self.producer {
            Some(p) => Ok(p),
            None => self.data_end(),
        }
    }

    /// Checks that a reader may start at `offset`: not before the earliest record (in a
    /// deleted segment) and on a record boundary.
    pub fn check_readable(&self, offset: u64) -> Result<()> {
        let earliest = self.earliest();
        if !self.segs.is_empty() && offset < earliest {
            return Err(Error::OutOfRange {
                offset,
                earliest,
                latest: self.records_end()?,
            });
        }
        // Both ends of a recorded gap are boundaries: the records stop at one, start at the other.
        if self.gaps.iter().any(|g| g.from == offset || g.to == offset) {
            return Ok(());
        }
        // The producer offset is where the next record goes, so it is a boundary even past a
        // zero gap that a repair left when it moved the producer up to a consumer (policy 2).
        // Fixed boundaries are arithmetic and need no such help.
        if self.params.format() == Format::Stream && self.producer == Some(offset) {
            return Ok(());
        }
        // An offset no boundary check accepts past the end of the records is out of range,
        // not misaligned: there is no record to be nearest to.
        check_boundary(&self.params, &self.segs, offset).map_err(|e| match self.records_end() {
            Ok(latest) if offset > latest && matches!(e, Error::Misaligned { .. }) => {
                Error::OutOfRange {
                    offset,
                    earliest,
                    latest,
                }
            }
            _ => e,
        })
    }

    /// Checks that `offset` lies in `[earliest, data end]` and that a reader may start there.
    pub fn check_in_range(&self, offset: u64) -> Result<()> {
        let (earliest, end) = (self.earliest(), self.data_end()?);
        if (!self.segs.is_empty() && offset < earliest) || offset > end {
            return Err(Error::OutOfRange {
                offset,
                earliest,
                latest: end,
            });
        }
        self.check_readable(offset)
    }

    /// Turns a start position into an offset (not checked: see [`Extent::check_readable`]).
    pub fn resolve(&self, start: StartAt) -> Result<u64> {
        match start {
            StartAt::Earliest => Ok(self.earliest()),
            StartAt::Latest => self.data_end(),
            StartAt::Offset(o) => Ok(o),
        }
    }
}
