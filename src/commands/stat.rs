//! `mfq stat`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq stat`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::StatArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
