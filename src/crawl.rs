//! The crawl loop: wires the stages together and owns nothing else.
//!
//! Three kinds of work run at once. The **scheduler** (this module's loop) takes entries from
//! the frontier as global and per-host limits, per-host delays, robots.txt and backoff allow.
//! **Tasks** fetch a host's robots.txt, or fetch a page and then, on the blocking pool, decode,
//! parse once, extract the post and the links, and fingerprint. The **writer** thread is the
//! only one that writes to the store: it runs dedup inside the store's transaction and records
//! every URL's outcome. The scheduler never touches disk.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use thiserror::Error;
use tokio::sync::{mpsc, watch, Notify, Semaphore};
use tokio::task::JoinSet;
use url::Url;

use crate::cluster::{AnyFrontier, Claims, Cluster, ClusterError};
use crate::config::Settings;
use crate::dedup::{self, Candidate};
use crate::extract::{self, api, feed, Extraction};
use crate::fetch::retry::{parse_retry_after, status_is_transient};
use crate::fetch::robots::{self, Rules, Verdict};
use crate::fetch::{self, charset, FetchError, Fetcher, Validators};
use crate::frontier::{Entry, Frontier, FrontierError};
use crate::model::{Outcome, RawResponse, RecordId, Run, RunEnd, RunId, Sighting, UrlState};
use crate::scope::PageKind;
use crate::store::{Ingest, Store, StoreError};

/// Why a crawl could not run (as opposed to URLs failing, which a crawl survives).
#[derive(Debug, Error)]
pub enum CrawlError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The store failed; the crawl stops rather than lose data.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The frontier's storage failed.
    #[error(transparent)]
    Frontier(#[from] FrontierError),
    /// The cluster's Redis refused something (being unreachable is waited out instead).
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    /// The configuration has nothing to crawl.
    #[error("no seeds: give --seed URL or set crawl.seeds in the config")]
    NoSeeds,
}

/// Per-host counts in a crawl summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostCounts {
    /// Requests made (page attempts, retries included, and robots.txt).
    pub fetched: u64,
    /// Posts that created a record.
    pub new: u64,
    /// Posts that joined an existing record (copies collapsed).
    pub duplicate: u64,
    /// Pages unchanged since the last fetch (304).
    pub not_modified: u64,
    /// Listing pages.
    pub hub: u64,
    /// Skipped URLs.
    pub skipped: u64,
    /// Failed URLs.
    pub failed: u64,
}

/// What a crawl did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CrawlSummary {
    /// Run id.
    pub run: u64,
    /// Distinct URLs fetched (first attempts; `crawl.max_pages` bounds this).
    pub pages: u64,
    /// Requests made (page attempts including retries, plus robots.txt).
    pub fetched: u64,
    /// Posts extracted (new + duplicate).
    pub posts: u64,
    /// Outcome counts by kind.
    pub outcomes: BTreeMap<String, u64>,
    /// Failure counts by class.
    pub failures: BTreeMap<String, u64>,
    /// Skip counts by reason.
    pub skips: BTreeMap<String, u64>,
    /// Counts per host.
    pub hosts: BTreeMap<String, HostCounts>,
    /// Article pages not fetched because they were fetched less than `recrawl_after` ago.
    pub fresh: u64,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Whether the crawl was stopped before the frontier emptied.
    pub interrupted: bool,
    /// Whether this run continued an unfinished one.
    pub resumed: bool,
}

impl CrawlSummary {
    fn count(&mut self, host: &str, outcome: &Outcome) {
        *self.outcomes.entry(outcome.kind().to_string()).or_default() += 1;
        let h = self.hosts.entry(host.to_string()).or_default();
        match outcome {
            Outcome::New { .. } => {
                h.new += 1;
                self.posts += 1;
            }
            Outcome::Duplicate { .. } | Outcome::NearDuplicate { .. } => {
                h.duplicate += 1;
                self.posts += 1;
            }
            Outcome::NotModified => h.not_modified += 1,
            Outcome::Hub => h.hub += 1,
            Outcome::Skipped { reason } => {
                h.skipped += 1;
                let key = reason.split(':').next().unwrap_or(reason).to_string();
                *self.skips.entry(key).or_default() += 1;
            }
            Outcome::Failed { class, .. } => {
                h.failed += 1;
                *self.failures.entry(class.clone()).or_default() += 1;
            }
        }
    }
}

/// What a page task found.
enum PageResult {
    /// An article: fingerprinted and ready to archive.
    Post {
        candidate: Box<Candidate>,
        sighting: Box<Sighting>,
        state: Box<UrlState>,
        raw: Box<RawResponse>,
        links: Vec<Url>,
    },
    /// No post; a final outcome, maybe links to follow (with last-modified hints from
    /// sitemaps and feeds, by normalised URL).
    Done {
        state: Box<UrlState>,
        links: Vec<Url>,
        modified: HashMap<String, chrono::DateTime<Utc>>,
    },
    /// A JSON list: a hub whose links carry their item's fields to the pages they lead to.
    Listed {
        state: Box<UrlState>,
        links: Vec<api::Link>,
    },
    /// A transient failure: try again later (unless the retry budget is spent).
    Retry {
        class: String,
        message: String,
        status: Option<u16>,
        retry_after: Option<Duration>,
    },
}

/// What a finished task reports to the scheduler.
enum Finished {
    Page(Entry, PageResult),
    Robots(String, Verdict),
}

/// What the writer records for one URL.
enum Action {
    /// Archive a post.
    Ingest(Box<Candidate>, Box<Ingest>),
    /// Record an outcome.
    State(Box<UrlState>),
    /// An article not due for a recrawl: nothing to record.
    Fresh,
}

/// Work for the writer thread: an action, then the links the page offered, then the frontier
/// entry marked done. In that order, so a crash between them only ever re-fetches a page
/// (ingest is idempotent within a run), never loses its links.
struct Write {
    action: Action,
    links: Vec<Entry>,
    depth_skipped: Vec<Url>,
    done: Option<Url>,
}

impl Write {
    fn state(state: UrlState, done: Option<Url>) -> Write {
        Write {
            action: Action::State(Box::new(state)),
            links: Vec::new(),
            depth_skipped: Vec::new(),
            done,
        }
    }
}

/// Writes the scheduler has handed over and the writer has not finished; the scheduler may
/// only conclude the frontier is empty when this is zero.
#[derive(Default)]
struct InFlightWrites {
    count: AtomicUsize,
    changed: Notify,
}

