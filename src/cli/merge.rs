//! `trawl merge OUT STORE…`: unions the stores of a cluster's workers into one.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use trawl::cluster::merge::merge;
use trawl::config::{Overrides, Settings};
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl merge`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  trawl merge --config crawl.toml merged/ worker1/ worker2/ worker3/\n\n\
Records are united by id, every sighting is kept (once per URL, text and run), each URL keeps \
its latest state, and canonical copies are chosen again with the config's [dedup] policy. \
The worker stores are only read; OUT must be new or empty."
)]
pub struct MergeArgs {
    /// The store to write (created; must be empty).
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// The stores to merge (each worker's --store).
    #[arg(value_name = "STORE", required = true)]
    stores: Vec<PathBuf>,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl merge`.
pub fn run(config: Option<&Path>, args: &MergeArgs) -> Result<()> {
    let settings = Settings::load(config, &Overrides::default())?;
    let sources = args
        .stores
        .iter()
        .map(|p| Store::open_existing(p))
        .collect::<Result<Vec<_>, _>>()?;
    let out = Store::open(&args.out)?;
    let summary = merge(&out, &sources, &settings.canonical)?;
    super::crawl::index_for_search(&out)?;
    match args.format.format {
        Format::Json => print_json(&summary),
        Format::Table => {
            println!(
                "merged {} stores into {}: {} records ({} held by more than one store), {} sightings ({} repeated fetches dropped), {} URLs, {} runs",
                summary.stores,
                args.out.display(),
                summary.records,
                summary.joined,
                summary.sightings,
                summary.repeated_sightings,
                summary.urls,
                summary.runs
            );
            Ok(())
        }
    }
}
