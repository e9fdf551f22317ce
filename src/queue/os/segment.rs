//! One mapped segment file: creating it (allocated on disk), opening it for reading or
//! writing, and byte access that reads missing bytes of a short file as zero.
//!
//! Positions here are in-file byte positions (`pos`), never logical offsets; the segment's
//! `start` converts between them (`offset = start + pos`).
//!
//! This module must not interpret records (that is `codec.rs`) or decide when to roll.

use std::borrow::Cow;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::queue::error::{Error, IoContext, Result};
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::{self, Lock, Map};

/// A mapped segment file.
pub struct Segment {
    start: u64,
    path: PathBuf,
    file: File,
    map: Map,
    /// The length the format says the file has (bytes past the file's end read as zero).
    logical_len: u64,
    /// Readahead is off past the writer (see [`Segment::reader_caught_up`]).
    readahead_off: AtomicBool,
}

impl Segment {
    /// Creates a new segment file of `len` bytes, allocated on disk and zero-filled, mapped
    /// read-write. Fails if the file exists.
    pub fn create(path: &Path, start: u64, len: u64) -> Result<Segment> {
        let file = files::open_in_store(path, How::CreateNew { mode: 0o644 })?;
        if let Err(e) = sys::allocate(&file, len) {
            drop(file);
            let _ = files::remove_regular(path);
            return Err(Error::io("allocate segment", path, e));
        }
        Self::finish_write(path, start, len, file)
    }

    /// Opens an existing segment read-write, extending a short file to `len` (as .NET does).
    pub fn open_write(path: &Path, start: u64, len: u64) -> Result<Segment> {
        let file = files::open_in_store(path, How::ReadWrite)?;
        let actual = file.metadata().ctx("stat", path)?.len();
        if actual < len {
            sys::allocate(&file, len).ctx("extend segment", path)?;
        }
        Self::finish_write(path, start, len, file)
    }

    fn finish_write(path: &Path, start: u64, len: u64, file: File) -> Result<Segment> {
        let _ = sys::try_lock(&file, Lock::Shared);
        let map = Map::read_write(&file, to_usize(len, path)?).ctx("map segment", path)?;
        Ok(Segment {
            start,
            path: path.to_path_buf(),
            file,
            map,
            logical_len: len,
            readahead_off: AtomicBool::new(false),
        })
    }

