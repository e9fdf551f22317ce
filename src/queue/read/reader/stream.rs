//! The stream half of the read cursor: finding a stream record at the cursor, following
//! segment ends (0xEE markers, files that end early, segments rolled without a marker), and
//! opening stream segments. Segment-end rules: see the parent module's header (spec §13).
//! Every record found (an empty one included) passes the publication gate (`Reader::admit`)
//! before it is served, and bytes that form no record are damage only once settled.
//!
//! This module must not move offset files or wait; it answers one poll at a time.

use std::sync::Arc;

use crate::queue::error::{Error, Result};
use crate::queue::format::codec::{
    self, END_MARKER, SEGMENT_END, STREAM_HEADER, STREAM_MIN_RECORD, STREAM_OVERHEAD,
};

use super::{refresh, Gate, Reader, RecordLoc, AGAIN};
use crate::queue::format::positions::open_stream;
use crate::queue::os::segment::Segment;

impl Reader {
    pub(super) fn poll_stream(&mut self, thorough: bool) -> Result<Option<RecordLoc>> {
        let mut again = 0;
        loop {
            if let Some(loc) = self.stream_located() {
                // A whole record with its marker set: ready once published (or nobody writes).
                match self.admit(loc.next) {
                    Gate::Open => return Ok(Some(loc)),
                    Gate::Wait => return Ok(None),
                    Gate::Again if again < AGAIN => {
                        again += 1;
                        continue;
                    }
                    Gate::Again => return Ok(None),
                }
            }
            if self.seg.is_none() {
                let seg = self.locate_stream()?;
                self.set_segment(seg.map(Arc::new), 0);
            }
            let Some(seg) = self.seg.as_mut() else {
                return Ok(None);
            };
            let pos = (self.offset - seg.start()) as usize;
            let rest = (seg.logical_len() as usize).saturating_sub(pos);
            let tail = rest < STREAM_MIN_RECORD;
            let poll = match (tail, rest == STREAM_OVERHEAD) {
                // A 5-byte tail never gets a 0xEE, but .NET's empty record fits it exactly.
                (true, true) => self.empty_at(pos)?,
                // Any other short tail ends the segment.
                (true, false) => StreamPoll::End,
                (false, _) => self.stream_at(pos, rest)?,
            };
            let poll = match self.gate(poll) {
                StreamPoll::Empty if tail => StreamPoll::End,
                poll => poll,
            };
            match poll {
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
                StreamPoll::Again if again < AGAIN => again += 1,
                StreamPoll::Again => return Ok(None),
            }
        }
    }

    /// The common case, without copies: a record that [`Reader::stream_located_within`] finds
    /// ending at or before `fast_end`, the segment's end or the cached published offset (the
    /// bound it checks anyway: the gate adds no work). Anything else goes the careful way.
    #[inline(always)]
    pub(super) fn stream_fast(&self) -> Option<RecordLoc> {
        self.stream_located_within(self.fast_end)
    }

    /// A whole record at the cursor by its bytes alone, published or not (the careful path
    /// decides that).
    #[inline(always)]
    fn stream_located(&self) -> Option<RecordLoc> {
        let end = self.seg.as_ref()?.logical_len();
        self.stream_located_within(end.try_into().unwrap_or(usize::MAX))
    }

