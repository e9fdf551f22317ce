//! Bad input to the engine: every case fails with a clear, typed error that names the path (or
//! is tolerated and reported, where the spec says so), and nothing on disk changes.
//!
//! Behaviours documented here:
//! - a folder with only `commitlog/` or only `offset/` is still a store (readable);
//! - stray names in `commitlog/` are skipped and reported by inspect, never fatal;
//! - a symlink to a store works like the store (paths are used as given, not resolved);
//! - permission checks are skipped when running as root (root bypasses file modes).

mod engine_util;

use std::path::Path;

use engine_util::*;
use mfq::queue::{
    ConsumerId, Error, IssueKind, Params, ParamsRequest, ProducerOptions, Report, StartAt, Store,
};

fn fixed() -> Params {
    Params::fixed(16, 100).unwrap()
}

/// A store with 8 fixed records (2 segments), confirmed, 2 committed.
fn sample(dir: &Path, params: Params) -> (Store, Vec<mfq::queue::OwnedRecord>) {
    let store = Store::create(dir.join("s"), params).unwrap();
    let recs = produce(&store, 0, 8, ProducerOptions::default());
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    c.try_next().unwrap();
    c.commit().unwrap();
    drop(c);
    (store, recs)
}

/// Asserts that an inspection reported an issue of `kind`.
#[track_caller]
fn assert_issue(report: &Report, kind: IssueKind) {
    assert!(
        report.issues.iter().any(|i| i.kind == kind),
        "no {kind:?} issue in {:#?}",
        report.issues
    );
}

#[track_caller]
fn names(err: &Error, path: &Path) {
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()),
        "error {msg:?} does not name {}",
        path.display()
    );
}

#[test]
fn paths_that_are_not_stores_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    let before = snapshot(dir.path());
    for p in [dir.path().join("missing"), file, dir.path().join("empty")] {
        let err = Store::open(&p, &ParamsRequest::default()).unwrap_err();
        assert!(matches!(err, Error::NotAStore { .. }), "{err}");
        names(&err, &p);
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn a_store_with_only_one_of_its_folders_is_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (store, recs) = sample(dir.path(), fixed());
    std::fs::remove_dir_all(store.layout().offset_dir()).unwrap();
    let before = snapshot(store.path());
    let reopened = Store::open(store.path(), &ParamsRequest::default()).unwrap();
    assert_eq!(drain(&reopened), recs);
    assert_eq!(snapshot(store.path()), before, "reading changed the store");
    std::fs::remove_dir_all(store.layout().commitlog()).unwrap();
    std::fs::create_dir(store.layout().offset_dir()).unwrap();
    std::fs::remove_file(store.layout().meta()).unwrap();
    let only_offsets = Store::open(store.path(), &ParamsRequest::default()).unwrap_err();
    assert!(
        matches!(only_offsets, Error::ParamsUnknown { .. }),
        "{only_offsets}"
    );
    let req = ParamsRequest {
        record_size: Some(16),
        segment_size: Some(100),
        ..Default::default()
    };
    let s = Store::open(store.path(), &req).unwrap();
    assert!(drain(&s).is_empty());
}

#[test]
fn offset_files_of_the_wrong_size_or_sign_are_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sample(dir.path(), fixed());
    let consumer = store.layout().consumer_offset(&ConsumerId::Default);
    let producer = store.layout().producer_offset();
    for len in [0usize, 7, 9] {
        std::fs::write(&consumer, vec![0u8; len]).unwrap();
        let before = snapshot(store.path());
        let s = Store::open(store.path(), &ParamsRequest::default()).unwrap();
        let err = s
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .err()
            .unwrap();
        assert!(
            matches!(err, Error::OffsetFileSize { len: l, .. } if l == len as u64),
            "{err}"
        );
        names(&err, &consumer);
        let report = s.inspect().unwrap();
        assert_issue(&report, IssueKind::BadOffsetFile);
        assert_eq!(snapshot(store.path()), before, "{len}-byte offset file");
    }
    std::fs::write(&consumer, (-5i64).to_le_bytes()).unwrap();
    let err = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::NegativeOffset { value: -5, .. }),
        "{err}"
    );
    names(&err, &consumer);
    std::fs::write(&producer, (-1i64).to_le_bytes()).unwrap();
    let before = snapshot(store.path());
    let err = store.producer(ProducerOptions::default()).err().unwrap();
    assert!(matches!(err, Error::NegativeOffset { .. }), "{err}");
    names(&err, &producer);
    std::fs::write(&producer, [1u8; 9]).unwrap();
    let err = store.producer(ProducerOptions::default()).err().unwrap();
    assert!(matches!(err, Error::OffsetFileSize { len: 9, .. }), "{err}");
    std::fs::write(&producer, (-1i64).to_le_bytes()).unwrap();
    assert_eq!(snapshot(store.path()), before);
}

