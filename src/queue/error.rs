//! Typed engine errors. Each variant says what went wrong, where (path, logical offset or
//! in-file position) and, where one exists, what to do next.
//!
//! This module owns the error vocabulary of the engine. Errors carry facts (the parameter, the
//! holder, the value given) and, where one exists, a [`Hint`] as data: what to do, not how to
//! spell it. The command layer phrases hints with its own flags and subcommands; this module
//! must not format for terminals or name a command-line option.

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
        /// What would make it one, if anything.
        hint: Option<Hint>,
    },
    /// A segment file is shorter than its segment size and the missing bytes cannot be held
    /// as zeros: the segment size is probably wrong.
    #[error("segment file {} is {have} bytes, but the segment size makes it {len}: cannot hold the missing bytes as zeros ({why})", path.display())]
    SegmentTooLarge {
        /// The segment file.
        path: PathBuf,
        /// Its length.
        have: u64,
        /// The length the segment size gives it.
        len: u64,
        /// Why it cannot be held.
        why: String,
    },
    /// An offset file does not hold exactly 8 bytes.
    #[error("offset file {} is {len} bytes long, expected exactly 8", path.display())]
    OffsetFileSize {
        /// The offset file.
        path: PathBuf,
        /// Its actual length.
        len: u64,
    },
    /// An offset file holds a negative value.
    #[error("offset file {} holds the negative value {value}", path.display())]
    NegativeOffset {
        /// The offset file.
        path: PathBuf,
        /// The value read.
        value: i64,
    },
    /// The store parameters cannot be determined.
    #[error("{reason} (give {need})")]
    ParamsUnknown {
        /// Why inference failed.
        reason: String,
        /// What would settle it.
        need: Need,
    },
    /// Explicit parameters contradict what the store says about itself.
    #[error("{what}: the store has {found}, but {what} {given} was given")]
    ParamsMismatch {
        /// Which parameter.
        what: Param,
        /// What the store has.
        found: String,
        /// The value asked for.
        given: String,
    },
    /// One segment file does not fit the geometry the others share.
    #[error("segment file {} does not fit the store: {reason}", path.display())]
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
    #[error("{} is held by another process ({holder})", path.display())]
    Locked {
        /// The file that is held.
        path: PathBuf,
        /// Who probably holds it.
        holder: Holder,
        /// The processes the system names as holding it (may be empty: see
        /// [`crate::queue::offline::holders`]).
        processes: Vec<crate::queue::offline::holders::HolderProcess>,
    },
    /// A message was empty.
    #[error("message is empty; both formats need at least one byte")]
    EmptyMessage,
    /// A stream message that a .NET consumer could not get past, refused on a store that a
    /// .NET reader may read (one without `mfq.json`) unless the producer allows it. Nothing
    /// was written.
    #[error("a message of {len} bytes would stop a .NET consumer for good: {hazard}; this store has no mfq.json, so a .NET reader may read it")]
    DotnetHazard {
        /// The payload length.
        len: usize,
        /// Which .NET bug it would hit.
        hazard: DotnetHazard,
    },
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
    #[error("corrupt data in {} at position {pos} (offset {offset}): {what}", path.display())]
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
    /// A change was refused because it would lose or hide records, or cannot be done on
    /// this store as it is; `hint` says what would let it through.
    #[error("{reason}")]
    Refused {
        /// What the change would do, with the offsets involved.
        reason: String,
        /// What would let it through, if anything.
        hint: Option<Hint>,
    },
    /// A repair would zero or delete non-zero bytes below the confirmed offset: messages a
    /// producer was told are safe. Nothing was changed.
    #[error("a repair of {} would remove confirmed messages: bytes {from}..{to} below the confirmed offset {confirmed} ({records} complete records); nothing was changed", path.display())]
    ConfirmedLoss {
        /// The store.
        path: PathBuf,
        /// The confirmed offset.
        confirmed: u64,
        /// First offset removed.
        from: u64,
        /// End of what is removed below the confirmed offset.
        to: u64,
        /// Complete records among the bytes removed.
        records: u64,
    },
    /// An offset would pass the .NET limit: both .NET libraries keep offsets (segment names,
    /// offset files) as signed 64-bit numbers, so nothing may lie beyond `i64::MAX`.
    #[error("offset {offset} is beyond the .NET limit of {} ({what})", i64::MAX)]
    OffsetLimit {
        /// The offset that would be reached or was found (wider than `u64`: a 20-digit name
        /// may exceed it).
        offset: u128,
        /// What reached it.
        what: String,
    },
    /// Syncing written records to disk failed (the background flusher or an inline flush);
    /// the records after the confirmed offset are not known to be on disk.
    #[error("cannot sync {} to disk", path.display())]
    Flush {
        /// The file whose sync failed.
        path: PathBuf,
        /// The operating system's error (`ErrorKind::StorageFull` for a full disk).
        #[source]
        source: io::Error,
    },
    /// Something other than a regular file (a symlink, FIFO, folder, device) stands where the
    /// store keeps one of its files: it is neither followed nor changed.
    #[error("{} is a {found}, not a regular file or folder of the store; it is left as it is", path.display())]
    NotRegular {
        /// The path inside the store.
        path: PathBuf,
        /// What is there ("symlink", "FIFO", "directory", ...).
        found: &'static str,
    },
    /// The engine was used in a way that its API does not allow.
    #[error("{0}")]
    Usage(String),
}

