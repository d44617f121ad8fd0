//! robots.txt (RFC 9309), parsed by `texting_robots` (it passes nearly all of Google's test
//! suite): what a host's answer to `/robots.txt` means for the crawl.
//!
//! 2xx: the rules, with `Crawl-delay`. 4xx: no rules, everything allowed. 5xx or a network
//! failure: the host is unreachable for robots purposes, so nothing may be fetched yet; the
//! crawl backs off and asks again later.

use std::sync::Arc;
use std::time::Duration;

use texting_robots::Robot;
use url::Url;

/// A host's rules.
#[derive(Clone)]
pub enum Rules {
    /// No robots.txt (4xx) or robots disabled for the host: everything allowed.
    AllowAll,
    /// Parsed rules for our user agent.
    Parsed(Arc<Robot>),
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rules::AllowAll => f.write_str("AllowAll"),
            Rules::Parsed(r) => write!(f, "Parsed(delay {:?})", r.delay),
        }
    }
}

impl Rules {
    /// Whether `url` may be fetched.
    pub fn allows(&self, url: &Url) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Parsed(r) => r.allowed(url.as_str()),
        }
    }

    /// The `Sitemap:` URLs the file lists.
    pub fn sitemaps(&self) -> &[String] {
        match self {
            Rules::AllowAll => &[],
            Rules::Parsed(r) => &r.sitemaps,
        }
    }

    /// The `Crawl-delay` for our agent, if any.
    pub fn crawl_delay(&self) -> Option<Duration> {
        match self {
            Rules::AllowAll => None,
            Rules::Parsed(r) => r
                .delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f32(d.min(86_400.0))),
        }
    }
}

/// What a robots.txt response means.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// Rules to apply for the rest of the run.
    Rules(Rules),
    /// Server error or unreachable: disallow everything for now and ask again later.
    Unavailable(String),
}

/// The robots.txt URL for a page's origin.
pub fn robots_url(page: &Url) -> Option<Url> {
    let mut u = page.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.join("/robots.txt").ok()
}

/// Interprets a robots.txt response (after redirects).
pub fn interpret(status: u16, body: &[u8], agent: &str) -> Verdict {
    match status {
        200..=299 => match Robot::new(agent, body) {
            Ok(r) => Verdict::Rules(Rules::Parsed(Arc::new(r))),
            // An unparseable file says nothing we can follow; RFC 9309 treats it as no rules.
            Err(_) => Verdict::Rules(Rules::AllowAll),
        },
        400..=499 => Verdict::Rules(Rules::AllowAll),
        _ => Verdict::Unavailable(format!("robots.txt answered HTTP {status}")),
    }
}

/// What the result of fetching a robots.txt means. A host the network guard refuses has no
/// rules to wait for: its pages are let through to the same guard, so each one records
/// `failed(blocked_address)` instead of the host being retried as unavailable.
pub fn from_fetch(fetched: Result<super::Fetched, super::FetchError>, agent: &str) -> Verdict {
    match fetched {
        Ok(f) => interpret(f.status, &f.body, agent),
        Err(super::FetchError::Blocked(_)) => Verdict::Rules(Rules::AllowAll),
        Err(e) => Verdict::Unavailable(e.to_string()),
    }
}

/// The product token robots.txt groups are matched against: the user agent up to the first
/// `/` or space (`trawl/0.1 (…)` → `trawl`).
pub fn product_token(user_agent: &str) -> &str {
    user_agent
        .split(['/', ' '])
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or(user_agent)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn rules_and_delay() {
        let Verdict::Rules(r) = interpret(
            200,
            b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\n",
            "trawl",
        ) else {
            panic!()
        };
        assert!(!r.allows(&u("http://a.test/private/x")));
        assert!(r.allows(&u("http://a.test/public")));
        assert_eq!(r.crawl_delay(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn agent_specific_groups() {
        let txt = b"User-agent: trawl\nDisallow: /\n\nUser-agent: *\nAllow: /\n";
        let Verdict::Rules(r) = interpret(200, txt, "trawl") else {
            panic!()
        };
        assert!(!r.allows(&u("http://a.test/x")));
    }

    #[test]
    fn statuses() {
        assert!(matches!(
            interpret(404, b"", "t"),
            Verdict::Rules(Rules::AllowAll)
        ));
        assert!(matches!(interpret(500, b"", "t"), Verdict::Unavailable(_)));
        assert!(matches!(interpret(503, b"", "t"), Verdict::Unavailable(_)));
    }

    #[test]
    fn garbage_and_bom_never_panic() {
        let Verdict::Rules(r) = interpret(200, b"\xef\xbb\xbfUser-agent: *\nDisallow: /x\n", "t")
        else {
            panic!()
        };
        assert!(!r.allows(&u("http://a.test/x")));
        let _ = interpret(200, &[0xff, 0x00, 0xfe, b'\n', b':'], "t");
    }

    #[test]
    fn a_blocked_host_is_left_to_the_guard() {
        let blocked = super::super::guard::BlockedAddress {
            host: "127.0.0.1".into(),
            addr: "127.0.0.1".parse().unwrap(),
            kind: "loopback",
        };
        assert!(matches!(
            from_fetch(Err(blocked.into()), "t"),
            Verdict::Rules(Rules::AllowAll)
        ));
        assert!(matches!(
            from_fetch(
                Err(crate::fetch::FetchError::Connect("refused".into())),
                "t"
            ),
            Verdict::Unavailable(_)
        ));
    }

    #[test]
    fn tokens_and_urls() {
        assert_eq!(product_token("trawl/0.1 (archival)"), "trawl");
        assert_eq!(
            robots_url(&u("http://a.test:8080/x/y?z=1"))
                .unwrap()
                .as_str(),
            "http://a.test:8080/robots.txt"
        );
    }
}
