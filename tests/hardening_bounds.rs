//! Resource bounds through the real binary: pathological pages (100,000 nested tags, a tag
//! with a million attributes, a text node at the body cap, a body over it) end in outcomes
//! instead of hanging the crawl; a page with 1,000,000 links adds at most
//! `crawl.max_links_per_page` URLs; spider traps stop at the depth and URL-length limits.
//! No wall-clock assertions: a regression shows up as a test that never finishes.

mod common;

use std::path::Path;

use common::fixture::{article, config, FixtureServer, Reply};
use common::{text, trawl};

const LINK_CAP: usize = 100;
/// What every page of the growing trap appends to its URL.
const SESSION: &str = "/session-0123456789abcdef0123456789abcdef";

fn hostile(path: &str) -> Reply {
    match path {
        "/" => Reply::html(
            "<a href=/a/1.html>deep</a><a href=/a/2.html>attributes</a>\
             <a href=/a/3.html>big text</a><a href=/a/4.html>too big</a>\
             <a href=/a/5.html>fine</a><a href=/list/links>links</a>\
             <a href=/list/cal/1>calendar</a><a href=/list/grow/s>growing</a>",
        ),
        "/a/1.html" => Reply::html(format!(
            "<html><body>{}<p>deep text</p></body></html>",
            "<div>".repeat(100_000)
        )),
        "/a/2.html" => {
            let attrs: String = (0..1_000_000).map(|i| format!(" a{i}=x")).collect();
            Reply::html(format!("<html><body><div{attrs}>text</div></body></html>"))
        }
        "/a/3.html" => Reply::html(format!(
            "<html><body><h1>Big</h1><div class=body><p>{}</p></div></body></html>",
            "word ".repeat(6 * 1024 * 1024 / 5)
        )),
        "/a/4.html" => Reply::html("x".repeat(50 * 1024 * 1024)),
        "/a/5.html" => Reply::html(article(
            "Fine",
            &["An ordinary article among the hostile pages, with enough words to keep."],
        )),
        "/list/links" => {
            let mut page = String::with_capacity(24 * 1_000_000);
            for i in 0..1_000_000 {
                page.push_str(&format!("<a href=/a/{}.html></a>", 1_000_000 + i));
            }
            Reply::html(page)
        }
        p if p.starts_with("/list/cal/") => {
            // Every month links to the next one, for ever.
            let n: u64 = p["/list/cal/".len()..].parse().unwrap_or(0);
            Reply::html(format!("<a href=/list/cal/{}>next month</a>", n + 1))
        }
        p if p.starts_with("/list/grow/") => {
            // A session id that grows the URL on every page.
            Reply::html(format!("<a href={p}{SESSION}>continue</a>"))
        }
        _ => Reply::not_found(),
    }
}

fn crawl(dir: &Path, server: &FixtureServer) -> serde_json::Value {
    let cfg = dir.join("site.toml");
    let extra = format!(
        "max_depth = 6\nmax_body_bytes = 33554432\nmax_links_per_page = {LINK_CAP}\n\
         max_pages = 1000\n\n[url]\nmax_length = 160"
    );
    std::fs::write(&cfg, config(&[], &extra)).unwrap();
    let pin = format!("site.test={}", server.addr);
    let out = trawl(
        &[
            "crawl",
            "--config",
            cfg.to_str().unwrap(),
            "--resolve",
            &pin,
            "--format",
            "json",
        ],
        &dir.join("store"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn outcome(store: &Path, url: &str) -> String {
    let out = trawl(&["get", url], store);
    if out.status.success() {
        "archived".into()
    } else {
        text(&out.stderr)
    }
}

/// Every URL with a recorded outcome.
fn url_states(store: &Path) -> Vec<String> {
    let out = trawl(&["stats", "--format", "json"], store);
    assert!(out.status.success());
    let store = trawl::store::Store::open_existing(store).unwrap();
    store.url_states().map(|s| s.unwrap().url).collect()
}

#[test]
fn hostile_pages_and_traps_are_bounded() {
    let server = FixtureServer::start(|_, path| hostile(path));
    let dir = tempfile::tempdir().unwrap();
    let summary = crawl(dir.path(), &server);
    let store = dir.path().join("store");

    let o = outcome(&store, "http://site.test/a/1.html");
    assert!(
        o.contains("failed(too_complex") && o.contains("nest"),
        "{o}"
    );
    let o = outcome(&store, "http://site.test/a/2.html");
    assert!(
        o.contains("failed(too_complex") && o.contains("attributes"),
        "{o}"
    );
    let o = outcome(&store, "http://site.test/a/4.html");
    assert!(o.contains("failed(too_large"), "{o}");
    // A 6 MiB text node within the cap is read like any body.
    assert_eq!(outcome(&store, "http://site.test/a/3.html"), "archived");
    assert_eq!(outcome(&store, "http://site.test/a/5.html"), "archived");
    assert_eq!(summary["failures"]["too_complex"], 2, "{summary}");

    let urls = url_states(&store);
    // The million-link page: only the first LINK_CAP links entered the frontier.
    let linked: Vec<&String> = urls
        .iter()
        .filter(|u| {
            u.strip_prefix("http://site.test/a/")
                .and_then(|r| r.strip_suffix(".html"))
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| n >= 1_000_000)
        })
        .collect();
    assert_eq!(
        linked.len(),
        LINK_CAP,
        "{} linked URLs recorded",
        linked.len()
    );
    assert!(urls.contains(&format!(
        "http://site.test/a/{}.html",
        1_000_000 + LINK_CAP - 1
    )));

    // The calendar trap: months up to the depth limit are fetched, the next one is recorded
    // as skipped(max_depth), and nothing beyond it exists.
    let months: Vec<u64> = urls
        .iter()
        .filter_map(|u| u.strip_prefix("http://site.test/list/cal/"))
        .map(|n| n.parse().unwrap())
        .collect();
    // `/` is depth 0, month 1 depth 1, … month 6 depth 6; month 7 would be depth 7.
    assert_eq!(months.iter().max(), Some(&7), "{months:?}");
    assert_eq!(months.len(), 7);
    let o = outcome(&store, "http://site.test/list/cal/7");
    assert!(o.contains("skipped(max_depth)"), "{o}");

    // The growing URL stops at url.max_length (before the depth limit would stop it).
    let grown: Vec<&String> = urls.iter().filter(|u| u.contains("/list/grow/")).collect();
    assert!(!grown.is_empty());
    assert!(grown.iter().all(|u| u.len() <= 160), "{grown:?}");
    let longest = grown.iter().map(|u| u.len()).max().unwrap();
    assert!(longest + SESSION.len() > 160, "stopped early at {longest}");
    for u in grown {
        let o = outcome(&store, u);
        assert!(
            !o.contains("max_depth"),
            "the depth limit stopped it, not the length: {o}"
        );
    }
}
