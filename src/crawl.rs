//! The crawl loop: wires the stages together and owns nothing else.
//!
//! Three kinds of work run at once. The **scheduler** (this module's loop) takes entries from
//! the frontier as global and per-host limits and delays allow. **Page tasks** fetch a URL,
//! then on the blocking pool decode, parse once, extract the post and the links, and
//! fingerprint. The **writer** thread is the only one that writes to the store: it runs dedup
//! inside the store's transaction and records every URL's outcome. The scheduler never touches
//! disk while a host slot is held.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Serialize;
use thiserror::Error;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use url::Url;

use crate::config::Settings;
use crate::dedup::{self, Candidate};
use crate::extract::{self, Extraction};
use crate::fetch::{self, charset, FetchError, Fetcher};
use crate::frontier::{Entry, Frontier, MemoryFrontier};
use crate::model::{Outcome, Run, RunId, Sighting, UrlState};
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
    /// The configuration has nothing to crawl.
    #[error("no seeds: give --seed URL or set crawl.seeds in the config")]
    NoSeeds,
}

/// Per-host counts in a crawl summary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostCounts {
    /// Pages fetched (any status).
    pub fetched: u64,
    /// Posts that created a record.
    pub new: u64,
    /// Posts that joined an existing record (copies collapsed).
    pub duplicate: u64,
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
    /// Pages fetched.
    pub fetched: u64,
    /// Posts extracted (new + duplicate).
    pub posts: u64,
    /// Outcome counts by kind.
    pub outcomes: BTreeMap<String, u64>,
    /// Failure counts by class.
    pub failures: BTreeMap<String, u64>,
    /// Counts per host.
    pub hosts: BTreeMap<String, HostCounts>,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Whether the crawl was stopped before the frontier emptied.
    pub interrupted: bool,
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
            Outcome::Hub => h.hub += 1,
            Outcome::Skipped { .. } => h.skipped += 1,
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
        links: Vec<Url>,
    },
    /// No post; an outcome to record, maybe links to follow.
    Other {
        outcome: Outcome,
        status: Option<u16>,
        links: Vec<Url>,
    },
}

/// Work for the writer thread.
enum Write {
    Ingest(Box<Candidate>, Box<Ingest>),
    State(UrlState),
}

struct HostSlot {
    in_flight: usize,
    next_start: Instant,
}

