//! Applying a [`Plan`]: take the locks, save what will be removed, then change the files in
//! an order that a rerun after a crash completes (every step is idempotent): segments first,
//! then the producer, confirmed and consumer offsets, each rewritten in place and synced.
//!
//! This module must not decide what to change; the plan does.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::plan::{Action, Plan};
use super::{fault, journal};
use crate::queue::error::{Error, IoContext, Result};
use crate::queue::format::gaps::{self, Gap};
use crate::queue::format::infer;
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets;
use crate::queue::format::params::{self, Params, ParamsRequest, ParamsSource};
use crate::queue::offline::locks;

/// How to apply a plan.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Save removed bytes under this folder (None: do not save).
    pub save_to: Option<PathBuf>,
    /// Go ahead even when a live process holds files the plan changes.
    pub force: bool,
}

/// What an application did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Applied {
    /// Files written into the save folder.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::paths")]
    pub saved: Vec<PathBuf>,
    /// Actions carried out.
    pub actions: usize,
    /// `mfq.json`, when the repair left files that no longer show the store's parameters and
    /// they were recorded there (see [`keep_params_known`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[serde(serialize_with = "crate::queue::format::layout::lossy::opt_path")]
    pub params_recorded: Option<PathBuf>,
}

/// After a repair: when the files alone no longer show the parameters the repair used (it
/// emptied or removed the segments inference reads), records them in `mfq.json` so that every
/// command still opens the store; the .NET libraries ignore that file. A store whose files
/// still show them is left without one. Returns the file's path when it was written.
pub fn keep_params_known(
    layout: &Layout,
    params: &Params,
    source: ParamsSource,
) -> Result<Option<PathBuf>> {
    if source == ParamsSource::Metadata {
        return Ok(None);
    }
    let same = ParamsRequest {
        format: Some(params.format()),
        record_size: params.record_size(),
        segment_size: Some(params.segment_size()),
    };
    let shown = infer::infer(layout, &ParamsRequest::default());
    if shown.is_ok_and(|found| same.check_against(&found).is_ok()) {
        return Ok(None);
    }
    let path = layout.meta();
    params::write_meta(&path, params)?;
    offsets::sync_dir(layout.root())?;
    Ok(Some(path))
}

/// A new folder name for the bytes a repair removes: `<store>/mfq-salvage/<unix time>`, with a
/// `-N` suffix when an earlier repair in the same second used that name.
pub fn salvage_dir(root: &Path) -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = root.join("mfq-salvage");
    let mut dir = base.join(stamp.to_string());
    let mut n = 1;
    while dir.exists() {
        n += 1;
        dir = base.join(format!("{stamp}-{n}"));
    }
    dir
}

/// Files whose flock shows a live holder among those a plan would change.
pub fn held_files(layout: &Layout, plan: &Plan) -> Result<Vec<PathBuf>> {
    let mut held = Vec::new();
    for path in touched(layout, plan) {
        if locks::is_held(&path)? {
            held.push(path);
        }
    }
    Ok(held)
}

fn touched(layout: &Layout, plan: &Plan) -> Vec<PathBuf> {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::RecordGaps { .. } => layout.gaps(),
            Action::SetProducer { .. } => layout.producer_offset(),
            Action::SetConfirmed { .. } => layout.confirmed_offset(),
            Action::SetConsumer { id, .. } => layout.consumer_offset(id),
            Action::ZeroTail { path, .. }
            | Action::TrimSegment { path, .. }
            | Action::RemoveSegment { path, .. } => path.clone(),
        })
        .collect()
}

