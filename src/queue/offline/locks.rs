//! The one way an offline change takes the files it touches from live processes: probe a file
//! for a live holder, take one file exclusively or learn that it is held, or lock every file a
//! change touches and refuse (typed [`Error::Locked`]) when any is held.
//!
//! Every lock an admin command takes goes through here, so that the lock discipline (which
//! lock, on which file, what a holder means) is decided in one place. This module must not
//! decide what a change is; it only locks.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::queue::error::{Error, Holder, IoContext, Result};
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::{self, Lock};

/// What taking one file found.
#[derive(Debug)]
pub(crate) enum Taken {
    /// The file is locked exclusively by this process until the `File` is dropped.
    Locked(File),
    /// Another open file (a live process) holds it.
    Held,
    /// There is no such file.
    Missing,
}

/// Opens `path` (read-only, or read-write with `write`) and tries `LOCK_EX | LOCK_NB` on it.
pub(crate) fn take(path: &Path, write: bool) -> Result<Taken> {
    // Opening a FIFO would block and a symlink leads out of the store: only regular files are
    // locked (`files` refuses the rest).
    let how = if write { How::ReadWrite } else { How::Read };
    let file = match files::open_in_store(path, how) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(Taken::Missing),
        Err(e) => return Err(e),
    };
    if sys::try_lock(&file, Lock::Exclusive).ctx("lock", path)? {
        Ok(Taken::Locked(file))
    } else {
        Ok(Taken::Held)
    }
}

/// Probes whether another process holds a file; `Ok(true)` when it does. The lock is released
/// at once. A missing file is not held; anything but a regular file is not probed (`false`).
pub fn is_held(path: &Path) -> Result<bool> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return Ok(false);
    }
    match take(path, false)? {
        Taken::Held => Ok(true),
        Taken::Locked(f) => {
            sys::unlock(&f);
            Ok(false)
        }
        Taken::Missing => Ok(false),
    }
}

/// Exclusive locks on every file a change touches, released when dropped.
#[derive(Debug, Default)]
pub(crate) struct LockSet {
    files: Vec<File>,
}

/// Locks every existing file of `paths` exclusively (opened read-write with `write`). A file a
/// live process holds refuses the whole change with [`Error::Locked`], unless `force`: then it
/// is noted as held and the change goes on.
pub(crate) fn lock_all(
    paths: impl IntoIterator<Item = PathBuf>,
    write: bool,
    force: bool,
) -> Result<LockSet> {
    let mut set = LockSet::default();
    for path in paths {
        match take(&path, write)? {
            Taken::Locked(f) => set.files.push(f),
            Taken::Missing => {}
            Taken::Held if force => {}
            Taken::Held => {
                return Err(Error::Locked {
                    path,
                    holder: Holder::LiveProcess,
                })
            }
        }
    }
    Ok(set)
}
