//! Work on a store at rest, for operators: inspection and recovery (`recovery`), moving an
//! offset by hand (`admin`), deleting old segments (`prune`), and the one helper that locks
//! every file a change touches or refuses (`locks`).
//!
//! This wing must not import `Store`; it takes a `Layout` and `Params`. It must not print.

pub mod admin;
pub mod holders;
pub(crate) mod locks;
pub mod prune;
pub mod recovery;
