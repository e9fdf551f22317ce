//! What a reader may read: the bytes the producer has published. The .NET stream producer
//! builds a record's header, payload and end marker in one buffer, copies it into the segment
//! with one memory copy and only then advances `producer.offset`; a reader on another core can
//! see the copied bytes land in any order (a length with only its low byte, a marker before
//! the header). So past the published offset, while a producer holds the store, bytes are "not
//! yet written", never a record, an empty record or damage. With no producer (a crashed store:
//! .NET never syncs `producer.offset`, which can lag the data) they are read as they are.
//!
//! The offset is read from a read-only mapping of `producer.offset` (an acquire load, paired
//! with the producer's store after its copy); the holder (`locks::producer_holder`, a lock
//! probe) is cached for [`LIVE_TTL`]. An mfq producer needs no gate (it writes the header, a
//! release fence, the payload, then the marker with release): while one holds the store the
//! reader trusts the markers alone and never loads the producer's cache line.
//!
//! This module must not decide what bytes mean; it only answers "published up to where?" and
//! "is a producer live?".

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::queue::format::offsets::OFFSET_FILE_LEN;
use crate::queue::offline::locks::{self, ProducerHolder};
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::Map;

/// How long a liveness answer is trusted: a producer that starts or stops is noticed within it.
const LIVE_TTL: Duration = Duration::from_millis(20);

/// The producer's published offset and liveness, as one reader sees them.
pub(super) struct Published {
    path: PathBuf,
    /// The mapped `producer.offset`; `None` until it exists (and is 8 bytes long).
    map: Option<Map>,
    /// When `producer.offset` was last looked for and not mapped (looked for again after
    /// [`LIVE_TTL`]).
    missing_at: Option<Instant>,
    /// The last answer on the producer and when it was given.
    holder: Option<(Option<ProducerHolder>, Instant)>,
}

impl Published {
    /// For the store whose `producer.offset` is `path`; nothing is opened yet.
    pub(super) fn new(path: PathBuf) -> Published {
        Published {
            path,
            map: None,
            missing_at: None,
            holder: None,
        }
    }

    /// The offset the producer has published (acquire); 0 while there is no `producer.offset`.
    pub(super) fn load(&mut self) -> u64 {
        if self.map.is_none() {
            self.open();
        }
        match &self.map {
            Some(m) => (m.atomic_u64(0).load(Ordering::Acquire) as i64).max(0) as u64,
            None => 0,
        }
    }

    /// Maps `producer.offset` when it exists as an 8-byte file (a shorter one would fault).
    #[cold]
    fn open(&mut self) {
        if self.missing_at.is_some_and(|at| at.elapsed() < LIVE_TTL) {
            return;
        }
        let map = files::open_in_store(&self.path, How::Read)
            .ok()
            .filter(|f| f.metadata().is_ok_and(|m| m.len() == OFFSET_FILE_LEN))
            .and_then(|f| Map::read_only(&f, OFFSET_FILE_LEN as usize).ok());
        self.missing_at = map.is_none().then(Instant::now);
        self.map = map;
    }

    /// Which producer (mfq's or another: .NET's) holds the store, as seen at most
    /// [`LIVE_TTL`] ago. A probe that fails counts as no producer: the bytes are then read as
    /// they are, and damage is reported rather than waited on forever.
    #[cold]
    pub(super) fn holder(&mut self) -> Option<ProducerHolder> {
        let now = Instant::now();
        if let Some((holder, at)) = self.holder {
            if now.duration_since(at) < LIVE_TTL {
                return holder;
            }
        }
        self.probe()
    }

    /// Which producer holds the store now (a lock probe), the answer cached for [`holder`].
    ///
    /// [`holder`]: Published::holder
    #[cold]
    pub(super) fn probe(&mut self) -> Option<ProducerHolder> {
        let holder = locks::producer_holder(&self.path).unwrap_or(None);
        self.holder = Some((holder, Instant::now()));
        holder
    }
}
