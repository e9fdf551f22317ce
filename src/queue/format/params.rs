//! Store parameters (format, record size, segment size), their geometry, and mfq's metadata
//! file `mfq.json`.
//!
//! ```text
//! mfq.json (UTF-8 JSON object at the store root; the .NET libraries never read it)
//!   "format"        "fixed" | "stream"
//!   "record_size"   fixed payload size P in bytes (absent for stream)
//!   "segment_size"  the SegmentSize option S in bytes
//!   "version"       1
//! ```
//!
//! This module owns the arithmetic of segments; it must not read segment files (inference
//! lives in `infer.rs`).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::queue::error::{Error, IoContext, Need, Param, Result};
use crate::queue::format::codec::{STREAM_MAX_PAYLOAD, STREAM_MIN_RECORD, STREAM_OVERHEAD};
use crate::queue::os::files::{self, How};

/// Default SegmentSize when mfq creates a store: 64 MiB.
pub const DEFAULT_SEGMENT_SIZE: u64 = 64 * 1024 * 1024;
/// Largest segment size mfq accepts (the .NET libraries use int capacities for stream files).
pub const MAX_SEGMENT_SIZE: u64 = 1 << 40;

/// The two on-disk formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// MappedFileQueues: fixed-size records.
    Fixed,
    /// MappedFileQueues.Stream: length-prefixed records.
    Stream,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Fixed => "fixed",
            Format::Stream => "stream",
        })
    }
}

/// A store's parameters, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    format: Format,
    record_size: u32,
    segment_size: u64,
}

impl Params {
    /// Fixed format with payload size `record_size` and SegmentSize `segment_size`.
    pub fn fixed(record_size: u32, segment_size: u64) -> Result<Params> {
        if record_size == 0 {
            return Err(Error::InvalidParams(
                "record size must be at least 1 byte".into(),
            ));
        }
        let stride = record_size as u64 + 1;
        if segment_size < stride {
            return Err(Error::InvalidParams(format!(
                "segment size {segment_size} is smaller than one record of {stride} bytes \
                 (record size {record_size} + 1 marker byte)"
            )));
        }
        check_max(segment_size)?;
        Ok(Params {
            format: Format::Fixed,
            record_size,
            segment_size,
        })
    }

    /// Stream format with SegmentSize `segment_size`.
    pub fn stream(segment_size: u64) -> Result<Params> {
        if segment_size < STREAM_MIN_RECORD as u64 {
            return Err(Error::InvalidParams(format!(
                "segment size {segment_size} is smaller than the smallest stream record \
                 ({STREAM_MIN_RECORD} bytes)"
            )));
        }
        check_max(segment_size)?;
        Ok(Params {
            format: Format::Stream,
            record_size: 0,
            segment_size,
        })
    }

    /// The format.
    pub fn format(&self) -> Format {
        self.format
    }
    /// Fixed payload size P (None for stream).
    pub fn record_size(&self) -> Option<u32> {
        (self.format == Format::Fixed).then_some(self.record_size)
    }
    /// The SegmentSize option S.
    pub fn segment_size(&self) -> u64 {
        self.segment_size
    }
    /// Fixed stride m = P + 1 (None for stream).
    pub fn stride(&self) -> Option<u64> {
        self.record_size().map(|p| p as u64 + 1)
    }
    /// Logical span of a full segment: N*m for fixed, at most S for stream.
    pub fn span(&self) -> u64 {
        match self.stride() {
            Some(m) => self.segment_size / m * m,
            None => self.segment_size,
        }
    }
    /// Length of a segment file: N*m + 1 for fixed (the .NET off-by-one), S for stream.
    pub fn file_len(&self) -> u64 {
        match self.format {
            Format::Fixed => self.span() + 1,
            Format::Stream => self.segment_size,
        }
    }
    /// The largest payload a message may have.
    pub fn max_payload(&self) -> usize {
        match self.format {
            Format::Fixed => self.record_size as usize,
            Format::Stream => {
                (STREAM_MAX_PAYLOAD as u64).min(self.segment_size - STREAM_OVERHEAD as u64) as usize
            }
        }
    }
    /// Fixed format: start of the segment holding `offset`.
    pub fn fixed_segment_start(&self, offset: u64) -> u64 {
        let l = self.span();
        offset / l * l
    }
}

