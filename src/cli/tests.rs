//! Parsing tests for the command line: what must parse, into what, and what must not.
//!
//! This module owns syntax tests only; it must not run commands.

use std::path::{Path, PathBuf};

use clap::error::ErrorKind;
use clap::Parser;

use super::admin_args::AdjustWords;
use super::values::*;
use super::*;

fn parse(args: &[&str]) -> Cli {
    let argv = std::iter::once("mfq").chain(args.iter().copied());
    match Cli::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(err) => panic!("`mfq {}` should parse: {err}", args.join(" ")),
    }
}

fn parse_err(args: &[&str]) -> clap::Error {
    let argv = std::iter::once("mfq").chain(args.iter().copied());
    match Cli::try_parse_from(argv) {
        Ok(cli) => panic!("`mfq {}` should fail, got {cli:?}", args.join(" ")),
        Err(err) => err,
    }
}

fn adjust(args: &[&str]) -> AdjustOffsetArgs {
    match parse(args).command {
        Command::AdjustOffset(a) => a,
        other => panic!("expected adjust-offset, got {other:?}"),
    }
}

#[test]
fn clap_definition_is_consistent() {
    command().debug_assert();
}

/// The positionals of an `adjust-offset` command line, sorted out.
fn words(args: &[&str]) -> AdjustWords {
    adjust(args)
        .words()
        .unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

#[test]
fn adjust_offset_positions() {
    let w = words(&["adjust-offset", "consumer", "0"]);
    assert_eq!(
        (w.store, w.target.as_str(), w.position),
        (None, "consumer", Some(Position::Offset(0)))
    );
    let a = adjust(&["adjust-offset", "consumer", "0"]);
    assert!(!a.dry_run && !a.force && !a.create && !a.delete && !a.clamp);
    let w = words(&["adjust-offset", "consumer", "+5"]);
    assert_eq!(w.position, Some(Position::Forward(5)));
    let w = words(&["adjust-offset", "reports", "-2"]);
    assert_eq!(
        (w.target.as_str(), w.position),
        ("reports", Some(Position::Back(2)))
    );
    let a = adjust(&["adjust-offset", "consumer", "-3", "--dry-run"]);
    assert_eq!(a.words().unwrap().position, Some(Position::Back(3)));
    assert!(a.dry_run);
    let a = adjust(&["adjust-offset", "producer", "latest", "--force"]);
    assert_eq!(a.words().unwrap().position, Some(Position::Latest));
    assert!(a.force);
    for word in ["end", "latest", "END"] {
        let w = words(&["adjust-offset", "consumer", word]);
        assert_eq!(w.position, Some(Position::Latest), "{word}");
    }
    for word in ["earliest", "beginning"] {
        let w = words(&["adjust-offset", "consumer", word]);
        assert_eq!(w.position, Some(Position::Earliest), "{word}");
    }
}

#[test]
fn adjust_offset_reads_its_words_from_the_end() {
    let cli = parse(&["-s", "/tmp/q", "adjust-offset", "consumer", "earliest"]);
    assert_eq!(cli.global.store.as_deref(), Some(Path::new("/tmp/q")));
    let w = words(&["adjust-offset", "./store", "consumer", "-1"]);
    assert_eq!(
        (w.store, w.target.as_str(), w.position),
        (
            Some(PathBuf::from("./store")),
            "consumer",
            Some(Position::Back(1))
        )
    );
    // A store named like a number or a target is still the first of three words.
    let w = words(&["adjust-offset", "producer", "reports", "+1", "--clamp"]);
    assert_eq!(w.store, Some(PathBuf::from("producer")));
    assert_eq!(w.target, "reports");
    let w = words(&["adjust-offset", "reports", "--delete"]);
    assert_eq!(
        (w.store, w.target.as_str(), w.position),
        (None, "reports", None)
    );
    let w = words(&["adjust-offset", "./s", "reports", "--delete"]);
    assert_eq!(w.store, Some(PathBuf::from("./s")));
    let w = words(&["adjust-offset", "audit", "0", "--create"]);
    assert_eq!(w.target, "audit");
    for bad in [
        &["adjust-offset", "consumer"][..],
        &["adjust-offset"],
        &["adjust-offset", "consumer", "sideways"],
        &["adjust-offset", "./s", "consumer", "0", "--delete"],
        &["adjust-offset", "--delete"],
    ] {
        assert!(adjust(bad).words().is_err(), "{bad:?}");
    }
    let err = adjust(&["adjust-offset", "consumer"]).words().unwrap_err();
    assert!(err.contains("[STORE] TARGET POSITION"), "{err}");
    parse_err(&["adjust-offset", "a", "b", "c", "d"]);
    parse_err(&["adjust-offset", "a", "0", "--create", "--delete"]);
    parse_err(&["adjust-offset", "a", "--delete", "--clamp"]);
}

#[test]
fn prune_before() {
    let Command::Prune(p) = parse(&["prune", "--before", "1024"]).command else {
        panic!("expected prune")
    };
    assert_eq!((p.before, p.store_dir), (PruneBefore::Offset(1024), None));
    let Command::Prune(p) = parse(&["prune", "./s", "--before", "consumed", "--dry-run"]).command
    else {
        panic!("expected prune")
    };
    assert_eq!(p.before, PruneBefore::Consumed);
    assert_eq!(p.store_dir, Some(PathBuf::from("./s")));
    assert!(p.dry_run);
    let err = parse_err(&["prune"]);
    assert_eq!(err.kind(), ErrorKind::MissingRequiredArgument);
}

#[test]
fn tail_forms() {
    let Command::Tail(t) = parse(&["tail", "./store"]).command else {
        panic!("expected tail")
    };
    assert_eq!(t.store_dir, Some(PathBuf::from("./store")));
    assert_eq!((t.lines, t.from, t.output), (None, None, None));
    for (word, from) in [
        ("beginning", TailFrom::Beginning),
        ("earliest", TailFrom::Beginning),
        ("end", TailFrom::End),
        ("latest", TailFrom::End),
        ("12", TailFrom::Offset(12)),
    ] {
        let Command::Tail(t) = parse(&["tail", "--from", word, "-e"]).command else {
            panic!("expected tail")
        };
        assert_eq!(t.from, Some(from));
        assert!(t.exit_at_end);
    }
    let Command::Tail(t) = parse(&["tail", "-n", "10", "--output", "json"]).command else {
        panic!("expected tail")
    };
    assert_eq!((t.lines, t.output), (Some(10), Some(OutputMode::Json)));
    let err = parse_err(&["tail", "-n", "3", "--from", "7"]);
    assert_eq!(err.kind(), ErrorKind::ArgumentConflict);
}

#[test]
fn consume_counts() {
    let Command::Consume(c) = parse(&["consume"]).command else {
        panic!("expected consume")
    };
    assert_eq!((c.count, c.peek, c.wait), (Count::N(1), false, None));
    let Command::Consume(c) = parse(&["consume", "-n", "all", "--output", "json"]).command else {
        panic!("expected consume")
    };
    assert_eq!((c.count, c.output), (Count::All, Some(OutputMode::Json)));
    let Command::Consume(c) = parse(&["consume", "--wait", "1m 30s", "--consumer", "r"]).command
    else {
        panic!("expected consume")
    };
    assert_eq!(c.wait.map(|d| d.as_secs()), Some(90));
    assert_eq!(c.consumer.as_deref(), Some("r"));
    parse_err(&["consume", "-n", "lots"]);
}

#[test]
fn global_options_anywhere() {
    let cli = parse(&["--segment-size", "64MiB", "stat"]);
    assert_eq!(cli.global.segment_size, Some(64 << 20));
    let cli = parse(&[
        "stat",
        "--segment-size",
        "4KB",
        "--json",
        "--format",
        "fixed",
    ]);
    assert_eq!(cli.global.segment_size, Some(4000));
    assert!(cli.global.json);
    assert_eq!(cli.global.format, Some(Format::Fixed));
    let err = parse_err(&["--segment-size", "12XB", "stat"]);
    assert_eq!(err.kind(), ErrorKind::ValueValidation);
    assert!(err.to_string().contains("unknown size suffix"), "{err}");
}

#[test]
fn produce_options() {
    let Command::Produce(p) = parse(&["produce", "-m", "a", "-m", "b", "--pad"]).command else {
        panic!("expected produce")
    };
    assert_eq!(p.messages, ["a", "b"]);
    assert_eq!(
        (p.input, p.pad, p.pad_byte, p.flush_every),
        (InputMode::Lines, true, 0, 1000)
    );
    let Command::Produce(p) = parse(&["produce", "--input", "length-prefixed"]).command else {
        panic!("expected produce")
    };
    assert_eq!(p.input, InputMode::LengthPrefixed);
    parse_err(&["produce", "--pad-byte", "32"]);
    parse_err(&["produce", "-m", "a", "--file", "x"]);
}

#[test]
fn dump_segment_takes_store_segment_and_offset() {
    let Command::DumpSegment(d) = parse(&["dump-segment", "00000000000000004096"]).command else {
        panic!("expected dump-segment")
    };
    // One word: whether it is a folder (the STORE) is decided when it runs.
    assert_eq!(d.first, Some(PathBuf::from("00000000000000004096")));
    assert_eq!((d.segment, d.offset), (None, None));
    let Command::DumpSegment(d) = parse(&["dump-segment", "--offset", "9", "--hex"]).command else {
        panic!("expected dump-segment")
    };
    assert_eq!(
        (d.first, d.segment, d.offset, d.hex),
        (None, None, Some(DumpAt::Offset(9)), true)
    );
    let Command::DumpSegment(d) = parse(&["dump-segment", "--offset", "end"]).command else {
        panic!("expected dump-segment")
    };
    assert_eq!(d.offset, Some(DumpAt::Latest));
    let Command::DumpSegment(d) =
        parse(&["dump-segment", "./s", "4096", "--offset", "5000"]).command
    else {
        panic!("expected dump-segment")
    };
    assert_eq!(d.first, Some(PathBuf::from("./s")));
    assert_eq!(
        (d.segment, d.offset),
        (Some(SegmentRef::Start(4096)), Some(DumpAt::Offset(5000)))
    );
    assert_eq!(
        parse_err(&["dump-segment"]).kind(),
        ErrorKind::MissingRequiredArgument
    );
    parse_err(&["dump-segment", "a", "0", "extra"]);
}

#[test]
fn recover_and_bench() {
    parse_err(&["recover", "--save-to", "/tmp/x", "--no-save"]);
    let Command::Recover(r) = parse(&["recover", "--check"]).command else {
        panic!("expected recover")
    };
    assert!(r.check && !r.dry_run);
    let Command::Bench(b) = parse(&["bench", "--quick", "--processes", "2"]).command else {
        panic!("expected bench")
    };
    assert_eq!((b.quick, b.processes, b.count, b.size), (true, 2, None, 64));
    parse_err(&["bench", "--processes", "3"]);
}
