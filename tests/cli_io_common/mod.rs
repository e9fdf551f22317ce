//! Helpers for the `cli_io*` tests: running the built `mfq` binary with input, and waiting for
//! a child process with a bound.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// Upper bound for any wait on a child process; exceeding it fails the test.
pub const BOUND: Duration = Duration::from_secs(30);

/// A command for the built binary with a clean environment (no `MFQ_STORE`, no colour).
pub fn mfq() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mfq"));
    cmd.env_remove("MFQ_STORE").env("NO_COLOR", "1");
    cmd
}

/// Runs `mfq args` with `input` on standard input.
pub fn run_in(args: &[&str], input: &[u8]) -> Output {
    run_cmd(mfq().args(args), input)
}

/// Runs `mfq args` with empty standard input.
pub fn run(args: &[&str]) -> Output {
    run_in(args, b"")
}

/// Runs a prepared command with `input` on standard input, within `BOUND`.
pub fn run_cmd(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        stdout.read_to_end(&mut v).unwrap();
        v
    });
    let mut err = Vec::new();
    stderr.read_to_end(&mut err).unwrap();
    let status = wait_bounded(&mut child);
    writer.join().unwrap();
    Output {
        status,
        stdout: out_reader.join().unwrap(),
        stderr: err,
    }
}

/// Waits for `child` at most `BOUND`; kills it and fails the test when it takes longer.
pub fn wait_bounded(child: &mut Child) -> ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t0.elapsed() > BOUND {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mfq did not exit within {BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Asserts a successful run and returns its standard output.
pub fn ok(out: &Output) -> Vec<u8> {
    assert!(
        out.status.success(),
        "status {:?}\nstderr: {}",
        out.status,
        text(&out.stderr)
    );
    out.stdout.clone()
}

/// Bytes as (lossy) text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The consumer offset file's value, if the file exists.
pub fn consumer_offset(store: &Path, name: &str) -> Option<u64> {
    let b = std::fs::read(store.join("offset").join(name)).ok()?;
    Some(u64::from_le_bytes(b.try_into().unwrap()))
}

/// Creates a stream store at `store` and appends `messages`.
pub fn stream_store(store: &Path, segment_size: &str, messages: &[&str]) {
    let mut args = vec![
        "produce",
        arg(store),
        "--format",
        "stream",
        "--segment-size",
    ];
    args.push(segment_size);
    for m in messages {
        args.extend(["-m", m]);
    }
    ok(&run(&args));
}
