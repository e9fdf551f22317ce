//! The repair journal, `mfq-repair.json` at the store's root: the plan of a repair under way.
//! A repair saves removed bytes aside, writes its plan here (synced), applies it, and deletes
//! the file. An inspection that finds the file reports the repair as interrupted, and the next
//! repair finishes that same plan instead of planning anew: every action is idempotent, so a
//! repair cut short at any point and run again ends in the store one uninterrupted repair
//! leaves, whatever a half-applied store would look like to a fresh inspection.
//!
//! A journal is trusted only while the store is in a state its plan leads through: each file
//! it names must be as it was when the plan was made, or as the plan leaves it (an offset
//! file's old or new value; a range's old bytes, by hash, or zeros; a segment's old length and
//! bytes, or no file). A store that changed otherwise since (a .NET producer appended) voids
//! the journal: it is reported, and the next repair plans anew.
//!
//! File format (JSON, version 1): `{"version":1,"producer_offset":N,"actions":[...]}`, each
//! action tagged like [`Action`]'s JSON with what its file held before, segments named by file
//! name inside `commitlog/`. This module only reads, writes and deletes that file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::plan::{Action, Plan};
use crate::queue::error::{Error, Result};
use crate::queue::format::layout::{ConsumerId, Layout};
use crate::queue::format::offsets;
use crate::queue::os::files;

const VERSION: u32 = 1;
/// A journal larger than this is not one mfq wrote (a plan is a few actions per segment).
const MAX_LEN: u64 = 16 << 20;

#[derive(Serialize, Deserialize)]
struct Journal {
    version: u32,
    producer_offset: u64,
    actions: Vec<Step>,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
enum Step {
    RecordGaps {
        gaps: Vec<(u64, u64)>,
    },
    SetProducer {
        to: u64,
        was: Option<u64>,
    },
    SetConfirmed {
        to: u64,
        was: Option<u64>,
    },
    SetConsumer {
        name: String,
        to: u64,
        was: Option<u64>,
    },
    ZeroTail {
        segment: String,
        from_pos: u64,
        to_pos: u64,
        hash: u64,
    },
    TrimSegment {
        segment: String,
        to_len: u64,
        from_len: u64,
    },
    RemoveSegment {
        segment: String,
        len: u64,
        hash: u64,
    },
}

fn segment_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

/// Calls `f` with each chunk of a file's bytes `[from, to)` (clipped to its length), read
/// with pread in 1 MiB pieces so that memory stays bounded on a segment of any size; `None`
/// when the file is missing.
fn each_chunk(path: &Path, from: u64, to: u64, mut f: impl FnMut(&[u8])) -> Result<Option<()>> {
    use std::os::unix::fs::FileExt;
    let file = match files::open_in_store(path, files::How::Read) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    let (mut at, end) = (from.min(len), to.min(len));
    let mut buf = vec![0u8; 1 << 20];
    while at < end {
        let want = ((end - at) as usize).min(buf.len());
        let n = file
            .read_at(&mut buf[..want], at)
            .map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        f(&buf[..n]);
        at += n as u64;
    }
    Ok(Some(()))
}

/// FNV-1a over a file's bytes `[from, to)` (clipped to its length): stable across versions
/// and processes, enough to tell "as it was" from "changed since".
fn hash_range(path: &Path, from: u64, to: u64) -> Result<Option<u64>> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let seen = each_chunk(path, from, to, |bytes| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    })?;
    Ok(seen.map(|()| h))
}

/// Whether a file's bytes `[from, to)` (clipped to its length) are all zero.
fn zero_range(path: &Path, from: u64, to: u64) -> bool {
    let mut zero = true;
    let seen = each_chunk(path, from, to, |bytes| {
        zero &= bytes.iter().all(|&b| b == 0)
    });
    matches!(seen, Ok(Some(()))) && zero
}

fn len_of(path: &Path) -> Option<u64> {
    std::fs::symlink_metadata(path).ok().map(|m| m.len())
}

/// One action with what its file holds now (before the repair changes it).
fn step(layout: &Layout, a: &Action) -> Result<Step> {
    let now = |p: std::path::PathBuf| offsets::read_offset(&p).ok().flatten();
    Ok(match a {
        Action::RecordGaps { gaps } => Step::RecordGaps { gaps: gaps.clone() },
        Action::SetProducer { to, .. } => Step::SetProducer {
            to: *to,
            was: now(layout.producer_offset()),
        },
        Action::SetConfirmed { to, .. } => Step::SetConfirmed {
            to: *to,
            was: now(layout.confirmed_offset()),
        },
        Action::SetConsumer { id, to, .. } => Step::SetConsumer {
            name: id.name().to_string(),
            to: *to,
            was: now(layout.consumer_offset(id)),
        },
        Action::ZeroTail {
            path,
            from_pos,
            to_pos,
            ..
        } => Step::ZeroTail {
            segment: segment_name(path),
            from_pos: *from_pos,
            to_pos: *to_pos,
            hash: hash_range(path, *from_pos, *to_pos)?.unwrap_or(0),
        },
        Action::TrimSegment {
            path,
            to_len,
            from_len,
        } => Step::TrimSegment {
            segment: segment_name(path),
            to_len: *to_len,
            from_len: *from_len,
        },
        Action::RemoveSegment { path, .. } => Step::RemoveSegment {
            segment: segment_name(path),
            len: len_of(path).unwrap_or(0),
            hash: hash_range(path, 0, u64::MAX)?.unwrap_or(0),
        },
    })
}

