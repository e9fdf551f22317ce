//! The one place that decides which lock mfq takes on which store file, and what a holder
//! means. Producers, consumers, offset files and admin commands call it; none calls the
//! lock syscalls of `os::sys` directly.
//!
//! The discipline (README, "Locks"):
//! - The .NET libraries open every file with `flock(LOCK_SH | LOCK_NB)` and throw when that
//!   fails. So a running mfq producer, consumer or observer holds at most `LOCK_SH` (flock) on
//!   a file .NET may open, and never stops a .NET process from opening the store.
//! - One producer per store and one consumer per name are enforced among mfq processes by an
//!   open-file-description write lock (`F_OFD_SETLK`) on the owned offset file ([`own`]),
//!   which .NET never takes and which does not interact with flock.
//! - A .NET producer takes no exclusive lock; an mfq producer detects one at open by a
//!   `LOCK_EX | LOCK_NB` probe of its offset files ([`sole_opener`]). A .NET producer started
//!   after an mfq producer cannot detect it.
//! - Changes (admin commands, a producer's repair at open) first take the recovery lock
//!   ([`RecoveryLock`]): `recovery_lock.lock`, which the fixed .NET library (v0.4+) locks with
//!   a classic POSIX lock around its start-up recovery, retrying every 200 ms. Then they take
//!   `LOCK_EX | LOCK_NB` on the files they change ([`take`], [`lock_all`]) and refuse when a
//!   live process holds one.
//! - A probe ([`is_held`]) sees both kinds of holder: mfq's record locks (`F_OFD_GETLK`,
//!   which takes nothing) and any flock (a momentary `LOCK_EX | LOCK_NB`).
//!
//! This module must not decide what a change is; it only locks.

use std::cell::RefCell;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::queue::error::{Error, Holder, IoContext, Result};
use crate::queue::format::layout::Layout;
use crate::queue::offline::holders;
use crate::queue::os::files::{self, How};
use crate::queue::os::sys::{self, Lock, RecordHolder};

/// How long a lock held only for a moment (another command's [`is_held`] probe) is retried.
const MOMENT: Duration = Duration::from_millis(20);

/// Retries `attempt` every millisecond for up to `within`; `Ok(false)` when it never
/// succeeded.
fn retry(within: Duration, mut attempt: impl FnMut() -> Result<bool>) -> Result<bool> {
    let deadline = Instant::now() + within;
    loop {
        if attempt()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// What taking one file found.
#[derive(Debug)]
pub(crate) enum Taken {
    /// The file is locked exclusively (flock) by this process until the `File` is dropped.
    Locked(File),
    /// Another open file (a live process) holds it.
    Held,
    /// There is no such file.
    Missing,
}

/// Opens `path` (read-only, or read-write with `write`) and tries `LOCK_EX | LOCK_NB` on it;
/// a file with an mfq owner's record lock on it is held too.
pub(crate) fn take(path: &Path, write: bool) -> Result<Taken> {
    // Opening a FIFO would block and a symlink leads out of the store: only regular files are
    // locked (`files` refuses the rest).
    let how = if write { How::ReadWrite } else { How::Read };
    let file = match files::open_in_store(path, how) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(Taken::Missing),
        Err(e) => return Err(e),
    };
    if !sys::try_lock(&file, Lock::Exclusive).ctx("lock", path)? {
        return Ok(Taken::Held);
    }
    // An mfq owner takes its record lock before its flock: one caught in between is live.
    if sys::record_lock_holder(&file).ctx("lock", path)?.is_some() {
        sys::unlock(&file);
        return Ok(Taken::Held);
    }
    Ok(Taken::Locked(file))
}

/// Probes whether another process holds a file; `Ok(true)` when it does: an mfq owner's
/// record lock, a .NET process's `LOCK_SH`, or any other lock. Whatever the probe takes is
/// released at once. A missing file is not held; anything but a regular file is not probed
/// (`false`).
pub fn is_held(path: &Path) -> Result<bool> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| !m.file_type().is_file()) {
        return Ok(false);
    }
    match take(path, false)? {
        Taken::Held => Ok(true),
        Taken::Locked(f) => {
            sys::unlock(&f);
            Ok(false)
        }
        Taken::Missing => Ok(false),
    }
}

/// Who holds a store's `producer.offset` as its producer ([`producer_holder`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProducerHolder {
    /// An mfq producer (its OFD write lock).
    Mfq,
    /// Another process's flock: a .NET producer's `LOCK_SH` (or a change's `LOCK_EX`).
    Other,
}

