//! The persistent frontier: one run's queue in sled, so a crash or Ctrl-C loses nothing.
//!
//! Two trees per run: `seen` (every URL the run has queued or decided on: the seen set lives
//! on disk, not in memory) and `queue` (host ‖ 0 ‖ sequence → entry, so each host's queue is
//! a key range in FIFO order). Taking an entry for fetching writes nothing: the entry stays in
//! `queue` until it is done (then it is removed) or requeued (then it moves to the back), and
//! in memory a per-host cursor marks how far the host's range has been taken. Reopening the
//! run therefore finds every entry that was in flight at a crash still queued, and fetches it
//! again. In memory there are only counts and cursors per host and the keys of the entries in
//! flight (bounded by the crawl's concurrency and its pending retries).
//!
//! Runs written before this layout also have an `inflight` tree (URL → entry); its entries
//! are moved back to the queue when such a run is reopened.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use sled::transaction::{ConflictableTransactionError, Transactional};
use url::Url;

use super::{decode, encode, StoreError};
use crate::frontier::{Entry, Frontier, FrontierError};
use crate::model::RunId;

/// Queued entries per host, the round-robin order of hosts that have some, each host's
/// cursor (the last queue key taken), and the queue key of every entry in flight.
#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<String, u64>,
    order: VecDeque<String>,
    cursors: HashMap<String, Vec<u8>>,
    taken: HashMap<String, Vec<u8>>,
}

impl Pending {
    fn add(&mut self, host: &str) {
        let n = self.counts.entry(host.to_string()).or_default();
        if *n == 0 {
            self.order.push_back(host.to_string());
        }
        *n += 1;
    }
}

/// One run's frontier in sled. Clones share the trees and the in-memory counts, so the
/// scheduler and the writer can both hold one.
#[derive(Clone)]
pub struct SledFrontier {
    db: sled::Db,
    seen: sled::Tree,
    queue: sled::Tree,
    inflight: sled::Tree,
    pending: Arc<Mutex<Pending>>,
    known: SeenCache,
}

/// Slots of a [`SeenCache`]: 32,768 fingerprints, 512 KiB, whatever the crawl's size.
const SEEN_CACHE_SLOTS: usize = 1 << 15;

/// URLs known to be in `seen`, by 128-bit fingerprint, in a fixed direct-mapped table. Most
/// links point at pages seen already (navigation, related articles, listings), and a hit
/// settles one without a sled read, which was a third of the frontier's cost. `seen` only
/// grows during a run and a fingerprint goes in only once its URL is there, so a hit is
/// right (but for a 2^-128 collision); a miss, or a slot another URL took over, costs the
/// read it always cost.
#[derive(Clone)]
struct SeenCache {
    slots: Box<[u128]>,
    hasher: ahash::RandomState,
}

impl SeenCache {
    fn new() -> SeenCache {
        SeenCache {
            slots: vec![0; SEEN_CACHE_SLOTS].into_boxed_slice(),
            hasher: ahash::RandomState::new(),
        }
    }

    /// The URL's fingerprint (never 0, which marks an empty slot) and its slot.
    fn locate(&self, url: &[u8]) -> (u128, usize) {
        let low = self.hasher.hash_one(url);
        // A second, independent 64 bits: the same hasher over the URL and a tag.
        let high = self.hasher.hash_one((url, 0x5EE4u16));
        let fp = (u128::from(high) << 64 | u128::from(low)).max(1);
        (fp, usize::try_from(low).unwrap_or(0) % SEEN_CACHE_SLOTS)
    }

    fn contains(&self, url: &[u8]) -> bool {
        let (fp, slot) = self.locate(url);
        self.slots[slot] == fp
    }

    /// Records a URL that is in `seen`.
    fn add(&mut self, url: &[u8]) {
        let (fp, slot) = self.locate(url);
        self.slots[slot] = fp;
    }
}

impl std::fmt::Debug for SledFrontier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledFrontier")
            .field("queued", &self.queue.len())
            .finish()
    }
}

pub(super) fn tree_names(run: RunId) -> [String; 3] {
    ["seen", "queue", "inflight"].map(|t| format!("frontier.{}.{t}", run.0))
}

fn err(e: impl std::fmt::Display) -> FrontierError {
    FrontierError(e.to_string())
}

