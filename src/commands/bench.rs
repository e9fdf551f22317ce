//! `mfq bench`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq bench`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
