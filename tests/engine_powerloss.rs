//! Power loss, simulated as crash images. Two generations of a store are built: A (an older
//! history) and B (the true last state, synced up to its confirmed offset C). A crash image
//! keeps B below C and, page by page past C, takes B's bytes, A's (stale) or zeros (lost);
//! it may tear records (payload zero, marker 0xFF), drop segment files created after the last
//! sync, and carry offset files that are older, behind or ahead of the data.
//!
//! After recovery (inspect + plan + apply, or just opening a producer): nothing below C is
//! lost, every delivered record is framed as a record written at that offset (in A or B) with
//! bytes that were written there (or zeros of a lost page), the producer resumes at
//! max(data end, every consumer offset), the store is consistent, and new appends reach the
//! consumer.
//!
//! Longer soak: `MFQ_POWERLOSS_SCALE=20 cargo test --release --test engine_powerloss`.

mod engine_util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use engine_util::*;
use mfq::queue::{
    ConsumerId, Format, OwnedRecord, Params, ParamsRequest, ProducerOptions, StartAt, Store,
};

type Snap = BTreeMap<PathBuf, Option<Vec<u8>>>;

/// One generation: its files and records.
struct Gen {
    snap: Snap,
    records: Vec<OwnedRecord>,
}

/// Builds a generation: messages 0..c_idx are the common synced history, later ones get
/// `salt` so that generations differ (and, for stream, frame differently).
fn build_gen(params: Params, c_idx: u64, n: u64, salt: u64, commit: usize) -> Gen {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let store = Store::create(&root, params).unwrap();
    let mut p = store
        .producer(ProducerOptions {
            flush_every: None,
            ..Default::default()
        })
        .unwrap();
    let mut records = Vec::new();
    for i in 0..n {
        let payload = message(&params, if i < c_idx { i } else { i + salt });
        records.push(append(&mut p, payload));
    }
    p.close().unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    for _ in 0..commit {
        c.try_next().unwrap();
    }
    c.commit().unwrap();
    drop(c);
    let _ = std::fs::remove_file(store.layout().wake());
    Gen {
        snap: snapshot(&root),
        records,
    }
}

fn seg_start(rel: &Path) -> Option<u64> {
    rel.strip_prefix("commitlog").ok()?.to_str()?.parse().ok()
}

/// How pages past C are chosen.
#[derive(Clone, Copy, Debug)]
enum Mode {
    Zero,
    Stale,
    Mixed,
    Torn,
}

const PAGE: usize = 16;

/// Builds a crash image of B (with A as the stale generation) and the true confirmed offset.
fn crash_image(params: &Params, a: &Gen, b: &Gen, c: u64, mode: Mode, rng: &mut XorShift) -> Snap {
    let mut img = b.snap.clone();
    for (rel, bytes) in img.iter_mut() {
        let (Some(start), Some(bytes)) = (seg_start(rel), bytes.as_mut()) else {
            continue;
        };
        let stale = a.snap.get(rel).cloned().flatten().unwrap_or_default();
        let keep = c.saturating_sub(start).min(bytes.len() as u64) as usize;
        for page in (0..bytes.len()).step_by(PAGE) {
            let end = (page + PAGE).min(bytes.len());
            let from = page.max(keep);
            if from >= end {
                continue;
            }
            let pick = match mode {
                Mode::Zero => 0,
                Mode::Stale => 1,
                Mode::Mixed | Mode::Torn => rng.range(0, 2),
            };
            for (p, byte) in bytes.iter_mut().enumerate().take(end).skip(from) {
                match pick {
                    0 => *byte = 0,
                    1 => *byte = stale.get(p).copied().unwrap_or(0),
                    _ => {}
                }
            }
        }
        if start >= c && rng.range(0, 3) == 0 {
            bytes.clear(); // created after the last sync: its length was not persisted
        }
    }
    if let Mode::Torn = mode {
        tear_records(params, b, c, &mut img, rng);
    }
    for (rel, bytes) in &a.snap {
        if seg_start(rel).is_some_and(|s| s >= c) && !img.contains_key(rel) && rng.range(0, 1) == 0
        {
            img.insert(rel.clone(), bytes.clone());
        }
    }
    img.retain(|rel, bytes| {
        !(seg_start(rel).is_some_and(|s| s >= c) && bytes.as_ref().is_some_and(|b| b.is_empty()))
            || rng.range(0, 1) == 0
    });
    set_offsets(a, b, c, &mut img, rng);
    img
}

