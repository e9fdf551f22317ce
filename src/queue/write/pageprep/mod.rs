//! The producer's page-preparation policy: who faults the next pages of a segment into the
//! writable mapping before the producer writes them, so that a record is never delayed by a
//! first-touch page fault between its first byte and its end marker.
//!
//! - A fast producer (64 KiB filled in less than [`SLOW_CHUNK_NS`]) asks the helper thread in
//!   `prefault.rs` for an 8 MiB window at a time. The work then runs on another CPU while the
//!   producer writes.
//! - A slow producer prepares the pages itself, [`AHEAD_PAGES`] ahead, right after it publishes
//!   a record: about one page per crossing. At low rates that costs little, and it lands after
//!   the publish, off the record's path. The helper would instead wake now and then and run
//!   for milliseconds: on a machine with few CPUs it then preempts a spinning consumer, and
//!   every record in flight waits for it.
//!
//! A producer that syncs in batches (the default policy) or not at all ([`Folios::Large`])
//! also asks for page-cache folios by pace (`sys.rs`). Pages for a fast producer come in
//! 2 MiB folios mapped whole: a fraction of the faulting, and one TLB flush per 2 MiB when
//! the flusher writes them back. A slow producer's pages are single 4 KiB pages, because
//! writeback writes a dirty folio whole: with 2 MiB folios a producer confirming every
//! message would rewrite up to a whole 2 MiB folio at each sync (the kernel's own readahead grows folios that
//! large too once a producer is a few MiB into a segment).
//!
//! The rate is measured once per 64 KiB, so a fast producer pays one clock read per 16 pages.
//! [`Policy`] decides and [`PagePrep`] carries the decision out, so the policy can be tested
//! without threads, mappings or clocks.
//!
//! This module must not write bytes; populating never changes a page's contents.

use std::sync::Arc;

use crate::queue::os::prefault::Prefaulter;
use crate::queue::os::segment::Segment;
use crate::queue::os::sys;

/// Bytes faulted in ahead of a fast writer by the helper thread, per request.
const HELPER_WINDOW: usize = 8 << 20;
/// Pages a slow producer keeps prepared ahead of the page it writes.
const AHEAD_PAGES: usize = 16;
/// Pages between two rate measurements.
const CHUNK_PAGES: usize = 16;
/// A chunk that takes longer than this to fill (64 KiB of 4 KiB pages: under about 100 MB/s)
/// is slow. At that pace preparing its own pages is a small share of a producer's time
/// (docs/performance.md, "Writes: getting fresh pages").
const SLOW_CHUNK_NS: u64 = 640_000;
/// Each segment is advised for large folios before its first fault, so its first 2 MiB come
/// as one folio whatever the producer's pace; a slow producer advises small folios only past
/// them. Advising the start small instead slows a fast producer badly (many major faults: the
/// kernel's readahead state suffers; docs/performance.md, "Page-cache folios and the
/// durability policy"), and leaving it unadvised fills several MiB with mid-sized folios from the default readahead.
const FIRST_FOLIO: usize = 2 << 20;
/// A slow producer advises this much past its window for small folios at a time.
const SMALL_ADVICE_STEP: usize = 256 << 10;
/// Slow chunks in a row before a producer counts as slow: a fast producer that was preempted
/// or shared its CPU for a while keeps its helper.
const SLOW_CHUNKS: u32 = 3;

/// What to do after a record, in in-file byte positions of the current segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Prep {
    Nothing,
    /// Advise from `large_from` (when set) to the end of the segment for large folios, then
    /// ask the helper thread to populate `[from, to)`.
    Helper {
        from: usize,
        to: usize,
        large_from: Option<usize>,
    },
    /// Advise `small` for small folios (when set), then populate `[from, to)` on the
    /// producer's thread, now.
    Inline {
        from: usize,
        to: usize,
        small: Option<(usize, usize)>,
    },
}

/// The decision part: which pages to prepare, and by whom.
pub struct Policy {
    has_helper: bool,
    page_size: usize,
    /// `log2(page_size)`: the per-record check shifts instead of dividing.
    page_shift: u32,
    /// The page of the last record written; `usize::MAX` at a new segment.
    page: usize,
    /// Pages crossed since the last rate measurement, and when that was.
    pages_since_check: usize,
    check_ns: u64,
    /// Consecutive slow measurements.
    slow_chunks: u32,
    /// Position from which the next helper request is due.
    helper_at: usize,
    /// End of the range advised for small folios since the last helper request.
    small_to: usize,
    /// Whether the rest of the segment is advised for large folios since the last small
    /// advice. Advising takes the address space's lock for writing, which waits for the
    /// helper's populating: once per switch, not once per window.
    large_advised: bool,
    /// Whether decisions carry folio advice at all (only for [`Folios::Large`]).
    advises: bool,
}

impl Policy {
    /// A producer starts out slow: it has no rate yet, and a first window costs it little.
    /// `advises`: whether decisions carry folio advice (only for [`Folios::Large`]).
    pub fn new(has_helper: bool, advises: bool, page_size: usize, now_ns: u64) -> Policy {
        assert!(page_size.is_power_of_two(), "page size {page_size}");
        Policy {
            has_helper,
            page_size,
            page_shift: page_size.trailing_zeros(),
            page: usize::MAX,
            pages_since_check: 0,
            check_ns: now_ns,
            slow_chunks: SLOW_CHUNKS,
            helper_at: 0,
            small_to: 0,
            large_advised: false,
            advises,
        }
    }

    /// The producer starts writing another segment, advised by [`PagePrep::new_segment`]. The
    /// rate measurement runs on.
    pub fn new_segment(&mut self) {
        self.page = usize::MAX;
        self.helper_at = 0;
        self.small_to = FIRST_FOLIO;
        self.large_advised = true;
    }

