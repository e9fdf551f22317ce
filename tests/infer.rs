//! Parameter inference for stores without `mfq.json` (the .NET stores): damage must not
//! defeat it, it never guesses (strides the bytes fit alike are named in a refusal, issue
//! #20), and explicit parameters that contradict the files are refused.

mod common;

use common::*;
use mfq::queue::{Error, Format, Need, Param, Params, ParamsRequest, ProducerOptions, Store};

fn write_at(path: &std::path::Path, pos: usize, byte: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[pos] = byte;
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_flipped_marker_does_not_defeat_inference() {
    let (_t, path) = fixture_copy("fixed");
    write_at(&path.join("commitlog/00000000000000000000"), 50, 0x12);
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().record_size(), Some(16));
}

#[test]
fn a_misaligned_offset_does_not_veto_the_data() {
    let (_t, path) = fixture_copy("fixed");
    // The consumer offset 34 vouches for the 17-byte stride, the misaligned producer offset
    // vetoes nothing.
    std::fs::write(path.join("offset/producer.offset"), 100u64.to_le_bytes()).unwrap();
    std::fs::write(path.join("offset/consumer.offset"), 34u64.to_le_bytes()).unwrap();
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().record_size(), Some(16));
    // Without an offset on a record boundary, one 84-byte record per segment fits the bytes
    // as well as five 16-byte ones: named, not picked.
    for name in ["consumer", "producer.confirmed"] {
        let _ = std::fs::remove_file(path.join(format!("offset/{name}.offset")));
    }
    let err = Store::open(&path, &ParamsRequest::default()).unwrap_err();
    assert!(
        err.to_string().contains("the files fit 16, 84 bytes"),
        "{err}"
    );
}

/// A fixed store of `count` records of `payload` without `mfq.json`, as .NET leaves it.
fn dotnet_fixed(
    dir: &std::path::Path,
    p: u32,
    segment_size: u64,
    payloads: &[Vec<u8>],
) -> std::path::PathBuf {
    let path = dir.join(format!("s{p}-{segment_size}-{}", payloads.len()));
    let store = Store::create(&path, Params::fixed(p, segment_size).unwrap()).unwrap();
    produce_all(&store, payloads);
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    path
}

#[test]
fn strides_the_bytes_fit_alike_are_named_never_picked() {
    let dir = tempfile::tempdir().unwrap();
    // Twelve 16-byte records fill one 204-byte span exactly: every stride that divides 12
    // records fits the markers and the offsets.
    let msgs: Vec<_> = (0..12).map(fixed_message).collect();
    let path = dotnet_fixed(dir.path(), 16, 17 * 12, &msgs);
    let err = Store::open(&path, &ParamsRequest::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("the files fit 16, 33, 50, 67, 101, 203 bytes"),
        "{err}"
    );
    assert!(matches!(
        err,
        Error::ParamsUnknown {
            need: Need::Params(&[Param::RecordSize]),
            ..
        }
    ));
    // A thirteenth record in the next segment leaves a partial slot for every multiple.
    let msgs: Vec<_> = (0..13).map(fixed_message).collect();
    let path = dotnet_fixed(dir.path(), 16, 17 * 12, &msgs);
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().record_size(), Some(16));
    assert_eq!(store.params().span(), 204);
    // All-0xFF 7-byte structs (issue #20): strides 2, 4 and 8 fit alike, in SegmentSize 30
    // (71 records) and in SegmentSize 8 (one record).
    for (segment_size, count) in [(30, 71), (8, 1)] {
        let path = dotnet_fixed(dir.path(), 7, segment_size, &vec![vec![0xFF; 7]; count]);
        let err = Store::open(&path, &ParamsRequest::default()).unwrap_err();
        assert!(
            err.to_string().contains("the files fit 1, 3, 7 bytes"),
            "{err}"
        );
        let req = ParamsRequest {
            record_size: Some(7),
            ..Default::default()
        };
        let store = Store::open(&path, &req).unwrap();
        assert_eq!(store.params().record_size(), Some(7));
    }
}

#[test]
fn explicit_parameters_that_contradict_the_files_are_refused() {
    let (_t, path) = fixture_copy("fixed");
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(16),
        segment_size: Some(50),
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(matches!(err, Error::ParamsMismatch { .. }), "{err}");
    let req = ParamsRequest {
        format: Some(Format::Stream),
        ..Default::default()
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(err.to_string().contains("stream"), "{err}");
}

#[test]
fn explicit_parameters_open_a_store_whose_damage_defeats_inference() {
    let (_t, path) = fixture_copy("fixed");
    let seg = path.join("commitlog/00000000000000000000");
    for pos in [16, 33, 50] {
        write_at(&seg, pos, 0x12);
    }
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(16),
        segment_size: Some(100),
    };
    let store = Store::open(&path, &req).unwrap();
    assert!(store.inspect().unwrap().needs_repair());
}