    /// A whole record at the cursor that ends at or before in-file position `end`: the segment
    /// is open, header and marker lie inside the mapping, the length is plausible and its low
    /// byte is not 0xEE, the marker is set and the header is unchanged after the acquire.
    #[inline(always)]
    fn stream_located_within(&self, end: usize) -> Option<RecordLoc> {
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
        let rest = end.saturating_sub(pos);
        if len > self.params.max_payload() || len + STREAM_OVERHEAD > rest {
            return None;
        }
        map.published(pos + STREAM_HEADER, len, END_MARKER)?;
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
                (_, 0) => self.empty_at(pos),
                _ => self.damage(pos, format!("record length {len} is impossible here")),
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
            0 => self.zero_marker(mpos, loc.next),
            b => self.damage(mpos, format!("end marker is {b:#04x}, expected 0xff")),
        }
    }

    /// A zero header at `pos`: .NET's empty record (`00 00 00 00 FF`) when the byte after it
    /// is the end marker, else nothing written yet. The header is read again after the
    /// acquire of the marker: mfq's producer writes a record's header before its payload (with
    /// a release fence between), so a first payload byte of 0xFF seen here under a header
    /// still zero can only be an empty record. A .NET producer's copy gives no such order: at
    /// or past its published offset, the caller's gate reads these bytes as not yet written.
    fn empty_at(&mut self, pos: usize) -> Result<StreamPoll> {
        let seg = self.seg.as_mut().expect("segment open");
        let mpos = pos + STREAM_HEADER;
        if mpos >= seg.mapped_len() {
            refresh(seg)?;
        }
        if seg.byte(mpos) != END_MARKER || codec::stream_len(&seg.bytes(pos, STREAM_HEADER)) != 0 {
            return Ok(StreamPoll::Empty);
        }
        Ok(StreamPoll::Ready(RecordLoc {
            offset: self.offset,
            next: self.offset + STREAM_OVERHEAD as u64,
            payload_pos: mpos,
            len: 0,
        }))
    }

    /// What a record that [`Reader::stream_at`] or [`Reader::empty_at`] found is worth once
    /// publication is considered: a record (an empty one included) past a live producer's
    /// published offset is not written yet, and one read before the published offset moved
    /// is read again.
    fn gate(&mut self, poll: StreamPoll) -> StreamPoll {
        let (loc, unpublished) = match poll {
            StreamPoll::Ready(loc) => (loc, StreamPoll::Empty),
            StreamPoll::RecordOrEnd(loc) => (loc, StreamPoll::MaybeEnd),
            other => return other,
        };
        match self.admit(loc.next) {
            Gate::Open => poll,
            Gate::Wait => unpublished,
            Gate::Again => StreamPoll::Again,
        }
    }

    /// Bytes at the cursor that form no record: damage when they are settled (published
    /// before they were read, or no producer holds the store), else bytes still landing (see
    /// `published.rs`), or bytes to read again when the published offset moved meanwhile.
    #[cold]
    fn damage(&mut self, pos: usize, what: String) -> Result<StreamPoll> {
        match self.settled() {
            Gate::Open => Err(self.corrupt(pos, what)),
            Gate::Wait => Ok(StreamPoll::Empty),
            Gate::Again => Ok(StreamPoll::Again),
        }
    }

    /// A length at the cursor with a zero where its end marker belongs: not written yet, unless
    /// the record ends at or below the offset the producer has published (the producer, .NET's
    /// or mfq's, publishes a record only after its copy): then it is torn, whoever holds the
    /// store. The marker is read again after the acquire load of the published offset, so a
    /// record published in between is read again, not reported.
    #[cold]
    fn zero_marker(&mut self, mpos: usize, next: u64) -> Result<StreamPoll> {
        let published = self.publication.load();
        if next > published {
            return Ok(StreamPoll::Empty);
        }
        let seg = self.seg.as_ref().expect("segment open");
        if seg.byte(mpos) != 0 {
            return Ok(StreamPoll::Again);
        }
        Err(self.corrupt(
            mpos,
            format!(
                "end marker is 0x00, expected 0xff, in a record that ends below the producer \
                 offset {published} (a torn record)"
            ),
        ))
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
        if let Some((seg, requested)) = self.take_next(self.offset) {
            self.set_segment(Some(seg), requested);
            return Ok(true);
        }
        let path = self.layout.segment(self.offset);
        match open_stream(&path, self.offset, &self.params)? {
            Some(s) => {
                self.set_segment(Some(Arc::new(s)), 0);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The first stream segment after the one starting at `start` (where a reader working
    /// through a backlog will most likely go next; the careful path still checks that it starts
    /// exactly where the records end).
    pub(super) fn open_stream_after(&self, start: u64) -> Result<Option<Segment>> {
        let (segs, _) = self.layout.list_segments()?;
        match segs.iter().find(|s| s.start > start) {
            Some(next) => open_stream(&next.path, next.start, &self.params),
            None => Ok(None),
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
    /// The published offset moved after these bytes were read: read them again.
    Again,
}
