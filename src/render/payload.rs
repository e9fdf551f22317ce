//! Message payloads for people and for JSON: the `{"text"}` / `{"base64"}` / `{"hex"}`
//! encodings and a one-line, escaped, truncated preview.
//!
//! This module owns payload presentation; it must not know record headers, offsets or
//! where the bytes came from.

use std::fmt::Write as _;

use base64::Engine as _;
use serde_json::{json, Value};

/// How a payload is put into JSON.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// [`Encoding::Text`] when the bytes are printable text ([`is_text`]), else
    /// [`Encoding::Base64`].
    #[default]
    Auto,
    /// `{"text": "..."}`; bytes that are not UTF-8 become U+FFFD (lossy).
    Text,
    /// `{"base64": "..."}`, the standard alphabet with padding.
    Base64,
    /// `{"hex": "..."}`, two lowercase digits a byte.
    Hex,
}

/// Whether `auto` shows the bytes as text: valid UTF-8 without control characters other than
/// tab, newline and carriage return (a NUL, an escape sequence or DEL is binary).
pub fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|t| {
        !t.chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    })
}

/// The JSON form of a payload: an object with exactly one key, `text`, `base64` or `hex`,
/// as `encoding` says.
pub fn json_payload(bytes: &[u8], encoding: Encoding) -> Value {
    let encoding = match encoding {
        Encoding::Auto if is_text(bytes) => Encoding::Text,
        Encoding::Auto => Encoding::Base64,
        other => other,
    };
    match encoding {
        Encoding::Text | Encoding::Auto => json!({ "text": String::from_utf8_lossy(bytes) }),
        Encoding::Base64 => {
            json!({ "base64": base64::engine::general_purpose::STANDARD.encode(bytes) })
        }
        Encoding::Hex => json!({ "hex": hex_string(bytes) }),
    }
}

/// The bytes as lowercase hex digits, two a byte, nothing between them.
fn hex_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// A one-line preview of a payload of at most `max_chars` characters: printable UTF-8 as
/// is, control characters escaped (`\n`, `\t`, `\u{1b}`), invalid bytes as `\xNN`.
/// A longer preview is cut (never inside an escape) and ends with `…`.
pub fn preview(bytes: &[u8], max_chars: usize) -> String {
    let mut pieces = Vec::new();
    for chunk in bytes.utf8_chunks() {
        pieces.extend(chunk.valid().chars().map(escape_char));
        pieces.extend(chunk.invalid().iter().map(|b| format!("\\x{b:02x}")));
    }
    let total: usize = pieces.iter().map(|p| p.chars().count()).sum();
    if total <= max_chars {
        return pieces.concat();
    }
    let mut out = String::new();
    let mut used = 0;
    for piece in pieces {
        let len = piece.chars().count();
        if used + len + 1 > max_chars {
            break;
        }
        out.push_str(&piece);
        used += len;
    }
    if max_chars > 0 {
        out.push('…');
    }
    out
}

/// One character of a preview: itself, or an escape for a control character.
fn escape_char(c: char) -> String {
    if c.is_control() {
        c.escape_debug().to_string()
    } else {
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_auto_text_or_base64() {
        let auto = |b: &[u8]| json_payload(b, Encoding::Auto).to_string();
        assert_eq!(auto(b"hello"), r#"{"text":"hello"}"#);
        assert_eq!(
            json_payload("é\n\t\r".as_bytes(), Encoding::Auto)["text"],
            "é\n\t\r"
        );
        assert_eq!(auto(&[0xff, 0x00, 0x41]), r#"{"base64":"/wBB"}"#);
        // Valid UTF-8 full of NULs or escapes is binary for `auto`.
        assert_eq!(auto(b"\0\0\0"), r#"{"base64":"AAAA"}"#);
        assert_eq!(auto(b"\x1b[0m"), r#"{"base64":"G1swbQ=="}"#);
        assert_eq!(auto(b""), r#"{"text":""}"#);
    }

    #[test]
    fn json_forced_encodings() {
        let bytes = [0u8, 0xff, b'A'];
        assert_eq!(
            json_payload(&bytes, Encoding::Hex).to_string(),
            r#"{"hex":"00ff41"}"#
        );
        assert_eq!(
            json_payload(&bytes, Encoding::Base64).to_string(),
            r#"{"base64":"AP9B"}"#
        );
        assert_eq!(json_payload(&bytes, Encoding::Text)["text"], "\0\u{fffd}A");
        assert_eq!(
            json_payload(b"hi", Encoding::Base64).to_string(),
            r#"{"base64":"aGk="}"#
        );
    }

    #[test]
    fn preview_escapes_controls_and_invalid_bytes() {
        assert_eq!(preview(b"a\tb\nc", 80), r"a\tb\nc");
        assert_eq!(preview(b"\x1b[0m", 80), r"\u{1b}[0m");
        assert_eq!(preview(b"\0", 80), r"\0");
        assert_eq!(preview(&[b'o', b'k', 0xff], 80), r"ok\xff");
        assert_eq!(preview("naïve ☃".as_bytes(), 80), "naïve ☃");
        assert_eq!(preview(br#"say "hi" \o/"#, 80), r#"say "hi" \o/"#);
    }

    #[test]
    fn preview_truncates_with_ellipsis() {
        assert_eq!(preview(b"hello world", 5), "hell…");
        assert_eq!(preview(b"hello", 5), "hello");
        assert_eq!(preview("ééééé".as_bytes(), 3), "éé…");
        assert_eq!(preview(b"ab\ncd", 4), "ab…");
        assert_eq!(preview(b"abc", 0), "");
        assert_eq!(preview(b"abcdef", 1), "…");
    }
}
