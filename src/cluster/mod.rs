//! Scaling out: several crawl workers share one frontier and one dedup index in Redis, each
//! writing its own sled store; `trawl merge` unions the stores afterwards.
//!
//! - [`conn`]: a Redis connection that pauses and retries while Redis is away.
//! - [`scripts`]: the Lua scripts that make each multi-key step atomic.
//! - [`frontier`]: [`RedisFrontier`], the shared frontier behind the crate's `Frontier` trait,
//!   with host leases and the reliable in-flight set.
//! - [`claim`]: content-hash and near-duplicate claims, so one article gets one record id
//!   across workers.
//! - [`status`]: what `trawl cluster status` reports.
//! - [`merge`]: unions worker stores by record id.
//!
//! [`Cluster`] is one worker's membership: it joins the current cluster run, runs the
//! heartbeat (a thread that renews leases and deadlines and takes hosts over), and hands out
//! frontier and claim clients. Without `--cluster` none of this runs.

pub mod claim;
pub mod conn;
pub mod frontier;
pub mod merge;
pub mod scripts;
pub mod status;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thiserror::Error;
use url::Url;

use crate::config::ClusterSettings;
use crate::frontier::{Entry, Frontier, FrontierError};
use crate::model::RunId;
use crate::store::frontier::SledFrontier;
use crate::store::{Store, StoreError};
pub use claim::Claims;
pub use conn::Conn;
pub use frontier::RedisFrontier;

/// Prefix of every key trawl writes in Redis.
pub const PREFIX: &str = "trawl:";

/// The oldest Redis the scripts run on (`LPOP` with a count and `SMISMEMBER` came in 6.2).
pub const MIN_REDIS: &str = "6.2";

/// What can go wrong with the cluster (Redis being away is not an error: it is waited out).
#[derive(Debug, Error)]
pub enum ClusterError {
    /// The URL does not name a Redis server.
    #[error("cluster URL {url}: {detail}; expected redis://HOST:PORT/DB")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        detail: String,
    },
    /// Something answers at the address, but it is not Redis.
    #[error(
        "{url} does not answer like a Redis server ({detail}); check --cluster's host and port"
    )]
    NotRedis {
        /// The URL as given.
        url: String,
        /// What it answered.
        detail: String,
    },
    /// Nothing answers at the address (only reported where waiting makes no sense).
    #[error("Redis at {url} is unreachable ({detail}); start it or check --cluster")]
    Unreachable {
        /// The URL as given.
        url: String,
        /// The connection error.
        detail: String,
    },
    /// The server is Redis, but older than the commands the scripts use.
    #[error(
        "Redis at {url} is version {version}; trawl needs Redis {MIN_REDIS} or later (its scripts use LPOP with a count and SMISMEMBER)"
    )]
    TooOld {
        /// The server.
        url: String,
        /// The version it reported.
        version: String,
    },
    /// Redis refused a command (out of memory, a script error, a permission).
    #[error("Redis at {url} failed a command: {detail}")]
    Redis {
        /// The server.
        url: String,
        /// Redis's message.
        detail: String,
    },
    /// Redis holds a value trawl did not write, or wrote with another version.
    #[error("unexpected data in Redis at {url}: {detail}")]
    Corrupt {
        /// The server.
        url: String,
        /// What did not decode.
        detail: String,
    },
    /// The worker's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ClusterError {
    /// Whether the user must fix what they asked for (exit code 2) rather than a failure
    /// while running.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            ClusterError::BadUrl { .. }
                | ClusterError::NotRedis { .. }
                | ClusterError::TooOld { .. }
        )
    }
}

impl From<ClusterError> for FrontierError {
    fn from(e: ClusterError) -> Self {
        FrontierError(e.to_string())
    }
}

/// Key prefix of cluster run `run`.
pub fn run_prefix(run: RunId) -> String {
    format!("{PREFIX}r{}:", run.0)
}

/// Key prefix of the dedup index, which spans runs like a store's hash index does.
pub fn dedup_prefix() -> String {
    format!("{PREFIX}d:")
}

