//! JSON Lines: one object per row, keys as in [`super::row`]; `urls` is an array of objects
//! and `content_hashes` an array of strings, so `pandas.read_json(lines=True)` and
//! `datasets.load_dataset("json")` read it as is. Times are RFC 3339 strings.

use std::io::Write;

use serde::Serialize;

use super::row;
use super::{ExportError, Sink};
use crate::model::{Record, Sighting};

/// One element of `urls`.
#[derive(Serialize)]
struct UrlOut<'a> {
    url: &'a str,
    host: &'a str,
    first_seen: String,
    content_hash: String,
}

/// Sighting columns (with `all_copies`).
#[derive(Serialize)]
struct SightingOut<'a> {
    sighting_url: &'a str,
    sighting_host: &'a str,
    fetched_at: String,
    status: u16,
    sighting_content_hash: String,
    sighting_title: &'a str,
    sighting_extractor: &'a str,
    charset: &'a str,
    run: u64,
    is_canonical: bool,
}

/// One row; field order is the schema's column order.
#[derive(Serialize)]
struct RowOut<'a> {
    record_id: String,
    canonical_url: &'a str,
    canonical_host: &'a str,
    title: &'a str,
    published: Option<String>,
    source: Option<&'a str>,
    author: Option<&'a str>,
    language: Option<&'a str>,
    body: String,
    extractor: &'a str,
    content_hash: String,
    content_hashes: Vec<String>,
    cluster_size: u32,
    canonical_reason: String,
    first_seen: String,
    urls: Vec<UrlOut<'a>>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    sighting: Option<SightingOut<'a>>,
}

/// Writes JSON Lines.
pub struct JsonlSink<W> {
    out: W,
}

impl<W: Write> JsonlSink<W> {
    /// A sink writing to `out` (`all_copies` needs no setup: sighting keys appear per row).
    pub fn new(out: W, _all_copies: bool) -> Self {
        JsonlSink { out }
    }
}

impl<W: Write> Sink<W> for JsonlSink<W> {
    fn row(&mut self, r: &Record, s: Option<&Sighting>) -> Result<(), ExportError> {
        let p = &r.canonical;
        let row = RowOut {
            record_id: r.id.to_hex(),
            canonical_url: &p.url,
            canonical_host: &r.canonical_host,
            title: &p.title,
            published: p.published.as_ref().map(row::time),
            source: p.source.as_deref(),
            author: p.author.as_deref(),
            language: p.language.as_deref(),
            body: row::body(r),
            extractor: &p.extractor,
            content_hash: row::content_hash(r),
            content_hashes: row::content_hashes(r),
            cluster_size: row::cluster_size(r),
            canonical_reason: row::canonical_reason(r),
            first_seen: row::time(&r.first_seen),
            urls: r
                .copies
                .iter()
                .map(|c| UrlOut {
                    url: &c.url,
                    host: &c.host,
                    first_seen: row::time(&c.first_seen),
                    content_hash: c.hash.to_hex(),
                })
                .collect(),
            sighting: s.map(|s| SightingOut {
                sighting_url: &s.url,
                sighting_host: &s.host,
                fetched_at: row::time(&s.fetched_at),
                status: s.status,
                sighting_content_hash: s.hash.to_hex(),
                sighting_title: &s.title,
                sighting_extractor: &s.extractor,
                charset: &s.charset,
                run: s.run.0,
                is_canonical: row::is_canonical(r, s),
            }),
        };
        // Escaped like the CLI's JSON: the same string for a reader, inert on a terminal.
        crate::query::json::to_writer_safe(&mut self.out, &row).map_err(std::io::Error::from)?;
        self.out.write_all(b"\n")?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<W, ExportError> {
        self.out.flush()?;
        Ok(self.out)
    }
}
