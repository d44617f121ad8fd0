//! `trawl crawl`: crawl the configured seeds into the store.

use std::path::Path;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use tokio::sync::watch;
use trawl::cluster::Cluster;
use trawl::config::{Overrides, Settings};
use trawl::crawl::{self, CrawlSummary};
use trawl::store::Store;

use super::{print_json, Format, FormatArg, UsageError};

/// Flags that override the config file for one crawl.
#[derive(Debug, Args, Default, Clone)]
pub struct CrawlFlags {
    /// Seed URL (repeatable); replaces the config's `crawl.seeds`.
    #[arg(long = "seed", value_name = "URL")]
    pub seeds: Vec<String>,
    /// Pin a host to an address, like curl's --resolve (repeatable): HOST=IP:PORT.
    #[arg(long, value_name = "HOST=IP:PORT")]
    pub resolve: Vec<String>,
    /// Fetch at most this many pages in this run.
    #[arg(long, value_name = "N")]
    pub max_pages: Option<u64>,
    /// Follow links at most this deep from a seed.
    #[arg(long, value_name = "N")]
    pub max_depth: Option<u32>,
    /// Requests in flight at once, over all hosts.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Requests in flight at once per host.
    #[arg(long, value_name = "N")]
    pub per_host_concurrency: Option<usize>,
    /// Minimum milliseconds between request starts on one host.
    #[arg(long, value_name = "MS")]
    pub delay_ms: Option<u64>,
    /// User-Agent header.
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,
    /// Start a new run even if the store has an unfinished one (which is then abandoned).
    /// By default an unfinished run (after a crash or a stop) is resumed.
    #[arg(long)]
    pub fresh: bool,
}

impl CrawlFlags {
    /// The overrides these flags make, plus extra resolve pins.
    pub fn overrides(&self, extra_resolve: Vec<String>) -> Overrides {
        let mut resolve = extra_resolve;
        resolve.extend(self.resolve.iter().cloned());
        Overrides {
            seeds: self.seeds.clone(),
            resolve,
            max_pages: self.max_pages,
            max_depth: self.max_depth,
            concurrency: self.concurrency,
            per_host_concurrency: self.per_host_concurrency,
            per_host_delay_ms: self.delay_ms,
            user_agent: self.user_agent.clone(),
            cluster: None,
            worker: None,
        }
    }
}

/// Flags that make a crawl one worker of a cluster (see README, "Scaling out").
#[derive(Debug, Args, Default, Clone)]
pub struct ClusterFlags {
    /// Crawl as one worker of a cluster whose frontier and dedup index live in this Redis
    /// server (overrides `cluster.url`); without it (and without `[cluster]`), one machine.
    #[arg(long, value_name = "redis://HOST:PORT/DB")]
    pub cluster: Option<String>,
    /// This worker's name in the cluster: unique, and the same when a worker is restarted
    /// (overrides `cluster.worker`).
    #[arg(long, value_name = "NAME")]
    pub worker: Option<String>,
}

