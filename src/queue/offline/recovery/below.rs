//! Damage below the scan: records under the lowest consumer and the confirmed offset are not
//! needed for delivery (policy 1), so the repair scan starts above them and never changes
//! them. A reader started from the beginning still stops at damage there, so a full
//! inspection looks for the first damaged position below the scan and reports it as a
//! warning, naming what readers will see.
//!
//! This module only reads; it must not plan or change anything.

use super::{IssueKind, Report, Severity};
use crate::queue::error::Result;
use crate::queue::format::params::{Format, Params};
use crate::queue::format::positions::with_segment_bytes;
use crate::queue::format::scan::{self, Status};

/// Reports the first damaged position below `r.scanned_from`, if any.
pub(super) fn check_below_scan(r: &mut Report, params: &Params) -> Result<()> {
    let Some(from) = r.scanned_from.filter(|f| *f > r.earliest) else {
        return Ok(());
    };
    for seg in r.segments.clone().iter().filter(|s| s.start < from) {
        let found = with_segment_bytes(params, seg, |bytes| {
            let mut found = None;
            scan::visit(params, seg.start, bytes, |e| {
                if e.offset >= from {
                    return false;
                }
                // A zero slot below the data is a hole to a fixed-format reader; a stream
                // segment's records simply end there.
                let hole = e.status == Status::Unwritten && params.format() == Format::Fixed;
                if e.status.is_damage() || hole {
                    found = Some(e);
                }
                found.is_none()
            });
            found
        })?;
        if let Some(e) = found {
            let msg = format!(
                "{} at offset {}, below every consumer and the confirmed offset: nothing \
                 needs it for delivery and recover leaves it, but a reader started from the \
                 beginning stops there",
                e.status.as_str(),
                e.offset
            );
            r.push(IssueKind::DamageBelowConsumers, Severity::Warning, msg)
                .file(&seg.path)
                .at(e.offset);
            return Ok(());
        }
    }
    Ok(())
}
