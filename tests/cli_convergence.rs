//! What an operator sees of an interrupted repair, through the binary (kept apart from the
//! engine sweep: a test process that forks children while other threads hold store files
//! lets those children inherit the locks for a moment).
//!
//! This test owns the command line's view of the repair journal.

mod common;

use std::path::Path;

use mfq::queue::recovery::{self, fault, ApplyOptions};
use mfq::queue::{Params, ProducerOptions, Store};

fn repair(root: &Path) -> mfq::queue::Result<usize> {
    let store = Store::open(root, &Default::default())?;
    let plan = recovery::plan(&store.inspect()?, true);
    let opts = ApplyOptions {
        save_to: Some(root.join("mfq-salvage").join("cut")),
        force: false,
        remove_confirmed: false,
    };
    Ok(recovery::apply(store.layout(), &plan, &opts)?.actions)
}

use common::{set_offset as write_offset, zero_range as zero};

fn filled(root: &Path, params: Params, n: u64) {
    let store = Store::create(root, params).unwrap();
    let mut p = store.producer(ProducerOptions::default()).unwrap();
    for i in 0..n {
        p.append(&[i as u8; 16]).unwrap();
    }
    p.close().unwrap();
}

/// What an operator sees of an interrupted repair: `stat` and `recover --check` report it (the
/// check exits 4), and `mfq recover` finishes it.
#[test]
fn an_interrupted_repair_is_reported_and_finished_by_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let params = Params::fixed(16, 85).unwrap();
    filled(&root, params, 40);
    zero(&root.join(format!("commitlog/{:020}", 425)), 17, 85);
    write_offset(&root, "producer.confirmed.offset", 340);
    fault::interrupt_after(Some(2));
    assert!(repair(&root).is_err());
    fault::interrupt_after(None);
    assert!(root.join("mfq-repair.json").is_file());
    let run =
        |args: &[&str]| common::bin::run(&common::bin::with(args, &[common::bin::arg(&root)]));
    let check = run(&["recover", "--check"]);
    assert_eq!(check.status.code(), Some(4), "{check:?}");
    assert!(
        String::from_utf8_lossy(&check.stdout).contains("interrupted"),
        "{check:?}"
    );
    let stat = run(&["stat"]);
    assert!(
        String::from_utf8_lossy(&stat.stdout).contains("interrupted"),
        "{stat:?}"
    );
    let fix = run(&["recover"]);
    assert_eq!(fix.status.code(), Some(0), "{fix:?}");
    assert!(!root.join("mfq-repair.json").exists());
    assert_eq!(run(&["recover", "--check"]).status.code(), Some(0));
}
