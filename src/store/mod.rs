//! Stage 6, store: the archive on disk, in sled. Only this module touches sled.
//!
//! Trees (DESIGN.md §2): `meta` (schema version), `records` (record id → [`Record`]),
//! `hashes` (content hash → record id), `sightings` (record id ‖ run ‖ seq → [`Sighting`]),
//! `urls` (normalised URL → [`UrlState`]) and `runs` (run id → [`Run`]). Values are JSON.
//! Near-duplicate detection adds `prints` (content hash → [`NearPrint`], binary), `bands`
//! (band key ‖ content hash → record id ‖ simhash: the banded candidate index) and `versions`
//! (normalised URL → every [`Version`] of the text it served, JSON).
//!
//! A record, its hash index entry, its fingerprint and band entries, the sighting, the URL's
//! versions and the URL state are written in one sled transaction, so a crash never leaves an
//! index pointing at nothing. Durability points are
//! explicit ([`Store::flush`]); anything unflushed at a crash counts as not done.

use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use thiserror::Error;

use crate::dedup::{NearCandidate, NearMatch};
use crate::fingerprint::NearPrint;
use crate::model::{
    ContentHash, Outcome, Record, RecordId, Run, RunId, Sighting, UrlState, Version,
};

/// Schema version this build writes and understands. 2: near-duplicate trees (`prints`,
/// `bands`, `versions`) and the cluster fields of records (members' join kind, copies'
/// completeness, the canonical change log).
pub const SCHEMA_VERSION: u32 = 2;
/// Entries read per band key at most: a bucket that grows this large holds generic text
/// (every record shares it), and reading it whole would make lookups grow with the store.
const MAX_PER_BAND: usize = 64;
const SCHEMA_KEY: &[u8] = b"schema_version";
const NEXT_RUN_KEY: &[u8] = b"next_run";

/// What can go wrong with the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The directory could not be created.
    #[error("cannot create store directory {path}: {source}")]
    Create {
        /// Store path.
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// sled refused to open it (permissions, a lock held by another process, corruption).
    #[error("cannot open store {path}: {source}")]
    Open {
        /// Store path.
        path: PathBuf,
        /// sled's error.
        source: sled::Error,
    },
    /// A query was asked of a store that does not exist.
    #[error("no store at {path} (run `trawl crawl` or `trawl demo` first, or pass --store DIR)")]
    Missing {
        /// Store path.
        path: PathBuf,
    },
    /// Written by a newer trawl.
    #[error("store {path} has schema version {found}, but this trawl understands up to {supported}; upgrade trawl")]
    NewerSchema {
        /// Store path.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Version supported.
        supported: u32,
    },
    /// The schema marker is unreadable: not a trawl store, or damaged.
    #[error(
        "store {path} has an unreadable schema version ({detail}); it was not written by trawl"
    )]
    BadSchema {
        /// Store path.
        path: PathBuf,
        /// What was found.
        detail: String,
    },
    /// A stored value does not decode.
    #[error("corrupt {tree} entry {key}: {detail}")]
    Corrupt {
        /// Tree name.
        tree: &'static str,
        /// Key, printable.
        key: String,
        /// Decoder message.
        detail: String,
    },
    /// Any other sled failure.
    #[error("store I/O: {0}")]
    Sled(#[from] sled::Error),
}

/// Everything a crawl writes when a post enters the archive.
#[derive(Clone, Debug)]
pub struct Ingest {
    /// Content hash of the post.
    pub hash: ContentHash,
    /// The sighting; its `record` field is filled in by the store.
    pub sighting: Sighting,
    /// The URL state; its outcome is filled in by the store.
    pub url_state: UrlState,
    /// Near-duplicate fingerprint of the post (`None` for short bodies): stored and indexed
    /// when the hash is new.
    pub near: Option<NearPrint>,
    /// Characters in the normalised body (for the URL's version history).
    pub chars: usize,
}

/// Counts kept by sled itself (cheap).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Counts {
    /// Canonical records.
    pub records: u64,
    /// Sightings.
    pub sightings: u64,
    /// URLs with a state.
    pub urls: u64,
    /// Runs.
    pub runs: u64,
}

