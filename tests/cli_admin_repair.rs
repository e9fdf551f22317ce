//! `mfq prune` and `mfq recover` through the built binary, on copies of the golden .NET
//! stores and on copies damaged on purpose (the offsets and bytes of the README's table).
//!
//! This test owns the behaviour of those two subcommands; dump-segment and adjust-offset
//! are in tests/cli_admin.rs.

mod common;

use std::path::Path;

use common::bin::*;
use common::*;
use mfq::queue::{Format, Params, ParamsRequest, StartAt, Store};

/// Every record from the earliest one, read with the engine (explicit parameters).
fn drain(store: &Path) -> Vec<Vec<u8>> {
    let fixed = std::fs::metadata(segment_any(store)).unwrap().len() == 86;
    let req = ParamsRequest {
        format: Some(if fixed { Format::Fixed } else { Format::Stream }),
        record_size: fixed.then_some(16),
        segment_size: Some(if fixed { 100 } else { 64 }),
    };
    let s = Store::open(store, &req).unwrap();
    let mut o = s.observer(StartAt::Earliest).unwrap();
    let mut out = vec![];
    while let Some(r) = o.try_next().unwrap() {
        out.push(r.payload.to_vec());
    }
    out
}

fn segment_any(store: &Path) -> std::path::PathBuf {
    let mut e = std::fs::read_dir(store.join("commitlog")).unwrap();
    e.next().unwrap().unwrap().path()
}

/// `recover` with the fixture's explicit parameters.
fn recover(store: &Path, params: &[&str], extra: &[&str]) -> std::process::Output {
    run_on(store, &with(params, &with(&["recover"], extra)))
}

/// After a repair: `--check` passes and the records are the first `n` originals.
#[track_caller]
fn assert_healed(store: &Path, params: &[&str], originals: &[Vec<u8>], n: usize) {
    expect(&recover(store, params, &["--check"]), 0);
    assert_eq!(drain(store), originals[..n].to_vec());
}

fn fixed_messages(n: i32) -> Vec<Vec<u8>> {
    (0..n).map(fixed_message).collect()
}

#[test]
fn recover_check_passes_on_every_golden_store() {
    for name in ["fixed", "fixed-rollover", "stream", "stream-tail4"] {
        let (_t, store) = fixture_copy(name);
        let before = store_files(&store);
        let text = expect(&run_on(&store, &["recover", "--check"]), 0);
        assert!(text.contains("store "), "{name}: {text}");
        assert_eq!(store_files(&store), before, "{name}");
    }
}

#[test]
fn recover_check_exits_4_and_changes_nothing_on_damage() {
    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "producer.offset", 119);
    let before = store_files(&store);
    let text = expect(&recover(&store, &FIXED, &["--check"]), 4);
    assert!(text.contains("producer offset 119 is past"), "{text}");
    let json = expect(&recover(&store, &FIXED, &["--check", "--json"]), 4);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["needs_repair"], true);
    assert_eq!(v["report"]["issues"][0]["kind"], "producer_ahead");
    assert_eq!(v["plan"]["actions"][0]["action"], "set_producer");
    assert_eq!(store_files(&store), before);
    assert!(!store.join("mfq-salvage").exists());
}

#[test]
fn recover_dry_run_changes_nothing() {
    let (_t, a) = fixture_copy("fixed");
    poke(&segment(&a, 0), 84, &[0]);
    let (_t2, b) = fixture_copy("fixed-rollover");
    std::fs::remove_file(segment(&b, 0)).unwrap();
    let (_t3, c) = fixture_copy("stream");
    poke(&segment(&c, 50), 24, &[0]);
    for (store, params) in [(&a, &FIXED[..]), (&b, &FIXED[..]), (&c, &STREAM[..])] {
        let before = store_files(store);
        let text = expect(&recover(store, params, &["--dry-run"]), 0);
        assert!(text.contains("plan:") && text.contains("dry run"), "{text}");
        assert_eq!(store_files(store), before);
        assert!(!store.join("mfq-salvage").exists());
        expect(&recover(store, params, &["--check"]), 4);
    }
}

