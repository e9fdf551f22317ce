//! The JSON that scripts read, as the README's "JSON output" section documents it: every
//! command run with `--json` prints what parses and has the documented fields with the
//! documented types; `consume`, `tail` and `dump-segment` describe a record with the same
//! fields; `--payload` forces a payload encoding; an error under `--json` is one JSON object on
//! standard error with the exit status it exits with.
//!
//! This test owns the shape of the JSON only; what the values mean is tested with each command.

mod common;

use std::path::Path;

use serde_json::Value;

use common::bin::*;

/// A documented type.
#[derive(Clone, Copy, Debug)]
enum T {
    /// A non-negative integer.
    U,
    /// A string.
    S,
    /// `true` or `false`.
    B,
    /// An object.
    O,
    /// An array.
    A,
    /// A payload: an object with exactly one of `text`, `base64`, `hex`, a string.
    P,
    /// The type, or `null`.
    Or(&'static T),
}

fn is(v: &Value, t: T) -> bool {
    match t {
        T::U => v.is_u64(),
        T::S => v.is_string(),
        T::B => v.is_boolean(),
        T::O => v.is_object(),
        T::A => v.is_array(),
        T::P => v.as_object().is_some_and(|o| {
            o.len() == 1
                && ["text", "base64", "hex"]
                    .iter()
                    .any(|k| o.get(*k).is_some_and(Value::is_string))
        }),
        T::Or(t) => v.is_null() || is(v, *t),
    }
}

/// Checks that `doc` has every field of `spec` with its type.
fn check(what: &str, doc: &Value, spec: &[(&str, T)]) {
    assert!(doc.is_object(), "{what}: not an object: {doc}");
    for (field, t) in spec {
        let v = doc
            .get(field)
            .unwrap_or_else(|| panic!("{what}: no field `{field}` in {doc}"));
        assert!(is(v, *t), "{what}: `{field}` is not {t:?}: {doc}");
    }
}

/// Checks `v` (the schema version) and the fields of a whole document.
fn check_doc(what: &str, doc: &Value, spec: &[(&str, T)]) {
    assert_eq!(doc["v"], 1, "{what}: schema version: {doc}");
    check(what, doc, spec);
}

/// The record fields `consume`, `tail` and `dump-segment` share.
const RECORD: [(&str, T); 5] = [
    ("offset", T::U),
    ("next_offset", T::U),
    ("record_size", T::U),
    ("payload_size", T::U),
    ("payload", T::P),
];

/// A `dump-segment` row: the record fields (null where a row has none) and its own.
const ROW: [(&str, T); 9] = [
    ("offset", T::U),
    ("next_offset", T::Or(&T::U)),
    ("record_size", T::U),
    ("payload_size", T::Or(&T::U)),
    ("payload", T::Or(&T::P)),
    ("position", T::U),
    ("status", T::S),
    ("count", T::U),
    ("gap_to", T::Or(&T::U)),
];

fn json(out: &std::process::Output, code: i32) -> Value {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stdout));
    })
}

fn json_lines(out: &std::process::Output) -> Vec<Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A stream store holding `hello`, three NUL bytes and `a\tb`, with a named consumer `audit`
/// that has read the first.
fn store(dir: &Path) -> std::path::PathBuf {
    let s = dir.join("s");
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
    ];
    let summary = json(
        &run_in(&with(&args, &["--json"]), b"hello\n\0\0\0\na\tb\n"),
        0,
    );
    check_doc(
        "produce",
        &summary,
        &[
            ("messages", T::U),
            ("bytes", T::U),
            ("first_offset", T::U),
            ("producer_offset", T::U),
        ],
    );
    assert_eq!(summary["messages"], 3);
    json_lines(&run(&["consume", arg(&s), "--consumer", "audit", "--json"]));
    s
}

