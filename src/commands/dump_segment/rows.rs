//! The rows `mfq dump-segment` shows for one segment: the engine's record walk
//! (`scan::walk`) plus what the walk does not report on its own (non-zero bytes past a fixed
//! segment's last slot), with trailing runs of unwritten fixed slots collapsed into one row,
//! and the summary counts. A stream walk that meets a gap recorded in `mfq.gaps` goes on at
//! its far side, as mfq's readers do, with the gap as one row; a fixed walk visits every slot
//! anyway, so a gap there shows as its unwritten slots followed by the records after it.
//!
//! Each row's JSON is the record object `consume` and `tail` print (`render::json`), with the
//! fields only a dump has beside it.
//!
//! This file must not read files or print; it turns bytes into rows.

use std::ops::Range;

use mfq::queue::codec;
use mfq::queue::scan::{self, Status};
use mfq::queue::{Format, Params};
use serde::Serialize;

use crate::render::json::RecordJson;
use crate::render::payload::{self, Encoding};

/// One line of the dump: a record position, or a collapsed run of unwritten slots.
#[derive(Clone, Debug)]
pub struct Row {
    /// Logical offset of the (first) position.
    pub offset: u64,
    /// In-file position.
    pub position: u64,
    /// Bytes covered.
    pub size: u64,
    /// What is there.
    pub status: Status,
    /// Slots in a collapsed run (1 otherwise).
    pub count: u64,
    /// For the row of a recorded gap: the offset where the records after it start.
    pub gap_to: Option<u64>,
    /// In-file range of the payload (records, torn and bad-marker records).
    pub payload: Option<Range<usize>>,
}

/// One row as `dump-segment --json` prints it: the shared record fields (`next_offset` only
/// for a complete record; `payload_size` and `payload` only for rows with a payload), then
/// the dump's own.
#[derive(Clone, Debug, Serialize)]
pub struct RowJson {
    /// `offset`, `next_offset`, `record_size` (the bytes the row covers), `payload_size`,
    /// `payload`.
    #[serde(flatten)]
    pub record: RecordJson,
    /// In-file position.
    pub position: u64,
    /// What is there.
    pub status: Status,
    /// Slots in a collapsed run of unwritten slots (1 otherwise).
    pub count: u64,
    /// For the row of a recorded gap: the offset where the records after it start.
    pub gap_to: Option<u64>,
}

impl Row {
    /// The row's JSON; `bytes` is the file the row was found in.
    pub fn to_json(&self, bytes: &[u8], encoding: Encoding) -> RowJson {
        let payload = self.payload.clone().map(|r| &bytes[r]);
        RowJson {
            record: RecordJson {
                v: None,
                offset: self.offset,
                next_offset: (self.status == Status::Ok).then(|| self.offset + self.size),
                record_size: self.size,
                payload_size: payload.map(|p| p.len() as u64),
                payload: payload.map(|p| payload::json_payload(p, encoding)),
            },
            position: self.position,
            status: self.status,
            count: self.count,
            gap_to: self.gap_to,
        }
    }
}

/// Counts over the whole segment.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    /// Complete records.
    pub records_ok: u64,
    /// Damaged positions (torn, bad marker, garbage).
    pub damaged: u64,
    /// Unwritten fixed slots (or 1 for a stream segment's unwritten tail).
    pub unwritten: u64,
    /// Position of the first damaged entry.
    pub first_damaged_position: Option<u64>,
    /// Offset of the first damaged entry.
    pub first_damaged_offset: Option<u64>,
    /// The file's length, when it is not what the parameters give.
    pub unexpected_length: Option<u64>,
    /// The length the parameters give.
    pub expected_length: u64,
}

/// How many bytes past the records are examined for data.
const EXAMINE: usize = 1 << 24;

/// The rows to show and the summary of a whole segment.
#[derive(Debug)]
pub struct Dump {
    /// The first rows (at most the limit), trailing unwritten fixed slots collapsed.
    pub rows: Vec<Row>,
    /// Rows past the limit, not kept.
    pub more: usize,
    /// Counts over every row.
    pub summary: Summary,
}

