//! What a repair would remove below the confirmed offset. `producer.confirmed.offset` vouches
//! that every byte before it was synced and acknowledged: a repair that zeroes or deletes
//! non-zero bytes there destroys messages a producer was told are safe. The inspection measures
//! them here (their offsets and the complete records among them), the plan carries the
//! measure, and applying such a plan needs the caller's explicit consent (see `apply.rs`); the
//! producer's own repair at open never gives it.
//!
//! Bytes that are already zero are not at risk (they were lost before the repair), and neither
//! are the bytes a cut removes past a segment's length (no reader's offset reaches them), nor
//! those of a stale stream file at offsets below the data end (the chain of valid records
//! holds those offsets; the file only shadows them).
//!
//! This module only reads.

use serde::Serialize;

use super::Report;
use crate::queue::error::Result;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::segment_bytes;
use crate::queue::format::scan::{self, Status};

/// Non-zero bytes below the confirmed offset that a repair would zero or delete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfirmedLoss {
    /// The confirmed offset.
    pub confirmed: u64,
    /// Logical offset of the first non-zero byte the repair removes below it.
    pub from: u64,
    /// End of the last non-zero byte it removes below it (at most `confirmed`).
    pub to: u64,
    /// Complete records that start in `from..to` (for a stream store, those found by following
    /// lengths from `from`: bytes after damage may frame differently).
    pub records: u64,
}

impl ConfirmedLoss {
    /// The refusal of a repair of the store at `root` that would remove these bytes.
    pub fn refusal(&self, root: &std::path::Path) -> crate::queue::error::Error {
        crate::queue::error::Error::ConfirmedLoss {
            path: root.to_path_buf(),
            confirmed: self.confirmed,
            from: self.from,
            to: self.to,
            records: self.records,
        }
    }
}

/// Measures what the tail regions and orphan segments of `r` hold below its confirmed offset.
pub(super) fn at_risk(r: &Report, params: &Params) -> Result<Option<ConfirmedLoss>> {
    let Some(c) = r.confirmed_offset else {
        return Ok(None);
    };
    // (segment, first position removed, end position removed)
    let mut regions: Vec<(u64, u64, u64)> = r
        .tail
        .iter()
        .map(|t| (t.segment_start, t.from_pos, t.to_pos))
        .collect();
    regions.extend(r.orphans.iter().map(|o| (o.start, 0, u64::MAX)));
    let data_end = r.data_end.unwrap_or(0);
    let mut loss: Option<ConfirmedLoss> = None;
    for (start, from_pos, to_pos) in regions {
        let from_pos = from_pos.max(data_end.saturating_sub(start));
        if start.saturating_add(from_pos) >= c {
            continue;
        }
        let Some(seg) = r.segments.iter().find(|s| s.start == start) else {
            continue;
        };
        let bytes = segment_bytes(params, seg)?;
        let below = &bytes[..(c - start).min(to_pos).min(bytes.len() as u64) as usize];
        let lo = (from_pos as usize).min(below.len());
        let Some(first) = below[lo..].iter().position(|&b| b != 0).map(|p| lo + p) else {
            continue;
        };
        let last = below.iter().rposition(|&b| b != 0).map_or(first, |p| p + 1);
        let records = records_from(params, start, &bytes, first, c);
        let (from, to) = (start + first as u64, start + last as u64);
        loss = Some(match loss {
            None => ConfirmedLoss {
                confirmed: c,
                from,
                to,
                records,
            },
            Some(l) => ConfirmedLoss {
                confirmed: c,
                from: l.from.min(from),
                to: l.to.max(to),
                records: l.records + records,
            },
        });
    }
    Ok(loss)
}

/// Complete records starting at or after position `first` and below offset `c`.
fn records_from(params: &Params, start: u64, bytes: &[u8], first: usize, c: u64) -> u64 {
    let mut n = 0;
    match params.format() {
        Format::Fixed => scan::visit(params, start, bytes, |e| {
            if e.position + e.size > first as u64 && e.offset < c && e.status == Status::Ok {
                n += 1;
            }
            e.offset < c
        }),
        Format::Stream => {
            let from = start + first as u64;
            for e in scan::walk(params, from, &bytes[first..]) {
                if e.status != Status::Ok || e.offset >= c {
                    break;
                }
                n += 1;
            }
        }
    }
    n
}
