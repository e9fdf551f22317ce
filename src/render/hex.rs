//! Hex dumps of byte slices through the hexyl library.
//!
//! This module owns the hex dump layout; it must not decide whether colour is wanted (the
//! caller passes it) or know what the bytes mean.

use std::io::{self, Write};

use hexyl::{BorderStyle, PrinterBuilder};

/// Writes a hexyl dump of `bytes` to `out`, numbering positions from `display_offset`
/// (e.g. the bytes' position in a segment file). With `color`, uses ANSI colours and a
/// Unicode border; without, plain ASCII only. Runs of identical lines are squeezed to `*`.
pub fn hex_dump<W: Write>(
    out: &mut W,
    bytes: &[u8],
    display_offset: u64,
    color: bool,
) -> io::Result<()> {
    let border = if color {
        BorderStyle::Unicode
    } else {
        BorderStyle::Ascii
    };
    let mut printer = PrinterBuilder::new(out)
        .show_color(color)
        .with_border_style(border)
        .build();
    printer.display_offset(display_offset);
    printer.print_all(bytes)
}

/// `hex_dump` into a `String`.
pub fn hex_dump_string(bytes: &[u8], display_offset: u64, color: bool) -> String {
    let mut out = Vec::new();
    hex_dump(&mut out, bytes, display_offset, color).expect("writing to a Vec cannot fail");
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_dump_shows_bytes_text_and_offset() {
        let dump = hex_dump_string(b"hello, world!\n", 0x1000, false);
        assert!(dump.contains("68 65 6c 6c 6f"), "{dump}");
        assert!(dump.contains("hello, w"), "{dump}");
        assert!(dump.contains("00001000"), "{dump}");
        assert!(dump.starts_with('+'), "ASCII border expected: {dump}");
        assert!(
            dump.is_ascii(),
            "no colour or Unicode without color: {dump}"
        );
        assert!(!dump.contains('\x1b'));
    }

    #[test]
    fn display_offset_numbers_following_lines() {
        let bytes: Vec<u8> = (0..40).collect();
        let dump = hex_dump_string(&bytes, 16, false);
        assert!(dump.contains("|00000010| 00 01 02"), "{dump}");
        assert!(dump.contains("|00000030| 20 21 22"), "{dump}");
        assert!(!dump.contains("00000000"), "{dump}");
    }

    #[test]
    fn repeated_lines_are_squeezed() {
        let dump = hex_dump_string(&[7u8; 64], 0, false);
        assert!(dump.contains("|*"), "{dump}");
        assert!(!dump.contains("00000020"), "{dump}");
    }

    #[test]
    fn colour_dump_uses_escapes_and_unicode_border() {
        let dump = hex_dump_string(b"\x00\x01abc", 0, true);
        assert!(dump.contains('\x1b'), "{dump}");
        assert!(dump.starts_with('┌'), "{dump}");
    }
}
