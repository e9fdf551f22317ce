//! The on-disk format: record bytes and their constants (`codec`), walking records (`scan`),
//! store parameters and `mfq.json` (`params`), file names (`layout`), the 8-byte offset files
//! (`offsets`), record boundaries and the data end (`positions`), and inferring parameters from
//! the files (`infer`).
//!
//! This wing knows bytes and names on disk. It must not import `Store`, the read or write
//! paths, or the offline repairs; it may use `os` for mappings and locks.

pub mod codec;
pub mod gaps;
pub(crate) mod infer;
pub mod layout;
pub mod offsets;
pub(crate) mod params;
pub mod positions;
pub mod scan;
