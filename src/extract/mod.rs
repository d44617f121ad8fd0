//! Stage 3, extract: a parsed page becomes a [`Post`] (or "not an article") plus the links it
//! offers the frontier.
//!
//! Site rules (CSS selectors from config) go first where a site has them; otherwise the
//! generic extractor (`generic/`) scores the page's containers and reads its metadata, and
//! says when a page is not an article at all. `Post::extractor` records which one ran. The page is parsed once, by the
//! caller, and both extraction and link discovery read the same DOM. Never does I/O.

pub mod api;
pub mod bounds;
pub mod date;
pub mod feed;
pub mod generic;
pub mod text;

use std::collections::HashSet;

use chrono::FixedOffset;
use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::model::Post;

/// CSS selectors for one site's article pages.
#[derive(Clone, Debug)]
pub struct SiteRule {
    /// Rule name, recorded as the post's extractor.
    pub name: String,
    /// Headline element; `<title>` / `og:title` when absent or empty.
    pub title: Option<Selector>,
    /// Body elements: each matched element's lines are paragraphs.
    pub body: Selector,
    /// Element whose text (or `datetime`/`content` attribute) holds the publication time.
    pub published: Option<Selector>,
    /// Element holding the source / media name.
    pub source: Option<Selector>,
    /// Element holding the author.
    pub author: Option<Selector>,
    /// Subtrees removed before reading the body (share bars, ads, related links).
    pub drop: Vec<Selector>,
}

/// What a page turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub enum Extraction {
    /// An article.
    Post(Post),
    /// Not an article (no body found, say), with the reason.
    NotArticle(String),
}

/// Extraction settings for a crawl.
#[derive(Clone, Debug)]
pub struct Extractor {
    /// Rule per site, indexed like [`crate::scope::Scope::sites`]; `None` = generic.
    pub rules: Vec<Option<SiteRule>>,
    /// Zone for times that carry none.
    pub zone: FixedOffset,
}

impl Extractor {
    /// Extracts a post from `html` (fetched from `url`, a page of site `site`).
    pub fn extract(&self, html: &Html, url: &Url, site: Option<usize>) -> Extraction {
        let rule = site
            .and_then(|s| self.rules.get(s))
            .and_then(Option::as_ref);
        let post = match rule {
            Some(rule) => self.by_rule(html, url, rule),
            // The generic extractor decides for itself what is not an article, and why.
            None => return generic::extract(html, url, self.zone),
        };
        match post {
            Some(p) if !p.body.is_empty() => Extraction::Post(p),
            _ => Extraction::NotArticle("no article body found".into()),
        }
    }

    fn by_rule(&self, html: &Html, url: &Url, rule: &SiteRule) -> Option<Post> {
        let dropped = dropped_nodes(html, &rule.drop);
        let body: Vec<String> = html
            .select(&rule.body)
            .filter(|el| !is_inside(*el, &dropped))
            .flat_map(|el| text::lines(el, &dropped))
            .collect();
        let title = rule
            .title
            .as_ref()
            .and_then(|s| first_text(html, s))
            .or_else(|| meta_title(html))
            .unwrap_or_default();
        let published = rule
            .published
            .as_ref()
            .and_then(|s| html.select(s).next())
            .and_then(|el| {
                let attr = el.value().attr("datetime").or(el.value().attr("content"));
                attr.and_then(|a| date::parse_published(a, self.zone))
                    .or_else(|| date::parse_published(&text::flat(el), self.zone))
            })
            .or_else(|| meta_published(html, self.zone));
        let source = rule
            .source
            .as_ref()
            .and_then(|s| first_text(html, s))
            .map(|s| clean_label(&s))
            .filter(|s| !s.is_empty());
        let author = rule
            .author
            .as_ref()
            .and_then(|s| first_text(html, s))
            .map(|s| clean_label(&s))
            .filter(|s| !s.is_empty());
        Some(finish(
            url, title, published, source, author, body, &rule.name,
        ))
    }
}

