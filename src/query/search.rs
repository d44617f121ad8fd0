//! `trawl search`: records whose title or body contains the text, ranked, with a highlighted
//! snippet, answered from an inverted index instead of a scan of every body.
//!
//! Matching semantics, after folding both sides the same way (NFKC per character, lower
//! case, so `ＡＢＣ`, `abc` and `ABC` are one):
//! - a run of CJK characters in the query matches as a **substring** (Chinese has no spaces);
//! - a Latin word (a run of letters and digits) matches a **whole word**, case-insensitively;
//! - a query with several runs and words matches records that contain all of them.
//!
//! Index terms: every CJK character and every pair of adjacent CJK characters (bigram) in a
//! CJK run, and every word. A query's candidates are the intersection of its terms' posting
//! lists (a CJK run's bigrams, or the character itself for a one-character run); every
//! candidate is then verified against the record's text, which also drops stale postings of
//! a record whose canonical text changed (see `store::search`).
//!
//! Ranking: title occurrences weigh ten times body occurrences (capped per term so that a long
//! article does not win by length), then the newest publication, then the record id.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::QueryError;
use crate::fingerprint::normalise::is_unified_ideograph;
use crate::model::{Record, RecordId};
use crate::store::search::DocList;
use crate::store::{Store, StoreError};

/// Records indexed per segment: bounds the memory of an index update (a few tens of MiB) and
/// the number of segments a term's postings spread over.
const BATCH: usize = 4096;
/// Characters of context before the first highlighted match in a snippet.
const BEFORE: usize = 30;
/// Length of a snippet, in characters.
const SNIPPET: usize = 120;

/// Whether `c` belongs to a script written without spaces between words (Han, kana, Hangul),
/// where search uses substring semantics.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // Hiragana, Katakana
        | 0x3400..=0x4DBF    // CJK Extension A
        | 0x4E00..=0x9FFF    // CJK Unified Ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK Compatibility Ideographs
        | 0x20000..=0x2FA1F) // Extensions B–F, compatibility supplement
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

/// Folds one character for matching (NFKC, then lower case), passing each resulting char to
/// `out`. ASCII and unified ideographs, most of any text, take a fast path.
fn fold_char(c: char, out: &mut impl FnMut(char)) {
    if c.is_ascii() {
        out(c.to_ascii_lowercase());
    } else if is_unified_ideograph(c) {
        out(c);
    } else {
        for n in std::iter::once(c).nfkc() {
            for l in n.to_lowercase() {
                out(l);
            }
        }
    }
}

/// Folds text for matching: NFKC per character and lower case.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut |f| out.push(f));
    }
    out
}

/// A searchable piece of folded text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// A run of CJK characters: matched as a substring.
    Cjk(String),
    /// A run of letters and digits: matched as a whole word.
    Word(String),
}

/// Splits folded text into CJK runs and words; everything else separates them.
fn pieces(folded: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_cjk = false;
    let flush = |cur: &mut String, cjk: bool, out: &mut Vec<Piece>| {
        if !cur.is_empty() {
            let s = std::mem::take(cur);
            out.push(if cjk { Piece::Cjk(s) } else { Piece::Word(s) });
        }
    };
    for c in folded.chars() {
        if is_cjk(c) {
            if !cur_cjk {
                flush(&mut cur, false, &mut out);
            }
            cur_cjk = true;
            cur.push(c);
        } else if is_word_char(c) {
            if cur_cjk {
                flush(&mut cur, true, &mut out);
            }
            cur_cjk = false;
            cur.push(c);
        } else {
            flush(&mut cur, cur_cjk, &mut out);
        }
    }
    flush(&mut cur, cur_cjk, &mut out);
    out
}

/// An index term without an allocation: most terms are CJK characters and bigrams.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Term {
    Char(char),
    Pair(char, char),
    Word(String),
}

impl Term {
    fn into_string(self) -> String {
        match self {
            Term::Char(c) => c.to_string(),
            Term::Pair(a, b) => [a, b].iter().collect(),
            Term::Word(w) => w,
        }
    }
}

/// A set of terms. Indexing hashes every character and bigram of every record, twice (here
/// and per posting list): ahash (already built for Arrow) instead of SipHash, keyed per
/// process like it, so hostile text still cannot pick collisions.
type Terms = std::collections::HashSet<Term, ahash::RandomState>;