fn check_max(segment_size: u64) -> Result<()> {
    if segment_size > MAX_SEGMENT_SIZE {
        return Err(Error::InvalidParams(format!(
            "segment size {segment_size} is larger than the maximum {MAX_SEGMENT_SIZE}"
        )));
    }
    Ok(())
}

/// Where a store's parameters came from. Serialized as `mfq.json`, `inferred` and `options`,
/// the words `stat`'s table uses for them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ParamsSource {
    /// mfq's metadata file.
    #[serde(rename = "mfq.json")]
    Metadata,
    /// Inferred from segment names, lengths and markers.
    #[serde(rename = "inferred")]
    Inferred,
    /// Given by the caller.
    #[serde(rename = "options")]
    Explicit,
}

/// Parameters asked for by a caller; any may be absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParamsRequest {
    /// The record format.
    pub format: Option<Format>,
    /// The fixed payload size.
    pub record_size: Option<u32>,
    /// The .NET `SegmentSize`.
    pub segment_size: Option<u64>,
}

impl From<Params> for ParamsRequest {
    fn from(p: Params) -> Self {
        ParamsRequest {
            format: Some(p.format()),
            record_size: p.record_size(),
            segment_size: Some(p.segment_size()),
        }
    }
}

impl ParamsRequest {
    /// The segment size that a lone segment file of `len` bytes gives, for the format asked
    /// for: `S` bytes for stream, `N·m + 1` for fixed (so the span `N·m`, the smallest
    /// SegmentSize that makes that file). None when the length gives none.
    pub fn segment_size_of_file(&self, len: u64) -> Option<u64> {
        match self.format {
            Some(Format::Fixed) => len.checked_sub(1),
            _ => Some(len),
        }
        .filter(|s| *s > 0)
    }

    /// True when the request names every parameter of its format: the files need not (and
    /// must not) be asked for any.
    pub fn is_complete(&self) -> bool {
        self.segment_size.is_some()
            && match self.format {
                Some(Format::Stream) => true,
                Some(Format::Fixed) => self.record_size.is_some(),
                None => false,
            }
    }

    /// Builds full parameters for a new store (segment size defaults to 64 MiB).
    pub fn to_params(&self) -> Result<Params> {
        let seg = self.segment_size.unwrap_or(DEFAULT_SEGMENT_SIZE);
        match (self.format, self.record_size) {
            (Some(Format::Stream), None) => Params::stream(seg),
            (Some(Format::Stream), Some(_)) => Err(Error::InvalidParams(
                "a record size applies to fixed stores only".into(),
            )),
            (Some(Format::Fixed) | None, Some(p)) => Params::fixed(p, seg),
            (Some(Format::Fixed), None) => Err(Error::ParamsUnknown {
                reason: "a fixed store needs its record size".into(),
                need: Need::Params(&[Param::RecordSize]),
            }),
            (None, None) => Err(Error::ParamsUnknown {
                reason: "the store format is not known".into(),
                need: Need::FormatThenRecordSize,
            }),
        }
    }

