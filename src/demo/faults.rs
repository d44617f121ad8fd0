//! The fault host, `faults.trawl-demo.test`: one route per way a real site misbehaves.
//!
//! Routes that fail first and recover later use `nth` (how often the server saw the same
//! host and path before), so a crawler's retries can be observed succeeding. Timed faults
//! (delay, drip, endless, cut, huge) are `Behaviour`s that the server carries out; here
//! they are only declared. Article pages use `fixtures` text, so each one fingerprints
//! distinctly. `/` links every route's entry point (not the inner redirect hops).

use std::io::{self, Write};
use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use flate2::write::{GzEncoder, ZlibEncoder};
use flate2::{Compression, Crc};

use super::article::Article;
use super::conditional::http_date;
use super::fixtures;
use super::render::{Behaviour, Response};

/// Host name of the fault host.
pub const FAULT_HOST: &str = "faults.trawl-demo.test";

/// The paths `/` on the fault host links, in listing order: every route's entry point.
/// The redirect chain's and the loop's other hops (`/redirect/2.html`,
/// `/redirect/3.html`, `/loop/b.html`) exist too but are only reached by redirects.
pub const FAULT_ROUTES: [&str; 17] = [
    "/flaky-500.html",
    "/busy-503.html",
    "/rate-429.html",
    "/always-500.html",
    "/timeout.html",
    "/drip.html",
    "/redirect/1.html",
    "/loop/a.html",
    "/huge.html",
    "/endless.html",
    "/gzip-bomb.html",
    "/cut.html",
    "/gbk-undeclared.html",
    "/utf8-lies.html",
    "/not-found.html",
    "/malformed.html",
    "/image.png",
];

/// Declared `Content-Length` of `/huge.html`: 20 MiB, over any sensible body cap.
pub const HUGE_LENGTH: u64 = 20 * 1024 * 1024;

/// Decompressed size of `/gzip-bomb.html`: 50 MiB of spaces.
pub const GZIP_BOMB_INFLATED: usize = 50 * 1024 * 1024;

/// How long `/timeout.html` waits before its head: longer than any client timeout a test
/// would configure.
const TIMEOUT_DELAY: Duration = Duration::from_secs(30);

/// Size `/cut.html` declares (it is padded to exactly this many bytes).
const CUT_PAGE_LEN: usize = 10 * 1024;

/// Body bytes `/cut.html` sends before hanging up.
const CUT_AFTER: usize = 100;

/// Fixture slot of each article route (see `fixtures::article`).
const ARTICLE_SLOTS: [(&str, usize); 8] = [
    ("/flaky-500.html", 0),
    ("/busy-503.html", 1),
    ("/rate-429.html", 2),
    ("/redirect/3.html", 3),
    ("/cut.html", 4),
    ("/timeout.html", 5),
    ("/drip.html", 6),
    ("/endless.html", 7),
];

/// The title and paragraphs of the article served (in the end, on success) at `path` on
/// the fault host, for comparing what a crawler stored; `None` for routes that never serve
/// an article. The charset routes are included, as the text they decode to.
pub fn fault_article(path: &str) -> Option<(String, Vec<String>)> {
    let article = article_at(path)?;
    Some((article.title.clone(), article.paragraphs.clone()))
}

/// The text of `/gbk-undeclared.html` (GBK bytes, no charset declared anywhere).
pub fn gbk_article() -> (String, Vec<String>) {
    let article = fixtures::zh_article(0);
    (article.title.clone(), article.paragraphs.clone())
}

/// The text of `/utf8-lies.html` (GBK bytes under a `charset=utf-8` header).
pub fn utf8_lies_article() -> (String, Vec<String>) {
    let article = fixtures::zh_article(1);
    (article.title.clone(), article.paragraphs.clone())
}

/// The fixture article behind `path`, if it serves one.
fn article_at(path: &str) -> Option<&'static Article> {
    match path {
        "/gbk-undeclared.html" => Some(fixtures::zh_article(0)),
        "/utf8-lies.html" => Some(fixtures::zh_article(1)),
        _ => ARTICLE_SLOTS
            .iter()
            .find(|(route, _)| *route == path)
            .map(|&(_, slot)| fixtures::article(slot)),
    }
}

