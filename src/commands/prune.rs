//! `mfq prune --before OFFSET|consumed`: deletes segment files whose records all lie before
//! an offset, bounded by the slowest consumer and the producer unless `--force`.
//!
//! Prints one line per segment (delete, keep with the reason, or skipped), each consumer a
//! forced prune leaves before the new earliest offset, and the bytes freed. The exit status
//! says whether it did all that was asked: 5 when a live process held a segment (it and the
//! later ones stay, even with `--force`), 6 when a consumer or the producer kept segments
//! (without `--force`), 0 otherwise; the error line names each blocker and the next step.
//! `--dry-run` predicts the same lines and the same status.
//!
//! This file must not choose or delete segments itself; `queue::prune` does.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use mfq::queue::prune::{self, KeepReason, LeftBehind, PrunePlan, Pruned};
use mfq::queue::{self, holders, RecoveryLock, Store};

use super::resolve;
use crate::cli::values::PruneBefore;
use crate::cli::{hints, GlobalOpts, PruneArgs};
use crate::exit::{Exit, ExitStatus};
use crate::render::progress::{self, Unit};
use crate::size::format_size;

/// Runs `mfq prune`.
pub fn run(global: &GlobalOpts, args: &PruneArgs) -> anyhow::Result<()> {
    let path = resolve::store_path(global, args.store_dir.as_ref());
    let what = format!("cannot prune {}", path.display());
    let store = resolve::open_at(&path, &resolve::params_request(global)).context(what.clone())?;
    let result = prune_store(global, args, &store, &path);
    if !args.dry_run {
        resolve::remember_params(global, &store)?;
    }
    result
}

/// What a prune did or would do, beyond the plan: where it stopped and whom it left behind.
struct Outcome {
    /// How many of `plan.delete` go (or went).
    deleted: usize,
    /// The first segment a live process holds, if any, with the processes the system names.
    held: Option<(std::path::PathBuf, Vec<holders::HolderProcess>)>,
    /// Consumers left before the new earliest offset (a forced prune).
    left_behind: Vec<LeftBehind>,
}

fn prune_store(
    global: &GlobalOpts,
    args: &PruneArgs,
    store: &Store,
    path: &Path,
) -> anyhow::Result<()> {
    let what = || format!("cannot prune {}", path.display());
    // A change is planned under the recovery lock (see `queue::RecoveryLock`).
    let _recovering = match args.dry_run {
        true => None,
        false => Some(RecoveryLock::take(store.layout(), Duration::ZERO).with_context(what)?),
    };
    let (layout, params) = (store.layout(), store.params());
    let before = match args.before {
        PruneBefore::Offset(o) => o,
        // Without consumer.offset, the default consumer counts at 0 (see queue::prune).
        PruneBefore::Consumed => prune::slowest_consumer(layout).with_context(what)?.1,
        PruneBefore::Earliest => store.earliest_offset().with_context(what)?,
        PruneBefore::Latest => store.data_end().with_context(what)?,
    };
    let plan = prune::plan_prune(layout, params, before, args.force).with_context(what)?;
    // What a real run would do now: stop at the first held segment, leave these consumers.
    let first_held = prune::first_held(&plan).with_context(what)?;
    let predicted = first_held.unwrap_or(plan.delete.len());
    let left_behind = prune::left_behind(layout, params, &plan, predicted).with_context(what)?;
    let pruned = match args.dry_run {
        true => None,
        false => {
            let visible = progress::work_visible(global.json);
            let mut bar = progress::Work::new("deleting segments", Unit::Items, visible);
            let done = prune::apply_prune_with(layout, &plan, &mut |d, t| bar.update(d, t))
                .with_context(what)?;
            Some(done)
        }
    };
    let outcome = match &pruned {
        None => Outcome {
            deleted: predicted,
            held: first_held.map(|i| {
                let p = plan.delete[i].path.clone();
                let who = holders::holder_processes(&p);
                (p, who)
            }),
            left_behind,
        },
        Some(p) => Outcome {
            deleted: p.deleted.len(),
            held: p.held.clone().map(|h| {
                let who = holders::holder_processes(&h);
                (h, who)
            }),
            // A holder that came or went since the prediction changes the new earliest
            // offset: only the consumers before the real one stay listed.
            left_behind: match p.deleted.len() == predicted {
                true => left_behind,
                false => vec![],
            },
        },
    };
    if global.json {
        print_json(&plan, pruned.as_ref(), &outcome, args.dry_run)?;
    } else {
        print_text(&plan, pruned.as_ref(), &outcome, path)?;
    }
    verdict(args, store, path, &plan, &outcome)
}

