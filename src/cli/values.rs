//! Value types of the command line: the words and numbers options and positionals accept
//! (`all`, `earliest`, `+5`, `consumed`, output modes, ...), each with its `FromStr`.
//!
//! One vocabulary for positions: `earliest` and `beginning` are synonyms (the oldest stored
//! record), and so are `latest` and `end` (after the newest record), wherever a position is
//! accepted.
//!
//! This module owns the syntax of single values; it must not look at a store, apply defaults
//! that depend on one, or check that an offset exists (the resolve step does that).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::ValueEnum;

/// The store format (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Every record has the same payload size (`--record-size`).
    Fixed,
    /// Records are length-prefixed and may differ in size.
    Stream,
}

/// How `produce` splits its input into messages (`--input`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum InputMode {
    /// One message per line; the `\n` is not part of the message (a `\r` before it is).
    Lines,
    /// Fixed stores: record-size chunks; stream stores: the whole input as one message.
    Raw,
    /// Each message is preceded by its length as a 4-byte little-endian unsigned integer.
    LengthPrefixed,
}

/// A workload of `mfq bench` (`--only`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Workload {
    /// One producer, no flush policy.
    Write,
    /// One consumer reading and committing what the write workload wrote.
    Read,
    /// A producer with the flush policy until all is confirmed, and the disk's bandwidth.
    Durable,
    /// A producer that syncs after every message.
    Sync,
    /// A producer and a spinning consumer in two processes.
    Cross,
    /// One-way latency between two processes.
    Latency,
    /// Wake-up latency of a blocked consumer.
    Wake,
}

/// How `consume` and `tail` print messages (`--output`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputMode {
    /// One message per line, control characters escaped.
    Text,
    /// The payload bytes exactly, nothing added.
    Raw,
    /// A hex dump per message.
    Hex,
    /// One JSON object per line with the offset and the payload.
    Json,
}

/// How many messages `consume` takes (`-n N` or `-n all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// At most this many.
    N(u64),
    /// Everything available.
    All,
}

/// Where `tail` starts (`--from OFFSET`, `--from earliest|beginning` or `--from latest|end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TailFrom {
    /// This queue offset.
    Offset(u64),
    /// The oldest record still stored (`earliest` or `beginning`).
    Beginning,
    /// After the newest record (`latest` or `end`).
    End,
}

/// The words for the oldest stored record.
const EARLIEST: [&str; 2] = ["earliest", "beginning"];
/// The words for the position after the newest record.
const LATEST: [&str; 2] = ["latest", "end"];

/// Whether `text` is one of `words`, ignoring case.
fn is_word(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.eq_ignore_ascii_case(w))
}

/// Where `adjust-offset` moves an offset to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Position {
    /// This absolute offset (`4096`).
    Offset(u64),
    /// The oldest record still stored (`earliest` or `beginning`).
    Earliest,
    /// After the newest record (`latest` or `end`).
    Latest,
    /// This many records forward from the current offset (`+N`).
    Forward(u64),
    /// This many records back from the current offset (`-N`).
    Back(u64),
}

/// What `prune --before` keeps (`--before OFFSET` or `--before consumed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneBefore {
    /// Remove segments wholly before this offset.
    Offset(u64),
    /// Remove segments every consumer has passed (the slowest consumer's offset).
    Consumed,
    /// `earliest` (or `beginning`): the oldest stored record (deletes nothing).
    Earliest,
    /// `latest` (or `end`): the end of the queue (every segment before the producer's, as far
    /// as consumers allow).
    Latest,
}

/// Where `dump-segment --offset` starts: a queue offset, `earliest` (or `beginning`: the
/// oldest stored record) or `latest` (or `end`: the newest segment, from its start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpAt {
    /// The record at or containing this offset.
    Offset(u64),
    /// The oldest stored record.
    Earliest,
    /// The start of the newest segment.
    Latest,
}

impl FromStr for DumpAt {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.to_ascii_lowercase().as_str() {
            "earliest" | "beginning" => Ok(DumpAt::Earliest),
            "latest" | "end" => Ok(DumpAt::Latest),
            _ => number(text, "an offset (a number, `earliest` or `latest`)").map(DumpAt::Offset),
        }
    }
}

/// Which segment `dump-segment` reads: a file path, or a segment named by its start offset
/// (a 20-digit file name like `00000000000000004096` or a plain number like `4096`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentRef {
    /// A path to a segment file.
    Path(PathBuf),
    /// The segment whose file name is this start offset.
    Start(u64),
}

/// Parses a whole unsigned number, naming `what` in the error.
fn number(text: &str, what: &str) -> Result<u64, String> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("`{text}` is not {what}"));
    }
    text.parse()
        .map_err(|_| format!("`{text}` is too large for {what}"))
}

impl FromStr for Count {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("all") {
            return Ok(Count::All);
        }
        number(text, "a count (a number or `all`)").map(Count::N)
    }
}

