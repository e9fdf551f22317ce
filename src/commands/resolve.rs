//! The resolve step shared by the subcommands: turns the global options and a positional
//! store argument into domain values (the store path, a parameter request, an opened store).
//!
//! This module owns defaults that depend on the environment (`MFQ_STORE`, the current
//! directory) and the words reserved for consumer names; it must not print or run a
//! subcommand.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use mfq::queue::{self, ParamsRequest, Store};

use crate::cli::values::{self, OutputMode, SegmentRef};
use crate::cli::{Command, GlobalOpts};
use crate::exit::{Exit, ExitStatus};

/// The environment variable that names the store when no argument does.
pub const STORE_ENV: &str = "MFQ_STORE";

/// Fills `-s/--store` from `MFQ_STORE` when the command works on a store and `-s` was not
/// given. `MFQ_STORE` set but empty is a usage error (status 2) naming the variable, unless
/// the command line names the store itself.
pub fn store_from_env(global: &mut GlobalOpts, command: &Command) -> anyhow::Result<()> {
    store_from(global, command, std::env::var_os(STORE_ENV))
}

fn store_from(
    global: &mut GlobalOpts,
    command: &Command,
    env: Option<OsString>,
) -> anyhow::Result<()> {
    let uses_store = !matches!(command, Command::Bench(_) | Command::Completions(_));
    if !uses_store || global.store.is_some() {
        return Ok(());
    }
    match env {
        None => Ok(()),
        Some(v) if v.is_empty() => match names_store(command) {
            true => Ok(()),
            false => Err(Exit::new(
                ExitStatus::Usage,
                format!("{STORE_ENV} is set but empty; unset it or give a store path"),
            )
            .into()),
        },
        Some(v) => {
            global.store = Some(PathBuf::from(v));
            Ok(())
        }
    }
}

/// Whether the command line names the store in a positional (a segment file's path names
/// its store too).
fn names_store(command: &Command) -> bool {
    match command {
        Command::Produce(a) => a.store_dir.is_some(),
        Command::Consume(a) => a.store_dir.is_some(),
        Command::Tail(a) => a.store_dir.is_some(),
        Command::Stat(a) => a.store_dir.is_some(),
        Command::Prune(a) => a.store_dir.is_some(),
        Command::Recover(a) => a.store_dir.is_some(),
        Command::AdjustOffset(a) => a.words().is_ok_and(|w| w.store.is_some()),
        Command::DumpSegment(a) => {
            a.segment.is_some()
                || a.first.as_ref().is_some_and(|f| {
                    !matches!(f.to_str().map(str::parse), Some(Ok(SegmentRef::Start(_))))
                })
        }
        Command::Bench(_) | Command::Completions(_) => false,
    }
}

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

/// Parses a consumer name (`None`: the default consumer). A name that would stand for
/// another offset file, or that names an offset file rather than a consumer, is refused
/// saying why.
pub fn consumer_id(name: Option<&str>) -> anyhow::Result<queue::ConsumerId> {
    let Some(n) = name else {
        return Ok(queue::ConsumerId::Default);
    };
    if let Some(why) = reserved(n) {
        anyhow::bail!("{n:?} cannot name a consumer: {why}");
    }
    Ok(queue::ConsumerId::parse(n)?)
}

/// Why a consumer name is reserved, if it is.
fn reserved(name: &str) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    if lower == "confirmed" {
        return Some(
            "`confirmed` names the producer's confirmed offset in what mfq prints".to_string(),
        );
    }
    if ["earliest", "beginning", "latest", "end"].contains(&lower.as_str()) {
        return Some(format!(
            "`{lower}` is a position (adjust-offset takes `TARGET POSITION`)"
        ));
    }
    let file = lower.strip_suffix(".offset").unwrap_or(&lower);
    if file == "producer" || file.starts_with("producer.") {
        return Some(format!(
            "it is reserved for the producer's offset (offset/{file}.offset), which a \
             consumer must never share"
        ));
    }
    let bare = name.strip_suffix(".offset").unwrap_or(name);
    match bare.strip_prefix("consumer.") {
        Some(inner) if queue::ConsumerId::parse(inner).is_ok() => Some(format!(
            "offset/consumer.{inner}.offset is the consumer named {inner}; use that name"
        )),
        _ if bare == "consumer" && name != bare => {
            Some("offset/consumer.offset is the default consumer; name it `consumer`".to_string())
        }
        _ => None,
    }
}

