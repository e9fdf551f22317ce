//! The only room with `unsafe`: shared file mappings, flock, fallocate, futex and madvise
//! (and, without `unsafe`, the anonymous zero-filled memory of [`Zeroed`]).
//!
//! Every other module goes through the safe wrappers here. A [`Map`] is a `MAP_SHARED`
//! mapping of a store file; other processes (mfq or .NET) may map the same pages and write
//! them at any time, so all access to bytes that another process may be writing goes through
//! atomic loads/stores or raw copies, never through long-lived references, except
//! [`Map::slice`], whose contract is documented there.
//!
//! Locking roles (advisory; the discipline is decided in `offline/locks.rs`):
//! - the .NET libraries take `flock(LOCK_SH | LOCK_NB)` on every file they open and fail to
//!   open it when that fails, so mfq holds at most `LOCK_SH` (flock) on a file .NET may open
//!   while a producer, consumer or observer runs;
//! - exclusion between mfq processes (one producer, one consumer per name) uses
//!   open-file-description record locks ([`try_ofd_lock`]), which .NET never takes and which do
//!   not interact with flock;
//! - the .NET recovery takes a classic POSIX record lock (`F_SETLK`) on `recovery_lock.lock`;
//!   an OFD write lock conflicts with it both ways, and [`record_lock_holder`] sees either.
//!
//! This module must not know about formats, offsets or policies.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::Duration;

use memmap2::{Advice, MmapOptions, MmapRaw};

/// A shared mapping of (a prefix of) a file. Length 0 is allowed and maps nothing.
pub struct Map {
    /// Keeps the mapping alive (unmapped on drop); `None` for length 0.
    raw: Option<MmapRaw>,
    /// Base address, cached off `raw` for the hot paths (dangling for length 0).
    base: *mut u8,
    len: usize,
    writable: bool,
}

impl Map {
    /// Maps the first `len` bytes of `file` read-write. The file must be at least `len` long.
    pub fn read_write(file: &File, len: usize) -> io::Result<Map> {
        Self::new(file, len, true)
    }

    /// Maps the first `len` bytes of `file` read-only. The file must be at least `len` long.
    pub fn read_only(file: &File, len: usize) -> io::Result<Map> {
        Self::new(file, len, false)
    }

    fn new(file: &File, len: usize, writable: bool) -> io::Result<Map> {
        if len == 0 {
            return Ok(Map {
                raw: None,
                base: std::ptr::NonNull::dangling().as_ptr(),
                len: 0,
                writable,
            });
        }
        let opts = {
            let mut o = MmapOptions::new();
            o.len(len);
            o
        };
        let raw = if writable {
            opts.map_raw(file)?
        } else {
            opts.map_raw_read_only(file)?
        };
        assert!(
            (raw.as_ptr() as usize) % page_size() == 0,
            "mmap returned an unaligned address"
        );
        Ok(Map {
            base: raw.as_mut_ptr(),
            raw: Some(raw),
            len,
            writable,
        })
    }

    /// Mapped length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the mapping may be written.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    #[inline(always)]
    fn ptr(&self) -> *mut u8 {
        self.base
    }

    #[inline(always)]
    fn check(&self, pos: usize, len: usize) {
        // Two comparisons and no addition, so that no overflow check is needed.
        if pos > self.len || len > self.len - pos {
            out_of_bounds(pos, len, self.len);
        }
    }

    /// Loads one byte with acquire ordering (pairs with [`Map::store_release`]).
    #[inline(always)]
    pub fn load_acquire(&self, pos: usize) -> u8 {
        self.check(pos, 1);
        // SAFETY: pos is in bounds of a live mapping (checked above). Other processes may store
        // to this byte concurrently; an atomic load of a u8 is always sound and aligned.
        unsafe { (*(self.ptr().add(pos) as *const AtomicU8)).load(Ordering::Acquire) }
    }

