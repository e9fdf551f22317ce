//! Typed engine errors. Each variant says what went wrong, where (path, logical offset or
//! in-file position) and, where one exists, what to do next.
//!
//! This module owns the error vocabulary of the engine; it must not format for terminals or
//! know about the command line beyond naming an option or a subcommand in a hint.

use std::io;
use std::path::PathBuf;

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the engine can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a file of the store failed.
    #[error("cannot {op} {}", path.display())]
    Io {
        /// What was being done ("open", "map", "read", ...).
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The path is not a queue store.
    #[error("{} is not a queue store: {reason}", path.display())]
    NotAStore {
        /// The path given.
        path: PathBuf,
        /// Why it is not one.
        reason: String,
    },
    /// An offset file does not hold exactly 8 bytes.
    #[error("offset file {} is {len} bytes long, expected exactly 8 (run `mfq recover` to rewrite it)", path.display())]
    OffsetFileSize {
        /// The offset file.
        path: PathBuf,
        /// Its actual length.
        len: u64,
    },
    /// An offset file holds a negative value.
    #[error("offset file {} holds the negative value {value} (run `mfq recover` to repair it)", path.display())]
    NegativeOffset {
        /// The offset file.
        path: PathBuf,
        /// The value read.
        value: i64,
    },
    /// The store parameters cannot be determined.
    #[error("{reason} (pass {option})")]
    ParamsUnknown {
        /// Why inference failed.
        reason: String,
        /// The option(s) that would settle it.
        option: &'static str,
    },
    /// Explicit parameters contradict what the store says about itself.
    #[error("{what}: the store has {found}, but {given} was given (drop the option or fix it)")]
    ParamsMismatch {
        /// Which parameter.
        what: &'static str,
        /// What the store has.
        found: String,
        /// What was asked for.
        given: String,
    },
    /// One segment file does not fit the geometry the others share.
    #[error("segment file {} does not fit the store: {reason}; if it does not belong here, move it out of commitlog/ and run `mfq recover`", path.display())]
    OddSegment {
        /// The file.
        path: PathBuf,
        /// What does not fit.
        reason: String,
    },
    /// Parameters are invalid on their own.
    #[error("invalid parameters: {0}")]
    InvalidParams(String),
    /// Another process holds a file that this operation needs exclusively.
    #[error("{} is held by another process ({holder}); {hint}", path.display())]
    Locked {
        /// The file that is held.
        path: PathBuf,
        /// Who probably holds it.
        holder: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// A message was empty.
    #[error("message is empty; both formats need at least one byte")]
    EmptyMessage,
    /// A message does not fit.
    #[error("message of {len} bytes does not fit: {reason}")]
    MessageSize {
        /// The payload length.
        len: usize,
        /// Why (record size or segment capacity).
        reason: String,
    },
    /// An offset is not on a record boundary.
    #[error("offset {offset} is not on a record boundary (nearest boundaries: {})", fmt_bounds(*before, *after))]
    Misaligned {
        /// The offset asked for.
        offset: u64,
        /// The nearest boundary below, if any.
        before: Option<u64>,
        /// The nearest boundary above, if any.
        after: Option<u64>,
    },
    /// An offset lies outside what the store holds.
    #[error("offset {offset} is outside the store (records span {earliest}..{latest})")]
    OutOfRange {
        /// The offset asked for.
        offset: u64,
        /// The earliest record on disk.
        earliest: u64,
        /// The producer offset.
        latest: u64,
    },
    /// A consumer name is not allowed.
    #[error("invalid consumer name {0:?}: use 1-64 characters from A-Z a-z 0-9 _ -")]
    ConsumerName(String),
    /// A consumer does not exist.
    #[error("no consumer named {name:?} (known: {known})")]
    UnknownConsumer {
        /// The name asked for.
        name: String,
        /// The consumers that exist.
        known: String,
    },
    /// Bytes on disk are damaged.
    #[error("corrupt data in {} at position {pos} (offset {offset}): {what} (run `mfq recover`)", path.display())]
    Corrupt {
        /// The segment file.
        path: PathBuf,
        /// Position inside the file.
        pos: u64,
        /// Logical offset.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// The engine was used in a way that is not allowed.
    #[error("{0}")]
    Usage(String),
}

fn fmt_bounds(before: Option<u64>, after: Option<u64>) -> String {
    match (before, after) {
        (Some(b), Some(a)) => format!("{b} and {a}"),
        (Some(b), None) => format!("{b}"),
        (None, Some(a)) => format!("{a}"),
        (None, None) => "none".to_string(),
    }
}

impl Error {
    /// Wraps an I/O error with the operation and path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Attaches an operation and a path to an `io::Result`.
pub(crate) trait IoContext<T> {
    fn ctx(self, op: &'static str, path: &std::path::Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, op: &'static str, path: &std::path::Path) -> Result<T> {
        self.map_err(|e| Error::io(op, path, e))
    }
}
