//! `mfq produce` and `mfq consume` through the built binary: round trips, input modes,
//! rejected messages, consumers, output modes, exit statuses and store resolution.
//!
//! This test owns the produce/consume command behaviour; store resolution and parameter
//! errors are in `cli_io_store.rs`, tail and stat in `cli_io_follow.rs`.

mod common;

use common::bin::*;
use common::*;

#[test]
fn fixed_round_trip_with_pad() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let create = [
        "produce",
        arg(&s),
        "--format",
        "fixed",
        "--record-size",
        "8",
    ];
    let out = run(&[&create[..], &["--pad", "-m", "ab", "-m", "abcdefgh"]].concat());
    ok(&out);
    assert!(text(&out.stderr).contains("produced 2 messages (16 bytes); producer offset 18"));
    let meta = std::fs::read_to_string(s.join("mfq.json")).unwrap();
    assert!(meta.contains("67108864"), "default segment size: {meta}");
    let raw = ok(&run(&["consume", arg(&s), "-n", "all", "--output", "raw"]));
    assert_eq!(raw, b"ab\0\0\0\0\0\0abcdefgh");

    let pad = ["produce", arg(&s), "--pad", "--pad-byte", "32", "-m", "x"];
    ok(&run(&pad));
    assert_eq!(ok(&run(&["consume", arg(&s)])), b"x       \n");

    let out = run(&["produce", arg(&s), "-m", "abc"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("message 1:") && err.contains("exactly 8 bytes"),
        "{err}"
    );
}

#[test]
fn stream_lines_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
    ];
    ok(&run_in(&args, b"one\ntwo\r\nthree"));
    let out = ok(&run(&["consume", arg(&s), "-n", "all"]));
    assert_eq!(text(&out), "one\ntwo\\r\nthree\n");
    let json = ok(&run(&[
        "consume",
        arg(&s),
        "--consumer",
        "j",
        "-n",
        "2",
        "--output",
        "json",
    ]));
    let second: serde_json::Value =
        serde_json::from_str(text(&json).lines().nth(1).unwrap()).unwrap();
    assert_eq!(second["payload"]["text"], "two\r");
}

#[test]
fn raw_input_cuts_fixed_records_and_refuses_a_partial_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let create = [
        "produce",
        arg(&s),
        "--format",
        "fixed",
        "--record-size",
        "4",
        "--input",
        "raw",
    ];
    let out = run_in(&create, b"abcdefgh\nxy");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("not a multiple of the record size 4"), "{err}");
    assert_eq!(
        run(&["consume", arg(&s)]).status.code(),
        Some(3),
        "nothing written"
    );

    let file = dir.path().join("in.bin");
    std::fs::write(&file, b"abcdefghijk").unwrap();
    let out = run(&["produce", arg(&s), "--input", "raw", "--file", arg(&file)]);
    assert_eq!(out.status.code(), Some(1), "a file is checked too");

    ok(&run_in(&create, b"abcd\n\0\xffz"));
    let out = ok(&run(&["consume", arg(&s), "-n", "all", "--output", "raw"]));
    assert_eq!(out, b"abcd\n\0\xffz");
}

#[test]
fn raw_input_is_one_message_in_a_stream_store() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let file = dir.path().join("blob");
    std::fs::write(&file, b"line 1\nline 2\n\0").unwrap();
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--input",
        "raw",
        "--file",
    ];
    ok(&run(&[&args[..], &[arg(&file)]].concat()));
    let out = ok(&run(&["consume", arg(&s), "-n", "all", "--output", "json"]));
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["payload_size"], 15);
    // A NUL makes it binary for `--payload auto`: base64, every byte kept.
    assert_eq!(v["payload"]["base64"], "bGluZSAxCmxpbmUgMgoA");
}

