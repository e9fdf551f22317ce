//! Building a [`Report`]: metadata checks (names, lengths, offset files) and, for the deeper
//! depths, a scan of the records from the lowest offset that still matters to the end.
//!
//! This module only reads.

use std::path::Path;

use super::walk::{walk_fixed, walk_stream, Meter};
use super::{ConsumerState, Depth, IssueKind, OrphanSegment, OversizedSegment, Report, Severity};
use crate::queue::error::Result;
use crate::queue::format::gaps::{self, Gap};
use crate::queue::format::layout::{Layout, SegmentFile};
use crate::queue::format::offsets;
use crate::queue::format::params::{Format, Params, ParamsSource};
use crate::queue::format::positions::{self, segment_bytes};
use crate::queue::format::scan::{self, Status};

/// Inspects a store at `depth`: its segments, offset files and every inconsistency.
pub(crate) fn inspect(
    layout: &Layout,
    params: &Params,
    source: ParamsSource,
    depth: Depth,
) -> Result<Report> {
    inspect_with(layout, params, source, depth, &mut |_, _| {})
}

/// [`inspect`], reporting the scan's progress to `progress(done, total)` in bytes of segment
/// files (see `walk::Meter`): values that never go down, the last call at `total`. A quick
/// inspection reads no records and never calls it.
pub(crate) fn inspect_with(
    layout: &Layout,
    params: &Params,
    source: ParamsSource,
    depth: Depth,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Report> {
    let (segments, stray_files) = layout.list_segments()?;
    let mut r = Report {
        path: layout.root().to_path_buf(),
        format: params.format(),
        record_size: params.record_size(),
        segment_size: params.segment_size(),
        params_source: source,
        earliest: positions::earliest(&segments),
        segments,
        stray_files,
        producer_offset: None,
        confirmed_offset: None,
        consumers: vec![],
        scanned_from: None,
        data_end: None,
        tail: vec![],
        orphans: vec![],
        oversized: vec![],
        gaps: vec![],
        bad_offset_files: vec![],
        recorded_gaps: gaps::read(layout)?,
        confirmed_at_risk: None,
        pending: None,
        issues: vec![],
    };
    match super::journal::read(layout)? {
        super::journal::Found::None => {}
        super::journal::Found::Pending(plan) => {
            let n = plan.actions.len();
            r.push(
                IssueKind::InterruptedRepair,
                Severity::Repair,
                format!("a repair was interrupted with {n} changes planned; a repair finishes it"),
            );
            r.pending = Some(plan);
        }
        super::journal::Found::Stale(why) => {
            let msg = format!(
                "a repair was interrupted, but the store changed since ({why}): its plan is \
                 void, and a repair plans anew"
            );
            r.push(IssueKind::InterruptedRepair, Severity::Repair, msg)
                .file(&layout.repair_journal());
        }
    }
    r.producer_offset = read_lenient(&mut r, &layout.producer_offset());
    r.confirmed_offset = read_lenient(&mut r, &layout.confirmed_offset());
    for id in layout.list_consumers()? {
        let offset = read_lenient(&mut r, &layout.consumer_offset(&id));
        r.consumers.push(ConsumerState {
            name: id.name().to_string(),
            id,
            offset,
            boundary: None,
        });
    }
    check_files(&mut r, params);
    if depth != Depth::Quick {
        scan_records(&mut r, layout, params, depth, progress)?;
    }
    if depth == Depth::Full {
        super::below::check_below_scan(&mut r, params)?;
    }
    if depth != Depth::Quick {
        r.confirmed_at_risk = super::confirmed::at_risk(&r, params)?;
    }
    check_offsets(&mut r, params);
    check_gaps(&mut r);
    check_blocked_segment(&mut r);
    super::hazards::check(&mut r, params, depth);
    Ok(r)
}

/// Gaps: one the scan stepped over that `mfq.gaps` does not record needs a repair (to record
/// it); a recorded one is a warning, since a .NET reader stops at its start.
fn check_gaps(r: &mut Report) {
    let confirmed = r.confirmed_offset;
    let after = |to: u64| match confirmed {
        Some(c) if c > to => format!("; records {to}..{c} after it are confirmed"),
        _ => String::new(),
    };
    let unrecorded: Vec<(u64, u64)> = r
        .gaps
        .iter()
        .copied()
        .filter(|&(a, b)| a < b && !r.recorded_gaps.iter().any(|g| g.from <= a && b <= g.to))
        .collect();
    for (a, b) in unrecorded {
        let msg = format!(
            "a zero gap {a}..{b} (left by a crash or a repair) is not recorded, so a later \
             run could take it for the end of the data{}",
            after(b)
        );
        r.push(IssueKind::UnrecordedGap, Severity::Repair, msg)
            .at(a);
    }
    let earliest = r.earliest;
    let recorded: Vec<(u64, u64)> = r.recorded_gaps.iter().map(|g| (g.from, g.to)).collect();
    for (a, b) in recorded.into_iter().filter(|&(_, b)| b > earliest) {
        let msg = format!(
            "recorded gap {a}..{b}: mfq's readers step over it; a .NET reader stops at {a}{}",
            after(b)
        );
        r.push(IssueKind::RecordedGap, Severity::Warning, msg).at(a);
    }
}

/// Reads an offset file however damaged; records an issue when it is not a clean 8 bytes.
fn read_lenient(r: &mut Report, path: &Path) -> Option<u64> {
    match offsets::read_offset_lenient(path) {
        Ok(None) => None,
        Ok(Some((8, v))) if v >= 0 => Some(v as u64),
        Ok(Some((len, v))) => {
            let msg = if len != 8 {
                format!("offset file is {len} bytes long, expected 8")
            } else {
                format!("offset file holds the negative value {v}")
            };
            r.push(IssueKind::BadOffsetFile, Severity::Repair, msg)
                .file(path);
            r.bad_offset_files.push(path.to_path_buf());
            (len < 8 && v >= 0).then_some(v as u64)
        }
        Err(e) => {
            r.push(IssueKind::BadOffsetFile, Severity::Repair, e.to_string())
                .file(path);
            r.bad_offset_files.push(path.to_path_buf());
            None
        }
    }
}

fn check_files(r: &mut Report, params: &Params) {
    for s in r.stray_files.clone() {
        let msg = format!("skipped: {}", s.reason);
        r.push(IssueKind::StrayFile, Severity::Warning, msg)
            .file(&s.path);
    }
    if let Some(span) = (params.format() == Format::Fixed).then(|| params.span()) {
        for s in r
            .segments
            .iter()
            .filter(|s| s.start % span != 0)
            .cloned()
            .collect::<Vec<_>>()
        {
            let msg = format!(
                "a fixed segment must start at a multiple of the span {span}: \
                 no .NET reader or producer opens this file"
            );
            r.push(IssueKind::StrayFile, Severity::Warning, msg)
                .file(&s.path)
                .at(s.start);
        }
    }
    let want = params.file_len();
    for s in r.segments.clone() {
        let fixed = params.format() == Format::Fixed;
        let (kind, severity, what) = match s.len.cmp(&want) {
            std::cmp::Ordering::Equal => continue,
            std::cmp::Ordering::Greater if fixed => (
                IssueKind::SegmentTooLong,
                Severity::Repair,
                "the .NET libraries cannot map it",
            ),
            // The .NET stream library extends old files when its SegmentSize grows.
            std::cmp::Ordering::Greater => (
                IssueKind::SegmentWrongSize,
                Severity::Warning,
                "left as it is",
            ),
            std::cmp::Ordering::Less => (
                IssueKind::SegmentWrongSize,
                Severity::Warning,
                "missing bytes read as zero",
            ),
        };
        let msg = format!("segment file is {} bytes, expected {want} ({what})", s.len);
        r.push(kind, severity, msg).file(&s.path).at(s.start);
        if kind == IssueKind::SegmentTooLong {
            r.oversized.push(OversizedSegment {
                path: s.path.clone(),
                len: s.len,
                want,
            });
        }
    }
    if params.format() == Format::Fixed {
        let span = params.span();
        for pair in r.segments.clone().windows(2) {
            if pair[1].start > pair[0].start + span {
                let gap = pair[0].start + span;
                let msg = format!("segments {gap}..{} are missing", pair[1].start);
                r.push(IssueKind::SegmentGap, Severity::Warning, msg)
                    .at(gap);
            }
        }
    }
}

/// A folder (or other non-file) named as the segment where the data goes on blocks every
/// reader and the producer there; recover cannot repair it in place (it might hold anything).
fn check_blocked_segment(r: &mut Report) {
    let Some(end) = r.data_end else { return };
    for s in r.stray_files.clone() {
        let start = s
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(crate::queue::format::layout::parse_segment_name);
        if !start.is_some_and(|k| k <= end) {
            continue;
        }
        // The file's "skipped" warning (check_files) becomes this issue: one per file.
        let skipped = r
            .issues
            .iter_mut()
            .find(|i| i.kind == IssueKind::StrayFile && i.path.as_ref() == Some(&s.path));
        if let Some(issue) = skipped {
            issue.severity = Severity::Repair;
            issue.message = "readers and the producer need this segment, but it is not a \
                             regular file: move it out of commitlog/, then repair the store \
                             again"
                .to_string();
        }
    }
}

/// Where a scan must start: the lowest consumer or confirmed offset (Full), or the segment of
/// min(confirmed, producer) (Tail); never before the earliest segment.
fn scan_start(r: &Report, params: &Params, depth: Depth) -> Result<u64> {
    let p = r.producer_offset.unwrap_or(0);
    // A missing or unreadable confirmed offset vouches for nothing (a producer creates it as
    // 0 before its own repair): trusting the producer offset instead let a bogus one far past
    // the data pass as consistent while the producer's repair then rolled it back.
    let c = r.confirmed_offset.unwrap_or(0);
    let mut from = c.min(p);
    if depth == Depth::Full {
        from = r
            .consumers
            .iter()
            .filter_map(|c| c.offset)
            .fold(from, u64::min);
        // The plan moves a consumer whose file is unreadable to the earliest record, so the
        // records from there must be checked too. Without `consumer.offset`, the default
        // consumer (mfq's or .NET's) starts at the earliest record: it needs them all.
        let default = crate::queue::format::layout::ConsumerId::Default;
        if r.consumers.iter().any(|c| c.offset.is_none())
            || !r.consumers.iter().any(|c| c.id == default)
        {
            from = r.earliest;
        }
    }
    let from = from.max(r.earliest);
    if let Some(m) = params.stride() {
        return Ok(from / m * m);
    }
    let Some(i) = r.segments.iter().rposition(|s| s.start <= from) else {
        return Ok(r.earliest);
    };
    // A stale stream file may start inside the records of the segment before it (readers pick
    // the greatest start, so it shadows them): when that segment's valid records reach `from`,
    // the chain runs through it, and the walk starts there so the stale file shows as an orphan.
    if let Some(prev) = i.checked_sub(1).map(|j| &r.segments[j]) {
        let bytes = segment_bytes(params, prev)?;
        let prev_end = scan::valid_end(params, prev.start, &bytes);
        if prev_end > r.segments[i].start && prev_end >= from {
            return Ok(prev.start);
        }
    }
    Ok(r.segments[i].start)
}

fn scan_records(
    r: &mut Report,
    layout: &Layout,
    params: &Params,
    depth: Depth,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<()> {
    let from = scan_start(r, params, depth)?;
    r.scanned_from = Some(from);
    let segs = r.segments.clone();
    let mut meter = Meter::new(progress, &segs, from);
    // Stream segments the walk followed: any other segment that starts after the first of
    // them lies inside the records of another (a stale file a reader would pick instead of
    // the chain, by greatest start) or past the end, and is an orphan.
    let mut chain = Vec::new();
    let (end, end_seg) = match params.format() {
        Format::Fixed => walk_fixed(r, layout, params, &segs, from, &mut meter)?,
        Format::Stream => walk_stream(r, params, &segs, from, &mut chain, &mut meter)?,
    };
    r.data_end = Some(end);
    let off_chain =
        |s: &SegmentFile| chain.first().is_some_and(|f| s.start > *f) && !chain.contains(&s.start);
    for s in segs
        .iter()
        .filter(|s| end_seg.map_or(s.start >= end, |e| s.start > e) || off_chain(s))
    {
        let bytes = segment_bytes(params, s)?;
        meter.segment(s);
        let mut records = 0u64;
        scan::visit(params, s.start, &bytes, |e| {
            records += u64::from(e.status == Status::Ok);
            true
        });
        // A file without records that starts inside a recorded gap is part of that gap (the
        // walk steps over it, and so do the readers), not an orphan past the end.
        let in_gap = |g: &Gap| g.from <= s.start && s.start < g.to && s.start < end;
        if records == 0 && r.recorded_gaps.iter().any(in_gap) {
            continue;
        }
        r.orphans.push(OrphanSegment {
            path: s.path.clone(),
            start: s.start,
            records,
        });
        let msg = format!("segment lies past the end of the valid data ({records} records in it)");
        r.push(IssueKind::OrphanSegment, Severity::Repair, msg)
            .file(&s.path)
            .at(s.start);
    }
    meter.finish();
    Ok(())
}

/// Offsets against each other and against the data end.
fn check_offsets(r: &mut Report, params: &Params) {
    let end = r.data_end;
    let p = r.producer_offset;
    if let (Some(p), Some(d)) = (p, end) {
        if p > d {
            let msg = format!("producer offset {p} is past the end of the valid data {d}");
            r.push(IssueKind::ProducerAhead, Severity::Repair, msg)
                .at(p);
        } else if p < d {
            let msg = format!("complete records lie past the producer offset {p}, up to {d}; a producer would overwrite them");
            r.push(IssueKind::ProducerBehind, Severity::Repair, msg)
                .at(p);
        }
    }
    if let (Some(c), Some(d)) = (r.confirmed_offset, end) {
        if c > d {
            let msg =
                format!("records between {d} and the confirmed offset {c} are missing or damaged");
            r.push(IssueKind::DamageBelowConfirmed, Severity::Repair, msg)
                .at(d);
        }
    }
    if let (Some(c), Some(p)) = (r.confirmed_offset, p) {
        if c > p {
            let msg = format!("confirmed offset {c} is past the producer offset {p}");
            r.push(IssueKind::ConfirmedAhead, Severity::Repair, msg)
                .at(c);
        }
    }
    for c in r.consumers.clone() {
        let Some(k) = c.offset else { continue };
        let name = if c.id == crate::queue::format::layout::ConsumerId::Default {
            "the default consumer".to_string()
        } else {
            format!("consumer {}", c.name)
        };
        if !r.segments.is_empty() && k < r.earliest {
            let msg = format!(
                "{name} at {k} points into a deleted segment; records {k}..{} are gone",
                r.earliest
            );
            r.push(IssueKind::ConsumerInDeletedSegment, Severity::Repair, msg)
                .at(k);
            continue;
        }
        if let Some(d) = end.filter(|d| k > *d) {
            let msg = format!("{name} at {k} is past the end of the valid data {d}");
            r.push(IssueKind::ConsumerAhead, Severity::Repair, msg)
                .at(k);
            continue;
        }
        if let Some((a, b)) = r.gaps.iter().copied().find(|(a, b)| k > *a && k < *b) {
            let msg = format!(
                "{name} at {k} is inside the zero gap {a}..{b} an earlier repair left, where \
                 it would wait forever"
            );
            r.push(IssueKind::ConsumerAhead, Severity::Repair, msg)
                .at(k);
            continue;
        }
        let misaligned = match (params.stride(), c.boundary) {
            (Some(m), _) => k % m != 0,
            (None, Some(b)) => b != k,
            (None, None) => false,
        };
        if misaligned {
            let msg = format!("{name} at {k} is not on a record boundary");
            r.push(IssueKind::ConsumerMisaligned, Severity::Repair, msg)
                .at(k);
        }
    }
}
