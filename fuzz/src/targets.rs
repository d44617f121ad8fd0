//! What each fuzz target runs: one pure stage of trawl on arbitrary bytes, plus the invariants
//! that stage promises (a panic or a failed assertion is a finding). Kept free of libFuzzer so
//! `tests/fuzz_regressions.rs` can include this file and replay crash inputs on stable.

use std::sync::OnceLock;

use chrono::FixedOffset;
use scraper::{Html, Selector};
use trawl::extract::{self, date, feed, generic, Extractor, SiteRule};
use trawl::fetch::{charset, robots};
use trawl::fingerprint::{Fingerprinter, Normaliser};
use trawl::model::Post;
use trawl::scope::UrlPolicy;
use url::Url;

/// A target: bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// Every target, by name (the names of the `fuzz_targets/*.rs` files).
pub const ALL: [(&str, Target); 8] = [
    ("charset", charset),
    ("extract_site", extract_site),
    ("extract_generic", extract_generic),
    ("fingerprint", fingerprint),
    ("url_scope", url_scope),
    ("robots", robots),
    ("date", date),
    ("feed", feed),
];

fn zone() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

fn page_url() -> Url {
    Url::parse("http://news.trawl-demo.test/html_News/NewsShare.html?infoCode=NW1")
        .expect("literal URL")
}

/// Splits off the first line (a header, a base URL, …) from the rest.
fn first_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&[], data),
    }
}

/// Charset decoding: the first line is the `Content-Type` header (empty: none), the rest the
/// body. The decision must be describable and the text must round-trip through `String`.
pub fn charset(data: &[u8]) {
    let (header, body) = first_line(data);
    let header = String::from_utf8_lossy(header);
    let ct = (!header.is_empty()).then_some(header.as_ref());
    let decoded = charset::decode(body, ct);
    let _ = decoded.describe();
    // Decoding never invents text: at most a few UTF-8 bytes (a replacement character) per
    // input byte.
    assert!(
        decoded.text.len() <= 3 * body.len() + 3,
        "decoded text outgrew its bytes"
    );
}

fn site_rule() -> SiteRule {
    let sel = |s: &str| Selector::parse(s).expect("literal selector");
    SiteRule {
        name: "origin".into(),
        title: Some(sel("h1.newsTitle, h1")),
        body: sel("#ContentBody p, div.body p"),
        published: Some(sel(".time, time")),
        source: Some(sel(".source")),
        author: Some(sel(".author")),
        drop: vec![sel(".ad, script, style")],
    }
}

/// Decodes and parses like the crawl does, with the same bounds (a page too deep or with too
/// many attributes is refused, as in a crawl, so the fuzzer does not stall on html5ever's
/// known quadratic paths).
fn parse(data: &[u8]) -> Option<Html> {
    let decoded = charset::decode(data, Some("text/html"));
    extract::bounds::parse_document(&decoded.text).ok()
}

fn check_links(html: &Html) {
    let page = page_url();
    let links = extract::links_upto(html, &page, 64);
    assert!(links.len() <= 64);
    for l in links {
        assert!(
            l.username().is_empty() && l.password().is_none(),
            "credentials kept in {l}"
        );
    }
}

/// HTML extraction with a site rule (selectors like the demo origin's), and link discovery.
pub fn extract_site(data: &[u8]) {
    let Some(html) = parse(data) else { return };
    let ex = Extractor {
        rules: vec![Some(site_rule())],
        zone: zone(),
    };
    if let extract::Extraction::Post(p) = ex.extract(&html, &page_url(), Some(0)) {
        assert!(!p.body.is_empty(), "a post with an empty body");
    }
    check_links(&html);
}

/// The generic extractor on any page, and link discovery.
pub fn extract_generic(data: &[u8]) {
    let Some(html) = parse(data) else { return };
    let _ = generic::extract(&html, &page_url(), zone());
    check_links(&html);
}

