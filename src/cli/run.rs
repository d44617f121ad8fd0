//! `trawl run`: crawl on a schedule, in the foreground, until stopped.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use trawl::config::{parse_duration, Settings};
use trawl::crawl::{crawl_with, CrawlOptions};
use trawl::schedule::Cron;
use trawl::store::Store;

use super::crawl::{index_for_search, print_summary, runtime, stop_signal, CrawlFlags};
use super::{FormatArg, UsageError};

/// Arguments of `trawl run`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  trawl run --config config/example.toml --every 30m\n  \
trawl run --config config/example.toml --cron \"*/15 * * * *\"\n\n\
One crawl at a time: a crawl that runs past the next firing time delays it. Ctrl-C or SIGTERM \
stops the current crawl gracefully (its queue is kept; the next start resumes it) and exits 0."
)]
pub struct RunArgs {
    /// Start a crawl this long after the previous one started (e.g. 90s, 30m, 6h, 1d).
    #[arg(
        long,
        value_name = "DURATION",
        conflicts_with = "cron",
        required_unless_present = "cron"
    )]
    every: Option<String>,
    /// Start crawls at the times of a five-field cron expression (local time).
    #[arg(long, value_name = "EXPR")]
    cron: Option<String>,
    /// Random delay added to each start, so that many schedules do not hit hosts together.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    jitter: String,
    #[command(flatten)]
    flags: CrawlFlags,
    #[command(flatten)]
    format: FormatArg,
}

enum When {
    Every(Duration),
    Cron(Cron),
}

/// Runs `trawl run`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &RunArgs) -> Result<()> {
    let Some(config) = config else {
        return Err(UsageError(
            "trawl run needs a configuration: pass --config FILE (see config/example.toml)".into(),
        )
        .into());
    };
    let when = match (&args.every, &args.cron) {
        (Some(e), _) => {
            When::Every(parse_duration(e).filter(|d| !d.is_zero()).ok_or_else(|| {
                UsageError(format!(
                    "--every `{e}` is not a positive duration; expected e.g. 30m, 6h, 1d"
                ))
            })?)
        }
        (None, Some(c)) => When::Cron(Cron::parse(c).map_err(|e| UsageError(e.to_string()))?),
        (None, None) => {
            return Err(UsageError("give --every DURATION or --cron EXPR".into()).into())
        }
    };
    let jitter = parse_duration(&args.jitter)
        .ok_or_else(|| UsageError(format!("--jitter `{}` is not a duration", args.jitter)))?;
    let settings = Arc::new(Settings::load(
        Some(config),
        &args.flags.overrides(Vec::new()),
    )?);
    let rt = runtime()?;
    rt.block_on(async {
        // Signals are caught before the store is opened: a SIGTERM is always graceful.
        let mut stop = stop_signal();
        let store = Store::open(store_dir)?;
        loop {
            let started = std::time::Instant::now();
            let summary = crawl_with(
                settings.clone(),
                &store,
                stop.clone(),
                CrawlOptions { resume: true },
            )
            .await?;
            index_for_search(&store)?;
            print_summary(
                &summary,
                args.format.format,
                Some((store.counts().records, store.counts().sightings)),
            )?;
            if summary.interrupted || *stop.borrow() {
                return Ok(());
            }
            let wait = match &when {
                When::Every(d) => d.saturating_sub(started.elapsed()),
                When::Cron(c) => {
                    let now = chrono::Local::now();
                    match c.next_after(&now) {
                        Some(next) => (next - now).to_std().unwrap_or(Duration::ZERO),
                        None => {
                            return Err(UsageError("the cron expression never fires".into()).into())
                        }
                    }
                }
            };
            let jitter = Duration::from_millis(rand_below(jitter.as_millis() as u64));
            let wait = wait + jitter;
            tracing::info!("next crawl in {:.0}s", wait.as_secs_f64());
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => return Ok(()),
            }
        }
    })
}

/// A random number below `n` (0 when `n` is 0); good enough for jitter.
fn rand_below(n: u64) -> u64 {
    use std::hash::BuildHasher;
    if n == 0 {
        return 0;
    }
    std::collections::hash_map::RandomState::new().hash_one(std::time::SystemTime::now()) % n
}
