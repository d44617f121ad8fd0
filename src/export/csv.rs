//! CSV (RFC 4180: comma-separated, CRLF record ends, fields quoted when they hold a comma,
//! quote or line break, quotes doubled), UTF-8, with a header row. Nested columns
//! (`urls`, `content_hashes`) hold JSON text; empty optional values are empty fields.

use std::io::Write;

use super::row;
use super::{ExportError, Sink};
use crate::model::{Record, Sighting};

/// Writes CSV.
pub struct CsvSink<W: Write> {
    out: ::csv::Writer<W>,
}

impl<W: Write> CsvSink<W> {
    /// A sink writing to `out`; writes the header row now.
    pub fn new(out: W, all_copies: bool) -> Result<Self, ExportError> {
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(out);
        let mut header: Vec<&str> = row::RECORD_COLUMNS.to_vec();
        if all_copies {
            header.extend_from_slice(row::SIGHTING_COLUMNS);
        }
        out.write_record(&header)?;
        Ok(CsvSink { out })
    }
}

impl<W: Write> Sink<W> for CsvSink<W> {
    fn row(&mut self, r: &Record, s: Option<&Sighting>) -> Result<(), ExportError> {
        let p = &r.canonical;
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let urls: Vec<serde_json::Value> = r
            .copies
            .iter()
            .map(|c| {
                serde_json::json!({
                    "url": c.url,
                    "host": c.host,
                    "first_seen": row::time(&c.first_seen),
                    "content_hash": c.hash.to_hex(),
                })
            })
            .collect();
        let mut fields: Vec<String> = vec![
            r.id.to_hex(),
            p.url.clone(),
            r.canonical_host.clone(),
            p.title.clone(),
            p.published.as_ref().map(row::time).unwrap_or_default(),
            opt(&p.source),
            opt(&p.author),
            opt(&p.language),
            row::body(r),
            p.extractor.clone(),
            row::content_hash(r),
            serde_json::Value::from(row::content_hashes(r)).to_string(),
            row::cluster_size(r).to_string(),
            row::canonical_reason(r),
            row::time(&r.first_seen),
            serde_json::Value::from(urls).to_string(),
        ];
        if let Some(s) = s {
            fields.extend([
                s.url.clone(),
                s.host.clone(),
                row::time(&s.fetched_at),
                s.status.to_string(),
                s.hash.to_hex(),
                s.title.clone(),
                s.extractor.clone(),
                s.charset.clone(),
                s.run.0.to_string(),
                row::is_canonical(r, s).to_string(),
            ]);
        }
        self.out.write_record(&fields)?;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<W, ExportError> {
        self.out
            .into_inner()
            .map_err(|e| ExportError::Write(e.into_error()))
    }
}
