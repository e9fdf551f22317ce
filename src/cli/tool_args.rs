//! Arguments of the tooling subcommands: `bench` and `completions`.
//!
//! This module owns their syntax only; it must not create stores, run benchmarks or apply
//! the `--quick` defaults (the resolve step does that).

use std::path::PathBuf;

use clap::Args;

use super::values::Workload;

/// `mfq bench [DIR]`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// Folder to create the benchmark stores in (inside a new `mfq-bench-<pid>` folder, removed
    /// afterwards). Default: the current directory.
    #[arg(value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Messages to produce and consume per run. Default: 10000000 (100000 with --quick).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,

    /// Payload size of each message in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64)]
    pub size: u32,

    /// Flush after every N messages (see `mfq produce --help`).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub flush_every: u64,

    /// 2 (default): also run the two-process workloads (end-to-end throughput with a
    /// spinning consumer process, one-way latency, blocked-consumer wake-up latency);
    /// 1: only the single-process workloads.
    #[arg(long, value_name = "1|2", default_value_t = 2,
          value_parser = clap::value_parser!(u8).range(1..=2))]
    pub processes: u8,

    /// How many times to repeat the measurement; the report shows each run and the median.
    /// Default: 3 (1 with --quick).
    #[arg(long, value_name = "N")]
    pub runs: Option<u32>,

    /// A quick smoke run: 100000 messages, 1 run, unless --count or --runs say otherwise.
    #[arg(long)]
    pub quick: bool,

    /// Run only these workloads, comma-separated (`--only durable`, `--only write,read`).
    /// The memcpy limits always run. Default: all (the two-process ones as --processes says).
    #[arg(long, value_enum, value_name = "WORKLOAD", value_delimiter = ',')]
    pub only: Vec<Workload>,
}

/// `mfq completions SHELL`.
#[derive(Args, Debug, Clone)]
pub struct CompletionsArgs {
    /// The shell to generate a completion script for.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}
