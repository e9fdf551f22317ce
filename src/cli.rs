//! The command line's syntax: the top-level `Cli`, the global options and the subcommand
//! list, as clap derive definitions with their help text.
//!
//! This module owns what can be typed and the help that explains it; it must not validate
//! values against a store, apply defaults that need the environment or a store (store
//! folder, segment size), or run anything. The resolve step turns these into domain values.

mod admin_args;
pub mod hints;
mod io_args;
#[cfg(test)]
mod tests;
mod tool_args;
pub mod values;

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use values::Format;

pub use admin_args::{AdjustOffsetArgs, DumpSegmentArgs, PruneArgs, RecoverArgs, StatArgs};
pub use io_args::{ConsumeArgs, ProduceArgs, TailArgs};
pub use tool_args::{BenchArgs, CompletionsArgs};

/// Text shown after the top-level help.
const EXIT_STATUSES: &str = "\
The store: every subcommand that works on one takes it as its first positional STORE, else
-s/--store, else $MFQ_STORE, else the current directory. Positions: `earliest` (or
`beginning`) is the oldest stored record, `latest` (or `end`) the end of the queue.

Examples:
  mfq produce --format stream ./store -m hello -m world
  mfq stat ./store
  mfq consume ./store -n all
  mfq tail -e ./store

Exit status:
  0  success
  1  error
  2  usage error, or parameters the store's files cannot tell (pass --record-size, ...)
  3  nothing available (consume found no message)
  4  corruption found or a repair is needed (dump-segment, recover --check)
  5  refused: a live process holds the store (use --force to override); prune: a live
     process held a segment, which stayed (--force does not override)
  6  prune deleted (or with --dry-run would delete) fewer segments than asked: a
     consumer or the producer still needs them (move it with adjust-offset, or --force)
stat --check follows the Nagios convention instead: 0 OK, 1 WARNING, 2 CRITICAL,
  3 UNKNOWN (an error: the check could not run)";

/// mfq: operate on persistent memory-mapped-file queue stores.
#[derive(Parser, Debug, Clone)]
#[command(name = "mfq", version, after_help = EXIT_STATUSES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after any subcommand.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Global options")]
pub struct GlobalOpts {
    /// The store folder (`-s ./store`). Default: $MFQ_STORE (an error when set but empty),
    /// else the current directory. A STORE positional wins over this.
    #[arg(short = 's', long = "store", value_name = "PATH", global = true)]
    pub store: Option<PathBuf>,

    /// Store format: `fixed` (every payload is --record-size bytes) or `stream`
    /// (length-prefixed payloads of any size). Default: read from an existing store.
    #[arg(long, value_enum, value_name = "FORMAT", global = true)]
    pub format: Option<Format>,

    /// Payload size in bytes of every record of a fixed-format store (`--record-size 64`).
    /// Default: read from an existing store.
    #[arg(long, value_name = "BYTES", global = true)]
    pub record_size: Option<u32>,

    /// Size of each segment file, in bytes or with a suffix: `4096`, `64MiB`, `1GiB`, `1TiB`
    /// (K/KiB = 1024, KB = 1000; case-insensitive). A new store defaults to 64 MiB; an existing
    /// store's is read from mfq.json or inferred from its files.
    #[arg(long, value_name = "SIZE", value_parser = crate::size::parse_size, global = true)]
    pub segment_size: Option<u64>,

    /// Print machine-readable JSON instead of text (stat, bench and reports; for consume and
    /// tail the same as --output json, unless --output names another layout, which wins); an
    /// error is then one JSON object on standard error.
    #[arg(long, global = true)]
    pub json: bool,
}

/// The subcommands.
#[derive(Subcommand, Debug, Clone)]
pub enum Command {
    /// Append messages to a store
    ///
    /// Reads messages from -m, --file or standard input and appends them to the store,
    /// creating it when it does not exist yet.
    ///
    /// Examples:
    ///   mfq produce ./store -m hello -m world
    ///   seq 1000 | mfq produce ./store
    ///   mfq produce -s ./store --input raw --file payload.bin
    #[command(verbatim_doc_comment)]
    Produce(ProduceArgs),

    /// Take messages from a store and advance the consumer offset
    ///
    /// Prints up to -n messages and moves the consumer past them (not with --peek).
    /// Exits with status 3 when no message is available.
    ///
    /// Examples:
    ///   mfq consume ./store
    ///   mfq consume -n all --output json
    ///   mfq consume --consumer reports --wait 10s
    #[command(verbatim_doc_comment)]
    Consume(ConsumeArgs),

