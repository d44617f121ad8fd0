//! Body normalisation: the text every mirror copy of an article shares.
//!
//! Mirrors differ in width (full-width digits and punctuation), indentation (`　　`), line
//! breaks, quote styles, trailing source lines (`（文章来源：…）`), share links and navigation
//! (`返回…｜返回首页`). [`Normaliser::normalise`] removes exactly those differences, so the
//! normalised paragraphs of two copies are equal, and keeps everything else, so two different
//! articles stay different. It is idempotent: normalising a normalised body changes nothing.

use regex::{Regex, RegexSet};
use unicode_normalization::UnicodeNormalization;

/// Paragraphs that are boilerplate on their own, matched after NFKC and whitespace folding
/// (so full-width `：｜（）` arrive as `:|()`). Each must match the whole paragraph.
pub const DEFAULT_DROP_LINES: &[&str] = &[
    // Source attributions: 来源：新华社 / (文章来源:大众日报) / 来源: 证券时报网
    r"^\(?(文章|新闻|稿件)?来源\s?:[^()]{0,40}\)?$",
    // Editor and reporter lines.
    r"^\(?(责任编辑|编辑|责编|审核|校对|记者|实习记者|编审)\s?:[^()]{0,40}\)?$",
    // Navigation lines: 返回东财滚动新闻 | 返回首页, alone or joined by | or ｜.
    r"^(返回[^|]{0,30})(\s?\|\s?返回[^|]{0,30})*$",
    // A bare share link, optionally in <>, as Jekyll mirrors print the original URL; `<>` is
    // the same line when the feed gave no link.
    r"^https?://\S+$",
    r"^<(https?://\S*)?>$",
    // Share bars.
    r"^(分享到|分享至|Share(\s+this)?)\s?:.{0,60}$",
    // English attributions and editor lines.
    r"(?i)^\(?(source|editing by|edited by|editor|reporting by)\s?:.{0,60}\)?$",
    // Disclaimers and risk notices that portals append to every article: long, identical
    // everywhere, and never part of the story. Only lines that say what they are (and that
    // this is no advice) match, so a paragraph on a company's risk factors survives.
    r"^\(?(免责声明|风险提示|特别提示|郑重声明|声明)\s?:.{0,300}(不构成|仅供参考|不代表本(站|网|台))[^()]{0,300}\)?$",
    r"(?i)^\(?disclaimer\s?:.{0,400}\)?$",
    // Markdown-style back links left by static-site mirrors: [返回首页](../), one or several
    // joined by |.
    r"^\[返回[^\]]{0,30}\]\([^)]*\)(\s?\|?\s?\[返回[^\]]{0,30}\]\([^)]*\))*$",
];

/// Boilerplate that mirrors append to the end of the last paragraph instead of on a line of
/// its own: `……正文。（文章来源：大众日报）`.
pub const DEFAULT_STRIP_SUFFIXES: &[&str] = &[
    r"\s?\((文章|新闻|稿件)?来源\s?:[^()]{1,40}\)$",
    r"\s?\((责任编辑|编辑|责编)\s?:[^()]{1,40}\)$",
];

/// Why a pattern could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("pattern {index} `{pattern}`: {source}")]
pub struct PatternError {
    /// Index in the list it came from.
    pub index: usize,
    /// The pattern.
    pub pattern: String,
    /// Regex compile error.
    #[source]
    pub source: regex::Error,
}

/// Compiled normalisation settings.
#[derive(Clone, Debug)]
pub struct Normaliser {
    drop_lines: RegexSet,
    strip_suffixes: Vec<Regex>,
    unify_quotes: bool,
}

