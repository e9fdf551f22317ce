//! The 8-byte offset files (`offset/*.offset`): one signed 64-bit little-endian integer, no
//! header. The .NET libraries map them and rewrite their cached value at every update, so:
//! a live owner's value always wins, files must be exactly 8 bytes, and a rewrite is done in
//! place (one aligned 8-byte store or write, then a sync), never by rename, so that a process
//! that has the file mapped keeps seeing the same inode.
//!
//! This module must not decide what an offset should be; it only stores and loads them.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use crate::queue::error::{Error, Holder, IoContext, Result};
use crate::queue::format::layout::{ConsumerId, Layout};
use crate::queue::offline::locks;
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::Map;

/// Length of every offset file.
pub const OFFSET_FILE_LEN: u64 = 8;

/// Opens an existing offset file (never through a symlink, only a regular file); `Ok(None)`
/// when it does not exist.
fn open_existing(path: &Path, how: How) -> Result<Option<(File, u64)>> {
    match files::open_in_store(path, how) {
        Ok(f) => {
            let len = f.metadata().ctx("stat", path)?.len();
            Ok(Some((f, len)))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads an offset file without opening it for writing. `Ok(None)` when it does not exist.
/// Anything but a regular file (a symlink, FIFO, folder) is refused without reading it.
pub fn read_offset(path: &Path) -> Result<Option<u64>> {
    let Some((file, len)) = open_existing(path, How::Read)? else {
        return Ok(None);
    };
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
    let Some((file, len)) = open_existing(path, How::Read)? else {
        return Ok(None);
    };
    let mut buf = [0u8; 8];
    let n = len.min(OFFSET_FILE_LEN) as usize;
    file.read_exact_at(&mut buf[..n], 0).ctx("read", path)?;
    Ok(Some((len, i64::from_le_bytes(buf))))
}

/// Refuses a path that exists but is not a regular file (a symlink is not followed): writing
/// to a FIFO blocks, a symlink leads out of the store, and a directory or device cannot be
/// repaired in place.
pub fn check_regular(path: &Path) -> Result<()> {
    files::check_regular(path)
}

fn decode(path: &Path, buf: [u8; 8]) -> Result<u64> {
    let v = i64::from_le_bytes(buf);
    u64::try_from(v).map_err(|_| Error::NegativeOffset {
        path: path.to_path_buf(),
        value: v,
    })
}

/// Writes an offset durably: in place through the open descriptor when the file exists
/// (8-byte write, truncate to 8, fdatasync), else as a new file (see [`create_offset`]).
pub fn write_offset_durable(path: &Path, value: u64) -> Result<()> {
    loop {
        if let Some((f, _)) = open_existing(path, How::ReadWrite)? {
            f.write_all_at(&(value as i64).to_le_bytes(), 0)
                .ctx("write", path)?;
            f.set_len(OFFSET_FILE_LEN).ctx("truncate", path)?;
            return f.sync_data().ctx("sync", path);
        }
        if create_offset(path, value)? {
            return Ok(());
        }
        // Another process created it first: write over its value in place.
    }
}

/// Creates a missing offset file holding `value`, atomically and exclusively: written and
/// synced under a unique temporary name, then given its name only if no file has it (and the
/// folder synced). `Ok(false)`: another creator was first, and its file is left as it is.
/// Concurrent creators thus all end up with the same inode, never a half-written one.
pub fn create_offset(path: &Path, value: u64) -> Result<bool> {
    let (tmp, f) = files::create_temp(path)?;
    let written = f
        .write_all_at(&(value as i64).to_le_bytes(), 0)
        .and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", &tmp, e));
    }
    if !files::publish_new(&tmp, path)? {
        return Ok(false);
    }
    sync_dir(path.parent().unwrap_or(Path::new(".")))?;
    Ok(true)
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
    /// Opens (creating with `initial` if missing) and owns it among mfq processes (see
    /// `locks::own`: an exclusive OFD lock, and only `LOCK_SH` for .NET's openers); `holder`
    /// names who probably holds it if another owner has it.
    pub fn open_owned(path: &Path, initial: u64, holder: Holder) -> Result<OffsetFile> {
        // Created atomically if missing; whoever created it, every opener then holds the same
        // inode and competes for its lock.
        let file = loop {
            if let Some((f, _)) = open_existing(path, How::ReadWrite)? {
                break f;
            }
            create_offset(path, initial)?;
        };
        locks::own(&file, path, holder)?;
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

    /// Refuses when another process (a .NET producer) has the file open; see
    /// `locks::sole_opener`.
    pub(crate) fn refuse_other_openers(&self) -> Result<()> {
        locks::sole_opener(&self.file, &self.path)
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
    fn concurrent_creators_of_an_offset_file_share_one_inode() {
        use std::os::unix::fs::MetadataExt;
        for _ in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let p = dir.path().join("new.offset");
            let barrier = std::sync::Barrier::new(4);
            let results: Vec<(bool, u64)> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..4u64)
                    .map(|i| {
                        let (p, barrier) = (&p, &barrier);
                        s.spawn(move || {
                            barrier.wait();
                            let won = create_offset(p, i).unwrap();
                            (won, std::fs::metadata(p).unwrap().ino())
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            assert_eq!(results.iter().filter(|r| r.0).count(), 1, "{results:?}");
            assert!(results.iter().all(|r| r.1 == results[0].1), "{results:?}");
            assert_eq!(
                std::fs::read_dir(dir.path()).unwrap().count(),
                1,
                "temp left"
            );
        }
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