#[test]
fn consume_tail_and_dump_segment_print_one_record_schema() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let consumed = json_lines(&run(&["consume", arg(&s), "-n", "all", "--peek", "--json"]));
    assert_eq!(consumed.len(), 3);
    for rec in &consumed {
        check_doc("consume", rec, &RECORD);
        let size = rec["next_offset"].as_u64().unwrap() - rec["offset"].as_u64().unwrap();
        assert_eq!(rec["record_size"], size, "{rec}");
        // A stream record: 4-byte length, payload, marker.
        assert_eq!(
            rec["record_size"].as_u64().unwrap(),
            rec["payload_size"].as_u64().unwrap() + 5,
            "{rec}"
        );
    }
    // `auto`: printable text as text (tab allowed), NULs as base64.
    assert_eq!(
        consumed[0]["payload"],
        serde_json::json!({ "text": "hello" })
    );
    assert_eq!(
        consumed[1]["payload"],
        serde_json::json!({ "base64": "AAAA" })
    );
    assert_eq!(
        consumed[2]["payload"],
        serde_json::json!({ "text": "a\tb" })
    );

    let tailed = json_lines(&run(&[
        "tail",
        arg(&s),
        "-e",
        "--from",
        "beginning",
        "--output",
        "json",
    ]));
    assert_eq!(tailed, consumed, "tail and consume print the same records");

    let dump = json(&run(&["--json", "dump-segment", "-s", arg(&s), "0"]), 0);
    check_doc(
        "dump-segment",
        &dump,
        &[
            ("segment", T::S),
            ("start", T::U),
            ("length", T::U),
            ("format", T::S),
            ("record_size", T::Or(&T::U)),
            ("segment_size", T::U),
            ("records", T::A),
            ("not_shown", T::U),
            ("summary", T::O),
        ],
    );
    check(
        "dump-segment summary",
        &dump["summary"],
        &[
            ("records_ok", T::U),
            ("damaged", T::U),
            ("unwritten", T::U),
            ("first_damaged_position", T::Or(&T::U)),
            ("first_damaged_offset", T::Or(&T::U)),
            ("unexpected_length", T::Or(&T::U)),
            ("expected_length", T::U),
        ],
    );
    let rows = dump["records"].as_array().unwrap();
    for row in rows {
        check("dump-segment row", row, &ROW);
    }
    // The complete records are the records consume printed, field for field.
    let ok: Vec<&Value> = rows.iter().filter(|r| r["status"] == "ok").collect();
    assert_eq!(ok.len(), consumed.len());
    for (row, rec) in ok.iter().zip(&consumed) {
        for (field, _) in RECORD {
            assert_eq!(row[field], rec[field], "{field}: {row} vs {rec}");
        }
    }
    let tail = rows.last().unwrap();
    assert_eq!(tail["status"], "unwritten");
    assert!(
        tail["payload"].is_null() && tail["next_offset"].is_null(),
        "{tail}"
    );
}

#[test]
fn payload_encodings_can_be_forced() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let bin = dir.path().join("bin");
    std::fs::write(&bin, b"\0\xffA\n").unwrap();
    let args = [
        "produce",
        arg(&s),
        "--format",
        "stream",
        "--input",
        "raw",
        "--file",
    ];
    json(&run(&with(&args, &[arg(&bin), "--json"])), 0);
    let peek = |payload: &str| {
        let args = ["consume", arg(&s), "--peek", "--json", "--payload", payload];
        json_lines(&run(&args)).remove(0)["payload"].clone()
    };
    assert_eq!(peek("auto"), serde_json::json!({ "base64": "AP9BCg==" }));
    assert_eq!(peek("base64"), serde_json::json!({ "base64": "AP9BCg==" }));
    assert_eq!(peek("hex"), serde_json::json!({ "hex": "00ff410a" }));
    assert_eq!(peek("text"), serde_json::json!({ "text": "\0\u{fffd}A\n" }));
    let tail = [
        "tail",
        arg(&s),
        "-e",
        "--from",
        "beginning",
        "--json",
        "--payload",
        "hex",
    ];
    assert_eq!(json_lines(&run(&tail))[0]["payload"]["hex"], "00ff410a");
    let dump = [
        "--json",
        "dump-segment",
        "-s",
        arg(&s),
        "0",
        "--payload",
        "hex",
    ];
    assert_eq!(
        json(&run(&dump), 0)["records"][0]["payload"]["hex"],
        "00ff410a"
    );
    // Printable text can be asked for as bytes too.
    let text = dir.path().join("t");
    let args = ["produce", arg(&text), "--format", "stream", "-m", "hi"];
    json(&run(&with(&args, &["--json"])), 0);
    let args = [
        "consume",
        arg(&text),
        "--peek",
        "--output",
        "json",
        "--payload",
        "base64",
    ];
    assert_eq!(json_lines(&run(&args))[0]["payload"]["base64"], "aGk=");
    // --payload only applies to JSON.
    let out = run(&["consume", arg(&s), "--peek", "--payload", "hex"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// The error object a failed command printed on standard error, checked against its status.
fn error_object(out: &std::process::Output, code: i32) -> Value {
    assert_eq!(out.status.code(), Some(code), "{out:?}");
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let v: Value = serde_json::from_str(&err).unwrap_or_else(|e| panic!("{e}: {err}"));
    check_doc(
        "error",
        &v,
        &[
            ("error", T::S),
            ("kind", T::S),
            ("exit", T::U),
            ("hint", T::Or(&T::S)),
        ],
    );
    assert_eq!(v["exit"], code, "{v}");
    v
}

#[test]
fn errors_under_json_are_one_object_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let v = error_object(&run(&["consume", arg(&missing), "--json"]), 1);
    assert_eq!(v["kind"], "not_a_store");
    assert!(
        v["error"].as_str().unwrap().contains("not a queue store"),
        "{v}"
    );
    // `--output json` asks for JSON too; without either, the plain line stays.
    let v = error_object(&run(&["tail", arg(&missing), "--output", "json"]), 1);
    assert_eq!(v["kind"], "not_a_store");
    let plain = run(&["consume", arg(&missing)]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&plain.stderr).starts_with("mfq: cannot open store"));

    let s = store(dir.path());
    let all = ["consume", arg(&s), "-n", "all", "--json"];
    assert_eq!(json_lines(&run(&all)).len(), 3);
    let v = error_object(&run(&["consume", arg(&s), "--json"]), 3);
    assert_eq!(v["kind"], "nothing_available");
    let v = error_object(
        &run(&["--json", "adjust-offset", "-s", arg(&s), "consumer", "1"]),
        1,
    );
    assert_eq!(v["kind"], "misaligned");
    let v = error_object(&run(&["stat", arg(&s), "--json", "--bogus"]), 2);
    assert_eq!(v["kind"], "usage");
    assert!(v["error"].as_str().unwrap().contains("--bogus"), "{v}");
}

