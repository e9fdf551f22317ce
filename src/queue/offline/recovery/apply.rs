//! Applying a [`Plan`]: take the locks, save what will be removed, then change the files in
//! an order that a rerun after a crash completes (every step is idempotent): segments first,
//! then the producer, confirmed and consumer offsets, each rewritten in place and synced.
//!
//! This module must not decide what to change; the plan does.

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::plan::{Action, Plan};
use super::{fault, journal};
use crate::queue::error::{Error, Hint, IoContext, Result};
use crate::queue::format::gaps::{self, Gap};
use crate::queue::format::infer;
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets;
use crate::queue::format::params::{self, Params, ParamsRequest, ParamsSource};
use crate::queue::offline::locks::{self, RecoveryLock};
use crate::queue::os::files::{self, How};

/// How to apply a plan.
#[derive(Clone, Debug, Default)]
pub struct ApplyOptions {
    /// Save removed bytes under this folder (None: do not save).
    pub save_to: Option<PathBuf>,
    /// Go ahead even when a live process holds files the plan changes.
    pub force: bool,
    /// Go ahead even when the plan removes bytes below the confirmed offset (its
    /// [`Plan::confirmed_loss`]); otherwise such a plan is refused with
    /// [`Error::ConfirmedLoss`] before anything changes.
    pub remove_confirmed: bool,
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

/// Files a live process holds (see `locks::is_held`) among those a plan would change.
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

/// Checks, before anything changes, that every file a plan touches is a regular file (or
/// missing): a directory or FIFO in a file's place would fail (or block) halfway through.
pub fn check_files(layout: &Layout, plan: &Plan) -> Result<()> {
    for path in touched(layout, plan) {
        offsets::check_regular(&path)?;
    }
    Ok(())
}

/// Applies a plan to the store at `layout`, under its recovery lock (see [`RecoveryLock`]; a
/// .NET recovery under way refuses it).
pub fn apply(layout: &Layout, plan: &Plan, opts: &ApplyOptions) -> Result<Applied> {
    check_files(layout, plan)?;
    if let Some(loss) = plan
        .confirmed_loss
        .as_ref()
        .filter(|_| !opts.remove_confirmed)
    {
        return Err(loss.refusal(layout.root()));
    }
    let _recovering = RecoveryLock::take(layout, std::time::Duration::ZERO)?;
    let locks = locks::lock_all(touched(layout, plan), false, opts.force)?;
    let mut applied = Applied::default();
    // Finishing an interrupted repair: its bytes were saved aside before its journal was
    // written, and some are gone already.
    let resuming = matches!(journal::read(layout)?, journal::Found::Pending(p) if &p == plan);
    if !resuming {
        if let Some(dir) = &opts.save_to {
            fault::step()?;
            save_aside(layout, plan, dir, &mut applied)?;
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
                // Gone already when a cut repair is finished.
                files::remove_regular(path)?;
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

/// One copy to make: the non-zero span `[from, to)` of a removed range.
struct Copy {
    src: PathBuf,
    from: u64,
    to: u64,
    name: String,
}

/// Saves the non-zero span of every range the plan removes into `dir`, or nothing: the space
/// is checked first, a copy that fails is removed with the rest of this run's copies (and the
/// folder, when this run made it), and no empty salvage file is left.
fn save_aside(layout: &Layout, plan: &Plan, dir: &Path, applied: &mut Applied) -> Result<()> {
    let mut copies = Vec::new();
    for removed in plan.actions.iter().filter_map(Action::removed) {
        if let Some((from, to)) = nonzero_span(removed.path, removed.from, removed.to)? {
            copies.push(Copy {
                src: removed.path.to_path_buf(),
                from,
                to,
                name: removed.salvage_name_at(from),
            });
        }
    }
    if copies.is_empty() {
        return Ok(());
    }
    let need: u64 = copies.iter().map(|c| c.to - c.from).sum();
    let free = files::free_space(dir)?;
    if need > free {
        return Err(no_room(dir, need, Some(free)));
    }
    let made = make_save_dir(layout.root(), dir)?;
    let mut saved = Vec::new();
    let mut result = Ok(());
    for c in &copies {
        let dest = dir.join(&c.name);
        match copy_range(&c.src, c.from, c.to, &dest) {
            Ok(()) => saved.push(dest),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if let Err(e) = result {
        for f in &saved {
            let _ = std::fs::remove_file(f);
        }
        if let Some(made) = made {
            let _ = std::fs::remove_dir(made);
        }
        let full = matches!(&e, Error::Io { source, .. }
            if matches!(source.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)));
        return Err(if full { no_room(dir, need, None) } else { e });
    }
    offsets::sync_dir(dir)?;
    applied.saved.extend(saved);
    Ok(())
}

fn no_room(dir: &Path, need: u64, free: Option<u64>) -> Error {
    let free = free.map_or_else(String::new, |f| format!(", {f} free"));
    Error::Refused {
        reason: format!(
            "the bytes the repair removes ({need} bytes) do not fit in {}{free}; nothing was changed",
            dir.display()
        ),
        hint: Some(Hint::SaveElsewhereOrNoSave),
    }
}

/// Makes the save folder. Inside the store (the default `mfq-salvage/<time>`) each folder is
/// made or checked one by one and a symlink among them is refused, so that copies never land
/// outside the store; a folder the operator named elsewhere is made as given. Returns the
/// outermost folder this call made, if any.
fn make_save_dir(root: &Path, dir: &Path) -> Result<Option<PathBuf>> {
    let Ok(rest) = dir.strip_prefix(root) else {
        let existed = dir.exists();
        std::fs::create_dir_all(dir).ctx("create", dir)?;
        return Ok((!existed).then(|| dir.to_path_buf()));
    };
    let mut at = root.to_path_buf();
    let mut made = None;
    for part in rest.components() {
        at.push(part);
        let existed = std::fs::symlink_metadata(&at).is_ok();
        files::ensure_dir(&at)?;
        if !existed && made.is_none() {
            made = Some(at.clone());
        }
    }
    Ok(made)
}

/// The span from the first to the last non-zero byte of `[from, to)` of `src` (clipped to its
/// length; `None`: to its end), or `None` when it is all zeros.
fn nonzero_span(src: &Path, from: u64, to: Option<u64>) -> Result<Option<(u64, u64)>> {
    let input = files::open_in_store(src, How::Read)?;
    let len = input.metadata().ctx("stat", src)?.len();
    let end = to.map_or(len, |t| t.min(len));
    let mut buf = vec![0u8; 1 << 16];
    let (mut first, mut last) = (None, 0);
    let mut pos = from.min(end);
    while pos < end {
        let n = ((end - pos) as usize).min(buf.len());
        input.read_exact_at(&mut buf[..n], pos).ctx("read", src)?;
        if let Some(i) = buf[..n].iter().position(|&b| b != 0) {
            first.get_or_insert(pos + i as u64);
            let j = buf[..n].iter().rposition(|&b| b != 0).unwrap_or(i);
            last = pos + j as u64 + 1;
        }
        pos += n as u64;
    }
    Ok(first.map(|f| (f, last)))
}

/// Copies `[from, to)` of `src` into a new file `dest` (an existing one is an error, and a
/// symlink is never followed) with at most the source's permissions, and syncs it.
fn copy_range(src: &Path, from: u64, to: u64, dest: &Path) -> Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    use std::os::unix::fs::PermissionsExt;
    let mut input = files::open_in_store(src, How::Read)?;
    let mode = input.metadata().ctx("stat", src)?.permissions().mode() & 0o777;
    input.seek(SeekFrom::Start(from)).ctx("read", src)?;
    // Never over an earlier repair's saved bytes (a reused --save-to folder): fail first.
    let mut output = files::open_in_store(dest, How::CreateNew { mode })?;
    let copied = std::io::copy(&mut input.take(to - from), &mut output)
        .and_then(|_| output.sync_all())
        .ctx("write", dest);
    if copied.is_err() {
        // A partial copy is worth nothing, and this call made the file.
        drop(output);
        let _ = std::fs::remove_file(dest);
    }
    copied
}

/// Cuts a file back to `len` bytes (a no-op when it is not longer) and syncs it.
fn trim(path: &Path, len: u64) -> Result<()> {
    let f = files::open_in_store(path, How::ReadWrite)?;
    if f.metadata().ctx("stat", path)?.len() > len {
        f.set_len(len).ctx("truncate", path)?;
        f.sync_all().ctx("sync", path)?;
    }
    Ok(())
}

/// Zeroes `[from, to)` of a file (clipped to its length) and syncs it.
fn zero(path: &Path, from: u64, to: u64) -> Result<()> {
    let f = files::open_in_store(path, How::ReadWrite)?;
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