/// Normalisation and fingerprinting of a body (lines of the input; the first is the title):
/// normalising is idempotent, and a fingerprint is a function of the normalised text.
pub fn fingerprint(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let title = lines.next().unwrap_or_default().to_string();
    let body: Vec<String> = lines.map(str::to_string).collect();
    // Built once: compiling the boilerplate patterns costs far more than one input.
    static FP: OnceLock<Fingerprinter> = OnceLock::new();
    let fp = FP.get_or_init(|| Fingerprinter {
        normaliser: Normaliser::new(true, &[], &[], true).expect("default patterns compile"),
        min_body_chars: 50,
        zone: zone(),
    });
    let once = fp.normaliser.normalise(&body);
    let twice = fp.normaliser.normalise(&once);
    assert_eq!(once, twice, "normalisation is not idempotent");
    let post = |body: Vec<String>| Post {
        url: page_url().to_string(),
        title: title.clone(),
        published: None,
        source: None,
        author: None,
        body,
        language: None,
        extractor: "fuzz".into(),
    };
    let a = fp.fingerprint(&post(body));
    let b = fp.fingerprint(&post(once));
    assert_eq!(
        a, b,
        "the fingerprint of a body and of its normal form differ"
    );
    if let Some(near) = a.and_then(|f| f.near) {
        let back = trawl::fingerprint::NearPrint::from_bytes(&near.to_bytes())
            .expect("a print decodes from its own encoding");
        assert_eq!(back, near);
    }
}

/// URL normalisation and scope: the first line is the base (may be empty), the rest a link.
/// A normal form is idempotent, http(s), without credentials or fragment, and within the
/// length cap.
pub fn url_scope(data: &[u8]) {
    let (base, raw) = first_line(data);
    let policy = UrlPolicy {
        max_len: 512,
        ..UrlPolicy::default()
    };
    let base = Url::parse(&String::from_utf8_lossy(base)).ok();
    let raw = String::from_utf8_lossy(raw);
    let Ok(url) = policy.normalise(&raw, base.as_ref()) else {
        return;
    };
    assert!(matches!(url.scheme(), "http" | "https"), "{url}");
    assert!(
        url.username().is_empty() && url.password().is_none(),
        "{url}"
    );
    assert!(url.fragment().is_none(), "{url}");
    assert!(url.as_str().len() <= 512, "{url}");
    let again = policy
        .normalise(url.as_str(), None)
        .unwrap_or_else(|e| panic!("normal form {url} does not normalise again: {e}"));
    assert_eq!(again, url, "normalisation is not idempotent");
    let _ = trawl::scope::path_and_query(&url);
    let _ = robots::robots_url(&url);
}

/// robots.txt parsing, then questions about it.
pub fn robots(data: &[u8]) {
    let robots::Verdict::Rules(rules) = robots::interpret(200, data, "trawl") else {
        panic!("a 200 robots.txt always yields rules");
    };
    let _ = rules.crawl_delay();
    let _ = rules.sitemaps();
    for path in ["/", "/private/x", "/a/1.html?x=1", "/%E4%B8%AD"] {
        let url = page_url().join(path).expect("literal path");
        let _ = rules.allows(&url);
    }
}

/// Date parsing: text dates, URL dates and UTC offsets.
pub fn date(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = date::parse_published(&text, zone());
    let _ = date::from_url(&text, zone());
    if let Some(z) = date::parse_offset(&text) {
        assert!(z.local_minus_utc().abs() < 86_400);
    }
}

/// Feed and sitemap parsing: at most `max` entries, each an absolute http(s) URL.
pub fn feed(data: &[u8]) {
    let _ = feed::sniff(data, None);
    let base = Url::parse("http://news.trawl-demo.test/feeds/rss.xml").expect("literal URL");
    if let Ok(parsed) = feed::parse(data, &base, zone(), 100) {
        assert!(parsed.entries.len() <= 100);
        for e in parsed.entries {
            let u =
                Url::parse(&e.url).unwrap_or_else(|_| panic!("entry URL {} is not a URL", e.url));
            assert!(matches!(u.scheme(), "http" | "https"), "{u}");
        }
    }
}
