//! Checks that the committed manual pages in `man/` (`mfq.1` and one per subcommand) match
//! what the current command line definition generates (`mfq __man DIR`, as
//! scripts/gen-completions.sh runs it).
//!
//! This test owns that freshness check only; it must not test parsing (see cli_syntax.rs).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::bin::*;

/// The `*.1` files of a folder, by name.
fn pages(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".1") {
            out.insert(name, std::fs::read(&path).unwrap());
        }
    }
    out
}

fn generate() -> (tempfile::TempDir, BTreeMap<String, Vec<u8>>) {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["__man", arg(dir.path())]);
    assert!(
        out.status.success(),
        "`mfq __man` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fresh = pages(dir.path());
    (dir, fresh)
}

#[test]
fn committed_man_pages_are_current() {
    let (_dir, fresh) = generate();
    let committed = pages(&Path::new(env!("CARGO_MANIFEST_DIR")).join("man"));
    let stale: Vec<&String> = fresh
        .keys()
        .chain(committed.keys())
        .filter(|name| fresh.get(*name) != committed.get(*name))
        .collect();
    assert!(
        stale.is_empty(),
        "manual pages are out of date with the command line ({stale:?}); refresh them with \
         scripts/gen-completions.sh"
    );
}

#[test]
fn there_is_a_page_for_mfq_and_every_subcommand() {
    let (_dir, fresh) = generate();
    let main = String::from_utf8(fresh["mfq.1"].clone()).unwrap();
    assert!(main.contains(".TH mfq 1"), "{main}");
    for sub in SUBCOMMANDS {
        let name = format!("mfq-{sub}.1");
        let page = String::from_utf8(fresh.get(&name).cloned().unwrap_or_default()).unwrap();
        assert!(page.contains(".SH SYNOPSIS"), "{name}: {page}");
        assert!(main.contains(&sub.replace('-', "\\-")), "mfq.1 lacks {sub}");
    }
    assert!(
        !fresh.keys().any(|n| n.contains("__")),
        "internal entry points have no page: {:?}",
        fresh.keys()
    );
}
