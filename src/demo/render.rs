//! The demo mirror network: which host carries which article, and what each URL returns.
//!
//! `Network::respond_nth` is a function from `(host, path_and_query, nth, request headers)`
//! to a `Response`, so listings, article pages, 304s, 404s and the fault and robots hosts
//! can be tested without sockets; the HTTP server in `server` only counts requests (`nth`)
//! and puts the answer on the wire as its `Behaviour` says. The mirrors are pure lookups;
//! the fault host (`faults`) and the robots hosts (`robots`) are dispatched from here too.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::article::{generate, Article, Lang, BEIJING};
use super::conditional;
use super::faults;
use super::pages::{self, Entry, Pager};
use super::rng::mix64;
use super::robots;

/// `Last-Modified` of every mirror listing page: 2022-01-24 00:00:00 UTC, after the last
/// article the generator can date (five days from 2022-01-18), so it never precedes one.
const LISTING_MODIFIED: DateTime<Utc> = match DateTime::from_timestamp(1_642_982_400, 0) {
    Some(time) => time,
    // Evaluated at compile time, so a bad constant is a build error, never a runtime panic.
    None => panic!("2022-01-24T00:00:00Z is representable"),
};

/// `host` without a `:port` suffix or a trailing dot; case is kept, so compare with
/// `eq_ignore_ascii_case`.
pub(crate) fn bare_host(host: &str) -> &str {
    let host = host.trim();
    let host = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    host.strip_suffix('.').unwrap_or(host)
}

/// The four demo hosts. Host names are constants; `Mirror::host()` returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mirror {
    /// `news.trawl-demo.test`: the original publisher, UTF-8, carries every article.
    Origin,
    /// `m.finmirror.test`: a mobile mirror that rewrites digits and punctuation to full width.
    FullWidth,
    /// `blog.newsarchive.test`: a static blog archive with Jekyll-style front matter.
    Blog,
    /// `www.gbk-news.test`: a legacy site serving GBK bytes, charset only in `<meta>`.
    Gbk,
}

impl Mirror {
    /// Every mirror, in a fixed order (also the order of `Network::seed_urls`).
    pub const ALL: [Mirror; 4] = [Mirror::Origin, Mirror::FullWidth, Mirror::Blog, Mirror::Gbk];

    /// The host name this mirror is served under.
    pub fn host(self) -> &'static str {
        match self {
            Mirror::Origin => "news.trawl-demo.test",
            Mirror::FullWidth => "m.finmirror.test",
            Mirror::Blog => "blog.newsarchive.test",
            Mirror::Gbk => "www.gbk-news.test",
        }
    }

    /// The mirror for a `Host` header value: case-insensitive, ignoring a `:port` suffix
    /// and a trailing dot.
    pub fn from_host(host: &str) -> Option<Mirror> {
        let host = bare_host(host);
        Mirror::ALL
            .into_iter()
            .find(|mirror| mirror.host().eq_ignore_ascii_case(host))
    }

    /// The path a crawl of this host starts from (its first listing page).
    pub fn index_path(self) -> &'static str {
        "/"
    }

    /// Position in `ALL`, used to index per-mirror tables.
    fn slot(self) -> usize {
        match self {
            Mirror::Origin => 0,
            Mirror::FullWidth => 1,
            Mirror::Blog => 2,
            Mirror::Gbk => 3,
        }
    }

    /// Articles per listing page (per category page on the blog).
    fn per_page(self) -> usize {
        match self {
            Mirror::Origin => 50,
            Mirror::FullWidth => 40,
            Mirror::Blog => 10,
            Mirror::Gbk => 30,
        }
    }

    /// Root-relative URL of `article` on this mirror (whether or not it is carried).
    fn article_path(self, article: &Article) -> String {
        let id = &article.id;
        match self {
            Mirror::Origin => Mirror::Origin.article_path_for_id(id),
            Mirror::FullWidth => format!("/news/{id}.shtml"),
            Mirror::Blog => {
                let digits = id.strip_prefix("NW").unwrap_or(id);
                let date = article.published.with_timezone(&BEIJING).format("%Y/%m/%d");
                format!("/{date}/{digits}.html")
            }
            Mirror::Gbk => format!("/a/{id}.htm"),
        }
    }

    /// The origin's share-page path for an article id.
    fn article_path_for_id(self, id: &str) -> String {
        format!("/html_News/NewsShare.html?infoCode={id}")
    }

    /// Root-relative URL of listing page `page` (1-based) on a paginated host.
    fn listing_path(self, page: usize) -> String {
        match (self, page) {
            (_, 1) => "/".to_string(),
            (Mirror::Origin, n) => format!("/html_News/index_{n}.html"),
            (Mirror::FullWidth, n) => format!("/list/{n}.shtml"),
            (Mirror::Gbk, n) => format!("/index_{n}.htm"),
            // The blog paginates per category; see `category_path`.
            (Mirror::Blog, _) => "/".to_string(),
        }
    }

    /// Which listing page `path` is on a paginated host, if it is one (canonical form only:
    /// page 1 is `/`, and page numbers have no leading zeros).
    fn listing_page(self, path: &str) -> Option<usize> {
        if path == "/" {
            return Some(1);
        }
        let number = match self {
            Mirror::Origin => path
                .strip_prefix("/html_News/index_")?
                .strip_suffix(".html")?,
            Mirror::FullWidth => path.strip_prefix("/list/")?.strip_suffix(".shtml")?,
            Mirror::Gbk => path.strip_prefix("/index_")?.strip_suffix(".htm")?,
            Mirror::Blog => return None,
        };
        page_number(number)
    }
}