/// A store parameter, named as the engine knows it (the command line has its own spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// The record format (fixed or stream).
    Format,
    /// The fixed payload size.
    RecordSize,
    /// The .NET `SegmentSize`.
    SegmentSize,
}

impl std::fmt::Display for Param {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Param::Format => "format",
            Param::RecordSize => "record size",
            Param::SegmentSize => "segment size",
        })
    }
}

/// What would settle parameters that cannot be determined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Each of these parameters, given explicitly.
    Params(&'static [Param]),
    /// The other format than the one given.
    OtherFormat,
    /// The format, and the record size when it is fixed.
    FormatThenRecordSize,
}

impl std::fmt::Display for Need {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Need::Params(ps) => {
                let names: Vec<String> = ps.iter().map(|p| format!("the {p}")).collect();
                f.write_str(&join_and(&names))
            }
            Need::OtherFormat => f.write_str("the right format"),
            Need::FormatThenRecordSize => {
                f.write_str("the format (and the record size for a fixed store)")
            }
        }
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Bytes that mfq reads but a .NET (MappedFileQueues.Stream) consumer cannot get past; the
/// spec's bugs SQ-1 to SQ-3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DotnetHazard {
    /// A payload length of 238 mod 256: the .NET consumer reads the low length byte (0xEE) as
    /// the segment-end marker and looks the same segment up again, forever (SQ-1).
    EeLength,
    /// An empty payload (`00 00 00 00 FF`): the .NET consumer takes a zero length for a record
    /// not yet written and waits there forever (SQ-3).
    EmptyPayload,
    /// A segment tail of 4 or 5 bytes without a 0xEE: a .NET consumer that read up to it reads
    /// a zero header there and waits forever instead of moving to the next segment (SQ-2).
    ShortTail,
}

impl DotnetHazard {
    /// The hazard a stream payload of `len` bytes carries, if any.
    pub fn of_payload(len: usize) -> Option<DotnetHazard> {
        if len == 0 {
            Some(DotnetHazard::EmptyPayload)
        } else if len % 256 == 238 {
            Some(DotnetHazard::EeLength)
        } else {
            None
        }
    }
}

impl std::fmt::Display for DotnetHazard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DotnetHazard::EeLength => {
                "its length is 238 mod 256, whose low byte 0xEE a .NET consumer reads as the \
                 segment end, then looks the same segment up again forever (.NET bug SQ-1)"
            }
            DotnetHazard::EmptyPayload => {
                "it is empty, and a .NET consumer takes a zero length for a record not yet \
                 written and waits there forever (.NET bug SQ-3)"
            }
            DotnetHazard::ShortTail => {
                "it follows a segment tail of 4 or 5 bytes without 0xEE, where a .NET consumer \
                 that read up to the tail waits forever instead of moving to the next segment \
                 (.NET bug SQ-2)"
            }
        })
    }
}

