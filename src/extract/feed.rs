//! Feeds and sitemaps: the hub documents that hand the frontier lists of article URLs.
//!
//! One streaming pass over the XML (quick-xml, no DOM) reads RSS 2.0, RSS 1.0 (RDF), Atom,
//! sitemap `urlset`s (with the Google News extension) and sitemap indexes into a [`Feed`]:
//! absolute `http(s)` URLs with whatever title and times the document gives.
//!
//! Pure and panic-free on any bytes: no I/O, and the work is bounded by the input length and
//! `max_entries`. Entity references are never expanded beyond the five predefined XML
//! entities, numeric character references and a handful of HTML names feeds misuse; DTD
//! entity declarations are ignored, so "billion laughs" documents cost nothing.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use encoding_rs::{Encoding, GB18030, GBK, UTF_16BE, UTF_16LE, UTF_8};
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use url::Url;

use super::date::parse_published;

/// What kind of hub document was parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeedKind {
    /// RSS 2.0 (`<rss>`) or RSS 1.0 (`<rdf:RDF>`).
    Rss,
    /// Atom (`<feed>`).
    Atom,
    /// A sitemap `<urlset>`, including Google News sitemaps.
    Sitemap,
    /// A `<sitemapindex>`: its entries are child sitemaps, not articles.
    SitemapIndex,
}

/// One URL a feed or sitemap offers, with the metadata printed next to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedEntry {
    /// Absolute `http`/`https` URL, resolved against the document URL and any `xml:base`.
    pub url: String,
    /// Entry title (RSS/Atom `title`, news sitemap `news:title`), whitespace collapsed.
    pub title: Option<String>,
    /// RSS `pubDate` (or `dc:date`), Atom `published`, news sitemap `publication_date`.
    pub published: Option<DateTime<FixedOffset>>,
    /// Atom `updated`, sitemap and sitemap index `lastmod`.
    pub modified: Option<DateTime<FixedOffset>>,
}

/// A parsed feed or sitemap.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Feed {
    /// Which format the root element announced.
    pub kind: FeedKind,
    /// Entries in document order; for [`FeedKind::SitemapIndex`], the child sitemaps. Entries
    /// without a usable `http(s)` URL are left out.
    pub entries: Vec<FeedEntry>,
}

/// Why bytes could not be read as a feed or sitemap.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FeedError {
    /// The document is not a feed or sitemap; holds the root element's name (or what was
    /// found instead of one).
    #[error("not a feed or sitemap (root: {0})")]
    NotAFeed(String),
    /// The XML is malformed or truncated. `position` is a byte offset into the document
    /// after decoding to UTF-8 (equal to the input offset for UTF-8 input).
    #[error("malformed XML at byte {position}: {message}")]
    Xml {
        /// Byte offset of the error in the decoded document.
        position: u64,
        /// What the XML reader objected to.
        message: String,
    },
    /// The document has more entries than the caller's `max_entries`, which it holds.
    #[error("more than {0} entries")]
    TooManyEntries(usize),
}

/// How far into the body `sniff` looks for the root element.
const SNIFF_LIMIT: usize = 1024;

/// Whether a response looks like a feed or sitemap: a feed media type
/// (`application/rss+xml`, `application/atom+xml`), or a feed or sitemap root element
/// (`rss`, `rdf:RDF`, `feed`, `urlset`, `sitemapindex`) within the first KiB of the body.
///
/// Generic XML types (`application/xml`, `text/xml`) are not enough on their own, because
/// they also carry documents that are not feeds; the root element decides for those.
pub fn sniff(bytes: &[u8], content_type: Option<&str>) -> bool {
    if let Some(content_type) = content_type {
        let mime = content_type.split(';').next().unwrap_or_default().trim();
        if mime.eq_ignore_ascii_case("application/rss+xml")
            || mime.eq_ignore_ascii_case("application/atom+xml")
        {
            return true;
        }
    }
    let head = &bytes[..bytes.len().min(SNIFF_LIMIT)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    // Root names are ASCII in every ASCII-compatible encoding, so the raw bytes suffice.
    let mut reader = Reader::from_reader(head);
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) => {
                return root_kind(e.local_name().as_ref()).is_some()
            }
            Ok(Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_)) => {}
            Ok(Event::Text(t)) if t.iter().all(u8::is_ascii_whitespace) => {}
            _ => return false,
        }
    }
}

