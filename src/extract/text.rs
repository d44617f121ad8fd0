//! Turning DOM subtrees into display text with paragraph boundaries kept.
//!
//! Block elements and `<br>` end a line; `<script>`, `<style>` and subtrees the caller drops
//! (share bars, ads) contribute nothing. Lines are trimmed and empty ones removed.

use std::collections::HashSet;

use ego_tree::NodeId;
use scraper::{ElementRef, Node};

use crate::fingerprint::normalise::{is_cjk, is_unified_ideograph};

/// Elements whose boundaries are line breaks.
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "li"
            | "ul"
            | "ol"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "tr"
            | "table"
            | "section"
            | "article"
            | "blockquote"
            | "pre"
            | "header"
            | "footer"
            | "figure"
            | "figcaption"
            | "dd"
            | "dt"
            | "hr"
    )
}

/// Elements whose text is never content.
fn is_invisible(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "noscript" | "template" | "iframe" | "object" | "svg" | "head"
    )
}

/// The lines of text under `el`, skipping any subtree rooted at a node in `dropped`.
pub fn lines(el: ElementRef<'_>, dropped: &HashSet<NodeId>) -> Vec<String> {
    let mut buf = String::new();
    collect(*el, dropped, &mut buf);
    buf.split('\n')
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

/// All text under `el` as one trimmed line (whitespace runs folded to one space).
pub fn flat(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    for t in el.text() {
        for word in t.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

fn collect(node: ego_tree::NodeRef<'_, Node>, dropped: &HashSet<NodeId>, buf: &mut String) {
    // An explicit stack instead of recursion: hostile pages nest tags very deeply.
    let mut stack: Vec<(ego_tree::NodeRef<'_, Node>, bool)> = vec![(node, false)];
    while let Some((n, closing)) = stack.pop() {
        match n.value() {
            Node::Text(t) => {
                // Line breaks in text are spaces; lines come from block elements only.
                for (i, part) in t.split(['\n', '\r']).enumerate() {
                    if i > 0 {
                        buf.push(' ');
                    }
                    buf.push_str(part);
                }
            }
            Node::Element(e) => {
                let name = e.name();
                if closing {
                    if is_block(name) {
                        buf.push('\n');
                    }
                    continue;
                }
                if is_invisible(name) || dropped.contains(&n.id()) {
                    continue;
                }
                if is_block(name) {
                    buf.push('\n');
                }
                stack.push((n, true));
                stack.extend(n.children().rev().map(|c| (c, false)));
            }
            Node::Document | Node::Fragment => {
                stack.extend(n.children().rev().map(|c| (c, false)));
            }
            _ => {}
        }
    }
}

/// A cheap language guess: `zh` when CJK characters make up a fair share of the letters,
/// `en` when the text is mostly ASCII letters, else `None`.
pub fn guess_language<S: AsRef<str>>(paragraphs: &[S]) -> Option<String> {
    let (mut cjk, mut latin) = (0usize, 0usize);
    for p in paragraphs {
        for c in p.as_ref().chars() {
            // Unified ideographs first: most of the text, and no Unicode table lookup.
            if is_unified_ideograph(c) || (is_cjk(c) && c.is_alphabetic()) {
                cjk += 1;
            } else if c.is_ascii_alphabetic() {
                latin += 1;
            }
        }
    }
    if cjk == 0 && latin == 0 {
        None
    } else if cjk * 3 >= latin {
        Some("zh".into())
    } else {
        Some("en".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    #[test]
    fn br_and_blocks_split_lines_and_scripts_vanish() {
        let html = Html::parse_fragment(
            "<div id=a>one<br>two<p>three <b>bold</b></p><script>x()</script><span>four</span></div>",
        );
        let sel = Selector::parse("#a").unwrap();
        let el = html.select(&sel).next().unwrap();
        assert_eq!(
            lines(el, &HashSet::new()),
            vec!["one", "two", "three bold", "four"]
        );
    }

    #[test]
    fn dropped_subtrees_are_skipped() {
        let html = Html::parse_fragment("<div id=a><p>keep</p><p class=share>share me</p></div>");
        let root = html.select(&Selector::parse("#a").unwrap()).next().unwrap();
        let share = html
            .select(&Selector::parse(".share").unwrap())
            .next()
            .unwrap();
        let dropped: HashSet<NodeId> = [share.id()].into_iter().collect();
        assert_eq!(lines(root, &dropped), vec!["keep"]);
    }

    #[test]
    fn language_guess() {
        assert_eq!(guess_language(&["中国银行发布公告"]).as_deref(), Some("zh"));
        assert_eq!(
            guess_language(&["The bank said on Friday"]).as_deref(),
            Some("en")
        );
        assert_eq!(guess_language(&["123"]), None);
    }
}
