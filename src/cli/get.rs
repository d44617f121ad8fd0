//! `trawl get <id|url>`: one canonical record with every URL it was seen at.

use std::path::Path;

use anyhow::Result;
use clap::Args;
use trawl::config::Settings;
use trawl::query::{self, terminal_safe, RecordView};
use trawl::scope::UrlPolicy;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// A record id (or a unique prefix of at least 4 hex digits), or a URL the record was seen
    /// at.
    #[arg(value_name = "ID|URL")]
    key: String,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl get`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &GetArgs) -> Result<()> {
    // URLs are looked up in their normal form, which the config's URL policy defines.
    let urls = match config {
        Some(_) => Settings::load(config, &Default::default())?.scope.urls,
        None => UrlPolicy::default(),
    };
    let store = Store::open_existing(store_dir)?;
    let view = query::get(&store, &args.key, &urls)?;
    match args.format.format {
        Format::Json => print_json(&view),
        Format::Table => {
            print!("{}", table(&view));
            Ok(())
        }
    }
}

fn table(v: &RecordView) -> String {
    use std::fmt::Write;
    let r = &v.record;
    let p = &r.canonical;
    let mut out = String::new();
    let opt = |o: &Option<String>| {
        o.as_deref()
            .map(terminal_safe)
            .unwrap_or_else(|| "-".into())
    };
    let _ = writeln!(out, "record     {}", r.id);
    let _ = writeln!(out, "title      {}", terminal_safe(&p.title));
    let _ = writeln!(
        out,
        "published  {}",
        p.published
            .map(|d| d.to_rfc3339())
            .unwrap_or_else(|| "-".into())
    );
    let _ = writeln!(out, "source     {}", opt(&p.source));
    let _ = writeln!(out, "author     {}", opt(&p.author));
    let _ = writeln!(out, "language   {}", opt(&p.language));
    let _ = writeln!(
        out,
        "canonical  {} ({})",
        terminal_safe(&p.url),
        r.canonical_reason
    );
    let _ = writeln!(out, "extractor  {}", p.extractor);
    let _ = writeln!(out, "hashes     {}", r.members.len());
    let _ = writeln!(
        out,
        "\ncopies ({} URLs on {} hosts):",
        r.copies.len(),
        r.hosts().len()
    );
    for c in &r.copies {
        let outcome = v
            .url_states
            .iter()
            .find(|s| s.url == c.url)
            .map(|s| s.outcome.kind())
            .unwrap_or("-");
        let _ = writeln!(
            out,
            "  {}  {}  first seen {}  last outcome {}",
            terminal_safe(&c.host),
            terminal_safe(&c.url),
            c.first_seen.to_rfc3339(),
            outcome
        );
    }
    let _ = writeln!(out, "\nsightings ({}):", v.sightings.len());
    for s in &v.sightings {
        let _ = writeln!(
            out,
            "  {}  run {}  {}  {}  {}  {}",
            s.fetched_at.to_rfc3339(),
            s.run,
            s.status,
            s.extractor,
            s.charset,
            terminal_safe(&s.url)
        );
    }
    let chars: usize = p.body.iter().map(|b| b.chars().count()).sum();
    let _ = writeln!(
        out,
        "\nbody ({} paragraphs, {} characters):",
        p.body.len(),
        chars
    );
    for para in &p.body {
        let _ = writeln!(out, "  {}", terminal_safe(para));
    }
    out
}
