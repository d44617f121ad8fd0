//! `trawl list`: the records that match filters, ordered and paged.

use std::path::Path;

use anyhow::Result;
use clap::{Args, ValueEnum};
use trawl::config::Settings;
use trawl::query::filter::{parse_bound, Filter, TimeField};
use trawl::query::list::{self, ListRow, Order};
use trawl::query::terminal_safe;
use trawl::store::Store;

use super::{print_json, Format, FormatArg};

/// Which time `--since`/`--until` apply to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ByArg {
    /// The publication time (records without one are left out).
    #[default]
    Published,
    /// When the record was first seen.
    Seen,
}

/// The record filters `list` and `export` share.
#[derive(Debug, Args, Default)]
pub struct FilterArgs {
    /// Only records from this time on: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] (in the config's
    /// default zone) or RFC 3339.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only records before this time; a bare date includes that whole day.
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// What --since/--until compare with.
    #[arg(long, value_enum, default_value_t = ByArg::Published)]
    by: ByArg,
    /// Only records with a copy on this host (repeatable: any of them).
    #[arg(long = "host", value_name = "HOST")]
    hosts: Vec<String>,
    /// Only records whose source is this (case-insensitive).
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Only records in this language (e.g. zh, en).
    #[arg(long = "lang", value_name = "CODE")]
    lang: Option<String>,
    /// Only records whose canonical copy this extractor produced (a site rule or `generic`).
    #[arg(long, value_name = "NAME")]
    extractor: Option<String>,
    /// Only records seen at least at this many URLs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    min_copies: usize,
}

impl FilterArgs {
    /// The validated filter; bare dates are read in the config's default zone.
    pub fn filter(&self, config: Option<&Path>) -> Result<Filter> {
        let zone = Settings::load(config, &Default::default())?.extractor.zone;
        let bound = |flag, v: &Option<String>, upper| {
            v.as_deref()
                .map(|v| parse_bound(flag, v, zone, upper))
                .transpose()
        };
        Ok(Filter {
            since: bound("--since", &self.since, false)?,
            until: bound("--until", &self.until, true)?,
            time_field: match self.by {
                ByArg::Published => TimeField::Published,
                ByArg::Seen => TimeField::Seen,
            },
            hosts: self.hosts.clone(),
            source: self.source.clone(),
            language: self.lang.clone(),
            extractor: self.extractor.clone(),
            min_copies: self.min_copies,
        })
    }
}

/// `--order`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum OrderArg {
    /// Newest published first.
    #[default]
    Newest,
    /// Oldest published first.
    Oldest,
    /// Most recently first seen first.
    Seen,
    /// Most copies first.
    Copies,
    /// Record id.
    Id,
}

/// Arguments of `trawl list`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  trawl list --since 2022-01-18 --until 2022-01-19\n  \
trawl list --host m.finmirror.test --min-copies 3 --order copies\n  trawl list --format json --limit 0 | jq .title"
)]
pub struct ListArgs {
    #[command(flatten)]
    filter: FilterArgs,
    /// Order of the results.
    #[arg(long, value_enum, default_value_t = OrderArg::Newest)]
    order: OrderArg,
    /// At most this many records (0: all).
    #[arg(long, default_value_t = 20, value_name = "N")]
    limit: usize,
    /// Skip this many records first.
    #[arg(long, default_value_t = 0, value_name = "N")]
    offset: usize,
    #[command(flatten)]
    format: FormatArg,
}

/// Runs `trawl list`.
pub fn run(store_dir: &Path, config: Option<&Path>, args: &ListArgs) -> Result<()> {
    let filter = args.filter.filter(config)?;
    let store = Store::open_existing(store_dir)?;
    let order = match args.order {
        OrderArg::Newest => Order::Newest,
        OrderArg::Oldest => Order::Oldest,
        OrderArg::Seen => Order::Seen,
        OrderArg::Copies => Order::Copies,
        OrderArg::Id => Order::Id,
    };
    let limit = (args.limit > 0).then_some(args.limit);
    let page = list::list(&store, &filter, order, args.offset, limit)?;
    match args.format.format {
        Format::Json => {
            for row in &page.rows {
                print_json(row)?;
            }
            Ok(())
        }
        Format::Table => {
            print!("{}", table(&page.rows));
            eprintln!(
                "{} of {} matching records (from {})",
                page.rows.len(),
                page.total,
                args.offset
            );
            Ok(())
        }
    }
}

fn table(rows: &[ListRow]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<12}  {:<16}  {:>6}  {:<24}  title",
        "id", "published", "copies", "canonical host"
    );
    for r in rows {
        let published = r
            .published
            .map(|p| p.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{:<12}  {:<16}  {:>6}  {:<24}  {}",
            &r.id.to_hex()[..12],
            published,
            r.copies,
            terminal_safe(&r.canonical_host),
            terminal_safe(&r.title)
        );
    }
    out
}
