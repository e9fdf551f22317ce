//! Shared fixtures of the integration tests: the golden .NET stores (their copies, parameters
//! and messages), sample stores built for a test, and reading or damaging a store's files.
//!
//! The harness for the built binary is the submodule `bin`; helpers that only the engine
//! suites need are in `tests/engine_util/`. Each test crate uses a part of this module.
#![allow(dead_code)]

pub mod bin;

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use mfq::queue::{ProducerOptions, Store};

/// Zeroes bytes `[from, to)` of a file (a crash that lost them).
pub fn zero_range(path: &Path, from: usize, to: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[from..to].fill(0);
    std::fs::write(path, bytes).unwrap();
}

/// The golden fixed stores' parameters as arguments (inference gives up on damaged copies).
pub const FIXED: [&str; 6] = [
    "--format",
    "fixed",
    "--record-size",
    "16",
    "--segment-size",
    "100",
];

/// The golden stream stores' parameters as arguments.
pub const STREAM: [&str; 4] = ["--format", "stream", "--segment-size", "64"];

/// The folder of the golden .NET stores.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/compat")
        .join(name)
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

/// A writable copy of a golden store in a fresh temporary folder.
pub fn fixture_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join(name);
    copy_tree(&fixture(name), &store);
    (dir, store)
}

/// Every file under `commitlog/` and `offset/`, relative path -> bytes.
pub fn store_files(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for sub in ["commitlog", "offset"] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            // Reading a FIFO would block: anything but a file is recorded by its kind.
            let bytes = match e.file_type().unwrap() {
                t if t.is_file() => std::fs::read(e.path()).unwrap(),
                t => format!("{t:?}").into_bytes(),
            };
            out.insert(format!("{sub}/{}", e.file_name().to_string_lossy()), bytes);
        }
    }
    out
}

/// Reads an 8-byte offset file, which must exist.
pub fn offset_value(root: &Path, name: &str) -> u64 {
    consumer_offset(root, name).unwrap_or_else(|| panic!("no offset file {name}"))
}

/// Reads an 8-byte offset file, if it can be read.
pub fn consumer_offset(root: &Path, name: &str) -> Option<u64> {
    let b = std::fs::read(root.join("offset").join(name)).ok()?;
    Some(u64::from_le_bytes(b.try_into().unwrap()))
}

/// Writes an 8-byte offset file.
pub fn set_offset(root: &Path, name: &str, value: u64) {
    std::fs::write(root.join("offset").join(name), value.to_le_bytes()).unwrap();
}

/// A segment file of a store.
pub fn segment(root: &Path, start: u64) -> PathBuf {
    root.join("commitlog").join(format!("{start:020}"))
}

/// Overwrites bytes of a file at `pos`.
pub fn poke(path: &Path, pos: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, pos).unwrap();
}

/// Holds a flock on a file the way the .NET libraries do (`LOCK_SH`) until dropped.
pub struct Held(File);

/// Takes `LOCK_SH` on `path` (a live .NET reader or writer).
pub fn hold_shared(path: &Path) -> Held {
    let f = File::open(path).unwrap();
    // SAFETY: flock on a descriptor we own; no memory is involved.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    assert_eq!(r, 0, "flock {}", path.display());
    Held(f)
}

/// The messages of the golden `stream` store, in order.
pub fn stream_messages() -> Vec<Vec<u8>> {
    [
        "hello",
        "world!",
        "The quick brown fox jump",
        "0123456789AB",
        "xyz",
    ]
    .iter()
    .map(|m| m.as_bytes().to_vec())
    .collect()
}

/// Appends `messages` to `store` with a default producer, which is closed after.
pub fn produce_all(store: &Store, messages: &[Vec<u8>]) {
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for m in messages {
        p.append(m).unwrap();
    }
    p.close().unwrap();
}

/// Creates a stream store at `store` with the binary and appends `messages`.
pub fn stream_store(store: &Path, segment_size: &str, messages: &[&str]) {
    let mut args = vec![
        "produce",
        bin::arg(store),
        "--format",
        "stream",
        "--segment-size",
        segment_size,
    ];
    for m in messages {
        args.extend(["-m", m]);
    }
    bin::ok(&bin::run(&args));
}

/// The fixed test message i of the .NET suites: four i32 LE {i, i+1, i+2, i+3}.
pub fn fixed_message(i: i32) -> Vec<u8> {
    [i, i + 1, i + 2, i + 3]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// A stream store of 40 records of 25 bytes at `dir/store` (segments of 256 bytes, starting 0,
/// 250, 500, 750), the default consumer at 500 (lag 20 messages, 500 bytes) and consumer
/// `reports` at 75 (lag 37, 925 bytes).
pub fn lagging_store(dir: &Path) -> PathBuf {
    let store = dir.join("store");
    let messages: Vec<String> = (1..=40).map(|i| format!("message number {i:05}")).collect();
    let refs: Vec<&str> = messages.iter().map(String::as_str).collect();
    stream_store(&store, "256", &refs);
    bin::ok(&bin::run_on(
        &store,
        &["consume", "--consumer", "reports", "-n", "3"],
    ));
    bin::ok(&bin::run_on(&store, &["consume", "-n", "20"]));
    assert_eq!(offset_value(&store, "consumer.reports.offset"), 75);
    assert_eq!(offset_value(&store, "consumer.offset"), 500);
    store
}

/// A stream store at `store` (64 KiB segments) holding 20,000 records, each 39 zero-padded
/// digits (`0...0` to `0...19999`), written with the binary.
pub fn stream_store_of_20000(store: &Path) {
    let input: String = (0..20_000).map(|i| format!("{i:039}\n")).collect();
    let args = [
        "produce",
        bin::arg(store),
        "--format",
        "stream",
        "--segment-size",
        "64KiB",
    ];
    bin::ok(&bin::run_in(&args, input.as_bytes()));
}