    /// Hints the CPU to start loading the cache line at `pos` (no effect past the end, on
    /// unmapped pages or on other architectures). Readers call it a few records ahead so that
    /// the crossing into the next 4 KiB page, where the hardware prefetcher stops, does not
    /// stall them.
    #[inline(always)]
    pub fn prefetch(&self, pos: usize) {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a prefetch never faults and has no architectural effect, whatever the address
        // (past the mapping's end it is simply dropped); `wrapping_add` computes the address
        // without claiming it lies inside the mapping, so no bounds branch is needed.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                self.ptr().wrapping_add(pos) as *const i8,
            )
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = pos;
    }

    /// The `len` bytes at `pos` if the byte right after them reads `marker` (acquire load,
    /// pairs with the writer's [`Map::store_release`] of that byte); `None` when it does not or
    /// the marker lies past the mapping. The readers' hot path: one bounds check covers the
    /// marker and the payload. The returned slice follows the contract of [`Map::slice`].
    #[inline(always)]
    pub fn published(&self, pos: usize, len: usize, marker: u8) -> Option<&[u8]> {
        let at = pos.checked_add(len)?;
        if at >= self.len {
            return None;
        }
        // SAFETY: `at < self.len`, so the marker byte lies in the live mapping; other processes may
        // store to it concurrently, and an atomic u8 load is always aligned and sound.
        let seen = unsafe { (*(self.ptr().add(at) as *const AtomicU8)).load(Ordering::Acquire) };
        if seen != marker {
            return None;
        }
        // SAFETY: `[pos, at)` lies before the marker inside the mapping (so the base is a real
        // mapping, not the dangling pointer of an empty one), and the marker read with acquire
        // says the producer published these bytes; see the contract of `slice`.
        Some(unsafe { std::slice::from_raw_parts(self.ptr().add(pos), len) })
    }

    /// Turns the kernel's readahead for faults at `pos` and beyond off (`MADV_RANDOM`) or back
    /// on (`MADV_NORMAL`). A reader that has caught up with the writer turns it off: pages past
    /// the data are not on disk yet, and reading them ahead would only allocate and zero pages
    /// the writer is about to fault in, with each side then waiting on the other's locked
    /// folios. A reader that has fallen behind again turns it back on. Best effort.
    pub fn set_readahead_from(&self, pos: usize, on: bool) {
        let advice = if on { Advice::Normal } else { Advice::Random };
        self.advise(pos, self.len, advice);
    }

    /// Asks for `[pos, end)` to be backed by 2 MiB page-cache folios mapped with one page-table
    /// entry each (`MADV_HUGEPAGE`; `pos` is widened down to 2 MiB): one fault, one zeroing
    /// pass and, at writeback, one TLB flush per 2 MiB instead of per 4 KiB page. The catch:
    /// writeback writes a dirty folio whole, so syncing a few bytes in one writes 2 MiB.
    /// Only pages faulted in afterwards are affected. Best effort.
    pub fn prefer_large_folios(&self, pos: usize, end: usize) {
        self.advise(pos / LARGE_FOLIO * LARGE_FOLIO, end, Advice::HugePage);
    }

    /// Asks for `[pos, end)` to be backed by single 4 KiB pages (`MADV_NOHUGEPAGE` and
    /// `MADV_RANDOM`: no huge folios, and no readahead, which would otherwise grow the folios
    /// it allocates up to 2 MiB), so that a sync writes only the pages that changed. Only pages
    /// faulted in afterwards are affected. Best effort.
    pub fn prefer_small_folios(&self, pos: usize, end: usize) {
        self.advise(pos, end, Advice::NoHugePage);
        self.advise(pos, end, Advice::Random);
    }

    /// `madvise` over `[pos, end)`, widened down to a page boundary and clipped to the
    /// mapping. Best effort: errors (old kernels, unsupported advice) are ignored.
    fn advise(&self, pos: usize, end: usize, advice: Advice) {
        let start = pos / page_size() * page_size();
        let end = end.min(self.len);
        if let (Some(raw), true) = (&self.raw, start < end) {
            let _ = raw.advise_range(advice, start, end - start);
        }
    }

    /// Copies `payload` to `pos` and then stores `marker` right after it with release ordering:
    /// the writers' hot path, one bounds check and one writability check for both. The
    /// counterpart of [`Map::published`].
    #[inline(always)]
    pub fn publish(&self, pos: usize, payload: &[u8], marker: u8) {
        let len = payload.len();
        if pos >= self.len || len >= self.len - pos {
            out_of_bounds(pos, len + 1, self.len);
        }
        assert!(self.writable, "write into a read-only mapping");
        // SAFETY: `[pos, pos + len]` lies in the mapping (checked: `pos + len < self.len`) and
        // the mapping is writable. Only the producer (this store's single writer, holding
        // the exclusive OFD lock on its offset files) writes these bytes, and readers do not look at them
        // before they see the marker, which is stored last with release ordering; the copy
        // cannot overlap `payload`, which is the caller's memory.
        unsafe {
            std::ptr::copy_nonoverlapping(payload.as_ptr(), self.ptr().add(pos), len);
            (*(self.ptr().add(pos + len) as *const AtomicU8)).store(marker, Ordering::Release)
        }
    }

    /// Stores one byte with release ordering: every write before it is visible to a reader that
    /// acquires this byte.
    #[inline]
    pub fn store_release(&self, pos: usize, value: u8) {
        self.check(pos, 1);
        assert!(self.writable, "store into a read-only mapping");
        // SAFETY: in bounds and writable (checked). Concurrent readers use atomic loads of this
        // byte; an atomic u8 store is aligned and sound.
        unsafe { (*(self.ptr().add(pos) as *const AtomicU8)).store(value, Ordering::Release) }
    }

    /// Copies `src` into the mapping at `pos` (plain stores; publish with `store_release`).
    #[inline]
    pub fn write(&self, pos: usize, src: &[u8]) {
        self.check(pos, src.len());
        assert!(self.writable, "write into a read-only mapping");
        // SAFETY: in bounds and writable (checked). The writer (the single producer, enforced by
        // an exclusive OFD lock) owns the unpublished range [pos, pos+len); readers do not read it
        // until the marker after it is published with release ordering.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr().add(pos), src.len()) }
    }

    /// Copies `dst.len()` bytes at `pos` out of the mapping.
    #[inline(always)]
    pub fn read_into(&self, pos: usize, dst: &mut [u8]) {
        self.check(pos, dst.len());
        // SAFETY: in bounds. The bytes may be concurrently written by another process only if
        // they are unpublished; callers validate the copy (marker, header) before trusting it.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr().add(pos), dst.as_mut_ptr(), dst.len()) }
    }

    /// A borrowed view of `len` bytes at `pos`.
    ///
    /// Contract: the caller has observed (acquire) that the range is a published record (or
    /// accepts that the bytes may change under it, as inspection code does when it only
    /// classifies them). Published records are never written again while a reader may hold them:
    /// the producer only appends, and recovery, which zeroes, refuses to run while a live
    /// process holds the store unless forced.
    #[inline(always)]
    pub fn slice(&self, pos: usize, len: usize) -> &[u8] {
        self.check(pos, len);
        // SAFETY: in bounds of a mapping that lives as long as `self` (for an empty mapping,
        // `pos` is 0 and the dangling base is non-null and aligned, which a 0-length slice
        // needs); see the contract above for why no other writer touches these bytes while the
        // slice is alive.
        unsafe { std::slice::from_raw_parts(self.ptr().add(pos), len) }
    }

    /// An atomic view of an 8-byte aligned word (offset files).
    #[inline]
    pub fn atomic_u64(&self, pos: usize) -> &AtomicU64 {
        self.check(pos, 8);
        assert!(pos % 8 == 0, "unaligned");
        // SAFETY: in bounds, 8-aligned (a non-empty mapping is page-aligned, asserted when it is
        // made, and pos is a multiple of 8). Every process that maps an
        // offset file uses aligned 8-byte stores (.NET included), so atomic access is sound.
        unsafe { &*(self.ptr().add(pos) as *const AtomicU64) }
    }

    /// An atomic view of a 4-byte aligned word (the wake-up file).
    pub fn atomic_u32(&self, pos: usize) -> &AtomicU32 {
        self.check(pos, 4);
        assert!(pos % 4 == 0, "unaligned");
        // SAFETY: in bounds and aligned; the wake-up file is only accessed atomically.
        unsafe { &*(self.ptr().add(pos) as *const AtomicU32) }
    }

    /// Synchronously writes back `[pos, pos+len)` (msync `MS_SYNC`).
    pub fn flush_range(&self, pos: usize, len: usize) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        self.check(pos, len);
        match &self.raw {
            Some(r) => r.flush_range(pos, len),
            None => Ok(()),
        }
    }

    /// Asks the kernel to fault `[pos, pos+len)` in (`MADV_POPULATE_WRITE` for a writable
    /// mapping, `MADV_POPULATE_READ` for a read-only one) without changing its contents, so
    /// the thread that uses the pages does not take page faults on its hot path. Best effort:
    /// errors (old kernels) are ignored.
    pub fn populate(&self, pos: usize, len: usize) {
        let advice = if self.writable {
            Advice::PopulateWrite
        } else {
            Advice::PopulateRead
        };
        self.advise(pos, pos.saturating_add(len), advice);
    }
}

