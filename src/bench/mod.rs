//! `mfq bench` workloads: each run measures, in scratch stores under one folder, the bare
//! memcpy limits (fresh pages, resident pages, reading back), single-process write and read, the durable producer (against the disk's
//! sequential bandwidth measured in the same run), flush-every-message, and, with two
//! processes, end-to-end throughput, one-way latency and blocked-consumer wake-up latency.
//!
//! This module measures and returns figures; it must not print (the command renders) and it
//! reports progress only through a callback.

pub mod child;
pub mod stats;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use mfq::queue::{limits, ConsumerId, Params, ProducerOptions, StartAt, Store};
use serde::Serialize;

use stats::{median, median_percentiles, Percentiles};

/// What to measure.
#[derive(Clone, Debug)]
pub struct Config {
    /// Scratch folder (created, and removed afterwards by the caller).
    pub dir: PathBuf,
    /// Store parameters.
    pub params: Params,
    /// Payload size.
    pub size: usize,
    /// Messages per workload.
    pub count: u64,
    /// The durable policy's flush interval in messages.
    pub flush_every: u64,
    /// Which workloads to run.
    pub selection: Selection,
    /// Repetitions.
    pub runs: u32,
}

/// Which workloads a run measures. The memcpy limits always run: every figure is read against
/// them. `read` reads the store that the write workload fills, so it writes too.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// Producer, no durability.
    pub write: bool,
    /// Consumer reading and committing.
    pub read: bool,
    /// Producer with the flush policy, and the disk's bandwidth to compare it with.
    pub durable: bool,
    /// Flush after every message.
    pub sync: bool,
    /// Producer and spinning consumer in two processes.
    pub cross: bool,
    /// One-way latency (two processes).
    pub latency: bool,
    /// Blocked-consumer wake-up latency (two processes).
    pub wake: bool,
}

impl Selection {
    /// Everything, with or without the two-process workloads.
    pub fn all(two_processes: bool) -> Selection {
        Selection {
            write: true,
            read: true,
            durable: true,
            sync: true,
            cross: two_processes,
            latency: two_processes,
            wake: two_processes,
        }
    }
}

/// Figures of one run (messages per second unless named otherwise); `None` for a workload
/// that was not selected.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RunFigures {
    /// Payload bytes per message (for MB/s).
    pub write_bytes_per_msg: f64,
    /// Bare memcpy of the payloads into a new mapped file (fresh pages faulted on the copying
    /// thread): the writer's limit.
    pub memcpy_msgs_per_sec: f64,
    /// The same copy into resident, mapped pages: pure copy bandwidth.
    pub memcpy_resident_msgs_per_sec: f64,
    /// Reading the last byte of each message through a new mapping: the reader's limit.
    pub read_limit_msgs_per_sec: f64,
    /// Producer, no durability.
    pub write_msgs_per_sec: Option<f64>,
    /// Consumer reading and committing every record.
    pub read_msgs_per_sec: Option<f64>,
    /// Producer and a spinning consumer in two processes.
    pub cross_process_msgs_per_sec: Option<f64>,
    /// One-way latency, one message in flight, spinning consumer.
    pub latency_ns: Option<Percentiles>,
    /// Wake-up latency of a blocked (not spinning) consumer.
    pub wake_latency_ns: Option<Percentiles>,
    /// Producer with the durability policy, until everything is confirmed.
    pub durable_msgs_per_sec: Option<f64>,
    /// Durable throughput in bytes of records per second.
    pub durable_bytes_per_sec: Option<f64>,
    /// Sequential write bandwidth of the disk (write + fdatasync).
    pub disk_bytes_per_sec: Option<f64>,
    /// Producer that syncs after every message on its own thread.
    pub flush_every_message_msgs_per_sec: Option<f64>,
}

/// All runs and their medians.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Medians over the runs.
    pub median: RunFigures,
    /// Each run.
    pub runs: Vec<RunFigures>,
}

/// Runs the benchmark; `progress` gets a short label as each workload starts.
pub fn run(cfg: &Config, progress: &mut dyn FnMut(&str)) -> anyhow::Result<Summary> {
    let mut runs = Vec::new();
    for k in 0..cfg.runs {
        let dir = cfg.dir.join(format!("run-{k}"));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let figures = run_once(cfg, &dir, &mut |w| {
            progress(&format!("run {}/{}: {w}", k + 1, cfg.runs))
        });
        let _ = std::fs::remove_dir_all(&dir);
        runs.push(figures?);
    }
    Ok(Summary {
        median: medians(&runs),
        runs,
    })
}

