//! The robots hosts: four small sites that differ only in their `robots.txt`.
//!
//! Each serves `/` linking `/public/a.html`, `/public/b.html` (more on the crawl-delay host)
//! and `/private/a.html`, all small fixture articles, so a test can tell from the server's
//! counters whether a crawler obeyed, paced itself, or backed off.

use super::fixtures;
use super::render::{bare_host, Response};

/// `robots.txt` disallows `/private/` for every user agent.
pub const ROBOTS_DISALLOW_HOST: &str = "robots-disallow.trawl-demo.test";

/// `robots.txt` asks every user agent for a `Crawl-delay` of 0.5 s; six public articles.
pub const ROBOTS_DELAY_HOST: &str = "robots-delay.trawl-demo.test";

/// `robots.txt` always answers 500 (RFC 9309: treat the whole host as disallowed for now).
pub const ROBOTS_500_HOST: &str = "robots-500.trawl-demo.test";

/// `robots.txt` answers 404 (RFC 9309: no rules, everything allowed).
pub const ROBOTS_404_HOST: &str = "robots-404.trawl-demo.test";

/// Every robots host, in `Site` order.
pub const ROBOTS_HOSTS: [&str; 4] = [
    ROBOTS_DISALLOW_HOST,
    ROBOTS_DELAY_HOST,
    ROBOTS_500_HOST,
    ROBOTS_404_HOST,
];

/// One of the robots hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Site {
    /// `ROBOTS_DISALLOW_HOST`.
    Disallow,
    /// `ROBOTS_DELAY_HOST`.
    Delay,
    /// `ROBOTS_500_HOST`.
    ServerError,
    /// `ROBOTS_404_HOST`.
    Missing,
}

impl Site {
    /// Every site, in `ROBOTS_HOSTS` order.
    const ALL: [Site; 4] = [
        Site::Disallow,
        Site::Delay,
        Site::ServerError,
        Site::Missing,
    ];

    /// The site for a `Host` value (any case, port and trailing dot allowed).
    pub(crate) fn from_host(host: &str) -> Option<Site> {
        let host = bare_host(host);
        Site::ALL
            .into_iter()
            .zip(ROBOTS_HOSTS)
            .find(|(_, name)| name.eq_ignore_ascii_case(host))
            .map(|(site, _)| site)
    }

    /// Public article paths; the crawl-delay host has six so that pacing is measurable.
    fn public_paths(self) -> &'static [&'static str] {
        const SIX: [&str; 6] = [
            "/public/a.html",
            "/public/b.html",
            "/public/c.html",
            "/public/d.html",
            "/public/e.html",
            "/public/f.html",
        ];
        match self {
            Site::Delay => &SIX,
            _ => &SIX[..2],
        }
    }

    /// First fixture slot of this site's articles (public ones, then `/private/a.html`);
    /// slots 8..24 are reserved for the robots hosts, after the fault host's 0..8.
    fn first_slot(self) -> usize {
        match self {
            Site::Disallow => 8,
            Site::Delay => 11,
            Site::ServerError => 18,
            Site::Missing => 21,
        }
    }

    /// The answer to a request for `path` on this site.
    pub(crate) fn respond(self, path: &str) -> Response {
        let public = self.public_paths();
        if path == "/robots.txt" {
            return match self {
                Site::Disallow => robots_txt("User-agent: *\nDisallow: /private/\n"),
                Site::Delay => robots_txt("User-agent: *\nCrawl-delay: 0.5\n"),
                Site::ServerError => Response::text(500, "500 Internal Server Error\n"),
                Site::Missing => Response::not_found(),
            };
        }
        if path == "/" {
            let mut links = public.to_vec();
            links.push("/private/a.html");
            return html(fixtures::listing("Robots test site", &links));
        }
        let index = match public.iter().position(|p| *p == path) {
            Some(i) => i,
            None if path == "/private/a.html" => public.len(),
            None => return Response::not_found(),
        };
        html(fixtures::article_page(fixtures::article(
            self.first_slot() + index,
        )))
    }
}

/// A 200 `text/plain` robots.txt.
fn robots_txt(rules: &str) -> Response {
    Response::text(200, rules)
}

/// A 200 UTF-8 HTML response.
fn html(page: String) -> Response {
    Response {
        content_type: "text/html; charset=utf-8".to_string(),
        body: page.into_bytes(),
        ..Response::text(200, "")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn body(response: &Response) -> String {
        String::from_utf8(response.body.clone()).expect("UTF-8")
    }

    #[test]
    fn hosts_are_recognised_in_any_case_with_a_port() {
        assert_eq!(
            Site::from_host("ROBOTS-Delay.trawl-demo.test:8080"),
            Some(Site::Delay)
        );
        for (site, host) in Site::ALL.into_iter().zip(ROBOTS_HOSTS) {
            assert_eq!(Site::from_host(host), Some(site));
        }
        assert_eq!(Site::from_host("robots.trawl-demo.test"), None);
    }

    #[test]
    fn robots_files_say_what_the_host_is_named_for() {
        let robots = |site: Site| site.respond("/robots.txt");
        let disallow = robots(Site::Disallow);
        assert_eq!(disallow.status, 200);
        assert!(disallow.content_type.starts_with("text/plain"));
        assert_eq!(body(&disallow), "User-agent: *\nDisallow: /private/\n");
        assert_eq!(
            body(&robots(Site::Delay)),
            "User-agent: *\nCrawl-delay: 0.5\n"
        );
        assert_eq!(robots(Site::ServerError).status, 500);
        assert_eq!(robots(Site::Missing).status, 404);
    }

    #[test]
    fn every_linked_page_is_a_distinct_article() {
        let mut titles = HashSet::new();
        for site in Site::ALL {
            let index = body(&site.respond("/"));
            let mut linked = site.public_paths().to_vec();
            linked.push("/private/a.html");
            assert_eq!(index.matches("<a href=").count(), linked.len(), "{site:?}");
            for path in linked {
                assert!(index.contains(&format!("<a href=\"{path}\">")), "{site:?}");
                let page = site.respond(path);
                assert_eq!(page.status, 200, "{site:?} {path}");
                let text = body(&page);
                let title = text
                    .split("<title>")
                    .nth(1)
                    .and_then(|t| t.split("</title>").next())
                    .expect("a title")
                    .to_string();
                assert!(titles.insert(title), "{site:?} {path} repeats a page");
            }
            assert_eq!(site.respond("/public/z.html").status, 404);
        }
        assert_eq!(Site::Delay.public_paths().len(), 6);
        assert_eq!(Site::Disallow.respond("/public/c.html").status, 404);
        assert_eq!(titles.len(), 3 + 7 + 3 + 3);
    }
}
