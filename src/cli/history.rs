//! `trawl history <url>`: every version of the text a URL served, with time and size. A
//! changed body is a new version linked to the one before; nothing is overwritten.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use trawl::config::Settings;
use trawl::model::Version;
use trawl::query::{terminal_safe, QueryError};
use trawl::scope::UrlPolicy;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A URL that was crawled (normalised as the crawl normalised it).
    #[arg(value_name = "URL")]
    url: String,
    #[command(flatten)]
    format: FormatArg,
}

/// The answer, as printed in JSON.
#[derive(Debug, Serialize)]
struct History {
    url: String,
    versions: Vec<Version>,
}

/// Runs `trawl history`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &HistoryArgs) -> Result<()> {
    // URLs are looked up in their normal form, which the config's URL policy defines.
    let urls = match config {
        Some(_) => Settings::load(config, &Default::default())?.scope.urls,
        None => UrlPolicy::default(),
    };
    let url = urls
        .normalise(&args.url, None)
        .map_err(|_| QueryError::BadKey(args.url.clone()))?
        .to_string();
    let store = Store::open_existing(store_dir)?;
    let versions = store.versions(&url)?;
    if versions.is_empty() {
        return Err(match store.url_state(&url)? {
            Some(state) => QueryError::NoRecordForUrl {
                url,
                outcome: state.outcome.to_string(),
            },
            None => QueryError::UnknownUrl(url),
        }
        .into());
    }
    let history = History { url, versions };
    match args.format.format {
        Format::Json => print_json(&history),
        Format::Table => {
            print!("{}", table(&history));
            Ok(())
        }
    }
}

fn table(h: &History) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  ({} versions)",
        terminal_safe(&h.url),
        h.versions.len()
    );
    let _ = writeln!(
        out,
        "{:>3}  {:<20}  {:>6}  {:<12}  {:<12}  {:<32}  title",
        "#", "first seen", "chars", "hash", "previous", "record"
    );
    for v in &h.versions {
        let _ = writeln!(
            out,
            "{:>3}  {:<20}  {:>6}  {:<12}  {:<12}  {:<32}  {}",
            v.number,
            v.seen.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            v.chars,
            &v.hash.to_hex()[..12],
            v.previous
                .map_or_else(|| "-".to_string(), |p| p.to_hex()[..12].to_string()),
            v.record,
            terminal_safe(&v.title)
        );
    }
    out
}
