//! Page metadata from the sources that declare it, most explicit first: JSON-LD
//! (`NewsArticle`/`Article`…), OpenGraph and `article:*`, plain `<meta>` names, `<time>`,
//! `itemprop`; and the text labels Chinese and English news pages print (`来源：`, `作者：`,
//! `（文章来源：…）`, `By …`).

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset};
use regex::Regex;
use scraper::{ElementRef, Html};
use serde_json::Value;

use crate::extract::{clean_label, date, text};

/// What the page declares about itself.
#[derive(Debug, Default)]
pub(super) struct Meta {
    /// Headline: JSON-LD `headline`, then `og:title`.
    pub headline: Option<String>,
    /// `<title>`.
    pub doc_title: Option<String>,
    /// Text of the first `<h1>`.
    pub h1: Option<String>,
    /// Publication time from structured data, meta tags or `<time>`.
    pub published: Option<DateTime<FixedOffset>>,
    /// Author from JSON-LD or meta tags.
    pub author: Option<String>,
    /// Source (publisher) from JSON-LD or meta tags.
    pub source: Option<String>,
    /// JSON-LD `articleBody`.
    pub ld_body: Option<String>,
    /// Whether JSON-LD or `og:type` say this page is an article.
    pub declared_article: bool,
    /// The JSON-LD type when it says the page is something else (`CollectionPage`,
    /// `AboutPage`…).
    pub declared_other: Option<String>,
}

/// JSON-LD `@type`s that are articles.
fn is_article_type(t: &str) -> bool {
    matches!(
        t,
        "NewsArticle"
            | "Article"
            | "ReportageNewsArticle"
            | "AnalysisNewsArticle"
            | "BackgroundNewsArticle"
            | "OpinionNewsArticle"
            | "ReviewNewsArticle"
            | "BlogPosting"
            | "LiveBlogPosting"
            | "Report"
            | "ScholarlyArticle"
    )
}

/// JSON-LD `@type`s that are pages about many things or no article.
fn is_other_type(t: &str) -> bool {
    matches!(
        t,
        "CollectionPage"
            | "ItemList"
            | "AboutPage"
            | "ContactPage"
            | "ProfilePage"
            | "SearchResultsPage"
    )
}

/// Reads the declared metadata in one linear scan over the DOM's nodes (no selector
/// matching: this runs on every page of a crawl).
pub(super) fn read(html: &Html, zone: FixedOffset) -> Meta {
    let mut m = Meta::default();
    let mut og_title = None;
    let mut meta_date = None;
    let mut meta_author = None;
    let mut meta_source = None;
    let mut element_dates: Option<DateTime<FixedOffset>> = None;
    for node in html.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let v = el.value();
        match v.name() {
            "meta" => {
                if let Some(content) = v.attr("content").map(str::trim).filter(|c| !c.is_empty()) {
                    let key = v
                        .attr("property")
                        .or(v.attr("name"))
                        .or(v.attr("itemprop"))
                        .unwrap_or("");
                    meta_tag(
                        key,
                        content,
                        zone,
                        &mut m,
                        [&mut og_title, &mut meta_author, &mut meta_source],
                        &mut meta_date,
                    );
                }
            }
            "script" if v.attr("type") == Some("application/ld+json") => {
                let raw: String = el.text().collect();
                if let Ok(val) = serde_json::from_str::<Value>(raw.trim()) {
                    json_ld(&val, &mut m, zone, 0);
                }
            }
            "title" if m.doc_title.is_none() => {
                m.doc_title = Some(text::flat(el)).filter(|t| !t.is_empty());
            }
            "h1" if m.h1.is_none() => {
                m.h1 = Some(text::flat(el)).filter(|t| !t.is_empty());
            }
            "time" if element_dates.is_none() => element_dates = element_date(el, zone),
            _ if element_dates.is_none() && v.attr("itemprop") == Some("datePublished") => {
                element_dates = element_date(el, zone);
            }
            _ => {}
        }
    }
    m.headline = m.headline.take().or(og_title);
    m.published = m.published.or(meta_date).or(element_dates);
    m.author = m.author.take().or(meta_author).map(|a| clean_label(&a));
    m.source = m.source.take().or(meta_source).map(|a| clean_label(&a));
    m
}