/// How many bytes of a file [`rows_of_file`] looks at: the length the parameters give, and
/// what it examines past it.
pub fn bytes_needed(params: &Params) -> u64 {
    params.file_len().saturating_add(EXAMINE as u64)
}

/// Rows and summary of a segment whose whole content is `bytes`.
#[cfg(test)]
pub fn rows(params: &Params, start: u64, bytes: &[u8], limit: usize) -> Dump {
    rows_of_file(params, start, bytes, bytes.len() as u64, &[], start, limit)
}

/// Rows and summary of a segment, keeping at most `limit` rows from the one at or containing
/// offset `from` on (memory stays bounded on a segment of any size; the summary counts the
/// whole segment). `bytes` is the start of a file of `file_len` bytes: at least
/// [`bytes_needed`] of it, or all of it (a file cut while it was read may give fewer). `gaps`
/// are the store's recorded gaps `[from, to)`.
pub fn rows_of_file(
    params: &Params,
    start: u64,
    bytes: &[u8],
    file_len: u64,
    gaps: &[(u64, u64)],
    from: u64,
    limit: usize,
) -> Dump {
    // Rows wholly before `from` are counted in the summary, never shown.
    let before = |row: &Row| row.offset < from && row.offset.saturating_add(row.size) <= from;
    let expected = params.file_len();
    // A short file reads as zeros up to `expected`, but only as far as the walk can tell them
    // apart (`zero_tail_room`); the rest is added below without walking it, so a huge
    // --segment-size for a small file costs neither memory nor time.
    let view_len = expected.min((bytes.len() as u64).saturating_add(scan::zero_tail_room(params)));
    let mut padded;
    let view: &[u8] = if bytes.len() < view_len as usize {
        padded = bytes.to_vec();
        padded.resize(view_len as usize, 0);
        &padded
    } else {
        &bytes[..view_len as usize]
    };
    let mut d = Dump {
        rows: Vec::new(),
        more: 0,
        summary: Summary {
            expected_length: expected,
            unexpected_length: (file_len != expected).then_some(file_len),
            ..Summary::default()
        },
    };
    // The trailing run of unwritten fixed slots: (rows in it, bytes, index of its first row).
    let mut run = (0u64, 0u64, 0u64);
    let mut total = 0u64;
    let mut push = |d: &mut Dump, row: Row| {
        count(&mut d.summary, &row);
        if before(&row) {
            return;
        }
        if row.status == Status::Unwritten && params.format() == Format::Fixed {
            if run.0 == 0 {
                run.2 = total;
            }
            run = (run.0 + 1, run.1 + row.size, run.2);
        } else {
            run = (0, 0, 0);
        }
        if (total as usize) < limit {
            d.rows.push(row);
        }
        total += 1;
    };
    // Where the walk goes on after a recorded gap whose far side lies inside the view.
    let far_side = |offset: u64| {
        gaps.iter()
            .find(|&&(a, b)| a <= offset && offset < b && b < start + view_len)
            .map(|&(_, b)| b)
    };
    let mut from = 0usize;
    loop {
        let mut resume = None;
        scan::visit(params, start + from as u64, &view[from..], |mut e| {
            e.position += from as u64;
            // A recorded gap is zeros (checked when it was recorded), which a stream walk reads
            // as the end of the records, or as garbage when records follow.
            let stepped = e.status != Status::Ok && params.format() == Format::Stream;
            if let Some(b) = far_side(e.offset).filter(|_| stepped) {
                let row = Row {
                    offset: e.offset,
                    position: e.position,
                    size: b - e.offset,
                    status: Status::Unwritten,
                    count: 1,
                    gap_to: Some(b),
                    payload: None,
                };
                push(&mut d, row);
                resume = Some((b - start) as usize);
                return false;
            }
            let payload = matches!(e.status, Status::Ok | Status::Torn | Status::BadMarker)
                .then(|| clip(e.payload_range(params.format()), bytes.len()));
            let row = Row {
                offset: e.offset,
                position: e.position,
                size: e.size,
                status: e.status,
                count: 1,
                gap_to: None,
                payload,
            };
            push(&mut d, row);
            true
        });
        match resume {
            Some(p) => from = p,
            None => break,
        }
    }
    if let (Some(m), true) = (params.stride(), view_len < expected) {
        // The unwritten slots past the view, as one row that joins the trailing run.
        let walked = view_len / m * m;
        let slots = (params.span().saturating_sub(walked)) / m;
        if slots > 0 {
            let row = Row {
                offset: start + walked,
                position: walked,
                size: slots * m,
                status: Status::Unwritten,
                count: slots,
                gap_to: None,
                payload: None,
            };
            count(&mut d.summary, &row);
            if run.0 == 0 {
                run.2 = total;
            }
            run = (run.0 + slots, run.1 + slots * m, run.2);
            if (total as usize) < limit {
                d.rows.push(row);
            }
            total += slots;
        }
    } else if params.format() == Format::Stream && view_len < expected {
        // A stream segment's unwritten tail (the walk's last entry) runs to the expected length.
        if let Some(last) = d.rows.last_mut().filter(|r| r.status == Status::Unwritten) {
            last.size = expected - last.position;
        }
    }
    let (run_rows, run_bytes, run_first) = run;
    if run_rows >= 2 {
        // Collapse the run into its first row, as if every row had been kept.
        total -= run_rows - 1;
        if let Some(first) = d.rows.get_mut(run_first as usize) {
            first.size = run_bytes;
            first.count = run_rows;
            d.rows.truncate(run_first as usize + 1);
        }
    }
    // Past the records: a fixed segment's last byte, and whatever lies past the length the
    // parameters give (examined up to EXAMINE bytes: a sparse file may be huge).
    let records_end = match params.format() {
        Format::Fixed => params.span() as usize,
        Format::Stream => expected as usize,
    };
    let file_end = (expected as usize).max(file_len as usize);
    if file_end > records_end {
        // Only the file's own bytes can be non-zero; past them the segment reads as zeros.
        let examined = (records_end + EXAMINE).min(bytes.len());
        let rest = bytes.get(records_end..examined).unwrap_or(&[]);
        if !codec::is_zero(rest) {
            let row = Row {
                offset: start + records_end as u64,
                position: records_end as u64,
                size: (file_end - records_end) as u64,
                status: Status::Garbage,
                count: 1,
                gap_to: None,
                payload: None,
            };
            count(&mut d.summary, &row);
            if (total as usize) < limit {
                d.rows.push(row);
            }
            total += 1;
        }
    }
    d.more = (total - d.rows.len() as u64) as usize;
    d
}

