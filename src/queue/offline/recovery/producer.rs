//! The producer's own repair at open, after a crash: the same policy as `mfq recover`,
//! restricted to what a producer owns (its offsets and the tail past the valid data), reading
//! consumer offsets only so that it never moves behind one. Removed records are saved under
//! `mfq-salvage/` in the store first.
//!
//! This module must not change consumer offset files.

use serde::Serialize;

use super::{apply, inspect::inspect, plan, Action, ApplyOptions, Depth};
use crate::queue::error::Result;
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets::OffsetFile;
use crate::queue::format::params::{Params, ParamsSource};

/// What a producer's open-time repair changed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Repair {
    /// The actions taken (empty after a clean shutdown).
    pub actions: Vec<Action>,
    /// Where removed bytes were saved.
    #[serde(serialize_with = "crate::queue::format::layout::lossy::paths")]
    pub saved: Vec<std::path::PathBuf>,
}

/// Repairs the tail and the producer's offsets; the caller holds both offset files locked.
pub(crate) fn repair_for_producer(
    layout: &Layout,
    params: &Params,
    producer: &OffsetFile,
    confirmed: &OffsetFile,
) -> Result<Repair> {
    let mut report = inspect(layout, params, ParamsSource::Explicit, Depth::Tail)?;
    if let Some(pending) = report.pending.take() {
        // An interrupted repair is finished first, whole: it is this store's own plan, and
        // planning anew over a half-applied store could decide differently.
        let opts = ApplyOptions {
            save_to: None,
            force: true,
            remove_confirmed: true,
        };
        apply::apply(layout, &pending, &opts)?;
        report = inspect(layout, params, ParamsSource::Explicit, Depth::Tail)?;
    }
    let plan = plan::plan(&report, false);
    if plan.is_empty() {
        return Ok(Repair::default());
    }
    // Removing confirmed messages is the operator's decision, made with `recover`'s dry run
    // in hand, never a side effect of starting a producer.
    if let Some(loss) = &plan.confirmed_loss {
        return Err(loss.refusal(layout.root()));
    }
    let segment_plan = plan::Plan {
        actions: plan
            .actions
            .iter()
            .filter(|a| {
                matches!(
                    a,
                    Action::ZeroTail { .. }
                        | Action::RemoveSegment { .. }
                        | Action::RecordGaps { .. }
                )
            })
            .cloned()
            .collect(),
        producer_offset: plan.producer_offset,
        confirmed_loss: None,
    };
    let save_to = segment_plan
        .removes_records()
        .then(|| super::salvage_dir(layout.root()));
    let applied = apply::apply(
        layout,
        &segment_plan,
        &ApplyOptions {
            save_to,
            force: true,
            remove_confirmed: false,
        },
    )?;
    for a in &plan.actions {
        match a {
            Action::SetProducer { to, .. } => {
                producer.set(*to);
                producer.sync()?;
            }
            Action::SetConfirmed { to, .. } => {
                confirmed.set(*to);
                confirmed.sync()?;
            }
            _ => {}
        }
    }
    Ok(Repair {
        actions: plan.actions,
        saved: applied.saved,
    })
}