#[test]
fn length_prefixed_input_and_a_truncated_frame() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let frame = |b: &[u8]| [&(b.len() as u32).to_le_bytes()[..], b].concat();
    let mut input = [frame(b"\xff\x00\x01"), frame(b"two\nlines")].concat();
    input.extend_from_slice(&frame(b"cut")[..5]);
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--input",
        "length-prefixed",
    ];
    let out = run_in(&args, &input);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("message 3: the input ends after 1 of its 3 bytes"),
        "{err}"
    );
    assert!(err.contains("produced 2 messages"), "{err}");

    let out = ok(&run(&["consume", arg(&s), "-n", "all", "--output", "json"]));
    let lines: Vec<serde_json::Value> = text(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(lines[0]["next_offset"], 8);
    assert_eq!(lines[0]["record_size"], 8);
    assert_eq!(lines[0]["payload_size"], 3);
    assert_eq!(lines[0]["payload"]["base64"], "/wAB");
    assert_eq!(lines[1]["payload"]["text"], "two\nlines");
}

#[test]
fn a_rejected_message_stops_the_run_and_keeps_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    // A store as .NET leaves it (no mfq.json), where an empty message is refused.
    stream_store(&s, "64", &["first"]);
    std::fs::remove_file(s.join("mfq.json")).unwrap();
    let out = run_in(&["produce", arg(&s)], b"a\nb\n\nc\n");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("message 3: a message of 0 bytes"), "{err}");
    let confirmed = std::fs::read(s.join("offset/producer.confirmed.offset")).unwrap();
    assert_eq!(
        u64::from_le_bytes(confirmed.try_into().unwrap()),
        22,
        "flushed"
    );
    assert_eq!(
        ok(&run(&["consume", arg(&s), "-n", "all"])),
        b"first\na\nb\n"
    );

    let big = "x".repeat(100);
    let out = run(&["produce", arg(&s), "-m", "ok", "-m", &big]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("message 2: message of 100 bytes does not fit"),
        "{err}"
    );
    assert!(err.contains("produced 1 message "), "{err}");
}

#[test]
fn peek_named_consumers_and_counts() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &["m1", "m2", "m3"]);
    assert_eq!(
        ok(&run(&["consume", arg(&s), "--peek", "-n", "all"])),
        b"m1\nm2\nm3\n"
    );
    assert_eq!(
        consumer_offset(&s, "consumer.offset"),
        None,
        "peek creates nothing"
    );
    assert_eq!(ok(&run(&["consume", arg(&s)])), b"m1\n");
    assert_eq!(consumer_offset(&s, "consumer.offset"), Some(7));
    assert_eq!(
        ok(&run(&["consume", arg(&s), "--peek", "-n", "5"])),
        b"m2\nm3\n"
    );
    assert_eq!(
        consumer_offset(&s, "consumer.offset"),
        Some(7),
        "peek commits nothing"
    );

    let named = ["consume", arg(&s), "--consumer", "reports", "-n", "all"];
    assert_eq!(
        ok(&run(&named)),
        b"m1\nm2\nm3\n",
        "a new name starts at the earliest"
    );
    assert_eq!(consumer_offset(&s, "consumer.reports.offset"), Some(21));
    assert_eq!(ok(&run(&["consume", arg(&s), "-n", "2"])), b"m2\nm3\n");
    assert_eq!(run(&named).status.code(), Some(3));
    assert_eq!(ok(&run(&["consume", arg(&s), "-n", "0"])), b"");
}

#[test]
fn hex_output_has_offset_headers_and_no_colour() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &["hi", "there"]);
    let out = text(&ok(&run(&[
        "consume",
        arg(&s),
        "-n",
        "2",
        "--output",
        "hex",
    ])));
    assert!(out.starts_with("offset 0 (2 bytes):\n"), "{out}");
    assert!(out.contains("offset 7 (5 bytes):"), "{out}");
    assert!(out.contains("74 68 65 72 65"), "{out}");
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn global_json_means_json_lines_unless_output_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &["hi", "there"]);
    let peek = |extra: &[&str]| {
        let args = [
            &["--json", "consume", arg(&s), "-n", "all", "--peek"],
            extra,
        ]
        .concat();
        text(&ok(&run(&args)))
    };
    assert_eq!(
        peek(&[]),
        "{\"v\":1,\"offset\":0,\"next_offset\":7,\"record_size\":7,\"payload_size\":2,\
         \"payload\":{\"text\":\"hi\"}}\n\
         {\"v\":1,\"offset\":7,\"next_offset\":17,\"record_size\":10,\"payload_size\":5,\
         \"payload\":{\"text\":\"there\"}}\n"
    );
    assert_eq!(peek(&["--output", "text"]), "hi\nthere\n");
    let tail = text(&ok(&run(&["tail", arg(&s), "-e", "-n", "1", "--json"])));
    assert_eq!(
        tail,
        "{\"v\":1,\"offset\":7,\"next_offset\":17,\"record_size\":10,\"payload_size\":5,\
         \"payload\":{\"text\":\"there\"}}\n"
    );
}

