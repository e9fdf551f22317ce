//! `mfq recover`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq recover`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::RecoverArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
