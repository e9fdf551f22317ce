//! A read cursor over a store's records, shared by consumers and observers: it finds the
//! segment for a logical offset, follows segment rolls, and says whether a complete record is
//! ready at the cursor. A record is ready when its end marker is set and it ends at or before
//! the producer's published offset (`published.rs`), or, past that offset, when no producer
//! holds the store. The fast paths compare with a cached copy of that offset (no load of the
//! producer's cache line per record); the careful path loads it again only when a record lies
//! past the copy. Bytes past the published offset of a live producer are never reported as
//! damage: a .NET producer's one-copy write can land in any order (see `published.rs`).
//! While an mfq producer holds the store (checked every few dozen careful polls, the answer
//! cached for milliseconds) its markers alone decide, as before the gate: it writes the header,
//! a fence, the payload, then the marker with release, and the reader then never loads the
//! cache line of its `producer.offset`. Damage is reported only after a fresh probe.
//!
//! Stream segment ends (spec §13): at offset X the segment ends when fewer than 6 bytes remain,
//! or the byte at X is 0xEE and either the next file `D20(X)` exists or the bytes do not form a
//! valid record, so a payload length of 238 mod 256 is read as a record, not as an end.
//!
//! This file holds what both formats share (the cursor, segment switching, the read-ahead);
//! the fixed half is `fixed.rs`, the stream half `stream.rs`.
//!
//! This module must not move offset files or wait; it answers one poll at a time.

use std::sync::Arc;

use crate::queue::error::Result;
use crate::queue::format::layout::Layout;
use crate::queue::format::params::{Format, Params};
use crate::queue::os::segment::Segment;
use crate::queue::read::readahead::ReadAhead;

use crate::queue::offline::locks::ProducerHolder;
use published::Published;

/// How far ahead of the marker it reads a reader asks the CPU to prefetch.
const PREFETCH_AHEAD: usize = 2048;

/// How many times one poll reads bytes again after the published offset moved (each time the
/// producer published more; a poll that runs out says "nothing yet", and the next one goes on).
const AGAIN: usize = 4;

/// What the publication gate says of bytes at the cursor ([`Reader::admit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    /// Published, or no producer holds the store: read them as they are.
    Open,
    /// Past a live producer's published offset: not written yet.
    Wait,
    /// The published offset moved after they were read: read them again.
    Again,
}

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
    /// Fixed format: the fast path alone serves a record at `offset` when
    /// `offset - seg_start < fast_len` (wrapping): the segment is open, the record lies in its
    /// span, and the read-ahead has nothing to decide before that position. 0 whenever that is
    /// not known, which sends the next poll the careful way (which sets it again).
    fast_len: u64,
    /// The segment after the open one, opened ahead of time by a reader working
    /// through a backlog, with how far the read-ahead helper was asked to populate it.
    next_seg: Option<(Arc<Segment>, usize)>,
    /// Populating the mapping ahead of a cursor that works through a backlog.
    read_ahead: ReadAhead,
    /// The published offset last loaded: the fast paths serve only records that end at or
    /// before it.
    published: u64,
    /// Stream format: the in-file position of the open segment where the fast path stops:
    /// its logical length, or the published offset when that lies inside it (so the gate
    /// costs the fast path nothing: it is the bound it checks a record's end against anyway).
    fast_end: usize,
    /// The producer's published offset and liveness.
    publication: Published,
    /// An mfq producer held the store at the last check: its markers alone say a record is
    /// whole (as they did before the gate), `published` is `u64::MAX` and the producer's
    /// offset is not loaded.
    trusted: bool,
    /// Careful polls since the producer was last checked ([`Reader::check_producer`]).
    unchecked: u32,
}

/// The careful path checks who holds the store once per this many polls (and the answer is
/// itself cached for a few milliseconds), so a spinning reader pays for neither per poll.
const CHECK_EVERY: u32 = 64;

