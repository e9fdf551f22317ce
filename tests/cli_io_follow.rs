//! `mfq tail` and `mfq stat` through the built binary: start positions, following across
//! segment rolls, closed pipes, and the stat report on the golden stores.
//!
//! This test owns the tail/stat command behaviour; produce/consume are in `cli_io.rs`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Stdio};
use std::sync::mpsc;

use common::bin::*;
use common::*;
use serde_json::Value;

fn json_lines(out: &[u8]) -> Vec<Value> {
    text(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn offsets(out: &[u8]) -> Vec<u64> {
    json_lines(out)
        .iter()
        .map(|v| v["offset"].as_u64().unwrap())
        .collect()
}

/// Spawns `mfq args` with standard output piped.
fn spawn(args: &[&str]) -> Child {
    mfq()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn tail_start_positions_with_exit_at_end() {
    let (_t, s) = fixture_copy("fixed");
    let tail =
        |extra: &[&str]| run(&[&["tail", arg(&s), "-e", "--output", "json"], extra].concat());
    let last2 = ok(&tail(&["-n", "2", "--payload", "hex"]));
    assert_eq!(offsets(&last2), vec![51, 68]);
    let payload = json_lines(&last2)[1]["payload"]["hex"].clone();
    let hex: String = fixed_message(4)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(payload, hex);
    assert_eq!(
        offsets(&ok(&tail(&["--from", "beginning"]))),
        vec![0, 17, 34, 51, 68]
    );
    assert_eq!(offsets(&ok(&tail(&["--from", "34"]))), vec![34, 51, 68]);
    assert_eq!(offsets(&ok(&tail(&["-n", "99"]))), vec![0, 17, 34, 51, 68]);
    // -e alone reads what is there (like `kcat -C -e`); from the end there is nothing.
    assert_eq!(offsets(&ok(&tail(&[]))), vec![0, 17, 34, 51, 68]);
    assert_eq!(
        ok(&tail(&["--from", "end"])),
        b"",
        "the end has nothing to show"
    );
    assert_eq!(ok(&tail(&["--from", "latest"])), b"");
    assert_eq!(
        offsets(&ok(&tail(&["--from", "earliest"]))),
        vec![0, 17, 34, 51, 68]
    );
    let out = tail(&["--from", "35"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not on a record boundary"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        common::offset_value(&s, "consumer.offset"),
        34,
        "tail never commits"
    );
}

#[test]
fn tail_reads_across_a_segment_roll_in_the_golden_stream_store() {
    let (_t, s) = fixture_copy("stream");
    let out = ok(&run(&["tail", arg(&s), "--from", "beginning", "-e"]));
    assert_eq!(
        text(&out),
        "hello\nworld!\nThe quick brown fox jump\n0123456789AB\nxyz\n"
    );
    let out = ok(&run(&[
        "tail",
        arg(&s),
        "-n",
        "3",
        "-e",
        "--output",
        "json",
    ]));
    assert_eq!(offsets(&out), vec![21, 50, 67]);
}

#[test]
fn tail_follows_new_records_across_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "64", &["first", "second"]);
    // Start at the current end explicitly, so no record can slip in before tail starts.
    let mut child = spawn(&["tail", arg(&s), "--from", "21"]);
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    let want: Vec<String> = (0..12).map(|i| format!("message number {i}")).collect();
    let mut args = vec!["produce", arg(&s)];
    for m in &want {
        args.extend(["-m", m]);
    }
    ok(&run(&args));
    let mut got = Vec::new();
    while got.len() < want.len() {
        match rx.recv_timeout(BOUND) {
            Ok(line) => got.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(got, want);
    let segments = std::fs::read_dir(s.join("commitlog")).unwrap().count();
    assert!(segments > 3, "the messages rolled segments ({segments})");
}

#[test]
fn tail_into_a_closed_pipe_ends_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let line = format!("{}\n", "x".repeat(1000));
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--segment-size",
        "1MiB",
    ];
    ok(&run_in(&args, line.repeat(400).as_bytes()));
    let mut child = spawn(&["tail", arg(&s), "--from", "beginning", "--output", "raw"]);
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"x");
    drop(stdout);
    let status = wait_bounded(&mut child);
    assert_eq!(status.code(), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(err, "", "a closed pipe is not an error");

    // While idle, with no record coming at all, the hung-up pipe is noticed too.
    let end = 400 * 1005;
    let mut child = spawn(&["tail", arg(&s), "--from", &end.to_string()]);
    drop(child.stdout.take());
    assert_eq!(wait_bounded(&mut child).code(), Some(0));

    // A tail whose standard output is still open keeps following while idle.
    let mut child = spawn(&["tail", arg(&s), "--from", &end.to_string()]);
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert!(
        child.try_wait().unwrap().is_none(),
        "an idle tail with a reader keeps running"
    );
    ok(&run(&["produce", arg(&s), "-m", "wake up"]));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "wake up\n");
    let _ = child.kill();
    let _ = child.wait();
}

fn stat_json(s: &std::path::Path) -> Value {
    serde_json::from_slice(&ok(&run(&["stat", arg(s), "--json"]))).unwrap()
}

#[test]
fn stat_on_the_golden_fixed_store() {
    let (_t, s) = fixture_copy("fixed");
    let v = stat_json(&s);
    assert_eq!(v["format"], "fixed");
    assert_eq!(v["record_size"], 16);
    assert_eq!(v["segment_size"], 85);
    assert_eq!(v["params_source"], "inferred");
    assert_eq!(v["producer_offset"], 85);
    assert_eq!(v["confirmed_offset"], 68);
    assert_eq!(v["unflushed_bytes"], 17);
    assert_eq!(v["segments"]["count"], 1);
    assert_eq!(v["segments"]["first"], 0);
    assert_eq!(v["segments"]["bytes"], 86);
    assert_eq!(v["issues"], Value::Array(vec![]));
    let c = &v["consumers"][0];
    assert_eq!(c["name"], "consumer");
    assert_eq!(c["offset"], 34);
    assert_eq!(c["lag_bytes"], 51);
    assert_eq!(c["lag_messages"], 3);
    assert_eq!(c["holders"]["held"], false);
    assert_eq!(v["producer"]["held"], false);

    let t = text(&ok(&run(&["stat", arg(&s)])));
    for want in [
        "fixed",
        "16 bytes",
        "85 B (inferred: any SegmentSize from 85 to 101 gives these files)",
        "68 (17 bytes not yet flushed)",
        "| 51 ",
        "| 3 ",
    ] {
        assert!(t.contains(want), "{want:?} missing:\n{t}");
    }
    assert!(t.contains("health: ok"), "{t}");
}

#[test]
fn stat_on_the_golden_stream_store_with_a_named_consumer() {
    let (_t, s) = fixture_copy("stream");
    let v = stat_json(&s);
    assert_eq!(v["format"], "stream");
    assert_eq!(v["record_size"], Value::Null);
    assert_eq!(v["confirmed_offset"], Value::Null);
    assert_eq!(v["segments"]["count"], 2);
    assert_eq!(v["segments"]["last"], 50);
    let c = &v["consumers"][0];
    assert_eq!(
        (c["lag_bytes"].as_u64(), c["lag_messages"].as_u64()),
        (Some(54), Some(3))
    );
    assert_eq!(c["lag_messages_exact"], true);

    assert_eq!(
        ok(&run(&["consume", arg(&s), "--consumer", "audit"])),
        b"hello\n"
    );
    let v = stat_json(&s);
    let audit = v["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "audit")
        .unwrap()
        .clone();
    assert_eq!(audit["offset"], 10);
    assert_eq!(audit["lag_bytes"], 65);
    assert_eq!(audit["lag_messages"], 4);
    let t = text(&ok(&run(&["stat", arg(&s)])));
    assert!(t.contains("audit") && t.contains("| 65 "), "{t}");
}

#[test]
fn stat_shows_a_live_consumer() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &["one"]);
    let mut child = spawn(&[
        "consume",
        arg(&s),
        "--consumer",
        "live",
        "-n",
        "2",
        "--wait",
        "25s",
    ]);
    // It commits "one" once the reader has taken it from the pipe, before waiting for the
    // second message, so once the commit is visible (read without a lock) it holds its offset
    // file.
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert_eq!(line, "one\n");
    let t0 = std::time::Instant::now();
    while consumer_offset(&s, "consumer.live.offset") != Some(8) && t0.elapsed() < BOUND {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let v = stat_json(&s);
    ok(&run(&["produce", arg(&s), "-m", "two"]));
    let mut rest = String::new();
    reader.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "two\n");
    assert!(wait_bounded(&mut child).success());
    let live = &v["consumers"][0];
    assert_eq!(live["name"], "live");
    assert_eq!(
        live["holders"]["held"], true,
        "the waiting consumer was seen"
    );
    let pids = live["holders"]["pids"].as_array().unwrap();
    assert!(
        pids.is_empty() || pids.contains(&Value::from(child.id())),
        "{pids:?}"
    );
}