/// Parses a page number ≥ 2 written canonically (digits only, no leading zero).
fn page_number(text: &str) -> Option<usize> {
    if text.is_empty() || text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n >= 2)
}

/// Root-relative URL of page `page` of a blog category.
fn category_path(category: &str, page: usize) -> String {
    if page == 1 {
        format!("/category/{category}/")
    } else {
        format!("/category/{category}/page/{page}/")
    }
}

/// Which mirrors carry which article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carriage {
    /// Every mirror carries every article (the GBK mirror too, English included).
    All,
    /// A deterministic subset drawn from this seed: the origin carries every article; the
    /// full-width mirror about 70% and the blog about 60% (independent choices per article);
    /// the GBK mirror about 60% of the Chinese articles and none of the English ones.
    Seeded(u64),
}

/// Salts that make each mirror's pseudo-random choice independent of the others'.
const CARRIAGE_SALT: [u64; 4] = [
    0x6f72_6967_696e_0000,
    0x6675_6c6c_7769_6474,
    0x626c_6f67_0000_0000,
    0x6762_6b00_0000_0000,
];

impl Carriage {
    /// Whether `mirror` carries `article`, the `index`-th article of the network.
    fn carries(self, mirror: Mirror, index: usize, article: &Article) -> bool {
        let Carriage::Seeded(seed) = self else {
            return true;
        };
        let roll = mix64(mix64(seed ^ CARRIAGE_SALT[mirror.slot()]) ^ mix64(index as u64)) % 100;
        match mirror {
            Mirror::Origin => true,
            Mirror::FullWidth => roll < 70,
            Mirror::Blog => roll < 60,
            Mirror::Gbk => article.lang == Lang::Zh && roll < 60,
        }
    }
}

/// How the server puts a `Response` on the wire. Everything but `Normal` is a fault that a
/// crawler must survive; the server keeps answering other connections meanwhile, stops
/// as soon as the client hangs up, and ends every one of them promptly on shutdown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Behaviour {
    /// Head and body at once, framed by `Content-Length`.
    #[default]
    Normal,
    /// Sleeps this long before sending anything, then answers normally.
    DelayHead(Duration),
    /// Declares a plausible 64 KiB `Content-Length` (under any body cap, so only a timeout can end it), then sends `chunk` bytes (the body, then spaces)
    /// every `interval` until the client goes away: a slowloris response.
    Drip {
        /// Bytes per write (at least 1 is sent).
        chunk: usize,
        /// Pause between writes.
        interval: Duration,
    },
    /// No `Content-Length` and `Connection: close`, then the body followed by spaces,
    /// as fast as the client reads, forever.
    Endless,
    /// Declares the full `Content-Length` but closes the connection after this many body
    /// bytes.
    CutAfter(usize),
    /// Declares a `Content-Length` of this many bytes (or the body's, if longer) and sends
    /// the body followed by zero bytes up to it, as fast as the client reads; nothing that
    /// large is ever held in memory.
    Padded(u64),
}

/// What a demo URL returns; the server adds framing (`Content-Length`, `Connection`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Value of the `Content-Type` header.
    pub content_type: String,
    /// Body bytes, already in the page's encoding.
    pub body: Vec<u8>,
    /// Extra response headers (e.g. `Location`, `Retry-After` for fault routes). Framing
    /// headers in here are ignored by the server, which writes its own.
    pub headers: Vec<(String, String)>,
    /// How the server sends it; `Normal` for everything but the fault routes.
    pub behaviour: Behaviour,
}

impl Response {
    /// A UTF-8 HTML page.
    fn html(page: String) -> Response {
        Response {
            status: 200,
            content_type: "text/html; charset=utf-8".to_string(),
            body: page.into_bytes(),
            headers: Vec::new(),
            behaviour: Behaviour::Normal,
        }
    }

    /// A GBK HTML page whose charset is declared only in its `<meta>` element.
    fn gbk(page: String) -> Response {
        // Text that GBK cannot map is written as numeric character references by the
        // encoder, which still decodes to the same text in a browser, so it is not an error.
        let (bytes, _, _) = encoding_rs::GBK.encode(&page);
        Response {
            status: 200,
            content_type: "text/html".to_string(),
            body: bytes.into_owned(),
            headers: Vec::new(),
            behaviour: Behaviour::Normal,
        }
    }

    /// The 404 returned for every unknown host or path.
    pub(crate) fn not_found() -> Response {
        Response {
            status: 404,
            content_type: "text/plain; charset=utf-8".to_string(),
            body: b"404 Not Found\n".to_vec(),
            headers: Vec::new(),
            behaviour: Behaviour::Normal,
        }
    }

    /// A short plain-text answer, e.g. a 5xx from a fault route.
    pub(crate) fn text(status: u16, text: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8".to_string(),
            body: text.as_bytes().to_vec(),
            headers: Vec::new(),
            behaviour: Behaviour::Normal,
        }
    }

    /// Adds a header (builder style, for the fault routes).
    pub(crate) fn with_header(mut self, name: &str, value: impl Into<String>) -> Response {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Sets the behaviour (builder style, for the fault routes).
    pub(crate) fn with_behaviour(mut self, behaviour: Behaviour) -> Response {
        self.behaviour = behaviour;
        self
    }
}