#[test]
fn stray_and_badly_named_segment_files_are_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (store, recs) = sample(dir.path(), fixed());
    let log = store.layout().commitlog();
    let strays = [
        "abc",
        "0000000000000000085",
        "000000000000000000085",
        "00000000000000000085.tmp",
        "-0000000000000000085",
    ];
    for name in strays {
        std::fs::write(log.join(name), [0xFFu8; 86]).unwrap();
    }
    std::fs::create_dir(log.join("00000000000000000170")).unwrap();
    let before = snapshot(store.path());
    let report = store.inspect().unwrap();
    assert_eq!(report.stray_files.len(), strays.len() + 1);
    let stray_issues = report
        .issues
        .iter()
        .filter(|i| i.kind == IssueKind::StrayFile);
    assert_eq!(stray_issues.count(), strays.len() + 1);
    assert!(!report.needs_repair(), "{:#?}", report.issues);
    assert_eq!(drain(&store), recs);
    assert_eq!(snapshot(store.path()), before);
}

#[test]
fn segments_of_the_wrong_size_and_gaps_are_reported_and_tolerated() {
    let dir = tempfile::tempdir().unwrap();
    let (store, recs) = sample(dir.path(), fixed());
    let first = store.layout().segment(0);
    let mut bytes = std::fs::read(&first).unwrap();
    bytes.extend_from_slice(&[0; 10]);
    std::fs::write(&first, &bytes).unwrap();
    let report = store.inspect().unwrap();
    assert_issue(&report, IssueKind::SegmentTooLong);
    assert_eq!(report.oversized.len(), 1);
    assert_eq!(
        drain(&store),
        recs,
        "a longer file is read as far as its span"
    );
    // A missing middle segment below the confirmed offset: reported (a warning), left alone by
    // recover (nothing past the data end to repair); a reader from the earliest record stops
    // at the gap, one started past it reads on.
    let s = Store::create(dir.path().join("gap"), Params::fixed(16, 34).unwrap()).unwrap();
    let recs = produce(&s, 0, 6, ProducerOptions::default());
    std::fs::remove_file(s.layout().segment(34)).unwrap();
    let report = s.inspect().unwrap();
    assert_issue(&report, IssueKind::SegmentGap);
    assert_eq!(drain(&s), recs[..2].to_vec());
    recover(&s, None);
    assert_consistent(&s, "after a gap");
    let mut obs = s.observer(StartAt::Offset(68)).unwrap();
    assert_eq!(drain_observer(&mut obs), recs[4..].to_vec());
}

#[test]
fn a_folder_where_an_offset_file_belongs_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sample(dir.path(), fixed());
    let named = ConsumerId::parse("audit").unwrap();
    let path = store.layout().consumer_offset(&named);
    std::fs::create_dir(&path).unwrap();
    let before = snapshot(store.path());
    let err = store.consumer(&named, StartAt::Earliest).err().unwrap();
    names(&err, &path);
    let report = store.inspect().unwrap();
    assert_issue(&report, IssueKind::BadOffsetFile);
    assert_eq!(snapshot(store.path()), before);
}

#[test]
fn unreadable_files_are_an_error_unless_root() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        eprintln!("skipped: running as root, which bypasses file permissions");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sample(dir.path(), fixed());
    let seg = store.layout().segment(0);
    std::fs::set_permissions(&seg, std::fs::Permissions::from_mode(0o000)).unwrap();
    let err = store.inspect().unwrap_err();
    names(&err, &seg);
    std::fs::set_permissions(&seg, std::fs::Permissions::from_mode(0o644)).unwrap();
}

#[test]
fn misaligned_consumer_offsets_are_refused_with_the_nearest_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sample(dir.path(), fixed());
    let path = store.layout().consumer_offset(&ConsumerId::Default);
    std::fs::write(&path, 5u64.to_le_bytes()).unwrap();
    let err = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::Misaligned {
                offset: 5,
                before: Some(0),
                after: Some(17)
            }
        ),
        "{err}"
    );
    let s = Store::create(dir.path().join("st"), Params::stream(64).unwrap()).unwrap();
    let mut p = s.producer(ProducerOptions::default()).unwrap();
    p.append(b"hello").unwrap();
    p.append(b"world!").unwrap();
    p.close().unwrap();
    let path = s.layout().consumer_offset(&ConsumerId::Default);
    std::fs::write(&path, 13u64.to_le_bytes()).unwrap();
    let before = snapshot(s.path());
    let err = s
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::Misaligned {
                offset: 13,
                before: Some(10),
                after: Some(21)
            }
        ),
        "{err}"
    );
    assert_eq!(snapshot(s.path()), before);
}

#[test]
fn bad_consumer_names_are_rejected() {
    let long = "x".repeat(65);
    for bad in [
        "",
        "a/b",
        "../x",
        "a b",
        "producer",
        "é",
        "a.b",
        long.as_str(),
    ] {
        let err = ConsumerId::parse(bad).unwrap_err();
        assert!(matches!(err, Error::ConsumerName(_)), "{bad:?}: {err}");
    }
    assert!(ConsumerId::parse(&"x".repeat(64)).is_ok());
}

