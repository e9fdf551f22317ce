//! The golden suite over stores the real .NET libraries wrote (issue #20):
//! `tests/fixtures/dotnet-real/` holds 19 stores written by MappedFileQueues 0.5.0 and
//! MappedFileQueues.Stream 0.2.0 on Linux, each with an `expect.json` (copied unchanged from
//! the shared fixtures; its README says how to read them). For every store:
//! - a reader from offset 0 with the given parameters finds exactly the listed records (for a
//!   killed producer: a prefix of what was fed, ending at the producer offset);
//! - without parameters: the same records, or a clear refusal, never other records;
//! - `recover --check` exits 4 exactly where the store holds real damage (a consumer offset
//!   that is not on a record boundary, a producer offset past zeros), 0 elsewhere;
//! - after `recover`, every listed record is still there.

mod common;

use std::path::{Path, PathBuf};

use common::bin::{self, arg};
use common::copy_tree;
use mfq::queue::{Format, ParamsRequest, StartAt, Store};
use serde_json::Value;

/// The stores whose check must report a repair (the fixtures' README: "real damage").
const DAMAGED: [&str; 3] = [
    "fixed-misaligned-consumer",
    "fixed-recovery-left-gap",
    "stream-misaligned-consumer",
];

struct Case {
    name: String,
    expect: Value,
    store: PathBuf,
    _dir: tempfile::TempDir,
}

/// Every fixture, copied into its own temporary folder.
fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dotnet-real");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("expect.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 19, "the 19 stores of the fixtures");
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(root.join(&name).join("expect.json")).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let store = dir.path().join("store");
            copy_tree(&root.join(&name).join("store"), &store);
            Case {
                name,
                expect: serde_json::from_str(&text).unwrap(),
                store,
                _dir: dir,
            }
        })
        .collect()
}

impl Case {
    fn request(&self) -> ParamsRequest {
        let e = &self.expect;
        let format = match e["format"].as_str().unwrap() {
            "fixed" => Format::Fixed,
            _ => Format::Stream,
        };
        ParamsRequest {
            format: Some(format),
            record_size: e["record_size"].as_u64().map(|n| n as u32),
            segment_size: Some(e["segment_size"].as_u64().unwrap()),
        }
    }

    /// The parameters as command-line options.
    fn flags(&self) -> Vec<String> {
        let e = &self.expect;
        let mut f = vec![
            "--format".to_string(),
            e["format"].as_str().unwrap().to_string(),
            "--segment-size".to_string(),
            e["segment_size"].to_string(),
        ];
        if let Some(p) = e["record_size"].as_u64() {
            f.extend(["--record-size".to_string(), p.to_string()]);
        }
        f
    }

    fn producer_after(&self) -> u64 {
        self.expect["offsets_after"]["producer"].as_u64().unwrap()
    }