impl Reader {
    /// A cursor at `offset` (which the caller has checked is a record boundary).
    pub fn new(layout: Layout, params: Params, offset: u64) -> Reader {
        Reader {
            params,
            seg: None,
            offset,
            seg_start: 0,
            seg_end: 0,
            stride: params.stride().unwrap_or(0) as usize,
            fast_len: 0,
            next_seg: None,
            read_ahead: ReadAhead::new(),
            published: 0,
            fast_end: 0,
            publication: Published::new(layout.producer_offset()),
            trusted: false,
            unchecked: 0,
            layout,
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
                self.fast_len = 0;
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
        if self.stride != 0 {
            return self.fixed_fast();
        }
        let loc = self.stream_fast()?;
        if let Some(seg) = &self.seg {
            if self.read_ahead.at(loc.payload_pos, seg, &self.layout) {
                self.looked(loc.payload_pos);
            }
        }
        Some(loc)
    }

    /// Makes `seg` the open segment, the cursor being at `offset` inside it; `requested`: how
    /// far the read-ahead helper was already asked to populate it.
    fn set_segment(&mut self, seg: Option<Arc<Segment>>, requested: usize) {
        let pos = seg
            .as_ref()
            .map(|s| self.offset.saturating_sub(s.start()) as usize);
        self.read_ahead.reset(pos, requested);
        if let Some(old) = std::mem::replace(&mut self.seg, seg) {
            self.read_ahead.retire(old);
        }
        self.fast_len = 0;
        self.set_fast_end();
    }

    /// Sets [`Reader::fast_end`] for the open segment and the cached published offset.
    fn set_fast_end(&mut self) {
        self.fast_end = match &self.seg {
            Some(s) => self
                .published
                .saturating_sub(s.start())
                .min(s.logical_len())
                .try_into()
                .unwrap_or(usize::MAX),
            None => 0,
        };
    }

    /// After a read-ahead look at `pos` (at most once per 16 MiB, not once per record: a reader
    /// that has caught up with the writer is served record by record): a reader working
    /// through a backlog near the end of its segment opens the next one, so that the helper
    /// populates its start before the reader gets there. Best effort: a segment that does not
    /// exist yet, or fails to open, is left to the careful path, which reports errors.
    #[cold]
    fn looked(&mut self, pos: usize) {
        let Some(seg) = &self.seg else {
            return;
        };
        if self.next_seg.is_some() || !self.read_ahead.wants_next(pos, seg.logical_len()) {
            return;
        }
        let next = match self.params.format() {
            Format::Fixed => {
                let path = self.layout.segment(self.seg_end);
                Segment::open_read(&path, self.seg_end, self.params.file_len())
            }
            Format::Stream => self.open_stream_after(seg.start()),
        };
        if let Ok(Some(next)) = next {
            let next = Arc::new(next);
            let requested = self.read_ahead.ahead_of_next(&next, &self.layout);
            self.next_seg = Some((next, requested));
        }
    }

    /// The segment opened ahead of time if it starts at `start` (else it is dropped), with how
    /// far the helper was asked to populate it.
    fn take_next(&mut self, start: u64) -> Option<(Arc<Segment>, usize)> {
        self.next_seg.take().filter(|(s, _)| s.start() == start)
    }

    /// Whether the record at the cursor that ends at `next` may be read: it ends at or before
    /// the cached published offset, or, past it, no producer holds the store. When the
    /// published offset has moved since the cache was loaded, the bytes were read before it
    /// and must be read again ([`Gate::Again`]): only bytes read after the acquire load of an
    /// offset that covers them are whole.
    #[inline]
    fn admit(&mut self, next: u64) -> Gate {
        if next <= self.published {
            return Gate::Open;
        }
        if let Some(again) = self.reload() {
            return again;
        }
        match self.publication.holder() {
            Some(_) => Gate::Wait,
            None => Gate::Open,
        }
    }

    /// Whether the bytes at the cursor, which form no record, are settled and so damage:
    /// published before they were read, or no producer holds the store. Asked afresh (a lock
    /// probe, not the cached answer), since a damage report follows: a producer that started
    /// a moment ago, or an mfq producer trusted a moment ago that has since given way to
    /// another, is not missed.
    #[cold]
    fn settled(&mut self) -> Gate {
        let holder = self.publication.probe();
        let trusted = holder == Some(ProducerHolder::Mfq);
        if trusted != self.trusted {
            self.set_trusted(trusted);
            return Gate::Again;
        }
        if trusted || self.offset < self.published {
            return Gate::Open;
        }
        if let Some(again) = self.reload() {
            return again;
        }
        match holder {
            Some(_) => Gate::Wait,
            None => Gate::Open,
        }
    }

    /// Loads the published offset again; [`Gate::Again`] when it moved (the bytes read before
    /// must be read again).
    fn reload(&mut self) -> Option<Gate> {
        let seen = self.publication.load();
        if seen == self.published {
            return None;
        }
        self.published = seen;
        self.set_fast_end();
        Some(Gate::Again)
    }

    /// Every [`CHECK_EVERY`] careful polls (the first included): whether an mfq producer holds
    /// the store. Trust in its markers starts or ends here.
    #[inline]
    fn check_producer(&mut self) {
        let due = self.unchecked % CHECK_EVERY == 0;
        self.unchecked = self.unchecked.wrapping_add(1);
        if due {
            let trusted = self.publication.holder() == Some(ProducerHolder::Mfq);
            if trusted != self.trusted {
                self.set_trusted(trusted);
            }
        }
    }

    /// Starts or ends trust in the markers alone; ending it drops the fast windows that the
    /// unbounded published offset had opened.
    #[cold]
    fn set_trusted(&mut self, trusted: bool) {
        self.trusted = trusted;
        self.published = match trusted {
            true => u64::MAX,
            false => self.publication.load(),
        };
        self.fast_len = 0;
        self.set_fast_end();
    }

    /// Looks for a complete record at the cursor without moving it. `thorough` also checks for
    /// a next segment behind a zero header (a stream producer that rolled without a 0xEE).
    #[inline]
    pub fn poll(&mut self, thorough: bool) -> Result<Option<RecordLoc>> {
        self.check_producer();
        match self.params.format() {
            Format::Fixed => self.poll_fixed(),
            Format::Stream => self.poll_stream(thorough),
        }
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

mod fixed;
mod published;
mod stream;
