//! Progress bars on standard error.
//!
//! This module owns the progress bar look and when it is shown; it must not decide what
//! progress means for a command.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

const BAR_TEMPLATE: &str = "{msg} [{bar:30}] {human_pos}/{human_len} ({per_sec}, eta {eta})";
const SPINNER_TEMPLATE: &str = "{spinner} {msg} {human_pos} ({per_sec})";
const BYTES_TEMPLATE: &str =
    "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, eta {eta})";

/// How long work runs before its bar appears: shorter work shows none.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// What a long piece of work counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes (shown as KiB, MiB, ...).
    Bytes,
    /// Records, segments or other things, shown as numbers.
    Items,
}

/// A progress bar for work that reports `(done, total)` as it goes: drawn on standard error
/// once the work has run for about a second, and only when standard error is a terminal,
/// `NO_COLOR` is unset and the command prints no JSON ([`work_visible`]). Cleared when
/// dropped.
pub struct Work {
    bar: Option<ProgressBar>,
    started: Instant,
    shown: bool,
}

/// Whether a [`Work`] bar may be drawn: standard error is a terminal, `NO_COLOR` is unset or
/// empty, and the output is not JSON.
pub fn work_visible(json: bool) -> bool {
    !json && crate::render::color_enabled(crate::render::Stream::Stderr)
}

impl Work {
    /// A bar titled `message` counting `unit`, drawn only when `visible` (see
    /// [`work_visible`]).
    pub fn new(message: &str, unit: Unit, visible: bool) -> Work {
        let bar = visible.then(|| {
            let template = match unit {
                Unit::Bytes => BYTES_TEMPLATE,
                Unit::Items => BAR_TEMPLATE,
            };
            let style = ProgressStyle::with_template(template)
                .expect("the progress templates are valid")
                .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            bar.set_style(style);
            bar.set_message(message.to_string());
            bar
        });
        Work {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    /// Records that `done` of `total` are done.
    pub fn update(&mut self, done: u64, total: u64) {
        let Some(bar) = &self.bar else { return };
        bar.set_length(total);
        bar.set_position(done);
        if !self.shown && self.started.elapsed() >= SHOW_AFTER && done < total {
            self.shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Whether the bar is on the screen.
    pub fn is_shown(&self) -> bool {
        self.shown
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

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
        assert!(ProgressStyle::with_template(BYTES_TEMPLATE).is_ok());
    }

    #[test]
    fn work_bar_waits_a_second_and_never_shows_when_invisible() {
        let mut hidden = Work::new("scanning", Unit::Bytes, false);
        hidden.update(1, 10);
        assert!(hidden.bar.is_none() && !hidden.is_shown());
        let mut quick = Work::new("scanning", Unit::Bytes, true);
        quick.update(1, 10);
        assert!(!quick.is_shown(), "not before a second has passed");
        quick.started -= SHOW_AFTER;
        quick.update(10, 10);
        assert!(!quick.is_shown(), "not once the work is done");
        quick.update(2, 10);
        assert!(quick.is_shown());
        assert!(!work_visible(true), "never with --json");
    }

    #[test]
    fn invisible_bar_is_hidden() {
        assert!(build(Some(10), "x", false).is_hidden());
        let bar = build(Some(10), "writing", true);
        assert_eq!(bar.length(), Some(10));
        assert_eq!(bar.message(), "writing");
    }
}