impl FromStr for TailFrom {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if is_word(text, &EARLIEST) {
            return Ok(TailFrom::Beginning);
        }
        if is_word(text, &LATEST) {
            return Ok(TailFrom::End);
        }
        number(
            text,
            "an offset (a number, `earliest`/`beginning` or `latest`/`end`)",
        )
        .map(TailFrom::Offset)
    }
}

impl FromStr for Position {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        const WHAT: &str = "a position (N, +N, -N, `earliest`/`beginning` or `latest`/`end`)";
        if is_word(text, &EARLIEST) {
            Ok(Position::Earliest)
        } else if is_word(text, &LATEST) {
            Ok(Position::Latest)
        } else if let Some(rest) = text.strip_prefix('+') {
            number(rest, WHAT).map(Position::Forward)
        } else if let Some(rest) = text.strip_prefix('-') {
            number(rest, WHAT).map(Position::Back)
        } else {
            number(text, WHAT).map(Position::Offset)
        }
    }
}

impl FromStr for PruneBefore {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let lower = text.to_ascii_lowercase();
        match lower.as_str() {
            "consumed" => return Ok(PruneBefore::Consumed),
            "earliest" | "beginning" => return Ok(PruneBefore::Earliest),
            "latest" | "end" => return Ok(PruneBefore::Latest),
            _ => {}
        }
        number(
            text,
            "an offset (a number, `consumed`, `earliest` or `latest`)",
        )
        .map(PruneBefore::Offset)
    }
}

impl FromStr for SegmentRef {
    type Err = String;
    /// All digits (at most 20) name a segment by start offset; anything else is a path.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("a segment cannot be empty".to_string());
        }
        if text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit()) {
            return number(text, "a segment start offset").map(SegmentRef::Start);
        }
        Ok(SegmentRef::Path(PathBuf::from(text)))
    }
}

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::N(n) => write!(f, "{n}"),
            Count::All => f.write_str("all"),
        }
    }
}

/// How JSON output encodes payloads (`--payload`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum PayloadEncoding {
    /// `{"text": ...}` when the payload is printable UTF-8 (no control characters but tab,
    /// newline and carriage return), else `{"base64": ...}`.
    #[default]
    Auto,
    /// Always `{"text": ...}`; bytes that are not UTF-8 become U+FFFD.
    Text,
    /// Always `{"base64": ...}` (standard alphabet, padded).
    Base64,
    /// Always `{"hex": ...}` (lowercase, two digits a byte).
    Hex,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn count_words_and_numbers() {
        assert_eq!("all".parse(), Ok(Count::All));
        assert_eq!("ALL".parse(), Ok(Count::All));
        assert_eq!("7".parse(), Ok(Count::N(7)));
        assert!("-1".parse::<Count>().unwrap_err().contains("not a count"));
        assert!("some".parse::<Count>().is_err());
        assert_eq!(Count::All.to_string(), "all");
        assert_eq!(Count::N(3).to_string(), "3");
    }

    #[test]
    fn tail_from() {
        assert_eq!("beginning".parse(), Ok(TailFrom::Beginning));
        assert_eq!("earliest".parse(), Ok(TailFrom::Beginning));
        assert_eq!("End".parse(), Ok(TailFrom::End));
        assert_eq!("latest".parse(), Ok(TailFrom::End));
        assert_eq!("4096".parse(), Ok(TailFrom::Offset(4096)));
        let err = "start".parse::<TailFrom>().unwrap_err();
        assert!(err.contains("`earliest`/`beginning`"), "{err}");
    }

    #[test]
    fn positions() {
        assert_eq!("0".parse(), Ok(Position::Offset(0)));
        assert_eq!("+5".parse(), Ok(Position::Forward(5)));
        assert_eq!("-3".parse(), Ok(Position::Back(3)));
        assert_eq!("earliest".parse(), Ok(Position::Earliest));
        assert_eq!("beginning".parse(), Ok(Position::Earliest));
        assert_eq!("Latest".parse(), Ok(Position::Latest));
        assert_eq!("end".parse(), Ok(Position::Latest));
        assert!("+".parse::<Position>().is_err());
        assert!("--3".parse::<Position>().is_err());
        assert!("+-3".parse::<Position>().is_err());
        let err = "99999999999999999999".parse::<Position>().unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn prune_before() {
        assert_eq!("consumed".parse(), Ok(PruneBefore::Consumed));
        assert_eq!("1024".parse(), Ok(PruneBefore::Offset(1024)));
        assert!("+1".parse::<PruneBefore>().is_err());
    }

    #[test]
    fn segment_refs() {
        assert_eq!("4096".parse(), Ok(SegmentRef::Start(4096)));
        assert_eq!("00000000000000004096".parse(), Ok(SegmentRef::Start(4096)));
        assert_eq!(
            "store/00000000000000004096".parse(),
            Ok(SegmentRef::Path(PathBuf::from(
                "store/00000000000000004096"
            )))
        );
        assert_eq!(
            "000000000000000000001".parse(),
            Ok(SegmentRef::Path(PathBuf::from("000000000000000000001")))
        );
        assert!("99999999999999999999".parse::<SegmentRef>().is_err());
        assert!("".parse::<SegmentRef>().is_err());
    }
}
