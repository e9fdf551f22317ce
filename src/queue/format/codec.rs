//! Record byte tables for both formats, and pure functions that classify bytes.
//!
//! ```text
//! Fixed format (MappedFileQueues), payload size P, stride m = P + 1:
//!   slot position | length | field
//!   0             | P      | payload (opaque bytes)
//!   P             | 1      | end marker 0xFF (written last, release store)
//!   A segment holds N = floor(SegmentSize / m) slots (logical span L = N*m) and its file is
//!   L + 1 bytes long: the last byte is never written. Unwritten slots are all zero.
//!
//! Stream format (MappedFileQueues.Stream):
//!   record position | length | field
//!   0               | 4      | payload length, i32 little-endian, 0..=min(0xFFFFFF, S-5)
//!   4               | len    | payload
//!   4 + len         | 1      | end marker 0xFF (written last, release store)
//!   When the next record does not fit, the .NET producer writes 0xEE at the current position
//!   if at least 6 bytes remain (a tail of 0-5 bytes gets nothing); mfq's producer writes it
//!   when at least 4 remain, so a .NET consumer does not wait forever at a 4- or 5-byte tail
//!   (bug SQ-2). Readers take a tail under 6 bytes as the segment end either way, zero or
//!   0xEE followed by zeros. The file is exactly S bytes.
//!   Offsets count record bytes only; the 0xEE byte and the tail do not advance them.
//!
//!   The empty record: .NET's producer accepts an empty payload and writes `00 00 00 00 FF`
//!   (5 bytes, so it also fits a 5-byte tail). It is a valid record; a zero header followed by
//!   0x00 is unwritten space. mfq's producer writes one only on a store with mfq.json, or when
//!   told to allow .NET hazards: a .NET consumer never gets past it (bug SQ-3).
//! ```
//!
//! This module owns the byte layout and nothing else: no I/O, no mappings, no policies.

/// End marker after every record's payload (both formats).
pub const END_MARKER: u8 = 0xFF;
/// Segment-end marker of the stream format.
pub const SEGMENT_END: u8 = 0xEE;
/// Stream record header length.
pub const STREAM_HEADER: usize = 4;
/// Stream record overhead: header + end marker.
pub const STREAM_OVERHEAD: usize = 5;
/// The smallest tail that receives a 0xEE marker from .NET (a record of one payload byte).
pub const STREAM_MIN_RECORD: usize = 6;
/// The smallest tail that receives a 0xEE marker from mfq: a .NET consumer reads a 4-byte
/// header wherever at least 4 bytes remain, so a tail of 4 or 5 bytes needs the marker too.
pub const STREAM_MARKED_TAIL: usize = STREAM_HEADER;
/// The largest stream payload the .NET library accepts.
pub const STREAM_MAX_PAYLOAD: usize = 0x00FF_FFFF;

/// What a fixed-format slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedSlot {
    /// Marker present: a complete record.
    Record,
    /// All bytes zero: never written.
    Unwritten,
    /// Marker absent but payload bytes present: a write that did not finish.
    Torn,
    /// Marker byte is neither 0xFF nor 0x00.
    BadMarker(u8),
}

/// Classifies one fixed slot of `P + 1` bytes.
pub fn classify_fixed(slot: &[u8]) -> FixedSlot {
    let (payload, marker) = slot.split_at(slot.len() - 1);
    match marker[0] {
        END_MARKER => FixedSlot::Record,
        0 if is_zero(payload) => FixedSlot::Unwritten,
        0 => FixedSlot::Torn,
        other => FixedSlot::BadMarker(other),
    }
}

