//! `trawl verify`: check the store's invariants, and with `--repair` rebuild its derived
//! indexes (never its archived content).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use clap::Args;
use serde::Serialize;
use trawl::config::{Overrides, Settings};
use trawl::query::terminal_safe;
use trawl::store::{Checked, Problem, RepairReport, Store, VerifyReport};

use super::{print_json, Format, FormatArg};

/// Arguments of `trawl verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Checks that every sighting points to an existing record, that each record's \
canonical body hashes (blake3 of the normalised text, with the --config the store was crawled \
with) to one of its content hashes, that URL states, versions and raw responses name existing \
records, and that the derived indexes (hash index, near-duplicate bands, search index, frontier \
vs URL states) agree with the archived data.\n\nExit codes: 0 clean; 1 problems found (or left \
after --repair); 2 bad usage or no store.\n\nExamples:\n  trawl verify --store /var/lib/trawl\n  \
trawl verify --repair --format json"
)]
pub struct VerifyArgs {
    /// Rebuild the derived indexes (hash index, bands, search index, frontier bookkeeping)
    /// from the archived data, then check again. Never deletes or rewrites archived content.
    #[arg(long)]
    repair: bool,
    #[command(flatten)]
    format: FormatArg,
}

/// The store has problems: exit code 1, after the report is printed.
#[derive(Debug, thiserror::Error)]
#[error("the store has {remaining} problem(s){hint}")]
pub struct VerifyFailed {
    remaining: u64,
    hint: &'static str,
}

/// What `--format json` prints.
#[derive(Serialize)]
struct Output<'a> {
    clean: bool,
    checked: &'a Checked,
    total_problems: u64,
    problems: &'a [Problem],
    /// With `--repair`: what was found before, and what the repair changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    before_repair: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repaired: Option<&'a RepairReport>,
}

/// Runs `trawl verify`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &VerifyArgs) -> Result<()> {
    let settings = Settings::load(config, &Overrides::default())?;
    let store = Store::open_existing(store_dir)?;
    let fp = &settings.fingerprinter;
    let first = store.verify(fp)?;
    let (report, repaired) = if args.repair && !first.is_clean() {
        let repaired = store.repair_indexes()?;
        (store.verify(fp)?, Some(repaired))
    } else {
        (first.clone(), None)
    };
    match args.format.format {
        Format::Json => print_json(&Output {
            clean: report.is_clean(),
            checked: &report.checked,
            total_problems: report.total_problems,
            problems: &report.problems,
            before_repair: repaired.as_ref().map(|_| first.total_problems),
            repaired: repaired.as_ref(),
        })?,
        Format::Table => print!("{}", table(&report, repaired.as_ref().map(|r| (&first, r)))),
    }
    if report.is_clean() {
        return Ok(());
    }
    let repairable = report.problems.iter().any(|p| p.repairable);
    Err(VerifyFailed {
        remaining: report.total_problems,
        hint: match (repaired.is_some(), repairable) {
            (false, true) => "; `trawl verify --repair` rebuilds the derived indexes",
            (true, _) => " in archived data, which --repair does not change",
            (false, false) => " in archived data, which --repair cannot fix",
        },
    }
    .into())
}

fn table(r: &VerifyReport, repaired: Option<(&VerifyReport, &RepairReport)>) -> String {
    let mut out = String::new();
    let c = &r.checked;
    let _ = writeln!(
        out,
        "checked      {} records, {} sightings, {} URL states, {} version histories, {} raw responses",
        c.records, c.sightings, c.urls, c.versions, c.raw
    );
    let _ = writeln!(
        out,
        "indexes      {} hashes, {} prints, {} search documents, {} frontier(s)",
        c.hashes, c.prints, c.search_docs, c.frontiers
    );
    if let Some((before, fix)) = repaired {
        let _ = writeln!(
            out,
            "repaired     {} problem(s) found; hash index +{} -{}, prints -{}, \
             {} records queued for the search index, {} frontier trees dropped, {} seen marks{}",
            before.total_problems,
            fix.hashes_written,
            fix.hashes_removed,
            fix.prints_removed,
            fix.search_marked,
            fix.frontier_trees_dropped,
            fix.seen_marks_added,
            if fix.tally_recounted {
                ", totals recounted"
            } else {
                ""
            }
        );
    }
    if r.is_clean() {
        let _ = writeln!(out, "ok           every invariant holds");
        return out;
    }
    let repairable = r.problems.iter().filter(|p| p.repairable).count();
    let _ = writeln!(
        out,
        "problems     {} ({} of the listed ones repairable with --repair)",
        r.total_problems, repairable
    );
    for p in &r.problems {
        let _ = writeln!(
            out,
            "  {:<20}  {}  {}{}",
            p.check,
            terminal_safe(&p.key),
            terminal_safe(&p.detail),
            if p.repairable { "  [repairable]" } else { "" }
        );
    }
    if r.total_problems > r.problems.len() as u64 {
        let _ = writeln!(
            out,
            "  … and {} more (use --format json for the listed ones)",
            r.total_problems - r.problems.len() as u64
        );
    }
    out
}