#[test]
fn recover_with_a_record_size_the_files_contradict_changes_nothing() {
    let (_t, store) = fixture_copy("fixed");
    let before = store_files(&store);
    let wrong = [
        "--format",
        "fixed",
        "--record-size",
        "4",
        "--segment-size",
        "85",
    ];
    for extra in [&["--dry-run"][..], &[], &["--force"]] {
        let err = stderr(&recover(&store, &wrong, extra));
        assert!(err.contains("the store has 16 bytes"), "{err}");
        assert_eq!(store_files(&store), before);
    }
    expect(&recover(&store, &wrong, &[]), 1);
    expect(&recover(&store, &FIXED, &["--check"]), 0);
}

/// A repair that empties the segments inference reads must not leave a store that no command
/// opens: the parameters go to `mfq.json`, and only then.
#[test]
fn recover_records_the_parameters_only_when_the_files_lose_them() {
    let (_t, a) = fixture_copy("fixed-rollover");
    set_len(&segment(&a, 0), 31);
    // Nothing past 34 is confirmed, so the repair may clear it (record 85 included) without
    // --force; with 102 confirmed, the zeros 34..85 would be a gap and record 85 kept.
    set_offset(&a, "producer.confirmed.offset", 34);
    let (_t2, b) = fixture_copy("stream");
    std::fs::write(segment(&b, 0), b"").unwrap();
    for store in [&a, &b] {
        let text = expect(&run_on(store, &["recover", "--no-save"]), 0);
        assert!(text.contains("recorded the parameters in"), "{text}");
        assert!(store.join("mfq.json").exists());
        expect(&run_on(store, &["recover", "--check"]), 0);
        expect(&run_on(store, &["stat"]), 0);
    }
    // Nothing to repair, but the files alone do not show the parameters given.
    let (_t4, d) = fixture_copy("fixed");
    set_len(&segment(&d, 0), 85);
    // Parameters the files cannot tell must be given: a usage error.
    expect(&recover(&d, &[], &["--check"]), 2);
    expect(&recover(&d, &FIXED, &["--dry-run"]), 0);
    assert!(!d.join("mfq.json").exists());
    let text = expect(&recover(&d, &FIXED, &[]), 0);
    assert!(text.contains("recorded the parameters in"), "{text}");
    expect(&recover(&d, &[], &["--check"]), 0);
    let (_t3, c) = fixture_copy("fixed");
    set_offset(&c, "producer.offset", 119);
    let text = expect(&run_on(&c, &["recover", "--no-save"]), 0);
    assert!(!text.contains("recorded the parameters"), "{text}");
    assert!(!c.join("mfq.json").exists());
}

/// Truncates or extends a file to `len` bytes.
fn set_len(path: &Path, len: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_len(len).unwrap();
}

fn grow(path: &Path, extra: &[u8]) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(extra).unwrap();
}

/// A segment file that grew (the .NET libraries cannot map it) neither decides the inferred
/// geometry nor blocks `recover`, which cuts it back and keeps the bytes it cut.
#[test]
fn recover_cuts_a_segment_file_that_grew() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let store = Store::create(&path, Params::fixed(16, 100).unwrap()).unwrap();
    produce_all(&store, &fixed_messages(14));
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    grow(&segment(&path, 85), &[1, 2, 3]);
    let text = expect(&run_on(&path, &["recover"]), 0);
    assert!(
        text.contains("cut segment 00000000000000000085 from 89 to 86 bytes"),
        "{text}"
    );
    assert_eq!(std::fs::metadata(segment(&path, 85)).unwrap().len(), 86);
    let salvage = std::fs::read_dir(path.join("mfq-salvage")).unwrap();
    let stamp = salvage.into_iter().next().unwrap().unwrap().path();
    let cut = std::fs::read(stamp.join("00000000000000000085.beyond-86")).unwrap();
    assert_eq!(cut, [1, 2, 3]);
    assert_eq!(drain(&path), fixed_messages(14));
    assert!(!path.join("mfq.json").exists());
}

/// The .NET stream library extends old files when its SegmentSize grows (spec §10 SQ-10): a
/// longer stream file shows the current size and is never cut, even when told a smaller one.
#[test]
fn a_stream_file_extended_by_a_larger_segment_size_is_kept() {
    let (_t, store) = fixture_copy("stream");
    set_len(&segment(&store, 50), 128);
    let before = store_files(&store);
    let text = expect(&recover(&store, &[], &["--check"]), 0);
    assert!(text.contains("segment size 128"), "{text}");
    // Told the smaller size, recover still leaves the longer file whole.
    let text = expect(&recover(&store, &STREAM, &[]), 0);
    assert!(
        text.contains("is 128 bytes, expected 64 (left as it is)"),
        "{text}"
    );
    assert_eq!(store_files(&store), before);
    let out = expect(&run_on(&store, &["consume", "--peek", "-n", "all"]), 0);
    let want: Vec<String> = stream_messages()[2..]
        .iter()
        .map(|m| String::from_utf8(m.clone()).unwrap())
        .collect();
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
}

