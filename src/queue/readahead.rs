//! A reader's read-ahead policy: when a reader working through a backlog asks the populate
//! helper (`prefault.rs`, thread `mfq-readahead`) to map the next window of its segment, and up
//! to where. The window never goes past the data the producer has published (its
//! `producer.offset`, read here as a hint only: readiness always comes from the markers), so
//! it never allocates the pages the writer is about to fault in. A reader that had caught up
//! with the writer and is a backlog behind again gets the kernel's readahead back.
//!
//! This module must not decide whether a record is ready or move the cursor.

use std::sync::Arc;

use super::layout::Layout;
use super::offsets::read_offset;
use super::prefault::Prefaulter;
use super::segment::Segment;

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

    /// The reader opened a segment with its cursor at `pos` in it (or none).
    pub fn reset(&mut self, pos: Option<usize>) {
        self.next_at = pos.map_or(usize::MAX, |p| p.saturating_add(AFTER));
    }

    /// Called with the position of each record the fast path returns; cheap unless a window
    /// boundary is crossed.
    #[inline(always)]
    pub fn at(&mut self, pos: usize, seg: &Arc<Segment>, layout: &Layout) {
        if pos >= self.next_at {
            self.look(pos, seg, layout);
        }
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
