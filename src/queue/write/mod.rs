//! The write path: the single producer (`producer`), its background flusher (`flusher`) and
//! the preparation of pages ahead of it (`pageprep`).
//!
//! This wing must not import `Store` or the read path; it takes a `Layout` and `Params`.

pub(crate) mod flusher;
pub(crate) mod pageprep;
pub(crate) mod producer;