/// One host this worker holds a lease on.
#[derive(Debug, Default)]
struct HostLease {
    /// Entries queued in Redis at the last tick.
    queued: u64,
    /// Entries taken from Redis (in flight there) and not yet handed to the scheduler, with
    /// their queue items.
    buffer: VecDeque<(Entry, String)>,
    /// Entries handed to the scheduler and not yet done or put back: while any are, the lease
    /// is kept, so no other worker can start requests on the host.
    busy: usize,
    /// An entry of the host (for its robots.txt URL).
    sample: Option<Entry>,
    /// Over the fair share: take nothing more, release once idle.
    draining: bool,
    /// Since when nothing was queued, buffered or in flight (at heartbeats).
    idle_since: Option<Instant>,
    /// Whether an entry was handed to the scheduler since the lease was taken. The scheduler
    /// fetches a host's robots.txt before its first page, and that request is not an entry:
    /// until a page has gone, one may be in flight, so the host is not given up.
    popped_any: bool,
}

/// What the last tick saw of the whole cluster.
#[derive(Clone, Copy, Debug, Default)]
struct Snapshot {
    hosts_with_work: u64,
    in_flight: u64,
    finished: bool,
    ticked: bool,
    /// [`Shared::generation`] when the tick began.
    generation: u64,
}

/// State shared by the heartbeat, the scheduler's frontier and the writer's frontier.
#[derive(Debug, Default)]
struct Shared {
    held: BTreeMap<String, HostLease>,
    /// Round-robin order over held hosts.
    order: VecDeque<String>,
    /// URL → (host, queue item) of every entry this worker has in flight in Redis.
    taken: HashMap<String, (String, String)>,
    snapshot: Snapshot,
    last_tick: Option<Instant>,
    /// Bumped by every direct push: a tick that began before it cannot vouch for an empty
    /// cluster.
    generation: u64,
    /// URL → last version (hash ‖ record) of claims answered without Redis, for the writer's
    /// next report (see `Claims::claim`).
    url_updates: Vec<(String, [u8; 48])>,
}

impl Shared {
    fn host(&mut self, host: &str) -> &mut HostLease {
        if !self.held.contains_key(host) {
            self.order.push_back(host.to_string());
        }
        self.held.entry(host.to_string()).or_default()
    }

    fn forget(&mut self, host: &str) {
        self.held.remove(host);
        self.order.retain(|h| h != host);
    }
}

/// Locks the shared state. A poisoned lock means a thread panicked mid-update of plain
/// bookkeeping; Redis is the truth and the next tick corrects the rest, so carry on.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What a queue item carries besides its URL, with one-letter keys and defaults left out:
/// a queue item is stored twice (in its queue, then in the in-flight hash) and crosses the
/// network three times, and as the entry's own JSON it repeated the URL and every key.
#[derive(serde::Serialize, serde::Deserialize)]
struct Item {
    #[serde(rename = "d")]
    depth: u32,
    #[serde(rename = "p")]
    placement: crate::scope::Placement,
    #[serde(rename = "a", default, skip_serializing_if = "is_zero")]
    attempt: u32,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    modified: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    carried: Option<Box<crate::extract::api::Carried>>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// The queue item for an entry: `url \n item-json` (see [`Item`]).
fn item_of(entry: &Entry) -> String {
    let item = Item {
        depth: entry.depth,
        placement: entry.placement,
        attempt: entry.attempt,
        modified: entry.modified,
        carried: entry.carried.clone(),
    };
    // Plain data with string keys: serialising cannot fail.
    let json = serde_json::to_string(&item).unwrap_or_default();
    format!("{}\n{json}", entry.url)
}

/// The entry in a queue item. Items queued by an earlier trawl (the whole entry as JSON) are
/// read too, so a cluster run can be finished by upgraded workers.
fn entry_of(url: &str, item: &str) -> Result<Entry, ClusterError> {
    let corrupt = |e: &dyn std::fmt::Display| ClusterError::Corrupt {
        url: url.to_string(),
        detail: format!(
            "queue item {:?}: {e}",
            item.chars().take(80).collect::<String>()
        ),
    };
    let (link, json) = item.split_once('\n').unwrap_or((item, ""));
    match serde_json::from_str::<Item>(json) {
        Ok(i) => Ok(Entry {
            url: Url::parse(link).map_err(|e| corrupt(&e))?,
            depth: i.depth,
            placement: i.placement,
            attempt: i.attempt,
            modified: i.modified,
            carried: i.carried,
        }),
        Err(e) => serde_json::from_str::<Entry>(json).map_err(|_| corrupt(&e)),
    }
}

/// One worker's membership in a cluster run.
pub struct Cluster {
    settings: ClusterSettings,
    run: RunId,
    conn: Conn,
    shared: Arc<Mutex<Shared>>,
    heartbeat: Option<(JoinHandle<()>, Arc<AtomicBool>)>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("url", &self.settings.url)
            .field("worker", &self.settings.worker)
            .field("run", &self.run)
            .finish()
    }
}

