//! The consumer side of the two-process benchmarks: `mfq` re-executes itself with
//! `MFQ_BENCH_CHILD=<role>`; the child opens the store, says `ready`, reads, and prints one
//! JSON line with its result. Roles: `drain` (spin and read everything: throughput), `latency`
//! (spin; one-way latency of timestamped messages), `wake` (blocked waiting, no spinning).
//!
//! This module must not produce messages; the parent does.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context};
use mfq::queue::{limits, ConsumerId, ParamsRequest, StartAt, Store, WaitOptions};
use serde::{Deserialize, Serialize};

use super::stats::{percentiles, Percentiles};

/// The environment variable that turns the binary into a benchmark child.
pub const CHILD_ENV: &str = "MFQ_BENCH_CHILD";

/// What a child reports.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ChildReport {
    /// Monotonic clock when the last message was read.
    pub end_ns: u64,
    /// One-way latencies, for the latency roles.
    pub latency: Option<Percentiles>,
}

/// A running child.
pub struct Running {
    child: Child,
    out: BufReader<std::process::ChildStdout>,
}

/// Starts a child for `role` on the store at `path`, reading `count` messages, and waits for
/// its `ready` line.
pub fn spawn(role: &str, path: &Path, count: u64) -> anyhow::Result<Running> {
    let exe = std::env::current_exe().context("cannot find the mfq executable")?;
    let mut child = Command::new(exe)
        .env(CHILD_ENV, format!("{role}:{count}:{}", path.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .context("cannot start the benchmark consumer process")?;
    let mut out = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    out.read_line(&mut line)?;
    if line.trim() != "ready" {
        let _ = child.kill();
        bail!("the benchmark consumer process did not start: {line:?}");
    }
    Ok(Running { child, out })
}

impl Running {
    /// Waits for the child's report.
    pub fn finish(mut self) -> anyhow::Result<ChildReport> {
        let mut line = String::new();
        self.out.read_line(&mut line)?;
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the benchmark consumer process failed ({status})");
        }
        serde_json::from_str(line.trim()).context("unreadable report from the benchmark consumer")
    }
}

/// Entry point of a child process; `spec` is `role:count:path`.
pub fn main(spec: &str) -> anyhow::Result<()> {
    let mut parts = spec.splitn(3, ':');
    let (Some(role), Some(count), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
        bail!("bad {CHILD_ENV} value {spec:?}");
    };
    let count: u64 = count.parse().context("bad message count")?;
    let store = Store::open(path, &ParamsRequest::default())?;
    let wait = match role {
        "wake" => WaitOptions {
            spin: Duration::ZERO,
            retry: Duration::from_secs(1),
        },
        _ => WaitOptions {
            spin: Duration::from_secs(3600),
            retry: Duration::from_secs(1),
        },
    };
    let mut consumer = store.consumer_with(&ConsumerId::Default, StartAt::Earliest, wait)?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    let timed = role != "drain";
    let mut lat = Vec::with_capacity(if timed { count as usize } else { 0 });
    for _ in 0..count {
        let rec = consumer.next_until(None, None)?;
        let rec = rec.context("the benchmark consumer stopped early")?;
        if timed {
            let now = limits::monotonic_ns();
            let sent = u64::from_le_bytes(rec.payload[..8].try_into().expect("8 bytes"));
            lat.push(now.saturating_sub(sent));
        }
        consumer.commit()?;
    }
    let report = ChildReport {
        end_ns: limits::monotonic_ns(),
        latency: timed.then(|| percentiles(&mut lat)),
    };
    writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
    Ok(())
}
