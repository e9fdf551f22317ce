//! `mfq consume`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq consume`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::ConsumeArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