/// The action of a step, if its file is as the plan found it or as it leaves it; else why not.
fn action(layout: &Layout, s: Step) -> Result<std::result::Result<Action, String>> {
    let seg = |name: &str| -> Result<std::path::PathBuf> {
        // Only plain segment names: a journal never points outside commitlog/.
        match crate::queue::format::layout::parse_segment_name(name) {
            Some(_) => Ok(layout.commitlog().join(name)),
            None => Err(bad(layout, &format!("{name:?} is not a segment name"))),
        }
    };
    let now = |p: std::path::PathBuf| offsets::read_offset(&p).ok().flatten();
    let offset = |what: &str, cur: Option<u64>, was: Option<u64>, to: u64| {
        if cur == was || cur == Some(to) {
            Ok(())
        } else {
            Err(format!(
                "{what} holds {cur:?}, neither {was:?} as planned from nor {to}"
            ))
        }
    };
    Ok(match s {
        Step::RecordGaps { gaps } => Ok(Action::RecordGaps { gaps }),
        Step::SetProducer { to, was } => {
            let cur = now(layout.producer_offset());
            offset("producer.offset", cur, was, to).map(|()| Action::SetProducer { from: cur, to })
        }
        Step::SetConfirmed { to, was } => {
            let cur = now(layout.confirmed_offset());
            offset("producer.confirmed.offset", cur, was, to)
                .map(|()| Action::SetConfirmed { from: cur, to })
        }
        Step::SetConsumer { name, to, was } => {
            let id = match name.as_str() {
                "consumer" => ConsumerId::Default,
                other => ConsumerId::parse(other)?,
            };
            let cur = now(layout.consumer_offset(&id));
            offset(&name, cur, was, to).map(|()| Action::SetConsumer {
                name,
                from: cur,
                id,
                to,
                lost: None,
            })
        }
        Step::ZeroTail {
            segment,
            from_pos,
            to_pos,
            hash,
        } => {
            let path = seg(&segment)?;
            let same = hash_range(&path, from_pos, to_pos)? == Some(hash);
            if same || zero_range(&path, from_pos, to_pos) {
                Ok(Action::ZeroTail {
                    path,
                    from_pos,
                    to_pos,
                    records: 0,
                })
            } else {
                Err(format!(
                    "{segment} changed at positions {from_pos}..{to_pos}"
                ))
            }
        }
        Step::TrimSegment {
            segment,
            to_len,
            from_len,
        } => {
            let path = seg(&segment)?;
            match len_of(&path) {
                Some(l) if l == from_len || l == to_len => Ok(Action::TrimSegment {
                    path,
                    from_len: l,
                    to_len,
                }),
                other => Err(format!("{segment} is {other:?} bytes long")),
            }
        }
        Step::RemoveSegment { segment, len, hash } => {
            let path = seg(&segment)?;
            let gone = len_of(&path).is_none();
            if gone || (len_of(&path) == Some(len) && hash_range(&path, 0, u64::MAX)? == Some(hash))
            {
                Ok(Action::RemoveSegment { path, records: 0 })
            } else {
                Err(format!("{segment} changed"))
            }
        }
    })
}

fn bad(layout: &Layout, why: &str) -> Error {
    Error::Refused {
        reason: format!(
            "{} is not a repair journal mfq can finish ({why}); move it aside, then repair again",
            layout.repair_journal().display()
        ),
        hint: None,
    }
}

/// What the journal says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// No repair is under way.
    None,
    /// An interrupted repair whose plan still fits the store: the next repair finishes it.
    Pending(Plan),
    /// An interrupted repair whose store changed since (why): it is void.
    Stale(String),
}

/// The plan of an interrupted repair, if a journal is there.
pub(crate) fn read(layout: &Layout) -> Result<Found> {
    let path = layout.repair_journal();
    let text = match files::read_small(&path, MAX_LEN) {
        Ok(Some(t)) => t,
        Ok(None) => return Ok(Found::None),
        Err(e) => return Err(bad(layout, &e.to_string())),
    };
    let j: Journal =
        serde_json::from_slice(&text).map_err(|e| bad(layout, &format!("unreadable: {e}")))?;
    if j.version != VERSION {
        return Err(bad(layout, &format!("version {}", j.version)));
    }
    let mut actions = Vec::new();
    for s in j.actions {
        match action(layout, s)? {
            Ok(a) => actions.push(a),
            Err(why) => return Ok(Found::Stale(why)),
        }
    }
    Ok(Found::Pending(Plan {
        actions,
        producer_offset: j.producer_offset,
        confirmed_loss: None,
    }))
}

/// Records `plan` as the repair under way (written to a temporary name, synced, renamed).
pub(crate) fn write(layout: &Layout, plan: &Plan) -> Result<()> {
    let j = Journal {
        version: VERSION,
        producer_offset: plan.producer_offset,
        actions: plan
            .actions
            .iter()
            .map(|a| step(layout, a))
            .collect::<Result<Vec<_>>>()?,
    };
    let text = serde_json::to_vec_pretty(&j)
        .map_err(|e| Error::io("encode", layout.repair_journal(), std::io::Error::other(e)))?;
    files::write_replace(&layout.repair_journal(), &text)
}

/// Deletes the journal once its plan is applied.
pub(crate) fn clear(layout: &Layout) -> Result<()> {
    files::remove_regular(&layout.repair_journal())?;
    offsets::sync_dir(layout.root())
}
