//! Issue #15 (4) through the binary: `mfq produce` refuses, on a stream store without mfq.json,
//! the messages a .NET consumer cannot get past (empty, 238 mod 256 bytes) with status 1 (a
//! refused message, like an oversize one), naming the .NET bug and `--allow-dotnet-hazards`;
//! with the flag, or on a store with mfq.json, it writes them. `stat` and `recover --check`
//! show the first such record ahead of the default consumer as a warning with its offset and
//! the `mfq adjust-offset consumer +1` advice; `--check` still exits 0.

mod common;

use common::bin::*;
use common::*;
use serde_json::Value;

/// A stream store (segment size 4 KiB) holding `first` and `second!` (records of 10 and 12
/// bytes, so the files show the format), without mfq.json, as .NET leaves one.
fn dotnet_store(dir: &std::path::Path) -> std::path::PathBuf {
    let s = dir.join("s");
    stream_store(&s, "4KiB", &["first", "second!"]);
    std::fs::remove_file(s.join("mfq.json")).unwrap();
    s
}

fn length_prefixed(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.extend((m.len() as u32).to_le_bytes());
        out.extend(m);
    }
    out
}

#[test]
fn produce_refuses_hazards_on_a_store_without_mfq_json_and_names_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let s = dotnet_store(dir.path());
    let m238 = "x".repeat(238);
    let out = run(&["produce", arg(&s), "-m", &m238]);
    expect(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("message 1: a message of 238 bytes"), "{err}");
    assert!(err.contains("SQ-1"), "{err}");
    assert!(err.contains("--allow-dotnet-hazards"), "{err}");
    let out = run(&["produce", arg(&s), "-m", "ok", "-m", ""]);
    expect(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("message 2: a message of 0 bytes"), "{err}");
    assert!(err.contains("SQ-3"), "{err}");
    assert!(err.contains("--allow-dotnet-hazards"), "{err}");
    assert!(err.contains("produced 1 message "), "{err}");
    // 494 = 238 + 256, through length-prefixed input.
    let input = length_prefixed(&[vec![b'y'; 494]]);
    let out = run_in(&["produce", arg(&s), "--input", "length-prefixed"], &input);
    expect(&out, 1);
    assert!(stderr(&out).contains("494 bytes"), "{}", stderr(&out));
    // Only `ok` (7 bytes at offset 22) was written.
    assert_eq!(offset_value(&s, "producer.offset"), 29);
    assert_eq!(
        ok(&run(&["consume", arg(&s), "-n", "all", "--peek"])),
        b"first\nsecond!\nok\n"
    );
    assert!(
        !s.join("mfq.json").exists(),
        "produce leaves the store as .NET's"
    );
}

#[test]
fn the_flag_or_mfq_json_lets_them_through() {
    let dir = tempfile::tempdir().unwrap();
    let s = dotnet_store(dir.path());
    let m238 = "x".repeat(238);
    ok(&run(&[
        "produce",
        arg(&s),
        "--allow-dotnet-hazards",
        "-m",
        &m238,
        "-m",
        "",
        "-m",
        "end",
    ]));
    let out = ok(&run(&["--json", "consume", arg(&s), "-n", "all"]));
    let sizes: Vec<u64> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["payload_size"]
                .as_u64()
                .unwrap()
        })
        .collect();
    assert_eq!(sizes, [5, 7, 238, 0, 3]);

    let mine = dir.path().join("mine");
    stream_store(&mine, "4KiB", &["a", "", &m238, "b"]);
    assert!(mine.join("mfq.json").exists());
    assert_eq!(
        ok(&run(&["consume", arg(&mine), "-n", "all"])),
        format!("a\n\n{m238}\nb\n").as_bytes()
    );
}

