//! The reader's read-ahead helper (a thread that populates a reader's mapping ahead of its
//! cursor while it works through a backlog of more than a few MiB): readers that use it still
//! return exactly the appended records, in order, in both formats, from the start, from the
//! middle of a segment, and while a producer keeps appending from another thread. The first
//! case also checks that the helper thread really ran. No timing is asserted.

mod engine_util;

use std::time::{Duration, Instant};

use engine_util::*;
use mfq::queue::prune::{apply_prune, plan_prune};
use mfq::queue::{ConsumerId, OwnedRecord, Params, ProducerOptions, StartAt, Store};

/// Segments of 8 MiB: a backlog of several MiB per segment, so the helper is asked to work.
const SEGMENT: u64 = 8 << 20;

/// Whether a thread named `mfq-readahead` exists in this process now.
fn helper_running() -> bool {
    std::fs::read_dir("/proc/self/task").unwrap().any(|t| {
        let comm = t.unwrap().path().join("comm");
        std::fs::read_to_string(comm).is_ok_and(|c| c.trim() == "mfq-readahead")
    })
}

fn no_flush() -> ProducerOptions {
    ProducerOptions {
        flush_every: None,
        ..Default::default()
    }
}

/// Appends messages until at least `bytes` of records are written; returns them.
fn fill(store: &Store, bytes: u64) -> Vec<OwnedRecord> {
    let mut p = store.producer(no_flush()).unwrap();
    let mut out = Vec::new();
    let mut i = 0;
    while p.offset() < bytes {
        out.push(append(&mut p, message(store.params(), i)));
        i += 1;
    }
    p.close().unwrap();
    out
}

/// Reads every ready record with a consumer, noting whether the helper ran meanwhile.
fn consume_all(store: &Store, name: &str) -> (Vec<OwnedRecord>, bool) {
    let id = ConsumerId::parse(name).unwrap();
    let mut c = store.consumer(&id, StartAt::Earliest).unwrap();
    let mut got = Vec::new();
    let mut seen_helper = false;
    while let Some(r) = c.try_next().unwrap() {
        got.push(r.to_owned());
        c.commit().unwrap();
        if got.len() % 4096 == 0 && !seen_helper {
            seen_helper = helper_running();
        }
    }
    (got, seen_helper)
}

#[test]
fn a_consumer_with_a_backlog_reads_exactly_what_was_written() {
    for params in [
        Params::fixed(24, SEGMENT).unwrap(),
        Params::stream(SEGMENT).unwrap(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), params).unwrap();
        let want = fill(&store, 3 * SEGMENT + SEGMENT / 2);
        let (got, seen_helper) = consume_all(&store, "backlog");
        assert_eq!(got.len(), want.len(), "{}", describe(&params));
        assert!(got == want, "{}: records differ", describe(&params));
        assert!(
            seen_helper,
            "{}: the read-ahead helper ran",
            describe(&params)
        );
    }
}

#[test]
fn an_observer_from_the_middle_of_a_segment_reads_the_rest() {
    let params = Params::fixed(40, SEGMENT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path(), params).unwrap();
    let want = fill(&store, 2 * SEGMENT);
    let from = want.len() / 3;
    let mut obs = store.observer(StartAt::Offset(want[from].offset)).unwrap();
    let got = drain_observer(&mut obs);
    assert!(got == want[from..], "records from the middle differ");
}

#[test]
fn a_consumer_catching_up_with_a_live_producer_reads_everything_in_order() {
    let params = Params::fixed(32, SEGMENT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path(), params).unwrap();
    let total: u64 = 4 * SEGMENT / 33;
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            let mut p = store.producer(no_flush()).unwrap();
            for i in 0..total {
                p.append(&message(store.params(), i)).unwrap();
            }
            p.close().unwrap();
        })
    };
    // Let a backlog build up, then follow the producer to its end.
    while store.data_end().unwrap() < SEGMENT / 2 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = 0u64;
    while n < total {
        let r = c
            .next_until(Some(deadline), None)
            .unwrap()
            .unwrap_or_else(|| panic!("record {n} did not arrive"));
        assert_eq!(r.payload, message(&params, n), "record {n}");
        n += 1;
        c.commit().unwrap();
    }
    writer.join().unwrap();
    assert!(
        c.try_next().unwrap().is_none(),
        "nothing after the last record"
    );
}

#[test]
fn a_consumer_that_caught_up_and_fell_behind_again_reads_everything() {
    let params = Params::fixed(48, SEGMENT).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path(), params).unwrap();
    let mut p = store.producer(no_flush()).unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    let mut next = 0u64;
    for round in 0..3 {
        // A little, read at once (the consumer catches up), then a backlog of several MiB in
        // the same segment.
        for burst in [100, 120_000] {
            let upto = next + burst;
            for i in next..upto {
                p.append(&message(&params, i)).unwrap();
            }
            for i in next..upto {
                let r = c
                    .try_next()
                    .unwrap()
                    .unwrap_or_else(|| panic!("record {i}"));
                assert_eq!(r.payload, message(&params, i), "round {round}, record {i}");
                c.commit().unwrap();
            }
            assert!(
                c.try_next().unwrap().is_none(),
                "caught up after record {upto}"
            );
            next = upto;
        }
    }
    p.close().unwrap();
}

#[test]
fn segments_a_reader_has_left_can_be_pruned_while_it_is_still_open() {
    // A reader working through a backlog opens each next segment ahead of time and hands the
    // segments it leaves to a helper thread to unmap: neither may keep `prune` from deleting
    // what the consumer has passed, nor let it delete the segment the consumer is in.
    for params in [
        Params::fixed(24, SEGMENT).unwrap(),
        Params::stream(SEGMENT).unwrap(),
    ] {
        let what = describe(&params);
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path(), params).unwrap();
        let want = fill(&store, 4 * SEGMENT + SEGMENT / 2);
        let starts: Vec<u64> = store.segments().unwrap().iter().map(|s| s.start).collect();
        let mut c = store
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .unwrap();
        // Into the fourth segment, past the point where the fifth is opened ahead.
        let stop = starts[3] + (starts[4] - starts[3]) / 2;
        let mut n = 0;
        while c.position() < stop {
            let r = c.try_next().unwrap().expect("a record");
            assert_eq!(r.payload, want[n].payload, "{what}: record {n}");
            n += 1;
        }
        c.commit().unwrap();
        let plan = plan_prune(store.layout(), store.params(), c.committed(), false).unwrap();
        let planned: Vec<u64> = plan.delete.iter().map(|s| s.start).collect();
        assert_eq!(planned, starts[..3], "{what}: segments wholly consumed");
        let pruned = apply_prune(store.layout(), &plan).unwrap();
        assert_eq!(pruned.held, None, "{what}: a left segment was still locked");
        assert_eq!(pruned.deleted.len(), 3, "{what}");
        // The segment the consumer is in stays locked: a forced prune stops there.
        let plan = plan_prune(store.layout(), store.params(), starts[4], true).unwrap();
        let pruned = apply_prune(store.layout(), &plan).unwrap();
        let held = pruned.held.expect("the consumer's segment is held");
        assert!(
            held.ends_with(format!("{:020}", starts[3])),
            "{what}: {held:?}"
        );
        // The consumer reads on to the end, through the segment opened ahead.
        while let Some(r) = c.try_next().unwrap() {
            assert_eq!(r.payload, want[n].payload, "{what}: record {n}");
            n += 1;
        }
        assert_eq!(n, want.len(), "{what}: every record read");
    }
}
