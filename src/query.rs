//! Stage 7, query: questions asked of the store (`stats`, `get`), answered as plain data that
//! the CLI renders as a table or JSON. Reads only; never writes.

use std::collections::BTreeMap;

use serde::Serialize;
use thiserror::Error;

use crate::model::{Record, RecordId, Sighting};
use crate::scope::UrlPolicy;
use crate::store::{Store, StoreError};

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

/// Counts for one host.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct HostStats {
    /// URLs with a recorded outcome.
    pub urls: u64,
    /// Sightings (posts fetched from this host, over all runs).
    pub sightings: u64,
    /// Records whose canonical copy is on this host.
    pub canonical: u64,
    /// URL outcomes by kind.
    pub outcomes: BTreeMap<String, u64>,
}

/// What the store holds.
#[derive(Clone, Debug, Serialize)]
pub struct Stats {
    /// Canonical records.
    pub records: u64,
    /// Sightings over all runs.
    pub sightings: u64,
    /// Copies collapsed into an existing record (sightings beyond the first of each record).
    pub duplicates_collapsed: u64,
    /// URLs with a recorded outcome.
    pub urls: u64,
    /// Crawl runs.
    pub runs: u64,
    /// URL outcomes by kind.
    pub outcomes: BTreeMap<String, u64>,
    /// Per host.
    pub hosts: BTreeMap<String, HostStats>,
    /// Bytes on disk.
    pub size_on_disk: u64,
}

/// Computes store statistics (one pass over records, sightings and URL states).
pub fn stats(store: &Store) -> Result<Stats, StoreError> {
    let counts = store.counts();
    let mut hosts: BTreeMap<String, HostStats> = BTreeMap::new();
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    for state in store.url_states() {
        let state = state?;
        let host = url::Url::parse(&state.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let h = hosts.entry(host).or_default();
        h.urls += 1;
        *h.outcomes
            .entry(state.outcome.kind().to_string())
            .or_default() += 1;
        *outcomes
            .entry(state.outcome.kind().to_string())
            .or_default() += 1;
    }
    for s in store.all_sightings() {
        hosts.entry(s?.host).or_default().sightings += 1;
    }
    for r in store.records() {
        hosts.entry(r?.canonical_host).or_default().canonical += 1;
    }
    Ok(Stats {
        records: counts.records,
        sightings: counts.sightings,
        duplicates_collapsed: counts.sightings.saturating_sub(counts.records),
        urls: counts.urls,
        runs: counts.runs,
        outcomes,
        hosts,
        size_on_disk: store.size_on_disk()?,
    })
}

/// A record with its sightings: the answer to `trawl get`.
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    /// The record.
    pub record: Record,
    /// Every sighting, oldest run first.
    pub sightings: Vec<Sighting>,
}

/// Finds a record by id, unique id prefix (at least 4 hex digits), or URL.
pub fn get(store: &Store, key: &str, urls: &UrlPolicy) -> Result<RecordView, QueryError> {
    let key = key.trim();
    let id = if key.contains("://") {
        record_for_url(store, key, urls)?
    } else if key.len() >= 4 && key.len() <= 32 && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        let ids = store.record_ids_with_prefix(key)?;
        match ids.as_slice() {
            [] => return Err(QueryError::UnknownId(key.to_string())),
            [one] => *one,
            many => {
                return Err(QueryError::Ambiguous {
                    prefix: key.to_string(),
                    count: many.len(),
                })
            }
        }
    } else {
        return Err(QueryError::BadKey(key.to_string()));
    };
    let record = store
        .record(id)?
        .ok_or_else(|| QueryError::UnknownId(id.to_hex()))?;
    let sightings = store.sightings(id)?;
    Ok(RecordView { record, sightings })
}

fn record_for_url(store: &Store, raw: &str, urls: &UrlPolicy) -> Result<RecordId, QueryError> {
    let url = urls
        .normalise(raw, None)
        .map_err(|_| QueryError::BadKey(raw.to_string()))?;
    let state = store
        .url_state(url.as_str())?
        .ok_or_else(|| QueryError::UnknownUrl(url.to_string()))?;
    match state.outcome {
        crate::model::Outcome::New { record } => Ok(record),
        crate::model::Outcome::Duplicate { of } | crate::model::Outcome::NearDuplicate { of } => {
            Ok(of)
        }
        other => Err(QueryError::NoRecordForUrl {
            url: url.to_string(),
            outcome: other.to_string(),
        }),
    }
}

/// Makes untrusted page text safe to print on a terminal: control characters and bidi
/// overrides are shown as `\u{…}` escapes instead of being interpreted.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let dangerous = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if dangerous {
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
