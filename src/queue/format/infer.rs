//! Inferring the parameters of a store that has no `mfq.json` (a .NET store) from its files:
//! segment names and lengths, the marker pattern, and the offset files (spec §13).
//!
//! Fixed: every segment file is `L + 1` bytes, names are multiples of `L`, the stride `m`
//! divides `L`, slots hold 0xFF at `k*m + P` and then zeros, and offsets are multiples of `m`.
//! Stream: files are `S` bytes, records chain from position 0, and the names follow the chain.
//! Ambiguity is an error that names the option to pass; nothing is guessed.
//!
//! This module only reads; it must not create or change files.

use std::path::Path;

use crate::queue::error::{Error, Need, Param, Result};
use crate::queue::format::codec::{self, FixedSlot, StreamSlot, STREAM_OVERHEAD};
use crate::queue::format::layout::{Layout, SegmentFile};
use crate::queue::format::offsets;
use crate::queue::format::params::{Format, Params, ParamsRequest};

mod explicit;

/// How many bytes of a segment are examined per candidate.
const SCAN_CAP: usize = 1 << 20;

/// Infers parameters, honouring whatever the request already fixes.
pub fn infer(layout: &Layout, req: &ParamsRequest) -> Result<Params> {
    // Fully explicit parameters are taken as given: they are how a store whose damage defeats
    // inference is opened (the errors below ask for them).
    let complete = req.is_complete();
    let (segs, _) = layout.list_segments()?;
    let segs: Vec<SegmentFile> = segs.into_iter().filter(|s| s.len > 0).collect();
    if complete {
        return explicit::explicit(layout, &segs, req);
    }
    if segs.is_empty() {
        // Opening is not creating: a made-up segment size would be reported, and used for the
        // next segment file, as if it were the store's.
        if req.segment_size.is_none() && req.format.is_some() {
            return Err(Error::ParamsUnknown {
                reason: format!(
                    "{} has no segment data to infer its segment size from",
                    layout.root().display()
                ),
                need: Need::Params(&[Param::SegmentSize]),
            });
        }
        return req.to_params().map_err(|e| match e {
            Error::ParamsUnknown { need, .. } => Error::ParamsUnknown {
                reason: format!(
                    "{} has no segment data to infer its parameters from",
                    layout.root().display()
                ),
                need,
            },
            other => other,
        });
    }
    if *req != ParamsRequest::default() {
        // A partial request narrows the candidates: a wrong one could leave only a wrong
        // stride that fits (a whole segment as one record), so it is checked first.
        explicit::check_against_inferred(layout, &segs, req)?;
    }
    from_files(&segs, &known_offsets(layout), req)
}

/// The decision itself, on segments already listed (non-empty files) and offsets already
/// read: the parameters that the files and the request allow, or why none or several do.
fn from_files(segs: &[SegmentFile], offsets: &[u64], req: &ParamsRequest) -> Result<Params> {
    let fixed = if req.format != Some(Format::Stream) {
        fixed_candidates(segs, offsets, req)
    } else {
        Err("the stream format was given".into())
    };
    let stream = if req.format != Some(Format::Fixed) {
        stream_candidate(segs, req)
    } else {
        Err("the fixed format was given".into())
    };
    decide(fixed, stream, req)
}

fn decide(
    fixed: std::result::Result<Vec<Params>, String>,
    stream: std::result::Result<Params, String>,
    req: &ParamsRequest,
) -> Result<Params> {
    match (fixed, stream) {
        (Ok(f), Ok(_)) if req.format.is_none() && !f.is_empty() => Err(Error::ParamsUnknown {
            reason: "the files fit both the fixed and the stream format".into(),
            need: Need::Params(&[Param::Format]),
        }),
        (Ok(f), _) if f.len() == 1 => Ok(f[0]),
        (Ok(f), _) if f.len() > 1 => {
            let sizes: Vec<String> = f
                .iter()
                .filter_map(|p| p.record_size())
                .map(|p| p.to_string())
                .collect();
            Err(Error::ParamsUnknown {
                reason: format!(
                    "the record size is ambiguous: the files fit {} bytes",
                    sizes.join(", ")
                ),
                need: Need::Params(&[Param::RecordSize]),
            })
        }
        (_, Ok(s)) => Ok(s),
        (Ok(_), Err(why_s)) | (Err(_), Err(why_s)) if req.format == Some(Format::Stream) => {
            Err(Error::ParamsUnknown {
                reason: format!("the files do not look like a stream store: {why_s}"),
                need: Need::OtherFormat,
            })
        }
        (Ok(_), Err(why_s)) => Err(Error::ParamsUnknown {
            reason: format!("no record size fits the fixed-format files, and {why_s}"),
            need: Need::Params(&[Param::Format, Param::RecordSize]),
        }),
        (Err(why_f), Err(why_s)) => Err(Error::ParamsUnknown {
            reason: format!("cannot infer the store's parameters: {why_f}; {why_s}"),
            need: Need::Params(&[Param::Format, Param::RecordSize, Param::SegmentSize]),
        }),
    }
}