/// The size of a PMD-mapped folio on x86-64 and arm64 with 4 KiB pages.
const LARGE_FOLIO: usize = 2 << 20;

/// The panic of a bounds check, kept out of the hot paths.
#[cold]
#[inline(never)]
#[track_caller]
fn out_of_bounds(pos: usize, len: usize, mapped: usize) -> ! {
    panic!("mapping access {pos}+{len} beyond {mapped}")
}

// SAFETY: a Map is a plain region of shared memory; all mutation goes through atomics or
// through the single-writer discipline documented on each method.
unsafe impl Send for Map {}
// SAFETY: as above.
unsafe impl Sync for Map {}

/// Private zero-filled memory (an anonymous mapping): untouched pages cost no memory, and
/// reading one reads the kernel's shared zero page. Creating it fails cleanly (`ENOMEM`) when
/// the system will not reserve the address space, where `vec![0; len]` would abort.
pub struct Zeroed {
    map: memmap2::MmapMut,
    len: usize,
}

impl Zeroed {
    /// `len` zero bytes.
    pub fn new(len: usize) -> io::Result<Zeroed> {
        // A mapping cannot be empty; one byte is reserved for an empty one.
        let map = memmap2::MmapMut::map_anon(len.max(1))?;
        Ok(Zeroed { map, len })
    }
}

