//! CSV (RFC 4180: comma-separated, CRLF record ends, fields quoted when they hold a comma,
//! quote or line break, quotes doubled), UTF-8, with a header row. Nested columns
//! (`urls`, `content_hashes`) hold JSON text; empty optional values are empty fields.
//!
//! Page text is hostile input for spreadsheets: a title such as `=HYPERLINK("http://evil",…)`
//! or `@SUM(…)` runs as a formula when the file is opened. Unless the export asks for raw
//! cells, every cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
//! leading `'` (OWASP's advice), which spreadsheets show as text and strip on edit.

use std::io::Write;

use super::row;
use super::{ExportError, Sink};
use crate::model::{Record, Sighting};

/// Writes CSV.
pub struct CsvSink<W: Write> {
    out: ::csv::Writer<W>,
    raw: bool,
}

/// Characters that make a spreadsheet read a cell as a formula when they come first.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `cell`, prefixed with `'` when a spreadsheet would run it as a formula.
pub fn neutralise(cell: String) -> String {
    if cell.starts_with(FORMULA_STARTS) {
        format!("'{cell}")
    } else {
        cell
    }
}

impl<W: Write> CsvSink<W> {
    /// A sink writing to `out`; writes the header row now. With `raw`, cells are written
    /// exactly as stored (no formula neutralising).
    pub fn new(out: W, all_copies: bool, raw: bool) -> Result<Self, ExportError> {
        let mut out = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::CRLF)
            .from_writer(out);
        let mut header: Vec<&str> = row::RECORD_COLUMNS.to_vec();
        if all_copies {
            header.extend_from_slice(row::SIGHTING_COLUMNS);
        }
        out.write_record(&header)?;
        Ok(CsvSink { out, raw })
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
        if !self.raw {
            fields = fields.into_iter().map(neutralise).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_neutralised() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+SUM(A1)", "'+SUM(A1)"),
            ("-2+3", "'-2+3"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("plain = text", "plain = text"),
            ("", ""),
            ("中文", "中文"),
        ] {
            assert_eq!(neutralise(cell.to_string()), want, "{cell:?}");
        }
    }
}