/// A record size whose stride divides the span fits the file lengths; only the marker pattern
/// contradicts it, and that must be enough to refuse it (recovery would zero good records).
#[test]
fn an_explicit_record_size_the_markers_contradict_is_refused() {
    let (_t, path) = fixture_copy("fixed");
    for (record_size, segment_size) in [(4, 85), (8, 85), (33, 100)] {
        let req = ParamsRequest {
            format: Some(Format::Fixed),
            record_size: Some(record_size),
            segment_size: Some(segment_size),
        };
        let err = Store::open(&path, &req).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::ParamsMismatch { .. }), "{text}");
        assert!(
            text.contains("16 bytes") && text.contains(&format!("record size {record_size}")),
            "{text}"
        );
    }
    let (_t, path) = fixture_copy("stream");
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(7),
        segment_size: Some(64),
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(err.to_string().contains("stream"), "{err}");
}

/// .NET stream segments are usually far larger than the bytes inference scans; a record chain
/// that runs past the scan is not a chain that ends early.
#[test]
fn a_stream_chain_longer_than_the_scan_is_inferred() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let store = Store::create(&path, Params::stream(4 << 20).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for i in 0..50_000u32 {
        let mut m = vec![b'x'; 100];
        m[..4].copy_from_slice(&i.to_le_bytes());
        p.append(&m).unwrap();
    }
    p.close().unwrap();
    assert!(store.segments().unwrap().len() >= 2);
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params(), &Params::stream(4 << 20).unwrap());
}

/// Opening is not creating: without segment data, the segment size is asked for rather than
/// the creation default assumed (it would be reported, and used for new files, as the store's).
#[test]
fn a_store_without_segment_data_asks_for_its_segment_size() {
    let (_t, path) = fixture_copy("fixed");
    std::fs::write(path.join("commitlog/00000000000000000000"), b"").unwrap();
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(16),
        segment_size: None,
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(
        matches!(err, Error::ParamsUnknown { need: Need::Params(ps), .. } if ps.contains(&Param::SegmentSize)),
        "{err}"
    );
    let req = ParamsRequest {
        segment_size: Some(100),
        ..req
    };
    assert_eq!(
        Store::open(&path, &req).unwrap().params().segment_size(),
        100
    );
}

/// .NET creates every segment file whole: a segment size longer than every file is a wrong
/// option when the files show another one (a producer would grow them past the .NET size).
#[test]
fn an_explicit_segment_size_longer_than_every_file_is_refused() {
    let (_t, path) = fixture_copy("stream");
    let req = ParamsRequest {
        format: Some(Format::Stream),
        record_size: None,
        segment_size: Some(1 << 40),
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(
        matches!(
            err,
            Error::ParamsMismatch {
                what: Param::SegmentSize,
                ..
            }
        ),
        "{err}"
    );
}

/// A partial request narrows the candidates; a wrong one must not leave only a wrong stride
/// that fits (here the whole 85-byte span as one record), on which recover would act.
#[test]
fn a_partial_request_the_files_contradict_is_refused() {
    let (_t, path) = fixture_copy("fixed-rollover");
    for req in [
        ParamsRequest {
            segment_size: Some(102),
            ..Default::default()
        },
        ParamsRequest {
            record_size: Some(84),
            ..Default::default()
        },
    ] {
        let err = Store::open(&path, &req).unwrap_err();
        assert!(
            matches!(err, Error::ParamsMismatch { .. }),
            "{req:?}: {err}"
        );
    }
}

/// Two stray 0xFF bytes in the unwritten part of the last segment are more damage than the
/// pattern tolerates; the offsets on the true stride still vouch for it, so the whole segment
/// is not taken as one record.
#[test]
fn offsets_vouch_for_a_stride_that_stray_bytes_damage() {
    let (_t, path) = fixture_copy("fixed-rollover");
    let seg = path.join("commitlog/00000000000000000085");
    write_at(&seg, 67, 0xFF);
    write_at(&seg, 68, 0xFF);
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().record_size(), Some(16));
}

/// A whole segment as one record fits any file whose last slot byte is 0xFF; offsets off that
/// stride contradict it, and the files then show the true one.
#[test]
fn an_explicit_stride_the_offsets_contradict_is_refused() {
    let (_t, path) = fixture_copy("fixed-rollover");
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(84),
        segment_size: Some(85),
    };
    let err = Store::open(&path, &req).unwrap_err();
    assert!(err.to_string().contains("the store has 16 bytes"), "{err}");
}

/// A crash tears the newest segment; with the record chain shown by the segments before it,
/// a stream store whose last segment is cut to one byte is still recognised.
#[test]
fn a_torn_last_stream_segment_does_not_hide_the_format() {
    let (_t, path) = fixture_copy("stream");
    let seg = path.join("commitlog/00000000000000000050");
    let first = std::fs::read(&seg).unwrap()[0];
    std::fs::write(&seg, [first]).unwrap();
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params(), &Params::stream(64).unwrap());
}