    /// Opens a segment read-only. `logical_len` is the length the format gives the file; a
    /// shorter file is mapped as far as it goes and the rest reads as zero.
    /// Returns `Ok(None)` when the file does not exist.
    pub fn open_read(path: &Path, start: u64, logical_len: u64) -> Result<Option<Segment>> {
        // A FIFO would block, a directory cannot be mapped and a symlink leads out of the
        // store: anything but a regular file is refused (`files`).
        let file = match files::open_in_store(path, How::Read) {
            Ok(f) => f,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let _ = sys::try_lock(&file, Lock::Shared);
        let actual = file.metadata().ctx("stat", path)?.len();
        let map_len = actual.min(logical_len);
        let map = Map::read_only(&file, to_usize(map_len, path)?).ctx("map segment", path)?;
        Ok(Some(Segment {
            start,
            path: path.to_path_buf(),
            file,
            map,
            logical_len,
            readahead_off: AtomicBool::new(false),
        }))
    }

    /// Releases this process's lock on the file before the segment is dropped (a reader that
    /// has left it hands the mapping to a helper thread to unmap; `prune` may take the file at
    /// once). Dropping releases it anyway.
    pub fn release_lock(&self) {
        sys::unlock(&self.file);
    }

    /// Logical offset of position 0.
    #[inline]
    pub fn start(&self) -> u64 {
        self.start
    }
    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
    /// The length the format gives this file.
    #[inline]
    pub fn logical_len(&self) -> u64 {
        self.logical_len
    }
    /// How many bytes are mapped (less than `logical_len` for a short file).
    #[inline]
    pub fn mapped_len(&self) -> usize {
        self.map.len()
    }
    /// The mapping.
    #[inline]
    pub fn map(&self) -> &Map {
        &self.map
    }
    /// Remaps a read-only segment whose file has grown since it was opened. Returns whether
    /// more bytes are mapped now.
    pub fn refresh(&mut self) -> Result<bool> {
        if self.map.len() as u64 >= self.logical_len || self.map.is_writable() {
            return Ok(false);
        }
        let actual = self.file.metadata().ctx("stat", &self.path)?.len();
        let want = actual.min(self.logical_len);
        if want <= self.map.len() as u64 {
            return Ok(false);
        }
        self.map = Map::read_only(&self.file, to_usize(want, &self.path)?)
            .ctx("map segment", &self.path)?;
        self.readahead_off = AtomicBool::new(false);
        Ok(true)
    }

    /// A reader found no record at `pos`: it has caught up with the writer, so the rest of the
    /// file is read without readahead from now on (once per mapping; see
    /// [`Map::set_readahead_from`]). A reader working through a backlog keeps readahead.
    #[inline]
    pub fn reader_caught_up(&self, pos: usize) {
        if !self.readahead_off.swap(true, Ordering::Relaxed) {
            self.map.set_readahead_from(pos, false);
        }
    }

    /// A reader that had caught up is a backlog behind the writer again (at `pos`): readahead
    /// comes back on for the rest of the file, in case the pages have left the page cache.
    pub fn reader_fell_behind(&self, pos: usize) {
        if self.readahead_off.swap(false, Ordering::Relaxed) {
            self.map.set_readahead_from(pos, true);
        }
    }

    /// Loads the byte at `pos` with acquire ordering; past the mapped length it is zero.
    #[inline]
    pub fn byte(&self, pos: usize) -> u8 {
        if pos < self.map.len() {
            self.map.load_acquire(pos)
        } else {
            0
        }
    }

    /// The bytes `[pos, pos+len)`, zero-filled past the mapped length and clipped to
    /// `logical_len`.
    pub fn bytes(&self, pos: usize, len: usize) -> Cow<'_, [u8]> {
        let end = (pos.saturating_add(len) as u64).min(self.logical_len) as usize;
        let len = end.saturating_sub(pos);
        if end <= self.map.len() {
            return Cow::Borrowed(self.map.slice(pos, len));
        }
        let mut out = vec![0u8; len];
        if pos < self.map.len() {
            let have = self.map.len() - pos;
            self.map.read_into(pos, &mut out[..have]);
        }
        Cow::Owned(out)
    }
}

fn to_usize(len: u64, path: &Path) -> Result<usize> {
    usize::try_from(len)
        .map_err(|_| Error::InvalidParams(format!("{} is too large to map", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_file_reads_as_zero_and_refreshes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000");
        std::fs::write(&path, [1, 2, 3]).unwrap();
        let mut seg = Segment::open_read(&path, 0, 8).unwrap().unwrap();
        assert_eq!(seg.mapped_len(), 3);
        assert_eq!(&*seg.bytes(1, 4), &[2, 3, 0, 0]);
        assert_eq!(seg.byte(5), 0);
        std::fs::write(&path, [1, 2, 3, 4, 5, 6, 7, 8, 9]).unwrap();
        assert!(seg.refresh().unwrap());
        assert_eq!(seg.mapped_len(), 8);
        assert_eq!(seg.byte(7), 8);
        assert_eq!(&*seg.bytes(6, 10), &[7, 8]);
    }

    #[test]
    fn create_allocates_and_refuses_existing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000000");
        let seg = Segment::create(&path, 0, 86).unwrap();
        seg.map().write(0, &[9, 9]);
        seg.map().store_release(2, 0xFF);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 86);
        assert!(Segment::create(&path, 0, 86).is_err());
        let r = Segment::open_read(&path, 0, 86).unwrap().unwrap();
        assert_eq!(r.byte(2), 0xFF);
        assert!(Segment::open_read(&dir.path().join("x"), 0, 86)
            .unwrap()
            .is_none());
    }
}
