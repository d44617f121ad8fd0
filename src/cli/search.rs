//! `trawl search <text>`: ranked records whose title or body contains the text.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use trawl::query::search::{self, SearchHit};
use trawl::query::terminal_safe;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl search`.
#[derive(Debug, Args)]
#[command(
    after_help = "Chinese (and other CJK) text matches as a substring; Latin words match \
whole words, case-insensitively; several words or runs must all occur. Full-width and \
half-width forms are the same.\n\nExamples:\n  trawl search 央行\n  trawl search \"interest rate\" --limit 5 --format json"
)]
pub struct SearchArgs {
    /// The text to look for.
    #[arg(value_name = "TEXT")]
    text: String,
    /// At most this many results.
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
    /// Rebuild the search index from every record first (after a crash, or to repair it).
    #[arg(long)]
    reindex: bool,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl search`.
pub fn run(store_dir: &Path, args: &SearchArgs) -> Result<()> {
    let store = Store::open_existing(store_dir)?;
    if args.reindex {
        store.mark_all_for_search()?;
    }
    // Bring the index up to date visibly: the first search after a large crawl indexes it.
    let indexed = search::update_index(&store, &mut |n| {
        if std::io::stderr().is_terminal() {
            eprint!("\rindexing: {n} records");
        }
    })?;
    if indexed > 0 {
        if std::io::stderr().is_terminal() {
            eprintln!();
        }
        tracing::debug!(records = indexed, "search index updated");
        store.flush()?;
    }
    let results = search::search(&store, &args.text, args.limit)?;
    match args.format.format {
        Format::Json => {
            for hit in &results.hits {
                print_json(hit)?;
            }
        }
        Format::Table => {
            let color = std::io::stdout().is_terminal();
            for hit in &results.hits {
                print!("{}", render(hit, color));
            }
            eprintln!(
                "{} of {} matching records",
                results.hits.len(),
                results.total
            );
        }
    }
    Ok(())
}

fn render(hit: &SearchHit, color: bool) -> String {
    let published = hit
        .published
        .map(|p| p.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into());
    let (on, off) = if color {
        ("\u{1b}[1;33m", "\u{1b}[0m")
    } else {
        ("[", "]")
    };
    let chars: Vec<char> = hit.snippet.chars().collect();
    let mut snippet = String::new();
    let mut at = 0;
    for &(s, e) in &hit.highlights {
        if s < at || e > chars.len() {
            continue;
        }
        snippet.push_str(&terminal_safe(&chars[at..s].iter().collect::<String>()));
        snippet.push_str(on);
        snippet.push_str(&terminal_safe(&chars[s..e].iter().collect::<String>()));
        snippet.push_str(off);
        at = e;
    }
    snippet.push_str(&terminal_safe(&chars[at..].iter().collect::<String>()));
    format!(
        "{}  {}  score {}  {} copies\n  {}\n  {}\n  {}\n\n",
        &hit.id.to_hex()[..12],
        published,
        hit.score,
        hit.copies,
        terminal_safe(&hit.title),
        terminal_safe(&hit.url),
        snippet.replace('\n', " ")
    )
}