impl std::ops::Deref for Zeroed {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.map[..self.len]
    }
}

impl std::ops::DerefMut for Zeroed {
    fn deref_mut(&mut self) -> &mut [u8] {
        &mut self.map[..self.len]
    }
}

/// The system page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let v = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if v > 0 {
        v as usize
    } else {
        4096
    }
}

/// flock modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lock {
    /// `LOCK_SH`: many holders.
    Shared,
    /// `LOCK_EX`: one holder.
    Exclusive,
}

/// Tries to take a flock without blocking. `Ok(false)` means another open file holds it.
pub fn try_lock(file: &File, lock: Lock) -> io::Result<bool> {
    let op = match lock {
        Lock::Shared => libc::LOCK_SH,
        Lock::Exclusive => libc::LOCK_EX,
    } | libc::LOCK_NB;
    loop {
        // SAFETY: flock on a valid open descriptor has no memory effects.
        let r = unsafe { libc::flock(file.as_raw_fd(), op) };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(e),
        }
    }
}

/// Releases a flock taken with [`try_lock`].
pub fn unlock(file: &File) {
    // SAFETY: as above; failure only means there was nothing to release.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
}

/// Who holds a record lock (fcntl) that conflicts with a write lock on a whole file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordHolder {
    /// An open-file-description lock (`F_OFD_SETLK`): mfq's, which the kernel reports without
    /// a process id.
    OpenFile,
    /// A classic POSIX lock (`F_SETLK`, as .NET's `FileStream.Lock` takes) of this process id
    /// (0 when the holder is in another pid namespace).
    Process(u32),
}

/// A write lock on the whole file (`l_start` 0, `l_len` 0: to the end and beyond).
fn whole_file(kind: libc::c_int) -> libc::flock {
    libc::flock {
        l_type: kind as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    }
}

/// `fcntl(fd, cmd, &mut fl)`, retried on `EINTR`.
fn fcntl_lock(file: &File, cmd: libc::c_int, fl: &mut libc::flock) -> io::Result<()> {
    loop {
        // SAFETY: `fl` is a live, initialised `struct flock` that the kernel reads (and, for
        // F_OFD_GETLK, overwrites) during the call only; the descriptor is valid.
        let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, fl as *mut libc::flock) };
        if r != -1 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINTR) {
            return Err(e);
        }
    }
}