/// Crawls from the configured seeds into `store` until the frontier is empty, the page limit
/// is reached, or `stop` turns true (then in-flight pages finish and nothing new starts).
pub async fn crawl(
    settings: Arc<Settings>,
    store: &Store,
    mut stop: watch::Receiver<bool>,
) -> Result<CrawlSummary, CrawlError> {
    if settings.seeds.is_empty() {
        return Err(CrawlError::NoSeeds);
    }
    let fetcher = Fetcher::new(&settings.fetch)?;
    let run = store.begin_run()?;
    let started = Instant::now();
    tracing::info!(run = %run.id, seeds = settings.seeds.len(), "crawl started");

    let (tx, rx) = mpsc::unbounded_channel::<Write>();
    let writer = spawn_writer(store.clone(), settings.clone(), run.clone(), rx);

    let mut frontier = MemoryFrontier::new();
    for seed in &settings.seeds {
        if let Some(placement) = settings.scope.classify_seed(seed) {
            frontier.push(Entry {
                url: seed.clone(),
                depth: 0,
                placement,
            });
        }
    }

    let limits = &settings.limits;
    let mut hosts: HashMap<String, HostSlot> = HashMap::new();
    let mut tasks: JoinSet<(Entry, PageResult)> = JoinSet::new();
    let mut launched: u64 = 0;
    let mut launched_per_host: HashMap<String, u64> = HashMap::new();
    let mut stopping = *stop.borrow();
    let mut last_progress = Instant::now();

    loop {
        // Launch everything the limits allow right now.
        while !stopping && tasks.len() < limits.concurrency && launched < limits.max_pages {
            let now = Instant::now();
            let mut ready = |h: &str| {
                hosts.get(h).is_none_or(|s| {
                    s.in_flight < limits.per_host_concurrency && s.next_start <= now
                })
            };
            let Some(entry) = frontier.pop_ready(&mut ready) else {
                break;
            };
            let slot = hosts.entry(entry.host().to_string()).or_insert(HostSlot {
                in_flight: 0,
                next_start: now,
            });
            slot.in_flight += 1;
            slot.next_start = now + limits.per_host_delay;
            launched += 1;
            *launched_per_host
                .entry(entry.host().to_string())
                .or_default() += 1;
            let (fetcher, settings, run_id) = (fetcher.clone(), settings.clone(), run.id);
            tasks.spawn(async move {
                let result = process(&fetcher, &settings, &entry, run_id).await;
                (entry, result)
            });
        }

        if tasks.is_empty() && (stopping || frontier.is_empty() || launched >= limits.max_pages) {
            break;
        }

        // Wake for a finished task, for the next host whose delay runs out, or for a stop.
        let wake = frontier
            .pending_hosts()
            .iter()
            .filter_map(|h| hosts.get(h))
            .filter(|s| s.in_flight < limits.per_host_concurrency)
            .map(|s| s.next_start)
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            Some(joined) = tasks.join_next() => {
                let Ok((entry, result)) = joined else {
                    // A page task panicked: a bug. The URL stays unrecorded and is retried by
                    // the next run; the crawl goes on.
                    tracing::error!("page task failed: {:?}", joined.err());
                    continue;
                };
                if let Some(slot) = hosts.get_mut(entry.host()) {
                    slot.in_flight -= 1;
                }
                handle(&settings, &mut frontier, &tx, &entry, result, run.id);
            }
            _ = tokio::time::sleep_until(wake.into()), if !stopping => {}
            changed = stop.changed(), if !stopping => {
                if changed.is_err() || *stop.borrow() {
                    tracing::warn!("stopping: finishing {} page(s) in flight", tasks.len());
                    stopping = true;
                }
            }
        }
        if last_progress.elapsed() >= Duration::from_secs(2) {
            last_progress = Instant::now();
            tracing::info!(
                fetched = launched,
                in_flight = tasks.len(),
                queued_hosts = frontier.pending_hosts().len(),
                "progress"
            );
        }
    }

    // Whatever the page limit left in the queue is accounted for, not silently dropped.
    let interrupted = stopping;
    if !interrupted {
        for entry in frontier.drain() {
            let _ = tx.send(Write::State(state(
                &entry.url,
                Outcome::Skipped {
                    reason: "max_pages".into(),
                },
                None,
                run.id,
            )));
        }
    }
    drop(tx);
    let mut summary = writer.await.unwrap_or_else(|e| {
        Err(StoreError::Corrupt {
            tree: "writer",
            key: String::new(),
            detail: e.to_string(),
        })
    })?;
    summary.fetched = launched;
    for (host, n) in launched_per_host {
        summary.hosts.entry(host).or_default().fetched = n;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    summary.interrupted = interrupted;
    let mut run = run;
    run.finished = Some(Utc::now());
    run.outcomes = summary.outcomes.clone();
    store.put_run(&run)?;
    store.flush()?;
    tracing::info!(run = %run.id, fetched = launched, posts = summary.posts, seconds = summary.seconds, "crawl finished");
    Ok(summary)
}

fn state(url: &Url, outcome: Outcome, status: Option<u16>, run: RunId) -> UrlState {
    UrlState {
        url: url.to_string(),
        last_fetch: Utc::now(),
        outcome,
        run,
        status,
    }
}

/// Records a page's result and queues the links it offers.
fn handle(
    settings: &Settings,
    frontier: &mut MemoryFrontier,
    tx: &mpsc::UnboundedSender<Write>,
    entry: &Entry,
    result: PageResult,
    run: RunId,
) {
    let links = match result {
        PageResult::Post {
            candidate,
            sighting,
            links,
        } => {
            let ingest = Ingest {
                hash: candidate.hash,
                url_state: state(&entry.url, Outcome::Hub, Some(sighting.status), run),
                sighting: *sighting,
                near: candidate.near.clone(),
                chars: candidate.chars,
            };
            let _ = tx.send(Write::Ingest(candidate, Box::new(ingest)));
            links
        }
        PageResult::Other {
            outcome,
            status,
            links,
        } => {
            let _ = tx.send(Write::State(state(&entry.url, outcome, status, run)));
            links
        }
    };
    let depth = entry.depth + 1;
    for link in links {
        let Ok(url) = settings.scope.urls.normalise_url(link) else {
            continue;
        };
        let Some(placement) = settings.scope.classify(&url) else {
            continue;
        };
        if depth > settings.limits.max_depth {
            if frontier.mark_seen(&url) {
                let _ = tx.send(Write::State(state(
                    &url,
                    Outcome::Skipped {
                        reason: "max_depth".into(),
                    },
                    None,
                    run,
                )));
            }
            continue;
        }
        frontier.push(Entry {
            url,
            depth,
            placement,
        });
    }
}

