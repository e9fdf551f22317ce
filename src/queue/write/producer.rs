//! The producer: appends records, rolls segments exactly as the .NET libraries name and size
//! them, and applies the durability policy through the helper thread in `flusher.rs`.
//!
//! Append order: payload (and, for stream, the header after the payload), then the end marker
//! with a release store, then `producer.offset`. Only one producer may own a store: it owns
//! `producer.offset` and `producer.confirmed.offset` (an exclusive OFD lock among mfq
//! processes, `LOCK_SH` for .NET's openers; see `offline/locks.rs`), and refuses to start
//! when another process (a .NET producer) has them open. At open, under the store's recovery
//! lock, it repairs what it owns (its offsets and the tail past the valid data) before the
//! first append; see `recovery`.
//!
//! This module must not read consumer offsets except through recovery.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::queue::error::{DotnetHazard, Error, Holder, Result};
use crate::queue::format::codec::{
    self, END_MARKER, SEGMENT_END, STREAM_HEADER, STREAM_MARKED_TAIL, STREAM_OVERHEAD,
};
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets::OffsetFile;
use crate::queue::format::params::{Format, Params};
use crate::queue::offline::locks::RecoveryLock;
use crate::queue::offline::recovery::{self, Repair};
use crate::queue::os::files;
use crate::queue::os::segment::Segment;
use crate::queue::os::wake::Wake;
use crate::queue::write::flusher::Flusher;
use crate::queue::write::pageprep::{Folios, PagePrep};

/// How long a producer waits at open for another recovery (a .NET process starting, which
/// takes milliseconds) to finish before it refuses.
const RECOVERY_WAIT: Duration = Duration::from_secs(1);

/// Durability policy and tuning of a producer.
#[derive(Clone, Debug)]
pub struct ProducerOptions {
    /// Confirm every N messages (the .NET `ProducerForceFlushIntervalCount`, default 1000);
    /// `None` disables the count trigger.
    pub flush_every: Option<u64>,
    /// Also confirm at least this often while messages arrive (`None`: no time trigger).
    pub flush_interval: Option<Duration>,
    /// Sync on a helper thread (default) or on the producer's own thread (every append that
    /// hits the policy then waits for the disk).
    pub background: bool,
    /// Write stream payloads that a .NET consumer cannot get past (empty, or a length of 238
    /// mod 256) even on a store without `mfq.json`, which a .NET reader may read. Stores with
    /// `mfq.json` take them anyway (mfq's readers read them); default `false`.
    pub allow_dotnet_hazards: bool,
}

impl Default for ProducerOptions {
    fn default() -> Self {
        ProducerOptions {
            flush_every: Some(1000),
            flush_interval: None,
            background: true,
            allow_dotnet_hazards: false,
        }
    }
}

/// The single writer of a store.
pub struct Producer {
    layout: Layout,
    params: Params,
    offset: u64,
    seg: Option<Arc<Segment>>,
    /// Logical range of the current segment, cached for the hot path: `[seg_start, seg_end)`
    /// (fixed: the span; stream: the file length).
    seg_start: u64,
    seg_end: u64,
    producer_file: OffsetFile,
    flusher: Flusher,
    pages: PagePrep,
    flush_every: u64,
    since_flush: u64,
    wake: Option<Wake>,
    repair: Repair,
    /// Refuse stream payloads a .NET consumer cannot get past (see [`DotnetHazard`]).
    refuse_hazards: bool,
    closed: bool,
}

impl Producer {
    /// Opens the producer; `dotnet_may_read` says the store has no `mfq.json`, so a .NET
    /// reader may read what it writes.
    pub(crate) fn open(
        layout: Layout,
        params: Params,
        opts: ProducerOptions,
        dotnet_may_read: bool,
    ) -> Result<Producer> {
        if opts.flush_every == Some(0) {
            return Err(Error::Usage(
                "flush every 0 messages is not a policy; use 1 or more".into(),
            ));
        }
        std::fs::create_dir_all(layout.root())
            .map_err(|e| Error::io("create", layout.root(), e))?;
        files::ensure_dir(&layout.offset_dir())?;
        files::ensure_dir(&layout.commitlog())?;
        let producer_file = OffsetFile::open_owned(&layout.producer_offset(), 0, Holder::Producer)?;
        let confirmed_file =
            OffsetFile::open_owned(&layout.confirmed_offset(), 0, Holder::Producer)?;
        // A .NET recovery opens the producer's files for a moment under the recovery lock;
        // holding that lock, anyone else with them open is a producer that mfq's own lock
        // does not see.
        let recovering = RecoveryLock::take(&layout, RECOVERY_WAIT)?;
        producer_file.refuse_other_openers()?;
        confirmed_file.refuse_other_openers()?;
        let repair =
            recovery::repair_for_producer(&layout, &params, &producer_file, &confirmed_file)?;
        drop(recovering);
        let offset = producer_file.get();
        let wake = Wake::open(&layout.wake(), true)?;
        let flusher = Flusher::start(
            confirmed_file,
            layout.commitlog(),
            offset,
            opts.flush_interval,
            opts.background,
        );
        Ok(Producer {
            wake,
            layout,
            params,
            offset,
            seg: None,
            seg_start: 0,
            seg_end: 0,
            producer_file,
            flusher,
            pages: PagePrep::new(opts.background, Folios::for_policy(opts.flush_every)),
            flush_every: opts.flush_every.unwrap_or(u64::MAX),
            since_flush: 0,
            repair,
            refuse_hazards: dotnet_may_read && !opts.allow_dotnet_hazards,
            closed: false,
        })
    }

