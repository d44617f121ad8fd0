//! One pass over the parsed page: per-element text statistics and a content score, then the
//! lines of the best-scoring container.
//!
//! Every element gets a slot in a flat arena (pre-order, parent indices), so the whole page is
//! visited once and no per-element hash maps are needed. Text is attributed to its innermost
//! block element ("a text block"); each block gets a value — positive for sentence-like text,
//! negative for link lists and short unpunctuated labels — and a container's score is the sum
//! of the values of the blocks inside it. The body is the container with the highest score:
//! adding boilerplate to a container costs it, adding article text pays, so the maximum sits at
//! the element that holds the article and as little else as possible.

use std::collections::HashSet;

use ego_tree::{NodeId, NodeRef};
use scraper::{ElementRef, Html, Node};

use crate::fingerprint::normalise::is_cjk;

/// Weighted text length between the headline and a container at which the container's
/// score counts half.
const NEAR: f32 = 400.0;

/// Sentinel parent index of the root.
const NONE: u32 = u32::MAX;

/// Per-element statistics.
pub(super) struct El<'a> {
    /// The element.
    pub el: ElementRef<'a>,
    /// Arena index of the parent element (`NONE` at the root).
    pub parent: u32,
    /// Arena index of the innermost block element at or above this one.
    block: u32,
    /// Whether this element sits inside an `<a href>`.
    in_link: bool,
    /// Whether this element is a block (its boundaries are line breaks).
    is_block: bool,
    /// Weighted length of the text directly in this block (inline descendants included).
    own_len: u32,
    /// Weighted length of that text inside links.
    own_link: u32,
    /// Sentence punctuation in that text.
    own_punct: u32,
    /// Weighted text length of the whole subtree.
    pub text: u32,
    /// Weighted link text length of the whole subtree.
    pub link: u32,
    /// Sentence punctuation in the whole subtree.
    pub punct: u32,
    /// Sum of the block values in the subtree.
    pub score: f32,
    /// Whether the element is an `h1`-`h3`.
    is_heading: bool,
    /// Whether the block's own text ends in an ellipsis (a teaser: "…… [详情]").
    own_ellipsis: bool,
    /// 0: kept; 1: inside a subtree dropped by a weak signal (class `sidebar`, `nav`, …),
    /// 2: inside a comment section.
    drop_level: u8,
    /// Whether the element roots a dropped subtree (its totals stay out of its parent's).
    drop_root: bool,
    /// Kept text (weighted) before the element starts, in document order.
    start: u32,
    /// Kept text (weighted) before the element ends.
    end: u32,
}

/// The arena and what the pass learned about the page as a whole.
pub(super) struct Page<'a> {
    /// Elements in document order.
    pub els: Vec<El<'a>>,
    /// Subtrees left out of the text: navigation, share bars, comments, hidden elements.
    pub dropped: HashSet<NodeId>,
    /// Arena index of the headline block (the one `<title>` repeats), if found.
    pub headline: Option<usize>,
}

/// A line of the chosen body, with the statistics the filters need.
#[derive(Debug)]
pub(super) struct Line {
    /// The text, whitespace folded and trimmed.
    pub text: String,
    /// Weighted length.
    pub len: u32,
    /// Weighted length inside links.
    pub link: u32,
}

/// Elements whose text is never content.
fn is_invisible(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "object"
            | "embed"
            | "svg"
            | "head"
            | "canvas"
            | "video"
            | "audio"
            | "map"
            | "button"
            | "select"
            | "option"
            | "textarea"
            | "input"
    )
}

/// Structural boilerplate by tag name.
fn is_boilerplate_tag(name: &str) -> bool {
    matches!(name, "nav" | "aside" | "footer" | "menu" | "dialog")
}

