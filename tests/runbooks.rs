//! The README's runbooks, run as written: every line of each `sh` block under "## Runbooks",
//! with `mfq` on PATH, in a folder whose `./store` was damaged for that scenario. A line's
//! comment saying "exits N" gives its expected status (0 otherwise); after each block the
//! store must be in the state the runbook promises.

mod common;

use common::bin::*;
use common::*;
use mfq::queue::{ConsumerId, Params, StartAt, Store};
use std::path::Path;

/// `(heading, lines)` of each runbook block.
fn runbooks() -> Vec<(String, Vec<String>)> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## Runbooks")
        .nth(1)
        .expect("a Runbooks section");
    let section = section.split("\n## ").next().unwrap();
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut block: Option<Vec<String>> = None;
    for line in section.lines() {
        if let Some(h) = line.strip_prefix("### ") {
            heading = h.to_string();
        } else if line.trim() == "```sh" {
            block = Some(Vec::new());
        } else if line.trim() == "```" {
            if let Some(b) = block.take() {
                out.push((heading.clone(), b));
            }
        } else if let Some(b) = block.as_mut() {
            if !line.trim().is_empty() && !line.trim_start().starts_with('#') {
                b.push(line.to_string());
            }
        }
    }
    out
}

/// Runs one runbook's lines in `dir`; panics with the line and its output on a wrong status.
fn run_block(dir: &Path, lines: &[String]) {
    for line in lines {
        let (cmd, comment) = line.split_once(" #").unwrap_or((line, ""));
        let want = comment
            .split("exits ")
            .nth(1)
            .and_then(|r| r[..1].parse::<i32>().ok())
            .unwrap_or(0);
        let out = run_cmd(sh(cmd.trim()).current_dir(dir), b"");
        assert_eq!(
            out.status.code(),
            Some(want),
            "`{}` exited {:?}, expected {want}\nstdout:\n{}\nstderr:\n{}",
            cmd.trim(),
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn block(title: &str) -> Vec<String> {
    runbooks()
        .into_iter()
        .find(|(h, _)| h.contains(title))
        .unwrap_or_else(|| panic!("no runbook titled {title:?}"))
        .1
}

#[test]
fn every_runbook_block_is_covered() {
    let titles: Vec<String> = runbooks().into_iter().map(|r| r.0).collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
}

#[test]
fn poison_message_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    // A .NET stream store whose consumer sits on a 238-byte payload (its reader loops on it).
    let store = Store::create(&path, Params::stream(4096).unwrap()).unwrap();
    produce_all(
        &store,
        &[b"first".to_vec(), vec![b'p'; 238], b"after".to_vec()],
    );
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    c.try_next().unwrap().unwrap();
    c.commit().unwrap();
    drop(c);
    std::fs::remove_file(path.join("mfq.json")).unwrap();
    run_block(dir.path(), &block("poison"));
    assert_eq!(offset_value(&path, "consumer.offset"), 10 + 243);
}

#[test]
fn named_consumer_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::create(&path, Params::stream(4096).unwrap()).unwrap();
    produce_all(&store, &[b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    let lines = block("new reader");
    // Up to the consume: the consumer exists at the oldest record, then has read two.
    let consume = lines
        .iter()
        .position(|l| l.starts_with("mfq consume"))
        .unwrap();
    run_block(dir.path(), &lines[..=consume]);
    assert_eq!(offset_value(&path, "consumer.reports.offset"), 12);
    run_block(dir.path(), &lines[consume + 1..]);
    assert!(
        !path.join("offset/consumer.reports.offset").exists(),
        "deleted at the end"
    );
    assert!(!path.join("offset/consumer.offset").exists(), "untouched");
}

#[test]
fn consumed_segments_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::create(&path, Params::fixed(16, 100).unwrap()).unwrap();
    produce_all(&store, &(0..20).map(fixed_message).collect::<Vec<_>>());
    std::fs::write(path.join("offset/consumer.offset"), 170u64.to_le_bytes()).unwrap();
    run_block(dir.path(), &block("disk is full"));
    let left: Vec<u64> = store.segments().unwrap().iter().map(|s| s.start).collect();
    assert_eq!(left, vec![170, 255]);
    assert_eq!(offset_value(&path, "consumer.offset"), 170);
}

#[test]
fn crash_runbook() {
    let (dir, path) = fixture_copy("fixed");
    let root = dir.path().join("store");
    std::fs::rename(&path, &root).unwrap();
    // The .NET test-suite crash: producer.offset ahead of the data, plus a torn record (payload
    // written, no marker) in a segment created just before the crash.
    std::fs::write(root.join("offset/producer.offset"), 119u64.to_le_bytes()).unwrap();
    let mut torn = vec![0u8; 86];
    torn[..16].copy_from_slice(&fixed_message(5));
    std::fs::write(root.join("commitlog/00000000000000000085"), torn).unwrap();
    run_block(dir.path(), &block("crash"));
    assert_eq!(offset_value(&root, "producer.offset"), 85);
    let seg = std::fs::read(root.join("commitlog/00000000000000000085"));
    assert!(
        seg.map_or(true, |b| b.iter().all(|&x| x == 0)),
        "torn bytes must be gone"
    );
    assert!(
        root.join("mfq-salvage").is_dir(),
        "removed bytes are saved aside"
    );
}
