//! Issue #14 (9): a stream store holding .NET's empty record (`00 00 00 00 FF`, the bytes
//! .NET's producer writes for an empty payload). It is a valid record: inference, readers
//! (consumer, tail, dump-segment) and repair (`recover`, the producer's repair at open) read it
//! and keep every record after it, never take it for a torn tail.
//!
//! Two stores built byte for byte as .NET writes them, and the real .NET store from
//! `tests/fixtures/dotnet-real/stream-empty-record` (copied from the shared fixtures).

mod common;

use std::path::{Path, PathBuf};

use common::bin::*;
use common::copy_tree;
use mfq::queue::{ParamsRequest, StartAt, Store};

/// Records `a`, ``, `b`, `c` in one 64-byte segment (as .NET writes them); producer at 23.
fn store_abc(dir: &Path) -> PathBuf {
    let root = dir.join("abc");
    let mut seg = vec![0u8; 64];
    let records: &[u8] = &[
        1, 0, 0, 0, b'a', 0xFF, // a @0
        0, 0, 0, 0, 0xFF, // "" @6
        1, 0, 0, 0, b'b', 0xFF, // b @11
        1, 0, 0, 0, b'c', 0xFF, // c @17
    ];
    seg[..records.len()].copy_from_slice(records);
    write_store(&root, &[(0, seg)], 23);
    root
}

/// Segment size 16, as .NET fills it: `a` @0, `` @6, `` @11 (in the 5-byte tail, which gets
/// no 0xEE: the record fills the file), then `` @16 at position 0 of the next segment, `b`
/// @21, a 5-byte zero tail (too short for `c`, and for a 0xEE), and `c` @27 in a third file.
fn store_tails(dir: &Path) -> PathBuf {
    let root = dir.join("tails");
    let s0 = [1, 0, 0, 0, b'a', 0xFF, 0, 0, 0, 0, 0xFF, 0, 0, 0, 0, 0xFF].to_vec();
    let s16 = [0, 0, 0, 0, 0xFF, 1, 0, 0, 0, b'b', 0xFF, 0, 0, 0, 0, 0].to_vec();
    let mut s27 = vec![0u8; 16];
    s27[..6].copy_from_slice(&[1, 0, 0, 0, b'c', 0xFF]);
    write_store(&root, &[(0, s0), (16, s16), (27, s27)], 33);
    root
}

fn write_store(root: &Path, segs: &[(u64, Vec<u8>)], producer: u64) {
    std::fs::create_dir_all(root.join("commitlog")).unwrap();
    std::fs::create_dir_all(root.join("offset")).unwrap();
    for (start, bytes) in segs {
        std::fs::write(root.join(format!("commitlog/{start:020}")), bytes).unwrap();
    }
    std::fs::write(root.join("offset/producer.offset"), producer.to_le_bytes()).unwrap();
}

/// The real .NET store: `x` @0, `` @6, `y` @11.
fn dotnet_store(dir: &Path) -> PathBuf {
    let root = dir.join("dotnet");
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dotnet-real/stream-empty-record/store");
    copy_tree(&from, &root);
    root
}

/// (offset, payload) of every record an observer reads from the earliest one.
fn read_all(root: &Path, req: &ParamsRequest) -> Vec<(u64, Vec<u8>)> {
    let store = Store::open(root, req).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    let mut out = Vec::new();
    while let Some(r) = obs.try_next().unwrap() {
        let r = r.to_owned();
        out.push((r.offset, r.payload));
        assert!(out.len() < 100, "runaway read");
    }
    out
}

fn recs(list: &[(u64, &str)]) -> Vec<(u64, Vec<u8>)> {
    list.iter()
        .map(|(o, p)| (*o, p.as_bytes().to_vec()))
        .collect()
}

fn abc() -> Vec<(u64, Vec<u8>)> {
    recs(&[(0, "a"), (6, ""), (11, "b"), (17, "c")])
}

fn tails() -> Vec<(u64, Vec<u8>)> {
    recs(&[(0, "a"), (6, ""), (11, ""), (16, ""), (21, "b"), (27, "c")])
}

fn dotnet() -> Vec<(u64, Vec<u8>)> {
    recs(&[(0, "x"), (6, ""), (11, "y")])
}

/// `offset` and the payload text of each line of `--output json`.
fn json_records(out: &str) -> Vec<(u64, Vec<u8>)> {
    out.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let text = v["payload"]["text"].as_str().expect("a text payload");
            (v["offset"].as_u64().unwrap(), text.as_bytes().to_vec())
        })
        .collect()
}

#[test]
fn empty_record_store_is_inferred_without_parameters() {
    let dir = tempfile::tempdir().unwrap();
    for (root, want) in [
        (store_abc(dir.path()), abc()),
        (store_tails(dir.path()), tails()),
        (dotnet_store(dir.path()), dotnet()),
    ] {
        let store = Store::open(&root, &ParamsRequest::default())
            .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
        assert_eq!(store.params().record_size(), None, "{}", root.display());
        assert_eq!(read_all(&root, &ParamsRequest::default()), want);
    }
    // The same through the binary: stat infers, exit 0.
    let root = store_tails(&dir.path().join("bin"));
    let text = expect(&run(&["stat", arg(&root)]), 0);
    assert!(
        text.contains("stream") && text.contains("inferred"),
        "{text}"
    );
}

