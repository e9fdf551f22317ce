//! The queue engine: stores in the .NET MappedFileQueues (fixed) and MappedFileQueues.Stream
//! formats, a durable producer, consumers and observers, inspection and recovery.
//!
//! [`Store`] is the entry point: open or create a store, then ask it for a [`Producer`], a
//! [`Consumer`] or an [`Observer`], or for an inspection [`Report`] and a recovery [`Plan`].
//!
//! ```
//! # let dir = tempfile::tempdir().unwrap();
//! use mfq::queue::{ConsumerId, Params, ProducerOptions, StartAt, Store};
//! let store = Store::create(dir.path(), Params::stream(64 * 1024)?)?;
//! let mut producer = store.producer(ProducerOptions::default())?;
//! producer.append(b"first")?;
//! producer.flush()?; // synced and confirmed
//! let mut consumer = store.consumer(&ConsumerId::Default, StartAt::Earliest)?;
//! let record = consumer.try_next()?.unwrap();
//! assert_eq!(record.payload, b"first");
//! consumer.commit()?;
//! # Ok::<(), mfq::queue::Error>(())
//! ```
//!
//! This module must not print, parse command lines or use `anyhow`.

pub mod admin;
pub mod codec;
mod consumer;
mod error;
mod flusher;
mod infer;
pub mod layout;
pub mod limits;
pub mod offsets;
mod pageprep;
mod params;
pub mod positions;
mod prefault;
mod producer;
pub mod prune;
mod readahead;
mod reader;
pub mod recovery;
pub mod scan;
mod segment;
mod sys;
mod waiting;
mod wake;

use std::path::{Path, PathBuf};

pub use consumer::{Consumer, Observer, OwnedRecord, Record, StartAt};
pub use error::{Error, Result};
pub use layout::{ConsumerId, Layout, SegmentFile, StrayFile};
pub use params::{Format, Params, ParamsRequest, ParamsSource, DEFAULT_SEGMENT_SIZE};
pub use producer::{Producer, ProducerOptions};
pub use recovery::{Issue, IssueKind, Plan, Report};
pub use waiting::WaitOptions;

/// Probes whether another process holds a file (flock `LOCK_EX | LOCK_NB`); `Ok(true)` when
/// it does. The lock is released at once. Only regular files are probed: opening a FIFO
/// would block, and nothing of a store's is held through anything else.
pub fn is_held(path: &Path) -> Result<bool> {
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Ok(false);
    }
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io("open", path, e)),
    };
    let free =
        sys::try_lock(&file, sys::Lock::Exclusive).map_err(|e| Error::io("lock", path, e))?;
    if free {
        sys::unlock(&file);
    }
    Ok(!free)
}

/// An opened store: its folder and its parameters.
#[derive(Clone, Debug)]
pub struct Store {
    layout: Layout,
    params: Params,
    source: ParamsSource,
}

impl Store {
    /// Opens an existing store. Parameters come from `mfq.json`, else from the files; any
    /// given in `req` must agree with them.
    pub fn open(path: impl AsRef<Path>, req: &ParamsRequest) -> Result<Store> {
        let layout = Layout::new(path.as_ref());
        check_is_store(&layout)?;
        if let Some(params) = params::read_meta(&layout.meta())? {
            req.check_against(&params)?;
            return Ok(Store {
                layout,
                params,
                source: ParamsSource::Metadata,
            });
        }
        let explicit = req.format.is_some()
            && req.segment_size.is_some()
            && (req.format == Some(Format::Stream) || req.record_size.is_some());
        let params = infer::infer(&layout, req)?;
        Ok(Store {
            layout,
            params,
            source: if explicit {
                ParamsSource::Explicit
            } else {
                ParamsSource::Inferred
            },
        })
    }

