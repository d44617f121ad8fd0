//! The shared frontier: one cluster run's queue in Redis, behind the crate's `Frontier` trait.
//!
//! Keys (prefix `trawl:r{N}:`): `seen` (set of URLs), `q:{host}` (list of queue items),
//! `hosts` (set of hosts with queued items), `inflight:e` (hash URL → owner, host, item),
//! `inflight:d` (sorted set URL → deadline), `lease:{host}` (owner, with a TTL), `workers`
//! (sorted set worker → alive until), `w:{worker}` (its counters).
//!
//! A worker only takes entries of hosts it holds a lease on ([`super::scripts::POP`] checks
//! it), a few at a time into a local buffer, each moving atomically into the in-flight set
//! with a deadline. The heartbeat renews deadlines and leases; a vanished worker's entries go
//! back to the queue when their deadline passes. Finished pages are reported in batches:
//! the worker's store is flushed first, then one script queues their links and marks them
//! done, so Redis never forgets a page the store could still lose.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use url::Url;

use super::{dedup_prefix, entry_of, item_of, lock, scripts, ClusterError, Conn, Shared};
use crate::frontier::{Entry, Frontier, FrontierError};
use crate::store::Store;

/// Entries taken from a host's queue per round trip: two rounds of a host's request slots at
/// the default per-host concurrency, without holding much that another worker could have
/// taken (a host's entries go to one worker at a time anyway, the lease holder).
const PER_POP: usize = 16;
/// Finished pages batched before the writer reports them even if more are waiting.
const MAX_BATCH: usize = 512;
/// How long finished pages may wait to be reported: each report costs a store flush (an
/// fsync), so they are grouped; meanwhile their entries stay in flight, renewed. Every
/// 250 ms the flushes were a tenth of a worker's system time; the wait only delays the end
/// of a crawl (the last pages' report) by up to this much.
const DONE_EVERY: Duration = Duration::from_millis(1000);
/// How long links may wait to be queued while the writer is busy: they are what the crawl
/// waits for, so they go often, several pages' worth per round trip.
const PUSH_EVERY: Duration = Duration::from_millis(10);

/// A client of the shared frontier. Each clone has its own connection and its own batch of
/// finished pages; leases and in-flight bookkeeping are shared with the heartbeat.
pub struct RedisFrontier {
    conn: Conn,
    shared: Arc<Mutex<Shared>>,
    prefix: String,
    /// The dedup index's prefix (URLs' last versions go there with a report).
    dedup: String,
    me: String,
    deadline_ms: u64,
    tick: Duration,
    store: Store,
    pushes: Vec<Entry>,
    done: Vec<String>,
    last_push: Instant,
    last_done: Instant,
}

impl std::fmt::Debug for RedisFrontier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFrontier")
            .field("prefix", &self.prefix)
            .field("worker", &self.me)
            .finish()
    }
}

impl Clone for RedisFrontier {
    /// Another connection and an empty batch of its own; leases and bookkeeping shared.
    fn clone(&self) -> Self {
        RedisFrontier::new(
            self.conn.another("frontier"),
            self.shared.clone(),
            self.prefix.clone(),
            self.me.clone(),
            self.deadline_ms,
            self.tick,
            self.store.clone(),
        )
    }
}

fn err(e: ClusterError) -> FrontierError {
    FrontierError(e.to_string())
}

impl RedisFrontier {
    pub(super) fn new(
        conn: Conn,
        shared: Arc<Mutex<Shared>>,
        prefix: String,
        me: String,
        deadline_ms: u64,
        tick: Duration,
        store: Store,
    ) -> RedisFrontier {
        RedisFrontier {
            conn,
            shared,
            prefix,
            dedup: dedup_prefix(),
            me,
            deadline_ms,
            tick,
            store,
            pushes: Vec::new(),
            done: Vec::new(),
            last_push: Instant::now(),
            last_done: Instant::now(),
        }
    }

    /// Hosts with queued entries in the whole cluster, at the last heartbeat.
    pub fn queued(&self) -> usize {
        lock(&self.shared).snapshot.hosts_with_work as usize
    }

    /// Holds links until the next [`RedisFrontier::flush_batch`].
    pub fn push_later(&mut self, links: Vec<Entry>) {
        self.pushes.extend(links);
    }

    /// When the next heartbeat will have refreshed leases and the cluster's counts.
    pub fn wake_at(&self) -> Instant {
        let last = lock(&self.shared).last_tick.unwrap_or_else(Instant::now);
        last + self.tick + Duration::from_millis(5)
    }

    /// Reports what is due, for a writer with nothing waiting: links at once (the crawl may
    /// be waiting for them), finished pages once [`DONE_EVERY`] has passed since the last
    /// report. `None` when nothing is left to report, else how long to wait before asking
    /// again.
    pub fn flush_if_due(&mut self) -> Result<Option<Duration>, ClusterError> {
        if !self.pushes.is_empty() {
            self.send(false)?;
        }
        if self.done.is_empty() {
            return Ok(None);
        }
        let due = self.last_done + DONE_EVERY;
        let now = Instant::now();
        if now < due {
            return Ok(Some(due - now));
        }
        self.send(true)?;
        Ok(None)
    }

