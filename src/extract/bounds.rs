//! Bounds on what a page may cost before it is parsed.
//!
//! The body-size cap bounds the bytes, but not the work, because html5ever has two quadratic
//! paths. It checks element scopes by walking the stack of open elements, so every start tag
//! costs time in proportion to the nesting depth: a 500 kB page of 100,000 nested `<div>`s took
//! 48 s to parse (measured; a page at the 10 MiB cap would take hours). And it checks each
//! attribute against the tag's earlier ones for duplicates, so one tag with a million
//! attributes (7 MB) did not finish in minutes. Real pages nest a few dozen levels deep and
//! carry a handful of attributes per tag, and browsers stop nesting at 512 (Blink's parser
//! limit), so a page past [`MAX_DEPTH`] or [`MAX_ATTRIBUTES`] is refused before parsing, by a
//! linear scan that never builds a tree.

use scraper::Html;
use thiserror::Error;

/// The deepest element nesting a page may have (Blink's `kMaximumHTMLParserDOMTreeDepth`).
pub const MAX_DEPTH: usize = 512;

/// The most attributes one tag may have (counted from above: every whitespace-separated
/// word inside the tag).
pub const MAX_ATTRIBUTES: usize = 512;

/// Why a page is not parsed.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum TooComplex {
    /// Elements nest deeper than the limit.
    #[error("elements nest deeper than {max} levels (parsing costs time quadratic in the depth)")]
    Deep {
        /// The limit that was passed.
        max: usize,
    },
    /// One tag has more attributes than the limit.
    #[error("a tag has more than {max} attributes (parsing costs time quadratic in their number)")]
    Attributes {
        /// The limit that was passed.
        max: usize,
    },
}

/// Parses a whole document, unless it is past [`MAX_DEPTH`] or [`MAX_ATTRIBUTES`].
pub fn parse_document(text: &str) -> Result<Html, TooComplex> {
    check(text, MAX_DEPTH, MAX_ATTRIBUTES)?;
    Ok(Html::parse_document(text))
}

/// Parses a fragment (an API's HTML body), with the same bounds as [`parse_document`].
pub fn parse_fragment(text: &str) -> Result<Html, TooComplex> {
    check(text, MAX_DEPTH, MAX_ATTRIBUTES)?;
    Ok(Html::parse_fragment(text))
}

/// Elements that never hold others (no end tag), and those whose start tag closes an open one
/// of the same kind or whose nesting needs a wrapper that is itself counted (`<p>` closes
/// `<p>`, `<li>` lives in a list, `<td>` in a table): neither adds depth in the scan.
fn adds_no_depth(name: &[u8]) -> bool {
    matches!(
        name,
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"source"
            | b"track"
            | b"wbr"
            | b"param"
            | b"keygen"
            | b"frame"
            | b"p"
            | b"li"
            | b"dt"
            | b"dd"
            | b"option"
            | b"optgroup"
            | b"tr"
            | b"td"
            | b"th"
            | b"tbody"
            | b"thead"
            | b"tfoot"
            | b"colgroup"
            | b"caption"
            | b"rb"
            | b"rt"
            | b"rtc"
            | b"rp"
            | b"html"
            | b"head"
            | b"body"
    )
}

/// Elements whose content is text up to their end tag (markup inside does not count).
fn is_raw_text(name: &[u8]) -> bool {
    matches!(
        name,
        b"script"
            | b"style"
            | b"textarea"
            | b"title"
            | b"xmp"
            | b"iframe"
            | b"noembed"
            | b"noframes"
            | b"noscript"
            | b"plaintext"
    )
}