/// An open archive.
#[derive(Clone)]
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    records: sled::Tree,
    hashes: sled::Tree,
    sightings: sled::Tree,
    urls: sled::Tree,
    runs: sled::Tree,
    prints: sled::Tree,
    bands: sled::Tree,
    versions: sled::Tree,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens the store at `path`, creating it if needed (for crawls).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|source| StoreError::Create {
            path: path.to_path_buf(),
            source,
        })?;
        Self::open_dir(path)
    }

    /// Opens an existing store (for queries): a missing store is an error, not an empty one.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.join("db").exists() && !path.join("conf").exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_dir(path)
    }

    fn open_dir(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(64 * 1024 * 1024)
            .open()
            .map_err(open_err)?;
        let tree = |name: &str| db.open_tree(name).map_err(open_err);
        let store = Store {
            path: path.to_path_buf(),
            meta: tree("meta")?,
            records: tree("records")?,
            hashes: tree("hashes")?,
            sightings: tree("sightings")?,
            urls: tree("urls")?,
            runs: tree("runs")?,
            prints: tree("prints")?,
            bands: tree("bands")?,
            versions: tree("versions")?,
            db,
        };
        store.check_schema()?;
        Ok(store)
    }

    fn check_schema(&self) -> Result<(), StoreError> {
        match self.meta.get(SCHEMA_KEY)? {
            None => {
                if !self.records.is_empty() || !self.urls.is_empty() {
                    return Err(StoreError::BadSchema {
                        path: self.path.clone(),
                        detail: "data present but no schema marker".into(),
                    });
                }
                self.meta
                    .insert(SCHEMA_KEY, SCHEMA_VERSION.to_string().as_bytes())?;
                self.db.flush()?;
                Ok(())
            }
            Some(v) => {
                let found: u32 = std::str::from_utf8(&v)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| StoreError::BadSchema {
                        path: self.path.clone(),
                        detail: format!("{:?}", String::from_utf8_lossy(&v)),
                    })?;
                if found > SCHEMA_VERSION {
                    return Err(StoreError::NewerSchema {
                        path: self.path.clone(),
                        found,
                        supported: SCHEMA_VERSION,
                    });
                }
                Ok(())
            }
        }
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a run: allocates its id and records its start.
    pub fn begin_run(&self) -> Result<Run, StoreError> {
        let next = self.meta.update_and_fetch(NEXT_RUN_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(1, u64::from_be_bytes);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let id = next
            .and_then(|b| <[u8; 8]>::try_from(&b[..]).ok())
            .map_or(1, |b| u64::from_be_bytes(b) - 1);
        let run = Run {
            id: RunId(id),
            started: Utc::now(),
            finished: None,
            outcomes: Default::default(),
        };
        self.put_run(&run)?;
        Ok(run)
    }

    /// Writes a run's current state (at its end, with counts).
    pub fn put_run(&self, run: &Run) -> Result<(), StoreError> {
        self.runs.insert(run.id.0.to_be_bytes(), encode(run))?;
        Ok(())
    }

    /// All runs, oldest first.
    pub fn runs(&self) -> impl Iterator<Item = Result<Run, StoreError>> + '_ {
        self.runs.iter().map(|kv| {
            let (k, v) = kv?;
            decode("runs", &k, &v)
        })
    }

    /// Archives one post. If its hash is new, `find_near` is given the URL's previous version
    /// (if any) and the candidates the band index yields for its near-duplicate fingerprint,
    /// and picks the record it joins, if any; then `decide`
    /// is given the record holding the hash (or the near match's record) and says what the
    /// record becomes and what the URL's outcome is. The record, the hash index, the
    /// fingerprint and its band entries, the sighting, the URL's versions and the URL state are
    /// written atomically. Reading candidates before the transaction is safe because a single
    /// writer ingests.
    pub fn ingest<M, F>(
        &self,
        ingest: &Ingest,
        find_near: M,
        decide: F,
    ) -> Result<(Record, Outcome), StoreError>
    where
        M: FnOnce(Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        self.ingest_with(ingest, u32::MAX, find_near, decide)
    }

    /// [`Store::ingest`] reading only candidates within `max_distance` (simhash Hamming
    /// distance) of the post: pass the near-duplicate policy's bound so that far candidates
    /// cost no fingerprint read.
    pub fn ingest_with<M, F>(
        &self,
        ingest: &Ingest,
        max_distance: u32,
        find_near: M,
        decide: F,
    ) -> Result<(Record, Outcome), StoreError>
    where
        M: FnOnce(Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        let near = if self.hashes.contains_key(ingest.hash.0)? {
            None
        } else {
            let previous = self.versions(&ingest.sighting.url)?.pop();
            let found = match &ingest.near {
                Some(print) => self.near_candidates(print, max_distance)?,
                None => Vec::new(),
            };
            find_near(previous.as_ref(), &found)
        };
        let seq = self.db.generate_id()?;
        let trees = (
            &self.records,
            &self.hashes,
            &self.sightings,
            &self.urls,
            &self.prints,
            &self.bands,
            &self.versions,
        );
        let result = trees.transaction(
            |(records, hashes, sightings, urls, prints, bands, versions)| {
                let abort = ConflictableTransactionError::Abort;
                let known = hashes.get(ingest.hash.0)?;
                let load = |id: &[u8]| -> Result<
                        Option<Record>,
                        ConflictableTransactionError<StoreError>,
                    > {
                        match records.get(id)? {
                            Some(v) => {
                                Ok(Some(decode::<Record>("records", id, &v).map_err(abort)?))
                            }
                            None => Ok(None),
                        }
                    };
                let (existing, near) = match (&known, &near) {
                    (Some(id), _) => (load(id)?, None),
                    (None, Some(m)) => (load(&m.record.0)?, Some(m)),
                    (None, None) => (None, None),
                };
                // A near match whose record vanished cannot be joined: start a new record.
                let near = near.filter(|_| existing.is_some());
                let (record, outcome) = decide(existing, near);
                records.insert(&record.id.0, encode(&record))?;
                hashes.insert(&ingest.hash.0, &record.id.0)?;
                if let (None, Some(print)) = (&known, &ingest.near) {
                    prints.insert(&ingest.hash.0, print.to_bytes())?;
                    let mut entry = record.id.0.to_vec();
                    entry.extend_from_slice(&print.simhash.to_be_bytes());
                    for mut key in print.band_keys() {
                        key.extend_from_slice(&ingest.hash.0);
                        bands.insert(key, entry.as_slice())?;
                    }
                }
                let mut sighting = ingest.sighting.clone();
                sighting.record = record.id;
                let mut key = Vec::with_capacity(32);
                key.extend_from_slice(&record.id.0);
                key.extend_from_slice(&sighting.run.0.to_be_bytes());
                key.extend_from_slice(&seq.to_be_bytes());
                sightings.insert(key, encode(&sighting))?;
                // The URL's history: a changed body is a new version linked to the last one.
                let url = sighting.url.as_bytes();
                let mut history: Vec<Version> = match versions.get(url)? {
                    Some(v) => decode("versions", url, &v).map_err(abort)?,
                    None => Vec::new(),
                };
                let last = history.last().map(|v| v.hash);
                if last != Some(ingest.hash) {
                    history.push(Version {
                        number: u32::try_from(history.len() + 1).unwrap_or(u32::MAX),
                        hash: ingest.hash,
                        previous: last,
                        record: record.id,
                        seen: sighting.fetched_at,
                        run: sighting.run,
                        chars: ingest.chars,
                        title: sighting.title.clone(),
                    });
                    versions.insert(url, encode(&history))?;
                }
                let mut state = ingest.url_state.clone();
                state.outcome = outcome.clone();
                urls.insert(state.url.as_bytes(), encode(&state))?;
                Ok((record, outcome))
            },
        );
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        })
    }

    /// Stored content hashes that share at least one band key with `print` and whose simhash
    /// is within `max_distance` of it, with their records and fingerprints: the candidates a
    /// near-duplicate check looks at. Band entries carry the simhash, so far candidates are
    /// dropped without reading their fingerprint; at most a bounded number of entries is read
    /// per band, so a bucket of generic text cannot make lookups grow with the store.
    pub fn near_candidates(
        &self,
        print: &NearPrint,
        max_distance: u32,
    ) -> Result<Vec<NearCandidate>, StoreError> {
        let mut seen: Vec<[u8; 32]> = Vec::new();
        let mut out = Vec::new();
        for key in print.band_keys() {
            for kv in self.bands.scan_prefix(&key).take(MAX_PER_BAND) {
                let (k, v) = kv?;
                let (Ok(hash), Some(Ok(record)), Some(Ok(simhash))) = (
                    <[u8; 32]>::try_from(&k[key.len()..]),
                    v.get(..16).map(<[u8; 16]>::try_from),
                    v.get(16..24).map(<[u8; 8]>::try_from),
                ) else {
                    continue;
                };
                if seen.contains(&hash) {
                    continue;
                }
                seen.push(hash);
                if (u64::from_be_bytes(simhash) ^ print.simhash).count_ones() > max_distance {
                    continue;
                }
                if let Some(p) = self.near_print(&ContentHash(hash))? {
                    out.push(NearCandidate {
                        hash: ContentHash(hash),
                        record: RecordId(record),
                        print: p,
                    });
                }
            }
        }
        Ok(out)
    }

    /// The stored near-duplicate fingerprint of a content hash.
    pub fn near_print(&self, hash: &ContentHash) -> Result<Option<NearPrint>, StoreError> {
        self.prints
            .get(hash.0)?
            .map(|v| {
                NearPrint::from_bytes(&v).map_err(|e| StoreError::Corrupt {
                    tree: "prints",
                    key: hash.to_hex(),
                    detail: e.to_string(),
                })
            })
            .transpose()
    }

    /// Every version of the text a normalised URL served, oldest first (empty if none).
    pub fn versions(&self, url: &str) -> Result<Vec<Version>, StoreError> {
        Ok(self
            .versions
            .get(url.as_bytes())?
            .map(|v| decode("versions", url.as_bytes(), &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Records what happened to a URL that produced no post (hub, skipped, failed).
    pub fn put_url_state(&self, state: &UrlState) -> Result<(), StoreError> {
        self.urls.insert(state.url.as_bytes(), encode(state))?;
        Ok(())
    }

    /// The state of one normalised URL.
    pub fn url_state(&self, url: &str) -> Result<Option<UrlState>, StoreError> {
        self.urls
            .get(url.as_bytes())?
            .map(|v| decode("urls", url.as_bytes(), &v))
            .transpose()
    }

    /// Every URL state, in URL order.
    pub fn url_states(&self) -> impl Iterator<Item = Result<UrlState, StoreError>> + '_ {
        self.urls.iter().map(|kv| {
            let (k, v) = kv?;
            decode("urls", &k, &v)
        })
    }

    /// One record.
    pub fn record(&self, id: RecordId) -> Result<Option<Record>, StoreError> {
        self.records
            .get(id.0)?
            .map(|v| decode("records", &id.0, &v))
            .transpose()
    }

    /// Record ids starting with a hex prefix (so users can type a short id).
    pub fn record_ids_with_prefix(&self, hex_prefix: &str) -> Result<Vec<RecordId>, StoreError> {
        let lower = hex_prefix.to_ascii_lowercase();
        // Scan from the first full byte of the prefix; odd-length prefixes filter the rest.
        let whole = &lower[..lower.len() - lower.len() % 2];
        let start = RecordId::parse_hex(&format!("{whole:0<32}")).map(|r| r.0.to_vec());
        let Some(start) = start else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for kv in self.records.range(start..) {
            let (k, _) = kv?;
            let Ok(arr) = <[u8; 16]>::try_from(&k[..]) else {
                continue;
            };
            let id = RecordId(arr);
            if !id.to_hex().starts_with(&lower) {
                if id.to_hex()[..whole.len()] > *whole {
                    break;
                }
                continue;
            }
            out.push(id);
        }
        Ok(out)
    }

    /// Every record, in id order.
    pub fn records(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        self.records.iter().map(|kv| {
            let (k, v) = kv?;
            decode("records", &k, &v)
        })
    }

    /// A record's sightings, oldest run first.
    pub fn sightings(&self, id: RecordId) -> Result<Vec<Sighting>, StoreError> {
        self.sightings
            .scan_prefix(id.0)
            .map(|kv| {
                let (k, v) = kv?;
                decode("sightings", &k, &v)
            })
            .collect()
    }

    /// Every sighting, grouped by record.
    pub fn all_sightings(&self) -> impl Iterator<Item = Result<Sighting, StoreError>> + '_ {
        self.sightings.iter().map(|kv| {
            let (k, v) = kv?;
            decode("sightings", &k, &v)
        })
    }

    /// Cheap counts.
    pub fn counts(&self) -> Counts {
        Counts {
            records: self.records.len() as u64,
            sightings: self.sightings.len() as u64,
            urls: self.urls.len() as u64,
            runs: self.runs.len() as u64,
        }
    }

    /// Makes everything written so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes sled uses on disk.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }

    #[cfg(test)]
    fn force_schema(&self, v: &str) {
        self.meta.insert(SCHEMA_KEY, v.as_bytes()).unwrap();
        self.db.flush().unwrap();
    }
}

fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising plain data structs with string keys cannot fail.
    serde_json::to_vec(v).expect("model types serialise to JSON")
}

