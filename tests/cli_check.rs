//! `mfq stat --check` (a monitoring check, Nagios convention: 0 OK, 1 WARNING, 2 CRITICAL,
//! 3 UNKNOWN) and the facts it judges in `stat`: exact-or-null lag counts, each consumer's last
//! commit time, and the health line that says a repair is needed.
//!
//! This test owns those behaviours; the rest of `stat` is tested in tests/cli_io_follow.rs.

mod common;

use std::path::Path;
use std::time::{Duration, SystemTime};

use common::bin::*;
use common::*;

fn check(store: &Path, args: &[&str]) -> std::process::Output {
    run(&with(&["stat", arg(store), "--check"], args))
}

/// Sets a file's modification time to `ago` before now.
fn age(path: &Path, ago: Duration) {
    let f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - ago).unwrap();
}

#[test]
fn ok_warning_and_critical_by_lag() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    let line = expect(&check(&store, &[]), 0);
    assert!(
        line.starts_with("OK: 2 consumer(s) within limits"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "{line}");

    let line = expect(&check(&store, &["--warn-lag-messages", "30"]), 1);
    assert!(
        line.starts_with("WARNING: consumer reports lags 37 messages (> 30)"),
        "{line}"
    );
    let line = expect(
        &check(
            &store,
            &["--warn-lag-messages", "10", "--max-lag-messages", "30"],
        ),
        2,
    );
    assert!(
        line.starts_with("CRITICAL: consumer reports lags 37"),
        "{line}"
    );
    assert!(
        line.contains("the consumer lags 20 messages (> 10)"),
        "{line}"
    );

    let line = expect(&check(&store, &["--max-lag-bytes", "600"]), 2);
    assert!(
        line.contains("consumer reports lags 925 bytes (> 600)"),
        "{line}"
    );
    assert!(
        !line.contains("the consumer lags"),
        "500 bytes is within: {line}"
    );
    expect(&check(&store, &["--warn-lag-bytes", "1KiB"]), 0);
}

#[test]
fn one_consumer_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    let args = ["--max-lag-messages", "30", "--consumer", "consumer"];
    expect(&check(&store, &args), 0);
    let out = check(
        &store,
        &[
            "--max-lag-messages",
            "30",
            "--consumer",
            "reports",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&expect(&out, 2)).unwrap();
    assert_eq!(v["status"], "critical");
    assert_eq!(v["code"], 2);
    assert_eq!(v["consumers"], serde_json::json!(["reports"]));
    assert_eq!(v["problems"][0]["metric"], "lag_messages");
    assert_eq!(v["problems"][0]["value"], 37);
    assert_eq!(v["problems"][0]["limit"], 30);
    assert!(v["summary"].as_str().unwrap().starts_with("CRITICAL: "));
}

#[test]
fn idle_counts_only_while_a_consumer_lags() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    expect(&check(&store, &["--max-idle", "1h"]), 0);
    age(
        &store.join("offset/consumer.reports.offset"),
        Duration::from_secs(7200),
    );
    let line = expect(&check(&store, &["--warn-idle", "1h"]), 1);
    assert!(
        line.contains("consumer reports has not committed for 2h"),
        "{line}"
    );
    expect(&check(&store, &["--max-idle", "3h"]), 0);
    // A consumer without lag is not idle, however old its last commit.
    ok(&run_on(&store, &["consume", "-n", "all"]));
    age(
        &store.join("offset/consumer.offset"),
        Duration::from_secs(7200),
    );
    let line = expect(
        &check(&store, &["--max-idle", "1h", "--consumer", "consumer"]),
        0,
    );
    assert!(line.starts_with("OK"), "{line}");
}