/// Parses a feed or sitemap fetched from `base`.
///
/// The encoding is taken from a BOM, else from the XML declaration (`gbk`/`gb2312` decode as
/// GB18030), else UTF-8; malformed bytes become U+FFFD rather than errors. Relative URLs
/// resolve against `base` and `xml:base`; only `http`/`https` URLs are kept. Times without a
/// zone are taken in `zone`.
///
/// Bound: when the document has more than `max_entries` entries, parsing stops at the first
/// one past the limit and returns [`FeedError::TooManyEntries`], not a truncated list, so a
/// caller never mistakes a partial sitemap for a complete one. (The sitemap protocol allows
/// 50,000 URLs per file, a sensible limit.) Anything after the root element is ignored.
pub fn parse(
    bytes: &[u8],
    base: &Url,
    zone: FixedOffset,
    max_entries: usize,
) -> Result<Feed, FeedError> {
    let text = decode(bytes);
    Parser {
        base,
        zone,
        max_entries,
        kind: None,
        depth: 0,
        bases: Vec::new(),
        entry: None,
        capture: None,
        entries: Vec::new(),
        seen: 0,
    }
    .run(&text)
}

/// Decodes `bytes` to text: BOM first (as the XML spec says), then the declared encoding.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    let encoding = match declared_encoding(bytes) {
        // GBK's superset decodes every GBK and GB2312 document and the bytes real sites
        // mislabel as GBK.
        Some(e) if e == GBK || e == GB18030 => GB18030,
        // The declaration was readable as ASCII, so the document is not really UTF-16.
        Some(e) if e == UTF_16LE || e == UTF_16BE => UTF_8,
        Some(e) => e,
        None => UTF_8,
    };
    encoding.decode(bytes).0
}

/// The encoding named by an XML declaration at the start of `bytes` (after a UTF-8 BOM).
fn declared_encoding(bytes: &[u8]) -> Option<&'static Encoding> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let rest = bytes.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).take(256).position(|w| w == b"?>")?;
    let decl = &rest[..end];
    let at = decl.windows(8).position(|w| w == b"encoding")?;
    let after = decl[at + 8..].trim_ascii_start().strip_prefix(b"=")?;
    let after = after.trim_ascii_start();
    let quote = *after.first().filter(|q| **q == b'"' || **q == b'\'')?;
    let value = &after[1..];
    let len = value.iter().position(|b| *b == quote)?;
    Encoding::for_label(&value[..len])
}

/// The feed kind announced by a root element's local name.
fn root_kind(local: &[u8]) -> Option<FeedKind> {
    match local {
        b"rss" | b"RDF" => Some(FeedKind::Rss),
        b"feed" => Some(FeedKind::Atom),
        b"urlset" => Some(FeedKind::Sitemap),
        b"sitemapindex" => Some(FeedKind::SitemapIndex),
        _ => None,
    }
}

/// The local name of the element that holds one entry.
fn entry_name(kind: FeedKind) -> &'static [u8] {
    match kind {
        FeedKind::Rss => b"item",
        FeedKind::Atom => b"entry",
        FeedKind::Sitemap => b"url",
        FeedKind::SitemapIndex => b"sitemap",
    }
}

/// Which entry field an element's text fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    /// RSS `link`, sitemap `loc`.
    Link,
    /// RSS `guid` that is a permalink (a fallback for a missing `link`).
    Guid,
    Title,
    Published,
    Modified,
}

/// An entry being read.
#[derive(Default)]
struct Draft {
    /// Depth of the entry element (the root is depth 1).
    depth: usize,
    /// Local name of the entry's child currently open, for fields nested one level deeper
    /// (`news:news/news:title`).
    child: Option<Vec<u8>>,
    link: Option<Url>,
    guid: Option<Url>,
    /// RSS 1.0 `item/@rdf:about`.
    about: Option<Url>,
    title: Option<String>,
    published: Option<DateTime<FixedOffset>>,
    modified: Option<DateTime<FixedOffset>>,
}

/// Text being collected for one field, closed by the end of the element at `depth`.
struct Capture {
    field: Field,
    depth: usize,
    text: String,
}

