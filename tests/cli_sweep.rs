//! No command panics on damaged stores: every file of the small golden stores is truncated at
//! every length and, separately, has every byte flipped; `stat`, `dump-segment`,
//! `consume --peek` and `recover` then run on each copy through the binary. A panic (exit 101,
//! "panicked" on stderr) fails; every other outcome is a documented status.

mod common;

use std::path::Path;

use common::bin::*;
use common::*;

/// Runs the commands on one damaged copy; returns a description of a panic, if any.
fn run_all(store: &Path, format: &[&str]) -> Option<String> {
    let s = store.to_str().unwrap();
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["stat", s],
        vec!["consume", s, "-n", "all", "--peek", "--output", "json"],
        vec!["recover", s, "--no-save"],
    ];
    for seg in [
        "00000000000000000000",
        "00000000000000000085",
        "00000000000000000050",
        "00000000000000000060",
    ] {
        if store.join("commitlog").join(seg).exists() {
            cmds.push(vec!["dump-segment", "-s", s, seg]);
        }
    }
    for mut args in cmds {
        args.extend_from_slice(format);
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        if out.status.code() == Some(101) || err.contains("panicked") {
            return Some(format!("{args:?}: {err}"));
        }
        assert!(
            matches!(out.status.code(), Some(0..=5)),
            "{args:?} exited {:?}: {err}",
            out.status.code()
        );
    }
    None
}

fn sweep(name: &str, format: &[&str]) {
    let files: Vec<String> = store_files(&fixture(name)).into_keys().collect();
    let mut panics = Vec::new();
    for file in &files {
        let len = std::fs::read(fixture(name).join(file)).unwrap().len();
        let damages = (0..len)
            .map(|n| (n, None))
            .chain((0..len).map(|i| (i, Some(0xFFu8))));
        for (at, flip) in damages {
            let (_t, store) = fixture_copy(name);
            let path = store.join(file);
            let mut bytes = std::fs::read(&path).unwrap();
            match flip {
                None => bytes.truncate(at),
                Some(x) => bytes[at] ^= x,
            }
            std::fs::write(&path, bytes).unwrap();
            if let Some(p) = run_all(&store, format) {
                panics.push(format!("{file} {at} {flip:?}: {p}"));
            }
        }
    }
    assert!(
        panics.is_empty(),
        "{} panics:\n{}",
        panics.len(),
        panics.join("\n")
    );
}

#[test]
fn no_command_panics_on_a_damaged_fixed_store() {
    sweep("fixed-rollover", &FIXED);
}

#[test]
fn no_command_panics_on_a_damaged_stream_store() {
    sweep("stream", &STREAM);
}

#[test]
fn no_command_panics_when_parameters_must_be_inferred() {
    sweep("fixed", &[]);
}