    /// The offset the next record will get.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Everything below this offset is synced to disk.
    pub fn confirmed_offset(&self) -> u64 {
        self.flusher.confirmed()
    }

    /// What the open-time recovery changed (empty after a clean shutdown).
    pub fn repair(&self) -> &Repair {
        &self.repair
    }

    /// The store's parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Appends one message and returns its offset. Fixed stores take exactly `record_size`
    /// bytes; stream stores take 0..=`max_payload` bytes, except that on a store without
    /// `mfq.json` (which a .NET reader may read) an empty payload or a length of 238 mod 256 is
    /// refused with [`Error::DotnetHazard`] unless `allow_dotnet_hazards` is set. Rejected
    /// messages write nothing.
    ///
    /// ```
    /// # let dir = tempfile::tempdir().unwrap();
    /// use mfq::queue::{Store, Params, ProducerOptions};
    /// let store = Store::create(dir.path(), Params::stream(4096)?)?;
    /// let mut producer = store.producer(ProducerOptions::default())?;
    /// assert_eq!(producer.append(b"hello")?, 0);
    /// assert_eq!(producer.append(b"world")?, 10);
    /// producer.close()?;
    /// # Ok::<(), mfq::queue::Error>(())
    /// ```
    #[inline]
    pub fn append(&mut self, payload: &[u8]) -> Result<u64> {
        self.check_open()?;
        self.check_size(payload.len())?;
        self.check_limit(payload.len())?;
        let at = self.offset;
        let pos = match self.params.format() {
            Format::Fixed => self.write_fixed(payload)?,
            Format::Stream => self.write_stream(payload)?,
        };
        self.producer_file.set(self.offset);
        self.flusher
            .shared()
            .written
            .store(self.offset, Ordering::Release);
        if let Some(w) = &self.wake {
            w.notify();
        }
        if let Some(seg) = &self.seg {
            self.pages.after_append(seg, pos);
        }
        self.since_flush += 1;
        if self.since_flush >= self.flush_every {
            self.since_flush = 0;
            self.flusher.request(self.offset)?;
        }
        Ok(at)
    }

    #[inline]
    fn check_open(&self) -> Result<()> {
        if self.closed {
            return Err(Error::Usage("the producer is closed".into()));
        }
        Ok(())
    }

    /// Refuses a record that would end past `i64::MAX`, the largest offset .NET can store:
    /// past it, offset files would read as negative numbers.
    #[inline]
    fn check_limit(&self, len: usize) -> Result<()> {
        let need = match self.params.format() {
            Format::Fixed => len as u64 + 1,
            Format::Stream => (len + STREAM_OVERHEAD) as u64,
        };
        let end = self.offset as u128 + need as u128;
        if end > i64::MAX as u128 {
            return Err(Error::OffsetLimit {
                offset: end,
                what: format!(
                    "a message of {len} bytes at producer offset {}",
                    self.offset
                ),
            });
        }
        Ok(())
    }