impl Cluster {
    /// Connects (waiting, with backoff, while nothing answers), checks that the server is
    /// Redis, and joins the current cluster run (starting a new one if there is none or it is
    /// finished; `fresh` abandons an unfinished one). Then the heartbeat starts and takes the
    /// first leases.
    pub fn join(settings: &ClusterSettings, fresh: bool) -> Result<Cluster, ClusterError> {
        let mut conn = Conn::new(&settings.url, "worker")?;
        let mut backoff = Duration::from_millis(200);
        let mut warned = false;
        let version = loop {
            match conn.check() {
                Ok(v) => break v,
                Err(ClusterError::Unreachable { detail, .. }) => {
                    if !warned {
                        tracing::warn!(
                            "Redis at {} is unreachable ({detail}); waiting for it, retrying with backoff",
                            settings.url
                        );
                        warned = true;
                    }
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(e) => return Err(e),
            }
        };
        let global = PREFIX.to_string();
        let n: u64 = conn.run(|con| scripts::JOIN.arg(&global).arg(u8::from(fresh)).invoke(con))?;
        let run = RunId(n);
        tracing::info!(
            worker = %settings.worker,
            run = n,
            redis = %version,
            "joined cluster run {n} at {}",
            settings.url
        );
        let mut cluster = Cluster {
            settings: settings.clone(),
            run,
            conn,
            shared: Arc::default(),
            heartbeat: None,
        };
        // The first tick before any pop: the worker starts with its leases.
        let mut beat = cluster.beat();
        beat.tick()?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let every = cluster.tick_every();
        let handle = std::thread::Builder::new()
            .name(format!("trawl-heartbeat-{}", settings.worker))
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    std::thread::sleep(every);
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Err(e) = beat.tick() {
                        tracing::error!("cluster heartbeat: {e}");
                    }
                }
            })
            .map_err(|e| ClusterError::Redis {
                url: settings.url.clone(),
                detail: format!("cannot start the heartbeat thread: {e}"),
            })?;
        cluster.heartbeat = Some((handle, stop));
        Ok(cluster)
    }

    /// The cluster run this worker crawls in (its store files the run under the same id).
    pub fn run(&self) -> RunId {
        self.run
    }

    /// This worker's name.
    pub fn worker(&self) -> &str {
        &self.settings.worker
    }

    /// How often the heartbeat ticks: often enough that a lease is renewed several times
    /// before it lapses, and that freed hosts are taken over quickly.
    fn tick_every(&self) -> Duration {
        (self.settings.lease / 4).min(Duration::from_millis(250))
    }

    fn beat(&self) -> Heartbeat {
        Heartbeat {
            conn: self.conn.another("heartbeat"),
            shared: self.shared.clone(),
            prefix: run_prefix(self.run),
            me: self.settings.worker.clone(),
            lease_ms: self.settings.lease.as_millis() as u64,
            deadline_ms: self.settings.deadline.as_millis() as u64,
            lost_warned: false,
            last_renew: Instant::now(),
        }
    }

    /// A frontier client on this cluster run; `store` is flushed before finished pages are
    /// reported to Redis, so a page marked done there is durable in the worker's store.
    pub fn frontier(&self, store: Store) -> RedisFrontier {
        RedisFrontier::new(
            self.conn.another("frontier"),
            self.shared.clone(),
            run_prefix(self.run),
            self.settings.worker.clone(),
            self.settings.deadline.as_millis() as u64,
            self.tick_every(),
            store,
        )
    }

    /// A claim client for the cluster-wide dedup index.
    pub fn claims(&self) -> Claims {
        Claims::new(self.conn.another("claims"), Some(self.shared.clone()))
    }

    /// Leaves the run: stops the heartbeat, puts back whatever this worker still has in
    /// flight (prefetched entries, retries it will not make), releases its leases, and marks
    /// the run finished if the last tick found nothing queued or in flight anywhere.
    pub fn leave(mut self) -> Result<(), ClusterError> {
        self.stop_heartbeat();
        let prefix = run_prefix(self.run);
        let me = self.settings.worker.clone();
        let (items, hosts, finished) = {
            let s = lock(&self.shared);
            let items: Vec<(String, String, String)> = s
                .taken
                .iter()
                .map(|(url, (host, item))| (url.clone(), host.clone(), item.clone()))
                .collect();
            let hosts: Vec<String> = s.held.keys().cloned().collect();
            let snap = s.snapshot;
            (
                items,
                hosts,
                snap.ticked
                    && snap.generation == s.generation
                    && snap.hosts_with_work == 0
                    && snap.in_flight == 0,
            )
        };
        self.conn.run(|con| {
            let mut pipe = redis::pipe();
            let mut inv = scripts::REQUEUE.arg(&prefix);
            inv.arg(&me).arg("1");
            for (url, host, item) in &items {
                inv.arg(url).arg(host).arg(item);
            }
            inv.invoke::<i64>(con)?;
            for h in &hosts {
                let key = format!("{prefix}lease:{h}");
                // Only our own lease: compare and delete in one step.
                pipe.cmd("EVAL")
                    .arg("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0")
                    .arg(1)
                    .arg(&key)
                    .arg(&me)
                    .ignore();
            }
            // Kept in the set (alive until time 0) so that status still lists it.
            pipe.cmd("ZADD")
                .arg(format!("{prefix}workers"))
                .arg(0)
                .arg(&me)
                .ignore();
            if finished {
                pipe.cmd("SET")
                    .arg(format!("{prefix}finished"))
                    .arg("completed")
                    .ignore();
            }
            pipe.query::<()>(con)
        })?;
        tracing::info!(worker = %me, run = self.run.0, finished, "left the cluster run");
        Ok(())
    }

    fn stop_heartbeat(&mut self) {
        if let Some((handle, stop)) = self.heartbeat.take() {
            stop.store(true, Ordering::SeqCst);
            // A heartbeat thread that panicked has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop_heartbeat();
    }
}

