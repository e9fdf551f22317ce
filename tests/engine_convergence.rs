//! Repairs converge: a repair interrupted before any one of its changes to the store (as a kill
//! would interrupt it), followed by a full repair, leaves the same store as one uninterrupted
//! repair. The sweep interrupts at every change point of damaged fixed and stream stores with
//! orphan segments, torn tails, consumers inside removed segments and consumers past the data
//! end (the gap of recovery policy 2), through the `recovery::fault` test hook.
//!
//! This test owns the convergence promise of `mfq recover`; it asserts on store bytes only.

mod common;
mod engine_util;

use std::collections::BTreeMap;
use std::path::Path;

use engine_util::{assert_consistent, fixed_msg, stream_msg};
use mfq::queue::recovery::{self, fault, ApplyOptions};
use mfq::queue::{Params, ProducerOptions, Store};

/// Every file of the store but the salvage copies (their folder names carry the time).
fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in ["commitlog", "offset"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries.map(Result::unwrap) {
            let bytes = std::fs::read(e.path()).unwrap();
            out.insert(format!("{sub}/{}", e.file_name().to_string_lossy()), bytes);
        }
    }
    out
}

fn copy_store(from: &Path, to: &Path) {
    for sub in ["commitlog", "offset"] {
        std::fs::create_dir_all(to.join(sub)).unwrap();
        for e in std::fs::read_dir(from.join(sub))
            .unwrap()
            .map(Result::unwrap)
        {
            std::fs::copy(e.path(), to.join(sub).join(e.file_name())).unwrap();
        }
    }
    for f in ["mfq.json"] {
        if from.join(f).exists() {
            std::fs::copy(from.join(f), to.join(f)).unwrap();
        }
    }
}

/// One repair: inspect, plan (with consumers), apply with salvage.
fn repair(root: &Path) -> mfq::queue::Result<usize> {
    let store = Store::open(root, &Default::default())?;
    let report = store.inspect()?;
    let plan = recovery::plan(&report, true);
    if std::env::var_os("SWEEP_DEBUG").is_some() {
        eprintln!(
            "{} plan: {:#?}\nissues: {:#?}",
            root.display(),
            plan.actions,
            report.issues
        );
    }
    let opts = ApplyOptions {
        save_to: Some(root.join("mfq-salvage").join("sweep")),
        force: false,
        remove_confirmed: false,
    };
    // A rerun may reuse the salvage folder: give each run its own.
    let opts = ApplyOptions {
        save_to: opts
            .save_to
            .map(|d| d.with_extension(next_id().to_string())),
        ..opts
    };
    Ok(recovery::apply(store.layout(), &plan, &opts)?.actions)
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static ID: AtomicU64 = AtomicU64::new(0);
    ID.fetch_add(1, Ordering::Relaxed)
}

/// Interrupts a repair of `damaged` before each of its changes in turn, completes it with a
/// full repair, and compares the store with the uninterrupted result. Returns the number of
/// change points swept.
fn sweep(damaged: &Path, what: &str) -> usize {
    let work = tempfile::tempdir().unwrap();
    let reference = work.path().join("reference");
    copy_store(damaged, &reference);
    let steps = repair(&reference).unwrap();
    assert!(steps > 0, "{what}: the damaged store needs a repair");
    let want = snapshot(&reference);
    assert_consistent(&Store::open(&reference, &Default::default()).unwrap(), what);
    let mut points = 0;
    for n in 0.. {
        let root = work.path().join(format!("cut-{n}"));
        copy_store(damaged, &root);
        fault::interrupt_after(Some(n));
        let first = repair(&root);
        fault::interrupt_after(None);
        if first.is_ok() {
            break; // the repair has fewer changes than n: every point was swept
        }
        points += 1;
        repair(&root).unwrap_or_else(|e| panic!("{what}: rerun after a cut at {n}: {e}"));
        let got = snapshot(&root);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{what}: files after a cut before change {n} and a rerun"
        );
        for (name, bytes) in &want {
            assert!(
                got[name] == *bytes,
                "{what}: {name} differs after a cut before change {n} and a rerun"
            );
        }
        // A further run changes nothing: the repair is idempotent.
        assert_eq!(
            repair(&root).unwrap(),
            0,
            "{what}: a third run after cut {n}"
        );
    }
    points
}