/// A stray byte after a 0xEE segment end: readers take the 0xEE as the end because the next
/// file starts there, so recover must too, and keep that file's records.
#[test]
fn recover_keeps_the_segment_after_a_marked_end_with_stray_bytes() {
    let (_t, store) = fixture_copy("stream");
    poke(&segment(&store, 0), 55, &[0x80]);
    let before = store_files(&store);
    let text = expect(&recover(&store, &[], &[]), 0);
    assert!(
        text.contains("after the segment-end marker at offset 50"),
        "{text}"
    );
    assert!(text.contains("nothing to repair"), "{text}");
    assert_eq!(store_files(&store), before);
    assert_eq!(drain(&store), stream_messages());
}

/// Two consumers past a new data end: the producer stays at the furthest (policy 2), and the
/// other, which would wait on the zeros of the gap forever, moves to the gap's far side.
#[test]
fn recover_moves_a_consumer_out_of_the_gap_it_leaves() {
    let (_t, store) = fixture_copy("stream");
    set_offset(&store, "consumer.audit.offset", 21);
    set_offset(&store, "consumer.offset", 50);
    set_len(&segment(&store, 0), 15);
    let text = expect(&recover(&store, &[], &["--no-save"]), 0);
    assert!(
        text.contains("move consumer audit 21 -> 50 (records 21..50 are gone)"),
        "{text}"
    );
    assert_eq!(offset_value(&store, "consumer.audit.offset"), 50);
    expect(&run_on(&store, &["produce", "-m", "new"]), 0);
    let out = expect(
        &run_on(&store, &["consume", "--consumer", "audit", "-n", "all"]),
        0,
    );
    assert_eq!(out, "new\n");
}

/// A folder named as the segment where the data goes on blocks readers and the producer;
/// recover cannot repair it in place, and says so (status 4) instead of calling the store
/// consistent. Once it is moved away, recover finishes.
#[test]
fn recover_names_a_folder_where_the_data_goes_on() {
    let (_t, store) = fixture_copy("fixed-rollover");
    std::fs::remove_file(segment(&store, 85)).unwrap();
    std::fs::create_dir(segment(&store, 85)).unwrap();
    let before = store_files(&store);
    let out = recover(&store, &[], &["--no-save"]);
    let text = expect(&out, 4);
    assert!(text.contains("move it out of commitlog/"), "{text}");
    assert!(stderr(&out).contains("nothing changed"), "{}", stderr(&out));
    assert_eq!(
        store_files(&store),
        before,
        "offsets moved around the folder"
    );
    let json = expect(&recover(&store, &[], &["--json"]), 4);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["needs_repair"], true);
    assert_eq!(store_files(&store), before);
    let check = expect(&recover(&store, &[], &["--check"]), 4);
    let about = check.lines().filter(|l| l.contains("00000000000000000085"));
    assert_eq!(about.count(), 1, "one issue for the folder: {check}");
    std::fs::remove_dir(segment(&store, 85)).unwrap();
    expect(&recover(&store, &[], &["--no-save"]), 0);
    expect(&recover(&store, &[], &["--check"]), 0);
}

/// A consumer inside a zero gap an earlier repair left (the scan steps over the gap, so the
/// data end lies past it) moves to the gap's far side too.
#[test]
fn recover_moves_a_consumer_out_of_an_earlier_gap() {
    let (_t, store) = fixture_copy("stream-tail4");
    set_offset(&store, "producer.offset", 100);
    set_offset(&store, "consumer.offset", 76);
    set_offset(&store, "consumer.audit.offset", 72);
    let text = expect(&recover(&store, &[], &["--check"]), 4);
    assert!(text.contains("inside the zero gap 68..76"), "{text}");
    let text = expect(&recover(&store, &[], &["--no-save"]), 0);
    assert!(text.contains("move consumer audit 72 -> 76"), "{text}");
    expect(&recover(&store, &[], &["--check"]), 0);
    expect(&run_on(&store, &["produce", "-m", "new"]), 0);
    let out = expect(
        &run_on(&store, &["consume", "--consumer", "audit", "-n", "all"]),
        0,
    );
    assert_eq!(out, "new\n");
}

