//! Stage 6, store: the archive on disk, in sled. Only this module touches sled.
//!
//! Trees (DESIGN.md §2): `meta` (schema version), `records` (record id → [`Record`] without
//! its canonical body), `body_at` (record id → where the canonical body's paragraphs are in
//! the blob segments, rewritten only when the canonical text changes),
//! `hashes` (content hash → record id), `sightings` (record id ‖ run ‖ seq → [`Sighting`]),
//! `urls` (normalised URL → [`UrlState`]), `runs` (run id → [`Run`]) and `raw_at` (record id
//! → where the canonical copy's [`RawResponse`] ([`raw`]: Snappy, formerly deflated JSON) is in the blob
//! segments, for WARC export). Bodies and raw responses themselves live in append-only
//! segment files beside sled ([`blobs`]); stores written before schema 4 keep theirs inline
//! in `bodies` and `raw`, which are still read. Other values are JSON. The search index has its own trees (see [`search`]). Near-duplicate
//! detection adds `prints` (content hash → [`NearPrint`], binary; the banded candidate index
//! is built from it in memory, see [`near`]) and `versions` (normalised URL → every
//! [`Version`] of the text it served, JSON).
//!
//! A record, its hash index entry, the sighting and the URL state are written in one sled
//! transaction, so a crash never leaves an index pointing at nothing. Durability points are
//! explicit ([`Store::flush`]); anything unflushed at a crash counts as not done.

mod blobs;
pub mod frontier;
mod near;
mod raw;
mod tally;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::Utc;
use serde::{de::DeserializeOwned, Serialize};
use sled::transaction::{
    ConflictableTransactionError, TransactionError, Transactional, TransactionalTree,
};
use thiserror::Error;

use crate::dedup::{NearCandidate, NearMatch};
use crate::fingerprint::NearPrint;
use crate::model::{
    ContentHash, Outcome, RawResponse, Record, RecordId, Run, RunId, Sighting, UrlState, Version,
};
use tally::{Tally, TALLY_KEY};

pub mod search;
mod verify;

pub use blobs::{BlobError, BlobRef};
pub use verify::{Checked, Problem, RepairReport, VerifyReport};

/// Schema version this build writes and understands.
///
/// 3 moved canonical bodies out of `records` into `bodies`; 4 moved bodies and raw responses
/// out of sled into blob segments (`body_at`, `raw_at`). Older stores are read as they are
/// (inline bodies in records, or in `bodies` and `raw`) and marked 4 when opened, so that an
/// older trawl, which would not look in the segments, refuses them.
pub const SCHEMA_VERSION: u32 = 4;
/// Texts looked at per band key at most (the newest): a bucket that grows this large holds
/// generic or templated text, and walking it whole would make lookups grow with the store.
/// A real copy shares several bands with its original (two on average at Jaccard 0.5, eight
/// at 0.7), so it is found through one of them; `cargo bench --bench neardup` finds the same
/// 990 of 1,000 trimmed copies at 100,000 records with 16 as with 64, and its lookups for
/// texts with no copy cost 19 µs instead of 30.
const MAX_PER_BAND: usize = 16;
const SCHEMA_KEY: &[u8] = b"schema_version";
const NEXT_RUN_KEY: &[u8] = b"next_run";
/// Directory in the store holding the blob segments.
const BLOB_DIR: &str = "blobs";
/// File in the store directory naming the process that has it open.
const HOLDER_FILE: &str = "holder";

/// What can go wrong with the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The directory could not be created.
    #[error("cannot create store directory {path}: {cause}")]
    Create {
        /// Store path.
        path: PathBuf,
        /// OS error.
        cause: std::io::Error,
    },
    /// sled refused to open it (permissions, corruption).
    #[error("cannot open store {path}: {cause}")]
    Open {
        /// Store path.
        path: PathBuf,
        /// sled's error.
        cause: sled::Error,
    },
    /// Another process has the store open (sled allows one process at a time).
    #[error("store {path} is in use by another trawl process ({holder}); wait for it to finish, stop it, or use another --store")]
    Locked {
        /// Store path.
        path: PathBuf,
        /// Who holds it, as that process recorded it.
        holder: String,
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
    /// A blob segment could not be read or written, or holds other bytes than were written.
    #[error(transparent)]
    Blob(#[from] blobs::BlobError),
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
    /// The near-duplicate index's scratch files could not be created, read or written.
    #[error("near-duplicate index scratch files in {path}: {cause} (they need free space beside the store)")]
    NearIndex {
        /// Store path (the files live in it, unnamed).
        path: PathBuf,
        /// OS error.
        cause: std::io::Error,
    },
}

/// A failed transaction is the error it aborted with, or sled's own.
impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> StoreError {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => StoreError::Sled(e),
        }
    }
}

/// What a near-duplicate candidate must satisfy for the store to read its fingerprint: the
/// near-duplicate policy's bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NearBounds {
    /// Largest simhash Hamming distance.
    pub max_distance: u32,
    /// Smallest estimated shingle Jaccard similarity.
    pub min_jaccard: f64,
}

impl NearBounds {
    /// No bound: every text that shares a band key is a candidate.
    pub const ANY: NearBounds = NearBounds {
        max_distance: 64,
        min_jaccard: 0.0,
    };
}

/// Everything a crawl writes when a post enters the archive.
#[derive(Clone, Debug)]
pub struct Ingest {
    /// Content hash of the post.
    pub hash: ContentHash,
    /// The sighting; its `record` field is filled in by the store.
    pub sighting: Sighting,
    /// The URL state; its outcome and record are filled in by the store.
    pub url_state: UrlState,
    /// The response the post came from; kept when this copy is (or becomes) canonical.
    pub raw: Option<RawResponse>,
    /// Near-duplicate fingerprint of the post (`None` for short bodies): stored and indexed
    /// when the hash is new.
    pub near: Option<NearPrint>,
    /// Characters in the normalised body (for the URL's version history).
    pub chars: usize,
}

/// The trees an ingest writes, as one transaction sees them.
struct IngestTrees<'a> {
    records: &'a TransactionalTree,
    body_at: &'a TransactionalTree,
    /// Schema 3 inline bodies, read only.
    legacy_bodies: &'a TransactionalTree,
    hashes: &'a TransactionalTree,
    sightings: &'a TransactionalTree,
    urls: &'a TransactionalTree,
    raw_at: &'a TransactionalTree,
    search_pending: &'a TransactionalTree,
    prints: &'a TransactionalTree,
    versions: &'a TransactionalTree,
    meta: &'a TransactionalTree,
}

