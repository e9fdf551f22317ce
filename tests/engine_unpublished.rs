//! Issue #20, "readers never call unpublished bytes damage": the .NET stream producer copies a
//! record's header, payload and end marker with one memory copy and then advances
//! `producer.offset`, so a reader on another core sees the bytes land in any order. These
//! tests write a record's bytes out of order, as such a reader may see them, while a producer
//! holds the store (a .NET producer's `LOCK_SH` on `producer.offset`, or an mfq owner's lock),
//! and check that readers wait for the published offset instead of reading a wrong record or
//! reporting damage; and that without a producer the same bytes are damage, as before.
//! Timing is only bounded, never asserted.

mod common;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::bin::*;
use mfq::queue::{
    ConsumerId, Error, Format, Params, ParamsRequest, ProducerOptions, StartAt, Store,
};
use rustix::fs::{flock, FlockOperation};

/// The stream segment size of these stores.
const SEGMENT: u64 = 4096;

/// The length of the torn record: its header's low byte alone reads as 44.
const TORN_LEN: usize = 300;

/// A stream store as .NET lays it out (no `mfq.json`): one zeroed segment, `producer.offset`.
fn dotnet_stream_store(root: &Path) -> PathBuf {
    std::fs::create_dir_all(root.join("commitlog")).unwrap();
    std::fs::create_dir_all(root.join("offset")).unwrap();
    std::fs::write(seg0(root), vec![0u8; SEGMENT as usize]).unwrap();
    std::fs::write(root.join("offset/producer.offset"), 0u64.to_le_bytes()).unwrap();
    root.to_path_buf()
}

fn seg0(root: &Path) -> PathBuf {
    root.join("commitlog/00000000000000000000")
}

fn stream_params() -> ParamsRequest {
    ParamsRequest {
        format: Some(Format::Stream),
        record_size: None,
        segment_size: Some(SEGMENT),
    }
}

fn open_rw(path: &Path) -> File {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap()
}

/// A .NET producer's hold on the store: `producer.offset` open with `LOCK_SH` (flock).
fn dotnet_producer_lock(root: &Path) -> File {
    let f = open_rw(&root.join("offset/producer.offset"));
    flock(&f, FlockOperation::NonBlockingLockShared).unwrap();
    f
}

/// Publishes `value` (greater than the published one) as .NET does after its copy, one byte at a
/// time from the lowest: every value a reader can see on the way, old high bytes under new low
/// ones, is at most `value`, so no reader is told of bytes not yet written (an 8-byte `pwrite`
/// could tear any way).
fn publish(root: &Path, value: u64) {
    let f = open_rw(&root.join("offset/producer.offset"));
    let mut old = [0u8; 8];
    f.read_exact_at(&mut old, 0).unwrap();
    for (i, b) in value.to_le_bytes().iter().enumerate() {
        if old[i] != *b {
            f.write_all_at(&[*b], i as u64).unwrap();
        }
    }
}

/// The bytes of a whole stream record.
fn record(payload: &[u8]) -> Vec<u8> {
    let mut r = (payload.len() as i32).to_le_bytes().to_vec();
    r.extend_from_slice(payload);
    r.push(0xFF);
    r
}

/// A payload of [`TORN_LEN`] bytes whose byte 44 is `at_44`: where the marker of the
/// 44-byte record that the header's low byte alone describes would be.
fn torn_payload(at_44: u8) -> Vec<u8> {
    let mut p: Vec<u8> = (0..TORN_LEN).map(|i| (i % 200) as u8 + 1).collect();
    p[44] = at_44;
    p
}

/// Writes a record at `pos` the way a reader may see a one-copy write land: marker and
/// payload first, then the low byte of the length only. Returns the record's bytes.
fn write_torn(seg: &File, pos: u64, payload: &[u8]) -> Vec<u8> {
    let rec = record(payload);
    seg.write_all_at(&rec[4..], pos + 4).unwrap();
    seg.write_all_at(&rec[..1], pos).unwrap();
    rec
}

/// The rest of the header.
fn complete_header(seg: &File, pos: u64, rec: &[u8]) {
    seg.write_all_at(&rec[1..4], pos + 1).unwrap();
}

/// A store with `first` published at 0 (10 bytes) and a torn record at 10 (ends at 315).
fn store_with_torn(root: &Path, at_44: u8) -> (File, Vec<u8>) {
    dotnet_stream_store(root);
    let seg = open_rw(&seg0(root));
    seg.write_all_at(&record(b"first"), 0).unwrap();
    publish(root, 10);
    let rec = write_torn(&seg, 10, &torn_payload(at_44));
    (seg, rec)
}