/// Two repairs in the same second keep both sets of saved bytes, and a reused --save-to
/// folder is never written over: the repair stops before changing anything.
#[test]
fn saved_bytes_are_never_overwritten() {
    let (_t, store) = fixture_copy("fixed-rollover");
    for extra in [b"AAAA", b"BBBB"] {
        grow(&segment(&store, 85), extra);
        expect(&recover(&store, &FIXED, &[]), 0);
    }
    let mut saved: Vec<Vec<u8>> = std::fs::read_dir(store.join("mfq-salvage"))
        .unwrap()
        .map(|d| std::fs::read(d.unwrap().path().join("00000000000000000085.beyond-86")).unwrap())
        .collect();
    saved.sort();
    assert_eq!(saved, [b"AAAA".to_vec(), b"BBBB".to_vec()]);
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().to_str().unwrap();
    grow(&segment(&store, 85), b"CCCC");
    expect(&recover(&store, &FIXED, &["--save-to", to]), 0);
    grow(&segment(&store, 85), b"DDDD");
    let before = store_files(&store);
    let out = recover(&store, &FIXED, &["--save-to", to]);
    expect(&out, 1);
    assert!(stderr(&out).contains("cannot create"), "{}", stderr(&out));
    assert_eq!(store_files(&store), before);
    let kept = std::fs::read(dir.path().join("00000000000000000085.beyond-86")).unwrap();
    assert_eq!(kept, b"CCCC");
}

/// Damage below every consumer is not needed for delivery and recover leaves it, but a reader
/// from the beginning stops there: a full inspection says so, as a warning.
#[test]
fn damage_below_every_consumer_is_reported_and_left_alone() {
    let (_t, store) = fixture_copy("fixed");
    poke(&segment(&store, 0), 16, &[0xDF]);
    let before = store_files(&store);
    let text = expect(&recover(&store, &[], &["--check"]), 0);
    assert!(
        text.contains("bad marker at offset 0, below every consumer"),
        "{text}"
    );
    let json = expect(&recover(&store, &[], &["--check", "--json"]), 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["report"]["issues"][0]["kind"], "damage_below_consumers");
    assert_eq!(v["report"]["issues"][0]["severity"], "warning");
    expect(&recover(&store, &[], &[]), 0);
    assert_eq!(store_files(&store), before);
}

/// With one segment there is no majority: explicit parameters open it when only zeros lie past
/// their length, never when data does (that is a wrong `--segment-size`).
#[test]
fn recover_with_explicit_parameters_cuts_a_lone_grown_file_of_zeros() {
    let (_t, a) = fixture_copy("fixed");
    grow(&segment(&a, 0), &[0]);
    let err = stderr(&recover(&a, &[], &["--dry-run"]));
    assert!(err.contains("cannot infer"), "{err}");
    let text = expect(&recover(&a, &FIXED, &[]), 0);
    assert!(text.contains("from 87 to 86 bytes"), "{text}");
    expect(&recover(&a, &[], &["--check"]), 0);
    let (_t2, b) = fixture_copy("fixed");
    grow(&segment(&b, 0), &[7]);
    let before = store_files(&b);
    let err = stderr(&recover(&b, &FIXED, &[]));
    assert!(err.contains("no file of 86"), "{err}");
    assert_eq!(store_files(&b), before);
}

/// A fixed segment off the grid of the others is named, with what to do.
#[test]
fn an_odd_segment_name_is_named_with_what_to_do() {
    let (_t, store) = fixture_copy("fixed-rollover");
    std::fs::copy(
        segment(&store, 85),
        store.join("commitlog/00000000000000000100"),
    )
    .unwrap();
    let err = stderr(&recover(&store, &FIXED, &["--dry-run"]));
    assert!(
        err.contains("00000000000000000100 does not fit the store")
            && err.contains("move it out of commitlog/"),
        "{err}"
    );
}

