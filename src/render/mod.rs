//! Engine-independent output helpers: payload encoding and previews, hex dumps, tables,
//! ages, progress bars, and whether to use colour.
//!
//! This module owns how things look; it must not read stores, parse the command line or
//! decide exit statuses.

pub mod duration;
pub mod hex;
pub mod json;
pub mod payload;
pub mod progress;
pub mod table;

use std::ffi::OsStr;
use std::io::IsTerminal;

/// A standard output stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    /// Whether the stream is a terminal.
    pub fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// Whether to colour output written to `stream`: it is a terminal and `NO_COLOR` is unset
/// or empty.
pub fn color_enabled(stream: Stream) -> bool {
    color_allowed(
        stream.is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// The rule behind `color_enabled`, without touching the process state.
fn color_allowed(is_terminal: bool, no_color: Option<&OsStr>) -> bool {
    is_terminal && no_color.map_or(true, OsStr::is_empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_rule() {
        assert!(color_allowed(true, None));
        assert!(color_allowed(true, Some(OsStr::new(""))));
        assert!(!color_allowed(true, Some(OsStr::new("1"))));
        assert!(!color_allowed(false, None));
    }
}
