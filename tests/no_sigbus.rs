//! Issue #14 (6): no SIGBUS.
//!
//! - On a filesystem without fallocate (ext2 on a 4 MiB loop device, made by the test; root
//!   only: without the right to mount, the test prints that it was skipped and why, and
//!   passes), a producer filling the disk gets a clear error when a segment cannot be
//!   allocated, never a SIGBUS (exit 135), and what it wrote reads back. The allocation
//!   fallback itself is tested without a mount in `os/sys/tests.rs`.
//! - `dump-segment` of a large file survives the file being cut under it (what
//!   `recover --force` does to an oversized fixed segment while a reader holds it).

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::bin::*;

/// A 4 MiB ext2 filesystem on a loop device, unmounted on drop.
struct Ext2 {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl Ext2 {
    fn new() -> Option<Ext2> {
        let dir = tempfile::tempdir().unwrap();
        let image = dir.path().join("ext2.img");
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        std::fs::File::create(&image)
            .unwrap()
            .set_len(4 << 20)
            .unwrap();
        let steps: [(&str, Vec<&std::ffi::OsStr>); 2] = [
            (
                "mkfs.ext2",
                vec!["-q".as_ref(), "-F".as_ref(), image.as_os_str()],
            ),
            (
                "mount",
                vec![
                    "-o".as_ref(),
                    "loop".as_ref(),
                    image.as_os_str(),
                    path.as_os_str(),
                ],
            ),
        ];
        for (prog, args) in steps {
            match Command::new(prog).args(args).output() {
                Ok(o) if o.status.success() => {}
                Ok(o) => {
                    eprintln!(
                        "skipped: {prog} failed ({})",
                        String::from_utf8_lossy(&o.stderr).trim()
                    );
                    return None;
                }
                Err(e) => {
                    eprintln!("skipped: cannot run {prog} ({e})");
                    return None;
                }
            }
        }
        Some(Ext2 { _dir: dir, path })
    }
}

impl Drop for Ext2 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

/// `seq 1000000 | mfq produce --format stream --segment-size SIZE STORE`.
fn produce_seq(store: &Path, segment_size: &str) -> std::process::Output {
    let input: String = (1..=1_000_000).map(|i| format!("{i}\n")).collect();
    run_in(
        &[
            "produce",
            arg(store),
            "--format",
            "stream",
            "--segment-size",
            segment_size,
        ],
        input.as_bytes(),
    )
}

#[test]
fn produce_on_a_filesystem_without_fallocate_fails_cleanly_at_disk_full() {
    let Some(fs) = Ext2::new() else {
        return;
    };
    // The case: the first 8 MiB segment cannot fit the 4 MiB disk.
    let store = fs.path.join("s");
    let out = produce_seq(&store, "8MiB");
    assert_eq!(out.status.signal(), None, "killed: {:?}", out.status);
    assert_ne!(out.status.code(), Some(0));
    let err = stderr(&out);
    assert!(err.contains("space"), "{err}");
    // 1 MiB segments: some fit, then a roll cannot allocate the next one. Every record
    // written before reads back, in order.
    let store = fs.path.join("t");
    let out = produce_seq(&store, "1MiB");
    assert_eq!(out.status.signal(), None, "killed: {:?}", out.status);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("space"), "{}", stderr(&out));
    let read = ok(&run(&["tail", arg(&store), "--from", "beginning", "-e"]));
    let lines: Vec<String> = text(&read).lines().map(str::to_string).collect();
    assert!(lines.len() > 100_000, "only {} records read", lines.len());
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(*l, (i + 1).to_string());
    }
}

#[test]
fn dump_segment_survives_a_concurrent_truncation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("00000000000000000000");
    // A fixed segment of 16-byte records, ~96 MiB: the walk reads every slot.
    let slots = (96usize << 20) / 17;
    let mut bytes = vec![0u8; slots * 17 + 1];
    for (i, slot) in bytes.chunks_exact_mut(17).enumerate() {
        slot[..8].copy_from_slice(&(i as u64).to_le_bytes());
        slot[16] = 0xFF;
    }
    for i in 0..8u64 {
        std::fs::write(&path, &bytes).unwrap();
        let mut child = mfq()
            .args([
                "dump-segment",
                arg(&path),
                "--format",
                "fixed",
                "--record-size",
                "16",
                "--limit",
                "3",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Cut it at a different moment each time: before, while and after it is read.
        std::thread::sleep(Duration::from_millis(i * 25));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(17 * 3 + 1)
            .unwrap();
        let status = wait_bounded(&mut child);
        assert_eq!(status.signal(), None, "iteration {i}: killed: {status:?}");
        assert!(
            matches!(status.code(), Some(0 | 4)),
            "iteration {i}: {status:?}"
        );
    }
}