/// A damaged record stops a read with an error, but the records before it are printed first
/// (and a consumer commits them, so it stops at the damaged one).
#[test]
fn records_before_a_damaged_one_are_printed_before_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &["one", "two", "three"]);
    // The end marker of "three" (records of 3 bytes take 8: offsets 0, 8, 16).
    let seg = s.join("commitlog/00000000000000000000");
    let mut bytes = std::fs::read(&seg).unwrap();
    assert_eq!(bytes[16 + 4 + 5], 0xFF);
    bytes[16 + 4 + 5] = 0x12;
    std::fs::write(&seg, bytes).unwrap();
    for args in [
        &["tail", arg(&s), "-e", "--from", "beginning"][..],
        &["consume", arg(&s), "--peek", "-n", "all"],
        &["consume", arg(&s), "-n", "all"],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(text(&out.stdout), "one\ntwo\n", "{args:?}");
        assert!(text(&out.stderr).contains("run `mfq recover`"), "{args:?}");
    }
    assert_eq!(consumer_offset(&s, "consumer.offset"), Some(16));
}

#[test]
fn nothing_available_exits_3_quietly_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &[]);
    let out = run(&["consume", arg(&s)]);
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    assert!(text(&out.stderr).contains("no message available"));
    let out = run(&["consume", arg(&s), "--wait", "50ms", "-n", "all"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("within 50ms"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn wait_receives_a_message_produced_later() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &[]);
    let mut child = mfq()
        .args(["consume", arg(&s), "--wait", "25s", "--output", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    ok(&run(&["produce", arg(&s), "-m", "late"]));
    // Read before waiting: into a pipe, consume commits (and exits) once the reader has read.
    let mut out = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
    let status = wait_bounded(&mut child);
    assert!(status.success());
    assert!(out.contains(r#""text":"late""#), "{out}");
    assert_eq!(consumer_offset(&s, "consumer.offset"), Some(9));
}

#[test]
fn a_record_that_fills_a_stream_segment_exactly_is_read_whole() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    // 64-byte segments: three 16-byte payloads take 3 * 21 = 63 bytes, so the fourth rolls;
    // 17 + 5 = 22 and 20 + 22 + 22 = 64 fill the next segment to its last byte.
    let msgs = [
        "aaaaaaaaaaaaaaaa",
        "bbbbbbbbbbbbbbbb",
        "cccccccccccccccc",
        "ddddddddddddddd",
    ];
    stream_store(&s, "64", &msgs);
    ok(&run(&[
        "produce",
        arg(&s),
        "-m",
        "eeeeeeeeeeeeeeeee",
        "-m",
        "fffffffffffffffff",
    ]));
    let out = text(&ok(&run(&["consume", arg(&s), "-n", "all"])));
    let want = [&msgs[..], &["eeeeeeeeeeeeeeeee", "fffffffffffffffff"]].concat();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

#[test]
fn consume_into_a_closed_pipe_commits_only_whole_written_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let args = [
        "produce",
        arg(&s),
        "--format",
        "fixed",
        "--record-size",
        "100",
        "--input",
        "raw",
    ];
    ok(&run_in(&args, &vec![b'y'; 100 * 10_000]));
    let mut child = mfq()
        .args(["consume", arg(&s), "-n", "all", "--output", "raw"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    assert_eq!(
        wait_bounded(&mut child).code(),
        Some(0),
        "a closed pipe ends quietly"
    );
    let committed = consumer_offset(&s, "consumer.offset").unwrap();
    assert_eq!(committed % 101, 0, "on a record boundary");
    assert!(
        committed < 101 * 10_000,
        "the failed batch is not committed"
    );
}
