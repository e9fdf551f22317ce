//! Where things live inside a store folder, and how segment files are named and listed.
//!
//! ```text
//! StorePath/
//!   commitlog/<start offset, exactly 20 decimal digits>   segment files
//!   offset/producer.offset                                 8 bytes, i64 LE
//!   offset/producer.confirmed.offset                       8 bytes, i64 LE (fixed .NET v0.3+, mfq)
//!   offset/consumer.offset                                 8 bytes, the default consumer
//!   offset/consumer.<NAME>.offset                          8 bytes, named consumers (mfq only)
//!   mfq.json                                               mfq's metadata (format, sizes)
//!   mfq.wake                                               mfq's futex word for blocked consumers
//!   recovery_lock.lock                                     empty; locked during a recovery (fixed .NET v0.4+, mfq)
//! ```
//! The .NET libraries ignore files they do not know, so mfq's extra files are harmless to them.
//!
//! This module owns paths and names; it must not open segments or interpret bytes.

use std::path::{Path, PathBuf};

use crate::queue::error::{Error, IoContext, Result};

/// Folder of segment files.
pub const COMMITLOG_DIR: &str = "commitlog";
/// Folder of offset files.
pub const OFFSET_DIR: &str = "offset";
/// Producer offset file name.
pub const PRODUCER_OFFSET: &str = "producer.offset";
/// Confirmed (synced) producer offset file name.
pub const CONFIRMED_OFFSET: &str = "producer.confirmed.offset";
/// Default consumer offset file name.
pub const CONSUMER_OFFSET: &str = "consumer.offset";
/// mfq metadata file name (at the store root).
pub const META_FILE: &str = "mfq.json";
/// mfq wake-up file name (at the store root).
pub const WAKE_FILE: &str = "mfq.wake";
/// The recovery lock file of the fixed .NET library v0.4+ (at the store root), which mfq's
/// changes lock too.
pub const RECOVERY_LOCK: &str = "recovery_lock.lock";

/// Formats a segment start offset as its 20-digit file name.
pub fn segment_name(start: u64) -> String {
    format!("{start:020}")
}

/// Why a file name is not a segment name: not 20 ASCII digits, or 20 digits beyond the
/// largest offset .NET can store (`i64::MAX`).
pub fn not_a_segment_name(name: &str) -> &'static str {
    if name.len() == 20 && name.bytes().all(|b| b.is_ascii_digit()) {
        return "a 20-digit name whose offset is beyond the .NET limit of 9223372036854775807";
    }
    "not a 20-digit segment name"
}

/// Parses a segment file name: exactly 20 ASCII digits whose value fits an i64.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    if name.len() != 20 || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse::<u64>().ok().filter(|v| *v <= i64::MAX as u64)
}

/// A consumer's identity: the default one (`consumer.offset`) or a named one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConsumerId {
    /// `offset/consumer.offset`, the one the .NET libraries use.
    Default,
    /// `offset/consumer.<NAME>.offset`.
    Named(String),
}

impl ConsumerId {
    /// Parses a consumer name; `consumer` (or `default`) means the default consumer.
    pub fn parse(name: &str) -> Result<ConsumerId> {
        if name == "consumer" || name == "default" {
            return Ok(ConsumerId::Default);
        }
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            && name != "producer";
        if ok {
            Ok(ConsumerId::Named(name.to_string()))
        } else {
            Err(Error::ConsumerName(name.to_string()))
        }
    }

    /// The offset file name.
    pub fn file_name(&self) -> String {
        match self {
            ConsumerId::Default => CONSUMER_OFFSET.to_string(),
            ConsumerId::Named(n) => format!("consumer.{n}.offset"),
        }
    }

    /// Recognises a consumer offset file name.
    pub fn from_file_name(file: &str) -> Option<ConsumerId> {
        if file == CONSUMER_OFFSET {
            return Some(ConsumerId::Default);
        }
        let name = file.strip_prefix("consumer.")?.strip_suffix(".offset")?;
        match ConsumerId::parse(name) {
            Ok(ConsumerId::Named(n)) => Some(ConsumerId::Named(n)),
            _ => None,
        }
    }

    /// A display name: `consumer` for the default one.
    pub fn name(&self) -> &str {
        match self {
            ConsumerId::Default => "consumer",
            ConsumerId::Named(n) => n,
        }
    }
}

impl std::fmt::Display for ConsumerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Paths as JSON text, lossily (U+FFFD for bytes that are not UTF-8), for
/// `#[serde(serialize_with)]`: serde's own `Path` serialization fails on such a path, and a
/// report or a plan must serialize whatever the store's path is.
pub mod lossy {
    use std::path::{Path, PathBuf};

    use serde::Serializer;

    /// One path.
    pub fn path<S: Serializer>(p: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&p.to_string_lossy())
    }

    /// An optional path.
    pub fn opt_path<S: Serializer>(p: &Option<PathBuf>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => s.serialize_some(&p.to_string_lossy()),
            None => s.serialize_none(),
        }
    }

    /// A list of paths.
    pub fn paths<S: Serializer>(ps: &[PathBuf], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(ps.iter().map(|p| p.to_string_lossy()))
    }
}

