//! How the command line words the engine's errors: the engine's errors carry facts and a
//! [`Hint`] as data (a parameter, a holder, "override the check"); this module phrases them with
//! the flags and subcommands that `mfq` spells, so renaming a flag touches this file and the
//! clap definitions, never the engine.
//!
//! This module owns the final error line; it must not decide exit statuses or run anything.

use mfq::queue::{self, Hint, Issue, IssueKind, Need, Param};

/// The flag (with its value's name) that gives a parameter.
fn flag(p: Param) -> &'static str {
    match p {
        Param::Format => "--format fixed|stream",
        Param::RecordSize => "--record-size BYTES",
        Param::SegmentSize => "--segment-size SIZE",
    }
}

/// The bare flag of a parameter.
fn bare_flag(p: Param) -> &'static str {
    match p {
        Param::Format => "--format",
        Param::RecordSize => "--record-size",
        Param::SegmentSize => "--segment-size",
    }
}

/// What to pass to settle unknown parameters.
fn pass(need: Need) -> String {
    match need {
        Need::Params([one]) => flag(*one).to_string(),
        Need::Params(ps) => {
            let flags: Vec<&str> = ps.iter().map(|p| bare_flag(*p)).collect();
            match flags.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => flags.concat(),
            }
        }
        Need::OtherFormat => "the right --format".into(),
        Need::FormatThenRecordSize => "--format fixed|stream (and --record-size for fixed)".into(),
    }
}

/// The words that follow an error's own text for a hint, with their separator.
pub fn phrase(hint: Hint) -> String {
    match hint {
        Hint::Recover => " (run `mfq recover`)".into(),
        Hint::RecoverOffsetFile => " (run `mfq recover` to rewrite it)".into(),
        Hint::MoveOutThenRecover => {
            "; if it does not belong here, move it out of commitlog/ and run `mfq recover`".into()
        }
        Hint::GiveParams(need) => format!(" (pass {})", pass(need)),
        Hint::DropOrFixParam(_) => " (drop the option or fix it)".into(),
        Hint::CreateStore => " (create one with `mfq produce --format ...`)".into(),
        Hint::StopHolderOrForce => "; stop it first, or pass --force".into(),
        Hint::StopOtherProducer => {
            "; a store has one producer at a time: stop the other one first".into()
        }
        Hint::StopConsumerOrRename => {
            "; stop it first, or read under another name with --consumer NAME".into()
        }
        Hint::NameHolders => {
            "; a store has one producer at a time: `mfq stat` names the processes that hold it"
                .into()
        }
        Hint::RetrySoon => "; it is done in a moment: run the command again".into(),
        Hint::Force => "; pass --force to do it anyway".into(),
        Hint::CheckSegmentSize => "; check --segment-size or mfq.json".into(),
        Hint::MoveAside => "; move it out of the store, then run the command again".into(),
        Hint::ReviewThenConsent => "; `mfq recover --dry-run` lists what would be removed; \
                                    `mfq recover --force` removes it, saving it aside first"
            .into(),
        Hint::SaveElsewhereOrNoSave => {
            "; pass --save-to DIR on a filesystem with room, or --no-save to discard them".into()
        }
        Hint::AllowDotnetHazards => {
            "; pass --allow-dotnet-hazards to write it anyway (mfq's readers read it)".into()
        }
        _ => String::new(),
    }
}

/// Advice for an inspection finding, with the commands to run; `default_consumer` is the
/// default consumer's offset (the one a .NET consumer reads).
pub fn issue_hint(issue: &Issue, default_consumer: Option<u64>) -> Option<String> {
    let at = issue.offset?;
    let here = default_consumer == Some(at);
    Some(match issue.kind {
        IssueKind::DotnetEeLength | IssueKind::DotnetEmptyRecord if here => {
            "a .NET consumer stops at this record: stop it, then skip the record with \
             `mfq adjust-offset consumer +1`"
                .to_string()
        }
        IssueKind::DotnetEeLength | IssueKind::DotnetEmptyRecord => format!(
            "if a .NET consumer stops at offset {at}, stop it, then skip the record with \
             `mfq adjust-offset consumer +1`"
        ),
        IssueKind::DotnetShortTail => format!(
            "if a .NET consumer stops before offset {at}, restart it: it then opens the next \
             segment and reads on (`mfq adjust-offset consumer +1` would skip the record at \
             {at})"
        ),
        _ => return None,
    })
}

/// One engine error as the command line says it: its facts, with the flags that name them,
/// and its hint.
pub fn describe(err: &queue::Error) -> String {
    let text = facts(err);
    match err.hint() {
        Some(h) => text + &phrase(h),
        None => text,
    }
}

/// An engine error's facts, with the flags that name them, without its hint.
fn facts(err: &queue::Error) -> String {
    match err {
        queue::Error::ParamsMismatch { what, found, given } => format!(
            "{what}: the store has {found}, but {} {given} was given",
            bare_flag(*what)
        ),
        // The engine's own words name what is needed; the hint names the flags instead.
        queue::Error::ParamsUnknown { reason, .. } => reason.clone(),
        queue::Error::Locked {
            path,
            holder,
            processes,
        } if !processes.is_empty() => format!(
            "{} is held by another process ({holder}: {})",
            path.display(),
            processes_text(processes)
        ),
        other => other.to_string(),
    }
}

