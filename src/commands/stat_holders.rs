//! Which processes hold a store file: Linux's `/proc/locks` gives the process ids without
//! taking any lock; a file it does not list is checked with the engine's probe
//! (`queue::is_held`: record locks, then flock), which also sees holders in other pid
//! namespaces (the table hides those) and works where `/proc/locks` does not exist.
//!
//! This module only reads; it must not take locks other than through `is_held`'s probe.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

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
}

/// The locks table, read once per `stat` run.
pub struct LockTable {
    text: String,
}

impl LockTable {
    /// Reads `/proc/locks` (an empty table when it cannot be read).
    pub fn read() -> LockTable {
        LockTable {
            text: std::fs::read_to_string("/proc/locks").unwrap_or_default(),
        }
    }

    /// The holders of `path` (a missing file is held by nobody). A file the table lists is
    /// not probed; otherwise the flock probe decides (it sees holders in other pid namespaces,
    /// which the table hides).
    pub fn holders(&self, path: &Path) -> Holders {
        let pids = match std::fs::metadata(path) {
            Ok(m) => pids_for(&self.text, m.dev(), m.ino()),
            Err(_) => Vec::new(),
        };
        let held = if pids.is_empty() {
            mfq::queue::is_held(path).ok()
        } else {
            Some(true)
        };
        Holders { held, pids }
    }
}

/// The process ids of the granted locks on the file with device `dev` and inode `ino`.
/// Lines look like `1: FLOCK  ADVISORY  WRITE 28499 fe:00:10010977 0 EOF`; waiting requests
/// (`1: -> FLOCK ...`) are skipped.
fn pids_for(table: &str, dev: u64, ino: u64) -> Vec<u32> {
    let want = format!("{:02x}:{:02x}:{ino}", major(dev), minor(dev));
    let mut pids: Vec<u32> = table
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(1) == Some(&"->") || fields.get(5) != Some(&want.as_str()) {
                return None;
            }
            fields.get(4)?.parse().ok()
        })
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// The major number of a Linux device id (glibc's encoding).
fn major(dev: u64) -> u64 {
    ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff)
}

/// The minor number of a Linux device id (glibc's encoding).
fn minor(dev: u64) -> u64 {
    (dev & 0xff) | ((dev >> 12) & !0xff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_granted_locks_only() {
        let dev = (254 << 8) | 1;
        let table = "1: FLOCK  ADVISORY  WRITE 28499 fe:01:10010977 0 EOF\n\
                     1: -> FLOCK  ADVISORY  WRITE 30000 fe:01:10010977 0 EOF\n\
                     2: FLOCK  ADVISORY  READ 41 fe:01:10010977 0 EOF\n\
                     3: POSIX  ADVISORY  WRITE 7 fe:01:99 0 EOF\n";
        assert_eq!(pids_for(table, dev, 10010977), vec![41, 28499]);
        assert_eq!(pids_for(table, dev, 5), Vec::<u32>::new());
    }

    #[test]
    fn device_numbers() {
        assert_eq!(major((254 << 8) | 3), 254);
        assert_eq!(minor((254 << 8) | 3), 3);
    }
}
