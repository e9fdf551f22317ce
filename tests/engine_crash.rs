//! Process-kill crash tests. The test binary re-executes itself as a child (`--exact <test>`
//! with `MFQ_CRASH_CHILD` set) that appends a deterministic sequence (message i is derived from
//! i) under a flush policy, and SIGKILLs it at a random point. After every kill, reopening a
//! producer (its open-time repair runs) must leave: every message below the confirmed offset
//! read before the kill intact, a reader seeing exactly messages 0..k in order (nothing torn,
//! stale, duplicated or missing), and a producer that appends k.. after them. A consumer killed
//! between a read and its commit gets the message again.
//!
//! The normal suite runs 240 producer kills across both formats. For a longer soak:
//! `MFQ_CRASH_ITERATIONS=5000 cargo test --release --test engine_crash -- --nocapture`.

mod engine_util;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine_util::*;
use mfq::queue::{ConsumerId, Params, ParamsRequest, ProducerOptions, StartAt, Store};

const CHILD_ENV: &str = "MFQ_CRASH_CHILD";
/// Messages one child appends at most before it exits by itself.
const CHILD_LIMIT: u64 = 600;

/// The flush policies the children cycle through.
fn policy(n: u64) -> ProducerOptions {
    match n % 4 {
        0 => ProducerOptions {
            flush_every: Some(1),
            flush_interval: None,
            background: false,
            ..Default::default()
        },
        1 => ProducerOptions {
            flush_every: Some(7),
            ..Default::default()
        },
        2 => ProducerOptions {
            flush_every: None,
            ..Default::default()
        },
        _ => ProducerOptions {
            flush_every: Some(3),
            flush_interval: Some(Duration::from_micros(200)),
            background: true,
            ..Default::default()
        },
    }
}

/// Child side: `produce <store> <first index> <policy>` or `consume <store> <first index>`.
fn child_main(spec: &str) {
    let parts: Vec<&str> = spec.split('|').collect();
    let store = Store::open(parts[1], &ParamsRequest::default()).unwrap();
    let first: u64 = parts[2].parse().unwrap();
    match parts[0] {
        "produce" => {
            let mut p = store.producer(policy(parts[3].parse().unwrap())).unwrap();
            for i in first..first + CHILD_LIMIT {
                p.append(&message(store.params(), i)).unwrap();
            }
            p.close().unwrap();
        }
        "consume" => {
            let mut c = store
                .consumer(&ConsumerId::Default, StartAt::Earliest)
                .unwrap();
            for i in first..17 {
                let r = c.try_next().unwrap().expect("a record");
                assert_eq!(r.payload, message(store.params(), i));
                c.commit().unwrap();
            }
            // Read message 17 without committing it, say so, and wait for the kill.
            c.try_next().unwrap().expect("a record");
            std::fs::write(Path::new(parts[1]).join("child-ready"), b"").unwrap();
            std::thread::sleep(Duration::from_secs(30));
        }
        other => panic!("unknown child role {other}"),
    }
    std::process::exit(0);
}

fn spawn_child(test: &str, spec: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

fn kill(child: &mut Child) {
    // SAFETY: plain syscall on the pid of a child we spawned and have not reaped yet.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    assert_eq!(r, 0, "kill failed");
    child.wait().unwrap();
}

fn confirmed_now(root: &Path) -> u64 {
    let b = std::fs::read(root.join("offset/producer.confirmed.offset")).unwrap_or_default();
    b.try_into().map(u64::from_le_bytes).unwrap_or(0)
}

/// Reads the whole store and checks it is exactly messages 0..k in order; returns k.
fn verify_sequence(store: &Store, confirmed: u64, what: &str) -> u64 {
    let records = drain(store);
    let mut next = store.earliest_offset().unwrap();
    assert_eq!(next, 0, "{what}: no segment may be lost");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(
            r.offset, next,
            "{what}: record #{i} is not where the last one ended"
        );
        assert!(
            r.payload == message(store.params(), i as u64),
            "{what}: record #{i} at {} is not message {i}",
            r.offset
        );
        next = r.next_offset;
    }
    assert!(
        next >= confirmed,
        "{what}: data ends at {next}, below the confirmed offset {confirmed} read before the kill"
    );
    records.len() as u64
}