/// Every distinct term of a title and body: the terms of [`pieces`], read straight off the
/// folded text (indexing runs over every record, so no piece is built; a word is copied
/// only the first time it is met).
fn terms_of(title: &str, body: &[String]) -> Terms {
    let mut terms = Terms::default();
    let mut word = String::new();
    let flush = |word: &mut String, terms: &mut Terms| {
        if !word.is_empty() {
            let term = Term::Word(std::mem::take(word));
            if let Some(Term::Word(back)) = terms.replace(term) {
                // Already there: keep the buffer for the next word.
                *word = back;
                word.clear();
            }
        }
    };
    for text in std::iter::once(title).chain(body.iter().map(String::as_str)) {
        let mut prev: Option<char> = None;
        for c in fold(text).chars() {
            if is_cjk(c) {
                flush(&mut word, &mut terms);
                terms.insert(Term::Char(c));
                if let Some(p) = prev {
                    terms.insert(Term::Pair(p, c));
                }
                prev = Some(c);
            } else {
                prev = None;
                if is_word_char(c) {
                    word.push(c);
                } else {
                    flush(&mut word, &mut terms);
                }
            }
        }
        flush(&mut word, &mut terms);
    }
    terms
}

/// The index terms of a record's title and body: CJK characters and bigrams, and words.
pub fn index_terms(title: &str, body: &[String]) -> BTreeSet<String> {
    terms_of(title, body)
        .into_iter()
        .map(Term::into_string)
        .collect()
}

/// The terms whose posting lists a query piece needs (all must hold a candidate).
fn query_terms(piece: &Piece) -> Vec<String> {
    match piece {
        Piece::Word(w) => vec![w.clone()],
        Piece::Cjk(run) => {
            let chars: Vec<char> = run.chars().collect();
            if chars.len() == 1 {
                return vec![run.clone()];
            }
            chars.windows(2).map(|w| w.iter().collect()).collect()
        }
    }
}

/// Brings the search index up to date with the records marked since the last update, in
/// segments of at most a few thousand records. `progress` hears the count done so far.
/// Returns how many records were (re)indexed.
pub fn update_index(store: &Store, progress: &mut dyn FnMut(usize)) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let pending = store.search_pending(BATCH)?;
        if pending.is_empty() {
            return Ok(done);
        }
        // Records in doc-number order, so that every posting list is built ascending and
        // encoded as it grows (a reindexed record keeps its older, lower number).
        let mut docs = Vec::with_capacity(pending.len());
        for p in &pending {
            docs.push((store.search_doc_number(p.id)?, p.id));
        }
        docs.sort_unstable();
        let mut by_term: std::collections::HashMap<Term, DocList, ahash::RandomState> =
            Default::default();
        for (doc, id) in docs {
            // A marker for a record that is gone (cannot happen today: records are never
            // deleted) is simply cleared.
            let Some(record) = store.record(id)? else {
                continue;
            };
            for term in terms_of(&record.canonical.title, &record.canonical.body) {
                // Ascending by construction; a refusal would mean a duplicate doc number.
                by_term.entry(term).or_default().push(doc);
            }
        }
        let postings: BTreeMap<String, DocList> = by_term
            .into_iter()
            .map(|(term, docs)| (term.into_string(), docs))
            .collect();
        store.write_search_segment(&postings, &pending)?;
        done += pending.len();
        progress(done);
    }
}

/// One search result.
#[derive(Clone, Debug, Serialize)]
pub struct SearchHit {
    /// Record id.
    pub id: RecordId,
    /// Relevance (higher is better; comparable only within one search).
    pub score: u32,
    /// Canonical title.
    pub title: String,
    /// Publication time.
    pub published: Option<DateTime<FixedOffset>>,
    /// Canonical URL.
    pub url: String,
    /// Copies (distinct URLs).
    pub copies: usize,
    /// A piece of the body (or the title) around the first match.
    pub snippet: String,
    /// Matched spans in `snippet`, as `[start, end)` character offsets.
    pub highlights: Vec<(usize, usize)>,
}

/// The answer to a search.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResults {
    /// Records that match.
    pub total: usize,
    /// The best `limit` of them, best first.
    pub hits: Vec<SearchHit>,
}

