//! First use is race-free (issue #14, part 4): processes started together that each create a
//! consumer's offset file, or a store with its `mfq.json` and producer offsets, end with one
//! winner; the others are refused with status 5 (or, arriving after the winner has finished,
//! find nothing left to read). Never a double delivery, never status 1, never a signal.
//!
//! Before the fix every creator wrote the same `<name>.offset.tmp` and renamed it into place:
//! in 300 rounds of four consumers, 1-9 rounds delivered everything twice (each process locked
//! a different inode), 8-11 rounds failed every process ("cannot rename ...", status 1) and
//! about one died of SIGBUS (a commit into a file another process had just truncated).
//!
//! Rounds: `MFQ_RACE_ROUNDS` (default 10; the issue's long run is 200).

mod common;

use std::process::{Child, Output, Stdio};

use common::bin::*;

const RACERS: usize = 4;

fn rounds() -> usize {
    std::env::var("MFQ_RACE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// Starts `RACERS` copies of `mfq args` at once and collects them: each waits in a shell for
/// one line from a FIFO, and the lines are written together once all have started.
fn race(args: &[&str]) -> Vec<Output> {
    use std::io::Write;
    let t = tempfile::tempdir().unwrap();
    let gate = t.path().join("gate");
    let made = std::process::Command::new("mkfifo").arg(&gate).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    // Held open for reading too, so that neither side's open blocks.
    let mut go = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&gate)
        .unwrap();
    let script = r#"read -r _ < "$0"; exec mfq "$@""#;
    let children: Vec<Child> = (0..RACERS)
        .map(|_| {
            sh(script)
                .arg(&gate)
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(150));
    go.write_all(&[b'\n'; RACERS]).unwrap();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect()
}

/// Every process exited (no signal) with one of `allowed`.
#[track_caller]
fn exited_with(outs: &[Output], allowed: &[i32], what: &str) {
    for o in outs {
        let code = o.status.code();
        assert!(
            code.is_some_and(|c| allowed.contains(&c)),
            "{what}: {:?}, stderr: {}",
            o.status,
            stderr(o)
        );
    }
}

#[test]
fn racing_new_consumers_deliver_each_message_once_and_losers_exit_5() {
    let t = tempfile::tempdir().unwrap();
    let store = t.path().join("s");
    let messages: Vec<String> = (0..50).map(|i| format!("m{i}")).collect();
    let mut args = vec![
        "produce".to_string(),
        arg(&store).to_string(),
        "--format".into(),
        "stream".into(),
        "--segment-size".into(),
        "4096".into(),
    ];
    for m in &messages {
        args.extend(["-m".to_string(), m.clone()]);
    }
    ok(&run(&args.iter().map(String::as_str).collect::<Vec<_>>()));
    let expected = messages.join("\n") + "\n";
    let (mut busy, mut late) = (0, 0);
    for round in 0..rounds() {
        let name = format!("new{round}");
        let outs = race(&[
            "consume",
            "-s",
            arg(&store),
            "--consumer",
            &name,
            "-n",
            "all",
        ]);
        let what = format!("round {round}");
        // 0: the winner (or one that came after it and read the rest), 3: came after the
        // winner and found nothing, 5: refused while the winner held the offset file.
        exited_with(&outs, &[0, 3, 5], &what);
        let delivered: String = outs.iter().map(stdout).collect();
        assert_eq!(delivered, expected, "{what}: not delivered exactly once");
        busy += outs.iter().filter(|o| o.status.code() == Some(5)).count();
        late += outs.iter().filter(|o| o.status.code() == Some(3)).count();
    }
    eprintln!(
        "{} rounds: {busy} refused with 5, {late} came late (3)",
        rounds()
    );
}

#[test]
fn racing_producers_on_a_new_store_one_wins_at_a_time_and_losers_exit_5() {
    let (mut busy, mut won) = (0, 0);
    for round in 0..rounds() {
        let t = tempfile::tempdir().unwrap();
        let store = t.path().join("s");
        let outs = race(&[
            "produce",
            arg(&store),
            "--format",
            "stream",
            "--segment-size",
            "4096",
            "-m",
            "hello",
        ]);
        let what = format!("round {round}");
        exited_with(&outs, &[0, 5], &what);
        let winners = outs.iter().filter(|o| o.status.code() == Some(0)).count();
        assert!(winners >= 1, "{what}: nobody won");
        // Each process that succeeded appended its one message; no loser wrote anything.
        let read = ok(&run(&["consume", "-s", arg(&store), "-n", "all"]));
        assert_eq!(text(&read), "hello\n".repeat(winners), "{what}");
        busy += RACERS - winners;
        won += winners;
    }
    eprintln!("{} rounds: {won} produced, {busy} refused with 5", rounds());
}
