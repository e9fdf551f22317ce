//! Full disk and read-only stores, on small tmpfs mounts made by the test (root only; without
//! the right to mount, each test prints that it was skipped and why, and passes).
//!
//! - A producer filling a 256 KiB filesystem gets a clear error when a new segment cannot be
//!   allocated, never a SIGBUS, and every message acknowledged before it reads back.
//! - On a read-only mount, reading commands work and mutating ones fail clearly and change
//!   nothing.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::bin::*;
use mfq::queue::{ConsumerId, Error, Params, ProducerOptions, StartAt, Store};

/// A tmpfs mounted for one test, unmounted on drop.
struct Mount {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Mount {
    fn new(size: &str) -> Option<Mount> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Mount { _dir: dir, path }),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs ({})",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount ({e})");
                None
            }
        }
    }

    fn remount_read_only(&self) {
        // EBUSY while a file in the mount is open for writing: another test of this binary
        // forking a child shares such a file until the child execs. Retried, bounded.
        for _ in 0..100 {
            let st = Command::new("mount")
                .args(["-o", "remount,ro"])
                .arg(&self.path)
                .status()
                .unwrap();
            if st.success() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("remount read-only failed (100 tries over 5 s)");
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing_acknowledged() {
    let Some(m) = Mount::new("256k") else { return };
    let path = m.path.join("s");
    let store = Store::create(&path, Params::fixed(60, 64 * 1024).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    let mut acked = Vec::new();
    let err = loop {
        let msg = [acked.len() as u8; 60];
        match p.append(&msg) {
            Ok(_) => acked.push(msg),
            Err(e) => break e,
        }
        assert!(acked.len() < 100_000, "the filesystem never filled up");
    };
    let text = err.to_string();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(text.contains("allocate segment"), "{text}");
    let cause = std::error::Error::source(&err)
        .map(|c| c.to_string())
        .unwrap_or_default();
    assert!(cause.contains("No space left"), "{cause}");
    p.flush().unwrap();
    drop(p);
    let mut c = store
        .consumer(&ConsumerId::Default, StartAt::Earliest)
        .unwrap();
    let mut n = 0;
    while let Some(r) = c.try_next().unwrap() {
        assert_eq!(r.payload, &acked[n][..]);
        n += 1;
    }
    assert_eq!(n, acked.len(), "every acknowledged message reads back");
}

#[test]
fn mfq_produce_into_a_full_disk_fails_clearly_and_keeps_what_it_wrote() {
    let Some(m) = Mount::new("256k") else { return };
    let path = m.path.join("s");
    let lines: String = (0..20_000).map(|i| format!("message {i:08}\n")).collect();
    let file = m._dir.path().join("input.txt");
    std::fs::write(&file, &lines).unwrap();
    let out = run(&[
        "produce",
        arg(&path),
        "--format",
        "stream",
        "--segment-size",
        "64KiB",
        "--file",
        arg(&file),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\nmfq: message ") && err.contains("No space left"),
        "{err}"
    );
    let got = run(&["consume", arg(&path), "-n", "all", "--peek"]);
    let got = String::from_utf8_lossy(&got.stdout);
    assert!(
        got.lines().count() > 1000,
        "the messages before the error are kept"
    );
    assert!(
        lines.starts_with(&*got),
        "what is kept is a prefix of the input"
    );
}

/// Issue #14 part 10: `recover` used to start its salvage copy of a whole zeroed tail (a
/// 24-byte torn record saved as a 1 MiB file), fail on the full disk, leave an empty salvage
/// file and not say how to go on. Now it saves only the non-zero bytes, checks the space
/// first, names --save-to and --no-save, and leaves nothing behind.
#[test]
fn recover_on_a_full_disk_names_save_to_and_no_save_and_leaves_no_empty_salvage_file() {
    let Some(m) = Mount::new("2m") else { return };
    let store = m.path.join("s");
    let out = run(&[
        "produce",
        arg(&store),
        "--format",
        "stream",
        "--segment-size",
        "1MiB",
        "-m",
        "hello",
        "-m",
        "world",
    ]);
    ok(&out);
    // 24 bytes that are not a record just past the data end (20): a torn record.
    let seg = store.join("commitlog/00000000000000000000");
    {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
        f.write_all_at(&[0x5a; 24], 24).unwrap();
    }
    let before = std::fs::read(&seg).unwrap();
    // Fill the filesystem.
    {
        use std::io::Write;
        let mut filler = std::fs::File::create(m.path.join("filler")).unwrap();
        let chunk = vec![1u8; 4096];
        while filler.write_all(&chunk).is_ok() {}
    }
    let out = run_on(&store, &["recover"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("--save-to") && err.contains("--no-save"),
        "{err}"
    );
    assert!(err.contains("24 bytes"), "{err}");
    let salvage = store.join("mfq-salvage");
    let left = std::fs::read_dir(&salvage).map_or(0, |d| d.count());
    assert_eq!(left, 0, "salvage entries left behind");
    assert_eq!(std::fs::read(&seg).unwrap(), before, "the store changed");

    // With room, only the non-zero span is saved, named by its position.
    std::fs::remove_file(m.path.join("filler")).unwrap();
    expect(&run_on(&store, &["recover"]), 0);
    let run_dir = std::fs::read_dir(&salvage)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    let saved: Vec<_> = std::fs::read_dir(run_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(
        saved[0].ends_with("00000000000000000000.from-24"),
        "{saved:?}"
    );
    assert_eq!(std::fs::read(&saved[0]).unwrap(), vec![0x5a; 24]);
}

#[test]
fn a_read_only_store_reads_and_refuses_changes_untouched() {
    let Some(m) = Mount::new("1m") else { return };
    let path = m.path.join("s");
    // 64-byte segments: ten 13-byte records make three segments, so prune has work.
    let store = Store::create(&path, Params::stream(64).unwrap()).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for i in 0..10 {
        p.append(format!("record {i}").as_bytes()).unwrap();
    }
    p.close().unwrap();
    let before = common::store_files(&path);
    m.remount_read_only();
    for args in [
        vec!["stat", arg(&path)],
        vec!["consume", arg(&path), "-n", "all", "--peek"],
        vec!["tail", arg(&path), "-n", "3", "-e"],
        vec!["dump-segment", "-s", arg(&path), "0"],
        vec![
            "prune",
            arg(&path),
            "--before",
            "100",
            "--force",
            "--dry-run",
        ],
        vec!["recover", arg(&path), "--check"],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for args in [
        vec!["consume", arg(&path)],
        vec!["produce", arg(&path), "-m", "x"],
        vec!["adjust-offset", "-s", arg(&path), "consumer", "0"],
        vec!["prune", arg(&path), "--before", "100", "--force"],
    ] {
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("mfq: ") && err.contains("Read-only file system"),
            "{args:?}: {err}"
        );
    }
    assert_eq!(
        common::store_files(&path),
        before,
        "nothing on disk changed"
    );
}
