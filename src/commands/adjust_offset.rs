//! `mfq adjust-offset [STORE] TARGET POSITION`: moves the producer offset or a consumer
//! offset; with `--create` creates a named consumer, with `--delete` deletes one.
//!
//! Resolves the store, the target and the position, lets the engine check and plan the change
//! (`queue::admin`), refuses a `+N`/`-N` that would pass an end of the records (naming the
//! bound and the largest move that fits) unless `--clamp`, refuses with exit status 5 when a
//! live process holds a file it would change (unless `--force`), then applies it and prints
//! `store /path: consumer reports 34 -> 51` per file, so that the store changed is never in
//! doubt. A named consumer must exist unless `--create`; the default consumer's file may be
//! created with an absolute position.
//!
//! This file must not compute offsets or write files itself; the engine does.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use mfq::queue::admin::{self, AdjustOptions, Adjustment, Deletion, Move, Shortfall, Target};
use mfq::queue::{self, ConsumerId, RecoveryLock, Store};

use super::resolve;
use crate::cli::values::Position;
use crate::cli::{hints, AdjustOffsetArgs, GlobalOpts};
use crate::exit::{Exit, ExitStatus};

/// Runs `mfq adjust-offset`.
pub fn run(global: &GlobalOpts, args: &AdjustOffsetArgs) -> anyhow::Result<()> {
    let words = args.words().map_err(|e| {
        Exit::new(
            ExitStatus::Usage,
            format!("{e} (see `mfq help adjust-offset`)"),
        )
    })?;
    let what = match words.position {
        Some(p) => format!("cannot move {} {}", words.target, position_text(p)),
        None => format!("cannot delete {}", words.target),
    };
    let store = resolve::open_store(global, words.store.as_ref()).context(what.clone())?;
    let target = parse_target(&words.target).context(what.clone())?;
    match words.position {
        Some(p) => adjust(global, args, &store, &target, p),
        None => delete(global, args, &store, &target),
    }
    .context(what)?;
    match args.dry_run {
        true => Ok(()),
        false => resolve::remember_params(global, &store),
    }
}

fn adjust(
    global: &GlobalOpts,
    args: &AdjustOffsetArgs,
    store: &Store,
    target: &Target,
    position: Position,
) -> anyhow::Result<()> {
    let mv = match position {
        Position::Offset(o) => Move::To(o),
        Position::Earliest => Move::Earliest,
        Position::Latest => Move::Latest,
        Position::Forward(n) => Move::Forward(n),
        Position::Back(n) => Move::Back(n),
    };
    if args.create && *target == Target::Producer {
        anyhow::bail!("--create makes a named consumer; the producer's offset always exists");
    }
    // A change is planned under the recovery lock, so that no .NET recovery moves the files
    // between the plan and the change.
    let _recovering = match args.dry_run {
        true => None,
        false => Some(RecoveryLock::take(store.layout(), Duration::ZERO)?),
    };
    let opts = AdjustOptions {
        force: args.force,
        create: args.create,
        // A move past an end is planned clamped; without --clamp it is refused below, in
        // words that name the flag.
        clamp: true,
    };
    let adj = admin::plan_adjust_with(store.layout(), store.params(), target, mv, opts)
        .map_err(|e| hint(e, store, target, position))?;
    if let (Some(short), false) = (adj.short, args.clamp) {
        anyhow::bail!(past_end(target, &adj, short));
    }
    let held = held(adj.changes.iter().map(|c| c.path.as_path()))?;
    refuse_held(&held, args)?;
    let created = adj.changes[0].from.is_none() && !exists(&adj.changes[0].path);
    let changed = !args.dry_run && !adj.is_noop();
    if changed {
        admin::apply_adjust(store.layout(), &adj, args.force)?;
    }
    let done = Done {
        dry_run: args.dry_run,
        changed,
        created,
    };
    print(
        global,
        &resolve::shown_path(store.path()),
        &adj,
        done,
        &held,
    )
}

/// Whether a path names anything (a symlink is not followed).
fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// What an adjustment did.
#[derive(Clone, Copy)]
struct Done {
    dry_run: bool,
    changed: bool,
    /// The main offset file did not exist before.
    created: bool,
}

fn delete(
    global: &GlobalOpts,
    args: &AdjustOffsetArgs,
    store: &Store,
    target: &Target,
) -> anyhow::Result<()> {
    let del = admin::plan_delete(store.layout(), target).map_err(|e| hint_delete(e, target))?;
    let held = held([del.path.as_path()])?;
    refuse_held(&held, args)?;
    if !args.dry_run {
        admin::apply_delete(store.layout(), &del, args.force)?;
    }
    print_delete(
        global,
        &resolve::shown_path(store.path()),
        &del,
        args.dry_run,
        &held,
    )
}

/// Refuses (exit 5) a change of files a live process holds, unless `--force` or `--dry-run`.
fn refuse_held(held: &[PathBuf], args: &AdjustOffsetArgs) -> anyhow::Result<()> {
    if !held.is_empty() && !args.force && !args.dry_run {
        return Err(Exit::new(
            ExitStatus::StoreBusy,
            format!(
                "{} is held by a live process; stop it first, or pass --force",
                hints::held_files_text(held)
            ),
        )
        .into());
    }
    Ok(())
}

/// `producer`, or a consumer (`consumer`/`default` is the main one).
fn parse_target(text: &str) -> anyhow::Result<Target> {
    if text == "producer" {
        return Ok(Target::Producer);
    }
    Ok(Target::Consumer(resolve::consumer_id(Some(text))?))
}

