//! `trawl verify`: walk the store and check every invariant between its trees.
//!
//! Primary data is what a crawl archived: records, sightings, URL states, versions, raw
//! responses and runs. Derived data can be rebuilt from it: the hash index (`hashes`), the
//! search index, and the frontier's bookkeeping. (The near-duplicate band index is built in
//! memory from the stored `prints` by each process that needs it, so there is nothing of it
//! on disk to check beyond the prints themselves.) [`Store::verify`] reports every broken invariant;
//! [`Store::repair_indexes`] rebuilds only the derived data and never deletes archived
//! content, so a problem in primary data stays reported after a repair.
//!
//! Values are read through the store's own decoders (`decode`, [`NearPrint::from_bytes`]),
//! never by hand, so the checks follow the encoding wherever it goes. Memory stays flat: the
//! walk keeps no per-record state, only lookups into the trees and a bounded problem list.

use std::collections::HashSet;

use serde::Serialize;

use super::{decode, frontier, Store, StoreError};
use crate::fingerprint::{Fingerprinter, NearPrint};
use crate::frontier::Entry;
use crate::model::{ContentHash, Outcome, Record, RecordId, Run, Sighting, UrlState, Version};

/// Problems listed in full at most; the rest are counted (a store broken everywhere would
/// otherwise print millions of lines).
pub const MAX_LISTED: usize = 1000;

/// One broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Which check failed (`sighting_record`, `hash_index_missing`, …).
    pub check: &'static str,
    /// Where: a record id, a URL, a content hash, a tree name.
    pub key: String,
    /// What is wrong.
    pub detail: String,
    /// Whether `--repair` fixes it (derived data only).
    pub repairable: bool,
}

/// How much was looked at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// Records.
    pub records: u64,
    /// Sightings.
    pub sightings: u64,
    /// URL states.
    pub urls: u64,
    /// URL version histories.
    pub versions: u64,
    /// Raw responses.
    pub raw: u64,
    /// Hash index entries.
    pub hashes: u64,
    /// Near-duplicate prints.
    pub prints: u64,
    /// Search index documents.
    pub search_docs: u64,
    /// Frontiers (one per unfinished or stale run).
    pub frontiers: u64,
}

/// What [`Store::verify`] found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct VerifyReport {
    /// How much was looked at.
    pub checked: Checked,
    /// Problems found, at most [`MAX_LISTED`].
    pub problems: Vec<Problem>,
    /// Problems found in all (listed or not).
    pub total_problems: u64,
}

impl VerifyReport {
    /// Whether every invariant holds.
    pub fn is_clean(&self) -> bool {
        self.total_problems == 0
    }

    fn push(&mut self, check: &'static str, key: impl Into<String>, detail: impl Into<String>) {
        self.total_problems += 1;
        if self.problems.len() < MAX_LISTED {
            self.problems.push(Problem {
                check,
                key: key.into(),
                detail: detail.into(),
                repairable: REPAIRABLE.contains(&check),
            });
        }
    }
}

/// Checks whose problems live in derived data, which [`Store::repair_indexes`] rebuilds.
const REPAIRABLE: &[&str] = &[
    "hash_index_missing",
    "hash_index_stale",
    "print_orphan",
    "search_unindexed",
    "search_stale",
    "search_doc_mismatch",
    "frontier_finished",
    "frontier_unseen",
    "tally",
];

/// What [`Store::repair_indexes`] changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Hash index entries written (missing or pointing elsewhere).
    pub hashes_written: u64,
    /// Hash index entries removed (no record holds the hash).
    pub hashes_removed: u64,
    /// Prints removed (their hash belongs to no record).
    pub prints_removed: u64,
    /// Records marked for the search index, which was emptied and is rebuilt by the next
    /// `trawl search`.
    pub search_marked: u64,
    /// Frontier trees of finished runs dropped.
    pub frontier_trees_dropped: u64,
    /// Queued or in-flight URLs added to their run's seen set.
    pub seen_marks_added: u64,
    /// Whether the store's totals were recounted (they disagreed with the trees).
    pub tally_recounted: bool,
}