/// What the bytes at a stream record position hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamSlot {
    /// A complete record with this payload length.
    Record {
        /// Payload length.
        len: usize,
    },
    /// A complete record whose length's low byte is 0xEE (238 mod 256), and no other data
    /// after the 0xEE: the caller must decide with the next segment's existence.
    Ambiguous {
        /// Payload length if it is a record.
        len: usize,
    },
    /// The segment ends here: a 0xEE marker, or a zero tail too short for any record (a zero
    /// tail of 5 bytes could still receive an empty record from a live .NET producer).
    SegmentEnd,
    /// Never written: zero header and zero bytes after it.
    Unwritten,
    /// A plausible header whose marker is 0x00: a write that did not finish.
    Torn {
        /// The length in the header.
        len: usize,
    },
    /// A plausible header whose marker byte is neither 0xFF nor 0x00.
    BadMarker {
        /// The length in the header.
        len: usize,
        /// The byte found where 0xFF belongs.
        byte: u8,
    },
    /// Bytes that cannot start a record (bad length, garbage in a tail).
    Garbage,
}

/// Reads the little-endian i32 header at the start of `rest` (missing bytes read as zero).
pub fn stream_len(rest: &[u8]) -> i64 {
    let mut h = [0u8; 4];
    let n = rest.len().min(4);
    h[..n].copy_from_slice(&rest[..n]);
    i32::from_le_bytes(h) as i64
}

/// Encodes a stream header.
pub fn stream_header(len: usize) -> [u8; 4] {
    (len as i32).to_le_bytes()
}

/// True when `rest` starts with .NET's empty record, `00 00 00 00 FF`.
pub fn is_empty_record(rest: &[u8]) -> bool {
    rest.len() >= STREAM_OVERHEAD
        && rest[..STREAM_HEADER] == [0; STREAM_HEADER]
        && rest[STREAM_HEADER] == END_MARKER
}

/// Classifies the bytes from a record position to the end of the segment file.
/// `max_payload` is the largest payload the store's segment size allows.
pub fn classify_stream(rest: &[u8], max_payload: usize) -> StreamSlot {
    // An empty record is a record wherever 5 bytes remain, the 5-byte tail included.
    if is_empty_record(rest) {
        return StreamSlot::Record { len: 0 };
    }
    if rest.len() < STREAM_MIN_RECORD {
        // Zeros (as .NET leaves a short tail), or 0xEE and zeros (as mfq marks a 4-5 byte one).
        let after_marker = rest.first() == Some(&SEGMENT_END) && is_zero(&rest[1..]);
        return if is_zero(rest) || after_marker {
            StreamSlot::SegmentEnd
        } else {
            StreamSlot::Garbage
        };
    }
    let len = stream_len(rest);
    let complete = |len: i64| -> Option<usize> {
        let l = usize::try_from(len).ok()?;
        (l >= 1 && l <= max_payload && STREAM_OVERHEAD + l <= rest.len()).then_some(l)
    };
    if rest[0] == SEGMENT_END && is_zero(&rest[1..]) {
        return StreamSlot::SegmentEnd;
    }
    if len == 0 {
        return if is_zero(rest) {
            StreamSlot::Unwritten
        } else {
            StreamSlot::Garbage
        };
    }
    let Some(l) = complete(len) else {
        return StreamSlot::Garbage;
    };
    match rest[STREAM_HEADER + l] {
        END_MARKER if rest[0] == SEGMENT_END => StreamSlot::Ambiguous { len: l },
        END_MARKER => StreamSlot::Record { len: l },
        0 => StreamSlot::Torn { len: l },
        byte => StreamSlot::BadMarker { len: l, byte },
    }
}