use common::{set_offset as write_offset, zero_range as zero};

/// A store of `n` messages with every offset confirmed, and its segment starts.
fn filled(root: &Path, params: Params, n: u64) -> Vec<u64> {
    let store = Store::create(root, params).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for i in 0..n {
        let m = match params.record_size() {
            Some(size) => fixed_msg(i, size as usize),
            None => stream_msg(i, 40),
        };
        p.append(&m).unwrap();
    }
    p.close().unwrap();
    store.segments().unwrap().iter().map(|s| s.start).collect()
}

/// The repro of the issue: a fixed store whose records stop in the middle (a crash zeroed a
/// segment), with orphan segments after it and a consumer inside one of them.
#[test]
fn an_interrupted_fixed_repair_with_orphan_segments_converges() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let params = Params::fixed(16, 85).unwrap(); // 5 records of 17 bytes a segment
    let starts = filled(&root, params, 40);
    assert_eq!(starts.len(), 8);
    // Segment 425 loses its records from the second one on: the data end becomes 442.
    zero(&root.join(format!("commitlog/{:020}", 425)), 17, 85);
    write_offset(&root, "producer.confirmed.offset", 340);
    write_offset(&root, "consumer.offset", 170);
    write_offset(&root, "consumer.far.offset", 612);
    let points = sweep(&root, "fixed, orphans and a far consumer");
    assert!(points >= 4, "only {points} change points");
}

/// The same in a stream store: a torn tail in the middle segment, later segments orphaned.
#[test]
fn an_interrupted_stream_repair_with_a_torn_tail_and_orphans_converges() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let params = Params::stream(256).unwrap();
    let starts = filled(&root, params, 60);
    assert!(starts.len() >= 5, "{starts:?}");
    let mid = starts[starts.len() / 2];
    zero(&root.join(format!("commitlog/{mid:020}")), 10, 40);
    write_offset(&root, "producer.confirmed.offset", starts[1]);
    write_offset(&root, "consumer.offset", starts[1]);
    let late = starts[starts.len() - 2];
    write_offset(&root, "consumer.late.offset", late);
    let points = sweep(&root, "stream, torn tail and orphans");
    assert!(points >= 3, "only {points} change points");
}

/// A consumer whose offset survived a power loss that the records did not (policy 2): the
/// producer moves up to it and a gap is left; every cut of that repair converges too.
#[test]
fn an_interrupted_repair_leaving_a_gap_converges() {
    for params in [Params::fixed(16, 85).unwrap(), Params::stream(256).unwrap()] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        let starts = filled(&root, params, 30);
        let last = *starts.last().unwrap();
        let consumed = match params.stride() {
            Some(m) => last + 2 * m,
            None => last,
        };
        write_offset(&root, "consumer.offset", consumed);
        // The records from the second segment on are lost; the consumer had read past them.
        for s in &starts[1..] {
            let path = root.join(format!("commitlog/{s:020}"));
            let len = std::fs::metadata(&path).unwrap().len() as usize;
            zero(&path, 0, len);
        }
        write_offset(&root, "producer.confirmed.offset", starts[1]);
        sweep(&root, &format!("gap, {params:?}"));
    }
}