fn hex_key(key: &[u8]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

fn record_id(key: &[u8]) -> Option<RecordId> {
    <[u8; 16]>::try_from(key).ok().map(RecordId)
}

/// The record an outcome names, if any.
fn outcome_record(o: &Outcome) -> Option<RecordId> {
    match o {
        Outcome::New { record } => Some(*record),
        Outcome::Duplicate { of } | Outcome::NearDuplicate { of } => Some(*of),
        _ => None,
    }
}

/// Run id of a frontier tree name (`frontier.<run>.<tree>`).
fn frontier_run(name: &[u8]) -> Option<u64> {
    let name = std::str::from_utf8(name).ok()?;
    name.strip_prefix("frontier.")?
        .split('.')
        .next()?
        .parse()
        .ok()
}

impl Store {
    fn load_record(&self, id: RecordId) -> Result<Option<Result<Record, StoreError>>, StoreError> {
        Ok(self
            .records
            .get(id.0)?
            .map(|v| decode::<Record>("records", &id.0, &v)))
    }

    fn record_holds(&self, id: RecordId, hash: &ContentHash) -> Result<bool, StoreError> {
        Ok(matches!(
            self.load_record(id)?,
            Some(Ok(r)) if r.members.iter().any(|m| m.hash == *hash)
        ))
    }

    /// Checks every invariant; `fp` recomputes content hashes (pass the settings the store
    /// was crawled with: another normalisation gives other hashes). Damaged values are
    /// reported, not returned as errors; only a failing sled read is an error.
    pub fn verify(&self, fp: &Fingerprinter) -> Result<VerifyReport, StoreError> {
        let mut r = VerifyReport::default();
        self.verify_records(fp, &mut r)?;
        self.verify_hash_index(&mut r)?;
        self.verify_sightings(&mut r)?;
        self.verify_urls(&mut r)?;
        self.verify_versions_and_raw(&mut r)?;
        self.verify_near_index(&mut r)?;
        self.verify_search(&mut r)?;
        self.verify_frontiers(&mut r)?;
        self.verify_tally(&mut r)?;
        Ok(r)
    }

    /// The store's totals against its trees.
    fn verify_tally(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        let actual = self.recount();
        match self.stored_tally()? {
            Some(t) if t == actual => {}
            stored => r.push(
                "tally",
                "meta",
                format!(
                    "the store's totals say {} but its trees hold {actual:?}",
                    stored.map_or("nothing".to_string(), |t| format!("{t:?}"))
                ),
            ),
        }
        Ok(())
    }

    fn verify_records(&self, fp: &Fingerprinter, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.records.iter() {
            let (k, v) = kv?;
            r.checked.records += 1;
            let record: Record = match self.read_record(&k, &v) {
                Ok(rec) => rec,
                Err(e) => {
                    r.push("record_decode", hex_key(&k), e.to_string());
                    continue;
                }
            };
            let id = record.id.to_hex();
            if record.id.0[..] != k[..] {
                r.push("record_key", hex_key(&k), format!("holds record {id}"));
            }
            if record.members.is_empty() {
                r.push(
                    "record_members",
                    &id,
                    "no content hash belongs to the record",
                );
                continue;
            }
            let holds = |h: &ContentHash| record.members.iter().any(|m| m.hash == *h);
            match fp.fingerprint(&record.canonical) {
                Some(f) if holds(&f.hash) => {}
                Some(f) => r.push(
                    "canonical_hash",
                    &id,
                    format!(
                        "the canonical body hashes to {}, which is none of the record's {} content hash(es)",
                        f.hash.to_hex(),
                        record.members.len()
                    ),
                ),
                None => r.push("canonical_hash", &id, "the canonical body normalises to nothing"),
            }
            for c in &record.copies {
                if !holds(&c.hash) {
                    r.push(
                        "copy_hash",
                        &id,
                        format!(
                            "copy {} has content hash {}, not one of the record's",
                            c.url,
                            c.hash.to_hex()
                        ),
                    );
                }
            }
            for m in &record.members {
                match self.hashes.get(m.hash.0)? {
                    Some(v) if v[..] == record.id.0[..] => {}
                    Some(v) => r.push(
                        "hash_index_missing",
                        m.hash.to_hex(),
                        format!(
                            "the hash index points to {}, not to record {id}",
                            hex_key(&v)
                        ),
                    ),
                    None => r.push(
                        "hash_index_missing",
                        m.hash.to_hex(),
                        format!("record {id} holds it but the hash index does not"),
                    ),
                }
            }
        }
        Ok(())
    }

    fn verify_hash_index(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.hashes.iter() {
            let (k, v) = kv?;
            r.checked.hashes += 1;
            let (Ok(hash), Some(id)) = (<[u8; 32]>::try_from(&k[..]), record_id(&v)) else {
                r.push("hash_index_stale", hex_key(&k), "malformed entry");
                continue;
            };
            if !self.record_holds(id, &ContentHash(hash))? {
                r.push(
                    "hash_index_stale",
                    hex_key(&k),
                    format!("points to record {}, which does not hold it", id.to_hex()),
                );
            }
        }
        Ok(())
    }

    fn verify_sightings(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.sightings.iter() {
            let (k, v) = kv?;
            r.checked.sightings += 1;
            let s: Sighting = match decode("sightings", &k, &v) {
                Ok(s) => s,
                Err(e) => {
                    r.push("sighting_decode", hex_key(&k), e.to_string());
                    continue;
                }
            };
            if k.get(..16) != Some(&s.record.0[..]) {
                r.push(
                    "sighting_key",
                    hex_key(&k),
                    format!(
                        "filed under another record than its own ({})",
                        s.record.to_hex()
                    ),
                );
            }
            match self.load_record(s.record)? {
                None => r.push(
                    "sighting_record",
                    &s.url,
                    format!(
                        "sighting of {} points to record {}, which does not exist",
                        s.fetched_at.to_rfc3339(),
                        s.record.to_hex()
                    ),
                ),
                Some(Ok(rec)) if !rec.members.iter().any(|m| m.hash == s.hash) => r.push(
                    "sighting_hash",
                    &s.url,
                    format!(
                        "content hash {} is not one of record {}'s",
                        s.hash.to_hex(),
                        s.record.to_hex()
                    ),
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn verify_urls(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.urls.iter() {
            let (k, v) = kv?;
            r.checked.urls += 1;
            let state: UrlState = match decode("urls", &k, &v) {
                Ok(s) => s,
                Err(e) => {
                    r.push("url_decode", String::from_utf8_lossy(&k), e.to_string());
                    continue;
                }
            };
            let named = state
                .record
                .into_iter()
                .chain(outcome_record(&state.outcome));
            let mut reported = HashSet::new();
            for id in named {
                if reported.insert(id) && !self.records.contains_key(id.0)? {
                    r.push(
                        "url_state_record",
                        &state.url,
                        format!(
                            "its state ({}) names record {}, which does not exist",
                            state.outcome,
                            id.to_hex()
                        ),
                    );
                }
            }
        }
        Ok(())
    }

    fn verify_versions_and_raw(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.versions.iter() {
            let (k, v) = kv?;
            r.checked.versions += 1;
            let url = String::from_utf8_lossy(&k).into_owned();
            let history: Vec<Version> = match decode("versions", &k, &v) {
                Ok(h) => h,
                Err(e) => {
                    r.push("version_decode", url, e.to_string());
                    continue;
                }
            };
            for version in &history {
                if !self.records.contains_key(version.record.0)? {
                    r.push(
                        "version_record",
                        &url,
                        format!(
                            "version {} names record {}, which does not exist",
                            version.number,
                            version.record.to_hex()
                        ),
                    );
                }
            }
        }
        // Raw responses: inline (schema 3), or in the blob segments, whose bytes are read
        // back and checked against their checksums.
        let inline = self.raw.iter().map(|kv| kv.map(|(k, _)| (k, None)));
        let in_blobs = self.raw_at.iter().map(|kv| kv.map(|(k, v)| (k, Some(v))));
        for kv in inline.chain(in_blobs) {
            let (k, at) = kv?;
            r.checked.raw += 1;
            if let Some(Err(e)) = at.map(|at| self.blob("raw_at", &k, &at)) {
                r.push("raw_blob", hex_key(&k), e.to_string());
            }
            let exists = match record_id(&k) {
                Some(id) => self.records.contains_key(id.0)?,
                None => false,
            };
            if !exists {
                r.push(
                    "raw_record",
                    hex_key(&k),
                    "a raw response whose record does not exist",
                );
            }
        }
        Ok(())
    }

    /// The record a content hash belongs to, by the hash index.
    fn hash_owner(&self, hash: &[u8]) -> Result<Option<RecordId>, StoreError> {
        Ok(self.hashes.get(hash)?.and_then(|v| record_id(&v)))
    }

    fn verify_near_index(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for kv in self.prints.iter() {
            let (k, v) = kv?;
            r.checked.prints += 1;
            if let Err(e) = NearPrint::from_bytes(&v) {
                r.push("print_decode", hex_key(&k), e.to_string());
                continue;
            }
            if self.hash_owner(&k)?.is_none() {
                r.push(
                    "print_orphan",
                    hex_key(&k),
                    "a print whose content hash belongs to no record",
                );
            }
        }
        Ok(())
    }

    fn verify_search(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        let search = &self.search;
        for kv in search.ids.iter() {
            let (k, v) = kv?;
            r.checked.search_docs += 1;
            let back = search.docs.get(&v)?;
            if back.as_deref() != Some(&k[..]) {
                r.push(
                    "search_doc_mismatch",
                    hex_key(&k),
                    "its document number maps back to another record",
                );
            }
            if !self.records.contains_key(&k)? {
                r.push(
                    "search_stale",
                    hex_key(&k),
                    "indexed, but the record does not exist",
                );
            }
        }
        for kv in search.docs.iter() {
            let (k, v) = kv?;
            if search.ids.get(&v)?.as_deref() != Some(&k[..]) {
                r.push(
                    "search_doc_mismatch",
                    hex_key(&v),
                    format!("document {} is not the record's number", hex_key(&k)),
                );
            }
        }
        for k in search.pending.iter().keys() {
            let k = k?;
            if !self.records.contains_key(&k)? {
                r.push(
                    "search_stale",
                    hex_key(&k),
                    "pending for the index, but the record does not exist",
                );
            }
        }
        for k in self.records.iter().keys() {
            let k = k?;
            if !search.ids.contains_key(&k)? && !search.pending.contains_key(&k)? {
                r.push(
                    "search_unindexed",
                    hex_key(&k),
                    "neither indexed nor pending: search cannot find it",
                );
            }
        }
        Ok(())
    }

    /// Runs by id, for the frontier checks.
    fn run_finished(&self, run: u64) -> Result<Option<bool>, StoreError> {
        Ok(match self.runs.get(run.to_be_bytes())? {
            Some(v) => Some(
                decode::<Run>("runs", &run.to_be_bytes(), &v)?
                    .finished
                    .is_some(),
            ),
            None => None,
        })
    }

    fn frontier_runs(&self) -> Vec<u64> {
        let mut runs: Vec<u64> = self
            .db
            .tree_names()
            .iter()
            .filter_map(|n| frontier_run(n))
            .collect();
        runs.sort_unstable();
        runs.dedup();
        runs
    }

    fn verify_frontiers(&self, r: &mut VerifyReport) -> Result<(), StoreError> {
        for run in self.frontier_runs() {
            r.checked.frontiers += 1;
            let [seen, queue, inflight] = frontier::tree_names(crate::model::RunId(run));
            let key = format!("run {run}");
            match self.run_finished(run) {
                Ok(Some(false)) => {}
                Ok(Some(true)) => {
                    r.push(
                        "frontier_finished",
                        key,
                        "the run finished but its frontier was kept",
                    );
                    continue;
                }
                Ok(None) => {
                    r.push(
                        "frontier_finished",
                        key,
                        "a frontier for a run that does not exist",
                    );
                    continue;
                }
                Err(e) => {
                    r.push("run_decode", key, e.to_string());
                    continue;
                }
            }
            let (seen, queue, inflight) = (
                self.db.open_tree(seen)?,
                self.db.open_tree(queue)?,
                self.db.open_tree(inflight)?,
            );
            let mut waiting = HashSet::new();
            for (tree, what) in [(&queue, "queued"), (&inflight, "in flight")] {
                for kv in tree.iter() {
                    let (k, v) = kv?;
                    let entry: Entry = match decode("frontier", &k, &v) {
                        Ok(e) => e,
                        Err(e) => {
                            r.push("frontier_decode", format!("run {run}"), e.to_string());
                            continue;
                        }
                    };
                    if !seen.contains_key(entry.url.as_str())? {
                        r.push(
                            "frontier_unseen",
                            entry.url.as_str(),
                            format!("{what} in run {run} but not in its seen set (it could be queued twice)"),
                        );
                    }
                    waiting.insert(entry.url.to_string());
                }
            }
            for k in seen.iter().keys() {
                let k = k?;
                let url = String::from_utf8_lossy(&k);
                if !waiting.contains(url.as_ref()) && !self.urls.contains_key(&k)? {
                    r.push(
                        "frontier_state",
                        url,
                        format!("seen by run {run}, not waiting, and without a recorded outcome"),
                    );
                }
            }
        }
        Ok(())
    }

    /// Rebuilds the derived data from the primary data: the hash index from the records'
    /// content hashes, the band index from the stored prints, the search index (emptied and
    /// every record marked, so the next `trawl search` rebuilds it), and the frontier
    /// bookkeeping (finished runs' frontiers dropped, queued URLs marked seen). Records,
    /// sightings, URL states, versions, raw responses and runs are never written or deleted.
    pub fn repair_indexes(&self) -> Result<RepairReport, StoreError> {
        let mut out = RepairReport::default();
        // Hash index: what the records hold, nothing else.
        for kv in self.records.iter() {
            let (k, v) = kv?;
            let Ok(record) = decode::<Record>("records", &k, &v) else {
                continue;
            };
            for m in &record.members {
                if self.hashes.get(m.hash.0)?.as_deref() != Some(&record.id.0[..]) {
                    self.hashes.insert(m.hash.0, &record.id.0)?;
                    out.hashes_written += 1;
                }
            }
        }
        for kv in self.hashes.iter() {
            let (k, v) = kv?;
            let keep = match (<[u8; 32]>::try_from(&k[..]), record_id(&v)) {
                (Ok(hash), Some(id)) => self.record_holds(id, &ContentHash(hash))?,
                _ => false,
            };
            if !keep {
                self.hashes.remove(&k)?;
                out.hashes_removed += 1;
            }
        }
        // Prints of hashes that belong to no record: derived from nothing, dropped. The band
        // index is rebuilt from the prints when this process (or the next) needs it.
        for kv in self.prints.iter() {
            let (k, _) = kv?;
            if self.hash_owner(&k)?.is_none() {
                self.prints.remove(&k)?;
                out.prints_removed += 1;
            }
        }
        *self
            .near
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        // Search index: emptied and rebuilt lazily by the next search, like a first index.
        self.search.ids.clear()?;
        self.search.docs.clear()?;
        self.search.postings.clear()?;
        self.search.pending.clear()?;
        out.search_marked = self.mark_all_for_search()?;
        // Frontiers.
        for run in self.frontier_runs() {
            if self.run_finished(run).ok().flatten() != Some(false) {
                for name in frontier::tree_names(crate::model::RunId(run)) {
                    if self.db.drop_tree(name)? {
                        out.frontier_trees_dropped += 1;
                    }
                }
                continue;
            }
            let [seen, queue, inflight] = frontier::tree_names(crate::model::RunId(run));
            let seen = self.db.open_tree(seen)?;
            for tree in [self.db.open_tree(queue)?, self.db.open_tree(inflight)?] {
                for kv in tree.iter() {
                    let (k, v) = kv?;
                    if let Ok(entry) = decode::<Entry>("frontier", &k, &v) {
                        if seen.insert(entry.url.as_str(), &[])?.is_none() {
                            out.seen_marks_added += 1;
                        }
                    }
                }
            }
        }
        // Totals.
        let actual = self.recount();
        if self.stored_tally()? != Some(actual) {
            self.put_tally(actual)?;
            out.tally_recounted = true;
        }
        self.db.flush()?;
        Ok(out)
    }
}

/// A band entry's value: the record id, then the simhash (big-endian), as ingest writes it.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frontier_tree_names_name_their_run() {
        for name in frontier::tree_names(crate::model::RunId(42)) {
            assert_eq!(frontier_run(name.as_bytes()), Some(42));
        }
        assert_eq!(frontier_run(b"records"), None);
        assert_eq!(frontier_run(b"frontier.x.seen"), None);
    }

    fn fingerprinter() -> Fingerprinter {
        crate::config::Settings::load(None, &Default::default())
            .unwrap()
            .fingerprinter
    }

    fn entry(url: &str) -> Entry {
        Entry {
            url: url::Url::parse(url).unwrap(),
            depth: 0,
            placement: crate::scope::Placement {
                site: 0,
                kind: crate::scope::PageKind::Listing,
            },
            attempt: 0,
            modified: None,
            carried: None,
        }
    }

    #[test]
    fn frontiers_agree_with_runs_and_url_states() {
        use crate::frontier::Frontier;
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let fp = fingerprinter();
        let (run, _) = store.begin_run(false).unwrap();
        let mut f = store.frontier(run.id).unwrap();
        f.push(entry("http://a.test/1")).unwrap();
        f.push(entry("http://a.test/2")).unwrap();
        assert!(store.verify(&fp).unwrap().is_clean());
        // Taken and done without an outcome: a URL the run lost.
        let taken = f.pop_ready(&mut |_| true).unwrap().unwrap();
        f.done(&taken.url).unwrap();
        // A queued URL missing from the seen set.
        let [seen, _, _] = frontier::tree_names(run.id);
        store
            .db
            .open_tree(seen)
            .unwrap()
            .remove("http://a.test/2")
            .unwrap();
        let report = store.verify(&fp).unwrap();
        let checks: Vec<&str> = report.problems.iter().map(|p| p.check).collect();
        assert_eq!(
            checks,
            vec!["frontier_unseen", "frontier_state"],
            "{report:?}"
        );
        let repaired = store.repair_indexes().unwrap();
        assert_eq!(repaired.seen_marks_added, 1);
        let report = store.verify(&fp).unwrap();
        let checks: Vec<&str> = report.problems.iter().map(|p| p.check).collect();
        assert_eq!(checks, vec!["frontier_state"], "{report:?}");
        assert!(!report.problems[0].repairable);
        // A finished run whose frontier was kept.
        let mut done = run.clone();
        done.finished = Some(chrono::Utc::now());
        store.put_run(&done).unwrap();
        let report = store.verify(&fp).unwrap();
        assert_eq!(report.problems[0].check, "frontier_finished");
        assert_eq!(store.repair_indexes().unwrap().frontier_trees_dropped, 3);
        assert!(store.verify(&fp).unwrap().is_clean());
    }

    #[test]
    fn problems_beyond_the_cap_are_counted() {
        let mut r = VerifyReport::default();
        for i in 0..MAX_LISTED + 5 {
            r.push("print_orphan", i.to_string(), "x");
        }
        assert_eq!(r.problems.len(), MAX_LISTED);
        assert_eq!(r.total_problems, (MAX_LISTED + 5) as u64);
        assert!(r.problems[0].repairable);
        assert!(!r.is_clean());
    }
}
