//! Store resolution for the message commands through the built binary: the positional
//! STORE, `-s`, `MFQ_STORE` and the current directory; paths that are not stores; creating a
//! store only with its parameters; contradicting parameters; `produce --json`.
//!
//! This test owns how produce, consume, tail and stat find (or refuse) a store.

mod common;

use common::bin::*;
use common::*;

#[test]
fn paths_that_are_not_stores_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    std::fs::write(dir.path().join("file"), b"x").unwrap();
    for cmd in ["consume", "tail", "stat"] {
        for path in [missing.clone(), dir.path().to_path_buf()] {
            let out = run(&[cmd, arg(&path)]);
            assert_eq!(out.status.code(), Some(1), "{cmd} {}", path.display());
            assert!(
                text(&out.stderr).contains("is not a queue store"),
                "{}",
                text(&out.stderr)
            );
        }
    }
    let out = run(&["produce", arg(&missing), "-m", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("--format") && err.contains("--record-size"),
        "{err}"
    );
    assert!(!missing.exists(), "nothing created");
    let out = run(&["produce", arg(&missing), "--format", "fixed", "-m", "x"]);
    assert!(
        text(&out.stderr).contains("--record-size"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "produce",
        arg(&dir.path().join("file")),
        "--format",
        "stream",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn contradicting_parameters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    ok(&run(&[
        "produce",
        arg(&s),
        "--format",
        "fixed",
        "--record-size",
        "4",
        "-m",
        "abcd",
    ]));
    let out = run(&["produce", arg(&s), "--record-size", "8", "-m", "abcdefgh"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("record size"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["produce", arg(&s), "--format", "stream", "-m", "x"]);
    assert_eq!(out.status.code(), Some(1));
    let out = run(&[
        "produce",
        arg(&s),
        "--pad",
        "-m",
        "ab",
        "--record-size",
        "4",
    ]);
    ok(&out);
    assert_eq!(
        ok(&run(&["consume", arg(&s), "-n", "all", "--output", "raw"])),
        b"abcdab\0\0"
    );
}

#[test]
fn store_from_env_and_option_and_json_summary() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    let mut cmd = mfq();
    cmd.env("MFQ_STORE", &s).args([
        "produce", "--format", "stream", "--json", "-m", "a", "-m", "bc",
    ]);
    let out = run_cmd(&mut cmd, b"");
    let v: serde_json::Value = serde_json::from_slice(&ok(&out)).unwrap();
    assert_eq!(v["messages"], 2);
    assert_eq!(v["bytes"], 3);
    assert_eq!(v["first_offset"], 0);
    assert_eq!(v["producer_offset"], 13);
    assert_eq!(ok(&run(&["consume", "-s", arg(&s)])), b"a\n");
    let other = dir.path().join("other");
    let mut cmd = mfq();
    cmd.env("MFQ_STORE", &other).args(["consume", arg(&s)]);
    assert_eq!(ok(&run_cmd(&mut cmd, b"")), b"bc\n", "the positional wins");
    let mut cmd = mfq();
    cmd.current_dir(&s).args(["stat", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&ok(&run_cmd(&mut cmd, b""))).unwrap();
    assert_eq!(
        v["producer_offset"], 13,
        "the current directory is the default"
    );
}

#[test]
fn a_second_producer_is_refused_with_status_5() {
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("s");
    stream_store(&s, "4KiB", &[]);
    let mut first = mfq()
        .args(["produce", arg(&s), "--flush-every", "1"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = first.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, b"first\n").unwrap();
    // Once its message is visible, the first producer holds the store (tail takes no lock).
    let t0 = std::time::Instant::now();
    let tail = ["tail", arg(&s), "--from", "beginning", "-e"];
    while ok(&run(&tail)).is_empty() && t0.elapsed() < BOUND {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let stat = ok(&run(&["stat", arg(&s), "--json"]));
    let second = run(&["produce", arg(&s), "-m", "second"]);
    drop(input);
    assert!(wait_bounded(&mut first).success());
    let v: serde_json::Value = serde_json::from_slice(&stat).unwrap();
    assert_eq!(
        v["producer"]["held"], true,
        "stat sees the running producer"
    );
    assert_eq!(second.status.code(), Some(5));
    let err = text(&second.stderr);
    assert!(err.contains("held by another process"), "{err}");
}

#[test]
fn producing_into_an_empty_store_shell_records_its_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("shell");
    std::fs::create_dir_all(store.join("commitlog")).unwrap();
    ok(&run_in(
        &[
            "produce",
            arg(&store),
            "--format",
            "fixed",
            "--record-size",
            "4",
        ],
        b"",
    ));
    assert!(store.join("mfq.json").is_file());
    // The next command finds the parameters without being told them.
    ok(&run_in(&["produce", arg(&store), "--pad"], b"ab\n"));
    let out = ok(&run(&["consume", arg(&store), "--output", "raw"]));
    assert_eq!(out, b"ab\0\0");
}

/// The engine's errors carry facts and hints as data, never flag spellings; the command line
/// words them with its flags, so a message reads the same end to end whatever the engine
/// calls its options.
#[test]
fn engine_errors_name_no_flag_and_the_command_line_words_their_hints() {
    let (_t, store) = fixture_copy("fixed");
    let req = mfq::queue::ParamsRequest {
        format: Some(mfq::queue::Format::Fixed),
        record_size: Some(16),
        segment_size: Some(4096),
    };
    let engine = mfq::queue::Store::open(&store, &req).unwrap_err();
    assert!(!engine.to_string().contains("--"), "{engine}");
    let out = run_on(
        &store,
        &[
            "--format",
            "fixed",
            "--record-size",
            "16",
            "--segment-size",
            "4096",
            "stat",
        ],
    );
    expect(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("but --segment-size 4096 was given (drop the option or fix it)"),
        "{err}"
    );

    // A live consumer of the same name: the holder is a fact, the advice names --consumer.
    let s = mfq::queue::Store::open(&store, &Default::default()).unwrap();
    let live = s
        .consumer(
            &mfq::queue::ConsumerId::Default,
            mfq::queue::StartAt::Earliest,
        )
        .unwrap();
    let engine = s
        .consumer(
            &mfq::queue::ConsumerId::Default,
            mfq::queue::StartAt::Earliest,
        )
        .err()
        .expect("a second consumer of one name is refused");
    assert!(!engine.to_string().contains("--"), "{engine}");
    let out = run_on(&store, &["consume", "-n", "1"]);
    expect(&out, 5);
    let err = stderr(&out);
    // The holder is named with the processes the system lists (this test process).
    assert!(
        err.contains("(another consumer with this name (mfq or .NET): pid ")
            && err.contains("); stop it first, or read under another name with --consumer NAME"),
        "{err}"
    );
    drop(live);
}
