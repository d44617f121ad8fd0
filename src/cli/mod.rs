//! The command line: raw clap arguments (this file), one module per command, and the mapping
//! from errors to exit codes. Data goes to stdout; logs and progress go to stderr.

pub mod cluster;
pub mod crawl;
pub mod demo;
pub mod dupes;
pub mod export;
pub mod extract;
pub mod get;
pub mod history;
pub mod list;
pub mod merge;
pub mod run;
pub mod runs;
pub mod search;
pub mod stats;
pub mod verify;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Archive news that is syndicated across mirror domains: crawl the origin and its mirrors,
/// extract each post, fingerprint its normalised body, and keep one canonical record per
/// article with the provenance of every copy.
#[derive(Debug, Parser)]
#[command(
    name = "trawl",
    version,
    after_help = "Start with `trawl demo`: it serves a generated mirror network on 127.0.0.1, crawls it \
into the store, and prints what collapsed. Then try `trawl stats` and `trawl get <id|url>`.\n\n\
Exit codes: 0 success; 1 failure while running; 2 bad usage, bad config, or a store or record that does not exist."
)]
pub struct Cli {
    /// Store directory (created by crawls; must exist for queries).
    #[arg(
        long,
        global = true,
        env = "TRAWL_STORE",
        default_value = "store",
        value_name = "DIR"
    )]
    pub store: PathBuf,

    /// Configuration file (TOML; see config/example.toml). Without it, the demo network's
    /// embedded configuration is used.
    #[arg(long, global = true, env = "TRAWL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// More log output on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less log output on stderr (-q warnings only, -qq errors only).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub quiet: u8,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the generated demo mirror network on 127.0.0.1 and crawl it into the store.
    Demo(demo::DemoArgs),
    /// Crawl the configured seeds (or --seed URLs) into the store; resumes an unfinished run.
    Crawl(crawl::CrawlArgs),
    /// Crawl on a schedule (--every 30m or --cron EXPR) until stopped.
    Run(run::RunArgs),
    /// List the store's crawl runs and how each ended.
    Runs(runs::RunsArgs),
    /// Show what the store holds: records, sightings, outcomes, per host.
    Stats(stats::StatsArgs),
    /// Show one canonical record with every URL it was seen at.
    Get(get::GetArgs),
    /// List records, filtered, ordered and paged.
    List(list::ListArgs),
    /// Find records whose title or body contains text (CJK substrings, Latin words), ranked.
    Search(search::SearchArgs),
    /// Export records as JSONL, CSV, Parquet or WARC.
    Export(export::ExportArgs),
    /// Show duplicate clusters: each record's texts, how they joined, its copies and hosts,
    /// and why the canonical copy won.
    Dupes(dupes::DupesArgs),
    /// Show every version of the text a URL served, with time and size.
    History(history::HistoryArgs),
    /// Extract the post from one saved page, offline (body text or the whole post as JSON).
    Extract(extract::ExtractArgs),
    /// Inspect a cluster of crawl workers sharing Redis (`trawl cluster status`).
    Cluster(cluster::ClusterArgs),
    /// Union the stores of a cluster's workers into one deduplicated store.
    Merge(merge::MergeArgs),
    /// Check the store's invariants (records, sightings, URL states, derived indexes);
    /// --repair rebuilds the derived indexes.
    Verify(verify::VerifyArgs),
}

/// Output format for commands that print data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned, human-readable text.
    #[default]
    Table,
    /// JSON for scripts.
    Json,
}

/// `--format` as every data command takes it.
#[derive(Debug, Args)]
pub struct FormatArg {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// An error caused by what the user asked for (exit code 2), as opposed to a failure while
/// running (exit code 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The exit code for an error: 2 for usage, config and "not there" errors, 1 otherwise.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    use trawl::config::ConfigError;
    use trawl::query::QueryError;
    use trawl::store::StoreError;
    for cause in err.chain() {
        if cause.is::<UsageError>() || cause.is::<ConfigError>() {
            return 2;
        }
        if let Some(q) = cause.downcast_ref::<QueryError>() {
            return if q.is_user_error() { 2 } else { 1 };
        }
        if let Some(s) = cause.downcast_ref::<StoreError>() {
            return match s {
                StoreError::Sled(_)
                | StoreError::Corrupt { .. }
                | StoreError::Blob(_)
                | StoreError::NearIndex { .. }
                | StoreError::Locked { .. } => 1,
                _ => 2,
            };
        }
        if let Some(trawl::crawl::CrawlError::NoSeeds) = cause.downcast_ref() {
            return 2;
        }
        if let Some(c) = cause.downcast_ref::<trawl::cluster::ClusterError>() {
            return if c.is_user_error() { 2 } else { 1 };
        }
        if let Some(trawl::crawl::CrawlError::Cluster(c)) = cause.downcast_ref() {
            return if c.is_user_error() { 2 } else { 1 };
        }
        if let Some(m) = cause.downcast_ref::<trawl::cluster::merge::MergeError>() {
            return match m {
                trawl::cluster::merge::MergeError::NotEmpty { .. } => 2,
                trawl::cluster::merge::MergeError::Store(StoreError::Missing { .. }) => 2,
                _ => 1,
            };
        }
    }
    1
}

/// Prints a JSON value on one line of stdout, with control and bidi characters escaped (they
/// are page text, and this line may land on a terminal).
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    trawl::query::json::to_writer_safe(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}