/// A store's path as mutating commands name it: absolute, so that a stale `MFQ_STORE` or
/// current directory is seen at once.
pub fn shown_path(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// After a command that writes opened `store` with parameters given on the command line
/// (`global`):
/// when the files alone do not show them (a .NET fixed store that fits several record sizes),
/// records them in `mfq.json`, as `recover` does, so that the next command needs no options
/// (the .NET libraries ignore the file). Says so on standard error.
pub fn remember_params(global: &GlobalOpts, store: &Store) -> anyhow::Result<()> {
    // Without options the parameters came from mfq.json or the files, which show them: no
    // second inference on every start.
    if params_request(global) == ParamsRequest::default() {
        return Ok(());
    }
    let recorded = queue::recovery::keep_params_known(
        store.layout(),
        store.params(),
        store.params_source(),
    )
    .with_context(|| format!("cannot record the parameters of {}", store.path().display()))?;
    if let Some(p) = recorded {
        eprintln!(
            "mfq: recorded the parameters in {}: the files alone do not show them",
            p.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn cli(args: &[&str]) -> crate::cli::Cli {
        crate::cli::Cli::try_parse_from(std::iter::once("mfq").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn an_empty_store_variable_is_an_error_unless_a_store_is_named() {
        let env = || Some(OsString::new());
        let mut c = cli(&["stat"]);
        let err = store_from(&mut c.global, &c.command, env()).unwrap_err();
        assert!(
            err.to_string().contains("MFQ_STORE is set but empty"),
            "{err}"
        );
        assert_eq!(crate::exit::exit_code_for(&err), 2);
        for named in [
            &["stat", "./s"][..],
            &["-s", "./s", "stat"],
            &["adjust-offset", "./s", "consumer", "0"],
            &["dump-segment", "./s/commitlog/00000000000000000000"],
            &["completions", "bash"],
        ] {
            let mut c = cli(named);
            store_from(&mut c.global, &c.command, env()).unwrap();
        }
        let mut c = cli(&["adjust-offset", "consumer", "0"]);
        assert!(store_from(&mut c.global, &c.command, env()).is_err());
        let mut c = cli(&["stat"]);
        store_from(&mut c.global, &c.command, Some("/q".into())).unwrap();
        assert_eq!(c.global.store, Some(PathBuf::from("/q")));
        let mut c = cli(&["-s", "/a", "stat"]);
        store_from(&mut c.global, &c.command, Some("/q".into())).unwrap();
        assert_eq!(c.global.store, Some(PathBuf::from("/a")));
    }

    #[test]
    fn reserved_consumer_names_say_why() {
        for (name, says) in [
            ("producer", "producer's offset"),
            ("producer.confirmed", "producer's offset"),
            ("PRODUCER", "producer's offset"),
            ("consumer.reports", "consumer named reports"),
            ("consumer.reports.offset", "consumer named reports"),
            ("consumer.offset", "default consumer"),
            ("confirmed", "confirmed offset"),
            ("latest", "is a position"),
            ("Beginning", "is a position"),
        ] {
            let err = consumer_id(Some(name)).unwrap_err().to_string();
            assert!(err.contains(says), "{name}: {err}");
            assert!(err.contains("cannot name a consumer"), "{name}: {err}");
        }
        assert_eq!(
            consumer_id(Some("consumer")).unwrap(),
            queue::ConsumerId::Default
        );
        assert_eq!(
            consumer_id(Some("reports")).unwrap(),
            queue::ConsumerId::Named("reports".into())
        );
        assert!(consumer_id(Some("a/b")).is_err());
    }
}
