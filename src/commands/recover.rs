//! `mfq recover`: inspects a store, prints the issues and the repair plan in words, and
//! applies the plan (unless `--dry-run` or `--check`), saving removed bytes aside first.
//!
//! Exit statuses: `--check` exits 4 when a repair is needed and 0 when none is; a repair
//! that leaves issues needing repair exits 4; a live process holding a file the plan
//! changes exits 5 unless `--force`. The policy itself lives in `queue::recovery`.
//!
//! This file must not decide what to repair; it renders the engine's report and plan.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use mfq::queue::recovery::{self, Applied, ApplyOptions, Severity};
use mfq::queue::{ConsumerId, Plan, RecoveryLock, Report, Store};

use super::{actions, resolve};
use crate::cli::{hints, GlobalOpts, RecoverArgs};
use crate::exit::{Exit, ExitStatus};
use crate::render::progress;

/// Runs `mfq recover`.
pub fn run(global: &GlobalOpts, args: &RecoverArgs) -> anyhow::Result<()> {
    let path = resolve::store_path(global, args.store_dir.as_ref());
    let what = format!("cannot recover {}", path.display());
    let store = resolve::open_at(&path, &resolve::params_request(global)).context(what.clone())?;
    recover(global, args, &store).context(what)
}

fn recover(global: &GlobalOpts, args: &RecoverArgs, store: &Store) -> anyhow::Result<()> {
    // A repair is planned under the recovery lock (see `queue::RecoveryLock`).
    let _recovering = match args.check || args.dry_run {
        true => None,
        false => Some(RecoveryLock::take(store.layout(), Duration::ZERO)?),
    };
    let report = inspect(global, store, "checking records")?;
    let plan = recovery::plan(&report, true);
    let save_to = (!args.no_save).then(|| {
        args.save_to
            .clone()
            .unwrap_or_else(|| store.default_salvage_dir())
    });
    let only_show = args.check || args.dry_run || plan.is_empty();
    if let Some(blocker) = report.blocker().filter(|_| !only_show) {
        let mut out = std::io::stdout().lock();
        write_refused(&mut out, global, &report, &plan, None)?;
        let path = blocker.path.as_deref().unwrap_or(store.path());
        return Err(Exit::new(
            ExitStatus::Corruption,
            format!(
                "nothing changed: {} must be moved out of the way first (see the issues above)",
                path.display()
            ),
        )
        .into());
    }
    if !only_show {
        let held = recovery::held_files(store.layout(), &plan)?;
        if !held.is_empty() && !args.force {
            return Err(Exit::new(
                ExitStatus::StoreBusy,
                format!(
                    "{} held by a live process; stop it first, or pass --force",
                    hints::held_files_text(&held)
                ),
            )
            .into());
        }
    }
    let mut out = std::io::stdout().lock();
    if only_show {
        // Nothing to repair, yet the store may open only with the parameters given here: they
        // are recorded so that the next command opens it without them.
        let recorded = match args.check || args.dry_run {
            true => None,
            false => {
                recovery::keep_params_known(store.layout(), store.params(), store.params_source())?
            }
        };
        if global.json {
            let value = serde_json::json!({
                "v": crate::render::json::SCHEMA_VERSION,
                "report": report, "plan": plan, "applied": null,
                "needs_repair": report.needs_repair(), "params_recorded": recorded,
            });
            writeln!(out, "{value}")?;
        } else {
            write_report(&mut out, &report)?;
            if !args.check {
                write_plan(&mut out, &plan, save_to.as_deref())?;
            }
            if args.dry_run && !plan.is_empty() {
                writeln!(out, "dry run: nothing changed")?;
            }
            if let Some(p) = &recorded {
                writeln!(out, "{}", recorded_line(p))?;
            }
        }
        return match report.needs_repair() {
            true if args.check => Err(Exit::silent(ExitStatus::Corruption).into()),
            // Issues the plan has no action for (see the report): only the user can fix them.
            true if !args.dry_run => Err(Exit::new(
                ExitStatus::Corruption,
                "the store needs a repair that recover cannot make (see the issues above)",
            )
            .into()),
            _ => Ok(()),
        };
    }
    if let Some(loss) = plan.confirmed_loss.as_ref().filter(|_| !args.force) {
        recovery::check_files(store.layout(), &plan)?;
        // Shown first, so that the refusal below names records the operator can see.
        write_refused(&mut out, global, &report, &plan, Some(save_to.as_deref()))?;
        return Err(loss.refusal(store.path()).into());
    }
    let opts = ApplyOptions {
        save_to: save_to.clone(),
        force: args.force,
        remove_confirmed: args.force,
    };
    let mut applied = recovery::apply(store.layout(), &plan, &opts)?;
    applied.params_recorded =
        recovery::keep_params_known(store.layout(), store.params(), store.params_source())?;
    let after = inspect(global, store, "checking the repair")?;
    if global.json {
        let value = serde_json::json!({
            "v": crate::render::json::SCHEMA_VERSION,
            "report": report, "plan": plan, "applied": applied,
            "after": { "needs_repair": after.needs_repair(), "issues": after.issues },
        });
        writeln!(out, "{value}")?;
    } else {
        write_report(&mut out, &report)?;
        write_plan(&mut out, &plan, save_to.as_deref())?;
        write_applied(&mut out, &applied, &after)?;
    }
    if after.needs_repair() {
        return Err(Exit::new(
            ExitStatus::Corruption,
            "the store still needs a repair after recovering (see the issues above)",
        )
        .into());
    }
    Ok(())
}