fn finish(
    url: &Url,
    title: String,
    published: Option<chrono::DateTime<FixedOffset>>,
    source: Option<String>,
    author: Option<String>,
    body: Vec<String>,
    extractor: &str,
) -> Post {
    let language = text::guess_language(&body);
    Post {
        url: url.to_string(),
        title,
        published,
        source,
        author,
        body,
        language,
        extractor: extractor.to_string(),
    }
}

/// Every `<a href>` on the page, resolved against the page URL (and `<base href>`).
pub fn links(html: &Html, page: &Url) -> Vec<Url> {
    links_upto(html, page, usize::MAX)
}

/// The first `max` `<a href>` links of the page, in document order. The crawl passes its
/// per-page link cap, so a page of a million links costs `max` parsed URLs, not a million.
pub fn links_upto(html: &Html, page: &Url, max: usize) -> Vec<Url> {
    let base = html
        .select(&sel("base[href]"))
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page.join(h).ok())
        .unwrap_or_else(|| page.clone());
    html.select(&sel("a[href]"))
        .filter_map(|a| a.value().attr("href"))
        .filter_map(|h| base.join(h.trim()).ok())
        // Links are stored as found (a listing keeps them for its next 304): never with
        // credentials in them.
        .map(crate::scope::without_credentials)
        .take(max)
        .collect()
}

/// Parses a selector from a literal in this file.
fn sel(s: &str) -> Selector {
    // Only called with the literal selectors above, which are valid CSS.
    Selector::parse(s).expect("literal selector is valid")
}

fn dropped_nodes(html: &Html, drop: &[Selector]) -> HashSet<NodeId> {
    drop.iter()
        .flat_map(|s| html.select(s).map(|e| e.id()))
        .collect()
}

fn is_inside(el: ElementRef<'_>, dropped: &HashSet<NodeId>) -> bool {
    !dropped.is_empty() && el.ancestors().any(|a| dropped.contains(&a.id()))
}

fn first_text(html: &Html, s: &Selector) -> Option<String> {
    html.select(s).map(text::flat).find(|t| !t.is_empty())
}

fn meta_content(html: &Html, selector: &str) -> Option<String> {
    html.select(&sel(selector))
        .filter_map(|m| m.value().attr("content"))
        .map(str::trim)
        .find(|c| !c.is_empty())
        .map(str::to_string)
}

