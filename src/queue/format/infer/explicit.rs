//! Explicit parameters (format, record size and segment size all given) checked
//! against the files: taken as given where the files fit them or where damage leaves nothing
//! to contradict them, refused where other parameters explain the files.
//!
//! This module only reads; it must not create or change files.

use super::{fixed_pattern, from_files, known_offsets, read_prefix, stream_records, SCAN_CAP};
use crate::queue::error::{Error, Param, Result};
use crate::queue::format::codec;
use crate::queue::format::layout::{Layout, SegmentFile};
use crate::queue::format::params::{Format, Params, ParamsRequest};
use crate::queue::os::files::{self, How};

/// Fully explicit parameters are taken as given when the files fit them, or when damage leaves
/// nothing to contradict them. Files that other parameters explain better refuse them: acting on
/// a wrong record size would make `recover` zero good records. A minority of files longer than
/// the parameters give is damage in a fixed store (`recover` cuts them back); when every file is
/// longer, only zeros past the length make it damage rather than a wrong `--segment-size`.
pub(super) fn explicit(
    layout: &Layout,
    segs: &[SegmentFile],
    req: &ParamsRequest,
) -> Result<Params> {
    let params = req.to_params()?;
    if segs.is_empty() {
        return Ok(params);
    }
    check_shape(segs, &params)?;
    let want = params.file_len();
    let some_fit = segs.iter().any(|s| s.len <= want);
    // Files are created whole: when every one is shorter, the size given is suspect too.
    let all_short = segs.iter().all(|s| s.len < want);
    let explained = records_explained(segs, &params).unwrap_or(0);
    // Offsets off the stride contradict it too (a whole segment as one record fits any file
    // whose last slot byte is 0xFF): then inference has its say below.
    let on_offsets = params
        .stride()
        .map_or(true, |m| known_offsets(layout).iter().all(|o| o % m == 0));
    if explained > 0 && some_fit && !all_short && on_offsets {
        return Ok(params);
    }
    check_against_inferred(layout, segs, req)?;
    if some_fit || (explained > 0 && segs.iter().all(|s| zeros_past(s, want))) {
        return Ok(params);
    }
    let s = &segs[0];
    Err(Error::ParamsMismatch {
        what: Param::SegmentSize,
        found: format!(
            "segment {} of {} bytes (and no file of {want})",
            s.start, s.len
        ),
        given: params.segment_size().to_string(),
    })
}

/// Whether a segment file holds only zeros past `len` (at most `SCAN_CAP` bytes are read; a
/// longer excess does not count as zeros).
fn zeros_past(seg: &SegmentFile, len: u64) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let excess = seg.len.saturating_sub(len);
    if excess > SCAN_CAP as u64 {
        return false;
    }
    let mut bytes = Vec::new();
    let Ok(mut f) = files::open_in_store(&seg.path, How::Read) else {
        return false;
    };
    let read = f
        .seek(SeekFrom::Start(len))
        .and_then(|_| f.take(excess).read_to_end(&mut bytes));
    read.is_ok() && codec::is_zero(&bytes)
}

/// How many records `params` explain in the first and last segments (the marker pattern or the
/// record chain, with inference's damage tolerance); `None` when the bytes contradict them.
fn records_explained(segs: &[SegmentFile], params: &Params) -> Option<usize> {
    let (first, last) = (segs.first()?, segs.last()?);
    match params.stride() {
        Some(m) => {
            let limit = params.span().min(SCAN_CAP as u64);
            let a = fixed_pattern(&read_prefix(&first.path, limit), m as usize)?;
            let b = fixed_pattern(&read_prefix(&last.path, limit), m as usize)?;
            Some(a + b)
        }
        None => stream_records(segs, params).ok(),
    }
}

/// Fixed segments start at multiples of the span. A file off that grid among files on it is
/// damage that the caller must move away; when every file is off it, the parameters are wrong.
/// Stream files longer than the segment size given are never cut (the .NET stream library
/// extends old files when its SegmentSize grows, spec §10 SQ-10); every file longer means a
/// wrong size, some longer ones are left to the caller (inspection warns).
fn check_shape(segs: &[SegmentFile], params: &Params) -> Result<()> {
    if params.format() == Format::Stream {
        // Among files of the size given, a longer one is damage or an extension; when every
        // file is longer, the size given is wrong.
        let size = params.segment_size();
        if segs.iter().any(|s| s.len <= size) {
            return Ok(());
        }
        return match segs.iter().find(|s| s.len > size) {
            Some(s) => Err(Error::ParamsMismatch {
                what: Param::SegmentSize,
                found: format!("segment {} of {} bytes", s.start, s.len),
                given: params.segment_size().to_string(),
            }),
            None => Ok(()),
        };
    }
    let span = params.span();
    let Some(odd) = segs.iter().find(|s| s.start % span != 0) else {
        return Ok(());
    };
    if segs.iter().any(|s| s.start % span == 0) {
        return Err(Error::OddSegment {
            path: odd.path.clone(),
            reason: format!(
                "its start {} is not a multiple of the span {span}",
                odd.start
            ),
        });
    }
    Err(Error::ParamsMismatch {
        what: Param::SegmentSize,
        found: format!("segment {} (not a multiple of the span {span})", odd.start),
        given: params.segment_size().to_string(),
    })
}

/// Refuses a request that the parameters inferred from the files alone contradict, when those
/// are confident: they explain records, with a stride shorter than the span (one slot per
/// segment explains any file whose last slot byte is 0xFF, too weak to overrule the caller).
pub(super) fn check_against_inferred(
    layout: &Layout,
    segs: &[SegmentFile],
    req: &ParamsRequest,
) -> Result<()> {
    let offsets = known_offsets(layout);
    if let Ok(found) = from_files(segs, &offsets, &ParamsRequest::default()) {
        let trivial = found.stride() == Some(found.span());
        if !trivial && records_explained(segs, &found).unwrap_or(0) > 0 {
            req.check_against(&found)?;
        }
    }
    Ok(())
}