/// Non-zero offsets recorded in the offset files (unreadable files are ignored here).
fn known_offsets(layout: &Layout) -> Vec<u64> {
    let mut paths = vec![layout.producer_offset(), layout.confirmed_offset()];
    if let Ok(ids) = layout.list_consumers() {
        paths.extend(ids.iter().map(|id| layout.consumer_offset(id)));
    }
    paths
        .iter()
        .filter_map(|p| offsets::read_offset(p).ok().flatten())
        .filter(|v| *v > 0)
        .collect()
}

fn fixed_candidates(
    segs: &[SegmentFile],
    offsets: &[u64],
    req: &ParamsRequest,
) -> std::result::Result<Vec<Params>, String> {
    let file_len = common_len(segs);
    let span = file_len - 1;
    if span < 2 {
        return Err(format!("segment files of {file_len} bytes are too short"));
    }
    if let Some(s) = segs.iter().find(|s| s.start % span != 0) {
        return Err(format!(
            "segment {} is not a multiple of the span {span} that {file_len}-byte files imply",
            s.start
        ));
    }
    let strides: Vec<u64> = match req.record_size {
        Some(p) => vec![p as u64 + 1],
        None => (2..=span).filter(|m| span % m == 0).collect(),
    };
    let limit = span.min(SCAN_CAP as u64);
    let first = read_prefix(&segs[0].path, limit);
    let last = read_prefix(&segs[segs.len() - 1].path, limit);
    let mut out = Vec::new();
    let mut aligned = Vec::new();
    let mut vouched = Vec::new();
    for m in strides {
        if span % m != 0 {
            continue;
        }
        let seg_size = req.segment_size.unwrap_or(span);
        if seg_size / m * m != span {
            continue;
        }
        let (a, b) = (
            fixed_score(&first, m as usize),
            fixed_score(&last, m as usize),
        );
        let Ok(p) = Params::fixed((m - 1) as u32, seg_size) else {
            continue;
        };
        let on_offsets = offsets.iter().all(|o| o % m == 0);
        if !(tolerated(a) && tolerated(b)) {
            // Offsets on this stride vouch for it despite more damage than tolerated, if its
            // records outnumber the damage (stray bytes must not make a whole segment one
            // record); a stride as long as the span is never vouched for.
            if on_offsets && !offsets.is_empty() && m < span && a.0 + b.0 > a.1 + b.1 {
                vouched.push((p, a.1 + b.1));
            }
            continue;
        }
        if a.0 + b.0 == 0 && req.record_size.is_none() {
            continue;
        }
        let damage = a.1 + b.1;
        let misses = offsets.iter().filter(|o| *o % m != 0).count();
        out.push((p, damage, misses));
        if on_offsets {
            aligned.push((p, damage));
        }
    }
    // Offsets that fit a stride confirm it; damaged offsets (recovery snaps them) do not veto
    // the only stride the data fits, but of strides the data fits alike, those that more
    // offsets contradict are dropped.
    let fewest = out.iter().map(|c| c.2).min().unwrap_or(0);
    let mut out: Vec<(Params, usize)> = out
        .into_iter()
        .filter(|c| c.2 == fewest)
        .map(|(p, d, _)| (p, d))
        .collect();
    if !aligned.is_empty() {
        out = aligned;
    } else if !vouched.is_empty() {
        out = vouched;
    }
    if out.is_empty() {
        return Err("no record size fits the marker pattern".into());
    }
    Ok(best_explanations(out))
}

/// Of strides that divide one another, those that explain the bytes with more damaged slots
/// than another are dropped. What remains with equal damage is ambiguous, and stays: a stride
/// `s` that fits makes its multiples fit whenever the record counts allow, and a multiple `m`
/// makes `s` fit whenever the payloads hold 0xFF at every `s`-th byte (an all-0xFF struct of 7
/// bytes fits strides 2, 4 and 8 alike). Nothing is picked by size.
fn best_explanations(found: Vec<(Params, usize)>) -> Vec<Params> {
    let stride = |p: &Params| p.stride().unwrap_or(0);
    found
        .iter()
        .filter(|(p, d)| {
            let m = stride(p);
            !found.iter().any(|(q, e)| {
                let s = stride(q);
                s != m && (m % s == 0 || s % m == 0) && e < d
            })
        })
        .map(|(p, _)| *p)
        .collect()
}

/// Reads at most `limit` bytes from the start of a segment (an unreadable file reads as empty:
/// inference then finds no evidence in it).
fn read_prefix(path: &Path, limit: u64) -> Vec<u8> {
    use std::io::Read;
    let mut bytes = Vec::new();
    use crate::queue::os::files::{open_in_store, How};
    if let Ok(f) = open_in_store(path, How::Read) {
        let _ = f.take(limit).read_to_end(&mut bytes);
    }
    bytes
}

