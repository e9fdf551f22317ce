//! Message payloads for people and for JSON: the `{"text"}` / `{"bytes"}` encoding and a
//! one-line, escaped, truncated preview.
//!
//! This module owns payload presentation; it must not know record headers, offsets or
//! where the bytes came from.

use base64::Engine as _;
use serde_json::{json, Value};

/// The JSON form of a payload: `{"text": "..."}` when the bytes are valid UTF-8, else
/// `{"bytes": "<standard base64>"}`.
pub fn json_payload(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(text) => json!({ "text": text }),
        Err(_) => json!({ "bytes": base64::engine::general_purpose::STANDARD.encode(bytes) }),
    }
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
    fn json_text_or_bytes() {
        assert_eq!(json_payload(b"hello").to_string(), r#"{"text":"hello"}"#);
        assert_eq!(json_payload("é\n".as_bytes())["text"], "é\n");
        assert_eq!(
            json_payload(&[0xff, 0x00, 0x41]).to_string(),
            r#"{"bytes":"/wBB"}"#
        );
        assert_eq!(json_payload(b"").to_string(), r#"{"text":""}"#);
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
