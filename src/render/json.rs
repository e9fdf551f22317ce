//! The JSON that mfq prints for scripts: the schema version every document carries, and the
//! one record object that `consume`, `tail` and `dump-segment` share, so that the same thing
//! has the same name everywhere (`record_size` is always the whole record on disk,
//! `payload_size` always the payload).
//!
//! This module owns those field names and the version; it must not read stores or decide
//! which records to print. The README's "JSON output" section documents every field; change
//! both together, and bump [`SCHEMA_VERSION`] when a field is renamed, removed or changes
//! its meaning (adding one does not).

use serde::Serialize;
use serde_json::Value;

/// The schema version, the `v` field of every JSON document mfq prints.
pub const SCHEMA_VERSION: u32 = 1;

/// One record as JSON. `consume` and `tail` print one per line (with `v`); `dump-segment`
/// prints them in its `records` list (without), with its own fields beside them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordJson {
    /// [`SCHEMA_VERSION`] where the record is a document of its own (a line of `consume` or
    /// `tail`); absent inside another document. Kept here rather than through [`Line`], which
    /// buffers its body: `consume` prints millions of these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v: Option<u32>,
    /// The record's queue offset.
    pub offset: u64,
    /// The offset of the record after it (what a commit after this record stores); `null`
    /// for a dump-segment row that is not a complete record.
    pub next_offset: Option<u64>,
    /// The bytes the record (or the dump-segment row) takes on disk: header, payload and
    /// marker.
    pub record_size: u64,
    /// The payload's length in bytes; `null` where there is no payload.
    pub payload_size: Option<u64>,
    /// The payload: `{"text": ...}`, `{"base64": ...}` or `{"hex": ...}`; `null` where there
    /// is none.
    pub payload: Option<Value>,
}

/// A whole JSON document: `v` first, then the fields of `body`.
#[derive(Serialize)]
pub struct Line<'a, T: Serialize> {
    /// Always [`SCHEMA_VERSION`].
    pub v: u32,
    /// The document's own fields.
    #[serde(flatten)]
    pub body: &'a T,
}

impl<'a, T: Serialize> Line<'a, T> {
    /// `body` as a versioned document.
    pub fn new(body: &'a T) -> Self {
        Line {
            v: SCHEMA_VERSION,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_versioned_and_flat() {
        let rec = RecordJson {
            v: None,
            offset: 3,
            next_offset: Some(9),
            record_size: 6,
            payload_size: Some(1),
            payload: Some(serde_json::json!({ "text": "a" })),
        };
        let text = serde_json::to_string(&Line::new(&rec)).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"offset":3,"next_offset":9,"record_size":6,"payload_size":1,"payload":{"text":"a"}}"#
        );
        let own = RecordJson {
            v: Some(SCHEMA_VERSION),
            ..rec
        };
        assert_eq!(serde_json::to_string(&own).unwrap(), text);
    }
}