#[test]
fn a_torn_record_past_a_live_dotnet_producers_offset_is_waited_for_then_read() {
    for at_44 in [0x1e, 0xFF] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let lock = dotnet_producer_lock(&dotnet_stream_store(&root));
        let (seg, rec) = store_with_torn(&root, at_44);
        let store = Store::open(&root, &stream_params()).unwrap();
        let mut c = store
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .unwrap();
        assert_eq!(c.try_next().unwrap().unwrap().payload, b"first");
        for _ in 0..3 {
            let r = c.try_next().map(|r| r.map(|r| r.to_owned()));
            assert!(matches!(r, Ok(None)), "at_44 {at_44:#x}: {r:?}");
        }
        // Waiting: nothing within the deadline, and no error.
        let r = c
            .next_until(Some(Instant::now() + Duration::from_millis(150)), None)
            .map(|r| r.map(|r| r.to_owned()));
        assert!(matches!(r, Ok(None)), "{r:?}");
        assert_eq!(c.position(), 10);

        // The copy completes and the producer publishes while the consumer waits.
        std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                complete_header(&seg, 10, &rec);
                publish(&root, 315);
            });
            let got = c
                .next_until(Some(Instant::now() + Duration::from_secs(20)), None)
                .unwrap()
                .expect("the record once published")
                .to_owned();
            assert_eq!(got.offset, 10);
            assert_eq!(got.payload, torn_payload(at_44));
        });
        // The next ones, published one by one.
        seg.write_all_at(&record(b"next"), 315).unwrap();
        seg.write_all_at(&record(b""), 324).unwrap();
        publish(&root, 329);
        assert_eq!(c.try_next().unwrap().unwrap().payload, b"next");
        let empty = c.try_next().unwrap().unwrap().to_owned();
        assert_eq!((empty.offset, empty.payload.len()), (324, 0));
        assert!(c.try_next().unwrap().is_none());
        drop(lock);
    }
}

#[test]
fn a_zero_header_over_a_landed_payload_is_not_an_empty_record_while_a_producer_is_live() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let lock = dotnet_producer_lock(&dotnet_stream_store(&root));
    let seg = open_rw(&seg0(&root));
    seg.write_all_at(&record(b"first"), 0).unwrap();
    publish(&root, 10);
    // Payload (first byte 0xFF) and marker landed, header still zero: `00 00 00 00 FF`.
    let mut payload = vec![0xFFu8; 3];
    payload[1] = b'x';
    let rec = record(&payload);
    seg.write_all_at(&rec[4..], 14).unwrap();
    let store = Store::open(&root, &stream_params()).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"first");
    assert!(obs.try_next().unwrap().is_none(), "not an empty record");
    assert_eq!(obs.position(), 10);
    seg.write_all_at(&rec[..4], 10).unwrap();
    publish(&root, 18);
    let got = obs.try_next().unwrap().unwrap().to_owned();
    assert_eq!((got.offset, got.payload), (10, payload));
    drop(lock);
}

#[test]
fn without_a_producer_the_same_bytes_are_read_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    // A marker of 0x1e where the short record's would be: damage, as before.
    let root = dir.path().join("damaged");
    let (_seg, _) = store_with_torn(&root, 0x1e);
    let store = Store::open(&root, &stream_params()).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"first");
    match obs.try_next() {
        Err(Error::Corrupt { what, offset, .. }) => {
            assert_eq!(offset, 10);
            assert!(what.contains("end marker is 0x1e"), "{what}");
        }
        other => panic!("{:?}", other.map(|r| r.map(|r| r.to_owned()))),
    }
    // A crashed store: whole records past a stale `producer.offset` are read.
    let root = dir.path().join("stale");
    dotnet_stream_store(&root);
    let seg = open_rw(&seg0(&root));
    seg.write_all_at(&record(b"first"), 0).unwrap();
    seg.write_all_at(&record(b"second"), 10).unwrap();
    publish(&root, 10);
    let store = Store::open(&root, &stream_params()).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"first");
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"second");
    assert!(obs.try_next().unwrap().is_none());
    // The same stale offset with a live producer: the second record waits for publication.
    let lock = dotnet_producer_lock(&root);
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"first");
    assert!(obs.try_next().unwrap().is_none());
    drop(lock);
}

#[test]
fn a_fixed_slot_whose_marker_landed_first_waits_for_publication() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("fixed");
    std::fs::create_dir_all(root.join("commitlog")).unwrap();
    std::fs::create_dir_all(root.join("offset")).unwrap();
    // Record size 8 (stride 9), span 90: one segment file of 91 bytes.
    std::fs::write(seg0(&root), vec![0u8; 91]).unwrap();
    std::fs::write(root.join("offset/producer.offset"), 0u64.to_le_bytes()).unwrap();
    let seg = open_rw(&seg0(&root));
    seg.write_all_at(b"aaaaaaaa\xFF", 0).unwrap();
    publish(&root, 9);
    seg.write_all_at(b"\xFF", 17).unwrap(); // the marker of slot 9, payload not landed
    let lock = dotnet_producer_lock(&root);
    let req = ParamsRequest {
        format: Some(Format::Fixed),
        record_size: Some(8),
        segment_size: Some(90),
    };
    let store = Store::open(&root, &req).unwrap();
    let mut obs = store.observer(StartAt::Earliest).unwrap();
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"aaaaaaaa");
    assert!(obs.try_next().unwrap().is_none(), "payload not landed yet");
    seg.write_all_at(b"bbbbbbbb", 9).unwrap();
    publish(&root, 18);
    assert_eq!(obs.try_next().unwrap().unwrap().payload, b"bbbbbbbb");
    drop(lock);
}

