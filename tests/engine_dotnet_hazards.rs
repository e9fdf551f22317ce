//! Issue #15 (4): no bytes that hang a .NET reader.
//!
//! - On a stream store without `mfq.json` (which a .NET reader may read) the producer refuses
//!   an empty payload and a length of 238 mod 256 before writing anything, unless
//!   `allow_dotnet_hazards` is set; a store with `mfq.json` takes both, and mfq reads them.
//! - At a segment roll, a tail of 4 or 5 bytes gets a 0xEE (.NET leaves it unmarked, bug SQ-2),
//!   so those bytes are the one place mfq's differ from .NET's; shorter tails stay unmarked,
//!   longer ones are marked as .NET marks them. Every reader, inference and recovery take the
//!   marked short tail for a segment end.
//! - The inspection (`stat`, `recover --check`) warns about the first record ahead of the
//!   default consumer that a .NET consumer cannot get past, with its offset; nothing to repair.

mod engine_util;

use std::path::{Path, PathBuf};

use engine_util::*;
use mfq::queue::{
    ConsumerId, DotnetHazard, Error, Format, IssueKind, Params, ParamsRequest, ParamsSource,
    ProducerOptions, Report, StartAt, Store,
};

/// Only the format given: one record is not enough to tell the formats apart.
fn stream_only() -> ParamsRequest {
    ParamsRequest {
        format: Some(Format::Stream),
        ..Default::default()
    }
}

fn allow() -> ProducerOptions {
    ProducerOptions {
        allow_dotnet_hazards: true,
        ..Default::default()
    }
}

/// A stream store with one record `first`, as .NET would leave it: no `mfq.json`.
fn dotnet_store(dir: &Path, segment_size: u64) -> Store {
    let path = dir.join("dotnet");
    let store = Store::create(&path, Params::stream(segment_size).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    p.append(b"first").unwrap();
    p.close().unwrap();
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    let store = Store::open(&path, &stream_only()).unwrap();
    assert_ne!(store.params_source(), ParamsSource::Metadata);
    store
}

fn payloads(store: &Store) -> Vec<(u64, Vec<u8>)> {
    drain(store)
        .into_iter()
        .map(|r| (r.offset, r.payload))
        .collect()
}

fn hazard_issues(r: &Report) -> Vec<(IssueKind, Option<u64>)> {
    r.issues
        .iter()
        .filter(|i| {
            matches!(
                i.kind,
                IssueKind::DotnetEeLength
                    | IssueKind::DotnetEmptyRecord
                    | IssueKind::DotnetShortTail
            )
        })
        .map(|i| (i.kind, i.offset))
        .collect()
}

fn set_default_consumer(store: &Store, offset: u64) {
    std::fs::write(
        store.path().join("offset/consumer.offset"),
        offset.to_le_bytes(),
    )
    .unwrap();
}

#[test]
fn a_store_without_mfq_json_refuses_hazards_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = dotnet_store(dir.path(), 4096);
    let before = snapshot(store.path());
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for (len, want) in [
        (0, DotnetHazard::EmptyPayload),
        (238, DotnetHazard::EeLength),
        (494, DotnetHazard::EeLength),
        (750, DotnetHazard::EeLength),
    ] {
        let err = p.append(&vec![b'x'; len]).unwrap_err();
        match &err {
            Error::DotnetHazard { len: l, hazard } => {
                assert_eq!((*l, *hazard), (len, want));
            }
            other => panic!("{len} bytes: {other:?}"),
        }
        let text = err.to_string();
        assert!(text.contains(&format!("{len} bytes")), "{text}");
        assert!(text.contains("mfq.json"), "{text}");
        assert!(!text.contains("--"), "the engine names no flag: {text}");
        assert_eq!(err.hint(), Some(mfq::queue::Hint::AllowDotnetHazards));
        assert_eq!(p.offset(), 10, "the offset did not move");
    }
    // Lengths next to them are fine.
    for len in [1, 237, 239, 256, 493] {
        p.append(&vec![b'y'; len]).unwrap();
    }
    p.close().unwrap();
    let after = snapshot(store.path());
    assert_ne!(before, after);
    let lens: Vec<usize> = payloads(&store).iter().map(|r| r.1.len()).collect();
    assert_eq!(lens, [5, 1, 237, 239, 256, 493]);
}

#[test]
fn a_refused_message_leaves_the_files_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    let store = dotnet_store(dir.path(), 4096);
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    p.flush().unwrap();
    let before = snapshot(store.path());
    assert!(p.append(b"").is_err());
    assert!(p.append(&[1u8; 238]).is_err());
    p.close().unwrap();
    assert_eq!(snapshot(store.path()), before);
}

