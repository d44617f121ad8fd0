//! Stage 1b, frontier: the URLs waiting to be fetched, queued per host, each at most once per
//! run.
//!
//! The crawl loop talks to the [`Frontier`] trait only. The implementation is the store's
//! persistent, per-run frontier (`store::frontier::SledFrontier`); a shared one (Redis) can
//! slot in behind the same trait.

use url::Url;

use crate::scope::Placement;

/// A URL waiting to be fetched.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Normalised URL.
    pub url: Url,
    /// Links followed from a seed to reach it (seeds are 0).
    pub depth: u32,
    /// Its site and page kind.
    pub placement: Placement,
    /// Fetch attempts made so far (0 for a URL never tried).
    #[serde(default)]
    pub attempt: u32,
    /// When a sitemap or feed said the page last changed: a recrawl hint.
    #[serde(default)]
    pub modified: Option<chrono::DateTime<chrono::Utc>>,
    /// What the JSON list item that linked it said (title, time, source), for a detail
    /// endpoint whose record lacks them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carried: Option<Box<crate::extract::api::Carried>>,
}

impl Entry {
    /// The politeness key: the URL's host.
    pub fn host(&self) -> &str {
        self.url.host_str().unwrap_or("")
    }
}

/// The frontier's storage failed.
#[derive(Debug, thiserror::Error)]
#[error("frontier storage: {0}")]
pub struct FrontierError(pub String);

/// The queue of URLs to fetch. Entries move queued → in flight → done; in-flight entries
/// survive a crash and are queued again when the run resumes.
pub trait Frontier: Send {
    /// Marks `url` as seen without queueing it (it was decided on some other way). Returns
    /// false when it had been seen already.
    fn mark_seen(&mut self, url: &Url) -> Result<bool, FrontierError>;
    /// Whether `url` was seen (queued or marked) in this run.
    fn is_seen(&mut self, url: &Url) -> Result<bool, FrontierError>;
    /// Queues an entry unless its URL was seen before in this run. Returns whether it was new.
    fn push(&mut self, entry: Entry) -> Result<bool, FrontierError>;
    /// Queues an in-flight entry again (a retry, or one put back over a limit).
    fn requeue(&mut self, entry: Entry) -> Result<(), FrontierError>;
    /// The next entry queued for `host`, without taking it.
    fn peek_host(&self, host: &str) -> Result<Option<Entry>, FrontierError>;
    /// Takes the next entry from the first host (in round-robin order) that `ready` accepts,
    /// and marks it in flight.
    fn pop_ready(
        &mut self,
        ready: &mut dyn FnMut(&str) -> bool,
    ) -> Result<Option<Entry>, FrontierError>;
    /// An in-flight entry is finished (its outcome is recorded).
    fn done(&mut self, url: &Url) -> Result<(), FrontierError>;
    /// Hosts that have queued entries.
    fn pending_hosts(&self) -> Vec<String>;
    /// Removes and returns everything still queued (when a page limit ends the run).
    fn drain(&mut self) -> Result<Vec<Entry>, FrontierError>;
    /// Whether nothing is queued.
    fn is_empty(&self) -> bool;
}