impl Normaliser {
    /// Builds a normaliser from boilerplate patterns (defaults first when `with_defaults`).
    pub fn new(
        with_defaults: bool,
        drop_lines: &[String],
        strip_suffixes: &[String],
        unify_quotes: bool,
    ) -> Result<Normaliser, (&'static str, PatternError)> {
        let mut lines: Vec<String> = Vec::new();
        let mut suffixes: Vec<String> = Vec::new();
        if with_defaults {
            lines.extend(DEFAULT_DROP_LINES.iter().map(|s| s.to_string()));
            suffixes.extend(DEFAULT_STRIP_SUFFIXES.iter().map(|s| s.to_string()));
        }
        let builtin_lines = lines.len();
        let builtin_suffixes = suffixes.len();
        lines.extend(drop_lines.iter().cloned());
        suffixes.extend(strip_suffixes.iter().cloned());
        for (i, p) in lines.iter().enumerate() {
            Regex::new(p).map_err(|source| {
                (
                    "drop_lines",
                    PatternError {
                        index: i.saturating_sub(builtin_lines),
                        pattern: p.clone(),
                        source,
                    },
                )
            })?;
        }
        let drop_lines = RegexSet::new(&lines).map_err(|source| {
            (
                "drop_lines",
                PatternError {
                    index: 0,
                    pattern: String::new(),
                    source,
                },
            )
        })?;
        let strip_suffixes = suffixes
            .iter()
            .enumerate()
            .map(|(i, p)| {
                Regex::new(p).map_err(|source| {
                    (
                        "strip_suffixes",
                        PatternError {
                            index: i.saturating_sub(builtin_suffixes),
                            pattern: p.clone(),
                            source,
                        },
                    )
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Normaliser {
            drop_lines,
            strip_suffixes,
            unify_quotes,
        })
    }

    /// Normalises one piece of text (a title, say) without boilerplate removal.
    pub fn normalise_text(&self, text: &str) -> String {
        fold(text, self.unify_quotes)
    }

    /// A title's identity: normalised, with punctuation and spaces removed, since mirrors add
    /// or drop a trailing `。` or swap `：` for `｜` without making it another headline.
    pub fn title_key(&self, title: &str) -> String {
        fold(title, self.unify_quotes)
            .chars()
            .filter(|c| !c.is_whitespace() && !is_punctuation(*c))
            .collect()
    }

    /// Normalises body paragraphs: fold every paragraph, drop empty and boilerplate ones, strip
    /// boilerplate suffixes from the last one, until nothing changes.
    pub fn normalise<S: AsRef<str>>(&self, paragraphs: &[S]) -> Vec<String> {
        let mut out: Vec<String> = paragraphs
            .iter()
            // A displayed paragraph may still contain line breaks (text blocks split by <br>);
            // each line is a paragraph of its own, so markup differences do not matter.
            .flat_map(|p| p.as_ref().split('\n').map(|l| fold(l, self.unify_quotes)))
            .filter(|p| !p.is_empty())
            .collect();
        // Stripping a suffix can expose boilerplate, and dropping a trailing line can expose a
        // suffix; iterate to the fixpoint so that normalisation is idempotent.
        loop {
            let before = out.len();
            out.retain(|p| !self.drop_lines.is_match(p));
            let mut changed = out.len() != before;
            if let Some(last) = out.last_mut() {
                for re in &self.strip_suffixes {
                    if let Some(m) = re.find(last) {
                        if m.end() == last.len() && m.start() < last.len() {
                            last.truncate(m.start());
                            *last = fold(last, self.unify_quotes);
                            changed = true;
                        }
                    }
                }
                if last.is_empty() {
                    out.pop();
                    changed = true;
                }
            }
            if !changed {
                return out;
            }
        }
    }
}

/// NFKC, invisible characters dropped, quotes unified, whitespace folded (and removed next to
/// CJK characters, where it is only layout).
fn fold(text: &str, unify_quotes: bool) -> String {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    for_each_nfkc(text, |c| {
        if is_invisible(c) {
            return;
        }
        let c = if c.is_whitespace() || c.is_control() {
            ' '
        } else if unify_quotes {
            unify_quote(c)
        } else {
            c
        };
        chars.push(c);
    });
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' {
            let start = i;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let prev = start.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i).copied();
            // Leading and trailing whitespace goes; so does whitespace next to CJK text, where
            // mirrors insert or drop it freely.
            let keep = match (prev, next) {
                (Some(p), Some(n)) => !is_cjk(p) && !is_cjk(n),
                _ => false,
            };
            if keep {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// Calls `f` with each character of the NFKC form of `text`. The Unicode tables are only
/// consulted for stretches that need them: a character with a [`simple_nfkc`] form followed
/// by another such character (or by nothing) is mapped directly. That is most of any news
/// text (ASCII, unified ideographs, full-width ASCII, CJK punctuation), and the tables were
/// two thirds of normalisation's cost.
///
/// Why this equals `text.nfkc()`: NFKC of a string is the concatenation of the NFKC of its
/// pieces when each piece after the first starts with a starter that nothing before it can
/// compose with. Simple characters map to such starters (none is the second element of any
/// canonical composition, and all have combining class 0). The fast one needs a simple
/// successor, so it cannot compose with what follows either; a simple character followed by
/// anything else (say `e` and U+0301) goes to the tables with its successor.
fn for_each_nfkc(text: &str, mut f: impl FnMut(char)) {
    // Start of the pending stretch that goes through the tables.
    let mut slow: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_simple = chars.peek().is_none_or(|&(_, n)| simple_nfkc(n).is_some());
        match simple_nfkc(c).filter(|_| next_simple) {
            Some(mapped) => {
                if let Some(start) = slow.take() {
                    text[start..i].nfkc().for_each(&mut f);
                }
                f(mapped);
            }
            None => {
                slow.get_or_insert(i);
            }
        }
    }
    if let Some(start) = slow {
        text[start..].nfkc().for_each(&mut f);
    }
}

/// The NFKC form of `c` when it is a single starter that no neighbour composes with, for the
/// characters news text is mostly made of; `None` for every other character (which may
/// still be its own NFKC form: the tables decide).
fn simple_nfkc(c: char) -> Option<char> {
    match c {
        '\0'..='\u{7F}'
        // Unified ideographs, CJK punctuation and brackets (、。〃〈〉《》「」『』【】),
        // curly quotes and dashes: none has a decomposition.
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{3001}'..='\u{3003}'
        | '\u{3008}'..='\u{3011}'
        | '\u{2010}'
        | '\u{2013}'..='\u{2016}'
        | '\u{2018}'..='\u{201F}' => Some(c),
        // The ideographic space and full-width ASCII are compatibility forms of ASCII.
        '\u{3000}' => Some(' '),
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
        _ => None,
    }
}

/// Zero-width and formatting characters that never change what a reader sees as text.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FE00}'..='\u{FE0F}'
    ) || (c.is_control() && !c.is_whitespace())
}

fn unify_quote(c: char) -> char {
    match c {
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}'
        | '\u{300C}' | '\u{300D}' | '\u{300E}' | '\u{300F}' => '"',
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => '\'',
        other => other,
    }
}