#[test]
fn empty_and_oversize_messages_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for params in [fixed(), Params::stream(64).unwrap()] {
        let store = Store::create(dir.path().join(describe(&params)), params).unwrap();
        let mut p = store.producer(ProducerOptions::default()).unwrap();
        p.append(&message(&params, 0)).unwrap();
        p.flush().unwrap();
        let before = snapshot(store.path());
        let max = params.max_payload();
        // Stream stores with mfq.json take empty messages (see `engine_dotnet_hazards.rs`).
        if params.record_size().is_some() {
            let err = p.append(b"").unwrap_err();
            assert!(matches!(err, Error::EmptyMessage), "{err}");
        }
        for len in [max + 1, max * 4] {
            let err = p.append(&vec![7u8; len]).unwrap_err();
            assert!(matches!(err, Error::MessageSize { .. }), "{err}");
        }
        if params.record_size().is_some() {
            let err = p.append(&vec![7u8; max - 1]).unwrap_err();
            assert!(matches!(err, Error::MessageSize { .. }), "{err}");
        }
        assert_eq!(snapshot(store.path()), before, "{}", describe(&params));
        let end = drain(&store).last().unwrap().next_offset;
        assert_eq!(p.append(&message(&params, 1)).unwrap(), end);
    }
}

#[test]
fn contradicting_params_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = sample(dir.path(), fixed());
    let before = snapshot(store.path());
    for req in [
        ParamsRequest {
            record_size: Some(8),
            ..Default::default()
        },
        ParamsRequest {
            format: Some(mfq::queue::Format::Stream),
            ..Default::default()
        },
        ParamsRequest {
            segment_size: Some(1000),
            ..Default::default()
        },
    ] {
        let err = Store::open(store.path(), &req).unwrap_err();
        assert!(
            matches!(err, Error::ParamsMismatch { .. }),
            "{req:?}: {err}"
        );
    }
    let err = Store::create(store.path(), Params::fixed(8, 100).unwrap()).unwrap_err();
    assert!(matches!(err, Error::ParamsMismatch { .. }), "{err}");
    assert_eq!(snapshot(store.path()), before);
}

#[test]
fn a_symlink_to_a_store_reads_like_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let (store, recs) = sample(dir.path(), fixed());
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(store.path(), &link).unwrap();
    let before = snapshot(store.path());
    let via = Store::open(&link, &ParamsRequest::default()).unwrap();
    assert_eq!(via.path(), link.as_path(), "paths are used as given");
    assert_eq!(drain(&via), recs);
    assert!(!via.inspect().unwrap().needs_repair());
    assert_eq!(snapshot(store.path()), before);
}

/// A segment size far larger than the file, given for a short file (a truncated .NET segment,
/// no `mfq.json`). The missing bytes read as zeros without being held in memory, so inspection,
/// reading and recovery see what the size says; a size whose zeros the system cannot even
/// reserve is a clean error naming the file and the option, never an abort.
#[test]
fn a_huge_segment_size_for_a_short_file_is_read_lazily_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::create(dir.path().join("s"), fixed()).unwrap();
    let recs = produce(&s, 0, 3, ProducerOptions::default());
    let path = s.path().to_path_buf();
    std::fs::remove_file(s.layout().meta()).unwrap();
    // A crash before the third record was confirmed.
    std::fs::write(s.layout().confirmed_offset(), 17u64.to_le_bytes()).unwrap();
    drop(s);
    // 2 records and half of the third.
    let seg = path.join("commitlog").join(format!("{:020}", 0));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len(45)
        .unwrap();
    let req = |size: u64| ParamsRequest {
        format: Some(mfq::queue::Format::Fixed),
        record_size: Some(16),
        segment_size: Some(size),
    };
    let before = snapshot(&path);
    let absurd = Store::open(&path, &req(1 << 40)).unwrap();
    let err = absurd.inspect().unwrap_err().to_string();
    names(&absurd.inspect().unwrap_err(), &seg);
    assert!(
        matches!(
            absurd.inspect().unwrap_err().hint(),
            Some(mfq::queue::Hint::CheckSegmentSize)
        ),
        "{err}"
    );
    assert_eq!(snapshot(&path), before);

    let store = Store::open(&path, &req(64 << 20)).unwrap();
    let report = store.inspect().unwrap();
    assert_eq!(report.data_end, Some(34), "{report:?}");
    assert_issue(&report, IssueKind::TornRecord);
    assert_eq!(drain(&store), recs[..2].to_vec());
    recover(&store, None);
    assert_eq!(store.data_end().unwrap(), 34);
    assert_consistent(&store, "after recovering a short file of a large segment");
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), 45, "no bytes added");
    assert_eq!(drain(&store), recs[..2].to_vec());
}
