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