/// Searches titles and bodies for `text`; returns the best `limit` hits. Brings the index
/// up to date first (see [`update_index`]).
pub fn search(store: &Store, text: &str, limit: usize) -> Result<SearchResults, QueryError> {
    let query = pieces(&fold(text));
    if query.is_empty() {
        return Err(QueryError::EmptySearch(text.to_string()));
    }
    update_index(store, &mut |_| {})?;
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut terms: BTreeSet<String> = BTreeSet::new();
    for p in &query {
        terms.extend(query_terms(p));
    }
    for t in &terms {
        lists.push(store.search_postings(t)?);
    }
    lists.sort_by_key(Vec::len);
    let mut candidates = lists.first().cloned().unwrap_or_default();
    for l in &lists[1..] {
        candidates = intersect(&candidates, l);
        if candidates.is_empty() {
            break;
        }
    }
    let mut scored: Vec<(u32, Option<i64>, RecordId)> = Vec::new();
    for doc in candidates {
        let Some(id) = store.search_doc(doc)? else {
            continue;
        };
        let Some(record) = store.record(id)? else {
            continue;
        };
        if let Some(score) = score(&record, &query) {
            let published = record.canonical.published.map(|p| p.timestamp());
            scored.push((score, published, id));
        }
    }
    // Best score, then newest, then id: deterministic.
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let total = scored.len();
    let mut hits = Vec::new();
    for (score, _, id) in scored.into_iter().take(limit) {
        let Some(r) = store.record(id)? else {
            continue;
        };
        let (snippet, highlights) = snippet(&r, &query);
        hits.push(SearchHit {
            id,
            score,
            title: r.canonical.title.clone(),
            published: r.canonical.published,
            url: r.canonical.url.clone(),
            copies: r.copies.len(),
            snippet,
            highlights,
        });
    }
    Ok(SearchResults { total, hits })
}

