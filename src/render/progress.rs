//! Progress bars on standard error.
//!
//! This module owns the progress bar look and when it is shown; it must not decide what
//! progress means for a command.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

const BAR_TEMPLATE: &str = "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, eta {eta})";
const SPINNER_TEMPLATE: &str = "{spinner} {msg} {human_pos} ({per_sec})";

/// A progress bar on standard error with `len` steps (a spinner when `None`), hidden when
/// standard error is not a terminal.
pub fn progress_bar(len: Option<u64>, message: &str) -> ProgressBar {
    build(len, message, std::io::stderr().is_terminal())
}

/// `progress_bar` with the visibility decided by the caller.
pub fn build(len: Option<u64>, message: &str, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(len) => (ProgressBar::new(len), BAR_TEMPLATE),
        None => (ProgressBar::new_spinner(), SPINNER_TEMPLATE),
    };
    let style = ProgressStyle::with_template(template)
        .expect("the progress templates are valid")
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        assert!(ProgressStyle::with_template(BAR_TEMPLATE).is_ok());
        assert!(ProgressStyle::with_template(SPINNER_TEMPLATE).is_ok());
    }

    #[test]
    fn invisible_bar_is_hidden() {
        assert!(build(Some(10), "x", false).is_hidden());
        let bar = build(Some(10), "writing", true);
        assert_eq!(bar.length(), Some(10));
        assert_eq!(bar.message(), "writing");
    }
}
