//! The producer's flusher thread: it syncs written ranges and advances
//! `producer.confirmed.offset`, so the producer never waits on msync.
//!
//! Protocol: the producer publishes `written` (release) after each append and registers each
//! new segment; at its policy points it raises `target`. The helper syncs
//! `[confirmed, target)` segment by segment (msync of exactly that range), fsyncs `commitlog/`
//! when a segment was added, then stores and syncs the confirmed offset. It never confirms a
//! byte before it is synced. An error is kept and reported by the producer's next call.
//!
//! Open files and mappings are bounded: the flusher keeps at most [`MAPPED`] segments mapped
//! (the current one and the one before it). An older segment with unconfirmed bytes is
//! unmapped and closed when the next one is registered, and kept as a path and a range: its
//! sync opens the file again and `fdatasync`s it (on Linux the dirty pages of a shared mapping
//! stay in the page cache after `munmap`, and `msync(MS_SYNC)` is an fsync of the range).
//!
//! This module must not write records or choose when to flush.

use std::collections::VecDeque;
use std::io::ErrorKind;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::queue::error::{Error, IoContext, Result};
use crate::queue::format::offsets::{self, OffsetFile};
use crate::queue::os::files::{self, How};
use crate::queue::os::segment::Segment;

/// State shared between the producer and its helper.
pub struct Shared {
    /// Everything below this offset has been appended.
    pub written: AtomicU64,
    state: Mutex<State>,
    cond: Condvar,
    done: Condvar,
}

/// Segments kept mapped: the current one and the one before it (whose tail the next sync
/// most likely covers).
const MAPPED: usize = 2;

/// A segment that is no longer mapped but holds bytes not yet confirmed.
#[derive(Clone)]
struct Retired {
    path: PathBuf,
    start: u64,
    end: u64,
}

struct State {
    target: u64,
    confirmed: u64,
    segments: VecDeque<Arc<Segment>>,
    retired: Vec<Retired>,
    new_segment: bool,
    error: Option<Failure>,
    stop: bool,
}

/// A background sync that failed, kept so that every later call reports it as a typed
/// [`Error::Flush`] with the operating system's error (an `io::Error` is not `Clone`, so it is
/// rebuilt from its code, or from its kind and text).
struct Failure {
    path: PathBuf,
    os_code: Option<i32>,
    kind: std::io::ErrorKind,
    text: String,
}

impl Failure {
    fn of(err: &Error, commitlog: &std::path::Path) -> Failure {
        match err {
            Error::Io { path, source, .. } | Error::Flush { path, source } => Failure {
                path: path.clone(),
                os_code: source.raw_os_error(),
                kind: source.kind(),
                text: source.to_string(),
            },
            other => Failure {
                path: commitlog.to_path_buf(),
                os_code: None,
                kind: std::io::ErrorKind::Other,
                text: other.to_string(),
            },
        }
    }

    fn error(&self) -> Error {
        let source = match self.os_code {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(self.kind, self.text.clone()),
        };
        Error::Flush {
            path: self.path.clone(),
            source,
        }
    }
}

/// Syncs the ranges and confirms them.
struct Syncer {
    confirmed_file: OffsetFile,
    commitlog: PathBuf,
}

impl Syncer {
    fn sync(&self, batch: &Batch, from: u64, to: u64, new_seg: bool) -> Result<()> {
        for r in &batch.retired {
            if r.end <= from || r.start >= to {
                continue;
            }
            // A segment an operator deleted (`prune --force`) has nothing left to sync.
            let file = match files::open_in_store(&r.path, How::Read) {
                Ok(f) => f,
                Err(Error::Io { source, .. }) if source.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            file.sync_data().ctx("sync segment", &r.path)?;
        }
        for seg in &batch.segments {
            let s = seg.start();
            let end = s + seg.logical_len();
            if end <= from || s >= to {
                continue;
            }
            let a = from.max(s) - s;
            // A segment that ends before `to` was left by a roll: sync its tail (0xEE too).
            let b = if to >= end { seg.logical_len() } else { to - s };
            seg.map()
                .flush_range(a as usize, (b - a) as usize)
                .ctx("sync segment", seg.path())?;
        }
        if new_seg {
            offsets::sync_dir(&self.commitlog)?;
        }
        self.confirmed_file.set(to);
        self.confirmed_file.sync()
    }
}

/// Handle owned by the producer.
pub struct Flusher {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    inline: Option<Syncer>,
}

impl Flusher {
    /// Starts the helper (or, with `background == false`, syncs on the caller's thread).
    pub fn start(
        confirmed_file: OffsetFile,
        commitlog: PathBuf,
        written: u64,
        interval: Option<Duration>,
        background: bool,
    ) -> Flusher {
        let confirmed = confirmed_file.get().min(written);
        let shared = Arc::new(Shared {
            written: AtomicU64::new(written),
            state: Mutex::new(State {
                target: confirmed,
                confirmed,
                segments: VecDeque::new(),
                retired: Vec::new(),
                new_segment: false,
                error: None,
                stop: false,
            }),
            cond: Condvar::new(),
            done: Condvar::new(),
        });
        let syncer = Syncer {
            confirmed_file,
            commitlog,
        };
        if !background {
            return Flusher {
                shared,
                thread: None,
                inline: Some(syncer),
            };
        }
        let sh = shared.clone();
        let thread = std::thread::Builder::new()
            .name("mfq-flusher".into())
            .spawn(move || run(sh, syncer, interval))
            .expect("spawn flusher thread");
        Flusher {
            shared,
            thread: Some(thread),
            inline: None,
        }
    }