/// The answer to the `nth` request (0-based) for `path` on the fault host.
pub(crate) fn respond(path: &str, nth: u64) -> Response {
    let first = nth == 0;
    match path {
        "/" => html(fixtures::listing("Fault host", &FAULT_ROUTES)),
        "/flaky-500.html" if first => Response::text(500, "500 Internal Server Error\n"),
        "/busy-503.html" if first => {
            Response::text(503, "503 Service Unavailable\n").with_header("Retry-After", "1")
        }
        "/rate-429.html" if first => Response::text(429, "429 Too Many Requests\n")
            .with_header("Retry-After", http_date(retry_at(Utc::now()))),
        "/always-500.html" => Response::text(500, "500 Internal Server Error\n"),
        "/timeout.html" => article(path).with_behaviour(Behaviour::DelayHead(TIMEOUT_DELAY)),
        "/drip.html" => article(path).with_behaviour(Behaviour::Drip {
            chunk: 1,
            interval: Duration::from_millis(200),
        }),
        "/redirect/1.html" => redirect(302, "/redirect/2.html"),
        "/redirect/2.html" => redirect(301, &format!("http://{FAULT_HOST}/redirect/3.html")),
        // Relative to the current directory on purpose: resolves to `/loop/b.html`.
        "/loop/a.html" => redirect(302, "b.html"),
        "/loop/b.html" => redirect(302, "/loop/a.html"),
        "/huge.html" => html("<html><head><title>Huge</title></head><body>".to_string())
            .with_behaviour(Behaviour::Padded(HUGE_LENGTH)),
        "/endless.html" => html("<html><head><title>Endless</title></head><body><p>".to_string())
            .with_behaviour(Behaviour::Endless),
        "/gzip-bomb.html" => Response {
            content_type: "text/html; charset=utf-8".to_string(),
            body: GZIP_BOMB.clone(),
            ..Response::text(200, "")
        }
        .with_header("Content-Encoding", "gzip"),
        "/cut.html" => html(padded(&article_html(path), CUT_PAGE_LEN))
            .with_behaviour(Behaviour::CutAfter(CUT_AFTER)),
        "/gbk-undeclared.html" => gbk(path, "text/html"),
        "/utf8-lies.html" => gbk(path, "text/html; charset=utf-8"),
        "/malformed.html" => Response {
            content_type: "text/html".to_string(),
            body: malformed(),
            ..Response::text(200, "")
        },
        "/image.png" => Response {
            content_type: "image/png".to_string(),
            body: PNG.clone(),
            ..Response::text(200, "")
        },
        // Includes `/robots.txt` (no rules) and `/not-found.html`.
        _ => match article_at(path) {
            Some(_) => article(path),
            None => Response::not_found(),
        },
    }
}

/// A 200 UTF-8 HTML response.
fn html(page: String) -> Response {
    Response {
        content_type: "text/html; charset=utf-8".to_string(),
        body: page.into_bytes(),
        ..Response::text(200, "")
    }
}

/// The fixture page of the article route `path` (empty for a non-article path).
fn article_html(path: &str) -> String {
    article_at(path)
        .map(fixtures::article_page)
        .unwrap_or_default()
}

/// A 200 page for the article route `path`.
fn article(path: &str) -> Response {
    html(article_html(path))
}

/// The article of `path` as GBK bytes (no `<meta>`), under `content_type`.
fn gbk(path: &str, content_type: &str) -> Response {
    // Fixture Chinese text is GBK-encodable, so no character is replaced.
    let page = article_html(path);
    let (bytes, _, _) = encoding_rs::GBK.encode(&page);
    Response {
        content_type: content_type.to_string(),
        body: bytes.into_owned(),
        ..Response::text(200, "")
    }
}

/// A redirect with `location` (relative or absolute) and a tiny body.
fn redirect(status: u16, location: &str) -> Response {
    Response::text(status, &format!("Moved to {location}\n")).with_header("Location", location)
}

/// `page` grown to `len` bytes with an HTML comment before `</body>` (unchanged if it is
/// already that long).
fn padded(page: &str, len: usize) -> String {
    const COMMENT: usize = "<!--".len() + "-->".len();
    let missing = len.saturating_sub(page.len() + COMMENT);
    if missing == 0 {
        return page.to_string();
    }
    let (head, tail) = page.split_at(page.rfind("</body>").unwrap_or(page.len()));
    format!("{head}<!--{}-->{tail}", ".".repeat(missing))
}

/// The `Retry-After` date for a 429 sent at `now`: at least one second after it. HTTP-dates
/// have whole seconds, so the next whole second is rounded up to rather than down.
fn retry_at(now: DateTime<Utc>) -> DateTime<Utc> {
    let round_up = i64::from(now.timestamp_subsec_nanos() > 0);
    DateTime::from_timestamp(now.timestamp() + 1 + round_up, 0).unwrap_or(now)
}

/// Broken markup with invalid UTF-8: unclosed and stray tags, NUL bytes, malformed byte
/// sequences, 100 nested `<div>`s and an unterminated comment.
fn malformed() -> Vec<u8> {
    let mut bytes = Vec::new();
    bytes.extend_from_slice(
        b"<html><head><title>Malformed <b>page</title><body><p>Unclosed <b>bold <i>italic < stray << >> a<b c=\"d\n",
    );
    bytes.extend_from_slice(&[0, 0, b'x', 0]);
    // A lone 0xFF, a lone continuation byte, a bad two-byte sequence, a truncated
    // three-byte one.
    bytes.extend_from_slice(&[0xff, 0xfe, b' ', 0x80, b' ', 0xc3, 0x28, b' ', 0xe4, 0xb8]);
    for _ in 0..100 {
        bytes.extend_from_slice(b"<div>");
    }
    bytes.extend_from_slice(b"deep text</span></td></table><p>after<!-- unterminated comment");
    bytes
}