#[test]
fn allowed_hazards_are_written_and_mfq_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = dotnet_store(dir.path(), 4096);
    let mut p = store.producer(allow()).unwrap();
    assert_eq!(p.append(b"").unwrap(), 10);
    assert_eq!(p.append(&[7u8; 238]).unwrap(), 15);
    assert_eq!(p.append(b"z").unwrap(), 15 + 243);
    p.close().unwrap();
    let got = payloads(&store);
    assert_eq!(
        got,
        vec![
            (0, b"first".to_vec()),
            (10, vec![]),
            (15, vec![7u8; 238]),
            (258, b"z".to_vec())
        ]
    );
    let report = store.inspect().unwrap();
    assert!(!report.needs_repair(), "{:#?}", report.issues);
}

#[test]
fn a_store_with_mfq_json_takes_hazards_and_every_reader_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mfq");
    let store = Store::create(&path, Params::stream(1024).unwrap()).unwrap();
    assert_eq!(store.params_source(), ParamsSource::Metadata);
    let msgs: Vec<Vec<u8>> = vec![
        b"a".to_vec(),
        vec![],
        vec![1u8; 238],
        vec![],
        vec![2u8; 494],
        b"b".to_vec(),
    ];
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    let offsets: Vec<u64> = msgs.iter().map(|m| p.append(m).unwrap()).collect();
    p.close().unwrap();
    let want: Vec<(u64, Vec<u8>)> = offsets.iter().copied().zip(msgs.clone()).collect();
    assert_eq!(payloads(&store), want);
    // A consumer commits through them.
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    for (o, m) in &want {
        let r = c.try_next().unwrap().expect("a record");
        assert_eq!((r.offset, r.payload.to_vec()), (*o, m.clone()));
        c.commit().unwrap();
    }
    drop(c);
    // Recovery keeps them, the producer's repair at open changes nothing, and a reopen after
    // losing mfq.json infers the parameters from them.
    let before = snapshot(&path);
    let report = store.inspect().unwrap();
    assert!(!report.needs_repair(), "{:#?}", report.issues);
    assert_eq!(report.data_end, Some(*offsets.last().unwrap() + 6));
    let p = store.producer(ProducerOptions::default()).unwrap();
    assert!(p.repair().actions.is_empty());
    p.close().unwrap();
    assert_eq!(snapshot(&path), before);
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    let inferred = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(inferred.params().segment_size(), 1024);
    assert_eq!(payloads(&inferred), want);
}

#[test]
fn fixed_stores_still_refuse_empty_messages() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("f"), Params::fixed(238, 4096).unwrap()).unwrap();
    let mut p = store.producer(allow()).unwrap();
    assert!(matches!(p.append(b"").unwrap_err(), Error::EmptyMessage));
    // A fixed record of 238 bytes is no hazard: the fixed format has no length header.
    p.append(&[0xEE; 238]).unwrap();
    p.close().unwrap();
    std::fs::remove_file(store.path().join("mfq.json")).unwrap();
    let store = Store::open(
        store.path(),
        &ParamsRequest::from(Params::fixed(238, 4096).unwrap()),
    )
    .unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    p.append(&[0xEE; 238]).unwrap();
    p.close().unwrap();
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
}

/// A 64-byte segment, one record of `64 - 5 - tail` payload bytes at position 0 (leaving
/// `tail` bytes), then `abc`.
fn roll_with_tail(dir: &Path, tail: usize) -> PathBuf {
    let path = dir.join(format!("tail{tail}"));
    let store = Store::create(&path, Params::stream(64).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    let first = vec![b'q'; 64 - 5 - tail];
    // Lengths 238 mod 256 do not occur here (at most 59 bytes).
    assert_eq!(p.append(&first).unwrap(), 0);
    assert_eq!(p.append(b"abc").unwrap(), (64 - tail) as u64);
    p.close().unwrap();
    path
}

#[test]
fn short_tails_of_4_and_5_bytes_get_a_marker_and_others_stay_as_dotnet_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    // `abc` takes 8 bytes: a tail of 8 would hold it.
    for tail in 0..=7usize {
        let path = roll_with_tail(dir.path(), tail);
        let seg0 = std::fs::read(path.join("commitlog/00000000000000000000")).unwrap();
        let next = (64 - tail) as u64;
        // The next record is where .NET puts it: the next segment, named after the offset.
        let seg1 = std::fs::read(path.join(format!("commitlog/{next:020}"))).unwrap();
        assert_eq!(&seg1[..8], &[3, 0, 0, 0, b'a', b'b', b'c', 0xFF]);
        let want_marker = match tail {
            0..=3 => None,       // no room for a header: .NET's consumer moves on by itself
            4 | 5 => Some(0xEE), // mfq only: .NET leaves these unmarked (SQ-2)
            _ => Some(0xEE),     // as .NET
        };
        let pos = 64 - tail;
        match want_marker {
            Some(m) => {
                assert_eq!(seg0[pos], m, "tail {tail}");
                assert!(seg0[pos + 1..].iter().all(|&b| b == 0), "tail {tail}");
            }
            None => assert!(seg0[pos..].iter().all(|&b| b == 0), "tail {tail}"),
        }
        // mfq's readers, inspection, the producer's repair and inference agree.
        let store = Store::open(&path, &ParamsRequest::default()).unwrap();
        let got = payloads(&store);
        assert_eq!(got.len(), 2, "tail {tail}");
        assert_eq!(got[1], (next, b"abc".to_vec()), "tail {tail}");
        let report = store.inspect().unwrap();
        assert!(
            report.issues.is_empty(),
            "tail {tail}: {:#?}",
            report.issues
        );
        assert_eq!(report.data_end, Some(next + 8));
        let before = snapshot(&path);
        let p = store.producer(ProducerOptions::default()).unwrap();
        assert!(p.repair().actions.is_empty(), "tail {tail}");
        p.close().unwrap();
        assert_eq!(snapshot(&path), before, "tail {tail}");
        std::fs::remove_file(path.join("mfq.json")).unwrap();
        let inferred = Store::open(&path, &stream_only()).unwrap();
        assert_eq!(inferred.params().segment_size(), 64, "tail {tail}");
        assert_eq!(payloads(&inferred), got, "tail {tail}");
    }
}

