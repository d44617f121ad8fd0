//! `trawl cluster status`: the state of a cluster run, read from Redis.

use std::path::Path;

use anyhow::Result;
use clap::{Args, Subcommand};
use trawl::cluster::status::{status, ClusterStatus};
use trawl::config::{check_redis_url, Overrides, Settings};

use super::{print_json, Format, FormatArg, UsageError};

/// Arguments of `trawl cluster`.
#[derive(Debug, Args)]
pub struct ClusterArgs {
    /// What to do.
    #[command(subcommand)]
    command: ClusterCommand,
}

/// The `trawl cluster` commands.
#[derive(Debug, Subcommand)]
enum ClusterCommand {
    /// Workers alive, hosts leased per worker, queue depths, URLs in flight, throughput.
    Status(StatusArgs),
}

/// Arguments of `trawl cluster status`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  trawl cluster status --cluster redis://127.0.0.1:6379/0\n  \
trawl cluster status --config crawl.toml --format json"
)]
struct StatusArgs {
    /// The Redis server (default: `cluster.url` of --config).
    #[arg(long, value_name = "redis://HOST:PORT/DB")]
    cluster: Option<String>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl cluster …`.
pub fn run(config: Option<&Path>, args: &ClusterArgs) -> Result<()> {
    match &args.command {
        ClusterCommand::Status(a) => run_status(config, a),
    }
}

fn run_status(config: Option<&Path>, args: &StatusArgs) -> Result<()> {
    let url = match (&args.cluster, config) {
        (Some(url), _) => {
            check_redis_url(url).map_err(|m| UsageError(format!("--cluster: {m}")))?;
            url.clone()
        }
        (None, Some(config)) => Settings::load(Some(config), &Overrides::default())?
            .cluster
            .map(|c| c.url)
            .ok_or_else(|| UsageError(format!("{} has no [cluster] url; pass --cluster redis://HOST:PORT/DB", config.display())))?,
        (None, None) => {
            return Err(UsageError("trawl cluster status needs --cluster redis://HOST:PORT/DB (or --config with [cluster] url)".into()).into())
        }
    };
    let s = status(&url)?;
    match args.format.format {
        Format::Json => print_json(&s),
        Format::Table => {
            print_table(&s);
            Ok(())
        }
    }
}

fn print_table(s: &ClusterStatus) {
    if s.run == 0 {
        println!("no cluster run at {} yet", s.redis);
        return;
    }
    let alive = s.workers.iter().filter(|w| w.alive).count();
    println!(
        "cluster run {} at {}: {}; {} of {} workers alive",
        s.run,
        s.redis,
        if s.finished { "finished" } else { "running" },
        alive,
        s.workers.len()
    );
    println!(
        "queued {} (on {} hosts), in flight {}, seen {}, put back after a worker vanished {}, {:.1} pages/s",
        s.queued,
        s.queues.len(),
        s.in_flight,
        s.seen,
        s.reaped,
        s.pages_per_sec
    );
    let width = s
        .workers
        .iter()
        .map(|w| w.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "\n  {:<width$}  {:>5}  {:>9}  {:>9}  {:>8}  {:>7}  hosts",
        "worker", "alive", "last seen", "in flight", "done", "pages/s"
    );
    for w in &s.workers {
        println!(
            "  {:<width$}  {:>5}  {:>8.1}s  {:>9}  {:>8}  {:>7.1}  {}",
            w.name,
            if w.alive { "yes" } else { "no" },
            w.last_seen_secs,
            w.in_flight,
            w.done,
            w.pages_per_sec,
            w.hosts.join(" ")
        );
    }
    if !s.queues.is_empty() {
        let width = s.queues.keys().map(|h| h.len()).max().unwrap_or(4).max(4);
        println!("\n  {:<width$}  {:>8}", "host", "queued");
        for (h, n) in &s.queues {
            println!("  {:<width$}  {:>8}", h, n);
        }
    }
}
