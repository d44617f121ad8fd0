//! `trawl get`: one record by id, id prefix or URL, with its sightings and the current state
//! of every URL it was seen at.

use serde::Serialize;

use super::QueryError;
use crate::model::{Record, RecordId, Sighting, UrlState};
use crate::scope::UrlPolicy;
use crate::store::Store;

/// A record with its sightings: the answer to `trawl get`.
#[derive(Clone, Debug, Serialize)]
pub struct RecordView {
    /// The record.
    pub record: Record,
    /// Copies in the record's cluster (distinct URLs).
    pub cluster_size: usize,
    /// Every sighting, oldest run first.
    pub sightings: Vec<Sighting>,
    /// The latest state of each copy's URL (its last outcome), in copy order. A URL whose
    /// state is missing (not flushed before a crash) is left out.
    pub url_states: Vec<UrlState>,
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
    let mut url_states = Vec::with_capacity(record.copies.len());
    for c in &record.copies {
        if let Some(state) = store.url_state(&c.url)? {
            url_states.push(state);
        }
    }
    Ok(RecordView {
        cluster_size: record.copies.len(),
        record,
        sightings,
        url_states,
    })
}

fn record_for_url(store: &Store, raw: &str, urls: &UrlPolicy) -> Result<RecordId, QueryError> {
    let url = urls
        .normalise(raw, None)
        .map_err(|_| QueryError::BadKey(raw.to_string()))?;
    let state = store
        .url_state(url.as_str())?
        .ok_or_else(|| QueryError::UnknownUrl(url.to_string()))?;
    match (state.record, state.outcome) {
        (Some(record), _) | (None, crate::model::Outcome::New { record }) => Ok(record),
        (
            None,
            crate::model::Outcome::Duplicate { of } | crate::model::Outcome::NearDuplicate { of },
        ) => Ok(of),
        (None, other) => Err(QueryError::NoRecordForUrl {
            url: url.to_string(),
            outcome: other.to_string(),
        }),
    }
}
