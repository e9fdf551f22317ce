//! Property tests of the engine's round trip: random payload sizes, small segment sizes (many
//! rolls, records that exactly fill a segment, stream tails of 4 and 5 bytes, stream payload
//! lengths of 238 mod 256), flush policies, commit patterns and reopen points. Whatever the
//! script, a consumer reads back exactly the appended sequence, in order, once.
//!
//! Case counts are bounded so the file runs in a few seconds in release mode.

mod engine_util;

use engine_util::*;
use mfq::queue::{Consumer, ConsumerId, Params, Producer, ProducerOptions, StartAt, Store};
use proptest::prelude::*;

/// One step of a script.
#[derive(Clone, Debug)]
enum Op {
    /// Append a message; the value picks its length (stream) or seeds its bytes.
    Append(u64),
    /// Flush the producer.
    Flush,
    /// Close and reopen the producer.
    ReopenProducer,
    /// Read up to n records, then commit (or not, then rewind).
    Consume { n: u8, commit: bool },
    /// Drop and reopen the consumer.
    ReopenConsumer,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => any::<u64>().prop_map(Op::Append),
        1 => Just(Op::Flush),
        2 => Just(Op::ReopenProducer),
        3 => (0u8..6, any::<bool>()).prop_map(|(n, commit)| Op::Consume { n, commit }),
        1 => Just(Op::ReopenConsumer),
    ]
}

fn policy() -> impl Strategy<Value = ProducerOptions> {
    (
        prop_oneof![Just(None), (1u64..5).prop_map(Some)],
        any::<bool>(),
    )
        .prop_map(|(flush_every, background)| ProducerOptions {
            flush_every,
            flush_interval: None,
            background,
            ..Default::default()
        })
}

/// Fixed parameters: P in 1..=24 and a segment of 1-4 slots plus 0..m spare bytes (0: the
/// last record exactly fills the segment).
fn fixed_params() -> impl Strategy<Value = Params> {
    (1u32..=24, 1u64..=4, 0u64..=24).prop_map(|(p, slots, spare)| {
        let m = p as u64 + 1;
        Params::fixed(p, slots * m + spare % m).unwrap()
    })
}

/// Stream segment sizes: tiny ones (many rolls) and ones that fit 238- and 494-byte payloads.
fn stream_params() -> impl Strategy<Value = Params> {
    prop_oneof![6u64..=80, 500u64..=1100].prop_map(|s| Params::stream(s).unwrap())
}

/// A stream payload length chosen by `v`: lengths that fill the segment exactly, leave a tail
/// of 4, 5 or 6 bytes after a record at position 0, lengths of 238 mod 256, or random.
fn stream_len(params: &Params, v: u64) -> usize {
    let max = params.max_payload();
    let s = params.segment_size() as usize;
    let pick = match v % 10 {
        0 => s - 5,
        1 => s.saturating_sub(9),
        2 => s.saturating_sub(10),
        3 => s.saturating_sub(11),
        4 => 238,
        5 => 494,
        _ => 1 + (v >> 8) as usize % max.min(64),
    };
    pick.clamp(1, max)
}

fn payload(params: &Params, v: u64) -> Vec<u8> {
    match params.record_size() {
        Some(p) => {
            let mut r = XorShift::new(v);
            (0..p)
                .map(|_| match r.next() % 3 {
                    0 => 0xFF,
                    1 => 0,
                    _ => r.next() as u8,
                })
                .collect()
        }
        None => {
            let len = stream_len(params, v);
            let mut r = XorShift::new(v);
            (0..len).map(|_| r.next() as u8).collect()
        }
    }
}

