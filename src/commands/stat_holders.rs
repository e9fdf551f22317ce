//! Which processes hold a store file: Linux's `/proc/locks` gives the process ids without
//! taking any lock (the engine's `queue::holders` reads it and the commands); a file it does
//! not list is checked with the engine's probe (`queue::is_held`: record locks, then flock),
//! which also sees holders in other pid namespaces (the table hides those) and works where
//! `/proc/locks` does not exist.
//!
//! This module only reads; it must not take locks other than through `is_held`'s probe.

use std::path::Path;

use mfq::queue::holders;
use serde::Serialize;

/// Whether a file is held, and by which processes. Printed by `stat --json` with these fields.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Holders {
    /// True when another process holds a lock on the file (an mfq owner's OFD lock and
    /// `LOCK_SH`, a .NET `LOCK_SH`, or a recovery's lock on `recovery_lock.lock`); false when
    /// none does; null when the file could not be probed.
    pub held: Option<bool>,
    /// The ids of the processes `/proc/locks` lists as holding the file (may be empty even
    /// when `held` is true).
    pub pids: Vec<u32>,
    /// Those processes with their command lines (`pid`, `command`; `command` null when the
    /// system does not say).
    pub processes: Vec<holders::HolderProcess>,
}

/// The locks table, read once per `stat` run.
pub struct LockTable {
    text: String,
}

impl LockTable {
    /// Reads `/proc/locks` (an empty table when it cannot be read).
    pub fn read() -> LockTable {
        LockTable {
            text: holders::locks_table(),
        }
    }

    /// The holders of `path` (a missing file is held by nobody). A file the table lists is
    /// not probed; otherwise the flock probe decides (it sees holders in other pid namespaces,
    /// which the table hides).
    pub fn holders(&self, path: &Path) -> Holders {
        let pids = holders::holder_pids(&self.text, path);
        let held = if pids.is_empty() {
            mfq::queue::is_held(path).ok()
        } else {
            Some(true)
        };
        let processes = pids
            .iter()
            .map(|&pid| holders::HolderProcess {
                pid,
                command: holders::command_of(pid),
            })
            .collect();
        Holders {
            held,
            pids,
            processes,
        }
    }
}
