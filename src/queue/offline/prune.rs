//! Deleting old segment files (`mfq prune`): a [`PrunePlan`] says which whole segments lie
//! before an offset and which of those must stay, and [`apply_prune`] unlinks them oldest
//! first under an exclusive lock each, skipping files a live process holds.
//!
//! A segment ends where the next one starts (stream) or at `start + span` (fixed); it may go
//! when its end is at or before the requested offset. Without `force` the slowest consumer
//! (default and named) and the producer bound it too: the segment holding the slowest consumer
//! offset and the one holding the producer offset (or the data end, if lower) stay. The last
//! segment always stays, even with `force`, so the store keeps its position.
//!
//! A store without `offset/consumer.offset` has a default consumer all the same: a .NET
//! process that opens it creates that file at offset 0 and starts there. So the missing file
//! counts as the default consumer at offset 0, and a forced prune that deletes segments writes
//! `consumer.offset` at the new earliest offset (before it deletes anything), so that a .NET
//! process opens the pruned store cleanly instead of creating it at 0, in a deleted segment.
//!
//! A prune falls short of what was asked when a consumer or the producer keeps a segment
//! ([`KeepReason::Consumer`], [`KeepReason::Producer`]) or a live process holds one
//! ([`first_held`], [`Pruned::held`]); the last segment staying is not a shortfall. A forced
//! prune can leave consumers before the new earliest offset ([`left_behind`]).
//!
//! This module must not print or decide how results are shown.

use serde::Serialize;

use crate::queue::error::Result;
use crate::queue::format::layout::{ConsumerId, Layout, SegmentFile};
use crate::queue::format::offsets;
use crate::queue::format::params::Params;
use crate::queue::format::positions::Extent;
use crate::queue::offline::locks::{self, RecoveryLock, Taken};

/// Why a segment before the requested offset stays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum KeepReason {
    /// It is the last segment.
    Last,
    /// A consumer has not read past it yet.
    Consumer {
        /// The consumer's name.
        name: String,
        /// Its committed offset.
        offset: u64,
    },
    /// It holds the producer offset or the data end.
    Producer {
        /// The lower of the producer offset and the data end.
        offset: u64,
    },
}

/// A segment that stays, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Kept {
    /// The segment.
    pub segment: SegmentFile,
    /// Why.
    #[serde(flatten)]
    pub reason: KeepReason,
}

/// What a prune would delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PrunePlan {
    /// The offset asked for.
    pub before: u64,
    /// Segments to delete, oldest first.
    pub delete: Vec<SegmentFile>,
    /// Segments that lie before `before` but stay.
    pub kept: Vec<Kept>,
    /// The offset `offset/consumer.offset` is created at, when it is missing and segments are
    /// deleted: the new earliest offset (see the module comment).
    pub default_consumer_created_at: Option<u64>,
}

impl PrunePlan {
    /// Bytes the deletions free.
    pub fn bytes(&self) -> u64 {
        self.delete.iter().map(|s| s.len).sum()
    }
}

/// What a prune did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Pruned {
    /// Segments deleted.
    pub deleted: Vec<SegmentFile>,
    /// Segments left in place: the first one a live process held and every later one (so
    /// that the store stays contiguous).
    pub skipped: Vec<SegmentFile>,
    /// The segment a live process held, if any.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::opt_path")]
    pub held: Option<std::path::PathBuf>,
    /// The offset `offset/consumer.offset` was created at, if it was missing (see the module
    /// comment).
    pub default_consumer_created_at: Option<u64>,
}

impl Pruned {
    /// Bytes freed.
    pub fn bytes(&self) -> u64 {
        self.deleted.iter().map(|s| s.len).sum()
    }
}

/// The slowest consumer (name, committed offset). The default consumer always exists: without
/// its offset file it is at offset 0, where a .NET consumer would start.
pub fn slowest_consumer(layout: &Layout) -> Result<(String, u64)> {
    let slowest = slowest_of(with_default(offsets::read_consumers(layout)?));
    Ok(slowest.unwrap_or_else(|| (ConsumerId::Default.name().to_string(), 0)))
}

