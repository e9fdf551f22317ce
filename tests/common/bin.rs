//! The one harness for the built `mfq` binary: every test that spawns it (directly, or through
//! a shell with it on PATH) builds the command here, in the same controlled environment and
//! with the same bound on how long it may run.
//!
//! The controlled environment: no `MFQ_STORE` (a store comes only from the arguments, unless a
//! test sets it), no `MFQ_BENCH_CHILD` (the binary would act as a benchmark's consumer), no
//! `COLUMNS`/`LINES` (clap wraps help to them), `NO_COLOR=1`, and standard input from
//! `/dev/null` unless the test pipes it. The bound: a child still running `BOUND` after it was
//! spawned is ended by the kernel, and the run or wait fails the test. This module must not
//! know about stores beyond their path.

use std::io::Write;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// The built binary.
pub const BIN: &str = env!("CARGO_BIN_EXE_mfq");

/// Upper bound for any wait on a child process; exceeding it fails the test.
pub const BOUND: Duration = Duration::from_secs(30);

/// Every subcommand of the command line, in help order.
pub const SUBCOMMANDS: [&str; 10] = [
    "produce",
    "consume",
    "tail",
    "stat",
    "dump-segment",
    "adjust-offset",
    "prune",
    "recover",
    "bench",
    "completions",
];

/// Applies the controlled environment (see the module comment) to `cmd`, and the bound: the
/// kernel ends the child with `SIGALRM` once it has run for `BOUND`.
fn controlled(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("MFQ_STORE")
        .env_remove("MFQ_BENCH_CHILD")
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    // SAFETY: runs in the forked child before exec; `signal` and `alarm` are
    // async-signal-safe and touch no memory of the parent. An alarm survives exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::signal(libc::SIGALRM, libc::SIG_DFL);
            libc::alarm(BOUND.as_secs() as libc::c_uint);
            Ok(())
        })
    }
}

/// A command for the built binary in the controlled environment; add arguments, or override
/// the environment, the folder or the standard streams, then spawn or run it.
pub fn mfq() -> Command {
    let mut cmd = Command::new(BIN);
    controlled(&mut cmd);
    cmd
}

/// `bash -c script` in the controlled environment, with the built binary's folder first on
/// PATH, so that `script` runs `mfq` as a user would.
pub fn sh(script: &str) -> Command {
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    controlled(&mut cmd).args(["-c", script]).env("PATH", path);
    cmd
}

/// Runs `mfq args` with empty standard input.
pub fn run(args: &[&str]) -> Output {
    run_in(args, b"")
}

/// Runs `mfq args` with `input` on standard input.
pub fn run_in(args: &[&str], input: &[u8]) -> Output {
    run_cmd(mfq().args(args), input)
}

/// Runs `mfq args` in the folder `cwd`.
pub fn run_at(cwd: &Path, args: &[&str]) -> Output {
    run_cmd(mfq().current_dir(cwd).args(args), b"")
}

/// Runs `mfq -s STORE args...`.
pub fn run_on(store: &Path, args: &[&str]) -> Output {
    run(&with(&["-s", arg(store)], args))
}

/// Runs a prepared command with `input` on standard input and its output captured; fails the
/// test when it overran `BOUND`.
pub fn run_cmd(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn mfq");
    let mut stdin = child.stdin.take().unwrap();
    let writer = (!input.is_empty()).then(|| {
        let input = input.to_vec();
        std::thread::spawn(move || {
            // The command may exit without reading it all.
            let _ = stdin.write_all(&input);
        })
    });
    let out = child.wait_with_output().expect("wait for mfq");
    if let Some(writer) = writer {
        writer.join().unwrap();
    }
    within_bound(out.status);
    out
}

/// Waits for `child`; fails the test when it overran `BOUND`.
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    within_bound(child.wait().expect("wait for mfq"))
}

/// Fails the test when `status` is the end of a child that overran `BOUND`.
fn within_bound(status: ExitStatus) -> ExitStatus {
    assert_ne!(
        status.signal(),
        Some(libc::SIGALRM),
        "mfq did not exit within {BOUND:?}"
    );
    status
}

/// Runs `command` again while it reports a held file (exit 5), for up to a second, and returns
/// its last output. Other tests in the same binary spawn processes in parallel, and a child
/// shares the parent's open files, and so their flocks, between fork and exec: a lock this
/// process dropped may still be held for a moment.
pub fn once_released(command: impl Fn() -> Output) -> Output {
    for _ in 0..50 {
        let out = command();
        if out.status.code() != Some(5) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    command()
}

/// Asserts a successful run and returns its standard output.
#[track_caller]
pub fn ok(out: &Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "status {:?}\nstderr: {}",
        out.status,
        text(&out.stderr)
    );
    out.stdout.clone()
}

/// Asserts the exit status and that nothing panicked; returns standard output as text.
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

/// Bytes as (lossy) text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `args` followed by `extra`.
pub fn with<'a>(args: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    args.iter().chain(extra).copied().collect()
}
