//! `mfq dump-segment` and `mfq adjust-offset` through the built binary, on copies of the
//! golden .NET stores and on copies damaged on purpose.
//!
//! This test owns the behaviour of those two subcommands; prune and recover are in
//! tests/cli_admin_repair.rs.

mod common;

use common::bin::*;
use common::*;

const ALL: [&str; 4] = ["fixed", "fixed-rollover", "stream", "stream-tail4"];

#[test]
fn dump_every_golden_segment_is_sound() {
    for name in ALL {
        let (_t, store) = fixture_copy(name);
        for seg in std::fs::read_dir(store.join("commitlog")).unwrap() {
            let path = seg.unwrap().path();
            let text = expect(&run(&["dump-segment", path.to_str().unwrap()]), 0);
            assert!(text.contains(" ok "), "{name}: {text}");
            assert!(
                text.contains("summary: ") && text.contains(", 0 damaged"),
                "{text}"
            );
        }
    }
    let (_t, store) = fixture_copy("stream");
    let text = expect(&run_on(&store, &["dump-segment", "0"]), 0);
    assert!(
        text.contains("hello") && text.contains("segment end"),
        "{text}"
    );
    let (_t, store) = fixture_copy("fixed-rollover");
    let text = expect(&run_on(&store, &["dump-segment", "85"]), 0);
    assert!(
        text.contains("… 4 unwritten slots (positions 17..85)"),
        "{text}"
    );
    assert_eq!(
        text.matches("unwritten").count(),
        3,
        "one collapsed row: {text}"
    );
}