fn iterations() -> u64 {
    std::env::var("MFQ_CRASH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240)
}

/// One round: kill a child producer at a random point, then check, resume and check again.
fn crash_round(root: &Path, n: u64, k: u64, rng: &mut XorShift, stats: &mut [u64; 3]) -> u64 {
    let before = k;
    let spec = format!("produce|{}|{k}|{n}", root.display());
    let mut child = spawn_child("producer_killed_at_random_points", &spec);
    std::thread::sleep(Duration::from_micros(rng.range(0, 6000)));
    let confirmed = confirmed_now(root);
    kill(&mut child);
    let store = Store::open(root, &ParamsRequest::default()).unwrap();
    let what = format!("{} round {n}", describe(store.params()));
    let mut p = store.producer(policy(n + 1)).unwrap();
    let k = verify_sequence(&store, confirmed, &what);
    assert!(k <= before + CHILD_LIMIT, "{what}");
    // How the kill landed: before the first append, mid-run, or after the child finished.
    stats[match k - before {
        0 => 0,
        CHILD_LIMIT => 2,
        _ => 1,
    }] += 1;
    for i in k..k + 3 {
        p.append(&message(store.params(), i)).unwrap();
    }
    p.close().unwrap();
    assert_eq!(
        verify_sequence(&store, 0, &what),
        k + 3,
        "{what}: resumed appends"
    );
    k + 3
}

#[test]
fn producer_killed_at_random_points() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child_main(&spec);
    }
    let total = iterations();
    let mut rng = XorShift::new(0xC0FFEE);
    let t0 = Instant::now();
    let mut dir = tempfile::tempdir().unwrap();
    let mut root = PathBuf::new();
    let mut k = 0;
    let mut stats = [0u64; 3];
    for n in 0..total {
        if n % 20 == 0 {
            dir = tempfile::tempdir().unwrap();
            root = dir.path().join("s");
            let params = match (n / 20) % 4 {
                0 => Params::fixed(16, 100).unwrap(),
                1 => Params::stream(256).unwrap(),
                2 => Params::fixed(8, 4096).unwrap(),
                _ => Params::stream(1024).unwrap(),
            };
            Store::create(&root, params).unwrap();
            k = 0;
        }
        k = crash_round(&root, n, k, &mut rng, &mut stats);
    }
    drop(dir);
    eprintln!(
        "{total} producer kills in {:?}: {} before the first append, {} mid-run, {} after the end",
        t0.elapsed(),
        stats[0],
        stats[1],
        stats[2]
    );
    assert!(stats[1] > 0, "no kill landed while the child was appending");
}

#[test]
fn consumer_killed_between_read_and_commit_reads_the_message_again() {
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child_main(&spec);
    }
    for params in [
        Params::fixed(16, 100).unwrap(),
        Params::stream(128).unwrap(),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("s");
        let store = Store::create(&root, params).unwrap();
        produce(&store, 0, 20, ProducerOptions::default());
        let spec = format!("consume|{}|0", root.display());
        let mut child = spawn_child(
            "consumer_killed_between_read_and_commit_reads_the_message_again",
            &spec,
        );
        let deadline = Instant::now() + Duration::from_secs(60);
        while !root.join("child-ready").exists() {
            assert!(
                Instant::now() < deadline,
                "the child consumer never got ready"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        kill(&mut child);
        // The child committed messages 0..17 and had read 17 when it was killed.
        let mut c = store
            .consumer(&ConsumerId::Default, StartAt::Earliest)
            .unwrap();
        let first = c.try_next().unwrap().expect("a record").to_owned();
        assert_eq!(first.payload, message(&params, 17), "{}", describe(&params));
        assert_eq!(first.offset, c.committed());
    }
}
