//! Moving one offset by hand (`mfq adjust-offset`): resolve where to (an offset, the earliest
//! record, the data end, or N records forward or back), check that it is a record boundary
//! inside what the store holds, then rewrite the offset file in place under an exclusive
//! lock and read it back. Also creating and deleting a named consumer's offset file.
//!
//! Rules: a consumer may go anywhere in `[earliest, data end]`. The producer may never go past
//! the data end; behind the data end or behind a consumer only with `force` (the next .NET
//! producer would overwrite records, and a consumer past it would miss new ones; mfq's own
//! producer moves back up to the data end when it opens). Moving the producer below the
//! confirmed offset clamps the confirmed offset too. A named consumer must already exist
//! unless `create` is asked for (with an absolute position); the default consumer's file may be
//! created by an absolute position. A relative move that would pass the data end or the
//! earliest record is refused, or with `clamp` stopped there (the plan says by how much). Only
//! a named consumer can be deleted: the default one is what a .NET consumer reads.
//!
//! This module must not print or decide how results are shown.

use std::path::PathBuf;

use crate::queue::error::{Error, Hint, Result};
use crate::queue::format::layout::{ConsumerId, Layout, SegmentFile};
use crate::queue::format::offsets;
use crate::queue::format::params::Params;
use crate::queue::format::positions::{self, segment_bytes, Extent};
use crate::queue::format::scan::{self, Status};
use crate::queue::offline::locks::{self, RecoveryLock};

/// Which offset to move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `producer.offset` (and `producer.confirmed.offset` when it must follow).
    Producer,
    /// A consumer's offset file.
    Consumer(ConsumerId),
}

impl Target {
    /// `producer`, `consumer` or the consumer's name.
    pub fn name(&self) -> &str {
        match self {
            Target::Producer => "producer",
            Target::Consumer(id) => id.name(),
        }
    }
}

/// Where to move it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Move {
    /// This absolute offset.
    To(u64),
    /// The earliest record on disk.
    Earliest,
    /// The end of the valid data.
    Latest,
    /// This many records forward from the current offset.
    Forward(u64),
    /// This many records back from the current offset.
    Back(u64),
}

/// One offset file to rewrite.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Change {
    /// `producer`, `confirmed`, `consumer` or a consumer name.
    pub name: String,
    /// The file.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// Its value now (None: missing or unreadable).
    pub from: Option<u64>,
    /// Its value after.
    pub to: u64,
}

/// A checked adjustment, ready to show or apply.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Adjustment {
    /// The main change first, then any that follow from it (the confirmed offset).
    pub changes: Vec<Change>,
    /// A relative move that was stopped at an end of the records (only with
    /// [`AdjustOptions::clamp`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub short: Option<Shortfall>,
}

/// How an adjustment may go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AdjustOptions {
    /// Let the producer move behind records or a consumer (see the module comment).
    pub force: bool,
    /// Create a named consumer's offset file when there is none (absolute positions only).
    pub create: bool,
    /// Stop a relative move at the end it would pass instead of refusing it.
    pub clamp: bool,
}

/// A relative move (`+N`/`-N`) that asks for more records than lie between the current offset
/// and an end of the records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Shortfall {
    /// The records asked for (N).
    pub asked: u64,
    /// The records there are between the current offset and the bound.
    pub available: u64,
    /// The farthest offset the move can reach: the data end (forward), the earliest record
    /// (back), or the start of damaged data that stops the walk.
    pub bound: u64,
    /// True for a move forward (toward the data end), false for one back.
    pub forward: bool,
}

impl Shortfall {
    /// The refusal of a move without clamping, in the engine's words.
    fn refusal(&self, cur: u64) -> Error {
        let (dir, between) = match self.forward {
            true => ("forward", format!("{cur} and {}", self.bound)),
            false => ("back", format!("{} and {cur}", self.bound)),
        };
        Error::Refused {
            reason: format!(
                "cannot move {} records {dir} from {cur}: only {} records lie between {between}",
                self.asked, self.available
            ),
            hint: None,
        }
    }
}

/// A named consumer's offset file to delete.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Deletion {
    /// The consumer's name.
    pub name: String,
    /// Its offset file.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
    pub path: PathBuf,
    /// Its committed offset (None: unreadable).
    pub from: Option<u64>,
}

impl Adjustment {
    /// True when applying it changes nothing.
    pub fn is_noop(&self) -> bool {
        self.changes.iter().all(|c| c.from == Some(c.to))
    }
}

