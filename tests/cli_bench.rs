//! `mfq bench` end to end on a tiny workload: the JSON has every documented figure, every
//! figure is a positive number, and the scratch store is removed. Nothing here asserts on
//! speed (benchmarks are not tests).

mod common;

use std::process::Output;

use common::bin::*;

/// Runs `mfq bench ARGS` and returns what it did.
fn bench(args: &[&str]) -> Output {
    run(&with(&["bench"], args))
}

/// The JSON a successful `mfq bench --json` run printed.
fn json_of(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bench_reports_every_figure_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let v = json_of(&bench(&[
        dir_arg, "--count", "3000", "--runs", "1", "--json",
    ]));
    for key in [
        "write_msgs_per_sec",
        "read_msgs_per_sec",
        "cross_process_msgs_per_sec",
        "durable_msgs_per_sec",
        "memcpy_msgs_per_sec",
        "memcpy_resident_msgs_per_sec",
        "read_limit_msgs_per_sec",
        "flush_every_message_msgs_per_sec",
        "disk_bytes_per_sec",
    ] {
        let x = v[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} missing in {v}"));
        assert!(x > 0.0, "{key} = {x}");
    }
    for key in ["latency_ns", "wake_latency_ns"] {
        for p in ["p50", "p99", "p999"] {
            assert!(
                v[key][p].as_u64().is_some_and(|x| x > 0),
                "{key}.{p} in {v}"
            );
        }
    }
    assert_eq!(v["count"], 3000);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "scratch files left behind: {left:?}");
}

#[test]
fn bench_refuses_a_size_that_cannot_carry_a_timestamp() {
    let out = bench(&["--size", "4", "--quick"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("mfq: --size must be at least 8"));
}

#[test]
fn only_runs_the_chosen_workloads() {
    let dir = tempfile::tempdir().unwrap();
    let dir_arg = dir.path().to_str().unwrap();
    let v = json_of(&bench(&[
        dir_arg,
        "--count",
        "3000",
        "--runs",
        "1",
        "--json",
        "--only",
        "read,sync",
    ]));
    for key in [
        "read_msgs_per_sec",
        "flush_every_message_msgs_per_sec",
        "memcpy_msgs_per_sec",
    ] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key} in {v}");
    }
    for key in [
        "write_msgs_per_sec",
        "durable_msgs_per_sec",
        "disk_bytes_per_sec",
        "cross_process_msgs_per_sec",
        "latency_ns",
        "wake_latency_ns",
    ] {
        assert!(v[key].is_null(), "{key} was not selected: {v}");
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "scratch files left behind: {left:?}");
}

#[test]
fn only_two_process_workloads_need_two_processes() {
    let out = bench(&["--quick", "--processes", "1", "--only", "durable,latency"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "mfq: --only cross, latency and wake run two processes; drop --processes 1\n"
    );
}
