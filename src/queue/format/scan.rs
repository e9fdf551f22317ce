//! Walking every record position of one segment's bytes and classifying it: the shared
//! primitive of `dump-segment`, inspection, recovery and boundary checks.
//!
//! Fixed segments are walked slot by slot to the end of the span, so stale or torn slots after
//! an unwritten one are still seen. A stream walk follows lengths and therefore stops at the
//! first position that is not a complete record (an end, unwritten space, or damage).
//!
//! This module is pure: it takes bytes, never files.

use serde::Serialize;

use crate::queue::format::codec::{self, FixedSlot, StreamSlot, STREAM_HEADER, STREAM_OVERHEAD};
use crate::queue::format::params::{Format, Params};

/// The status of one record position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A complete record.
    Ok,
    /// Never written (zeros).
    Unwritten,
    /// Started but not finished (marker missing).
    Torn,
    /// The marker byte is wrong.
    BadMarker,
    /// The stream segment ends here (0xEE or a short zero tail).
    SegmentEnd,
    /// Bytes that cannot be a record.
    Garbage,
}

impl Status {
    /// Lowercase name, as shown to people.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Unwritten => "unwritten",
            Status::Torn => "torn",
            Status::BadMarker => "bad marker",
            Status::SegmentEnd => "segment end",
            Status::Garbage => "garbage",
        }
    }

    /// True for statuses that mean damage.
    pub fn is_damage(&self) -> bool {
        matches!(self, Status::Torn | Status::BadMarker | Status::Garbage)
    }
}

/// One classified position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Logical offset.
    pub offset: u64,
    /// In-file position.
    pub position: u64,
    /// Bytes the entry covers in the file (record size for records).
    pub size: u64,
    /// Payload length (records and torn records).
    pub payload_len: u64,
    /// What is there.
    pub status: Status,
}

impl Entry {
    /// In-file range of the payload.
    pub fn payload_range(&self, format: Format) -> std::ops::Range<usize> {
        let p = self.position as usize;
        match format {
            Format::Fixed => p..p + self.payload_len as usize,
            Format::Stream => p + STREAM_HEADER..p + STREAM_HEADER + self.payload_len as usize,
        }
    }
}

/// Walks a segment's bytes (`bytes[0]` is position 0; its length is the logical file length).
pub fn walk(params: &Params, start: u64, bytes: &[u8]) -> Vec<Entry> {
    let mut out = Vec::new();
    visit(params, start, bytes, |e| {
        out.push(e);
        true
    });
    out
}

/// Calls `f` for each entry until it returns false.
pub fn visit(params: &Params, start: u64, bytes: &[u8], mut f: impl FnMut(Entry) -> bool) {
    match params.stride() {
        Some(m) => visit_fixed(params.span() as usize, m as usize, start, bytes, &mut f),
        None => visit_stream(params.max_payload(), start, bytes, &mut f),
    }
}

fn visit_fixed(span: usize, m: usize, start: u64, bytes: &[u8], f: &mut impl FnMut(Entry) -> bool) {
    let span = span.min(bytes.len() / m * m);
    for pos in (0..span).step_by(m) {
        let status = match codec::classify_fixed(&bytes[pos..pos + m]) {
            FixedSlot::Record => Status::Ok,
            FixedSlot::Unwritten => Status::Unwritten,
            FixedSlot::Torn => Status::Torn,
            FixedSlot::BadMarker(_) => Status::BadMarker,
        };
        let e = Entry {
            offset: start + pos as u64,
            position: pos as u64,
            size: m as u64,
            payload_len: (m - 1) as u64,
            status,
        };
        if !f(e) {
            return;
        }
    }
}