    /// The shared state (the producer stores `written` into it).
    #[inline]
    pub fn shared(&self) -> &Shared {
        &self.shared
    }

    /// Registers a segment the producer now writes to. Segments older than the one before it
    /// are unmapped and closed here; their unconfirmed bytes are synced through their path.
    pub fn add_segment(&self, seg: Arc<Segment>, is_new: bool) {
        let mut st = self.shared.state.lock().expect("flusher lock");
        st.segments.push_back(seg);
        st.new_segment |= is_new;
        while st.segments.len() > MAPPED {
            let old = st.segments.pop_front().expect("more than MAPPED segments");
            let end = old.start() + old.logical_len();
            if end > st.confirmed {
                st.retired.push(Retired {
                    path: old.path().to_path_buf(),
                    start: old.start(),
                    end,
                });
            }
        }
    }

    /// Requests that everything below `offset` be confirmed; returns at once in background
    /// mode, after the sync otherwise. Reports an earlier background failure.
    pub fn request(&self, offset: u64) -> Result<()> {
        self.shared.written.store(offset, Ordering::Release);
        if let Some(syncer) = &self.inline {
            return self.sync_inline(syncer, offset);
        }
        let mut st = self.shared.state.lock().expect("flusher lock");
        if let Some(e) = &st.error {
            return Err(e.error());
        }
        if offset > st.target {
            st.target = offset;
            self.shared.cond.notify_one();
        }
        Ok(())
    }

    fn sync_inline(&self, syncer: &Syncer, offset: u64) -> Result<()> {
        let mut st = self.shared.state.lock().expect("flusher lock");
        if offset <= st.confirmed {
            return Ok(());
        }
        let batch = Batch::of(&st);
        syncer
            .sync(&batch, st.confirmed, offset, st.new_segment)
            .map_err(|e| match e {
                Error::Io { path, source, .. } => Error::Flush { path, source },
                other => other,
            })?;
        st.new_segment = false;
        st.confirmed = offset;
        prune_segments(&mut st, offset);
        Ok(())
    }

    /// Requests `offset` and waits until it is confirmed.
    pub fn flush(&self, offset: u64) -> Result<()> {
        self.request(offset)?;
        let mut st = self.shared.state.lock().expect("flusher lock");
        while st.confirmed < offset && st.error.is_none() {
            st = self.shared.done.wait(st).expect("flusher lock");
        }
        match &st.error {
            Some(e) => Err(e.error()),
            None => Ok(()),
        }
    }

    /// The confirmed offset.
    pub fn confirmed(&self) -> u64 {
        self.shared.state.lock().expect("flusher lock").confirmed
    }
}

impl Drop for Flusher {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.shared.state.lock().expect("flusher lock").stop = true;
            self.shared.cond.notify_one();
            let _ = t.join();
        }
    }
}

/// What one sync covers: the mapped segments and the retired ones, taken under the lock and
/// synced without it.
struct Batch {
    segments: Vec<Arc<Segment>>,
    retired: Vec<Retired>,
}

impl Batch {
    fn of(st: &State) -> Batch {
        Batch {
            segments: st.segments.iter().cloned().collect(),
            retired: st.retired.clone(),
        }
    }
}

/// Drops segments that hold nothing unconfirmed: a mapped segment is done once the next one
/// starts at or below the confirmed offset (the newest one is always kept), a retired one once
/// it ends there.
fn prune_segments(st: &mut State, confirmed: u64) {
    while st.segments.len() > 1 && st.segments[1].start() <= confirmed {
        st.segments.pop_front();
    }
    st.retired.retain(|r| r.end > confirmed);
}

fn run(sh: Arc<Shared>, syncer: Syncer, interval: Option<Duration>) {
    let mut st = sh.state.lock().expect("flusher lock");
    loop {
        let mut target = st.target;
        if st.stop {
            break;
        }
        if target <= st.confirmed {
            let (g, timeout) = match interval {
                Some(iv) => {
                    let r = sh.cond.wait_timeout(st, iv).expect("flusher lock");
                    (r.0, r.1.timed_out())
                }
                None => (sh.cond.wait(st).expect("flusher lock"), false),
            };
            st = g;
            if !timeout {
                continue;
            }
            target = sh.written.load(Ordering::Acquire);
            if target <= st.confirmed {
                continue;
            }
        }
        let from = st.confirmed;
        let batch = Batch::of(&st);
        let new_seg = std::mem::take(&mut st.new_segment);
        drop(st);
        let result = syncer.sync(&batch, from, target, new_seg);
        drop(batch);
        st = sh.state.lock().expect("flusher lock");
        match result {
            Ok(()) => {
                st.confirmed = target;
                prune_segments(&mut st, target);
            }
            Err(e) => st.error = Some(Failure::of(&e, &syncer.commitlog)),
        }
        sh.done.notify_all();
    }
}