/// The store's totals (read from its tally, see `tally`; no tree is scanned but the small
/// `runs`).
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
    /// Schema 3 inline bodies, read only.
    bodies: sled::Tree,
    body_at: sled::Tree,
    hashes: sled::Tree,
    sightings: sled::Tree,
    urls: sled::Tree,
    runs: sled::Tree,
    /// Schema 3 inline raw responses, read only.
    raw: sled::Tree,
    raw_at: sled::Tree,
    blobs: Arc<blobs::Blobs>,
    search: search::SearchTrees,
    prints: sled::Tree,
    versions: sled::Tree,
    /// Built on the first lookup (see [`near`]); shared by clones, used by the single writer.
    near: Arc<Mutex<Option<near::NearIndex>>>,
    /// Texts the band index holds in memory before it moves to scratch files.
    near_memory_texts: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Times [`Store::open`] retries, 20 ms apart, while the lock is held by this same process
/// (a store it has just closed): two seconds.
const REOPEN_WAIT_TRIES: u32 = 100;

impl Store {
    /// Opens the store at `path`, creating it if needed (for crawls).
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(path).map_err(|cause| StoreError::Create {
            path: path.to_path_buf(),
            cause,
        })?;
        Self::open_dir(path)
    }

    /// Opens an existing store (for queries): a missing store is an error, not an empty one.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        // sled creates `conf` and `db` lazily; `holder` is written as soon as a process opens
        // the store, so any of the three marks a store.
        if !["db", "conf", HOLDER_FILE]
            .iter()
            .any(|f| path.join(f).exists())
        {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_dir(path)
    }

    /// Opens an existing store with a page cache of `cache_bytes` instead of the default
    /// 8 MiB: for one streaming pass (export), where a large cache only adds memory.
    pub fn open_existing_with_cache(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        if !path.join("db").exists() && !path.join("conf").exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        Self::open_dir_with(path, cache_bytes)
    }

    /// Opens with sled's cache at 8 MiB. sled counts a node's size on disk, and a node takes
    /// about twice that in memory; at 16 MiB a 100,000-page crawl peaked 10 MiB higher, with
    /// the same CPU per page.
    fn open_dir(path: &Path) -> Result<Store, StoreError> {
        Self::open_dir_with(path, 8 * 1024 * 1024)
    }

    fn open_dir_with(path: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let open_err = |cause| StoreError::Open {
            path: path.to_path_buf(),
            cause,
        };
        let config = sled::Config::new().path(path).cache_capacity(cache_bytes);
        let mut waited = 0;
        let db = loop {
            let e = match config.open() {
                Ok(db) => break db,
                Err(e) => e,
            };
            // sled wraps the OS's WouldBlock in its own "could not acquire lock" error.
            let locked = matches!(&e, sled::Error::Io(io)
                if io.kind() == std::io::ErrorKind::WouldBlock
                    || io.to_string().contains("could not acquire lock"));
            if !locked {
                return Err(open_err(e));
            }
            let holder = std::fs::read_to_string(path.join(HOLDER_FILE))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown process".into());
            // A store this process has just closed stays locked until sled's background
            // threads let go of the file, a moment later: wait for that (a scheduled run
            // reopening the store, a query after a crawl), not for another process.
            let ours = holder.starts_with(&format!("pid {}:", std::process::id()));
            if !ours || waited >= REOPEN_WAIT_TRIES {
                return Err(StoreError::Locked {
                    path: path.to_path_buf(),
                    holder,
                });
            }
            waited += 1;
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        // Recorded so that a second process can say who holds the lock. Best effort: a
        // read-only directory still opens.
        let _ = std::fs::write(
            path.join(HOLDER_FILE),
            format!(
                "pid {}: `{}`, since {}",
                std::process::id(),
                std::env::args().collect::<Vec<_>>().join(" "),
                Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
            ),
        );
        let tree = |name: &str| db.open_tree(name).map_err(open_err);
        let store = Store {
            path: path.to_path_buf(),
            meta: tree("meta")?,
            records: tree("records")?,
            bodies: tree("bodies")?,
            body_at: tree("body_at")?,
            hashes: tree("hashes")?,
            sightings: tree("sightings")?,
            urls: tree("urls")?,
            runs: tree("runs")?,
            raw: tree("raw")?,
            raw_at: tree("raw_at")?,
            blobs: Arc::new(blobs::Blobs::new(path.join(BLOB_DIR))),
            search: search::SearchTrees::open(&db).map_err(open_err)?,
            prints: tree("prints")?,
            versions: tree("versions")?,
            near: Arc::default(),
            near_memory_texts: near::MEMORY_TEXTS,
            db,
        };
        // Schema 2 kept the band index in sled; it is derived data, now kept by each process.
        if db_has_tree(&store.db, "bands") {
            store.db.drop_tree("bands")?;
        }
        store.check_schema()?;
        store.ensure_tally()?;
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
                if found < SCHEMA_VERSION {
                    self.meta
                        .insert(SCHEMA_KEY, SCHEMA_VERSION.to_string().as_bytes())?;
                }
                Ok(())
            }
        }
    }

    /// The persistent frontier of `run` (created empty, or reopened with in-flight entries
    /// queued again).
    pub fn frontier(&self, run: RunId) -> Result<frontier::SledFrontier, StoreError> {
        frontier::SledFrontier::open(&self.db, run)
    }

    /// Deletes a run's frontier (once the run is over, its queue and seen set are not needed).
    pub fn drop_frontier(&self, run: RunId) -> Result<(), StoreError> {
        for name in frontier::tree_names(run) {
            self.db.drop_tree(name)?;
        }
        Ok(())
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts a run: resumes the unfinished one when `resume` is set and there is one (its
    /// frontier is kept), otherwise marks any unfinished run abandoned, drops its frontier, and
    /// allocates a new id. Returns the run and whether it was resumed.
    pub fn begin_run(&self, resume: bool) -> Result<(Run, bool), StoreError> {
        if let Some(last) = self.unfinished_run()? {
            if resume {
                return Ok((last, true));
            }
            self.abandon(last)?;
        }
        let next = self.meta.update_and_fetch(NEXT_RUN_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(1, u64::from_be_bytes);
            Some((n + 1).to_be_bytes().to_vec())
        })?;
        let id = next
            .and_then(|b| <[u8; 8]>::try_from(&b[..]).ok())
            .map_or(1, |b| u64::from_be_bytes(b) - 1);
        self.start_run(RunId(id))
    }

    /// Marks an unfinished run abandoned and drops its frontier.
    fn abandon(&self, mut run: Run) -> Result<(), StoreError> {
        run.finished = Some(Utc::now());
        run.ended = Some(crate::model::RunEnd::Abandoned);
        self.put_run(&run)?;
        self.drop_frontier(run.id)
    }

    /// Writes a new, unfinished run `id`.
    fn start_run(&self, id: RunId) -> Result<(Run, bool), StoreError> {
        let run = Run {
            id,
            started: Utc::now(),
            finished: None,
            outcomes: Default::default(),
            ended: None,
        };
        self.put_run(&run)?;
        Ok((run, false))
    }

    /// Starts or resumes run `id` as a cluster numbers it (every worker's store files its
    /// part of cluster run N under run N, so that merged stores agree on runs). An unfinished
    /// run with another id is abandoned; later local runs are numbered after `id`.
    pub fn begin_numbered_run(&self, id: RunId) -> Result<(Run, bool), StoreError> {
        if let Some(existing) = self.runs.get(id.0.to_be_bytes())? {
            let run: Run = decode("runs", &id.0.to_be_bytes(), &existing)?;
            if run.finished.is_none() {
                return Ok((run, true));
            }
        }
        if let Some(last) = self.unfinished_run()?.filter(|r| r.id != id) {
            self.abandon(last)?;
        }
        self.meta.update_and_fetch(NEXT_RUN_KEY, |old| {
            let n = old
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(1, u64::from_be_bytes);
            Some(n.max(id.0 + 1).to_be_bytes().to_vec())
        })?;
        self.start_run(id)
    }

    /// The newest run if it never finished (stopped, or its process died).
    pub fn unfinished_run(&self) -> Result<Option<Run>, StoreError> {
        match self.runs.last()? {
            Some((k, v)) => {
                let run: Run = decode("runs", &k, &v)?;
                Ok(run.finished.is_none().then_some(run))
            }
            None => Ok(None),
        }
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
        M: Fn(Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        self.ingest_with(ingest, NearBounds::ANY, find_near, decide)
    }

    /// [`Store::ingest`] reading only candidates within the near-duplicate policy's `bounds`,
    /// so that far candidates cost no fingerprint read.
    pub fn ingest_with<M, F>(
        &self,
        ingest: &Ingest,
        bounds: NearBounds,
        find_near: M,
        decide: F,
    ) -> Result<(Record, Outcome), StoreError>
    where
        M: Fn(Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        let out = self.ingest_batch(
            &[ingest],
            bounds,
            |_, previous, found| find_near(previous, found),
            |_, existing, near| decide(existing, near),
        )?;
        sole(out, ingest)
    }

    /// Archives several posts in one sled transaction, in order, each exactly as
    /// [`Store::ingest_with`] would (`find_near` and `decide` are given the post's index in
    /// `ingests`): a post sees every earlier one, near-duplicate candidates included. One
    /// commit per batch instead of one per page matters because sled writes out and
    /// `sync_file_range`s its log buffer at every transaction commit; that was a fifth of a
    /// crawl's CPU.
    pub fn ingest_batch<M, F>(
        &self,
        ingests: &[&Ingest],
        bounds: NearBounds,
        find_near: M,
        decide: F,
    ) -> Result<Vec<(Record, Outcome)>, StoreError>
    where
        M: Fn(usize, Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(usize, Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        if ingests.is_empty() {
            return Ok(Vec::new());
        }
        // Built outside the transaction: building reads sled, and a plain sled read inside a
        // transaction deadlocks on sled's own lock (so does `generate_id`).
        self.ensure_near_index()?;
        let seqs = ingests
            .iter()
            .map(|_| self.db.generate_id())
            .collect::<Result<Vec<_>, _>>()?;
        // `bodies` (schema 3, read only) is in the transaction for the same reason.
        let trees = (
            &self.records,
            &self.body_at,
            &self.bodies,
            &self.hashes,
            &self.sightings,
            &self.urls,
            &self.raw_at,
            &self.search.pending,
            &self.prints,
            &self.versions,
            &self.meta,
        );
        let result = trees.transaction(
            |(
                records,
                body_at,
                legacy_bodies,
                hashes,
                sightings,
                urls,
                raw_at,
                search_pending,
                prints,
                versions,
                meta,
            )| {
                let t = IngestTrees {
                    records,
                    body_at,
                    legacy_bodies,
                    hashes,
                    sightings,
                    urls,
                    raw_at,
                    search_pending,
                    prints,
                    versions,
                    meta,
                };
                let mut added_up = Tally::default();
                // This attempt's new texts: candidates for the batch's later posts, and for
                // the in-memory index once committed (a retried attempt starts afresh).
                let mut batch = near::NearIndex::default();
                let mut added = Vec::new();
                let mut out = Vec::with_capacity(ingests.len());
                for (i, (ingest, seq)) in ingests.iter().zip(&seqs).enumerate() {
                    let (record, outcome, new_text) = self.ingest_in(
                        &t,
                        ingest,
                        *seq,
                        bounds,
                        &batch,
                        &mut added_up,
                        |previous, found| find_near(i, previous, found),
                        |existing, near| decide(i, existing, near),
                    )?;
                    if let (true, Some(print)) = (new_text, &ingest.near) {
                        let doc = near::Doc::new(ingest.hash, record.id, print);
                        batch
                            .insert(doc, print)
                            .map_err(|e| ConflictableTransactionError::Abort(self.near_error(e)))?;
                        added.push((doc, print));
                    }
                    out.push((record, outcome));
                }
                add_to_tally(t.meta, added_up)?;
                Ok((out, added))
            },
        );
        let (out, added) = result.map_err(StoreError::from)?;
        // Indexed once committed, so the index never names a text the store lacks.
        let mut index = self.near.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(built) = index.as_mut() {
            for (doc, print) in added {
                if let Err(e) = built.insert(doc, print) {
                    // The batch is committed; only the derived index is behind. Drop it: the
                    // next ingest rebuilds it from `prints`, or reports why it cannot.
                    tracing::warn!(error = %self.near_error(e), "near-duplicate index dropped; it is rebuilt on the next ingest");
                    *index = None;
                    break;
                }
            }
        }
        Ok(out)
    }

    /// One post of [`Store::ingest_batch`], inside its transaction. Returns the record, the
    /// URL's outcome, and whether the post's text was new to the store.
    #[allow(clippy::too_many_arguments)]
    fn ingest_in<M, F>(
        &self,
        t: &IngestTrees<'_>,
        ingest: &Ingest,
        seq: u64,
        bounds: NearBounds,
        batch: &near::NearIndex,
        tally: &mut Tally,
        find_near: M,
        decide: F,
    ) -> Result<(Record, Outcome, bool), ConflictableTransactionError<StoreError>>
    where
        M: Fn(Option<&Version>, &[NearCandidate]) -> Option<NearMatch>,
        F: Fn(Option<Record>, Option<&NearMatch>) -> (Record, Outcome),
    {
        let abort = ConflictableTransactionError::Abort;
        // A URL this run already archived with this very text (fetched again after a
        // crash, before its frontier entry was marked done) adds nothing: one sighting
        // per fetch per run. A different text is a revision and goes on below.
        let url = ingest.sighting.url.as_bytes();
        let mut history: Vec<Version> = match t.versions.get(url)? {
            Some(v) => decode("versions", url, &v).map_err(abort)?,
            None => Vec::new(),
        };
        let last = history.last().map(|v| v.hash);
        let known = t.hashes.get(ingest.hash.0)?;
        // A new text looks for a near-duplicate: the URL's previous version and the texts
        // sharing a band with it, in the store and earlier in this batch.
        let near = match (&known, &ingest.near) {
            (Some(_), _) => None,
            (None, Some(print)) => {
                let found = self.near_candidates_in(t, print, bounds, batch)?;
                find_near(history.last(), &found)
            }
            (None, None) => find_near(history.last(), &[]),
        };
        let load = |id: &[u8]| -> Result<
            Option<(Record, bool)>,
            ConflictableTransactionError<StoreError>,
        > {
            match t.records.get(id)? {
                Some(v) => {
                    let mut record: Record = decode("records", id, &v).map_err(abort)?;
                    let body = match t.body_at.get(id)? {
                        Some(at) => Some(self.blob_body(id, &at).map_err(abort)?),
                        None => t.legacy_bodies
                            .get(id)?
                            .map(|b| decode("bodies", id, &b))
                            .transpose()
                            .map_err(abort)?,
                    };
                    let separate = match body {
                        Some(body) => {
                            record.canonical.body = body;
                            true
                        }
                        None => false,
                    };
                    Ok(Some((record, separate)))
                }
                None => Ok(None),
            }
        };
        let prev_state = t.urls.get(ingest.url_state.url.as_bytes())?;
        let new_url = prev_state.is_none();
        if let Some(prev) = prev_state {
            let prev: UrlState =
                decode("urls", ingest.url_state.url.as_bytes(), &prev).map_err(abort)?;
            let same_run = prev.run == ingest.url_state.run;
            if let (true, true, Some(id)) = (same_run, last == Some(ingest.hash), prev.record) {
                if let Some((record, _)) = load(&id.0)? {
                    return Ok((record, prev.outcome, false));
                }
            }
        }
        let (existing, near) = match (&known, &near) {
            (Some(id), _) => (load(id)?, None),
            (None, Some(m)) => (load(&m.record.0)?, Some(m)),
            (None, None) => (None, None),
        };
        // A near match whose record vanished cannot be joined: start a new record.
        let near = near.filter(|_| existing.is_some());
        // Records written before bodies moved out (schema 2) carry the body inline.
        let body_stored = existing.as_ref().is_some_and(|(_, separate)| *separate);
        let existing = existing.map(|(record, _)| record);
        let previous_canonical = existing.as_ref().map(|r| r.canonical.url.clone());
        let old_text = existing
            .as_ref()
            .map(|r| (r.canonical.title.clone(), r.canonical.body.clone()));
        let new_record = existing.is_none();
        let (mut record, outcome) = decide(existing, near);
        // The search index must learn about new records and changed canonical text; the
        // marker is written in this transaction so that the index can never miss one.
        let text_changed = old_text.is_none_or(|(title, body)| {
            title != record.canonical.title || body != record.canonical.body
        });
        if text_changed {
            t.search_pending.set(&record.id.0, &seq.to_be_bytes());
        }
        // The body is written apart from the record, and only when it changes: most
        // ingests are duplicates that add a copy to the record. It goes to the blob
        // segments before this transaction commits (see `blobs` on crash safety); a
        // retried transaction only leaves an unreferenced copy behind.
        let body = std::mem::take(&mut record.canonical.body);
        if text_changed || !body_stored {
            let at = self
                .blobs
                .append(&encode(&body))
                .map_err(|e| abort(e.into()))?;
            t.body_at.set(&record.id.0, &at.to_bytes());
        }
        t.records.set(&record.id.0, encode(&record));
        record.canonical.body = body;
        if known.as_deref() != Some(&record.id.0[..]) {
            t.hashes.set(&ingest.hash.0, &record.id.0);
        }
        if let (None, Some(print)) = (&known, &ingest.near) {
            t.prints.set(&ingest.hash.0, print.to_bytes());
        }
        let mut sighting = ingest.sighting.clone();
        sighting.record = record.id;
        t.sightings.set(
            sighting_key(record.id, sighting.run, seq),
            encode(&sighting),
        );
        *tally = tally.plus(Tally {
            records: u64::from(new_record),
            sightings: 1,
            urls: u64::from(new_url),
        });
        // The URL's history: a changed body is a new version linked to the last one.
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
            t.versions.set(url, encode(&history));
        }
        let mut state = ingest.url_state.clone();
        state.outcome = outcome.clone();
        state.record = Some(record.id);
        t.urls.set(state.url.as_bytes(), encode(&state));
        // The raw response follows the canonical copy: written when this copy is the
        // canonical one and was not before (a new record, or a switch).
        let became_canonical = record.canonical.url == sighting.url
            && previous_canonical.as_deref() != Some(sighting.url.as_str());
        if let (true, Some(r)) = (became_canonical, &ingest.raw) {
            let at = self
                .blobs
                .append(&raw::encode(r))
                .map_err(|e| abort(e.into()))?;
            t.raw_at.set(&record.id.0, &at.to_bytes());
        }
        Ok((record, outcome, known.is_none()))
    }

    /// Near-duplicate candidates of `print` within `bounds`, from the in-memory index and
    /// this batch's own new texts, with their fingerprints read in the transaction.
    fn near_candidates_in(
        &self,
        t: &IngestTrees<'_>,
        print: &NearPrint,
        bounds: NearBounds,
        batch: &near::NearIndex,
    ) -> Result<Vec<NearCandidate>, ConflictableTransactionError<StoreError>> {
        let mut docs = self
            .indexed_candidates(print, bounds)
            .map_err(ConflictableTransactionError::Abort)?;
        docs.extend(
            batch
                .candidates(print, bounds, MAX_PER_BAND)
                .map_err(|e| ConflictableTransactionError::Abort(self.near_error(e)))?,
        );
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            if let Some(v) = t.prints.get(doc.hash.0)? {
                let p = decode_print(&doc.hash, &v).map_err(ConflictableTransactionError::Abort)?;
                out.push(NearCandidate {
                    hash: doc.hash,
                    record: doc.record,
                    print: p,
                });
            }
        }
        Ok(out)
    }

    /// Writes one record as `trawl merge` assembled it from several stores, in one
    /// transaction: the record, a hash index entry per member, the given sightings (already
    /// carrying the record's id), the members' near-duplicate prints, the
    /// canonical copy's raw response, and a search pending marker. URL states, versions and
    /// runs go through [`Store::put_url_state`], [`Store::put_versions`] and
    /// [`Store::put_run`].
    pub fn put_merged(
        &self,
        record: &Record,
        sightings: &[Sighting],
        prints: &[(ContentHash, NearPrint)],
        raw: Option<&RawResponse>,
    ) -> Result<(), StoreError> {
        let seqs = sightings
            .iter()
            .map(|_| self.db.generate_id())
            .collect::<Result<Vec<_>, _>>()?;
        let trees = (
            &self.records,
            &self.body_at,
            &self.hashes,
            &self.sightings,
            &self.raw_at,
            &self.search.pending,
            &self.prints,
            &self.meta,
        );
        let mut head = record.clone();
        let body = std::mem::take(&mut head.canonical.body);
        // Values first, references after (see `blobs` on crash safety).
        let body_ref = self.blobs.append(&encode(&body))?;
        let raw_ref = raw
            .map(|r| self.blobs.append(&raw::encode(r)))
            .transpose()?;
        trees
            .transaction(
                |(records, body_at, hashes, sightings_t, raw_at, pending, prints_t, meta)| {
                    let new_record = records.get(record.id.0)?.is_none();
                    body_at.set(&record.id.0, &body_ref.to_bytes());
                    records.set(&record.id.0, encode(&head));
                    pending.set(
                        &record.id.0,
                        &seqs.first().copied().unwrap_or(0).to_be_bytes(),
                    );
                    for m in &record.members {
                        hashes.set(&m.hash.0, &record.id.0);
                    }
                    for (s, seq) in sightings.iter().zip(&seqs) {
                        sightings_t.set(sighting_key(record.id, s.run, *seq), encode(s));
                    }
                    for (hash, print) in prints {
                        prints_t.set(&hash.0, print.to_bytes());
                    }
                    if let Some(at) = raw_ref {
                        raw_at.set(&record.id.0, &at.to_bytes());
                    }
                    add_to_tally(
                        meta,
                        Tally {
                            records: u64::from(new_record),
                            sightings: sightings.len() as u64,
                            urls: 0,
                        },
                    )?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(())
                },
            )
            .map_err(StoreError::from)?;
        // The in-memory band index (if built) does not know these prints: rebuild on demand.
        *self.near.lock().unwrap_or_else(PoisonError::into_inner) = None;
        Ok(())
    }

    /// Replaces the version history of a normalised URL (for `trawl merge`).
    pub fn put_versions(&self, url: &str, versions: &[Version]) -> Result<(), StoreError> {
        self.versions.insert(url.as_bytes(), encode(&versions))?;
        Ok(())
    }

    /// The raw response of a record's canonical copy, if it was kept.
    pub fn raw_response(&self, id: RecordId) -> Result<Option<RawResponse>, StoreError> {
        let v = match self.raw_at.get(id.0)? {
            Some(at) => self.blob("raw_at", &id.0, &at)?,
            None => match self.raw.get(id.0)? {
                Some(v) => v.to_vec(),
                None => return Ok(None),
            },
        };
        raw::decode(&v).map(Some).map_err(|e| StoreError::Corrupt {
            tree: "raw",
            key: id.to_hex(),
            detail: e.to_string(),
        })
    }

    /// Stored content hashes that share at least one band key with `print` and whose simhash
    /// and sketch are within `bounds`, with their records and fingerprints: the candidates a
    /// near-duplicate check looks at. The band index is built on first use from `prints` (in
    /// memory, then in scratch files); far candidates are dropped without reading their
    /// fingerprint, and at most a bounded number of entries is read per band, so a bucket of
    /// generic text cannot make lookups grow with the store.
    pub fn near_candidates(
        &self,
        print: &NearPrint,
        bounds: NearBounds,
    ) -> Result<Vec<NearCandidate>, StoreError> {
        self.ensure_near_index()?;
        let docs = self.indexed_candidates(print, bounds)?;
        let mut out = Vec::with_capacity(docs.len());
        for doc in docs {
            if let Some(p) = self.near_print(&doc.hash)? {
                out.push(NearCandidate {
                    hash: doc.hash,
                    record: doc.record,
                    print: p,
                });
            }
        }
        Ok(out)
    }

    /// The band index's candidates for `print` (none if it is not built).
    fn indexed_candidates(
        &self,
        print: &NearPrint,
        bounds: NearBounds,
    ) -> Result<Vec<near::Doc>, StoreError> {
        let index = self.near.lock().unwrap_or_else(PoisonError::into_inner);
        match index.as_ref() {
            Some(i) => i
                .candidates(print, bounds, MAX_PER_BAND)
                .map_err(|e| self.near_error(e)),
            None => Ok(Vec::new()),
        }
    }

    fn near_error(&self, cause: std::io::Error) -> StoreError {
        StoreError::NearIndex {
            path: self.path.clone(),
            cause,
        }
    }

    /// Sets how many texts the near-duplicate index holds in memory before it moves them to
    /// unnamed scratch files in the store's directory (default 7,168, about 4.8 MiB). More is
    /// faster for large crawls and costs about 0.7 KiB per text; 0 or 1 puts it on disk at
    /// once.
    /// Takes effect when the index is next built (the first ingest of a process).
    pub fn with_near_memory_texts(mut self, texts: usize) -> Store {
        self.near_memory_texts = texts;
        self
    }

    /// Builds the band index if this process has not yet.
    fn ensure_near_index(&self) -> Result<(), StoreError> {
        let mut index = self.near.lock().unwrap_or_else(PoisonError::into_inner);
        if index.is_none() {
            *index = Some(self.build_near_index()?);
        }
        Ok(())
    }

    /// The band index over every stored fingerprint.
    fn build_near_index(&self) -> Result<near::NearIndex, StoreError> {
        let started = std::time::Instant::now();
        let mut index = near::NearIndex::spilling(&self.path, self.near_memory_texts);
        for kv in self.prints.iter() {
            let (k, v) = kv?;
            let (Ok(hash), Ok(print)) = (<[u8; 32]>::try_from(&k[..]), NearPrint::from_bytes(&v))
            else {
                return Err(StoreError::Corrupt {
                    tree: "prints",
                    key: format!("{:02x?}", &k[..]),
                    detail: "not a content hash and a fingerprint".into(),
                });
            };
            let Some(record) = self.hashes.get(hash)? else {
                // A fingerprint without its hash entry belongs to no record: nothing to join.
                continue;
            };
            let Ok(record) = <[u8; 16]>::try_from(&record[..]) else {
                continue;
            };
            index
                .insert(
                    near::Doc::new(ContentHash(hash), RecordId(record), &print),
                    &print,
                )
                .map_err(|e| self.near_error(e))?;
        }
        tracing::debug!(
            texts = index.len(),
            on_disk = index.on_disk(),
            ms = started.elapsed().as_millis() as u64,
            "near-duplicate index built"
        );
        Ok(index)
    }

    /// The stored near-duplicate fingerprint of a content hash.
    pub fn near_print(&self, hash: &ContentHash) -> Result<Option<NearPrint>, StoreError> {
        self.prints
            .get(hash.0)?
            .map(|v| decode_print(hash, &v))
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
        let url = state.url.as_bytes();
        let value = encode(state);
        (&self.urls, &self.meta)
            .transaction(|(urls, meta)| {
                if urls.get(url)?.is_none() {
                    add_to_tally(
                        meta,
                        Tally {
                            urls: 1,
                            ..Tally::default()
                        },
                    )?;
                }
                urls.set(url, value.as_slice());
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(StoreError::from)
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
            .map(|v| self.read_record(&id.0, &v))
            .transpose()
    }

    /// A record from its `records` entry and its stored body (records written by schema 2
    /// carry the body inline and have none).
    fn read_record(&self, key: &[u8], value: &[u8]) -> Result<Record, StoreError> {
        let mut record: Record = decode("records", key, value)?;
        if let Some(body) = self.stored_body(key, self.body_at.get(key)?.as_deref())? {
            record.canonical.body = body;
        }
        Ok(record)
    }

    /// A record's body kept apart from it: in the blob segments when `at` (its `body_at`
    /// entry) is given, else in schema 3's `bodies` tree; `None` if it has none.
    fn stored_body(
        &self,
        key: &[u8],
        at: Option<&[u8]>,
    ) -> Result<Option<Vec<String>>, StoreError> {
        match at {
            Some(at) => self.blob_body(key, at).map(Some),
            None => self
                .bodies
                .get(key)?
                .map(|b| decode("bodies", key, &b))
                .transpose(),
        }
    }

    /// The body a `body_at` entry points at.
    fn blob_body(&self, key: &[u8], at: &[u8]) -> Result<Vec<String>, StoreError> {
        decode("bodies", key, &self.blob("body_at", key, at)?)
    }

    /// The value a blob reference (an entry of `tree` under `key`) points at.
    fn blob(&self, tree: &'static str, key: &[u8], at: &[u8]) -> Result<Vec<u8>, StoreError> {
        let at = blobs::BlobRef::from_bytes(at).ok_or_else(|| StoreError::Corrupt {
            tree,
            key: format!("{:02x?}", key),
            detail: "not a blob reference".into(),
        })?;
        Ok(self.blobs.read(at)?)
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
            self.read_record(&k, &v)
        })
    }

    /// Every record without its canonical body (left empty), in id order: for counts and
    /// filters, which need no text and so neither read nor depend on the blob segments.
    pub fn record_heads(&self) -> impl Iterator<Item = Result<Record, StoreError>> + '_ {
        self.records.iter().map(|kv| {
            let (k, v) = kv?;
            let mut record: Record = decode("records", &k, &v)?;
            // Schema 2 records carry their body inline: drop it, as promised.
            record.canonical.body.clear();
            Ok(record)
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

    /// The store's totals, from its tally (see `tally`).
    pub fn counts(&self) -> Counts {
        // A tally that cannot be read (written by a newer build, say) is counted afresh.
        let tally = self
            .stored_tally()
            .ok()
            .flatten()
            .unwrap_or_else(|| self.recount());
        Counts {
            records: tally.records,
            sightings: tally.sightings,
            urls: tally.urls,
            runs: self.runs.len() as u64,
        }
    }

    /// The tally as the trees are now: one scan of each.
    fn recount(&self) -> Tally {
        Tally {
            records: self.records.len() as u64,
            sightings: self.sightings.len() as u64,
            urls: self.urls.len() as u64,
        }
    }

    /// The stored tally, if it is there and readable.
    fn stored_tally(&self) -> Result<Option<Tally>, StoreError> {
        Ok(self
            .meta
            .get(TALLY_KEY)?
            .and_then(|v| Tally::from_bytes(&v)))
    }

    /// Writes `tally` as the store's tally.
    fn put_tally(&self, tally: Tally) -> Result<(), StoreError> {
        self.meta.insert(TALLY_KEY, &tally.to_bytes())?;
        Ok(())
    }

    /// Counts a store written before the tally existed (once; a new store counts nothing).
    fn ensure_tally(&self) -> Result<(), StoreError> {
        if self.meta.get(TALLY_KEY)?.is_none() {
            // Best effort, like the holder file: a store that cannot be written to can still
            // be queried, and `counts` then counts by scanning.
            if let Err(e) = self.put_tally(self.recount()) {
                tracing::debug!(error = %e, "could not record the store's totals");
            }
        }
        Ok(())
    }

    /// Makes everything written so far durable: blob segments first, then the sled entries
    /// that refer to them.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.blobs.sync()?;
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the store uses on disk (sled and blob segments).
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()? + self.blobs.size_on_disk())
    }

    #[cfg(test)]
    fn force_schema(&self, v: &str) {
        self.meta.insert(SCHEMA_KEY, v.as_bytes()).unwrap();
        self.db.flush().unwrap();
    }
}