/// Scores a stride on a segment prefix: `Some(records)` when slots end in 0xFF and the rest is
/// zeros, allowing a little damage (a crash or a flipped byte must not defeat inference).
fn fixed_pattern(bytes: &[u8], m: usize) -> Option<usize> {
    let score = fixed_score(bytes, m);
    tolerated(score).then_some(score.0)
}

/// Whether `(records, damaged slots)` is within the damage a stride is allowed.
fn tolerated((records, damaged): (usize, usize)) -> bool {
    damaged <= 1 + records / 16
}

/// `(records, damaged slots)` of a stride on a segment prefix.
fn fixed_score(bytes: &[u8], m: usize) -> (usize, usize) {
    let mut records = 0;
    let mut damaged = 0;
    let mut ended = false;
    for slot in bytes.chunks(m) {
        if slot.len() < m {
            damaged += usize::from(!codec::is_zero(slot));
            break;
        }
        match codec::classify_fixed(slot) {
            FixedSlot::Record if !ended => records += 1,
            FixedSlot::Unwritten => ended = true,
            _ => damaged += 1,
        }
    }
    (records, damaged)
}

/// The length most fixed segment files have (the longest among equally common ones): one
/// damaged file must not decide the store's geometry.
fn common_len(segs: &[SegmentFile]) -> u64 {
    let mut lens: Vec<u64> = segs.iter().map(|s| s.len).collect();
    lens.sort_unstable();
    let mut best = (0, 0);
    for run in lens.chunk_by(|a, b| a == b) {
        if run.len() >= best.0 {
            best = (run.len(), run[0]);
        }
    }
    best.1
}

fn stream_candidate(
    segs: &[SegmentFile],
    req: &ParamsRequest,
) -> std::result::Result<Params, String> {
    // Files only grow with the SegmentSize (spec §10 SQ-10): the longest shows the current one.
    let file_len = segs.iter().map(|s| s.len).max().expect("non-empty");
    let seg_size = req.segment_size.unwrap_or(file_len);
    let params = Params::stream(seg_size).map_err(|e| e.to_string())?;
    let evidence = stream_records(segs, &params)?;
    if evidence == 0 && req.format.is_none() {
        return Err("no stream record was found".into());
    }
    Ok(params)
}

/// Stream records chained from position 0 of the first segments and the last one, each chain
/// that ends inside the scanned bytes leading to the next segment's name.
fn stream_records(segs: &[SegmentFile], params: &Params) -> std::result::Result<usize, String> {
    // A record starting before SCAN_CAP ends within this many bytes.
    let limit = params
        .segment_size()
        .min((SCAN_CAP + STREAM_OVERHEAD + params.max_payload()) as u64);
    let mut evidence = 0;
    for (i, seg) in segs.iter().enumerate() {
        if i > 2 && i + 1 < segs.len() {
            continue;
        }
        let mut bytes = read_prefix(&seg.path, limit);
        bytes.resize(limit as usize, 0);
        let (records, used, clean) = stream_pattern(&bytes, params.max_payload());
        // The newest segment is where a crash tears a record: with the chain shown by the
        // segments before it, a torn start there does not hide the format.
        let torn_tail = i > 0 && i + 1 == segs.len() && evidence > 0;
        if records == 0 && !clean && !torn_tail {
            return Err(format!(
                "segment {} does not hold stream records",
                seg.start
            ));
        }
        evidence += records;
        if let Some(next) = segs.get(i + 1) {
            if records > 0 && clean && next.start != seg.start + used as u64 {
                return Err(format!(
                    "segment {} does not follow the records of segment {}",
                    next.start, seg.start
                ));
            }
        }
    }
    Ok(evidence)
}

/// Records from position 0: `(count, bytes they use, whether an end or zeros follow them)`.
/// Reaching `SCAN_CAP` is not an end: the chain goes on past what was scanned. Empty records
/// (`00 00 00 00 FF`, which .NET writes for an empty payload) continue the chain but are not
/// counted: a fixed store of 4-byte zero payloads has exactly those bytes, so they are no
/// evidence of the stream format.
fn stream_pattern(bytes: &[u8], max: usize) -> (usize, usize, bool) {
    let mut pos = 0;
    let mut count = 0;
    while pos < bytes.len().min(SCAN_CAP) {
        match codec::classify_stream(&bytes[pos..], max) {
            StreamSlot::Record { len } | StreamSlot::Ambiguous { len } => {
                pos += len + codec::STREAM_OVERHEAD;
                count += usize::from(len > 0);
            }
            StreamSlot::SegmentEnd | StreamSlot::Unwritten => return (count, pos, true),
            _ => return (count, pos, false),
        }
    }
    (count, pos, pos < SCAN_CAP)
}