/// The streaming state of one `parse` call.
struct Parser<'a> {
    base: &'a Url,
    zone: FixedOffset,
    max_entries: usize,
    kind: Option<FeedKind>,
    /// Number of open elements.
    depth: usize,
    /// `xml:base` overrides as (depth of the element that set it, resolved base).
    bases: Vec<(usize, Url)>,
    entry: Option<Draft>,
    capture: Option<Capture>,
    entries: Vec<FeedEntry>,
    /// Entry elements seen, with or without a usable URL: this is what `max_entries` bounds.
    seen: usize,
}

impl Parser<'_> {
    fn run(mut self, text: &str) -> Result<Feed, FeedError> {
        let mut reader = Reader::from_str(text);
        // Real feeds print raw `&` in URLs (`?a=1&b=2`); keep it as text instead of failing.
        reader.config_mut().allow_dangling_amp = true;
        loop {
            let event = reader.read_event().map_err(|e| FeedError::Xml {
                position: reader.error_position(),
                message: e.to_string(),
            })?;
            match event {
                Event::Start(e) => {
                    self.depth += 1;
                    self.open(&e, false)?;
                }
                Event::Empty(e) => {
                    // Handled as an element that opens and closes at once.
                    self.depth += 1;
                    self.open(&e, true)?;
                    self.close();
                }
                Event::End(_) => {
                    self.close();
                }
                Event::Text(t) => {
                    if let Some(capture) = &mut self.capture {
                        capture.text.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::CData(c) => {
                    if let Some(capture) = &mut self.capture {
                        capture.text.push_str(&String::from_utf8_lossy(&c));
                    }
                }
                Event::GeneralRef(r) => {
                    if let Some(capture) = &mut self.capture {
                        push_reference(&mut capture.text, &String::from_utf8_lossy(&r));
                    }
                }
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => {
                    return Err(match self.kind {
                        None => FeedError::NotAFeed("no root element".to_string()),
                        Some(_) => FeedError::Xml {
                            position: reader.buffer_position(),
                            message: format!("document ends inside {} open element(s)", self.depth),
                        },
                    });
                }
            }
            if self.depth == 0 {
                if let Some(kind) = self.kind {
                    // The root closed: the document is complete, and trailing bytes are
                    // none of a feed reader's business.
                    return Ok(Feed {
                        kind,
                        entries: self.entries,
                    });
                }
            }
        }
    }

    /// Handles the start of an element (already counted in `depth`).
    fn open(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), FeedError> {
        if let Some(base) = attribute(e, b"xml:base") {
            if let Ok(resolved) = self.current_base().join(base.trim()) {
                self.bases.push((self.depth, resolved));
            }
        }
        let local = e.local_name();
        let local = local.as_ref();
        let Some(kind) = self.kind else {
            let kind = root_kind(local)
                .ok_or_else(|| FeedError::NotAFeed(String::from_utf8_lossy(local).into_owned()))?;
            self.kind = Some(kind);
            return Ok(());
        };
        let Some(entry) = &mut self.entry else {
            if local == entry_name(kind) {
                self.seen += 1;
                if self.seen > self.max_entries {
                    return Err(FeedError::TooManyEntries(self.max_entries));
                }
                let about = match kind {
                    FeedKind::Rss => attribute(e, b"rdf:about")
                        .and_then(|about| resolve(self.current_base(), &about)),
                    _ => None,
                };
                self.entry = Some(Draft {
                    depth: self.depth,
                    about,
                    ..Draft::default()
                });
            }
            return Ok(());
        };
        if self.capture.is_some() {
            // Markup inside a field (an XHTML Atom title, say) only adds its text.
            return Ok(());
        }
        let level = self.depth - entry.depth;
        if level == 1 {
            entry.child = Some(local.to_vec());
        }
        let prefixed = e.name().prefix().is_some();
        let field = match (kind, level, local) {
            (FeedKind::Rss, 1, b"link") => Some(Field::Link),
            (FeedKind::Rss, 1, b"guid") => {
                // A guid is a URL unless it says otherwise (RSS 2.0 spec).
                let permalink = attribute(e, b"isPermaLink")
                    .is_none_or(|v| !v.trim().eq_ignore_ascii_case("false"));
                permalink.then_some(Field::Guid)
            }
            // Unprefixed only: `media:title` describes an enclosure, not the entry.
            (FeedKind::Rss, 1, b"title") if !prefixed => Some(Field::Title),
            (FeedKind::Rss, 1, b"pubDate" | b"date") => Some(Field::Published),
            (FeedKind::Rss, 1, b"updated" | b"modified") => Some(Field::Modified),
            (FeedKind::Atom, 1, b"link") => {
                let rel = attribute(e, b"rel");
                let alternate = rel.as_deref().map(str::trim).is_none_or(|rel| {
                    rel.is_empty()
                        || rel.eq_ignore_ascii_case("alternate")
                        || rel == "http://www.iana.org/assignments/relation/alternate"
                });
                if alternate && entry.link.is_none() {
                    let base = current_base(self.base, &self.bases);
                    entry.link = attribute(e, b"href").and_then(|href| resolve(base, &href));
                }
                None
            }
            (FeedKind::Atom, 1, b"title") => Some(Field::Title),
            // `issued` and `modified` are Atom 0.3's names.
            (FeedKind::Atom, 1, b"published" | b"issued") => Some(Field::Published),
            (FeedKind::Atom, 1, b"updated" | b"modified") => Some(Field::Modified),
            (FeedKind::Sitemap | FeedKind::SitemapIndex, 1, b"loc") => Some(Field::Link),
            (FeedKind::Sitemap | FeedKind::SitemapIndex, 1, b"lastmod") => Some(Field::Modified),
            // Google News: `url/news:news/{news:title, news:publication_date}`; depth keeps
            // out `image:loc`, `video:title` and the like.
            (FeedKind::Sitemap, 2, b"title" | b"publication_date")
                if entry.child.as_deref() == Some(b"news") =>
            {
                Some(if local == b"title" {
                    Field::Title
                } else {
                    Field::Published
                })
            }
            _ => None,
        };
        if let Some(field) = field.filter(|_| !empty) {
            self.capture = Some(Capture {
                field,
                depth: self.depth,
                text: String::new(),
            });
        }
        Ok(())
    }

    /// Handles the end of the element at `depth`.
    fn close(&mut self) {
        if let Some(capture) = self.capture.take_if(|c| c.depth == self.depth) {
            let base = current_base(self.base, &self.bases);
            if let Some(entry) = &mut self.entry {
                fill(entry, capture, base, self.zone);
            }
        }
        if let Some(entry) = &mut self.entry {
            if self.depth == entry.depth + 1 {
                entry.child = None;
            }
        }
        if let Some(entry) = self.entry.take_if(|e| e.depth == self.depth) {
            let url = entry.link.or(entry.guid).or(entry.about);
            if let Some(url) = url {
                self.entries.push(FeedEntry {
                    url: url.into(),
                    title: entry.title,
                    published: entry.published,
                    modified: entry.modified,
                });
            }
        }
        if self.bases.last().is_some_and(|(d, _)| *d == self.depth) {
            self.bases.pop();
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn current_base(&self) -> &Url {
        current_base(self.base, &self.bases)
    }
}

/// The innermost `xml:base` in force, else the document URL.
fn current_base<'a>(base: &'a Url, bases: &'a [(usize, Url)]) -> &'a Url {
    bases.last().map_or(base, |(_, url)| url)
}

/// Stores a finished field in its entry; the first value of each field wins.
fn fill(entry: &mut Draft, capture: Capture, base: &Url, zone: FixedOffset) {
    let text = capture.text.trim();
    match capture.field {
        Field::Link if entry.link.is_none() => entry.link = resolve(base, text),
        Field::Guid if entry.guid.is_none() => entry.guid = resolve(base, text),
        Field::Title if entry.title.is_none() => {
            let title = text.split_whitespace().collect::<Vec<_>>().join(" ");
            entry.title = (!title.is_empty()).then_some(title);
        }
        Field::Published if entry.published.is_none() => {
            entry.published = parse_published(text, zone);
        }
        Field::Modified if entry.modified.is_none() => {
            entry.modified = parse_published(text, zone);
        }
        _ => {}
    }
}

/// `text` as an absolute `http(s)` URL relative to `base`; anything else (`mailto:`,
/// `javascript:`, a bare guid like `tag:…`) is not a page to crawl.
fn resolve(base: &Url, text: &str) -> Option<Url> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    base.join(text)
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
        .map(crate::scope::without_credentials)
}

/// The value of attribute `name` (qualified, e.g. `rdf:about`), entities resolved.
fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a: &Attribute<'_>| a.key.as_ref() == name)
        .map(|a| match a.normalized_value(XmlVersion::Implicit1_0) {
            Ok(value) => value.into_owned(),
            // An unknown entity in an attribute: keep the raw text rather than drop the URL.
            Err(_) => String::from_utf8_lossy(&a.value).into_owned(),
        })
}

/// Appends the text of entity or character reference `&name;`. Only predefined XML entities,
/// numeric references and a few HTML names that feeds use without declaring are replaced;
/// anything else stays as written, so nothing can expand.
fn push_reference(out: &mut String, name: &str) {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => number.parse().ok(),
        };
        match code.and_then(char::from_u32).filter(|c| *c != '\0') {
            Some(c) => out.push(c),
            None => {
                out.push('&');
                out.push_str(name);
                out.push(';');
            }
        }
        return;
    }
    let html = match name {
        "nbsp" => Some("\u{a0}"),
        "mdash" => Some("—"),
        "ndash" => Some("–"),
        "hellip" => Some("…"),
        "ldquo" => Some("“"),
        "rdquo" => Some("”"),
        "lsquo" => Some("‘"),
        "rsquo" => Some("’"),
        _ => None,
    };
    match resolve_predefined_entity(name).or(html) {
        Some(text) => out.push_str(text),
        None => {
            out.push('&');
            out.push_str(name);
            out.push(';');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).expect("valid offset")
    }

    fn base() -> Url {
        Url::parse("http://example.test/feeds/main.xml").expect("valid URL")
    }

    fn parse_ok(xml: &[u8]) -> Feed {
        parse(xml, &base(), cst(), 100).expect("parses")
    }

    fn urls(feed: &Feed) -> Vec<&str> {
        feed.entries.iter().map(|e| e.url.as_str()).collect()
    }

    fn time(text: &str) -> Option<DateTime<FixedOffset>> {
        Some(DateTime::parse_from_rfc3339(text).expect("valid RFC 3339"))
    }

    #[test]
    fn rss_2_links_guids_titles_and_dates() {
        let feed = parse_ok(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE rss>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Channel title is not an entry</title>
  <link>http://example.test/</link>
  <atom:link href="http://example.test/feeds/main.xml" rel="self"/>
  <item>
    <title><![CDATA[Markets <b>rally</b> & close]]></title>
    <link>
      /news/1.html
    </link>
    <guid isPermaLink="false">id-1</guid>
    <pubDate>Fri, 21 Jan 2022 09:38:35 +0800</pubDate>
  </item>
  <item>
    <title>Tom &amp; Jerry &#x4E2D;&#25991; &nbsp;&unknown; &lt;ok&gt;</title>
    <guid>http://example.test/news/2.html</guid>
    <dc:date>2022-01-21T10:00:00Z</dc:date>
  </item>
  <item>
    <guid isPermaLink="false">http://example.test/not-a-link</guid>
  </item>
  <item>
    <title>Raw ampersands in a URL</title>
    <link>http://example.test/a?x=1&y=2</link>
    <media:title xmlns:media="http://search.yahoo.com/mrss/">not this</media:title>
  </item>
  <item><link>mailto:editor@example.test</link></item>
</channel>
</rss>"#,
        );
        assert_eq!(feed.kind, FeedKind::Rss);
        assert_eq!(
            urls(&feed),
            [
                "http://example.test/news/1.html",
                "http://example.test/news/2.html",
                "http://example.test/a?x=1&y=2",
            ]
        );
        let first = &feed.entries[0];
        assert_eq!(first.title.as_deref(), Some("Markets <b>rally</b> & close"));
        assert_eq!(first.published, time("2022-01-21T09:38:35+08:00"));
        assert_eq!(first.modified, None);
        let second = &feed.entries[1];
        assert_eq!(
            second.title.as_deref(),
            // `&nbsp;` became U+00A0, which whitespace collapsing folds away.
            Some("Tom & Jerry 中文 &unknown; <ok>")
        );
        assert_eq!(second.published, time("2022-01-21T10:00:00+00:00"));
        assert_eq!(
            feed.entries[2].title.as_deref(),
            Some("Raw ampersands in a URL")
        );
    }

    #[test]
    fn rss_1_rdf_about_and_link() {
        let feed = parse_ok(
            br#"<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="http://example.test/">
    <title>RDF</title>
    <items><rdf:Seq><rdf:li rdf:resource="http://example.test/x/1"/></rdf:Seq></items>
  </channel>
  <item rdf:about="http://example.test/x/1">
    <title>One</title>
    <link>http://example.test/x/1?from=rss</link>
    <dc:date>2022-01-20 08:00</dc:date>
  </item>
  <item rdf:about="x/2"><title>Two</title></item>
</rdf:RDF>"#,
        );
        assert_eq!(feed.kind, FeedKind::Rss);
        assert_eq!(
            urls(&feed),
            [
                "http://example.test/x/1?from=rss",
                "http://example.test/feeds/x/2"
            ]
        );
        // No zone in the text: the caller's zone applies.
        assert_eq!(feed.entries[0].published, time("2022-01-20T08:00:00+08:00"));
        assert_eq!(feed.entries[1].title.as_deref(), Some("Two"));
    }

    #[test]
    fn atom_alternate_links_xml_base_and_dates() {
        let feed = parse_ok(
            br#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="http://blog.example.test/">
  <title>Blog</title>
  <link rel="self" href="/feed.xml"/>
  <link href="/"/>
  <updated>2022-01-22T00:00:00Z</updated>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Rich <b>title</b></div></title>
    <link rel="edit" href="/edit/1"/>
    <link rel="alternate" type="text/html" href="2022/01/21/1.html"/>
    <link rel="alternate" href="/second-alternate-is-ignored"/>
    <id>tag:blog.example.test,2022:1</id>
    <published>2022-01-21T09:38:35+08:00</published>
    <updated>2022-01-21T12:00:00+08:00</updated>
    <source><link href="/from-the-source-element"/><updated>2000-01-01T00:00:00Z</updated></source>
  </entry>
  <entry xml:base="/archive/">
    <link href="two.html"></link>
    <updated>2022-01-21T13:00:00+08:00</updated>
  </entry>
  <entry><id>tag:no-link</id><title>Skipped</title></entry>
</feed>"#,
        );
        assert_eq!(feed.kind, FeedKind::Atom);
        assert_eq!(
            urls(&feed),
            [
                "http://blog.example.test/2022/01/21/1.html",
                "http://blog.example.test/archive/two.html",
            ]
        );
        let first = &feed.entries[0];
        assert_eq!(first.title.as_deref(), Some("Rich title"));
        assert_eq!(first.published, time("2022-01-21T09:38:35+08:00"));
        assert_eq!(first.modified, time("2022-01-21T12:00:00+08:00"));
        assert_eq!(feed.entries[1].published, None);
    }

    #[test]
    fn sitemap_urlset_with_lastmod_and_image_extension() {
        let feed = parse_ok(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc> http://example.test/a?x=1&amp;y=2 </loc>
    <lastmod>2022-01-21</lastmod>
    <changefreq>daily</changefreq>
    <image:image><image:loc>http://img.example.test/1.jpg</image:loc></image:image>
  </url>
  <url><loc>/relative/b.html</loc><lastmod>2022-01-21T09:38:35+08:00</lastmod></url>
  <url><lastmod>2022-01-21</lastmod></url>
</urlset>"#,
        );
        assert_eq!(feed.kind, FeedKind::Sitemap);
        assert_eq!(
            urls(&feed),
            [
                "http://example.test/a?x=1&y=2",
                "http://example.test/relative/b.html"
            ]
        );
        assert_eq!(feed.entries[0].modified, time("2022-01-21T00:00:00+08:00"));
        assert_eq!(feed.entries[1].modified, time("2022-01-21T09:38:35+08:00"));
        assert_eq!(feed.entries[0].title, None);
    }

    #[test]
    fn google_news_sitemap() {
        let feed = parse_ok(
            r#"<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>http://example.test/n/1.html</loc>
    <news:news>
      <news:publication><news:name>演示财经网</news:name><news:language>zh</news:language></news:publication>
      <news:publication_date>2022-01-21T09:38:35+08:00</news:publication_date>
      <news:title>央行 &amp; 市场</news:title>
    </news:news>
  </url>
</urlset>"#
                .as_bytes(),
        );
        assert_eq!(feed.kind, FeedKind::Sitemap);
        let entry = &feed.entries[0];
        assert_eq!(entry.url, "http://example.test/n/1.html");
        assert_eq!(entry.title.as_deref(), Some("央行 & 市场"));
        assert_eq!(entry.published, time("2022-01-21T09:38:35+08:00"));
        assert_eq!(entry.modified, None);
    }

    #[test]
    fn sitemap_index_lists_child_sitemaps() {
        let feed = parse_ok(
            br#"<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>/sitemap-1.xml</loc><lastmod>2022-01-20T00:00:00+08:00</lastmod></sitemap>
  <sitemap><loc>http://example.test/sitemap-news.xml</loc></sitemap>
</sitemapindex>"#,
        );
        assert_eq!(feed.kind, FeedKind::SitemapIndex);
        assert_eq!(
            urls(&feed),
            [
                "http://example.test/sitemap-1.xml",
                "http://example.test/sitemap-news.xml"
            ]
        );
        assert_eq!(feed.entries[0].modified, time("2022-01-20T00:00:00+08:00"));
    }

    #[test]
    fn bom_and_gbk_declaration() {
        let mut with_bom = b"\xEF\xBB\xBF".to_vec();
        with_bom.extend_from_slice(
            "<?xml version=\"1.0\"?><rss><channel><item><title>早盘</title><link>/1</link></item></channel></rss>".as_bytes(),
        );
        let feed = parse_ok(&with_bom);
        assert_eq!(feed.entries[0].title.as_deref(), Some("早盘"));
        assert!(sniff(&with_bom, None));

        for label in ["gbk", "GB2312", "gb18030"] {
            let text = format!(
                "<?xml version='1.0' encoding='{label}'?>\n<rss><channel><item><title>人民币汇率中间价</title><link>http://example.test/新闻/1.htm</link></item></channel></rss>"
            );
            let (bytes, _, unmappable) = GBK.encode(&text);
            assert!(!unmappable);
            assert!(std::str::from_utf8(&bytes).is_err(), "really GBK bytes");
            let feed = parse_ok(&bytes);
            assert_eq!(
                feed.entries[0].title.as_deref(),
                Some("人民币汇率中间价"),
                "{label}"
            );
            assert_eq!(
                feed.entries[0].url,
                "http://example.test/%E6%96%B0%E9%97%BB/1.htm"
            );
        }
    }

    #[test]
    fn not_feeds_and_garbage() {
        let not_a_feed = |bytes: &[u8]| match parse(bytes, &base(), cst(), 10) {
            Err(FeedError::NotAFeed(root)) => root,
            other => panic!("{other:?}"),
        };
        assert_eq!(not_a_feed(b"<html><body>hi</body></html>"), "html");
        assert_eq!(not_a_feed(b""), "no root element");
        assert_eq!(not_a_feed(b"   \n"), "no root element");
        assert_eq!(
            not_a_feed(b"<?xml version=\"1.0\"?><!-- nothing -->"),
            "no root element"
        );
        assert!(matches!(
            parse(b"\x00\xff\xfe garbage <<<>>>", &base(), cst(), 10),
            Err(FeedError::Xml { .. } | FeedError::NotAFeed(_))
        ));
    }

    #[test]
    fn truncated_and_malformed_xml_are_errors() {
        let full = br#"<rss><channel><item><link>http://example.test/1</link></item><item><link>http://example.test/2</link></item></channel></rss>"#;
        for cut in 5..full.len() - 1 {
            match parse(&full[..cut], &base(), cst(), 10) {
                Err(FeedError::Xml { position, .. }) => assert!(position <= cut as u64),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
        assert_eq!(parse_ok(full).entries.len(), 2);
        assert!(matches!(
            parse(b"<rss><channel></item></channel></rss>", &base(), cst(), 10),
            Err(FeedError::Xml { .. })
        ));
        assert!(matches!(
            parse(
                b"<feed><entry><link href=\"x></entry></feed>",
                &base(),
                cst(),
                10
            ),
            Err(FeedError::Xml { .. })
        ));
    }

    #[test]
    fn max_entries_is_a_hard_bound() {
        let doc = |n: usize| {
            let items: String = (0..n)
                .map(|i| format!("<url><loc>http://example.test/{i}</loc></url>"))
                .collect();
            format!("<urlset>{items}</urlset>")
        };
        let ok = parse(doc(3).as_bytes(), &base(), cst(), 3).expect("at the limit");
        assert_eq!(ok.entries.len(), 3);
        assert_eq!(
            parse(doc(4).as_bytes(), &base(), cst(), 3),
            Err(FeedError::TooManyEntries(3))
        );
        assert_eq!(
            parse(doc(1).as_bytes(), &base(), cst(), 0),
            Err(FeedError::TooManyEntries(0))
        );
        // Entries without a URL still count: the bound is on work, not on output.
        let empty_items = format!("<rss><channel>{}</channel></rss>", "<item/>".repeat(5));
        assert_eq!(
            parse(empty_items.as_bytes(), &base(), cst(), 4),
            Err(FeedError::TooManyEntries(4))
        );
    }

    #[test]
    fn declared_entities_are_never_expanded() {
        let laughs = br#"<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY ext SYSTEM "file:///etc/passwd">
]>
<rss><channel><item><title>&lol3; &ext;</title><link>http://example.test/1</link></item></channel></rss>"#;
        let feed = parse_ok(laughs);
        assert_eq!(feed.entries[0].title.as_deref(), Some("&lol3; &ext;"));
    }

    #[test]
    fn trailing_bytes_after_the_root_are_ignored() {
        let feed = parse_ok(b"<urlset><url><loc>/a</loc></url></urlset><junk>");
        assert_eq!(urls(&feed), ["http://example.test/a"]);
    }

    #[test]
    fn sniffing_by_type_and_root() {
        let rss = b"<?xml version=\"1.0\"?>\n<!-- c --><rss version=\"2.0\"></rss>";
        assert!(sniff(rss, None));
        assert!(sniff(rss, Some("text/html")));
        assert!(sniff(
            b"<feed xmlns=\"http://www.w3.org/2005/Atom\">",
            Some("text/xml")
        ));
        assert!(sniff(b"<rdf:RDF xmlns:rdf=\"x\">", None));
        assert!(sniff(b"<urlset>", Some("application/xml; charset=utf-8")));
        assert!(sniff(b"<sitemapindex>", None));
        assert!(sniff(b"", Some("application/RSS+xml; charset=gbk")));
        assert!(sniff(b"", Some("application/atom+xml")));
        assert!(!sniff(b"<!DOCTYPE html><html><body>", Some("text/html")));
        assert!(!sniff(b"<note><to>x</to></note>", Some("application/xml")));
        assert!(!sniff(b"plain text", None));
        // The root must show up within the first KiB.
        let late = format!("<!--{}--><rss>", " ".repeat(SNIFF_LIMIT));
        assert!(!sniff(late.as_bytes(), None));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = sniff(&bytes, None);
            let _ = parse(&bytes, &base(), cst(), 5);
        }

        #[test]
        fn mangled_feeds_never_panic(
            cut in 0usize..400,
            flip in 0usize..400,
            byte in proptest::num::u8::ANY,
        ) {
            let mut doc = br#"<?xml version="1.0" encoding="gbk"?><feed xml:base="/b/"><entry><link href="a&amp;b"/><title>&#x41;<![CDATA[x]]></title><updated>2022-01-21</updated></entry></feed>"#.to_vec();
            doc.truncate(cut.min(doc.len()));
            if let Some(b) = doc.get_mut(flip) {
                *b = byte;
            }
            let _ = sniff(&doc, None);
            let result = parse(&doc, &base(), cst(), 5);
            if let Ok(feed) = result {
                for entry in feed.entries {
                    proptest::prop_assert!(entry.url.starts_with("http"));
                }
            }
        }
    }
}