/// The demo network: the articles plus which mirror carries which, with every route
/// precomputed so that `respond` is a lookup and a render.
#[derive(Clone, Debug)]
pub struct Network {
    articles: Vec<Article>,
    /// `carried[i][mirror.slot()]`.
    carried: Vec<[bool; 4]>,
    /// Per mirror: indices of carried articles, newest first.
    listings: [Vec<usize>; 4],
    /// Per mirror: root-relative article path → article index.
    routes: [HashMap<String, usize>; 4],
    /// Origin listing position of each article, for the "related" block.
    origin_position: Vec<Option<usize>>,
    /// Blog categories (sorted) → indices of carried articles, newest first.
    categories: BTreeMap<String, Vec<usize>>,
}

impl Network {
    /// `generate(seed, n)` carried as `Carriage::Seeded(seed)`.
    pub fn generate(seed: u64, n: usize) -> Network {
        Network::from_articles(generate(seed, n), Carriage::Seeded(seed))
    }

    /// A network over any articles. Ids should be unique and URL-safe (as `generate`'s
    /// are); when two articles share an id, the first one wins that URL.
    pub fn from_articles(articles: Vec<Article>, carriage: Carriage) -> Network {
        let carried: Vec<[bool; 4]> = articles
            .iter()
            .enumerate()
            .map(|(i, article)| Mirror::ALL.map(|mirror| carriage.carries(mirror, i, article)))
            .collect();

        let mut newest_first: Vec<usize> = (0..articles.len()).collect();
        newest_first.sort_by(|&a, &b| (articles[b].published, b).cmp(&(articles[a].published, a)));
        let listings = Mirror::ALL.map(|mirror| {
            newest_first
                .iter()
                .copied()
                .filter(|&i| carried[i][mirror.slot()])
                .collect::<Vec<_>>()
        });

        let routes = Mirror::ALL.map(|mirror| {
            let mut routes = HashMap::new();
            for &i in &listings[mirror.slot()] {
                routes
                    .entry(mirror.article_path(&articles[i]))
                    .and_modify(|first: &mut usize| *first = (*first).min(i))
                    .or_insert(i);
            }
            routes
        });

        let mut origin_position = vec![None; articles.len()];
        for (position, &i) in listings[Mirror::Origin.slot()].iter().enumerate() {
            origin_position[i] = Some(position);
        }

        let mut categories: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for &i in &listings[Mirror::Blog.slot()] {
            categories
                .entry(articles[i].category.clone())
                .or_default()
                .push(i);
        }

        Network {
            articles,
            carried,
            listings,
            routes,
            origin_position,
            categories,
        }
    }