/// One `<meta>` tag: `[og_title, author, source]` are filled when still empty.
fn meta_tag(
    key: &str,
    content: &str,
    zone: FixedOffset,
    m: &mut Meta,
    [og_title, meta_author, meta_source]: [&mut Option<String>; 3],
    meta_date: &mut Option<DateTime<FixedOffset>>,
) {
    let key = key.to_ascii_lowercase();
    match key.as_str() {
        "og:title" => set(og_title, content),
        // Only "article" is trusted: many article pages say "website".
        "og:type" if content.eq_ignore_ascii_case("article") => m.declared_article = true,
        "article:published_time"
        | "datepublished"
        | "publishdate"
        | "publish-date"
        | "publish_date"
        | "pubdate"
        | "publishtime"
        | "og:published_time"
        | "og:release_date"
        | "dc.date.issued"
        | "dc.date"
        | "dcterms.created"
        | "date"
        | "sailthru.date"
        | "parsely-pub-date"
        | "article.published"
        | "originalpublicationdate"
            if meta_date.is_none() =>
        {
            *meta_date = date::parse_published(content, zone);
        }
        // `article:author` is often a profile URL, which names no one.
        "author" | "article:author" | "dc.creator" | "byl" | "sailthru.author"
        | "parsely-author"
            if !content.starts_with("http") =>
        {
            set(meta_author, content);
        }
        "source" | "article:publisher" | "dc.publisher" | "publisher"
            if !content.starts_with("http") =>
        {
            set(meta_source, content);
        }
        _ => {}
    }
}

fn set(slot: &mut Option<String>, v: &str) {
    if slot.is_none() {
        *slot = Some(v.to_string());
    }
}

fn element_date(el: ElementRef<'_>, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let v = el.value();
    v.attr("datetime")
        .or(v.attr("content"))
        .and_then(|a| date::parse_published(a, zone))
        .or_else(|| date::parse_published(&text::flat(el), zone))
}

/// Walks a JSON-LD value (objects, arrays, `@graph`) for the first article object.
fn json_ld(v: &Value, m: &mut Meta, zone: FixedOffset, depth: usize) {
    // Structured data nests a few levels at most; bound the walk on hostile input.
    if depth > 6 {
        return;
    }
    match v {
        Value::Array(items) => {
            for item in items {
                json_ld(item, m, zone, depth + 1);
            }
        }
        Value::Object(o) => {
            if let Some(graph) = o.get("@graph") {
                json_ld(graph, m, zone, depth + 1);
            }
            let types: Vec<&str> = match o.get("@type") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if let Some(t) = types.iter().find(|t| is_other_type(t)) {
                set(&mut m.declared_other, t);
            }
            if !types.iter().any(|t| is_article_type(t))
                || m.declared_article && m.headline.is_some()
            {
                return;
            }
            m.declared_article = true;
            if let Some(h) = o.get("headline").and_then(Value::as_str) {
                set(&mut m.headline, h.trim());
            }
            if m.published.is_none() {
                m.published = o
                    .get("datePublished")
                    .and_then(Value::as_str)
                    .and_then(|d| date::parse_published(d, zone));
            }
            if let Some(a) = o.get("author").and_then(name_of) {
                set(&mut m.author, &a);
            }
            if let Some(p) = o.get("publisher").and_then(name_of) {
                set(&mut m.source, &p);
            }
            if let Some(b) = o.get("articleBody").and_then(Value::as_str) {
                set(&mut m.ld_body, b);
            }
        }
        _ => {}
    }
}

