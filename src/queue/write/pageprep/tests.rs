//! Tests of the page-preparation policy: which pages it prepares, by whom, with which advice.

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
        let mut p = Policy::new(true, true, PAGE, 1_000_000_000);
        let end = 64 * CHUNK;
        let decisions = run(&mut p, record, end, SLOW);
        let mut prepared_to = 0;
        let mut advised_to = 0;
        for (pos, d) in decisions {
            let Prep::Inline { from, to, small } = d else {
                panic!("record size {record}: {d:?} at {pos}");
            };
            // Every page is advised for small folios before it is populated, without gaps.
            if let Some((a, b)) = small {
                assert!(a <= advised_to.max(from), "advice gap before {a}");
                advised_to = b;
            }
            assert!(
                advised_to >= to,
                "{to} populated but advised only to {advised_to}"
            );
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
    let mut p = Policy::new(true, true, PAGE, 1_000_000_000);
    let end = 64 << 20;
    let decisions = run(&mut p, 64, end, FAST);
    let helper: Vec<_> = decisions
        .iter()
        .filter_map(|(_, d)| match d {
            Prep::Helper { from, to, .. } => Some((*from, *to)),
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
    let mut p = Policy::new(true, true, PAGE, 1_000_000_000);
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
    let mut p = Policy::new(true, true, PAGE, 0);
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
            to: pos + HELPER_WINDOW,
            large_from: Some(pos),
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
    let mut p = Policy::new(false, true, PAGE, 1_000_000_000);
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
    let mut p = Policy::new(true, true, PAGE, 0);
    run(&mut p, 64, 4 * CHUNK, SLOW);
    p.new_segment();
    assert_eq!(
        p.decide(0, || u64::MAX / 2),
        Prep::Inline {
            from: 0,
            to: (1 + AHEAD_PAGES) * PAGE,
            // The segment's start is advised small before its first fault.
            small: None,
        }
    );
}

#[test]
fn in_a_new_segment_only_a_change_of_pace_advises_again() {
    // Fast: the segment was advised large past its start when it was opened.
    let mut p = Policy::new(true, true, PAGE, 0);
    p.slow_chunks = 0;
    p.new_segment();
    let d = p.decide(0, || 10);
    assert!(
        matches!(
            d,
            Prep::Helper {
                large_from: None,
                ..
            }
        ),
        "{d:?}"
    );
    // Slow: small from where the segment's small start ends, before it gets there.
    let mut p = Policy::new(true, true, PAGE, 0);
    p.new_segment();
    let mut first_small = None;
    for (pos, d) in run(&mut p, 64, 2 * FIRST_FOLIO, SLOW) {
        if let Prep::Inline {
            small: Some((a, _)),
            to,
            ..
        } = d
        {
            first_small.get_or_insert((a, pos, to));
        }
    }
    let (a, pos, to) = first_small.expect("no small advice");
    assert_eq!(a, FIRST_FOLIO);
    assert!(
        pos < FIRST_FOLIO && to > FIRST_FOLIO,
        "advised at {pos} for {to}"
    );
}

#[test]
fn a_slow_producer_advises_small_folios_in_steps_not_per_page() {
    let mut p = Policy::new(true, true, PAGE, 0);
    let decisions = run(&mut p, 64, 64 * CHUNK, SLOW);
    let advices = decisions
        .iter()
        .filter(|(_, d)| matches!(d, Prep::Inline { small: Some(_), .. }))
        .count();
    let pages = 64 * CHUNK / PAGE;
    assert!(
        advices <= pages * PAGE / SMALL_ADVICE_STEP + 1,
        "{advices} advices"
    );
    assert!(
        advices >= pages * PAGE / SMALL_ADVICE_STEP / 2,
        "{advices} advices"
    );
}

#[test]
fn after_the_helper_a_slow_producer_advises_small_folios_again() {
    let mut p = Policy::new(true, true, PAGE, 0);
    let mut t = 0;
    let mut pos = 0;
    for _ in 0..4 {
        t += 1_000_000;
        p.decide(pos, || t);
        pos += CHUNK;
    }
    t += 10_000;
    assert!(matches!(p.decide(pos, || t), Prep::Helper { .. }));
    for _ in 0..SLOW_CHUNKS {
        pos += CHUNK;
        t += 1_000_000;
        let d = p.decide(pos, || t);
        if let Prep::Inline { from, small, .. } = d {
            assert_eq!(small.map(|r| r.0), Some(from), "{d:?}");
            return;
        }
    }
    panic!("the producer never turned slow again");
}

#[test]
fn folios_follow_the_durability_policy() {
    assert_eq!(Folios::for_policy(None), Folios::Large);
    assert_eq!(Folios::for_policy(Some(1)), Folios::Small);
    assert_eq!(Folios::for_policy(Some(64)), Folios::Small);
    assert_eq!(Folios::for_policy(Some(65)), Folios::Large);
    assert_eq!(Folios::for_policy(Some(1000)), Folios::Large);
}

#[test]
fn without_large_folios_decisions_carry_no_advice() {
    let mut p = Policy::new(true, false, PAGE, 0);
    let slow = run(&mut p, 64, 8 * CHUNK, SLOW);
    assert!(slow
        .iter()
        .all(|(_, d)| matches!(d, Prep::Inline { small: None, .. })));
    let mut t = 100_000_000;
    let mut pos = 8 * CHUNK;
    for _ in 0..SLOW_CHUNKS {
        t += 10_000;
        pos += CHUNK;
        if let d @ Prep::Helper { .. } = p.decide(pos, || t) {
            assert!(
                matches!(
                    d,
                    Prep::Helper {
                        large_from: None,
                        ..
                    }
                ),
                "{d:?}"
            );
            return;
        }
    }
    panic!("the producer never turned fast");
}