/// Arguments of `trawl crawl`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  trawl crawl --config config/example.toml\n  \
trawl crawl --config config/demo.toml --resolve news.trawl-demo.test=127.0.0.1:8080 --seed http://news.trawl-demo.test/\n\n\
The crawl exits 0 when it ran, even if some URLs failed; the summary says how many and why."
)]
pub struct CrawlArgs {
    #[command(flatten)]
    flags: CrawlFlags,
    #[command(flatten)]
    cluster: ClusterFlags,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl crawl`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &CrawlArgs) -> Result<()> {
    let Some(config) = config else {
        return Err(UsageError(
            "trawl crawl needs a configuration: pass --config FILE (see config/example.toml), or run `trawl demo`".into(),
        )
        .into());
    };
    let mut overrides = args.flags.overrides(Vec::new());
    overrides.cluster = args.cluster.cluster.clone();
    overrides.worker = args.cluster.worker.clone();
    let settings = Settings::load(Some(config), &overrides)?;
    let runtime = runtime()?;
    let options = trawl::crawl::CrawlOptions {
        resume: !args.flags.fresh,
    };
    let (summary, store) = runtime.block_on(async {
        // Signals are caught before the store is opened, so a SIGTERM at any moment after
        // start-up is a graceful stop, never an abrupt one.
        let stop = stop_signal();
        let store = Store::open(store_dir)?;
        let summary = match settings.cluster.clone() {
            None => {
                let summary = crawl::crawl_with(Arc::new(settings), &store, stop, options).await?;
                index_for_search(&store)?;
                summary
            }
            // A worker's store is merged before it is searched (`trawl merge` indexes the
            // merged store), so indexing it here would be work thrown away.
            Some(c) => {
                let cluster = Cluster::join(&c, args.flags.fresh)?;
                let result = crawl::crawl_cluster(Arc::new(settings), &store, stop, &cluster).await;
                // Leases and unfinished entries go back even when the crawl failed.
                let left = cluster.leave();
                let summary = result?;
                left?;
                summary
            }
        };
        Ok::<_, anyhow::Error>((summary, store))
    })?;
    let counts = store.counts();
    print_summary(
        &summary,
        args.format.format,
        Some((counts.records, counts.sightings)),
    )
}

/// Brings the search index up to date with what a crawl wrote, so `trawl search` answers at
/// once afterwards instead of indexing on its first call.
pub fn index_for_search(store: &Store) -> Result<()> {
    let indexed = trawl::query::search::update_index(store, &mut |_| {})?;
    tracing::debug!(indexed, "search index updated");
    Ok(())
}

/// The runtime crawls run on (see [`crawl::runtime`]).
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(crawl::runtime()?)
}

/// A stop flag that turns true on Ctrl-C or SIGTERM.
pub fn stop_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = tx.send(true);
        // Keep the sender alive so receivers do not see a closed channel as a stop.
        std::future::pending::<()>().await;
    });
    rx
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints a crawl summary (stdout), with the store's totals when given.
pub fn print_summary(s: &CrawlSummary, format: Format, totals: Option<(u64, u64)>) -> Result<()> {
    if format == Format::Json {
        return print_json(s);
    }
    let n = |k: &str| s.outcomes.get(k).copied().unwrap_or(0);
    println!(
        "run {}{}: {} pages fetched ({} requests) in {:.1}s ({:.0} pages/s)",
        s.run,
        if s.resumed { " (resumed)" } else { "" },
        s.pages,
        s.fetched,
        s.seconds,
        s.pages as f64 / s.seconds.max(1e-9)
    );
    println!("  posts extracted     {}", s.posts);
    println!("  new records         {}", n("new"));
    println!("  copies collapsed    {}", n("duplicate"));
    println!("  not modified (304)  {}", n("not_modified"));
    println!("  not due (fresh)     {}", s.fresh);
    println!("  listing pages       {}", n("hub"));
    println!("  skipped             {}", n("skipped"));
    for (reason, count) in &s.skips {
        println!("    {reason}: {count}");
    }
    println!("  failed              {}", n("failed"));
    for (class, count) in &s.failures {
        println!("    {class}: {count}");
    }
    if let Some((records, sightings)) = totals {
        println!("  store now holds     {records} records, {sightings} sightings");
    }
    let width = s.hosts.keys().map(|h| h.len()).max().unwrap_or(4).max(4);
    println!(
        "\n  {:<width$}  {:>8}  {:>5}  {:>9}  {:>5}  {:>5}  {:>7}  {:>6}",
        "host", "requests", "new", "collapsed", "304", "hub", "skipped", "failed"
    );
    for (host, h) in &s.hosts {
        println!(
            "  {:<width$}  {:>8}  {:>5}  {:>9}  {:>5}  {:>5}  {:>7}  {:>6}",
            host, h.fetched, h.new, h.duplicate, h.not_modified, h.hub, h.skipped, h.failed
        );
    }
    if s.interrupted {
        println!(
            "\nstopped before the frontier was empty; the queue is kept: run the same command again to resume (or add --fresh to start over)"
        );
    }
    Ok(())
}
