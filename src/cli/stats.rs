//! `trawl stats`: what the store holds.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use trawl::query::{self, terminal_safe, Stats};
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl stats`.
#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl stats`.
pub fn run(store_dir: &Path, args: &StatsArgs) -> Result<()> {
    let store = Store::open_existing(store_dir)?;
    let stats = query::stats(&store)?;
    match args.format.format {
        Format::Json => print_json(&stats),
        Format::Table => {
            print!("{}", table(&stats, store_dir));
            Ok(())
        }
    }
}

fn table(s: &Stats, dir: &Path) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(out, "store        {}", dir.display());
    let _ = writeln!(out, "records      {}", s.records);
    let _ = writeln!(
        out,
        "sightings    {} ({} copies collapsed into existing records)",
        s.sightings, s.duplicates_collapsed
    );
    let _ = writeln!(out, "urls         {}", s.urls);
    let _ = writeln!(out, "runs         {}", s.runs);
    let _ = writeln!(
        out,
        "disk         {:.1} MiB",
        s.size_on_disk as f64 / 1048576.0
    );
    let outcomes: Vec<String> = s.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(out, "outcomes     {}", outcomes.join(", "));
    let _ = writeln!(out);
    let width = s.hosts.keys().map(|h| h.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>9}  {:>9}  {:>6}  {:>9}  {:>5}  {:>7}  {:>6}",
        "host", "urls", "sightings", "canonical", "new", "duplicate", "hub", "skipped", "failed"
    );
    for (host, h) in &s.hosts {
        let n = |k: &str| h.outcomes.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>9}  {:>9}  {:>6}  {:>9}  {:>5}  {:>7}  {:>6}",
            terminal_safe(host),
            h.urls,
            h.sightings,
            h.canonical,
            n("new"),
            n("duplicate"),
            n("hub"),
            n("skipped"),
            n("failed")
        );
    }
    let _ = writeln!(out, "\n{:<32}  {:>7}", "source", "records");
    for (source, n) in &s.sources {
        let _ = writeln!(out, "{:<32}  {:>7}", terminal_safe(source), n);
    }
    let _ = writeln!(
        out,
        "\n{:<10}  {:>9}  {:>10}  {:>9}",
        "day", "published", "first seen", "sightings"
    );
    for (day, d) in &s.days {
        let _ = writeln!(
            out,
            "{:<10}  {:>9}  {:>10}  {:>9}",
            day, d.published, d.first_seen, d.sightings
        );
    }
    out
}