/// The heartbeat's side of the shared state: one tick = one `TICK` script call.
struct Heartbeat {
    conn: Conn,
    shared: Arc<Mutex<Shared>>,
    prefix: String,
    me: String,
    lease_ms: u64,
    deadline_ms: u64,
    lost_warned: bool,
    last_renew: Instant,
}

impl Heartbeat {
    /// Renews, reaps, releases and takes leases, and refreshes the snapshot.
    fn tick(&mut self) -> Result<(), ClusterError> {
        // What to tell Redis, decided under the lock: drained hosts' prefetched entries go
        // back, idle drained (or empty) hosts are released.
        let (requeue, release, renew, keep, taken, generation) = {
            let mut s = lock(&self.shared);
            let mut requeue = Vec::new();
            let mut release = Vec::new();
            let hosts: Vec<String> = s.held.keys().cloned().collect();
            for h in hosts {
                let Some(lease) = s.held.get_mut(&h) else {
                    continue;
                };
                if lease.draining && lease.popped_any {
                    for (entry, item) in lease.buffer.drain(..) {
                        requeue.push((entry.url.to_string(), h.clone(), item));
                    }
                }
                let idle = lease.busy == 0 && lease.buffer.is_empty();
                if !(idle && lease.queued == 0) {
                    lease.idle_since = None;
                } else if lease.idle_since.is_none() {
                    lease.idle_since = Some(Instant::now());
                }
                // An empty host is kept a while: its queue is often empty only until the page
                // being written adds links, and giving it up would cost a re-take (and another
                // robots.txt fetch, on whichever worker takes it).
                let idle_long = lease
                    .idle_since
                    .is_some_and(|t| t.elapsed() >= Duration::from_millis(self.lease_ms));
                let settled = lease.popped_any || lease.queued == 0;
                if idle && settled && (lease.draining || idle_long) {
                    release.push(h.clone());
                }
            }
            for (url, _, _) in &requeue {
                s.taken.remove(url);
            }
            for h in &release {
                s.forget(h);
            }
            // Deadlines are pushed out a few times per deadline, not every tick: each renewal
            // is a command per URL in flight.
            let renew: Vec<String> =
                if self.last_renew.elapsed() >= Duration::from_millis(self.deadline_ms / 4) {
                    self.last_renew = Instant::now();
                    s.taken.keys().cloned().collect()
                } else {
                    Vec::new()
                };
            let keep: Vec<String> = s.held.keys().cloned().collect();
            let taken = s.taken.len();
            (requeue, release, renew, keep, taken, s.generation)
        };
        let reply: redis::Value = self.conn.run(|con| {
            let mut inv = scripts::TICK.arg(&self.prefix);
            inv.arg(&self.me)
                .arg(self.lease_ms)
                .arg(self.deadline_ms)
                .arg(taken)
                .arg(requeue.len());
            for (url, host, item) in &requeue {
                inv.arg(url).arg(host).arg(item);
            }
            inv.arg(release.len());
            for h in &release {
                inv.arg(h);
            }
            inv.arg(renew.len());
            for u in &renew {
                inv.arg(u);
            }
            for h in &keep {
                inv.arg(h);
            }
            inv.invoke(con)
        })?;
        let tick = parse_tick(&reply).ok_or_else(|| ClusterError::Corrupt {
            url: self.conn.url().to_string(),
            detail: format!("unexpected heartbeat reply {reply:?}"),
        })?;
        tracing::trace!(share = tick.share, alive = tick.alive, "heartbeat");
        if tick.reaped > 0 {
            tracing::warn!(
                count = tick.reaped,
                "URLs in flight past their deadline (their worker vanished) went back to the queue"
            );
        }
        let mut s = lock(&self.shared);
        let now_held: Vec<&str> = tick.hosts.iter().map(|(h, _, _)| h.as_str()).collect();
        let lost: Vec<String> = s
            .held
            .keys()
            .filter(|h| !now_held.contains(&h.as_str()))
            .cloned()
            .collect();
        for h in lost {
            let busy = s.held.get(&h).map_or(0, |l| l.busy);
            if busy > 0 && !self.lost_warned {
                tracing::warn!(host = %h, busy, "lost the lease on a host with requests in flight (the heartbeat was late); another worker may now crawl it");
                self.lost_warned = true;
            }
            // Its prefetched entries stay in flight under this worker's name; they are not
            // renewed any more, so they return to the queue at their deadline.
            if let Some(lease) = s.held.get(&h) {
                let urls: Vec<String> = lease
                    .buffer
                    .iter()
                    .map(|(e, _)| e.url.to_string())
                    .collect();
                for u in urls {
                    s.taken.remove(&u);
                }
            }
            s.forget(&h);
        }
        for (host, queued, sample) in &tick.hosts {
            let sample = if sample.is_empty() {
                None
            } else {
                entry_of(self.conn.url(), sample).ok()
            };
            let lease = s.host(host);
            lease.queued = *queued;
            if sample.is_some() {
                lease.sample = sample;
            }
        }
        // Over the fair share (more workers joined): stop taking from the hosts with the least
        // going on; they are released once their requests finish.
        let with_work: Vec<(usize, String)> = s
            .held
            .iter()
            .filter(|(_, l)| !l.draining && (l.queued > 0 || !l.buffer.is_empty()))
            .map(|(h, l)| (l.busy + l.buffer.len(), h.clone()))
            .collect();
        let excess = (with_work.len() as u64).saturating_sub(tick.share.max(1));
        if excess > 0 {
            let mut by_load = with_work;
            by_load.sort();
            for (_, h) in by_load.into_iter().take(excess as usize) {
                tracing::debug!(host = %h, share = tick.share, "over the fair share: draining the host");
                s.host(&h).draining = true;
            }
        }
        s.snapshot = Snapshot {
            hosts_with_work: tick.hosts_with_work,
            in_flight: tick.in_flight,
            finished: tick.finished,
            ticked: true,
            generation,
        };
        s.last_tick = Some(Instant::now());
        Ok(())
    }
}