fn decode<T: DeserializeOwned>(tree: &'static str, key: &[u8], v: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(v).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8(key.to_vec()).unwrap_or_else(|_| format!("{key:02x?}")),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::{admit, best_match, Candidate, CanonicalPolicy, NearPolicy};
    use crate::model::Post;

    fn candidate(url: &str, host: &str, hash: u8) -> Candidate {
        Candidate {
            post: Post {
                url: url.into(),
                title: "t".into(),
                published: None,
                source: None,
                author: None,
                body: vec!["b".into()],
                language: None,
                extractor: "x".into(),
            },
            url: url.into(),
            host: host.into(),
            hash: ContentHash([hash; 32]),
            seen: Utc::now(),
            chars: 1,
            near: None,
        }
    }

    fn best_near_of(c: &Candidate, cands: &[NearCandidate]) -> Option<NearMatch> {
        best_match(c, None, cands, &NearPolicy::default())
    }

    fn ingest_of(c: &Candidate, run: RunId) -> Ingest {
        Ingest {
            hash: c.hash,
            sighting: Sighting {
                record: RecordId([0; 16]),
                url: c.url.clone(),
                host: c.host.clone(),
                fetched_at: c.seen,
                status: 200,
                hash: c.hash,
                extractor: "x".into(),
                title: "t".into(),
                run,
                charset: "UTF-8 (header)".into(),
            },
            url_state: UrlState {
                url: c.url.clone(),
                last_fetch: c.seen,
                outcome: Outcome::Hub,
                run,
                status: Some(200),
            },
            near: c.near.clone(),
            chars: c.chars,
        }
    }

    #[test]
    fn ingest_dedups_and_keeps_every_sighting() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let run = store.begin_run().unwrap();
        let p = CanonicalPolicy::default();
        let a = candidate("http://a.test/1", "a.test", 1);
        let b = candidate("http://b.test/9", "b.test", 1);
        let c = candidate("http://a.test/2", "a.test", 2);
        let (r1, o1) = store
            .ingest(
                &ingest_of(&a, run.id),
                |_, found| best_near_of(&a, found),
                |e, n| admit(e, n, &a, &p),
            )
            .unwrap();
        let (r2, o2) = store
            .ingest(
                &ingest_of(&b, run.id),
                |_, found| best_near_of(&b, found),
                |e, n| admit(e, n, &b, &p),
            )
            .unwrap();
        let (r3, _) = store
            .ingest(
                &ingest_of(&c, run.id),
                |_, found| best_near_of(&c, found),
                |e, n| admit(e, n, &c, &p),
            )
            .unwrap();
        assert!(matches!(o1, Outcome::New { .. }));
        assert_eq!(o2, Outcome::Duplicate { of: r1.id });
        assert_eq!(r1.id, r2.id);
        assert_ne!(r1.id, r3.id);
        let counts = store.counts();
        assert_eq!((counts.records, counts.sightings, counts.urls), (2, 3, 3));
        let s = store.sightings(r1.id).unwrap();
        assert_eq!(s.len(), 2);
        assert!(s.iter().all(|s| s.record == r1.id));
        assert_eq!(
            store.url_state("http://b.test/9").unwrap().unwrap().outcome,
            Outcome::Duplicate { of: r1.id }
        );
        let prefix = &r1.id.to_hex()[..7];
        assert_eq!(store.record_ids_with_prefix(prefix).unwrap(), vec![r1.id]);
        assert_eq!(store.record_ids_with_prefix("").unwrap().len(), 2);
    }

    #[test]
    fn runs_get_increasing_ids_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.begin_run().unwrap().id, RunId(1));
            assert_eq!(store.begin_run().unwrap().id, RunId(2));
            store.flush().unwrap();
        }
        let store = Store::open_existing(dir.path()).unwrap();
        assert_eq!(store.begin_run().unwrap().id, RunId(3));
        assert_eq!(store.runs().count(), 3);
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap().force_schema("99");
        let err = Store::open(dir.path()).unwrap_err();
        assert!(
            matches!(err, StoreError::NewerSchema { found: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade trawl"));
    }

    #[test]
    fn unreadable_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap().force_schema("banana");
        assert!(matches!(
            Store::open(dir.path()),
            Err(StoreError::BadSchema { .. })
        ));
    }

    #[test]
    fn missing_store_is_an_error_for_queries() {
        let dir = tempfile::tempdir().unwrap();
        let err = Store::open_existing(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, StoreError::Missing { .. }));
    }
}
