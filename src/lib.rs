//! mfq: a persistent inter-process queue in memory-mapped files, byte-compatible with the .NET
//! libraries MappedFileQueues (fixed-size records) and MappedFileQueues.Stream (variable-length
//! records), and the `mfq` command line that operates on such stores.
//!
//! Glossary:
//! - **store**: a folder with `commitlog/` (segments) and `offset/` (offset files).
//! - **segment**: one file in `commitlog/`, named by the logical offset of its first record in
//!   exactly 20 digits.
//! - **record**: one message on disk: payload plus end marker (fixed), or length, payload and
//!   end marker (stream).
//! - **offset**: a logical byte position in the whole queue (`u64`), counting record bytes.
//! - **position**: a byte index inside one segment file (`usize`/`u64` named `pos`/`position`).
//! - **consumer**: a reader with its own committed offset file; **observer**: one without.
//!
//! The engine lives in [`queue`]; the command line in the binary's own modules.

#![warn(missing_docs)]

pub mod queue;