    /// Whether a record at `pos` starts on another page than the last one: only then is there
    /// anything to decide.
    #[inline(always)]
    pub fn crosses(&self, pos: usize) -> bool {
        pos >> self.page_shift != self.page
    }

    /// Decides after a record published at `pos`; `now` reads the clock (called at most once).
    pub fn decide(&mut self, pos: usize, now: impl FnOnce() -> u64) -> Prep {
        let page = pos >> self.page_shift;
        // The first page not yet prepared: the whole window at a new segment, else the pages
        // that came into the window since the last record (several for a large record).
        let (from_page, crossed) = match self.page {
            usize::MAX => (page, 1),
            last => (
                (last + 1 + AHEAD_PAGES).max(page),
                page.saturating_sub(last),
            ),
        };
        self.page = page;
        self.pages_since_check += crossed;
        if self.pages_since_check >= CHUNK_PAGES {
            let now = now();
            let limit = SLOW_CHUNK_NS * (self.pages_since_check / CHUNK_PAGES) as u64;
            let slow = now.saturating_sub(self.check_ns) > limit;
            self.slow_chunks = (if slow { self.slow_chunks + 1 } else { 0 }).min(SLOW_CHUNKS);
            self.check_ns = now;
            self.pages_since_check = 0;
        }
        let slow = self.slow_chunks >= SLOW_CHUNKS;
        if slow {
            // A producer that turns fast again asks the helper at once.
            self.helper_at = 0;
            let to_page = page + 1 + AHEAD_PAGES;
            if from_page >= to_page {
                return Prep::Nothing;
            }
            let (from, to) = (from_page * self.page_size, to_page * self.page_size);
            let small = (self.advises && to > self.small_to).then(|| {
                let advised = (from.max(self.small_to), to + SMALL_ADVICE_STEP);
                self.small_to = advised.1;
                self.large_advised = false;
                advised
            });
            return Prep::Inline { from, to, small };
        }
        // Without the helper a fast producer takes its own faults: a populate call per page
        // would cost it as much.
        if !self.has_helper || pos < self.helper_at {
            return Prep::Nothing;
        }
        self.helper_at = pos + HELPER_WINDOW / 2;
        self.small_to = 0;
        let large_from = (self.advises && !self.large_advised).then_some(pos);
        self.large_advised = true;
        Prep::Helper {
            from: pos,
            to: pos + HELPER_WINDOW,
            large_from,
        }
    }
}

/// Page preparation of one producer: the policy and the helper thread it may use.
pub struct PagePrep {
    policy: Policy,
    helper: Option<Prefaulter>,
    folios: Folios,
}

/// Which page-cache folios a producer's segments get; it follows the durability policy,
/// because a sync writes every dirty folio it touches whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Folios {
    /// Syncs every few messages: 4 KiB pages throughout, so each sync writes what changed.
    Small,
    /// Syncs in batches, or only at flush and close: 2 MiB folios (one fault, one zeroing pass
    /// and one TLB flush at writeback per 2 MiB), except ahead of a slow producer, whose syncs
    /// would each rewrite a whole folio. Without a policy the kernel's defaults would serve a
    /// fast producer mostly small folios, which costs it much of its write rate and system
    /// time (docs/performance.md, "Page-cache folios and the durability policy").
    Large,
}

impl Folios {
    /// The folios for a producer that syncs every `flush_every` messages. A time trigger
    /// (`ProducerOptions::flush_interval`) does not change them: a slow producer gets small
    /// pages ahead of itself either way.
    pub fn for_policy(flush_every: Option<u64>) -> Folios {
        match flush_every {
            Some(n) if n <= SMALL_FLUSH_MESSAGES => Folios::Small,
            _ => Folios::Large,
        }
    }
}

/// Policies that sync at least this often get small folios throughout.
const SMALL_FLUSH_MESSAGES: u64 = 64;

impl PagePrep {
    /// `helper` says whether the producer may start the helper thread.
    pub fn new(helper: bool, folios: Folios) -> PagePrep {
        let advises = folios == Folios::Large;
        let policy = Policy::new(helper, advises, sys::page_size(), sys::monotonic_ns());
        PagePrep {
            policy,
            helper: helper.then(|| Prefaulter::start("mfq-prefault")),
            folios,
        }
    }

    /// The producer starts writing `seg` (before its first record there). With large folios
    /// the whole segment is advised for them, see [`FIRST_FOLIO`].
    pub fn new_segment(&mut self, seg: &Segment) {
        match self.folios {
            Folios::Small => seg.map().prefer_small_folios(0, usize::MAX),
            Folios::Large => seg.map().prefer_large_folios(0, usize::MAX),
        }
        self.policy.new_segment();
    }

    /// Called after each record is published at in-file position `pos` of `seg`.
    #[inline(always)]
    pub fn after_append(&mut self, seg: &Arc<Segment>, pos: usize) {
        if self.policy.crosses(pos) {
            self.page_crossed(seg, pos);
        }
    }

    #[cold]
    fn page_crossed(&mut self, seg: &Arc<Segment>, pos: usize) {
        match self.policy.decide(pos, sys::monotonic_ns) {
            Prep::Nothing => {}
            Prep::Helper {
                from,
                to,
                large_from,
            } => {
                if let Some(helper) = &self.helper {
                    if let Some(at) = large_from {
                        seg.map().prefer_large_folios(at, usize::MAX);
                    }
                    helper.request(seg.clone(), from, to);
                }
            }
            Prep::Inline { from, to, small } => {
                if let Some((a, b)) = small {
                    seg.map().prefer_small_folios(a, b);
                }
                seg.map().populate(from, to - from);
            }
        }
    }
}

#[cfg(test)]
mod tests;
