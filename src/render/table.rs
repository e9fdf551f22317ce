//! Tables with one consistent look for every subcommand.
//!
//! This module owns table styling; it must not choose the rows or know what they mean.

use comfy_table::presets::{ASCII_FULL_CONDENSED, UTF8_FULL_CONDENSED};
use comfy_table::{Attribute, Cell, ContentArrangement, Table};

/// A table with `headers`. On a terminal (`terminal`): UTF-8 borders and width fitted to
/// the terminal; otherwise ASCII borders and no wrapping. Headers are bold only with `color`.
pub fn new_table(headers: &[&str], terminal: bool, color: bool) -> Table {
    let mut table = Table::new();
    if terminal {
        table
            .load_preset(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.load_preset(ASCII_FULL_CONDENSED).force_no_tty();
    }
    if color {
        table.enforce_styling();
    }
    let header = headers.iter().map(|h| {
        let cell = Cell::new(h);
        if color {
            cell.add_attribute(Attribute::Bold)
        } else {
            cell
        }
    });
    table.set_header(header);
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_table_is_ascii_without_escapes() {
        let mut table = new_table(&["segment", "records"], false, false);
        table.add_row(vec!["00000000000000000000", "12"]);
        let text = table.to_string();
        assert!(text.is_ascii(), "{text}");
        assert!(!text.contains('\x1b'), "{text}");
        assert!(text.contains("| segment"), "{text}");
        assert!(text.contains("00000000000000000000"), "{text}");
    }

    #[test]
    fn terminal_table_uses_utf8_borders_and_colour() {
        let mut table = new_table(&["name"], true, true);
        table.add_row(vec!["reports"]);
        let text = table.to_string();
        assert!(text.contains('│'), "{text}");
        assert!(text.contains('\x1b'), "{text}");
    }
}