/// A FIFO or a folder where an offset file belongs: recover stops before changing anything
/// (writing to the FIFO would block; the folder would fail halfway), and says what to do.
#[test]
fn recover_changes_nothing_when_an_offset_file_is_not_a_file() {
    for fifo in [true, false] {
        let (_t, store) = fixture_copy("fixed-rollover");
        let consumer = store.join("offset/consumer.offset");
        std::fs::remove_file(&consumer).unwrap();
        if fifo {
            let made = std::process::Command::new("mkfifo").arg(&consumer).status();
            if !made.is_ok_and(|s| s.success()) {
                eprintln!("mkfifo is not available; the folder case still runs");
                continue;
            }
        } else {
            std::fs::create_dir(&consumer).unwrap();
        }
        poke(&segment(&store, 85), 16, &[0]);
        let before = store_files(&store);
        let out = run_on(&store, &["recover"]);
        expect(&out, 1);
        let err = stderr(&out);
        assert!(err.contains("not a regular file"), "{err}");
        assert!(err.contains("move it out of the store"), "{err}");
        assert_eq!(store_files(&store), before);
        assert!(!store.join("mfq-salvage").exists());
    }
}

#[test]
fn recover_producer_ahead_of_the_data() {
    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "producer.offset", 119);
    let text = expect(&recover(&store, &FIXED, &[]), 0);
    assert!(text.contains("set producer offset 119 -> 85"), "{text}");
    assert!(text.contains("now consistent"), "{text}");
    assert_eq!(offset_value(&store, "producer.offset"), 85);
    assert_healed(&store, &FIXED, &fixed_messages(5), 5);
}

#[test]
fn recover_saves_stale_records_aside() {
    let (_t, store) = fixture_copy("fixed");
    let seg = segment(&store, 0);
    poke(&seg, 51, &[0; 17]);
    let damaged = std::fs::read(&seg).unwrap();
    let text = expect(&recover(&store, &FIXED, &[]), 0);
    assert!(
        text.contains(
            "zero positions 51..86 of 00000000000000000000 (1 stale record; non-zero bytes saved under"
        ),
        "{text}"
    );
    let runs: Vec<_> = std::fs::read_dir(store.join("mfq-salvage"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 1);
    let saved = runs[0]
        .as_ref()
        .unwrap()
        .path()
        .join("00000000000000000000.from-68");
    // Only the non-zero span is saved, named by where it begins (51..68 is zeros now).
    let last = damaged[..86].iter().rposition(|b| *b != 0).unwrap();
    assert_eq!(std::fs::read(&saved).unwrap(), damaged[68..=last].to_vec());
    assert!(text.contains(&saved.display().to_string()), "{text}");
    assert!(std::fs::read(&seg).unwrap()[51..].iter().all(|b| *b == 0));
    assert_eq!(offset_value(&store, "producer.offset"), 51);
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 51);
    assert_healed(&store, &FIXED, &fixed_messages(5), 3);
}

#[test]
fn recover_torn_records() {
    let (_t, store) = fixture_copy("fixed");
    poke(&segment(&store, 0), 84, &[0]);
    expect(&recover(&store, &FIXED, &[]), 0);
    assert_eq!(offset_value(&store, "producer.offset"), 68);
    assert_healed(&store, &FIXED, &fixed_messages(5), 4);

    let (_t, store) = fixture_copy("stream");
    poke(&segment(&store, 50), 24, &[0]);
    let text = expect(&recover(&store, &STREAM, &[]), 0);
    assert!(text.contains("set producer offset 75 -> 67"), "{text}");
    assert_healed(&store, &STREAM, &stream_messages(), 4);
}

#[test]
fn recover_confirmed_ahead_and_misaligned_consumers() {
    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "producer.confirmed.offset", 102);
    set_offset(&store, "consumer.offset", 40);
    let text = expect(&recover(&store, &FIXED, &[]), 0);
    assert!(text.contains("set confirmed offset 102 -> 85"), "{text}");
    assert!(text.contains("move consumer 40 -> 34"), "{text}");
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 85);
    assert_eq!(offset_value(&store, "consumer.offset"), 34);
    assert_healed(&store, &FIXED, &fixed_messages(5), 5);

    let (_t, store) = fixture_copy("stream");
    set_offset(&store, "consumer.offset", 22);
    expect(&recover(&store, &STREAM, &[]), 0);
    assert_eq!(offset_value(&store, "consumer.offset"), 21);
    assert_healed(&store, &STREAM, &stream_messages(), 5);
}