/// Applies a plan to the store at `layout`.
pub fn apply(layout: &Layout, plan: &Plan, opts: &ApplyOptions) -> Result<Applied> {
    // Nothing changes unless every file can be: a directory or FIFO in a file's place would
    // fail (or block) halfway through.
    for path in touched(layout, plan) {
        offsets::check_regular(&path)?;
    }
    let locks = locks::lock_all(touched(layout, plan), false, opts.force)?;
    let mut applied = Applied::default();
    // Finishing an interrupted repair: its bytes were saved aside before its journal was
    // written, and some are gone already.
    let resuming = matches!(journal::read(layout)?, journal::Found::Pending(p) if &p == plan);
    if !resuming {
        if let Some(dir) = &opts.save_to {
            fault::step()?;
            save_aside(plan, dir, &mut applied)?;
        }
        if !plan.is_empty() {
            fault::step()?;
            journal::write(layout, plan)?;
        }
    }
    // Offsets first, then bytes: the offsets carry the plan's decision (where the data ends,
    // where each consumer goes), so a repair cut short after them is finished by a rerun that
    // reaches the same decision. Bytes first would let a rerun read a half-removed chain as a
    // gap left on purpose, and keep segments that the plan removes.
    for action in plan.actions.iter().filter(|a| a.removed().is_none()) {
        fault::step()?;
        match action {
            Action::RecordGaps { gaps: list } => {
                let list: Vec<Gap> = list.iter().map(|&(from, to)| Gap { from, to }).collect();
                gaps::write(layout, &list)?
            }
            Action::SetProducer { to, .. } => {
                offsets::write_offset_durable(&layout.producer_offset(), *to)?
            }
            Action::SetConfirmed { to, .. } => {
                offsets::write_offset_durable(&layout.confirmed_offset(), *to)?
            }
            Action::SetConsumer { id, to, .. } => {
                offsets::write_offset_durable(&layout.consumer_offset(id), *to)?
            }
            _ => continue,
        }
        applied.actions += 1;
    }
    for action in plan.actions.iter().filter(|a| a.removed().is_some()) {
        fault::step()?;
        match action {
            Action::ZeroTail {
                path,
                from_pos,
                to_pos,
                ..
            } => zero(path, *from_pos, *to_pos)?,
            Action::TrimSegment { path, to_len, .. } => trim(path, *to_len)?,
            Action::RemoveSegment { path, .. } => {
                match std::fs::remove_file(path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(Error::io("remove", path, e))
                    }
                    _ => {}
                }
                offsets::sync_dir(&layout.commitlog())?;
            }
            _ => continue,
        }
        applied.actions += 1;
    }
    fault::step()?;
    journal::clear(layout)?;
    drop(locks);
    Ok(applied)
}

fn save_aside(plan: &Plan, dir: &Path, applied: &mut Applied) -> Result<()> {
    let mut made = false;
    for removed in plan.actions.iter().filter_map(Action::removed) {
        if !made {
            std::fs::create_dir_all(dir).ctx("create", dir)?;
            made = true;
        }
        let dest = dir.join(&removed.salvage_name);
        copy_range(removed.path, removed.from, removed.to, &dest)?;
        applied.saved.push(dest);
    }
    if made {
        offsets::sync_dir(dir)?;
    }
    Ok(())
}

/// Copies `[from, to)` of `src` (clipped to its length; `None`: to its end) into a new file
/// `dest` (an existing one is an error), streaming, and syncs it.
fn copy_range(src: &Path, from: u64, to: Option<u64>, dest: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut input = File::open(src).ctx("open", src)?;
    let len = input.metadata().ctx("stat", src)?.len();
    let end = to.map_or(len, |t| t.min(len));
    let start = from.min(end);
    input.seek(SeekFrom::Start(start)).ctx("read", src)?;
    // Never over an earlier repair's saved bytes (a reused --save-to folder): fail first.
    let mut output = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dest)
        .ctx("create", dest)?;
    std::io::copy(&mut input.take(end - start), &mut output).ctx("write", dest)?;
    output.sync_all().ctx("sync", dest)
}

/// Cuts a file back to `len` bytes (a no-op when it is not longer) and syncs it.
fn trim(path: &Path, len: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .ctx("open", path)?;
    if f.metadata().ctx("stat", path)?.len() > len {
        f.set_len(len).ctx("truncate", path)?;
        f.sync_all().ctx("sync", path)?;
    }
    Ok(())
}

/// Zeroes `[from, to)` of a file (clipped to its length) and syncs it.
fn zero(path: &Path, from: u64, to: u64) -> Result<()> {
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .ctx("open", path)?;
    let len = f.metadata().ctx("stat", path)?.len();
    let to = to.min(len);
    let chunk = vec![0u8; 1 << 16];
    let mut pos = from;
    while pos < to {
        let n = ((to - pos) as usize).min(chunk.len());
        f.write_all_at(&chunk[..n], pos).ctx("write", path)?;
        pos += n as u64;
    }
    f.sync_data().ctx("sync", path)
}
