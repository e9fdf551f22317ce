//! A read cursor over a store's records, shared by consumers and observers: it finds the
//! segment for a logical offset, follows segment rolls, and says whether a complete record is
//! ready at the cursor. It never reads `producer.offset`: readiness comes from the end-marker
//! bytes alone, as in .NET (no shared cache line between producer and consumer).
//!
//! Stream segment ends (spec §13): at offset X the segment ends when fewer than 6 bytes remain,
//! or the byte at X is 0xEE and either the next file `D20(X)` exists or the bytes do not form a
//! valid record, so a payload length of 238 mod 256 is read as a record, not as an end.
//!
//! This module must not move offset files or wait; it answers one poll at a time.

use std::sync::Arc;

use super::codec::{
    self, END_MARKER, SEGMENT_END, STREAM_HEADER, STREAM_MIN_RECORD, STREAM_OVERHEAD,
};
use super::error::{Error, Result};
use super::layout::Layout;
use super::params::{Format, Params};
use super::readahead::ReadAhead;
use super::segment::Segment;

/// How far ahead of the marker it reads a reader asks the CPU to prefetch.
const PREFETCH_AHEAD: usize = 2048;

/// Where a ready record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordLoc {
    /// Logical offset of the record.
    pub offset: u64,
    /// Offset right after it.
    pub next: u64,
    /// In-file position of the payload.
    pub payload_pos: usize,
    /// Payload length.
    pub len: usize,
}

/// A read cursor.
pub struct Reader {
    layout: Layout,
    params: Params,
    seg: Option<Arc<Segment>>,
    offset: u64,
    /// Fixed format: logical range `[seg_start, seg_end)` of the open segment (hot path).
    seg_start: u64,
    seg_end: u64,
    /// Fixed format: bytes per record, marker included (0 for stream).
    stride: usize,
    /// Populating the mapping ahead of a cursor that works through a backlog.
    read_ahead: ReadAhead,
}

impl Reader {
    /// A cursor at `offset` (which the caller has checked is a record boundary).
    pub fn new(layout: Layout, params: Params, offset: u64) -> Reader {
        Reader {
            layout,
            params,
            seg: None,
            offset,
            seg_start: 0,
            seg_end: 0,
            stride: params.stride().unwrap_or(0) as usize,
            read_ahead: ReadAhead::new(),
        }
    }

    /// The cursor's logical offset.
    #[inline]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Moves the cursor (keeps the open segment when it still covers the offset, or the offset
    /// is its very end: the payload of a record that fills a stream segment exactly is read
    /// after the cursor has moved past it).
    pub fn set_offset(&mut self, offset: u64) {
        if let Some(s) = &self.seg {
            if offset < s.start() || offset > s.start() + s.logical_len() {
                self.seg = None;
            }
        }
        self.offset = offset;
    }

    /// The payload bytes of a record returned by [`Reader::poll`] (valid until the cursor
    /// leaves the segment).
    #[inline]
    pub fn payload(&self, loc: &RecordLoc) -> &[u8] {
        match &self.seg {
            Some(s) => s.map().slice(loc.payload_pos, loc.len),
            None => &[],
        }
    }

    /// Moves the cursor past a record returned by a poll of the current segment.
    #[inline]
    pub fn advance(&mut self, loc: &RecordLoc) {
        self.offset = loc.next;
    }

    /// The record at the cursor when it is ready on the common path (segment open, marker
    /// mapped and set); `None` means "ask [`Reader::poll`]", not "nothing there".
    #[inline(always)]
    pub fn poll_fast(&mut self) -> Option<RecordLoc> {
        let loc = if self.stride != 0 {
            self.fixed_fast()
        } else {
            self.stream_fast()
        }?;
        if let Some(seg) = &self.seg {
            self.read_ahead.at(loc.payload_pos, seg, &self.layout);
        }
        Some(loc)
    }

    /// Makes `seg` the open segment, the cursor being at `offset` inside it.
    fn set_segment(&mut self, seg: Option<Segment>) {
        let pos = seg
            .as_ref()
            .map(|s| self.offset.saturating_sub(s.start()) as usize);
        self.read_ahead.reset(pos);
        self.seg = seg.map(Arc::new);
    }

