//! One vocabulary across the subcommands, through the built binary: the STORE positional of
//! `adjust-offset` and `dump-segment`, `earliest|beginning` and `latest|end` wherever a
//! position is taken, `dump-segment --offset N` starting at record N, `tail -e` reading what
//! is there, named consumers created and deleted by `adjust-offset`, moves past either end
//! refused with the bound (or clamped), the store named in what `adjust-offset` prints, and
//! an empty `MFQ_STORE` named in its error (issue #16, items 3, 4 and 6).
//!
//! This test owns those behaviours; `tests/cli_admin.rs` keeps the older forms of the same
//! subcommands, and `tests/cli_help_examples.rs` runs the help's examples.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::bin::*;

/// A fixed store of 4-byte records (stride 5), 8 records per segment (segments 0, 40, 80):
/// records `m000`..`m019` at offsets 0, 5, ..., 95, and the default consumer at 50.
fn fixed_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let mut args = vec![
        "produce",
        "--format",
        "fixed",
        "--record-size",
        "4",
        "--segment-size",
        "40",
        arg(&store),
    ];
    let messages: Vec<String> = (0..20).map(|i| format!("m{i:03}")).collect();
    for m in &messages {
        args.extend(["-m", m]);
    }
    ok(&run(&args));
    ok(&run(&["consume", arg(&store), "-n", "10"]));
    store
}

/// The offset in a consumer's offset file (None: no file).
fn offset_of(store: &Path, file: &str) -> Option<u64> {
    let bytes = std::fs::read(store.join("offset").join(file)).ok()?;
    Some(u64::from_le_bytes(bytes[..8].try_into().unwrap()))
}

/// The `offset` fields of JSON lines.
fn offsets(out: &str) -> Vec<u64> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["offset"].as_u64().unwrap()
        })
        .collect()
}

/// Every record offset of the fixed store.
fn all_offsets() -> Vec<u64> {
    (0..20).map(|i| i * 5).collect()
}

