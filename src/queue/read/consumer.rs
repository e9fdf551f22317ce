//! Consumers and observers: reading records in order, with or without an offset file.
//!
//! A consumer owns one offset file while open (an exclusive OFD lock among mfq processes, only
//! `LOCK_SH` for .NET's openers; see `offline/locks.rs`), so two mfq processes cannot consume
//! under the same name, and a .NET process can still open `consumer.offset`.
//! File naming: the default consumer is `offset/consumer.offset` (the one .NET uses); a named
//! consumer NAME is `offset/consumer.NAME.offset` (NAME: 1-64 of `A-Z a-z 0-9 _ -`). A consumer
//! seen for the first time starts at the earliest record still on disk unless told otherwise.
//!
//! Reading moves a cursor; `commit` makes the cursor the committed offset (stored in the shared
//! mapping at once, synced on `sync` and on drop). An observer has only a cursor.
//!
//! This module must not write segments.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::queue::error::{Holder, Result};
use crate::queue::format::gaps::Gap;
use crate::queue::format::layout::ConsumerId;
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets::OffsetFile;
use crate::queue::format::params::Params;
use crate::queue::format::positions::{Extent, StartAt};
use crate::queue::os::files;
use crate::queue::os::wake::Wake;
use crate::queue::read::reader::{Reader, RecordLoc};
use crate::queue::read::waiting::{wait_next, WaitOptions};

/// A record borrowed from the mapping (zero-copy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Its logical offset.
    pub offset: u64,
    /// The offset of the record after it.
    pub next_offset: u64,
    /// The payload bytes, inside the shared mapping.
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// An owned copy.
    pub fn to_owned(&self) -> OwnedRecord {
        OwnedRecord {
            offset: self.offset,
            next_offset: self.next_offset,
            payload: self.payload.to_vec(),
        }
    }
}

/// A record copied out of the mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedRecord {
    /// Its logical offset.
    pub offset: u64,
    /// The offset of the record after it.
    pub next_offset: u64,
    /// The payload.
    pub payload: Vec<u8>,
}

/// A cursor plus the means to wait: what consumers and observers share.
struct Cursor {
    reader: Reader,
    wake: Option<Wake>,
    wake_path: std::path::PathBuf,
    wait: WaitOptions,
    /// Non-waiting polls so far: every 1024th (and the first) is thorough.
    polls: u32,
    /// Where the last thorough non-waiting poll was made: the first poll at any new position
    /// is thorough too, so a segment rolled without a 0xEE is followed at once, while a caller
    /// spinning at the end of the data pays for the next-file lookup only every 1024th poll.
    checked_at: Option<u64>,
    /// The gaps recorded in `mfq.gaps` when the reader opened: at a gap's start the cursor
    /// moves to its end, since nothing will ever be written inside it.
    gaps: Vec<Gap>,
    /// Gaps stepped over and not yet taken by [`Consumer::take_skipped_gaps`].
    skipped: Vec<(u64, u64)>,
}

impl Cursor {
    /// `create_wake`: a consumer (which writes to the store anyway) creates `mfq.wake` so that
    /// it can sleep on it before any producer has run; an observer only uses an existing one.
    fn new(
        layout: &Layout,
        params: &Params,
        offset: u64,
        wait: WaitOptions,
        create_wake: bool,
        gaps: Vec<Gap>,
    ) -> Result<Cursor> {
        Ok(Cursor {
            gaps,
            skipped: Vec::new(),
            reader: Reader::new(layout.clone(), *params, offset),
            wake: Wake::open(&layout.wake(), create_wake)?,
            wake_path: layout.wake(),
            wait,
            polls: 0,
            checked_at: None,
        })
    }

