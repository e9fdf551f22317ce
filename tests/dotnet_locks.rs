//! Issue #15: mfq beside the .NET libraries' own locks. The .NET side is played by this test
//! binary run again as a child ([`dotnet_side`]) that opens files exactly as the .NET runtime
//! does: `open(O_RDWR | O_CREAT)` and `flock(LOCK_SH | LOCK_NB)` for every `FileStream`
//! (FileShare other than None), and for the fixed library's recovery (v0.4+) a classic POSIX
//! lock on `recovery_lock.lock` (`fcntl(F_SETLK, F_WRLCK)` over the whole file), with its
//! retry loop. mfq runs through the common harness. The .NET-side holders are separate
//! processes: this process only probes, so that no child mfq inherits a lock of ours.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use common::bin::*;
use common::*;

/// The environment variable that turns [`dotnet_side`] from a no-op into the .NET side.
const SCRIPT: &str = "MFQ_TEST_DOTNET_SIDE";

/// How long any wait of these tests may take.
const WAIT: Duration = Duration::from_secs(20);

/// `open(O_RDWR | O_CREAT)` then `flock(LOCK_SH | LOCK_NB)`, as a .NET `FileStream` with
/// `FileShare.ReadWrite` opens; `None` when the flock fails (.NET throws IOException).
fn dotnet_open(path: &str) -> Option<std::fs::File> {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    // SAFETY: flock on a descriptor this function owns.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) };
    // An offset file is mapped with a capacity of 8 bytes, which extends a new one.
    if r == 0 && path.ends_with(".offset") && f.metadata().unwrap().len() < 8 {
        f.set_len(8).unwrap();
    }
    (r == 0).then_some(f)
}

/// `fcntl(F_SETLK | F_GETLK)` with a whole-file lock of `kind`; returns the call's result and
/// the `struct flock` after it.
fn posix(f: &std::fs::File, cmd: libc::c_int, kind: libc::c_int) -> (bool, libc::flock) {
    let mut fl = libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    // SAFETY: a valid descriptor and a live `struct flock` for the call.
    let r = unsafe { libc::fcntl(f.as_raw_fd(), cmd, &mut fl as *mut libc::flock) };
    (r == 0, fl)
}

/// `CrossPlatformProcessLock.Acquire` once: open (flock `LOCK_SH`) and `Lock(0, 0)`.
fn dotnet_recovery_lock(path: &str) -> Option<std::fs::File> {
    let f = dotnet_open(path)?;
    posix(&f, libc::F_SETLK, libc::F_WRLCK).0.then_some(f)
}

/// The .NET side, when run as a child with [`SCRIPT`] set (a no-op test otherwise). The
/// script is `;`-separated steps, each answered by a `DOTNET ...` line on stdout:
/// - `open PATH`: a `FileStream` open; `DOTNET refused PATH` ends the child if it fails;
/// - `recovery PATH`: one try of the recovery lock; `DOTNET refused PATH` ends it if it fails;
/// - `watch PATH`: polls `F_GETLK` (which takes nothing) until a record lock shows
///   (`DOTNET seen PID`), then runs .NET's retry loop (every millisecond instead of 200) until
///   it has the lock (`DOTNET acquired after N retries`);
/// - `read PATH`: `DOTNET value V`, the 8-byte offset in the file.
///
/// Then `DOTNET ready`, and everything is held until stdin closes.
#[test]
fn dotnet_side() {
    let Ok(script) = std::env::var(SCRIPT) else {
        return;
    };
    let mut held = Vec::new();
    for step in script.split(';') {
        let (op, path) = step.split_once(' ').unwrap();
        match op {
            "open" | "recovery" => {
                let f = match op {
                    "open" => dotnet_open(path),
                    _ => dotnet_recovery_lock(path),
                };
                match f {
                    Some(f) => held.push(f),
                    None => {
                        println!("DOTNET refused {path}");
                        return;
                    }
                }
            }
            "watch" => {
                let f = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(path)
                    .unwrap();
                let start = Instant::now();
                let pid = loop {
                    let (ok, fl) = posix(&f, libc::F_GETLK, libc::F_WRLCK);
                    assert!(ok);
                    if fl.l_type != libc::F_UNLCK as libc::c_short {
                        break fl.l_pid;
                    }
                    assert!(start.elapsed() < WAIT, "no lock seen on {path}");
                };
                println!("DOTNET seen {pid}");
                drop(f);
                let mut retries = 0;
                let f = loop {
                    if let Some(f) = dotnet_recovery_lock(path) {
                        break f;
                    }
                    retries += 1;
                    assert!(start.elapsed() < WAIT, "never acquired {path}");
                    std::thread::sleep(Duration::from_millis(1));
                };
                println!("DOTNET acquired after {retries} retries");
                held.push(f);
            }
            "read" => {
                let b = std::fs::read(path).unwrap();
                println!("DOTNET value {}", u64::from_le_bytes(b.try_into().unwrap()));
            }
            other => panic!("unknown step {other}"),
        }
    }
    println!("DOTNET ready");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(held);
}

