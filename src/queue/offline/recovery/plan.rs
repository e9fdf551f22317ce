//! Turning a [`Report`] into a [`Plan`]: pure data, computed without touching the disk, so that
//! it can be shown before it is applied. The policy is described in `recovery/mod.rs`.
//!
//! This module must not read or write files.

use std::path::PathBuf;

use serde::Serialize;

use super::Report;
use crate::queue::format::layout::ConsumerId;

/// One change a repair makes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Record the gaps a repair left or stepped over in `mfq.gaps` (the whole new list).
    RecordGaps {
        /// Every gap `[from, to)` to record.
        gaps: Vec<(u64, u64)>,
    },
    /// Rewrite `producer.offset`.
    SetProducer {
        /// Old value (None: missing or unreadable).
        from: Option<u64>,
        /// New value.
        to: u64,
    },
    /// Rewrite `producer.confirmed.offset`.
    SetConfirmed {
        /// Old value.
        from: Option<u64>,
        /// New value.
        to: u64,
    },
    /// Rewrite a consumer's offset file.
    SetConsumer {
        /// Consumer name.
        name: String,
        /// Identity.
        #[serde(skip)]
        id: ConsumerId,
        /// Old value.
        from: Option<u64>,
        /// New value.
        to: u64,
        /// Records the consumer will never see (their segment is gone).
        #[serde(skip_serializing_if = "Option::is_none")]
        lost: Option<(u64, u64)>,
    },
    /// Zero the bytes of a segment from a position to its end (after saving them).
    ZeroTail {
        /// The segment file.
        #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
        path: PathBuf,
        /// First position.
        from_pos: u64,
        /// End position.
        to_pos: u64,
        /// Complete-looking records removed.
        records: u64,
    },
    /// Cut a segment file that is longer than the parameters give back to its length (after
    /// saving the bytes cut).
    TrimSegment {
        /// The segment file.
        #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
        path: PathBuf,
        /// Its length now.
        from_len: u64,
        /// Its length after.
        to_len: u64,
    },
    /// Remove a segment past the data end (after saving it).
    RemoveSegment {
        /// The segment file.
        #[serde(serialize_with = "crate::queue::format::layout::lossy::path")]
        path: PathBuf,
        /// Complete records in it.
        records: u64,
    },
}

/// Bytes an action removes from a file, and the name of the salvage copy that keeps them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Removed<'a> {
    /// The file the bytes are removed from.
    pub path: &'a std::path::Path,
    /// Where they start in it.
    pub from: u64,
    /// Where they end (None: at the file's end).
    pub to: Option<u64>,
    /// The salvage copy's file name: `<segment>.from-<pos>` for a zeroed tail,
    /// `<segment>.beyond-<len>` for a cut, `<segment>` for a removed segment.
    pub salvage_name: String,
}

impl Removed<'_> {
    /// The salvage name when the saved bytes begin at `pos` of the file (leading zeros are not
    /// saved): [`Removed::salvage_name`] when `pos` is where the removed bytes begin, else
    /// `<segment>.from-<pos>`.
    pub fn salvage_name_at(&self, pos: u64) -> String {
        if pos == self.from {
            return self.salvage_name.clone();
        }
        let name = self
            .path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        format!("{name}.from-{pos}")
    }
}

impl Action {
    /// The bytes this action removes, if it removes any (offset changes remove none).
    pub fn removed(&self) -> Option<Removed<'_>> {
        let name = |p: &std::path::Path| {
            p.file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
        };
        match self {
            Action::ZeroTail {
                path,
                from_pos,
                to_pos,
                ..
            } => Some(Removed {
                path,
                from: *from_pos,
                to: Some(*to_pos),
                salvage_name: format!("{}.from-{from_pos}", name(path)),
            }),
            Action::TrimSegment { path, to_len, .. } => Some(Removed {
                path,
                from: *to_len,
                to: None,
                salvage_name: format!("{}.beyond-{to_len}", name(path)),
            }),
            Action::RemoveSegment { path, .. } => Some(Removed {
                path,
                from: 0,
                to: None,
                salvage_name: name(path),
            }),
            _ => None,
        }
    }
}

/// The changes a repair makes, in the order they are applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The actions.
    pub actions: Vec<Action>,
    /// The producer offset after the repair.
    pub producer_offset: u64,
    /// Confirmed bytes the plan removes: applying it then needs the caller's consent
    /// ([`super::ApplyOptions::remove_confirmed`]). None for an interrupted repair being
    /// finished (it was consented to, or removed nothing confirmed, when it began).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmed_loss: Option<super::ConfirmedLoss>,
}

impl Plan {
    /// True when there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// True when the plan removes bytes that may hold records (worth saving aside).
    pub fn removes_records(&self) -> bool {
        self.actions.iter().any(|a| match a {
            Action::ZeroTail { records, .. } | Action::RemoveSegment { records, .. } => {
                *records > 0
            }
            _ => false,
        })
    }
}

