//! Feeds and sitemaps on the demo network: hub documents a crawl can discover articles from
//! besides the HTML listings.
//!
//! The origin serves `/rss.xml` (RSS 2.0, the 50 newest articles, absolute links, RFC 2822
//! dates in +08:00) and `/sitemap.xml`, a sitemap index over `/sitemap-1.xml`,
//! `/sitemap-2.xml`, … (up to 100 articles each, with `lastmod`) and `/sitemap-news.xml` (a
//! Google News sitemap of the 20 newest). The blog serves `/feed.xml` (Atom, the 30 newest,
//! root-relative `href`s, so a reader must resolve them). Only carried articles appear; every
//! document is UTF-8 XML. Rendering is pure, like the rest of `render`.

use chrono::{DateTime, FixedOffset, SecondsFormat};

use super::article::{Article, Lang, BEIJING};
use super::pages::escape;
use super::render::{Mirror, Network, Response};

/// Items in the origin's RSS feed.
const RSS_ITEMS: usize = 50;
/// Articles per origin sitemap file.
const SITEMAP_CHUNK: usize = 100;
/// Articles in the origin's Google News sitemap.
const NEWS_ITEMS: usize = 20;
/// Entries in the blog's Atom feed.
const ATOM_ENTRIES: usize = 30;

/// The origin's feed routes (the blog's is `/feed.xml`).
const RSS_PATH: &str = "/rss.xml";
const SITEMAP_INDEX_PATH: &str = "/sitemap.xml";
const NEWS_SITEMAP_PATH: &str = "/sitemap-news.xml";
const ATOM_PATH: &str = "/feed.xml";

impl Network {
    /// Absolute URLs of the network's feed entry points: the origin's RSS feed and sitemap
    /// index, then the blog's Atom feed. The per-chunk and news sitemaps are reached through
    /// the index.
    pub fn feed_urls(&self) -> Vec<String> {
        vec![
            format!("http://{}{RSS_PATH}", Mirror::Origin.host()),
            format!("http://{}{SITEMAP_INDEX_PATH}", Mirror::Origin.host()),
            format!("http://{}{ATOM_PATH}", Mirror::Blog.host()),
        ]
    }
}

/// The feed or sitemap at `path` on `mirror`; `None` when `path` is not a feed route there,
/// so the caller goes on to its other routes.
pub(super) fn respond(network: &Network, mirror: Mirror, path: &str) -> Option<Response> {
    match (mirror, path) {
        (Mirror::Origin, RSS_PATH) => Some(xml("application/rss+xml", rss(network))),
        (Mirror::Origin, SITEMAP_INDEX_PATH) => {
            Some(xml("application/xml", sitemap_index(network)))
        }
        (Mirror::Origin, NEWS_SITEMAP_PATH) => Some(xml("application/xml", news_sitemap(network))),
        (Mirror::Origin, _) => {
            let chunk = sitemap_chunk(path)?;
            // A well-formed chunk name past the last chunk is a 404, like a missing page.
            Some(
                sitemap(network, chunk)
                    .map_or_else(Response::not_found, |body| xml("application/xml", body)),
            )
        }
        (Mirror::Blog, ATOM_PATH) => Some(xml("application/atom+xml", atom(network))),
        _ => None,
    }
}

/// A 200 response with a UTF-8 XML body.
fn xml(media_type: &str, body: String) -> Response {
    Response {
        status: 200,
        content_type: format!("{media_type}; charset=utf-8"),
        body: body.into_bytes(),
        headers: Vec::new(),
        behaviour: Default::default(),
    }
}

/// Which sitemap chunk `/sitemap-N.xml` names (N ≥ 1, digits only, no leading zero), if any.
fn sitemap_chunk(path: &str) -> Option<usize> {
    let number = path.strip_prefix("/sitemap-")?.strip_suffix(".xml")?;
    if number.is_empty() || number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    number.parse().ok()
}