#[test]
fn stat_and_recover_check_warn_with_the_offset_and_the_adjust_offset_advice() {
    let dir = tempfile::tempdir().unwrap();
    let s = dotnet_store(dir.path());
    let m238 = "x".repeat(238);
    ok(&run(&[
        "produce",
        arg(&s),
        "--allow-dotnet-hazards",
        "-m",
        "ok",
        "-m",
        &m238,
        "-m",
        "",
    ]));
    // The default consumer at 0: the 238-byte record at 29 lies ahead of it.
    set_offset(&s, "consumer.offset", 0);
    let v: Value = serde_json::from_slice(&ok(&run(&["--json", "stat", arg(&s)]))).unwrap();
    let issues = v["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0]["kind"], "dotnet_ee_length");
    assert_eq!(issues[0]["severity"], "warning");
    assert_eq!(issues[0]["offset"], 29);
    let hint = issues[0]["hint"].as_str().unwrap();
    assert!(hint.contains("offset 29"), "{hint}");
    assert!(hint.contains("mfq adjust-offset consumer +1"), "{hint}");
    let text = stdout(&run(&["stat", arg(&s)]));
    assert!(text.contains("warning"), "{text}");
    assert!(text.contains("offset 29"), "{text}");
    assert!(text.contains("mfq adjust-offset consumer +1"), "{text}");

    let out = run(&["recover", arg(&s), "--check"]);
    let text = expect(&out, 0);
    assert!(text.contains("warning"), "{text}");
    assert!(text.contains("offset 29"), "{text}");
    assert!(text.contains("mfq adjust-offset consumer +1"), "{text}");
    let out = run(&["--json", "recover", arg(&s), "--check"]);
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["needs_repair"], false);
    assert_eq!(v["report"]["issues"][0]["kind"], "dotnet_ee_length");
    assert_eq!(v["report"]["issues"][0]["offset"], 29);

    // The consumer at the record; skipping it as advised shows the empty record next.
    set_offset(&s, "consumer.offset", 29);
    let text = stdout(&run(&["stat", arg(&s)]));
    assert!(
        text.contains("a .NET consumer stops at this record"),
        "{text}"
    );
    ok(&run(&["-s", arg(&s), "adjust-offset", "consumer", "+1"]));
    assert_eq!(offset_value(&s, "consumer.offset"), 272);
    let v: Value = serde_json::from_slice(&ok(&run(&["--json", "stat", arg(&s)]))).unwrap();
    assert_eq!(v["issues"][0]["kind"], "dotnet_empty_record");
    assert_eq!(v["issues"][0]["offset"], 272);
    ok(&run(&["-s", arg(&s), "adjust-offset", "consumer", "+1"]));
    let v: Value = serde_json::from_slice(&ok(&run(&["--json", "stat", arg(&s)]))).unwrap();
    assert_eq!(v["issues"], Value::Array(vec![]));
}

#[test]
fn a_dotnet_short_tail_is_a_warning_with_restart_advice() {
    let (_t, s) = fixture_copy("stream-tail4");
    let out = run(&["recover", arg(&s), "--check"]);
    let text = expect(&out, 0);
    assert!(text.contains("offset 60"), "{text}");
    assert!(text.contains("SQ-2"), "{text}");
    assert!(text.contains("restart it"), "{text}");
    let v: Value = serde_json::from_slice(&ok(&run(&["--json", "stat", arg(&s)]))).unwrap();
    assert_eq!(v["issues"][0]["kind"], "dotnet_short_tail");
    assert_eq!(v["issues"][0]["offset"], 60);
}

#[test]
fn dump_segment_shows_a_marked_short_tail_as_a_segment_end() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let first = "q".repeat(55); // a 60-byte record: a 4-byte tail in a 64-byte segment
    stream_store(&s, "64", &[&first, "abc"]);
    let seg = std::fs::read(segment(&s, 0)).unwrap();
    assert_eq!(seg[60..], [0xEE, 0, 0, 0]);
    let out = run(&["--json", "dump-segment", "-s", arg(&s), "0"]);
    let v: Value = serde_json::from_slice(&ok(&out)).unwrap();
    let records = v["records"].as_array().unwrap();
    assert_eq!(records.last().unwrap()["status"], "segment_end");
    assert_eq!(records.last().unwrap()["position"], 60);
    expect(&run(&["recover", arg(&s), "--check"]), 0);
}
