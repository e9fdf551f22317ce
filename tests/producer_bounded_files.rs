//! A producer's open files and mappings are bounded whatever number of segments it writes
//! (issue #20): it keeps the current segment and the one before it mapped, and syncs older
//! unconfirmed segments through their paths. Proven by counting this process's descriptors
//! and mappings under a store while the engine rolls through hundreds of segments, and by
//! running `produce`, `tail` and `consume --wait` under `ulimit -n 64` through many rolls.

mod common;

use std::path::Path;

use common::bin::{self, arg};
use mfq::queue::{ConsumerId, Params, ProducerOptions, StartAt, Store};

/// Descriptors of this process open on files under `dir`.
fn open_files_under(dir: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

/// Mappings of this process of files under `dir`.
fn mappings_under(dir: &Path) -> usize {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let dir = dir.to_str().unwrap();
    maps.lines().filter(|l| l.contains(dir)).count()
}

#[test]
fn the_engine_producer_keeps_two_segments_mapped_through_hundreds_of_rolls() {
    for params in [
        Params::stream(4096).unwrap(),
        Params::fixed(60, 4096).unwrap(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::create(dir.path().join("s"), params).unwrap();
        let commitlog = store.path().join("commitlog");
        // No count trigger: nothing is confirmed until the close, so every rolled segment
        // still has bytes to sync when it is closed.
        let opts = ProducerOptions {
            flush_every: None,
            ..ProducerOptions::default()
        };
        let mut p = store.producer(opts).unwrap();
        let msg = [0x41u8; 60];
        let (mut max_files, mut max_maps) = (0, 0);
        for i in 0..30_000u32 {
            p.append(&msg).unwrap();
            if i % 500 == 0 {
                max_files = max_files.max(open_files_under(&commitlog));
                max_maps = max_maps.max(mappings_under(&commitlog));
            }
        }
        let end = p.offset();
        p.close().unwrap();
        let segments = std::fs::read_dir(&commitlog).unwrap().count();
        assert!(segments > 400, "{segments} segments");
        assert!(max_files <= 2, "{max_files} segment files open at once");
        assert!(max_maps <= 2, "{max_maps} segment mappings at once");
        assert_eq!(open_files_under(&commitlog), 0, "closed");
        let confirmed = std::fs::read(store.layout().confirmed_offset()).unwrap();
        assert_eq!(confirmed, end.to_le_bytes(), "all confirmed");
        let mut c = store
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .unwrap();
        let mut n = 0;
        while let Some(r) = c.try_next().unwrap() {
            assert_eq!(r.payload, &msg[..]);
            n += 1;
        }
        assert_eq!(n, 30_000);
    }
}

#[test]
fn produce_tail_and_consume_wait_run_under_ulimit_64_through_hundreds_of_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let input: String = (0..20_000).map(|i| format!("{i:064}\n")).collect();
    std::fs::write(dir.path().join("in.txt"), &input).unwrap();
    // A reader that follows from the first record, and a consumer that waits, both started
    // before the producer; all three with at most 64 descriptors.
    bin::ok(&bin::run(&[
        "produce",
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
        arg(&store),
        "-m",
        "first",
    ]));
    let script = format!(
        "set -e\n\
         ulimit -n 64\n\
         cd {dir}\n\
         mfq tail --from beginning s > tail.txt 2> tail.err &\n\
         tail_pid=$!\n\
         (mfq consume s -n 20001 --wait 20s > consume.txt 2> consume.err; echo $? > consume.rc) &\n\
         consume_pid=$!\n\
         trap 'kill $tail_pid $consume_pid 2> /dev/null || true' EXIT\n\
         sleep 0.3\n\
         mfq produce s --flush-every 1000000000 --file in.txt\n\
         wait $consume_pid\n\
         for _ in $(seq 200); do [ $(wc -l < tail.txt) -ge 20001 ] && break; sleep 0.05; done\n\
         cat consume.rc\n",
        dir = arg(dir.path())
    );
    let out = bin::run_cmd(&mut bin::sh(&script), b"");
    let stderr = bin::stderr(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("produced 20000 messages"), "{stderr}");
    assert_eq!(bin::stdout(&out).trim(), "0", "consume --wait exit status");
    let segments = std::fs::read_dir(store.join("commitlog")).unwrap().count();
    assert!(segments > 300, "{segments} segments");
    let expected: Vec<String> = std::iter::once("first".to_string())
        .chain((0..20_000).map(|i| format!("{i:064}")))
        .collect();
    for file in ["tail.txt", "consume.txt"] {
        let got = std::fs::read_to_string(dir.path().join(file)).unwrap();
        let got: Vec<&str> = got.lines().collect();
        assert_eq!(got.len(), expected.len(), "{file}");
        assert!(got.iter().zip(&expected).all(|(a, b)| a == b), "{file}");
    }
    for file in ["tail.err", "consume.err"] {
        let err = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!err.contains("Too many open files"), "{file}: {err}");
    }
}
