//! Apache Parquet (snappy) with typed columns: times are `Timestamp(µs, UTC)`, counts are
//! unsigned integers, `content_hashes` is `List<Utf8>` and `urls` is
//! `List<Struct<url, host, first_seen, content_hash>>`. The publication time keeps its
//! instant; its original UTC offset is in the JSONL and CSV exports.
//!
//! Memory: rows go into Arrow builders, a batch of [`BATCH_ROWS`] becomes a record batch for
//! the writer, and the writer closes its row group once it holds [`ROW_GROUP_BYTES`]; so the
//! buffer is bounded whatever the store's size.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, ListBuilder, StringBuilder, StructBuilder, TimestampMicrosecondBuilder,
    UInt16Builder, UInt32Builder, UInt64Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::row;
use super::{ExportError, Sink};
use crate::model::{Record, Sighting};

/// Rows per Arrow record batch.
pub const BATCH_ROWS: usize = 512;
/// Encoded bytes after which a row group is closed (written out). Small for Parquet (readers
/// do not mind at these sizes), because the export's whole memory budget is 100 MiB and sled's
/// open store takes most of it: 8 MiB row groups and 1,024-row batches put a 100,000-record
/// export at 107 MiB.
pub const ROW_GROUP_BYTES: usize = 4 * 1024 * 1024;
/// Bytes after which a column's data page, or its dictionary page, is cut. The writer
/// checks only every [`CHECK_ROWS`] values, so with the defaults (1 MiB, 1,024) a body
/// column's page could grow to megabytes before the check; these two bounds kept 6 MiB off
/// the peak of a 100,000-record `--all-copies` export.
pub const PAGE_BYTES: usize = 128 * 1024;
/// Values between two page-size checks (see [`PAGE_BYTES`]).
pub const CHECK_ROWS: usize = 64;

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

fn url_fields() -> Fields {
    Fields::from(vec![
        Field::new("url", DataType::Utf8, false),
        Field::new("host", DataType::Utf8, false),
        Field::new("first_seen", timestamp(), false),
        Field::new("content_hash", DataType::Utf8, false),
    ])
}

/// The Arrow schema of an export (with the sighting columns when `all_copies`).
pub fn schema(all_copies: bool) -> Schema {
    let s = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let list = |item: DataType| DataType::List(Arc::new(Field::new("item", item, true)));
    let mut fields = vec![
        s("record_id", false),
        s("canonical_url", false),
        s("canonical_host", false),
        s("title", false),
        Field::new("published", timestamp(), true),
        s("source", true),
        s("author", true),
        s("language", true),
        s("body", false),
        s("extractor", false),
        s("content_hash", false),
        Field::new("content_hashes", list(DataType::Utf8), false),
        Field::new("cluster_size", DataType::UInt32, false),
        s("canonical_reason", false),
        Field::new("first_seen", timestamp(), false),
        Field::new("urls", list(DataType::Struct(url_fields())), false),
    ];
    if all_copies {
        fields.extend([
            s("sighting_url", false),
            s("sighting_host", false),
            Field::new("fetched_at", timestamp(), false),
            Field::new("status", DataType::UInt16, false),
            s("sighting_content_hash", false),
            s("sighting_title", false),
            s("sighting_extractor", false),
            s("charset", false),
            Field::new("run", DataType::UInt64, false),
            Field::new("is_canonical", DataType::Boolean, false),
        ]);
    }
    Schema::new(fields)
}

/// Column builders for one batch.
struct Columns {
    strings: Vec<StringBuilder>,
    published: TimestampMicrosecondBuilder,
    content_hashes: ListBuilder<StringBuilder>,
    cluster_size: UInt32Builder,
    reason: StringBuilder,
    first_seen: TimestampMicrosecondBuilder,
    urls: ListBuilder<StructBuilder>,
    s_strings: Vec<StringBuilder>,
    fetched_at: TimestampMicrosecondBuilder,
    status: UInt16Builder,
    s_more: Vec<StringBuilder>,
    run: UInt64Builder,
    is_canonical: BooleanBuilder,
}

fn ts_builder() -> TimestampMicrosecondBuilder {
    TimestampMicrosecondBuilder::new().with_timezone("UTC")
}

fn strings(n: usize) -> Vec<StringBuilder> {
    (0..n).map(|_| StringBuilder::new()).collect()
}

impl Columns {
    fn new() -> Columns {
        let item = |t: DataType| Arc::new(Field::new("item", t, true));
        Columns {
            // record_id .. content_hash, with `published` kept apart (index 4 is a timestamp).
            strings: strings(10),
            published: ts_builder(),
            content_hashes: ListBuilder::new(StringBuilder::new()).with_field(item(DataType::Utf8)),
            cluster_size: UInt32Builder::new(),
            reason: StringBuilder::new(),
            first_seen: ts_builder(),
            urls: ListBuilder::new(StructBuilder::from_fields(url_fields(), 0))
                .with_field(item(DataType::Struct(url_fields()))),
            s_strings: strings(2),
            fetched_at: ts_builder(),
            status: UInt16Builder::new(),
            s_more: strings(4),
            run: UInt64Builder::new(),
            is_canonical: BooleanBuilder::new(),
        }
    }