    /// Reports everything batched, now.
    pub fn flush_batch(&mut self) -> Result<(), ClusterError> {
        self.send(true)
    }

    /// Queues the batched links and, with `with_done`, flushes the store and marks the
    /// batched pages done, in one script. Links may go before their page is durable (a page
    /// fetched again after a crash offers them again, and the seen set drops them), but a
    /// page is done in Redis only once everything it wrote is durable in the store.
    fn send(&mut self, with_done: bool) -> Result<(), ClusterError> {
        self.last_push = Instant::now();
        if with_done {
            self.last_done = self.last_push;
        }
        let no_done = !with_done || self.done.is_empty();
        if self.pushes.is_empty() && no_done {
            return Ok(());
        }
        if !no_done {
            let t = Instant::now();
            self.store.flush()?;
            tracing::debug!(
                ms = t.elapsed().as_secs_f64() * 1000.0,
                pages = self.done.len(),
                "store flushed before reporting pages done"
            );
        }
        let pushes: Vec<(String, String, String)> = self
            .pushes
            .iter()
            .map(|e| (e.url.to_string(), e.host().to_string(), item_of(e)))
            .collect();
        // Taken now, sent below: at the latest with the done mark of the page they belong to
        // (claimed before the page was marked done). Put back if the report fails.
        let versions = std::mem::take(&mut lock(&self.shared).url_updates);
        let none = Vec::new();
        let (prefix, me, dedup) = (&self.prefix, &self.me, &self.dedup);
        let done = if no_done { &none } else { &self.done };
        let sent = self.conn.run(|con| {
            let mut inv = scripts::PUSH_DONE.arg(prefix);
            inv.arg(dedup).arg(me).arg(pushes.len());
            for (url, host, item) in &pushes {
                inv.arg(url).arg(host).arg(item);
            }
            inv.arg(versions.len());
            for (url, last) in &versions {
                inv.arg(url).arg(&last[..]);
            }
            for url in done {
                inv.arg(url);
            }
            inv.invoke::<i64>(con)
        });
        if let Err(e) = sent {
            let mut s = lock(&self.shared);
            let newer = std::mem::replace(&mut s.url_updates, versions);
            s.url_updates.extend(newer);
            return Err(e);
        }
        let mut s = lock(&self.shared);
        // Links for hosts this worker holds can be taken without waiting for the heartbeat
        // to see them (an estimate: some were seen before; a pop that finds none corrects it).
        for e in &self.pushes {
            if let Some(lease) = s.held.get_mut(e.host()) {
                lease.queued += 1;
            }
        }
        self.pushes.clear();
        if !no_done {
            for url in self.done.drain(..) {
                if let Some((host, _)) = s.taken.remove(&url) {
                    if let Some(lease) = s.held.get_mut(&host) {
                        lease.busy = lease.busy.saturating_sub(1);
                    }
                }
            }
        }
        Ok(())
    }

    fn push_now(&mut self, entries: &[Entry]) -> Result<i64, ClusterError> {
        let items: Vec<(String, String, String)> = entries
            .iter()
            .map(|e| (e.url.to_string(), e.host().to_string(), item_of(e)))
            .collect();
        let (prefix, me, dedup) = (&self.prefix, &self.me, &self.dedup);
        let fresh = self.conn.run(|con| {
            let mut inv = scripts::PUSH_DONE.arg(prefix);
            inv.arg(dedup).arg(me).arg(items.len());
            for (url, host, item) in &items {
                inv.arg(url).arg(host).arg(item);
            }
            inv.arg(0).invoke::<i64>(con)
        })?;
        lock(&self.shared).generation += 1;
        Ok(fresh)
    }

    /// Takes up to [`PER_POP`] entries of `host` into flight and into the local buffer.
    /// Returns false when there were none (or the lease is gone).
    fn refill(&mut self, host: &str) -> Result<bool, ClusterError> {
        let (prefix, me, deadline) = (&self.prefix, &self.me, self.deadline_ms);
        let reply: Vec<redis::Value> = self.conn.run(|con| {
            scripts::POP
                .arg(prefix)
                .arg(me)
                .arg(host)
                .arg(PER_POP)
                .arg(deadline)
                .invoke(con)
        })?;
        let left = match reply.first() {
            Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
            _ => 0,
        };
        let mut items = Vec::with_capacity(reply.len());
        for v in reply.iter().skip(1) {
            match v {
                redis::Value::BulkString(b) => items.push(String::from_utf8_lossy(b).into_owned()),
                other => {
                    return Err(ClusterError::Corrupt {
                        url: self.conn.url().to_string(),
                        detail: format!("unexpected queue item {other:?}"),
                    })
                }
            }
        }
        let mut s = lock(&self.shared);
        if let Some(lease) = s.held.get_mut(host) {
            lease.queued = left;
        }
        if items.is_empty() {
            return Ok(false);
        }
        let mut decoded = Vec::with_capacity(items.len());
        for item in items {
            let entry = entry_of(self.conn.url(), &item)?;
            s.taken
                .insert(entry.url.to_string(), (host.to_string(), item.clone()));
            decoded.push((entry, item));
        }
        s.host(host).buffer.extend(decoded);
        Ok(true)
    }
}

