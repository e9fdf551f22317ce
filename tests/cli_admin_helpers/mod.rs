//! Helpers shared by the `cli_admin*` tests: running the binary on a store, the explicit
//! parameters of the golden stores, damaging files on purpose and holding flocks.
#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::process::{Command, Output};

/// The golden fixed stores' parameters (inference gives up on damaged copies).
pub const FIXED: [&str; 6] = [
    "--format",
    "fixed",
    "--record-size",
    "16",
    "--segment-size",
    "100",
];
/// The golden stream stores' parameters.
pub const STREAM: [&str; 4] = ["--format", "stream", "--segment-size", "64"];

/// Runs `mfq` with `args`, no MFQ_STORE, in `cwd` (or the test's folder).
pub fn mfq_in(cwd: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mfq"));
    cmd.args(args).env_remove("MFQ_STORE").env("NO_COLOR", "1");
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.output().expect("run mfq")
}

/// Runs `mfq -s STORE args...`.
pub fn mfq(store: &Path, args: &[&str]) -> Output {
    let s = store.to_str().unwrap();
    let mut all = vec!["-s", s];
    all.extend_from_slice(args);
    mfq_in(None, &all)
}

/// `args` followed by `extra`.
pub fn with<'a>(args: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(extra).copied().collect()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit status and that nothing panicked; returns stdout.
#[track_caller]
pub fn expect(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{err}",
        stdout(out)
    );
    stdout(out)
}

/// Overwrites bytes of a file at `pos`.
pub fn poke(path: &Path, pos: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, pos).unwrap();
}

/// Writes an 8-byte offset file.
pub fn set_offset(store: &Path, name: &str, value: u64) {
    std::fs::write(store.join("offset").join(name), value.to_le_bytes()).unwrap();
}

/// A segment file of a store.
pub fn segment(store: &Path, start: u64) -> std::path::PathBuf {
    store.join("commitlog").join(format!("{start:020}"))
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

/// Runs `command` after this process dropped a lock holder, again while it reports a held file
/// (exit 5), for up to a second. Other tests in the same binary spawn processes in parallel,
/// and a child shares the parent's open files, and so their flocks, between fork and exec.
pub fn once_released(command: impl Fn() -> Output) -> Output {
    for _ in 0..50 {
        let out = command();
        if out.status.code() != Some(5) {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    command()
}