/// Zeroes the payload of some B records past C, keeping header and marker.
fn tear_records(params: &Params, b: &Gen, c: u64, img: &mut Snap, rng: &mut XorShift) {
    let segs: Vec<(u64, PathBuf)> = img
        .keys()
        .filter_map(|k| seg_start(k).map(|s| (s, k.clone())))
        .collect();
    for r in b.records.iter().filter(|r| r.offset >= c) {
        if rng.range(0, 2) != 0 {
            continue;
        }
        let Some((start, rel)) = segs.iter().rev().find(|(s, _)| *s <= r.offset) else {
            continue;
        };
        let bytes = img.get_mut(rel).unwrap().as_mut().unwrap();
        let head = if params.format() == Format::Stream {
            4
        } else {
            0
        };
        let pos = (r.offset - start) as usize + head;
        let end = (pos + r.payload.len()).min(bytes.len());
        bytes[pos.min(end)..end].fill(0);
    }
}

fn write_u64(img: &mut Snap, name: &str, v: u64) {
    img.insert(
        Path::new("offset").join(name),
        Some((v as i64).to_le_bytes().to_vec()),
    );
}

/// Offset files as a crash may leave them: B's, A's, older, behind or ahead.
fn set_offsets(a: &Gen, b: &Gen, c: u64, img: &mut Snap, rng: &mut XorShift) {
    let b_end = b.records.last().unwrap().next_offset;
    let a_end = a.records.last().unwrap().next_offset;
    let older = b.records[rng.range(0, b.records.len() as u64 - 1) as usize].offset;
    let p = [b_end, a_end, c, older, b_end + 7, 0][rng.range(0, 5) as usize];
    write_u64(img, "producer.offset", p);
    let conf = [c, older.min(c), 0][rng.range(0, 2) as usize];
    write_u64(img, "producer.confirmed.offset", conf);
    if rng.range(0, 2) == 0 {
        let k = [older, c, b_end][rng.range(0, 2) as usize];
        write_u64(img, "consumer.offset", k);
    }
}

/// The byte that generation `g` wrote at `pos` of segment file `start` (None: no such byte).
fn gen_byte(g: &Gen, start: u64, pos: usize) -> Option<u8> {
    let rel = Path::new("commitlog").join(format!("{start:020}"));
    g.snap.get(&rel)?.as_ref()?.get(pos).copied()
}

/// Checks one delivered record against what was ever written at its offset.
/// `segs` are the segment starts of the store the record was read from.
#[allow(clippy::too_many_arguments)]
fn check_record(
    params: &Params,
    a: &Gen,
    b: &Gen,
    c: u64,
    segs: &[u64],
    r: &OwnedRecord,
    what: &str,
) {
    let in_b = b.records.iter().find(|x| x.offset == r.offset);
    if r.offset < c {
        assert_eq!(
            Some(r),
            in_b,
            "{what}: record at {} below C={c} differs",
            r.offset
        );
        return;
    }
    let in_a = a.records.iter().find(|x| x.offset == r.offset);
    let framed = [in_a, in_b]
        .iter()
        .flatten()
        .any(|x| x.next_offset == r.next_offset);
    assert!(
        framed,
        "{what}: record at {} was never written with that framing",
        r.offset
    );
    let start = segs
        .iter()
        .rev()
        .find(|s| **s <= r.offset)
        .copied()
        .unwrap_or(0);
    let head = if params.format() == Format::Stream {
        4
    } else {
        0
    };
    for (i, byte) in r.payload.iter().enumerate() {
        let pos = (r.offset - start) as usize + head + i;
        let ok = *byte == 0
            || gen_byte(a, start, pos) == Some(*byte)
            || gen_byte(b, start, pos) == Some(*byte);
        assert!(
            ok,
            "{what}: record at {} byte {i} was never written",
            r.offset
        );
    }
}