/// robots.txt knowledge about one host.
enum RobotsState {
    /// Not asked yet.
    Unknown,
    /// A fetch is in flight; `tries` earlier fetches found it unavailable.
    Pending { tries: u32 },
    /// Rules in force for the rest of the run.
    Ready(Rules),
    /// 5xx or unreachable: ask again at `retry_at`.
    Unavailable { retry_at: Instant, tries: u32 },
    /// Unreachable too many times: the host's URLs fail without being fetched.
    GaveUp(String),
}

/// Politeness state of one host.
struct Host {
    in_flight: usize,
    next_start: Instant,
    /// Minimum gap between request starts (config, raised by Crawl-delay).
    delay: Duration,
    /// Consecutive transient failures; each one lengthens the gap.
    failures: u32,
    robots: RobotsState,
}

/// Pages handed to the writer and not yet written, beyond which no new fetch starts.
const MAX_PENDING_WRITES: usize = 256;

/// Pages the writer archives in one store transaction at most (when that many are waiting).
const MAX_WRITE_BATCH: usize = 32;

/// How many times an unavailable robots.txt is asked for before the host is given up.
const ROBOTS_TRIES: u32 = 3;

/// How to start a crawl.
#[derive(Clone, Copy, Debug)]
pub struct CrawlOptions {
    /// Continue the store's unfinished run, if there is one (a crash or a stop left it).
    /// Otherwise such a run is marked abandoned and a fresh one starts.
    pub resume: bool,
}

impl Default for CrawlOptions {
    fn default() -> Self {
        CrawlOptions { resume: true }
    }
}

/// Crawls from the configured seeds into `store`, resuming an unfinished run, until the
/// frontier is empty, the page limit is reached, or `stop` turns true (then in-flight pages
/// finish, nothing new starts, and the queue is kept for the next run to resume).
pub async fn crawl(
    settings: Arc<Settings>,
    store: &Store,
    stop: watch::Receiver<bool>,
) -> Result<CrawlSummary, CrawlError> {
    crawl_with(settings, store, stop, CrawlOptions::default()).await
}

/// [`crawl`] with explicit options.
pub async fn crawl_with(
    settings: Arc<Settings>,
    store: &Store,
    stop: watch::Receiver<bool>,
    options: CrawlOptions,
) -> Result<CrawlSummary, CrawlError> {
    crawl_in(settings, store, stop, options, None).await
}

/// [`crawl`] as one worker of `cluster`: the frontier and the dedup index are the cluster's
/// (in Redis), the archive is `store`, filed under the cluster's run id.
pub async fn crawl_cluster(
    settings: Arc<Settings>,
    store: &Store,
    stop: watch::Receiver<bool>,
    cluster: &Cluster,
) -> Result<CrawlSummary, CrawlError> {
    crawl_in(
        settings,
        store,
        stop,
        CrawlOptions::default(),
        Some(cluster),
    )
    .await
}

async fn crawl_in(
    settings: Arc<Settings>,
    store: &Store,
    mut stop: watch::Receiver<bool>,
    options: CrawlOptions,
    cluster: Option<&Cluster>,
) -> Result<CrawlSummary, CrawlError> {
    if settings.seeds.is_empty() {
        return Err(CrawlError::NoSeeds);
    }
    let fetcher = Fetcher::new(&settings.fetch)?;
    let (run, resumed) = match cluster {
        Some(c) => store.begin_numbered_run(c.run())?,
        None => store.begin_run(options.resume)?,
    };
    let mut frontier = match cluster {
        Some(c) => AnyFrontier::Cluster(Box::new(c.frontier(store.clone()))),
        None => AnyFrontier::Local(store.frontier(run.id)?),
    };
    let started = Instant::now();
    if resumed {
        tracing::info!(run = %run.id, queued = frontier.queued(), "resuming an unfinished crawl");
    } else {
        tracing::info!(run = %run.id, seeds = settings.seeds.len(), "crawl started");
    }
    for seed in &settings.seeds {
        if let Some(placement) = settings.scope.classify_seed(seed) {
            frontier.push(Entry {
                url: seed.clone(),
                depth: 0,
                placement,
                attempt: 0,
                modified: None,
                carried: None,
            })?;
        }
    }
    // The seeds are the run's starting point: make them durable before fetching anything.
    store.flush()?;

    let (tx, rx) = mpsc::unbounded_channel::<Write>();
    let writes = Arc::new(InFlightWrites::default());
    let writer = spawn_writer(
        store.clone(),
        frontier.clone(),
        cluster.map(Cluster::claims),
        settings.clone(),
        run.clone(),
        rx,
        writes.clone(),
    );
    let mut s = Scheduler {
        settings: settings.clone(),
        fetcher,
        analysis: Arc::new(Semaphore::new(analysis_permits())),
        store: store.clone(),
        run: run.id,
        tx,
        writes,
        frontier,
        retries: BinaryHeap::new(),
        retry_seq: 0,
        hosts: HashMap::new(),
        tasks: JoinSet::new(),
        pages: 0,
        requests: HashMap::new(),
        error: None,
    };

    let mut stopping = *stop.borrow();
    let mut last_progress = Instant::now();
    loop {
        if !stopping {
            s.launch();
        }
        if s.error.is_some() {
            stopping = true;
        }
        let idle = s.tasks.is_empty()
            && s.retries.is_empty()
            && s.writes.count.load(Ordering::SeqCst) == 0;
        if idle && (stopping || s.frontier.is_empty() || s.pages >= settings.limits.max_pages) {
            break;
        }
        if stopping && s.tasks.is_empty() {
            break;
        }
        // With every slot busy a finishing task wakes the loop anyway: no timer needed (and
        // computing it walks every pending host, once per page). Under backpressure nothing
        // can start until the writer catches up, and it wakes the loop when the backlog halves:
        // a timer there (hosts are ready at once) spun the loop hundreds of thousands of times
        // per crawl.
        let backlog = s.writes.count.load(Ordering::SeqCst) >= MAX_PENDING_WRITES;
        let wake = if backlog || s.tasks.len() >= settings.limits.concurrency {
            Instant::now() + Duration::from_secs(3600)
        } else {
            s.next_wake()
        };
        let writes = s.writes.clone();
        tokio::select! {
            Some(joined) = s.tasks.join_next() => match joined {
                Ok(finished) => s.finished(finished),
                // A task panicked: a bug. Its entry stays in flight and is fetched again when
                // the run resumes.
                Err(e) => tracing::error!("crawl task failed: {e}"),
            },
            _ = writes.changed.notified() => {}
            _ = tokio::time::sleep_until(wake.into()), if !stopping => {}
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    tracing::warn!("stopping: finishing {} request(s) in flight", s.tasks.len());
                    stopping = true;
                }
            }
        }
        if last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            tracing::info!(
                pages = s.pages,
                in_flight = s.tasks.len(),
                queued = s.frontier.queued(),
                waiting_retries = s.retries.len(),
                "progress"
            );
        }
    }

    let interrupted = stopping;
    let mut page_limited = false;
    if !interrupted {
        // Whatever the page limit left in the queue is accounted for, not silently dropped.
        for entry in s.frontier.drain()? {
            page_limited = true;
            let state = UrlState::new(
                entry.url.as_str(),
                Outcome::Skipped {
                    reason: "max_pages".into(),
                },
                s.run,
                None,
                entry.attempt,
            );
            let _ = s.tx.send(Write::state(state, None));
        }
    }
    let requests = std::mem::take(&mut s.requests);
    let pages = s.pages;
    let error = s.error.take();
    drop(s);
    let mut summary = writer.await.unwrap_or_else(|e| {
        Err(CrawlError::Store(StoreError::Corrupt {
            tree: "writer",
            key: String::new(),
            detail: e.to_string(),
        }))
    })?;
    if let Some(e) = error {
        return Err(e);
    }
    summary.pages = pages;
    summary.fetched = requests.values().sum();
    for (host, n) in requests {
        summary.hosts.entry(host).or_default().fetched = n;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary.interrupted = interrupted;
    summary.resumed = resumed;
    let mut run = run;
    for (k, v) in &summary.outcomes {
        *run.outcomes.entry(k.clone()).or_default() += v;
    }
    if interrupted {
        // Left unfinished on purpose: the next crawl resumes it.
        run.ended = Some(RunEnd::Stopped);
        store.put_run(&run)?;
    } else {
        run.finished = Some(Utc::now());
        run.ended = Some(if page_limited {
            RunEnd::PageLimit
        } else {
            RunEnd::Completed
        });
        store.put_run(&run)?;
        store.drop_frontier(run.id)?;
    }
    store.flush()?;
    tracing::info!(run = %run.id, requests = summary.fetched, posts = summary.posts, seconds = summary.seconds, "crawl finished");
    Ok(summary)
}