#[test]
fn dump_json_has_the_documented_fields() {
    let (_t, store) = fixture_copy("stream");
    let out = expect(&run_on(&store, &["dump-segment", "--json", "0"]), 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["segment"]
        .as_str()
        .unwrap()
        .ends_with("00000000000000000000"));
    assert_eq!(v["start"], 0);
    assert_eq!(v["length"], 64);
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[1]["offset"], 10);
    assert_eq!(recs[1]["position"], 10);
    assert_eq!(v["v"], 1);
    assert_eq!(recs[1]["record_size"], 11);
    assert_eq!(recs[1]["payload_size"], 6);
    assert_eq!(recs[1]["next_offset"], 21);
    assert_eq!(recs[1]["status"], "ok");
    assert_eq!(recs[1]["payload"]["text"], "world!");
    assert_eq!(recs[3]["status"], "segment_end");
    assert!(recs[3]["payload"].is_null(), "{}", recs[3]);
    assert!(recs[3]["next_offset"].is_null(), "{}", recs[3]);
    assert_eq!(v["summary"]["records_ok"], 3);
    assert_eq!(v["summary"]["damaged"], 0);

    let (_t, store) = fixture_copy("fixed");
    let out = expect(
        &run_on(&store, &["dump-segment", "--json", "00000000000000000000"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 5);
    assert_eq!(v["records"][4]["offset"], 68);
}

#[test]
fn dump_names_numbers_offsets_and_paths_agree() {
    let (t, store) = fixture_copy("stream");
    let by_name = expect(
        &run_on(&store, &["dump-segment", "00000000000000000050"]),
        0,
    );
    let by_number = expect(&run_on(&store, &["dump-segment", "50"]), 0);
    let by_store = expect(&run(&["dump-segment", arg(&store), "50"]), 0);
    let by_offset = expect(&run_on(&store, &["dump-segment", "--offset", "50"]), 0);
    let rel = "stream/commitlog/00000000000000000050";
    let by_path = expect(&run_at(t.path(), &["dump-segment", rel]), 0);
    assert_eq!(by_name, by_number);
    assert_eq!(by_name, by_store);
    // The same rows; the header says where the rows start.
    let rows = |text: &str| text.lines().skip(2).map(String::from).collect::<Vec<_>>();
    assert_eq!(rows(&by_name), rows(&by_offset));
    assert!(by_offset.contains("showing from the record at or containing offset 50"));
    assert!(by_path.contains("xyz") && by_path.contains("start offset 50"));
    let json = expect(
        &run_on(&store, &["dump-segment", "0", "--json", "--limit", "1"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 1);
    assert_eq!(v["not_shown"], 3);
    let (_t2, fixed) = fixture_copy("fixed");
    let out = run_on(&fixed, &["dump-segment", "--offset", "85"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("no segment holds offset 85"),
        "{}",
        stderr(&out)
    );
    let missing = run_on(&store, &["dump-segment", "7"]);
    expect(&missing, 1);
    assert!(
        stderr(&missing).contains("segments start at 0, 50"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn dump_hex_and_limit() {
    let (_t, store) = fixture_copy("stream");
    let text = expect(
        &run_on(&store, &["dump-segment", "0", "--hex", "--limit", "1"]),
        0,
    );
    assert!(text.contains("68 65 6c 6c 6f"), "{text}");
    assert!(text.contains("00000004"), "payload position shown: {text}");
    assert!(text.contains("3 more entries not shown"), "{text}");
    assert!(!text.contains("world"), "{text}");
}

/// A grown (sparse) segment of any size is dumped from its mapping: the records the parameters
/// give, then one row for data past them. Reading the file whole would need 64 GiB here.
#[test]
fn dump_a_huge_sparse_segment_without_reading_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let seg = dir.path().join("grown");
    std::fs::copy(
        fixture("stream").join("commitlog/00000000000000000050"),
        &seg,
    )
    .unwrap();
    poke(&seg, 1 << 20, &[7]);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let path = seg.to_str().unwrap();
    let out = run(&with(&STREAM, &["dump-segment", path, "--limit", "5"]));
    let text = expect(&out, 4);
    assert!(
        text.contains("garbage") && text.contains("not walked"),
        "{text}"
    );
    assert!(text.contains("2 records ok, 1 damaged"), "{text}");
}

/// An offset past every segment's span is held by none, in either format.
#[test]
fn dump_an_offset_no_segment_holds_is_an_error() {
    for (name, params) in [("stream", &STREAM[..]), ("fixed-rollover", &FIXED[..])] {
        let (_t, store) = fixture_copy(name);
        for offset in ["200", "18446744073709551615"] {
            let out = run_on(&store, &with(params, &["dump-segment", "--offset", offset]));
            expect(&out, 1);
            assert!(
                stderr(&out).contains("no segment holds offset"),
                "{name} {offset}"
            );
        }
    }
}

#[test]
fn dump_flipped_marker_exits_4_naming_the_position() {
    let (_t, store) = fixture_copy("fixed");
    poke(&segment(&store, 0), 50, &[0x12]);
    let out = run_on(&store, &with(&FIXED, &["dump-segment", "0"]));
    let text = expect(&out, 4);
    assert!(text.contains("bad marker"), "{text}");
    assert!(stderr(&out).contains("position 34"), "{}", stderr(&out));

    let (_t, store) = fixture_copy("stream");
    poke(&segment(&store, 0), 20, &[0]);
    let out = run_on(&store, &with(&STREAM, &["dump-segment", "0", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&expect(&out, 4)).unwrap();
    assert_eq!(v["records"][1]["status"], "torn");
    assert_eq!(v["summary"]["first_damaged_position"], 10);
    assert!(stderr(&out).contains("position 10"), "{}", stderr(&out));
}

#[test]
fn dump_short_zero_length_and_garbage_files_never_panic() {
    let (_t, store) = fixture_copy("fixed-rollover");
    let seg85 = segment(&store, 85);
    std::fs::write(&seg85, b"").unwrap();
    let text = expect(&run_on(&store, &with(&FIXED, &["dump-segment", "85"])), 0);
    assert!(text.contains("5 unwritten slots") && text.contains("file is 0 bytes"));
    let seg0 = segment(&store, 0);
    let bytes = std::fs::read(&seg0).unwrap();
    std::fs::write(&seg0, &bytes[..40]).unwrap();
    let out = run_on(&store, &with(&FIXED, &["dump-segment", "0"]));
    assert!(expect(&out, 4).contains("torn"));

    let (t, store) = fixture_copy("stream");
    for len in [0usize, 3, 9, 63] {
        let seg = segment(&store, 50);
        let full = std::fs::read(fixture("stream").join("commitlog/00000000000000000050")).unwrap();
        std::fs::write(&seg, &full[..len]).unwrap();
        let out = run_on(&store, &with(&STREAM, &["dump-segment", "50"]));
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(4),
            "len {len}: {}",
            stderr(&out)
        );
        expect(&out, code.unwrap());
    }
    let junk = t.path().join("junk");
    std::fs::write(&junk, [0xAB; 100]).unwrap();
    let junk = junk.to_str().unwrap();
    for params in [&STREAM[..], &FIXED[..]] {
        let out = run(&with(params, &["dump-segment", junk]));
        assert!(expect(&out, 4).contains("garbage") || stdout(&out).contains("bad marker"));
    }
}

fn adjust(store: &std::path::Path, args: &[&str]) -> std::process::Output {
    run_on(store, &with(&["adjust-offset"], args))
}

/// What `adjust-offset` printed (status 0), each line without the `store PATH: ` it starts
/// with, after checking that PATH is `store`.
fn changes(out: &std::process::Output, store: &std::path::Path) -> String {
    let text = expect(out, 0);
    let canon = store.canonicalize().unwrap();
    text.lines()
        .map(|l| {
            let (head, rest) = l.split_once(": ").unwrap_or_else(|| panic!("{l}"));
            let path = head.strip_prefix("store ").unwrap_or_else(|| panic!("{l}"));
            let path = std::path::Path::new(path);
            assert!(path.is_absolute(), "{l}");
            assert_eq!(path.canonicalize().unwrap(), canon, "{l}");
            format!("{rest}\n")
        })
        .collect()
}

#[test]
fn adjust_runbook_forms() {
    let (_t, store) = fixture_copy("fixed");
    assert_eq!(
        changes(&adjust(&store, &["consumer", "0"]), &store),
        "consumer 34 -> 0\n"
    );
    assert_eq!(offset_value(&store, "consumer.offset"), 0);
    expect(&adjust(&store, &["consumer", "+1"]), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 17);
    expect(&adjust(&store, &["consumer", "-1"]), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 0);
    expect(&adjust(&store, &["consumer", "latest"]), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 85);
    expect(&adjust(&store, &["consumer", "earliest"]), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 0);

    let in_cwd = run_at(&store, &["adjust-offset", "consumer", "+2"]);
    assert_eq!(changes(&in_cwd, &store), "consumer 0 -> 34\n");
    let by_env = run_cmd(
        mfq()
            .args(["adjust-offset", "consumer", "+1"])
            .env("MFQ_STORE", &store),
        b"",
    );
    assert_eq!(changes(&by_env, &store), "consumer 34 -> 51\n");
    assert_eq!(offset_value(&store, "consumer.offset"), 51);
    // The store as the first of three words, the synonyms of earliest and latest.
    let positional = run(&["adjust-offset", arg(&store), "consumer", "beginning"]);
    assert_eq!(changes(&positional, &store), "consumer 51 -> 0\n");
    let positional = run(&["adjust-offset", arg(&store), "consumer", "end"]);
    assert_eq!(changes(&positional, &store), "consumer 0 -> 85\n");
    // The positional wins over -s and $MFQ_STORE (which need not be stores).
    let over = run_cmd(
        mfq()
            .args([
                "-s",
                "/nonexistent",
                "adjust-offset",
                arg(&store),
                "consumer",
                "-1",
            ])
            .env("MFQ_STORE", "/nonexistent"),
        b"",
    );
    assert_eq!(changes(&over, &store), "consumer 85 -> 68\n");
    assert_eq!(offset_value(&store, "consumer.offset"), 68);
}

#[test]
fn adjust_stream_walks_records_across_segments() {
    let (_t, store) = fixture_copy("stream");
    assert_eq!(
        changes(&adjust(&store, &["consumer", "+1"]), &store),
        "consumer 21 -> 50\n"
    );
    assert_eq!(
        changes(&adjust(&store, &["consumer", "+2"]), &store),
        "consumer 50 -> 75\n"
    );
    assert_eq!(
        changes(&adjust(&store, &["consumer", "-3"]), &store),
        "consumer 75 -> 21\n"
    );
    let out = adjust(&store, &["consumer", "+4"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains(
            "consumer (at 21) is 3 records from the end (offset 75); +4 goes past it; \
             use +3 or --clamp"
        ),
        "{}",
        stderr(&out)
    );
    let out = adjust(&store, &["consumer", "-3"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains(
            "consumer (at 21) is 2 records from the earliest record (offset 0); -3 goes past \
             it; use -2 or --clamp"
        ),
        "{}",
        stderr(&out)
    );
    assert_eq!(offset_value(&store, "consumer.offset"), 21);
}

#[test]
fn adjust_refuses_misaligned_and_out_of_range_offsets() {
    let (_t, store) = fixture_copy("fixed");
    let before = store_files(&store);
    let out = adjust(&store, &["consumer", "35"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("nearest boundaries: 34 and 51"),
        "{}",
        stderr(&out)
    );
    let out = adjust(&store, &["consumer", "86"]);
    expect(&out, 1);
    assert!(stderr(&out).contains("0..85"), "{}", stderr(&out));
    expect(&adjust(&store, &["consumer", "-3"]), 1);
    expect(&adjust(&store, &["producer", "119"]), 1);
    assert_eq!(store_files(&store), before);

    let (_t, store) = fixture_copy("stream");
    let out = adjust(&store, &["consumer", "22"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("nearest boundaries: 21 and 50"),
        "{}",
        stderr(&out)
    );
    assert_eq!(offset_value(&store, "consumer.offset"), 21);
}

#[test]
fn adjust_dry_run_changes_nothing() {
    let (_t, store) = fixture_copy("fixed");
    let before = store_files(&store);
    let out = adjust(&store, &["consumer", "0", "--dry-run"]);
    assert_eq!(changes(&out, &store), "consumer 34 -> 0\n");
    assert!(stderr(&out).contains("dry run"));
    assert_eq!(store_files(&store), before);
}

#[test]
fn adjust_refuses_a_held_file_unless_forced() {
    let (_t, store) = fixture_copy("fixed");
    let file = store.join("offset/consumer.offset");
    let held = hold_shared(&file);
    let out = adjust(&store, &["consumer", "0"]);
    expect(&out, 5);
    assert!(stderr(&out).contains("consumer.offset"), "{}", stderr(&out));
    assert_eq!(offset_value(&store, "consumer.offset"), 34);
    let out = adjust(&store, &["consumer", "0", "--force"]);
    expect(&out, 0);
    assert!(stderr(&out).contains("warning"), "{}", stderr(&out));
    assert_eq!(offset_value(&store, "consumer.offset"), 0);
    drop(held);

    // An mfq consumer holds its offset file with LOCK_EX.
    let s = mfq::queue::Store::open(&store, &Default::default()).unwrap();
    let live = s
        .consumer(
            &mfq::queue::ConsumerId::Default,
            mfq::queue::StartAt::Earliest,
        )
        .unwrap();
    expect(&adjust(&store, &["consumer", "+1"]), 5);
    assert_eq!(offset_value(&store, "consumer.offset"), 0);
    drop(live);
    expect(&once_released(|| adjust(&store, &["consumer", "+1"])), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 17);
}

#[test]
fn adjust_producer_rules() {
    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "producer.offset", 119);
    assert_eq!(
        changes(&adjust(&store, &["producer", "latest"]), &store),
        "producer 119 -> 85\n"
    );
    let out = adjust(&store, &["producer", "51"]);
    expect(&out, 1);
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(offset_value(&store, "producer.offset"), 85);
    let out = adjust(&store, &["producer", "51", "--force"]);
    assert_eq!(
        changes(&out, &store),
        "producer 85 -> 51\nconfirmed 68 -> 51\n"
    );
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 51);
}

#[test]
fn adjust_named_consumers() {
    let (_t, store) = fixture_copy("fixed");
    let out = adjust(&store, &["audit", "0"]);
    expect(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("known: consumer") && err.contains("audit 0 --create`"),
        "{err}"
    );
    assert!(!store.join("offset/consumer.audit.offset").exists());
    set_offset(&store, "consumer.audit.offset", 0);
    assert_eq!(
        changes(&adjust(&store, &["audit", "+3"]), &store),
        "consumer audit 0 -> 51\n"
    );
    assert_eq!(offset_value(&store, "consumer.audit.offset"), 51);
    assert_eq!(offset_value(&store, "consumer.offset"), 34);
    expect(&adjust(&store, &["bad/name", "0"]), 1);
}

#[test]
fn adjust_creates_a_missing_default_consumer_only_from_an_absolute_position() {
    let (_t, store) = fixture_copy("stream-tail4");
    std::fs::remove_file(store.join("offset/consumer.offset")).unwrap();
    let out = adjust(&store, &["consumer", "+1"]);
    expect(&out, 1);
    assert!(
        stderr(&out).contains("has no offset yet"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        changes(&adjust(&store, &["consumer", "60"]), &store),
        "consumer (none) -> 60 (created)\n"
    );
    assert_eq!(offset_value(&store, "consumer.offset"), 60);
    let json = expect(
        &adjust(&store, &["--json", "consumer", "-1", "--dry-run"]),
        0,
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["changes"][0]["from"], 60);
    assert_eq!(v["changes"][0]["to"], 0);
    assert_eq!(v["changed"], false);
    assert_eq!(offset_value(&store, "consumer.offset"), 60);
}
