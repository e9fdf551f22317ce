//! `mfq prune`'s exit status and messages when it deletes less than asked: status 6 when a
//! consumer or the producer keeps segments (naming each and the next step), status 5 when a
//! live process holds one (naming its pid and command), the same prediction from `--dry-run`,
//! and, with `--force --dry-run`, the consumers a forced prune would leave behind.
//!
//! This test owns those statuses and messages; the plan itself is tested in
//! tests/cli_admin_repair.rs.

mod common;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::bin::*;
use common::*;

fn prune(store: &Path, args: &[&str]) -> std::process::Output {
    run_on(store, &with(&["prune"], args))
}

/// The segment names a run's lines say go (`would delete` or `deleted`).
fn gone(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            l.strip_prefix("would delete ")
                .or_else(|| l.strip_prefix("deleted "))
        })
        .filter(|rest| rest.starts_with('0'))
        .map(|rest| rest.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn a_lagging_consumer_makes_prune_exit_6_and_the_dry_run_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    let before = store_files(&store);
    let dry = prune(&store, &["--before", "600", "--dry-run"]);
    expect(&dry, 6);
    let err = stderr(&dry);
    assert!(
        err.contains("would delete 0 of 2 segment(s) before 600"),
        "{err}"
    );
    assert!(err.contains("consumer reports at 75"), "{err}");
    let step = format!("mfq adjust-offset -s {} reports 500", store.display());
    assert!(err.contains(&step), "{err}");
    assert!(
        err.contains("skipping 17 record(s)") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(store_files(&store), before, "a dry run changes nothing");
    let real = prune(&store, &["--before", "600"]);
    expect(&real, 6);
    assert!(
        stderr(&real).contains("deleted 0 of 2 segment(s)"),
        "{}",
        stderr(&real)
    );
    assert_eq!(store_files(&store), before);

    // reports moves to 300: segment 0 (up to 250) may go, segment 250 stays for it.
    ok(&run_on(
        &store,
        &["consume", "--consumer", "reports", "-n", "9"],
    ));
    let dry = prune(&store, &["--before", "600", "--dry-run"]);
    expect(&dry, 6);
    let real = prune(&store, &["--before", "600"]);
    expect(&real, 6);
    assert_eq!(gone(&stdout(&dry)), gone(&stdout(&real)));
    assert_eq!(gone(&stdout(&real)), vec!["00000000000000000000"]);
    assert!(
        stderr(&real).contains("deleted 1 of 2 segment(s)"),
        "{}",
        stderr(&real)
    );
    assert!(
        stderr(&real).contains("consumer reports at 300"),
        "{}",
        stderr(&real)
    );
}

#[test]
fn nothing_before_the_offset_and_a_complete_prune_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    let out = prune(&store, &["--before", "consumed"]);
    assert!(expect(&out, 0).contains("no segment lies wholly before 75"));
    ok(&run_on(
        &store,
        &["consume", "--consumer", "reports", "-n", "20"],
    ));
    let out = prune(&store, &["--before", "500"]);
    assert_eq!(gone(&expect(&out, 0)).len(), 2);
}

#[test]
fn force_dry_run_lists_the_consumers_left_behind() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    let before = store_files(&store);
    let dry = prune(&store, &["--before", "600", "--force", "--dry-run"]);
    let text = expect(&dry, 0);
    assert!(
        text.contains(
            "consumer reports at 75 would be left before the new earliest offset 500: it \
             would next read 500, skipping 17 record(s)"
        ),
        "{text}"
    );
    let json = prune(
        &store,
        &["--before", "600", "--force", "--dry-run", "--json"],
    );
    let v: serde_json::Value = serde_json::from_str(&expect(&json, 0)).unwrap();
    assert_eq!(
        v["left_behind"],
        serde_json::json!([{"name": "reports", "offset": 75, "new_earliest": 500,
                             "skipped_records": 17}])
    );
    assert_eq!(v["deleted_count"], 2);
    assert_eq!(store_files(&store), before);

    let real = prune(&store, &["--before", "600", "--force"]);
    let text = expect(&real, 0);
    assert_eq!(gone(&text), gone(&stdout(&dry)));
    assert!(
        text.contains("consumer reports at 75 is left before"),
        "{text}"
    );
    assert!(!segment(&store, 0).exists() && !segment(&store, 250).exists());
}

/// A child `mfq consume` whose standard output nobody reads: it blocks on the full pipe,
/// with the store's first segment mapped (and held).
#[test]
fn a_reader_holding_a_segment_makes_prune_exit_5_naming_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    stream_store_of_20000(&store);
    let mut reader = mfq()
        .args(["consume", arg(&store), "--consumer", "r", "-n", "all"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let args = ["--before", "600000", "--force"];
    let deadline = Instant::now() + Duration::from_secs(10);
    let dry = loop {
        let out = prune(&store, &with(&args, &["--dry-run"]));
        if out.status.code() == Some(5) || Instant::now() > deadline {
            break out;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let real = prune(&store, &args);
    reader.kill().unwrap();
    wait_bounded(&mut reader);
    expect(&dry, 5);
    expect(&real, 5);
    let pid = format!("pid {}", reader.id());
    for out in [&dry, &real] {
        let err = stderr(out);
        assert!(err.contains("00000000000000000000 is held by"), "{err}");
        assert!(err.contains(&pid), "{err}");
        assert!(err.contains("consume"), "names the command: {err}");
        assert!(err.contains("--force does not override"), "{err}");
    }
    assert!(stdout(&dry).contains("would skip (held by a live process) 00000000000000000000"));
    assert!(stdout(&real).contains("skipped (held by a live process) 00000000000000000000"));
    assert!(segment(&store, 0).exists());
}

/// `recover` refused by a live holder names it too (here: this test process).
#[test]
fn a_recover_refusal_names_the_holding_pid() {
    let dir = tempfile::tempdir().unwrap();
    let store = lagging_store(dir.path());
    // The producer offset past the data: a repair rewrites producer.offset.
    set_offset(&store, "producer.offset", 1100);
    set_offset(&store, "producer.confirmed.offset", 1000);
    let held = hold_shared(&store.join("offset/producer.offset"));
    let out = run(&["recover", arg(&store)]);
    drop(held);
    expect(&out, 5);
    let err = stderr(&out);
    assert!(err.contains("producer.offset (pid "), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
}