/// A running .NET side: its lines, and its stdin, whose closing ends it.
struct Dotnet {
    child: Child,
    lines: Receiver<String>,
}

impl Dotnet {
    /// Starts the .NET side with `steps` (see [`dotnet_side`]).
    fn start(steps: &[String]) -> Dotnet {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["dotnet_side", "--exact", "--nocapture", "--test-threads=1"])
            .env(SCRIPT, steps.join(";"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                // The harness may print its own words before ours on the line.
                if let Some(at) = line.find("DOTNET ") {
                    if tx.send(line[at + 7..].to_string()).is_err() {
                        break;
                    }
                }
            }
        });
        Dotnet { child, lines }
    }

    /// Starts the .NET side and waits until it holds everything (panics when refused).
    fn holding(steps: &[String]) -> Dotnet {
        let d = Dotnet::start(steps);
        let line = d.next();
        assert_eq!(line, "ready", "{steps:?}");
        d
    }

    /// Its next line.
    fn next(&self) -> String {
        self.lines
            .recv_timeout(WAIT)
            .expect("the .NET side answers in time")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes its stdin and waits for it to end (all its files closed).
    fn release(mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + WAIT;
        while self.child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "the .NET side did not end");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Dotnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn step(op: &str, path: &Path) -> String {
    format!("{op} {}", path.display())
}

fn offset(store: &Path, name: &str) -> PathBuf {
    store.join("offset").join(name)
}

/// Waits until a live process holds `path`.
fn until_held(path: &Path) {
    let deadline = Instant::now() + WAIT;
    while !mfq::queue::is_held(path).unwrap() {
        assert!(Instant::now() < deadline, "{} never held", path.display());
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A stream store of 64-byte segments with ten 13-byte records: three segments.
fn ten_records(dir: &Path) -> PathBuf {
    let store = dir.join("s");
    let msgs: Vec<String> = (0..10).map(|i| format!("record {i}")).collect();
    let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
    stream_store(&store, "64", &refs);
    store
}

/// Every file of the store that a change could touch, for "nothing changed".
fn snapshot(store: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = store_files(store);
    for name in ["mfq.gaps", "mfq-repair.json"] {
        if let Ok(b) = std::fs::read(store.join(name)) {
            files.insert(name.into(), b);
        }
    }
    files
}

/// A producer that waits on its stdin; ends when the returned stdin is dropped.
fn live_producer(store: &Path) -> (Child, std::process::ChildStdin) {
    let mut p = mfq()
        .args(["produce", arg(store), "--flush-every", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = p.stdin.take().unwrap();
    until_held(&offset(store, "producer.offset"));
    (p, stdin)
}

/// Item 5: an mfq consumer of the default name (`--wait`, and a plain one) and a .NET open of
/// `consumer.offset` (a .NET process starting: its recovery always opens it) both succeed, in
/// either order.
#[test]
fn an_mfq_consumer_and_a_dotnet_open_of_consumer_offset_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let consumer = offset(&store, "consumer.offset");
    // mfq first, waiting for records past the end.
    let mut waiting = mfq()
        .args(["consume", arg(&store), "-n", "11", "--wait", "20s"])
        // Not a pipe: a consumer commits only what a pipe's reader has taken.
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until_held(&consumer);
    let dotnet = Dotnet::holding(&[step("open", &consumer)]);
    dotnet.release();
    ok(&run(&["produce", arg(&store), "-m", "record 10"]));
    assert!(wait_bounded(&mut waiting).success());
    let end = offset_value(&store, "producer.offset");
    assert_eq!(offset_value(&store, "consumer.offset"), end);
    // .NET first.
    ok(&run(&["produce", arg(&store), "-m", "record 11"]));
    let dotnet = Dotnet::holding(&[step("open", &consumer)]);
    let out = ok_out(run(&["consume", arg(&store), "-n", "1", "--wait", "20s"]));
    assert_eq!(stdout(&out), "record 11\n");
    let end = offset_value(&store, "producer.offset");
    assert_eq!(offset_value(&store, "consumer.offset"), end);
    dotnet.release();
}

/// Asserts exit status 5 and returns standard error.
#[track_caller]
fn refused(out: std::process::Output) -> String {
    expect(&out, 5);
    stderr(&out)
}

/// Asserts success and returns the output.
fn ok_out(out: std::process::Output) -> std::process::Output {
    ok(&out);
    out
}

/// Item 5: an mfq producer and a .NET consumer's start-up (its recovery lock, then
/// `consumer.offset`, `producer.offset` and `producer.confirmed.offset`) both succeed, in
/// either order; a producer that starts during the .NET recovery waits for it.
#[test]
fn an_mfq_producer_and_a_dotnet_consumer_start_up_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let start_up = [
        step("recovery", &store.join("recovery_lock.lock")),
        step("open", &offset(&store, "consumer.offset")),
        step("open", &offset(&store, "producer.offset")),
        step("open", &offset(&store, "producer.confirmed.offset")),
    ];
    // mfq first.
    let (mut producer, mut input) = live_producer(&store);
    let dotnet = Dotnet::holding(&start_up);
    dotnet.release();
    writeln!(input, "after").unwrap();
    drop(input);
    assert!(wait_bounded(&mut producer).success());
    // .NET first: the producer waits for the recovery to end (here 300 ms).
    let dotnet = Dotnet::holding(&start_up);
    let mut late = mfq()
        .args(["produce", arg(&store), "-m", "late"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    dotnet.release();
    assert!(wait_bounded(&mut late).success());
    let all = ok(&run(&["consume", arg(&store), "-n", "all"]));
    assert!(
        text(&all).ends_with("record 9\nafter\nlate\n"),
        "{}",
        text(&all)
    );
}

/// Item 5: mfq's own exclusion still holds: a second producer, and a second consumer of one
/// name, are refused with status 5.
#[test]
fn two_mfq_producers_and_two_mfq_consumers_of_one_name_refuse_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let (mut producer, input) = live_producer(&store);
    let err = refused(run(&["produce", arg(&store), "-m", "x"]));
    assert!(err.contains("another producer"), "{err}");
    drop(input);
    assert!(wait_bounded(&mut producer).success());

    let mut first = mfq()
        .args([
            "consume",
            arg(&store),
            "--consumer",
            "a",
            "-n",
            "11",
            "--wait",
            "20s",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    until_held(&offset(&store, "consumer.a.offset"));
    let err = refused(run(&["consume", arg(&store), "--consumer", "a"]));
    assert!(err.contains("another consumer with this name"), "{err}");
    ok(&run(&["produce", arg(&store), "-m", "record 10"]));
    assert!(wait_bounded(&mut first).success());
}

/// Item 2: a .NET producer (`LOCK_SH` on the producer's files, outside any recovery) makes an
/// mfq producer refuse with status 5, saying so and that `mfq stat` names it; `stat` does.
#[test]
fn a_dotnet_producer_makes_an_mfq_producer_refuse_and_stat_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let dotnet = Dotnet::holding(&[
        step("open", &offset(&store, "producer.offset")),
        step("open", &offset(&store, "producer.confirmed.offset")),
    ]);
    let before = snapshot(&store);
    let err = refused(run(&["produce", arg(&store), "-m", "x"]));
    assert!(err.contains(".NET producer"), "{err}");
    assert!(err.contains("`mfq stat`"), "{err}");
    assert_eq!(snapshot(&store), before, "nothing changed");
    let v: serde_json::Value =
        serde_json::from_slice(&ok(&run(&["stat", arg(&store), "--json"]))).unwrap();
    assert_eq!(v["producer"]["held"], true, "{v}");
    assert!(
        v["producer"]["pids"]
            .as_array()
            .unwrap()
            .contains(&dotnet.pid().into()),
        "{v}"
    );
    dotnet.release();
    ok(&run(&["produce", arg(&store), "-m", "x"]));
}

/// Item 5: adjust-offset of a consumer whose offset file a .NET process has open, and recover
/// of files it holds, exit 5 and change nothing.
#[test]
fn adjust_offset_and_recover_of_files_a_dotnet_process_holds_exit_5() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let consumer = offset(&store, "consumer.offset");
    ok(&run(&[
        "adjust-offset",
        "-s",
        arg(&store),
        "consumer",
        "13",
    ]));
    let dotnet = Dotnet::holding(&[step("open", &consumer)]);
    let before = snapshot(&store);
    let err = refused(run(&["adjust-offset", "-s", arg(&store), "consumer", "0"]));
    assert!(err.contains("held by a live process"), "{err}");
    assert_eq!(snapshot(&store), before);
    dotnet.release();

    // The producer offset ahead of the data: recover would move it back.
    let end = offset_value(&store, "producer.offset");
    set_offset(&store, "producer.offset", end + 100);
    let dotnet = Dotnet::holding(&[step("open", &offset(&store, "producer.offset"))]);
    let before = snapshot(&store);
    let err = refused(run_on(&store, &["recover"]));
    assert!(err.contains("held by a live process"), "{err}");
    assert_eq!(snapshot(&store), before);
    dotnet.release();
    ok(&run_on(&store, &["recover"]));
    assert_eq!(offset_value(&store, "producer.offset"), end);
}

/// Item 3: while a .NET process runs its recovery (a POSIX lock on `recovery_lock.lock`),
/// every mutating command, and a producer whose open would repair, exits 5 saying so and
/// changes nothing; `mfq stat` lists the recovery lock's holder.
#[test]
fn every_mutating_command_exits_5_while_a_dotnet_recovery_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    let end = offset_value(&store, "producer.offset");
    set_offset(&store, "producer.offset", end + 100);
    let dotnet = Dotnet::holding(&[step("recovery", &store.join("recovery_lock.lock"))]);
    let before = snapshot(&store);
    for args in [
        vec!["adjust-offset", "-s", arg(&store), "consumer", "13"],
        vec!["prune", arg(&store), "--before", "52", "--force"],
        vec!["recover", arg(&store)],
        vec!["produce", arg(&store), "-m", "x"],
    ] {
        let err = refused(run(&args));
        assert!(err.contains("recovery_lock.lock"), "{args:?}: {err}");
        assert!(
            err.contains(".NET process running its start-up recovery"),
            "{args:?}: {err}"
        );
        assert!(err.contains("run the command again"), "{args:?}: {err}");
        assert_eq!(snapshot(&store), before, "{args:?} changed the store");
    }
    // Dry runs and checks change nothing and do not need the lock.
    ok(&run(&[
        "prune",
        arg(&store),
        "--before",
        "52",
        "--dry-run",
        "--force",
    ]));
    let v: serde_json::Value =
        serde_json::from_slice(&ok(&run(&["stat", arg(&store), "--json"]))).unwrap();
    assert_eq!(v["recovery_lock"]["held"], true, "{v}");
    assert!(
        v["recovery_lock"]["pids"]
            .as_array()
            .unwrap()
            .contains(&dotnet.pid().into()),
        "{v}"
    );
    let shown = stdout(&ok_out(run(&["stat", arg(&store)])));
    assert!(shown.contains("recovery lock held by"), "{shown}");
    dotnet.release();
    let v: serde_json::Value =
        serde_json::from_slice(&ok(&run(&["stat", arg(&store), "--json"]))).unwrap();
    assert_eq!(v["recovery_lock"]["held"], false, "{v}");
    ok(&run(&["recover", arg(&store)]));
    assert_eq!(offset_value(&store, "producer.offset"), end);
}

/// Item 3: a mutating command holds the recovery lock while it runs (a .NET process sees
/// mfq's OFD lock, reported without a pid), and a .NET recovery that starts meanwhile waits in
/// its retry loop until mfq is done: after it, it reads the repaired producer offset. The
/// repairs (`recover`, and a producer's at open) zero and save 16 MiB of garbage past the data,
/// so that they hold the lock long enough to be watched.
#[test]
fn a_mutating_command_holds_the_recovery_lock_and_a_dotnet_recovery_waits() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    stream_store(&store, "32MiB", &["a", "b", "c"]);
    let lock = store.join("recovery_lock.lock");
    let end = offset_value(&store, "producer.offset");
    let commands: [&[&str]; 2] = [&["recover"], &["produce", "-m", "d"]];
    for args in commands {
        poke(&segment(&store, 0), end + 8, &vec![0x5a; 16 << 20]);
        set_offset(&store, "producer.offset", end + 100);
        let dotnet = Dotnet::start(&[
            step("watch", &lock),
            step("read", &offset(&store, "producer.offset")),
        ]);
        // The watcher polls from before the command starts.
        std::thread::sleep(Duration::from_millis(100));
        let out = run_on(&store, args);
        ok(&out);
        assert_eq!(dotnet.next(), "seen -1", "{args:?}: an OFD lock, no pid");
        let acquired = dotnet.next();
        assert!(acquired.starts_with("acquired after "), "{acquired}");
        let value = dotnet.next();
        assert_eq!(dotnet.next(), "ready");
        if args[0] == "recover" {
            // The .NET side read the producer offset after mfq let go of the lock: repaired.
            assert_eq!(offset_value(&store, "producer.offset"), end);
            assert_eq!(value, format!("value {end}"));
        }
        dotnet.release();
        ok(&run_on(&store, &["recover"]));
    }
}

/// Item 5: prune beside live services deletes only segments wholly below every consumer's
/// offset (read from the offset files, which .NET keeps current through its mappings) that no
/// process holds, and reports the rest.
#[test]
fn prune_beside_live_dotnet_services_deletes_only_free_consumed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    // Segments of 64 bytes hold four 13-byte records: starts 0, 52, 104.
    let starts: Vec<u64> = std::fs::read_dir(store.join("commitlog"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_str().unwrap().parse().unwrap())
        .collect::<std::collections::BTreeSet<u64>>()
        .into_iter()
        .collect();
    assert_eq!(starts, [0, 52, 104]);
    // A .NET consumer (default name) at 117, in the last segment, holding its offset file and
    // that segment; a named mfq consumer at 52 (nothing read in segment 52).
    set_offset(&store, "consumer.offset", 117);
    ok(&run(&[
        "consume",
        arg(&store),
        "--consumer",
        "b",
        "-n",
        "4",
    ]));
    assert_eq!(offset_value(&store, "consumer.b.offset"), 52);
    let dotnet = Dotnet::holding(&[
        step("open", &offset(&store, "consumer.offset")),
        step("open", &segment(&store, 104)),
    ]);
    let out = ok_out(run(&["prune", arg(&store), "--before", "consumed"]));
    let shown = stdout(&out);
    assert!(shown.contains("deleted 00000000000000000000"), "{shown}");
    assert!(shown.contains("deleted 1 segment(s)"), "{shown}");
    assert!(segment(&store, 52).exists() && segment(&store, 104).exists());
    // The named consumer moves on: segment 52 goes, 104 (the last, held) stays.
    ok(&run(&["adjust-offset", "-s", arg(&store), "b", "117"]));
    let shown = stdout(&ok_out(run(&[
        "prune",
        arg(&store),
        "--before",
        "consumed",
    ])));
    assert!(shown.contains("deleted 00000000000000000052"), "{shown}");
    assert!(segment(&store, 104).exists(), "the last segment stays");
    dotnet.release();
}

/// Item 5: a segment below every consumer that a process still holds (a lagging .NET reader)
/// is skipped, with the ones after it, and reported.
#[test]
fn prune_skips_a_consumed_segment_a_dotnet_reader_still_holds() {
    let dir = tempfile::tempdir().unwrap();
    let store = ten_records(dir.path());
    set_offset(&store, "consumer.offset", 117);
    let dotnet = Dotnet::holding(&[step("open", &segment(&store, 0))]);
    let before = snapshot(&store);
    let out = run(&["prune", arg(&store), "--before", "consumed"]);
    // Status 5, naming the holder's pid.
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("00000000000000000000 is held by"), "{err}");
    assert!(err.contains(&format!("pid {}", dotnet.pid())), "{err}");
    assert!(
        stdout(&out).contains("skipped (held by a live process) 00000000000000000000"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        snapshot(&store),
        before,
        "nothing deleted past a held segment"
    );
    dotnet.release();
    let shown = stdout(&ok_out(run(&[
        "prune",
        arg(&store),
        "--before",
        "consumed",
    ])));
    assert!(shown.contains("deleted 2 segment(s)"), "{shown}");
}