#[test]
fn stat_bounds_the_stream_lag_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let ids: String = (0..300).map(|i| format!("{i:08}\n")).collect();
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--segment-size",
        "16",
    ];
    ok(&run_in(&args, ids.as_bytes()));
    ok(&run(&["consume", arg(&s), "--consumer", "slow", "-n", "0"]));
    ok(&run(&[
        "consume",
        arg(&s),
        "--consumer",
        "fast",
        "-n",
        "290",
    ]));
    let v = stat_json(&s);
    let find = |name: &str| {
        let all = v["consumers"].as_array().unwrap();
        all.iter().find(|c| c["name"] == name).unwrap().clone()
    };
    let slow = find("slow");
    assert_eq!(slow["lag_bytes"], 300 * 13);
    // Not an exact count: no number in the exact field, the bound beside it.
    assert!(slow["lag_messages"].is_null(), "{slow}");
    assert_eq!(
        slow["lag_messages_at_least"], 256,
        "one record per segment, 256 segments read"
    );
    assert_eq!(slow["lag_messages_exact"], false);
    let fast = find("fast");
    assert_eq!(
        (
            fast["lag_messages"].as_u64(),
            fast["lag_messages_exact"].as_bool()
        ),
        (Some(10), Some(true))
    );
    assert!(text(&ok(&run(&["stat", arg(&s)]))).contains("≥256"));
}

#[test]
fn consume_waiting_into_a_hung_up_pipe_ends_and_keeps_what_was_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    ok(&run(&[
        "produce",
        arg(&s),
        "--format",
        "stream",
        "-m",
        "first",
    ]));
    let mut child = spawn(&["consume", arg(&s), "-n", "5", "--wait", "1h"]);
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "first\n");
    // The reader is gone (dropped with the BufReader); no further record ever comes.
    assert_eq!(wait_bounded(&mut child).code(), Some(0));
    let committed = std::fs::read(s.join("offset/consumer.offset")).unwrap();
    assert_eq!(
        u64::from_le_bytes(committed.try_into().unwrap()),
        10,
        "the delivered record stays committed"
    );
}