#[test]
fn a_producer_reopened_at_a_short_tail_marks_it_when_it_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let store = Store::create(&path, Params::stream(64).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    p.append(&[b'q'; 54]).unwrap(); // 59 bytes: a 5-byte tail
    p.close().unwrap();
    let seg0 = path.join("commitlog/00000000000000000000");
    assert_eq!(
        std::fs::read(&seg0).unwrap()[59..],
        [0; 5],
        "not marked yet"
    );
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    assert_eq!(p.append(b"next").unwrap(), 59);
    p.close().unwrap();
    assert_eq!(std::fs::read(&seg0).unwrap()[59..], [0xEE, 0, 0, 0, 0]);
    assert_eq!(
        payloads(&store),
        vec![(0, vec![b'q'; 54]), (59, b"next".to_vec())]
    );
}

#[test]
fn the_first_hazard_ahead_of_the_default_consumer_is_a_warning_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let store = dotnet_store(dir.path(), 4096);
    let mut p = store.producer(allow()).unwrap();
    p.append(b"ok").unwrap(); // 10
    p.append(&[5u8; 238]).unwrap(); // 17
    p.append(b"").unwrap(); // 260
    p.append(b"end").unwrap(); // 265
    p.close().unwrap();
    // No default consumer offset file: no .NET consumer to warn for.
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
    set_default_consumer(&store, 0);
    for report in [store.inspect().unwrap(), store.inspect_quick().unwrap()] {
        assert_eq!(
            hazard_issues(&report),
            vec![(IssueKind::DotnetEeLength, Some(17))]
        );
        let issue = report
            .issues
            .iter()
            .find(|i| i.kind == IssueKind::DotnetEeLength)
            .unwrap();
        assert_eq!(issue.severity, mfq::queue::recovery::Severity::Warning);
        assert!(issue.message.contains("offset 17"), "{}", issue.message);
        assert!(issue.message.contains("SQ-1"), "{}", issue.message);
        assert!(!report.needs_repair());
    }
    assert!(mfq::queue::recovery::plan(&store.inspect().unwrap(), true).is_empty());
    set_default_consumer(&store, 17);
    assert_eq!(
        hazard_issues(&store.inspect().unwrap()),
        vec![(IssueKind::DotnetEeLength, Some(17))]
    );
    set_default_consumer(&store, 260);
    assert_eq!(
        hazard_issues(&store.inspect_quick().unwrap()),
        vec![(IssueKind::DotnetEmptyRecord, Some(260))]
    );
    set_default_consumer(&store, 265);
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
    // Named consumers are mfq's own: .NET never reads their offsets.
    std::fs::write(
        store.path().join("offset/consumer.mine.offset"),
        0u64.to_le_bytes(),
    )
    .unwrap();
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
}

#[test]
fn records_past_the_producer_offset_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = dotnet_store(dir.path(), 4096);
    let mut p = store.producer(allow()).unwrap();
    p.append(b"").unwrap(); // 10
    p.close().unwrap();
    set_default_consumer(&store, 0);
    // The producer offset says 10: the empty record at 10 is not data yet (a stale byte
    // pattern a repair would clear), so the quick check does not warn about it.
    std::fs::write(
        store.path().join("offset/producer.offset"),
        10u64.to_le_bytes(),
    )
    .unwrap();
    assert!(hazard_issues(&store.inspect_quick().unwrap()).is_empty());
}

#[test]
fn a_dotnet_4_byte_tail_is_reported_until_the_consumer_is_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/compat/stream-tail4"),
        &path,
    );
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    for report in [store.inspect().unwrap(), store.inspect_quick().unwrap()] {
        assert_eq!(
            hazard_issues(&report),
            vec![(IssueKind::DotnetShortTail, Some(60))]
        );
        assert!(!report.needs_repair());
    }
    set_default_consumer(&store, 60);
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
    // The same messages written by mfq leave no tail to report.
    let mfq = roll_with_tail(dir.path(), 4);
    let store = Store::open(&mfq, &ParamsRequest::default()).unwrap();
    set_default_consumer(&store, 0);
    assert!(hazard_issues(&store.inspect().unwrap()).is_empty());
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}
