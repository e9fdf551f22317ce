//! Which processes hold a store file, as far as the system tells: Linux's `/proc/locks` lists
//! the process id of each granted flock and POSIX lock (an mfq owner's OFD lock shows no
//! process, but its `LOCK_SH` does), and `/proc/PID/cmdline` gives the command. Nothing is
//! locked here; holders in another pid namespace are not listed, and where `/proc` is missing
//! the list is empty.
//!
//! This module owns naming holders; it must not decide whether a file is held (see `locks`).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use serde::Serialize;

/// Most characters of a holder's command line kept.
const COMMAND_CHARS: usize = 120;

/// A process that holds a lock on a file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HolderProcess {
    /// Its process id.
    pub pid: u32,
    /// Its command line, arguments joined by spaces (cut at 120 characters); `None` when the
    /// system does not say (the process ended, or it belongs to another user).
    pub command: Option<String>,
}

/// The processes `/proc/locks` lists as holding `path` (none for a missing file), with their
/// commands.
pub fn holder_processes(path: &Path) -> Vec<HolderProcess> {
    holder_pids(&locks_table(), path)
        .into_iter()
        .map(|pid| HolderProcess {
            pid,
            command: command_of(pid),
        })
        .collect()
}

/// The text of `/proc/locks` (empty when it cannot be read).
pub fn locks_table() -> String {
    std::fs::read_to_string("/proc/locks").unwrap_or_default()
}

/// The ids of the processes `table` (the text of `/proc/locks`) lists as holding `path`.
pub fn holder_pids(table: &str, path: &Path) -> Vec<u32> {
    match std::fs::metadata(path) {
        Ok(m) => pids_for(table, m.dev(), m.ino()),
        Err(_) => Vec::new(),
    }
}

/// The command line of process `pid`, arguments joined by spaces.
pub fn command_of(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    if words.is_empty() {
        return None;
    }
    let line = words.join(" ");
    Some(match line.char_indices().nth(COMMAND_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    })
}

/// The process ids of the granted locks on the file with device `dev` and inode `ino`.
/// Lines look like `1: FLOCK  ADVISORY  WRITE 28499 fe:00:10010977 0 EOF`; waiting requests
/// (`1: -> FLOCK ...`) are skipped, and so are OFD locks (pid -1).
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
                     3: POSIX  ADVISORY  WRITE 7 fe:01:99 0 EOF\n\
                     4: OFDLCK ADVISORY  WRITE -1 fe:01:10010977 0 EOF\n";
        assert_eq!(pids_for(table, dev, 10010977), vec![41, 28499]);
        assert_eq!(pids_for(table, dev, 5), Vec::<u32>::new());
    }

    #[test]
    fn device_numbers() {
        assert_eq!(major((254 << 8) | 3), 254);
        assert_eq!(minor((254 << 8) | 3), 3);
    }

    #[test]
    fn this_process_has_a_command() {
        let me = command_of(std::process::id()).expect("/proc/self/cmdline");
        assert!(!me.is_empty());
        assert!(command_of(u32::MAX).is_none());
    }
}