#[test]
fn recover_consumers_in_a_deleted_segment() {
    let (_t, store) = fixture_copy("fixed-rollover");
    std::fs::remove_file(segment(&store, 0)).unwrap();
    set_offset(&store, "consumer.audit.offset", 0);
    let text = expect(&recover(&store, &FIXED, &[]), 0);
    assert!(
        text.contains("move consumer 34 -> 85 (records 34..85 are gone)"),
        "{text}"
    );
    assert!(
        text.contains("move consumer audit 0 -> 85 (records 0..85 are gone)"),
        "{text}"
    );
    assert_eq!(offset_value(&store, "consumer.offset"), 85);
    assert_eq!(offset_value(&store, "consumer.audit.offset"), 85);
    expect(&recover(&store, &FIXED, &["--check"]), 0);
    assert_eq!(drain(&store), vec![fixed_message(5)]);
}

#[test]
fn recover_offset_files_of_wrong_length() {
    for len in [0usize, 7, 9] {
        for name in [
            "producer.offset",
            "producer.confirmed.offset",
            "consumer.offset",
        ] {
            let (_t, store) = fixture_copy("fixed");
            let path = store.join("offset").join(name);
            let mut bytes = std::fs::read(&path).unwrap();
            bytes.resize(len, 0x01);
            std::fs::write(&path, &bytes).unwrap();
            expect(&recover(&store, &FIXED, &["--check"]), 4);
            expect(&recover(&store, &FIXED, &[]), 0);
            for f in std::fs::read_dir(store.join("offset")).unwrap() {
                let f = f.unwrap().path();
                assert_eq!(
                    std::fs::metadata(&f).unwrap().len(),
                    8,
                    "{name} {len}: {f:?}"
                );
            }
            assert_healed(&store, &FIXED, &fixed_messages(5), 5);
        }
    }
}

#[test]
fn recover_refuses_held_files_unless_forced() {
    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "producer.offset", 119);
    let held = hold_shared(&store.join("offset/producer.offset"));
    let out = recover(&store, &FIXED, &[]);
    expect(&out, 5);
    assert!(stderr(&out).contains("producer.offset"), "{}", stderr(&out));
    assert_eq!(offset_value(&store, "producer.offset"), 119);
    expect(&recover(&store, &FIXED, &["--dry-run"]), 0);
    expect(&recover(&store, &FIXED, &["--force"]), 0);
    assert_eq!(offset_value(&store, "producer.offset"), 85);
    drop(held);
}

#[test]
fn recover_save_options_and_json() {
    let (t, store) = fixture_copy("fixed");
    poke(&segment(&store, 0), 84, &[0]);
    let text = expect(&recover(&store, &FIXED, &["--no-save"]), 0);
    assert!(text.contains("not saved"), "{text}");
    assert!(!store.join("mfq-salvage").exists());

    let (_t2, store) = fixture_copy("fixed");
    poke(&segment(&store, 0), 84, &[0]);
    let damaged = std::fs::read(segment(&store, 0)).unwrap();
    let last = damaged[..86].iter().rposition(|b| *b != 0).unwrap();
    let dir = t.path().join("saved");
    let d = dir.to_str().unwrap();
    let json = expect(&recover(&store, &FIXED, &["--save-to", d, "--json"]), 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["report"]["data_end"], 68);
    assert_eq!(v["plan"]["producer_offset"], 68);
    assert_eq!(v["applied"]["actions"], 2);
    let saved = dir.join("00000000000000000000.from-68");
    assert_eq!(v["applied"]["saved"][0], saved.to_str().unwrap());
    assert_eq!(std::fs::read(&saved).unwrap(), damaged[68..=last].to_vec());
    assert_eq!(v["after"]["needs_repair"], false);
}

fn prune(store: &Path, args: &[&str]) -> std::process::Output {
    run_on(store, &with(&["prune"], args))
}

#[test]
fn prune_dry_run_and_bytes_freed() {
    let (_t, store) = fixture_copy("fixed-rollover");
    set_offset(&store, "consumer.offset", 85);
    let before = store_files(&store);
    let text = expect(&prune(&store, &["--before", "85", "--dry-run"]), 0);
    assert!(text.contains("would delete 00000000000000000000"), "{text}");
    assert!(text.contains("freeing 86 bytes"), "{text}");
    assert_eq!(store_files(&store), before);

    let text = expect(&prune(&store, &["--before", "consumed"]), 0);
    assert!(
        text.contains("deleted 1 segment(s), freed 86 bytes"),
        "{text}"
    );
    assert!(!segment(&store, 0).exists() && segment(&store, 85).exists());
    expect(&run_on(&store, &["recover", "--check"]), 0);
}

