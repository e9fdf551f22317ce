//! `mfq dump-segment [STORE] [SEGMENT] [--offset N]`: prints every record position of one
//! segment file with its status and a payload preview (or a hex dump), then a summary.
//!
//! The segment is a path (its store is the folder above `commitlog/`, else STORE or `-s`, else
//! the format options), a 20-digit name or start offset looked up in the store, or the segment
//! holding `--offset N`; with one positional, a folder is the STORE and anything else the
//! SEGMENT. `--offset N` also starts the rows at the record at or containing N (the summary
//! still counts the whole segment). Exits with status 4 when it finds damage (torn records, bad
//! markers, garbage). A torn record at the very end of the newest segment may be a write in
//! progress when a producer is live; this is an offline inspection tool and reports it as
//! damage all the same. A file shorter than the parameters give is noted and read as if
//! padded with zeros (as the engine reads it); it is damage only if that cuts a record.
//!
//! This file must not classify bytes itself (`scan::walk` does, via `rows`).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mfq::queue::layout::parse_segment_name;
use mfq::queue::{positions, Format, Params, Store};

mod rows;

use self::rows::{Dump, Row, Summary};
use super::output::payload_encoding;
use super::resolve;
use crate::cli::values::{DumpAt, SegmentRef};
use crate::cli::{DumpSegmentArgs, GlobalOpts};
use crate::exit::{Exit, ExitStatus};
use crate::render::json::Line;
use crate::render::payload::Encoding;
use crate::render::{self, hex, payload};

/// Characters of payload preview per line.
const PREVIEW: usize = 48;

