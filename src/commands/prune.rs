//! `mfq prune`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq prune`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::PruneArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