/// How a target is named in messages: `producer`, `consumer` or `consumer NAME`.
fn target_text(target: &Target) -> String {
    match target {
        Target::Producer => "producer".into(),
        Target::Consumer(ConsumerId::Default) => "consumer".into(),
        Target::Consumer(ConsumerId::Named(n)) => format!("consumer {n}"),
    }
}

/// The refusal of a `+N`/`-N` that passes an end: where the target is, how far it can go,
/// and what to type instead.
fn past_end(target: &Target, adj: &Adjustment, s: Shortfall) -> String {
    let cur = adj.changes[0]
        .from
        .map_or_else(|| "?".to_string(), |v| v.to_string());
    let (end, sign) = match s.forward {
        true => ("the end", '+'),
        false => ("the earliest record", '-'),
    };
    let instead = match s.available {
        0 => "it is already there (--clamp accepts no move)".to_string(),
        n => format!("use {sign}{n} or --clamp"),
    };
    format!(
        "{} (at {cur}) is {} record{} from {end} (offset {}); {sign}{} goes past it; {instead}",
        target_text(target),
        s.available,
        if s.available == 1 { "" } else { "s" },
        s.bound,
        s.asked,
    )
}

/// Words the engine's errors with the flags that get past them.
fn hint(err: queue::Error, store: &Store, target: &Target, position: Position) -> anyhow::Error {
    match err {
        queue::Error::UnknownConsumer { .. } => {
            let at = match position {
                Position::Forward(_) | Position::Back(_) => "earliest".to_string(),
                Position::Offset(o) => o.to_string(),
                Position::Earliest => "earliest".into(),
                Position::Latest => "latest".into(),
            };
            anyhow::anyhow!(
                "{err}; to create it, run `mfq adjust-offset {} {} {at} --create`",
                hints::shell_word(store.path()),
                target.name()
            )
        }
        other => other.into(),
    }
}

fn hint_delete(err: queue::Error, target: &Target) -> anyhow::Error {
    match err {
        queue::Error::UnknownConsumer { .. } => {
            anyhow::anyhow!("{err}; there is nothing to delete for {}", target.name())
        }
        other => other.into(),
    }
}

/// The files among `paths` that a live process holds.
fn held<'a>(paths: impl IntoIterator<Item = &'a Path>) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if queue::is_held(p)? {
            out.push(p.to_path_buf());
        }
    }
    Ok(out)
}

/// The held files, for a warning.
fn shown(held: &[PathBuf]) -> String {
    let shown: Vec<String> = held.iter().map(|p| p.display().to_string()).collect();
    shown.join(", ")
}

/// The name of a change in the output: `producer`, `confirmed`, `consumer` or
/// `consumer NAME`.
fn change_text(name: &str) -> String {
    match name {
        "producer" | "confirmed" | "consumer" => name.to_string(),
        n => format!("consumer {n}"),
    }
}

fn print(
    global: &GlobalOpts,
    store: &Path,
    adj: &Adjustment,
    done: Done,
    held: &[PathBuf],
) -> anyhow::Result<()> {
    let Done {
        dry_run,
        changed,
        created,
    } = done;
    let mut out = std::io::stdout().lock();
    if global.json {
        let value = serde_json::json!({
            "v": crate::render::json::SCHEMA_VERSION,
            "store": store.to_string_lossy(),
            "changes": adj.changes,
            "dry_run": dry_run,
            "changed": changed,
            "created": created && changed,
            "clamped": adj.short,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    for (i, c) in adj.changes.iter().enumerate() {
        let from = c.from.map_or("(none)".to_string(), |v| v.to_string());
        let note = match (i, created, dry_run) {
            (0, true, false) => " (created)",
            (0, true, true) => " (would be created)",
            _ => "",
        };
        writeln!(
            out,
            "store {}: {} {from} -> {}{note}",
            store.display(),
            change_text(&c.name),
            c.to
        )?;
    }
    drop(out);
    let mut err = std::io::stderr().lock();
    if let Some(s) = adj.short {
        writeln!(
            err,
            "clamped: moved {} of the {} records asked for",
            s.available, s.asked
        )?;
    }
    if dry_run {
        writeln!(err, "dry run: nothing changed")?;
    } else if !changed {
        writeln!(err, "already there: nothing changed")?;
    } else if !held.is_empty() {
        writeln!(
            err,
            "warning: changed while a live process holds it ({}); that process may \
             write its own value back",
            shown(held)
        )?;
    }
    Ok(())
}

fn print_delete(
    global: &GlobalOpts,
    store: &Path,
    del: &Deletion,
    dry_run: bool,
    held: &[PathBuf],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if global.json {
        let value = serde_json::json!({
            "v": crate::render::json::SCHEMA_VERSION,
            "store": store.to_string_lossy(),
            "deleted": del,
            "dry_run": dry_run,
            "changed": !dry_run,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    let from = del
        .from
        .map_or("(unreadable)".to_string(), |v| v.to_string());
    writeln!(
        out,
        "store {}: consumer {} {from} -> (deleted)",
        store.display(),
        del.name
    )?;
    drop(out);
    if dry_run {
        writeln!(std::io::stderr(), "dry run: nothing changed")?;
    } else if !held.is_empty() {
        writeln!(
            std::io::stderr(),
            "warning: deleted while a live process holds it ({}); that process may \
             write it back",
            shown(held)
        )?;
    }
    Ok(())
}

fn position_text(p: Position) -> String {
    match p {
        Position::Offset(o) => format!("to {o}"),
        Position::Earliest => "to earliest".into(),
        Position::Latest => "to latest".into(),
        Position::Forward(n) => format!("by +{n}"),
        Position::Back(n) => format!("by -{n}"),
    }
}