    /// Follow a store, printing records as they are appended
    ///
    /// Does not move any consumer offset. Starts at the end of the queue and runs until
    /// interrupted; with -e it reads what is there from the earliest record and stops at
    /// the end of the queue (like `kcat -C -e`).
    ///
    /// Examples:
    ///   mfq tail ./store
    ///   mfq tail -e --output json ./store
    ///   mfq tail -n 10 -e ./store
    ///   mfq tail --from earliest --output json
    #[command(verbatim_doc_comment)]
    Tail(TailArgs),

    /// Show a store's format, offsets, consumers and segments
    ///
    /// Examples:
    ///   mfq stat ./store
    ///   mfq stat --json
    #[command(verbatim_doc_comment)]
    Stat(StatArgs),

    /// Print the records of one segment file and check them
    ///
    /// The segment is SEGMENT (a start offset, a 20-digit name or a file path), or the one
    /// holding --offset N, which also starts the dump at the record at or containing N.
    /// With one argument, a folder is the STORE and anything else the SEGMENT.
    /// Exit status: 0 when the segment is sound, 4 when corruption was found, 1 on error.
    ///
    /// Examples:
    ///   mfq dump-segment ./store 0 --hex --limit 5
    ///   mfq dump-segment ./store --offset 100 --limit 3
    ///   mfq dump-segment ./store/commitlog/00000000000000000000
    #[command(
        verbatim_doc_comment,
        override_usage = "mfq dump-segment [OPTIONS] [STORE] [SEGMENT] [--offset <N>]"
    )]
    DumpSegment(DumpSegmentArgs),

    /// Move the producer offset or a consumer offset; create or delete a named consumer
    ///
    /// The words are read from the end: the last is POSITION (none with --delete), the one
    /// before it TARGET, and a first one left over is the STORE. So `TARGET POSITION` uses
    /// -s/--store, $MFQ_STORE or the current directory; `STORE TARGET POSITION` names it.
    /// Prints the store it changed. Refuses with exit status 5 while a live process holds
    /// the file, unless --force.
    ///
    /// Examples:
    ///   mfq adjust-offset ./store consumer +1
    ///   mfq adjust-offset ./store reports -3 --dry-run
    ///   mfq adjust-offset ./store audit earliest --create
    ///   mfq adjust-offset consumer latest
    ///   mfq adjust-offset ./store reports +1000 --clamp
    ///   mfq adjust-offset ./store reports --delete
    #[command(
        verbatim_doc_comment,
        override_usage = "mfq adjust-offset [OPTIONS] [STORE] <TARGET> <POSITION>\n       \
                          mfq adjust-offset [OPTIONS] [STORE] <TARGET> --delete"
    )]
    AdjustOffset(AdjustOffsetArgs),

    /// Delete segment files that hold only records before an offset
    ///
    /// Never deletes past the slowest consumer or the producer's segment without --force,
    /// and never deletes a segment a live process holds open.
    ///
    /// Examples:
    ///   mfq prune --before 4096
    ///   mfq prune ./store --before consumed --dry-run
    #[command(verbatim_doc_comment)]
    Prune(PruneArgs),

    /// Check a store and repair torn writes and damaged offset files
    ///
    /// With --check, changes nothing and exits 0 when the store is sound, 4 when a
    /// repair is needed. Refuses with exit status 5 while a live process holds a
    /// file the repair must change, unless --force.
    ///
    /// Examples:
    ///   mfq recover --check ./store
    ///   mfq recover ./store --dry-run
    ///   mfq recover ./store --save-to /tmp/mfq-saved
    #[command(verbatim_doc_comment)]
    Recover(RecoverArgs),

    /// Measure produce and consume throughput
    ///
    /// Uses the global --format, --record-size and --segment-size for the stores it
    /// creates, and prints a table (or JSON with --json).
    ///
    /// Examples:
    ///   mfq bench --quick
    ///   mfq bench /mnt/fast --count 1000000 --size 256 --processes 2
    ///   mfq bench /var/lib/queues --only durable --flush-every 100
    #[command(verbatim_doc_comment)]
    Bench(BenchArgs),

    /// Print a shell completion script
    ///
    /// Examples:
    ///   mfq completions bash > ~/.local/share/bash-completion/completions/mfq
    ///   mfq completions zsh > ~/.zfunc/_mfq
    ///   mfq completions fish > ~/.config/fish/completions/mfq.fish
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
}

/// The clap command for `Cli`, for completions and help generation.
pub fn command() -> clap::Command {
    Cli::command()
}
