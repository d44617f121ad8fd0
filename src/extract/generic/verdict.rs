//! Is the page an article at all? Listing, tag and category pages, about/contact pages and
//! "page not found" pages served with status 200 (soft 404s) must not become records.
//!
//! The signals are general: what the page declares (JSON-LD, `og:type`), its title, its URL
//! path, and the shape of the text the body scorer chose — an article has one long run of
//! prose, a listing has headline links interleaved with short blurbs.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use url::Url;

/// Why a page is not an article.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotArticleKind {
    /// A list of links to articles (front page, section index, search results).
    Listing,
    /// A tag or topic page (a listing by URL).
    Tag,
    /// A category or column page (a listing by URL).
    Category,
    /// An about page.
    About,
    /// A contact page.
    Contact,
    /// A "page not found" page served with a success status.
    Soft404,
    /// No text that reads like an article body.
    NoBody,
}

impl NotArticleKind {
    /// Stable lower-case name; a not-article reason starts with it (`listing: …`).
    pub fn as_str(self) -> &'static str {
        match self {
            NotArticleKind::Listing => "listing",
            NotArticleKind::Tag => "tag",
            NotArticleKind::Category => "category",
            NotArticleKind::About => "about",
            NotArticleKind::Contact => "contact",
            NotArticleKind::Soft404 => "soft_404",
            NotArticleKind::NoBody => "no_body",
        }
    }

    /// Whether pages of this kind carry links worth following (the crawl's `hub` outcome).
    pub fn is_hub(self) -> bool {
        matches!(
            self,
            NotArticleKind::Listing | NotArticleKind::Tag | NotArticleKind::Category
        )
    }

    /// The kind a not-article reason string starts with (the inverse of the `Display` form).
    pub fn of_reason(reason: &str) -> Option<NotArticleKind> {
        let head = reason.split(':').next()?.trim();
        [
            NotArticleKind::Listing,
            NotArticleKind::Tag,
            NotArticleKind::Category,
            NotArticleKind::About,
            NotArticleKind::Contact,
            NotArticleKind::Soft404,
            NotArticleKind::NoBody,
        ]
        .into_iter()
        .find(|k| k.as_str() == head)
    }
}

impl fmt::Display for NotArticleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The evidence the verdict weighs.
#[derive(Debug, Default)]
pub(super) struct Evidence<'a> {
    /// Title candidates: `<title>`, the headline, the first `<h1>`.
    pub titles: Vec<&'a str>,
    /// JSON-LD or `og:type` declare an article.
    pub declared_article: bool,
    /// The JSON-LD type, when it declares something else (`CollectionPage`, `AboutPage`…).
    pub declared_other: Option<&'a str>,
    /// Weighted length of the kept body text.
    pub body_len: u32,
    /// Link-dominated lines inside the chosen container (dropped from the body).
    pub link_lines: u32,
    /// Weighted length of the longest run of body lines not interrupted by a link line.
    pub longest_run: u32,
    /// Weighted length of every run of prose between link lines, in order.
    pub runs: Vec<u32>,
    /// Weighted text length of the whole page.
    pub page_text: u32,
    /// Weighted link text length of the whole page.
    pub page_link: u32,
}

/// Below this weighted length (about 40 Chinese characters or 80 Latin letters) a body is
/// not an article.
const MIN_BODY: u32 = 80;

/// The longest run of prose (weighted) a listing's blurb has; an article has longer runs.
const MAX_BLURB: u32 = 800;

/// Titles that only error pages have.
fn not_found_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?i)\b404\b|page not found|page (?:cannot|can't|could not) be found|页面不存在|页面未找到|网页不存在|文章不存在|内容不存在|信息不存在|新闻不存在|您访问的页面|找不到(?:该|此|您要的)?(?:页面|网页|文件)",
        )
        .expect("static not-found regex compiles")
    })
}