fn meta_title(html: &Html) -> Option<String> {
    meta_content(html, r#"meta[property="og:title"]"#).or_else(|| first_text(html, &sel("title")))
}

fn meta_published(html: &Html, zone: FixedOffset) -> Option<chrono::DateTime<FixedOffset>> {
    meta_content(html, r#"meta[property="article:published_time"]"#)
        .and_then(|c| date::parse_published(&c, zone))
        .or_else(|| {
            html.select(&sel("time[datetime]"))
                .filter_map(|t| t.value().attr("datetime"))
                .find_map(|d| date::parse_published(d, zone))
        })
}

/// Strips label prefixes such as `来源：` or `Source:` and surrounding brackets.
pub fn clean_label(s: &str) -> String {
    let brackets = |c: char| c.is_whitespace() || matches!(c, '（' | '）' | '(' | ')');
    let mut t = s.trim_matches(brackets);
    for prefix in [
        "文章来源",
        "新闻来源",
        "来源",
        "作者",
        "责任编辑",
        "编辑",
        "Source",
        "source",
    ] {
        if let Some(r) = t
            .strip_prefix(prefix)
            .and_then(|rest| rest.trim_start().strip_prefix(['：', ':']))
        {
            t = r;
            break;
        }
    }
    for prefix in ["By ", "by "] {
        if let Some(r) = t.strip_prefix(prefix) {
            t = r;
        }
    }
    t.trim_matches(brackets).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn rule() -> SiteRule {
        SiteRule {
            name: "origin".into(),
            title: Some(sel("h1.newsTitle")),
            body: sel("#ContentBody p"),
            published: Some(sel(".time")),
            source: Some(sel(".source")),
            author: None,
            drop: vec![sel(".ad")],
        }
    }

    const PAGE: &str = r#"<html><head><title>T - site</title></head><body>
        <h1 class="newsTitle"> 标题 </h1><span class="time">2022-01-21 09:38:35</span>
        <span class="source">来源：演示日报</span>
        <div id="ContentBody"><p>第一段。</p><p class="ad">广告</p><p>第二段<br>第三段</p></div>
        <a href="/x.html#f">x</a><a href="mailto:a@b">m</a></body></html>"#;

    #[test]
    fn site_rule_extracts_every_field() {
        let ex = Extractor {
            rules: vec![Some(rule())],
            zone: cst(),
        };
        let url = Url::parse("http://news.test/a?id=1").unwrap();
        let Extraction::Post(p) = ex.extract(&Html::parse_document(PAGE), &url, Some(0)) else {
            panic!("expected a post")
        };
        assert_eq!(p.title, "标题");
        assert_eq!(p.body, vec!["第一段。", "第二段", "第三段"]);
        assert_eq!(p.source.as_deref(), Some("演示日报"));
        assert_eq!(
            p.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:35+08:00"
        );
        assert_eq!(p.extractor, "origin");
        assert_eq!(p.language.as_deref(), Some("zh"));
    }

    #[test]
    fn sites_without_a_rule_fall_back_to_the_generic_extractor() {
        let ex = Extractor {
            rules: vec![None],
            zone: cst(),
        };
        let url = Url::parse("http://news.test/a").unwrap();
        let html = Html::parse_document(
            "<title>Hello</title><div><p><a href=/>nav</a></p></div><div>\
             <p>A long first paragraph, which says what happened and where.</p>\
             <p>Second one here, with the reaction of the people involved.</p></div>",
        );
        let Extraction::Post(p) = ex.extract(&html, &url, Some(0)) else {
            panic!("expected a post")
        };
        assert_eq!(
            p.body,
            vec![
                "A long first paragraph, which says what happened and where.",
                "Second one here, with the reaction of the people involved."
            ]
        );
        assert_eq!(p.extractor, "generic");
        assert_eq!(p.title, "Hello");
    }

    #[test]
    fn empty_body_is_not_an_article() {
        let ex = Extractor {
            rules: vec![Some(rule())],
            zone: cst(),
        };
        let url = Url::parse("http://news.test/").unwrap();
        let html = Html::parse_document("<h1 class=newsTitle>x</h1>");
        assert!(matches!(
            ex.extract(&html, &url, Some(0)),
            Extraction::NotArticle(_)
        ));
    }

    #[test]
    fn links_resolve_against_the_page() {
        let url = Url::parse("http://news.test/dir/a.html").unwrap();
        let found = links(&Html::parse_document(PAGE), &url);
        assert_eq!(found[0].as_str(), "http://news.test/x.html#f");
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn links_stop_at_the_cap() {
        let url = Url::parse("http://news.test/").unwrap();
        let page: String = (0..100).map(|i| format!("<a href=/{i}>{i}</a>")).collect();
        let found = links_upto(&Html::parse_document(&page), &url, 7);
        assert_eq!(found.len(), 7);
        assert_eq!(found[6].as_str(), "http://news.test/6");
        let with_credentials = "<a href='http://u:pw@news.test/x'>x</a>";
        let found = links(&Html::parse_document(with_credentials), &url);
        assert_eq!(found[0].as_str(), "http://news.test/x");
    }

    #[test]
    fn labels_are_cleaned() {
        assert_eq!(clean_label("来源：演示日报"), "演示日报");
        assert_eq!(clean_label("（文章来源：大众日报）"), "大众日报");
        assert_eq!(clean_label("Source: Demo Wire"), "Demo Wire");
        assert_eq!(clean_label("By Jane Doe"), "Jane Doe");
        assert_eq!(clean_label("Bystander"), "Bystander");
    }
}
