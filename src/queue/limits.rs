//! Reference measurements of this machine's limits, made with the same mapping layer the
//! engine uses, so benchmarks can state every figure as a fraction of the limit.
//!
//! This module must not touch stores.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::error::{IoContext, Result};
use super::sys::{self, Map};

/// A system-wide monotonic clock in nanoseconds (comparable across processes).
pub fn monotonic_ns() -> u64 {
    sys::monotonic_ns()
}

/// Copies `count` messages of `payload.len()` bytes into a mapped file at `path` and returns
/// the time the copies took: the bare-memcpy limit of a writer. The file is allocated and its
/// pages are faulted in before the clock starts, so the figure is pure copy bandwidth into a
/// shared file mapping, an upper bound for any writer (an appending writer also pays for fresh
/// pages, which on virtual machines costs more than the copy). The file is removed.
pub fn memcpy_into_mapped_file(path: &Path, payload: &[u8], count: u64) -> Result<Duration> {
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
    map.populate(0, len as usize);
    let t0 = Instant::now();
    let mut pos = 0;
    for _ in 0..count {
        map.write(pos, payload);
        pos += payload.len();
    }
    let took = t0.elapsed();
    drop(map);
    drop(file);
    let _ = std::fs::remove_file(path);
    Ok(took)
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
