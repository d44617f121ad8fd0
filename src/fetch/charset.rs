//! Character-set decisions: Content-Type header → BOM → `<meta charset>` / `http-equiv` →
//! statistical detection (chardetng). GBK and GB2312 decode as GB18030, their superset.
//!
//! `reqwest::Response::text()` looks only at the header; Chinese mirrors routinely declare their
//! charset in `<meta>` alone, or declare the wrong one, so the decision is made here, on bytes.

use std::sync::OnceLock;

use encoding_rs::{Encoding, GB18030, UTF_8};
use regex::bytes::Regex;

/// Where the charset decision came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CharsetSource {
    /// The HTTP `Content-Type` header.
    Header,
    /// A byte-order mark.
    Bom,
    /// `<meta charset>` or `<meta http-equiv="Content-Type">`.
    Meta,
    /// chardetng's guess from the bytes.
    Detected,
}

impl CharsetSource {
    /// Lower-case name for records and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            CharsetSource::Header => "header",
            CharsetSource::Bom => "bom",
            CharsetSource::Meta => "meta",
            CharsetSource::Detected => "detected",
        }
    }
}

/// A decoded page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    /// The text.
    pub text: String,
    /// Encoding used (WHATWG name, e.g. `UTF-8`, `gb18030`).
    pub encoding: &'static str,
    /// Where that choice came from.
    pub source: CharsetSource,
    /// Whether malformed sequences were replaced with U+FFFD.
    pub had_errors: bool,
}

impl Decoded {
    /// `encoding (source)`, as recorded on sightings.
    pub fn describe(&self) -> String {
        format!("{} ({})", self.encoding, self.source.as_str())
    }
}

/// Decodes a response body.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    let (encoding, source) = choose(bytes, content_type);
    // decode() strips a BOM that matches; for other encodings the BOM wins anyway.
    let (text, used, had_errors) = encoding.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: used.name(),
        source,
        had_errors,
    }
}

fn choose(bytes: &[u8], content_type: Option<&str>) -> (&'static Encoding, CharsetSource) {
    if let Some(e) = content_type.and_then(header_charset).and_then(label) {
        // A header that says UTF-8 over bytes that are not UTF-8 is a known lie of
        // misconfigured mirrors (GBK pages behind a UTF-8 default); look further instead of
        // producing replacement characters.
        if e != UTF_8 || std::str::from_utf8(bytes).is_ok() {
            return (e, CharsetSource::Header);
        }
    }
    if let Some((e, _)) = Encoding::for_bom(bytes) {
        return (e, CharsetSource::Bom);
    }
    if let Some(e) = meta_charset(bytes) {
        return (e, CharsetSource::Meta);
    }
    let mut det = chardetng::EncodingDetector::new();
    // Only the head is needed for a confident guess, and it bounds the cost on huge pages.
    let head = &bytes[..bytes.len().min(64 * 1024)];
    det.feed(head, head.len() == bytes.len());
    let guess = det.guess(None, true);
    (widen(guess), CharsetSource::Detected)
}

fn header_charset(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|param| {
        let (k, v) = param.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches(['"', '\'']))
    })
}

fn label(name: &str) -> Option<&'static Encoding> {
    Encoding::for_label(name.as_bytes()).map(widen)
}

/// GBK and GB2312 pages routinely contain GB18030-only characters; decode them as GB18030.
fn widen(e: &'static Encoding) -> &'static Encoding {
    if e == encoding_rs::GBK {
        GB18030
    } else {
        e
    }
}

fn meta_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    static RE: OnceLock<Regex> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(r#"(?i-u)<meta[^>]*?charset\s*=\s*["']?\s*([a-z0-9_:.\-]+)"#)
            .expect("static charset regex compiles")
    });
    // The HTML spec's prescan looks at the first 1024 bytes; real pages put long comments
    // and scripts first, so look a little further.
    let head = &bytes[..bytes.len().min(4096)];
    let caps = re.captures(head)?;
    let name = std::str::from_utf8(caps.get(1)?.as_bytes()).ok()?;
    let e = label(name)?;
    // A page that declares UTF-16 in <meta> while being read as bytes is really ASCII-based.
    if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        encoding_rs::GBK.encode(s).0.into_owned()
    }

    #[test]
    fn header_wins() {
        let d = decode("中文".as_bytes(), Some("text/html; charset=UTF-8"));
        assert_eq!((d.text.as_str(), d.source), ("中文", CharsetSource::Header));
    }

    #[test]
    fn gbk_labels_decode_as_gb18030() {
        let d = decode(&gbk("中文"), Some("text/html; charset=gb2312"));
        assert_eq!(d.text, "中文");
        assert_eq!(d.encoding, "gb18030");
    }

    #[test]
    fn bom_beats_meta() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=gbk>中文".as_bytes());
        let d = decode(&bytes, Some("text/html"));
        assert_eq!(d.source, CharsetSource::Bom);
        assert!(d.text.ends_with("中文"));
    }

    #[test]
    fn meta_charset_and_http_equiv() {
        let mut page = b"<html><head><meta charset=\"gbk\"></head><body>".to_vec();
        page.extend(gbk("新闻正文"));
        let d = decode(&page, Some("text/html"));
        assert_eq!(d.source, CharsetSource::Meta);
        assert!(d.text.contains("新闻正文"));
        let mut page =
            b"<meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\">".to_vec();
        page.extend(gbk("新闻"));
        let d = decode(&page, None);
        assert_eq!((d.source, d.encoding), (CharsetSource::Meta, "gb18030"));
        assert!(d.text.ends_with("新闻"));
    }

    #[test]
    fn undeclared_gbk_is_detected() {
        let page = gbk("<html><body><p>今年前十一个月生猪销售总量超过八百九十万头，已超过去年全年销量。</p></body></html>");
        let d = decode(&page, Some("text/html"));
        assert_eq!(d.source, CharsetSource::Detected);
        assert!(d.text.contains("生猪销售总量"), "{}", d.text);
    }

    #[test]
    fn a_lying_utf8_header_falls_back() {
        let page = gbk("<html><body><p>今年前十一个月生猪销售总量超过八百九十万头，已超过去年全年销量。</p></body></html>");
        let d = decode(&page, Some("text/html; charset=utf-8"));
        assert!(d.text.contains("生猪销售总量"), "{}", d.text);
        assert!(!d.had_errors);
        assert_ne!(d.source, CharsetSource::Header);
    }

    #[test]
    fn invalid_bytes_never_panic() {
        let d = decode(
            &[0xff, 0xfe, 0xfd, 0x00, 0xc3],
            Some("text/html; charset=utf-8"),
        );
        assert!(d.had_errors);
    }
}
