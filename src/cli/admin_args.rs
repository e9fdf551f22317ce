//! Arguments of the subcommands that inspect or repair a store: `stat`, `dump-segment`,
//! `adjust-offset`, `prune` and `recover`.
//!
//! This module owns their syntax only; it must not validate values against a store, open
//! files or decide what a position means for a given store (the resolve step does that).

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::values::{DumpAt, PayloadEncoding, Position, PruneBefore, SegmentRef};

/// `mfq stat [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct StatArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// Monitoring check (Nagios convention): print one line `OK: ...`, `WARNING: ...` or
    /// `CRITICAL: ...` and exit 0, 1 or 2; an error exits 3 (UNKNOWN). A store that needs a
    /// repair is critical; so is a consumer past a `--max-*` limit, and one past a `--warn-*`
    /// limit is a warning.
    #[arg(long)]
    pub check: bool,

    /// Check only this consumer (`consumer` for the default one). Default: every consumer.
    #[arg(long, value_name = "NAME", requires = "check")]
    pub consumer: Option<String>,

    /// Critical when a consumer lags more than N messages.
    #[arg(long, value_name = "N", requires = "check")]
    pub max_lag_messages: Option<u64>,

    /// Warning when a consumer lags more than N messages.
    #[arg(long, value_name = "N", requires = "check")]
    pub warn_lag_messages: Option<u64>,

    /// Critical when a consumer lags more than SIZE bytes (`64MiB`).
    #[arg(long, value_name = "SIZE", value_parser = crate::size::parse_size, requires = "check")]
    pub max_lag_bytes: Option<u64>,

    /// Warning when a consumer lags more than SIZE bytes.
    #[arg(long, value_name = "SIZE", value_parser = crate::size::parse_size, requires = "check")]
    pub warn_lag_bytes: Option<u64>,

    /// Critical when a consumer with lag has not committed for longer than this (`5m`): the
    /// time since its offset file last changed.
    #[arg(long, value_name = "DURATION", requires = "check")]
    pub max_idle: Option<humantime::Duration>,

    /// Warning when a consumer with lag has not committed for longer than this.
    #[arg(long, value_name = "DURATION", requires = "check")]
    pub warn_idle: Option<humantime::Duration>,
}

/// `mfq dump-segment [STORE] [SEGMENT] [--offset N]`.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("which").required(true).multiple(true).args(["first", "offset"])))]
pub struct DumpSegmentArgs {
    /// The store folder. With one argument, a folder is the STORE and anything else the
    /// SEGMENT. Default: -s/--store, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub first: Option<PathBuf>,

    /// The segment: its start offset as a plain number (`4096`) or 20-digit file name
    /// (`00000000000000004096`), looked up in the store, or a segment file's path (its store
    /// is the folder above `commitlog/`). Default: the segment holding --offset.
    #[arg(value_name = "SEGMENT")]
    pub segment: Option<SegmentRef>,

    /// Start at the record at or containing this queue offset (--limit counts from there), in
    /// the segment holding it (or in SEGMENT, which must hold it); `earliest` (or `beginning`)
    /// is the oldest stored record, `latest` (or `end`) the newest segment from its start.
    /// Default: the segment's start.
    #[arg(long, value_name = "N|earliest|latest")]
    pub offset: Option<DumpAt>,

    /// Also print each record's bytes as a hex dump. Default: a one-line preview per record.
    #[arg(long)]
    pub hex: bool,

    /// Show at most this many records. Default: every record in the segment.
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,

    /// How --json encodes payloads: `auto`, `text`, `base64` or `hex` (see `mfq consume
    /// --help`). Only with --json. Default: `auto`.
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub payload: Option<PayloadEncoding>,
}

/// `mfq adjust-offset [STORE] TARGET POSITION`, or `[STORE] TARGET --delete`.
///
/// The positionals are read from the end: the last is POSITION (none with --delete), the
/// one before it TARGET, and a first one left over is the STORE. Two words are thus TARGET
/// POSITION (the store from -s/--store, $MFQ_STORE or the current directory), three are
/// STORE TARGET POSITION.
#[derive(Args, Debug, Clone)]
pub struct AdjustOffsetArgs {
    /// The store folder, when three words are given (two with --delete).
    /// Default: -s/--store, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE", allow_negative_numbers = true)]
    pub first: Option<PathBuf>,

    /// Which offset to move: `producer`, `consumer` (the main consumer) or a consumer name.
    #[arg(value_name = "TARGET", allow_negative_numbers = true)]
    pub second: Option<String>,

    /// Where to: an offset (`4096`), `earliest` (or `beginning`: the oldest stored record),
    /// `latest` (or `end`: after the newest record), `+N` (N records forward) or `-N` (N
    /// records back). A move past either end is refused, naming how far it can go (see
    /// --clamp).
    #[arg(value_name = "POSITION", allow_negative_numbers = true)]
    pub third: Option<String>,