    /// Checks that known parameters agree with this request.
    pub fn check_against(&self, known: &Params) -> Result<()> {
        if let Some(f) = self.format {
            if f != known.format() {
                return Err(Error::ParamsMismatch {
                    what: Param::Format,
                    found: known.format().to_string(),
                    given: f.to_string(),
                });
            }
        }
        if let Some(p) = self.record_size {
            if Some(p) != known.record_size() {
                return Err(Error::ParamsMismatch {
                    what: Param::RecordSize,
                    found: match known.record_size() {
                        Some(k) => format!("{k} bytes"),
                        None => "none (stream format)".into(),
                    },
                    given: p.to_string(),
                });
            }
        }
        if let Some(s) = self.segment_size {
            let same = match known.stride() {
                Some(m) => s / m * m == known.span(),
                None => s == known.segment_size(),
            };
            if !same {
                return Err(Error::ParamsMismatch {
                    what: Param::SegmentSize,
                    found: format!("{} bytes", known.segment_size()),
                    given: s.to_string(),
                });
            }
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize)]
struct Meta {
    format: Format,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    record_size: Option<u32>,
    segment_size: u64,
    version: u32,
}

/// The largest `mfq.json` read: the real one is under 200 bytes.
const META_MAX_LEN: u64 = 64 * 1024;

/// Reads `mfq.json` if present. Only a regular file (not a symlink, FIFO or device) of at most
/// 64 KiB is read.
pub fn read_meta(path: &Path) -> Result<Option<Params>> {
    use std::io::Read;
    let file = match files::open_in_store(path, How::Read) {
        Ok(f) => f,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = file.metadata().ctx("stat", path)?.len();
    if len > META_MAX_LEN {
        return Err(Error::NotAStore {
            path: path.to_path_buf(),
            reason: format!(
                "metadata file is {len} bytes, more than {META_MAX_LEN}; delete it to infer parameters"
            ),
            hint: None,
        });
    }
    let mut text = String::new();
    file.take(META_MAX_LEN)
        .read_to_string(&mut text)
        .ctx("read", path)?;
    let meta: Meta = serde_json::from_str(&text).map_err(|e| Error::NotAStore {
        path: path.to_path_buf(),
        reason: format!("metadata file is not valid ({e}); delete it to infer parameters"),
        hint: None,
    })?;
    let params = match (meta.format, meta.record_size) {
        (Format::Fixed, Some(p)) => Params::fixed(p, meta.segment_size),
        (Format::Stream, _) => Params::stream(meta.segment_size),
        (Format::Fixed, None) => Err(Error::InvalidParams("record_size missing".into())),
    };
    params.map(Some).map_err(|e| Error::NotAStore {
        path: path.to_path_buf(),
        reason: format!("metadata file is not valid ({e}); delete it to infer parameters"),
        hint: None,
    })
}

/// Writes `mfq.json`, replacing the one there (written to a unique temporary name, synced,
/// renamed over it).
pub fn write_meta(path: &Path, params: &Params) -> Result<()> {
    let tmp = write_temp_meta(path, params)?;
    files::publish_replace(&tmp, path)
}

/// Creates `mfq.json` for a new store, atomically and exclusively. When another creator was
/// first, its parameters must be these ([`Error::ParamsMismatch`] otherwise).
pub fn create_meta(path: &Path, params: &Params) -> Result<()> {
    let tmp = write_temp_meta(path, params)?;
    if files::publish_new(&tmp, path)? {
        return Ok(());
    }
    match read_meta(path)? {
        Some(found) => ParamsRequest::from(*params).check_against(&found),
        // Removed again in between: make it ours.
        None => create_meta(path, params),
    }
}

fn write_temp_meta(path: &Path, params: &Params) -> Result<std::path::PathBuf> {
    use std::io::Write;
    let meta = Meta {
        format: params.format(),
        record_size: params.record_size(),
        segment_size: params.segment_size(),
        version: 1,
    };
    let text = serde_json::to_string_pretty(&meta).expect("metadata serializes") + "\n";
    let (tmp, mut f) = files::create_temp(path)?;
    let written = f.write_all(text.as_bytes()).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io("write", &tmp, e));
    }
    Ok(tmp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_geometry_matches_dotnet() {
        let p = Params::fixed(16, 100).unwrap();
        assert_eq!(p.stride(), Some(17));
        assert_eq!(p.span(), 85);
        assert_eq!(p.file_len(), 86);
        assert_eq!(p.fixed_segment_start(101), 85);
        let p = Params::fixed(16, 85).unwrap();
        assert_eq!(p.file_len(), 86);
        assert!(Params::fixed(16, 16).is_err());
        assert!(Params::fixed(0, 16).is_err());
    }

    #[test]
    fn stream_geometry() {
        let p = Params::stream(64).unwrap();
        assert_eq!(p.file_len(), 64);
        assert_eq!(p.max_payload(), 59);
        assert!(Params::stream(5).is_err());
    }

    #[test]
    fn request_mismatch_is_an_error() {
        let known = Params::fixed(16, 100).unwrap();
        let req = ParamsRequest {
            record_size: Some(8),
            ..Default::default()
        };
        assert!(matches!(
            req.check_against(&known),
            Err(Error::ParamsMismatch { .. })
        ));
        let req = ParamsRequest {
            segment_size: Some(90),
            ..Default::default()
        };
        assert!(req.check_against(&known).is_ok());
    }

    #[test]
    fn meta_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mfq.json");
        let p = Params::fixed(16, 100).unwrap();
        write_meta(&path, &p).unwrap();
        assert_eq!(read_meta(&path).unwrap(), Some(p));
        std::fs::write(&path, "{").unwrap();
        assert!(read_meta(&path).is_err());
    }
}
