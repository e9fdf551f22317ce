//! `mfq adjust-offset TARGET POSITION`: moves the producer offset or a consumer offset.
//!
//! Resolves the target and the position, lets the engine check and plan the change
//! (`queue::admin`), refuses with exit status 5 when a live process holds a file it would
//! change (unless `--force`), then applies it and prints `consumer: 34 -> 51` per file.
//! A named consumer must exist already (the error lists the known ones); the default
//! consumer's file may be created with an absolute position.
//!
//! This file must not compute offsets or write files itself; the engine does.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use mfq::queue::admin::{self, Adjustment, Move, Target};
use mfq::queue::{self, RecoveryLock, Store};

use super::resolve;
use crate::cli::values::Position;
use crate::cli::{AdjustOffsetArgs, GlobalOpts};
use crate::exit::{Exit, ExitStatus};

/// Runs `mfq adjust-offset`.
pub fn run(global: &GlobalOpts, args: &AdjustOffsetArgs) -> anyhow::Result<()> {
    let what = format!(
        "cannot move {} {}",
        args.target,
        position_text(args.position)
    );
    let store = resolve::open_store(global, None).context(what.clone())?;
    adjust(global, args, &store).context(what)
}

fn adjust(global: &GlobalOpts, args: &AdjustOffsetArgs, store: &Store) -> anyhow::Result<()> {
    let target = parse_target(&args.target)?;
    let mv = match args.position {
        Position::Offset(o) => Move::To(o),
        Position::Earliest => Move::Earliest,
        Position::Latest => Move::Latest,
        Position::Forward(n) => Move::Forward(n),
        Position::Back(n) => Move::Back(n),
    };
    // A change is planned under the recovery lock, so that no .NET recovery moves the files
    // between the plan and the change.
    let _recovering = match args.dry_run {
        true => None,
        false => Some(RecoveryLock::take(store.layout(), Duration::ZERO)?),
    };
    let adj = admin::plan_adjust(store.layout(), store.params(), &target, mv, args.force)
        .map_err(|e| hint(e, &target))?;
    let held = held(&adj)?;
    if !held.is_empty() && !args.force && !args.dry_run {
        return Err(Exit::new(
            ExitStatus::StoreBusy,
            format!(
                "{} is held by a live process; stop it first, or pass --force",
                held.join(", ")
            ),
        )
        .into());
    }
    let changed = !args.dry_run && !adj.is_noop();
    if changed {
        admin::apply_adjust(store.layout(), &adj, args.force)?;
    }
    print(global, &adj, args.dry_run, changed, &held)
}

/// `producer`, or a consumer (`consumer`/`default` is the main one).
fn parse_target(text: &str) -> anyhow::Result<Target> {
    if text == "producer" {
        return Ok(Target::Producer);
    }
    Ok(Target::Consumer(resolve::consumer_id(Some(text))?))
}

/// Adds how to create a consumer to the unknown-consumer error.
fn hint(err: queue::Error, target: &Target) -> anyhow::Error {
    match err {
        queue::Error::UnknownConsumer { .. } => anyhow::anyhow!(
            "{err}; a named consumer's offset file is created by its first \
             `mfq consume --consumer {}`",
            target.name()
        ),
        other => other.into(),
    }
}

/// The files of the adjustment that a live process holds.
fn held(adj: &Adjustment) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for c in &adj.changes {
        if queue::is_held(&c.path)? {
            out.push(c.path.display().to_string());
        }
    }
    Ok(out)
}

fn print(
    global: &GlobalOpts,
    adj: &Adjustment,
    dry_run: bool,
    changed: bool,
    held: &[String],
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if global.json {
        let value = serde_json::json!({
            "changes": adj.changes,
            "dry_run": dry_run,
            "changed": changed,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    for c in &adj.changes {
        let from = c.from.map_or("(none)".to_string(), |v| v.to_string());
        writeln!(out, "{}: {from} -> {}", c.name, c.to)?;
    }
    drop(out);
    let mut err = std::io::stderr().lock();
    if dry_run {
        writeln!(err, "dry run: nothing changed")?;
    } else if !changed {
        writeln!(err, "already there: nothing changed")?;
    } else if !held.is_empty() {
        writeln!(
            err,
            "warning: changed while a live process holds it ({}); that process may \
             write its own value back",
            held.join(", ")
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
