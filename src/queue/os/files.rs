//! Opening, creating and deleting files inside a store without ever leaving it: the one place
//! that decides how a store file is opened.
//!
//! Every file the engine opens inside a store (segments, offset files, `mfq.wake`, `mfq.json`,
//! temporary files, salvage copies) is opened here with `O_NOFOLLOW | O_NONBLOCK` and checked
//! with `fstat` to be a regular file; a symlink, FIFO, directory, socket or device in its place
//! is refused with [`Error::NotRegular`] before a byte is read or written, so a planted
//! symlink never redirects a write (or a truncation, a mapping, a deletion) outside the store
//! and a FIFO never blocks. New files are created with `O_CREAT | O_EXCL` under unique names
//! and published with a rename that does not replace ([`publish_new`]), so that of concurrent
//! creators exactly one wins.
//!
//! The store folder itself may be a symlink (paths are used as given); only the last component
//! of each path is guarded, plus the store's own subfolders ([`ensure_dir`]).
//!
//! This module must not know what the files hold.

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::queue::error::{Error, IoContext, Result};

/// How a store file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// Read only; the file must exist.
    Read,
    /// Read and write; the file must exist.
    ReadWrite,
    /// Read and write, created when missing (never through a symlink).
    ReadWriteCreate,
    /// Read and write, created here: an existing file (or symlink) is an error.
    CreateNew {
        /// Permission bits of the new file (before the umask).
        mode: u32,
    },
}

/// What stands at a path, in the words of [`Error::NotRegular`].
pub(crate) fn kind_name(ft: FileType) -> &'static str {
    if ft.is_symlink() {
        "symlink"
    } else if ft.is_dir() {
        "directory"
    } else if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_char_device() {
        "character device"
    } else if ft.is_block_device() {
        "block device"
    } else if ft.is_file() {
        "regular file"
    } else {
        "special file"
    }
}

fn not_regular(path: &Path, ft: FileType) -> Error {
    Error::NotRegular {
        path: path.to_path_buf(),
        found: kind_name(ft),
    }
}

/// Refuses a path that exists and is not a regular file (a symlink is not followed: it is
/// refused). A missing path passes.
pub(crate) fn check_regular(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(not_regular(path, m.file_type())),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("stat", path, e)),
    }
}

/// Opens a file of a store without following a symlink in its last component, and only if it
/// is a regular file; anything else is [`Error::NotRegular`]. A missing file is an
/// [`Error::Io`] whose source is `NotFound` (see [`Error::is_not_found`]).
pub(crate) fn open_in_store(path: &Path, how: How) -> Result<File> {
    let mut opts = OpenOptions::new();
    opts.read(true);
    match how {
        How::Read => {}
        How::ReadWrite => {
            opts.write(true);
        }
        How::ReadWriteCreate => {
            opts.write(true).create(true);
        }
        How::CreateNew { mode } => {
            opts.write(true).create_new(true).mode(mode);
        }
    }
    // O_NONBLOCK: opening a FIFO returns at once (and is then refused) instead of waiting for
    // a writer; it changes nothing for a regular file.
    opts.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) => {
            // ELOOP (a symlink), EISDIR, ENXIO (a FIFO without a reader) and the like: say
            // what is there rather than the errno.
            if e.kind() != io::ErrorKind::NotFound {
                if let Ok(m) = std::fs::symlink_metadata(path) {
                    if !m.file_type().is_file() {
                        return Err(not_regular(path, m.file_type()));
                    }
                }
            }
            let op = match how {
                How::CreateNew { .. } => "create",
                _ => "open",
            };
            return Err(Error::io(op, path, e));
        }
    };
    let ft = file.metadata().ctx("stat", path)?.file_type();
    if !ft.is_file() {
        return Err(not_regular(path, ft));
    }
    Ok(file)
}

/// Creates a new, empty, uniquely named temporary file beside `dest` (`.<name>.<pid>.<n>.tmp`,
/// `O_CREAT | O_EXCL`), for [`publish_new`] or [`publish_replace`].
pub(crate) fn create_temp(dest: &Path) -> Result<(PathBuf, File)> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let dir = dest.parent().unwrap_or(Path::new("."));
    let name = dest
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    loop {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{name}.{}.{:x}.tmp",
            std::process::id(),
            nanos ^ n.rotate_left(16)
        ));
        match open_in_store(&tmp, How::CreateNew { mode: 0o644 }) {
            Ok(f) => return Ok((tmp, f)),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::AlreadyExists => {
                continue
            }
            Err(e) => return Err(e),
        }
    }
}

