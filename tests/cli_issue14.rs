//! Regressions of issue #14 through the built binary, one test per defect: `consume | head`
//! commits what nobody read; panics (an overlong `--wait`, non-UTF-8 store paths with
//! `--json`); offsets past the .NET limit of `i64::MAX`; `prune` without a default consumer's
//! offset file.
//!
//! Each test is named after the defect it guards against.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use common::bin::*;
use common::*;

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

/// A folder name that is not valid UTF-8.
fn non_utf8_dir(parent: &Path) -> PathBuf {
    parent.join(OsStr::from_bytes(b"store-\xff"))
}

/// Runs `mfq` with `args`, any of which may be a non-UTF-8 path.
fn run_os(args: &[&OsStr]) -> std::process::Output {
    run_cmd(mfq().args(args), b"")
}

#[test]
fn consume_wait_overflow_panics() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    numbered_store(&s, 1);
    ok(&run(&["consume", arg(&s)]));
    let out = run(&["consume", arg(&s), "--wait", "18446744073709551615s"]);
    expect(&out, 2);
    let err = stderr(&out);
    assert!(
        err.contains("invalid --wait") && err.contains("longer than the clock"),
        "{err}"
    );
}

#[test]
fn recover_json_on_a_non_utf8_path_panics() {
    let dir = tempfile::tempdir().unwrap();
    let s = non_utf8_dir(dir.path());
    numbered_store_os(&s);
    let out = run_os(&[OsStr::new("recover"), s.as_os_str(), OsStr::new("--json")]);
    let json = expect(&out, 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let path = v["report"]["path"].as_str().unwrap();
    assert!(path.ends_with("store-\u{fffd}"), "{path}");
}

#[test]
fn dump_segment_json_on_a_non_utf8_path_panics() {
    let dir = tempfile::tempdir().unwrap();
    let s = non_utf8_dir(dir.path());
    numbered_store_os(&s);
    let out = run_os(&[
        OsStr::new("dump-segment"),
        OsStr::new("-s"),
        s.as_os_str(),
        OsStr::new("00000000000000000000"),
        OsStr::new("--json"),
    ]);
    let json = expect(&out, 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let path = v["segment"].as_str().unwrap();
    assert!(path.contains("store-\u{fffd}"), "{path}");
}

#[test]
fn adjust_offset_json_on_a_non_utf8_path_panics_after_the_change() {
    let dir = tempfile::tempdir().unwrap();
    let s = non_utf8_dir(dir.path());
    numbered_store_os(&s);
    ok(&run_os(&[OsStr::new("consume"), s.as_os_str()]));
    let before = consumer_offset(&s, "consumer.offset").unwrap();
    let out = run_os(&[
        OsStr::new("adjust-offset"),
        OsStr::new("-s"),
        s.as_os_str(),
        OsStr::new("consumer"),
        OsStr::new("+1"),
        OsStr::new("--json"),
    ]);
    let json = expect(&out, 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let path = v["changes"][0]["path"].as_str().unwrap();
    assert!(path.contains("store-\u{fffd}"), "{path}");
    let after = consumer_offset(&s, "consumer.offset").unwrap();
    assert_eq!(v["changes"][0]["to"], after);
    assert_eq!(v["changes"][0]["from"], before);
    let next = ok(&run_os(&[
        OsStr::new("consume"),
        s.as_os_str(),
        OsStr::new("--peek"),
    ]));
    assert_eq!(
        text(&next).trim(),
        "2",
        "the consumer skipped exactly one message"
    );
}

/// A stream store at a path that may not be UTF-8, holding `0` .. `9`.
fn numbered_store_os(store: &Path) {
    let input: String = (0..10).map(|i| format!("{i}\n")).collect();
    let out = run_cmd(
        mfq().args([
            OsStr::new("produce"),
            store.as_os_str(),
            OsStr::new("--format"),
            OsStr::new("stream"),
            OsStr::new("--segment-size"),
            OsStr::new("4KiB"),
        ]),
        input.as_bytes(),
    );
    ok(&out);
}

/// A stream store of 4 KiB segments holding `n` messages of 1000 bytes (several segments),
/// without any consumer offset file.
fn multi_segment_store(store: &Path, n: usize) {
    let line = "x".repeat(999) + "\n";
    let args = [
        "produce",
        arg(store),
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
    ];
    ok(&run_in(&args, line.repeat(n).as_bytes()));
}

/// The start offsets of the segments of `store`.
fn segment_starts(store: &Path) -> Vec<u64> {
    let mut out: Vec<u64> = std::fs::read_dir(store.join("commitlog"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn prune_without_consumer_offset_deletes_what_a_dotnet_consumer_needs() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    multi_segment_store(&s, 20);
    assert_eq!(consumer_offset(&s, "consumer.offset"), None);
    let starts = segment_starts(&s);
    assert!(starts.len() >= 4, "{starts:?}");
    let before = starts[2].to_string();
    // A .NET consumer would start at 0: nothing goes without --force (status 6, saying why).
    let pruned = run(&["prune", arg(&s), "--before", &before]);
    let out = expect(&pruned, 6);
    assert!(out.contains("the consumer at 0"), "{out}");
    let err = stderr(&pruned);
    assert!(
        err.contains("the consumer at 0") && err.contains("no offset file"),
        "{err}"
    );
    assert_eq!(segment_starts(&s), starts);
    let out = expect(&run(&["prune", arg(&s), "--before", "consumed"]), 0);
    assert!(out.contains("deleted 0 segment(s)"), "{out}");
    assert_eq!(segment_starts(&s), starts);
    assert_eq!(consumer_offset(&s, "consumer.offset"), None);
    // Forced: the segments go, and consumer.offset is created at the new earliest offset.
    let out = expect(&run(&["prune", arg(&s), "--before", &before, "--force"]), 0);
    assert!(out.contains("created offset/consumer.offset"), "{out}");
    assert_eq!(segment_starts(&s), starts[2..]);
    assert_eq!(consumer_offset(&s, "consumer.offset"), Some(starts[2]));
    let check = run(&["recover", arg(&s), "--check"]);
    expect(&check, 0);
}

#[test]
fn produce_past_i64_max_writes_negative_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    std::fs::create_dir_all(s.join("commitlog")).unwrap();
    let start = 9_223_372_036_854_771_712u64; // 4096 below i64::MAX + 1
    std::fs::write(
        s.join("commitlog").join(format!("{start:020}")),
        vec![0u8; 4096],
    )
    .unwrap();
    let line = "y".repeat(99) + "\n";
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
    ];
    let out = run_in(&args, line.repeat(100).as_bytes());
    expect(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("beyond the .NET limit of 9223372036854775807"),
        "{err}"
    );
    for name in ["producer.offset", "producer.confirmed.offset"] {
        let v = offset_value(&s, name);
        assert!(v <= i64::MAX as u64 && v >= start, "{name} = {v}");
    }
    // The store stays consistent: recover finds nothing to repair.
    expect(&run(&["recover", arg(&s), "--check"]), 0);
}

#[test]
fn segment_name_beyond_u64_is_called_not_a_20_digit_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    multi_segment_store(&s, 2);
    std::fs::write(s.join("commitlog/99999999999999999999"), b"").unwrap();
    let out = run(&["stat", arg(&s), "--json"]);
    let json = stdout(&out);
    assert!(
        json.contains("beyond the .NET limit of 9223372036854775807"),
        "{json}"
    );
    assert!(!json.contains("not a 20-digit"), "{json}");
}

#[test]
fn fixed_segment_off_the_span_is_silently_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let args = [
        "produce",
        arg(&s),
        "--format",
        "fixed",
        "--record-size",
        "16",
        "--segment-size",
        "100",
        "--pad",
    ];
    ok(&run_in(&args, b"a\nb\nc\n"));
    let odd = s.join("commitlog").join(format!("{:020}", 1_000_003u64));
    std::fs::copy(s.join("commitlog/00000000000000000000"), &odd).unwrap();
    for cmd in [
        vec!["stat", arg(&s), "--json"],
        vec!["recover", arg(&s), "--check", "--json"],
    ] {
        let out = run(&cmd);
        let json = stdout(&out) + &stderr(&out);
        assert!(!json.contains("panicked"), "{json}");
        assert!(json.contains("00000000000001000003"), "{cmd:?}: {json}");
        assert!(
            json.contains("must start at a multiple of the span"),
            "{cmd:?}: {json}"
        );
    }
}
