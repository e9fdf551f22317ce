//! A reader's read-ahead policy: when a reader working through a backlog asks the populate
//! helper (`prefault.rs`, thread `mfq-readahead`) to map the next window of its segment, and up
//! to where. The window never goes past the data the producer has published (its
//! `producer.offset`, read here as a hint only: readiness is the reader's to decide), so
//! it never allocates the pages the writer is about to fault in. A reader that had caught up
//! with the writer and is a backlog behind again gets the kernel's readahead back.
//!
//! This module must not decide whether a record is ready or move the cursor.

use std::sync::Arc;

use crate::queue::format::layout::Layout;
use crate::queue::format::offsets::read_offset;
use crate::queue::os::prefault::Prefaulter;
use crate::queue::os::segment::Segment;

/// A reader working through a backlog has its mapping populated this far ahead of its cursor.
const WINDOW: usize = 32 << 20;
/// The helper is first asked once the cursor has read this far into a segment.
const AFTER: usize = 64 << 10;
/// A backlog smaller than this is not worth a request.
const MIN_BACKLOG: usize = WINDOW / 8;

/// The read-ahead state of one reader.
pub struct ReadAhead {
    /// Started on first use.
    helper: Option<Prefaulter>,
    /// The in-file position at which to look again (`usize::MAX`: no segment).
    next_at: usize,
}

impl ReadAhead {
    /// No segment yet, no helper.
    pub fn new() -> ReadAhead {
        ReadAhead {
            helper: None,
            next_at: usize::MAX,
        }
    }

    /// The reader opened a segment with its cursor at `pos` in it (or none); `requested`: how
    /// far into it the helper was already asked to populate ([`ReadAhead::ahead_of_next`]).
    pub fn reset(&mut self, pos: Option<usize>, requested: usize) {
        self.next_at = pos.map_or(usize::MAX, |p| p.saturating_add(AFTER).max(requested / 2));
    }

    /// The reader has left `seg`: its lock is released now, and the helper, when there is one,
    /// unmaps it off the reader's thread.
    pub fn retire(&self, seg: Arc<Segment>) {
        seg.release_lock();
        if let Some(helper) = &self.helper {
            helper.retire(seg);
        }
    }

    /// Whether a reader at `pos` of a segment `len` bytes long should open the next segment
    /// now, so that the helper populates its start before the reader gets there: only a reader
    /// working through a backlog (one that has asked the helper), and only once the window
    /// reaches the segment's end.
    pub fn wants_next(&self, pos: usize, len: u64) -> bool {
        self.helper.is_some() && (pos as u64).saturating_add(WINDOW as u64) >= len
    }

    /// Asks the helper to populate the start of `next`, the segment after the reader's current
    /// one, once it is done with the current window; returns how far (0: nothing asked, the
    /// data there being too short to be worth it).
    pub fn ahead_of_next(&mut self, next: &Arc<Segment>, layout: &Layout) -> usize {
        let (Some(helper), Ok(Some(data_end))) =
            (&self.helper, read_offset(&layout.producer_offset()))
        else {
            return 0;
        };
        let data_pos = data_end.saturating_sub(next.start()).min(usize::MAX as u64) as usize;
        let end = (WINDOW / 2).min(next.mapped_len()).min(data_pos);
        if end < MIN_BACKLOG {
            return 0;
        }
        helper.queue(next.clone(), 0, end);
        end
    }

    /// The position at which [`ReadAhead::at`] next has something to decide (`usize::MAX`:
    /// nowhere in this segment).
    #[inline]
    pub fn next_look(&self) -> usize {
        self.next_at
    }

    /// Called with the position of each record the fast path returns; cheap unless a window
    /// boundary is crossed. Returns whether it looked (at most once per half window).
    #[inline(always)]
    pub fn at(&mut self, pos: usize, seg: &Arc<Segment>, layout: &Layout) -> bool {
        if pos >= self.next_at {
            self.look(pos, seg, layout);
            return true;
        }
        false
    }

    /// Asks the helper for `[pos, end)`, `end` the window's end bounded by the data, when that
    /// is a backlog of at least `MIN_BACKLOG`.
    #[cold]
    fn look(&mut self, pos: usize, seg: &Arc<Segment>, layout: &Layout) {
        self.next_at = pos + WINDOW / 2;
        let Ok(Some(data_end)) = read_offset(&layout.producer_offset()) else {
            return;
        };
        let data_pos = data_end.saturating_sub(seg.start()).min(usize::MAX as u64) as usize;
        let end = (pos + WINDOW).min(seg.mapped_len()).min(data_pos);
        if end < pos + MIN_BACKLOG {
            return;
        }
        seg.reader_fell_behind(pos);
        self.helper
            .get_or_insert_with(|| Prefaulter::start("mfq-readahead"))
            .request(seg.clone(), pos, end);
    }
}
