//! The store never reaches outside itself (issue #14, parts 3 and 6): for every file role of a
//! store (a segment, each offset file, `mfq.wake`, `mfq.json`, its temporary file, the salvage
//! folder), a symlink to a file outside the store, a FIFO or a folder in its place makes the
//! commands that would write, truncate, map or delete it fail with a "not a regular file"
//! error naming it, and the outside file is unchanged byte for byte.
//!
//! Before the fix each of these followed the symlink: `recover` and `adjust-offset` truncated
//! the target of `offset/consumer.offset`, the producer's repair zeroed a symlinked segment's
//! target, `produce` extended the target of `mfq.wake` and overwrote that of `mfq.json.tmp`,
//! and a FIFO at `mfq.json` hung every command.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::bin::*;
use common::*;

/// What stands where the store keeps a file.
#[derive(Clone, Copy, Debug)]
enum Odd {
    /// A symlink to a file outside the store.
    Symlink,
    /// A FIFO (opening it for reading or writing would block).
    Fifo,
    /// A folder.
    Folder,
}

const ODD: [Odd; 3] = [Odd::Symlink, Odd::Fifo, Odd::Folder];

/// Puts `odd` at `at` (replacing what is there), the symlink pointing at `outside`. `false`
/// when `mkfifo` is not available.
fn plant(odd: Odd, at: &Path, outside: &Path) -> bool {
    if at.is_dir() && !at.is_symlink() {
        std::fs::remove_dir_all(at).unwrap();
    } else if at.symlink_metadata().is_ok() {
        std::fs::remove_file(at).unwrap();
    }
    match odd {
        Odd::Symlink => std::os::unix::fs::symlink(outside, at).unwrap(),
        Odd::Folder => std::fs::create_dir(at).unwrap(),
        Odd::Fifo => {
            let made = std::process::Command::new("mkfifo").arg(at).status();
            if !made.is_ok_and(|s| s.success()) {
                eprintln!("mkfifo is not available; the FIFO case is skipped");
                return false;
            }
        }
    }
    true
}

/// For each odd kind and each command: a fresh store made by `setup`, `odd` planted at `rel`
/// (a symlink to a file holding `outside_bytes`), the command run. It must fail, say what is
/// in the way, and leave the outside file and the planted entry as they were.
#[track_caller]
fn refused(setup: impl Fn(&Path), rel: &str, outside_bytes: &[u8], commands: &[&[&str]]) {
    for odd in ODD {
        for cmd in commands {
            let t = tempfile::tempdir().unwrap();
            let store = t.path().join("store");
            setup(&store);
            let outside = t.path().join("outside");
            std::fs::write(&outside, outside_bytes).unwrap();
            let at = store.join(rel);
            if !plant(odd, &at, &outside) {
                continue;
            }
            let out = run_on(&store, cmd);
            let err = stderr(&out);
            let what = format!("{rel} as a {odd:?}, mfq {cmd:?}");
            assert_ne!(out.status.code(), Some(0), "{what}: succeeded\n{err}");
            // A segment that readers need is refused by the recovery plan, before any file.
            let said = err.contains("not a regular file") || err.contains("moved out of the way");
            assert!(said, "{what}: {err}");
            assert_eq!(
                std::fs::read(&outside).unwrap(),
                outside_bytes,
                "{what}: the outside file changed"
            );
            let ft = at.symlink_metadata().unwrap().file_type();
            let kept = match odd {
                Odd::Symlink => ft.is_symlink(),
                Odd::Fifo => std::os::unix::fs::FileTypeExt::is_fifo(&ft),
                Odd::Folder => ft.is_dir(),
            };
            assert!(kept, "{what}: the planted entry was replaced");
        }
    }
}

fn fixed_store(store: &Path) {
    copy_tree(&fixture("fixed-rollover"), store);
}

fn stream(store: &Path) {
    stream_store(store, "64", &["a", "bb", "ccc"]);
}

/// `args` after the fixture's explicit parameters.
fn fx<'a>(args: &[&'a str]) -> Vec<&'a str> {
    with(&FIXED, args)
}

#[test]
fn recover_and_adjust_offset_do_not_truncate_a_symlinked_consumer_offset_target() {
    let passwd_like = b"root:x:0:0:root:/root:/bin/bash\n";
    refused(
        fixed_store,
        "offset/consumer.offset",
        passwd_like,
        &[
            &fx(&["recover"]),
            &fx(&["adjust-offset", "consumer", "0"]),
            &fx(&["consume", "-n", "all"]),
        ],
    );
}

#[test]
fn produce_and_recover_do_not_write_through_symlinked_producer_offsets() {
    for name in ["producer.offset", "producer.confirmed.offset"] {
        refused(
            fixed_store,
            &format!("offset/{name}"),
            &119u64.to_le_bytes(),
            &[
                &fx(&["recover"]),
                &fx(&["produce", "-m", "0123456789abcdef"]),
            ],
        );
    }
}