    /// Checks `read` against the listed records, or the prefix rule of a killed producer.
    fn check(&self, read: &[(u64, Vec<u8>)], when: &str) {
        let name = &self.name;
        if let Some(list) = self.expect["records"].as_array() {
            let expected: Vec<(u64, Vec<u8>)> = list
                .iter()
                .map(|r| {
                    (
                        r["offset"].as_u64().unwrap(),
                        hex(r["hex"].as_str().unwrap()),
                    )
                })
                .collect();
            assert!(
                read == expected.as_slice(),
                "{name} {when}: read {} records, expected {}; first difference at {:?}",
                read.len(),
                expected.len(),
                read.iter().zip(&expected).position(|(a, b)| a != b)
            );
        } else {
            let fed: Vec<Vec<u8>> = self.expect["records_prefix_hex"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| hex(h.as_str().unwrap()))
                .collect();
            assert!(!read.is_empty(), "{name} {when}: nothing read");
            assert!(read.len() <= fed.len(), "{name} {when}: more than was fed");
            for (i, (got, want)) in read.iter().zip(&fed).enumerate() {
                assert_eq!(&got.1, want, "{name} {when}: record {i}");
            }
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every record from offset 0, with its offset, and the offset after the last one.
fn read_all(store: &Store) -> (Vec<(u64, Vec<u8>)>, u64) {
    let mut o = store.observer(StartAt::Offset(0)).unwrap();
    let mut out = Vec::new();
    while let Some(r) = o.try_next().unwrap() {
        out.push((r.offset, r.payload.to_vec()));
        assert!(out.len() <= 100_000);
    }
    (out, o.position())
}

#[test]
fn every_record_is_read_with_the_parameters() {
    for c in cases() {
        let store = Store::open(&c.store, &c.request()).unwrap();
        let (read, end) = read_all(&store);
        c.check(&read, "with parameters");
        if c.expect["records_prefix_hex"].is_array() {
            assert_eq!(end, c.producer_after(), "{}: the prefix ends there", c.name);
        }
    }
}

#[test]
fn without_parameters_the_same_records_or_a_clear_refusal() {
    let mut inferred = 0;
    let mut refused = Vec::new();
    for c in cases() {
        match Store::open(&c.store, &ParamsRequest::default()) {
            Ok(store) => {
                let (read, _) = read_all(&store);
                c.check(&read, "inferred");
                inferred += 1;
            }
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("ambiguous") && msg.contains("give the record size"),
                    "{}: a refusal names the candidates and what to give: {msg}",
                    c.name
                );
                refused.push(c.name.clone());
            }
        }
    }
    // Stream stores carry their lengths: all ten are read without help.
    assert!(inferred >= 10, "{inferred} stores read without parameters");
    // Two fixed stores fit several strides alike (their record counts and offsets allow the
    // multiples): named, never picked.
    assert_eq!(
        refused,
        ["fixed-killed-producer", "fixed-p38-unconfirmed"],
        "refused"
    );
}

#[test]
fn the_check_reports_real_damage_only() {
    for c in cases() {
        let mut args = vec!["recover", "--check", arg(&c.store)];
        let flags = c.flags();
        args.extend(flags.iter().map(String::as_str));
        let out = bin::run(&args);
        let want = if DAMAGED.contains(&c.name.as_str()) {
            4
        } else {
            0
        };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{}: recover --check\n{}{}",
            c.name,
            bin::stdout(&out),
            bin::stderr(&out)
        );
    }
}

#[test]
fn recover_keeps_every_listed_record() {
    for c in cases() {
        let flags = c.flags();
        let mut args = vec!["recover", arg(&c.store), "--no-save"];
        args.extend(flags.iter().map(String::as_str));
        let out = bin::run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: recover\n{}{}",
            c.name,
            bin::stdout(&out),
            bin::stderr(&out)
        );
        let store = Store::open(&c.store, &c.request()).unwrap();
        let (read, _) = read_all(&store);
        c.check(&read, "after recover");
        // A second check finds nothing left to repair.
        let mut check = vec!["recover", "--check", arg(&c.store)];
        check.extend(flags.iter().map(String::as_str));
        let out = bin::run(&check);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: check after recover",
            c.name
        );
    }
}

#[test]
fn an_ambiguous_record_size_is_a_usage_error_naming_the_candidates() {
    let c = cases()
        .into_iter()
        .find(|c| c.name == "fixed-killed-producer")
        .unwrap();
    for cmd in [&["stat"][..], &["tail", "-e"], &["consume", "--peek"]] {
        let mut args = cmd.to_vec();
        args.push(arg(&c.store));
        let out = bin::run(&args);
        let err = bin::stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(
            err.contains("the files fit 16, 33, 67 bytes") && err.contains("--record-size"),
            "{cmd:?}: {err}"
        );
    }
    let out = bin::run(&["tail", "-e", arg(&c.store), "--record-size", "16"]);
    assert_eq!(out.status.code(), Some(0), "{}", bin::stderr(&out));
    assert!(!bin::stdout(&out).is_empty());
    // A command that writes, given the record size, remembers it in mfq.json (which .NET
    // ignores): the next command needs no option.
    let move_consumer = ["adjust-offset", arg(&c.store), "consumer", "0"];
    let out = bin::run(&[&move_consumer[..], &["--record-size", "16", "--dry-run"]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", bin::stderr(&out));
    assert!(
        !c.store.join("mfq.json").exists(),
        "a dry run writes nothing"
    );
    let out = bin::run(&[&move_consumer[..], &["--record-size", "16"]].concat());
    assert!(bin::stderr(&out).contains("recorded the parameters in"));
    let out = bin::run(&["stat", arg(&c.store)]);
    assert_eq!(out.status.code(), Some(0), "{}", bin::stderr(&out));
    let out = bin::run(&["consume", arg(&c.store), "-n", "all"]);
    assert_eq!(
        bin::stdout(&out).lines().count(),
        152,
        "{}",
        bin::stderr(&out)
    );
}
