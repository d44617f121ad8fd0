//! Stage 1, scope: which URLs the crawl may touch and what kind of page each one is.
//!
//! URL normalisation makes the many spellings of one page one key (lower-case host, no default
//! port, no fragment, sorted query, tracking parameters removed), so a URL is fetched at most
//! once per run and every sighting of it lands on the same state. Pure functions, no I/O.

use std::collections::HashSet;

use regex::Regex;
use thiserror::Error;
use url::Url;

/// Why a URL is not usable.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ScopeError {
    /// Not parseable as a URL (relative to the base, if one was given).
    #[error("invalid URL `{url}`: {reason}")]
    Invalid {
        /// The URL as given.
        url: String,
        /// Parser message.
        reason: String,
    },
    /// Only http and https are crawled.
    #[error("unsupported scheme `{scheme}` in `{url}` (only http and https are crawled)")]
    Scheme {
        /// The URL as given.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// Longer than the configured cap (spider traps grow URLs without end).
    #[error("URL longer than {max} bytes")]
    TooLong {
        /// The cap.
        max: usize,
    },
}

/// How URLs are normalised.
#[derive(Clone, Debug)]
pub struct UrlPolicy {
    /// Query parameters removed wherever they appear (exact, lower-case names).
    pub strip_params: HashSet<String>,
    /// Query parameters removed when their name starts with one of these (e.g. `utm_`).
    pub strip_prefixes: Vec<String>,
    /// Longest URL accepted, in bytes.
    pub max_len: usize,
}

impl Default for UrlPolicy {
    fn default() -> Self {
        UrlPolicy {
            strip_params: DEFAULT_STRIP_PARAMS.iter().map(|s| s.to_string()).collect(),
            strip_prefixes: vec!["utm_".to_string()],
            max_len: 2048,
        }
    }
}

/// Tracking parameters that never change what a page shows.
pub const DEFAULT_STRIP_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "spm",
    "from",
    "share_from",
    "share_token",
    "ref",
    "isappinstalled",
];

impl UrlPolicy {
    /// Parses `raw` (relative to `base` when given) and returns its normal form.
    pub fn normalise(&self, raw: &str, base: Option<&Url>) -> Result<Url, ScopeError> {
        let raw = raw.trim();
        if raw.len() > self.max_len {
            return Err(ScopeError::TooLong { max: self.max_len });
        }
        let parsed = match base {
            Some(b) => b.join(raw),
            None => Url::parse(raw),
        }
        .map_err(|e| ScopeError::Invalid {
            url: raw.to_string(),
            reason: e.to_string(),
        })?;
        self.normalise_url(parsed)
    }

    /// Normal form of an already-parsed URL.
    pub fn normalise_url(&self, mut url: Url) -> Result<Url, ScopeError> {
        match url.scheme() {
            "http" | "https" => {}
            other => {
                return Err(ScopeError::Scheme {
                    url: url.to_string(),
                    scheme: other.to_string(),
                })
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(ScopeError::Invalid {
                url: url.to_string(),
                reason: "no host".into(),
            });
        }
        // `url` already lower-cases the host and drops the scheme's default port.
        url.set_fragment(None);
        // Credentials never belong in a stored or logged URL.
        url = without_credentials(url);
        if url.query().is_some() {
            let mut pairs: Vec<(String, String)> = url
                .query_pairs()
                .filter(|(k, _)| !self.is_tracking(k))
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            pairs.sort();
            if pairs.is_empty() {
                url.set_query(None);
            } else {
                url.query_pairs_mut().clear().extend_pairs(pairs);
            }
        }
        if url.as_str().len() > self.max_len {
            return Err(ScopeError::TooLong { max: self.max_len });
        }
        Ok(url)
    }

    fn is_tracking(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        self.strip_params.contains(&lower)
            || self.strip_prefixes.iter().any(|p| lower.starts_with(p))
    }
}

/// What kind of page a URL is, by the configured patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PageKind {
    /// An article page: extract a post from it.
    Article,
    /// A listing (index, category, pagination): follow its links, archive nothing.
    Listing,
}

/// One site's scope: its hosts and URL patterns.
#[derive(Clone, Debug)]
pub struct SiteScope {
    /// Site rule name (also the extractor name recorded on posts).
    pub name: String,
    /// Host names (`*.example.com` matches every subdomain).
    pub hosts: Vec<String>,
    /// Patterns over path+query that mark article pages.
    pub article: Vec<Regex>,
    /// Patterns over path+query that mark listing pages.
    pub listing: Vec<Regex>,
    /// Whether this site's robots.txt is obeyed (a config opt-out can turn it off).
    pub obey_robots: bool,
    /// An article page fetched less than this long ago is not fetched again (listings are
    /// fetched every run). When it is due, the fetch is conditional.
    pub recrawl_after: std::time::Duration,
}

impl SiteScope {
    fn has_host(&self, host: &str) -> bool {
        self.hosts.iter().any(|h| host_matches(h, host))
    }
}

/// `pattern` is a host name, or `*.` followed by a domain that matches it and its subdomains.
pub fn host_matches(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(domain) => {
            host == domain
                || (host.len() > domain.len()
                    && host.ends_with(domain)
                    && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
        }
        None => pattern == host,
    }
}

/// The whole crawl scope.
#[derive(Clone, Debug)]
pub struct Scope {
    /// URL normalisation policy.
    pub urls: UrlPolicy,
    /// Site rules, in config order; the first whose host matches decides.
    pub sites: Vec<SiteScope>,
}

