//! The golden .NET stores are read back exactly, and mfq reproduces them byte for byte from the
//! same sequence of produce and commit calls, with one documented difference: where .NET
//! leaves a stream segment tail of 4 or 5 bytes without a marker (bug SQ-2), mfq writes 0xEE
//! at its first byte, so a live .NET consumer moves on to the next segment.

mod common;

use common::*;
use mfq::queue::{ConsumerId, Format, Params, ParamsRequest, ProducerOptions, StartAt, Store};

fn drain(store: &Store) -> Vec<(u64, Vec<u8>)> {
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    let mut out = vec![];
    while let Some(r) = c.try_next().unwrap() {
        out.push((r.offset, r.payload.to_vec()));
    }
    out
}

#[test]
fn fixed_golden_is_inferred_and_read() {
    let (_t, path) = fixture_copy("fixed");
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().format(), Format::Fixed);
    assert_eq!(store.params().record_size(), Some(16));
    assert_eq!(store.params().span(), 85);
    let got = drain(&store);
    let want: Vec<(u64, Vec<u8>)> = (2..5).map(|i| (i as u64 * 17, fixed_message(i))).collect();
    assert_eq!(got, want);
}

#[test]
fn fixed_rollover_golden_is_read_across_segments() {
    let (_t, path) = fixture_copy("fixed-rollover");
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().record_size(), Some(16));
    let got: Vec<Vec<u8>> = drain(&store).into_iter().map(|r| r.1).collect();
    let want: Vec<Vec<u8>> = (2..6).map(fixed_message).collect();
    assert_eq!(got, want);
}

#[test]
fn stream_golden_is_inferred_and_read() {
    let (_t, path) = fixture_copy("stream");
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    assert_eq!(store.params().format(), Format::Stream);
    assert_eq!(store.params().segment_size(), 64);
    let got = drain(&store);
    let want: Vec<(u64, Vec<u8>)> = vec![
        (21, b"The quick brown fox jump".to_vec()),
        (50, b"0123456789AB".to_vec()),
        (67, b"xyz".to_vec()),
    ];
    assert_eq!(got, want);
}

#[test]
fn stream_tail4_golden_is_read_past_the_short_tail() {
    let (_t, path) = fixture_copy("stream-tail4");
    let store = Store::open(&path, &ParamsRequest::default()).unwrap();
    let got = drain(&store);
    let big: Vec<u8> = (0x41..=0x77).collect();
    assert_eq!(got, vec![(0, big), (60, b"abc".to_vec())]);
}

/// One byte where mfq's store differs from the .NET golden store on purpose: `(file, position,
/// byte)`.
type Difference = (&'static str, usize, u8);

fn reproduce(name: &str, params: Params, messages: &[Vec<u8>], flush_every: u64, commits: usize) {
    reproduce_with(name, params, messages, flush_every, commits, &[]);
}

fn reproduce_with(
    name: &str,
    params: Params,
    messages: &[Vec<u8>],
    flush_every: u64,
    commits: usize,
    differences: &[Difference],
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let store = Store::create(&path, params).unwrap();
    let mut p = store
        .producer(ProducerOptions {
            flush_every: Some(flush_every),
            ..Default::default()
        })
        .unwrap();
    for m in messages {
        p.append(m).unwrap();
    }
    p.close().unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    for _ in 0..commits {
        c.try_next().unwrap().unwrap();
        c.commit().unwrap();
    }
    drop(c);
    let golden = store_files(&fixture(name));
    let mut ours = store_files(&path);
    let producer = offset_value(&path, "producer.offset");
    let confirmed = ours
        .remove("offset/producer.confirmed.offset")
        .expect("confirmed written");
    let confirmed = u64::from_le_bytes(confirmed.try_into().unwrap());
    if let Some(g) = golden.get("offset/producer.confirmed.offset") {
        let g = u64::from_le_bytes(g.clone().try_into().unwrap());
        assert!(
            confirmed >= g && confirmed <= producer,
            "confirmed {confirmed} vs .NET {g}"
        );
    }
    let mut golden = golden;
    golden.remove("offset/producer.confirmed.offset");
    for &(file, pos, byte) in differences {
        let bytes = golden.get_mut(file).expect("a golden file");
        assert_eq!(bytes[pos], 0, "{file}: .NET leaves {pos} unwritten");
        bytes[pos] = byte;
    }
    assert_eq!(ours, golden, "store {name} differs from the .NET bytes");
}

#[test]
fn fixed_stores_are_reproduced_byte_for_byte() {
    let params = Params::fixed(16, 100).unwrap();
    let msgs: Vec<Vec<u8>> = (0..5).map(fixed_message).collect();
    reproduce("fixed", params, &msgs, 2, 2);
    let msgs: Vec<Vec<u8>> = (0..6).map(fixed_message).collect();
    reproduce("fixed-rollover", params, &msgs, 2, 2);
}

#[test]
fn stream_stores_are_reproduced_byte_for_byte() {
    let params = Params::stream(64).unwrap();
    reproduce("stream", params, &stream_messages(), 1000, 2);
}

/// Golden example D: a 60-byte record leaves a 4-byte tail that .NET leaves unmarked (bug
/// SQ-2); mfq writes 0xEE at position 60 and nothing else differs: the next segment is still
/// named `…060` and holds `abc` at position 0, and the offsets are the same.
#[test]
fn the_4_byte_tail_is_the_one_documented_difference() {
    let params = Params::stream(64).unwrap();
    let msgs = vec![(0x41..=0x77).collect::<Vec<u8>>(), b"abc".to_vec()];
    let marked = ("commitlog/00000000000000000000", 60, 0xEE);
    reproduce_with("stream-tail4", params, &msgs, 1000, 0, &[marked]);
}