/// Who probably holds a file that an operation needs exclusively.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holder {
    /// Any live producer or consumer (an offline change found the file held).
    LiveProcess,
    /// Another producer, of mfq or .NET.
    Producer,
    /// Another consumer of the same name, of mfq or .NET.
    SameConsumer,
    /// A process that does not take mfq's exclusive lock (a .NET producer, or any other
    /// process) has the producer's offset files open.
    DotnetProducer,
    /// A .NET process is running its start-up recovery (it holds a POSIX lock on
    /// `recovery_lock.lock`).
    DotnetRecovery,
    /// Another mfq process is changing the store (an offline change, or a producer's repair
    /// at open).
    OtherChange,
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Holder::LiveProcess => "a live producer or consumer",
            Holder::Producer => "another producer (mfq or .NET)",
            Holder::SameConsumer => "another consumer with this name (mfq or .NET)",
            Holder::DotnetProducer => "a .NET producer, or another process that is not mfq",
            Holder::DotnetRecovery => "a .NET process running its start-up recovery",
            Holder::OtherChange => "another mfq process changing the store",
        })
    }
}

/// What an operator can do about an error, as data; the command layer phrases it with its own
/// flags and subcommands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// Run a recovery of the store.
    Recover,
    /// Run a recovery of the store, which rewrites the damaged offset file.
    RecoverOffsetFile,
    /// The file may not belong to the store: move it out of `commitlog/`, then recover.
    MoveOutThenRecover,
    /// Give the parameters explicitly (see the [`Need`]).
    GiveParams(Need),
    /// Drop the given parameter, or correct it.
    DropOrFixParam(Param),
    /// Create the store, giving its parameters.
    CreateStore,
    /// Stop the holder first, or override the lock.
    StopHolderOrForce,
    /// A store has one producer at a time: stop the other one first.
    StopOtherProducer,
    /// Stop the other consumer, or read under another consumer name.
    StopConsumerOrRename,
    /// The holder may be a process that does not say who it is: the store's status names
    /// the processes that hold its files.
    NameHolders,
    /// The holder is done in a moment: run the command again.
    RetrySoon,
    /// Override the check.
    Force,
    /// Check the segment size (or the recorded parameters).
    CheckSegmentSize,
    /// Move the odd file out of the store (or replace it with a regular file), then retry.
    MoveAside,
    /// Look at what a repair would remove (its dry run), then consent to removing it.
    ReviewThenConsent,
    /// The removed bytes do not fit where they would be saved: save them on another
    /// filesystem, or do not save them.
    SaveElsewhereOrNoSave,
    /// The bytes would stop a .NET consumer: allow them anyway (mfq's readers read them).
    AllowDotnetHazards,
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
    /// What an operator can do about this error, if anything.
    pub fn hint(&self) -> Option<Hint> {
        match self {
            Error::OffsetFileSize { .. } | Error::NegativeOffset { .. } => {
                Some(Hint::RecoverOffsetFile)
            }
            Error::Corrupt { .. } => Some(Hint::Recover),
            Error::OddSegment { .. } => Some(Hint::MoveOutThenRecover),
            Error::ParamsUnknown { need, .. } => Some(Hint::GiveParams(*need)),
            Error::ParamsMismatch { what, .. } => Some(Hint::DropOrFixParam(*what)),
            Error::Locked { holder, .. } => Some(match holder {
                Holder::LiveProcess => Hint::StopHolderOrForce,
                Holder::Producer => Hint::StopOtherProducer,
                Holder::SameConsumer => Hint::StopConsumerOrRename,
                Holder::DotnetProducer => Hint::NameHolders,
                Holder::DotnetRecovery | Holder::OtherChange => Hint::RetrySoon,
            }),
            Error::NotAStore { hint, .. } => *hint,
            Error::Refused { hint, .. } => *hint,
            Error::SegmentTooLarge { .. } => Some(Hint::CheckSegmentSize),
            Error::NotRegular { .. } => Some(Hint::MoveAside),
            Error::ConfirmedLoss { .. } => Some(Hint::ReviewThenConsent),
            Error::DotnetHazard { .. } => Some(Hint::AllowDotnetHazards),
            _ => None,
        }
    }

    /// Whether this is an I/O error for a file that does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }

    /// [`Error::Locked`] for `path`, naming the processes that hold it where the system tells.
    pub fn locked(path: impl Into<PathBuf>, holder: Holder) -> Self {
        let path = path.into();
        let processes = crate::queue::offline::holders::holder_processes(&path);
        Error::Locked {
            path,
            holder,
            processes,
        }
    }

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
