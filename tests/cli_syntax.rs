//! Command-line behaviour through the built `mfq` binary: help, usage errors and exit
//! statuses that clap and main decide.
//!
//! This test owns process-level syntax checks; it must not need a store (parsing details
//! are unit-tested in src/cli/tests.rs).

mod common;

use common::bin::*;

#[test]
fn help_lists_every_subcommand_and_exit_statuses() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for sub in SUBCOMMANDS {
        assert!(
            help.contains(&format!("  {sub} ")),
            "--help lacks `{sub}`:\n{help}"
        );
    }
    assert!(
        help.contains("5  refused"),
        "--help lacks exit statuses:\n{help}"
    );
}

#[test]
fn every_subcommand_has_help_with_examples() {
    for sub in SUBCOMMANDS {
        let out = run(&[sub, "--help"]);
        assert_eq!(out.status.code(), Some(0), "mfq {sub} --help");
        let help = text(&out.stdout);
        assert!(
            help.contains("Examples:"),
            "mfq {sub} --help lacks examples:\n{help}"
        );
        assert!(
            help.contains(&format!("mfq {sub}")),
            "mfq {sub} --help:\n{help}"
        );
    }
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let out = run(&["stat", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("--no-such-flag"), "{err}");
    assert!(err.contains("Usage:"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        &["--segment-size", "12XB", "stat"][..],
        &["consume", "-n", "many"],
        &["adjust-offset", "consumer", "sideways"],
        &["prune"],
        &["dump-segment"],
    ] {
        let out = run(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "mfq {args:?}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn negative_position_parses_then_reaches_the_placeholder() {
    let out = run(&["adjust-offset", "consumer", "-3", "--dry-run"]);
    // Parsing succeeded (not 2); the subcommand itself is not implemented yet.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.starts_with("mfq: "), "{err}");
    assert!(!err.trim_end().ends_with('.'), "{err}");
}

#[test]
fn completions_print_a_script() {
    let out = run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("_mfq()"));
}

#[test]
fn version_prints_the_crate_version() {
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout).trim(),
        format!("mfq {}", env!("CARGO_PKG_VERSION"))
    );
}