/// True when every byte is zero.
pub fn is_zero(bytes: &[u8]) -> bool {
    let chunks = bytes.chunks_exact(8);
    let rest = chunks.remainder();
    chunks
        .into_iter()
        .all(|c| u64::from_ne_bytes(c.try_into().expect("8 bytes")) == 0)
        && rest.iter().all(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_slots() {
        assert_eq!(classify_fixed(&[1, 2, 0xFF]), FixedSlot::Record);
        assert_eq!(classify_fixed(&[0, 0, 0]), FixedSlot::Unwritten);
        assert_eq!(classify_fixed(&[0, 7, 0]), FixedSlot::Torn);
        assert_eq!(classify_fixed(&[0, 0, 0xFE]), FixedSlot::BadMarker(0xFE));
    }

    #[test]
    fn stream_slots() {
        let mut rec = vec![3, 0, 0, 0, b'a', b'b', b'c', 0xFF, 0, 0];
        assert_eq!(classify_stream(&rec, 100), StreamSlot::Record { len: 3 });
        rec[7] = 0;
        assert_eq!(classify_stream(&rec, 100), StreamSlot::Torn { len: 3 });
        rec[7] = 0x12;
        assert_eq!(
            classify_stream(&rec, 100),
            StreamSlot::BadMarker { len: 3, byte: 0x12 }
        );
        assert_eq!(classify_stream(&[0; 10], 100), StreamSlot::Unwritten);
        assert_eq!(classify_stream(&[0; 5], 100), StreamSlot::SegmentEnd);
        assert_eq!(classify_stream(&[1, 0, 0, 0, 0], 100), StreamSlot::Garbage);
        let mut end = vec![0u8; 14];
        end[0] = SEGMENT_END;
        assert_eq!(classify_stream(&end, 100), StreamSlot::SegmentEnd);
        assert_eq!(
            classify_stream(&[200, 0, 0, 0, 0, 0], 100),
            StreamSlot::Garbage
        );
        assert_eq!(classify_stream(&[0xFF; 8], 100), StreamSlot::Garbage);
    }

    #[test]
    fn empty_record_is_a_record_and_zeros_are_not() {
        let empty = [0, 0, 0, 0, 0xFF];
        // Mid-segment, followed by a record or by zeros.
        let mut rest = empty.to_vec();
        rest.extend([1, 0, 0, 0, b'b', 0xFF, 0, 0]);
        assert_eq!(classify_stream(&rest, 100), StreamSlot::Record { len: 0 });
        assert_eq!(
            classify_stream(&[0, 0, 0, 0, 0xFF, 0, 0, 0], 100),
            StreamSlot::Record { len: 0 }
        );
        // The 5-byte tail: an empty record fits it exactly; zeros there are the segment end.
        assert_eq!(classify_stream(&empty, 100), StreamSlot::Record { len: 0 });
        assert_eq!(classify_stream(&[0; 5], 100), StreamSlot::SegmentEnd);
        // A 4-byte tail cannot hold one.
        assert_eq!(classify_stream(&[0, 0, 0, 0], 100), StreamSlot::SegmentEnd);
        // mfq marks 4- and 5-byte tails with 0xEE; anything else there is garbage.
        assert_eq!(
            classify_stream(&[0xEE, 0, 0, 0], 100),
            StreamSlot::SegmentEnd
        );
        assert_eq!(
            classify_stream(&[0xEE, 0, 0, 0, 0], 100),
            StreamSlot::SegmentEnd
        );
        assert_eq!(classify_stream(&[0xEE, 0, 1, 0], 100), StreamSlot::Garbage);
        assert_eq!(classify_stream(&[0, 0xEE, 0, 0], 100), StreamSlot::Garbage);
        // A zero header followed by 0x00 is unwritten space, not an empty record.
        assert_eq!(classify_stream(&[0; 12], 100), StreamSlot::Unwritten);
        // A zero header with another byte after it is not a record.
        assert_eq!(
            classify_stream(&[0, 0, 0, 0, 0x12, 0, 0], 100),
            StreamSlot::Garbage
        );
        // 0xEE and zeros after it still end the segment.
        let mut end = [0u8; 8];
        end[0] = SEGMENT_END;
        assert_eq!(classify_stream(&end, 100), StreamSlot::SegmentEnd);
    }

    #[test]
    fn stream_238_is_ambiguous_not_end() {
        let mut rec = vec![0u8; 4 + 238 + 1 + 3];
        rec[..4].copy_from_slice(&stream_header(238));
        rec[4..242].fill(b'x');
        rec[242] = 0xFF;
        assert_eq!(rec[0], SEGMENT_END);
        assert_eq!(
            classify_stream(&rec, 1000),
            StreamSlot::Ambiguous { len: 238 }
        );
    }

    #[test]
    fn zero_check() {
        assert!(is_zero(&[0; 17]));
        let mut v = [0u8; 17];
        v[16] = 1;
        assert!(!is_zero(&v));
        v[16] = 0;
        v[3] = 1;
        assert!(!is_zero(&v));
    }
}
