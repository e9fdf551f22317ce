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
//! The rate is measured once per 64 KiB, so a fast producer pays one clock read per 16 pages.
//! [`Policy`] decides and [`PagePrep`] carries the decision out, so the policy can be tested
//! without threads, mappings or clocks.
//!
//! This module must not write bytes; populating never changes a page's contents.

use std::sync::Arc;

use super::prefault::Prefaulter;
use super::segment::Segment;
use super::sys;

/// Bytes faulted in ahead of a fast writer by the helper thread, per request.
const HELPER_WINDOW: usize = 8 << 20;
/// Pages a slow producer keeps prepared ahead of the page it writes.
const AHEAD_PAGES: usize = 16;
/// Pages between two rate measurements.
const CHUNK_PAGES: usize = 16;
/// A chunk that takes longer than this to fill (64 KiB of 4 KiB pages: under about 100 MB/s)
/// is slow. Preparing a page costs about 1 to 2 µs, so a slow producer spends at most a few
/// per cent of its time on it.
const SLOW_CHUNK_NS: u64 = 640_000;
/// Slow chunks in a row before a producer counts as slow: a fast producer that was preempted
/// or shared its CPU for a while keeps its helper.
const SLOW_CHUNKS: u32 = 3;

/// What to do after a record, in in-file byte positions of the current segment.
#[derive(Debug, PartialEq, Eq)]
pub enum Prep {
    Nothing,
    /// Ask the helper thread to populate `[from, to)`.
    Helper {
        from: usize,
        to: usize,
    },
    /// Populate `[from, to)` on the producer's thread, now.
    Inline {
        from: usize,
        to: usize,
    },
}

/// The decision part: which pages to prepare, and by whom.
pub struct Policy {
    has_helper: bool,
    page_size: usize,
    /// The page of the last record written; `usize::MAX` at a new segment.
    page: usize,
    /// Pages crossed since the last rate measurement, and when that was.
    pages_since_check: usize,
    check_ns: u64,
    /// Consecutive slow measurements.
    slow_chunks: u32,
    /// Position from which the next helper request is due.
    helper_at: usize,
}

impl Policy {
    /// A producer starts out slow: it has no rate yet, and a first window costs it little.
    pub fn new(has_helper: bool, page_size: usize, now_ns: u64) -> Policy {
        Policy {
            has_helper,
            page_size,
            page: usize::MAX,
            pages_since_check: 0,
            check_ns: now_ns,
            slow_chunks: SLOW_CHUNKS,
            helper_at: 0,
        }
    }

    /// The producer starts writing another segment. The rate measurement runs on.
    pub fn new_segment(&mut self) {
        self.page = usize::MAX;
        self.helper_at = 0;
    }

    /// Whether a record at `pos` starts on another page than the last one: only then is there
    /// anything to decide.
    #[inline(always)]
    pub fn crosses(&self, pos: usize) -> bool {
        pos / self.page_size != self.page
    }

    /// Decides after a record published at `pos`; `now` reads the clock (called at most once).
    pub fn decide(&mut self, pos: usize, now: impl FnOnce() -> u64) -> Prep {
        let page = pos / self.page_size;
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
            return match from_page < to_page {
                true => Prep::Inline {
                    from: from_page * self.page_size,
                    to: to_page * self.page_size,
                },
                false => Prep::Nothing,
            };
        }
        // Without the helper a fast producer takes its own faults: a populate call per page
        // would cost it as much.
        if !self.has_helper || pos < self.helper_at {
            return Prep::Nothing;
        }
        self.helper_at = pos + HELPER_WINDOW / 2;
        Prep::Helper {
            from: pos,
            to: pos + HELPER_WINDOW,
        }
    }
}

/// Page preparation of one producer: the policy and the helper thread it may use.
pub struct PagePrep {
    policy: Policy,
    helper: Option<Prefaulter>,
}

impl PagePrep {
    /// `helper` says whether the producer may start the helper thread.
    pub fn new(helper: bool) -> PagePrep {
        PagePrep {
            policy: Policy::new(helper, sys::page_size(), sys::monotonic_ns()),
            helper: helper.then(|| Prefaulter::start("mfq-prefault")),
        }
    }