/// Tries to take an open-file-description write lock on the whole of `file` (`F_OFD_SETLK`,
/// `F_WRLCK`; the file must be open for writing) without blocking. `Ok(false)`: another open
/// file description or a process holds a conflicting record lock. The lock belongs to this
/// open file description: it is released when the last descriptor of it is closed (or by
/// [`ofd_unlock`]), and it does not interact with flock.
pub fn try_ofd_lock(file: &File) -> io::Result<bool> {
    let mut fl = whole_file(libc::F_WRLCK);
    match fcntl_lock(file, libc::F_OFD_SETLK, &mut fl) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Releases a lock taken with [`try_ofd_lock`].
pub fn ofd_unlock(file: &File) {
    let mut fl = whole_file(libc::F_UNLCK);
    let _ = fcntl_lock(file, libc::F_OFD_SETLK, &mut fl);
}

/// Who holds a record lock that would conflict with a write lock on the whole of `file`
/// (`F_OFD_GETLK`, which reports OFD and classic POSIX locks alike, and takes nothing);
/// `None` when nobody does. A lock held through `file`'s own open file description is not
/// reported.
pub fn record_lock_holder(file: &File) -> io::Result<Option<RecordHolder>> {
    let mut fl = whole_file(libc::F_WRLCK);
    fcntl_lock(file, libc::F_OFD_GETLK, &mut fl)?;
    if fl.l_type == libc::F_UNLCK as libc::c_short {
        return Ok(None);
    }
    Ok(Some(match fl.l_pid {
        -1 => RecordHolder::OpenFile,
        pid => RecordHolder::Process(pid.max(0) as u32),
    }))
}

/// Reserves disk blocks for the first `len` bytes of `file` and sets its length, so that a full
/// disk fails here rather than with SIGBUS on a later write through a mapping. On a filesystem
/// without fallocate (ext2, some network and FUSE filesystems) the blocks past the file's end
/// are written with zeros instead ([`allocate_by_writing`]): a sparse `set_len` would promise
/// space that is not there.
pub fn allocate(file: &File, len: u64) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: fallocate on a valid descriptor; no memory is touched.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, len as libc::off_t) };
    if r == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP) | Some(libc::ENOSYS) => allocate_by_writing(file, len),
        _ => Err(e),
    }
}

/// Zeros written per call by [`allocate_by_writing`].
const ZERO_CHUNK: usize = 1 << 20;

/// Extends `file` to `len` bytes by writing zeros from its current end (never over bytes it
/// already holds), 1 MiB per `pwrite`, without fsync: the filesystem has allocated the blocks
/// once the writes return. A full disk fails here with ENOSPC (or EDQUOT), and the file is cut
/// back to its old length. Does nothing to a file already `len` bytes or longer.
pub fn allocate_by_writing(file: &File, len: u64) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let old = file.metadata()?.len();
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut at = old;
    while at < len {
        let n = (len - at).min(ZERO_CHUNK as u64) as usize;
        match file.write_at(&zeros[..n], at) {
            Ok(0) => {
                let _ = file.set_len(old);
                return Err(io::Error::from_raw_os_error(libc::ENOSPC));
            }
            Ok(w) => at += w as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = file.set_len(old);
                return Err(e);
            }
        }
    }
    Ok(())
}

/// Sleeps while `*word == expected`, at most `timeout`. Spurious returns are allowed.
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: the word is a live, aligned u32 in a shared mapping; FUTEX_WAIT (not _PRIVATE)
    // works across processes on shared file mappings. The timespec outlives the call.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wakes up to `n` waiters sleeping on `word`.
pub fn futex_wake(word: &AtomicU32, n: i32) {
    // SAFETY: as in futex_wait; FUTEX_WAKE does not dereference the word beyond hashing it.
    unsafe {
        libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, n);
    }
}

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process on the machine, so a timestamp
/// written by one process can be compared in another (benchmarks measure latency with it).
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes only into the timespec we own; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests;