fn visit_stream(max: usize, start: u64, bytes: &[u8], f: &mut impl FnMut(Entry) -> bool) {
    let mut pos = 0usize;
    let mut offset = start;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        let entry = |size: usize, len: usize, status| Entry {
            offset,
            position: pos as u64,
            size: size as u64,
            payload_len: len as u64,
            status,
        };
        let (e, step) = match codec::classify_stream(rest, max) {
            StreamSlot::Record { len } | StreamSlot::Ambiguous { len } => (
                entry(len + STREAM_OVERHEAD, len, Status::Ok),
                Some(len + STREAM_OVERHEAD),
            ),
            StreamSlot::SegmentEnd => (entry(rest.len(), 0, Status::SegmentEnd), None),
            StreamSlot::Unwritten => (entry(rest.len(), 0, Status::Unwritten), None),
            StreamSlot::Torn { len } => (entry(len + STREAM_OVERHEAD, len, Status::Torn), None),
            StreamSlot::BadMarker { len, .. } => {
                (entry(len + STREAM_OVERHEAD, len, Status::BadMarker), None)
            }
            StreamSlot::Garbage => (entry(rest.len(), 0, Status::Garbage), None),
        };
        if !f(e) {
            return;
        }
        match step {
            Some(s) => {
                pos += s;
                offset += s as u64;
            }
            None => return,
        }
    }
}

/// How many zero bytes past a short file's end a walk from the segment's start must see to
/// classify every position in the file as it would in the full segment: every record that
/// starts inside the file ends within them (a record is classified whole), and one more slot
/// or header after that reads as unwritten. The rest of a missing tail is more unwritten
/// space, which `dump-segment` counts without walking it. Walks that start further in, or that
/// look for the first bad slot past an offset, need the full length (`segment_bytes`).
pub fn zero_tail_room(params: &Params) -> u64 {
    let record = match params.stride() {
        Some(m) => m,
        None => (params.max_payload() + STREAM_OVERHEAD) as u64,
    };
    record
        .saturating_mul(2)
        .saturating_add(STREAM_OVERHEAD as u64)
}

/// End of the leading run of complete records: the logical offset after the last one.
pub fn valid_end(params: &Params, start: u64, bytes: &[u8]) -> u64 {
    let mut end = start;
    visit(params, start, bytes, |e| {
        if e.status == Status::Ok {
            end = e.offset + e.size;
            true
        } else {
            false
        }
    });
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_walk_sees_stale_after_unwritten() {
        let p = Params::fixed(2, 9).unwrap();
        let bytes = [1, 2, 0xFF, 0, 0, 0, 3, 4, 0xFF, 0];
        let st: Vec<Status> = walk(&p, 0, &bytes).iter().map(|e| e.status).collect();
        assert_eq!(st, vec![Status::Ok, Status::Unwritten, Status::Ok]);
        assert_eq!(valid_end(&p, 0, &bytes), 3);
    }

    #[test]
    fn stream_walk_stops_at_end() {
        let p = Params::stream(20).unwrap();
        let mut bytes = vec![0u8; 20];
        bytes[..6].copy_from_slice(&[1, 0, 0, 0, b'a', 0xFF]);
        bytes[6] = 0xEE;
        let w = walk(&p, 100, &bytes);
        assert_eq!(w.len(), 2);
        assert_eq!(w[0].status, Status::Ok);
        assert_eq!(w[1].status, Status::SegmentEnd);
        assert_eq!(w[1].offset, 106);
        assert_eq!(valid_end(&p, 100, &bytes), 106);
    }

    #[test]
    fn stream_walk_reads_empty_records_as_records() {
        // a, "", b, c, then zeros; and an empty record filling a 5-byte tail.
        let p = Params::stream(28).unwrap();
        let mut bytes = vec![0u8; 28];
        bytes[..23].copy_from_slice(&[
            1, 0, 0, 0, b'a', 0xFF, 0, 0, 0, 0, 0xFF, 1, 0, 0, 0, b'b', 0xFF, 1, 0, 0, 0, b'c',
            0xFF,
        ]);
        bytes[23..].copy_from_slice(&[0, 0, 0, 0, 0xFF]);
        let w = walk(&p, 0, &bytes);
        let got: Vec<(u64, u64, Status)> = w
            .iter()
            .map(|e| (e.offset, e.payload_len, e.status))
            .collect();
        assert_eq!(
            got,
            vec![
                (0, 1, Status::Ok),
                (6, 0, Status::Ok),
                (11, 1, Status::Ok),
                (17, 1, Status::Ok),
                (23, 0, Status::Ok),
            ]
        );
        assert_eq!(valid_end(&p, 0, &bytes), 28);
    }
}
