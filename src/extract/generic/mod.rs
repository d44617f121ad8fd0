//! The generic extractor: a post from any news page, without site rules.
//!
//! - `dom.rs`: one pass over the DOM scores every container by the text it holds (CJK-aware
//!   length and sentence punctuation) minus what looks like boilerplate (link lists, labels),
//!   with navigation, share bars, comments and related lists dropped by tag and class; the best
//!   container's lines are the body.
//! - `meta.rs`: title, time, author and source from JSON-LD, OpenGraph, `<meta>`, `<time>`
//!   and text labels (`来源：`, `作者：`, `By …`).
//! - `verdict.rs`: whether the page is an article at all (listing, tag, category, about,
//!   contact, soft 404).
//!
//! Pure: reads the parsed page and the URL, never does I/O.

mod dom;
mod meta;
mod verdict;

pub use verdict::NotArticleKind;

use chrono::{DateTime, FixedOffset};
use scraper::{ElementRef, Html};
use url::Url;

use crate::extract::{date, text, Extraction};
use crate::model::Post;

/// The name recorded in `Post::extractor` for posts this module produced.
pub const NAME: &str = "generic";

/// Short lines that are page furniture whatever container they sit in.
fn is_furniture(line: &str) -> bool {
    const PHRASES: &[&str] = &[
        "分享到",
        "分享至",
        "打印本页",
        "关闭窗口",
        "返回首页",
        "返回顶部",
        "【打印】",
        "【关闭】",
        "【字号",
        "字号：",
        "推荐给朋友",
        "我要评论",
        "发表评论",
        "相关新闻",
        "相关阅读",
        "相关链接",
        "延伸阅读",
        "热点推荐",
        "点击排行",
        "上一篇",
        "下一篇",
        "扫一扫",
        "Share this",
        "Share on",
        "Follow us",
        "Related:",
        "Related Stories",
        "Related Articles",
        "Advertisement",
        "ADVERTISEMENT",
        "Read more",
        "Sign up",
        "Copyright",
        "copyright",
        "©",
        "All rights reserved",
        "版权所有",
    ];
    line.chars().count() <= 60 && PHRASES.iter().any(|p| line.contains(p))
}

