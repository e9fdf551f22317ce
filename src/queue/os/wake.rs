//! mfq's wake-up word for blocked consumers: the file `mfq.wake` at the store root, mapped by
//! producers and waiting consumers.
//!
//! ```text
//! position | length | field
//! 0        | 4      | sequence, u32 native-endian: incremented by a producer that wakes
//! 4        | 4      | waiters, u32 native-endian: consumers currently asleep on the sequence
//! 8        | 56     | reserved, zero
//! ```
//!
//! A producer makes no syscall unless `waiters` is non-zero. A waiter always sleeps with a
//! timeout, because a .NET producer never wakes it and because the producer's relaxed check can
//! race with a waiter that is just going to sleep.
//!
//! This module must not know about records; callers pass a readiness check.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::queue::error::{Error, Result};
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::{self, Map};

const WAKE_LEN: u64 = 64;

/// A mapped wake-up word.
pub struct Wake {
    map: Map,
    _file: File,
}

impl Wake {
    /// Opens `mfq.wake`, creating it when `create` is set. Best effort: `Ok(None)` when the
    /// store is read-only or the file cannot be used (callers then poll). Something other than a
    /// regular file in its place (a symlink, FIFO, folder) is [`Error::NotRegular`]: it is
    /// neither followed nor mapped, so a planted symlink cannot have its target changed.
    pub fn open(path: &Path, create: bool) -> Result<Option<Wake>> {
        let how = if create {
            How::ReadWriteCreate
        } else {
            How::ReadWrite
        };
        let file = match files::open_in_store(path, how) {
            Ok(f) => f,
            Err(e @ Error::NotRegular { .. }) => return Err(e),
            Err(_) => return Ok(None),
        };
        Ok(Self::map(file, create))
    }

    fn map(file: File, create: bool) -> Option<Wake> {
        let meta = file.metadata().ok()?;
        // Only a producer (which creates it) repairs a short file; a reader does not change
        // the store, and polls instead.
        if meta.len() < WAKE_LEN {
            if !create {
                return None;
            }
            file.set_len(WAKE_LEN).ok()?;
        }
        let map = Map::read_write(&file, WAKE_LEN as usize).ok()?;
        Some(Wake { map, _file: file })
    }

    fn seq(&self) -> &AtomicU32 {
        self.map.atomic_u32(0)
    }

    fn waiters(&self) -> &AtomicU32 {
        self.map.atomic_u32(4)
    }

    /// Wakes every waiter, if there are any (one relaxed load otherwise).
    #[inline]
    pub fn notify(&self) {
        if self.waiters().load(Ordering::Relaxed) != 0 {
            self.seq().fetch_add(1, Ordering::SeqCst);
            sys::futex_wake(self.seq(), i32::MAX);
        }
    }

    /// Sleeps up to `timeout` unless `ready()` says there is something to read once this waiter
    /// is registered.
    pub fn wait(&self, timeout: Duration, ready: impl FnOnce() -> bool) {
        self.waiters().fetch_add(1, Ordering::SeqCst);
        let seq = self.seq().load(Ordering::SeqCst);
        if !ready() {
            sys::futex_wait(self.seq(), seq, timeout);
        }
        self.waiters().fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn notify_wakes_a_sleeper() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mfq.wake");
        let a = Wake::open(&path, true).unwrap().unwrap();
        let b = Wake::open(&path, false).unwrap().unwrap();
        let t = std::thread::spawn(move || {
            let t0 = Instant::now();
            b.wait(Duration::from_secs(20), || false);
            t0.elapsed()
        });
        // Notify until the sleeper has registered and been woken.
        while !t.is_finished() {
            a.notify();
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(t.join().unwrap() < Duration::from_secs(20));
    }

    #[test]
    fn only_a_producer_repairs_a_short_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mfq.wake");
        std::fs::write(&path, b"xx").unwrap();
        assert!(Wake::open(&path, false).unwrap().is_none());
        assert_eq!(std::fs::read(&path).unwrap(), b"xx");
        assert!(Wake::open(&path, true).unwrap().is_some());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), WAKE_LEN);
        assert!(
            matches!(Wake::open(dir.path(), true), Err(Error::NotRegular { .. })),
            "a folder is not a wake file"
        );
    }

    #[test]
    fn ready_check_skips_the_sleep() {
        let dir = tempfile::tempdir().unwrap();
        let w = Wake::open(&dir.path().join("mfq.wake"), true)
            .unwrap()
            .unwrap();
        let t0 = Instant::now();
        w.wait(Duration::from_secs(20), || true);
        assert!(t0.elapsed() < Duration::from_secs(20));
        assert_eq!(w.waiters().load(Ordering::SeqCst), 0);
    }
}
