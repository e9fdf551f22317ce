//! Arguments of the subcommands that inspect or repair a store: `stat`, `dump-segment`,
//! `adjust-offset`, `prune` and `recover`.
//!
//! This module owns their syntax only; it must not validate values against a store, open
//! files or decide what a position means for a given store (the resolve step does that).

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::values::{PayloadEncoding, Position, PruneBefore, SegmentRef};

/// `mfq stat [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct StatArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,
}

/// `mfq dump-segment [SEGMENT]`.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("which").required(true).args(["segment", "offset"])))]
pub struct DumpSegmentArgs {
    /// The segment: a file path, its 20-digit file name (`00000000000000004096`) or its start
    /// offset as a plain number (`4096`). Names and numbers are looked up in `-s/--store`.
    #[arg(value_name = "SEGMENT")]
    pub segment: Option<SegmentRef>,

    /// Dump the segment of `-s/--store` that holds this queue offset instead of naming one.
    #[arg(long, value_name = "N", conflicts_with = "segment")]
    pub offset: Option<u64>,

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

/// `mfq adjust-offset TARGET POSITION`.
#[derive(Args, Debug, Clone)]
pub struct AdjustOffsetArgs {
    /// Which offset to move: `producer`, `consumer` (the main consumer) or a consumer name.
    #[arg(value_name = "TARGET")]
    pub target: String,

    /// Where to: an offset (`4096`), `earliest`, `latest`, `+N` (N records forward) or `-N`
    /// (N records back).
    #[arg(value_name = "POSITION", allow_negative_numbers = true)]
    pub position: Position,

    /// Print the old and new offsets without changing anything.
    #[arg(long)]
    pub dry_run: bool,

    /// Change the offset even while a live process holds its file, and let the producer
    /// move back behind records or a consumer. Default: refuse (exit status 5 when a live
    /// process holds the file).
    #[arg(long)]
    pub force: bool,
}

/// `mfq prune [STORE] --before OFFSET|consumed`.
#[derive(Args, Debug, Clone)]
pub struct PruneArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// Delete segment files whose records all lie before this offset, or before `consumed`
    /// (the slowest consumer's offset). Required.
    #[arg(long, value_name = "OFFSET|consumed", required = true)]
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
