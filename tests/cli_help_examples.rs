//! Every example in the help runs as written: the lines under "Examples:" in `mfq --help` and
//! in `mfq help SUBCOMMAND`, each run by bash (with the built `mfq` on PATH) against a fresh
//! demo store at `./store`, which is also `$MFQ_STORE`. An example must exit 0.
//!
//! Examples that run until interrupted by design (`tail` without `-e`) must still be running
//! after a moment, then are stopped; one that writes a completion script into the user's
//! home runs without the redirection and must print a script; `bench` examples (minutes of
//! measuring) are on a short skip list, each entry of which must match an example. This test
//! owns that the help's examples work; what each subcommand does is tested elsewhere.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::bin::*;

/// Examples not run, by prefix, with why. Checked to match an example each, and to stay short.
const SKIPPED: [(&str, &str); 1] = [("mfq bench", "measures for minutes in a scratch folder")];

/// The demo store: a stream store of 600 messages (`message 0001`..) in 4 KiB segments
/// (starting at 0, 4080 and 8160), the default consumer and the named consumer `reports`
/// each 400 messages in (offset 6800), and `payload.bin` beside it.
fn demo(dir: &Path) {
    let store = dir.join("store");
    let input: String = (1..=600).map(|i| format!("message {i:04}\n")).collect();
    let produce = [
        "produce",
        "--format",
        "stream",
        "--segment-size",
        "4KiB",
        arg(&store),
    ];
    ok(&run_in(&produce, input.as_bytes()));
    ok(&run(&["consume", arg(&store), "-n", "400"]));
    ok(&run(&[
        "consume",
        arg(&store),
        "--consumer",
        "reports",
        "-n",
        "400",
    ]));
    std::fs::write(dir.join("payload.bin"), b"a raw payload").unwrap();
}

/// The example lines of one help text: the indented lines under "Examples:" up to the next
/// blank or unindented line.
fn examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in help.lines() {
        if line.trim_end().ends_with("Examples:") {
            inside = true;
        } else if inside && line.starts_with("  ") && !line.trim().is_empty() {
            out.push(line.trim().to_string());
        } else {
            inside = false;
        }
    }
    out
}

/// Every example of the top-level help and of each subcommand's, with where it came from.
fn all_examples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let top = stdout(&run(&["--help"]));
    out.extend(
        examples(&top)
            .into_iter()
            .map(|e| ("mfq --help".to_string(), e)),
    );
    for sub in SUBCOMMANDS {
        let help = run(&["help", sub]);
        assert_eq!(help.status.code(), Some(0), "mfq help {sub}");
        let from = format!("mfq help {sub}");
        let found = examples(&stdout(&help));
        assert!(!found.is_empty(), "{from} has no examples");
        out.extend(found.into_iter().map(|e| (from.clone(), e)));
    }
    out
}

/// A command for an example line, run by bash in `dir` with the demo store as `$MFQ_STORE`.
fn example_cmd(dir: &Path, line: &str) -> std::process::Command {
    let mut cmd = sh(line);
    cmd.current_dir(dir)
        .env("MFQ_STORE", dir.join("store"))
        .env("HOME", dir);
    cmd
}

/// Whether an example runs until interrupted by design.
fn follows(line: &str) -> bool {
    let words: Vec<&str> = line.split_whitespace().collect();
    words.starts_with(&["mfq", "tail"])
        && !words.contains(&"-e")
        && !words.contains(&"--exit-at-end")
        && !line.contains('|')
}

/// Runs a following example: it must still be running after half a second (it started and
/// follows), then it is stopped.
fn run_follower(dir: &Path, line: &str) -> Result<(), String> {
    let mut child = example_cmd(dir, &format!("exec {line}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            return Err(format!(
                "ended with {status} instead of following: {}",
                stderr(&out)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    wait_bounded(&mut child);
    Ok(())
}

/// Checks a finished example's output: status 0, no panic.
fn check(out: &Output) -> Result<(), String> {
    let err = stderr(out);
    if out.status.code() == Some(0) && !err.contains("panicked") {
        return Ok(());
    }
    Err(format!(
        "exited {:?}\nstdout:\n{}\nstderr:\n{err}",
        out.status.code(),
        stdout(out)
    ))
}

/// Runs one example against a fresh demo store.
fn run_example(line: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    // Paths outside the demo folder are moved into it.
    let line = line.replace(
        "/tmp/mfq-saved",
        &dir.path().join("saved").to_string_lossy(),
    );
    if follows(&line) {
        return run_follower(dir.path(), &line);
    }
    if let Some((cmd, _target)) = line.split_once(" > ") {
        // A script written into the user's home: the same command, checked to print one.
        let out = run_cmd(&mut example_cmd(dir.path(), cmd), b"");
        check(&out)?;
        if !stdout(&out).contains("mfq") {
            return Err(format!("printed no script: {}", stdout(&out)));
        }
        return Ok(());
    }
    check(&run_cmd(&mut example_cmd(dir.path(), &line), b""))
}

#[test]
fn every_help_example_runs_as_written() {
    let all = all_examples();
    assert!(all.len() >= 25, "too few examples found: {all:?}");
    let mut failures = Vec::new();
    let mut skipped = Vec::new();
    let mut ran = 0;
    for (from, line) in &all {
        if let Some((prefix, _)) = SKIPPED.iter().find(|(p, _)| line.starts_with(p)) {
            skipped.push((*prefix, line.clone()));
            continue;
        }
        ran += 1;
        if let Err(e) = run_example(line) {
            failures.push(format!("{from}: `{line}`: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for (prefix, why) in SKIPPED {
        assert!(
            skipped.iter().any(|(p, _)| *p == prefix),
            "the skip entry {prefix:?} ({why}) matches no example: drop it"
        );
    }
    assert!(
        skipped.len() <= 3,
        "the skip list grew past 3 examples: {skipped:?}"
    );
    assert!(ran + skipped.len() == all.len() && ran >= 22, "{ran} run");
}

#[test]
fn examples_are_collected_from_every_help() {
    let all = all_examples();
    for sub in SUBCOMMANDS {
        let from = format!("mfq help {sub}");
        assert!(
            all.iter()
                .any(|(f, line)| *f == from && line.contains(&format!("mfq {sub}"))),
            "{from}: {all:?}"
        );
    }
    assert!(all.iter().any(|(f, _)| f == "mfq --help"), "{all:?}");
    // A follower and a redirection are recognised as such.
    assert!(all.iter().any(|(_, l)| follows(l)));
    assert!(all.iter().any(|(_, l)| l.contains(" > ")));
    assert!(!follows("mfq tail -e ./store") && follows("mfq tail ./store"));
}

/// The harness fails what fails: the old example whose segment is not in commitlog/, a
/// follower that ends, and a redirected command that fails.
#[test]
fn a_failing_example_fails() {
    let err = run_example("mfq dump-segment ./store/00000000000000000000").unwrap_err();
    assert!(err.contains("exited Some(1)"), "{err}");
    let err = run_example("mfq tail ./store --from 1").unwrap_err();
    assert!(err.contains("instead of following"), "{err}");
    assert!(run_example("mfq completions nosuchshell > ~/x").is_err());
    assert!(run_example("mfq stat ./store").is_ok());
}