/// A person or organisation: a string, `{"name": …}`, or a list of them (joined).
fn name_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() && !s.starts_with("http") => {
            Some(s.trim().to_string())
        }
        Value::Object(o) => o.get("name").and_then(name_of),
        Value::Array(items) => {
            let names: Vec<String> = items.iter().filter_map(name_of).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        _ => None,
    }
}

/// What a text label line says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Label {
    /// `来源：X`, `（文章来源：X）`, `Source: X`.
    Source(String),
    /// `作者：X`, `记者 X`, `By X`.
    Author(String),
    /// `责任编辑：X`, `编辑：X`: recorded nowhere, but not body text.
    Editor,
}

fn source_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?:文章来源|新闻来源|信息来源|稿件来源|稿源|来源|出处)\s*[:：]\s*([^\s　|｜/<>()（）\[\]【】]{2,24})|(?i:source)[ \t]*:[ \t]*([A-Z][\w&.'’-]*(?:[ \t]+[A-Z][\w&.'’-]*){0,5})",
        )
        .expect("static source regex compiles")
    })
}

fn author_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?:作者|撰稿|撰文|记者)\s*[:：]\s*([^\s　|｜/<>()（）\[\]【】,，]{2,16})|(?m:^)[ \t]*(?:By|BY|by)[ \t]+([A-Z][\w.'’-]*(?:[ \t]+(?:[A-Z][\w.'’-]*|and|de|van|von))*)",
        )
        .expect("static author regex compiles")
    })
}

fn editor_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(r"^[\s(（\[【]*(?:责任编辑|责编|编辑|本文编辑)\s*[:：]")
            .expect("static editor regex compiles")
    })
}

/// Finds the source named anywhere in `text`.
pub(super) fn find_source(text: &str) -> Option<String> {
    let c = source_re().captures(text)?;
    let raw = c.get(1).or(c.get(2))?.as_str();
    // "Source: Demo Wire By Jane Doe" on one line: the byline is not part of the source.
    let raw = raw.split(" By ").next().unwrap_or(raw);
    let s = clean_label(raw);
    (!s.is_empty()).then_some(s)
}

/// Finds the author named anywhere in `text`.
pub(super) fn find_author(text: &str) -> Option<String> {
    let c = author_re().captures(text)?;
    let s = clean_label(c.get(1).or(c.get(2))?.as_str());
    (!s.is_empty()).then_some(s)
}

