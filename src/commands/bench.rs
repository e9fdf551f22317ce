//! `mfq bench [DIR]`: resolves the options, runs the workloads in `crate::bench` in a scratch
//! folder that it removes afterwards, and prints a table (or `--json`).
//!
//! This module owns presentation of benchmark figures; the measuring lives in `crate::bench`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use mfq::queue::{Format, Params};
use serde_json::json;

use crate::bench::{self, stats::Percentiles, Config, RunFigures, Selection};
use crate::cli::values::Workload;
use crate::cli::{BenchArgs, GlobalOpts};
use crate::commands::resolve;
use crate::render;

/// Runs `mfq bench`.
pub fn run(global: &GlobalOpts, args: &BenchArgs) -> anyhow::Result<()> {
    let cfg = resolve_config(global, args)?;
    let bar = render::progress::progress_bar(None, "benchmark");
    let result = bench::run(&cfg, &mut |label| bar.set_message(label.to_string()));
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&cfg.dir);
    let summary = result.context("benchmark failed")?;
    let mut out = std::io::stdout().lock();
    if global.json {
        let doc = json!({
            "v": crate::render::json::SCHEMA_VERSION,
            "format": cfg.params.format(),
            "message_size": cfg.size,
            "count": cfg.count,
            "runs": cfg.runs,
            "flush_every": cfg.flush_every,
            "median": summary.median,
            "each_run": summary.runs,
            // The headline fields, flat, as the README documents them.
            "write_msgs_per_sec": summary.median.write_msgs_per_sec,
            "read_msgs_per_sec": summary.median.read_msgs_per_sec,
            "cross_process_msgs_per_sec": summary.median.cross_process_msgs_per_sec,
            "latency_ns": summary.median.latency_ns,
            "wake_latency_ns": summary.median.wake_latency_ns,
            "durable_msgs_per_sec": summary.median.durable_msgs_per_sec,
            "flush_every_message_msgs_per_sec": summary.median.flush_every_message_msgs_per_sec,
            "disk_bytes_per_sec": summary.median.disk_bytes_per_sec,
            "memcpy_msgs_per_sec": summary.median.memcpy_msgs_per_sec,
            "memcpy_resident_msgs_per_sec": summary.median.memcpy_resident_msgs_per_sec,
            "read_limit_msgs_per_sec": summary.median.read_limit_msgs_per_sec,
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
        return Ok(());
    }
    let terminal = render::Stream::Stdout.is_terminal();
    let color = render::color_enabled(render::Stream::Stdout);
    writeln!(
        out,
        "mfq bench: {} format, {}-byte messages, {} messages, median of {} run(s)",
        cfg.params.format(),
        cfg.size,
        cfg.count,
        cfg.runs
    )?;
    writeln!(out, "{}", table(&summary.median, terminal, color))?;
    Ok(())
}

fn resolve_config(global: &GlobalOpts, args: &BenchArgs) -> anyhow::Result<Config> {
    let count = args
        .count
        .unwrap_or(if args.quick { 100_000 } else { 10_000_000 });
    let runs = args.runs.unwrap_or(if args.quick { 1 } else { 3 }).max(1);
    anyhow::ensure!(count > 0, "--count must be at least 1");
    anyhow::ensure!(
        args.size >= 8,
        "--size must be at least 8 bytes (latency runs carry a timestamp)"
    );
    let mut req = resolve::params_request(global);
    req.format.get_or_insert(Format::Fixed);
    if req.format == Some(Format::Fixed) {
        req.record_size.get_or_insert(args.size);
    }
    let params: Params = req.to_params()?;
    if let Some(p) = params.record_size() {
        anyhow::ensure!(
            p == args.size,
            "--record-size {p} differs from --size {}",
            args.size
        );
    }
    anyhow::ensure!(
        args.size <= params.max_payload() as u32,
        "--size {} does not fit the segment size {}",
        args.size,
        params.segment_size()
    );
    let parent = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let dir = parent.join(format!("mfq-bench-{}", std::process::id()));
    Ok(Config {
        dir,
        params,
        size: args.size as usize,
        count,
        flush_every: args.flush_every.max(1),
        selection: selection(args)?,
        runs,
    })
}

/// `--only`, checked against `--processes`; everything (as `--processes` allows) without it.
fn selection(args: &BenchArgs) -> anyhow::Result<Selection> {
    let two = args.processes == 2;
    if args.only.is_empty() {
        return Ok(Selection::all(two));
    }
    let mut s = Selection::default();
    for w in &args.only {
        match w {
            Workload::Write => s.write = true,
            Workload::Read => s.read = true,
            Workload::Durable => s.durable = true,
            Workload::Sync => s.sync = true,
            Workload::Cross => s.cross = true,
            Workload::Latency => s.latency = true,
            Workload::Wake => s.wake = true,
        }
    }
    anyhow::ensure!(
        two || !(s.cross || s.latency || s.wake),
        "--only cross, latency and wake run two processes; drop --processes 1"
    );
    Ok(s)
}

fn table(m: &RunFigures, terminal: bool, color: bool) -> comfy_table::Table {
    let mut t = render::table::new_table(
        &["workload", "msgs/s", "MB/s", "of its limit"],
        terminal,
        color,
    );
    let bytes_per_msg = m.write_bytes_per_msg;
    let mut row = |name: &str, rate: Option<f64>, limit: Option<f64>| {
        let Some(rate) = rate else { return };
        t.add_row(vec![
            name.to_string(),
            human_rate(rate),
            format!("{:.0}", rate * bytes_per_msg / 1e6),
            limit.map_or(String::new(), |l| {
                format!("{:.0}%", 100.0 * rate / l.max(1.0))
            }),
        ]);
    };
    let write_limit = Some(m.memcpy_msgs_per_sec);
    row("limit: memcpy into a new mapped file", write_limit, None);
    row(
        "limit: memcpy into resident pages",
        Some(m.memcpy_resident_msgs_per_sec),
        None,
    );
    row(
        "limit: read a byte of each message",
        Some(m.read_limit_msgs_per_sec),
        None,
    );
    row("write, 1 process", m.write_msgs_per_sec, write_limit);
    row(
        "read + commit, 1 process",
        m.read_msgs_per_sec,
        Some(m.read_limit_msgs_per_sec),
    );
    row(
        "producer -> consumer, 2 processes",
        m.cross_process_msgs_per_sec,
        write_limit,
    );
    row(
        "durable (flush policy), until confirmed",
        m.durable_msgs_per_sec,
        write_limit,
    );
    row(
        "flush every message",
        m.flush_every_message_msgs_per_sec,
        None,
    );
    if let (Some(durable), Some(disk)) = (m.durable_bytes_per_sec, m.disk_bytes_per_sec) {
        t.add_row(vec![
            "durable bytes / disk bandwidth".to_string(),
            String::new(),
            format!("{:.0} / {:.0}", durable / 1e6, disk / 1e6),
            format!("{:.0}% of disk", 100.0 * durable / disk.max(1.0)),
        ]);
    }
    for (name, p) in [
        ("one-way latency (spinning)", m.latency_ns),
        ("wake-up latency (blocked)", m.wake_latency_ns),
    ] {
        if let Some(p) = p {
            t.add_row(vec![
                name.to_string(),
                lat(&p),
                String::new(),
                String::new(),
            ]);
        }
    }
    t
}

fn lat(p: &Percentiles) -> String {
    let us = |ns: u64| format!("{:.2}", ns as f64 / 1000.0);
    format!(
        "p50 {} / p99 {} / p99.9 {} µs",
        us(p.p50),
        us(p.p99),
        us(p.p999)
    )
}

fn human_rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.1}M", r / 1e6)
    } else if r >= 1e3 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}