fn intersect(a: &[u32], b: &[u32]) -> Vec<u32> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Non-overlapping occurrences of `piece` in folded chars, as `[start, end)` char ranges.
fn occurrences(hay: &[char], piece: &Piece) -> Vec<(usize, usize)> {
    let (needle, whole_word): (Vec<char>, bool) = match piece {
        Piece::Cjk(s) => (s.chars().collect(), false),
        Piece::Word(s) => (s.chars().collect(), true),
    };
    let mut out = Vec::new();
    if needle.is_empty() || needle.len() > hay.len() {
        return out;
    }
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let end = i + needle.len();
        let hit = hay[i..end] == needle[..]
            && (!whole_word
                || ((i == 0 || !is_word_char(hay[i - 1]))
                    && (end == hay.len() || !is_word_char(hay[end]))));
        if hit {
            out.push((i, end));
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

/// Text folded char by char, with the index of the original char behind each folded char.
struct Folded {
    chars: Vec<char>,
    origin: Vec<usize>,
}

fn fold_mapped(s: &str) -> Folded {
    let mut chars = Vec::with_capacity(s.len());
    let mut origin = Vec::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        fold_char(c, &mut |f| {
            chars.push(f);
            origin.push(i);
        });
    }
    Folded { chars, origin }
}

/// The record's score for the query, or `None` when some piece occurs nowhere.
fn score(record: &Record, query: &[Piece]) -> Option<u32> {
    let title: Vec<char> = fold(&record.canonical.title).chars().collect();
    let body: Vec<Vec<char>> = record
        .canonical
        .body
        .iter()
        .map(|p| fold(p).chars().collect())
        .collect();
    let mut total = 0u32;
    for piece in query {
        let in_title = occurrences(&title, piece).len() as u32;
        let in_body: u32 = body
            .iter()
            .map(|p| occurrences(p, piece).len() as u32)
            .sum();
        if in_title + in_body == 0 {
            return None;
        }
        total += in_title * 10 + in_body.min(10);
    }
    Some(total)
}

/// A snippet around the first match in the body (or in the title when only it matches), with
/// every match inside it marked.
fn snippet(record: &Record, query: &[Piece]) -> (String, Vec<(usize, usize)>) {
    let texts = record
        .canonical
        .body
        .iter()
        .chain(std::iter::once(&record.canonical.title));
    let mut fallback = None;
    for text in texts {
        let folded = fold_mapped(text);
        let mut spans: Vec<(usize, usize)> = query
            .iter()
            .flat_map(|p| occurrences(&folded.chars, p))
            .map(|(s, e)| (folded.origin[s], folded.origin[e - 1] + 1))
            .collect();
        if spans.is_empty() {
            fallback.get_or_insert(text);
            continue;
        }
        spans.sort_unstable();
        let chars: Vec<char> = text.chars().collect();
        let start = spans[0].0.saturating_sub(BEFORE);
        let end = (start + SNIPPET).min(chars.len());
        let mut out = String::new();
        let mut shift = start;
        if start > 0 {
            out.push('…');
            // The ellipsis takes one char of the output where `start` chars were dropped.
            shift -= 1;
        }
        out.extend(&chars[start..end]);
        if end < chars.len() {
            out.push('…');
        }
        let highlights = spans
            .into_iter()
            .filter(|&(s, e)| s >= start && e <= end)
            .map(|(s, e)| (s - shift, e - shift))
            .collect();
        return (out, highlights);
    }
    let text = fallback.map(String::as_str).unwrap_or_default();
    (text.chars().take(SNIPPET).collect(), Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_unifies_width_and_case() {
        assert_eq!(fold("ＡＢＣ Abc １２３"), "abc abc 123");
        assert_eq!(fold("中国银行"), "中国银行");
    }

    #[test]
    fn pieces_split_cjk_runs_from_words() {
        assert_eq!(
            pieces("央行 lpr利率下调0.1个百分点"),
            vec![
                Piece::Cjk("央行".into()),
                Piece::Word("lpr".into()),
                Piece::Cjk("利率下调".into()),
                Piece::Word("0".into()),
                Piece::Word("1".into()),
                Piece::Cjk("个百分点".into()),
            ]
        );
    }

    #[test]
    fn index_terms_cover_characters_bigrams_and_words() {
        let t = index_terms("央行 Cuts", &["利率".into()]);
        for term in ["央", "行", "央行", "cuts", "利", "率", "利率"] {
            assert!(t.contains(term), "{term}");
        }
        assert!(!t.contains("行c"));
    }

    #[test]
    fn index_terms_are_the_terms_of_the_pieces() {
        // The definition `terms_of` reads off the text directly.
        let by_pieces = |text: &str| {
            let mut t = Terms::default();
            for p in pieces(&fold(text)) {
                match p {
                    Piece::Word(w) => {
                        t.insert(Term::Word(w));
                    }
                    Piece::Cjk(run) => {
                        let chars: Vec<char> = run.chars().collect();
                        t.extend(chars.iter().map(|c| Term::Char(*c)));
                        t.extend(chars.windows(2).map(|w| Term::Pair(w[0], w[1])));
                    }
                }
            }
            t
        };
        for text in [
            "央行 LPR利率下调0.1个百分点，lpr again; Ｂａｎｋ bank",
            "Rates, rates and RATES: 中国人民银行-人民银行",
            "",
            "   ",
        ] {
            assert!(terms_of(text, &[]) == by_pieces(text), "{text}");
        }
        let body = ["第一段 one".to_string(), "two 第二段".to_string()];
        let mut all = by_pieces("标题 title");
        all.extend(body.iter().flat_map(|b| by_pieces(b)));
        assert!(terms_of("标题 title", &body) == all);
    }

    #[test]
    fn words_match_whole_words_and_cjk_matches_substrings() {
        let hay: Vec<char> = fold("Banking on the bank, 中国人民银行").chars().collect();
        assert_eq!(occurrences(&hay, &Piece::Word("bank".into())).len(), 1);
        assert_eq!(occurrences(&hay, &Piece::Cjk("人民".into())).len(), 1);
        assert_eq!(occurrences(&hay, &Piece::Cjk("民银".into())).len(), 1);
    }

    #[test]
    fn highlights_map_back_to_original_characters() {
        let f = fold_mapped("ＡＢＣ银行");
        assert_eq!(f.chars.len(), 5);
        let spans = occurrences(&f.chars, &Piece::Word("abc".into()));
        assert_eq!(spans, vec![(0, 3)]);
        assert_eq!(f.origin[4], 4);
    }
}