    fn poll(
        &mut self,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<RecordLoc>> {
        if deadline.is_none() && cancel.is_none() {
            let at = self.reader.offset();
            let thorough = self.polls % 1024 == 0 || self.checked_at != Some(at);
            self.polls = self.polls.wrapping_add(1);
            if thorough {
                self.checked_at = Some(at);
            }
            return self.reader.poll(thorough);
        }
        if self.wake.is_none() {
            self.wake = Wake::open(&self.wake_path, false)?;
        }
        wait_next(
            &mut self.reader,
            self.wake.as_ref(),
            &self.wait,
            deadline,
            cancel,
        )
    }

    /// The next record. `wait == false`: only what is ready now. `wait == true`: until
    /// `deadline` (forever when `None`) or until `cancel` is set.
    #[inline(always)]
    fn next(
        &mut self,
        wait: bool,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Record<'_>>> {
        match self.reader.poll_fast() {
            Some(loc) => Ok(Some(self.take(loc))),
            None => self.next_slow(wait, deadline, cancel),
        }
    }

    #[inline(never)]
    fn next_slow(
        &mut self,
        wait: bool,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Record<'_>>> {
        let at = self.reader.offset();
        if let Some(g) = self.gaps.iter().find(|g| g.from == at) {
            self.reader.set_offset(g.to);
            self.skipped.push((g.from, g.to));
        }
        let never = AtomicBool::new(false);
        let cancel = cancel.or((wait && deadline.is_none()).then_some(&never));
        match self.poll(deadline, cancel)? {
            Some(loc) => Ok(Some(self.take(loc))),
            None => Ok(None),
        }
    }

    #[inline(always)]
    fn take(&mut self, loc: RecordLoc) -> Record<'_> {
        self.reader.advance(&loc);
        Record {
            offset: loc.offset,
            next_offset: loc.next,
            payload: self.reader.payload(&loc),
        }
    }
}

/// A consumer with its own committed offset.
pub struct Consumer {
    layout: Layout,
    params: Params,
    id: ConsumerId,
    file: OffsetFile,
    cursor: Cursor,
}

impl Consumer {
    /// Opens the consumer `id`: its offset file is created at `first_start` when missing.
    /// The store's extent is read once, for both the start and the check of the offset.
    pub(crate) fn open(
        layout: &Layout,
        params: &Params,
        id: ConsumerId,
        first_start: StartAt,
        wait: WaitOptions,
    ) -> Result<Consumer> {
        let extent = Extent::read(layout, params)?;
        let path = layout.consumer_offset(&id);
        let initial = if path.exists() {
            0
        } else {
            extent.resolve(first_start)?
        };
        files::ensure_dir(&layout.offset_dir())?;
        let file = OffsetFile::open_owned(&path, initial, Holder::SameConsumer)?;
        let offset = file.get();
        extent.check_readable(offset)?;
        Ok(Consumer {
            layout: layout.clone(),
            params: *params,
            id,
            file,
            cursor: Cursor::new(layout, params, offset, wait, true, extent.gaps().to_vec())?,
        })
    }

    /// The consumer's identity.
    pub fn id(&self) -> &ConsumerId {
        &self.id
    }

    /// The committed offset.
    pub fn committed(&self) -> u64 {
        self.file.get()
    }

    /// The cursor: the offset of the next record `next` returns.
    pub fn position(&self) -> u64 {
        self.cursor.reader.offset()
    }

    /// The next record if one is ready, without waiting. Moves the cursor, not the committed
    /// offset.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use mfq::queue::{Store, Params, ProducerOptions, ConsumerId, StartAt};
    /// let store = Store::create(dir.path(), Params::fixed(4, 4096)?)?;
    /// let mut p = store.producer(ProducerOptions::default())?;
    /// p.append(b"abcd")?;
    /// let mut c = store.consumer(&ConsumerId::Default, StartAt::Earliest)?;
    /// let rec = c.try_next()?.expect("a record");
    /// assert_eq!(rec.payload, b"abcd");
    /// c.commit()?;
    /// assert_eq!(c.committed(), 5);
    /// # Ok::<(), mfq::queue::Error>(())
    /// ```
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>> {
        self.cursor.next(false, None, None)
    }