/// Extracts a post from any page, or says why it is not an article.
pub fn extract(html: &Html, url: &Url, zone: FixedOffset) -> Extraction {
    let meta = meta::read(html, zone);
    let declared_title = meta
        .headline
        .as_deref()
        .or(meta.doc_title.as_deref())
        .unwrap_or("");
    let page = dom::Page::analyse(html, declared_title);
    let best = page.best();
    let raw = best
        .map(|i| dom::lines(page.els[i].el, &page.dropped))
        .unwrap_or_default();

    let mut source = None;
    let mut author = None;
    // Keep text lines; link-dominated lines only separate runs of text.
    let mut kept: Vec<Option<dom::Line>> = Vec::with_capacity(raw.len());
    let mut link_lines = 0u32;
    for line in raw {
        if line.link * 2 > line.len {
            link_lines += 1;
            kept.push(None);
            continue;
        }
        if let Some(label) = meta::label_line(&line.text) {
            match label {
                meta::Label::Source(s) => source = source.or(Some(s)),
                meta::Label::Author(a) => author = author.or(Some(a)),
                meta::Label::Editor => {}
            }
            continue;
        }
        if is_furniture(&line.text) || is_dateline(&line, zone) {
            continue;
        }
        kept.push(Some(line));
    }
    let (mut body, mut body_len, mut longest_run, mut runs) = main_text(kept);
    // Trailing section labels of Latin-script pages ("Related", "Share Tools", "On the
    // Net:"): a body ends with a sentence. CJK pages end with credits ("记者某某摄") that are
    // part of the article, so only Latin lines are trimmed.
    while let Some(last) = body.last() {
        let latin = last.chars().filter(char::is_ascii_alphabetic).count() * 2 > last.len();
        let sentence = last
            .trim_end()
            .ends_with(['.', '!', '?', '"', '\'', '”', '’', ')']);
        if latin && !sentence && last.len() < 50 {
            let (len, _) = dom::measure(last);
            body_len = body_len.saturating_sub(len);
            body.pop();
        } else {
            break;
        }
    }

    // Structured data sometimes carries the whole body while the markup hides it behind
    // scripts; prefer it when the markup yielded much less.
    if let Some(ld) = meta.ld_body.as_deref() {
        let (ld_len, _) = dom::measure(ld);
        if ld_len > 2 * body_len.max(100) {
            body = ld
                .split(['\n', '\r'])
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            body_len = ld_len;
            longest_run = ld_len;
            runs = vec![ld_len];
        }
    }

    let (page_text, page_link) = page.totals();
    let mut titles: Vec<&str> = Vec::new();
    titles.extend(meta.doc_title.as_deref());
    titles.extend(meta.headline.as_deref());
    titles.extend(meta.h1.as_deref());
    let evidence = verdict::Evidence {
        titles,
        declared_article: meta.declared_article,
        declared_other: meta.declared_other.as_deref(),
        body_len,
        link_lines,
        longest_run,
        runs,
        page_text,
        page_link,
    };
    if let Some((kind, detail)) = verdict::judge(url, &evidence) {
        return Extraction::NotArticle(format!("{kind}: {detail}"));
    }

    // Text near the start of the body: where pages print the date line and the source.
    let context = best.map(|i| context(page.els[i].el)).unwrap_or_default();
    let published = meta
        .published
        .or_else(|| date_in(&context, zone))
        .or_else(|| date::from_url(url.path(), zone));
    let source = source
        .or_else(|| meta::find_source(&context))
        .or_else(|| meta.source.clone());
    let author = author
        .or_else(|| meta::find_author(&context))
        .or_else(|| meta.author.clone());
    // The headline often sits in the chosen container; it is the post's title, not body.
    let title = title(&meta);
    if body.first().is_some_and(|first| *first == title) {
        body.remove(0);
    }
    let language = text::guess_language(&body);
    Extraction::Post(Post {
        url: url.to_string(),
        title,
        published,
        source,
        author,
        body,
        language,
        extractor: NAME.to_string(),
    })
}

/// A short line that only dates the article ("Last updated at 10:01 AM on 12th January
/// 2012", "2012-01-17 18:10 来源：…"): metadata, not body.
fn is_dateline(line: &dom::Line, zone: FixedOffset) -> bool {
    // Label colons are fine; sentence punctuation means prose that mentions a date.
    let sentences = line
        .text
        .chars()
        .filter(|c| matches!(c, '。' | '，' | '！' | '？' | '；'))
        .count();
    line.len <= 120
        && sentences == 0
        && line.text.bytes().filter(u8::is_ascii_digit).count() >= 4
        && date::parse_published(&line.text, zone).is_some()
}

/// Runs of text lines separated by link lines; the body is the longest run plus its
/// neighbours, but a tail of short runs each introduced by a headline link (a "latest news"
/// list of teasers) is cut. Returns the lines, their weighted length, the longest run and
/// the length of every run.
fn main_text(lines: Vec<Option<dom::Line>>) -> (Vec<String>, u32, u32, Vec<u32>) {
    // (lines, weighted length, link lines before the run)
    let mut runs: Vec<(Vec<String>, u32, u32)> = Vec::new();
    let mut gap = 0u32;
    for line in lines {
        match line {
            None => gap += 1,
            Some(l) => {
                match runs.last_mut() {
                    Some(r) if gap == 0 => {
                        r.1 += l.len;
                        r.0.push(l.text);
                    }
                    _ => runs.push((vec![l.text], l.len, gap)),
                }
                gap = 0;
            }
        }
    }
    let Some((main, longest)) = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.1))
        .max_by_key(|(i, len)| (*len, std::cmp::Reverse(*i)))
    else {
        return (Vec::new(), 0, 0, Vec::new());
    };
    let lengths: Vec<u32> = runs.iter().map(|r| r.1).collect();
    // After the main run: stop at the first run that is small and opens a list of at least
    // three link-introduced runs.
    let mut end = runs.len();
    for i in main + 1..runs.len() {
        let following = runs[i..].iter().filter(|r| r.2 > 0).count();
        if runs[i].2 > 0 && runs[i].1 * 3 < longest && following >= 3 {
            end = i;
            break;
        }
    }
    let mut body = Vec::new();
    let mut len = 0;
    for r in runs.drain(..end) {
        len += r.1;
        body.extend(r.0);
    }
    (body, len, longest, lengths)
}