/// Runs a script against a fresh store and checks the model after every read.
fn run_script(params: Params, opts: ProducerOptions, ops: &[Op]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), params).unwrap();
    let what = describe(&params);
    let mut written: Vec<Vec<u8>> = Vec::new();
    let mut committed = 0usize;
    let mut producer: Option<Producer> = Some(store.producer(opts.clone()).unwrap());
    let open_consumer = || -> Consumer {
        store
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .unwrap()
    };
    let mut consumer = open_consumer();
    for op in ops {
        match op {
            Op::Append(v) => {
                let p = producer.get_or_insert_with(|| store.producer(opts.clone()).unwrap());
                let bytes = payload(&params, *v);
                p.append(&bytes).unwrap();
                written.push(bytes);
            }
            Op::Flush => {
                if let Some(p) = producer.as_mut() {
                    p.flush().unwrap();
                    prop_assert_eq!(p.confirmed_offset(), p.offset());
                }
            }
            Op::ReopenProducer => {
                if let Some(p) = producer.take() {
                    p.close().unwrap();
                }
                let p = store.producer(opts.clone()).unwrap();
                prop_assert!(
                    p.repair().actions.is_empty(),
                    "{what}: clean reopen repaired"
                );
                producer = Some(p);
            }
            Op::Consume { n, commit } => {
                let mut read = 0;
                for _ in 0..*n {
                    let Some(r) = consumer.try_next().unwrap() else {
                        break;
                    };
                    let want = written.get(committed + read);
                    prop_assert_eq!(Some(&r.payload.to_vec()), want, "{}", what);
                    read += 1;
                }
                if *commit {
                    consumer.commit().unwrap();
                    committed += read;
                } else {
                    consumer.rewind();
                }
            }
            Op::ReopenConsumer => {
                drop(consumer);
                consumer = open_consumer();
            }
        }
    }
    if let Some(p) = producer.take() {
        p.close().unwrap();
    }
    let mut rest = Vec::new();
    while let Some(r) = consumer.try_next().unwrap() {
        rest.push(r.payload.to_vec());
    }
    consumer.commit().unwrap();
    prop_assert_eq!(&rest[..], &written[committed..], "{}", what);
    drop(consumer);
    let all: Vec<Vec<u8>> = drain(&store).into_iter().map(|r| r.payload).collect();
    prop_assert_eq!(&all, &written, "{}: observer from earliest", what);
    // A consumer at the earliest record makes the inspection scan every segment.
    let audit = ConsumerId::parse("audit").unwrap();
    drop(store.consumer(&audit, StartAt::Earliest).unwrap());
    assert_consistent(&store, &what);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn fixed_round_trip(params in fixed_params(), opts in policy(),
                        ops in prop::collection::vec(op(), 1..60)) {
        run_script(params, opts, &ops)?;
    }

    #[test]
    fn stream_round_trip(params in stream_params(), opts in policy(),
                         ops in prop::collection::vec(op(), 1..60)) {
        run_script(params, opts, &ops)?;
    }
}

/// Every stream length that matters next to a segment boundary, in every position, read back.
#[test]
fn stream_boundary_lengths_round_trip() {
    for s in [6u64, 7, 15, 16, 33, 64, 499, 500, 760] {
        let params = Params::stream(s).unwrap();
        let max = params.max_payload();
        let lens: Vec<usize> = [1, 2, max, max - 1, 238, 494, max.saturating_sub(4), 3]
            .into_iter()
            .filter(|l| (1..=max).contains(l))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s"), params).unwrap();
        let mut p = store.producer(ProducerOptions::default()).unwrap();
        let mut want = Vec::new();
        for (i, a) in lens.iter().enumerate() {
            for b in &lens {
                let bytes = vec![(i % 251) as u8 + 1; *a];
                p.append(&bytes).unwrap();
                want.push(bytes);
                let bytes = vec![0xEE; *b];
                p.append(&bytes).unwrap();
                want.push(bytes);
            }
        }
        p.close().unwrap();
        let got: Vec<Vec<u8>> = drain(&store).into_iter().map(|r| r.payload).collect();
        assert_eq!(got, want, "stream S={s}");
        assert_consistent(&store, &format!("stream S={s}"));
    }
}
