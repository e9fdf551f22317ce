//! The recorded gaps, `mfq.gaps` at the store's root: ranges `[from, to)` of zero bytes that a
//! repair left on purpose (recovery policy 2: the producer resumed at a consumer's offset past
//! records a crash lost). Once recorded, a gap is never mistaken for the end of the data: the
//! inspection steps over it, the data end lies past it, and mfq's readers step over it.
//!
//! File format (JSON, version 1): `{"version":1,"gaps":[{"from":N,"to":M},...]}`, sorted,
//! written to a unique temporary name, synced and renamed. The .NET libraries ignore the file.
//! This module only reads and writes that file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::queue::error::{Error, Result};
use crate::queue::format::layout::Layout;
use crate::queue::format::offsets;
use crate::queue::os::files;

const VERSION: u32 = 1;
/// A gaps file larger than this is not one mfq wrote.
const MAX_LEN: u64 = 1 << 20;

/// One recorded gap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gap {
    /// Its first offset (where the records before it end).
    pub from: u64,
    /// Its end (where the records after it start).
    pub to: u64,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    gaps: Vec<Gap>,
}

fn invalid(path: &Path, why: String) -> Error {
    Error::io(
        "read",
        path,
        std::io::Error::new(std::io::ErrorKind::InvalidData, why),
    )
}

/// The recorded gaps, sorted (none when the file is missing).
pub fn read(layout: &Layout) -> Result<Vec<Gap>> {
    let path = layout.gaps();
    let Some(text) = files::read_small(&path, MAX_LEN)? else {
        return Ok(vec![]);
    };
    let f: File = serde_json::from_slice(&text)
        .map_err(|e| invalid(&path, format!("not a gap list mfq wrote: {e}")))?;
    if f.version != VERSION {
        return Err(invalid(&path, format!("version {} is not 1", f.version)));
    }
    let mut gaps: Vec<Gap> = f.gaps.into_iter().filter(|g| g.from < g.to).collect();
    gaps.sort();
    Ok(gaps)
}

/// Records `gaps` (sorted, empty ones dropped); an empty list removes the file.
pub fn write(layout: &Layout, gaps: &[Gap]) -> Result<()> {
    let path = layout.gaps();
    let mut gaps: Vec<Gap> = gaps.iter().copied().filter(|g| g.from < g.to).collect();
    gaps.sort();
    gaps.dedup();
    if gaps.is_empty() {
        files::remove_regular(&path)?;
        return offsets::sync_dir(layout.root());
    }
    let text = serde_json::to_vec_pretty(&File {
        version: VERSION,
        gaps,
    })
    .map_err(|e| Error::io("encode", &path, std::io::Error::other(e)))?;
    files::write_replace(&path, &text)
}
