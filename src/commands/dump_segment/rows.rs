//! The rows `mfq dump-segment` shows for one segment: the engine's record walk
//! (`scan::walk`) plus what the walk does not report on its own (non-zero bytes past a fixed
//! segment's last slot), with trailing runs of unwritten fixed slots collapsed into one row,
//! and the summary counts.
//!
//! This file must not read files or print; it turns bytes into rows.

use std::ops::Range;

use mfq::queue::scan::{self, Status};
use mfq::queue::{Format, Params};
use serde::Serialize;

/// One line of the dump: a record position, or a collapsed run of unwritten slots.
#[derive(Clone, Debug, Serialize)]
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
    #[serde(skip_serializing_if = "is_one")]
    pub count: u64,
    /// In-file range of the payload (records, torn and bad-marker records).
    #[serde(skip)]
    pub payload: Option<Range<usize>>,
}

fn is_one(n: &u64) -> bool {
    *n == 1
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

/// Rows and summary of a segment. `bytes` is the file's content (any length).
pub fn rows(params: &Params, start: u64, bytes: &[u8]) -> (Vec<Row>, Summary) {
    let expected = params.file_len();
    let mut padded;
    let view: &[u8] = if (bytes.len() as u64) < expected {
        padded = bytes.to_vec();
        padded.resize(expected as usize, 0);
        &padded
    } else {
        bytes
    };
    let mut out: Vec<Row> = scan::walk(params, start, view)
        .into_iter()
        .map(|e| Row {
            offset: e.offset,
            position: e.position,
            size: e.size,
            status: e.status,
            count: 1,
            payload: matches!(e.status, Status::Ok | Status::Torn | Status::BadMarker)
                .then(|| clip(e.payload_range(params.format()), bytes.len())),
        })
        .collect();
    if params.format() == Format::Fixed {
        collapse_unwritten(&mut out);
        let span = params.span() as usize;
        if view.len() > span && view[span..].iter().any(|b| *b != 0) {
            out.push(Row {
                offset: start + span as u64,
                position: span as u64,
                size: (view.len() - span) as u64,
                status: Status::Garbage,
                count: 1,
                payload: None,
            });
        }
    }
    let mut sum = Summary {
        expected_length: expected,
        unexpected_length: (bytes.len() as u64 != expected).then_some(bytes.len() as u64),
        ..Summary::default()
    };
    for r in &out {
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
    (out, sum)
}

fn clip(r: Range<usize>, len: usize) -> Range<usize> {
    r.start.min(len)..r.end.min(len)
}

/// Folds the trailing run of unwritten slots (two or more) into one row.
fn collapse_unwritten(rows: &mut Vec<Row>) {
    let run = rows
        .iter()
        .rev()
        .take_while(|r| r.status == Status::Unwritten)
        .count();
    if run < 2 {
        return;
    }
    let first = rows.len() - run;
    let size = rows[first..].iter().map(|r| r.size).sum();
    rows.truncate(first + 1);
    rows[first].size = size;
    rows[first].count = run as u64;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_trailing_unwritten_and_flags_last_byte() {
        let p = Params::fixed(2, 9).unwrap();
        let mut bytes = vec![1, 2, 0xFF, 0, 0, 0, 0, 0, 0, 7];
        let (rows, sum) = rows(&p, 0, &bytes);
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(rows[1].count, 2);
        assert_eq!(rows[1].size, 6);
        assert_eq!(rows[2].status, Status::Garbage);
        assert_eq!(sum.damaged, 1);
        assert_eq!(sum.first_damaged_position, Some(9));
        bytes.truncate(4);
        let (_, sum) = self::rows(&p, 0, &bytes);
        assert_eq!(sum.unexpected_length, Some(4));
        assert_eq!(sum.damaged, 0);
        let (rows, _) = self::rows(&p, 0, &[]);
        assert_eq!(rows[0].count, 3);
    }
}
