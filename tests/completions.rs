//! Checks that the committed shell completion scripts in `completions/` match what the
//! current command line definition generates.
//!
//! This test owns that freshness check only; it must not test parsing (see cli_syntax.rs).

mod common;

use std::path::Path;

use common::bin::*;

/// (shell, committed file)
const SCRIPTS: [(&str, &str); 3] = [
    ("bash", "completions/mfq.bash"),
    ("zsh", "completions/_mfq"),
    ("fish", "completions/mfq.fish"),
];

fn generate(shell: &str) -> Vec<u8> {
    let output = run(&["completions", shell]);
    assert!(
        output.status.success(),
        "`mfq completions {shell}` failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !output.stdout.is_empty(),
        "`mfq completions {shell}` printed nothing"
    );
    output.stdout
}

#[test]
fn committed_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for (shell, file) in SCRIPTS {
        let fresh = generate(shell);
        let committed = std::fs::read(root.join(file)).unwrap_or_default();
        if committed != fresh {
            stale.push(format!("  cargo run -q -- completions {shell} > {file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "completion scripts are out of date with the command line; refresh them with \
         scripts/gen-completions.sh, or:\n{}",
        stale.join("\n")
    );
}

#[test]
fn scripts_name_every_subcommand() {
    let bash = String::from_utf8(generate("bash")).expect("bash script is UTF-8");
    for sub in SUBCOMMANDS {
        assert!(bash.contains(sub), "bash completion lacks `{sub}`");
    }
}

/// The lines of the bash script's case for one subcommand (`mfq__subcmd__adjust__subcmd__offset)`
/// up to its `;;`).
fn bash_case<'a>(bash: &'a str, case: &str) -> &'a str {
    let start = bash
        .find(&format!("        {case})\n"))
        .unwrap_or_else(|| panic!("no case {case}"));
    let rest = &bash[start..];
    &rest[..rest.find("\n            ;;").unwrap_or(rest.len())]
}

#[test]
fn bash_offers_the_words_values_take() {
    let bash = String::from_utf8(generate("bash")).unwrap();
    let adjust = bash_case(&bash, "mfq__subcmd__adjust__subcmd__offset");
    for word in ["producer", "consumer", "earliest", "latest"] {
        assert!(
            adjust.contains(&format!(" {word}")),
            "adjust-offset lacks {word}: {adjust}"
        );
    }
    let consume = bash_case(&bash, "mfq__subcmd__consume");
    assert!(consume.contains(r#"compgen -W "all""#), "{consume}");
    let prune = bash_case(&bash, "mfq__subcmd__prune");
    assert!(
        prune.contains(r#"compgen -W "consumed earliest latest""#),
        "{prune}"
    );
    let tail = bash_case(&bash, "mfq__subcmd__tail");
    assert!(
        tail.contains(r#"compgen -W "earliest beginning latest end""#),
        "{tail}"
    );
    // The words are candidates only: numbers and names still parse.
    let out = run(&["adjust-offset", "some-name", "+3", "--help"]);
    assert!(out.status.success());
}

/// Completes `line` (the words after `mfq`, the last one being completed) with the committed
/// bash script, in `dir`, and returns what it offers.
fn complete_bash(dir: &Path, line: &[&str]) -> Vec<String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/mfq.bash");
    let words: Vec<String> = std::iter::once("mfq")
        .chain(line.iter().copied())
        .map(|w| format!("'{w}'"))
        .collect();
    let cword = line.len();
    let prev = if cword >= 2 { line[cword - 2] } else { "mfq" };
    let cur = line[cword - 1];
    let body = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={cword}\n_mfq_names mfq '{cur}' '{prev}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.join(" ")
    );
    let out = run_cmd(sh(&body).current_dir(dir), b"");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_offers_the_stores_consumer_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let produce = run(&["produce", arg(&store), "--format", "stream", "-m", "a"]);
    assert!(produce.status.success());
    for name in ["audit", "billing"] {
        let out = run(&["consume", arg(&store), "--consumer", name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let names = complete_bash(dir.path(), &["consume", "s", "--consumer", ""]);
    assert_eq!(names, ["audit", "billing"]);
    let names = complete_bash(dir.path(), &["consume", "s", "--consumer", "b"]);
    assert_eq!(names, ["billing"]);
    let offered = complete_bash(dir.path(), &["-s", "s", "adjust-offset", ""]);
    for word in ["producer", "consumer", "audit", "billing"] {
        assert!(
            offered.iter().any(|w| w == word),
            "{word} not in {offered:?}"
        );
    }
    // No store there: no names, and no error.
    let empty = tempfile::tempdir().unwrap();
    assert!(complete_bash(empty.path(), &["consume", "--consumer", ""]).is_empty());
}

/// The zsh functions ask `mfq __consumers` with the whole line (`compadd` stubbed to print what
/// it is given). Skipped, saying so, where zsh is not installed.
#[test]
fn zsh_offers_the_stores_consumer_names() {
    if run_cmd(&mut sh("command -v zsh"), b"").status.code() != Some(0) {
        eprintln!("skipped: zsh is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s");
    let produce = run(&["produce", arg(&store), "--format", "stream", "-m", "a"]);
    assert!(produce.status.success());
    let out = run(&["consume", arg(&store), "--consumer", "audit"]);
    assert!(out.status.success());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/_mfq");
    let body = format!(
        "zsh -c 'source {} 2>/dev/null; compadd() {{ print -l -- ${{(P)2}} }}; \
         LBUFFER=\"mfq -s s adjust-offset \"; _mfq_targets; \
         LBUFFER=\"mfq consume s --consumer \"; _mfq_consumer_names'",
        script.display()
    );
    let out = run_cmd(sh(&body).current_dir(dir.path()), b"");
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        ["producer", "consumer", "audit", "audit"],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