    #[inline(always)]
    fn fixed_fast(&self) -> Option<RecordLoc> {
        let seg = self.seg.as_ref()?;
        if self.offset < self.seg_start || self.offset >= self.seg_end {
            return None;
        }
        let pos = (self.offset - self.seg_start) as usize;
        let mpos = pos + self.stride - 1;
        let map = seg.map();
        if mpos >= map.len() || map.load_acquire(mpos) != END_MARKER {
            return None;
        }
        map.prefetch(mpos + PREFETCH_AHEAD);
        Some(self.fixed_loc(pos))
    }

    /// The fixed record at the cursor, which lies at in-file position `pos`.
    #[inline(always)]
    fn fixed_loc(&self, pos: usize) -> RecordLoc {
        RecordLoc {
            offset: self.offset,
            next: self.offset + self.stride as u64,
            payload_pos: pos,
            len: self.stride - 1,
        }
    }

    /// Looks for a complete record at the cursor without moving it. `thorough` also checks for
    /// a next segment behind a zero header (a stream producer that rolled without a 0xEE).
    #[inline]
    pub fn poll(&mut self, thorough: bool) -> Result<Option<RecordLoc>> {
        match self.params.format() {
            Format::Fixed => self.poll_fixed(),
            Format::Stream => self.poll_stream(thorough),
        }
    }

    #[inline]
    fn poll_fixed(&mut self) -> Result<Option<RecordLoc>> {
        if self.seg.is_none() || self.offset < self.seg_start || self.offset >= self.seg_end {
            self.open_fixed()?;
        }
        let Some(seg) = self.seg.as_mut() else {
            return Ok(None);
        };
        let pos = (self.offset - self.seg_start) as usize;
        let mpos = pos + self.stride - 1;
        if mpos >= seg.mapped_len() {
            refresh(seg)?;
        }
        match seg.byte(mpos) {
            END_MARKER => Ok(Some(self.fixed_loc(pos))),
            0 => {
                seg.reader_caught_up(mpos);
                Ok(None)
            }
            b => Err(Error::Corrupt {
                path: seg.path().to_path_buf(),
                pos: mpos as u64,
                offset: self.offset,
                what: format!("end marker is {b:#04x}, expected 0xff"),
            }),
        }
    }

    #[cold]
    fn open_fixed(&mut self) -> Result<()> {
        let start = self.params.fixed_segment_start(self.offset);
        let path = self.layout.segment(start);
        let seg = Segment::open_read(&path, start, self.params.file_len())?;
        self.set_segment(seg);
        self.seg_start = start;
        self.seg_end = start + self.params.span();
        Ok(())
    }

    fn poll_stream(&mut self, thorough: bool) -> Result<Option<RecordLoc>> {
        if let Some(loc) = self.stream_fast() {
            return Ok(Some(loc));
        }
        loop {
            if self.seg.is_none() {
                let seg = self.locate_stream()?;
                self.set_segment(seg);
            }
            let Some(seg) = self.seg.as_mut() else {
                return Ok(None);
            };
            let pos = (self.offset - seg.start()) as usize;
            let rest = (seg.logical_len() as usize).saturating_sub(pos);
            if rest < STREAM_MIN_RECORD {
                if self.switch_to_next()? {
                    continue;
                }
                return Ok(None);
            }
            match self.stream_at(pos, rest)? {
                StreamPoll::Ready(loc) => return Ok(Some(loc)),
                StreamPoll::End | StreamPoll::MaybeEnd => {
                    if self.switch_to_next()? {
                        continue;
                    }
                    return Ok(None);
                }
                StreamPoll::RecordOrEnd(loc) => {
                    if self.switch_to_next()? {
                        continue;
                    }
                    return Ok(Some(loc));
                }
                StreamPoll::Empty => {
                    if thorough && self.switch_to_next()? {
                        continue;
                    }
                    return Ok(None);
                }
            }
        }
    }