/// Where a URL falls in the scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Placement {
    /// Index into [`Scope::sites`].
    pub site: usize,
    /// Article or listing.
    pub kind: PageKind,
}

impl Scope {
    /// The site a URL's host belongs to, if any.
    pub fn site_for(&self, url: &Url) -> Option<usize> {
        let host = url.host_str()?;
        self.sites.iter().position(|s| s.has_host(host))
    }

    /// Classifies a discovered link: `None` when it is off-site or matches no pattern (the
    /// crawl does not follow it).
    pub fn classify(&self, url: &Url) -> Option<Placement> {
        let site = self.site_for(url)?;
        let target = path_and_query(url);
        let rules = &self.sites[site];
        if rules.article.iter().any(|r| r.is_match(&target)) {
            Some(Placement {
                site,
                kind: PageKind::Article,
            })
        } else if rules.listing.iter().any(|r| r.is_match(&target)) {
            Some(Placement {
                site,
                kind: PageKind::Listing,
            })
        } else {
            None
        }
    }

    /// Classifies a seed: seeds on a known host are always crawled, as a listing unless an
    /// article pattern says otherwise.
    pub fn classify_seed(&self, url: &Url) -> Option<Placement> {
        let site = self.site_for(url)?;
        Some(self.classify(url).unwrap_or(Placement {
            site,
            kind: PageKind::Listing,
        }))
    }
}

/// `url` without `user:password@`: credentials in a link are never sent, stored or logged.
pub fn without_credentials(mut url: Url) -> Url {
    if !url.username().is_empty() || url.password().is_some() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    url
}

/// Path plus `?query` if there is one: what site patterns match against.
pub fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        UrlPolicy::default().normalise(s, None).unwrap().to_string()
    }

    #[test]
    fn normalises_host_port_fragment_and_query_order() {
        assert_eq!(
            norm("HTTP://News.Example.COM:80/a/b.html?z=1&a=2#top"),
            "http://news.example.com/a/b.html?a=2&z=1"
        );
        assert_eq!(norm("https://x.test:443/"), "https://x.test/");
        assert_eq!(norm("https://x.test:8443/"), "https://x.test:8443/");
    }

    #[test]
    fn strips_tracking_parameters_and_empty_queries() {
        assert_eq!(
            norm("http://x.test/p?utm_source=a&infoCode=NW1&spm=3"),
            "http://x.test/p?infoCode=NW1"
        );
        assert_eq!(norm("http://x.test/p?utm_medium=x"), "http://x.test/p");
    }

    #[test]
    fn strips_credentials() {
        assert_eq!(norm("http://user:pw@x.test/"), "http://x.test/");
    }

    #[test]
    fn rejects_other_schemes_and_long_urls() {
        let p = UrlPolicy::default();
        assert!(matches!(
            p.normalise("mailto:a@b.c", None),
            Err(ScopeError::Scheme { .. })
        ));
        assert!(matches!(
            p.normalise("javascript:void(0)", None),
            Err(ScopeError::Scheme { .. })
        ));
        let long = format!("http://x.test/{}", "a".repeat(3000));
        assert_eq!(
            p.normalise(&long, None),
            Err(ScopeError::TooLong { max: 2048 })
        );
        assert!(matches!(
            p.normalise("not a url", None),
            Err(ScopeError::Invalid { .. })
        ));
    }

    #[test]
    fn resolves_relative_links() {
        let base = Url::parse("http://x.test/a/b.html").unwrap();
        let u = UrlPolicy::default()
            .normalise("../c.html#x", Some(&base))
            .unwrap();
        assert_eq!(u.as_str(), "http://x.test/c.html");
    }

    #[test]
    fn normalisation_is_idempotent() {
        for s in [
            "HTTP://A.test:80/x?b=2&a=1&utm_x=3#f",
            "https://a.test/%E4%B8%AD?q=%E4%B8%AD%20x",
            "http://a.test/p?a=1&a=0",
        ] {
            let once = norm(s);
            assert_eq!(norm(&once), once, "{s}");
        }
    }

    #[test]
    fn host_patterns() {
        assert!(host_matches("*.example.com", "www.example.com"));
        assert!(host_matches("*.example.com", "example.com"));
        assert!(!host_matches("*.example.com", "badexample.com"));
        assert!(host_matches("a.test", "a.test"));
        assert!(!host_matches("a.test", "b.a.test"));
    }

    #[test]
    fn classifies_by_site_patterns() {
        let scope = Scope {
            urls: UrlPolicy::default(),
            sites: vec![SiteScope {
                name: "origin".into(),
                hosts: vec!["news.test".into()],
                article: vec![Regex::new(r"^/html_News/NewsShare\.html\?infoCode=NW\d+$").unwrap()],
                listing: vec![Regex::new(r"^/$").unwrap()],
                obey_robots: true,
                recrawl_after: std::time::Duration::ZERO,
            }],
        };
        let a = Url::parse("http://news.test/html_News/NewsShare.html?infoCode=NW2022").unwrap();
        assert_eq!(
            scope.classify(&a),
            Some(Placement {
                site: 0,
                kind: PageKind::Article
            })
        );
        let l = Url::parse("http://news.test/").unwrap();
        assert_eq!(scope.classify(&l).map(|p| p.kind), Some(PageKind::Listing));
        let other = Url::parse("http://news.test/about.html").unwrap();
        assert_eq!(scope.classify(&other), None);
        assert_eq!(
            scope.classify_seed(&other).map(|p| p.kind),
            Some(PageKind::Listing)
        );
        let off = Url::parse("http://elsewhere.test/").unwrap();
        assert_eq!(scope.classify_seed(&off), None);
    }
}