/// What a refused repair shows before its error: the report (and, with `plan_to`, the plan
/// that would save to it), or both as JSON.
fn write_refused(
    out: &mut impl Write,
    global: &GlobalOpts,
    report: &Report,
    plan: &Plan,
    plan_to: Option<Option<&Path>>,
) -> anyhow::Result<()> {
    if global.json {
        let value = serde_json::json!({
            "v": crate::render::json::SCHEMA_VERSION,
            "report": report, "plan": plan, "applied": null, "needs_repair": true,
        });
        writeln!(out, "{value}")?;
        return Ok(());
    }
    write_report(out, report)?;
    if let Some(save_to) = plan_to {
        write_plan(out, plan, save_to)?;
    }
    Ok(())
}

fn write_report(out: &mut impl Write, r: &Report) -> anyhow::Result<()> {
    let params = match r.record_size {
        Some(p) => format!("fixed, record size {p}"),
        None => "stream".to_string(),
    };
    writeln!(
        out,
        "store {} ({params}, segment size {})",
        r.path.display(),
        r.segment_size
    )?;
    if r.issues.is_empty() {
        writeln!(out, "no issues found")?;
        return Ok(());
    }
    writeln!(out, "issues:")?;
    let default_consumer = r
        .consumers
        .iter()
        .find(|c| c.id == ConsumerId::Default)
        .and_then(|c| c.offset);
    for i in &r.issues {
        let sev = match i.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Repair => "repair",
        };
        let file = i
            .path
            .as_ref()
            .map_or(String::new(), |p| format!(" ({})", p.display()));
        writeln!(out, "  {sev:<8} {}{file}", i.message)?;
        if let Some(h) = hints::issue_hint(i, default_consumer) {
            writeln!(out, "  {:<8} hint: {h}", "")?;
        }
    }
    Ok(())
}

fn write_plan(out: &mut impl Write, plan: &Plan, save_to: Option<&Path>) -> anyhow::Result<()> {
    if plan.is_empty() {
        writeln!(out, "nothing to repair")?;
        return Ok(());
    }
    writeln!(out, "plan:")?;
    for a in &plan.actions {
        writeln!(out, "  {}", actions::describe(a, save_to))?;
    }
    if let Some(l) = &plan.confirmed_loss {
        writeln!(
            out,
            "  this removes confirmed messages: bytes {}..{} lie below the confirmed offset {} \
             ({} complete records counted up to the first damage, more may follow it); only \
             with --force",
            l.from, l.to, l.confirmed, l.records
        )?;
    }
    Ok(())
}

fn write_applied(out: &mut impl Write, applied: &Applied, after: &Report) -> anyhow::Result<()> {
    writeln!(out, "applied {} change(s)", applied.actions)?;
    for p in &applied.saved {
        writeln!(out, "saved removed bytes to {}", p.display())?;
    }
    if let Some(p) = &applied.params_recorded {
        writeln!(out, "{}", recorded_line(p))?;
    }
    if after.needs_repair() {
        writeln!(out, "the store still needs a repair:")?;
        for i in after
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Repair)
        {
            writeln!(out, "  {}", i.message)?;
        }
    } else {
        writeln!(out, "the store is now consistent")?;
    }
    Ok(())
}

fn recorded_line(meta: &Path) -> String {
    format!(
        "recorded the parameters in {}: the files alone do not show them",
        meta.display()
    )
}

/// The full inspection, with a progress bar on a terminal when it takes more than a second.
fn inspect(global: &GlobalOpts, store: &Store, what: &str) -> anyhow::Result<Report> {
    let visible = progress::work_visible(global.json);
    let mut bar = progress::Work::new(what, progress::Unit::Bytes, visible);
    Ok(store.inspect_with_progress(&mut |done, total| bar.update(done, total))?)
}
