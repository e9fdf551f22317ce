//! `mfq produce`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq produce`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::ProduceArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