/// A parsed `TICK` reply.
struct Tick {
    share: u64,
    alive: u64,
    hosts_with_work: u64,
    in_flight: u64,
    finished: bool,
    reaped: u64,
    hosts: Vec<(String, u64, String)>,
}

fn parse_tick(v: &redis::Value) -> Option<Tick> {
    use redis::Value;
    let Value::Array(items) = v else {
        return None;
    };
    let int = |i: usize| match items.get(i) {
        Some(Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    };
    let mut hosts = Vec::new();
    for h in items.iter().skip(6) {
        let Value::Array(parts) = h else {
            return None;
        };
        let text = |i: usize| match parts.get(i) {
            Some(Value::BulkString(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        };
        let queued = match parts.get(1) {
            Some(Value::Int(n)) => u64::try_from(*n).ok()?,
            _ => return None,
        };
        hosts.push((text(0)?, queued, text(2).unwrap_or_default()));
    }
    Some(Tick {
        share: int(0)?,
        alive: int(1)?,
        hosts_with_work: int(2)?,
        in_flight: int(3)?,
        finished: int(4)? == 1,
        reaped: int(5)?,
        hosts,
    })
}

/// The frontier a crawl runs on: the store's own, or a cluster's.
#[derive(Debug)]
pub enum AnyFrontier {
    /// One machine: the persistent frontier in sled.
    Local(SledFrontier),
    /// A worker of a cluster: the frontier in Redis (boxed: it carries a connection).
    Cluster(Box<RedisFrontier>),
}

impl Clone for AnyFrontier {
    fn clone(&self) -> Self {
        match self {
            AnyFrontier::Local(f) => AnyFrontier::Local(f.clone()),
            AnyFrontier::Cluster(f) => AnyFrontier::Cluster(Box::new(RedisFrontier::clone(f))),
        }
    }
}

impl AnyFrontier {
    /// Entries queued (for progress lines): this store's queue, or the hosts with work in the
    /// cluster.
    pub fn queued(&self) -> usize {
        match self {
            AnyFrontier::Local(f) => f.queued(),
            AnyFrontier::Cluster(f) => f.queued(),
        }
    }

    /// Queues a page's links. The cluster frontier sends them with the page's done mark, in
    /// one round trip (see [`AnyFrontier::flush_batch`]).
    pub fn push_links(&mut self, links: Vec<Entry>) -> Result<(), FrontierError> {
        match self {
            AnyFrontier::Local(f) => {
                for e in links {
                    f.push(e)?;
                }
                Ok(())
            }
            AnyFrontier::Cluster(f) => {
                f.push_later(links);
                Ok(())
            }
        }
    }

    /// Sends what the writer has batched (cluster only), if it is due: flushes the store,
    /// then queues the links and marks the pages done in Redis. Called when the writer has
    /// nothing waiting; `Some(wait)` asks it to look again after `wait` (a batch is pending),
    /// `None` lets it block for the next write.
    pub fn flush_batch(&mut self) -> Result<Option<Duration>, FrontierError> {
        match self {
            AnyFrontier::Local(_) => Ok(None),
            AnyFrontier::Cluster(f) => f.flush_if_due().map_err(FrontierError::from),
        }
    }

    /// Sends whatever the writer has batched, now (at the end of a crawl).
    pub fn finish_batch(&mut self) -> Result<(), FrontierError> {
        match self {
            AnyFrontier::Local(_) => Ok(()),
            AnyFrontier::Cluster(f) => f.flush_batch().map_err(FrontierError::from),
        }
    }

    /// When the scheduler must look again even if nothing finishes (the next heartbeat may
    /// bring leases or the end of the crawl).
    pub fn wake_at(&self) -> Option<Instant> {
        match self {
            AnyFrontier::Local(_) => None,
            AnyFrontier::Cluster(f) => Some(f.wake_at()),
        }
    }

    /// Entries the page limit leaves queued, to be recorded as skipped. A cluster's queue
    /// belongs to every worker: one worker's page limit leaves it to the others.
    pub fn drain(&mut self) -> Result<Vec<Entry>, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.drain(),
            AnyFrontier::Cluster(_) => Ok(Vec::new()),
        }
    }
}

impl Frontier for AnyFrontier {
    fn is_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.is_seen(url),
            AnyFrontier::Cluster(f) => f.is_seen(url),
        }
    }
    fn mark_seen(&mut self, url: &Url) -> Result<bool, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.mark_seen(url),
            AnyFrontier::Cluster(f) => f.mark_seen(url),
        }
    }
    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.push(entry),
            AnyFrontier::Cluster(f) => f.push(entry),
        }
    }
    fn requeue(&mut self, entry: Entry) -> Result<(), FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.requeue(entry),
            AnyFrontier::Cluster(f) => f.requeue(entry),
        }
    }
    fn peek_host(&self, host: &str) -> Result<Option<Entry>, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.peek_host(host),
            AnyFrontier::Cluster(f) => f.peek_host(host),
        }
    }
    fn pop_ready(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.pop_ready(ready),
            AnyFrontier::Cluster(f) => f.pop_ready(ready),
        }
    }
    fn done(&mut self, url: &Url) -> Result<(), FrontierError> {
        match self {
            AnyFrontier::Local(f) => f.done(url),
            AnyFrontier::Cluster(f) => f.done(url),
        }
    }
    fn pending_hosts(&self) -> Vec<String> {
        match self {
            AnyFrontier::Local(f) => f.pending_hosts(),
            AnyFrontier::Cluster(f) => f.pending_hosts(),
        }
    }
    fn drain(&mut self) -> Result<Vec<Entry>, FrontierError> {
        AnyFrontier::drain(self)
    }
    fn is_empty(&self) -> bool {
        match self {
            AnyFrontier::Local(f) => f.is_empty(),
            AnyFrontier::Cluster(f) => f.is_empty(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::{PageKind, Placement};

    fn entry(attempt: u32) -> Entry {
        Entry {
            url: Url::parse("http://news.test/2024/a.html").unwrap(),
            depth: 3,
            placement: Placement {
                site: 1,
                kind: PageKind::Article,
            },
            attempt,
            modified: None,
            carried: None,
        }
    }

    #[test]
    fn queue_items_are_compact_and_read_back() {
        for e in [entry(0), entry(2)] {
            let item = item_of(&e);
            assert_eq!(entry_of("redis://x", &item).unwrap(), e);
            // The URL once, and no key longer than a letter.
            assert_eq!(item.matches("news.test").count(), 1, "{item}");
            assert!(!item.contains("depth"), "{item}");
        }
        // An item an earlier trawl queued: the whole entry as JSON.
        let old = format!(
            "{}\n{}",
            entry(1).url,
            serde_json::to_string(&entry(1)).unwrap()
        );
        assert_eq!(entry_of("redis://x", &old).unwrap(), entry(1));
        assert!(entry_of("redis://x", "http://news.test/\n{}").is_err());
    }
}