impl Frontier for RedisFrontier {
    fn is_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        let key = format!("{}seen", self.prefix);
        let member: i64 = self
            .conn
            .run(|con| {
                redis::cmd("SISMEMBER")
                    .arg(&key)
                    .arg(url.as_str())
                    .query(con)
            })
            .map_err(err)?;
        Ok(member == 1)
    }

    fn mark_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        let key = format!("{}seen", self.prefix);
        let added: i64 = self
            .conn
            .run(|con| redis::cmd("SADD").arg(&key).arg(url.as_str()).query(con))
            .map_err(err)?;
        Ok(added == 1)
    }

    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        Ok(self.push_now(std::slice::from_ref(&entry)).map_err(err)? > 0)
    }

    fn requeue(&mut self, entry: Entry) -> Result<(), FrontierError> {
        let url = entry.url.to_string();
        let host = entry.host().to_string();
        let item = item_of(&entry);
        let (prefix, me) = (&self.prefix, &self.me);
        self.conn
            .run(|con| {
                scripts::REQUEUE
                    .arg(prefix)
                    .arg(me)
                    .arg("0")
                    .arg(&url)
                    .arg(&host)
                    .arg(&item)
                    .invoke::<i64>(con)
            })
            .map_err(err)?;
        let mut s = lock(&self.shared);
        if s.taken.remove(&url).is_some() {
            if let Some(lease) = s.held.get_mut(&host) {
                lease.busy = lease.busy.saturating_sub(1);
                lease.queued += 1;
            }
        }
        Ok(())
    }

    fn peek_host(&self, host: &str) -> Result<Option<Entry>, FrontierError> {
        // Only a URL of the host is needed (for its robots.txt): no round trip.
        let s = lock(&self.shared);
        Ok(s.held.get(host).and_then(|l| {
            l.buffer
                .front()
                .map(|(e, _)| e.clone())
                .or_else(|| l.sample.clone())
        }))
    }

    fn pop_ready(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError> {
        let hosts: Vec<String> = lock(&self.shared).order.iter().cloned().collect();
        for _ in 0..hosts.len() {
            let (host, has_buffer, has_queue) = {
                let mut s = lock(&self.shared);
                let Some(host) = s.order.pop_front() else {
                    return Ok(None);
                };
                s.order.push_back(host.clone());
                match s.held.get(&host) {
                    // A draining host still gives its first page: that proves its robots.txt
                    // request is over, so the lease can go without two workers overlapping.
                    Some(l) if !l.draining || !l.popped_any => {
                        (host, !l.buffer.is_empty(), l.queued > 0)
                    }
                    _ => continue,
                }
            };
            if !(has_buffer || has_queue) || !ready(&host) {
                continue;
            }
            if !has_buffer && !self.refill(&host).map_err(err)? {
                continue;
            }
            let mut s = lock(&self.shared);
            let Some(lease) = s.held.get_mut(&host) else {
                continue;
            };
            if let Some((entry, _)) = lease.buffer.pop_front() {
                lease.busy += 1;
                lease.popped_any = true;
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    fn done(&mut self, url: &Url) -> Result<(), FrontierError> {
        self.done.push(url.to_string());
        // While writes keep coming the writer never idles: report on a clock anyway, so links
        // reach the queue and finished pages leave the in-flight set.
        if self.done.len() >= MAX_BATCH || self.last_done.elapsed() >= DONE_EVERY {
            self.send(true).map_err(err)?;
        } else if self.last_push.elapsed() >= PUSH_EVERY {
            self.send(false).map_err(err)?;
        }
        Ok(())
    }

    fn pending_hosts(&self) -> Vec<String> {
        let s = lock(&self.shared);
        s.order
            .iter()
            .filter(|h| {
                s.held.get(*h).is_some_and(|l| {
                    (!l.draining || !l.popped_any) && (l.queued > 0 || !l.buffer.is_empty())
                })
            })
            .cloned()
            .collect()
    }

    fn drain(&mut self) -> Result<Vec<Entry>, FrontierError> {
        // The queue belongs to every worker of the run: one worker's page limit leaves it to
        // the others.
        Ok(Vec::new())
    }

    fn is_empty(&self) -> bool {
        // Finished for the whole cluster: nothing queued and nothing in flight anywhere
        // (links are queued in the same step that marks their page done, so nothing in
        // flight means no more links can come), and nothing of ours waiting to be reported.
        let s = lock(&self.shared);
        let snap = s.snapshot;
        snap.ticked
            && snap.generation == s.generation
            && (snap.finished || (snap.hosts_with_work == 0 && snap.in_flight == 0))
            && s.taken.is_empty()
            && self.pushes.is_empty()
            && self.done.is_empty()
    }
}