#[test]
fn empty_record_is_read_by_consume_tail_and_dump_segment() {
    let dir = tempfile::tempdir().unwrap();
    for (root, want) in [
        (store_abc(dir.path()), abc()),
        (store_tails(dir.path()), tails()),
        (dotnet_store(dir.path()), dotnet()),
    ] {
        let tail = ok(&run(&[
            "tail",
            arg(&root),
            "--from",
            "beginning",
            "-e",
            "--output",
            "json",
        ]));
        assert_eq!(json_records(&text(&tail)), want, "tail {}", root.display());
        let got = ok(&run(&[
            "consume",
            arg(&root),
            "-n",
            "all",
            "--output",
            "json",
        ]));
        assert_eq!(
            json_records(&text(&got)),
            want,
            "consume {}",
            root.display()
        );
        // The consumer moved past every record, the last empty one included.
        let end = want.last().map(|(o, p)| o + p.len() as u64 + 5).unwrap();
        assert_eq!(common::consumer_offset(&root, "consumer.offset"), Some(end));
        expect(&run(&["consume", arg(&root)]), 3);
    }
    // dump-segment: every record ok, nothing damaged (exit 0), the empty ones shown.
    let root = store_tails(&dir.path().join("dump"));
    for (start, ok_records) in [(0u64, 3u64), (16, 2), (27, 1)] {
        let seg = root.join(format!("commitlog/{start:020}"));
        let out = expect(&run(&["--json", "dump-segment", arg(&seg)]), 0);
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(v["summary"]["records_ok"], ok_records, "{out}");
        assert_eq!(v["summary"]["damaged"], 0, "{out}");
        let sizes: Vec<u64> = v["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["status"] == "ok")
            .map(|r| r["record_size"].as_u64().unwrap())
            .collect();
        let want: &[u64] = match start {
            0 => &[6, 5, 5],
            16 => &[5, 6],
            _ => &[6],
        };
        assert_eq!(sizes, want, "{out}");
    }
}

#[test]
fn produce_after_an_empty_record_keeps_every_record() {
    let dir = tempfile::tempdir().unwrap();
    for (root, want, params) in [
        (store_abc(dir.path()), abc(), "64"),
        (store_tails(dir.path()), tails(), "16"),
        (dotnet_store(dir.path()), dotnet(), "64"),
    ] {
        // With the parameters given (how the issue met it) and without (inferred).
        let out = run(&[
            "produce",
            arg(&root),
            "--format",
            "stream",
            "--segment-size",
            params,
            "-m",
            "d",
        ]);
        ok(&out);
        ok(&run(&["produce", arg(&root), "-m", "e"]));
        let got = read_all(&root, &ParamsRequest::default());
        let end = want.last().map(|(o, p)| o + p.len() as u64 + 5).unwrap();
        assert_eq!(got[..want.len()], want[..], "{}", root.display());
        let tail: Vec<&[u8]> = got[want.len()..].iter().map(|(_, p)| &p[..]).collect();
        assert_eq!(tail, [&b"d"[..], b"e"], "{}", root.display());
        assert_eq!(got[want.len()].0, end);
        expect(&run(&["recover", arg(&root), "--check"]), 0);
    }
}

#[test]
fn recover_check_passes_on_an_empty_record_store() {
    let dir = tempfile::tempdir().unwrap();
    for root in [
        store_abc(dir.path()),
        store_tails(dir.path()),
        dotnet_store(dir.path()),
    ] {
        let before = common::store_files(&root);
        expect(&run(&["recover", arg(&root), "--check"]), 0);
        // A repair run finds nothing to do and changes nothing.
        ok(&run(&["recover", arg(&root)]));
        assert_eq!(common::store_files(&root), before, "{}", root.display());
    }
}

#[test]
fn a_live_reader_takes_an_empty_record_written_after_it_polled() {
    // `a`, then nothing yet: the reader waits at 6 (zero header), then at 11 in the 5-byte
    // tail of a 16-byte segment, where only an empty record fits and no 0xEE ever comes.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("live");
    let mut seg = vec![0u8; 16];
    seg[..6].copy_from_slice(&[1, 0, 0, 0, b'a', 0xFF]);
    write_store(&root, &[(0, seg)], 6);
    let req = ParamsRequest {
        format: Some(mfq::queue::Format::Stream),
        record_size: None,
        segment_size: Some(16),
    };
    let store = Store::open(&root, &req).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    let mut next = || obs.try_next().unwrap().map(|r| r.to_owned());
    assert_eq!(next().map(|r| r.payload), Some(b"a".to_vec()));
    assert!(next().is_none(), "nothing at 6 yet");
    let seg0 = root.join("commitlog/00000000000000000000");
    common::poke(&seg0, 6, &[0, 0, 0, 0, 0xFF]);
    let r = next().expect("the empty record at 6");
    assert_eq!((r.offset, r.next_offset, r.payload.len()), (6, 11, 0));
    assert!(next().is_none(), "nothing in the 5-byte tail yet");
    common::poke(&seg0, 11, &[0, 0, 0, 0, 0xFF]);
    let r = next().expect("the empty record filling the tail");
    assert_eq!((r.offset, r.next_offset, r.payload.len()), (11, 16, 0));
    assert!(next().is_none(), "no next segment yet");
    let mut s16 = vec![0u8; 16];
    s16[..6].copy_from_slice(&[1, 0, 0, 0, b'b', 0xFF]);
    std::fs::write(root.join("commitlog/00000000000000000016"), s16).unwrap();
    let r = next().expect("b in the next segment");
    assert_eq!((r.offset, r.payload), (16, b"b".to_vec()));
}
