//! Helpers shared by the engine reliability suites (`tests/engine_*.rs`): deterministic
//! messages, stores built from a script, whole-store snapshots, draining readers and the
//! consistency check every suite ends with.
//!
//! This module must not assert on timing; every helper is bounded.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mfq::queue::recovery::{self, ApplyOptions};
use mfq::queue::{
    Format, Observer, OwnedRecord, Params, Producer, ProducerOptions, StartAt, Store,
};

/// A small deterministic PRNG (xorshift64*), so tests need no seed plumbing.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a seed (0 is remapped).
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
}

/// Stream message i: "msg-{i}" repeated to a pseudo-random length in 1..=max derived from i.
pub fn stream_msg(i: u64, max: usize) -> Vec<u8> {
    let len = 1 + (XorShift::new(i + 7).next() as usize % max);
    let unit = format!("msg-{i};");
    unit.bytes().cycle().take(len).collect()
}

/// Fixed message i: i as u64 little-endian, padded with bytes derived from i (0xFF among
/// them), truncated to `size`.
pub fn fixed_msg(i: u64, size: usize) -> Vec<u8> {
    let mut out = i.to_le_bytes().to_vec();
    let mut r = XorShift::new(i + 11);
    while out.len() < size {
        let b = r.next() as u8;
        out.push(if b % 4 == 0 { 0xFF } else { b });
    }
    out.truncate(size);
    out
}

/// Message i of a store with these parameters.
pub fn message(params: &Params, i: u64) -> Vec<u8> {
    match params.record_size() {
        Some(p) => fixed_msg(i, p as usize),
        None => stream_msg(i, params.max_payload().min(300)),
    }
}

/// Every file under `root`, relative path -> bytes (folders as an empty marker entry).
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    walk_tree(root, root, &mut out);
    out
}

fn walk_tree(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let path = e.path();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            out.insert(rel, None);
            walk_tree(root, &path, out);
        } else {
            out.insert(rel, std::fs::read(&path).ok());
        }
    }
}

/// Writes a snapshot back under `root` (which must not exist yet).
pub fn restore(root: &Path, snap: &BTreeMap<PathBuf, Option<Vec<u8>>>) {
    std::fs::create_dir_all(root).unwrap();
    for (rel, bytes) in snap {
        let path = root.join(rel);
        match bytes {
            None => std::fs::create_dir_all(&path).unwrap(),
            Some(b) => {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, b).unwrap();
            }
        }
    }
}

/// Every record an observer reads from the earliest one (panics on a read error).
pub fn drain(store: &Store) -> Vec<OwnedRecord> {
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    drain_observer(&mut obs)
}

/// Every record an observer reads until nothing is ready (bounded).
pub fn drain_observer(obs: &mut Observer) -> Vec<OwnedRecord> {
    let mut out = Vec::new();
    while let Some(r) = obs.try_next().unwrap() {
        out.push(r.to_owned());
        assert!(out.len() < 10_000_000, "runaway read");
    }
    out
}

/// The messages a producer wrote, as the offsets they got and their payloads.
pub fn produce(store: &Store, from: u64, count: u64, opts: ProducerOptions) -> Vec<OwnedRecord> {
    let mut p = store.producer(opts).unwrap();
    let mut out = Vec::new();
    for i in from..from + count {
        out.push(append(&mut p, message(store.params(), i)));
    }
    p.close().unwrap();
    out
}

/// Appends `payload` and returns the record it became.
pub fn append(p: &mut Producer, payload: Vec<u8>) -> OwnedRecord {
    let offset = p.append(&payload).unwrap();
    OwnedRecord {
        offset,
        next_offset: p.offset(),
        payload,
    }
}

/// Inspects, plans (with consumers), applies with `save_to`, and returns the applied result.
pub fn recover(store: &Store, save_to: Option<PathBuf>) -> recovery::Applied {
    let report = store.inspect().unwrap();
    let plan = recovery::plan(&report, true);
    recovery::apply(
        store.layout(),
        &plan,
        &ApplyOptions {
            save_to,
            force: false,
            remove_confirmed: false,
        },
    )
    .unwrap()
}

/// Like [`recover`], for damage a test put below the confirmed offset: a plan that removes
/// confirmed bytes is first refused without consent (typed, naming the same bytes, and nothing
/// changes), then applied with it.
pub fn recover_consenting(store: &Store, save_to: Option<PathBuf>) -> recovery::Applied {
    let report = store.inspect().unwrap();
    let plan = recovery::plan(&report, true);
    let opts = |remove_confirmed| ApplyOptions {
        save_to: save_to.clone(),
        force: false,
        remove_confirmed,
    };
    if let Some(loss) = &plan.confirmed_loss {
        assert!(loss.from < loss.to && loss.to <= loss.confirmed, "{loss:?}");
        let before = snapshot(store.path());
        let err = recovery::apply(store.layout(), &plan, &opts(false)).unwrap_err();
        assert!(
            matches!(&err, mfq::queue::Error::ConfirmedLoss { from, to, .. } if (*from, *to) == (loss.from, loss.to)),
            "{err}"
        );
        assert!(
            snapshot(store.path()) == before,
            "a refused repair changed the store"
        );
    }
    recovery::apply(store.layout(), &plan, &opts(true)).unwrap()
}

/// Asserts that a fresh inspection finds nothing to repair, naming the issues if it does.
#[track_caller]
pub fn assert_consistent(store: &Store, what: &str) {
    let report = store.inspect().unwrap();
    assert!(
        !report.needs_repair(),
        "{what}: store still needs repair: {:#?}",
        report.issues
    );
}

/// The parameters' display name, for messages.
pub fn describe(params: &Params) -> String {
    match params.format() {
        Format::Fixed => format!(
            "fixed P={} S={}",
            params.record_size().unwrap(),
            params.segment_size()
        ),
        Format::Stream => format!("stream S={}", params.segment_size()),
    }
}

/// Asserts that `got` is a prefix of `want` (record offsets and payloads).
#[track_caller]
pub fn assert_prefix(got: &[OwnedRecord], want: &[OwnedRecord], what: &str) {
    assert!(
        got.len() <= want.len(),
        "{what}: read {} records, only {} were written",
        got.len(),
        want.len()
    );
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{what}: record #{i} differs");
    }
}