/// One segment file found in `commitlog/`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SegmentFile {
    /// Logical offset of its first record (from the name).
    pub start: u64,
    /// Full path.
    #[serde(serialize_with = "lossy::path")]
    pub path: PathBuf,
    /// Length on disk in bytes.
    pub len: u64,
}

/// A file in `commitlog/` that is not a segment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StrayFile {
    /// Full path.
    #[serde(serialize_with = "lossy::path")]
    pub path: PathBuf,
    /// Why it was skipped.
    pub reason: &'static str,
}

/// The paths of one store.
#[derive(Clone, Debug)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// A layout rooted at `root` (nothing is checked).
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// The store folder.
    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `commitlog/`.
    pub fn commitlog(&self) -> PathBuf {
        self.root.join(COMMITLOG_DIR)
    }
    /// `offset/`.
    pub fn offset_dir(&self) -> PathBuf {
        self.root.join(OFFSET_DIR)
    }
    /// A segment's path.
    pub fn segment(&self, start: u64) -> PathBuf {
        self.commitlog().join(segment_name(start))
    }
    /// `offset/producer.offset`.
    pub fn producer_offset(&self) -> PathBuf {
        self.offset_dir().join(PRODUCER_OFFSET)
    }
    /// `offset/producer.confirmed.offset`.
    pub fn confirmed_offset(&self) -> PathBuf {
        self.offset_dir().join(CONFIRMED_OFFSET)
    }
    /// A consumer's offset file.
    pub fn consumer_offset(&self, id: &ConsumerId) -> PathBuf {
        self.offset_dir().join(id.file_name())
    }
    /// `mfq.json`.
    pub fn meta(&self) -> PathBuf {
        self.root.join(META_FILE)
    }
    /// `mfq.gaps`: the gaps a repair left on purpose (see `format/gaps.rs`).
    pub fn gaps(&self) -> PathBuf {
        self.root.join("mfq.gaps")
    }
    /// `mfq-repair.json`: the plan of a repair under way (see `offline/recovery/journal.rs`).
    pub fn repair_journal(&self) -> PathBuf {
        self.root.join("mfq-repair.json")
    }
    /// `mfq.wake`.
    pub fn wake(&self) -> PathBuf {
        self.root.join(WAKE_FILE)
    }
    /// `recovery_lock.lock`.
    pub fn recovery_lock(&self) -> PathBuf {
        self.root.join(RECOVERY_LOCK)
    }

    /// Lists segment files sorted by start, and the files that are not segments.
    /// A missing `commitlog/` lists nothing.
    pub fn list_segments(&self) -> Result<(Vec<SegmentFile>, Vec<StrayFile>)> {
        let dir = self.commitlog();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((vec![], vec![])),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut segs = Vec::new();
        let mut stray = Vec::new();
        for entry in entries {
            let entry = entry.ctx("list", &dir)?;
            let path = entry.path();
            let name = entry.file_name();
            // Not followed: a symlink under a segment name is a stray, never a segment.
            let meta = std::fs::symlink_metadata(&path).ctx("stat", &path)?;
            let parsed = name.to_str().and_then(parse_segment_name);
            match parsed {
                Some(start) if meta.is_file() => segs.push(SegmentFile {
                    start,
                    path,
                    len: meta.len(),
                }),
                Some(_) => stray.push(StrayFile {
                    path,
                    reason: "a segment name that is not a regular file",
                }),
                None => stray.push(StrayFile {
                    reason: not_a_segment_name(&name.to_string_lossy()),
                    path,
                }),
            }
        }
        segs.sort_by_key(|s| s.start);
        stray.sort_by(|a, b| a.path.cmp(&b.path));
        Ok((segs, stray))
    }

    /// Lists the consumers that have an offset file, default first.
    pub fn list_consumers(&self) -> Result<Vec<ConsumerId>> {
        let dir = self.offset_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.ctx("list", &dir)?;
            if let Some(id) = entry
                .file_name()
                .to_str()
                .and_then(ConsumerId::from_file_name)
            {
                ids.push(id);
            }
        }
        ids.sort();
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_20_digits() {
        assert_eq!(segment_name(85), "00000000000000000085");
        assert_eq!(parse_segment_name("00000000000000000085"), Some(85));
        assert_eq!(parse_segment_name("0000000000000000085"), None);
        assert_eq!(parse_segment_name("000000000000000000085"), None);
        assert_eq!(parse_segment_name("0000000000000000008a"), None);
        assert_eq!(parse_segment_name("99999999999999999999"), None);
    }

    #[test]
    fn consumer_names() {
        assert_eq!(ConsumerId::parse("consumer").unwrap(), ConsumerId::Default);
        let id = ConsumerId::parse("audit-1").unwrap();
        assert_eq!(id.file_name(), "consumer.audit-1.offset");
        assert_eq!(
            ConsumerId::from_file_name("consumer.audit-1.offset"),
            Some(id)
        );
        assert!(ConsumerId::parse("a/b").is_err());
        assert!(ConsumerId::parse("").is_err());
        assert!(ConsumerId::parse("producer").is_err());
        assert_eq!(ConsumerId::from_file_name("producer.offset"), None);
    }
}
