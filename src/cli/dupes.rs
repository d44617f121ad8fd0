//! `trawl dupes [<id|url>]`: duplicate clusters — each record's member texts with how they
//! joined, the copies and hosts that carry them, why the canonical copy won and when it
//! switched.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use trawl::config::Settings;
use trawl::model::{CanonicalChange, CanonicalReason, Copy, Member, Record, RecordId};
use trawl::query::{self, terminal_safe};
use trawl::scope::UrlPolicy;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl dupes`.
#[derive(Debug, Args)]
pub struct DupesArgs {
    /// One record: its id (or a unique prefix of at least 4 hex digits), or a URL it was seen
    /// at. Without it, every record that holds more than one copy or text.
    #[arg(value_name = "ID|URL")]
    key: Option<String>,
    #[command(flatten)]
    format: FormatArg,
}

/// One cluster, as printed.
#[derive(Debug, Serialize)]
struct Cluster<'a> {
    id: RecordId,
    title: &'a str,
    canonical_url: &'a str,
    canonical_host: &'a str,
    canonical_reason: &'a CanonicalReason,
    canonical_changes: &'a [CanonicalChange],
    hosts: Vec<&'a str>,
    members: &'a [Member],
    copies: &'a [Copy],
}

fn cluster(r: &Record) -> Cluster<'_> {
    Cluster {
        id: r.id,
        title: &r.canonical.title,
        canonical_url: &r.canonical.url,
        canonical_host: &r.canonical_host,
        canonical_reason: &r.canonical_reason,
        canonical_changes: &r.canonical_changes,
        hosts: r.hosts(),
        members: &r.members,
        copies: &r.copies,
    }
}

/// Runs `trawl dupes`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &DupesArgs) -> Result<()> {
    let urls = match config {
        Some(_) => Settings::load(config, &Default::default())?.scope.urls,
        None => UrlPolicy::default(),
    };
    let store = Store::open_existing(store_dir)?;
    let records: Vec<Record> = match &args.key {
        Some(key) => vec![query::get(&store, key, &urls)?.record],
        None => store
            .records()
            .filter(|r| {
                r.as_ref()
                    .map_or(true, |r| r.copies.len() > 1 || r.members.len() > 1)
            })
            .collect::<Result<_, _>>()?,
    };
    let clusters: Vec<Cluster<'_>> = records.iter().map(cluster).collect();
    match args.format.format {
        Format::Json => print_json(&clusters),
        Format::Table => {
            print!("{}", table(&clusters));
            Ok(())
        }
    }
}

fn table(clusters: &[Cluster<'_>]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for c in clusters {
        let _ = writeln!(
            out,
            "record {}  {} texts, {} copies on {} hosts  {}",
            c.id,
            c.members.len(),
            c.copies.len(),
            c.hosts.len(),
            terminal_safe(c.title)
        );
        let _ = writeln!(
            out,
            "  canonical  {}  ({})",
            terminal_safe(c.canonical_url),
            c.canonical_reason
        );
        for s in c.canonical_changes {
            let _ = writeln!(
                out,
                "  switched   {}  {} -> {}  ({})",
                s.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                terminal_safe(&s.from),
                terminal_safe(&s.to),
                s.reason
            );
        }
        let _ = writeln!(out, "  texts:");
        for m in c.members {
            let _ = writeln!(
                out,
                "    {}  {:<36} {:>6} chars  {}",
                &m.hash.to_hex()[..12],
                m.joined.to_string(),
                m.chars,
                terminal_safe(&m.url)
            );
        }
        let _ = writeln!(out, "  copies:");
        for copy in c.copies {
            let _ = writeln!(
                out,
                "    {}  {:<24} {}",
                &copy.hash.to_hex()[..12],
                copy.host,
                terminal_safe(&copy.url)
            );
        }
        out.push('\n');
    }
    if clusters.is_empty() {
        out.push_str("no duplicate clusters\n");
    }
    out
}