fn run_once(
    cfg: &Config,
    dir: &Path,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<RunFigures> {
    let payload = vec![0xA5u8; cfg.size];
    let mut f = RunFigures {
        write_bytes_per_msg: cfg.size as f64,
        ..Default::default()
    };
    progress("memcpy limit");
    let t = limits::memcpy_into_mapped_file(&dir.join("memcpy"), &payload, cfg.count)?;
    f.memcpy_msgs_per_sec = rate(cfg.count, t.fresh.as_secs_f64());
    f.memcpy_resident_msgs_per_sec = rate(cfg.count, t.resident.as_secs_f64());
    f.read_limit_msgs_per_sec = rate(cfg.count, t.read.as_secs_f64());
    single_process(cfg, dir, &payload, &mut f, progress)?;
    two_processes(cfg, dir, &payload, &mut f, progress)?;
    Ok(f)
}

fn single_process(
    cfg: &Config,
    dir: &Path,
    payload: &[u8],
    f: &mut RunFigures,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let sel = cfg.selection;
    if sel.write || sel.read {
        progress("write");
        let store = Store::create(dir.join("write"), cfg.params)?;
        let written = produce(&store, payload, cfg.count, None, true)?;
        f.write_msgs_per_sec = sel.write.then_some(written);
        if sel.read {
            progress("read");
            f.read_msgs_per_sec = Some(read_all(&store, cfg.count)?);
        }
        drop(store);
        let _ = std::fs::remove_dir_all(dir.join("write"));
    }
    if sel.durable {
        progress("disk bandwidth");
        let disk_bytes = (cfg.count * cfg.size as u64).clamp(64 << 20, 512 << 20);
        f.disk_bytes_per_sec = Some(limits::disk_write_bandwidth(&dir.join("disk"), disk_bytes)?);
        progress("durable write");
        let store = Store::create(dir.join("durable"), cfg.params)?;
        let durable = produce(&store, payload, cfg.count, Some(cfg.flush_every), true)?;
        f.durable_msgs_per_sec = Some(durable);
        f.durable_bytes_per_sec = Some(durable * record_bytes(cfg) as f64);
        let _ = std::fs::remove_dir_all(dir.join("durable"));
    }
    if sel.sync {
        progress("flush every message");
        let store = Store::create(dir.join("sync"), cfg.params)?;
        let n = cfg.count.min(2000);
        f.flush_every_message_msgs_per_sec = Some(produce(&store, payload, n, Some(1), false)?);
        let _ = std::fs::remove_dir_all(dir.join("sync"));
    }
    Ok(())
}

fn two_processes(
    cfg: &Config,
    dir: &Path,
    payload: &[u8],
    f: &mut RunFigures,
    progress: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let sel = cfg.selection;
    if sel.cross {
        progress("two processes");
        f.cross_process_msgs_per_sec = Some(cross_process(cfg, &dir.join("cross"), payload)?);
    }
    if sel.latency {
        progress("latency");
        let n = cfg.count.min(200_000);
        f.latency_ns = Some(paced(cfg, &dir.join("latency"), "latency", n, 4_000)?);
    }
    if sel.wake {
        progress("wake-up latency");
        f.wake_latency_ns = Some(paced(cfg, &dir.join("wake"), "wake", 300, 1_000_000)?);
    }
    Ok(())
}

fn record_bytes(cfg: &Config) -> usize {
    match cfg.params.stride() {
        Some(m) => m as usize,
        None => cfg.size + 5,
    }
}

fn rate(count: u64, secs: f64) -> f64 {
    count as f64 / secs.max(1e-9)
}

/// Appends `count` messages; the time includes the final flush when a policy is set.
fn produce(
    store: &Store,
    payload: &[u8],
    count: u64,
    flush_every: Option<u64>,
    background: bool,
) -> anyhow::Result<f64> {
    let mut p = store.producer(ProducerOptions {
        flush_every,
        flush_interval: None,
        background,
        ..Default::default()
    })?;
    let t0 = Instant::now();
    for _ in 0..count {
        p.append(payload)?;
    }
    if flush_every.is_some() {
        p.flush()?;
    }
    let secs = t0.elapsed().as_secs_f64();
    p.close()?;
    Ok(rate(count, secs))
}

fn read_all(store: &Store, count: u64) -> anyhow::Result<f64> {
    let mut c = store.consumer(&ConsumerId::Default, StartAt::Earliest)?;
    let t0 = Instant::now();
    let mut n = 0u64;
    let mut sum = 0u64;
    while let Some(r) = c.try_next()? {
        sum = sum.wrapping_add(r.payload[0] as u64);
        c.commit()?;
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    std::hint::black_box(sum);
    anyhow::ensure!(n == count, "read {n} of {count} messages back");
    Ok(rate(count, secs))
}

fn cross_process(cfg: &Config, path: &Path, payload: &[u8]) -> anyhow::Result<f64> {
    let store = Store::create(path, cfg.params)?;
    let child = child::spawn("drain", path, cfg.count)?;
    let mut p = store.producer(ProducerOptions {
        flush_every: None,
        ..Default::default()
    })?;
    let t0 = limits::monotonic_ns();
    for _ in 0..cfg.count {
        p.append(payload)?;
    }
    let report = child.finish()?;
    p.close()?;
    let _ = std::fs::remove_dir_all(path);
    Ok(rate(
        cfg.count,
        (report.end_ns.saturating_sub(t0)) as f64 / 1e9,
    ))
}

/// Sends `n` timestamped messages `gap_ns` apart to a child of `role`; its latency report.
fn paced(
    cfg: &Config,
    path: &Path,
    role: &str,
    n: u64,
    gap_ns: u64,
) -> anyhow::Result<Percentiles> {
    let store = Store::create(path, cfg.params)?;
    let child = child::spawn(role, path, n)?;
    let mut p = store.producer(ProducerOptions {
        flush_every: None,
        ..Default::default()
    })?;
    let mut payload = vec![0u8; cfg.size.max(8)];
    let mut next = limits::monotonic_ns();
    for _ in 0..n {
        while limits::monotonic_ns() < next {
            std::hint::spin_loop();
        }
        let now = limits::monotonic_ns();
        payload[..8].copy_from_slice(&now.to_le_bytes());
        p.append(&payload[..cfg.size.max(8)])?;
        next = now + gap_ns;
    }
    let report = child.finish()?;
    p.close()?;
    let _ = std::fs::remove_dir_all(path);
    report
        .latency
        .context("the latency child reported no latencies")
}

fn medians(runs: &[RunFigures]) -> RunFigures {
    let m = |f: fn(&RunFigures) -> f64| median(&runs.iter().map(f).collect::<Vec<_>>());
    let mo = |f: fn(&RunFigures) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| median(&v))
    };
    let mp = |f: fn(&RunFigures) -> Option<Percentiles>| {
        let v: Vec<Percentiles> = runs.iter().filter_map(f).collect();
        (!v.is_empty()).then(|| median_percentiles(&v))
    };
    RunFigures {
        write_bytes_per_msg: m(|r| r.write_bytes_per_msg),
        memcpy_msgs_per_sec: m(|r| r.memcpy_msgs_per_sec),
        memcpy_resident_msgs_per_sec: m(|r| r.memcpy_resident_msgs_per_sec),
        read_limit_msgs_per_sec: m(|r| r.read_limit_msgs_per_sec),
        write_msgs_per_sec: mo(|r| r.write_msgs_per_sec),
        read_msgs_per_sec: mo(|r| r.read_msgs_per_sec),
        cross_process_msgs_per_sec: mo(|r| r.cross_process_msgs_per_sec),
        latency_ns: mp(|r| r.latency_ns),
        wake_latency_ns: mp(|r| r.wake_latency_ns),
        durable_msgs_per_sec: mo(|r| r.durable_msgs_per_sec),
        durable_bytes_per_sec: mo(|r| r.durable_bytes_per_sec),
        disk_bytes_per_sec: mo(|r| r.disk_bytes_per_sec),
        flush_every_message_msgs_per_sec: mo(|r| r.flush_every_message_msgs_per_sec),
    }
}