/// An entry waiting for its retry; ordered by due time, then by arrival.
struct Delayed {
    due: Instant,
    seq: u64,
    entry: Entry,
}

impl PartialEq for Delayed {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}

impl Eq for Delayed {}

impl PartialOrd for Delayed {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Delayed {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

/// The scheduler's state for one run.
struct Scheduler {
    settings: Arc<Settings>,
    fetcher: Fetcher,
    /// Permits for page analysis on the blocking pool, one per core (see [`analyse_off_reactor`]).
    analysis: Arc<Semaphore>,
    store: Store,
    run: RunId,
    tx: mpsc::UnboundedSender<Write>,
    writes: Arc<InFlightWrites>,
    frontier: AnyFrontier,
    /// Entries waiting for a retry, by due time.
    retries: BinaryHeap<Reverse<Delayed>>,
    retry_seq: u64,
    hosts: HashMap<String, Host>,
    tasks: JoinSet<Finished>,
    /// Distinct URLs fetched (first attempts), against `max_pages`.
    pages: u64,
    /// Requests per host (all attempts and robots.txt).
    requests: HashMap<String, u64>,
    /// A frontier failure: the crawl stops (in-flight work finishes) and reports it.
    error: Option<CrawlError>,
}

impl Scheduler {
    fn host(&mut self, name: &str) -> &mut Host {
        let settings = &self.settings;
        // Looked up on every launch: the site scan only runs when the host is new.
        self.hosts.entry(name.to_string()).or_insert_with(|| {
            let obey = settings
                .scope
                .sites
                .iter()
                .find(|s| s.hosts.iter().any(|h| crate::scope::host_matches(h, name)))
                .is_none_or(|s| s.obey_robots);
            Host {
                in_flight: 0,
                next_start: Instant::now(),
                delay: settings.limits.per_host_delay,
                failures: 0,
                robots: if settings.robots.enabled && obey {
                    RobotsState::Unknown
                } else {
                    RobotsState::Ready(Rules::AllowAll)
                },
            }
        })
    }

