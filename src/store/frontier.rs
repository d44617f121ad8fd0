//! The persistent frontier: one run's queue in sled, so a crash or Ctrl-C loses nothing.
//!
//! Three trees per run: `seen` (every URL the run has queued or decided on: the seen set lives
//! on disk, not in memory), `queue` (host ‖ 0 ‖ sequence → entry, so each host's queue is a
//! key range in FIFO order) and `inflight` (URL → entry taken for fetching). Taking an entry
//! writes it to `inflight`, then removes it from `queue`; reopening the run moves everything
//! still in flight back to the queue, so URLs that were being fetched at a crash are fetched
//! again. In memory there is only a count of queued entries per host.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use sled::transaction::{ConflictableTransactionError, TransactionError, Transactional};
use url::Url;

use super::{decode, encode, StoreError};
use crate::frontier::{Entry, Frontier, FrontierError};
use crate::model::RunId;

/// Queued entries per host, and the round-robin order of hosts that have some.
#[derive(Debug, Default)]
struct Pending {
    counts: HashMap<String, u64>,
    order: VecDeque<String>,
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
        self.queue.len()
    }

    /// Entries taken for fetching and not yet done.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
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
            .map_err(flatten)?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A poisoned lock means another thread panicked mid-update of plain counters; the
        // counts are still a usable hint (the trees are the truth).
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn flatten(e: TransactionError<StoreError>) -> StoreError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => StoreError::Sled(e),
    }
}

impl Frontier for SledFrontier {
    fn mark_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        Ok(self.seen.insert(url.as_str().as_bytes(), &[])?.is_none())
    }

    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        if !self.mark_seen(&entry.url)? {
            return Ok(false);
        }
        let key = queue_key(entry.host(), self.db.generate_id().map_err(err)?);
        self.queue.insert(key, encode(&entry)).map_err(err)?;
        self.lock().add(entry.host());
        Ok(true)
    }

    fn requeue(&mut self, entry: Entry) -> Result<(), FrontierError> {
        self.seen
            .insert(entry.url.as_str().as_bytes(), &[])
            .map_err(err)?;
        self.enqueue_moving_from_inflight(&entry).map_err(err)?;
        self.lock().add(entry.host());
        Ok(())
    }

    fn peek_host(&self, host: &str) -> Result<Option<Entry>, FrontierError> {
        match self.queue.scan_prefix(host_prefix(host)).next() {
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
            let first = self
                .queue
                .scan_prefix(host_prefix(&host))
                .next()
                .transpose()
                .map_err(err)?;
            let Some((key, value)) = first else {
                // The count was stale (entries taken elsewhere): forget the host.
                pending.counts.remove(&host);
                continue;
            };
            let entry: Entry = decode("frontier", &key, &value).map_err(err)?;
            // In flight first, then out of the queue: a crash between the two leaves the entry
            // in both, so it is fetched again on resume, which ingest makes harmless (it is
            // idempotent within a run). No transaction needed, and sled transactions are
            // costly in memory at millions of operations.
            self.inflight
                .insert(entry.url.as_str().as_bytes(), &value)
                .map_err(err)?;
            self.queue.remove(&key).map_err(err)?;
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
        self.inflight.remove(url.as_str().as_bytes()).map_err(err)?;
        Ok(())
    }

    fn pending_hosts(&self) -> Vec<String> {
        self.lock().order.iter().cloned().collect()
    }

    fn drain(&mut self) -> Result<Vec<Entry>, FrontierError> {
        let mut out = Vec::new();
        for kv in self.queue.iter() {
            let (k, v) = kv.map_err(err)?;
            out.push(decode("frontier", &k, &v).map_err(err)?);
            self.queue.remove(k).map_err(err)?;
        }
        *self.lock() = Pending::default();
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
