//! `mfq tail`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq tail`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::TailArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