fn count(sum: &mut Summary, r: &Row) {
    match r.status {
        Status::Ok => sum.records_ok += 1,
        Status::Unwritten => sum.unwritten += r.count,
        s if s.is_damage() => {
            sum.damaged += 1;
            if sum.first_damaged_position.is_none() {
                sum.first_damaged_position = Some(r.position);
                sum.first_damaged_offset = Some(r.offset);
            }
        }
        _ => {}
    }
}

fn clip(r: Range<usize>, len: usize) -> Range<usize> {
    r.start.min(len)..r.end.min(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_the_shared_record_plus_the_dump_fields() {
        let p = Params::stream(64).unwrap();
        let bytes = [2, 0, 0, 0, 0, 0xff, 0xFF, 0, 0, 0, 0];
        let d = rows(&p, 100, &bytes, usize::MAX);
        let v = serde_json::to_value(d.rows[0].to_json(&bytes, Encoding::Auto)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "offset": 100, "next_offset": 107, "record_size": 7, "payload_size": 2,
                "payload": { "base64": "AP8=" }, "position": 0, "status": "ok", "count": 1,
                "gap_to": null,
            })
        );
        let v = serde_json::to_value(d.rows[1].to_json(&bytes, Encoding::Hex)).unwrap();
        assert_eq!(v["status"], "unwritten");
        assert_eq!(v["next_offset"], serde_json::Value::Null);
        assert_eq!(v["payload"], serde_json::Value::Null);
    }

    #[test]
    fn collapses_trailing_unwritten_and_flags_last_byte() {
        let p = Params::fixed(2, 9).unwrap();
        let mut bytes = vec![1, 2, 0xFF, 0, 0, 0, 0, 0, 0, 7];
        let Dump {
            rows, summary: sum, ..
        } = rows(&p, 0, &bytes, usize::MAX);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[1].count, 2);
        assert_eq!(rows[1].size, 6);
        assert_eq!(rows[2].status, Status::Garbage);
        assert_eq!(sum.damaged, 1);
        assert_eq!(sum.first_damaged_position, Some(9));
        bytes.truncate(4);
        let sum = self::rows(&p, 0, &bytes, usize::MAX).summary;
        assert_eq!(sum.unexpected_length, Some(4));
        assert_eq!(sum.damaged, 0);
        let d = self::rows(&p, 0, &[], usize::MAX);
        assert_eq!(d.rows[0].count, 3);
    }

    /// A limit keeps the first rows and counts the rest exactly as an unlimited dump shows
    /// them (the collapsed run is one row either way).
    #[test]
    fn a_limit_keeps_the_first_rows_and_counts_the_rest() {
        let p = Params::fixed(2, 30).unwrap();
        let mut bytes = vec![0u8; 31];
        for slot in 0..4 {
            bytes[slot * 3..slot * 3 + 3].copy_from_slice(&[1, 2, 0xFF]);
        }
        bytes[13] = 0xFF;
        bytes[30] = 9;
        let all = rows(&p, 0, &bytes, usize::MAX);
        assert_eq!(all.rows.len(), 7, "{:?}", all.rows);
        assert_eq!(all.rows[5].count, 5);
        assert_eq!(all.more, 0);
        for limit in 0..10 {
            let d = rows(&p, 0, &bytes, limit);
            let kept = limit.min(7);
            assert_eq!(d.rows.len(), kept, "limit {limit}");
            assert_eq!(d.more, 7 - kept, "limit {limit}");
            for (a, b) in d.rows.iter().zip(&all.rows) {
                assert_eq!((a.position, a.size, a.count), (b.position, b.size, b.count));
            }
            assert_eq!(d.summary.damaged, all.summary.damaged);
            assert_eq!(d.summary.unwritten, all.summary.unwritten);
        }
    }

    /// A short file of a huge segment: the missing tail is counted, not walked or held.
    #[test]
    fn a_huge_segment_of_a_short_file_is_counted_not_walked() {
        let p = Params::fixed(2, 1 << 40).unwrap();
        let span = p.span();
        let d = rows(&p, 0, &[1, 2, 0xFF, 0, 0], usize::MAX);
        assert_eq!(d.rows.len(), 2, "{:?}", d.rows);
        assert_eq!(d.rows[1].status, Status::Unwritten);
        assert_eq!(d.rows[1].position, 3);
        assert_eq!((d.rows[1].count, d.rows[1].size), (span / 3 - 1, span - 3));
        assert_eq!(d.summary.unwritten, span / 3 - 1);
        assert_eq!(d.summary.unexpected_length, Some(5));
        // A limit that keeps only the record still counts the run as one row.
        let d = rows(&p, 0, &[1, 2, 0xFF], 1);
        assert_eq!((d.rows.len(), d.more), (1, 1));
        let s = Params::stream(1 << 40).unwrap();
        let d = rows(&s, 0, &[1, 0, 0, 0, b'a', 0xFF, 0, 0], usize::MAX);
        assert_eq!(d.rows.len(), 2, "{:?}", d.rows);
        assert_eq!(d.rows[1].status, Status::Unwritten);
        assert_eq!(d.rows[1].size, (1 << 40) - 6);
    }
}