/// Phrases that error pages use, but that a news headline could use too: only believed on a
/// page with almost no text.
fn weak_not_found_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?i)not found|no longer available|does not exist|doesn't exist|找不到|已被删除|已删除|不存在|出错了|error",
        )
        .expect("static weak not-found regex compiles")
    })
}

fn about_title_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(r"(?i)^\s*(?:about\s+us|about\s+the\s+\w+|who\s+we\s+are|关于我们|关于本站|网站简介|本站简介)|^\s*(?P<c>contact\s+us|contact|联系我们|联系方式)\b")
            .expect("static about regex compiles")
    })
}

/// Path segments (without extension) of about and contact pages.
fn path_kind(url: &Url) -> Option<NotArticleKind> {
    let segs: Vec<String> = url
        .path_segments()
        .map(|s| s.map(|p| p.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let last = segs
        .iter()
        .rev()
        .find(|s| !s.is_empty())
        .map(|s| s.split('.').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let plain = last.replace(['-', '_'], "");
    match plain.as_str() {
        "about" | "aboutus" | "about1" | "company" | "impressum" | "guanyu" | "gywm" => {
            Some(NotArticleKind::About)
        }
        "contact" | "contactus" | "lianxi" | "lxwm" => Some(NotArticleKind::Contact),
        _ => None,
    }
}

/// A listing's kind by URL: tag and category pages name themselves.
fn listing_kind(url: &Url) -> NotArticleKind {
    let path = url.path().to_ascii_lowercase();
    let has = |seg: &str| path.contains(&format!("/{seg}/")) || path.ends_with(&format!("/{seg}"));
    if ["tag", "tags", "topic", "topics", "label", "keyword"]
        .iter()
        .any(|s| has(s))
    {
        NotArticleKind::Tag
    } else if [
        "category",
        "categories",
        "column",
        "section",
        "channel",
        "list",
    ]
    .iter()
    .any(|s| has(s))
    {
        NotArticleKind::Category
    } else {
        NotArticleKind::Listing
    }
}

/// `Some((kind, detail))` when the page is not an article.
pub(super) fn judge(url: &Url, ev: &Evidence<'_>) -> Option<(NotArticleKind, String)> {
    // Soft 404: the page says so in its title, and has little text.
    if ev.body_len < 1200 {
        if let Some(t) = ev.titles.iter().find(|t| not_found_re().is_match(t)) {
            return Some((NotArticleKind::Soft404, format!("title says {t:?}")));
        }
    }
    if ev.body_len < 300 {
        if let Some(t) = ev.titles.iter().find(|t| weak_not_found_re().is_match(t)) {
            return Some((NotArticleKind::Soft404, format!("title says {t:?}")));
        }
    }
    if let (Some(t), false) = (ev.declared_other, ev.declared_article) {
        let kind = match t {
            "AboutPage" => NotArticleKind::About,
            "ContactPage" => NotArticleKind::Contact,
            _ => listing_kind(url),
        };
        return Some((kind, format!("structured data declares a {t}")));
    }
    if !ev.declared_article {
        if let Some(t) = ev.titles.iter().find_map(|t| about_title_re().captures(t)) {
            let kind = if t.name("c").is_some() {
                NotArticleKind::Contact
            } else {
                NotArticleKind::About
            };
            return Some((kind, format!("title starts with {:?}", &t[0])));
        }
        if let Some(kind) = path_kind(url) {
            return Some((kind, format!("URL path {}", url.path())));
        }
    }
    let link_share = if ev.page_text == 0 {
        0.0
    } else {
        ev.page_link as f32 / ev.page_text as f32
    };
    if ev.body_len < MIN_BODY {
        // A page of links with no prose is a hub; a nearly empty page is just empty.
        if link_share > 0.5 && ev.page_link > 150 {
            return Some((
                listing_kind(url),
                format!(
                    "no prose; {:.0}% of the page text is links",
                    link_share * 100.0
                ),
            ));
        }
        if ev.body_len < 40 || !ev.declared_article {
            return Some((
                NotArticleKind::NoBody,
                format!("body of {} (weighted chars) is too short", ev.body_len),
            ));
        }
    }
    if ev.declared_article {
        return None;
    }
    let run_share = if ev.body_len == 0 {
        0.0
    } else {
        ev.longest_run as f32 / ev.body_len as f32
    };
    // Headline links interleaved with blurbs: many short runs of prose, none dominating and
    // none longer than a blurb (an article with inline links still has long runs).
    let mut sorted = ev.runs.clone();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    if ev.link_lines >= 6
        && ev.runs.len() >= 5
        && run_share < 0.4
        && ev.longest_run < MAX_BLURB
        && median < MAX_BLURB / 3
    {
        return Some((
            listing_kind(url),
            format!(
                "{} headline links between blurbs; the longest prose run is {:.0}% of the text",
                ev.link_lines,
                run_share * 100.0
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn article() -> Evidence<'static> {
        Evidence {
            titles: vec!["A headline"],
            body_len: 2000,
            link_lines: 3,
            longest_run: 1800,
            page_text: 4000,
            page_link: 1000,
            ..Default::default()
        }
    }

    #[test]
    fn an_article_passes() {
        assert_eq!(
            judge(&url("http://n.test/2022/01/a.html"), &article()),
            None
        );
    }

    #[test]
    fn soft_404_by_title() {
        let ev = Evidence {
            titles: vec!["页面不存在"],
            body_len: 100,
            ..article()
        };
        let (k, _) = judge(&url("http://n.test/a.html"), &ev).unwrap();
        assert_eq!(k, NotArticleKind::Soft404);
    }

    #[test]
    fn about_and_contact() {
        let (k, _) = judge(&url("http://n.test/about-us/"), &article()).unwrap();
        assert_eq!(k, NotArticleKind::About);
        let ev = Evidence {
            titles: vec!["Contact us - Daily"],
            ..article()
        };
        assert_eq!(
            judge(&url("http://n.test/x"), &ev).unwrap().0,
            NotArticleKind::Contact
        );
    }

    #[test]
    fn interleaved_links_are_a_listing() {
        let ev = Evidence {
            link_lines: 12,
            longest_run: 300,
            runs: vec![200, 180, 300, 150, 220, 190, 210, 240, 160, 150],
            ..article()
        };
        assert_eq!(
            judge(&url("http://n.test/tag/economy"), &ev).unwrap().0,
            NotArticleKind::Tag
        );
        assert_eq!(
            judge(&url("http://n.test/news/"), &ev).unwrap().0,
            NotArticleKind::Listing
        );
    }

    #[test]
    fn structured_data_can_declare_a_collection() {
        let ev = Evidence {
            declared_other: Some("CollectionPage"),
            ..article()
        };
        assert_eq!(
            judge(&url("http://n.test/category/world"), &ev).unwrap().0,
            NotArticleKind::Category
        );
        let ev = Evidence {
            declared_other: Some("CollectionPage"),
            declared_article: true,
            ..article()
        };
        assert_eq!(judge(&url("http://n.test/a"), &ev), None);
    }

    #[test]
    fn a_short_article_mentioning_not_found_is_kept() {
        let ev = Evidence {
            titles: vec!["Missing hikers not found after two-day search"],
            body_len: 900,
            ..article()
        };
        assert_eq!(judge(&url("http://n.test/a"), &ev), None);
    }

    #[test]
    fn reasons_round_trip_to_kinds() {
        assert_eq!(
            NotArticleKind::of_reason("soft_404: title says x"),
            Some(NotArticleKind::Soft404)
        );
        assert!(NotArticleKind::Tag.is_hub());
        assert!(!NotArticleKind::About.is_hub());
        assert_eq!(NotArticleKind::of_reason("weird"), None);
    }
}
