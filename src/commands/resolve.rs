//! The resolve step shared by the subcommands: turns the global options and a positional
//! store argument into domain values (the store path, a parameter request, an opened store).
//!
//! This module owns defaults that depend on the environment (the current directory); it must
//! not print or run a subcommand.

use std::path::{Path, PathBuf};

use anyhow::Context;
use mfq::queue::{self, ParamsRequest, Store};

use crate::cli::values::{self, OutputMode};
use crate::cli::GlobalOpts;

/// The store folder: the positional argument, else `-s/--store` (or `MFQ_STORE`), else `.`.
pub fn store_path(global: &GlobalOpts, positional: Option<&PathBuf>) -> PathBuf {
    positional
        .or(global.store.as_ref())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The parameters the command line asks for.
pub fn params_request(global: &GlobalOpts) -> ParamsRequest {
    ParamsRequest {
        format: global.format.map(|f| match f {
            values::Format::Fixed => queue::Format::Fixed,
            values::Format::Stream => queue::Format::Stream,
        }),
        record_size: global.record_size,
        segment_size: global.segment_size,
    }
}

/// Opens an existing store (never creates one).
pub fn open_store(global: &GlobalOpts, positional: Option<&PathBuf>) -> anyhow::Result<Store> {
    let path = store_path(global, positional);
    open_at(&path, &params_request(global))
}

/// Opens the store at `path` with a parameter request.
pub fn open_at(path: &Path, req: &ParamsRequest) -> anyhow::Result<Store> {
    Store::open(path, req).with_context(|| format!("cannot open store {}", path.display()))
}

/// The record layout of `consume` and `tail`: `--output` when given, else JSON lines with the
/// global `--json`, else text.
pub fn output_mode(global: &GlobalOpts, explicit: Option<OutputMode>) -> OutputMode {
    explicit.unwrap_or(if global.json {
        OutputMode::Json
    } else {
        OutputMode::Text
    })
}

/// Parses a consumer name (`None`: the default consumer).
pub fn consumer_id(name: Option<&str>) -> anyhow::Result<queue::ConsumerId> {
    Ok(match name {
        None => queue::ConsumerId::Default,
        Some(n) => queue::ConsumerId::parse(n)?,
    })
}
