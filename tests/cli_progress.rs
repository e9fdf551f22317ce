//! Progress on long work: the engine reports it through callbacks (the record scan of an
//! inspection in bytes, a prune in segments) with values that never go down and end at the
//! total, and the command line draws a bar only on a terminal: never into a pipe.
//!
//! This test owns those callbacks and the hidden bar off a terminal; the bar's own rules
//! (a second's delay, NO_COLOR, --json) are unit-tested in src/render/progress.rs.

mod common;

use std::process::Stdio;

use common::bin::*;
use common::*;
use mfq::queue::prune::{apply_prune_with, plan_prune};
use mfq::queue::{Params, Store};

/// Asserts `calls` never go down, keep one total, and end at it.
#[track_caller]
fn assert_monotonic_to_total(calls: &[(u64, u64)], total: u64) {
    assert!(!calls.is_empty());
    for w in calls.windows(2) {
        assert!(w[0].0 <= w[1].0, "went down: {calls:?}");
    }
    assert!(
        calls.iter().all(|&(d, t)| t == total && d <= t),
        "{calls:?}"
    );
    assert_eq!(calls.last().unwrap().0, total, "{calls:?}");
}

#[test]
fn the_inspection_reports_bytes_scanned_up_to_the_total() {
    for params in [
        Params::fixed(24, 4096).unwrap(),
        Params::stream(4096).unwrap(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s"), params).unwrap();
        let messages: Vec<Vec<u8>> = (0..1000u32)
            .map(|i| format!("{i:024}").into_bytes())
            .collect();
        produce_all(&store, &messages);
        let segs = store.segments().unwrap();
        assert!(segs.len() > 5, "{} segments", segs.len());
        let total: u64 = segs.iter().map(|s| s.len).sum();
        let mut calls = vec![];
        let report = store
            .inspect_with_progress(&mut |d, t| calls.push((d, t)))
            .unwrap();
        assert!(report.issues.is_empty(), "{:?}", report.issues);
        assert_monotonic_to_total(&calls, total);
        assert!(calls.len() >= segs.len(), "one call per segment: {calls:?}");
    }
}

#[test]
fn a_prune_reports_segments_deleted_up_to_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), Params::stream(4096).unwrap()).unwrap();
    let messages: Vec<Vec<u8>> = (0..1000u32)
        .map(|i| format!("{i:024}").into_bytes())
        .collect();
    produce_all(&store, &messages);
    let segs = store.segments().unwrap();
    let before = segs[segs.len() - 2].start;
    let plan = plan_prune(store.layout(), store.params(), before, true).unwrap();
    assert!(plan.delete.len() > 3, "{plan:?}");
    let mut calls = vec![];
    let pruned = apply_prune_with(store.layout(), &plan, &mut |d, t| calls.push((d, t))).unwrap();
    assert_eq!(pruned.deleted.len(), plan.delete.len());
    assert_monotonic_to_total(&calls, plan.delete.len() as u64);
}

/// With standard error a pipe (and NO_COLOR unset), `consume -n all`, `recover`, `recover
/// --check` and `prune` write no bar: no escape codes, no bar characters, no carriage returns.
#[test]
fn no_bar_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    stream_store_of_20000(&store);
    for args in [
        vec!["consume", arg(&store), "-n", "all", "--peek"],
        vec!["consume", arg(&store), "-n", "all"],
    ] {
        let mut cmd = mfq();
        cmd.args(&args)
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped());
        let out = run_cmd(&mut cmd, b"");
        assert_eq!(stdout(&out).lines().count(), 20_000, "{args:?}");
        let err = stderr(&out);
        assert!(
            !err.contains('\x1b') && !err.contains('\r'),
            "{args:?}: {err:?}"
        );
    }
    for args in [
        vec!["recover", arg(&store), "--check"],
        vec!["recover", arg(&store)],
        vec!["prune", arg(&store), "--before", "consumed"],
    ] {
        let mut cmd = mfq();
        cmd.args(&args)
            .env_remove("NO_COLOR")
            .stderr(Stdio::piped());
        let out = run_cmd(&mut cmd, b"");
        expect(&out, 0);
        let err = stderr(&out);
        assert!(
            !err.contains('\x1b') && !err.contains('\r') && !err.contains("=>"),
            "{args:?}: {err:?}"
        );
        assert!(!err.contains("eta"), "{args:?}: {err:?}");
    }
    assert!(!segment(&store, 0).exists(), "the prune ran");
}