/// Errs when start tags, less the end tags that close them, reach more than `max_depth` open
/// elements, or when a tag holds more than `max_attributes` words. A linear scan of tags
/// only: quoted attribute values, comments and raw-text elements are skipped as a browser
/// would skip them. It estimates the parser's stack from above for well-formed markup and
/// ignores elements that cannot nest in themselves, so real pages stay far below the limits.
pub fn check(text: &str, max_depth: usize, max_attributes: usize) -> Result<(), TooComplex> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(off) = memchr(b'<', &b[i..]) {
        i += off + 1;
        match b.get(i) {
            Some(b'!') => {
                i = if b[i..].starts_with(b"!--") {
                    find(b, i + 3, b"-->").map_or(b.len(), |e| e + 3)
                } else {
                    memchr(b'>', &b[i..]).map_or(b.len(), |e| i + e + 1)
                };
            }
            Some(b'/') => {
                let (name, end, _) = tag_name(b, i + 1);
                if name.len > 0 && !adds_no_depth(name.bytes()) {
                    depth = depth.saturating_sub(1);
                }
                i = end;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, end, attributes) = tag_name(b, i);
                i = end;
                if attributes > max_attributes {
                    return Err(TooComplex::Attributes {
                        max: max_attributes,
                    });
                }
                if is_raw_text(name.bytes()) {
                    // Skip to `</name`, case-insensitively.
                    let mut close = b"</".to_vec();
                    close.extend_from_slice(name.bytes());
                    i = find_ci(b, i, &close).unwrap_or(b.len());
                } else if !adds_no_depth(name.bytes()) {
                    depth += 1;
                    if depth > max_depth {
                        return Err(TooComplex::Deep { max: max_depth });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// A tag name, lower-cased into a small buffer (the check runs on every tag of every page).
/// Only its first [`Name::KEPT`] bytes are kept: every name the check looks for is shorter,
/// so a cut longer name still matches none of them.
struct Name {
    buf: [u8; Name::KEPT],
    len: usize,
}

impl Name {
    const KEPT: usize = 16;

    fn of(raw: &[u8]) -> Name {
        let mut buf = [0u8; Name::KEPT];
        for (o, c) in buf.iter_mut().zip(raw) {
            *o = c.to_ascii_lowercase();
        }
        Name {
            buf,
            len: raw.len(),
        }
    }

    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len.min(Name::KEPT)]
    }
}

/// The lower-cased tag name starting at `at`, the index just past the tag's `>` (quoted
/// attribute values may hold `>`), and the words after the name (at least its attributes).
fn tag_name(b: &[u8], at: usize) -> (Name, usize, usize) {
    let mut i = at;
    while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>') {
        i += 1;
    }
    let name = Name::of(&b[at..i]);
    let mut quote = None;
    let mut words = 0;
    let mut after_space = false;
    while i < b.len() {
        let c = b[i];
        match (quote, c) {
            (None, b'>') => return (name, i + 1, words),
            (None, q @ (b'"' | b'\'')) if is_after_eq(b, at, i) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        let space = c.is_ascii_whitespace() || c == b'/';
        if quote.is_none() && after_space && !space {
            words += 1;
        }
        after_space = space;
        i += 1;
    }
    (name, b.len(), words)
}

/// Whether position `i` starts an attribute value (an `=` then optional spaces before it).
fn is_after_eq(b: &[u8], start: usize, i: usize) -> bool {
    let mut j = i;
    while j > start {
        j -= 1;
        match b[j] {
            b' ' | b'\t' | b'\n' | b'\r' => continue,
            b'=' => return true,
            _ => return false,
        }
    }
    false
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&c| c == needle)
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|p| from + p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(html: &str, max: usize) -> bool {
        check(html, max, MAX_ATTRIBUTES).is_ok()
    }

    #[test]
    fn attributes_are_counted_per_tag() {
        let tag = |n: usize| {
            let attrs: String = (0..n).map(|i| format!(" a{i}=\"x y\"")).collect();
            format!("<div{attrs}>text</div>")
        };
        assert!(check(&tag(500), 8, MAX_ATTRIBUTES).is_ok());
        assert_eq!(
            check(&tag(600), 8, MAX_ATTRIBUTES),
            Err(TooComplex::Attributes {
                max: MAX_ATTRIBUTES
            })
        );
        // Many tags with a few attributes each are fine.
        let many = "<a href='/x' class=\"c d\" title=t>x</a>".repeat(10_000);
        assert!(check(&many, 8, 4).is_ok());
    }

    #[test]
    fn nesting_is_counted_and_closed_tags_give_it_back() {
        assert!(depth_ok("<div><div><div>x</div></div></div>", 3));
        assert!(!depth_ok("<div><div><div>x</div></div></div>", 2));
        let siblings = "<div>x</div>".repeat(10_000);
        assert!(depth_ok(&siblings, 2));
        let nested = format!("{}x", "<div>".repeat(600));
        assert!(!depth_ok(&nested, MAX_DEPTH));
        assert_eq!(
            parse_document(&nested).err(),
            Some(TooComplex::Deep { max: MAX_DEPTH })
        );
    }

    #[test]
    fn void_and_self_closing_paragraph_like_tags_do_not_nest() {
        let page = format!(
            "<html><head><meta charset=utf-8><link rel=x></head><body>{}</body></html>",
            "<p>para<br><img src=a.png><li>item<tr><td>cell".repeat(5_000)
        );
        assert!(depth_ok(&page, 8));
    }

    #[test]
    fn comments_quotes_and_scripts_hide_markup() {
        let page = format!(
            "<!-- {} --><div title='<div><div>' data-x=\"a>b<div>\"><script>{}</script>\
             <style>{}</style><textarea>{}</textarea></div>",
            "<div>".repeat(100),
            "'<div>'.repeat(9);".repeat(100),
            "<div>".repeat(100),
            "<div>".repeat(100)
        );
        assert!(
            depth_ok(&page, 1),
            "markup inside comments, quotes and raw text counted"
        );
        assert!(depth_ok(
            "<SCRIPT>var s = '<div><div>';</Script><div></div>",
            1
        ));
    }

    #[test]
    fn long_tag_names_match_no_known_tag() {
        // Names are compared on their first 16 bytes: one that only starts like a raw-text
        // or void tag is neither, and still nests (and unnests) like any element.
        let long = "scriptplaintextstyle-widget";
        assert!(Name::of(long.as_bytes()).bytes().len() == Name::KEPT);
        let page = format!("<{long}><div>x</div></{long}><div></div>");
        assert!(depth_ok(&page, 2));
        assert!(!depth_ok(&page, 1));
        let voids = format!("<{}>", "img".repeat(6)).repeat(3);
        assert!(!depth_ok(&voids, 2));
    }

    #[test]
    fn every_real_page_shape_parses() {
        let demo = crate::demo::Network::generate(3, 3);
        for mirror in crate::demo::Mirror::ALL {
            let page = demo.respond(mirror.host(), mirror.index_path());
            let text = String::from_utf8_lossy(&page.body);
            assert!(parse_document(&text).is_ok(), "{}", mirror.host());
        }
    }
}