/// ASCII and CJK punctuation (after NFKC, full-width forms are already ASCII).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '\u{3000}'..='\u{303F}' | '\u{2010}'..='\u{2027}' | '\u{FE10}'..='\u{FE6F}' | '·')
}

/// Whether `c` is a CJK character that is a letter or digit (`is_cjk(c) &&
/// c.is_alphanumeric()`). Unified ideographs, most of any Chinese text, are answered by a range
/// check: for them the Unicode property lookup (a binary search) was 2% of a crawl's CPU.
pub fn is_cjk_alphanumeric(c: char) -> bool {
    is_unified_ideograph(c) || (is_cjk(c) && c.is_alphanumeric())
}

/// The CJK Unified Ideographs block, most of any Chinese text: every character in it is a
/// letter with no decomposition, so callers answer for it without the Unicode tables.
pub fn is_unified_ideograph(c: char) -> bool {
    ('\u{4E00}'..='\u{9FFF}').contains(&c)
}

/// CJK ideographs, kana, hangul and CJK punctuation: scripts written without spaces.
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'
        | '\u{3000}'..='\u{303F}'
        | '\u{3040}'..='\u{30FF}'
        | '\u{3100}'..='\u{312F}'
        | '\u{3190}'..='\u{31FF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{AC00}'..='\u{D7AF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{FE30}'..='\u{FE4F}'
        | '\u{FF00}'..='\u{FFEF}'
        | '\u{20000}'..='\u{2FA1F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ideograph_shortcut_agrees_with_the_unicode_tables() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            assert_eq!(
                is_cjk_alphanumeric(c),
                is_cjk(c) && c.is_alphanumeric(),
                "U+{:04X}",
                u32::from(c)
            );
            if is_unified_ideograph(c) {
                assert!(c.is_alphabetic(), "U+{:04X}", u32::from(c));
            }
        }
    }

    /// Every character `simple_nfkc` maps: its mapping is its NFKC form, a single starter.
    fn simple_chars() -> impl Iterator<Item = (char, char)> {
        (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter_map(|c| simple_nfkc(c).map(|m| (c, m)))
    }

    #[test]
    fn simple_forms_are_the_nfkc_forms_and_starters() {
        use unicode_normalization::char::canonical_combining_class;
        for (c, mapped) in simple_chars() {
            let nfkc: Vec<char> = std::iter::once(c).nfkc().collect();
            assert_eq!(nfkc, vec![mapped], "U+{:04X}", u32::from(c));
            assert_eq!(
                canonical_combining_class(mapped),
                0,
                "U+{:04X}",
                u32::from(c)
            );
        }
    }

    #[test]
    fn no_simple_form_is_composed_onto_what_precedes_it() {
        // Canonical composition only ever joins the elements of some character's canonical
        // decomposition; a simple form never appears after the first element of one.
        let simple: std::collections::HashSet<char> = simple_chars().map(|(_, m)| m).collect();
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let mut parts = Vec::new();
            unicode_normalization::char::decompose_canonical(c, |p| parts.push(p));
            for p in parts.iter().skip(1) {
                assert!(!simple.contains(p), "U+{:04X} ends in {p:?}", u32::from(c));
            }
        }
    }

    /// Characters that exercise every path: simple ones, combining marks that compose with
    /// them, compatibility forms, Hangul jamo, and characters the tables leave alone.
    const MIXED: &[char] = &[
        'a', 'e', 'A', ' ', '.', '中', '国', '，', '：', 'Ａ', '１', '\u{3000}', '、', '「', '“',
        '—', '\u{0301}', '\u{0308}', '\u{0327}', '\u{0323}', '\u{3099}', 'か', 'ﾊ', '\u{FF9E}',
        '\u{1100}', '\u{1161}', '\u{11A8}', '가', 'é', 'ﬁ', '…', '①', '\u{2011}', '\u{F900}', 'Å',
        '\u{212B}', '²', '\u{0345}', 'Ω', '\u{00A0}',
    ];

    proptest::proptest! {
        #[test]
        fn the_fast_path_equals_nfkc(picks in proptest::collection::vec(0..MIXED.len(), 0..24)) {
            let text: String = picks.iter().map(|&i| MIXED[i]).collect();
            let mut fast = String::new();
            for_each_nfkc(&text, |c| fast.push(c));
            let slow: String = text.nfkc().collect();
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    fn n() -> Normaliser {
        Normaliser::new(true, &[], &[], true).unwrap()
    }

    #[test]
    fn full_width_and_indentation_fold_away() {
        let origin = ["新希望(000876)今年前11个月销量超过890万头,增长12.5%。"];
        let mirror =
            ["　　新希望（０００８７６）今年前１１个月销量超过８９０万头，增长１２．５％。"];
        assert_eq!(n().normalise(&origin), n().normalise(&mirror));
    }

    #[test]
    fn whitespace_between_cjk_goes_but_latin_spaces_stay() {
        assert_eq!(
            n().normalise_text("中国 银行  发布\u{3000}公告"),
            "中国银行发布公告"
        );
        assert_eq!(n().normalise_text("  Hello \t  world\n"), "Hello world");
        assert_eq!(n().normalise_text("苹果 iPhone 13"), "苹果iPhone 13");
    }

    #[test]
    fn invisible_characters_and_quotes() {
        assert_eq!(
            n().normalise_text("“增\u{200B}长”\u{FEFF}‘a’"),
            "\"增长\"'a'"
        );
    }

    #[test]
    fn boilerplate_lines_are_dropped() {
        let body = [
            "正文第一段。",
            "（文章来源：大众日报）",
            "返回财经新闻｜返回首页",
            "<http://finance.eastmoney.com/news/1354,202112082206736549.html>",
            "[返回首页](../)",
            "<>",
            "[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)",
            "责任编辑：张三",
            "Source: Demo Wire",
            "免责声明：本文内容仅供参考，不构成任何投资建议。据此操作，风险自担。",
            "Disclaimer: this article is for information only and is not investment advice.",
        ];
        assert_eq!(n().normalise(&body), vec!["正文第一段。".to_string()]);
    }

    #[test]
    fn trailing_source_suffix_is_stripped() {
        let body = ["第一段。", "最后一段。（文章来源：大众日报）"];
        assert_eq!(n().normalise(&body), vec!["第一段。", "最后一段。"]);
    }

    #[test]
    fn paragraphs_with_line_breaks_split() {
        assert_eq!(n().normalise(&["a\nb", "", " c "]), vec!["a", "b", "c"]);
    }

    #[test]
    fn title_keys_ignore_punctuation() {
        assert_eq!(
            n().title_key("在岸人民币升至新高。"),
            n().title_key("在岸人民币升至新高")
        );
        assert_eq!(
            n().title_key("港股午评：恒指涨1%"),
            n().title_key("港股午评｜恒指涨1%")
        );
        assert_ne!(n().title_key("净流入30亿"), n().title_key("净流入40亿"));
    }

    #[test]
    fn custom_patterns_and_errors() {
        let custom = Normaliser::new(false, &["^广告$".into()], &[], false).unwrap();
        assert_eq!(custom.normalise(&["广告", "来源：X"]), vec!["来源:X"]);
        let err = Normaliser::new(true, &["(".into()], &[], true).unwrap_err();
        assert_eq!(err.0, "drop_lines");
        assert_eq!(err.1.index, 0);
    }

    #[test]
    fn ordinary_sentences_mentioning_sources_survive() {
        let body = ["据新华社报道，来源方面表示将继续增长。"];
        assert_eq!(n().normalise(&body).len(), 1);
        let risks = ["风险提示：原材料价格波动、海外需求放缓可能影响公司业绩。"];
        assert_eq!(n().normalise(&risks).len(), 1);
    }
}