/// Resolves and checks an adjustment without changing anything (a named consumer must exist;
/// a relative move past an end of the records is refused).
pub fn plan_adjust(
    layout: &Layout,
    params: &Params,
    target: &Target,
    mv: Move,
    force: bool,
) -> Result<Adjustment> {
    let opts = AdjustOptions {
        force,
        ..AdjustOptions::default()
    };
    plan_adjust_with(layout, params, target, mv, opts)
}

/// The consumers of a store, named for an error (`none` without any).
fn known_consumers(layout: &Layout) -> Result<String> {
    let known: Vec<String> = layout
        .list_consumers()?
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    Ok(if known.is_empty() {
        "none".into()
    } else {
        known.join(", ")
    })
}

/// Resolves and checks an adjustment without changing anything, as `opts` allow.
pub fn plan_adjust_with(
    layout: &Layout,
    params: &Params,
    target: &Target,
    mv: Move,
    opts: AdjustOptions,
) -> Result<Adjustment> {
    let path = match target {
        Target::Producer => layout.producer_offset(),
        Target::Consumer(id) => layout.consumer_offset(id),
    };
    if let Target::Consumer(ConsumerId::Named(name)) = target {
        if !opts.create && std::fs::symlink_metadata(&path).is_err() {
            return Err(Error::UnknownConsumer {
                name: name.clone(),
                known: known_consumers(layout)?,
            });
        }
    }
    let current = offsets::read_offset(&path);
    let relative = matches!(mv, Move::Forward(_) | Move::Back(_));
    let from = match current {
        Ok(v) => v,
        Err(e) if relative => return Err(e),
        Err(_) => None,
    };
    let extent = Extent::read(layout, params)?;
    let segs = extent.segments();
    let earliest = extent.earliest();
    let end = extent.data_end()?;
    let mut short = None;
    let to = match mv {
        Move::To(o) => o,
        Move::Earliest => earliest,
        Move::Latest => end,
        Move::Forward(n) | Move::Back(n) => {
            let Some(cur) = from else {
                return Err(Error::Refused {
                    reason: format!(
                        "{} has no offset yet; give an absolute position, the earliest offset \
                         or the data end",
                        target.name()
                    ),
                    hint: None,
                });
            };
            extent.check_readable(cur)?;
            let (to, missing) = match mv {
                Move::Forward(_) => forward(params, segs, cur, n, end)?,
                _ => back(params, segs, cur, n)?,
            };
            if let Some(s) = missing {
                if !opts.clamp {
                    return Err(s.refusal(cur));
                }
                short = Some(s);
            }
            to
        }
    };
    extent.check_in_range(to)?;
    let mut changes = vec![Change {
        name: target.name().to_string(),
        path,
        from,
        to,
    }];
    if *target == Target::Producer {
        check_producer(layout, to, end, opts.force)?;
        let confirmed = layout.confirmed_offset();
        if let Ok(Some(c)) = offsets::read_offset(&confirmed) {
            if c > to {
                changes.push(Change {
                    name: "confirmed".into(),
                    path: confirmed,
                    from: Some(c),
                    to,
                });
            }
        }
    }
    Ok(Adjustment { changes, short })
}

/// The producer may go behind the data end or a consumer only with `force`.
fn check_producer(layout: &Layout, to: u64, end: u64, force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    if to < end {
        return Err(Error::Refused {
            reason: format!(
                "moving the producer to {to} leaves records {to}..{end} past it: a .NET \
                 producer would overwrite them (mfq's producer moves back to {end} when it opens)"
            ),
            hint: Some(Hint::Force),
        });
    }
    let consumers = offsets::read_consumers(layout)?;
    if let Some((id, k)) = consumers.into_iter().find(|(_, k)| *k > to) {
        return Err(Error::Refused {
            reason: format!(
                "consumer {id} is at {k}, past {to}: it would never see records written at \
                 {to}..{k}"
            ),
            hint: Some(Hint::Force),
        });
    }
    Ok(())
}