/// The first date in `context` that is not in the future of the page's other dates; plain
/// first match is what the date line gives.
fn date_in(context: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    if context.is_empty() {
        None
    } else {
        date::parse_published(context, zone)
    }
}

/// The headline: the `<h1>` when `<title>` repeats it (the usual "headline - site" form), else
/// the declared headline, else `<title>` without its site suffix.
fn title(meta: &meta::Meta) -> String {
    if let (Some(h1), Some(t)) = (&meta.h1, &meta.doc_title) {
        if h1.chars().count() >= 4 && t.contains(h1.as_str()) {
            return h1.clone();
        }
    }
    if let Some(h) = &meta.headline {
        return h.clone();
    }
    if let Some(t) = &meta.doc_title {
        // Spaced separators only: a bare hyphen is part of words ("COVID-19").
        for sep in [" - ", " | ", "_", " – ", " — ", "｜", "--"] {
            if let Some((head, _)) = t.split_once(sep) {
                if head.trim().chars().count() >= 4 {
                    return head.trim().to_string();
                }
            }
        }
        return t.clone();
    }
    meta.h1.clone().unwrap_or_default()
}

/// Text around the start of the body: up to three preceding siblings of the body and of each
/// of its three nearest ancestors (nearest first), then the body's own first characters.
fn context(body: ElementRef<'_>) -> String {
    const BUDGET: usize = 1500;
    let mut out = String::new();
    let mut node = Some(body);
    for _ in 0..4 {
        let Some(n) = node else { break };
        for sib in n.prev_siblings().filter_map(ElementRef::wrap).take(3) {
            if matches!(sib.value().name(), "script" | "style") {
                continue;
            }
            let t = text::flat(sib);
            if !t.is_empty() && t.len() < 600 {
                out.push_str(&t);
                out.push('\n');
            }
        }
        if out.len() > BUDGET {
            break;
        }
        node = n.parent().and_then(ElementRef::wrap);
    }
    // Text nodes joined by line breaks, so a label never runs into the next line's text.
    for t in body.text().take(20) {
        out.push_str(t.trim());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn title_prefers_h1_repeated_in_title() {
        let m = meta::Meta {
            h1: Some("Big news today".into()),
            doc_title: Some("Big news today - Daily".into()),
            headline: Some("Other".into()),
            ..Default::default()
        };
        assert_eq!(title(&m), "Big news today");
        let m = meta::Meta {
            doc_title: Some("央行宣布降准_财经_新闻网".into()),
            ..Default::default()
        };
        assert_eq!(title(&m), "央行宣布降准");
    }

    #[test]
    fn labels_move_from_body_to_metadata() {
        let html = Html::parse_document(
            "<h1>标题在这里</h1><div class=info>2022年01月21日 09:38</div>\
             <div id=c><p>第一段正文，内容很长，说明了事情的来龙去脉。</p>\
             <p>第二段正文，继续说明，并且给出了更多的细节和数字。</p>\
             <p>（文章来源：大众日报）</p><p>责任编辑：王五</p></div>",
        );
        let url = Url::parse("http://n.test/a.html").unwrap();
        let Extraction::Post(p) = extract(&html, &url, cst()) else {
            panic!("expected a post")
        };
        assert_eq!(p.body.len(), 2, "{:?}", p.body);
        assert_eq!(p.source.as_deref(), Some("大众日报"));
        assert_eq!(
            p.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:00+08:00"
        );
        assert_eq!(p.extractor, "generic");
    }
}
