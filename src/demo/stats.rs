//! Server-side instrumentation: what each host was asked and what it sent, as the server
//! saw it, so that tests can check a crawler's politeness and outcomes from the other end.
//!
//! Hosts are keyed case-insensitively without port or trailing dot. Every request that
//! names a host is one `Exchange`, from its parsed head until its response is fully written
//! or abandoned; the guard's `Drop` is what ends it, so a connection dropped mid-response
//! (client hang-up, shutdown) can never leave a request counted as in flight.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::render::bare_host;

/// Counters shared by all connection tasks and the `ServerHandle`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    /// Every answered request, malformed and host-less ones included.
    total: AtomicU64,
    /// Keyed by `host_key`.
    hosts: Mutex<HashMap<String, HostStats>>,
}

/// What one host saw.
#[derive(Debug, Default)]
struct HostStats {
    requests: u64,
    in_flight: u64,
    max_concurrent: u64,
    body_bytes: u64,
    /// When each request's head was parsed, in order.
    starts: Vec<Instant>,
    /// Requests per exact path and query.
    hits: HashMap<String, u64>,
    /// Statuses of the response heads actually written.
    statuses: BTreeMap<u16, u64>,
}

/// Canonical form of a host for counting: lower case, without port or trailing dot.
fn host_key(host: &str) -> String {
    bare_host(host).to_ascii_lowercase()
}

impl Stats {
    /// Locks the per-host map. A poisoned lock only means another task panicked while
    /// counting; the numbers are still the best there are, so they are used anyway.
    fn hosts(&self) -> MutexGuard<'_, HashMap<String, HostStats>> {
        self.hosts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on `host`'s counters, if the host was ever seen.
    fn read<T: Default>(&self, host: &str, f: impl FnOnce(&HostStats) -> T) -> T {
        self.hosts().get(&host_key(host)).map(f).unwrap_or_default()
    }

    /// Counts a request that names no host (it gets a 4xx and is not instrumented further).
    pub(crate) fn record_hostless(&self) {
        self.total.fetch_add(1, Ordering::SeqCst);
    }

    /// Starts accounting for a request to `host` and `path_and_query` whose head was parsed
    /// at `started`; the returned guard says how many times the same host and path were
    /// requested before, and ends the request's time in flight when dropped.
    pub(crate) fn begin(
        self: &Arc<Self>,
        host: &str,
        path_and_query: &str,
        started: Instant,
    ) -> Exchange {
        self.total.fetch_add(1, Ordering::SeqCst);
        let key = host_key(host);
        let nth = {
            let mut hosts = self.hosts();
            let stats = hosts.entry(key.clone()).or_default();
            stats.requests += 1;
            stats.in_flight += 1;
            stats.max_concurrent = stats.max_concurrent.max(stats.in_flight);
            stats.starts.push(started);
            let hits = stats.hits.entry(path_and_query.to_string()).or_default();
            *hits += 1;
            *hits - 1
        };
        Exchange {
            stats: Arc::clone(self),
            host: key,
            nth,
        }
    }

    /// Total answered requests.
    pub(crate) fn total(&self) -> u64 {
        self.total.load(Ordering::SeqCst)
    }

    /// Requests that named `host`.
    pub(crate) fn requests(&self, host: &str) -> u64 {
        self.read(host, |s| s.requests)
    }

    /// Response body bytes written for `host`.
    pub(crate) fn body_bytes(&self, host: &str) -> u64 {
        self.read(host, |s| s.body_bytes)
    }

    /// Most requests for `host` in flight at once.
    pub(crate) fn max_concurrent(&self, host: &str) -> u64 {
        self.read(host, |s| s.max_concurrent)
    }

    /// Requests for `host` in flight now.
    pub(crate) fn in_flight(&self, host: &str) -> u64 {
        self.read(host, |s| s.in_flight)
    }

    /// When each request for `host` had its head parsed, in order.
    pub(crate) fn request_starts(&self, host: &str) -> Vec<Instant> {
        self.read(host, |s| s.starts.clone())
    }

    /// Requests for exactly `path_and_query` on `host`.
    pub(crate) fn hits(&self, host: &str, path_and_query: &str) -> u64 {
        self.read(host, |s| s.hits.get(path_and_query).copied().unwrap_or(0))
    }

    /// Response heads written for `host`, by status.
    pub(crate) fn status_counts(&self, host: &str) -> BTreeMap<u16, u64> {
        self.read(host, |s| s.statuses.clone())
    }

    /// Applies `f` to an already-begun host's counters.
    fn update(&self, key: &str, f: impl FnOnce(&mut HostStats)) {
        if let Some(stats) = self.hosts().get_mut(key) {
            f(stats);
        }
    }
}

/// One request being handled: created when its head is parsed, dropped when its response
/// is fully written or the connection is abandoned.
#[derive(Debug)]
pub(crate) struct Exchange {
    stats: Arc<Stats>,
    /// `host_key` of the request's host.
    host: String,
    /// How many earlier requests had the same host and path and query.
    pub(crate) nth: u64,
}

impl Exchange {
    /// Records that the response head with `status` went out completely.
    pub(crate) fn head_sent(&self, status: u16) {
        self.stats
            .update(&self.host, |s| *s.statuses.entry(status).or_default() += 1);
    }

    /// Records `bytes` more body bytes written.
    pub(crate) fn body_sent(&self, bytes: u64) {
        if bytes > 0 {
            self.stats.update(&self.host, |s| s.body_bytes += bytes);
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        self.stats
            .update(&self.host, |s| s.in_flight = s.in_flight.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_host_and_path_and_tracks_concurrency() {
        let stats = Arc::new(Stats::default());
        let t0 = Instant::now();
        let a = stats.begin("Faults.trawl-demo.test:8080", "/x", t0);
        let b = stats.begin("faults.trawl-demo.test.", "/x", t0);
        assert_eq!((a.nth, b.nth), (0, 1));
        a.head_sent(500);
        a.body_sent(10);
        drop(a);
        let c = stats.begin("faults.trawl-demo.test", "/y", t0);
        assert_eq!(c.nth, 0);
        c.head_sent(200);
        c.body_sent(5);
        drop((b, c));
        let d = stats.begin("faults.trawl-demo.test", "/x", t0);
        assert_eq!(d.nth, 2);
        drop(d);
        stats.record_hostless();

        let host = "FAULTS.trawl-demo.test";
        assert_eq!(stats.requests(host), 4);
        assert_eq!(stats.total(), 5);
        assert_eq!(stats.max_concurrent(host), 2);
        assert_eq!(stats.body_bytes(host), 15);
        assert_eq!(stats.hits(host, "/x"), 3);
        assert_eq!(stats.hits(host, "/z"), 0);
        assert_eq!(
            stats.status_counts(host),
            BTreeMap::from([(200, 1), (500, 1)])
        );
        assert_eq!(stats.request_starts(host).len(), 4);
        assert_eq!(stats.requests("elsewhere.test"), 0);
        assert!(stats.request_starts("elsewhere.test").is_empty());
    }
}