#[test]
fn producer_repair_and_recover_do_not_zero_or_copy_a_symlinked_segment_target() {
    // The target looks like the segment with a torn tail, which a repair would zero (and
    // save) if it followed the link.
    let mut torn = std::fs::read(fixture("fixed-rollover/commitlog/00000000000000000085")).unwrap();
    torn[60..70].fill(0xab);
    refused(
        fixed_store,
        "commitlog/00000000000000000085",
        &torn,
        &[
            &fx(&["recover"]),
            &fx(&["produce", "-m", "0123456789abcdef"]),
            &fx(&["consume", "-n", "all"]),
        ],
    );
}

#[test]
fn produce_does_not_extend_a_symlinked_wake_file_target() {
    refused(
        stream,
        "mfq.wake",
        b"x",
        &[&["produce", "-m", "d"], &["consume", "-n", "all"]],
    );
}

#[test]
fn a_fifo_or_symlink_at_mfq_json_neither_hangs_nor_is_followed() {
    refused(
        stream,
        "mfq.json",
        br#"{"format":"stream","segment_size":64,"version":1}"#,
        &[
            &["produce", "-m", "d"],
            &["consume", "-n", "all"],
            &["stat"],
        ],
    );
    // A symlink to /dev/zero used to be read until memory ran out.
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("store");
    stream(&store);
    std::fs::remove_file(store.join("mfq.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", store.join("mfq.json")).unwrap();
    let err = stderr(&run_on(&store, &["stat"]));
    assert!(err.contains("not a regular file"), "{err}");
}

#[test]
fn creating_a_store_does_not_write_through_a_planted_meta_temp_symlink() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let outside = t.path().join("outside");
    std::fs::write(&outside, b"keep me").unwrap();
    std::os::unix::fs::symlink(&outside, store.join("mfq.json.tmp")).unwrap();
    stream(&store);
    assert_eq!(std::fs::read(&outside).unwrap(), b"keep me");
    assert!(store.join("mfq.json.tmp").is_symlink());
    let meta = store.join("mfq.json").symlink_metadata().unwrap();
    assert!(meta.file_type().is_file());
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") && n != "mfq.json.tmp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Every file under `dir`, name -> bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_symlinked_commitlog_or_offset_folder_is_not_followed() {
    for sub in ["commitlog", "offset"] {
        for cmd in [
            fx(&["recover"]),
            fx(&["produce", "-m", "0123456789abcdef"]),
            fx(&["adjust-offset", "consumer", "0"]),
            fx(&["consume", "-n", "all"]),
        ] {
            let t = tempfile::tempdir().unwrap();
            let store = t.path().join("store");
            fixed_store(&store);
            // The folder moved outside the store, a symlink left in its place.
            let outside = t.path().join("outside");
            std::fs::rename(store.join(sub), &outside).unwrap();
            std::os::unix::fs::symlink(&outside, store.join(sub)).unwrap();
            let before = snapshot(&outside);
            let out = run_on(&store, &cmd);
            let err = stderr(&out);
            assert_ne!(out.status.code(), Some(0), "{sub} {cmd:?}: {err}");
            assert!(err.contains("is a symlink"), "{sub} {cmd:?}: {err}");
            assert_eq!(snapshot(&outside), before, "{sub} {cmd:?}");
        }
    }
}

/// A fixed store whose record at 51 was zeroed, so `recover` removes (and saves) the stale
/// record after it.
fn damaged(store: &Path) {
    copy_tree(&fixture("fixed"), store);
    poke(&segment(store, 0), 51, &[0; 17]);
}

#[test]
fn recover_does_not_save_into_a_symlinked_or_odd_salvage_folder() {
    for odd in ODD {
        let t = tempfile::tempdir().unwrap();
        let store = t.path().join("store");
        damaged(&store);
        let outside_dir = t.path().join("outside-dir");
        std::fs::create_dir(&outside_dir).unwrap();
        let at = store.join("mfq-salvage");
        let planted = match odd {
            Odd::Symlink => plant(odd, &at, &outside_dir),
            Odd::Fifo => plant(odd, &at, &outside_dir),
            // A folder is what belongs there; a regular file stands in for the odd entry.
            Odd::Folder => {
                std::fs::write(&at, b"not a folder").unwrap();
                true
            }
        };
        if !planted {
            continue;
        }
        let before = store_files(&store);
        let out = run_on(&store, &fx(&["recover"]));
        let err = stderr(&out);
        assert_ne!(out.status.code(), Some(0), "{odd:?}: {err}");
        assert!(err.contains("mfq-salvage"), "{odd:?}: {err}");
        assert_eq!(
            std::fs::read_dir(&outside_dir).unwrap().count(),
            0,
            "{odd:?}"
        );
        assert_eq!(store_files(&store), before, "{odd:?}: the store changed");
    }
}

#[test]
fn salvage_copy_is_not_more_readable_than_its_segment() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("store");
    damaged(&store);
    let seg = segment(&store, 0);
    std::fs::set_permissions(&seg, std::fs::Permissions::from_mode(0o600)).unwrap();
    expect(&run_on(&store, &fx(&["recover"])), 0);
    let saved = saved_files(&store);
    assert!(!saved.is_empty());
    for f in saved {
        let mode = f.metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{f:?} has mode {mode:o}");
    }
}

/// Every file under `mfq-salvage/`.
fn saved_files(store: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for run in std::fs::read_dir(store.join("mfq-salvage")).unwrap() {
        for f in std::fs::read_dir(run.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out
}