#[test]
fn errors_are_unknown_and_limits_need_check() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["stat", arg(&dir.path().join("none")), "--check"]);
    let line = expect(&out, 3);
    assert!(line.starts_with("UNKNOWN: "), "{line}");
    assert!(stderr(&out).starts_with("mfq: "), "{}", stderr(&out));
    let store = lagging_store(dir.path());
    let line = expect(&check(&store, &["--consumer", "nobody"]), 3);
    assert!(line.contains("no consumer nobody"), "{line}");
    expect(&run(&["stat", arg(&store), "--max-lag-messages", "3"]), 2);
}

/// A forced prune leaves `reports` inside a deleted segment: the store needs a repair, and
/// its lag in messages can only be bounded.
#[test]
fn a_repair_needed_is_critical_and_an_inexact_lag_is_null() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    ok(&run_on(&store, &["prune", "--before", "600", "--force"]));
    let line = expect(&check(&store, &[]), 2);
    assert!(line.starts_with("CRITICAL: needs repair"), "{line}");
    assert!(line.contains("mfq recover --dry-run"), "{line}");

    let text = expect(&run(&["stat", arg(&store)]), 0);
    assert!(
        text.contains("health: needs repair: run `mfq recover --dry-run`"),
        "{text}"
    );
    assert!(text.contains("≥20"), "{text}");
    let v: serde_json::Value =
        serde_json::from_str(&expect(&run(&["stat", arg(&store), "--json"]), 0)).unwrap();
    let reports = v["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "reports")
        .unwrap();
    assert!(reports["lag_messages"].is_null(), "{reports}");
    assert_eq!(reports["lag_messages_at_least"], 20);
    assert_eq!(reports["lag_messages_exact"], false);
}

/// Damage only a scan of the records finds (a torn end marker, a consumer between two record
/// boundaries) is CRITICAL too: the check inspects as `recover --check` does. A reader at the
/// torn record reports it (status 1, "torn record"), never "no message available".
#[test]
fn damage_in_the_records_is_critical_and_readers_report_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    expect(&check(&store, &[]), 0);
    // The end marker of the record at 75 (25-byte records: its marker is byte 99).
    let seg = segment(&store, 0);
    let mut bytes = std::fs::read(&seg).unwrap();
    assert_eq!(bytes[99], 0xFF);
    bytes[99] = 0;
    std::fs::write(&seg, bytes).unwrap();
    expect(&run(&["recover", arg(&store), "--check"]), 4);
    let line = expect(&check(&store, &[]), 2);
    assert!(line.starts_with("CRITICAL: needs repair"), "{line}");
    let out = run_on(&store, &["consume", "--consumer", "reports"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("torn record"), "{err}");
    let out = run(&["tail", "-e", arg(&store)]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    std::fs::write(
        store.join("offset/consumer.reports.offset"),
        76u64.to_le_bytes(),
    )
    .unwrap();
    let line = expect(&check(&store, &["--consumer", "reports"]), 2);
    assert!(line.starts_with("CRITICAL: needs repair"), "{line}");
}

#[test]
fn stat_shows_each_consumers_last_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    age(
        &store.join("offset/consumer.reports.offset"),
        Duration::from_secs(180),
    );
    let v: serde_json::Value =
        serde_json::from_str(&expect(&run(&["stat", arg(&store), "--json"]), 0)).unwrap();
    let now_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    for c in v["consumers"].as_array().unwrap() {
        let ms = c["last_commit_unix_ms"].as_u64().unwrap();
        let want = if c["name"] == "reports" { 180_000 } else { 0 };
        let ago = now_ms - ms;
        assert!(ago >= want && ago < want + 60_000, "{c}");
        let at = c["last_commit"].as_str().unwrap();
        let parsed = humantime::parse_rfc3339(at).unwrap();
        let secs = parsed
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(secs, ms / 1000, "{c}");
    }
    let text = expect(&run(&["stat", arg(&store)]), 0);
    assert!(text.contains("last commit"), "{text}");
    // "3m ago" or, a second later, "3m 1s ago", then the timestamp.
    assert!(text.contains("3m ") && text.contains(" ago (20"), "{text}");
}