    fn send(&self, write: Write) {
        self.writes.count.fetch_add(1, Ordering::SeqCst);
        // The writer outlives the scheduler's sender; a send error means it already failed,
        // and its error is reported when it is joined.
        if self.tx.send(write).is_err() {
            self.writes.count.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Records the outcome of an entry taken from the frontier, and marks it done.
    fn record(&self, state: UrlState) {
        let done = Url::parse(&state.url).ok();
        self.send(Write::state(state, done));
    }

    fn fail(&mut self, e: FrontierError) {
        tracing::error!("{e}; stopping the crawl");
        self.error.get_or_insert(CrawlError::Frontier(e));
    }

    /// Starts every robots fetch and page fetch the limits allow right now.
    fn launch(&mut self) {
        let now = Instant::now();
        // Due retries go back to the frontier.
        while self.retries.peek().is_some_and(|Reverse(d)| d.due <= now) {
            if let Some(Reverse(d)) = self.retries.pop() {
                if let Err(e) = self.frontier.requeue(d.entry) {
                    return self.fail(e);
                }
            }
        }
        let limits = self.settings.limits.clone();
        // Hosts whose robots.txt must be (re)fetched before anything else.
        for name in self.frontier.pending_hosts() {
            if self.tasks.len() >= limits.concurrency {
                return;
            }
            // The state is checked before the queue is peeked: peeking reads sled, and almost
            // every host has its robots.txt already.
            let host = self.host(&name);
            let tries = match host.robots {
                RobotsState::Unknown => 0,
                RobotsState::Unavailable { retry_at, tries } if retry_at <= now => tries,
                _ => continue,
            };
            if host.in_flight >= limits.per_host_concurrency || host.next_start > now {
                continue;
            }
            let Some(url) = self
                .frontier
                .peek_host(&name)
                .ok()
                .flatten()
                .and_then(|e| robots::robots_url(&e.url))
            else {
                continue;
            };
            let host = self.host(&name);
            host.robots = RobotsState::Pending { tries };
            host.in_flight += 1;
            host.next_start = now + host.delay;
            *self.requests.entry(name.clone()).or_default() += 1;
            let (fetcher, agent) = (self.fetcher.clone(), self.settings.robots.agent.clone());
            self.tasks.spawn(async move {
                let verdict =
                    robots::from_fetch(fetcher.get(&url, &Validators::default()).await, &agent);
                Finished::Robots(name, verdict)
            });
        }
        // Backpressure: pages waiting for the writer hold their bodies in memory, so when the
        // writer falls behind, fetching pauses instead of memory growing with the crawl.
        while self.tasks.len() < limits.concurrency
            && self.writes.count.load(Ordering::SeqCst) < MAX_PENDING_WRITES
        {
            let hosts = &self.hosts;
            let mut ready = |h: &str| match hosts.get(h) {
                None => false,
                Some(host) => match host.robots {
                    RobotsState::Ready(_) => {
                        host.in_flight < limits.per_host_concurrency && host.next_start <= now
                    }
                    RobotsState::GaveUp(_) => true,
                    _ => false,
                },
            };
            let entry = match self.frontier.pop_ready(&mut ready) {
                Ok(Some(entry)) => entry,
                Ok(None) => return,
                Err(e) => return self.fail(e),
            };
            let name = entry.host().to_string();
            let host = self.host(&name);
            match &host.robots {
                RobotsState::GaveUp(why) => {
                    let outcome = Outcome::Failed {
                        class: "robots_unavailable".into(),
                        message: why.clone(),
                    };
                    self.record(UrlState::new(
                        entry.url.as_str(),
                        outcome,
                        self.run,
                        None,
                        entry.attempt,
                    ));
                    continue;
                }
                RobotsState::Ready(rules) if !rules.allows(&entry.url) => {
                    let outcome = Outcome::Skipped {
                        reason: "robots".into(),
                    };
                    self.record(UrlState::new(
                        entry.url.as_str(),
                        outcome,
                        self.run,
                        None,
                        entry.attempt,
                    ));
                    continue;
                }
                _ => {}
            }
            if entry.attempt == 0 {
                if self.pages >= limits.max_pages {
                    // Over the page budget: back in the queue, accounted for at the end.
                    if let Err(e) = self.frontier.requeue(entry) {
                        self.fail(e);
                    }
                    return;
                }
                if self.is_fresh(&entry) {
                    self.send(Write {
                        action: Action::Fresh,
                        links: Vec::new(),
                        depth_skipped: Vec::new(),
                        done: Some(entry.url.clone()),
                    });
                    continue;
                }
                self.pages += 1;
            }
            let settings = self.settings.clone();
            let host = self.host(&name);
            host.in_flight += 1;
            host.next_start = now + host.delay + backoff_gap(&settings.retry, host.failures);
            *self.requests.entry(name).or_default() += 1;
            let (fetcher, analysis, settings, store, run) = (
                self.fetcher.clone(),
                self.analysis.clone(),
                self.settings.clone(),
                self.store.clone(),
                self.run,
            );
            self.tasks.spawn(async move {
                let result = process(&fetcher, &analysis, &settings, &store, &entry, run).await;
                Finished::Page(entry, result)
            });
        }
    }

    /// Queues the sitemaps a robots.txt names, when they are in scope (as listings).
    fn push_sitemaps(&mut self, rules: &Rules) {
        for raw in rules.sitemaps() {
            let Ok(url) = self.settings.scope.urls.normalise(raw, None) else {
                continue;
            };
            let Some(site) = self.settings.scope.site_for(&url) else {
                continue;
            };
            let placement = crate::scope::Placement {
                site,
                kind: PageKind::Listing,
            };
            let entry = Entry {
                url,
                depth: 1,
                placement,
                attempt: 0,
                modified: None,
                carried: None,
            };
            if let Err(e) = self.frontier.push(entry) {
                return self.fail(e);
            }
        }
    }

    /// Whether an article page was fetched recently enough to skip (listings always go).
    fn is_fresh(&self, entry: &Entry) -> bool {
        if entry.placement.kind != PageKind::Article {
            return false;
        }
        let Some(site) = self.settings.scope.sites.get(entry.placement.site) else {
            return false;
        };
        if site.recrawl_after.is_zero() {
            return false;
        }
        // A read of the URL's state; writes all go through the writer.
        match self.store.url_state(entry.url.as_str()) {
            Ok(Some(state)) if state.record.is_some() && state.run != self.run => {
                let age = (Utc::now() - state.last_fetch)
                    .to_std()
                    .unwrap_or(Duration::ZERO);
                age < site.recrawl_after
            }
            _ => false,
        }
    }

    /// When the loop must wake up even if no task finishes.
    fn next_wake(&self) -> Instant {
        let far = Instant::now() + Duration::from_secs(3600);
        let limit = self.settings.limits.per_host_concurrency;
        let hosts = self
            .frontier
            .pending_hosts()
            .into_iter()
            .filter_map(|h| self.hosts.get(&h))
            .filter(|h| h.in_flight < limit)
            .map(|h| match h.robots {
                RobotsState::Unavailable { retry_at, .. } => retry_at.max(h.next_start),
                RobotsState::Pending { .. } => far,
                _ => h.next_start,
            })
            .min();
        let retry = self.retries.peek().map(|Reverse(d)| d.due);
        let frontier = self.frontier.wake_at();
        hosts
            .into_iter()
            .chain(retry)
            .chain(frontier)
            .min()
            .unwrap_or(far)
    }

    fn finished(&mut self, finished: Finished) {
        match finished {
            Finished::Robots(name, verdict) => {
                let max_delay = self.settings.robots.max_crawl_delay;
                let retry = self.settings.retry.clone();
                let host = self.host(&name);
                host.in_flight = host.in_flight.saturating_sub(1);
                let tries = match host.robots {
                    RobotsState::Pending { tries } => tries,
                    _ => 0,
                };
                if let Verdict::Rules(rules) = &verdict {
                    self.push_sitemaps(rules);
                }
                let host = self.host(&name);
                host.robots = match verdict {
                    Verdict::Rules(rules) => {
                        if let Some(d) = rules.crawl_delay() {
                            host.delay = host.delay.max(d.min(max_delay));
                            // The robots.txt request itself counts: the first page waits too.
                            host.next_start = host.next_start.max(Instant::now() + host.delay);
                        }
                        RobotsState::Ready(rules)
                    }
                    Verdict::Unavailable(why) if tries + 1 >= ROBOTS_TRIES => {
                        tracing::warn!(host = %name, "robots.txt unavailable {} times ({why}); giving up on the host", tries + 1);
                        RobotsState::GaveUp(why)
                    }
                    Verdict::Unavailable(why) => {
                        tracing::info!(host = %name, "robots.txt unavailable ({why}); backing off");
                        RobotsState::Unavailable {
                            retry_at: Instant::now() + retry.backoff(tries + 1),
                            tries: tries + 1,
                        }
                    }
                };
            }
            Finished::Page(entry, result) => {
                let name = entry.host().to_string();
                let host = self.host(&name);
                host.in_flight = host.in_flight.saturating_sub(1);
                self.page_done(entry, result);
            }
        }
    }

    fn page_done(&mut self, entry: Entry, result: PageResult) {
        let name = entry.host().to_string();
        let mut hints: HashMap<String, chrono::DateTime<Utc>> = HashMap::new();
        let mut carried: HashMap<String, api::Carried> = HashMap::new();
        let action_links = match result {
            PageResult::Retry {
                class,
                message,
                status,
                retry_after,
            } => {
                let policy = self.settings.retry.clone();
                let host = self.host(&name);
                host.failures += 1;
                let now = Instant::now();
                if let Some(wait) = retry_after {
                    // Retry-After speaks for the whole host: slow it down, not just this URL.
                    host.next_start = host.next_start.max(now + wait.min(policy.max_retry_after));
                }
                let too_long = retry_after.is_some_and(|w| w > policy.max_retry_after);
                if entry.attempt >= policy.max_retries || too_long {
                    let message = if too_long {
                        format!(
                            "{message} (Retry-After longer than {:?})",
                            policy.max_retry_after
                        )
                    } else {
                        message
                    };
                    let outcome = Outcome::Failed { class, message };
                    self.record(UrlState::new(
                        entry.url.as_str(),
                        outcome,
                        self.run,
                        status,
                        entry.attempt + 1,
                    ));
                } else {
                    let wait = policy
                        .backoff(entry.attempt + 1)
                        .max(retry_after.unwrap_or(Duration::ZERO));
                    tracing::debug!(url = %entry.url, attempt = entry.attempt + 1, ?wait, %class, "retrying");
                    self.retry_seq += 1;
                    let next = Entry {
                        attempt: entry.attempt + 1,
                        ..entry
                    };
                    self.retries.push(Reverse(Delayed {
                        due: now + wait,
                        seq: self.retry_seq,
                        entry: next,
                    }));
                }
                return;
            }
            PageResult::Post {
                candidate,
                sighting,
                mut state,
                raw,
                links,
            } => {
                self.host(&name).failures = 0;
                state.attempts = entry.attempt + 1;
                let ingest = Ingest {
                    hash: candidate.hash,
                    url_state: *state,
                    sighting: *sighting,
                    raw: Some(*raw),
                    near: candidate.near.clone(),
                    chars: candidate.chars,
                };
                (Action::Ingest(candidate, Box::new(ingest)), links)
            }
            PageResult::Done {
                mut state,
                links,
                modified,
            } => {
                if !matches!(state.outcome, Outcome::Failed { .. }) {
                    self.host(&name).failures = 0;
                }
                state.attempts = entry.attempt + 1;
                hints = modified;
                (Action::State(state), links)
            }
            PageResult::Listed { mut state, links } => {
                if !matches!(state.outcome, Outcome::Failed { .. }) {
                    self.host(&name).failures = 0;
                }
                state.attempts = entry.attempt + 1;
                let mut urls = Vec::with_capacity(links.len());
                for link in links {
                    if let Ok(n) = self.settings.scope.urls.normalise_url(link.url.clone()) {
                        // Two items linking one URL: the first item's fields go with it.
                        carried.entry(n.to_string()).or_insert(link.carried);
                    }
                    urls.push(link.url);
                }
                (Action::State(state), urls)
            }
        };
        let (action, links) = action_links;
        let depth = entry.depth + 1;
        let mut next = Vec::new();
        let mut depth_skipped = Vec::new();
        // Feeds and JSON lists are capped here; HTML pages already were, while extracting.
        for link in links
            .into_iter()
            .take(self.settings.limits.max_links_per_page)
        {
            let Ok(url) = self.settings.scope.urls.normalise_url(link) else {
                continue;
            };
            let Some(placement) = self.settings.scope.classify(&url) else {
                continue;
            };
            if depth > self.settings.limits.max_depth {
                depth_skipped.push(url);
            } else {
                let modified = hints.get(url.as_str()).copied();
                let carried = carried.remove(url.as_str()).map(Box::new);
                next.push(Entry {
                    url,
                    depth,
                    placement,
                    attempt: 0,
                    modified,
                    carried,
                });
            }
        }
        self.send(Write {
            action,
            links: next,
            depth_skipped,
            done: Some(entry.url),
        });
    }
}

/// Extra gap after consecutive failures on a host, so a failing host is backed off, not
/// hammered: the retry policy's backoff for that many failures (none after a success).
fn backoff_gap(policy: &crate::fetch::retry::RetryPolicy, failures: u32) -> Duration {
    if failures == 0 {
        return Duration::ZERO;
    }
    policy.backoff(failures)
}

fn done(
    url: &Url,
    outcome: Outcome,
    status: Option<u16>,
    run: RunId,
    links: Vec<Url>,
) -> PageResult {
    PageResult::Done {
        state: Box::new(UrlState::new(url.as_str(), outcome, run, status, 0)),
        links,
        modified: HashMap::new(),
    }
}

/// Fetches and processes one page. Never fails: every problem becomes an outcome or a retry.
async fn process(
    fetcher: &Fetcher,
    analysis: &Semaphore,
    settings: &Arc<Settings>,
    store: &Store,
    entry: &Entry,
    run: RunId,
) -> PageResult {
    // Conditional GET: what we knew about the URL, if it produced content before.
    let previous = store
        .url_state(entry.url.as_str())
        .ok()
        .flatten()
        .filter(|p| {
            matches!(
                p.outcome,
                Outcome::New { .. }
                    | Outcome::Duplicate { .. }
                    | Outcome::Hub
                    | Outcome::NotModified
            )
        });
    let api_rule = settings.apis.rule_for(entry.placement.site, &entry.url);
    // A JSON list is always read in full: its items' fields travel with the links it yields,
    // and a 304 would only give back the links.
    let validators = match (api_rule, &previous) {
        (Some(rule), _) if rule.kind == api::ApiKind::List => Default::default(),
        (_, Some(p)) => p.validators.clone(),
        (_, None) => Default::default(),
    };
    let fetched = match fetcher.get(&entry.url, &validators).await {
        Ok(f) => f,
        Err(e) if e.is_transient() => {
            return PageResult::Retry {
                class: e.class().to_string(),
                message: e.to_string(),
                status: None,
                retry_after: None,
            }
        }
        Err(e) => {
            let outcome = Outcome::Failed {
                class: e.class().to_string(),
                message: e.to_string(),
            };
            return done(&entry.url, outcome, None, run, Vec::new());
        }
    };
    let status = fetched.status;
    if status == 304 {
        if let Some(prev) = previous {
            // Unchanged: no body, no parse. The record link, validators and (for listings)
            // the links found last time carry over, so the crawl still reaches every article.
            let links = prev
                .links
                .iter()
                .filter_map(|l| Url::parse(l).ok())
                .collect();
            let mut state =
                UrlState::new(entry.url.as_str(), Outcome::NotModified, run, Some(304), 0);
            state.record = prev.record.or(match prev.outcome {
                Outcome::New { record } => Some(record),
                Outcome::Duplicate { of } => Some(of),
                _ => None,
            });
            state.validators = prev.validators;
            state.links = prev.links;
            state.redirects = fetched.redirects;
            return PageResult::Done {
                state: Box::new(state),
                links,
                modified: HashMap::new(),
            };
        }
    }
    if status_is_transient(status) {
        return PageResult::Retry {
            class: format!("http_{status}"),
            message: format!("HTTP status {status}"),
            status: Some(status),
            retry_after: fetched
                .header("retry-after")
                .and_then(|v| parse_retry_after(v, Utc::now())),
        };
    }
    if !(200..300).contains(&status) {
        let outcome = Outcome::Failed {
            class: format!("http_{status}"),
            message: format!("HTTP status {status}"),
        };
        return done(&entry.url, outcome, Some(status), run, Vec::new());
    }
    if api_rule.is_some() {
        // Recognised by the URL, not by sniffing: the config says this endpoint is JSON.
        let (settings, entry) = (settings.clone(), entry.clone());
        let url = entry.url.clone();
        let work = analyse_off_reactor(analysis, move || {
            analyse_api(&settings, &entry, fetched, run)
        })
        .await;
        return work.unwrap_or_else(|e| {
            let outcome = Outcome::Failed {
                class: "internal".into(),
                message: format!("JSON analysis panicked: {e}"),
            };
            done(&url, outcome, Some(status), run, Vec::new())
        });
    }
    if entry.placement.kind == PageKind::Listing
        && feed::sniff(&fetched.body, fetched.content_type())
    {
        let (settings, entry) = (settings.clone(), entry.clone());
        let url = entry.url.clone();
        let work = analyse_off_reactor(analysis, move || {
            analyse_feed(&settings, &entry, fetched, run)
        })
        .await;
        return work.unwrap_or_else(|e| {
            let outcome = Outcome::Failed {
                class: "internal".into(),
                message: format!("feed analysis panicked: {e}"),
            };
            done(&url, outcome, Some(status), run, Vec::new())
        });
    }
    if !fetch::is_html(fetched.content_type()) {
        let outcome = Outcome::Skipped {
            reason: format!("not_html: {}", fetched.content_type().unwrap_or_default()),
        };
        return done(&entry.url, outcome, Some(status), run, Vec::new());
    }
    let settings = settings.clone();
    let entry = entry.clone();
    let url = entry.url.clone();
    let work =
        analyse_off_reactor(analysis, move || analyse(&settings, &entry, fetched, run)).await;
    work.unwrap_or_else(|e| {
        let outcome = Outcome::Failed {
            class: "internal".into(),
            message: format!("page analysis panicked: {e}"),
        };
        done(&url, outcome, Some(status), run, Vec::new())
    })
}

/// Runs page analysis (decoding, parsing, extraction, fingerprinting: CPU work) on the
/// blocking pool, off the async reactor, at most one page per core at a time. Without the
/// bound every fetched page got a blocking thread of its own: with 64 fetches in flight that
/// was up to 64 threads on two cores, each growing its own regex caches, and more context
/// switches than work.
async fn analyse_off_reactor<F>(
    analysis: &Semaphore,
    work: F,
) -> Result<PageResult, tokio::task::JoinError>
where
    F: FnOnce() -> PageResult + Send + 'static,
{
    // The semaphore is never closed; if it were, running unbounded beats failing the page.
    let _permit = analysis.acquire().await.ok();
    tokio::task::spawn_blocking(work).await
}

/// Pages analysed at once: one per core.
fn analysis_permits() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The tokio runtime crawls are meant to run on: multi-threaded, with the blocking pool
/// capped at the threads a crawl keeps busy, one per analysis permit and the writer.
///
/// Uncapped, tokio started another blocking thread whenever a page was handed over before the
/// previous page's thread was idle again: a dozen threads on two cores, sharing glibc's malloc
/// arenas, and waits on the arena locks were a quarter of the crawl's context switches.
/// Capped, the same threads take every page (7–10% less CPU per page on the demo network).
/// Other blocking work, such as the HTTP client's DNS lookups, waits at most for one page's
/// analysis; nothing on the pool waits for it in turn, so the cap cannot deadlock.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(analysis_permits() + 1)
        .build()
}

/// Most entries read from one feed or sitemap (the sitemap protocol's own limit).
const MAX_FEED_ENTRIES: usize = 50_000;

/// An RSS/Atom feed or a sitemap (index): a hub whose entries feed the frontier, with their
/// last-modified dates as recrawl hints.
fn analyse_feed(
    settings: &Settings,
    entry: &Entry,
    fetched: fetch::Fetched,
    run: RunId,
) -> PageResult {
    let status = fetched.status;
    let base = settings
        .scope
        .urls
        .normalise_url(fetched.final_url.clone())
        .unwrap_or_else(|_| entry.url.clone());
    match feed::parse(
        &fetched.body,
        &base,
        settings.extractor.zone,
        MAX_FEED_ENTRIES,
    ) {
        Ok(parsed) => {
            let mut links = Vec::with_capacity(parsed.entries.len());
            let mut modified = HashMap::new();
            for e in parsed.entries {
                let Ok(url) = Url::parse(&e.url) else {
                    continue;
                };
                if let Some(m) = e.modified.or(e.published) {
                    if let Ok(n) = settings.scope.urls.normalise_url(url.clone()) {
                        modified.insert(n.to_string(), m.with_timezone(&Utc));
                    }
                }
                links.push(url);
            }
            let mut state = UrlState::new(entry.url.as_str(), Outcome::Hub, run, Some(status), 0);
            state.validators = fetched.validators();
            state.redirects = fetched.redirects;
            state.links = links.iter().map(Url::to_string).collect();
            PageResult::Done {
                state: Box::new(state),
                links,
                modified,
            }
        }
        Err(e) => {
            let outcome = Outcome::Failed {
                class: "feed".into(),
                message: e.to_string(),
            };
            done(&entry.url, outcome, Some(status), run, Vec::new())
        }
    }
}

/// A configured JSON endpoint: a list is a hub whose items' links are queued (failing, with
/// the pointer named, when an item is bad, though the good items' links still go); a detail
/// record is a post, fingerprinted like a page's.
fn analyse_api(
    settings: &Settings,
    entry: &Entry,
    fetched: fetch::Fetched,
    run: RunId,
) -> PageResult {
    let status = fetched.status;
    let json_failed = |e: api::JsonError| Outcome::Failed {
        class: "json".into(),
        message: e.to_string(),
    };
    let Some(rule) = settings.apis.rule_for(entry.placement.site, &entry.url) else {
        // `process` only sends URLs that match a rule; the same lookup cannot miss here.
        let outcome = Outcome::Failed {
            class: "internal".into(),
            message: "no API rule matches".into(),
        };
        return done(&entry.url, outcome, Some(status), run, Vec::new());
    };
    // JSON is UTF-8 by its RFC, but legacy APIs send GBK too: decode like a page.
    let decoded = charset::decode(&fetched.body, fetched.content_type());
    let final_url = settings
        .scope
        .urls
        .normalise_url(fetched.final_url.clone())
        .unwrap_or_else(|_| entry.url.clone());
    let mut state = UrlState::new(entry.url.as_str(), Outcome::Hub, run, Some(status), 0);
    state.validators = fetched.validators();
    state.redirects = fetched.redirects.clone();
    let carried = entry.carried.as_deref();
    if rule.kind == api::ApiKind::List {
        return match api::read_list(rule, &decoded.text, &final_url, carried) {
            Ok(page) => {
                if let Some(e) = page.error {
                    state.outcome = json_failed(e);
                }
                state.links = page.links.iter().map(|l| l.url.to_string()).collect();
                PageResult::Listed {
                    state: Box::new(state),
                    links: page.links,
                }
            }
            Err(e) => done(&entry.url, json_failed(e), Some(status), run, Vec::new()),
        };
    }
    let (post, links) = match api::read_detail(rule, &decoded.text, &final_url, carried) {
        Ok(d) => (d.post, d.links),
        Err(e) => return done(&entry.url, json_failed(e), Some(status), run, Vec::new()),
    };
    let skip = |mut state: UrlState, reason: String| {
        state.outcome = Outcome::Skipped { reason };
        PageResult::Done {
            state: Box::new(state),
            links: links.clone(),
            modified: HashMap::new(),
        }
    };
    let body_at = rule.fields.body.as_deref().unwrap_or_default();
    if post.body.is_empty() {
        return skip(
            state,
            format!("not_article: {}{body_at} is empty", rule.items),
        );
    }
    let Some(fp) = settings.fingerprinter.fingerprint(&post) else {
        return skip(state, "not_article: body is only boilerplate".into());
    };
    archived(&final_url, fetched, &decoded, post, fp, state, links, run)
}

/// Decode, parse once, extract post and links, fingerprint.
fn analyse(settings: &Settings, entry: &Entry, fetched: fetch::Fetched, run: RunId) -> PageResult {
    let status = fetched.status;
    let decoded = charset::decode(&fetched.body, fetched.content_type());
    let html = match extract::bounds::parse_document(&decoded.text) {
        Ok(html) => html,
        Err(e) => {
            let outcome = Outcome::Failed {
                class: "too_complex".into(),
                message: e.to_string(),
            };
            return done(&entry.url, outcome, Some(status), run, Vec::new());
        }
    };
    let final_url = settings
        .scope
        .urls
        .normalise_url(fetched.final_url.clone())
        .unwrap_or_else(|_| entry.url.clone());
    let links = extract::links_upto(&html, &final_url, settings.limits.max_links_per_page);
    let mut state = UrlState::new(entry.url.as_str(), Outcome::Hub, run, Some(status), 0);
    state.validators = fetched.validators();
    state.redirects = fetched.redirects.clone();
    if entry.placement.kind == PageKind::Listing {
        // Kept so that a 304 next time still yields the listing's links.
        state.links = links.iter().map(Url::to_string).collect();
        return PageResult::Done {
            state: Box::new(state),
            links,
            modified: HashMap::new(),
        };
    }
    let site = settings
        .scope
        .site_for(&final_url)
        .or(Some(entry.placement.site));
    let post = match settings.extractor.extract(&html, &final_url, site) {
        Extraction::Post(p) => p,
        Extraction::NotArticle(reason) => {
            // A listing, tag or category page at an article-like URL is a hub: its links are
            // worth following. Soft 404s, about pages and the like are skipped.
            let hub =
                extract::generic::NotArticleKind::of_reason(&reason).is_some_and(|k| k.is_hub());
            state.outcome = if hub {
                Outcome::Hub
            } else {
                Outcome::Skipped {
                    reason: format!("not_article: {reason}"),
                }
            };
            return PageResult::Done {
                state: Box::new(state),
                links,
                modified: HashMap::new(),
            };
        }
    };
    let Some(fp) = settings.fingerprinter.fingerprint(&post) else {
        state.outcome = Outcome::Skipped {
            reason: "not_article: body is only boilerplate".into(),
        };
        return PageResult::Done {
            state: Box::new(state),
            links,
            modified: HashMap::new(),
        };
    };
    archived(&final_url, fetched, &decoded, post, fp, state, links, run)
}

/// A fingerprinted post as the writer archives it: candidate, sighting, URL state, and the raw
/// response (kept if this copy is or becomes canonical). Shared by HTML pages and JSON APIs.
#[allow(clippy::too_many_arguments)]
fn archived(
    final_url: &Url,
    fetched: fetch::Fetched,
    decoded: &charset::Decoded,
    post: crate::model::Post,
    fp: crate::fingerprint::Fingerprint,
    state: UrlState,
    links: Vec<Url>,
    run: RunId,
) -> PageResult {
    let host = final_url.host_str().unwrap_or("").to_string();
    let sighting = Sighting {
        record: RecordId([0; 16]),
        url: final_url.to_string(),
        host: host.clone(),
        fetched_at: fetched.fetched_at,
        status: fetched.status,
        hash: fp.hash,
        extractor: post.extractor.clone(),
        title: post.title.clone(),
        run,
        charset: decoded.describe(),
        redirects: fetched.redirects.clone(),
    };
    let raw = RawResponse {
        url: final_url.to_string(),
        status: fetched.status,
        headers: fetched.headers,
        body: fetched.wire_body.unwrap_or(fetched.body),
        fetched_at: fetched.fetched_at,
    };
    PageResult::Post {
        candidate: Box::new(Candidate {
            url: final_url.to_string(),
            host,
            hash: fp.hash,
            seen: fetched.fetched_at,
            chars: fp.normalised_chars,
            near: fp.near,
            post,
        }),
        sighting: Box::new(sighting),
        state: Box::new(state),
        raw: Box::new(raw),
        links,
    }
}

/// Dedup and store one fingerprinted post, as the writer does: the URL's previous version
/// and the band index's candidates go through the near-duplicate policy, and the canonical
/// policy decides what the record becomes.
pub fn ingest_candidate(
    store: &Store,
    settings: &Settings,
    candidate: &Candidate,
    ingest: &Ingest,
) -> Result<(crate::model::Record, Outcome), StoreError> {
    let out = ingest_candidates(store, settings, &[(candidate, ingest)])?;
    crate::store::sole(out, ingest)
}

/// [`ingest_candidate`] for several posts in order, in one store transaction (see
/// [`Store::ingest_batch`]).
pub fn ingest_candidates(
    store: &Store,
    settings: &Settings,
    posts: &[(&Candidate, &Ingest)],
) -> Result<Vec<(crate::model::Record, Outcome)>, StoreError> {
    let ingests: Vec<&Ingest> = posts.iter().map(|(_, i)| *i).collect();
    store.ingest_batch(
        &ingests,
        settings.near.bounds(),
        |i, previous, found| dedup::best_match(posts[i].0, previous, found, &settings.near),
        |i, existing, near| dedup::admit(existing, near, posts[i].0, &settings.canonical),
    )
}

/// Archives a post that no crawl fetched (tests, benchmarks, tools): fingerprinted with
/// `settings` and stored through the writer's own dedup and store path (see [`post_ingest`]).
/// `None` when the post has no fingerprint (its body is only boilerplate).
pub fn archive_post(
    store: &Store,
    settings: &Settings,
    post: &crate::model::Post,
    url: &str,
    seen: chrono::DateTime<Utc>,
    run: RunId,
) -> Result<Option<(crate::model::Record, Outcome)>, StoreError> {
    let Some(fp) = settings.fingerprinter.fingerprint(post) else {
        return Ok(None);
    };
    let (candidate, ingest) = post_ingest(post, fp, url, seen, run);
    ingest_candidate(store, settings, &candidate, &ingest).map(Some)
}

/// What the writer is given for a fingerprinted post that no crawl fetched: as if `url` had
/// answered 200 with it at `seen` in `run`, decoded as UTF-8, without redirects.
pub fn post_ingest(
    post: &crate::model::Post,
    fp: crate::fingerprint::Fingerprint,
    url: &str,
    seen: chrono::DateTime<Utc>,
    run: RunId,
) -> (Candidate, Ingest) {
    let host = Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    let candidate = Candidate {
        post: post.clone(),
        url: url.to_string(),
        host: host.clone(),
        hash: fp.hash,
        seen,
        chars: fp.normalised_chars,
        near: fp.near.clone(),
    };
    let ingest = Ingest {
        hash: fp.hash,
        sighting: Sighting {
            record: RecordId([0; 16]),
            url: url.to_string(),
            host,
            fetched_at: seen,
            status: 200,
            hash: fp.hash,
            extractor: post.extractor.clone(),
            title: post.title.clone(),
            run,
            charset: "UTF-8".into(),
            redirects: Vec::new(),
        },
        url_state: UrlState::new(url, Outcome::Hub, run, Some(200), 1),
        raw: None,
        near: fp.near,
        chars: fp.normalised_chars,
    };
    (candidate, ingest)
}

/// The single writer: dedup + store, frontier pushes and done marks, and the summary.
fn spawn_writer(
    store: Store,
    mut frontier: AnyFrontier,
    mut claims: Option<Claims>,
    settings: Arc<Settings>,
    run: Run,
    mut rx: mpsc::UnboundedReceiver<Write>,
    writes: Arc<InFlightWrites>,
) -> tokio::task::JoinHandle<Result<CrawlSummary, CrawlError>> {
    tokio::task::spawn_blocking(move || {
        let mut summary = CrawlSummary {
            run: run.id.0,
            ..Default::default()
        };
        let host_of = |url: &str| {
            Url::parse(url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default()
        };
        loop {
            let w = match rx.try_recv() {
                Ok(w) => w,
                Err(_) => {
                    // Nothing waiting: the moment to report a batch of finished pages to a
                    // cluster's frontier (never pending on one machine).
                    let wait = frontier.flush_batch()?;
                    // What was reported may let the scheduler start more.
                    writes.changed.notify_one();
                    let next = match wait {
                        // A batch is pending: wait for the next write only until it is due.
                        Some(wait) => {
                            let runtime = tokio::runtime::Handle::current();
                            match runtime.block_on(tokio::time::timeout(wait, rx.recv())) {
                                Ok(next) => next,
                                Err(_) => continue,
                            }
                        }
                        None => rx.blocking_recv(),
                    };
                    match next {
                        Some(w) => w,
                        None => break,
                    }
                }
            };
            // Take whatever else is waiting too, so that its posts share one store
            // transaction.
            let mut batch = vec![w];
            while batch.len() < MAX_WRITE_BATCH {
                match rx.try_recv() {
                    Ok(w) => batch.push(w),
                    Err(_) => break,
                }
            }
            let taken = batch.len();
            let result = (|| -> Result<(), CrawlError> {
                let posts: Vec<(&Candidate, &Ingest)> = batch
                    .iter()
                    .filter_map(|w| match &w.action {
                        Action::Ingest(c, i) => Some((&**c, &**i)),
                        _ => None,
                    })
                    .collect();
                let mut outcomes = match claims.as_mut() {
                    Some(claims) => claims.ingest_batch(&store, &posts, &settings)?,
                    None => ingest_candidates(&store, &settings, &posts)?,
                }
                .into_iter();
                // Then each page's bookkeeping, in order: links before the done mark, and
                // every done mark after the transaction that archived the pages.
                for w in batch {
                    match w.action {
                        Action::Ingest(_, ingest) => {
                            if let Some((_, outcome)) = outcomes.next() {
                                summary.count(&ingest.sighting.host, &outcome);
                            }
                        }
                        Action::State(s) => {
                            store.put_url_state(&s)?;
                            summary.count(&host_of(&s.url), &s.outcome);
                        }
                        Action::Fresh => summary.fresh += 1,
                    }
                    frontier.push_links(w.links)?;
                    for url in w.depth_skipped {
                        // The outcome before the seen mark: a kill between the two leaves the
                        // URL unseen, to be found and recorded again on resume. The other
                        // order could leave it seen in this run and never given an outcome.
                        if frontier.is_seen(&url)? {
                            continue;
                        }
                        let outcome = Outcome::Skipped {
                            reason: "max_depth".into(),
                        };
                        let state = UrlState::new(url.as_str(), outcome, run.id, None, 0);
                        store.put_url_state(&state)?;
                        if frontier.mark_seen(&url)? {
                            summary.count(&host_of(url.as_str()), &state.outcome);
                        }
                    }
                    if let Some(url) = w.done {
                        frontier.done(&url)?;
                    }
                }
                Ok(())
            })();
            let before = writes.count.fetch_sub(taken, Ordering::SeqCst);
            let left = before.saturating_sub(taken);
            // The scheduler needs waking when fetching may resume after backpressure (the
            // backlog fell to half the limit) or when everything is written (the crawl may be
            // over); otherwise finishing tasks wake it. Waking it for every page made its loop
            // a fifth of the crawl's CPU.
            if left == 0 || (left <= MAX_PENDING_WRITES / 2 && before > MAX_PENDING_WRITES / 2) {
                writes.changed.notify_one();
            }
            result?;
        }
        frontier.finish_batch()?;
        Ok(summary)
    })
}