    /// The producer starts writing another segment.
    pub fn new_segment(&mut self) {
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
            Prep::Helper { from, to } => {
                if let Some(helper) = &self.helper {
                    helper.request(seg.clone(), from, to);
                }
            }
            Prep::Inline { from, to } => seg.map().populate(from, to - from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: usize = 4096;
    const CHUNK: usize = CHUNK_PAGES * PAGE;

    /// Feeds records of `record` bytes from position 0 to `end`, the clock advancing `ns_per_byte`
    /// per byte written; returns every decision with the position it was made at.
    fn run(policy: &mut Policy, record: usize, end: usize, ns_per_byte: f64) -> Vec<(usize, Prep)> {
        let mut out = Vec::new();
        for pos in (0..end).step_by(record) {
            if policy.crosses(pos) {
                let now = 1_000_000_000 + (pos as f64 * ns_per_byte) as u64;
                out.push((pos, policy.decide(pos, || now)));
            }
        }
        out
    }

    /// 64-byte records every 4 µs: 64 KiB take 4 ms.
    const SLOW: f64 = 4000.0 / 64.0;
    /// 64-byte records at 40M/s: 64 KiB take 26 µs.
    const FAST: f64 = 25.0 / 64.0;

    #[test]
    fn a_slow_producer_prepares_every_page_ahead_of_itself_without_the_helper() {
        for record in [64, 72, 4096 + 5, 3 * 4096 + 100] {
            let mut p = Policy::new(true, PAGE, 1_000_000_000);
            let end = 64 * CHUNK;
            let decisions = run(&mut p, record, end, SLOW);
            let mut prepared_to = 0;
            for (pos, d) in decisions {
                let Prep::Inline { from, to } = d else {
                    panic!("record size {record}: {d:?} at {pos}");
                };
                // No gap: each range starts where the last ended (or at the new segment's page).
                assert!(
                    from <= prepared_to.max(pos / PAGE * PAGE),
                    "gap before {from}"
                );
                assert_eq!(to, (pos / PAGE + 1 + AHEAD_PAGES) * PAGE);
                prepared_to = to;
                // The page after the record is prepared before the producer gets there.
                assert!(
                    to >= pos + record,
                    "record size {record}: not ahead at {pos}"
                );
            }
            assert!(
                prepared_to >= end,
                "record size {record}: stopped at {prepared_to}"
            );
        }
    }

    #[test]
    fn a_fast_producer_leaves_the_pages_to_the_helper_in_large_windows() {
        let mut p = Policy::new(true, PAGE, 1_000_000_000);
        let end = 64 << 20;
        let decisions = run(&mut p, 64, end, FAST);
        let helper: Vec<_> = decisions
            .iter()
            .filter_map(|(_, d)| match d {
                Prep::Helper { from, to } => Some((*from, *to)),
                _ => None,
            })
            .collect();
        let inline = decisions
            .iter()
            .filter(|(_, d)| matches!(d, Prep::Inline { .. }))
            .count();
        // It starts out slow for two chunks at most, then hands over.
        assert!(inline <= 2 * CHUNK_PAGES, "{inline} pages prepared inline");
        assert!(helper.len() >= end / (HELPER_WINDOW / 2) - 1, "{helper:?}");
        for w in helper.windows(2) {
            assert!(w[1].0 < w[0].1, "the windows leave a gap: {w:?}");
        }
        assert!(helper.last().unwrap().1 >= end);
    }

    #[test]
    fn one_slow_chunk_does_not_take_the_helper_from_a_fast_producer() {
        let mut p = Policy::new(true, PAGE, 1_000_000_000);
        run(&mut p, 64, 8 * CHUNK, FAST);
        assert_eq!(p.slow_chunks, 0);
        // Preempted for a second before the next chunk ends, then fast again.
        let pos = 9 * CHUNK - PAGE;
        assert!(!matches!(
            p.decide(pos, || 5_000_000_000),
            Prep::Inline { .. }
        ));
        assert_eq!(p.slow_chunks, 1);
        let next = p.decide(pos + CHUNK, || 5_000_000_000 + 26_000);
        assert!(!matches!(next, Prep::Inline { .. }), "{next:?}");
        assert_eq!(p.slow_chunks, 0);
    }

    #[test]
    fn a_producer_that_turns_fast_asks_the_helper_at_once_and_a_slow_one_stops() {
        let mut p = Policy::new(true, PAGE, 0);
        let mut t = 0u64;
        let mut step = |p: &mut Policy, pos: usize, ns: u64| {
            t += ns;
            p.decide(pos, || t)
        };
        let mut pos = 0;
        // Slow for four chunks.
        for _ in 0..4 {
            assert!(matches!(step(&mut p, pos, 1_000_000), Prep::Inline { .. }));
            pos += CHUNK;
        }
        // Fast: the first fast chunk asks the helper for the window from here.
        assert_eq!(
            step(&mut p, pos, 10_000),
            Prep::Helper {
                from: pos,
                to: pos + HELPER_WINDOW
            }
        );
        // Slow again: from the SLOW_CHUNKS-th slow chunk on it prepares its own pages.
        for _ in 1..SLOW_CHUNKS {
            pos += CHUNK;
            assert!(!matches!(step(&mut p, pos, 1_000_000), Prep::Inline { .. }));
        }
        pos += CHUNK;
        assert!(matches!(step(&mut p, pos, 1_000_000), Prep::Inline { .. }));
    }

    #[test]
    fn without_the_helper_a_fast_producer_is_left_alone() {
        let mut p = Policy::new(false, PAGE, 1_000_000_000);
        let decisions = run(&mut p, 64, 8 << 20, FAST);
        assert!(decisions
            .iter()
            .all(|(_, d)| !matches!(d, Prep::Helper { .. })));
        let late = decisions.iter().filter(|(pos, _)| *pos > 4 * CHUNK);
        assert!(late.clone().count() > 0);
        assert!(late.into_iter().all(|(_, d)| *d == Prep::Nothing));
    }

    #[test]
    fn a_new_segment_prepares_its_first_window() {
        let mut p = Policy::new(true, PAGE, 0);
        run(&mut p, 64, 4 * CHUNK, SLOW);
        p.new_segment();
        assert_eq!(
            p.decide(0, || u64::MAX / 2),
            Prep::Inline {
                from: 0,
                to: (1 + AHEAD_PAGES) * PAGE
            }
        );
    }
}