#[test]
fn adjust_offset_takes_the_store_as_the_first_of_three_words() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let out = run(&["adjust-offset", arg(&store), "consumer", "+1"]);
    let line = expect(&out, 0);
    // The store as given (already absolute here), so that a stale path shows at once.
    assert_eq!(
        line,
        format!("store {}: consumer 50 -> 55\n", store.display())
    );
    assert_eq!(offset_of(&store, "consumer.offset"), Some(55));
    // Two words: TARGET POSITION, the store from the current directory.
    let out = run_at(&store, &["adjust-offset", "consumer", "-1"]);
    assert!(expect(&out, 0).ends_with(": consumer 55 -> 50\n"));
    // One word, or four, is a usage error that shows the forms.
    for args in [
        &["adjust-offset", "consumer"][..],
        &["adjust-offset", "a", "b", "c", "d"],
    ] {
        let out = run_at(&store, args);
        expect(&out, 2);
    }
    let out = run_at(&store, &["adjust-offset", "consumer"]);
    assert!(
        stderr(&out).contains("[STORE] TARGET POSITION"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn adjust_offset_names_the_store_it_changed() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let abs = store.clone();
    let by_env = run_cmd(
        mfq()
            .args(["adjust-offset", "consumer", "earliest", "--dry-run"])
            .env("MFQ_STORE", &store),
        b"",
    );
    let line = expect(&by_env, 0);
    assert_eq!(line, format!("store {}: consumer 50 -> 0\n", abs.display()));
    assert!(stderr(&by_env).contains("dry run"));
    let json = expect(
        &run(&["--json", "adjust-offset", arg(&store), "consumer", "latest"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["store"], abs.to_str().unwrap());
    assert_eq!(v["changes"][0]["to"], 100);
    assert_eq!(v["changed"], true);
    assert_eq!(offset_of(&store, "consumer.offset"), Some(100));
}

#[test]
fn earliest_beginning_latest_and_end_are_synonyms_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    for (word, want) in [
        ("earliest", 0),
        ("end", 100),
        ("beginning", 0),
        ("latest", 100),
    ] {
        let out = run(&["adjust-offset", arg(&store), "consumer", word]);
        expect(&out, 0);
        assert_eq!(offset_of(&store, "consumer.offset"), Some(want), "{word}");
    }
    for (word, want) in [
        ("earliest", all_offsets()),
        ("beginning", all_offsets()),
        ("latest", vec![]),
        ("end", vec![]),
        ("EARLIEST", all_offsets()),
    ] {
        let out = run(&["tail", arg(&store), "-e", "--json", "--from", word]);
        assert_eq!(offsets(&expect(&out, 0)), want, "tail --from {word}");
    }
    // A word that is none of them names all of them.
    let out = run(&["tail", arg(&store), "-e", "--from", "start"]);
    expect(&out, 2);
    assert!(stderr(&out).contains("`latest`/`end`"), "{}", stderr(&out));
    let out = run(&["adjust-offset", arg(&store), "consumer", "first"]);
    expect(&out, 2);
    assert!(
        stderr(&out).contains("`earliest`/`beginning`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn dump_segment_takes_the_store_positional_and_starts_at_record_n() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let dump = |args: &[&str]| {
        let out = expect(&run(&with(&["--json", "dump-segment"], args)), 0);
        serde_json::from_str::<serde_json::Value>(&out).unwrap()
    };
    let rec_offsets = |v: &serde_json::Value| -> Vec<u64> {
        v["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["offset"].as_u64().unwrap())
            .collect()
    };
    // STORE SEGMENT, and a lone folder is the STORE.
    let v = dump(&[arg(&store), "40"]);
    assert_eq!(v["start"], 40);
    assert_eq!(rec_offsets(&v), vec![40, 45, 50, 55, 60, 65, 70, 75]);
    // --offset N: the segment holding N, from record N on; --limit counts from there.
    let v = dump(&[arg(&store), "--offset", "55"]);
    assert_eq!(v["start"], 40);
    assert_eq!(rec_offsets(&v), vec![55, 60, 65, 70, 75]);
    let v = dump(&[arg(&store), "--offset", "55", "--limit", "2"]);
    assert_eq!(rec_offsets(&v), vec![55, 60]);
    assert_eq!(v["not_shown"], 3);
    // An offset inside a record starts at the record containing it.
    let v = dump(&[arg(&store), "--offset", "57", "--limit", "1"]);
    assert_eq!(rec_offsets(&v), vec![55]);
    assert_eq!(
        v["summary"]["records_ok"], 8,
        "the summary is the whole segment"
    );
    // SEGMENT and --offset together: N must lie in it.
    let v = dump(&[arg(&store), "40", "--offset", "70"]);
    assert_eq!(rec_offsets(&v), vec![70, 75]);
    let out = run(&["dump-segment", arg(&store), "0", "--offset", "70"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("holds offsets 0..40"),
        "{}",
        stderr(&out)
    );
    // A path under commitlog/ as the one word, as in the help.
    let seg = store.join("commitlog/00000000000000000080");
    let v = dump(&[arg(&seg)]);
    assert_eq!(rec_offsets(&v).first(), Some(&80));
    // A STORE alone does not say which segment.
    let out = run(&["dump-segment", arg(&store)]);
    expect(&out, 2);
    assert!(stderr(&out).contains("--offset N"), "{}", stderr(&out));
    // The stream format too: record 2 of the golden store starts at 21 and contains 30.
    let (_t, stream) = common::fixture_copy("stream");
    let v = dump(&[arg(&stream), "--offset", "30"]);
    assert_eq!(v["records"][0]["offset"], 21);
    assert_eq!(
        v["records"][0]["payload"]["text"],
        "The quick brown fox jump"
    );
    let text = expect(&run(&["dump-segment", arg(&stream), "--offset", "10"]), 0);
    assert!(
        text.contains("showing from the record at or containing offset 10"),
        "{text}"
    );
    assert!(!text.contains("hello"), "{text}");
}

#[test]
fn tail_e_reads_what_is_there_into_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let script = format!("mfq tail -e --output json {} | cat", arg(&store));
    let out = run_cmd(&mut sh(&script), b"");
    assert_eq!(offsets(&expect(&out, 0)), all_offsets());
    // -n still means the last N records.
    let out = run(&["tail", arg(&store), "-e", "-n", "2", "--json"]);
    assert_eq!(offsets(&expect(&out, 0)), vec![90, 95]);
}

#[test]
fn tail_without_e_still_starts_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let mut child = mfq()
        .args(["tail", arg(&store), "--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    // New records until tail shows one (it may start after the first ones were written).
    let deadline = Instant::now() + Duration::from_secs(20);
    let first = loop {
        ok(&run(&["produce", arg(&store), "-m", "new!"]));
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            break line;
        }
        assert!(Instant::now() < deadline, "tail printed nothing");
    };
    child.kill().unwrap();
    let _ = child.wait();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert!(v["offset"].as_u64().unwrap() >= 100, "{first}");
    assert_eq!(v["payload"]["text"], "new!");
}

#[test]
fn named_consumers_are_created_and_deleted_by_adjust_offset() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let file = "consumer.reports.offset";
    // Unknown without --create: refused, with the command that creates it.
    let out = run(&["adjust-offset", arg(&store), "reports", "earliest"]);
    expect(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("no consumer named \"reports\""), "{err}");
    assert!(err.contains("reports earliest --create`"), "{err}");
    assert_eq!(offset_of(&store, file), None);
    // A new consumer needs an absolute position.
    let out = run(&["adjust-offset", arg(&store), "reports", "+1", "--create"]);
    expect(&out, 1);
    assert!(stderr(&out).contains("no offset yet"), "{}", stderr(&out));
    // --dry-run creates nothing.
    let out = run(&[
        "adjust-offset",
        arg(&store),
        "reports",
        "15",
        "--create",
        "--dry-run",
    ]);
    assert!(expect(&out, 0).ends_with(": consumer reports (none) -> 15 (would be created)\n"));
    assert_eq!(offset_of(&store, file), None);
    let out = run(&["adjust-offset", arg(&store), "reports", "15", "--create"]);
    assert!(expect(&out, 0).ends_with(": consumer reports (none) -> 15 (created)\n"));
    assert_eq!(offset_of(&store, file), Some(15));
    // It reads from there, independently of the default consumer.
    let out = run(&["consume", arg(&store), "--consumer", "reports", "-n", "2"]);
    assert_eq!(expect(&out, 0), "m003\nm004\n");
    assert_eq!(offset_of(&store, "consumer.offset"), Some(50));
    // --create on an existing consumer just moves it.
    let out = run(&["adjust-offset", arg(&store), "reports", "0", "--create"]);
    assert!(expect(&out, 0).ends_with(": consumer reports 25 -> 0\n"));
    // --delete: a dry run first, then gone; again is an error.
    let out = run(&[
        "adjust-offset",
        arg(&store),
        "reports",
        "--delete",
        "--dry-run",
    ]);
    assert!(expect(&out, 0).ends_with(": consumer reports 0 -> (deleted)\n"));
    assert_eq!(offset_of(&store, file), Some(0));
    let out = run(&["adjust-offset", arg(&store), "reports", "--delete"]);
    expect(&out, 0);
    assert_eq!(offset_of(&store, file), None);
    expect(
        &run(&["adjust-offset", arg(&store), "reports", "--delete"]),
        1,
    );
    // Never the default consumer or the producer.
    for target in ["consumer", "producer"] {
        let out = run(&["adjust-offset", arg(&store), target, "--delete"]);
        expect(&out, 1);
        assert!(
            stderr(&out).contains("cannot be deleted"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(offset_of(&store, "consumer.offset"), Some(50));
    // A consumer held by a live process is refused (exit 5).
    ok(&run(&[
        "adjust-offset",
        arg(&store),
        "held",
        "0",
        "--create",
    ]));
    let holder = common::hold_shared(&store.join("offset/consumer.held.offset"));
    let out = run(&["adjust-offset", arg(&store), "held", "--delete"]);
    expect(&out, 5);
    assert_eq!(offset_of(&store, "consumer.held.offset"), Some(0));
    drop(holder);
    let out = once_released(|| run(&["adjust-offset", arg(&store), "held", "--delete"]));
    expect(&out, 0);
    assert_eq!(offset_of(&store, "consumer.held.offset"), None);
}

#[test]
fn reserved_consumer_names_are_refused_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let before = common::store_files(&store);
    for (args, says) in [
        (
            &[
                "adjust-offset",
                arg(&store),
                "producer.confirmed",
                "0",
                "--create",
            ][..],
            "reserved for the producer's offset",
        ),
        (
            &["consume", arg(&store), "--consumer", "producer"],
            "reserved for the producer's offset",
        ),
        (
            &["consume", arg(&store), "--consumer", "consumer.reports"],
            "is the consumer named reports",
        ),
        (
            &["adjust-offset", arg(&store), "consumer.offset", "0"],
            "is the default consumer",
        ),
    ] {
        let out = run(args);
        expect(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains("cannot name a consumer") && err.contains(says),
            "{args:?}: {err}"
        );
    }
    let out = run(&["adjust-offset", arg(&store), "producer", "0", "--create"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("--create makes a named consumer"),
        "{}",
        stderr(&out)
    );
    assert_eq!(common::store_files(&store), before);
}

#[test]
fn moves_past_either_end_are_refused_with_the_bound_or_clamped() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    let out = run(&["adjust-offset", arg(&store), "consumer", "+15"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains(
            "consumer (at 50) is 10 records from the end (offset 100); +15 goes past it; use \
             +10 or --clamp"
        ),
        "{}",
        stderr(&out)
    );
    let out = run(&["adjust-offset", arg(&store), "consumer", "-11"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains(
            "consumer (at 50) is 10 records from the earliest record (offset 0); -11 goes past \
             it; use -10 or --clamp"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(offset_of(&store, "consumer.offset"), Some(50));
    // Exactly the bound is no refusal.
    expect(
        &run(&["adjust-offset", arg(&store), "consumer", "+10", "--dry-run"]),
        0,
    );
    let out = run(&["adjust-offset", arg(&store), "consumer", "+15", "--clamp"]);
    assert!(expect(&out, 0).ends_with(": consumer 50 -> 100\n"));
    assert!(
        stderr(&out).contains("moved 10 of the 15"),
        "{}",
        stderr(&out)
    );
    assert_eq!(offset_of(&store, "consumer.offset"), Some(100));
    let out = run(&[
        "--json",
        "adjust-offset",
        arg(&store),
        "consumer",
        "-99",
        "--clamp",
    ]);
    let v: serde_json::Value = serde_json::from_str(&expect(&out, 0)).unwrap();
    assert_eq!(v["changes"][0]["to"], 0);
    assert_eq!(v["clamped"]["available"], 20);
    assert_eq!(offset_of(&store, "consumer.offset"), Some(0));
    // Already at the end: nothing to move, and the message says so.
    ok(&run(&["adjust-offset", arg(&store), "consumer", "end"]));
    let out = run(&["adjust-offset", arg(&store), "consumer", "+1"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("is 0 records from the end"),
        "{}",
        stderr(&out)
    );
    // The stream format walks records: the golden store's consumer is 3 records from its end.
    let (_t, stream) = common::fixture_copy("stream");
    let out = run(&["adjust-offset", arg(&stream), "consumer", "+9"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("use +3 or --clamp"),
        "{}",
        stderr(&out)
    );
    let out = run(&["adjust-offset", arg(&stream), "consumer", "+9", "--clamp"]);
    assert!(expect(&out, 0).ends_with(": consumer 21 -> 75\n"));
}

#[test]
fn an_empty_mfq_store_is_an_error_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    for args in [
        &["stat"][..],
        &["consume", "--peek"],
        &["tail", "-e"],
        &["adjust-offset", "consumer", "0"],
        &["dump-segment", "--offset", "0"],
        &["prune", "--before", "0"],
        &["recover", "--check"],
        &["produce", "-m", "x"],
    ] {
        let out = run_cmd(
            mfq().args(args).env("MFQ_STORE", "").current_dir(&store),
            b"",
        );
        expect(&out, 2);
        assert_eq!(
            stderr(&out),
            "mfq: MFQ_STORE is set but empty; unset it or give a store path\n",
            "{args:?}"
        );
    }
    // A store named on the command line needs no variable.
    for args in [
        &["stat", arg(&store)][..],
        &["-s", arg(&store), "stat"],
        &["adjust-offset", arg(&store), "consumer", "0", "--dry-run"],
        &["dump-segment", arg(&store), "0"],
    ] {
        let out = run_cmd(mfq().args(args).env("MFQ_STORE", ""), b"");
        expect(&out, 0);
    }
    // Subcommands without a store do not care.
    let out = run_cmd(
        mfq().args(["completions", "bash"]).env("MFQ_STORE", ""),
        b"",
    );
    expect(&out, 0);
    // The help still documents the variable.
    let help = stdout(&run(&["stat", "--help"]));
    assert!(help.contains("$MFQ_STORE"), "{help}");
}

/// Adversary findings: `prune --before latest|end|earliest`, names that read as a position or
/// as the producer's confirmed offset refused for consumers, the store named by `produce` and
/// `prune`, and suggested commands quoted so that they run as written in a shell.
#[test]
fn prune_words_reserved_names_store_paths_and_quoted_advice() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path());
    // dump-segment --offset takes the words too: the oldest record, the newest segment.
    let text = stdout(&run(&[
        "dump-segment",
        arg(&store),
        "--offset",
        "beginning",
    ]));
    assert!(text.contains("commitlog/00000000000000000000"), "{text}");
    let text = stdout(&run(&["dump-segment", arg(&store), "--offset", "latest"]));
    assert!(text.contains("commitlog/00000000000000000080"), "{text}");
    // earliest deletes nothing; latest deletes what the default consumer (at 50) has passed.
    let text = stdout(&run(&["prune", arg(&store), "--before", "earliest"]));
    assert!(text.contains("deleted 0 segment(s)"), "{text}");
    let abs = std::path::absolute(&store).unwrap();
    assert!(
        text.contains(&format!("store {}:", abs.display())),
        "{text}"
    );
    let out = run(&["prune", arg(&store), "--before", "end", "--dry-run"]);
    let text = stdout(&out);
    assert!(text.contains("would delete 1 segment(s)"), "{text}");
    assert_eq!(out.status.code(), Some(6), "{text}{}", stderr(&out));
    for name in ["confirmed", "latest", "end", "earliest", "beginning"] {
        let out = run(&["adjust-offset", arg(&store), name, "0", "--create"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains("cannot name a consumer"), "{name}: {err}");
    }
    let out = run(&["produce", arg(&store), "-m", "m999"]);
    assert!(
        stderr(&out).contains(&format!("store {}: produced 1 message", abs.display())),
        "{}",
        stderr(&out)
    );
    // Past the end is out of range, not "not on a record boundary".
    let err = stderr(&run(&["tail", "-e", arg(&store), "--from", "99999"]));
    assert!(err.contains("offset 99999 is outside the store"), "{err}");
    // A store whose path needs quoting: the advice runs as written.
    let spaced = dir.path().join("my store");
    std::fs::rename(&store, &spaced).unwrap();
    let out = run(&["adjust-offset", arg(&spaced), "nope", "0"]);
    let err = stderr(&out);
    let cmd = err
        .split('`')
        .find(|s| s.starts_with("mfq adjust-offset"))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(cmd.contains("'"), "{cmd}");
    let out = run_cmd(&mut sh(cmd), b"");
    assert_eq!(out.status.code(), Some(0), "{cmd}: {}", stderr(&out));
    assert!(spaced.join("offset/consumer.nope.offset").exists());
}
