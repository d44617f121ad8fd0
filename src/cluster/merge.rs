//! `trawl merge`: unions the stores of a cluster's workers into one deduplicated store.
//!
//! Workers agree on record ids (claims in Redis) and on run ids (each files cluster run N as
//! run N), so the union is by id: a record's members and copies are the union of every
//! store's, its canonical copy is re-chosen over all of them with the configured policy (the
//! winner is always some store's canonical copy, whose post that store kept), every sighting
//! is kept once per (URL, text, run) — the same rule ingest applies within one store, which
//! also drops the second sighting of a page fetched again after its worker was killed — and
//! each URL keeps its latest state.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;

use crate::dedup::{self, Candidate, CanonicalPolicy};
use crate::fingerprint::NearPrint;
use crate::model::{ContentHash, Join, Record, RecordId, Run, RunId, Sighting, UrlState, Version};
use crate::store::{Store, StoreError};

/// Why a merge could not run.
#[derive(Debug, Error)]
pub enum MergeError {
    /// The output store already holds data.
    #[error("output store {path} is not empty; merge into a new directory")]
    NotEmpty {
        /// Its path.
        path: PathBuf,
    },
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeSummary {
    /// Stores read.
    pub stores: usize,
    /// Records written.
    pub records: u64,
    /// Records that more than one store held.
    pub joined: u64,
    /// Sightings written.
    pub sightings: u64,
    /// Sightings dropped as the same fetch of the same text in the same run.
    pub repeated_sightings: u64,
    /// URL states written.
    pub urls: u64,
    /// Runs written.
    pub runs: u64,
}

/// Merges `sources` into `out` (which must be empty), choosing canonical copies by `policy`.
pub fn merge(
    out: &Store,
    sources: &[Store],
    policy: &CanonicalPolicy,
) -> Result<MergeSummary, MergeError> {
    let c = out.counts();
    if c.records > 0 || c.urls > 0 || c.sightings > 0 {
        return Err(MergeError::NotEmpty {
            path: out.path().to_path_buf(),
        });
    }
    let mut summary = MergeSummary {
        stores: sources.len(),
        ..Default::default()
    };
    summary.runs = merge_runs(out, sources)?;
    let mut ids = BTreeSet::new();
    for s in sources {
        for r in s.records() {
            ids.insert(r?.id);
        }
    }
    for id in ids {
        let mut held: Vec<(usize, Record)> = Vec::new();
        for (i, s) in sources.iter().enumerate() {
            if let Some(r) = s.record(id)? {
                held.push((i, r));
            }
        }
        if held.len() > 1 {
            summary.joined += 1;
        }
        let record = union_record(id, &held, policy);
        let mut sightings: Vec<Sighting> = Vec::new();
        let mut keys = BTreeSet::new();
        for (i, _) in &held {
            for s in sources[*i].sightings(id)? {
                if keys.insert((s.url.clone(), s.hash, s.run)) {
                    sightings.push(s);
                } else {
                    summary.repeated_sightings += 1;
                }
            }
        }
        sightings.sort_by(|a, b| (a.fetched_at, &a.url).cmp(&(b.fetched_at, &b.url)));
        let mut prints: Vec<(ContentHash, NearPrint)> = Vec::new();
        for m in &record.members {
            for (i, _) in &held {
                if let Some(p) = sources[*i].near_print(&m.hash)? {
                    prints.push((m.hash, p));
                    break;
                }
            }
        }
        let mut raw = None;
        for (i, r) in &held {
            if r.canonical.url == record.canonical.url {
                raw = sources[*i].raw_response(id)?;
                if raw.is_some() {
                    break;
                }
            }
        }
        out.put_merged(&record, &sightings, &prints, raw.as_ref())?;
        summary.records += 1;
        summary.sightings += sightings.len() as u64;
    }
    summary.urls = merge_urls(out, sources)?;
    out.flush()?;
    Ok(summary)
}

/// Runs by id: the earliest start, the latest end, outcome counts summed.
fn merge_runs(out: &Store, sources: &[Store]) -> Result<u64, StoreError> {
    let mut runs: BTreeMap<RunId, Run> = BTreeMap::new();
    for s in sources {
        for run in s.runs() {
            let run = run?;
            match runs.get_mut(&run.id) {
                None => {
                    runs.insert(run.id, run);
                }
                Some(m) => {
                    m.started = m.started.min(run.started);
                    m.finished = m.finished.max(run.finished);
                    m.ended = m.ended.or(run.ended);
                    for (k, v) in run.outcomes {
                        *m.outcomes.entry(k).or_default() += v;
                    }
                }
            }
        }
    }
    for run in runs.values() {
        out.put_run(run)?;
    }
    Ok(runs.len() as u64)
}

/// One record from every store's part of it.
fn union_record(id: RecordId, held: &[(usize, Record)], policy: &CanonicalPolicy) -> Record {
    let mut merged = held[0].1.clone();
    for (_, r) in &held[1..] {
        for m in &r.members {
            if !merged.members.iter().any(|x| x.hash == m.hash) {
                merged.members.push(m.clone());
            }
        }
        for c in &r.copies {
            if !merged.copies.iter().any(|x| x.url == c.url) {
                merged.copies.push(c.clone());
            }
        }
        merged.first_seen = merged.first_seen.min(r.first_seen);
    }
    // The hash the id derives from made the record, whichever worker stored it first (a
    // worker killed after claiming leaves the first copy to another worker's store).
    for m in &mut merged.members {
        if RecordId::from_first_hash(&m.hash) == id && m.joined == Join::Exact {
            m.joined = Join::First;
        }
    }
    merged.members.sort_by_key(|m| m.first_seen);
    // Re-choose the canonical copy over all copies: offering each store's canonical post to
    // `admit` switches to it exactly when it ranks first.
    for (_, r) in &held[1..] {
        let Some(copy) = r.copies.iter().find(|c| c.url == r.canonical.url) else {
            continue;
        };
        let candidate = Candidate {
            post: r.canonical.clone(),
            url: copy.url.clone(),
            host: copy.host.clone(),
            hash: copy.hash,
            seen: copy.first_seen,
            chars: copy.chars,
            near: None,
        };
        merged = dedup::admit(Some(merged), None, &candidate, policy).0;
    }
    let mut changes: Vec<_> = held
        .iter()
        .flat_map(|(_, r)| r.canonical_changes.iter().cloned())
        .collect();
    changes.sort_by(|a, b| (a.at, &a.from, &a.to).cmp(&(b.at, &b.from, &b.to)));
    changes.dedup();
    merged.canonical_changes = changes;
    merged
}

/// Every URL's latest state (a state with a record over one without, then the latest run,
/// then the latest fetch) and the union of its versions, streamed in URL order.
fn merge_urls(out: &Store, sources: &[Store]) -> Result<u64, StoreError> {
    let mut iters: Vec<_> = sources.iter().map(|s| s.url_states().peekable()).collect();
    let mut n = 0;
    loop {
        let mut next: Option<String> = None;
        for it in &mut iters {
            if let Some(Ok(s)) = it.peek() {
                if next.as_ref().is_none_or(|n| s.url < *n) {
                    next = Some(s.url.clone());
                }
            } else if let Some(Err(_)) = it.peek() {
                if let Some(Err(e)) = it.next() {
                    return Err(e);
                }
            }
        }
        let Some(url) = next else {
            break;
        };
        let mut best: Option<UrlState> = None;
        for it in &mut iters {
            if it
                .peek()
                .is_some_and(|s| s.as_ref().is_ok_and(|s| s.url == url))
            {
                if let Some(Ok(s)) = it.next() {
                    let rank = |s: &UrlState| (s.record.is_some(), s.run, s.last_fetch);
                    if best.as_ref().is_none_or(|b| rank(&s) > rank(b)) {
                        best = Some(s);
                    }
                }
            }
        }
        if let Some(state) = best {
            out.put_url_state(&state)?;
            n += 1;
        }
        let mut versions: Vec<Version> = Vec::new();
        for s in sources {
            for v in s.versions(&url)? {
                if !versions.iter().any(|x| x.hash == v.hash) {
                    versions.push(v);
                }
            }
        }
        if !versions.is_empty() {
            versions.sort_by_key(|v| v.seen);
            let mut previous = None;
            for (i, v) in versions.iter_mut().enumerate() {
                v.number = u32::try_from(i + 1).unwrap_or(u32::MAX);
                v.previous = previous;
                previous = Some(v.hash);
            }
            out.put_versions(&url, &versions)?;
        }
    }
    Ok(n)
}