/// Which producer holds the store whose `producer.offset` is `path`, if any, for a reader that
/// must tell a live producer's unpublished bytes from a crashed store's stale offset: an mfq
/// producer's OFD write lock (seen with `F_OFD_GETLK`, which takes nothing), else another
/// flock (a .NET producer's `LOCK_SH`), as `/proc/locks` lists it, which takes no lock a
/// starting .NET process could run into while one runs. When the table lists none (or cannot
/// be read) the file is probed as [`is_held`] does (a `LOCK_EX` held for a moment). A missing
/// file has no producer.
pub(crate) fn producer_holder(path: &Path) -> Result<Option<ProducerHolder>> {
    let file = match files::open_in_store(path, How::Read) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    if sys::record_lock_holder(&file).ctx("lock", path)?.is_some() {
        return Ok(Some(ProducerHolder::Mfq));
    }
    // `/proc/locks` can miss an entry while locks change under a read of many pages, so it
    // only ever says yes; a no is confirmed by the probe (while a .NET producer runs it holds
    // its lock and the table lists it, so the probe runs only for a store without one).
    if let Ok(table) = std::fs::read_to_string("/proc/locks") {
        if !holders::holder_pids(&table, path).is_empty() {
            return Ok(Some(ProducerHolder::Other));
        }
    }
    if !sys::try_lock(&file, Lock::Exclusive).ctx("lock", path)? {
        return Ok(Some(ProducerHolder::Other));
    }
    sys::unlock(&file);
    Ok(None)
}

/// Exclusive locks on every file a change touches, released when dropped.
#[derive(Debug, Default)]
pub(crate) struct LockSet {
    files: Vec<File>,
}

/// Locks every existing file of `paths` exclusively (opened read-write with `write`). A file a
/// live process holds refuses the whole change with [`Error::Locked`], unless `force`: then it
/// is noted as held and the change goes on.
pub(crate) fn lock_all(
    paths: impl IntoIterator<Item = PathBuf>,
    write: bool,
    force: bool,
) -> Result<LockSet> {
    let mut set = LockSet::default();
    for path in paths {
        match take(&path, write)? {
            Taken::Locked(f) => set.files.push(f),
            Taken::Missing => {}
            Taken::Held if force => {}
            Taken::Held => return Err(Error::locked(path, Holder::LiveProcess)),
        }
    }
    Ok(set)
}

/// Makes this open file (read-write) the owner of an offset file among mfq processes: an OFD
/// write lock, which another mfq owner of the same file refuses with [`Error::Locked`] naming
/// `holder`, and `LOCK_SH` (flock), which .NET's openers share and an offline change's
/// `LOCK_EX` refuses. Both are released when the file is closed.
pub(crate) fn own(file: &File, path: &Path, holder: Holder) -> Result<()> {
    let locked = |holder| Error::locked(path, holder);
    if !sys::try_ofd_lock(file).ctx("lock", path)? {
        return Err(locked(holder));
    }
    if !retry(MOMENT, || {
        sys::try_lock(file, Lock::Shared).ctx("lock", path)
    })? {
        sys::ofd_unlock(file);
        return Err(locked(Holder::OtherChange));
    }
    Ok(())
}

/// Refuses ([`Error::Locked`], [`Holder::DotnetProducer`]) when another process has `path`
/// open with a flock: a `LOCK_EX | LOCK_NB` probe, turned back into `LOCK_SH` at once. For
/// a producer's offset files, opened by [`own`], while the recovery lock is held: a .NET
/// process has them open outside its recovery only as a producer.
pub(crate) fn sole_opener(file: &File, path: &Path) -> Result<()> {
    let alone = retry(MOMENT, || {
        sys::try_lock(file, Lock::Exclusive).ctx("lock", path)
    })?;
    // Back to shared; a conversion that failed dropped the shared lock, which is taken again.
    retry(MOMENT, || {
        sys::try_lock(file, Lock::Shared).ctx("lock", path)
    })?;
    if alone {
        Ok(())
    } else {
        Err(Error::locked(path, Holder::DotnetProducer))
    }
}

thread_local! {
    /// The recovery locks this thread holds, by (device, inode): taking one again while it is
    /// held nests (an engine change called by a command that holds the lock already).
    static RECOVERY_LOCKS: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
}

/// The store's recovery lock, held until dropped: `recovery_lock.lock` at the store root
/// (created when missing, as .NET does), with `LOCK_EX` (flock) when no other process has it
/// open, else `LOCK_SH`, and an OFD write lock. The OFD lock is what excludes: a .NET
/// recovery's `F_SETLK` fails on it, and .NET retries every 200 ms (its open, which fails
/// against `LOCK_EX`, is inside the same retry loop) until mfq is done; another mfq change
/// fails on it too.
#[derive(Debug)]
pub struct RecoveryLock {
    /// `None` for a lock nested in one this thread holds already.
    held: Option<(File, (u64, u64))>,
}