/// A `sightings` key: record id ‖ run ‖ seq, so a record's sightings are one range, in order.
fn sighting_key(record: RecordId, run: RunId, seq: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(32);
    key.extend_from_slice(&record.0);
    key.extend_from_slice(&run.0.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    key
}

/// Adds `delta` to the tally in `meta`, inside a transaction.
fn add_to_tally(
    meta: &TransactionalTree,
    delta: Tally,
) -> Result<(), ConflictableTransactionError<StoreError>> {
    if delta.is_zero() {
        return Ok(());
    }
    let now = meta
        .get(TALLY_KEY)?
        .and_then(|v| Tally::from_bytes(&v))
        .unwrap_or_default();
    meta.set(TALLY_KEY, &now.plus(delta).to_bytes());
    Ok(())
}

/// A `prints` value.
fn decode_print(hash: &ContentHash, bytes: &[u8]) -> Result<NearPrint, StoreError> {
    NearPrint::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        tree: "prints",
        key: hash.to_hex(),
        detail: e.to_string(),
    })
}

/// The one result of a one-post [`Store::ingest_batch`].
pub(crate) fn sole<T>(mut out: Vec<T>, ingest: &Ingest) -> Result<T, StoreError> {
    out.pop().ok_or_else(|| StoreError::Corrupt {
        tree: "records",
        key: ingest.hash.to_hex(),
        detail: "an ingest returned no record".into(),
    })
}