/// Inline elements: their text belongs to the enclosing block.
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "span"
            | "b"
            | "strong"
            | "i"
            | "em"
            | "font"
            | "u"
            | "small"
            | "big"
            | "sub"
            | "sup"
            | "abbr"
            | "cite"
            | "code"
            | "q"
            | "s"
            | "strike"
            | "time"
            | "label"
            | "mark"
            | "img"
            | "br"
            | "wbr"
            | "nobr"
            | "tt"
            | "var"
            | "kbd"
            | "ins"
            | "del"
            | "acronym"
            | "bdi"
            | "bdo"
            | "data"
            | "dfn"
            | "picture"
            | "source"
    )
}

/// Class/id words that mark boilerplate (matched as the start of a class or id token).
const NEGATIVE: &[&str] = &[
    "comment",
    "share",
    "sharing",
    "social",
    "related",
    "relate",
    "recommend",
    "sidebar",
    "breadcrumb",
    "crumb",
    "copyright",
    "footer",
    "nav",
    "menu",
    "pagination",
    "pager",
    "advert",
    "sponsor",
    "subscribe",
    "newsletter",
    "popup",
    "modal",
    "cookie",
    "toolbar",
    "disqus",
    "masthead",
    "promo",
    "outbrain",
    "taboola",
    "hidden",
    "widget",
];

/// Class/id words that mark content; they protect an element from the negative list.
const POSITIVE: &[&str] = &[
    "article", "content", "body", "main", "post", "entry", "story", "text", "news", "detail",
];

/// Class/id words of comment sections: never content, whatever else the element says.
const COMMENTS: &[&str] = &["comment", "disqus", "reply", "replies", "respond"];

/// How strongly the element's class or id marks it as boilerplate: 0 not, 1 weakly (the
/// element may still turn out to hold the article: some sites call their main column
/// `sidebar-left`), 2 a comment section.
fn boilerplate_level(el: &scraper::node::Element) -> u8 {
    let (mut negative, mut positive) = (false, false);
    for attr in [el.attr("class"), el.attr("id")].into_iter().flatten() {
        let mut prev = "";
        for token in attr.split(|c: char| c.is_whitespace() || c == '-' || c == '_') {
            if token.is_empty() {
                continue;
            }
            // `has-comments`, `no-sidebar`: a property of the page, not a comment box.
            let qualified = matches!(prev, "has" | "with" | "no" | "enable" | "enabled");
            prev = token;
            if qualified {
                continue;
            }
            if COMMENTS.iter().any(|n| starts_with_ci(token, n)) {
                return 2;
            }
            if POSITIVE.iter().any(|p| starts_with_ci(token, p)) {
                positive = true;
            }
            if NEGATIVE.iter().any(|n| starts_with_ci(token, n)) {
                negative = true;
            }
        }
    }
    u8::from(negative && !positive)
}

/// ASCII case-insensitive `starts_with`, without allocating (runs for every class token).
fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len() && s.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
}

/// Whether inline style or attributes hide the element.
fn is_hidden(el: &scraper::node::Element) -> bool {
    if el.attr("hidden").is_some() || el.attr("aria-hidden") == Some("true") {
        return true;
    }
    el.attr("style").is_some_and(|s| {
        // Cheap filter first: most styles hide nothing.
        if !s.contains("none") && !s.contains("hidden") {
            return false;
        }
        let s = s.to_ascii_lowercase();
        s.contains("display:none")
            || s.contains("display: none")
            || s.contains("visibility:hidden")
            || s.contains("visibility: hidden")
    })
}

/// Full-width and ASCII sentence punctuation (ASCII only before a space or the end, so URLs
/// and decimals do not count).
fn is_cjk_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。'
            | '！'
            | '？'
            | '、'
            | '；'
            | '：'
            | '“'
            | '”'
            | '《'
            | '》'
            | '（'
            | '）'
            | '…'
    )
}