impl RecoveryLock {
    /// Takes the recovery lock of the store at `layout`, trying again for up to `wait`. A
    /// holder that stays refuses with [`Error::Locked`]: [`Holder::DotnetRecovery`] for a
    /// classic POSIX lock (a .NET recovery), [`Holder::OtherChange`] for another mfq change.
    /// The store folder must exist.
    pub fn take(layout: &Layout, wait: Duration) -> Result<RecoveryLock> {
        let path = layout.recovery_lock();
        let file = files::open_in_store(&path, How::ReadWriteCreate)?;
        let meta = file.metadata().ctx("stat", &path)?;
        let key = (meta.dev(), meta.ino());
        if RECOVERY_LOCKS.with(|held| held.borrow().contains(&key)) {
            return Ok(RecoveryLock { held: None });
        }
        let deadline = Instant::now() + wait;
        loop {
            let flock = match sys::try_lock(&file, Lock::Exclusive).ctx("lock", &path)? {
                true => true,
                false => sys::try_lock(&file, Lock::Shared).ctx("lock", &path)?,
            };
            let holder = match flock && sys::try_ofd_lock(&file).ctx("lock", &path)? {
                true => None,
                false => Some(match sys::record_lock_holder(&file).ctx("lock", &path)? {
                    Some(RecordHolder::Process(_)) => Holder::DotnetRecovery,
                    // An OFD lock, or a flock LOCK_EX: another mfq change.
                    Some(RecordHolder::OpenFile) | None => Holder::OtherChange,
                }),
            };
            let Some(holder) = holder else {
                RECOVERY_LOCKS.with(|held| held.borrow_mut().push(key));
                return Ok(RecoveryLock {
                    held: Some((file, key)),
                });
            };
            sys::unlock(&file);
            if Instant::now() >= deadline {
                return Err(Error::locked(path, holder));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for RecoveryLock {
    fn drop(&mut self) {
        if let Some((file, key)) = self.held.take() {
            RECOVERY_LOCKS.with(|held| held.borrow_mut().retain(|k| *k != key));
            sys::ofd_unlock(&file);
            sys::unlock(&file);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_excludes_another_owner_but_not_a_shared_opener() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("producer.offset");
        std::fs::write(&p, [0u8; 8]).unwrap();
        let open = || files::open_in_store(&p, How::ReadWrite).unwrap();
        let (a, b, dotnet) = (open(), open(), open());
        own(&a, &p, Holder::Producer).unwrap();
        assert!(is_held(&p).unwrap());
        assert!(matches!(
            own(&b, &p, Holder::Producer),
            Err(Error::Locked {
                holder: Holder::Producer,
                ..
            })
        ));
        assert!(sys::try_lock(&dotnet, Lock::Shared).unwrap(), ".NET opens");
        assert!(matches!(
            sole_opener(&a, &p),
            Err(Error::Locked {
                holder: Holder::DotnetProducer,
                ..
            })
        ));
        sys::unlock(&dotnet);
        sole_opener(&a, &p).unwrap();
        assert!(
            sys::try_lock(&dotnet, Lock::Shared).unwrap(),
            "shared again"
        );
        drop(a);
        sys::unlock(&dotnet);
        // Another test of this binary that forks a child at this moment shares `a`'s open
        // file description until the child's exec closes it: wait that window out (bounded).
        let until = Instant::now() + Duration::from_secs(5);
        while is_held(&p).unwrap() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!is_held(&p).unwrap());
        own(&b, &p, Holder::Producer).unwrap();
    }

    #[test]
    fn a_producer_is_seen_while_an_mfq_owner_or_a_dotnet_opener_holds_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("producer.offset");
        assert_eq!(producer_holder(&p).unwrap(), None, "missing: no producer");
        std::fs::write(&p, [0u8; 8]).unwrap();
        assert_eq!(producer_holder(&p).unwrap(), None);
        let open = || files::open_in_store(&p, How::ReadWrite).unwrap();
        let mfq = open();
        own(&mfq, &p, Holder::Producer).unwrap();
        assert_eq!(producer_holder(&p).unwrap(), Some(ProducerHolder::Mfq));
        drop(mfq);
        no_producer_soon(&p);
        let dotnet = open();
        assert!(sys::try_lock(&dotnet, Lock::Shared).unwrap());
        assert_eq!(producer_holder(&p).unwrap(), Some(ProducerHolder::Other));
        assert!(
            sys::try_lock(&open(), Lock::Shared).unwrap(),
            "the probe left nothing behind"
        );
        drop(dotnet);
        no_producer_soon(&p);
    }

    /// No producer once a closed file's lock is gone: another test of this binary that forks
    /// at that moment shares the file until its child execs (bounded wait).
    fn no_producer_soon(p: &Path) {
        let until = Instant::now() + Duration::from_secs(5);
        while producer_holder(p).unwrap().is_some() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(producer_holder(p).unwrap(), None);
    }

    #[test]
    fn the_recovery_lock_nests_in_one_thread_and_excludes_another() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        let outer = RecoveryLock::take(&layout, Duration::ZERO).unwrap();
        let inner = RecoveryLock::take(&layout, Duration::ZERO).unwrap();
        assert!(inner.held.is_none());
        std::thread::scope(|s| {
            let other = s.spawn(|| RecoveryLock::take(&layout, Duration::ZERO));
            assert!(matches!(
                other.join().unwrap(),
                Err(Error::Locked {
                    holder: Holder::OtherChange,
                    ..
                })
            ));
        });
        drop(inner);
        assert!(is_held(&layout.recovery_lock()).unwrap(), "still held");
        drop(outer);
        assert!(!is_held(&layout.recovery_lock()).unwrap());
        std::thread::scope(|s| {
            s.spawn(|| RecoveryLock::take(&layout, Duration::ZERO).unwrap());
        });
    }
}