fn db_has_tree(db: &sled::Db, name: &str) -> bool {
    db.tree_names().iter().any(|n| &n[..] == name.as_bytes())
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

    fn candidate(url: &str, host: &str, hash: u8) -> Candidate {
        crate::dedup::test_candidate(url, host, hash)
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
                redirects: Vec::new(),
            },
            url_state: UrlState::new(&c.url, Outcome::Hub, run, Some(200), 1),
            raw: Some(crate::model::RawResponse {
                url: c.url.clone(),
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: format!("<p>{}</p>", c.url).into_bytes(),
                fetched_at: c.seen,
            }),
            near: c.near.clone(),
            chars: c.chars,
        }
    }

    #[test]
    fn the_tally_follows_every_write_and_verify_repairs_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (run, _) = store.begin_run(false).unwrap();
        let p = CanonicalPolicy::default();
        let posts = [
            candidate("http://a.test/1", "a.test", 1),
            candidate("http://b.test/9", "b.test", 1),
            candidate("http://a.test/2", "a.test", 2),
            // The same URL and text again in the same run adds nothing.
            candidate("http://a.test/2", "a.test", 2),
            // Another text at a known URL: a sighting and (without a near match) a record.
            candidate("http://a.test/1", "a.test", 3),
        ];
        let ingests: Vec<Ingest> = posts.iter().map(|c| ingest_of(c, run.id)).collect();
        let refs: Vec<&Ingest> = ingests.iter().collect();
        store
            .ingest_batch(
                &refs[..2],
                NearBounds::ANY,
                |i, _, found| best_near_of(&posts[i], found),
                |i, e, n| admit(e, n, &posts[i], &p),
            )
            .unwrap();
        for (c, i) in posts.iter().zip(&ingests).skip(2) {
            store
                .ingest(
                    i,
                    |_, found| best_near_of(c, found),
                    |e, n| admit(e, n, c, &p),
                )
                .unwrap();
        }
        let hub = UrlState::new("http://a.test/", Outcome::Hub, run.id, Some(200), 0);
        store.put_url_state(&hub).unwrap();
        store.put_url_state(&hub).unwrap();
        let tally = store.stored_tally().unwrap().unwrap();
        assert_eq!(tally, store.recount());
        assert_eq!((tally.records, tally.urls), (3, 4));
        let c = store.counts();
        assert_eq!((c.records, c.sightings, c.urls), (3, tally.sightings, 4));
        // A wrong tally is found and recounted.
        let fp = crate::config::Settings::load(None, &Default::default())
            .unwrap()
            .fingerprinter;
        let tally_problem = |r: &VerifyReport| r.problems.iter().any(|p| p.check == "tally");
        assert!(!tally_problem(&store.verify(&fp).unwrap()));
        store.put_tally(Tally::default()).unwrap();
        let report = store.verify(&fp).unwrap();
        assert!(tally_problem(&report));
        assert!(report
            .problems
            .iter()
            .all(|p| p.check != "tally" || p.repairable));
        assert!(store.repair_indexes().unwrap().tally_recounted);
        assert_eq!(store.stored_tally().unwrap(), Some(tally));
        // A store from before the tally is counted when opened.
        store.meta.remove(TALLY_KEY).unwrap();
        drop(store);
        let store = Store::open_existing(dir.path()).unwrap();
        assert_eq!(store.stored_tally().unwrap(), Some(tally));
    }

    #[test]
    fn ingest_dedups_and_keeps_every_sighting() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (run, _) = store.begin_run(false).unwrap();
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
        // The raw response is the canonical copy's (the first, with an empty policy).
        assert_eq!(
            store.raw_response(r1.id).unwrap().unwrap().url,
            "http://a.test/1"
        );
        assert_eq!(
            store.url_state("http://b.test/9").unwrap().unwrap().record,
            Some(r1.id)
        );
        let prefix = &r1.id.to_hex()[..7];
        assert_eq!(store.record_ids_with_prefix(prefix).unwrap(), vec![r1.id]);
        assert_eq!(store.record_ids_with_prefix("").unwrap().len(), 2);
    }

    #[test]
    fn a_batch_ingests_as_one_post_after_another() {
        let text = "The quarterly report shows revenue growth across every region, with the \
                    strongest gains in the north and a modest decline in exports over the \
                    period, while costs stayed flat and the board kept its dividend unchanged.";
        let with_near = |url: &str, host: &str, hash: u8, body: &str| {
            let mut c = candidate(url, host, hash);
            c.near = NearPrint::of(&[body]);
            c
        };
        let posts = [
            with_near("http://a.test/1", "a.test", 1, text),
            // An exact copy of the first, and a near copy of it, in the same batch.
            with_near("http://b.test/1", "b.test", 1, text),
            with_near(
                "http://c.test/1",
                "c.test",
                2,
                &format!("{text} Editor's note: figures are preliminary."),
            ),
            with_near(
                "http://d.test/1",
                "d.test",
                3,
                "A storm closed the harbour for \
                three days and the ferries stayed in port while the coastguard checked.",
            ),
        ];
        let p = CanonicalPolicy::default();
        let run_all = |store: &Store, batched: bool| -> Vec<(RecordId, Outcome)> {
            let (run, _) = store.begin_run(false).unwrap();
            let ingests: Vec<Ingest> = posts.iter().map(|c| ingest_of(c, run.id)).collect();
            let out = if batched {
                store
                    .ingest_batch(
                        &ingests.iter().collect::<Vec<_>>(),
                        NearBounds::ANY,
                        |i, _, found| best_near_of(&posts[i], found),
                        |i, e, n| admit(e, n, &posts[i], &p),
                    )
                    .unwrap()
            } else {
                posts
                    .iter()
                    .zip(&ingests)
                    .map(|(c, i)| {
                        store
                            .ingest(
                                i,
                                |_, found| best_near_of(c, found),
                                |e, n| admit(e, n, c, &p),
                            )
                            .unwrap()
                    })
                    .collect()
            };
            out.into_iter().map(|(r, o)| (r.id, o)).collect()
        };
        let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (s1, s2) = (
            Store::open(d1.path()).unwrap(),
            Store::open(d2.path()).unwrap(),
        );
        let batched = run_all(&s1, true);
        assert_eq!(batched, run_all(&s2, false));
        let first = batched[0].0;
        assert_eq!(batched[1], (first, Outcome::Duplicate { of: first }));
        assert_eq!(batched[2].0, first, "the near copy joins within the batch");
        assert_ne!(batched[3].0, first);
        assert_eq!(s1.counts().records, 2);
        assert_eq!(s1.sightings(first).unwrap().len(), 3);
        // The batch's new texts reached the in-memory index once committed.
        let print = posts[2].near.clone().unwrap();
        assert!(s1
            .near_candidates(&print, NearBounds::ANY)
            .unwrap()
            .iter()
            .any(|c| c.record == first));
    }

    #[test]
    fn a_store_closed_by_this_process_reopens_at_once_and_an_open_one_stays_locked() {
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..20 {
            let store = Store::open(dir.path()).unwrap();
            store.put_run(&store.begin_run(true).unwrap().0).unwrap();
            drop(store);
        }
        let held = Store::open(dir.path()).unwrap();
        match Store::open_existing(dir.path()) {
            Err(StoreError::Locked { holder, .. }) => {
                assert!(holder.starts_with(&format!("pid {}:", std::process::id())))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
    }

    #[test]
    fn runs_get_increasing_ids_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let (first, resumed) = store.begin_run(true).unwrap();
            assert_eq!((first.id, resumed), (RunId(1), false));
            // Unfinished: resumed with the same id.
            assert_eq!(store.begin_run(true).unwrap(), (first.clone(), true));
            // Not resumed: abandoned, and a new run starts.
            assert_eq!(store.begin_run(false).unwrap().0.id, RunId(2));
            store.flush().unwrap();
        }
        let store = Store::open_existing(dir.path()).unwrap();
        let runs: Vec<Run> = store.runs().map(Result::unwrap).collect();
        assert_eq!(runs[0].ended, Some(crate::model::RunEnd::Abandoned));
        assert_eq!(
            store.unfinished_run().unwrap().map(|r| r.id),
            Some(RunId(2))
        );
        assert_eq!(store.begin_run(false).unwrap().0.id, RunId(3));
        assert_eq!(store.runs().count(), 3);
    }

    #[test]
    fn schema_2_records_keep_their_inline_bodies() {
        let dir = tempfile::tempdir().unwrap();
        let p = CanonicalPolicy::default();
        let a = candidate("http://a.test/1", "a.test", 1);
        let (record, _) = admit(None, None, &a, &p);
        {
            // A record as schema 2 wrote it: the body inside the record value, no `bodies`
            // entry, and a band index on disk.
            let store = Store::open(dir.path()).unwrap();
            store.records.insert(record.id.0, encode(&record)).unwrap();
            store.hashes.insert(a.hash.0, &record.id.0).unwrap();
            store
                .db
                .open_tree("bands")
                .unwrap()
                .insert(b"k", b"v")
                .unwrap();
            store.force_schema("2");
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.meta.get(SCHEMA_KEY).unwrap().unwrap(), &b"4"[..]);
        assert!(!db_has_tree(&store.db, "bands"));
        assert_eq!(
            store.record(record.id).unwrap().unwrap().canonical.body,
            ["b"]
        );
        // A copy joins: the record is rewritten without its body, which moves to the blob
        // segments.
        let (run, _) = store.begin_run(false).unwrap();
        let b = candidate("http://b.test/1", "b.test", 1);
        store
            .ingest(
                &ingest_of(&b, run.id),
                |_, _| None,
                |e, n| admit(e, n, &b, &p),
            )
            .unwrap();
        let after = store.record(record.id).unwrap().unwrap();
        assert_eq!(after.canonical.body, ["b"]);
        assert_eq!(after.copies.len(), 2);
        assert!(store.body_at.get(record.id.0).unwrap().is_some());
    }

    #[test]
    fn schema_3_bodies_and_raw_responses_are_read_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = CanonicalPolicy::default();
        let a = candidate("http://a.test/1", "a.test", 1);
        let (record, _) = admit(None, None, &a, &p);
        let raw = ingest_of(&a, RunId(1)).raw.unwrap();
        {
            // As schema 3 wrote it: the body in `bodies`, the raw response inline in `raw`.
            let store = Store::open(dir.path()).unwrap();
            let mut head = record.clone();
            let body = std::mem::take(&mut head.canonical.body);
            store.records.insert(record.id.0, encode(&head)).unwrap();
            store.bodies.insert(record.id.0, encode(&body)).unwrap();
            store
                .raw
                .insert(record.id.0, raw::legacy_encode(&raw))
                .unwrap();
            store.hashes.insert(a.hash.0, &record.id.0).unwrap();
            store.force_schema("3");
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.meta.get(SCHEMA_KEY).unwrap().unwrap(), &b"4"[..]);
        assert_eq!(
            store.record(record.id).unwrap().unwrap().canonical.body,
            ["b"]
        );
        assert_eq!(store.raw_response(record.id).unwrap().unwrap().url, raw.url);
        let fp = crate::config::Settings::load(None, &Default::default())
            .unwrap()
            .fingerprinter;
        assert_eq!(store.verify(&fp).unwrap().checked.raw, 1);
        assert!(store.blobs.size_on_disk() == 0, "reading writes no segment");
    }

    #[test]
    fn a_damaged_body_is_an_error_naming_the_segment_not_a_wrong_text() {
        let dir = tempfile::tempdir().unwrap();
        let p = CanonicalPolicy::default();
        let a = candidate("http://a.test/1", "a.test", 1);
        let store = Store::open(dir.path()).unwrap();
        let (run, _) = store.begin_run(false).unwrap();
        let (record, _) = store
            .ingest(
                &ingest_of(&a, run.id),
                |_, _| None,
                |e, n| admit(e, n, &a, &p),
            )
            .unwrap();
        store.flush().unwrap();
        let seg = dir.path().join(BLOB_DIR).join("00000001.seg");
        let mut bytes = std::fs::read(&seg).unwrap();
        for b in bytes.iter_mut().skip(8) {
            *b = b'x';
        }
        std::fs::write(&seg, bytes).unwrap();
        let err = store.record(record.id).unwrap_err().to_string();
        assert!(
            err.contains("00000001.seg") && err.contains("checksum"),
            "{err}"
        );
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