/// A journal is trusted only while the store is as its plan found it or leaves it: a record a
/// .NET producer wrote after the repair was cut short voids the journal instead of being
/// zeroed by a blind replay, and the next repair plans anew and keeps it.
#[test]
fn a_journal_the_store_outgrew_is_void_and_new_records_survive() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    common::copy_tree(&common::fixture("stream"), &root);
    let seg0 = root.join("commitlog/00000000000000000000");
    // The third record's end marker is lost: the data end becomes 21.
    let mut bytes = std::fs::read(&seg0).unwrap();
    bytes[49] = 0;
    std::fs::write(&seg0, &bytes).unwrap();
    // Cut after the salvage copy and the journal, before the first change.
    fault::interrupt_after(Some(2));
    assert!(repair(&root).is_err());
    fault::interrupt_after(None);
    assert!(root.join("mfq-repair.json").is_file());
    // A .NET producer appends NEWDATA at 21 and moves its offset.
    let mut bytes = std::fs::read(&seg0).unwrap();
    bytes[21..33].copy_from_slice(b"\x07\0\0\0NEWDATA\xff");
    std::fs::write(&seg0, &bytes).unwrap();
    write_offset(&root, "producer.offset", 33);
    let store = Store::open(&root, &Default::default()).unwrap();
    let report = store.inspect().unwrap();
    assert!(
        report
            .issues
            .iter()
            .any(|i| i.message.contains("changed since")),
        "{:#?}",
        report.issues
    );
    repair(&root).unwrap();
    assert!(!root.join("mfq-repair.json").exists());
    let mut obs = store.observer(mfq::queue::StartAt::Earliest).unwrap();
    let mut got = Vec::new();
    while let Some(r) = obs.try_next().unwrap() {
        got.push(String::from_utf8_lossy(r.payload).into_owned());
    }
    assert_eq!(got, ["hello", "world!", "NEWDATA"]);
}

/// A producer that opens a store whose consumer outran a crash (policy 2) records the gap it
/// leaves, as `recover` does: the store needs no further repair.
#[test]
fn a_producers_repair_at_open_records_the_gap_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let params = Params::fixed(16, 85).unwrap();
    let starts = filled(&root, params, 30);
    write_offset(&root, "consumer.offset", *starts.last().unwrap() + 34);
    for s in &starts[1..] {
        let path = root.join(format!("commitlog/{s:020}"));
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        zero(&path, 0, len);
    }
    write_offset(&root, "producer.confirmed.offset", starts[1]);
    let store = Store::open(&root, &Default::default()).unwrap();
    drop(store.producer(ProducerOptions::default()).unwrap());
    assert!(root.join("mfq.gaps").is_file(), "the gap is recorded");
    assert_consistent(&store, "after the producer's repair");
}

/// A producer that opens a store whose repair was cut short finishes that repair first, so
/// the store ends as the uninterrupted repair leaves it.
#[test]
fn a_producer_finishes_an_interrupted_repair_before_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let damaged = dir.path().join("damaged");
    let params = Params::fixed(16, 85).unwrap();
    filled(&damaged, params, 40);
    zero(&damaged.join(format!("commitlog/{:020}", 425)), 17, 85);
    write_offset(&damaged, "producer.confirmed.offset", 340);
    write_offset(&damaged, "consumer.far.offset", 612);
    let reference = dir.path().join("reference");
    copy_store(&damaged, &reference);
    repair(&reference).unwrap();
    // A producer that opens and closes confirms its offset: do the same on the reference.
    let opened = Store::open(&reference, &Default::default()).unwrap();
    drop(opened.producer(ProducerOptions::default()).unwrap());
    let cut = dir.path().join("cut");
    copy_store(&damaged, &cut);
    fault::interrupt_after(Some(3));
    assert!(repair(&cut).is_err());
    fault::interrupt_after(None);
    assert!(cut.join("mfq-repair.json").is_file());
    let store = Store::open(&cut, &Default::default()).unwrap();
    drop(store.producer(ProducerOptions::default()).unwrap());
    assert!(!cut.join("mfq-repair.json").exists());
    assert_eq!(snapshot(&cut), snapshot(&reference));
}