/// Gives the synced temporary file `tmp` the name `dest` unless `dest` exists: `Ok(true)` when
/// it did, `Ok(false)` when another creator was first (then `tmp` is removed and `dest` is
/// left as it is). Of concurrent creators exactly one gets `true`.
pub(crate) fn publish_new(tmp: &Path, dest: &Path) -> Result<bool> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    let renamed = match renameat_with(CWD, tmp, CWD, dest, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(true),
        Err(rustix::io::Errno::EXIST) => Ok(false),
        // A filesystem without renameat2 flags: link(2) does not replace either.
        Err(rustix::io::Errno::INVAL) | Err(rustix::io::Errno::NOSYS) => {
            match std::fs::hard_link(tmp, dest) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(Error::io("link", dest, e)),
            }
        }
        Err(e) => Err(Error::io("rename", dest, e.into())),
    };
    if !matches!(renamed, Ok(true)) || std::fs::symlink_metadata(tmp).is_ok() {
        let _ = std::fs::remove_file(tmp);
    }
    renamed
}

/// Gives the synced temporary file `tmp` the name `dest`, replacing what is there (a symlink
/// at `dest` is replaced itself; its target is not touched).
pub(crate) fn publish_replace(tmp: &Path, dest: &Path) -> Result<()> {
    std::fs::rename(tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(tmp);
        Error::io("rename", dest, e)
    })
}

/// Reads a small regular file of a store whole: `Ok(None)` when it is missing, an error when it
/// is not a regular file or is longer than `max` bytes (it is then not one mfq wrote).
pub(crate) fn read_small(path: &Path, max: u64) -> Result<Option<Vec<u8>>> {
    use std::io::Read;
    let file = match open_in_store(path, How::Read) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata().ctx("stat", path)?.len();
    if len > max {
        let why = io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{len} bytes, more than the {max} such a file holds"),
        );
        return Err(Error::io("read", path, why));
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes).ctx("read", path)?;
    Ok(Some(bytes))
}

/// Writes `bytes` as the whole new content of `dest`, atomically: a unique temporary file,
/// synced, renamed over `dest`, and the folder synced.
pub(crate) fn write_replace(dest: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let (tmp, mut file) = create_temp(dest)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .ctx("write", &tmp);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    publish_replace(&tmp, dest)?;
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("sync folder", dir)
}

/// Deletes a regular file of a store; anything else there is [`Error::NotRegular`] and stays.
/// A missing file is not an error.
pub(crate) fn remove_regular(path: &Path) -> Result<()> {
    check_regular(path)?;
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Makes a folder of the store (its parent must exist) or checks the one there: a real
/// folder, not a symlink to one elsewhere.
pub(crate) fn ensure_dir(path: &Path) -> Result<()> {
    match std::fs::create_dir(path) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create", path, e)),
    }
    let m = std::fs::symlink_metadata(path).ctx("stat", path)?;
    if m.file_type().is_dir() {
        Ok(())
    } else {
        Err(Error::NotRegular {
            path: path.to_path_buf(),
            found: kind_name(m.file_type()),
        })
    }
}

/// Bytes free to an unprivileged writer on the filesystem holding `path` (or its nearest
/// existing ancestor).
pub(crate) fn free_space(path: &Path) -> Result<u64> {
    let mut at = path;
    while std::fs::symlink_metadata(at).is_err() {
        match at.parent() {
            Some(p) if !p.as_os_str().is_empty() => at = p,
            _ => {
                at = Path::new(".");
                break;
            }
        }
    }
    let st = rustix::fs::statvfs(at).map_err(|e| Error::io("statvfs", at, e.into()))?;
    Ok(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_fifos_and_folders_are_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        std::fs::write(&outside, b"secret").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let folder = dir.path().join("folder");
        std::fs::create_dir(&folder).unwrap();
        let fifo = dir.path().join("fifo");
        let fifo_made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let mut cases = vec![(link.clone(), "symlink"), (folder.clone(), "directory")];
        if fifo_made {
            cases.push((fifo, "FIFO"));
        }
        for (p, kind) in cases {
            for how in [
                How::Read,
                How::ReadWrite,
                How::ReadWriteCreate,
                How::CreateNew { mode: 0o644 },
            ] {
                match open_in_store(&p, how) {
                    Err(Error::NotRegular { found, .. }) => assert_eq!(found, kind, "{how:?}"),
                    other => panic!("{p:?} {how:?}: {other:?}"),
                }
            }
            assert!(matches!(remove_regular(&p), Err(Error::NotRegular { .. })));
        }
        assert!(matches!(ensure_dir(&link), Err(Error::NotRegular { .. })));
        assert_eq!(std::fs::read(&outside).unwrap(), b"secret");
        assert!(link.symlink_metadata().is_ok() && folder.is_dir());
    }

    #[test]
    fn of_two_publishers_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x.offset");
        let (a, _) = create_temp(&dest).unwrap();
        let (b, _) = create_temp(&dest).unwrap();
        assert_ne!(a, b);
        assert!(publish_new(&a, &dest).unwrap());
        assert!(!publish_new(&b, &dest).unwrap());
        assert!(!a.exists() && !b.exists());
        assert!(free_space(&dir.path().join("missing/deeper")).unwrap() > 0);
    }
}
