//! Reference measurements of this machine's limits, made with the same mapping layer the
//! engine uses, so benchmarks can state every figure as a fraction of the limit.
//!
//! This module must not touch stores.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::queue::error::{IoContext, Result};
use crate::queue::os::sys::{self, Map};

/// A system-wide monotonic clock in nanoseconds (comparable across processes).
pub fn monotonic_ns() -> u64 {
    sys::monotonic_ns()
}

/// The bare-memcpy limits of one file: how long each pass over `count` messages took.
#[derive(Clone, Copy, Debug)]
pub struct MemcpyLimits {
    /// Copying into a new, allocated file's mapping: every fresh page is faulted in (and
    /// zeroed by the kernel) on the copying thread, as a naive appending writer would.
    pub fresh: Duration,
    /// Copying again into the same pages, now resident and mapped: pure copy bandwidth, an
    /// upper bound no writer of fresh pages reaches.
    pub resident: Duration,
    /// Reading the last byte of each message back through the mapping (what a reader's
    /// marker check touches), from a mapping that has never read the file: its fault-around
    /// faults included, as a reader's are.
    pub read: Duration,
}

/// Measures [`MemcpyLimits`] for `count` messages of `payload.len()` bytes in a scratch file
/// at `path`, with the same mapping layer the engine uses. A first, unmeasured pass over
/// another file warms the kernel's page allocator up (on a virtual machine the first large
/// allocations after boot or after other work can be several times slower). The files are
/// removed.
pub fn memcpy_into_mapped_file(path: &Path, payload: &[u8], count: u64) -> Result<MemcpyLimits> {
    measure_memcpy(&path.with_extension("warm-up"), payload, count)?;
    measure_memcpy(path, payload, count)
}

fn measure_memcpy(path: &Path, payload: &[u8], count: u64) -> Result<MemcpyLimits> {
    if payload.is_empty() || count == 0 {
        let zero = Duration::ZERO;
        return Ok(MemcpyLimits {
            fresh: zero,
            resident: zero,
            read: zero,
        });
    }
    let len = payload.len() as u64 * count;
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .ctx("create", path)?;
    sys::allocate(&file, len).ctx("allocate", path)?;
    let map = Map::read_write(&file, len as usize).ctx("map", path)?;
    let copy = || {
        let t0 = Instant::now();
        let mut pos = 0;
        for _ in 0..count {
            map.write(pos, payload);
            pos += payload.len();
        }
        t0.elapsed()
    };
    let fresh = copy();
    let resident = copy();
    drop(map);
    let map = Map::read_only(&file, len as usize).ctx("map", path)?;
    let t0 = Instant::now();
    let mut seen = 0u64;
    let mut pos = payload.len() - 1;
    for _ in 0..count {
        seen += u64::from(map.load_acquire(pos));
        pos += payload.len();
    }
    let read = t0.elapsed();
    std::hint::black_box(seen);
    drop(map);
    drop(file);
    let _ = std::fs::remove_file(path);
    Ok(MemcpyLimits {
        fresh,
        resident,
        read,
    })
}

/// Sequential write bandwidth of the disk holding `path`: writes `bytes` in 1 MiB chunks and
/// fdatasyncs; returns bytes per second. The file is removed.
pub fn disk_write_bandwidth(path: &Path, bytes: u64) -> Result<f64> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .ctx("create", path)?;
    let chunk = vec![0x5Au8; 1 << 20];
    let t0 = Instant::now();
    let mut done = 0;
    while done < bytes {
        let n = (bytes - done).min(chunk.len() as u64) as usize;
        file.write_all(&chunk[..n]).ctx("write", path)?;
        done += n as u64;
    }
    file.sync_data().ctx("sync", path)?;
    let secs = t0.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(path);
    Ok(bytes as f64 / secs.max(1e-9))
}
