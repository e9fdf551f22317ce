//! The two fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/` (included with
//! `#[path]`) and their bounded property-test versions in `tests/engine_fuzz_props.rs`.
//!
//! - `scan_walk`: `scan::walk` over arbitrary bytes with arbitrary small parameters must not
//!   panic, and its entries must tile the bytes they describe.
//! - `recovery`: arbitrary bytes written as segment and offset files of a store; inspect, plan
//!   and apply must not panic and must leave a consistent store that a consumer reads without
//!   error and a producer appends to.
//!
//! A harness panics on any violation; it must stay deterministic and bounded.
#![allow(dead_code)]

use mfq::queue::recovery::{self, ApplyOptions};
use mfq::queue::scan::{self, Status};
use mfq::queue::{ConsumerId, Params, ProducerOptions, StartAt, Store};

/// Bytes consumed from the front of the input.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a.to_vec()
    }
}

/// Small parameters of either format from two bytes.
fn params(inp: &mut Input) -> Params {
    let (a, b) = (inp.byte(), inp.byte());
    if a % 2 == 0 {
        let p = 1 + (a / 2 % 12) as u32;
        let m = p as u64 + 1;
        Params::fixed(p, m * (1 + b as u64 % 4) + (b as u64 / 4) % m).unwrap()
    } else {
        Params::stream(6 + b as u64 % 64).unwrap()
    }
}

/// Walks arbitrary bytes and checks the entries tile them.
pub fn scan_walk(data: &[u8]) {
    let mut inp = Input(data);
    let params = params(&mut inp);
    let start = inp.byte() as u64 * 1000;
    let bytes = inp.take(usize::MAX);
    let entries = scan::walk(&params, start, &bytes);
    let mut pos = 0u64;
    for e in &entries {
        assert_eq!(e.position, pos, "entries are contiguous");
        assert_eq!(e.offset, start + e.position);
        assert!(
            e.position + e.size <= bytes.len() as u64,
            "entry inside the bytes"
        );
        if e.status == Status::Ok {
            let r = e.payload_range(params.format());
            assert!(r.end <= bytes.len() && r.start <= r.end);
        }
        pos += e.size;
    }
    let end = scan::valid_end(&params, start, &bytes);
    assert!(end >= start && end <= start + bytes.len() as u64);
}

/// Writes an offset file chosen by the input: missing, a small value, raw bytes, or a wrong
/// length.
fn offset_file(inp: &mut Input, path: &std::path::Path, scale: u64) {
    match inp.byte() % 5 {
        0 => {}
        1 | 2 => {
            let v = (inp.byte() as u64 * 256 + inp.byte() as u64) % scale;
            std::fs::write(path, v.to_le_bytes()).unwrap();
        }
        3 => std::fs::write(path, inp.take(8)).unwrap(),
        _ => {
            let n = inp.byte() as usize % 12;
            std::fs::write(path, inp.take(n)).unwrap();
        }
    }
}

/// Builds a store from arbitrary bytes, repairs it, and checks it is consistent and usable.
pub fn recovery(data: &[u8]) {
    let mut inp = Input(data);
    let params = params(&mut inp);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), params).unwrap();
    let file_len = params.file_len() as usize;
    let count = 1 + inp.byte() as u64 % 3;
    let mut start = 0u64;
    for _ in 0..count {
        let len = match inp.byte() % 4 {
            0 => inp.byte() as usize % (file_len + 1),
            _ => file_len,
        };
        let mut bytes = inp.take(len);
        bytes.resize(len, 0);
        std::fs::write(store.layout().segment(start), &bytes).unwrap();
        start += match params.stride() {
            Some(_) => params.span() * (1 + inp.byte() as u64 % 2),
            None => 1 + inp.byte() as u64 % params.segment_size(),
        };
    }
    let scale = start + params.segment_size();
    let l = store.layout();
    for path in [l.producer_offset(), l.confirmed_offset()] {
        offset_file(&mut inp, &path, scale);
    }
    offset_file(&mut inp, &l.consumer_offset(&ConsumerId::Default), scale);
    let report = store.inspect().unwrap();
    let plan = recovery::plan(&report, true);
    let opts = |remove_confirmed| ApplyOptions {
        save_to: Some(dir.path().join("saved")),
        force: false,
        remove_confirmed,
    };
    // Removing confirmed bytes needs consent: refused first, with nothing changed.
    if plan.confirmed_loss.is_some() {
        let before = files_of(store.path());
        let refused = recovery::apply(store.layout(), &plan, &opts(false));
        assert!(
            matches!(refused, Err(mfq::queue::Error::ConfirmedLoss { .. })),
            "{refused:?}"
        );
        assert!(
            files_of(store.path()) == before,
            "a refused repair changed the store"
        );
    }
    recovery::apply(store.layout(), &plan, &opts(true)).unwrap();
    let again = store.inspect().unwrap();
    assert!(
        !again.needs_repair(),
        "not consistent after apply: {:#?}",
        again.issues
    );
    // A consumer seen for the first time starts where the repair's scan started: records
    // below the lowest consumer and confirmed offset are not rescanned (recovery policy 1).
    let first = StartAt::Offset(again.scanned_from.unwrap());
    let mut c = store.consumer(&ConsumerId::Default, first).unwrap();
    let segs: Vec<_> = store
        .segments()
        .unwrap()
        .iter()
        .map(|s| (s.start, std::fs::read(&s.path).unwrap()))
        .collect();
    let mut n = 0;
    while c.try_next().unwrap().is_some() {
        n += 1;
        assert!(n < 100_000);
    }
    drop(c);
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    assert!(
        p.repair().actions.is_empty(),
        "producer repaired a repaired store: {:#?}\nsegments {:?}\nreport {:#?}",
        p.repair().actions,
        segs,
        again
    );
    let msg = vec![
        0x5A;
        params
            .record_size()
            .map_or(params.max_payload().min(3), |p| p as usize)
    ];
    assert_eq!(store.data_end().unwrap(), p.offset(), "StartAt::Latest");
    let at = p.append(&msg).unwrap();
    p.close().unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    let mut last = None;
    while let Some(r) = c.try_next().unwrap() {
        last = Some((r.offset, r.payload.to_vec()));
    }
    assert_eq!(
        last,
        Some((at, msg)),
        "the consumer reads the appended record"
    );
    let report = store.inspect().unwrap();
    assert!(
        !report.needs_repair(),
        "after an append: {:#?}",
        report.issues
    );
}

/// Every file under `root` with its bytes.
fn files_of(root: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}
