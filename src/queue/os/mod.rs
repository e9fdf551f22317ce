//! The operating system: system calls and the only `unsafe` code (`sys`), opening a store's
//! files without leaving the store (`files`), mapped segment files (`segment`), the wake-up
//! file (`wake`), page prefaulting (`prefault`) and resource limits (`limits`).
//!
//! This wing knows nothing of records, parameters or stores; it must not import any other
//! wing (only `error`).

pub(crate) mod files;
pub mod limits;
pub(crate) mod prefault;
pub(crate) mod segment;
pub(crate) mod sys;
pub(crate) mod wake;