    /// The common case, without copies: the segment is open, header and marker lie inside the
    /// mapping, the length is plausible and its low byte is not 0xEE, the marker is set and the
    /// header is unchanged after the acquire. Anything else goes the careful way.
    #[inline(always)]
    fn stream_fast(&self) -> Option<RecordLoc> {
        let seg = self.seg.as_ref()?;
        let pos = self.offset.checked_sub(seg.start())? as usize;
        let map = seg.map();
        if pos + STREAM_HEADER > map.len() {
            return None;
        }
        let mut header = [0u8; STREAM_HEADER];
        map.read_into(pos, &mut header);
        let len = i32::from_le_bytes(header);
        if len <= 0 || header[0] == SEGMENT_END {
            return None;
        }
        let len = len as usize;
        let rest = (seg.logical_len() as usize).saturating_sub(pos);
        if len > self.params.max_payload() || len + STREAM_OVERHEAD > rest {
            return None;
        }
        let mpos = pos + STREAM_HEADER + len;
        if mpos >= map.len() || map.load_acquire(mpos) != END_MARKER {
            return None;
        }
        let mut again = [0u8; STREAM_HEADER];
        map.read_into(pos, &mut again);
        (again == header).then_some(RecordLoc {
            offset: self.offset,
            next: self.offset + (len + STREAM_OVERHEAD) as u64,
            payload_pos: pos + STREAM_HEADER,
            len,
        })
    }

    fn stream_at(&mut self, pos: usize, rest: usize) -> Result<StreamPoll> {
        let max = self.params.max_payload();
        let seg = self.seg.as_mut().expect("segment open");
        if pos + STREAM_HEADER > seg.mapped_len() {
            refresh(seg)?;
        }
        let len = codec::stream_len(&seg.bytes(pos, STREAM_HEADER));
        let first = seg.byte(pos);
        let fits = len >= 1 && len as usize <= max && len as usize + 5 <= rest;
        if !fits {
            return match (first, len) {
                (SEGMENT_END, _) => Ok(StreamPoll::End),
                (_, 0) => Ok(StreamPoll::Empty),
                _ => Err(self.corrupt(pos, format!("record length {len} is impossible here"))),
            };
        }
        let l = len as usize;
        let mpos = pos + STREAM_HEADER + l;
        if mpos >= seg.mapped_len() {
            refresh(seg)?;
        }
        let loc = RecordLoc {
            offset: self.offset,
            next: self.offset + l as u64 + 5,
            payload_pos: pos + STREAM_HEADER,
            len: l,
        };
        match seg.byte(mpos) {
            END_MARKER if codec::stream_len(&seg.bytes(pos, STREAM_HEADER)) != len => {
                Ok(StreamPoll::Empty)
            }
            END_MARKER if first == SEGMENT_END => Ok(StreamPoll::RecordOrEnd(loc)),
            END_MARKER => Ok(StreamPoll::Ready(loc)),
            _ if first == SEGMENT_END => Ok(StreamPoll::MaybeEnd),
            0 => Ok(StreamPoll::Empty),
            b => Err(self.corrupt(mpos, format!("end marker is {b:#04x}, expected 0xff"))),
        }
    }

    fn corrupt(&self, pos: usize, what: String) -> Error {
        let seg = self.seg.as_ref().expect("segment open");
        Error::Corrupt {
            path: seg.path().to_path_buf(),
            pos: pos as u64,
            offset: self.offset,
            what,
        }
    }

    /// Opens `D20(offset)` if it exists and makes it current.
    fn switch_to_next(&mut self) -> Result<bool> {
        if self.seg.as_ref().map(|s| s.start()) == Some(self.offset) {
            return Ok(false);
        }
        let path = self.layout.segment(self.offset);
        match open_stream(&path, self.offset, &self.params)? {
            Some(s) => {
                self.set_segment(Some(s));
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The stream segment with the greatest start <= offset.
    fn locate_stream(&self) -> Result<Option<Segment>> {
        let (segs, _) = self.layout.list_segments()?;
        let Some(found) = segs.iter().rev().find(|s| s.start <= self.offset) else {
            return Ok(None);
        };
        open_stream(&found.path, found.start, &self.params)
    }
}

/// Remaps a segment whose file has grown; skipped (retried at the next poll) while the
/// prefault helper holds the segment.
fn refresh(seg: &mut Arc<Segment>) -> Result<bool> {
    match Arc::get_mut(seg) {
        Some(s) => s.refresh(),
        None => Ok(false),
    }
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

enum StreamPoll {
    Ready(RecordLoc),
    /// A record whose length's low byte is 0xEE: a record unless the next segment exists.
    RecordOrEnd(RecordLoc),
    /// A 0xEE marker: the segment ends here.
    End,
    /// 0xEE with an incomplete record after it: an end if the next segment exists.
    MaybeEnd,
    /// Nothing written yet.
    Empty,
}
