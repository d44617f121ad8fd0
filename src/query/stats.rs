//! `trawl stats`: what the store holds, as data: totals, outcomes, and breakdowns per host,
//! per source and per day. One pass over each tree; memory grows with the number of hosts,
//! sources and days, never with the number of records.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::store::{Store, StoreError};

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

/// Counts for one calendar day.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct DayStats {
    /// Records published that day (in the zone the post gives).
    pub published: u64,
    /// Records first seen that day (UTC).
    pub first_seen: u64,
    /// Sightings fetched that day (UTC).
    pub sightings: u64,
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
    /// Records per canonical source (`-` when the post names none).
    pub sources: BTreeMap<String, u64>,
    /// Per calendar day (`YYYY-MM-DD`).
    pub days: BTreeMap<String, DayStats>,
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
    let mut days: BTreeMap<String, DayStats> = BTreeMap::new();
    for s in store.all_sightings() {
        let s = s?;
        days.entry(s.fetched_at.date_naive().to_string())
            .or_default()
            .sightings += 1;
        hosts.entry(s.host).or_default().sightings += 1;
    }
    let mut sources: BTreeMap<String, u64> = BTreeMap::new();
    for r in store.record_heads() {
        let r = r?;
        days.entry(r.first_seen.date_naive().to_string())
            .or_default()
            .first_seen += 1;
        if let Some(p) = r.canonical.published {
            days.entry(p.date_naive().to_string())
                .or_default()
                .published += 1;
        }
        let source = r.canonical.source.unwrap_or_else(|| "-".into());
        *sources.entry(source).or_default() += 1;
        hosts.entry(r.canonical_host).or_default().canonical += 1;
    }
    Ok(Stats {
        records: counts.records,
        sightings: counts.sightings,
        duplicates_collapsed: counts.sightings.saturating_sub(counts.records),
        urls: counts.urls,
        runs: counts.runs,
        outcomes,
        hosts,
        sources,
        days,
        size_on_disk: store.size_on_disk()?,
    })
}