    /// Print the old and new offsets without changing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Change the offset even while a live process holds its file, and let the producer
    /// move back behind records or a consumer. Default: refuse (exit status 5 when a live
    /// process holds the file).
    #[arg(long)]
    pub force: bool,

    /// Create the named consumer TARGET when it does not exist yet, at POSITION (an offset,
    /// `earliest` or `latest`). Default: an unknown consumer name is an error.
    #[arg(long, conflicts_with = "delete")]
    pub create: bool,

    /// Delete the named consumer TARGET (its offset file; no POSITION). The default consumer
    /// and the producer cannot be deleted.
    #[arg(long, conflicts_with = "clamp")]
    pub delete: bool,

    /// Stop a `+N` or `-N` move at the end of the records, or at the earliest record, when it
    /// would go past it. Default: refuse such a move.
    #[arg(long)]
    pub clamp: bool,
}

/// The positionals of `adjust-offset`, sorted out (see [`AdjustOffsetArgs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdjustWords {
    /// The STORE positional, when given.
    pub store: Option<PathBuf>,
    /// TARGET.
    pub target: String,
    /// POSITION (None with --delete).
    pub position: Option<Position>,
}

impl AdjustOffsetArgs {
    /// The positionals read from the end: POSITION (unless --delete), TARGET, then STORE.
    /// An error names the forms that are accepted.
    pub fn words(&self) -> Result<AdjustWords, String> {
        let first = self
            .first
            .as_ref()
            .map(|p| p.to_string_lossy().into_owned());
        let words: Vec<String> = [first, self.second.clone(), self.third.clone()]
            .into_iter()
            .flatten()
            .collect();
        let (usage, wanted) = match self.delete {
            true => ("[STORE] TARGET --delete", 1..=2),
            false => ("[STORE] TARGET POSITION", 2..=3),
        };
        if !wanted.contains(&words.len()) {
            return Err(format!(
                "adjust-offset takes {usage} ({} or {} words), got {}{}",
                wanted.start(),
                wanted.end(),
                words.len(),
                match words.is_empty() {
                    true => String::new(),
                    false => format!(": {}", words.join(" ")),
                }
            ));
        }
        let mut rest = words.len();
        let position = match self.delete {
            true => None,
            false => {
                rest -= 1;
                Some(words[rest].parse::<Position>().map_err(|e| {
                    format!("invalid value '{}' for '<POSITION>': {e}", words[rest])
                })?)
            }
        };
        rest -= 1;
        let target = words[rest].clone();
        // The store keeps its exact bytes (a path need not be UTF-8).
        let store = (rest == 1).then(|| self.first.clone()).flatten();
        Ok(AdjustWords {
            store,
            target,
            position,
        })
    }
}

/// `mfq prune [STORE] --before OFFSET|consumed`.
#[derive(Args, Debug, Clone)]
pub struct PruneArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// Delete segment files whose records all lie before this offset, or before `consumed`
    /// (the slowest consumer's offset), `latest` (or `end`: the end of the queue, as far as
    /// consumers and the producer allow) or `earliest` (or `beginning`: deletes nothing).
    /// Required.
    #[arg(long, value_name = "OFFSET|consumed|latest", required = true)]
    pub before: PruneBefore,

    /// List the segment files that would be deleted without deleting them.
    #[arg(long)]
    pub dry_run: bool,

    /// Also delete segments the slowest consumer or the producer still needs. Segments a
    /// live process holds open are never deleted (the first one stops the prune, so no hole
    /// is left; a note on stderr says which), and the last segment always stays.
    #[arg(long)]
    pub force: bool,
}

/// `mfq recover [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct RecoverArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// Print the repairs that would be made without making them.
    #[arg(long)]
    pub dry_run: bool,

    /// Only check: exit 0 when the store is sound, 4 when it needs a repair. Changes nothing.
    #[arg(long)]
    pub check: bool,

    /// Save the bytes a repair removes (stale or torn records, unreachable segments) into
    /// this folder first (`--save-to /tmp/mfq-saved`).
    /// Default: `<store>/mfq-salvage/<unix-seconds>/`, named in the output.
    #[arg(long, value_name = "DIR", conflicts_with = "no_save")]
    pub save_to: Option<PathBuf>,

    /// Do not keep a copy of the bytes a repair removes.
    #[arg(long)]
    pub no_save: bool,

    /// Repair even while a live process holds the store (default: refuse with exit status 5),
    /// and remove damaged or unreachable bytes below the confirmed offset, which `--dry-run`
    /// lists (default: refuse with exit status 4 and change nothing). Removed bytes are still
    /// saved aside unless `--no-save`.
    #[arg(long)]
    pub force: bool,
}
