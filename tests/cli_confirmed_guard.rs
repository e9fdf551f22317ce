//! Nothing below the confirmed offset is zeroed, cut or deleted without `--force` (issue #14,
//! "confirmed data destroyed"): zeros a crash left between intact confirmed records become a
//! recorded gap that readers step over; other damage there is refused (status 4, nothing
//! changed) until `recover --dry-run` has named the records and `recover --force` removes them
//! (saved aside). The producer's repair at open never removes confirmed bytes.
//!
//! This test owns the README's confirmed-offset guarantee, through the binary.

mod common;

use std::path::Path;

use common::bin::*;
use common::*;

/// Ten 16-byte fixed records (stride 17, 5 per segment: segments 0 and 85), all confirmed, and
/// the default consumer at `consumed`.
fn fixed_store(dir: &Path, consumed: usize) -> std::path::PathBuf {
    let store = dir.join("s");
    let input: String = (0..10).map(|i| format!("rec{i:013}\n")).collect();
    let args = with(&["produce", arg(&store)], &FIXED);
    expect(&run_in(&args, input.as_bytes()), 0);
    if consumed > 0 {
        let n = consumed.to_string();
        expect(&run_on(&store, &["consume", "-n", &n]), 0);
    }
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 170);
    store
}

fn drain(store: &Path) -> (String, String) {
    let out = run_on(store, &["consume", "-n", "all", "--output", "raw"]);
    expect(&out, 0);
    (stdout(&out), stderr(&out))
}

#[test]
fn zeros_a_crash_left_below_the_confirmed_offset_become_a_recorded_gap() {
    for consumed in [0, 1] {
        let dir = tempfile::tempdir().unwrap();
        let store = fixed_store(dir.path(), consumed);
        // Record 3 (offset 51) lost: a page of zeros between intact confirmed records.
        zero_range(&segment(&store, 0), 51, 68);
        let check = run_on(&store, &["recover", "--check"]);
        let text = expect(&check, 4);
        assert!(text.contains("zero gap 51..68"), "{text}");
        assert!(
            text.contains("records 68..170 after it are confirmed"),
            "{text}"
        );
        let before = store_files(&store);
        let text = expect(&run_on(&store, &["recover"]), 0);
        assert!(text.contains("record the gap 51..68"), "{text}");
        // Only mfq.gaps is new: no segment byte changed.
        let after = store_files(&store);
        for (name, bytes) in &before {
            if name.starts_with("commitlog") {
                assert_eq!(after.get(name), Some(bytes), "{name} changed");
            }
        }
        let (out, err) = drain(&store);
        let want: String = (consumed..10)
            .filter(|i| *i != 3)
            .map(|i| format!("rec{i:013}"))
            .collect();
        assert_eq!(out, want, "consumed {consumed}");
        assert!(
            err.contains("stepped over the recorded gap 51..68"),
            "{err}"
        );
        expect(&run_on(&store, &["recover", "--check"]), 0);
    }
}

#[test]
fn a_stream_gap_below_the_confirmed_offset_is_kept_and_dump_segment_steps_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    // a 0..6, bb 6..13, ccc 13..21, dddd 21..30, eeeee 30..40
    stream_store(&store, "1MiB", &["a", "bb", "ccc", "dddd", "eeeee"]);
    expect(&run_on(&store, &["consume", "-n", "1"]), 0);
    zero_range(&segment(&store, 0), 13, 30);
    let text = expect(&run_on(&store, &["recover"]), 0);
    assert!(text.contains("record the gap 13..30"), "{text}");
    expect(&run_in(&["produce", arg(&store)], b"NEW\n"), 0);
    let dump = run_on(&store, &["dump-segment", "--offset", "0"]);
    let out = expect(&dump, 0);
    assert!(
        out.contains("recorded gap: mfq's readers go on at offset 30"),
        "{out}"
    );
    assert!(out.contains("eeeee") && out.contains("NEW"), "{out}");
    assert!(
        stderr(&dump).contains("the recorded gap 13..30 crosses this segment"),
        "{}",
        stderr(&dump)
    );
    let (out, _) = drain(&store);
    assert_eq!(out, "bbeeeeeNEW");
}

