//! The fixed half of the read cursor: the fast path (one window check, then the end marker),
//! the careful path that opens the segment holding the cursor by arithmetic, and the record
//! location of a fixed slot. Fixed records are `stride` bytes, the last of which is the 0xFF
//! end marker (spec §3). The fast window ends at the cached published offset, so the fast path
//! pays nothing for the publication gate; the careful path serves a slot past it only through
//! `Reader::admit`.
//!
//! This module must not move offset files or wait; it answers one poll at a time.

use std::sync::Arc;

use super::{refresh, Gate, Reader, RecordLoc, AGAIN, PREFETCH_AHEAD};
use crate::queue::error::{Error, Result};
use crate::queue::format::codec::END_MARKER;
use crate::queue::os::segment::Segment;

impl Reader {
    /// One window check, then the marker: everything else about the segment was settled by
    /// the careful path that set `fast_len`.
    #[inline(always)]
    pub(super) fn fixed_fast(&self) -> Option<RecordLoc> {
        let rel = self.offset.wrapping_sub(self.seg_start);
        if rel >= self.fast_len {
            return None;
        }
        let seg = self.seg.as_ref()?;
        let pos = rel as usize;
        let map = seg.map();
        map.published(pos, self.stride - 1, END_MARKER)?;
        map.prefetch(pos + PREFETCH_AHEAD);
        Some(self.fixed_loc(pos))
    }

    /// After the careful path served the fixed record at `pos`: lets the read-ahead look at
    /// the position and opens the fast window up to its next look (or the span's end), and no
    /// further than the records that end at or before the cached published offset.
    #[cold]
    pub(super) fn fixed_served(&mut self, pos: usize) {
        if let Some(seg) = &self.seg {
            if self.read_ahead.at(pos, seg, &self.layout) {
                self.looked(pos);
            }
        }
        let span = self.seg_end - self.seg_start;
        // `rel < limit` exactly when `rel + stride <= published - seg_start`.
        let published = self
            .published
            .saturating_sub(self.seg_start)
            .saturating_sub(self.stride as u64 - 1);
        self.fast_len = span.min(self.read_ahead.next_look() as u64).min(published);
    }

    /// The fixed record at the cursor, which lies at in-file position `pos`.
    #[inline(always)]
    pub(super) fn fixed_loc(&self, pos: usize) -> RecordLoc {
        RecordLoc {
            offset: self.offset,
            next: self.offset + self.stride as u64,
            payload_pos: pos,
            len: self.stride - 1,
        }
    }

    #[inline]
    pub(super) fn poll_fixed(&mut self) -> Result<Option<RecordLoc>> {
        if self.seg.is_none() || self.offset < self.seg_start || self.offset >= self.seg_end {
            self.open_fixed()?;
        }
        for _ in 0..=AGAIN {
            let Some(seg) = self.seg.as_mut() else {
                return Ok(None);
            };
            let pos = (self.offset - self.seg_start) as usize;
            let mpos = pos + self.stride - 1;
            if mpos >= seg.mapped_len() {
                refresh(seg)?;
            }
            let gate = match seg.byte(mpos) {
                0 => {
                    seg.reader_caught_up(mpos);
                    return Ok(None);
                }
                END_MARKER => self.admit(self.offset + self.stride as u64),
                // Damage, once settled.
                _ => self.settled(),
            };
            match gate {
                Gate::Wait => return Ok(None),
                Gate::Again => continue,
                Gate::Open => {}
            }
            // Read again after the gate's loads: the first read may predate them.
            let seg = self.seg.as_ref().expect("segment open");
            match seg.byte(mpos) {
                0 => return Ok(None),
                END_MARKER => {
                    self.fixed_served(pos);
                    return Ok(Some(self.fixed_loc(pos)));
                }
                b => {
                    return Err(Error::Corrupt {
                        path: seg.path().to_path_buf(),
                        pos: mpos as u64,
                        offset: self.offset,
                        what: format!("end marker is {b:#04x}, expected 0xff"),
                    })
                }
            }
        }
        Ok(None)
    }

    #[cold]
    pub(super) fn open_fixed(&mut self) -> Result<()> {
        let start = self.params.fixed_segment_start(self.offset);
        match self.take_next(start) {
            Some((seg, requested)) => self.set_segment(Some(seg), requested),
            None => {
                let path = self.layout.segment(start);
                let seg = Segment::open_read(&path, start, self.params.file_len())?;
                self.set_segment(seg.map(Arc::new), 0);
            }
        }
        self.seg_start = start;
        self.seg_end = start + self.params.span();
        Ok(())
    }
}
