//! Small stand-alone pages shared by the fault host and the robots hosts.
//!
//! Their articles come from `generate` with a seed of their own, so every page has distinct
//! generated text (and a distinct fingerprint) and none repeats a mirror article unless a
//! test happens to build its mirror network from the same seed. Each route owns a fixed
//! slot of the pool, so a page's text never depends on which other routes exist.

use std::sync::LazyLock;

use super::article::{generate, Article, Lang};
use super::pages::escape;

/// Seed of the fixture articles ("fixtures" in ASCII).
const SEED: u64 = 0x6669_7874_7572_6573;

/// Articles in the pool: slots 0..24 are handed out by route, the rest feed `zh_article`.
const POOL_SIZE: usize = 48;

/// First slot searched for Chinese articles (the GBK fixtures).
const ZH_FROM: usize = 24;

static POOL: LazyLock<Vec<Article>> = LazyLock::new(|| generate(SEED, POOL_SIZE));

/// The fixture article in `slot` (taken modulo the pool size, so any slot is valid).
pub(crate) fn article(slot: usize) -> &'static Article {
    &POOL[slot % POOL_SIZE]
}

/// The `k`-th Chinese article from the reserved end of the pool (`k` < 2 is what the
/// fault host uses; the pool's language mix makes many more available).
pub(crate) fn zh_article(k: usize) -> &'static Article {
    POOL[ZH_FROM..]
        .iter()
        .filter(|a| a.lang == Lang::Zh)
        .nth(k)
        // Unreachable for the fixed seed (a test checks two exist); a non-Chinese page is
        // a better failure than a panic inside the server.
        .unwrap_or(&POOL[ZH_FROM + k % (POOL_SIZE - ZH_FROM)])
}

/// A minimal HTML document for `title` and `paragraphs`, with no charset declaration:
/// `<html><head><title>…</title></head><body><article><h1>…</h1><p>…</p>…</article></body></html>`.
pub(crate) fn page(title: &str, paragraphs: &[String]) -> String {
    let title = escape(title);
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect();
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )
}

/// `page` of a fixture article.
pub(crate) fn article_page(article: &Article) -> String {
    page(&article.title, &article.paragraphs)
}

/// A listing titled `title` that links every path in `hrefs`.
pub(crate) fn listing(title: &str, hrefs: &[&str]) -> String {
    let items: String = hrefs
        .iter()
        .map(|href| {
            let href = escape(href);
            format!("<li><a href=\"{href}\">{href}</a></li>")
        })
        .collect();
    format!(
        "<html><head><title>{title}</title></head><body><h1>{title}</h1><ul>{items}</ul></body></html>",
        title = escape(title)
    )
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn slots_hold_distinct_articles_and_two_chinese_ones_exist() {
        let titles: HashSet<&str> = (0..POOL_SIZE).map(|i| article(i).title.as_str()).collect();
        assert_eq!(titles.len(), POOL_SIZE);
        for k in 0..2 {
            assert_eq!(zh_article(k).lang, Lang::Zh);
        }
        assert_ne!(zh_article(0).title, zh_article(1).title);
        for i in 0..POOL_SIZE {
            assert!(article(i).paragraphs.len() >= 2);
        }
    }

    #[test]
    fn pages_follow_the_minimal_template() {
        let html = page("A <b>", &["one & two".to_string(), "three".to_string()]);
        assert_eq!(
            html,
            "<html><head><title>A &lt;b&gt;</title></head><body><article><h1>A &lt;b&gt;</h1><p>one &amp; two</p><p>three</p></article></body></html>"
        );
        let list = listing("L", &["/a.html", "/b?c=1&d=2"]);
        assert!(list.contains("<a href=\"/a.html\">"));
        assert!(list.contains("<a href=\"/b?c=1&amp;d=2\">"));
    }
}