/// The offset `n` records after `cur`; when fewer lie before the data end (or damaged data),
/// the farthest one, with the shortfall.
fn forward(
    params: &Params,
    segs: &[SegmentFile],
    cur: u64,
    n: u64,
    end: u64,
) -> Result<(u64, Option<Shortfall>)> {
    let short = |available: u64, bound: u64| Shortfall {
        asked: n,
        available,
        bound,
        forward: true,
    };
    if let Some(m) = params.stride() {
        let to = n
            .checked_mul(m)
            .and_then(|d| cur.checked_add(d))
            .unwrap_or(u64::MAX);
        if to <= end {
            return Ok((to, None));
        }
        let have = end.saturating_sub(cur) / m;
        let bound = cur + have * m;
        return Ok((bound, Some(short(have, bound))));
    }
    let mut at = cur;
    let mut moved = 0u64;
    let mut seg = positions::segment_for(segs, cur).cloned();
    while let Some(s) = seg.take() {
        let bytes = segment_bytes(params, &s)?;
        let mut next = Some(s.start + bytes.len() as u64);
        scan::visit(params, s.start, &bytes, |e| {
            if e.status != Status::Ok {
                let clean = matches!(e.status, Status::SegmentEnd | Status::Unwritten);
                next = clean.then_some(e.offset);
                return false;
            }
            if e.offset >= at && moved < n {
                at = e.offset + e.size;
                moved += 1;
            }
            moved < n
        });
        if moved < n {
            seg = next.and_then(|start| {
                segs.iter()
                    .find(|x| x.start == start && x.start > s.start)
                    .cloned()
            });
            if let Some(s) = &seg {
                at = at.max(s.start);
            }
        }
    }
    if moved < n {
        return Ok((at, Some(short(moved, at))));
    }
    Ok((at, None))
}

/// The offset `n` records before `cur`; when fewer lie after the earliest record, the
/// earliest one reachable, with the shortfall.
fn back(
    params: &Params,
    segs: &[SegmentFile],
    cur: u64,
    n: u64,
) -> Result<(u64, Option<Shortfall>)> {
    if n == 0 {
        return Ok((cur, None));
    }
    let found = positions::last_records(params, segs, cur, n)?;
    let to = found.first().copied().unwrap_or(cur);
    if (found.len() as u64) < n {
        // The walk back reaches the earliest record unless damage stops it first.
        let short = Shortfall {
            asked: n,
            available: found.len() as u64,
            bound: to,
            forward: false,
        };
        return Ok((to, Some(short)));
    }
    Ok((to, None))
}

/// Applies an adjustment to the store at `layout`: takes the store's recovery lock (see
/// [`RecoveryLock`]; a .NET recovery under way refuses it), locks every file it changes
/// (`LOCK_EX | LOCK_NB`; held by a live process is an error unless `force`), rewrites each in
/// place and reads it back. Returns the values read back, in the order of `adj.changes`.
pub fn apply_adjust(layout: &Layout, adj: &Adjustment, force: bool) -> Result<Vec<u64>> {
    let _recovering = RecoveryLock::take(layout, std::time::Duration::ZERO)?;
    let held = locks::lock_all(adj.changes.iter().map(|c| c.path.clone()), true, force)?;
    let mut read_back = Vec::new();
    for c in &adj.changes {
        offsets::write_offset_durable(&c.path, c.to)?;
        let got = offsets::read_offset(&c.path)?;
        if got != Some(c.to) {
            return Err(Error::Refused {
                reason: format!(
                    "{} reads back {} after writing {} (a live process may have rewritten it)",
                    c.path.display(),
                    got.map_or("nothing".into(), |v| v.to_string()),
                    c.to
                ),
                hint: None,
            });
        }
        read_back.push(c.to);
    }
    drop(held);
    Ok(read_back)
}

/// Plans deleting a named consumer: checks that it is one and that its offset file exists.
/// The producer and the default consumer (which a .NET consumer reads) are refused.
pub fn plan_delete(layout: &Layout, target: &Target) -> Result<Deletion> {
    let name = match target {
        Target::Consumer(ConsumerId::Named(name)) => name.clone(),
        Target::Consumer(ConsumerId::Default) => {
            return Err(Error::Refused {
                reason: "the default consumer (offset/consumer.offset) cannot be deleted: a .NET \
                         consumer reads it; move it to a position instead"
                    .into(),
                hint: None,
            })
        }
        Target::Producer => {
            return Err(Error::Refused {
                reason: "the producer's offset cannot be deleted; only a named consumer can be"
                    .into(),
                hint: None,
            })
        }
    };
    let path = layout.consumer_offset(&ConsumerId::Named(name.clone()));
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::UnknownConsumer {
            name,
            known: known_consumers(layout)?,
        });
    }
    offsets::check_regular(&path)?;
    let from = offsets::read_offset(&path).ok().flatten();
    Ok(Deletion { name, path, from })
}

/// Deletes a planned consumer's offset file under the store's recovery lock and an exclusive
/// lock on the file (held by a live process is [`Error::Locked`] unless `force`), then syncs
/// the folder.
pub fn apply_delete(layout: &Layout, del: &Deletion, force: bool) -> Result<()> {
    let _recovering = RecoveryLock::take(layout, std::time::Duration::ZERO)?;
    let held = locks::lock_all([del.path.clone()], true, force)?;
    crate::queue::os::files::remove_regular(&del.path)?;
    drop(held);
    offsets::sync_dir(&layout.offset_dir())
}