fn queue_key(host: &str, seq: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(host.len() + 9);
    k.extend_from_slice(host.as_bytes());
    k.push(0);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn host_prefix(host: &str) -> Vec<u8> {
    let mut k = host.as_bytes().to_vec();
    k.push(0);
    k
}

/// A host's queued entries after its cursor (those not taken yet), in FIFO order.
fn untaken(queue: &sled::Tree, host: &str, cursor: Option<&Vec<u8>>) -> sled::Iter {
    let prefix = host_prefix(host);
    match cursor {
        Some(after) => {
            let mut end = prefix.clone();
            // The byte after the separator: every key of this host sorts below it.
            if let Some(last) = end.last_mut() {
                *last = 1;
            }
            queue.range::<&[u8], _>((
                std::ops::Bound::Excluded(&after[..]),
                std::ops::Bound::Excluded(&end[..]),
            ))
        }
        None => queue.scan_prefix(prefix),
    }
}

impl SledFrontier {
    /// Opens (or creates) the frontier of `run`. Entries left in flight by a crash or a stop
    /// go back to the queue.
    pub(super) fn open(db: &sled::Db, run: RunId) -> Result<SledFrontier, StoreError> {
        let [seen, queue, inflight] = tree_names(run);
        let f = SledFrontier {
            db: db.clone(),
            seen: db.open_tree(seen)?,
            queue: db.open_tree(queue)?,
            inflight: db.open_tree(inflight)?,
            pending: Arc::default(),
            known: SeenCache::new(),
        };
        let stranded: Vec<(sled::IVec, sled::IVec)> =
            f.inflight.iter().collect::<Result<_, _>>()?;
        for (url, v) in stranded {
            let entry: Entry = decode("frontier", &url, &v)?;
            f.enqueue_moving_from_inflight(&entry)?;
        }
        let mut pending = Pending::default();
        for k in f.queue.iter().keys() {
            let k = k?;
            let end = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            pending.add(&String::from_utf8_lossy(&k[..end]));
        }
        *f.pending.lock().unwrap_or_else(PoisonError::into_inner) = pending;
        Ok(f)
    }

    /// Entries queued (not in flight).
    pub fn queued(&self) -> usize {
        let p = self.lock();
        usize::try_from(p.counts.values().sum::<u64>()).unwrap_or(usize::MAX)
    }

    /// Entries taken for fetching and not yet done.
    pub fn in_flight(&self) -> usize {
        self.lock().taken.len()
    }

    fn enqueue_moving_from_inflight(&self, entry: &Entry) -> Result<(), StoreError> {
        let key = queue_key(entry.host(), self.db.generate_id()?);
        let value = encode(entry);
        (&self.queue, &self.inflight)
            .transaction(|(q, i)| {
                q.insert(key.as_slice(), value.as_slice())?;
                i.remove(entry.url.as_str().as_bytes())?;
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })
            .map_err(StoreError::from)?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A poisoned lock means another thread panicked mid-update of plain counters; the
        // counts are still a usable hint (the trees are the truth).
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Frontier for SledFrontier {
    fn is_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        let url = url.as_str().as_bytes();
        if self.known.contains(url) {
            return Ok(true);
        }
        let seen = self.seen.contains_key(url)?;
        if seen {
            self.known.add(url);
        }
        Ok(seen)
    }

    fn mark_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        let url = url.as_str().as_bytes();
        if self.known.contains(url) {
            return Ok(false);
        }
        let new = self.seen.insert(url, &[])?.is_none();
        self.known.add(url);
        Ok(new)
    }

    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        // Most links point at pages seen already: a read (or the cache) settles those
        // without a write.
        if self.is_seen(&entry.url)? {
            return Ok(false);
        }
        let url = entry.url.as_str().as_bytes();
        // Queued before marked seen. sled recovers a prefix of the writes, so a kill between
        // the two leaves an entry queued and unseen (fetched again if found again: ingest is
        // idempotent within a run). The other order could leave it seen and never queued,
        // a page silently missing from the resumed crawl.
        let key = queue_key(entry.host(), self.db.generate_id().map_err(err)?);
        self.queue
            .insert(key.as_slice(), encode(&entry))
            .map_err(err)?;
        let raced = self.seen.insert(url, &[])?.is_some();
        self.known.add(url);
        if raced {
            // The scheduler and the writer both push: the other one queued it meanwhile.
            self.queue.remove(key).map_err(err)?;
            return Ok(false);
        }
        self.lock().add(entry.host());
        Ok(true)
    }

    fn requeue(&mut self, entry: Entry) -> Result<(), FrontierError> {
        self.seen
            .insert(entry.url.as_str().as_bytes(), &[])
            .map_err(err)?;
        // To the back of the host's queue: the new key is written before the old one goes, so
        // a crash between the two leaves the entry queued twice (fetched again, harmlessly:
        // ingest is idempotent within a run), never lost.
        let key = queue_key(entry.host(), self.db.generate_id().map_err(err)?);
        self.queue.insert(key, encode(&entry)).map_err(err)?;
        let old = self.lock().taken.remove(entry.url.as_str());
        if let Some(old) = old {
            self.queue.remove(old).map_err(err)?;
        }
        self.lock().add(entry.host());
        Ok(())
    }

    fn peek_host(&self, host: &str) -> Result<Option<Entry>, FrontierError> {
        let next = {
            let p = self.lock();
            untaken(&self.queue, host, p.cursors.get(host)).next()
        };
        match next {
            Some(kv) => {
                let (k, v) = kv.map_err(err)?;
                Ok(Some(decode("frontier", &k, &v).map_err(err)?))
            }
            None => Ok(None),
        }
    }

    fn pop_ready(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError> {
        let mut pending = self.lock();
        for _ in 0..pending.order.len() {
            let Some(host) = pending.order.pop_front() else {
                break;
            };
            if !ready(&host) {
                pending.order.push_back(host);
                continue;
            }
            let first = untaken(&self.queue, &host, pending.cursors.get(&host))
                .next()
                .transpose()
                .map_err(err)?;
            let Some((key, value)) = first else {
                // The count was stale (entries taken elsewhere): forget the host.
                pending.counts.remove(&host);
                continue;
            };
            let entry: Entry = decode("frontier", &key, &value).map_err(err)?;
            // Nothing is written: the entry stays queued until it is done, so a crash now
            // finds it queued on resume and it is fetched again.
            pending.cursors.insert(host.clone(), key.to_vec());
            pending
                .taken
                .insert(entry.url.as_str().to_string(), key.to_vec());
            let n = pending.counts.entry(host.clone()).or_default();
            *n = n.saturating_sub(1);
            if *n > 0 {
                pending.order.push_back(host);
            } else {
                pending.counts.remove(&host);
            }
            return Ok(Some(entry));
        }
        Ok(None)
    }

    fn done(&mut self, url: &Url) -> Result<(), FrontierError> {
        let key = self.lock().taken.remove(url.as_str());
        if let Some(key) = key {
            self.queue.remove(key).map_err(err)?;
        }
        Ok(())
    }

    fn pending_hosts(&self) -> Vec<String> {
        self.lock().order.iter().cloned().collect()
    }

    fn drain(&mut self) -> Result<Vec<Entry>, FrontierError> {
        let taken: std::collections::HashSet<Vec<u8>> =
            self.lock().taken.values().cloned().collect();
        let mut out = Vec::new();
        for kv in self.queue.iter() {
            let (k, v) = kv.map_err(err)?;
            if taken.contains(&k[..]) {
                continue;
            }
            out.push(decode("frontier", &k, &v).map_err(err)?);
            self.queue.remove(k).map_err(err)?;
        }
        let mut p = self.lock();
        p.counts.clear();
        p.order.clear();
        Ok(out)
    }

    fn is_empty(&self) -> bool {
        self.lock().order.is_empty()
    }
}

impl From<sled::Error> for FrontierError {
    fn from(e: sled::Error) -> Self {
        err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{PageKind, Placement};
    use crate::store::Store;

    fn e(u: &str) -> Entry {
        Entry {
            url: Url::parse(u).unwrap(),
            depth: 0,
            placement: Placement {
                site: 0,
                kind: PageKind::Listing,
            },
            attempt: 0,
            modified: None,
            carried: None,
        }
    }

    fn all(_: &str) -> bool {
        true
    }

    #[test]
    fn the_seen_cache_never_hides_a_new_url() {
        // Four times as many URLs as cache slots, so slots are taken over again and again.
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(1)).unwrap();
        let n = 4 * SEEN_CACHE_SLOTS;
        let url = |i: usize| Url::parse(&format!("http://a.test/{i}")).unwrap();
        for i in 0..n {
            assert!(f.mark_seen(&url(i)).unwrap(), "{i} is new");
        }
        for i in (0..n).step_by(7) {
            assert!(!f.mark_seen(&url(i)).unwrap(), "{i} was seen");
            assert!(!f.push(e(url(i).as_str())).unwrap(), "{i} was seen");
        }
        assert!(f.is_seen(&url(n - 1)).unwrap());
        assert!(!f
            .is_seen(&Url::parse("http://a.test/never").unwrap())
            .unwrap());
        // A second handle on the same run (the scheduler's and the writer's) agrees.
        let mut other = store.frontier(RunId(1)).unwrap();
        assert!(other.is_seen(&url(5)).unwrap());
        assert!(!other.push(e(url(3).as_str())).unwrap());
        assert!(other.push(e("http://a.test/new")).unwrap());
        assert!(!f.push(e("http://a.test/new")).unwrap());
    }

    #[test]
    fn each_url_is_queued_once_per_run() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(1)).unwrap();
        assert!(f.push(e("http://a.test/1")).unwrap());
        assert!(!f.push(e("http://a.test/1")).unwrap());
        assert!(!f
            .mark_seen(&Url::parse("http://a.test/1").unwrap())
            .unwrap());
        let mut other_run = store.frontier(RunId(2)).unwrap();
        assert!(other_run.push(e("http://a.test/1")).unwrap());
    }

    #[test]
    fn hosts_are_served_round_robin_and_can_be_held_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(1)).unwrap();
        for u in ["http://a.test/1", "http://a.test/2", "http://b.test/1"] {
            f.push(e(u)).unwrap();
        }
        assert_eq!(
            f.pop_ready(&mut all).unwrap().unwrap().url.as_str(),
            "http://a.test/1"
        );
        assert_eq!(
            f.pop_ready(&mut all).unwrap().unwrap().url.as_str(),
            "http://b.test/1"
        );
        let mut not_a = |h: &str| h != "a.test";
        assert_eq!(f.pop_ready(&mut not_a).unwrap(), None);
        assert_eq!(f.pending_hosts(), vec!["a.test".to_string()]);
        assert_eq!(
            f.peek_host("a.test").unwrap().unwrap().url.as_str(),
            "http://a.test/2"
        );
        assert_eq!(
            f.pop_ready(&mut all).unwrap().unwrap().url.as_str(),
            "http://a.test/2"
        );
        assert!(f.is_empty());
        assert_eq!(f.in_flight(), 3);
    }

    #[test]
    fn in_flight_entries_return_to_the_queue_on_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let mut f = store.frontier(RunId(7)).unwrap();
            f.push(e("http://a.test/1")).unwrap();
            f.push(e("http://a.test/2")).unwrap();
            let taken = f.pop_ready(&mut all).unwrap().unwrap();
            f.done(&taken.url).unwrap();
            f.pop_ready(&mut all).unwrap().unwrap();
            assert_eq!((f.queued(), f.in_flight()), (0, 1));
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(7)).unwrap();
        assert_eq!((f.queued(), f.in_flight()), (1, 0));
        assert_eq!(
            f.pop_ready(&mut all).unwrap().unwrap().url.as_str(),
            "http://a.test/2"
        );
        // Seen survives too: a rediscovered link is not queued again.
        assert!(!f.push(e("http://a.test/1")).unwrap());
    }

    #[test]
    fn a_kill_between_queueing_and_marking_seen_loses_nothing() {
        // The state a kill between push's two writes leaves (sled keeps a prefix of them):
        // queued, not yet seen. The entry is fetched on resume; found again, it is queued a
        // second time rather than dropped.
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            let f = store.frontier(RunId(3)).unwrap();
            let entry = e("http://a.test/1");
            f.queue
                .insert(queue_key("a.test", 1), encode(&entry))
                .unwrap();
            store.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(3)).unwrap();
        assert_eq!(f.queued(), 1);
        assert!(f.push(e("http://a.test/1")).unwrap());
        let urls: Vec<String> = std::iter::from_fn(|| f.pop_ready(&mut all).unwrap())
            .map(|e| e.url.to_string())
            .collect();
        assert_eq!(urls, ["http://a.test/1", "http://a.test/1"]);
        assert!(!f.push(e("http://a.test/1")).unwrap());
    }

    #[test]
    fn requeue_and_drain() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mut f = store.frontier(RunId(1)).unwrap();
        f.push(e("http://a.test/1")).unwrap();
        let first = f.pop_ready(&mut all).unwrap().unwrap();
        f.requeue(Entry {
            attempt: 1,
            ..first
        })
        .unwrap();
        assert_eq!(f.in_flight(), 0);
        assert_eq!(f.pop_ready(&mut all).unwrap().unwrap().attempt, 1);
        f.push(e("http://b.test/1")).unwrap();
        assert_eq!(f.drain().unwrap().len(), 1);
        assert!(f.is_empty());
    }
}
