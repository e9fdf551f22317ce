//! The 8-byte offset files (`offset/*.offset`): one signed 64-bit little-endian integer, no
//! header. The .NET libraries map them and rewrite their cached value at every update, so:
//! a live owner's value always wins, files must be exactly 8 bytes, and a rewrite is done in
//! place (one aligned 8-byte store or write, then a sync), never by rename, so that a process
//! that has the file mapped keeps seeing the same inode.
//!
//! This module must not decide what an offset should be; it only stores and loads them.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::queue::error::{Error, Holder, IoContext, Result};
use crate::queue::format::layout::{ConsumerId, Layout};
use crate::queue::os::sys::{self, Lock, Map};

/// Length of every offset file.
pub const OFFSET_FILE_LEN: u64 = 8;

/// Reads an offset file without opening it for writing. `Ok(None)` when it does not exist.
pub fn read_offset(path: &Path) -> Result<Option<u64>> {
    let Some(len) = regular_len(path)? else {
        return Ok(None);
    };
    let file = File::open(path).ctx("open offset file", path)?;
    if len != OFFSET_FILE_LEN {
        return Err(Error::OffsetFileSize {
            path: path.to_path_buf(),
            len,
        });
    }
    let mut buf = [0u8; 8];
    file.read_exact_at(&mut buf, 0).ctx("read", path)?;
    decode(path, buf).map(Some)
}

/// Reads an offset file's raw bytes however long it is (for inspection of damaged files):
/// `(length, value as .NET would see it: the first up-to-8 bytes, zero-extended)`.
pub fn read_offset_lenient(path: &Path) -> Result<Option<(u64, i64)>> {
    let Some(len) = regular_len(path)? else {
        return Ok(None);
    };
    let file = File::open(path).ctx("open offset file", path)?;
    let mut buf = [0u8; 8];
    let n = len.min(OFFSET_FILE_LEN) as usize;
    file.read_exact_at(&mut buf[..n], 0).ctx("read", path)?;
    Ok(Some((len, i64::from_le_bytes(buf))))
}

/// The length of the offset file at `path`, `None` when there is none. Anything but a regular
/// file (after symlinks) is refused before it is opened: opening a FIFO blocks, and a device
/// such as `/dev/zero` never ends.
fn regular_len(path: &Path) -> Result<Option<u64>> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => Err(Error::io(
            "read offset file",
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (move it aside: a missing offset file reads as no offset)",
            ),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("stat", path, e)),
    }
}

/// Refuses a path that exists but is not a regular file (after symlinks): writing to a FIFO
/// blocks, and a directory or device cannot be repaired in place.
pub fn check_regular(path: &Path) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(Error::io(
            "change",
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file; move it aside, then run the command again",
            ),
        )),
        _ => Ok(()),
    }
}

fn decode(path: &Path, buf: [u8; 8]) -> Result<u64> {
    let v = i64::from_le_bytes(buf);
    u64::try_from(v).map_err(|_| Error::NegativeOffset {
        path: path.to_path_buf(),
        value: v,
    })
}

/// Writes an offset durably: in place when the file exists (8-byte write, truncate to 8,
/// fdatasync), else a new file written under a temporary name, synced and renamed (and the
/// folder synced).
pub fn write_offset_durable(path: &Path, value: u64) -> Result<()> {
    check_regular(path)?;
    let bytes = (value as i64).to_le_bytes();
    match OpenOptions::new().write(true).open(path) {
        Ok(f) => {
            f.write_all_at(&bytes, 0).ctx("write", path)?;
            f.set_len(OFFSET_FILE_LEN).ctx("truncate", path)?;
            f.sync_data().ctx("sync", path)?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let tmp = path.with_extension("offset.tmp");
            {
                let f = File::create(&tmp).ctx("create", &tmp)?;
                f.write_all_at(&bytes, 0).ctx("write", &tmp)?;
                f.sync_all().ctx("sync", &tmp)?;
            }
            std::fs::rename(&tmp, path).ctx("rename", path)?;
            sync_dir(path.parent().unwrap_or(Path::new(".")))
        }
        Err(e) => Err(Error::io("open offset file", path, e)),
    }
}

