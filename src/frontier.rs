//! Stage 1b, frontier: the URLs waiting to be fetched, queued per host, each at most once per
//! run.
//!
//! The crawl loop talks to the [`Frontier`] trait only, so the in-memory queue here can be
//! replaced by a persistent one (sled) or a shared one (Redis) without touching the loop.

use std::collections::{HashMap, HashSet, VecDeque};

use url::Url;

use crate::scope::Placement;

/// A URL waiting to be fetched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Normalised URL.
    pub url: Url,
    /// Links followed from a seed to reach it (seeds are 0).
    pub depth: u32,
    /// Its site and page kind.
    pub placement: Placement,
    /// Fetch attempts made so far (0 for a URL never tried).
    pub attempt: u32,
}

impl Entry {
    /// The politeness key: the URL's host.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }
}

/// The queue of URLs to fetch.
pub trait Frontier: Send {
    /// Marks `url` as seen without queueing it (it was decided on some other way). Returns
    /// false when it had been seen already.
    fn mark_seen(&mut self, url: &Url) -> bool;
    /// Queues an entry unless its URL was seen before in this run. Returns whether it was new.
    fn push(&mut self, entry: Entry) -> bool;
    /// Queues an entry again (a retry, or one put back over a limit), even though its URL has
    /// been seen.
    fn requeue(&mut self, entry: Entry);
    /// The next entry queued for `host`, without taking it.
    fn peek_host(&self, host: &str) -> Option<&Entry>;
    /// Takes the next entry from the first host (in round-robin order) that `ready` accepts.
    fn pop_ready(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry>;
    /// Hosts that have queued entries.
    fn pending_hosts(&self) -> Vec<String>;
    /// Removes and returns everything still queued (when a page limit ends the run).
    fn drain(&mut self) -> Vec<Entry>;
    /// Whether nothing is queued.
    fn is_empty(&self) -> bool;
}

/// An in-memory frontier: per-host FIFO queues served round-robin, and a seen set.
#[derive(Debug, Default)]
pub struct MemoryFrontier {
    seen: HashSet<String>,
    queues: HashMap<String, VecDeque<Entry>>,
    /// Hosts with queued entries, in round-robin order.
    order: VecDeque<String>,
}

impl MemoryFrontier {
    /// An empty frontier.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Frontier for MemoryFrontier {
    fn mark_seen(&mut self, url: &Url) -> bool {
        self.seen.insert(url.as_str().to_string())
    }

    fn push(&mut self, entry: Entry) -> bool {
        if !self.mark_seen(&entry.url) {
            return false;
        }
        let host = entry.host().to_string();
        let queue = self.queues.entry(host.clone()).or_default();
        if queue.is_empty() {
            self.order.push_back(host);
        }
        queue.push_back(entry);
        true
    }

    fn requeue(&mut self, entry: Entry) {
        self.mark_seen(&entry.url);
        let host = entry.host().to_string();
        let queue = self.queues.entry(host.clone()).or_default();
        if queue.is_empty() {
            self.order.push_back(host);
        }
        queue.push_back(entry);
    }

    fn peek_host(&self, host: &str) -> Option<&Entry> {
        self.queues.get(host).and_then(|q| q.front())
    }

    fn pop_ready(&mut self, ready: &mut dyn FnMut(&str) -> bool) -> Option<Entry> {
        for _ in 0..self.order.len() {
            let host = self.order.pop_front()?;
            if !ready(&host) {
                self.order.push_back(host);
                continue;
            }
            let queue = self.queues.get_mut(&host)?;
            let entry = queue.pop_front();
            if queue.is_empty() {
                self.queues.remove(&host);
            } else {
                // Rotate: the next pop serves another host first.
                self.order.push_back(host);
            }
            return entry;
        }
        None
    }

    fn pending_hosts(&self) -> Vec<String> {
        self.order.iter().cloned().collect()
    }

    fn drain(&mut self) -> Vec<Entry> {
        self.order.clear();
        self.queues.drain().flat_map(|(_, q)| q).collect()
    }

    fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::PageKind;

    fn e(u: &str) -> Entry {
        Entry {
            url: Url::parse(u).unwrap(),
            depth: 0,
            placement: Placement {
                site: 0,
                kind: PageKind::Listing,
            },
            attempt: 0,
        }
    }

    #[test]
    fn each_url_is_queued_once() {
        let mut f = MemoryFrontier::new();
        assert!(f.push(e("http://a.test/1")));
        assert!(!f.push(e("http://a.test/1")));
        assert!(!f.mark_seen(&Url::parse("http://a.test/1").unwrap()));
    }

    #[test]
    fn hosts_are_served_round_robin_and_can_be_held_back() {
        let mut f = MemoryFrontier::new();
        for u in ["http://a.test/1", "http://a.test/2", "http://b.test/1"] {
            f.push(e(u));
        }
        let mut all = |_: &str| true;
        assert_eq!(
            f.pop_ready(&mut all).unwrap().url.as_str(),
            "http://a.test/1"
        );
        assert_eq!(
            f.pop_ready(&mut all).unwrap().url.as_str(),
            "http://b.test/1"
        );
        let mut not_a = |h: &str| h != "a.test";
        assert_eq!(f.pop_ready(&mut not_a), None);
        assert_eq!(f.pending_hosts(), vec!["a.test".to_string()]);
        assert_eq!(
            f.pop_ready(&mut all).unwrap().url.as_str(),
            "http://a.test/2"
        );
        assert!(f.is_empty());
    }

    #[test]
    fn requeue_bypasses_the_seen_set() {
        let mut f = MemoryFrontier::new();
        f.push(e("http://a.test/1"));
        let mut all = |_: &str| true;
        let first = f.pop_ready(&mut all).unwrap();
        assert!(f.is_empty());
        f.requeue(Entry {
            attempt: 1,
            ..first
        });
        assert_eq!(f.peek_host("a.test").unwrap().attempt, 1);
        assert_eq!(f.pop_ready(&mut all).unwrap().attempt, 1);
    }

    #[test]
    fn drain_empties_the_queue() {
        let mut f = MemoryFrontier::new();
        f.push(e("http://a.test/1"));
        f.push(e("http://b.test/1"));
        assert_eq!(f.drain().len(), 2);
        assert!(f.is_empty());
    }
}
