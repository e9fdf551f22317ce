//! `mfq prune --before OFFSET|consumed`: deletes segment files whose records all lie before
//! an offset, bounded by the slowest consumer and the producer unless `--force`.
//!
//! Prints one line per segment (delete, keep with the reason, or skipped) and the bytes
//! freed. A segment a live process holds open stops the deletion there (it and later ones
//! stay) and the command exits with status 5, unless `--force`.
//!
//! This file must not choose or delete segments itself; `queue::prune` does.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use mfq::queue::prune::{self, KeepReason, PrunePlan, Pruned};
use mfq::queue::{self, RecoveryLock, Store};

use super::resolve;
use crate::cli::values::PruneBefore;
use crate::cli::{GlobalOpts, PruneArgs};
use crate::size::format_size;

/// Runs `mfq prune`.
pub fn run(global: &GlobalOpts, args: &PruneArgs) -> anyhow::Result<()> {
    let path = resolve::store_path(global, args.store_dir.as_ref());
    let what = format!("cannot prune {}", path.display());
    let store = resolve::open_at(&path, &resolve::params_request(global)).context(what.clone())?;
    prune_store(global, args, &store).context(what)
}

fn prune_store(global: &GlobalOpts, args: &PruneArgs, store: &Store) -> anyhow::Result<()> {
    // A change is planned under the recovery lock (see `queue::RecoveryLock`).
    let _recovering = match args.dry_run {
        true => None,
        false => Some(RecoveryLock::take(store.layout(), Duration::ZERO)?),
    };
    let before = match args.before {
        PruneBefore::Offset(o) => o,
        // Without consumer.offset, the default consumer counts at 0 (see queue::prune).
        PruneBefore::Consumed => prune::slowest_consumer(store.layout())?.1,
    };
    let plan = prune::plan_prune(store.layout(), store.params(), before, args.force)?;
    let pruned = if args.dry_run {
        None
    } else {
        Some(prune::apply_prune(store.layout(), &plan)?)
    };
    if global.json {
        print_json(&plan, pruned.as_ref(), args.dry_run)?;
    } else {
        print_text(&plan, pruned.as_ref())?;
    }
    if let Some(held) = pruned.as_ref().and_then(|p| p.held.as_ref()) {
        let kept = pruned.as_ref().map_or(0, |p| p.skipped.len());
        let mut err = std::io::stderr().lock();
        writeln!(
            err,
            "mfq: kept {kept} segment(s) from {} on: it is held by a live process \
             (run prune again once it has moved on)",
            held.display()
        )?;
    }
    Ok(())
}

fn name(seg: &queue::SegmentFile) -> String {
    seg.path.file_name().map_or_else(
        || seg.path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

fn bytes_text(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    format!("{} ({bytes} bytes)", format_size(bytes))
}

fn consumer_text(name: &str) -> String {
    match name {
        "consumer" => "the consumer".to_string(),
        other => format!("consumer {other}"),
    }
}

fn print_text(plan: &PrunePlan, pruned: Option<&Pruned>) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let skipped = |s: &queue::SegmentFile| pruned.is_some_and(|p| p.skipped.contains(s));
    for seg in &plan.delete {
        let verb = match pruned {
            None if queue::is_held(&seg.path)? => "would skip (held by a live process)",
            None => "would delete",
            Some(_) if skipped(seg) => "skipped",
            Some(_) => "deleted",
        };
        writeln!(out, "{verb} {}  ({})", name(seg), bytes_text(seg.len))?;
    }
    for k in &plan.kept {
        let why = match &k.reason {
            KeepReason::Last => "the last segment always stays".to_string(),
            KeepReason::Consumer { name, offset } => {
                format!(
                    "{} at {offset} has not read past it (--force overrides)",
                    consumer_text(name)
                )
            }
            KeepReason::Producer { offset } => {
                format!("it holds the producer offset {offset} (--force overrides)")
            }
        };
        writeln!(out, "kept {}  ({why})", name(&k.segment))?;
    }
    let created = pruned.map_or(plan.default_consumer_created_at, |p| {
        p.default_consumer_created_at
    });
    if let Some(at) = created {
        let verb = if pruned.is_some() {
            "created"
        } else {
            "would create"
        };
        writeln!(
            out,
            "{verb} offset/consumer.offset at {at}: the default consumer had no offset file, \
             and a .NET process would start it at 0, in a deleted segment"
        )?;
    }
    if plan.delete.is_empty() && plan.kept.is_empty() {
        writeln!(out, "no segment lies wholly before {}", plan.before)?;
    }
    match pruned {
        None => writeln!(
            out,
            "dry run: would delete {} segment(s), freeing {}",
            plan.delete.len(),
            bytes_text(plan.bytes())
        )?,
        Some(p) => writeln!(
            out,
            "deleted {} segment(s), freed {}",
            p.deleted.len(),
            bytes_text(p.bytes())
        )?,
    }
    Ok(())
}

fn print_json(plan: &PrunePlan, pruned: Option<&Pruned>, dry_run: bool) -> anyhow::Result<()> {
    let value = serde_json::json!({
        "before": plan.before,
        "dry_run": dry_run,
        "plan": plan,
        "planned_bytes": plan.bytes(),
        "pruned": pruned,
        "bytes_freed": pruned.map_or(0, Pruned::bytes),
    });
    writeln!(std::io::stdout().lock(), "{value}")?;
    Ok(())
}
