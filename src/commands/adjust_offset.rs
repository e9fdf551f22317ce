//! `mfq adjust-offset`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq adjust-offset`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::AdjustOffsetArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