/// Text statistics of a string: (weighted length, punctuation). CJK characters weigh 2 (a
/// Chinese character carries about as much as two or three Latin letters), whitespace 0.
pub(super) fn measure(s: &str) -> (u32, u32) {
    let mut len = 0u32;
    let mut punct = 0u32;
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b < 0x80 {
            // ASCII fast path: most bytes of most pages.
            i += 1;
            if b.is_ascii_whitespace() {
                continue;
            }
            len += 1;
            if matches!(b, b',' | b'.' | b'!' | b'?' | b';' | b':')
                && bytes
                    .get(i)
                    .is_none_or(|n| n.is_ascii_whitespace() || *n == b'"')
            {
                punct += 1;
            }
            continue;
        }
        // A multi-byte character; `i` is on a char boundary because ASCII bytes never occur
        // inside one.
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        i += c.len_utf8();
        if c.is_whitespace() {
            continue;
        }
        if is_cjk_punct(c) {
            punct += 1;
            len += 2;
        } else if is_cjk(c) {
            len += 2;
        } else {
            len += 1;
        }
    }
    (len, punct)
}

/// The value of one text block for the container score.
fn block_value(len: u32, link: u32, punct: u32, teaser: bool) -> f32 {
    if len == 0 {
        return 0.0;
    }
    let (len, link) = (len as f32, link as f32);
    if link * 2.0 >= len {
        // Navigation, link lists, "related" headlines.
        -len
    } else if teaser && link > 0.0 && len < 600.0 {
        // A truncated teaser with its "more" link ("……[详情]", "... Read more"): another
        // article's first lines.
        -len
    } else if punct == 0 {
        // Labels, menus without links, dates: weak evidence of boilerplate.
        -0.3 * len
    } else {
        len - 2.0 * link
    }
}