/// The processes that hold a file, for an error line: `pid 42 (mfq tail ./store)`.
pub fn processes_text(processes: &[queue::holders::HolderProcess]) -> String {
    processes
        .iter()
        .map(|p| match &p.command {
            Some(c) => format!("pid {} ({c})", p.pid),
            None => format!("pid {}", p.pid),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Files a live process holds, each with the processes the system names as holding it:
/// `./s/offset/consumer.offset (pid 42 (mfq tail ./s))`. For exit status 5 messages.
pub fn held_files_text(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| {
            let who = queue::holders::holder_processes(p);
            match who.is_empty() {
                true => p.display().to_string(),
                false => format!("{} ({})", p.display(), processes_text(&who)),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `path` as one shell word for a command a message suggests: as it is when it holds only
/// characters a shell leaves alone, else in single quotes (each `'` as `'\''`); a path that
/// starts with `-` gets `./` first, so that it is not taken for an option.
pub fn shell_word(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    let text = match text.starts_with('-') {
        true => format!("./{text}"),
        false => text.into_owned(),
    };
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text;
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// A hint on its own, as a clause (`run \`mfq recover\``, `stop it first, or pass --force`).
pub fn hint_text(hint: Hint) -> String {
    let p = phrase(hint);
    let p = p.trim_start_matches([';', ' ']);
    match p.strip_prefix('(') {
        Some(inner) => inner.strip_suffix(')').unwrap_or(inner).to_string(),
        None => p.to_string(),
    }
}

/// [`error_line`] split in two for `--json`: the chain without the engine's hint, and that
/// hint on its own (when the first engine error in the chain has one).
pub fn error_parts(err: &anyhow::Error) -> (String, Option<String>) {
    let line = err
        .chain()
        .map(|e| match e.downcast_ref::<queue::Error>() {
            Some(q) => facts(q),
            None => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ");
    let hint = err
        .chain()
        .find_map(|e| e.downcast_ref::<queue::Error>())
        .and_then(queue::Error::hint)
        .map(hint_text)
        .filter(|h| !h.is_empty());
    (line, hint)
}

/// The whole error line after `mfq: `: every cause of the chain, outermost first, joined by
/// `: ` (as anyhow's `{:#}` does), with engine errors worded by [`describe`].
pub fn error_line(err: &anyhow::Error) -> String {
    err.chain()
        .map(|e| match e.downcast_ref::<queue::Error>() {
            Some(q) => describe(q),
            None => e.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_survive_a_shell() {
        use std::path::Path;
        assert_eq!(shell_word(Path::new("./store")), "./store");
        assert_eq!(shell_word(Path::new("my store")), "'my store'");
        assert_eq!(shell_word(Path::new("it's")), "'it'\\''s'");
        assert_eq!(shell_word(Path::new("-dash")), "./-dash");
        for p in ["my store", "it's", "-dash", "a$b`c\"d"] {
            let out = std::process::Command::new("sh")
                .args(["-c", &format!("printf %s {}", shell_word(Path::new(p)))])
                .output()
                .unwrap();
            let back = String::from_utf8(out.stdout).unwrap();
            assert_eq!(back.trim_start_matches("./"), p);
        }
    }

    #[test]
    fn engine_errors_name_no_flag_and_the_command_line_adds_them() {
        let err = queue::Error::ParamsMismatch {
            what: Param::SegmentSize,
            found: "4096 bytes".into(),
            given: "1024".into(),
        };
        assert!(!err.to_string().contains("--"), "{err}");
        assert_eq!(
            describe(&err),
            "segment size: the store has 4096 bytes, but --segment-size 1024 was given \
             (drop the option or fix it)"
        );
        let unknown = queue::Error::ParamsUnknown {
            reason: "the record size is ambiguous".into(),
            need: Need::Params(&[Param::RecordSize]),
        };
        assert!(!unknown.to_string().contains("--"), "{unknown}");
        assert_eq!(
            describe(&unknown),
            "the record size is ambiguous (pass --record-size BYTES)"
        );
        let all = Need::Params(&[Param::Format, Param::RecordSize, Param::SegmentSize]);
        assert_eq!(pass(all), "--format, --record-size and --segment-size");
    }

    #[test]
    fn json_parts_split_the_hint_from_the_facts() {
        let err = anyhow::Error::new(queue::Error::Locked {
            path: "/s/offset/consumer.offset".into(),
            holder: queue::Holder::LiveProcess,
            processes: vec![],
        })
        .context("cannot move consumer to 0");
        let (line, hint) = error_parts(&err);
        assert_eq!(
            line,
            "cannot move consumer to 0: /s/offset/consumer.offset is held by another process \
             (a live producer or consumer)"
        );
        assert_eq!(hint.as_deref(), Some("stop it first, or pass --force"));
        assert_eq!(hint_text(Hint::Recover), "run `mfq recover`");
        let (line, hint) = error_parts(&anyhow::anyhow!("plain"));
        assert_eq!((line.as_str(), hint), ("plain", None));
    }

    #[test]
    fn a_chain_keeps_its_context_and_the_hint_follows_the_engine_error() {
        let err = anyhow::Error::new(queue::Error::Locked {
            path: "/s/offset/consumer.offset".into(),
            holder: queue::Holder::LiveProcess,
            processes: vec![],
        })
        .context("cannot move consumer to 0");
        assert_eq!(
            error_line(&err),
            "cannot move consumer to 0: /s/offset/consumer.offset is held by another process \
             (a live producer or consumer); stop it first, or pass --force"
        );
        let named = queue::Error::Locked {
            path: "/s/offset/consumer.offset".into(),
            holder: queue::Holder::LiveProcess,
            processes: vec![queue::holders::HolderProcess {
                pid: 42,
                command: Some("mfq consume ./s --wait 1m".into()),
            }],
        };
        assert_eq!(
            describe(&named),
            "/s/offset/consumer.offset is held by another process (a live producer or consumer: \
             pid 42 (mfq consume ./s --wait 1m)); stop it first, or pass --force"
        );
    }
}