/// The union of `gaps` as sorted, disjoint, non-touching ranges.
pub(super) fn merge(mut gaps: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    gaps.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(gaps.len());
    for (a, b) in gaps {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Computes the repair for a full report. `with_consumers == false` leaves consumer offset
/// files alone (the producer's own repair at open).
pub fn plan(r: &Report, with_consumers: bool) -> Plan {
    // An interrupted repair is finished as it was planned, not planned anew: its half-applied
    // store could read differently, and the result would depend on where it was cut.
    if let Some(pending) = &r.pending {
        return pending.clone();
    }
    let mut actions = Vec::new();
    let end = r
        .data_end
        .unwrap_or_else(|| r.producer_offset.unwrap_or(r.earliest));
    let stride = r.record_size.map(|p| p as u64 + 1);
    let align = |k: u64| stride.map_or(k, |m| k / m * m);
    // (index into r.consumers, new offset, lost range)
    type Moved = (usize, u64, Option<(u64, u64)>);
    let new_consumers: Vec<Moved> = r
        .consumers
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let k = c.offset?;
            if !r.segments.is_empty() && k < r.earliest {
                return Some((i, r.earliest, Some((k, r.earliest))));
            }
            let snapped = if k > end {
                align(k)
            } else {
                c.boundary.unwrap_or(align(k))
            };
            Some((i, snapped, None))
        })
        .collect();
    let max_consumer = new_consumers.iter().map(|c| c.1).max().unwrap_or(0);
    let producer = end.max(max_consumer);
    // Between the data end and the producer lies the zero gap the repair leaves (policy 2), and
    // a scan steps over gaps an earlier repair left: a consumer inside one would wait on zeros
    // there forever, so it moves to the gap's far side.
    // A consumer at a gap's very start moves too: a .NET reader there would wait forever.
    let gaps = r.gaps.iter().copied().chain([(end, producer)]);
    let gaps: Vec<(u64, u64)> = gaps.filter(|(a, b)| a < b).collect();
    let new_consumers: Vec<Moved> = new_consumers
        .into_iter()
        .map(
            |(i, to, lost)| match gaps.iter().find(|(a, b)| to >= *a && to < *b) {
                Some(&(_, b)) => (i, b, lost.or(Some((to, b)))),
                None => (i, to, lost),
            },
        )
        .collect();
    // Every gap left or stepped over is recorded, so that no later run takes it for the data
    // end (gaps wholly before the earliest record are forgotten with their segments).
    let record: Vec<(u64, u64)> = r
        .recorded_gaps
        .iter()
        .map(|g| (g.from, g.to))
        .chain(gaps.iter().copied())
        .filter(|&(_, b)| r.segments.is_empty() || b > r.earliest)
        .collect();
    // Gaps that overlap or touch are one (a later scan, starting elsewhere, sees them whole).
    let record = merge(record);
    let known: Vec<(u64, u64)> = r.recorded_gaps.iter().map(|g| (g.from, g.to)).collect();
    for o in &r.oversized {
        actions.push(Action::TrimSegment {
            path: o.path.clone(),
            from_len: o.len,
            to_len: o.want,
        });
    }
    for t in &r.tail {
        actions.push(Action::ZeroTail {
            path: t.path.clone(),
            from_pos: t.from_pos,
            to_pos: t.to_pos,
            records: t.records,
        });
    }
    for o in &r.orphans {
        actions.push(Action::RemoveSegment {
            path: o.path.clone(),
            records: o.records,
        });
    }
    if record != known {
        actions.push(Action::RecordGaps { gaps: record });
    }
    let producer_file_bad = r
        .bad_offset_files
        .iter()
        .any(|p| p.ends_with("producer.offset"));
    if r.producer_offset != Some(producer) || producer_file_bad {
        actions.push(Action::SetProducer {
            from: r.producer_offset,
            to: producer,
        });
    }
    let confirmed_bad = r
        .bad_offset_files
        .iter()
        .any(|p| p.ends_with("producer.confirmed.offset"));
    if let Some(c) = r.confirmed_offset.or(confirmed_bad.then_some(0)) {
        let to = c.min(producer);
        if to != c || confirmed_bad {
            actions.push(Action::SetConfirmed {
                from: r.confirmed_offset,
                to,
            });
        }
    }
    if with_consumers {
        for (i, to, lost) in new_consumers {
            let c = &r.consumers[i];
            let bad = r
                .bad_offset_files
                .iter()
                .any(|p| p.file_name().and_then(|f| f.to_str()) == Some(&c.id.file_name()));
            if c.offset != Some(to) || bad {
                actions.push(Action::SetConsumer {
                    name: c.name.clone(),
                    id: c.id.clone(),
                    from: c.offset,
                    to,
                    lost,
                });
            }
        }
        for c in r.consumers.iter().filter(|c| c.offset.is_none()) {
            actions.push(Action::SetConsumer {
                name: c.name.clone(),
                id: c.id.clone(),
                from: None,
                to: r.earliest,
                lost: None,
            });
        }
    }
    Plan {
        actions,
        producer_offset: producer,
        confirmed_loss: r.confirmed_at_risk.clone(),
    }
}