/// The consumers that have a readable offset file, with their committed offsets (default
/// first).
pub fn read_consumers(layout: &Layout) -> Result<Vec<(ConsumerId, u64)>> {
    let mut out = Vec::new();
    for id in layout.list_consumers()? {
        if let Some(v) = read_offset(&layout.consumer_offset(&id))? {
            out.push((id, v));
        }
    }
    Ok(out)
}

/// fsyncs a folder so that a new or renamed entry survives a power loss.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("sync folder", dir)
}

/// An offset file opened for updates by its owner, mapped like .NET maps it.
pub struct OffsetFile {
    path: PathBuf,
    file: File,
    map: Map,
}

impl OffsetFile {
    /// Opens (creating with `initial` if missing) and takes an exclusive lock; `holder` names
    /// who probably holds it if the lock is taken. A lock held only for a moment (another
    /// command's `is_held` probe) is retried for about 20 ms.
    pub fn open_owned(path: &Path, initial: u64, holder: Holder) -> Result<OffsetFile> {
        if !path.exists() {
            write_offset_durable(path, initial)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .ctx("open offset file", path)?;
        let mut tries = 0;
        while !sys::try_lock(&file, Lock::Exclusive).ctx("lock", path)? {
            tries += 1;
            if tries > 20 {
                return Err(Error::Locked {
                    path: path.to_path_buf(),
                    holder,
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let len = file.metadata().ctx("stat", path)?.len();
        if len != OFFSET_FILE_LEN {
            return Err(Error::OffsetFileSize {
                path: path.to_path_buf(),
                len,
            });
        }
        let map = Map::read_write(&file, 8).ctx("map offset file", path)?;
        let me = OffsetFile {
            path: path.to_path_buf(),
            file,
            map,
        };
        let raw = me.map.atomic_u64(0).load(Ordering::Acquire);
        decode(path, raw.to_ne_bytes())?;
        Ok(me)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> u64 {
        self.map.atomic_u64(0).load(Ordering::Acquire)
    }

    /// Stores a value into the shared mapping (visible to other processes at once; durable
    /// after [`OffsetFile::sync`]).
    #[inline]
    pub fn set(&self, value: u64) {
        self.map.atomic_u64(0).store(value, Ordering::Release)
    }

    /// Writes the mapping back and syncs the file.
    pub fn sync(&self) -> Result<()> {
        self.map.flush_range(0, 8).ctx("sync", &self.path)?;
        self.file.sync_data().ctx("sync", &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_that_are_not_regular_files_are_refused_without_reading_them() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo.offset");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let zero = dir.path().join("zero.offset");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let folder = dir.path().join("folder.offset");
        std::fs::create_dir(&folder).unwrap();
        let mut paths = vec![zero, folder];
        if made.is_ok_and(|s| s.success()) {
            paths.push(fifo);
        }
        for p in paths {
            for err in [read_offset(&p).err(), read_offset_lenient(&p).err()] {
                let msg = err.expect("refused").to_string();
                assert!(msg.contains(&*p.to_string_lossy()), "{msg}");
            }
        }
        assert_eq!(read_offset_lenient(&dir.path().join("none")).unwrap(), None);
    }

    #[test]
    fn sizes_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("consumer.offset");
        assert_eq!(read_offset(&p).unwrap(), None);
        write_offset_durable(&p, 34).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), [34, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(read_offset(&p).unwrap(), Some(34));
        for bad in [0usize, 7, 9] {
            std::fs::write(&p, vec![0u8; bad]).unwrap();
            assert!(matches!(read_offset(&p), Err(Error::OffsetFileSize { .. })));
        }
        std::fs::write(&p, (-5i64).to_le_bytes()).unwrap();
        assert!(matches!(read_offset(&p), Err(Error::NegativeOffset { .. })));
        write_offset_durable(&p, 7).unwrap();
        assert_eq!(read_offset(&p).unwrap(), Some(7));
    }

    #[test]
    fn owned_file_is_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("producer.offset");
        let a = OffsetFile::open_owned(&p, 0, Holder::Producer).unwrap();
        a.set(85);
        assert_eq!(read_offset(&p).unwrap(), Some(85));
        assert!(matches!(
            OffsetFile::open_owned(&p, 0, Holder::Producer),
            Err(Error::Locked { .. })
        ));
        a.sync().unwrap();
        drop(a);
        assert!(OffsetFile::open_owned(&p, 0, Holder::Producer).is_ok());
    }
}