    /// All articles, in generation order; `article_index` arguments index into this.
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }

    /// Whether `mirror` carries article `article_index` (false when out of range).
    pub fn carries(&self, mirror: Mirror, article_index: usize) -> bool {
        self.carried
            .get(article_index)
            .is_some_and(|mirrors| mirrors[mirror.slot()])
    }

    /// Absolute URL (`http://host/path`) of the article on `mirror`; `None` if not carried.
    pub fn article_url(&self, mirror: Mirror, article_index: usize) -> Option<String> {
        if !self.carries(mirror, article_index) {
            return None;
        }
        let article = &self.articles[article_index];
        Some(format!(
            "http://{}{}",
            mirror.host(),
            mirror.article_path(article)
        ))
    }

    /// `http://<host>/` for each mirror, in `Mirror::ALL` order.
    pub fn seed_urls(&self) -> Vec<String> {
        Mirror::ALL
            .iter()
            .map(|mirror| format!("http://{}{}", mirror.host(), mirror.index_path()))
            .collect()
    }

    /// The response for a first, unconditional request to `host` (a `Host` header value,
    /// port allowed) and `path_and_query` (the request target in origin form): the same as
    /// `respond_nth(host, path_and_query, 0, &[])`. Anything unknown, including an unknown
    /// host or a non-canonical page number, is a 404.
    pub fn respond(&self, host: &str, path_and_query: &str) -> Response {
        self.respond_nth(host, path_and_query, 0, &[])
    }

    /// The response to a request for `host` and `path_and_query` that was already asked
    /// `nth` times before (0 for the first request; the server counts per host and exact
    /// path), with these request headers (any case; only the conditional ones matter).
    ///
    /// Mirror pages are the same every time, carry an `ETag` and a `Last-Modified`, and
    /// become `304 Not Modified` when the request's validators match. The fault host
    /// (`FAULT_HOST`) uses `nth` to fail first and succeed later; the robots hosts serve
    /// their `robots.txt`. Pure except for the fault host's `Retry-After` date, which is
    /// relative to now.
    pub fn respond_nth(
        &self,
        host: &str,
        path_and_query: &str,
        nth: u64,
        request_headers: &[(String, String)],
    ) -> Response {
        if bare_host(host).eq_ignore_ascii_case(faults::FAULT_HOST) {
            return faults::respond(path_and_query, nth);
        }
        if let Some(site) = robots::Site::from_host(host) {
            return site.respond(path_and_query);
        }
        let Some(mirror) = Mirror::from_host(host) else {
            return Response::not_found();
        };
        match self.mirror_page(mirror, path_and_query) {
            (response, Some(modified)) => conditional::answer(response, modified, request_headers),
            (response, None) => response,
        }
    }

    /// A mirror's page and, when it is one (an article or a listing), its modification
    /// time for `Last-Modified`.
    fn mirror_page(&self, mirror: Mirror, path: &str) -> (Response, Option<DateTime<Utc>>) {
        if path == "/robots.txt" {
            // The mirrors have no rules: a 404 tells crawlers that everything is allowed
            // (RFC 9309 §2.3.1.3).
            return (Response::not_found(), None);
        }
        if mirror == Mirror::Origin {
            if let Some(answer) = super::api::respond(self, path) {
                return answer;
            }
        }
        if let Some(response) = super::feeds::respond(self, mirror, path) {
            // Feeds revalidate like listings: by ETag first, which changes with the body.
            return (response, Some(LISTING_MODIFIED));
        }
        if let Some(&i) = self.routes[mirror.slot()].get(path) {
            let modified = self.articles[i].published.with_timezone(&Utc);
            return (self.article_page(mirror, i), Some(modified));
        }
        let response = if mirror == Mirror::Blog {
            self.blog_listing(path)
        } else {
            match mirror.listing_page(path) {
                Some(page) => self.listing(mirror, page),
                None => Response::not_found(),
            }
        };
        let modified = (response.status == 200).then_some(LISTING_MODIFIED);
        (response, modified)
    }

    /// The index of the origin article with this id, if the origin carries it.
    pub(super) fn origin_index(&self, id: &str) -> Option<usize> {
        self.routes[Mirror::Origin.slot()]
            .get(&Mirror::Origin.article_path_for_id(id))
            .copied()
    }

    /// Indices of the articles `mirror` carries, newest first (the order of its listings).
    pub(super) fn newest_first(&self, mirror: Mirror) -> &[usize] {
        &self.listings[mirror.slot()]
    }

    /// Links to `indices` on `mirror`.
    fn entries(&self, mirror: Mirror, indices: &[usize]) -> Vec<Entry<'_>> {
        indices
            .iter()
            .map(|&i| Entry {
                href: mirror.article_path(&self.articles[i]),
                article: &self.articles[i],
            })
            .collect()
    }

    fn article_page(&self, mirror: Mirror, i: usize) -> Response {
        let article = &self.articles[i];
        match mirror {
            Mirror::Origin => Response::html(pages::origin_article(
                article,
                &self.entries(mirror, &self.related(i)),
            )),
            Mirror::FullWidth => Response::html(pages::full_width_article(article)),
            Mirror::Blog => {
                let origin_url = format!(
                    "http://{}{}",
                    Mirror::Origin.host(),
                    Mirror::Origin.article_path(article)
                );
                Response::html(pages::blog_article(article, &origin_url))
            }
            Mirror::Gbk => Response::gbk(pages::gbk_article(article)),
        }
    }

    /// Up to three other origin articles that follow article `i` in the origin listing
    /// (wrapping around), so every article has related links that stay on the origin.
    fn related(&self, i: usize) -> Vec<usize> {
        let listing = &self.listings[Mirror::Origin.slot()];
        let Some(position) = self.origin_position.get(i).copied().flatten() else {
            return Vec::new();
        };
        (1..=3)
            .map(|step| listing[(position + step) % listing.len()])
            .filter(|&other| other != i)
            .fold(Vec::new(), |mut picked, other| {
                if !picked.contains(&other) {
                    picked.push(other);
                }
                picked
            })
    }

    /// Listing page `page` of a paginated host (not the blog).
    fn listing(&self, mirror: Mirror, page: usize) -> Response {
        let listing = &self.listings[mirror.slot()];
        let Some((chunk, pager)) =
            paginate(listing, mirror.per_page(), page, |n| mirror.listing_path(n))
        else {
            return Response::not_found();
        };
        let entries = self.entries(mirror, chunk);
        match mirror {
            Mirror::Origin => Response::html(pages::origin_listing(&entries, &pager)),
            Mirror::FullWidth => Response::html(pages::full_width_listing(&entries, &pager)),
            Mirror::Gbk => Response::gbk(pages::gbk_listing(&entries, &pager)),
            Mirror::Blog => Response::not_found(),
        }
    }

    /// The blog's home page and category pages.
    fn blog_listing(&self, path: &str) -> Response {
        /// How many of the newest posts the blog home links.
        const LATEST: usize = 20;
        if path == "/" {
            let listing = &self.listings[Mirror::Blog.slot()];
            let latest = self.entries(Mirror::Blog, &listing[..listing.len().min(LATEST)]);
            let categories: Vec<&str> = self.categories.keys().map(String::as_str).collect();
            return Response::html(pages::blog_home(&categories, &latest));
        }
        let Some(rest) = path.strip_prefix("/category/") else {
            return Response::not_found();
        };
        let Some((category, tail)) = rest.split_once('/') else {
            return Response::not_found();
        };
        let page = match tail {
            "" => Some(1),
            _ => tail
                .strip_prefix("page/")
                .and_then(|t| t.strip_suffix('/'))
                .and_then(page_number),
        };
        let (Some(page), Some(listing)) = (page, self.categories.get(category)) else {
            return Response::not_found();
        };
        let per_page = Mirror::Blog.per_page();
        let Some((chunk, pager)) =
            paginate(listing, per_page, page, |n| category_path(category, n))
        else {
            return Response::not_found();
        };
        let entries = self.entries(Mirror::Blog, chunk);
        Response::html(pages::blog_category(category, &entries, &pager))
    }
}