/// Writes `n` records into the store at `root` as a .NET producer that holds it (`LOCK_SH`),
/// each out of order (marker and payload, then the header from its last byte to its first),
/// publishing each once it is whole. Payloads are 250-270 bytes, so the low byte of a header
/// alone is a wrong length; segments roll as .NET rolls them (0xEE, a new file named after the
/// offset).
fn torn_writer(root: &Path, n: usize) -> Vec<Vec<u8>> {
    let _lock = dotnet_producer_lock(root);
    let mut seg_start = 0u64;
    let mut seg = open_rw(&seg0(root));
    let mut offset = 0u64;
    let mut sent = Vec::new();
    for i in 0..n {
        let payload: Vec<u8> = (0..250 + i % 21).map(|j| ((i + j) % 251) as u8).collect();
        let rec = record(&payload);
        if offset + rec.len() as u64 > seg_start + SEGMENT {
            seg.write_all_at(&[0xEE], offset - seg_start).unwrap();
            seg_start = offset;
            let path = root.join(format!("commitlog/{offset:020}"));
            std::fs::write(&path, vec![0u8; SEGMENT as usize]).unwrap();
            seg = open_rw(&path);
        }
        let pos = offset - seg_start;
        // Every 8th record lingers half-written, for followers in other processes to see.
        let linger = || {
            if i % 8 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        };
        seg.write_all_at(&rec[4..], pos + 4).unwrap();
        linger();
        for b in (0..4).rev() {
            seg.write_all_at(&rec[b..b + 1], pos + b as u64).unwrap();
            if b == 1 {
                linger();
            }
        }
        offset += rec.len() as u64;
        publish(root, offset);
        sent.push(payload);
    }
    sent
}

#[test]
fn a_consumer_follows_a_writer_whose_bytes_land_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dotnet_stream_store(&dir.path().join("store"));
    let store = Store::open(&root, &stream_params()).unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    const N: usize = 400;
    std::thread::scope(|s| {
        let writer = s.spawn(|| torn_writer(&root, N));
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while got.len() < N {
            match c.next_until(Some(deadline), None).unwrap() {
                Some(r) => got.push(r.payload.to_vec()),
                None => panic!("timed out after {} records", got.len()),
            }
        }
        assert_eq!(got, writer.join().unwrap());
    });
}

#[test]
fn consume_wait_and_tail_follow_a_writer_whose_bytes_land_out_of_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dotnet_stream_store(&dir.path().join("store"));
    const N: usize = 200;
    let n = N.to_string();
    let params = ["--format", "stream", "--segment-size", "4096"];
    let consume = [
        &["consume", arg(&root), "-n", &n, "--wait", "60s"][..],
        &params,
        &["--output", "json"],
    ]
    .concat();
    let tail = [
        &["tail", arg(&root), "--from", "earliest", "--output", "json"][..],
        &params,
    ]
    .concat();
    let mut children: Vec<(Child, mpsc::Receiver<String>)> = [consume, tail]
        .iter()
        .map(|args| {
            let mut child = mfq()
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let (tx, rx) = mpsc::channel();
            let stdout = child.stdout.take().unwrap();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    if tx.send(line.unwrap()).is_err() {
                        break;
                    }
                }
            });
            (child, rx)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let sent = torn_writer(&root, N);
    let want: Vec<u64> = sent
        .iter()
        .scan(0u64, |off, p| {
            let at = *off;
            *off += p.len() as u64 + 5;
            Some(at)
        })
        .collect();
    for (which, (child, rx)) in ["consume --wait", "tail"].iter().zip(children.iter_mut()) {
        let mut got = Vec::new();
        while got.len() < N {
            match rx.recv_timeout(BOUND) {
                Ok(line) => {
                    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                    got.push(v["offset"].as_u64().unwrap());
                }
                Err(_) => break,
            }
        }
        if *which == "tail" {
            let _ = child.kill();
        }
        let status = wait_bounded(child);
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert_eq!(got, want, "{which}: {status:?} {err}");
        if *which != "tail" {
            assert!(status.success(), "{which}: {status:?} {err}");
        }
    }
}

#[test]
fn a_consumer_follows_an_mfq_producer_by_its_markers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("store"), Params::stream(SEGMENT).unwrap()).unwrap();
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    const N: usize = 2000;
    let payload = |i: usize| -> Vec<u8> { (0..1 + i % 300).map(|j| (i + j) as u8).collect() };
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut p = store.producer(ProducerOptions::default()).unwrap();
            for i in 0..N {
                p.append(&payload(i)).unwrap();
            }
            // Held open a moment: the consumer reads while a producer is live.
            std::thread::sleep(Duration::from_millis(200));
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        for i in 0..N {
            let r = c.next_until(Some(deadline), None).unwrap();
            assert_eq!(r.expect("in time").payload, payload(i), "record {i}");
        }
    });
}