impl<'a> Page<'a> {
    /// Gathers statistics for every element under `<html>` in one pass. `title` is the
    /// page's declared title (`og:title`, `<title>`): the block that repeats it is the
    /// headline, and the article sits next to it.
    pub fn analyse(html: &'a Html, title: &str) -> Page<'a> {
        let mut els: Vec<El<'a>> = Vec::with_capacity(1024);
        let mut dropped = HashSet::new();
        let (title_len, _) = measure(title);
        let mut headline: Option<(bool, usize)> = None;
        // Running count of kept text, for distances in document order.
        let mut seen = 0u32;
        enum Step<'b> {
            Open(NodeRef<'b, Node>, u32),
            Close(u32),
        }
        let root = html.root_element();
        let mut stack: Vec<Step<'a>> = vec![Step::Open(*root, NONE)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Open(node, parent) => match node.value() {
                    Node::Element(e) => {
                        let name = e.name();
                        if is_invisible(name) {
                            continue;
                        }
                        // `<body class="nav-open">` must not drop the page.
                        let level = if matches!(name, "body" | "html") {
                            0
                        } else if is_boilerplate_tag(name) || is_hidden(e) {
                            1
                        } else {
                            boilerplate_level(e)
                        };
                        if level > 0 {
                            dropped.insert(node.id());
                        }
                        let Some(el) = ElementRef::wrap(node) else {
                            continue;
                        };
                        let idx = els.len() as u32;
                        let is_block = !is_inline(name);
                        let (pblock, plink, plevel) = match els.get(parent as usize) {
                            Some(p) => (p.block, p.in_link, p.drop_level),
                            None => (idx, false, 0),
                        };
                        els.push(El {
                            el,
                            parent,
                            block: if is_block { idx } else { pblock },
                            in_link: plink || (name == "a" && e.attr("href").is_some()),
                            is_block,
                            own_len: 0,
                            own_link: 0,
                            own_punct: 0,
                            text: 0,
                            link: 0,
                            punct: 0,
                            score: 0.0,
                            is_heading: matches!(name, "h1" | "h2" | "h3"),
                            own_ellipsis: false,
                            drop_level: plevel.max(level),
                            drop_root: level > 0,
                            start: seen,
                            end: seen,
                        });
                        stack.push(Step::Close(idx));
                        // Children pushed in reverse so they pop in document order.
                        let first = stack.len();
                        for child in node.children() {
                            stack.push(Step::Open(child, idx));
                        }
                        stack[first..].reverse();
                    }
                    Node::Text(t) => {
                        let Some(p) = els.get(parent as usize) else {
                            continue;
                        };
                        let (block, in_link) = (p.block, p.in_link);
                        let (len, punct) = measure(t);
                        if p.drop_level == 0 {
                            seen += len;
                        }
                        let b = &mut els[block as usize];
                        b.own_len += len;
                        b.own_punct += punct;
                        if in_link {
                            b.own_link += len;
                        } else if len > 0 {
                            let t = t.trim_end();
                            b.own_ellipsis =
                                t.ends_with("...") || t.ends_with('…') || t.ends_with("。。。");
                        }
                    }
                    _ => {}
                },
                Step::Close(idx) => {
                    let e = &mut els[idx as usize];
                    e.end = seen;
                    if e.is_block {
                        e.score += block_value(e.own_len, e.own_link, e.own_punct, e.own_ellipsis);
                        e.text += e.own_len;
                        e.link += e.own_link;
                        e.punct += e.own_punct;
                        // Headline candidates: short, unlinked blocks that `<title>` repeats.
                        let plausible = e.own_len >= 8
                            && e.own_link * 2 < e.own_len
                            && e.own_len <= title_len
                            && (e.is_heading || e.own_len * 5 >= title_len * 2);
                        if plausible && headline.is_none_or(|(h, _)| !h && e.is_heading) {
                            let t = crate::extract::text::flat(e.el);
                            if title.contains(t.as_str()) {
                                headline = Some((e.is_heading, idx as usize));
                            }
                        }
                    }
                    if e.drop_root {
                        continue;
                    }
                    let (parent, text, link, punct, score) =
                        (e.parent, e.text, e.link, e.punct, e.score);
                    if let Some(p) = els.get_mut(parent as usize) {
                        p.text += text;
                        p.link += link;
                        p.punct += punct;
                        p.score += score;
                    }
                }
            }
        }
        let headline = headline.map(|(_, i)| i);
        if let Some(h) = headline {
            // The headline belongs to the article: count it as text, not as a bare label
            // (it was valued at -0.3 of its length above).
            let bonus = 1.3 * els[h].own_len as f32;
            let mut i = h as u32;
            while let Some(e) = els.get_mut(i as usize) {
                e.score += bonus;
                if e.drop_root {
                    break;
                }
                i = e.parent;
            }
        }
        Page {
            els,
            dropped,
            headline,
        }
    }

    /// Arena index of the best body container, if any element scored above zero.
    ///
    /// Containers inside weakly dropped subtrees (class `sidebar`, `related`…) only win when
    /// they score far above everything kept: then the class name was misleading.
    pub fn best(&self) -> Option<usize> {
        let mut kept: Option<(f32, usize)> = None;
        let mut weak: Option<(f32, usize)> = None;
        // Reverse document order visits children before parents; a strict `>` keeps the
        // deepest element among equal scores (a wrapper adds nothing).
        let head = self.headline.and_then(|h| self.els.get(h));
        for (i, e) in self.els.iter().enumerate().rev() {
            if !e.is_block || e.score <= 0.0 {
                continue;
            }
            let slot = match e.drop_level {
                0 => &mut kept,
                1 => &mut weak,
                _ => continue,
            };
            // The article follows its headline: a container far from it (a disclaimer under
            // the comments, a sidebar of teasers) needs a higher score to win.
            let score = match head {
                Some(h) if e.drop_level == 0 => {
                    let d = if e.start >= h.end {
                        e.start - h.end
                    } else {
                        // Before the headline, or containing it (then 0).
                        h.start.saturating_sub(e.end)
                    };
                    e.score * NEAR / (NEAR + d as f32)
                }
                _ => e.score,
            };
            if slot.is_none_or(|(s, _)| score > s) {
                *slot = Some((score, i));
            }
        }
        match (kept, weak) {
            (Some((k, _)), Some((w, i))) if w > 3.0 * k => Some(i),
            (None, Some((_, i))) => Some(i),
            (k, _) => k.map(|(_, i)| i),
        }
    }

    /// Totals for the whole page: (weighted text, weighted link text).
    pub fn totals(&self) -> (u32, u32) {
        self.els.first().map_or((0, 0), |e| (e.text, e.link))
    }
}