    fn push(&mut self, r: &Record, s: Option<&Sighting>) -> Result<(), ExportError> {
        let p = &r.canonical;
        let values: [Option<String>; 10] = [
            Some(r.id.to_hex()),
            Some(p.url.clone()),
            Some(r.canonical_host.clone()),
            Some(p.title.clone()),
            p.source.clone(),
            p.author.clone(),
            p.language.clone(),
            Some(row::body(r)),
            Some(p.extractor.clone()),
            Some(row::content_hash(r)),
        ];
        for (b, v) in self.strings.iter_mut().zip(values) {
            b.append_option(v);
        }
        self.published
            .append_option(p.published.map(|t| t.timestamp_micros()));
        for h in row::content_hashes(r) {
            self.content_hashes.values().append_value(h);
        }
        self.content_hashes.append(true);
        self.cluster_size.append_value(row::cluster_size(r));
        self.reason.append_value(row::canonical_reason(r));
        self.first_seen
            .append_value(r.first_seen.timestamp_micros());
        let copies = self.urls.values();
        for c in &r.copies {
            struct_str(copies, 0, &c.url)?;
            struct_str(copies, 1, &c.host)?;
            copies
                .field_builder::<TimestampMicrosecondBuilder>(2)
                .ok_or_else(|| builder_mismatch("urls.first_seen"))?
                .append_value(c.first_seen.timestamp_micros());
            struct_str(copies, 3, &c.hash.to_hex())?;
            copies.append(true);
        }
        self.urls.append(true);
        if let Some(s) = s {
            self.s_strings[0].append_value(&s.url);
            self.s_strings[1].append_value(&s.host);
            self.fetched_at
                .append_value(s.fetched_at.timestamp_micros());
            self.status.append_value(s.status);
            self.s_more[0].append_value(s.hash.to_hex());
            self.s_more[1].append_value(&s.title);
            self.s_more[2].append_value(&s.extractor);
            self.s_more[3].append_value(&s.charset);
            self.run.append_value(s.run.0);
            self.is_canonical.append_value(row::is_canonical(r, s));
        }
        Ok(())
    }

    /// The batch's arrays in schema order; resets the builders.
    fn finish(&mut self, all_copies: bool) -> Vec<ArrayRef> {
        let mut s = self
            .strings
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef);
        let mut next = || {
            s.next()
                .unwrap_or_else(|| Arc::new(StringBuilder::new().finish()))
        };
        let (id, url, host, title) = (next(), next(), next(), next());
        let (source, author, language, body, extractor, hash) =
            (next(), next(), next(), next(), next(), next());
        let mut cols: Vec<ArrayRef> = vec![
            id,
            url,
            host,
            title,
            Arc::new(self.published.finish()),
            source,
            author,
            language,
            body,
            extractor,
            hash,
            Arc::new(self.content_hashes.finish()),
            Arc::new(self.cluster_size.finish()),
            Arc::new(self.reason.finish()),
            Arc::new(self.first_seen.finish()),
            Arc::new(self.urls.finish()),
        ];
        if all_copies {
            let [a, b] = &mut self.s_strings[..] else {
                return cols;
            };
            cols.push(Arc::new(a.finish()));
            cols.push(Arc::new(b.finish()));
            cols.push(Arc::new(self.fetched_at.finish()));
            cols.push(Arc::new(self.status.finish()));
            for m in &mut self.s_more {
                cols.push(Arc::new(m.finish()));
            }
            cols.push(Arc::new(self.run.finish()));
            cols.push(Arc::new(self.is_canonical.finish()));
        }
        cols
    }
}

fn builder_mismatch(what: &str) -> ExportError {
    ExportError::Arrow(arrow_schema::ArrowError::SchemaError(format!(
        "builder for {what} does not match the schema"
    )))
}

fn struct_str(b: &mut StructBuilder, i: usize, v: &str) -> Result<(), ExportError> {
    b.field_builder::<StringBuilder>(i)
        .ok_or_else(|| builder_mismatch("urls"))?
        .append_value(v);
    Ok(())
}

/// Writes Parquet.
pub struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    columns: Columns,
    pending: usize,
    all_copies: bool,
}

impl<W: Write + Send> ParquetSink<W> {
    /// A sink writing to `out`.
    pub fn new(out: W, all_copies: bool) -> Result<Self, ExportError> {
        let schema = Arc::new(schema(all_copies));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_write_batch_size(CHECK_ROWS)
            .set_data_page_size_limit(PAGE_BYTES)
            .set_dictionary_page_size_limit(PAGE_BYTES)
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
        Ok(ParquetSink {
            writer,
            schema,
            columns: Columns::new(),
            pending: 0,
            all_copies,
        })
    }

    fn write_batch(&mut self) -> Result<(), ExportError> {
        if self.pending == 0 {
            return Ok(());
        }
        let cols = self.columns.finish(self.all_copies);
        let batch = RecordBatch::try_new(self.schema.clone(), cols)?;
        self.writer.write(&batch)?;
        self.pending = 0;
        if self.writer.in_progress_size() > ROW_GROUP_BYTES {
            self.writer.flush()?;
        }
        Ok(())
    }
}

impl<W: Write + Send> Sink<W> for ParquetSink<W> {
    fn row(&mut self, r: &Record, s: Option<&Sighting>) -> Result<(), ExportError> {
        self.columns.push(r, s)?;
        self.pending += 1;
        if self.pending >= BATCH_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<W, ExportError> {
        self.write_batch()?;
        let mut out = self.writer.into_inner()?;
        out.flush()?;
        Ok(out)
    }
}