/// The exit status: 5 when a live process held a segment, 6 when a consumer or the producer
/// kept one, else success; the message names each blocker and the next step.
fn verdict(
    args: &PruneArgs,
    store: &Store,
    path: &Path,
    plan: &PrunePlan,
    outcome: &Outcome,
) -> anyhow::Result<()> {
    let (did, would) = match args.dry_run {
        true => ("would delete", "would stay"),
        false => ("deleted", "stayed"),
    };
    let asked = plan.delete.len()
        + plan
            .kept
            .iter()
            .filter(|k| k.reason != KeepReason::Last)
            .count();
    if let Some((held, who)) = &outcome.held {
        let by = match who.is_empty() {
            true => "a live process (`mfq stat` names holders it can see)".to_string(),
            false => hints::processes_text(who),
        };
        let kept = plan.delete.len() - outcome.deleted;
        return Err(Exit::new(
            ExitStatus::StoreBusy,
            format!(
                "prune {did} {} of {asked} segment(s) before {}: {} is held by {by}, so it and \
                 the {} after it {would}; run prune again once the reader has moved on \
                 (--force does not override this)",
                outcome.deleted,
                plan.before,
                name_of(held),
                kept - 1,
            ),
        )
        .into());
    }
    let blockers = blockers(store, path, plan)?;
    if blockers.is_empty() {
        return Ok(());
    }
    Err(Exit::new(
        ExitStatus::Incomplete,
        format!(
            "prune {did} {} of {asked} segment(s) before {}: {}",
            outcome.deleted,
            plan.before,
            blockers.join("; ")
        ),
    )
    .into())
}