/// The lines under `el` with per-line statistics, skipping dropped and invisible subtrees.
pub(super) fn lines(el: ElementRef<'_>, dropped: &HashSet<NodeId>) -> Vec<Line> {
    let mut out = Vec::new();
    let mut cur = LineBuf::default();
    // (node, closing, inside a link)
    let mut stack: Vec<(NodeRef<'_, Node>, bool, bool)> = vec![(*el, false, false)];
    while let Some((n, closing, in_link)) = stack.pop() {
        match n.value() {
            Node::Text(t) => cur.push(t, in_link),
            Node::Element(e) => {
                let name = e.name();
                let breaks = !is_inline(name) || name == "br";
                if closing {
                    if breaks {
                        cur.flush(&mut out);
                    }
                    continue;
                }
                if is_invisible(name) || (dropped.contains(&n.id()) && n.id() != el.id()) {
                    continue;
                }
                if breaks {
                    cur.flush(&mut out);
                }
                let link = in_link || (name == "a" && e.attr("href").is_some());
                stack.push((n, true, in_link));
                let first = stack.len();
                for c in n.children() {
                    stack.push((c, false, link));
                }
                stack[first..].reverse();
            }
            _ => {}
        }
    }
    cur.flush(&mut out);
    out
}

/// The line being assembled.
#[derive(Default)]
struct LineBuf {
    text: String,
    link: u32,
}

impl LineBuf {
    fn push(&mut self, t: &str, in_link: bool) {
        // Fold whitespace runs (including line breaks in the source) to one space; drop
        // control characters, which are never content.
        let mut pending_space = !self.text.is_empty() && t.starts_with(char::is_whitespace);
        for word in t.split_whitespace() {
            if pending_space && !self.text.is_empty() {
                self.text.push(' ');
            }
            self.text
                .extend(word.chars().filter(|c| !c.is_control() && *c != '\u{feff}'));
            pending_space = true;
        }
        if t.ends_with(char::is_whitespace) && !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
        }
        if in_link {
            self.link += measure(t).0;
        }
    }

    fn flush(&mut self, out: &mut Vec<Line>) {
        let text = self.text.trim();
        if !text.is_empty() {
            let (len, _) = measure(text);
            out.push(Line {
                text: text.to_string(),
                len,
                link: self.link.min(len),
            });
        }
        self.text.clear();
        self.link = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_weights_cjk_and_counts_punctuation() {
        assert_eq!(measure("中文，好。"), (10, 2));
        assert_eq!(measure("Hello, world. www.a.com"), (21, 2));
    }

    #[test]
    fn best_container_skips_navigation() {
        let html = Html::parse_document(
            "<body><div id=nav><a href=/a>Home page link</a> <a href=/b>World news link</a></div>\
             <div id=x><p>First sentence of the story, with commas.</p><p>Second one, too.</p></div>\
             <div class=comments><p>Great story, thanks.</p></div></body>",
        );
        let page = Page::analyse(&html, "");
        let best = page.best().unwrap();
        assert_eq!(page.els[best].el.value().id(), Some("x"));
        let lines = lines(page.els[best].el, &page.dropped);
        assert_eq!(lines.len(), 2);
    }

    #[test]
    fn lines_track_links() {
        let html = Html::parse_fragment("<div>See <a href=/x>this link</a><br>plain</div>");
        let root = html.root_element();
        let l = lines(root, &HashSet::new());
        assert_eq!(l[0].text, "See this link");
        assert_eq!(l[0].link, 8);
        assert_eq!(l[1].text, "plain");
    }
}
