//! `trawl list`: the records a [`Filter`] selects, ordered and paged.
//!
//! One pass over the records keeps only a sort key and an id per match (tens of bytes each),
//! then reads the records of the requested page again; memory never holds every record.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;

use super::filter::Filter;
use crate::model::{Record, RecordId};
use crate::store::{Store, StoreError};

/// The order of `list` results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// Newest published first (records without a publication time last).
    #[default]
    Newest,
    /// Oldest published first (records without a publication time last).
    Oldest,
    /// Most recently first seen first.
    Seen,
    /// Most copies first.
    Copies,
    /// Record id (the store's order).
    Id,
}

/// One line of `trawl list`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ListRow {
    /// Record id.
    pub id: RecordId,
    /// Canonical title.
    pub title: String,
    /// Publication time.
    pub published: Option<DateTime<FixedOffset>>,
    /// When the record was first seen.
    pub first_seen: DateTime<Utc>,
    /// Canonical URL.
    pub canonical_url: String,
    /// Canonical host.
    pub canonical_host: String,
    /// Source.
    pub source: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// Extractor of the canonical copy.
    pub extractor: String,
    /// Copies (distinct URLs).
    pub copies: usize,
    /// Distinct hosts.
    pub hosts: usize,
}

impl ListRow {
    /// The row for a record.
    pub fn of(r: &Record) -> ListRow {
        ListRow {
            id: r.id,
            title: r.canonical.title.clone(),
            published: r.canonical.published,
            first_seen: r.first_seen,
            canonical_url: r.canonical.url.clone(),
            canonical_host: r.canonical_host.clone(),
            source: r.canonical.source.clone(),
            language: r.canonical.language.clone(),
            extractor: r.canonical.extractor.clone(),
            copies: r.copies.len(),
            hosts: r.hosts().len(),
        }
    }
}

/// A page of results and how many records matched in all.
#[derive(Clone, Debug, Serialize)]
pub struct ListPage {
    /// Records matching the filter.
    pub total: usize,
    /// The requested page.
    pub rows: Vec<ListRow>,
}

/// Lists the records `filter` selects, in `order`, skipping `offset` and returning at most
/// `limit` (all when `None`).
pub fn list(
    store: &Store,
    filter: &Filter,
    order: Order,
    offset: usize,
    limit: Option<usize>,
) -> Result<ListPage, StoreError> {
    // (primary key, record id): i64 keys cover every order; ties break on the id.
    let mut keys: Vec<(i64, RecordId)> = Vec::new();
    for r in store.record_heads() {
        let r = r?;
        if !filter.matches(&r) {
            continue;
        }
        let published = r.canonical.published.map(|p| p.timestamp_micros());
        let key = match order {
            Order::Newest => published.map_or(i64::MAX, |t| -t),
            Order::Oldest => published.unwrap_or(i64::MAX),
            Order::Seen => -r.first_seen.timestamp_micros(),
            Order::Copies => -(r.copies.len() as i64),
            Order::Id => 0,
        };
        keys.push((key, r.id));
    }
    keys.sort_unstable();
    let total = keys.len();
    let mut rows = Vec::new();
    for (_, id) in keys
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
    {
        if let Some(r) = store.record(id)? {
            rows.push(ListRow::of(&r));
        }
    }
    Ok(ListPage { total, rows })
}
