//! The read path: consumers and observers (`consumer`), the read cursor over segments with its
//! fixed and stream halves (`reader`), populating pages ahead of a reader (`readahead`) and
//! waiting for new records (`waiting`).
//!
//! This wing must not import `Store`, the write path or the offline repairs; it takes a
//! `Layout`, `Params` and the store's extent (`format::positions::Extent`).

pub(crate) mod consumer;
pub(crate) mod readahead;
pub(crate) mod reader;
pub(crate) mod waiting;
