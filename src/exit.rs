//! The documented exit statuses of `mfq` and how an error picks one.
//!
//! This module owns the status numbers and the `Exit` error marker that carries one through
//! `anyhow`; it must not print anything or decide what a command's outcome is.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// An exit status of the `mfq` process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: the command did what was asked.
    Success = 0,
    /// 1: an error.
    Error = 1,
    /// 2: the command line could not be parsed (clap exits with this itself).
    Usage = 2,
    /// 3: `consume` found no message.
    NothingAvailable = 3,
    /// 4: corruption found (`dump-segment`) or a repair needed (`recover --check`).
    Corruption = 4,
    /// 5: refused because a live process holds the store and `--force` was not given (or,
    /// for `prune`, a live process held a segment it was to delete, which `--force` does not
    /// override).
    StoreBusy = 5,
    /// 6: `prune` deleted (or, with `--dry-run`, would delete) fewer segments than asked
    /// because a consumer or the producer still needs them (`--force` overrides).
    Incomplete = 6,
    /// `stat --check`, Nagios convention: 1 = WARNING.
    CheckWarning,
    /// `stat --check`, Nagios convention: 2 = CRITICAL.
    CheckCritical,
    /// `stat --check`, Nagios convention: 3 = UNKNOWN (the check could not run: an error).
    CheckUnknown,
}

impl ExitStatus {
    /// The number the process exits with.
    pub const fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Usage => 2,
            ExitStatus::NothingAvailable => 3,
            ExitStatus::Corruption => 4,
            ExitStatus::StoreBusy => 5,
            ExitStatus::Incomplete => 6,
            ExitStatus::CheckWarning => 1,
            ExitStatus::CheckCritical => 2,
            ExitStatus::CheckUnknown => 3,
        }
    }

    /// A short lowercase description, used when an `Exit` carries no message.
    pub const fn describe(self) -> &'static str {
        match self {
            ExitStatus::Success => "success",
            ExitStatus::Error => "error",
            ExitStatus::Usage => "usage error",
            ExitStatus::NothingAvailable => "nothing available",
            ExitStatus::Corruption => "corruption found",
            ExitStatus::StoreBusy => "a live process holds the store (use --force to override)",
            ExitStatus::Incomplete => "deleted fewer segments than asked",
            ExitStatus::CheckWarning => "warning",
            ExitStatus::CheckCritical => "critical",
            ExitStatus::CheckUnknown => "unknown",
        }
    }
}

/// An error that ends the process with a chosen status.
///
/// `Exit::new(ExitStatus::StoreBusy, "...")` prints `mfq: ...` and exits 5;
/// `Exit::silent(ExitStatus::NothingAvailable)` exits 3 and prints nothing. Return either
/// through `anyhow` (`return Err(exit.into())` or `anyhow::bail!(exit)`); context added on
/// top is kept and printed.
#[derive(Debug)]
pub struct Exit {
    status: ExitStatus,
    message: Option<String>,
}

impl Exit {
    /// Exits with `status` after printing `mfq: <message>` (plus any context above it).
    pub fn new(status: ExitStatus, message: impl Into<String>) -> Self {
        Exit {
            status,
            message: Some(message.into()),
        }
    }

    /// Exits with `status` without printing anything, even under added context.
    pub fn silent(status: ExitStatus) -> Self {
        Exit {
            status,
            message: None,
        }
    }

    /// The status this error exits with.
    pub fn status(&self) -> ExitStatus {
        self.status
    }

    /// Whether nothing should be printed for this error.
    pub fn is_silent(&self) -> bool {
        self.message.is_none()
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message.as_deref().unwrap_or(self.status.describe()))
    }
}

impl StdError for Exit {}

/// The first `Exit` marker in the error's chain, if any.
pub fn exit_marker(err: &anyhow::Error) -> Option<&Exit> {
    err.chain().find_map(|e| e.downcast_ref::<Exit>())
}

/// Whether the error is a write to a closed pipe (`mfq ... | head`), which ends quietly.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// The process exit code for an error returned by a command: the `Exit` marker's status,
/// 0 for a closed pipe, otherwise 1.
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    let locked = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<mfq::queue::Error>(),
            Some(mfq::queue::Error::Locked { .. })
        )
    });
    let repair_needed = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<mfq::queue::Error>(),
            Some(mfq::queue::Error::ConfirmedLoss { .. })
        )
    });
    // Parameters the files cannot tell (ambiguous or missing) must be given: a usage error.
    let params_needed = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<mfq::queue::Error>(),
            Some(mfq::queue::Error::ParamsUnknown { .. })
        )
    });
    if let Some(exit) = exit_marker(err) {
        exit.status().code()
    } else if params_needed {
        ExitStatus::Usage.code()
    } else if repair_needed {
        ExitStatus::Corruption.code()
    } else if locked {
        ExitStatus::StoreBusy.code()
    } else if is_broken_pipe(err) {
        ExitStatus::Success.code()
    } else {
        ExitStatus::Error.code()
    }
}

/// Whether `main` should print the error: not for silent exits or closed pipes.
pub fn should_print(err: &anyhow::Error) -> bool {
    match exit_marker(err) {
        Some(exit) => !exit.is_silent(),
        None => !is_broken_pipe(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn codes_are_the_documented_numbers() {
        let all = [
            (ExitStatus::Success, 0),
            (ExitStatus::Error, 1),
            (ExitStatus::Usage, 2),
            (ExitStatus::NothingAvailable, 3),
            (ExitStatus::Corruption, 4),
            (ExitStatus::StoreBusy, 5),
            (ExitStatus::Incomplete, 6),
            (ExitStatus::CheckWarning, 1),
            (ExitStatus::CheckCritical, 2),
            (ExitStatus::CheckUnknown, 3),
        ];
        for (status, code) in all {
            assert_eq!(status.code(), code, "{status:?}");
        }
    }

    #[test]
    fn marker_survives_context() {
        let err = anyhow::Error::new(Exit::new(ExitStatus::StoreBusy, "pid 42 holds it"))
            .context("cannot prune ./store");
        assert_eq!(exit_code_for(&err), 5);
        assert_eq!(format!("{err:#}"), "cannot prune ./store: pid 42 holds it");
        assert!(should_print(&err));
    }

    #[test]
    fn silent_exit_prints_nothing() {
        let err: anyhow::Error = Exit::silent(ExitStatus::NothingAvailable).into();
        assert_eq!(exit_code_for(&err), 3);
        assert!(!should_print(&err));
        assert_eq!(err.to_string(), "nothing available");
        let wrapped = err.context("consume ./store");
        assert_eq!(exit_code_for(&wrapped), 3);
        assert!(!should_print(&wrapped));
    }

    #[test]
    fn broken_pipe_is_quiet_success() {
        let io = io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed");
        let err = Err::<(), _>(io).context("writing record 7").unwrap_err();
        assert_eq!(exit_code_for(&err), 0);
        assert!(!should_print(&err));
    }

    #[test]
    fn other_errors_exit_1() {
        let io = io::Error::new(io::ErrorKind::NotFound, "no such file");
        let err = anyhow::Error::new(io).context("opening ./store");
        assert_eq!(exit_code_for(&err), 1);
        assert!(should_print(&err));
        assert_eq!(exit_code_for(&anyhow::anyhow!("plain")), 1);
    }
}