    /// The next record, waiting until `deadline` (forever if `None`) or until `cancel` is set.
    #[inline]
    pub fn next_until(
        &mut self,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Record<'_>>> {
        self.cursor.next(true, deadline, cancel)
    }

    /// Commits everything read so far (the cursor becomes the committed offset).
    #[inline]
    pub fn commit(&mut self) -> Result<()> {
        self.file.set(self.cursor.reader.offset());
        Ok(())
    }

    /// Forgets uncommitted reads: the cursor goes back to the committed offset.
    pub fn rewind(&mut self) {
        let c = self.file.get();
        self.cursor.reader.set_offset(c);
    }

    /// Moves both the cursor and the committed offset to `offset`, which must be a record
    /// boundary of an existing segment (else `Error::Misaligned` names the nearest boundaries,
    /// or `Error::OutOfRange`), and syncs the offset file.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use mfq::queue::{ConsumerId, Error, Params, ProducerOptions, StartAt, Store};
    /// let store = Store::create(dir.path(), Params::fixed(4, 4096)?)?;
    /// let mut p = store.producer(ProducerOptions::default())?;
    /// p.append(b"aaaa")?;
    /// p.append(b"bbbb")?;
    /// let mut c = store.consumer(&ConsumerId::Default, StartAt::Earliest)?;
    /// c.seek(5)?; // skip the first record
    /// assert_eq!(c.try_next()?.unwrap().payload, b"bbbb");
    /// assert!(matches!(c.seek(3), Err(Error::Misaligned { before: Some(0), after: Some(5), .. })));
    /// # Ok::<(), mfq::queue::Error>(())
    /// ```
    pub fn seek(&mut self, offset: u64) -> Result<()> {
        Extent::read(&self.layout, &self.params)?.check_readable(offset)?;
        self.cursor.reader.set_offset(offset);
        self.file.set(offset);
        self.file.sync()
    }

    /// The recorded gaps (`[from, to)`, see `mfq.gaps`) the cursor stepped over since the last
    /// call: records a crash lost, which a repair left as zeros on purpose.
    pub fn take_skipped_gaps(&mut self) -> Vec<(u64, u64)> {
        std::mem::take(&mut self.cursor.skipped)
    }

    /// Syncs the committed offset to disk.
    pub fn sync(&self) -> Result<()> {
        self.file.sync()
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.file.sync();
    }
}

/// A reader without an offset file (for `tail`): it never commits.
pub struct Observer {
    cursor: Cursor,
}

impl Observer {
    pub(crate) fn open(
        layout: &Layout,
        params: &Params,
        start: StartAt,
        wait: WaitOptions,
    ) -> Result<Observer> {
        let extent = Extent::read(layout, params)?;
        let offset = extent.resolve(start)?;
        extent.check_readable(offset)?;
        Ok(Observer {
            cursor: Cursor::new(layout, params, offset, wait, false, extent.gaps().to_vec())?,
        })
    }

    /// The offset of the next record.
    pub fn position(&self) -> u64 {
        self.cursor.reader.offset()
    }

    /// The recorded gaps the cursor stepped over since the last call (see
    /// [`Consumer::take_skipped_gaps`]).
    pub fn take_skipped_gaps(&mut self) -> Vec<(u64, u64)> {
        std::mem::take(&mut self.cursor.skipped)
    }

    /// The next record if one is ready.
    #[inline]
    pub fn try_next(&mut self) -> Result<Option<Record<'_>>> {
        self.cursor.next(false, None, None)
    }

    /// The next record, waiting until `deadline` or `cancel`.
    #[inline]
    pub fn next_until(
        &mut self,
        deadline: Option<Instant>,
        cancel: Option<&AtomicBool>,
    ) -> Result<Option<Record<'_>>> {
        self.cursor.next(true, deadline, cancel)
    }
}