/// Absolute origin URL of sitemap chunk `n`.
fn chunk_url(n: usize) -> String {
    format!("http://{}/sitemap-{n}.xml", Mirror::Origin.host())
}

/// Origin articles oldest first, so a chunk's contents never change when newer articles are
/// published: only the last chunk grows, and a recrawl can skip unchanged ones by `lastmod`.
fn oldest_first(network: &Network) -> impl DoubleEndedIterator<Item = usize> + '_ {
    network.newest_first(Mirror::Origin).iter().rev().copied()
}

/// Publication time as printed in sitemaps and Atom: RFC 3339 in +08:00, whole seconds.
fn w3c(time: DateTime<FixedOffset>) -> String {
    time.with_timezone(&BEIJING)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

/// The URL of carried article `i` on `mirror`, XML-escaped. Empty for an article the mirror
/// does not carry, which never happens for indices taken from its own listing.
fn loc(network: &Network, mirror: Mirror, i: usize) -> String {
    escape(&network.article_url(mirror, i).unwrap_or_default())
}

fn rss(network: &Network) -> String {
    let articles = network.articles();
    let newest = &network.newest_first(Mirror::Origin);
    let newest = &newest[..newest.len().min(RSS_ITEMS)];
    let host = Mirror::Origin.host();
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n<title>演示财经网</title>\n<link>http://{host}/</link>\n<description>财经要闻</description>\n<language>zh-cn</language>\n<atom:link href=\"http://{host}{RSS_PATH}\" rel=\"self\" type=\"application/rss+xml\"/>\n"
    );
    if let Some(&first) = newest.first() {
        out.push_str(&format!(
            "<lastBuildDate>{}</lastBuildDate>\n",
            rfc2822(&articles[first])
        ));
    }
    for &i in newest {
        let article = &articles[i];
        let url = loc(network, Mirror::Origin, i);
        out.push_str(&format!(
            "<item>\n<title>{}</title>\n<link>{url}</link>\n<guid isPermaLink=\"true\">{url}</guid>\n<pubDate>{}</pubDate>\n<category>{}</category>\n</item>\n",
            escape(&article.title),
            rfc2822(article),
            escape(&article.category),
        ));
    }
    out.push_str("</channel>\n</rss>\n");
    out
}

/// `Fri, 21 Jan 2022 09:38:35 +0800`.
fn rfc2822(article: &Article) -> String {
    article.published.with_timezone(&BEIJING).to_rfc2822()
}

fn sitemap_index(network: &Network) -> String {
    let articles = network.articles();
    let order: Vec<usize> = oldest_first(network).collect();
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for (n, chunk) in order.chunks(SITEMAP_CHUNK).enumerate() {
        // Oldest first, so the chunk's newest article is its last.
        let lastmod = chunk
            .last()
            .map(|&i| format!("<lastmod>{}</lastmod>", w3c(articles[i].published)))
            .unwrap_or_default();
        out.push_str(&format!(
            "<sitemap><loc>{}</loc>{lastmod}</sitemap>\n",
            chunk_url(n + 1)
        ));
    }
    let news_lastmod = network
        .newest_first(Mirror::Origin)
        .first()
        .map(|&i| format!("<lastmod>{}</lastmod>", w3c(articles[i].published)))
        .unwrap_or_default();
    out.push_str(&format!(
        "<sitemap><loc>http://{}{NEWS_SITEMAP_PATH}</loc>{news_lastmod}</sitemap>\n</sitemapindex>\n",
        Mirror::Origin.host()
    ));
    out
}

/// Sitemap chunk `n` (1-based); `None` past the last chunk.
fn sitemap(network: &Network, n: usize) -> Option<String> {
    let articles = network.articles();
    let order: Vec<usize> = oldest_first(network).collect();
    let chunk = order.chunks(SITEMAP_CHUNK).nth(n.checked_sub(1)?)?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for &i in chunk {
        out.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            loc(network, Mirror::Origin, i),
            w3c(articles[i].published)
        ));
    }
    out.push_str("</urlset>\n");
    Some(out)
}

