//! Errors for scripts: under `--json` (the global flag, or `--output json` for `consume` and
//! `tail`) a failed command's error is one JSON object on standard error instead of the
//! `mfq: ...` line: `{"v": 1, "error": "<cause chain>", "kind": "<word>", "exit": N,
//! "hint": "<what to do>" | null}`.
//!
//! This module owns that object and the `kind` words (the README lists them); it must not
//! print (main does) or decide exit statuses (`exit::exit_code_for` does).

use mfq::queue;
use serde::Serialize;

use crate::cli::values::OutputMode;
use crate::cli::{hints, Cli, Command};
use crate::render::json::Line;

/// The error object, without `v` (see [`Line`]).
#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
    kind: &'static str,
    exit: i32,
    hint: Option<&'a str>,
}

/// Whether the command line asks for JSON, so that an error should be JSON too.
pub fn wants_json(cli: &Cli) -> bool {
    let output = match &cli.command {
        Command::Consume(a) => a.output,
        Command::Tail(a) => a.output,
        _ => None,
    };
    match output {
        Some(mode) => mode == OutputMode::Json,
        None => cli.global.json,
    }
}

/// Whether raw arguments that clap refused ask for JSON: `--json`, `--output json` or
/// `--output=json` before any `--`.
pub fn args_want_json(args: &[std::ffi::OsString]) -> bool {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.to_str().unwrap_or(""))
        .take_while(|a| *a != "--")
        .collect();
    args.iter().enumerate().any(|(i, a)| {
        *a == "--json"
            || *a == "--output=json"
            || (*a == "--output" && args.get(i + 1) == Some(&"json"))
    })
}

/// The JSON line for an error the command returned, which exits with `exit`.
pub fn error_object(err: &anyhow::Error, exit: i32) -> String {
    let (line, hint) = hints::error_parts(err);
    render(&line, kind(err, exit), exit, hint.as_deref())
}

/// The JSON line for a command line clap refused (exit status 2): its lines before `Usage:`
/// are the error (a `tip:` among them the hint, else the "For more information" line).
pub fn usage_object(rendered: &str) -> String {
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let usage = lines
        .iter()
        .position(|l| l.starts_with("Usage:"))
        .unwrap_or(lines.len());
    let (told, rest) = lines.split_at(usage);
    let error: Vec<&str> = told
        .iter()
        .filter(|l| !l.starts_with("tip: "))
        .map(|l| l.strip_prefix("error: ").unwrap_or(l))
        .collect();
    let error = match error.join(" ") {
        e if e.is_empty() => "invalid arguments".to_string(),
        e => e,
    };
    let hint = told
        .iter()
        .find_map(|l| l.strip_prefix("tip: "))
        .or_else(|| {
            rest.iter()
                .copied()
                .find(|l| l.starts_with("For more information"))
        });
    render(&error, "usage", 2, hint)
}

fn render(error: &str, kind: &'static str, exit: i32, hint: Option<&str>) -> String {
    let body = ErrorJson {
        error,
        kind,
        exit,
        hint,
    };
    serde_json::to_string(&Line::new(&body)).expect("an error object always serializes")
}

/// The machine word for an error: the first engine error's variant in the chain, else what
/// its exit status means.
fn kind(err: &anyhow::Error, exit: i32) -> &'static str {
    if let Some(q) = err.chain().find_map(|e| e.downcast_ref::<queue::Error>()) {
        return engine_kind(q);
    }
    match exit {
        2 => "usage",
        3 => "nothing_available",
        4 => "corruption",
        5 => "store_busy",
        _ if err.chain().any(|e| e.is::<std::io::Error>()) => "io",
        _ => "error",
    }
}