#[test]
fn damage_below_the_confirmed_offset_is_removed_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path(), 1);
    // Record 3 torn (not zeros): the records after it cannot be stepped to with certainty.
    poke(&segment(&store, 0), 51, b"xxxxx");
    zero_range(&segment(&store, 0), 56, 68);
    let before = store_files(&store);
    let out = run_on(&store, &["recover"]);
    expect(&out, 4);
    let err = stderr(&out);
    assert!(err.contains("would remove confirmed messages"), "{err}");
    assert!(err.contains("bytes 51..170"), "{err}");
    assert!(
        err.contains("--dry-run") && err.contains("--force"),
        "{err}"
    );
    assert!(
        stdout(&out).contains("6 complete records"),
        "{}",
        stdout(&out)
    );
    assert_eq!(store_files(&store), before, "recover changed the store");
    let text = expect(&run_on(&store, &["recover", "--dry-run"]), 0);
    assert!(
        text.contains("removes confirmed messages: bytes 51..170") && text.contains("--force"),
        "{text}"
    );
    let json = expect(&run_on(&store, &["--json", "recover", "--dry-run"]), 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["plan"]["confirmed_loss"]["from"], 51, "{v}");
    assert_eq!(v["plan"]["confirmed_loss"]["records"], 6, "{v}");
    assert_eq!(store_files(&store), before, "--dry-run changed the store");
    let text = expect(&run_on(&store, &["recover", "--force"]), 0);
    assert!(text.contains("the store is now consistent"), "{text}");
    assert!(store.join("mfq-salvage").is_dir());
    let (out, _) = drain(&store);
    assert_eq!(out, "rec0000000000001rec0000000000002");
}

#[test]
fn the_producer_never_removes_confirmed_records_when_it_opens() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path(), 0);
    // A stale producer offset makes the producer's own repair scan from 102; record 7 (119)
    // is torn below the confirmed offset 170.
    set_offset(&store, "producer.offset", 102);
    poke(&segment(&store, 85), 34, b"xxxxx");
    zero_range(&segment(&store, 85), 39, 51);
    let before = store_files(&store);
    let out = run_in(&["produce", arg(&store)], b"rec0000000000010\n");
    expect(&out, 4);
    let err = stderr(&out);
    assert!(
        err.contains("would remove confirmed messages: bytes 119..170"),
        "{err}"
    );
    assert!(err.contains("mfq recover --dry-run"), "{err}");
    assert_eq!(
        store_files(&store),
        before,
        "the producer changed the store"
    );
}

/// Twenty 10-byte stream records (`msg10`..`msg29`) in 64-byte segments 0, 60, 120 and 180,
/// all confirmed, with no consumer file: a new default consumer starts at the earliest record,
/// so `recover` must look at all of them.
fn stream_store_without_consumer(dir: &Path) -> std::path::PathBuf {
    let store = dir.join("s");
    let input: String = (10..30).map(|i| format!("msg{i}\n")).collect();
    let args = with(&["produce", arg(&store)], &STREAM);
    expect(&run_in(&args, input.as_bytes()), 0);
    assert!(consumer_offset(&store, "consumer").is_none());
    store
}

#[test]
fn without_a_consumer_file_damage_below_the_confirmed_offset_is_still_found() {
    let all: Vec<String> = (10..30).map(|i| format!("msg{i}")).collect();
    // A whole record zeroed (msg12 at 20..30), and a whole middle segment file gone.
    type Damage = Box<dyn Fn(&Path)>;
    let cases: [(&str, Damage, std::ops::Range<usize>); 2] = [
        (
            "zeroed record",
            Box::new(|s: &Path| zero_range(&segment(s, 0), 20, 30)),
            2..3,
        ),
        (
            "missing segment",
            Box::new(|s: &Path| std::fs::remove_file(segment(s, 60)).unwrap()),
            6..12,
        ),
    ];
    for (what, damage, lost) in cases {
        let dir = tempfile::tempdir().unwrap();
        let store = stream_store_without_consumer(dir.path());
        damage(&store);
        expect(&run_on(&store, &["recover", "--check"]), 4);
        let text = expect(&run_on(&store, &["recover"]), 0);
        assert!(text.contains("record the gap"), "{what}: {text}");
        let out = run_on(&store, &["consume", "-n", "all"]);
        let got: Vec<String> = stdout(&out).lines().map(String::from).collect();
        let want: Vec<String> = all
            .iter()
            .enumerate()
            .filter(|(i, _)| !lost.contains(i))
            .map(|(_, m)| m.clone())
            .collect();
        assert_eq!(got, want, "{what}");
        assert!(
            stderr(&out).contains("stepped over the recorded gap"),
            "{what}"
        );
        expect(&run_on(&store, &["recover", "--check"]), 0);
    }
}

#[test]
fn offsets_far_past_every_file_are_brought_back_not_turned_into_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let store = fixed_store(dir.path(), 0);
    set_offset(&store, "producer.offset", 1_000_000_000_000_000);
    set_offset(&store, "producer.confirmed.offset", 1_000_000_000_000_000);
    expect(&run_on(&store, &["recover"]), 0);
    assert_eq!(offset_value(&store, "producer.offset"), 170);
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 170);
    assert!(!store.join("mfq.gaps").exists());
}