fn news_sitemap(network: &Network) -> String {
    let articles = network.articles();
    let newest = network.newest_first(Mirror::Origin);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:news=\"http://www.google.com/schemas/sitemap-news/0.9\">\n",
    );
    for &i in &newest[..newest.len().min(NEWS_ITEMS)] {
        let article = &articles[i];
        let language = match article.lang {
            Lang::Zh => "zh-cn",
            Lang::En => "en",
        };
        out.push_str(&format!(
            "<url><loc>{}</loc><news:news><news:publication><news:name>演示财经网</news:name><news:language>{language}</news:language></news:publication><news:publication_date>{}</news:publication_date><news:title>{}</news:title></news:news></url>\n",
            loc(network, Mirror::Origin, i),
            w3c(article.published),
            escape(&article.title),
        ));
    }
    out.push_str("</urlset>\n");
    out
}

fn atom(network: &Network) -> String {
    let articles = network.articles();
    let newest = network.newest_first(Mirror::Blog);
    let newest = &newest[..newest.len().min(ATOM_ENTRIES)];
    let host = Mirror::Blog.host();
    let origin = format!("http://{host}");
    // Atom requires a feed-level `updated`; an empty blog reports the network's epoch.
    let updated = newest.first().map_or_else(
        || "2022-01-18T08:00:00+08:00".to_string(),
        |&i| w3c(articles[i].published),
    );
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>新闻档案</title>\n<id>http://{host}/</id>\n<link rel=\"self\" href=\"{ATOM_PATH}\"/>\n<link href=\"/\"/>\n<updated>{updated}</updated>\n"
    );
    for &i in newest {
        let article = &articles[i];
        let url = network.article_url(Mirror::Blog, i).unwrap_or_default();
        // Root-relative on purpose: a feed reader must resolve it against the feed's URL.
        let href = url.strip_prefix(&origin).unwrap_or(&url);
        let when = w3c(article.published);
        out.push_str(&format!(
            "<entry>\n<title>{}</title>\n<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<id>{}</id>\n<published>{when}</published>\n<updated>{when}</updated>\n<category term=\"{}\"/>\n</entry>\n",
            escape(&article.title),
            escape(href),
            escape(&url),
            escape(&article.category),
        ));
    }
    out.push_str("</feed>\n");
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use url::Url;

    use super::*;
    use crate::extract::feed::{self, Feed, FeedKind};

    /// Fetches `url` from the network and parses it as a feed, checking the media type.
    fn fetch(network: &Network, url: &str, media_type: &str) -> Feed {
        let url = Url::parse(url).expect("absolute URL");
        let host = url.host_str().unwrap_or_default();
        let path = match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        };
        let response = network.respond(host, &path);
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(
            response.content_type,
            format!("{media_type}; charset=utf-8")
        );
        assert!(feed::sniff(&response.body, Some(&response.content_type)));
        assert!(feed::sniff(&response.body, None), "{url}: root sniffable");
        feed::parse(&response.body, &url, BEIJING, 50_000).expect("valid feed")
    }

    fn origin(path: &str) -> String {
        format!("http://{}{path}", Mirror::Origin.host())
    }

    #[test]
    fn feed_urls_are_the_three_entry_points() {
        let network = Network::generate(3, 10);
        assert_eq!(
            network.feed_urls(),
            [
                "http://news.trawl-demo.test/rss.xml",
                "http://news.trawl-demo.test/sitemap.xml",
                "http://blog.newsarchive.test/feed.xml",
            ]
        );
    }

    #[test]
    fn every_origin_article_is_in_some_origin_sitemap() {
        let network = Network::generate(11, 250);
        let index = fetch(&network, &origin("/sitemap.xml"), "application/xml");
        assert_eq!(index.kind, FeedKind::SitemapIndex);
        let children: Vec<&str> = index.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(
            children,
            [
                origin("/sitemap-1.xml"),
                origin("/sitemap-2.xml"),
                origin("/sitemap-3.xml"),
                origin("/sitemap-news.xml"),
            ]
        );
        let mut listed = BTreeSet::new();
        for child in &index.entries[..3] {
            let sitemap = fetch(&network, &child.url, "application/xml");
            assert_eq!(sitemap.kind, FeedKind::Sitemap);
            assert!(sitemap.entries.len() <= SITEMAP_CHUNK);
            // The index's lastmod is the newest lastmod in the child.
            let newest = sitemap.entries.iter().filter_map(|e| e.modified).max();
            assert_eq!(child.modified, newest, "{}", child.url);
            for entry in sitemap.entries {
                let modified = entry.modified.expect("lastmod");
                assert!(listed.insert((entry.url, modified)), "listed twice");
            }
        }
        let carried: BTreeSet<_> = (0..network.articles().len())
            .filter(|&i| network.carries(Mirror::Origin, i))
            .filter_map(|i| {
                let url = network.article_url(Mirror::Origin, i)?;
                Some((url, network.articles()[i].published))
            })
            .collect();
        assert_eq!(carried.len(), 250);
        assert_eq!(listed, carried);
        for (n, count) in [(1, 100), (2, 100), (3, 50)] {
            let path = format!("/sitemap-{n}.xml");
            assert_eq!(
                fetch(&network, &origin(&path), "application/xml")
                    .entries
                    .len(),
                count
            );
        }
    }

    #[test]
    fn sitemap_chunks_are_stable_as_articles_are_added() {
        // Articles are oldest first in the chunks, so publishing more only grows the tail.
        let before =
            Network::from_articles(crate::demo::generate(5, 150), crate::demo::Carriage::All);
        let mut articles = crate::demo::generate(5, 150);
        let mut newer = crate::demo::generate(6, 30);
        for (k, article) in newer.iter_mut().enumerate() {
            article.id = format!("NW20990101{k:06}");
            article.published += chrono::TimeDelta::days(30);
        }
        articles.extend(newer);
        let after = Network::from_articles(articles, crate::demo::Carriage::All);
        let first = |network: &Network| network.respond(Mirror::Origin.host(), "/sitemap-1.xml");
        assert_eq!(first(&before), first(&after));
        assert_ne!(
            before.respond(Mirror::Origin.host(), "/sitemap-2.xml"),
            after.respond(Mirror::Origin.host(), "/sitemap-2.xml")
        );
    }

    #[test]
    fn rss_has_the_50_newest_newest_first() {
        let network = Network::generate(7, 120);
        let response = network.respond(Mirror::Origin.host(), "/rss.xml");
        let body = String::from_utf8(response.body).expect("UTF-8");
        assert!(
            body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"")
        );
        let rss = fetch(&network, &origin("/rss.xml"), "application/rss+xml");
        assert_eq!(rss.kind, FeedKind::Rss);
        assert_eq!(rss.entries.len(), RSS_ITEMS);
        let expected: Vec<String> = network.newest_first(Mirror::Origin)[..RSS_ITEMS]
            .iter()
            .filter_map(|&i| network.article_url(Mirror::Origin, i))
            .collect();
        let got: Vec<&str> = rss.entries.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(got, expected);
        assert!(rss
            .entries
            .windows(2)
            .all(|pair| pair[0].published > pair[1].published));
        for (entry, &i) in rss.entries.iter().zip(network.newest_first(Mirror::Origin)) {
            let article = &network.articles()[i];
            assert_eq!(entry.title.as_deref(), Some(article.title.as_str()));
            assert_eq!(entry.published, Some(article.published));
            assert_eq!(
                entry.published.map(|p| p.offset().local_minus_utc()),
                Some(8 * 3600)
            );
            assert!(body.contains(&format!(
                "<pubDate>{}</pubDate>",
                article.published.to_rfc2822()
            )));
            assert!(body.contains("+0800</pubDate>"));
        }
    }

    #[test]
    fn news_sitemap_has_the_20_newest_with_titles() {
        let network = Network::generate(8, 90);
        let news = fetch(&network, &origin("/sitemap-news.xml"), "application/xml");
        assert_eq!(news.kind, FeedKind::Sitemap);
        assert_eq!(news.entries.len(), NEWS_ITEMS);
        for (entry, &i) in news
            .entries
            .iter()
            .zip(network.newest_first(Mirror::Origin))
        {
            let article = &network.articles()[i];
            assert_eq!(
                Some(entry.url.clone()),
                network.article_url(Mirror::Origin, i)
            );
            assert_eq!(entry.title.as_deref(), Some(article.title.as_str()));
            assert_eq!(entry.published, Some(article.published));
        }
    }

    #[test]
    fn atom_resolves_to_blog_articles_that_are_served() {
        let network = Network::generate(9, 200);
        let response = network.respond(Mirror::Blog.host(), "/feed.xml");
        let body = String::from_utf8(response.body).expect("UTF-8");
        // The hrefs really are relative; resolution is the reader's job.
        assert!(!body.contains("href=\"http"));
        let atom = fetch(
            &network,
            &format!("http://{}/feed.xml", Mirror::Blog.host()),
            "application/atom+xml",
        );
        assert_eq!(atom.kind, FeedKind::Atom);
        assert_eq!(atom.entries.len(), ATOM_ENTRIES);
        let blog = network.newest_first(Mirror::Blog);
        for (entry, &i) in atom.entries.iter().zip(blog) {
            assert!(network.carries(Mirror::Blog, i));
            assert_eq!(
                Some(entry.url.clone()),
                network.article_url(Mirror::Blog, i)
            );
            let path = entry
                .url
                .strip_prefix(&format!("http://{}", Mirror::Blog.host()))
                .expect("on the blog host");
            assert_eq!(
                network.respond(Mirror::Blog.host(), path).status,
                200,
                "{path}"
            );
            assert_eq!(entry.published, Some(network.articles()[i].published));
            assert_eq!(entry.modified, entry.published);
        }
    }

    #[test]
    fn small_and_empty_networks_still_answer() {
        let small = Network::generate(2, 7);
        assert_eq!(
            fetch(&small, &origin("/rss.xml"), "application/rss+xml")
                .entries
                .len(),
            7
        );
        let empty = Network::generate(2, 0);
        for url in empty.feed_urls() {
            let media_type = if url.ends_with("rss.xml") {
                "application/rss+xml"
            } else if url.ends_with("feed.xml") {
                "application/atom+xml"
            } else {
                "application/xml"
            };
            assert!(fetch(&empty, &url, media_type).entries.len() <= 1, "{url}");
        }
        assert_eq!(
            empty
                .respond(Mirror::Origin.host(), "/sitemap-1.xml")
                .status,
            404
        );
    }

    #[test]
    fn non_routes_are_404() {
        let network = Network::generate(4, 150);
        let cases = [
            (Mirror::Origin, "/sitemap-0.xml"),
            (Mirror::Origin, "/sitemap-01.xml"),
            (Mirror::Origin, "/sitemap-3.xml"),
            (Mirror::Origin, "/sitemap-.xml"),
            (Mirror::Origin, "/sitemap-1.xml?x=1"),
            (Mirror::Origin, "/feed.xml"),
            (Mirror::Blog, "/rss.xml"),
            (Mirror::Blog, "/sitemap.xml"),
            (Mirror::FullWidth, "/rss.xml"),
            (Mirror::Gbk, "/sitemap.xml"),
        ];
        for (mirror, path) in cases {
            assert_eq!(
                network.respond(mirror.host(), path).status,
                404,
                "{mirror:?}{path}"
            );
        }
        assert_eq!(
            network
                .respond(Mirror::Origin.host(), "/sitemap-2.xml")
                .status,
            200
        );
    }
}
