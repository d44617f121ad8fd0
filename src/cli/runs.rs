//! `trawl runs`: the store's crawl history.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use trawl::model::Run;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Show only the newest N runs.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl runs`.
pub fn run(store_dir: &Path, args: &RunsArgs) -> Result<()> {
    let store = Store::open_existing(store_dir)?;
    let mut runs: Vec<Run> = store.runs().collect::<Result<_, _>>()?;
    if let Some(n) = args.limit {
        let skip = runs.len().saturating_sub(n);
        runs.drain(..skip);
    }
    if args.format.format == Format::Json {
        for r in &runs {
            print_json(r)?;
        }
        return Ok(());
    }
    println!(
        "{:>5}  {:<20}  {:<20}  {:<22}  outcomes",
        "run", "started (UTC)", "finished (UTC)", "ended"
    );
    for r in &runs {
        let ended = match (r.ended, r.finished) {
            (Some(e), Some(_)) => e.to_string(),
            (Some(e), None) => format!("{e} (resumable)"),
            (None, _) => "interrupted (resumable)".to_string(),
        };
        let outcomes: Vec<String> = r.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!(
            "{:>5}  {:<20}  {:<20}  {:<22}  {}",
            r.id,
            r.started.format("%Y-%m-%d %H:%M:%S"),
            r.finished
                .map(|f| f.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| "-".into()),
            ended,
            outcomes.join(", ")
        );
    }
    Ok(())
}