#[test]
fn admin_commands_print_their_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(dir.path());
    let stat = json(&run(&["stat", arg(&s), "--json"]), 0);
    check_doc(
        "stat",
        &stat,
        &[
            ("path", T::S),
            ("format", T::S),
            ("record_size", T::Or(&T::U)),
            ("segment_size", T::U),
            ("params_source", T::S),
            ("segments", T::O),
            ("earliest_offset", T::U),
            ("producer_offset", T::U),
            ("confirmed_offset", T::U),
            ("unflushed_bytes", T::U),
            ("end_offset", T::U),
            ("producer", T::O),
            ("recovery_lock", T::O),
            ("consumers", T::A),
            ("last_write_unix_ms", T::Or(&T::U)),
            ("issues", T::A),
        ],
    );
    assert_eq!(stat["params_source"], "mfq.json");
    for c in stat["consumers"].as_array().unwrap() {
        check(
            "stat consumer",
            c,
            &[
                ("name", T::S),
                ("offset", T::U),
                ("lag_bytes", T::U),
                ("lag_messages", T::Or(&T::U)),
                ("lag_messages_at_least", T::U),
                ("last_commit_unix_ms", T::Or(&T::U)),
                ("last_commit", T::Or(&T::S)),
            ],
        );
    }
    let check_json = json(&run(&["stat", arg(&s), "--check", "--json"]), 0);
    check_doc(
        "stat --check",
        &check_json,
        &[
            ("status", T::S),
            ("code", T::U),
            ("summary", T::S),
            ("problems", T::A),
            ("consumers", T::A),
        ],
    );
    for args in [&["--check"][..], &["--dry-run"]] {
        let recover = json(&run(&with(&["recover", arg(&s), "--json"], args)), 0);
        check_doc(
            "recover",
            &recover,
            &[("report", T::O), ("plan", T::O), ("needs_repair", T::B)],
        );
        assert!(recover["applied"].is_null(), "{recover}");
        assert_eq!(recover["report"]["params_source"], "mfq.json");
        check("recover plan", &recover["plan"], &[("actions", T::A)]);
    }
    let prune = [
        "prune",
        arg(&s),
        "--before",
        "consumed",
        "--dry-run",
        "--json",
    ];
    check_doc(
        "prune",
        &json(&run(&prune), 0),
        &[
            ("before", T::U),
            ("dry_run", T::B),
            ("plan", T::O),
            ("planned_bytes", T::U),
            ("pruned", T::Or(&T::O)),
            ("bytes_freed", T::U),
            ("deleted_count", T::U),
            ("held", T::Or(&T::O)),
            ("left_behind", T::A),
        ],
    );
    let adjust = [
        "adjust-offset",
        "-s",
        arg(&s),
        "audit",
        "earliest",
        "--dry-run",
        "--json",
    ];
    let adjust = json(&run(&adjust), 0);
    check_doc(
        "adjust-offset",
        &adjust,
        &[
            ("store", T::S),
            ("changes", T::A),
            ("dry_run", T::B),
            ("changed", T::B),
            ("created", T::B),
            ("clamped", T::Or(&T::O)),
        ],
    );
    for c in adjust["changes"].as_array().unwrap() {
        check(
            "adjust-offset change",
            c,
            &[("name", T::S), ("from", T::Or(&T::U)), ("to", T::U)],
        );
    }
}
