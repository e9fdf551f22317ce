//! `mfq dump-segment`.
//!
//! TODO(helper): implement; this file is owned by one helper.

use crate::cli::GlobalOpts;

/// Runs `mfq dump-segment`.
pub fn run(_global: &GlobalOpts, _args: &crate::cli::DumpSegmentArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