#[test]
fn prune_is_bounded_by_the_slowest_consumer() {
    let (_t, store) = fixture_copy("fixed-rollover");
    // It deleted less than asked: status 6, naming the consumer and the next steps.
    let out = prune(&store, &["--before", "85"]);
    let text = expect(&out, 6);
    assert!(text.contains("the consumer at 34"), "{text}");
    let err = stderr(&out);
    assert!(err.contains("deleted 0 of 1 segment(s)"), "{err}");
    assert!(err.contains("the consumer at 34"), "{err}");
    assert!(
        err.contains("adjust-offset") && err.contains("--force"),
        "{err}"
    );
    assert!(segment(&store, 0).exists());

    set_offset(&store, "consumer.offset", 102);
    set_offset(&store, "consumer.audit.offset", 34);
    let text = expect(&prune(&store, &["--before", "consumed"]), 0);
    assert!(text.contains("no segment lies wholly before 34"), "{text}");
    let out = prune(&store, &["--before", "85"]);
    let text = expect(&out, 6);
    assert!(text.contains("consumer audit at 34"), "{text}");
    assert!(
        stderr(&out).contains("consumer audit at 34"),
        "{}",
        stderr(&out)
    );
    assert!(segment(&store, 0).exists());
    let json = expect(&prune(&store, &["--before", "85", "--force", "--json"]), 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["bytes_freed"], 86);
    assert!(!segment(&store, 0).exists());
}

#[test]
fn prune_keeps_the_producer_segment_and_the_last_one() {
    let (_t, store) = fixture_copy("fixed-rollover");
    set_offset(&store, "consumer.offset", 102);
    set_offset(&store, "producer.offset", 68);
    let out = prune(&store, &["--before", "85"]);
    let text = expect(&out, 6);
    assert!(text.contains("producer offset 68"), "{text}");
    assert!(
        stderr(&out).contains("producer offset 68"),
        "{}",
        stderr(&out)
    );
    assert!(segment(&store, 0).exists());

    let (_t, store) = fixture_copy("fixed");
    set_offset(&store, "consumer.offset", 85);
    let text = expect(&prune(&store, &["--before", "85", "--force"]), 0);
    assert!(text.contains("the last segment always stays"), "{text}");
    assert!(segment(&store, 0).exists());
}

#[test]
fn prune_stream_store() {
    let (_t, store) = fixture_copy("stream");
    expect(&prune(&store, &["--before", "consumed"]), 0);
    assert!(segment(&store, 0).exists());
    set_offset(&store, "consumer.offset", 50);
    let text = expect(&prune(&store, &["--before", "consumed"]), 0);
    assert!(text.contains("freed 64 bytes"), "{text}");
    assert!(!segment(&store, 0).exists());
    assert_eq!(drain(&store), stream_messages()[3..].to_vec());
}

#[test]
fn prune_never_deletes_a_held_segment() {
    let (_t, store) = fixture_copy("fixed-rollover");
    set_offset(&store, "consumer.offset", 85);
    let held = hold_shared(&segment(&store, 0));
    // The dry run predicts the same: the held segment stays, status 5.
    let out = prune(&store, &["--before", "consumed", "--dry-run"]);
    let text = expect(&out, 5);
    assert!(
        text.contains("would skip (held by a live process) 0000"),
        "{text}"
    );
    let out = prune(&store, &["--before", "consumed"]);
    let text = expect(&out, 5);
    assert!(
        text.contains("skipped (held by a live process) 0000"),
        "{text}"
    );
    // The holder is this test process: its pid is named.
    let err = stderr(&out);
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    assert!(err.contains("00000000000000000000 is held by"), "{err}");
    assert!(segment(&store, 0).exists());
    expect(&prune(&store, &["--before", "consumed", "--force"]), 5);
    assert!(
        segment(&store, 0).exists(),
        "--force must not delete a held segment"
    );
    drop(held);
    expect(
        &once_released(|| prune(&store, &["--before", "consumed"])),
        0,
    );
    assert!(!segment(&store, 0).exists());
}

#[test]
fn prune_consumed_counts_a_missing_default_consumer_at_0() {
    let (_t, store) = fixture_copy("fixed");
    std::fs::remove_file(store.join("offset/consumer.offset")).unwrap();
    let before = store_files(&store);
    // A .NET consumer would start at 0: nothing lies before it.
    let out = prune(&store, &["--before", "consumed"]);
    let text = expect(&out, 0);
    assert!(text.contains("deleted 0 segment(s)"), "{text}");
    assert_eq!(store_files(&store), before);
}