/// The consumers with offset files, and the default consumer at 0 when its file is missing.
fn with_default(mut consumers: Vec<(ConsumerId, u64)>) -> Vec<(ConsumerId, u64)> {
    if !consumers.iter().any(|(id, _)| *id == ConsumerId::Default) {
        consumers.push((ConsumerId::Default, 0));
    }
    consumers
}

fn slowest_of(consumers: Vec<(ConsumerId, u64)>) -> Option<(String, u64)> {
    consumers
        .into_iter()
        .min_by_key(|(_, k)| *k)
        .map(|(id, k)| (id.name().to_string(), k))
}

/// Plans the deletion of every segment that lies wholly before `before`.
pub fn plan_prune(layout: &Layout, params: &Params, before: u64, force: bool) -> Result<PrunePlan> {
    // An unreadable producer offset stops the plan: the records it protects are unknown.
    let producer = offsets::read_offset(&layout.producer_offset())?;
    let consumers = offsets::read_consumers(layout)?;
    let max_consumer = consumers.iter().map(|(_, k)| *k).max();
    let default_missing = !consumers.iter().any(|(id, _)| *id == ConsumerId::Default);
    let consumers = with_default(consumers);
    let extent = Extent::from_parts(*params, layout.list_segments()?.0, producer, max_consumer);
    let segs = extent.segments();
    let slowest = slowest_of(consumers);
    let end = extent.data_end()?;
    let producer = producer.map_or(end, |p| p.min(end));
    let mut plan = PrunePlan {
        before,
        delete: vec![],
        kept: vec![],
        default_consumer_created_at: None,
    };
    for (i, seg) in segs.iter().enumerate() {
        let seg_end = match params.stride() {
            Some(_) => seg.start + params.span(),
            None => segs
                .get(i + 1)
                .map_or(end.max(seg.start + 1), |next| next.start),
        };
        if seg_end > before {
            break;
        }
        let reason = if i + 1 == segs.len() {
            Some(KeepReason::Last)
        } else if force {
            None
        } else if let Some((name, k)) = slowest.as_ref().filter(|(_, k)| seg_end > *k) {
            Some(KeepReason::Consumer {
                name: name.clone(),
                offset: *k,
            })
        } else if seg_end > producer {
            Some(KeepReason::Producer { offset: producer })
        } else {
            None
        };
        match reason {
            Some(reason) => plan.kept.push(Kept {
                segment: seg.clone(),
                reason,
            }),
            None => plan.delete.push(seg.clone()),
        }
    }
    // Deleted segments are a prefix of `segs`, and the last segment always stays.
    if default_missing && !plan.delete.is_empty() {
        plan.default_consumer_created_at = segs.get(plan.delete.len()).map(|s| s.start);
    }
    Ok(plan)
}

/// Most record bytes read to count a stream consumer's skipped records (fixed stores count by
/// arithmetic); past it the count is unknown.
const COUNT_BUDGET: u64 = 64 << 20;
/// Most segment files read to count a stream consumer's skipped records.
const COUNT_SEGMENTS: u32 = 256;

/// A consumer that a prune leaves before the new earliest offset (only a forced prune does).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LeftBehind {
    /// The consumer's name (`consumer` for the default one).
    pub name: String,
    /// Its committed offset, inside a deleted segment.
    pub offset: u64,
    /// The new earliest offset: where a reader of it goes on (recovery moves it there).
    pub new_earliest: u64,
    /// The records from `offset` up to `new_earliest` it never read; `None` when they could
    /// not be counted (damaged or unreadable stream data, or more than 64 MiB or 256 segment
    /// files of it).
    pub skipped_records: Option<u64>,
}