/// The engine error's variant as a word.
fn engine_kind(err: &queue::Error) -> &'static str {
    use queue::Error as E;
    match err {
        E::Io { .. } => "io",
        E::NotAStore { .. } => "not_a_store",
        E::SegmentTooLarge { .. } => "segment_too_large",
        E::OffsetFileSize { .. } => "offset_file_size",
        E::NegativeOffset { .. } => "negative_offset",
        E::ParamsUnknown { .. } => "params_unknown",
        E::ParamsMismatch { .. } => "params_mismatch",
        E::OddSegment { .. } => "odd_segment",
        E::InvalidParams(_) => "invalid_params",
        E::Locked { .. } => "locked",
        E::EmptyMessage => "empty_message",
        E::DotnetHazard { .. } => "dotnet_hazard",
        E::MessageSize { .. } => "message_size",
        E::Misaligned { .. } => "misaligned",
        E::OutOfRange { .. } => "out_of_range",
        E::ConsumerName(_) => "consumer_name",
        E::UnknownConsumer { .. } => "unknown_consumer",
        E::Corrupt { .. } => "corrupt",
        E::Refused { .. } => "refused",
        E::ConfirmedLoss { .. } => "confirmed_loss",
        E::OffsetLimit { .. } => "offset_limit",
        E::Flush { .. } => "flush",
        E::NotRegular { .. } => "not_regular",
        E::Usage(_) => "usage",
        _ => "error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{Exit, ExitStatus};

    fn parse(line: &str) -> serde_json::Value {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn an_engine_error_names_its_variant_and_hint() {
        let err = anyhow::Error::new(queue::Error::Locked {
            path: "/s/producer.offset".into(),
            holder: queue::Holder::LiveProcess,
            processes: vec![],
        })
        .context("cannot prune /s");
        let v = parse(&error_object(&err, 5));
        assert_eq!(v["v"], 1);
        assert_eq!(v["kind"], "locked");
        assert_eq!(v["exit"], 5);
        assert_eq!(v["hint"], "stop it first, or pass --force");
        assert!(v["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot prune /s: "));
    }

    #[test]
    fn without_an_engine_error_the_status_names_the_kind() {
        let err: anyhow::Error = Exit::new(ExitStatus::NothingAvailable, "no message").into();
        let v = parse(&error_object(&err, 3));
        assert_eq!(
            v,
            serde_json::json!({
                "v": 1, "error": "no message", "kind": "nothing_available", "exit": 3,
                "hint": null,
            })
        );
        assert_eq!(
            parse(&error_object(&anyhow::anyhow!("x"), 1))["kind"],
            "error"
        );
    }

    #[test]
    fn usage_errors_and_the_raw_arguments() {
        let rendered = "error: unexpected argument '--bogus' found\n\n  tip: to pass '--bogus' \
                        as a value, use '-- --bogus'\n\nUsage: mfq stat [STORE]\n";
        let v = parse(&usage_object(rendered));
        assert_eq!(v["error"], "unexpected argument '--bogus' found");
        assert_eq!(v["kind"], "usage");
        assert_eq!(v["exit"], 2);
        assert_eq!(v["hint"], "to pass '--bogus' as a value, use '-- --bogus'");
        let rendered = "error: the following required arguments were not provided:\n  \
                        <TARGET>\n\nUsage: mfq adjust-offset <TARGET>\n\nFor more information, \
                        try '--help'.\n";
        let v = parse(&usage_object(rendered));
        assert_eq!(
            v["error"],
            "the following required arguments were not provided: <TARGET>"
        );
        assert_eq!(v["hint"], "For more information, try '--help'.");
        let os = |a: &[&str]| a.iter().map(Into::into).collect::<Vec<_>>();
        assert!(args_want_json(&os(&["mfq", "stat", "--json"])));
        assert!(args_want_json(&os(&["mfq", "tail", "--output", "json"])));
        assert!(args_want_json(&os(&["mfq", "tail", "--output=json"])));
        assert!(!args_want_json(&os(&["mfq", "produce", "--", "--json"])));
        assert!(!args_want_json(&os(&["mfq", "tail", "--output", "hex"])));
    }
}