    /// Creates a store (folders and `mfq.json`). An existing store is opened instead, and its
    /// parameters must match.
    pub fn create(path: impl AsRef<Path>, params: Params) -> Result<Store> {
        let layout = Layout::new(path.as_ref());
        if check_is_store(&layout).is_ok() {
            let req = ParamsRequest {
                format: Some(params.format()),
                record_size: params.record_size(),
                segment_size: Some(params.segment_size()),
            };
            let store = Store::open(path, &req)?;
            // An empty shell (folders, no segment yet, no metadata) gets its parameters
            // recorded, or the next command could not infer them.
            if store.source != ParamsSource::Metadata && store.segments()?.is_empty() {
                params::write_meta(&layout.meta(), &params)?;
                return Ok(Store {
                    source: ParamsSource::Metadata,
                    ..store
                });
            }
            return Ok(store);
        }
        for dir in [
            layout.root().to_path_buf(),
            layout.commitlog(),
            layout.offset_dir(),
        ] {
            std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        }
        params::write_meta(&layout.meta(), &params)?;
        Ok(Store {
            layout,
            params,
            source: ParamsSource::Metadata,
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        self.layout.root()
    }
    /// Paths inside the store.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }
    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// Where the parameters came from.
    pub fn params_source(&self) -> ParamsSource {
        self.source
    }

    /// Segment files, sorted by start.
    pub fn segments(&self) -> Result<Vec<SegmentFile>> {
        positions::segments(&self.layout)
    }

    /// The earliest record offset on disk.
    pub fn earliest_offset(&self) -> Result<u64> {
        Ok(positions::earliest(&self.segments()?))
    }

    /// The end of the valid data (where the next record will be read).
    pub fn data_end(&self) -> Result<u64> {
        let end = positions::data_end(&self.params, &self.segments()?)?;
        // The records of the last segment can stop before the producer offset in a repaired
        // store (a gap a repair left, or damage below the lowest consumer that recovery does not
        // rescan); new records go at the producer offset, so readers start there.
        match offsets::read_offset(&self.layout.producer_offset()) {
            Ok(Some(p)) if p > end && self.check_readable_offset(p).is_ok() => Ok(p),
            _ => Ok(end),
        }
    }

    /// Opens the store's single producer.
    pub fn producer(&self, opts: ProducerOptions) -> Result<Producer> {
        Producer::open(self.layout.clone(), self.params, opts)
    }

    /// Opens a consumer; one seen for the first time starts at `first_start`.
    pub fn consumer(&self, id: &ConsumerId, first_start: StartAt) -> Result<Consumer> {
        Consumer::open(self, id.clone(), first_start, WaitOptions::default())
    }

    /// Opens a consumer with explicit wait tuning.
    pub fn consumer_with(
        &self,
        id: &ConsumerId,
        first_start: StartAt,
        wait: WaitOptions,
    ) -> Result<Consumer> {
        Consumer::open(self, id.clone(), first_start, wait)
    }

    /// Opens an observer (no offset file).
    pub fn observer(&self, start: StartAt) -> Result<Observer> {
        Observer::open(self, start, WaitOptions::default())
    }

    /// Opens an observer with explicit wait tuning.
    pub fn observer_with(&self, start: StartAt, wait: WaitOptions) -> Result<Observer> {
        Observer::open(self, start, wait)
    }

    /// The consumers that have an offset file, with their committed offsets.
    pub fn consumers(&self) -> Result<Vec<(ConsumerId, u64)>> {
        let mut out = Vec::new();
        for id in self.layout.list_consumers()? {
            if let Some(v) = offsets::read_offset(&self.layout.consumer_offset(&id))? {
                out.push((id, v));
            }
        }
        Ok(out)
    }

    /// Inspects the store: parameters, segments, offsets and every inconsistency.
    pub fn inspect(&self) -> Result<Report> {
        recovery::inspect(self, recovery::Depth::Full)
    }

    /// A fast inspection that does not scan record data (for `stat`).
    pub fn inspect_quick(&self) -> Result<Report> {
        recovery::inspect(self, recovery::Depth::Quick)
    }

    /// Turns a start position into an offset.
    pub fn resolve_start(&self, start: StartAt) -> Result<u64> {
        match start {
            StartAt::Earliest => self.earliest_offset(),
            StartAt::Latest => self.data_end(),
            StartAt::Offset(o) => Ok(o),
        }
    }

    /// Checks that a reader may start at `offset`: on a boundary and not in a deleted segment.
    pub fn check_readable_offset(&self, offset: u64) -> Result<()> {
        let segs = self.segments()?;
        let earliest = positions::earliest(&segs);
        if !segs.is_empty() && offset < earliest {
            return Err(Error::OutOfRange {
                offset,
                earliest,
                latest: positions::data_end(&self.params, &segs)?,
            });
        }
        // The producer offset is where the next record goes, so it is a boundary even past a
        // zero gap that a repair left when it moved the producer up to a consumer (policy 2).
        // Fixed boundaries are arithmetic and need no such help.
        if self.params.format() == Format::Stream
            && offsets::read_offset(&self.layout.producer_offset())
                .ok()
                .flatten()
                == Some(offset)
        {
            return Ok(());
        }
        positions::check_boundary(&self.params, &segs, offset)
    }

    /// Where `mfq recover` saves removed bytes by default: `mfq-salvage/<unix time>`, with a
    /// `-N` suffix when an earlier repair in the same second used that name (its files must
    /// not be overwritten).
    pub fn default_salvage_dir(&self) -> PathBuf {
        recovery::salvage_dir(self.layout.root())
    }
}

fn check_is_store(layout: &Layout) -> Result<()> {
    let root = layout.root();
    let meta = std::fs::metadata(root).map_err(|e| Error::NotAStore {
        path: root.to_path_buf(),
        reason: match e.kind() {
            std::io::ErrorKind::NotFound => "no such folder".into(),
            _ => e.to_string(),
        },
    })?;
    if !meta.is_dir() {
        return Err(Error::NotAStore {
            path: root.to_path_buf(),
            reason: "not a folder".into(),
        });
    }
    let has = |p: PathBuf| p.is_dir();
    if !(has(layout.commitlog()) || has(layout.offset_dir()) || layout.meta().is_file()) {
        return Err(Error::NotAStore {
            path: root.to_path_buf(),
            reason: "it has no commitlog/ or offset/ folder (create one with `mfq produce --format ...`)".into(),
        });
    }
    Ok(())
}
