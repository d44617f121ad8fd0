//! JSON that is safe to show: every character that could steer a terminal or reorder the
//! text around it (C0/C1 controls, DEL, bidi overrides and isolates, line/paragraph
//! separators) is written as a `\uXXXX` escape. serde_json escapes only C0 controls and
//! leaves, say, U+202E raw, so `trawl get --format json | less` could show a title that
//! renders backwards or a body that moves the cursor. The escapes decode to the same
//! string, so nothing is lost for a program reading the JSON.

use std::io::{self, Write};

use serde::Serialize;

use super::is_unsafe_char;

/// serde_json's compact formatter with the extra escapes.
#[derive(Clone, Copy, Debug, Default)]
pub struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_unsafe_char(c) {
                writer.write_all(&fragment.as_bytes()[start..i])?;
                // Every unsafe character is in the Basic Multilingual Plane: one escape.
                write!(writer, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

/// Writes `value` as compact JSON with unsafe characters escaped.
pub fn to_writer_safe<W: Write, T: Serialize + ?Sized>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, SafeFormatter);
    value.serialize(&mut ser)
}

/// `value` as compact JSON with unsafe characters escaped.
pub fn to_string_safe<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::new();
    to_writer_safe(&mut out, value)?;
    // The serializer writes UTF-8 only (the escapes are ASCII).
    String::from_utf8(out).map_err(serde::ser::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_controls_are_escaped_and_round_trip() {
        let title = "abc\u{202E}fed\u{2066}x\u{2069}\u{1b}[2J\u{7f}\u{85}\u{9b}ok 中文\n\t\"q\"";
        let json = to_string_safe(&serde_json::json!({ "title": title })).unwrap();
        for raw in [
            '\u{202E}', '\u{2066}', '\u{2069}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}',
        ] {
            assert!(!json.contains(raw), "{raw:?} left raw in {json}");
        }
        assert!(json.contains("\\u202e") && json.contains("\\u001b") && json.contains("\\u009b"));
        assert!(
            json.contains("中文"),
            "ordinary text stays readable: {json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["title"], title);
    }

    #[test]
    fn plain_serde_json_would_leave_them_raw() {
        // Why this module exists: the default serializer passes U+202E through.
        let plain = serde_json::to_string("x\u{202E}y").unwrap();
        assert!(plain.contains('\u{202E}'));
        assert!(!to_string_safe("x\u{202E}y").unwrap().contains('\u{202E}'));
    }
}
