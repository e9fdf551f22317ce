//! One repair action in words, shared by `mfq recover` (its plan) and `mfq produce` (the
//! repair a producer makes when it opens a store that was not shut down cleanly).
//!
//! This module owns the wording of actions; it must not decide or apply a repair.

use std::path::Path;

use mfq::queue::recovery::Action;

fn value(v: Option<u64>) -> String {
    v.map_or("(unreadable)".to_string(), |v| v.to_string())
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

/// Where the repair saves the bytes an action removes. The engine names the copy once it knows
/// where the non-zero bytes begin (all zeros: no copy), so the plan names only the folder.
fn saved_as(save_to: Option<&Path>, a: &Action) -> String {
    match (save_to, a.removed()) {
        (Some(dir), Some(_)) => format!("non-zero bytes saved under {}", dir.display()),
        _ => "not saved".to_string(),
    }
}

/// The note for an offset file rewritten with the value it seemed to hold (wrong length).
fn rewrite(from: Option<u64>, to: u64) -> &'static str {
    if from == Some(to) {
        " (the file is rewritten as 8 bytes)"
    } else {
        ""
    }
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// One action in words.
pub fn describe(a: &Action, save_to: Option<&Path>) -> String {
    match a {
        Action::RecordGaps { gaps } => {
            let list: Vec<String> = gaps.iter().map(|(a, b)| format!("{a}..{b}")).collect();
            format!(
                "record the gap{} {} in mfq.gaps (mfq's readers step over it)",
                if gaps.len() == 1 { "" } else { "s" },
                list.join(", ")
            )
        }
        Action::SetProducer { from, to } => format!(
            "set producer offset {} -> {to}{}",
            value(*from),
            rewrite(*from, *to)
        ),
        Action::SetConfirmed { from, to } => format!(
            "set confirmed offset {} -> {to}{}",
            value(*from),
            rewrite(*from, *to)
        ),
        Action::SetConsumer {
            name,
            from,
            to,
            lost,
            ..
        } => {
            let why = match lost {
                Some((a, b)) => format!(" (records {a}..{b} are gone)"),
                None if from.is_some_and(|f| f > *to) => " (back to a record boundary)".into(),
                None => rewrite(*from, *to).to_string(),
            };
            let who = match name.as_str() {
                "consumer" => "consumer".to_string(),
                other => format!("consumer {other}"),
            };
            format!("move {who} {} -> {to}{why}", value(*from))
        }
        Action::ZeroTail {
            path,
            from_pos,
            to_pos,
            records,
        } => {
            let name = file_name(path);
            let saved = saved_as(save_to, a);
            format!(
                "zero positions {from_pos}..{to_pos} of {name} ({}; {saved})",
                plural(*records, "stale record")
            )
        }
        Action::TrimSegment {
            path,
            from_len,
            to_len,
        } => {
            let name = file_name(path);
            let saved = saved_as(save_to, a);
            format!(
                "cut segment {name} from {from_len} to {to_len} bytes (the length its \
                 parameters give; {saved})"
            )
        }
        Action::RemoveSegment { path, records } => {
            let name = file_name(path);
            let saved = saved_as(save_to, a);
            format!(
                "remove segment {name} past the data end ({}; {saved})",
                plural(*records, "record")
            )
        }
    }
}