/// Classifies a short body line that is only a label (source, author, editor), so it can be
/// moved into the metadata instead of the body.
pub(super) fn label_line(line: &str) -> Option<Label> {
    // Long lines are sentences that happen to mention a source.
    if line.chars().count() > 40 {
        return None;
    }
    if editor_re().is_match(line) {
        return Some(Label::Editor);
    }
    let t = line.trim_matches(|c: char| c.is_whitespace() || matches!(c, '（' | '(' | '【' | '['));
    if t.starts_with("文章来源")
        || t.starts_with("新闻来源")
        || t.starts_with("来源")
        || t.starts_with("稿源")
        || t.starts_with("Source:")
    {
        return find_source(t).map(Label::Source);
    }
    if t.starts_with("作者") {
        return find_author(t).map(Label::Author);
    }
    // An English byline line: "By Jane Doe", "By Jane Doe, Health reporter", "Article By: X".
    let rest = t
        .strip_prefix("Article By:")
        .or_else(|| t.strip_prefix("Article by:"))
        .or_else(|| t.strip_prefix("By "))
        .or_else(|| t.strip_prefix("BY "));
    if let Some(rest) = rest {
        let rest = rest.trim_start();
        if rest.starts_with(|c: char| {
            c.is_uppercase() || c.is_alphabetic() && !c.is_lowercase() && !c.is_ascii()
        }) && rest.split_whitespace().count() <= 10
        {
            let name: String = rest
                .split([',', '|', '/'])
                .next()
                .unwrap_or(rest)
                .trim()
                .to_string();
            return Some(Label::Author(name));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn json_ld_news_article() {
        let html = Html::parse_document(
            r#"<script type="application/ld+json">{"@context":"https://schema.org","@graph":[
            {"@type":"WebSite","name":"W"},
            {"@type":["NewsArticle"],"headline":"H","datePublished":"2022-01-21T09:38:35+08:00",
             "author":[{"@type":"Person","name":"A One"},{"name":"B Two"}],
             "publisher":{"@type":"Organization","name":"Daily"},"articleBody":"Body."}]}</script>"#,
        );
        let m = read(&html, cst());
        assert_eq!(m.headline.as_deref(), Some("H"));
        assert_eq!(
            m.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:35+08:00"
        );
        assert_eq!(m.author.as_deref(), Some("A One, B Two"));
        assert_eq!(m.source.as_deref(), Some("Daily"));
        assert_eq!(m.ld_body.as_deref(), Some("Body."));
        assert!(m.declared_article);
    }

    #[test]
    fn broken_json_ld_is_ignored() {
        let html = Html::parse_document(
            r#"<script type="application/ld+json">{"@type": "NewsArticle", </script><title>T</title>"#,
        );
        let m = read(&html, cst());
        assert_eq!(m.headline, None);
        assert_eq!(m.doc_title.as_deref(), Some("T"));
    }

    #[test]
    fn opengraph_and_article_tags() {
        let html = Html::parse_document(
            r#"<meta property="og:title" content="OG title"><meta property="og:type" content="article">
            <meta property="article:published_time" content="2022-01-21T09:38:00Z">
            <meta property="article:author" content="https://example.com/people/x">"#,
        );
        let m = read(&html, cst());
        assert_eq!(m.headline.as_deref(), Some("OG title"));
        assert!(m.declared_article);
        assert_eq!(
            m.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:00+00:00"
        );
        assert_eq!(m.author, None);
    }

    #[test]
    fn plain_meta_names() {
        let html = Html::parse_document(
            r#"<meta name="author" content="作者：张三"><meta name="publishdate" content="2022-01-21">
            <meta name="source" content="来源：新华社">"#,
        );
        let m = read(&html, cst());
        assert_eq!(m.author.as_deref(), Some("张三"));
        assert_eq!(m.source.as_deref(), Some("新华社"));
        assert_eq!(
            m.published.unwrap().to_rfc3339(),
            "2022-01-21T00:00:00+08:00"
        );
    }

    #[test]
    fn time_element() {
        let html = Html::parse_document(
            r#"<time datetime="2022-01-21 09:38">Friday</time><h1> Head </h1>"#,
        );
        let m = read(&html, cst());
        assert_eq!(
            m.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:00+08:00"
        );
        assert_eq!(m.h1.as_deref(), Some("Head"));
    }

    #[test]
    fn text_labels() {
        assert_eq!(
            find_source("2022-01-21 09:38 来源：大众日报 作者：李四").as_deref(),
            Some("大众日报")
        );
        assert_eq!(
            find_author("2022-01-21 来源：大众日报 作者：李四").as_deref(),
            Some("李四")
        );
        assert_eq!(
            find_author("By Jane Doe and John Roe").as_deref(),
            Some("Jane Doe and John Roe")
        );
        assert_eq!(
            label_line("（文章来源：大众日报）"),
            Some(Label::Source("大众日报".into()))
        );
        assert_eq!(label_line("责任编辑：王五"), Some(Label::Editor));
        assert_eq!(label_line("作者：李四"), Some(Label::Author("李四".into())));
        assert_eq!(label_line("他说，来源：不明的消息称此事属实。"), None);
        assert_eq!(
            label_line("By Jane Doe, Health reporter"),
            Some(Label::Author("Jane Doe".into()))
        );
        assert_eq!(label_line("By contrast, one in ten said so."), None);
    }
}
