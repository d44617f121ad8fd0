//! HTML templates of the four demo hosts.
//!
//! The crawler's CSS selectors are written against this markup, so the article templates are
//! a contract: class names, element order and text decoration (the `来源：` prefix, the
//! ideographic indent, the `<br>` separators) must stay exactly as they are. Listing pages are
//! looser; they only need to link every carried article and the next page.
//! Everything here is pure string building: routing and encoding live in `render`.

use chrono::{DateTime, FixedOffset};

use super::article::{Article, Lang, BEIJING};

/// A link to an article from a listing or related-articles block: root-relative href
/// plus the article whose title is the anchor text.
pub(crate) struct Entry<'a> {
    pub(crate) href: String,
    pub(crate) article: &'a Article,
}

/// Where a listing page sits in its sequence; hrefs are root-relative.
pub(crate) struct Pager {
    pub(crate) page: usize,
    pub(crate) pages: usize,
    pub(crate) prev: Option<String>,
    pub(crate) next: Option<String>,
}

/// Escapes text for element content and double-quoted attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The full-width mirror's rewrite: ASCII digits and ASCII punctuation (except the backtick,
/// which that site leaves alone) become their full-width forms U+FF01..U+FF5E, and the ASCII
/// space becomes the ideographic space U+3000. Letters are kept, so NFKC undoes all of it.
pub(crate) fn full_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            ' ' => '\u{3000}',
            '0'..='9' => shift_to_full_width(c),
            '`' => c,
            _ if c.is_ascii_punctuation() => shift_to_full_width(c),
            _ => c,
        })
        .collect()
}

/// U+0021..U+007E map to U+FF01..U+FF5E by a constant offset.
fn shift_to_full_width(c: char) -> char {
    char::from_u32(u32::from(c) + 0xFEE0).unwrap_or(c)
}

/// Publication time in +08:00, whatever offset the article was built with.
fn local(article: &Article) -> DateTime<FixedOffset> {
    article.published.with_timezone(&BEIJING)
}

fn html_lang(article: &Article) -> &'static str {
    match article.lang {
        Lang::Zh => "zh-CN",
        Lang::En => "en",
    }
}

/// The document shell shared by every host: the `meta charset` is the first element of
/// `<head>` because the GBK host declares its encoding nowhere else.
fn document(lang: &str, charset: &str, title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head><meta charset=\"{charset}\"><title>{title}</title></head>\n<body>\n{body}\n</body>\n</html>\n"
    )
}