/// Runs `mfq dump-segment`.
pub fn run(global: &GlobalOpts, args: &DumpSegmentArgs) -> anyhow::Result<()> {
    let encoding = payload_encoding(global.json, args.payload)?;
    let at = offset_of(global, args).context("cannot find the segment")?;
    let (path, start, params, gaps) =
        locate(global, args, at).context("cannot find the segment")?;
    let limit = args.limit.map_or(usize::MAX, |n| n as usize);
    let from = at.unwrap_or(start);
    let need = rows::bytes_needed(&params);
    let sum = positions::with_file_bytes(&path, need, |bytes, file_len| {
        let Dump {
            rows,
            more,
            summary,
        } = rows::rows_of_file(&params, start, bytes, file_len, &gaps, from, limit);
        note_gaps(&params, start, &gaps);
        let file = (bytes, file_len);
        if global.json {
            let shown = (&rows[..], more, encoding);
            print_json(&path, start, &params, file, shown, &summary)?;
        } else {
            let shown = (start, at);
            print_text(&path, shown, &params, file, &rows, more, &summary, args.hex)?;
        }
        anyhow::Ok(summary)
    })
    .with_context(|| format!("cannot read {}", path.display()))??;
    match sum.first_damaged_position {
        Some(pos) => Err(Exit::new(
            ExitStatus::Corruption,
            format!(
                "corruption found in {}: {} damaged entr{}, the first at position {pos} \
                 (offset {}); run `mfq recover --dry-run` on the store to see the repair",
                path.display(),
                sum.damaged,
                if sum.damaged == 1 { "y" } else { "ies" },
                sum.first_damaged_offset.unwrap_or(start + pos)
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// Says on stderr which recorded gaps of the store the segment's records step over (stdout
/// stays the dump).
fn note_gaps(params: &Params, start: u64, gaps: &[(u64, u64)]) {
    let end = start.saturating_add(params.span());
    for &(a, b) in gaps.iter().filter(|&&(a, b)| a < end && b > start) {
        eprintln!(
            "mfq: the recorded gap {a}..{b} crosses this segment: mfq's readers step over it \
             to the records at {b} (a .NET reader stops at {a}; see `mfq stat`)"
        );
    }
}

/// Recorded gaps, as `[from, to)` pairs.
type Gaps = Vec<(u64, u64)>;

/// A store's recorded gaps.
fn gaps_of(store: &Store) -> anyhow::Result<Gaps> {
    Ok(store
        .extent()?
        .gaps()
        .iter()
        .map(|g| (g.from, g.to))
        .collect())
}

/// The STORE and SEGMENT positionals: with one, a folder is the STORE and anything else the
/// SEGMENT.
fn which(args: &DumpSegmentArgs) -> (Option<PathBuf>, Option<SegmentRef>) {
    match (&args.first, &args.segment) {
        (Some(store), Some(seg)) => (Some(store.clone()), Some(seg.clone())),
        (Some(one), None) if one.is_dir() => (Some(one.clone()), None),
        (Some(one), None) => {
            let seg = match one.to_str().map(str::parse::<SegmentRef>) {
                Some(Ok(seg)) => seg,
                _ => SegmentRef::Path(one.clone()),
            };
            (None, Some(seg))
        }
        (None, _) => (None, None),
    }
}

/// `--offset` as a queue offset: `earliest` is the store's oldest record, `latest` the start
/// of its newest segment.
fn offset_of(global: &GlobalOpts, args: &DumpSegmentArgs) -> anyhow::Result<Option<u64>> {
    let word = match args.offset {
        None => return Ok(None),
        Some(DumpAt::Offset(o)) => return Ok(Some(o)),
        Some(word) => word,
    };
    let (store_arg, _) = which(args);
    let store = resolve::open_store(global, store_arg.as_ref())?;
    Ok(Some(match word {
        DumpAt::Earliest => store.earliest_offset()?,
        _ => store.segments()?.last().map_or(0, |s| s.start),
    }))
}

/// The segment file, its start offset, the store parameters to read it with, and the store's
/// recorded gaps (none for a file outside a store).
fn locate(
    global: &GlobalOpts,
    args: &DumpSegmentArgs,
    at: Option<u64>,
) -> anyhow::Result<(PathBuf, u64, Params, Gaps)> {
    let (store_arg, segment) = which(args);
    let store_arg = store_arg.as_ref();
    let found = match (&segment, at) {
        (Some(SegmentRef::Path(p)), _) => {
            let start = p
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(parse_segment_name)
                .unwrap_or(0);
            let store = store_arg.or(global.store.as_ref());
            let (params, gaps) = params_for_file(global, store.map(PathBuf::as_path), p)?;
            (p.clone(), start, params, gaps)
        }
        (Some(SegmentRef::Start(n)), _) => {
            let store = resolve::open_store(global, store_arg)?;
            let path = store.layout().segment(*n);
            if !path.is_file() {
                anyhow::bail!(
                    "no segment starts at {n} in {} (segments start at {}; use --offset {n} \
                     for the segment holding that offset)",
                    store.path().display(),
                    starts(&store)?
                );
            }
            (path, *n, *store.params(), gaps_of(&store)?)
        }
        (None, Some(o)) => {
            let store = resolve::open_store(global, store_arg)?;
            let segs = store.segments()?;
            let span = store.params().span();
            // A segment holds at most its span of offsets (S record bytes for stream).
            let holds = |s: &&mfq::queue::SegmentFile| o - s.start < span;
            let Some(seg) = positions::segment_for(&segs, o).filter(holds) else {
                anyhow::bail!(
                    "no segment holds offset {o} in {} (segments start at {})",
                    store.path().display(),
                    starts(&store)?
                );
            };
            (
                seg.path.clone(),
                seg.start,
                *store.params(),
                gaps_of(&store)?,
            )
        }
        (None, None) => {
            return Err(Exit::new(
                ExitStatus::Usage,
                "a STORE alone does not say which segment: name a SEGMENT (`mfq dump-segment \
                 STORE 0`) or give --offset N",
            )
            .into())
        }
    };
    let (_, start, params, _) = &found;
    if let Some(o) = at.filter(|_| segment.is_some()) {
        let end = start.saturating_add(params.span());
        if o < *start || o >= end {
            anyhow::bail!(
                "offset {o} is not in the segment {} (it holds offsets {start}..{end}); drop \
                 the SEGMENT to dump the segment holding {o}",
                found.0.display()
            );
        }
    }
    Ok(found)
}

fn starts(store: &Store) -> anyhow::Result<String> {
    let list: Vec<String> = store
        .segments()?
        .iter()
        .map(|s| s.start.to_string())
        .collect();
    Ok(if list.is_empty() {
        "nothing: the store has no segments".into()
    } else {
        list.join(", ")
    })
}

/// Parameters (and recorded gaps) for a segment named by path: from its store when it sits in
/// `<store>/commitlog/`, else from `store` (STORE or `-s/--store`), else from the format
/// options alone.
fn params_for_file(
    global: &GlobalOpts,
    store: Option<&Path>,
    path: &Path,
) -> anyhow::Result<(Params, Gaps)> {
    if !path.is_file() {
        anyhow::bail!("{} is not a file", path.display());
    }
    let full = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let req = resolve::params_request(global);
    let parent = full.parent();
    if parent
        .and_then(Path::file_name)
        .is_some_and(|n| n == "commitlog")
    {
        if let Some(root) = parent.and_then(Path::parent) {
            let store = resolve::open_at(root, &req)?;
            return Ok((*store.params(), gaps_of(&store)?));
        }
    }
    if let Some(store) = store {
        let store = resolve::open_at(store, &req)?;
        return Ok((*store.params(), gaps_of(&store)?));
    }
    let mut req = req;
    if req.segment_size.is_none() {
        req.segment_size = req.segment_size_of_file(std::fs::metadata(path)?.len());
    }
    let params = req.to_params().with_context(|| {
        format!(
            "{} is not inside a store's commitlog/ folder; pass -s STORE, or --format \
             (with --record-size for fixed) and --segment-size",
            path.display()
        )
    })?;
    Ok((params, vec![]))
}

fn describe(params: &Params) -> String {
    match params.record_size() {
        Some(p) => format!(
            "fixed, record size {p}, segment size {}",
            params.segment_size()
        ),
        None => format!("stream, segment size {}", params.segment_size()),
    }
}

#[allow(clippy::too_many_arguments)]
fn print_text(
    path: &Path,
    (start, from): (u64, Option<u64>),
    params: &Params,
    (bytes, file_len): (&[u8], u64),
    rows: &[Row],
    more: usize,
    sum: &Summary,
    hex_wanted: bool,
) -> anyhow::Result<()> {
    let color = render::color_enabled(render::Stream::Stdout);
    let mut out = std::io::stdout().lock();
    writeln!(out, "segment {}", path.display())?;
    let from = from.map_or(String::new(), |o| {
        format!("; showing from the record at or containing offset {o}")
    });
    writeln!(
        out,
        "{}; start offset {start}; file {} bytes{from}",
        describe(params),
        file_len
    )?;
    writeln!(
        out,
        "{:>12} {:>10} {:>6}  {:<11}  PAYLOAD",
        "OFFSET", "POSITION", "SIZE", "STATUS"
    )?;
    for r in rows {
        let text = match (&r.payload, r.count) {
            _ if r.gap_to.is_some() => format!(
                "recorded gap: mfq's readers go on at offset {}",
                r.gap_to.unwrap_or_default()
            ),
            (_, n) if n > 1 => format!(
                "… {n} unwritten slots (positions {}..{})",
                r.position,
                r.position + r.size
            ),
            (Some(range), _) => payload::preview(&bytes[range.clone()], PREVIEW),
            (None, _) => String::new(),
        };
        let status = r.status.as_str();
        writeln!(
            out,
            "{:>12} {:>10} {:>6}  {status:<11}  {text}",
            r.offset, r.position, r.size
        )?;
        if hex_wanted {
            write_hex(&mut out, r, bytes, color)?;
        }
    }
    if more > 0 {
        writeln!(out, "… {more} more entries not shown (--limit)")?;
    }
    writeln!(out, "{}", summary_line(sum, params.format()))?;
    Ok(())
}

/// The hex dump under a row: its payload, or the raw bytes of garbage (at most 4 KiB).
fn write_hex(out: &mut impl Write, r: &Row, bytes: &[u8], color: bool) -> anyhow::Result<()> {
    let range = match (&r.payload, r.status) {
        (Some(range), _) => range.clone(),
        (None, s) if s.is_damage() => {
            let from = (r.position as usize).min(bytes.len());
            from..(from + r.size as usize).min(bytes.len()).min(from + 4096)
        }
        _ => return Ok(()),
    };
    if !range.is_empty() {
        hex::hex_dump(out, &bytes[range.clone()], range.start as u64, color)?;
    }
    Ok(())
}

fn summary_line(sum: &Summary, format: Format) -> String {
    let mut line = format!(
        "summary: {} records ok, {} damaged",
        sum.records_ok, sum.damaged
    );
    if let (Some(pos), Some(off)) = (sum.first_damaged_position, sum.first_damaged_offset) {
        line += &format!(" (first at position {pos}, offset {off})");
    }
    if sum.unwritten > 0 {
        line += &format!(", {} unwritten", sum.unwritten);
    }
    if let Some(len) = sum.unexpected_length {
        let why = match format {
            _ if len < sum.expected_length => "missing bytes read as zero",
            Format::Fixed => "`mfq recover` cuts it back, saving the bytes it cuts",
            // A larger .NET SegmentSize extends old stream files (spec §10 SQ-10).
            Format::Stream => "bytes past the segment size are not walked",
        };
        line += &format!(
            "; the file is {len} bytes, expected {} ({why})",
            sum.expected_length
        );
    }
    line
}

/// The whole dump as one JSON document (see the README's "JSON output").
fn print_json(
    path: &Path,
    start: u64,
    params: &Params,
    (bytes, file_len): (&[u8], u64),
    (rows, not_shown, encoding): (&[Row], usize, Encoding),
    sum: &Summary,
) -> anyhow::Result<()> {
    let records: Vec<_> = rows.iter().map(|r| r.to_json(bytes, encoding)).collect();
    let value = serde_json::json!({
        "segment": path.to_string_lossy(),
        "start": start,
        "length": file_len,
        "format": params.format(),
        "record_size": params.record_size(),
        "segment_size": params.segment_size(),
        "records": records,
        "not_shown": not_shown,
        "summary": sum,
    });
    writeln!(
        std::io::stdout().lock(),
        "{}",
        serde_json::to_string(&Line::new(&value))?
    )?;
    Ok(())
}
