//! Concurrency: one producer per store (in one process and across processes, and against a
//! .NET-style shared lock), and readers that follow a producer appending from another thread
//! (both formats, across segment rolls, waiting with `next_until`): every consumer and observer
//! sees exactly the appended sequence in order. Waits are bounded by generous deadlines; no
//! timing is asserted.

mod engine_util;

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use engine_util::*;
use mfq::queue::{
    ConsumerId, Error, Params, ParamsRequest, ProducerOptions, StartAt, Store, WaitOptions,
};

const CHILD_ENV: &str = "MFQ_CONCURRENCY_CHILD";

fn flock(file: &File, op: libc::c_int) -> bool {
    // SAFETY: flock on a descriptor we own; no memory is involved.
    unsafe { libc::flock(file.as_raw_fd(), op | libc::LOCK_NB) == 0 }
}

/// Child side: `producer <store>` holds a producer, `shared <file>` holds LOCK_SH on a file;
/// both write `<store or file>.ready` and wait to be killed.
fn child_main(spec: &str) {
    let (role, path) = spec.split_once('|').unwrap();
    let _hold: Box<dyn std::any::Any> = match role {
        "producer" => {
            let store = Store::open(path, &ParamsRequest::default()).unwrap();
            Box::new(store.producer(ProducerOptions::default()).unwrap())
        }
        "shared" => {
            let f = File::open(path).unwrap();
            assert!(flock(&f, libc::LOCK_SH));
            Box::new(f)
        }
        other => panic!("unknown role {other}"),
    };
    std::fs::write(format!("{path}.ready"), b"").unwrap();
    std::thread::sleep(Duration::from_secs(60));
    std::process::exit(0);
}

fn spawn_child(test: &str, spec: &str, ready: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, spec)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("child exited early: {status}");
        }
        assert!(Instant::now() < deadline, "child never got ready");
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

fn kill(mut child: Child) {
    // SAFETY: plain syscall on the pid of our own unreaped child.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    child.wait().unwrap();
}

#[track_caller]
fn assert_locked(store: &Store) {
    let err = store.producer(ProducerOptions::default()).err().unwrap();
    assert!(matches!(err, Error::Locked { .. }), "{err}");
    assert!(err.to_string().contains("producer.offset"), "{err}");
}

#[test]
fn a_second_producer_in_the_same_process_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), Params::stream(256).unwrap()).unwrap();
    let first = store.producer(ProducerOptions::default()).unwrap();
    assert_locked(&store);
    let again = Store::open(store.path(), &ParamsRequest::default()).unwrap();
    assert_locked(&again);
    drop(first);
    // Another test of this binary may be forking a child at this moment: until it execs, the
    // child shares the closed producer's open file descriptions (and their locks). Bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let reopened = loop {
        match store.producer(ProducerOptions::default()) {
            Err(Error::Locked { .. }) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => break other,
        }
    };
    assert!(reopened.is_ok(), "{:?}", reopened.err());
}

#[test]
fn a_producer_in_another_process_or_a_shared_lock_blocks_the_producer() {
    const ME: &str = "a_producer_in_another_process_or_a_shared_lock_blocks_the_producer";
    if let Ok(spec) = std::env::var(CHILD_ENV) {
        return child_main(&spec);
    }
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), Params::fixed(8, 90).unwrap()).unwrap();
    drop(store.producer(ProducerOptions::default()).unwrap());
    let root = store.path().display().to_string();
    let child = spawn_child(
        ME,
        &format!("producer|{root}"),
        &store.path().with_extension("ready"),
    );
    assert_locked(&store);
    kill(child);
    drop(store.producer(ProducerOptions::default()).unwrap());
    // .NET holds LOCK_SH on every file it opens: from another process ...
    let offset = store.layout().producer_offset();
    let ready = offset.with_extension("offset.ready");
    let child = spawn_child(ME, &format!("shared|{}", offset.display()), &ready);
    assert!(mfq::queue::is_held(&offset).unwrap());
    assert_locked(&store);
    kill(child);
    // ... and from this process through a separate open file description.
    let f = File::open(&offset).unwrap();
    assert!(flock(&f, libc::LOCK_SH));
    assert_locked(&store);
    drop(f);
    assert!(!mfq::queue::is_held(&offset).unwrap());
    drop(store.producer(ProducerOptions::default()).unwrap());
}

/// A producer thread appends `n` messages while a waiting consumer and observer follow.
fn follow(params: Params, n: u64, opts: ProducerOptions) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::create(dir.path().join("s"), params).unwrap();
    let wait = WaitOptions {
        spin: Duration::from_micros(50),
        retry: Duration::from_millis(5),
    };
    let mut consumer = store
        .consumer_with(&ConsumerId::Default, StartAt::Earliest, wait)
        .unwrap();
    let mut observer = store.observer_with(StartAt::Earliest, wait).unwrap();
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || produce(&store, 0, n, opts))
    };
    let observed = std::thread::spawn(move || {
        let mut out = Vec::new();
        for _ in 0..n {
            let deadline = Instant::now() + Duration::from_secs(60);
            let r = observer.next_until(Some(deadline), None).unwrap();
            out.push(r.expect("the observer got every record in time").to_owned());
        }
        out
    });
    let mut consumed = Vec::new();
    for i in 0..n {
        let deadline = Instant::now() + Duration::from_secs(60);
        let r = consumer.next_until(Some(deadline), None).unwrap();
        consumed.push(r.expect("the consumer got every record in time").to_owned());
        if i % 7 == 0 {
            consumer.commit().unwrap();
        }
    }
    consumer.commit().unwrap();
    let written = writer.join().unwrap();
    let what = describe(&params);
    assert_eq!(consumed, written, "{what}: consumer");
    assert_eq!(observed.join().unwrap(), written, "{what}: observer");
    assert!(
        consumer.try_next().unwrap().is_none(),
        "{what}: nothing extra"
    );
    assert_eq!(consumer.committed(), written.last().unwrap().next_offset);
}

#[test]
fn readers_follow_a_producer_thread_across_rolls() {
    let fast = ProducerOptions::default();
    let synced = ProducerOptions {
        flush_every: Some(50),
        background: false,
        ..Default::default()
    };
    follow(Params::fixed(16, 100).unwrap(), 3000, fast.clone());
    follow(Params::fixed(1, 2).unwrap(), 2000, synced.clone());
    follow(Params::stream(256).unwrap(), 3000, fast);
    follow(Params::stream(500).unwrap(), 2000, synced);
}