/// Joins `<li>` items for a plain listing with optional per-item time text.
fn list_items(entries: &[Entry<'_>], time_format: Option<&str>) -> String {
    let mut out = String::new();
    for entry in entries {
        out.push_str("<li>");
        if let Some(format) = time_format {
            out.push_str(&format!(
                "<span class=\"time\">{}</span>",
                local(entry.article).format(format)
            ));
        }
        out.push_str(&format!(
            "<a href=\"{}\">{}</a></li>\n",
            escape(&entry.href),
            escape(&entry.article.title)
        ));
    }
    out
}

/// Previous/next links plus a page counter.
fn pager_links(pager: &Pager, class: &str) -> String {
    let mut out = format!(
        "<div class=\"{class}\"><span class=\"count\">第{}页/共{}页</span>",
        pager.page, pager.pages
    );
    if let Some(prev) = &pager.prev {
        out.push_str(&format!(
            " <a class=\"prev\" href=\"{}\">上一页</a>",
            escape(prev)
        ));
    }
    if let Some(next) = &pager.next {
        out.push_str(&format!(
            " <a class=\"next\" href=\"{}\">下一页</a>",
            escape(next)
        ));
    }
    out.push_str("</div>");
    out
}

// ---- Origin: news.trawl-demo.test -------------------------------------------------------

/// Origin article page.
pub(crate) fn origin_article(article: &Article, related: &[Entry<'_>]) -> String {
    let title = escape(&article.title);
    let mut body = String::from("<div class=\"nav\"><a href=\"/\">首页</a></div>\n");
    body.push_str(&format!(
        "<div class=\"newsContent\"><h1 class=\"newsTitle\">{title}</h1><div class=\"newsInfo\"><span class=\"time\">{}</span><span class=\"source\">来源：{}</span></div><div class=\"newsText\" id=\"ContentBody\">",
        local(article).format("%Y-%m-%d %H:%M:%S"),
        escape(&article.source)
    ));
    for paragraph in &article.paragraphs {
        body.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    body.push_str(
        "</div><div class=\"share\">分享到：微博 微信 QQ空间</div><div class=\"related\">",
    );
    for entry in related {
        body.push_str(&format!(
            "<a href=\"{}\">{}</a>",
            escape(&entry.href),
            escape(&entry.article.title)
        ));
    }
    body.push_str("</div></div>\n<div class=\"footer\">Copyright © 演示财经网 版权所有</div>");
    document(
        html_lang(article),
        "utf-8",
        &format!("{title} - 演示财经网"),
        &body,
    )
}

/// Origin listing page (`/` or `/html_News/index_<n>.html`).
pub(crate) fn origin_listing(entries: &[Entry<'_>], pager: &Pager) -> String {
    let body = format!(
        "<div class=\"nav\"><a href=\"/\">首页</a></div>\n<div class=\"newsList\"><ul>\n{}</ul></div>\n{}\n<div class=\"footer\">Copyright © 演示财经网 版权所有</div>",
        list_items(entries, Some("%Y-%m-%d %H:%M")),
        pager_links(pager, "pager")
    );
    document("zh-CN", "utf-8", "财经要闻 - 演示财经网", &body)
}

// ---- FullWidth: m.finmirror.test --------------------------------------------------------

/// Full-width mirror article page.
pub(crate) fn full_width_article(article: &Article) -> String {
    let title = escape(&article.title);
    let source = escape(&article.source);
    let mut body = format!(
        "<div class=\"art-title\">{title}</div><div class=\"art-meta\"><em class=\"pubtime\">{}</em> <em class=\"media\">{source}</em></div><div class=\"art-body\">",
        local(article).format("%Y年%m月%d日 %H:%M")
    );
    for paragraph in &article.paragraphs {
        // Convert first, escape second: the conversion removes `&<>"` from the text anyway,
        // and escaping first would full-width the entities themselves.
        body.push_str(&format!(
            "<p>\u{3000}\u{3000}{}</p>",
            escape(&full_width(paragraph))
        ));
    }
    body.push_str(&format!(
        "<p>（文章来源：{source}）</p><p><a href=\"/\">返回财经新闻</a>｜<a href=\"/\">返回首页</a></p></div>"
    ));
    document(
        html_lang(article),
        "utf-8",
        &format!("{title}_手机财经"),
        &body,
    )
}

/// Full-width mirror listing page (`/` or `/list/<n>.shtml`).
pub(crate) fn full_width_listing(entries: &[Entry<'_>], pager: &Pager) -> String {
    let body = format!(
        "<div class=\"top\"><a href=\"/\">手机财经</a></div>\n<div class=\"list\"><ul>\n{}</ul></div>\n{}",
        list_items(entries, None),
        pager_links(pager, "page")
    );
    document("zh-CN", "utf-8", "财经新闻_手机财经", &body)
}

// ---- Blog: blog.newsarchive.test --------------------------------------------------------

/// Blog article page; `origin_url` is the absolute URL of the same article on the origin.
pub(crate) fn blog_article(article: &Article, origin_url: &str) -> String {
    let title = escape(&article.title);
    let category = escape(&article.category);
    let when = local(article);
    let mut body = format!(
        "<article class=\"post\"><header><h1 class=\"post-title\">{title}</h1><time class=\"post-date\" datetime=\"{}\">{}</time> <span class=\"post-source\">{}</span></header><pre class=\"front-matter\">---\nlayout: post\ntitle: \"{title}\"\ndate: {}\ncategories: {category}\n---</pre><div class=\"post-content\">",
        when.format("%Y-%m-%dT%H:%M:%S%:z"),
        when.format("%Y-%m-%d"),
        escape(&article.source),
        when.format("%Y-%m-%d %H:%M:%S %z"),
    );
    for paragraph in &article.paragraphs {
        body.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    let origin_url = escape(origin_url);
    body.push_str(&format!(
        "<p>&lt;<a href=\"{origin_url}\">{origin_url}</a>&gt;</p><p><a href=\"/category/{category}/\">返回{category}</a></p><p><a href=\"/\">返回首页</a></p></div></article>"
    ));
    document(
        html_lang(article),
        "utf-8",
        &format!("{title} | 新闻存档"),
        &body,
    )
}

/// Blog home: every category page and the latest posts.
pub(crate) fn blog_home(categories: &[&str], latest: &[Entry<'_>]) -> String {
    let mut body = String::from("<nav class=\"categories\"><ul>\n");
    for category in categories {
        let category = escape(category);
        body.push_str(&format!(
            "<li><a href=\"/category/{category}/\">{category}</a></li>\n"
        ));
    }
    body.push_str(
        "</ul></nav>\n<section class=\"latest\"><h2>最新文章</h2><ul class=\"post-list\">\n",
    );
    body.push_str(&list_items(latest, None));
    body.push_str("</ul></section>");
    document("zh-CN", "utf-8", "新闻存档", &body)
}

/// Blog category listing (`/category/<c>/` or `/category/<c>/page/<n>/`).
pub(crate) fn blog_category(category: &str, entries: &[Entry<'_>], pager: &Pager) -> String {
    let category = escape(category);
    let body = format!(
        "<nav class=\"site\"><a href=\"/\">新闻存档</a></nav>\n<h1 class=\"archive-title\">分类：{category}</h1>\n<ul class=\"post-list\">\n{}</ul>\n{}",
        list_items(entries, None),
        pager_links(pager, "pagination")
    );
    document("zh-CN", "utf-8", &format!("{category} | 新闻存档"), &body)
}

// ---- Gbk: www.gbk-news.test -------------------------------------------------------------

/// GBK mirror article page, as a UTF-8 string; `render` encodes it.
pub(crate) fn gbk_article(article: &Article) -> String {
    let title = escape(&article.title);
    let paragraphs: Vec<String> = article.paragraphs.iter().map(|p| escape(p)).collect();
    let body = format!(
        "<div id=\"nav\"><a href=\"/\">首页</a></div>\n<h2 id=\"art_title\">{title}</h2><div id=\"art_info\"><span id=\"pub_date\">{}</span> <span id=\"media_name\">{}</span></div><div id=\"artibody\">{}</div>\n<div id=\"footer\">版权所有</div>",
        local(article).format("%Y-%m-%d %H:%M"),
        escape(&article.source),
        paragraphs.join("<br>\n")
    );
    document(html_lang(article), "gbk", &format!("{title}_新闻网"), &body)
}

/// GBK mirror listing page (`/` or `/index_<n>.htm`), as a UTF-8 string.
pub(crate) fn gbk_listing(entries: &[Entry<'_>], pager: &Pager) -> String {
    let body = format!(
        "<div id=\"nav\"><a href=\"/\">首页</a></div>\n<ul id=\"list\">\n{}</ul>\n{}\n<div id=\"footer\">版权所有</div>",
        list_items(entries, None),
        pager_links(pager, "pages")
    );
    document("zh-CN", "gbk", "新闻列表_新闻网", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_the_four_characters() {
        assert_eq!(escape(r#"a&b<c>d"e'f"#), "a&amp;b&lt;c&gt;d&quot;e'f");
    }

    /// What NFKC does to the full-width mirror's output, for the characters it produces.
    fn narrow(text: &str) -> String {
        text.chars()
            .map(|c| match c {
                '\u{3000}' => ' ',
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                _ => c,
            })
            .collect()
    }

    proptest::proptest! {
        #[test]
        fn full_width_is_undone_by_compatibility_mapping(text in "[ -_a-~\u{4e00}-\u{4e80}、。“”]{0,40}") {
            let converted = full_width(&text);
            proptest::prop_assert_eq!(narrow(&converted), text.clone());
            proptest::prop_assert!(!converted.bytes().any(|b| b.is_ascii_digit() || b == b' '));
        }

        #[test]
        fn escaped_text_has_no_markup(text in "\\PC{0,40}") {
            let escaped = escape(&text);
            proptest::prop_assert!(!escaped.contains(['<', '>', '"']));
        }
    }

    #[test]
    fn full_width_changes_digits_punctuation_and_spaces_only() {
        assert_eq!(
            full_width("A股(600123)上涨3.5%, ok!"),
            "A股（６００１２３）上涨３．５％，\u{3000}ok！"
        );
        assert_eq!(full_width("`"), "`");
        assert_eq!(full_width("~"), "～");
        // Every character the rule names lands in the full-width block.
        for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_{|}~0123456789".chars() {
            let converted: Vec<char> = full_width(&c.to_string()).chars().collect();
            assert_eq!(converted.len(), 1);
            assert!(('\u{FF01}'..='\u{FF5E}').contains(&converted[0]), "{c}");
        }
    }
}