/// The gzip bomb body, built on first use: compressing 50 MiB takes a moment, and most
/// test runs never ask for it.
static GZIP_BOMB: LazyLock<Vec<u8>> = LazyLock::new(|| {
    // Writing into a `Vec` cannot fail, so the error arm is unreachable in practice.
    gzip_spaces(GZIP_BOMB_INFLATED).unwrap_or_default()
});

/// gzip of `len` spaces, compressed in blocks so the input is never held in memory.
fn gzip_spaces(len: usize) -> io::Result<Vec<u8>> {
    let block = [b' '; 64 * 1024];
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    let mut left = len;
    while left > 0 {
        let n = left.min(block.len());
        encoder.write_all(&block[..n])?;
        left -= n;
    }
    encoder.finish()
}

/// A valid 1×1 PNG, so that content sniffers agree with the `image/png` header.
static PNG: LazyLock<Vec<u8>> = LazyLock::new(|| png_1x1().unwrap_or_default());

/// Builds a 1×1 8-bit RGB PNG: signature, IHDR, IDAT, IEND.
fn png_1x1() -> io::Result<Vec<u8>> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        // Chunk data is tiny here, so the length always fits in 32 bits.
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut crc = Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&crc.sum().to_be_bytes());
    }
    let mut zlib = ZlibEncoder::new(Vec::new(), Compression::default());
    // One scanline: filter type 0, then one orange pixel.
    zlib.write_all(&[0, 0xff, 0x80, 0x00])?;
    let idat = zlib.finish()?;
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut png, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
    chunk(&mut png, b"IDAT", &idat);
    chunk(&mut png, b"IEND", &[]);
    Ok(png)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use flate2::read::GzDecoder;

    use super::super::conditional::parse_http_date;
    use super::*;

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(response: &Response) -> String {
        String::from_utf8(response.body.clone()).expect("UTF-8 body")
    }

    #[test]
    fn index_links_every_route_and_robots_is_missing() {
        let index = respond("/", 0);
        assert_eq!(index.status, 200);
        let page = text(&index);
        for route in FAULT_ROUTES {
            assert!(page.contains(&format!("<a href=\"{route}\">")), "{route}");
        }
        assert_eq!(respond("/robots.txt", 0).status, 404);
        assert_eq!(respond("/not-found.html", 0).status, 404);
        assert_eq!(respond("/not-found.html", 3).status, 404);
        assert_eq!(respond("/nope.html", 0).status, 404);
    }

    #[test]
    fn transient_failures_recover_on_the_second_request() {
        let flaky = respond("/flaky-500.html", 0);
        assert_eq!(flaky.status, 500);
        let busy = respond("/busy-503.html", 0);
        assert_eq!(
            (busy.status, header(&busy, "Retry-After")),
            (503, Some("1"))
        );

        let before = Utc::now();
        let rate = respond("/rate-429.html", 0);
        assert_eq!(rate.status, 429);
        let after = parse_http_date(header(&rate, "Retry-After").expect("Retry-After"))
            .expect("an HTTP-date");
        let wait = after - before;
        assert!(
            wait >= chrono::TimeDelta::seconds(1) && wait <= chrono::TimeDelta::seconds(3),
            "{wait}"
        );

        for path in ["/flaky-500.html", "/busy-503.html", "/rate-429.html"] {
            for nth in [1, 2, 7] {
                let page = respond(path, nth);
                assert_eq!(page.status, 200, "{path} #{nth}");
                assert!(page.headers.is_empty());
                let (title, _) = fault_article(path).expect("an article route");
                assert!(text(&page).contains(&format!(
                    "<title>{}</title>",
                    super::super::pages::escape(&title)
                )));
            }
        }
        for nth in [0, 1, 5] {
            assert_eq!(respond("/always-500.html", nth).status, 500);
        }
    }

    #[test]
    fn retry_dates_round_up_to_whole_seconds() {
        let at = |s, ns| DateTime::from_timestamp(s, ns).expect("in range");
        assert_eq!(retry_at(at(100, 0)), at(101, 0));
        assert_eq!(retry_at(at(100, 1)), at(102, 0));
        assert_eq!(retry_at(at(100, 999_999_999)), at(102, 0));
    }

    #[test]
    fn timed_routes_declare_their_behaviour() {
        let cases = [
            (
                "/timeout.html",
                Behaviour::DelayHead(Duration::from_secs(30)),
            ),
            (
                "/drip.html",
                Behaviour::Drip {
                    chunk: 1,
                    interval: Duration::from_millis(200),
                },
            ),
            ("/endless.html", Behaviour::Endless),
            ("/huge.html", Behaviour::Padded(HUGE_LENGTH)),
            ("/cut.html", Behaviour::CutAfter(100)),
        ];
        for (path, behaviour) in cases {
            for nth in [0, 1] {
                let response = respond(path, nth);
                assert_eq!(response.status, 200, "{path}");
                assert_eq!(response.behaviour, behaviour, "{path}");
            }
        }
        assert_eq!(respond("/cut.html", 0).body.len(), CUT_PAGE_LEN);
        let cut = text(&respond("/cut.html", 0));
        assert!(cut.contains("</article><!--.") && cut.ends_with("--></body></html>"));
        assert_eq!(respond("/flaky-500.html", 1).behaviour, Behaviour::Normal);
    }

    #[test]
    fn redirects_chain_and_loop() {
        let hop = |path: &str| {
            let r = respond(path, 0);
            (r.status, header(&r, "Location").map(str::to_string))
        };
        assert_eq!(
            hop("/redirect/1.html"),
            (302, Some("/redirect/2.html".into()))
        );
        assert_eq!(
            hop("/redirect/2.html"),
            (
                301,
                Some("http://faults.trawl-demo.test/redirect/3.html".into())
            )
        );
        assert_eq!(hop("/redirect/3.html"), (200, None));
        assert_eq!(hop("/loop/a.html"), (302, Some("b.html".into())));
        assert_eq!(hop("/loop/b.html"), (302, Some("/loop/a.html".into())));
    }

    #[test]
    fn gzip_bomb_inflates_to_fifty_mebibytes_of_spaces() {
        let bomb = respond("/gzip-bomb.html", 0);
        assert_eq!(bomb.status, 200);
        assert_eq!(header(&bomb, "Content-Encoding"), Some("gzip"));
        assert!(bomb.body.len() < 256 * 1024, "{}", bomb.body.len());
        let mut inflated = 0usize;
        let mut decoder = GzDecoder::new(bomb.body.as_slice());
        let mut block = vec![0u8; 1 << 20];
        loop {
            let n = decoder.read(&mut block).expect("valid gzip");
            if n == 0 {
                break;
            }
            assert!(block[..n].iter().all(|&b| b == b' '));
            inflated += n;
        }
        assert_eq!(inflated, GZIP_BOMB_INFLATED);
    }

    #[test]
    fn charset_routes_are_gbk_without_or_against_declarations() {
        for (path, content_type, expected) in [
            ("/gbk-undeclared.html", "text/html", gbk_article()),
            (
                "/utf8-lies.html",
                "text/html; charset=utf-8",
                utf8_lies_article(),
            ),
        ] {
            let response = respond(path, 0);
            assert_eq!(response.status, 200);
            assert_eq!(response.content_type, content_type);
            assert!(String::from_utf8(response.body.clone()).is_err(), "{path}");
            let (page, had_errors) =
                encoding_rs::GB18030.decode_without_bom_handling(&response.body);
            assert!(!had_errors && !page.contains("&#"), "{path}");
            assert!(!page.to_ascii_lowercase().contains("charset"), "{path}");
            let (title, paragraphs) = expected;
            assert_eq!(fixtures::page(&title, &paragraphs), page, "{path}");
            assert!(paragraphs.len() >= 2);
        }
        assert_ne!(gbk_article(), utf8_lies_article());
    }

    #[test]
    fn article_routes_have_distinct_texts() {
        let mut texts: Vec<(String, Vec<String>)> = ARTICLE_SLOTS
            .iter()
            .filter_map(|(path, _)| fault_article(path))
            .collect();
        texts.push(gbk_article());
        texts.push(utf8_lies_article());
        let count = texts.len();
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), count);
        assert_eq!(fault_article("/always-500.html"), None);
    }

    #[test]
    fn malformed_and_binary_routes() {
        let page = respond("/malformed.html", 0);
        assert_eq!(
            (page.status, page.content_type.as_str()),
            (200, "text/html")
        );
        assert!(String::from_utf8(page.body.clone()).is_err());
        assert!(page.body.contains(&0));
        let lossy = String::from_utf8_lossy(&page.body);
        assert_eq!(lossy.matches("<div>").count(), 100);

        let image = respond("/image.png", 0);
        assert_eq!(
            (image.status, image.content_type.as_str()),
            (200, "image/png")
        );
        assert!(image.body.starts_with(b"\x89PNG\r\n\x1a\n"));
        assert!(image.body.ends_with(&[0xae, 0x42, 0x60, 0x82]), "IEND CRC");
    }
}