/// Recovers a crash image one of two ways and checks everything the file promises.
fn check_image(
    params: &Params,
    a: &Gen,
    b: &Gen,
    c: u64,
    img: &Snap,
    via_producer: bool,
    what: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    restore(&root, img);
    let store = Store::open(&root, &ParamsRequest::default()).unwrap();
    if via_producer {
        drop(store.producer(ProducerOptions::default()).unwrap());
    }
    recover(&store, Some(dir.path().join("saved")));
    let report = store.inspect().unwrap();
    assert!(
        !report.needs_repair(),
        "{what}: segments {:?}, producer {:?}, confirmed {:?}, consumers {:?}: {:#?}",
        report
            .segments
            .iter()
            .map(|s| (s.start, s.len))
            .collect::<Vec<_>>(),
        report.producer_offset,
        report.confirmed_offset,
        report.max_consumer(),
        report.issues
    );
    let got = drain(&store);
    let segs: Vec<u64> = store.segments().unwrap().iter().map(|s| s.start).collect();
    let below_c = b.records.iter().filter(|r| r.next_offset <= c).count();
    assert!(got.len() >= below_c, "{what}: lost records below C={c}");
    for r in &got {
        check_record(params, a, b, c, &segs, r, what);
    }
    let max_consumer = report.max_consumer().unwrap_or(0);
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    let want = report.data_end.unwrap().max(max_consumer);
    assert_eq!(
        p.offset(),
        want,
        "{what}: producer must resume at max(data end, consumers)"
    );
    assert_eq!(
        store.data_end().unwrap(),
        want,
        "{what}: StartAt::Latest is the producer offset"
    );
    let extra = [message(params, 7001), message(params, 7002)];
    let at = p.append(&extra[0]).unwrap();
    p.append(&extra[1]).unwrap();
    p.close().unwrap();
    let mut cons = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap_or_else(|e| {
            let r = store.inspect().unwrap();
            panic!(
                "{what}: consumer open: {e}; segments {:?} (data end {:?}, producer {:?}) \
                 after appending at {at}",
                r.segments
                    .iter()
                    .map(|s| (s.start, s.len))
                    .collect::<Vec<_>>(),
                r.data_end,
                r.producer_offset
            )
        });
    let mut read = Vec::new();
    while let Some(r) = cons.try_next().unwrap() {
        read.push(r.to_owned());
    }
    let (old, new) = read.split_at(read.len().saturating_sub(2));
    for r in old {
        check_record(params, a, b, c, &segs, r, what);
    }
    assert_eq!(
        new.len(),
        2,
        "{what}: the consumer must reach the new records"
    );
    assert_eq!((new[0].offset, &new[0].payload), (at, &extra[0]), "{what}");
    assert_eq!(new[1].payload, extra[1], "{what}");
    drop(cons);
    assert_consistent(&store, &format!("{what}, after appending"));
}

/// Runs `images` crash images (times `MFQ_POWERLOSS_SCALE`, default 1, for a longer soak).
fn run(params: Params, images: u64, seed: u64) {
    let scale: u64 = std::env::var("MFQ_POWERLOSS_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let images = images * scale;
    let mut rng = XorShift::new(seed);
    let (c_idx, n_b, n_a) = (6, 14, 16);
    let b = build_gen(params, c_idx, n_b, 5000, 4);
    let a = build_gen(params, c_idx, n_a, 1000, 0);
    let c = b.records[c_idx as usize].offset;
    for n in 0..images {
        let mode = [Mode::Zero, Mode::Stale, Mode::Mixed, Mode::Torn][(n % 4) as usize];
        let img = crash_image(&params, &a, &b, c, mode, &mut rng);
        let what = format!("{} image {n} {mode:?}", describe(&params));
        check_image(&params, &a, &b, c, &img, n % 2 == 1, &what);
    }
}

#[test]
fn fixed_store_recovers_from_power_loss_images() {
    run(Params::fixed(16, 60).unwrap(), 160, 1);
    run(Params::fixed(3, 20).unwrap(), 80, 2);
}

#[test]
fn stream_store_recovers_from_power_loss_images() {
    run(Params::stream(128).unwrap(), 160, 3);
    run(Params::stream(48).unwrap(), 80, 4);
}

/// Offset files left behind or ahead of the data by a crash, with the data intact.
#[test]
fn offsets_behind_or_ahead_of_intact_data_are_repaired() {
    for params in [Params::fixed(16, 60).unwrap(), Params::stream(128).unwrap()] {
        let b = build_gen(params, 14, 14, 0, 4);
        let end = b.records.last().unwrap().next_offset;
        for (p, conf) in [(0, 0), (end / 2, 0), (end + 17, end), (end, end + 40)] {
            let mut img = b.snap.clone();
            write_u64(&mut img, "producer.offset", p);
            write_u64(&mut img, "producer.confirmed.offset", conf);
            let what = format!("{} producer {p} confirmed {conf}", describe(&params));
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path().join("s");
            restore(&root, &img);
            let store = Store::open(&root, &ParamsRequest::default()).unwrap();
            let prod = store.producer(ProducerOptions::default()).unwrap();
            assert_eq!(prod.offset(), end, "{what}");
            assert!(prod.confirmed_offset() <= end, "{what}");
            drop(prod);
            assert_eq!(drain(&store), b.records, "{what}");
            assert_consistent(&store, &what);
        }
    }
}
