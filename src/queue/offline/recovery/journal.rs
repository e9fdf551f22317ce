//! The repair journal, `mfq-repair.json` at the store's root: the plan of a repair under way.
//! A repair saves removed bytes aside, writes its plan here (synced), applies it, and deletes
//! the file. An inspection that finds the file reports the repair as interrupted, and the next
//! repair finishes that same plan instead of planning anew: every action is idempotent, so a
//! repair cut short at any point and run again ends in the store one uninterrupted repair
//! leaves, whatever a half-applied store would look like to a fresh inspection.
//!
//! File format (JSON, version 1): `{"version":1,"producer_offset":N,"actions":[...]}`, each
//! action tagged like [`Action`]'s JSON, segments named by file name inside `commitlog/`.
//! This module only reads, writes and deletes that file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::plan::{Action, Plan};
use crate::queue::error::{Error, IoContext, Result};
use crate::queue::format::layout::{ConsumerId, Layout};
use crate::queue::format::offsets;

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
    SetProducer {
        to: u64,
    },
    SetConfirmed {
        to: u64,
    },
    SetConsumer {
        name: String,
        to: u64,
    },
    ZeroTail {
        segment: String,
        from_pos: u64,
        to_pos: u64,
    },
    TrimSegment {
        segment: String,
        to_len: u64,
    },
    RemoveSegment {
        segment: String,
    },
}

fn segment_name(path: &Path) -> String {
    path.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn step(a: &Action) -> Step {
    match a {
        Action::SetProducer { to, .. } => Step::SetProducer { to: *to },
        Action::SetConfirmed { to, .. } => Step::SetConfirmed { to: *to },
        Action::SetConsumer { id, to, .. } => Step::SetConsumer {
            name: id.name().to_string(),
            to: *to,
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
        },
        Action::TrimSegment { path, to_len, .. } => Step::TrimSegment {
            segment: segment_name(path),
            to_len: *to_len,
        },
        Action::RemoveSegment { path, .. } => Step::RemoveSegment {
            segment: segment_name(path),
        },
    }
}

fn action(layout: &Layout, s: Step) -> Result<Action> {
    let seg = |name: &str| -> Result<std::path::PathBuf> {
        // Only plain segment names: a journal never points outside commitlog/.
        match crate::queue::format::layout::parse_segment_name(name) {
            Some(_) => Ok(layout.commitlog().join(name)),
            None => Err(bad(layout, &format!("{name:?} is not a segment name"))),
        }
    };
    // The values the offset files hold now, as a fresh plan would show them.
    let now = |p: std::path::PathBuf| offsets::read_offset(&p).ok().flatten();
    Ok(match s {
        Step::SetProducer { to } => Action::SetProducer {
            from: now(layout.producer_offset()),
            to,
        },
        Step::SetConfirmed { to } => Action::SetConfirmed {
            from: now(layout.confirmed_offset()),
            to,
        },
        Step::SetConsumer { name, to } => {
            let id = match name.as_str() {
                "consumer" => ConsumerId::Default,
                other => ConsumerId::parse(other)?,
            };
            Action::SetConsumer {
                name,
                from: now(layout.consumer_offset(&id)),
                id,
                to,
                lost: None,
            }
        }
        Step::ZeroTail {
            segment,
            from_pos,
            to_pos,
        } => Action::ZeroTail {
            path: seg(&segment)?,
            from_pos,
            to_pos,
            records: 0,
        },
        Step::TrimSegment { segment, to_len } => Action::TrimSegment {
            path: seg(&segment)?,
            from_len: 0,
            to_len,
        },
        Step::RemoveSegment { segment } => Action::RemoveSegment {
            path: seg(&segment)?,
            records: 0,
        },
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

/// The plan of an interrupted repair, if a journal is there.
pub(crate) fn read(layout: &Layout) -> Result<Option<Plan>> {
    let path = layout.repair_journal();
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("stat", &path, e)),
    };
    if !meta.is_file() || meta.len() > MAX_LEN {
        return Err(bad(layout, "not a regular file of a plan's size"));
    }
    let text = std::fs::read(&path).ctx("read", &path)?;
    let j: Journal =
        serde_json::from_slice(&text).map_err(|e| bad(layout, &format!("unreadable: {e}")))?;
    if j.version != VERSION {
        return Err(bad(layout, &format!("version {}", j.version)));
    }
    let actions = j
        .actions
        .into_iter()
        .map(|s| action(layout, s))
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Plan {
        actions,
        producer_offset: j.producer_offset,
    }))
}

/// Records `plan` as the repair under way (written to a temporary name, synced, renamed).
pub(crate) fn write(layout: &Layout, plan: &Plan) -> Result<()> {
    let j = Journal {
        version: VERSION,
        producer_offset: plan.producer_offset,
        actions: plan.actions.iter().map(step).collect(),
    };
    let text = serde_json::to_vec_pretty(&j)
        .map_err(|e| Error::io("encode", layout.repair_journal(), std::io::Error::other(e)))?;
    let path = layout.repair_journal();
    let tmp = layout.root().join(format!(
        ".mfq-repair.json.{}.{}.tmp",
        std::process::id(),
        nanos()
    ));
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .ctx("create", &tmp)?;
        f.write_all(&text).ctx("write", &tmp)?;
        f.sync_all().ctx("sync", &tmp)?;
    }
    std::fs::rename(&tmp, &path).ctx("rename", &path)?;
    offsets::sync_dir(layout.root())
}

/// A per-call suffix for temporary names (with the pid, unique on this machine).
fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// Deletes the journal once its plan is applied.
pub(crate) fn clear(layout: &Layout) -> Result<()> {
    let path = layout.repair_journal();
    match std::fs::remove_file(&path) {
        Ok(()) => offsets::sync_dir(layout.root()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", &path, e)),
    }
}
