//! Arguments of the subcommands that move messages: `produce`, `consume` and `tail`.
//!
//! This module owns their syntax only; it must not validate values against a store, open
//! files or apply defaults that need the store (the resolve step does that).

use std::path::PathBuf;

use clap::Args;

use super::values::{Count, InputMode, OutputMode, PayloadEncoding, TailFrom};

/// `mfq produce [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct ProduceArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// A message to append; repeat for several (`-m one -m two`). With -m, no input is read.
    #[arg(short = 'm', long = "message", value_name = "TEXT")]
    pub messages: Vec<String>,

    /// How the input is split into messages: `lines` (one per line; the `\n` is dropped, every
    /// other byte kept, so an empty line is an empty message: see --allow-dotnet-hazards for
    /// stream stores; fixed stores refuse it), `raw` (fixed
    /// stores: the input cut into record-size messages, and nothing is written unless its
    /// length is a multiple of the record size; stream stores: the whole input is one message)
    /// or `length-prefixed` (each message preceded by its length as a 4-byte little-endian
    /// integer). A refused message stops the run; the messages before it stay written.
    #[arg(long, value_enum, value_name = "MODE", default_value_t = InputMode::Lines)]
    pub input: InputMode,

    /// Read the input from this file instead of standard input (`--file events.txt`).
    /// Default: standard input.
    #[arg(long, value_name = "PATH", conflicts_with = "messages")]
    pub file: Option<PathBuf>,

    /// Fixed-format stores only: pad messages shorter than the record size with zero bytes
    /// (or --pad-byte) instead of rejecting them. Default: shorter messages are an error.
    #[arg(long)]
    pub pad: bool,

    /// The byte value --pad fills with, 0-255 (`--pad --pad-byte 32` pads with spaces).
    #[arg(long, value_name = "N", default_value_t = 0, requires = "pad")]
    pub pad_byte: u8,

    /// Flush the written records to disk after every N messages; the end of input always
    /// flushes.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub flush_every: u64,

    /// Also flush when this much time has passed since the last flush, e.g. `500ms` or `2s`.
    /// Default: no time-based flushing.
    #[arg(long, value_name = "DURATION")]
    pub flush_interval: Option<humantime::Duration>,

    /// Stream stores without mfq.json (which a .NET reader may read): write empty messages and
    /// messages of 238 mod 256 bytes (238, 494, 750, ...) anyway. A .NET consumer never gets
    /// past them (it takes an empty record for one not yet written, and the low length byte
    /// 0xEE for a segment end); mfq's readers read them. Default: refuse them, writing
    /// nothing. Stores mfq created (with mfq.json) always take them.
    #[arg(long)]
    pub allow_dotnet_hazards: bool,
}

/// `mfq consume [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct ConsumeArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// How many messages to take: a number, or `all` for every message available now.
    #[arg(short = 'n', long, value_name = "N|all", default_value = "1")]
    pub count: Count,

    /// Read and advance this named consumer's offset (`--consumer reports`).
    /// Default: the store's main consumer.
    #[arg(long, value_name = "NAME")]
    pub consumer: Option<String>,

    /// Print the messages without advancing the consumer offset (and without creating the
    /// consumer's offset file). Without --peek, the offset moves only past messages that were
    /// written to standard output successfully: output goes out in batches of up to 4096
    /// messages, each committed after it is written, so a closed pipe may cause the last
    /// batch to be delivered again, never lost.
    #[arg(long)]
    pub peek: bool,

    /// Wait up to this long for each message that is not there yet (`--wait 30s`): for the
    /// first one, and with -n for each further one, so `-n all --wait 5s` stops once 5s pass
    /// without a new message. Default: take only what is there now; when that is nothing,
    /// exit with status 3 (printing nothing on standard output).
    #[arg(long, value_name = "DURATION")]
    pub wait: Option<humantime::Duration>,

    /// How to print messages: `text` (one per line: the payload as is when it is printable
    /// UTF-8, else with control characters and invalid bytes escaped), `raw` (payload bytes
    /// only, no separators), `hex` (a header line with the offset, then a hex dump; coloured
    /// only on a terminal without NO_COLOR) or `json` (one object per line: `v`, `offset`,
    /// `next_offset`, `record_size`, `payload_size` and `payload`, see --payload).
    /// Default: `text`, or `json` with the global --json.
    #[arg(long, value_enum, value_name = "MODE")]
    pub output: Option<OutputMode>,

    /// How JSON output encodes payloads: `auto` (`{"text": ...}` when the payload is UTF-8
    /// without control characters but tab, newline and carriage return, else
    /// `{"base64": ...}`), `text` (always text; bytes that are not UTF-8 become U+FFFD),
    /// `base64` or `hex`. Only with JSON output. Default: `auto`.
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub payload: Option<PayloadEncoding>,
}

/// `mfq tail [STORE]`.
#[derive(Args, Debug, Clone)]
pub struct TailArgs {
    /// The store folder. Default: `-s/--store`, else $MFQ_STORE, else the current directory.
    #[arg(value_name = "STORE")]
    pub store_dir: Option<PathBuf>,

    /// Show the last N records before following new ones (`-n 10`).
    #[arg(short = 'n', long, value_name = "N")]
    pub lines: Option<u64>,

    /// Start at this offset, at `earliest` (or `beginning`: the oldest stored record) or at
    /// `latest` (or `end`). Default: the end of the queue (after the last -n records); with
    /// -e and no -n, the earliest record.
    #[arg(long, value_name = "OFFSET|earliest|latest", conflicts_with = "lines")]
    pub from: Option<TailFrom>,

    /// Print what is stored, then exit (status 0) at the end of the queue instead of waiting
    /// for new records. Without --from or -n it starts at the earliest record (like
    /// `kcat -C -e`).
    #[arg(short = 'e', long)]
    pub exit_at_end: bool,

    /// How to print records: `text`, `raw`, `hex` or `json` (see `mfq consume --help`).
    /// Default: `text`, or `json` with the global --json.
    #[arg(long, value_enum, value_name = "MODE")]
    pub output: Option<OutputMode>,

    /// How JSON output encodes payloads: `auto`, `text`, `base64` or `hex` (see `mfq consume
    /// --help`). Only with JSON output. Default: `auto`.
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub payload: Option<PayloadEncoding>,
}