/// Page `page` (1-based) of `listing`, with its pager; `None` past the last page. An empty
/// listing still has one (empty) page so that `/` always answers.
fn paginate(
    listing: &[usize],
    per_page: usize,
    page: usize,
    path: impl Fn(usize) -> String,
) -> Option<(&[usize], Pager)> {
    let pages = listing.len().div_ceil(per_page).max(1);
    if page == 0 || page > pages {
        return None;
    }
    let start = (page - 1) * per_page;
    let end = (start + per_page).min(listing.len());
    let pager = Pager {
        page,
        pages,
        prev: (page > 1).then(|| path(page - 1)),
        next: (page < pages).then(|| path(page + 1)),
    };
    Some((&listing[start..end], pager))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeSet, HashSet, VecDeque};

    use regex::Regex;

    use super::*;

    fn body_text(response: &Response) -> String {
        String::from_utf8(response.body.clone()).expect("UTF-8 body")
    }

    /// Decodes a page as a browser would for its host.
    fn decoded(mirror: Mirror, response: &Response) -> String {
        match mirror {
            Mirror::Gbk => {
                let (text, had_errors) =
                    encoding_rs::GB18030.decode_without_bom_handling(&response.body);
                assert!(!had_errors);
                text.into_owned()
            }
            _ => body_text(response),
        }
    }

    fn hrefs(page: &str) -> Vec<String> {
        let href = Regex::new(r#"<a [^>]*href="([^"]*)""#).expect("valid regex");
        href.captures_iter(page)
            .map(|c| c[1].replace("&amp;", "&"))
            .collect()
    }

    /// Walks every page reachable from `/` on `mirror` through same-host links, returning
    /// the listing pages visited and the article paths seen.
    fn crawl(network: &Network, mirror: Mirror) -> (usize, BTreeSet<String>) {
        let host = mirror.host();
        let mut queue = VecDeque::from([mirror.index_path().to_string()]);
        let mut seen: HashSet<String> = queue.iter().cloned().collect();
        let mut articles = BTreeSet::new();
        let mut listings = 0;
        while let Some(path) = queue.pop_front() {
            let response = network.respond(host, &path);
            assert_eq!(response.status, 200, "{host}{path}");
            let is_article = network.routes[mirror.slot()].contains_key(&path);
            if is_article {
                articles.insert(path.clone());
                continue; // listings alone must reach everything
            }
            listings += 1;
            for link in hrefs(&decoded(mirror, &response)) {
                if link.starts_with('/') && seen.insert(link.clone()) {
                    queue.push_back(link);
                }
            }
        }
        (listings, articles)
    }

    #[test]
    fn hosts_round_trip() {
        for mirror in Mirror::ALL {
            assert_eq!(Mirror::from_host(mirror.host()), Some(mirror));
            assert_eq!(mirror.index_path(), "/");
        }
        assert_eq!(
            Mirror::from_host("NEWS.Trawl-Demo.TEST:8080"),
            Some(Mirror::Origin)
        );
        assert_eq!(Mirror::from_host("www.gbk-news.test."), Some(Mirror::Gbk));
        assert_eq!(Mirror::from_host("example.test"), None);
        assert_eq!(Mirror::from_host(""), None);
    }

    #[test]
    fn seeded_carriage_proportions() {
        let network = Network::generate(21, 5_000);
        let articles = network.articles();
        let count = |mirror| {
            (0..articles.len())
                .filter(|&i| network.carries(mirror, i))
                .count()
        };
        assert_eq!(count(Mirror::Origin), 5_000);
        let full_width = count(Mirror::FullWidth);
        let blog = count(Mirror::Blog);
        assert!((3_300..=3_700).contains(&full_width), "{full_width}");
        assert!((2_800..=3_200).contains(&blog), "{blog}");
        let zh = articles.iter().filter(|a| a.lang == Lang::Zh).count();
        let gbk = count(Mirror::Gbk);
        assert!(
            gbk * 100 >= zh * 55 && gbk * 100 <= zh * 65,
            "{gbk} of {zh}"
        );
        for (i, article) in articles.iter().enumerate() {
            if network.carries(Mirror::Gbk, i) {
                assert_eq!(article.lang, Lang::Zh);
            }
        }
        // Independent choices: blog carriage is not a function of full-width carriage.
        let both = (0..articles.len())
            .filter(|&i| network.carries(Mirror::FullWidth, i) && network.carries(Mirror::Blog, i))
            .count();
        assert!((1_900..=2_300).contains(&both), "{both}");
        assert!(!network.carries(Mirror::Origin, 5_000));
    }

    #[test]
    fn carriage_all_carries_everything() {
        let network = Network::from_articles(generate(4, 200), Carriage::All);
        for mirror in Mirror::ALL {
            for i in 0..200 {
                assert!(network.carries(mirror, i));
                assert!(network.article_url(mirror, i).is_some());
            }
        }
    }

    #[test]
    fn article_urls_have_the_documented_shapes() {
        let network = Network::from_articles(generate(6, 50), Carriage::All);
        let article = &network.articles()[7];
        let id = &article.id;
        let date = article.published.format("%Y/%m/%d");
        let url = |mirror| network.article_url(mirror, 7).expect("carried");
        assert_eq!(
            url(Mirror::Origin),
            format!("http://news.trawl-demo.test/html_News/NewsShare.html?infoCode={id}")
        );
        assert_eq!(
            url(Mirror::FullWidth),
            format!("http://m.finmirror.test/news/{id}.shtml")
        );
        assert_eq!(
            url(Mirror::Blog),
            format!("http://blog.newsarchive.test/{date}/{}.html", &id[2..])
        );
        assert_eq!(
            url(Mirror::Gbk),
            format!("http://www.gbk-news.test/a/{id}.htm")
        );
        assert_eq!(
            network.seed_urls(),
            vec![
                "http://news.trawl-demo.test/",
                "http://m.finmirror.test/",
                "http://blog.newsarchive.test/",
                "http://www.gbk-news.test/",
            ]
        );
        let seeded = Network::generate(6, 300);
        for i in 0..300 {
            assert_eq!(
                seeded.article_url(Mirror::Gbk, i).is_some(),
                seeded.carries(Mirror::Gbk, i)
            );
        }
        assert_eq!(seeded.article_url(Mirror::Origin, 300), None);
    }

    #[test]
    fn every_carried_article_is_reachable_from_the_index() {
        let network = Network::generate(17, 700);
        for mirror in Mirror::ALL {
            let (listings, reached) = crawl(&network, mirror);
            let expected: BTreeSet<String> = (0..network.articles().len())
                .filter_map(|i| network.article_url(mirror, i))
                .map(|url| url.replacen(&format!("http://{}", mirror.host()), "", 1))
                .collect();
            assert_eq!(reached, expected, "{mirror:?}");
            assert!(listings > 1, "{mirror:?} has {listings} listing pages");
        }
    }

    #[test]
    fn listings_are_newest_first_and_paginated() {
        let network = Network::from_articles(generate(8, 120), Carriage::All);
        let first = body_text(&network.respond(Mirror::Origin.host(), "/"));
        let newest = &network.articles()[119];
        let oldest = &network.articles()[0];
        assert!(first.contains(&pages::escape(&newest.title)));
        assert!(first.contains("href=\"/html_News/index_2.html\""));
        let pages3 = body_text(&network.respond(Mirror::Origin.host(), "/html_News/index_3.html"));
        assert!(pages3.contains(&format!("infoCode={}", oldest.id)));
        assert!(!pages3.contains("class=\"next\""));
        let count = |page: &str| page.matches("NewsShare.html").count();
        assert_eq!(count(&first), 50);
        assert_eq!(count(&pages3), 20);
        // Page 4 does not exist; page 1 has only the canonical "/" form.
        for path in [
            "/html_News/index_4.html",
            "/html_News/index_1.html",
            "/html_News/index_02.html",
        ] {
            assert_eq!(
                network.respond(Mirror::Origin.host(), path).status,
                404,
                "{path}"
            );
        }
    }

    #[test]
    fn unknown_hosts_and_paths_are_404() {
        let network = Network::generate(1, 30);
        let id = &network.articles()[0].id;
        let cases = [
            ("example.test", "/".to_string()),
            ("", "/".to_string()),
            (Mirror::Origin.host(), "/nope".to_string()),
            (
                Mirror::Origin.host(),
                "/html_News/NewsShare.html?infoCode=NW0".to_string(),
            ),
            (
                Mirror::Origin.host(),
                format!("/html_News/NewsShare.html?infoCode={id}&x=1"),
            ),
            (Mirror::FullWidth.host(), "/list/1.shtml".to_string()),
            (Mirror::FullWidth.host(), "/news/.shtml".to_string()),
            (Mirror::Blog.host(), "/category/nope/".to_string()),
            (Mirror::Blog.host(), "/category/".to_string()),
            (Mirror::Blog.host(), "/category/markets/page/1/".to_string()),
            (
                Mirror::Blog.host(),
                "/category/markets/page/99/".to_string(),
            ),
            (Mirror::Gbk.host(), "/index_9999.htm".to_string()),
            (Mirror::Gbk.host(), "/a/x.htm".to_string()),
        ];
        for (host, path) in cases {
            let response = network.respond(host, &path);
            assert_eq!(response.status, 404, "{host}{path}");
            assert_eq!(response.content_type, "text/plain; charset=utf-8");
        }
        assert_eq!(
            network
                .respond(
                    Mirror::Origin.host(),
                    &format!("/html_News/NewsShare.html?infoCode={id}")
                )
                .status,
            200
        );
    }

    #[test]
    fn origin_article_markup() {
        let network = Network::from_articles(generate(2, 10), Carriage::All);
        let article = &network.articles()[3];
        let response = network.respond(
            "news.trawl-demo.test",
            &format!("/html_News/NewsShare.html?infoCode={}", article.id),
        );
        assert_eq!(response.content_type, "text/html; charset=utf-8");
        let page = body_text(&response);
        let title = pages::escape(&article.title);
        let paragraphs: String = article
            .paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>", pages::escape(p)))
            .collect();
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains(&format!("<title>{title} - 演示财经网</title>")));
        assert!(page.contains("<div class=\"nav\"><a href=\"/\">首页</a></div>"));
        assert!(page.contains(&format!(
            "<div class=\"newsContent\"><h1 class=\"newsTitle\">{title}</h1><div class=\"newsInfo\"><span class=\"time\">{}</span><span class=\"source\">来源：{}</span></div><div class=\"newsText\" id=\"ContentBody\">{paragraphs}</div><div class=\"share\">分享到：微博 微信 QQ空间</div><div class=\"related\"><a href=\"/html_News/NewsShare.html?infoCode=",
            article.published.format("%Y-%m-%d %H:%M:%S"),
            article.source
        )));
        assert_eq!(page.matches("<div class=\"related\">").count(), 1);
        let related = page
            .split("<div class=\"related\">")
            .nth(1)
            .unwrap_or_default();
        assert_eq!(
            related
                .split("</div>")
                .next()
                .unwrap_or_default()
                .matches("<a ")
                .count(),
            3
        );
        assert!(page
            .contains("</div></div>\n<div class=\"footer\">Copyright © 演示财经网 版权所有</div>"));
    }

    #[test]
    fn full_width_article_markup() {
        let network = Network::from_articles(generate(2, 10), Carriage::All);
        let (i, article) = network
            .articles()
            .iter()
            .enumerate()
            .find(|(_, a)| a.lang == Lang::Zh && a.paragraphs.concat().contains('('))
            .expect("a Chinese article with parentheses");
        let url = network.article_url(Mirror::FullWidth, i).expect("carried");
        let page = body_text(
            &network.respond("m.finmirror.test", &url["http://m.finmirror.test".len()..]),
        );
        let paragraphs: String = article
            .paragraphs
            .iter()
            .map(|p| format!("<p>\u{3000}\u{3000}{}</p>", pages::full_width(p)))
            .collect();
        let expected = format!(
            "<div class=\"art-title\">{}</div><div class=\"art-meta\"><em class=\"pubtime\">{}</em> <em class=\"media\">{}</em></div><div class=\"art-body\">{paragraphs}<p>（文章来源：{}）</p><p><a href=\"/\">返回财经新闻</a>｜<a href=\"/\">返回首页</a></p></div>",
            article.title,
            article.published.format("%Y年%m月%d日 %H:%M"),
            article.source,
            article.source
        );
        assert!(page.contains(&expected), "{page}");
        // The title keeps its ASCII digits (checked in `expected` above).
        assert!(article.title.bytes().any(|b| b.is_ascii_digit()));
        // The conversion really happened: no ASCII digits or `%` survive in the body.
        let body = page
            .split("<div class=\"art-body\">")
            .nth(1)
            .unwrap_or_default();
        let body = body.split("<p>（文章来源").next().unwrap_or_default();
        assert!(!body
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'%' || b == b'('));
        assert!(body.contains('％') && body.contains('（'));
        assert!(body.chars().any(|c| ('０'..='９').contains(&c)));
    }

    #[test]
    fn blog_article_markup() {
        let network = Network::from_articles(generate(2, 10), Carriage::All);
        let article = &network.articles()[5];
        let path = Mirror::Blog.article_path(article);
        let page = body_text(&network.respond("blog.newsarchive.test", &path));
        let title = pages::escape(&article.title);
        let origin = format!(
            "http://news.trawl-demo.test/html_News/NewsShare.html?infoCode={}",
            article.id
        );
        let paragraphs: String = article
            .paragraphs
            .iter()
            .map(|p| format!("<p>{}</p>", pages::escape(p)))
            .collect();
        let c = &article.category;
        let when = article.published;
        let expected = format!(
            "<article class=\"post\"><header><h1 class=\"post-title\">{title}</h1><time class=\"post-date\" datetime=\"{}\">{}</time> <span class=\"post-source\">{}</span></header><pre class=\"front-matter\">---\nlayout: post\ntitle: \"{title}\"\ndate: {}\ncategories: {c}\n---</pre><div class=\"post-content\">{paragraphs}<p>&lt;<a href=\"{origin}\">{origin}</a>&gt;</p><p><a href=\"/category/{c}/\">返回{c}</a></p><p><a href=\"/\">返回首页</a></p></div></article>",
            when.format("%Y-%m-%dT%H:%M:%S+08:00"),
            when.format("%Y-%m-%d"),
            article.source,
            when.format("%Y-%m-%d %H:%M:%S +0800"),
        );
        assert!(page.contains(&expected), "{page}");
        assert_eq!(
            network
                .respond("blog.newsarchive.test", &format!("/category/{c}/"))
                .status,
            200
        );
    }

    #[test]
    fn gbk_page_decodes_back_to_the_article() {
        let network = Network::generate(12, 60);
        let (i, article) = network
            .articles()
            .iter()
            .enumerate()
            .find(|&(i, a)| a.lang == Lang::Zh && network.carries(Mirror::Gbk, i))
            .expect("a Chinese article on the GBK mirror");
        let response = network.respond("www.gbk-news.test", &format!("/a/{}.htm", article.id));
        assert_eq!(response.status, 200);
        assert_eq!(response.content_type, "text/html");
        // Really GBK, not UTF-8.
        assert!(String::from_utf8(response.body.clone()).is_err());
        let (page, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&response.body);
        assert!(!had_errors);
        assert!(!page.contains("&#"), "unmappable characters were escaped");
        assert!(page.contains("<head><meta charset=\"gbk\">"));
        let expected = format!(
            "<h2 id=\"art_title\">{}</h2><div id=\"art_info\"><span id=\"pub_date\">{}</span> <span id=\"media_name\">{}</span></div><div id=\"artibody\">{}</div>",
            pages::escape(&article.title),
            article.published.format("%Y-%m-%d %H:%M"),
            article.source,
            article
                .paragraphs
                .iter()
                .map(|p| pages::escape(p))
                .collect::<Vec<_>>()
                .join("<br>\n")
        );
        assert!(page.contains(&expected), "{page}");
        assert!(page.contains("<div id=\"footer\">版权所有</div>"));
        assert!(network.carries(Mirror::Gbk, i));
        let index = network.respond("www.gbk-news.test", "/");
        assert_eq!(index.content_type, "text/html");
        let (index, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&index.body);
        assert!(!had_errors && index.contains("首页"));
    }

    #[test]
    fn every_page_is_a_full_document() {
        let network = Network::generate(3, 100);
        for mirror in Mirror::ALL {
            let page = decoded(mirror, &network.respond(mirror.host(), "/"));
            assert!(page.starts_with("<!DOCTYPE html>\n<html"));
            assert!(page.trim_end().ends_with("</html>"));
        }
    }

    #[test]
    fn html_special_characters_are_escaped() {
        let mut articles = generate(5, 3);
        articles[0].title = "A&B <C> \"D\"".to_string();
        articles[0].paragraphs[0] = "x < y & \"z\"".to_string();
        let network = Network::from_articles(articles, Carriage::All);
        for mirror in Mirror::ALL {
            let url = network.article_url(mirror, 0).expect("carried");
            let path = &url[url.find(mirror.host()).unwrap_or(0) + mirror.host().len()..];
            let page = decoded(mirror, &network.respond(mirror.host(), path));
            assert!(
                !page.contains("<C>") && !page.contains("\"D\""),
                "{mirror:?}"
            );
            assert!(
                page.contains("A&amp;B &lt;C&gt; &quot;D&quot;"),
                "{mirror:?}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn respond_never_panics(host in "\\PC{0,30}", path in "/\\PC{0,60}") {
            let network = Network::generate(1, 40);
            let response = network.respond(&host, &path);
            proptest::prop_assert!(response.status == 200 || response.status == 404);
            for mirror in Mirror::ALL {
                let response = network.respond(mirror.host(), &path);
                proptest::prop_assert!(response.status == 200 || response.status == 404);
            }
        }
    }

    #[test]
    fn mirror_pages_carry_validators_and_answer_304() {
        let network = Network::from_articles(generate(9, 30), Carriage::All);
        for mirror in Mirror::ALL {
            let url = network.article_url(mirror, 4).expect("carried");
            let path = url.replacen(&format!("http://{}", mirror.host()), "", 1);
            for (path, modified) in [
                (
                    path.as_str(),
                    network.articles()[4].published.with_timezone(&Utc),
                ),
                ("/", LISTING_MODIFIED),
            ] {
                let page = network.respond(mirror.host(), path);
                let header = |r: &Response, name: &str| {
                    r.headers
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                let etag = header(&page, "ETag").expect("an ETag");
                assert_eq!(etag, conditional::etag(&page.body), "{mirror:?}{path}");
                assert_eq!(
                    header(&page, "Last-Modified"),
                    Some(conditional::http_date(modified))
                );
                let again = network.respond_nth(
                    mirror.host(),
                    path,
                    1,
                    &[("if-none-match".to_string(), etag.clone())],
                );
                assert_eq!(again.status, 304, "{mirror:?}{path}");
                assert!(again.body.is_empty());
                assert_eq!(header(&again, "ETag"), Some(etag));
            }
            let robots = network.respond(mirror.host(), "/robots.txt");
            assert_eq!(robots.status, 404);
            assert!(robots.headers.is_empty());
        }
        // Articles are never dated after the listings that link them.
        let latest = generate(9, 5_000)
            .iter()
            .map(|a| a.published.with_timezone(&Utc))
            .max()
            .expect("articles");
        assert!(latest <= LISTING_MODIFIED);
    }

    #[test]
    fn fault_and_robots_hosts_are_routed_from_the_network() {
        let network = Network::generate(1, 10);
        assert_eq!(
            network
                .respond_nth("FAULTS.trawl-demo.test:80", "/flaky-500.html", 0, &[])
                .status,
            500
        );
        assert_eq!(
            network
                .respond_nth(faults::FAULT_HOST, "/flaky-500.html", 1, &[])
                .status,
            200
        );
        assert_eq!(
            network
                .respond(robots::ROBOTS_500_HOST, "/robots.txt")
                .status,
            500
        );
        assert_eq!(
            network
                .respond(robots::ROBOTS_DISALLOW_HOST, "/private/a.html")
                .status,
            200
        );
    }

    #[test]
    fn empty_network_still_answers_the_index() {
        let network = Network::generate(1, 0);
        for mirror in Mirror::ALL {
            assert_eq!(network.respond(mirror.host(), "/").status, 200);
        }
    }
}
