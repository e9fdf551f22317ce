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

mod error;
mod format;
mod offline;
mod os;
mod read;
mod write;

// Modules public for the binary, tests and benches. Their items carry no stability promise
// beyond what the re-exports below name; they may move between releases.
#[doc(hidden)]
pub use format::{codec, layout, offsets, positions, scan};
#[doc(hidden)]
pub use offline::{admin, holders, prune, recovery};
#[doc(hidden)]
pub use os::limits;

pub use error::{Error, Result};
pub use format::layout::{ConsumerId, Layout, SegmentFile, StrayFile};
pub use format::params::{Format, Params, ParamsRequest, ParamsSource, DEFAULT_SEGMENT_SIZE};
pub use offline::recovery::{Issue, IssueKind, Plan, Report};
pub use read::consumer::{Consumer, Observer, OwnedRecord, Record};
pub use read::waiting::WaitOptions;
pub use write::producer::{Producer, ProducerOptions};

use std::path::{Path, PathBuf};

use format::{infer, params};

pub use error::{DotnetHazard, Hint, Holder, Need, Param};
pub use format::positions::{Extent, StartAt};
/// Probes whether another process holds a file (see [`offline::locks::is_held`]).
pub use offline::locks::is_held;
/// The store's recovery lock, which every change takes (see [`offline::locks::RecoveryLock`]).
pub use offline::locks::RecoveryLock;

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
        let params = infer::infer(&layout, req)?;
        let source = if req.is_complete() {
            ParamsSource::Explicit
        } else {
            ParamsSource::Inferred
        };
        Ok(Store {
            layout,
            params,
            source,
        })
    }

    /// Creates a store (folders and `mfq.json`). An existing store is opened instead, and its
    /// parameters must match.
    pub fn create(path: impl AsRef<Path>, params: Params) -> Result<Store> {
        Store::open_or_create(path, &ParamsRequest::from(params))
    }

    /// Opens the store at `path`, or creates it there when the folder holds none; the one
    /// place where a writer's parameters are resolved:
    /// - an existing store is opened, and `req` must agree with what it says about itself;
    /// - a shell without segment files (folders, perhaps offset files, no `mfq.json`) has
    ///   nothing to agree with: it takes the parameters of `req` (defaults as for a new store);
    /// - a missing or empty folder becomes a new store when `req` is complete enough.
    ///
    /// Parameters that a store's files do not show are recorded in `mfq.json`, so the next
    /// command need not infer them.
    pub fn open_or_create(path: impl AsRef<Path>, req: &ParamsRequest) -> Result<Store> {
        let path = path.as_ref();
        let layout = Layout::new(path);
        // Another creator may have made the folders since the open found none: open once
        // more, to see them (a store being made then reads as one without parameters, which
        // the branch below completes, agreeing with that creator through mfq.json).
        let mut opened = Store::open(path, req);
        if matches!(opened, Err(Error::NotAStore { .. })) && !holds_no_store(&layout) {
            opened = Store::open(path, req);
        }
        let store = match opened {
            Ok(store) => store,
            Err(Error::ParamsUnknown { .. }) if layout.list_segments()?.0.is_empty() => {
                return Store::init(layout, req.to_params()?);
            }
            // Only a missing folder, or one with nothing of a store in it, becomes a new store:
            // an unreadable mfq.json beside segments is an error to show, not a store to make.
            Err(Error::NotAStore { reason, .. }) if holds_no_store(&layout) => {
                let params = match req.to_params() {
                    Ok(p) => p,
                    Err(Error::ParamsUnknown { reason: why, need }) => {
                        return Err(Error::NotAStore {
                            path: path.to_path_buf(),
                            reason: format!(
                                "{reason}, and a store is created only when its parameters are \
                                 given ({why})"
                            ),
                            hint: Some(Hint::GiveParams(need)),
                        })
                    }
                    Err(e) => return Err(e),
                };
                return Store::init(layout, params);
            }
            Err(e) => return Err(e),
        };
        // An empty shell (folders, no segment yet, no metadata) gets its parameters recorded,
        // or the next command could not infer them.
        if store.source != ParamsSource::Metadata && store.segments()?.is_empty() {
            params::create_meta(&store.layout.meta(), &store.params)?;
            return Ok(Store {
                source: ParamsSource::Metadata,
                ..store
            });
        }
        Ok(store)
    }

    /// Makes the folders of a store and records its parameters.
    fn init(layout: Layout, params: Params) -> Result<Store> {
        let root = layout.root();
        std::fs::create_dir_all(root).map_err(|e| Error::io("create", root, e))?;
        os::files::ensure_dir(&layout.commitlog())?;
        os::files::ensure_dir(&layout.offset_dir())?;
        // Concurrent creators: one writes mfq.json, the others check they agree with it.
        params::create_meta(&layout.meta(), &params)?;
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

    /// Where the records lie now: the segments and the producer offset, read once. Ask it for
    /// the earliest offset, the data end and whether a reader may start at an offset.
    pub fn extent(&self) -> Result<Extent> {
        Extent::read(&self.layout, &self.params)
    }

    /// Segment files, sorted by start.
    pub fn segments(&self) -> Result<Vec<SegmentFile>> {
        Ok(self.layout.list_segments()?.0)
    }

    /// The earliest record offset on disk.
    pub fn earliest_offset(&self) -> Result<u64> {
        Ok(self.extent()?.earliest())
    }

    /// The data end: where the next record will be read (see [`Extent::data_end`]).
    pub fn data_end(&self) -> Result<u64> {
        self.extent()?.data_end()
    }

    /// Opens the store's single producer.
    pub fn producer(&self, opts: ProducerOptions) -> Result<Producer> {
        // A store without mfq.json may be read by .NET; one with it was made by mfq.
        let dotnet_may_read = self.source != ParamsSource::Metadata;
        Producer::open(self.layout.clone(), self.params, opts, dotnet_may_read)
    }

    /// Opens a consumer; one seen for the first time starts at `first_start`.
    pub fn consumer(&self, id: &ConsumerId, first_start: StartAt) -> Result<Consumer> {
        self.consumer_with(id, first_start, WaitOptions::default())
    }

    /// Opens a consumer with explicit wait tuning.
    pub fn consumer_with(
        &self,
        id: &ConsumerId,
        first_start: StartAt,
        wait: WaitOptions,
    ) -> Result<Consumer> {
        Consumer::open(&self.layout, &self.params, id.clone(), first_start, wait)
    }

    /// Opens an observer (no offset file).
    pub fn observer(&self, start: StartAt) -> Result<Observer> {
        self.observer_with(start, WaitOptions::default())
    }

    /// Opens an observer with explicit wait tuning.
    pub fn observer_with(&self, start: StartAt, wait: WaitOptions) -> Result<Observer> {
        Observer::open(&self.layout, &self.params, start, wait)
    }

    /// Opens an observer where a consumer would read next (its committed offset, or the
    /// earliest record when it has none), changing no file: a look without moving it.
    pub fn peek_consumer(&self, id: &ConsumerId, wait: WaitOptions) -> Result<Observer> {
        let start = match format::offsets::read_offset(&self.layout.consumer_offset(id))? {
            Some(o) => StartAt::Offset(o),
            None => StartAt::Earliest,
        };
        self.observer_with(start, wait)
    }

    /// The consumers that have an offset file, with their committed offsets.
    pub fn consumers(&self) -> Result<Vec<(ConsumerId, u64)>> {
        format::offsets::read_consumers(&self.layout)
    }

    /// Inspects the store: parameters, segments, offsets and every inconsistency.
    pub fn inspect(&self) -> Result<Report> {
        self.inspect_at(recovery::Depth::Full)
    }

    /// [`Store::inspect`], reporting the record scan's progress to `progress(done, total)`
    /// in bytes of segment files: values that never go down, the last call at `total`. The
    /// engine draws nothing; the caller decides what to show.
    pub fn inspect_with_progress(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<Report> {
        recovery::inspect_with(
            &self.layout,
            &self.params,
            self.source,
            recovery::Depth::Full,
            progress,
        )
    }

    /// A fast inspection that does not scan record data (for `stat`).
    pub fn inspect_quick(&self) -> Result<Report> {
        self.inspect_at(recovery::Depth::Quick)
    }

    fn inspect_at(&self, depth: recovery::Depth) -> Result<Report> {
        recovery::inspect(&self.layout, &self.params, self.source, depth)
    }

    /// Turns a start position into an offset.
    pub fn resolve_start(&self, start: StartAt) -> Result<u64> {
        self.extent()?.resolve(start)
    }

    /// Checks that a reader may start at `offset`: on a boundary and not in a deleted segment.
    pub fn check_readable_offset(&self, offset: u64) -> Result<()> {
        self.extent()?.check_readable(offset)
    }

    /// Where `mfq recover` saves removed bytes by default: `mfq-salvage/<unix time>`, with a
    /// `-N` suffix when an earlier repair in the same second used that name (its files must
    /// not be overwritten).
    pub fn default_salvage_dir(&self) -> PathBuf {
        recovery::salvage_dir(self.layout.root())
    }
}

/// True when the path is missing, or a folder without `commitlog/`, `offset/` or `mfq.json`.
fn holds_no_store(layout: &Layout) -> bool {
    let root = layout.root();
    match std::fs::symlink_metadata(root) {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(_) if !root.is_dir() => false,
        Ok(_) => {
            !(layout.commitlog().exists()
                || layout.offset_dir().exists()
                || std::fs::symlink_metadata(layout.meta()).is_ok())
        }
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
        hint: None,
    })?;
    if !meta.is_dir() {
        return Err(Error::NotAStore {
            path: root.to_path_buf(),
            reason: "not a folder".into(),
            hint: None,
        });
    }
    // The store folder may be a symlink; its own folders may not (writes would land outside).
    for sub in [layout.commitlog(), layout.offset_dir()] {
        if std::fs::symlink_metadata(&sub).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::NotRegular {
                path: sub,
                found: "symlink",
            });
        }
    }
    let has = |p: PathBuf| p.is_dir();
    if !(has(layout.commitlog()) || has(layout.offset_dir()) || layout.meta().is_file()) {
        return Err(Error::NotAStore {
            path: root.to_path_buf(),
            reason: "it has no commitlog/ or offset/ folder".into(),
            hint: Some(Hint::CreateStore),
        });
    }
    Ok(())
}