/// Fetches and processes one page. Never fails: every problem becomes an outcome.
async fn process(
    fetcher: &Fetcher,
    settings: &Arc<Settings>,
    entry: &Entry,
    run: RunId,
) -> PageResult {
    let failed = |class: &str, message: String, status: Option<u16>| PageResult::Other {
        outcome: Outcome::Failed {
            class: class.to_string(),
            message,
        },
        status,
        links: Vec::new(),
    };
    let fetched = match fetcher.get(&entry.url).await {
        Ok(f) => f,
        Err(e) => return failed(e.class(), e.to_string(), None),
    };
    let status = fetched.status;
    if !(200..300).contains(&status) {
        return failed(
            &format!("http_{status}"),
            format!("HTTP status {status}"),
            Some(status),
        );
    }
    if !fetch::is_html(fetched.content_type.as_deref()) {
        return PageResult::Other {
            outcome: Outcome::Skipped {
                reason: format!("not_html: {}", fetched.content_type.unwrap_or_default()),
            },
            status: Some(status),
            links: Vec::new(),
        };
    }
    let settings = settings.clone();
    let entry = entry.clone();
    // Decoding, parsing and extraction are CPU work: keep them off the async reactor.
    let work = tokio::task::spawn_blocking(move || analyse(&settings, &entry, fetched, run)).await;
    work.unwrap_or_else(|e| {
        failed(
            "internal",
            format!("page analysis panicked: {e}"),
            Some(status),
        )
    })
}

/// Decode, parse once, extract post and links, fingerprint.
fn analyse(settings: &Settings, entry: &Entry, fetched: fetch::Fetched, run: RunId) -> PageResult {
    let status = fetched.status;
    let decoded = charset::decode(&fetched.body, fetched.content_type.as_deref());
    let html = scraper::Html::parse_document(&decoded.text);
    let final_url = settings
        .scope
        .urls
        .normalise_url(fetched.final_url.clone())
        .unwrap_or_else(|_| entry.url.clone());
    let links = extract::links(&html, &final_url);
    if entry.placement.kind == PageKind::Listing {
        return PageResult::Other {
            outcome: Outcome::Hub,
            status: Some(status),
            links,
        };
    }
    let site = settings
        .scope
        .site_for(&final_url)
        .or(Some(entry.placement.site));
    let post = match settings.extractor.extract(&html, &final_url, site) {
        Extraction::Post(p) => p,
        Extraction::NotArticle(reason) => {
            return PageResult::Other {
                outcome: Outcome::Skipped {
                    reason: format!("not_article: {reason}"),
                },
                status: Some(status),
                links,
            }
        }
    };
    let Some(fp) = settings.fingerprinter.fingerprint(&post) else {
        return PageResult::Other {
            outcome: Outcome::Skipped {
                reason: "not_article: body is only boilerplate".into(),
            },
            status: Some(status),
            links,
        };
    };
    let host = final_url.host_str().unwrap_or("").to_string();
    let sighting = Sighting {
        record: crate::model::RecordId([0; 16]),
        url: final_url.to_string(),
        host: host.clone(),
        fetched_at: fetched.fetched_at,
        status,
        hash: fp.hash,
        extractor: post.extractor.clone(),
        title: post.title.clone(),
        run,
        charset: decoded.describe(),
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
        links,
    }
}

/// The single writer: dedup + store, and the summary's counts.
fn spawn_writer(
    store: Store,
    settings: Arc<Settings>,
    run: Run,
    mut rx: mpsc::UnboundedReceiver<Write>,
) -> tokio::task::JoinHandle<Result<CrawlSummary, StoreError>> {
    tokio::task::spawn_blocking(move || {
        let mut summary = CrawlSummary {
            run: run.id.0,
            ..Default::default()
        };
        while let Some(w) = rx.blocking_recv() {
            match w {
                Write::Ingest(candidate, ingest) => {
                    let (_, outcome) = store.ingest_with(
                        &ingest,
                        settings.near.max_distance,
                        |previous, found| {
                            dedup::best_match(&candidate, previous, found, &settings.near)
                        },
                        |existing, near| {
                            dedup::admit(existing, near, &candidate, &settings.canonical)
                        },
                    )?;
                    summary.count(&ingest.sighting.host, &outcome);
                }
                Write::State(s) => {
                    let host = Url::parse(&s.url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_default();
                    store.put_url_state(&s)?;
                    summary.count(&host, &s.outcome);
                }
            }
        }
        Ok(summary)
    })
}