/// Why segments before the offset stay without `--force`, each with the next step.
fn blockers(store: &Store, path: &Path, plan: &PrunePlan) -> anyhow::Result<Vec<String>> {
    let mut out = vec![];
    let blocked = plan.kept.iter().any(|k| k.reason != KeepReason::Last);
    if !blocked {
        return Ok(out);
    }
    // The consumers a forced prune would leave behind are exactly the ones in the way.
    let forced = prune::plan_prune(store.layout(), store.params(), plan.before, true)?;
    let behind = prune::left_behind(store.layout(), store.params(), &forced, forced.delete.len())?;
    let store_arg = crate::cli::hints::shell_word(path);
    for c in &behind {
        let skip = match c.skipped_records {
            Some(n) => format!("skipping {n} record(s)"),
            None => format!("skipping the records before {}", c.new_earliest),
        };
        out.push(format!(
            "{} at {} has not read past the segments before {} (let it catch up, move it \
             with `mfq adjust-offset -s {store_arg} {} {}` ({skip}), or pass --force)",
            consumer_text(&c.name),
            c.offset,
            c.new_earliest,
            c.name,
            c.new_earliest,
        ));
    }
    for k in &plan.kept {
        match &k.reason {
            KeepReason::Consumer { name, offset } if !behind.iter().any(|c| &c.name == name) => {
                // Only the default consumer without an offset file gets here (it counts at 0).
                let text = format!(
                    "{} at {offset} has not read past {} (it has no offset file, so a .NET \
                     consumer would start at {offset}; --force creates the file at the new \
                     earliest offset)",
                    consumer_text(name),
                    name_of(&k.segment.path)
                );
                if !out.contains(&text) {
                    out.push(text);
                }
            }
            KeepReason::Producer { offset } => {
                let text = format!(
                    "the producer offset {offset} lies before the offset asked for: the segment \
                     that holds it and those after it stay while the producer writes there \
                     (pass --force to delete them anyway)"
                );
                if !out.contains(&text) {
                    out.push(text);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into(),
    )
}

fn name(seg: &queue::SegmentFile) -> String {
    name_of(&seg.path)
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

fn print_text(
    plan: &PrunePlan,
    pruned: Option<&Pruned>,
    outcome: &Outcome,
    store: &Path,
) -> anyhow::Result<()> {
    let store = resolve::shown_path(store);
    let mut out = std::io::stdout().lock();
    for (i, seg) in plan.delete.iter().enumerate() {
        let held_here = outcome.held.as_ref().is_some_and(|(p, _)| *p == seg.path);
        let verb = match (pruned, i < outcome.deleted) {
            (None, true) => "would delete",
            (None, false) if held_here => "would skip (held by a live process)",
            (None, false) => "would skip (after a held segment)",
            (Some(_), true) => "deleted",
            (Some(_), false) if held_here => "skipped (held by a live process)",
            (Some(_), false) => "skipped (after a held segment)",
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
                format!("it holds or follows the producer offset {offset} (--force overrides)")
            }
        };
        writeln!(out, "kept {}  ({why})", name(&k.segment))?;
    }
    let created = pruned.map_or(plan.default_consumer_created_at, |p| {
        p.default_consumer_created_at
    });
    if let Some(at) = created.filter(|_| outcome.deleted > 0) {
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
    for c in &outcome.left_behind {
        let skip = match c.skipped_records {
            Some(n) => format!("{n} record(s)"),
            None => format!("the records before {}", c.new_earliest),
        };
        let verb = match pruned {
            None => "would be left",
            Some(_) => "is left",
        };
        writeln!(
            out,
            "{} at {} {verb} before the new earliest offset {}: it would next read {}, \
             skipping {skip}, once `mfq recover` moves it there (an mfq reader refuses its \
             offset until then)",
            consumer_text(&c.name),
            c.offset,
            c.new_earliest,
            c.new_earliest,
        )?;
    }
    if plan.delete.is_empty() && plan.kept.is_empty() {
        writeln!(out, "no segment lies wholly before {}", plan.before)?;
    }
    let freed: u64 = plan.delete[..outcome.deleted].iter().map(|s| s.len).sum();
    match pruned {
        None => writeln!(
            out,
            "store {}: dry run: would delete {} segment(s), freeing {}",
            store.display(),
            outcome.deleted,
            bytes_text(freed)
        )?,
        Some(p) => writeln!(
            out,
            "store {}: deleted {} segment(s), freed {}",
            store.display(),
            p.deleted.len(),
            bytes_text(p.bytes())
        )?,
    }
    Ok(())
}

fn print_json(
    plan: &PrunePlan,
    pruned: Option<&Pruned>,
    outcome: &Outcome,
    dry_run: bool,
) -> anyhow::Result<()> {
    let value = serde_json::json!({
        "v": crate::render::json::SCHEMA_VERSION,
        "before": plan.before,
        "dry_run": dry_run,
        "plan": plan,
        "planned_bytes": plan.bytes(),
        "pruned": pruned,
        "bytes_freed": pruned.map_or(0, Pruned::bytes),
        "deleted_count": outcome.deleted,
        "held": outcome.held.as_ref().map(|(p, who)| serde_json::json!({
            "segment": p.to_string_lossy(),
            "processes": who,
        })),
        "left_behind": outcome.left_behind,
    });
    writeln!(std::io::stdout().lock(), "{value}")?;
    Ok(())
}
