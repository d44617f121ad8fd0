//! Stage 7, query: questions asked of the store, answered as plain data that the CLI renders
//! as a table or JSON. One file per question: [`filter`] (the record filters that `list` and
//! `export` share), [`list`], [`search`] (the inverted index and ranked search), [`stats`],
//! [`get`]. Reads only, except that [`search`] brings its index up to date first.

use thiserror::Error;

use crate::store::StoreError;

pub mod filter;
pub mod get;
pub mod json;
pub mod list;
pub mod search;
pub mod stats;

pub use get::{get, RecordView};
pub use stats::{stats, Stats};

/// Why a lookup found nothing usable.
#[derive(Debug, Error)]
pub enum QueryError {
    /// No record has this id (or id prefix).
    #[error("no record with id `{0}` (ids are hex; see `trawl stats` or `trawl get URL`)")]
    UnknownId(String),
    /// An id prefix matches several records.
    #[error("id prefix `{prefix}` matches {count} records; type more characters")]
    Ambiguous {
        /// The prefix.
        prefix: String,
        /// How many records match.
        count: usize,
    },
    /// The URL was never crawled.
    #[error("URL `{0}` is not in the store")]
    UnknownUrl(String),
    /// The URL was crawled but produced no post.
    #[error("URL `{url}` produced no record: its outcome was {outcome}")]
    NoRecordForUrl {
        /// The URL.
        url: String,
        /// What happened to it.
        outcome: String,
    },
    /// Neither an id nor a URL.
    #[error("`{0}` is neither a record id (hex) nor an http(s) URL")]
    BadKey(String),
    /// A date or time the user typed does not parse.
    #[error("{flag}: `{value}` is not a date; expected YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or RFC 3339 (e.g. 2022-01-18T09:30:00+08:00)")]
    BadDate {
        /// The flag it was given to.
        flag: &'static str,
        /// What was typed.
        value: String,
    },
    /// A search with no searchable characters.
    #[error("search text `{0}` has no letters, digits or CJK characters to search for")]
    EmptySearch(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl QueryError {
    /// Whether the user asked for something that is not there (exit 2), rather than the store
    /// failing (exit 1).
    pub fn is_user_error(&self) -> bool {
        !matches!(self, QueryError::Store(_))
    }
}

/// Whether a character must not reach a terminal raw: C0 and C1 controls and DEL (cursor
/// movement, colour, clearing the screen), bidi marks, embeddings, overrides and isolates
/// (text that renders in another order than it reads), and the Unicode line and paragraph
/// separators. Newline and tab are not: they are how bodies and tables are laid out, so the
/// callers that print one-line fields deal with them.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
        )
}

/// Makes untrusted page text safe to print on a terminal: control characters and bidi
/// overrides are shown as `\u{…}` escapes instead of being interpreted.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::UrlPolicy;
    use crate::store::Store;

    #[test]
    fn terminal_safe_escapes_controls_and_bidi() {
        assert_eq!(terminal_safe("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(terminal_safe("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(terminal_safe("中文\tok"), "中文\tok");
    }

    #[test]
    fn bad_keys_are_user_errors() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let p = UrlPolicy::default();
        assert!(matches!(get(&store, "xyz", &p), Err(QueryError::BadKey(_))));
        assert!(matches!(
            get(&store, "abcd", &p),
            Err(QueryError::UnknownId(_))
        ));
        assert!(matches!(
            get(&store, "http://a.test/", &p),
            Err(QueryError::UnknownUrl(_))
        ));
        assert!(get(&store, "abcd", &p).unwrap_err().is_user_error());
    }
}
