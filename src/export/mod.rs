//! Stage 8, export: the archive as datasets other tools read (JSONL, CSV, Parquet, WARC).
//!
//! One row per canonical record, or with `all_copies` one row per sighting; the columns are
//! the stable schema documented in README.md ([`row`] defines them once for every format).
//! Rows stream in record-id order (then sighting order), so an export is deterministic and
//! its memory does not grow with the store: only the Parquet sink buffers, one row group at
//! a time. [`export_to_path`] writes to a temporary file beside the target and renames it
//! when complete, so a failed export never leaves a half file behind.
//!
//! Never writes to the store.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::model::{Record, Sighting};
use crate::query::filter::Filter;
use crate::store::{Store, StoreError};

pub mod csv;
pub mod jsonl;
pub mod parquet;
pub mod row;
pub mod warc;

/// The output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// JSON Lines: one object per row.
    Jsonl,
    /// RFC 4180 CSV with a header row, UTF-8.
    Csv,
    /// Apache Parquet with typed columns.
    Parquet,
    /// WARC 1.1: a `response` per canonical copy, `revisit`s for mirror copies.
    Warc,
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportOptions {
    /// Output format.
    pub format: Format,
    /// One row per sighting instead of one per canonical record.
    pub all_copies: bool,
    /// Which records.
    pub filter: Filter,
    /// CSV only: write cells exactly as stored, without neutralising formula-like cells.
    pub csv_raw: bool,
}

/// What an export wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Records that matched the filter.
    pub records: u64,
    /// Rows (or, for WARC, WARC records other than `warcinfo`) written.
    pub rows: u64,
    /// Records left out (WARC: no raw response kept).
    pub skipped: u64,
}

/// What can go wrong during an export.
#[derive(Debug, Error)]
pub enum ExportError {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Output path (`-` for stdout).
        path: PathBuf,
        /// OS error.
        source: std::io::Error,
    },
    /// Writing to the output stream failed.
    #[error("write failed: {0}")]
    Write(#[from] std::io::Error),
    /// The CSV writer failed.
    #[error("CSV: {0}")]
    Csv(#[from] ::csv::Error),
    /// The Parquet writer failed.
    #[error("Parquet: {0}")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    /// Building an Arrow batch failed.
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// A format's writer: takes rows in order, then finishes the file and hands back the output.
pub trait Sink<W: Write> {
    /// Writes one row (one record, or one sighting of it with `all_copies`).
    fn row(&mut self, record: &Record, sighting: Option<&Sighting>) -> Result<(), ExportError>;
    /// Writes any trailer, flushes, and returns the output.
    fn finish(self: Box<Self>) -> Result<W, ExportError>;
    /// WARC records written so far, for sinks whose output units are not rows.
    fn units(&self) -> Option<u64> {
        None
    }
    /// Records left out because the format needs data the store lacks for them.
    fn skipped(&self) -> u64 {
        0
    }
}

/// Streams the selected rows into `out` in `options.format`. `progress` hears the number of
/// records scanned so far (matching or not) every few hundred records.
pub fn export<W: Write + Send + 'static>(
    store: &Store,
    options: &ExportOptions,
    out: W,
    progress: &mut dyn FnMut(u64),
) -> Result<(ExportSummary, W), ExportError> {
    let mut sink: Box<dyn Sink<W>> = match options.format {
        Format::Jsonl => Box::new(jsonl::JsonlSink::new(out, options.all_copies)),
        Format::Csv => Box::new(csv::CsvSink::new(out, options.all_copies, options.csv_raw)?),
        Format::Parquet => Box::new(parquet::ParquetSink::new(out, options.all_copies)?),
        Format::Warc => Box::new(warc::WarcSink::new(out, store.clone(), options.all_copies)),
    };
    let mut summary = ExportSummary::default();
    let mut scanned = 0u64;
    for record in store.records() {
        let record = record?;
        scanned += 1;
        if scanned % 256 == 0 {
            progress(scanned);
        }
        if !options.filter.matches(&record) {
            continue;
        }
        summary.records += 1;
        if options.all_copies {
            for s in store.sightings(record.id)? {
                sink.row(&record, Some(&s))?;
                summary.rows += 1;
            }
        } else {
            sink.row(&record, None)?;
            summary.rows += 1;
        }
    }
    progress(scanned);
    if let Some(units) = sink.units() {
        summary.rows = units;
    }
    summary.skipped = sink.skipped();
    let out = sink.finish()?;
    Ok((summary, out))
}

/// Exports into the file at `path`: writes a temporary file in the same directory and renames
/// it over `path` only when the export is complete. On any error the temporary file is
/// removed and `path` is untouched.
pub fn export_to_path(
    store: &Store,
    options: &ExportOptions,
    path: &Path,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportSummary, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".trawl-export-");
    #[cfg(unix)]
    {
        // A dataset is for sharing: the usual 0666 less umask, not the temp file's 0600.
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder.tempfile_in(dir).map_err(io)?;
    let (file, tmp_path) = tmp.into_parts();
    // `tmp_path` deletes the file when dropped, which every early return below does.
    let out = std::io::BufWriter::with_capacity(1 << 16, file);
    let (summary, out) = export(store, options, out, progress)?;
    let file = out.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    tmp_path.persist(path).map_err(|e| io(e.error))?;
    Ok(summary)
}