    #[inline]
    fn check_size(&self, len: usize) -> Result<()> {
        match self.params.record_size() {
            Some(_) if len == 0 => Err(Error::EmptyMessage),
            Some(p) if len != p as usize => Err(Error::MessageSize {
                len,
                reason: format!("fixed records are exactly {p} bytes (pad shorter messages)"),
            }),
            None if len > self.params.max_payload() => Err(Error::MessageSize {
                len,
                reason: format!(
                    "the largest payload for segment size {} is {} bytes",
                    self.params.segment_size(),
                    self.params.max_payload()
                ),
            }),
            None if self.refuse_hazards => match DotnetHazard::of_payload(len) {
                Some(hazard) => Err(Error::DotnetHazard { len, hazard }),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    #[inline]
    fn write_fixed(&mut self, payload: &[u8]) -> Result<usize> {
        let m = payload.len() as u64 + 1;
        // `seg_end` is 0 until a segment is open, and the offset never goes below `seg_start`.
        if self.offset + m > self.seg_end {
            self.open_segment(self.params.fixed_segment_start(self.offset))?;
        }
        let seg = self.seg.as_ref().expect("segment open");
        let pos = (self.offset - self.seg_start) as usize;
        seg.map().publish(pos, payload, END_MARKER);
        self.offset += m;
        Ok(pos)
    }

    #[inline]
    fn write_stream(&mut self, payload: &[u8]) -> Result<usize> {
        let need = payload.len() + STREAM_OVERHEAD;
        if self.seg.is_none() || self.offset + need as u64 > self.seg_end {
            self.ensure_stream_room(need)?;
        }
        let seg = self.seg.as_ref().expect("segment open");
        let pos = (self.offset - self.seg_start) as usize;
        let map = seg.map();
        // The header goes first: a reader that sees a payload byte sees the header too, so a
        // first payload byte of 0xFF under a zero header is never taken for .NET's empty
        // record (`00 00 00 00 FF`). The fence costs nothing on x86 (stores stay in order).
        map.write(pos, &codec::stream_header(payload.len()));
        std::sync::atomic::fence(std::sync::atomic::Ordering::Release);
        map.write(pos + STREAM_HEADER, payload);
        map.store_release(pos + STREAM_HEADER + payload.len(), END_MARKER);
        self.offset += need as u64;
        Ok(pos)
    }

    /// Makes sure the current stream segment has `need` bytes at the offset, rolling as .NET
    /// does (a new file named after the offset) with one difference: .NET writes 0xEE at the
    /// offset only when at least 6 bytes remain, mfq when at least 4 do. A .NET consumer reads
    /// a 4-byte header wherever 4 bytes remain, so an unmarked tail of 4 or 5 bytes holds it
    /// there forever (bug SQ-2); with the 0xEE it moves to the next segment. This is the one
    /// place where mfq's bytes differ from .NET's for the same messages.
    fn ensure_stream_room(&mut self, need: usize) -> Result<()> {
        if self.seg.is_none() {
            let (segs, _) = self.layout.list_segments()?;
            if let Some(s) = segs.iter().rev().find(|s| s.start <= self.offset) {
                let len = s.len.max(self.params.file_len());
                if self.offset < s.start + len {
                    self.open_existing(s.start, len)?;
                }
            }
        }
        if let Some(seg) = &self.seg {
            let pos = (self.offset - seg.start()) as usize;
            let room = (seg.logical_len() as usize).saturating_sub(pos);
            if need <= room {
                return Ok(());
            }
            if room >= STREAM_MARKED_TAIL {
                seg.map().store_release(pos, SEGMENT_END);
            }
        }
        self.open_segment(self.offset)
    }

    fn open_existing(&mut self, start: u64, len: u64) -> Result<()> {
        let seg = Arc::new(Segment::open_write(
            &self.layout.segment(start),
            start,
            len,
        )?);
        self.flusher.add_segment(seg.clone(), false);
        self.set_current(seg);
        Ok(())
    }

    /// Opens or creates the segment starting at `start` and makes it current.
    fn open_segment(&mut self, start: u64) -> Result<()> {
        let path = self.layout.segment(start);
        let len = self.params.file_len();
        let (seg, is_new) = if path.exists() {
            let actual = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let len = match self.params.format() {
                Format::Stream => actual.max(len),
                Format::Fixed => len,
            };
            (Segment::open_write(&path, start, len)?, false)
        } else {
            (Segment::create(&path, start, len)?, true)
        };
        let seg = Arc::new(seg);
        self.flusher.add_segment(seg.clone(), is_new);
        self.set_current(seg);
        Ok(())
    }

    fn set_current(&mut self, seg: Arc<Segment>) {
        self.seg_start = seg.start();
        self.seg_end = seg.start()
            + match self.params.format() {
                Format::Fixed => self.params.span(),
                Format::Stream => seg.logical_len(),
            };
        self.pages.new_segment(&seg);
        self.seg = Some(seg);
    }

    /// Syncs everything appended so far and confirms it; returns when it is durable.
    pub fn flush(&mut self) -> Result<()> {
        self.check_open()?;
        self.since_flush = 0;
        self.flusher.flush(self.offset)
    }

    /// Flushes, syncs `producer.offset` and releases the store.
    pub fn close(mut self) -> Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.flusher.flush(self.offset)?;
        self.producer_file.sync()
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}