/// The index in `plan.delete` of the first segment a live process holds (a probe, which takes
/// nothing that stays): the one a real run would stop at. `None` when none is held.
pub fn first_held(plan: &PrunePlan) -> Result<Option<usize>> {
    for (i, seg) in plan.delete.iter().enumerate() {
        if locks::is_held(&seg.path)? {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// The consumers a prune that deletes the first `deleted` segments of `plan.delete` leaves
/// before the new earliest offset, with the records they skip. Call it before the deletion
/// (it reads the records to count them). A missing default consumer file is not listed: the
/// prune creates it at the new earliest offset.
pub fn left_behind(
    layout: &Layout,
    params: &Params,
    plan: &PrunePlan,
    deleted: usize,
) -> Result<Vec<LeftBehind>> {
    if deleted == 0 {
        return Ok(vec![]);
    }
    let segs = layout.list_segments()?.0;
    let Some(new_earliest) = plan
        .delete
        .get(deleted - 1)
        .and_then(|last| segs.iter().find(|s| s.start > last.start))
        .map(|s| s.start)
    else {
        return Ok(vec![]);
    };
    let mut out = vec![];
    for (id, offset) in offsets::read_consumers(layout)? {
        if offset >= new_earliest {
            continue;
        }
        let (count, exact) = crate::queue::format::positions::count_records(
            params,
            &segs,
            offset,
            new_earliest,
            COUNT_BUDGET,
            COUNT_SEGMENTS,
        );
        out.push(LeftBehind {
            name: id.name().to_string(),
            offset,
            new_earliest,
            skipped_records: exact.then_some(count),
        });
    }
    out.sort_by(|a, b| (a.offset, &a.name).cmp(&(b.offset, &b.name)));
    Ok(out)
}

/// Deletes the planned segments oldest first, under the store's recovery lock (see
/// [`RecoveryLock`]; a .NET recovery under way refuses it) and each under
/// `LOCK_EX | LOCK_NB`. The first one a live process holds stops the deletion, even when
/// forced (a reader is inside it): it and the later ones are skipped, so the store never gets
/// a hole. Syncs `commitlog/` afterwards.
pub fn apply_prune(layout: &Layout, plan: &PrunePlan) -> Result<Pruned> {
    apply_prune_with(layout, plan, &mut |_, _| {})
}

/// [`apply_prune`], reporting progress to `progress(done, total)` in segments, after each one
/// (deleted or skipped); the last call has `done == total`.
pub fn apply_prune_with(
    layout: &Layout,
    plan: &PrunePlan,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Pruned> {
    let _recovering = RecoveryLock::take(layout, std::time::Duration::ZERO)?;
    let mut out = Pruned::default();
    let total = plan.delete.len() as u64;
    for (i, seg) in plan.delete.iter().enumerate() {
        let _report = Report {
            progress: &mut *progress,
            done: i as u64 + 1,
            total,
        };
        if out.held.is_some() {
            out.skipped.push(seg.clone());
            continue;
        }
        let _lock = match locks::take(&seg.path, false)? {
            Taken::Locked(f) => f,
            Taken::Missing => continue,
            Taken::Held => {
                out.held = Some(seg.path.clone());
                out.skipped.push(seg.clone());
                continue;
            }
        };
        if let Some(at) = plan
            .default_consumer_created_at
            .filter(|_| out.deleted.is_empty())
        {
            // Before the first deletion, so that no crash leaves the store without it.
            let file = layout.consumer_offset(&ConsumerId::Default);
            if offsets::read_offset(&file)?.is_none() {
                offsets::write_offset_durable(&file, at)?;
                out.default_consumer_created_at = Some(at);
            }
        }
        crate::queue::os::files::remove_regular(&seg.path)?;
        out.deleted.push(seg.clone());
    }
    if !out.deleted.is_empty() {
        offsets::sync_dir(&layout.commitlog())?;
    }
    Ok(out)
}

/// Reports one step of progress when dropped, so that every path out of a loop turn counts.
struct Report<'a> {
    progress: &'a mut dyn FnMut(u64, u64),
    done: u64,
    total: u64,
}

impl Drop for Report<'_> {
    fn drop(&mut self) {
        (self.progress)(self.done, self.total);
    }
}
