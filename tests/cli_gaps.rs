//! Gaps that recovery leaves on purpose (policy 2) are recorded in `mfq.gaps` and never taken
//! for the end of the data by a later run: the repros of the data-loss defects in which a
//! second repair deleted or zeroed confirmed records written after such a gap.
//!
//! This test owns the gap promises of the README's recovery policy, through the binary.

mod common;

use std::path::Path;

use common::bin::*;
use common::*;

/// What the consumer `far` reads and commits now.
fn far_reads(store: &Path) -> String {
    let args = [
        "consume",
        "--consumer",
        "far",
        "-n",
        "all",
        "--output",
        "raw",
    ];
    mfq_ok(store, &args)
}

fn mfq_ok(store: &Path, args: &[&str]) -> String {
    let out = run(&with(args, &[arg(store)]));
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    stdout(&out)
}

/// The fixed repro: a crash lost records a consumer had read; the repair moved the producer
/// up to that consumer; records produced and confirmed after the gap survive every later
/// repair, and the consumer reads them.
#[test]
fn confirmed_fixed_records_after_a_repaired_gap_survive_later_repairs() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let records: Vec<u8> = (0..10u8).flat_map(|i| [b'a' + i; 16]).collect();
    let fmt = FIXED;
    let out = run_in(
        &with(&fmt, &["produce", "--input", "raw", arg(&store)]),
        &records,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    mfq_ok(&store, &["consume", "-n", "1"]);
    mfq_ok(&store, &["consume", "--consumer", "far", "-n", "all"]);
    zero_range(&segment(&store, 85), 34, 85);
    set_offset(&store, "producer.confirmed.offset", 119);
    mfq_ok(&store, &["recover"]);
    assert!(store.join("mfq.gaps").is_file(), "the gap is recorded");
    mfq_ok(&store, &["produce", "-m", &"A".repeat(16)]);
    let far = far_reads(&store);
    assert_eq!(far, "A".repeat(16));
    mfq_ok(&store, &["produce", "-m", &"B".repeat(16)]);
    assert_eq!(offset_value(&store, "producer.confirmed.offset"), 204);
    let check = run(&with(&["recover", "--check"], &[arg(&store)]));
    assert_eq!(check.status.code(), Some(0), "{}", stdout(&check));
    assert!(
        stdout(&check).contains("recorded gap 119..170"),
        "{}",
        stdout(&check)
    );
    mfq_ok(&store, &["recover"]);
    assert!(
        segment(&store, 170).is_file(),
        "the segment after the gap stays"
    );
    assert_eq!(offset_value(&store, "producer.offset"), 204);
    let far = far_reads(&store);
    assert_eq!(far, "B".repeat(16), "far reads B");
}

/// The stream repro: the records of a consumed store are zeroed by a crash; a new record
/// produced and confirmed after the gap survives a later repair, and a reader from the
/// beginning steps over the gap (saying so) instead of stopping at it.
#[test]
fn a_confirmed_stream_record_after_a_gap_survives_and_readers_step_over_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let out = run(&[
        "produce",
        "--format",
        "stream",
        "--segment-size",
        "1MiB",
        arg(&store),
        "-m",
        "a",
        "-m",
        "b",
        "-m",
        "c",
        "-m",
        "d",
        "-m",
        "e",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    mfq_ok(&store, &["consume", "-n", "all"]);
    zero_range(&segment(&store, 0), 12, 30);
    set_offset(&store, "producer.confirmed.offset", 12);
    // The gap is not recorded yet: the check says a repair is needed, and the repair records it.
    let check = run(&with(&["recover", "--check"], &[arg(&store)]));
    assert_eq!(check.status.code(), Some(4), "{}", stdout(&check));
    assert!(stdout(&check).contains("12..30"), "{}", stdout(&check));
    mfq_ok(&store, &["recover"]);
    mfq_ok(&store, &["produce", "-m", "NEW"]);
    let confirmed = offset_value(&store, "producer.confirmed.offset");
    assert_eq!(confirmed, 38);
    mfq_ok(&store, &["recover"]);
    assert_eq!(offset_value(&store, "producer.offset"), 38, "NEW is kept");
    let out = run(&[
        "tail",
        "--from",
        "beginning",
        "-e",
        "--output",
        "raw",
        arg(&store),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "abNEW");
    assert!(
        stderr(&out).contains("stepped over the recorded gap 12..30"),
        "{}",
        stderr(&out)
    );
    let stat = mfq_ok(&store, &["stat"]);
    assert!(stat.contains("recorded gap 12..30"), "{stat}");
}
