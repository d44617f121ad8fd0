//! Exports read back by independent readers (serde_json, the csv crate, the parquet crate's
//! Arrow reader, a small WARC parser written here) and compared field by field with the store.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMicrosecondType, UInt32Type};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha1::{Digest, Sha1};
use trawl::model::Record;
use trawl::store::Store;

fn trawl(args: &[&str], store: &Path) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .arg("--store")
        .arg(store)
        .env_remove("TRAWL_STORE")
        .env_remove("TRAWL_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("the trawl binary runs");
    assert!(
        out.status.success(),
        "trawl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A demo crawl into a fresh store; returns (tempdir, store path).
fn demo(articles: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    trawl(&["demo", "--articles", articles, "-q"], &store);
    (dir, store)
}

fn records(store: &Path) -> (Vec<Record>, u64) {
    let s = Store::open_existing(store).unwrap();
    let records: Vec<Record> = s.records().map(Result::unwrap).collect();
    let sightings = s.all_sightings().count() as u64;
    (records, sightings)
}

fn hash_of_canonical(r: &Record) -> String {
    r.copies
        .iter()
        .find(|c| c.url == r.canonical.url)
        .unwrap()
        .hash
        .to_hex()
}

#[test]
fn jsonl_and_csv_round_trip_field_by_field() {
    let (dir, store) = demo("30");
    let out = trawl(&["export", "--format", "jsonl"], &store);
    let csv_path = dir.path().join("out.csv");
    trawl(
        &[
            "export",
            "--format",
            "csv",
            "--out",
            csv_path.to_str().unwrap(),
        ],
        &store,
    );
    let (records, sightings) = records(&store);
    let by_id: HashMap<String, &Record> = records.iter().map(|r| (r.id.to_hex(), r)).collect();

    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), records.len());
    let ids: Vec<&str> = lines
        .iter()
        .map(|v| v["record_id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rows come in record-id order");
    for v in &lines {
        let r = by_id[v["record_id"].as_str().unwrap()];
        let p = &r.canonical;
        assert_eq!(v["canonical_url"], p.url.as_str());
        assert_eq!(v["canonical_host"], r.canonical_host.as_str());
        assert_eq!(v["title"], p.title.as_str());
        assert_eq!(v["body"], p.body.join("\n").as_str());
        assert_eq!(v["source"].as_str(), p.source.as_deref());
        assert_eq!(v["author"].as_str(), p.author.as_deref());
        assert_eq!(v["language"].as_str(), p.language.as_deref());
        assert_eq!(v["extractor"], p.extractor.as_str());
        let published = v["published"]
            .as_str()
            .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap());
        assert_eq!(published, p.published);
        assert_eq!(
            published.map(|t| t.offset().local_minus_utc()),
            p.published.map(|t| t.offset().local_minus_utc()),
            "the offset is kept"
        );
        assert_eq!(v["content_hash"], hash_of_canonical(r).as_str());
        assert_eq!(v["cluster_size"], r.copies.len());
        assert_eq!(v["urls"].as_array().unwrap().len(), r.copies.len());
        for (u, c) in v["urls"].as_array().unwrap().iter().zip(&r.copies) {
            assert_eq!(u["url"], c.url.as_str());
            assert_eq!(u["host"], c.host.as_str());
            let t =
                chrono::DateTime::parse_from_rfc3339(u["first_seen"].as_str().unwrap()).unwrap();
            assert_eq!(t, c.first_seen);
        }
        let reason = serde_json::to_value(&r.canonical_reason).unwrap();
        assert_eq!(v["canonical_reason"], reason["criterion"]);
    }

    let mut rdr = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, trawl::export::row::RECORD_COLUMNS);
    let mut n = 0;
    for row in rdr.records() {
        let row = row.unwrap();
        let get = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        let r = by_id[get("record_id")];
        assert_eq!(get("title"), r.canonical.title);
        assert_eq!(
            get("body"),
            r.canonical.body.join("\n"),
            "newlines survive quoting"
        );
        assert_eq!(get("source"), r.canonical.source.as_deref().unwrap_or(""));
        assert_eq!(get("cluster_size"), r.copies.len().to_string());
        let urls: Vec<serde_json::Value> = serde_json::from_str(get("urls")).unwrap();
        assert_eq!(urls.len(), r.copies.len());
        n += 1;
    }
    assert_eq!(n, records.len());

    // --all-copies: one row per sighting.
    let out = trawl(&["export", "--format", "jsonl", "--all-copies"], &store);
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len() as u64, sightings);
    assert!(rows
        .iter()
        .all(|r| r["sighting_url"].is_string() && r["fetched_at"].is_string()));
    let canonical_rows = rows.iter().filter(|r| r["is_canonical"] == true).count();
    assert!(canonical_rows >= records.len());
    let csv_all = dir.path().join("all.csv");
    trawl(
        &[
            "export",
            "--format",
            "csv",
            "--all-copies",
            "--out",
            csv_all.to_str().unwrap(),
        ],
        &store,
    );
    assert_eq!(
        csv::Reader::from_path(&csv_all).unwrap().records().count() as u64,
        sightings
    );

    // No temporary file is left beside the outputs.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(".trawl-export-")
        })
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn parquet_has_typed_columns_and_round_trips() {
    let (dir, store) = demo("25");
    let path = dir.path().join("out.parquet");
    trawl(
        &[
            "export",
            "--format",
            "parquet",
            "--out",
            path.to_str().unwrap(),
        ],
        &store,
    );
    let (records, sightings) = records(&store);
    let by_id: HashMap<String, &Record> = records.iter().map(|r| (r.id.to_hex(), r)).collect();
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut n = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        assert_eq!(
            schema.field_with_name("published").unwrap().data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert!(matches!(
            schema.field_with_name("urls").unwrap().data_type(),
            DataType::List(f) if matches!(f.data_type(), DataType::Struct(_))
        ));
        let col = |name: &str| batch.column(schema.index_of(name).unwrap()).clone();
        let ids = col("record_id");
        let ids = ids.as_string::<i32>();
        let titles = col("title");
        let titles = titles.as_string::<i32>();
        let bodies = col("body");
        let bodies = bodies.as_string::<i32>();
        let published = col("published");
        let published = published.as_primitive::<TimestampMicrosecondType>();
        let sizes = col("cluster_size");
        let sizes = sizes.as_primitive::<UInt32Type>();
        let hashes = col("content_hash");
        let hashes = hashes.as_string::<i32>();
        let urls = col("urls");
        let urls = urls.as_list::<i32>();
        for i in 0..batch.num_rows() {
            let r = by_id[ids.value(i)];
            assert_eq!(titles.value(i), r.canonical.title);
            assert_eq!(bodies.value(i), r.canonical.body.join("\n"));
            assert_eq!(hashes.value(i), hash_of_canonical(r));
            assert_eq!(sizes.value(i) as usize, r.copies.len());
            match r.canonical.published {
                Some(p) => assert_eq!(published.value(i), p.timestamp_micros()),
                None => assert!(published.is_null(i)),
            }
            let copies = urls.value(i);
            let copies = copies.as_struct();
            assert_eq!(copies.len(), r.copies.len());
            let copy_urls = copies.column_by_name("url").unwrap().as_string::<i32>();
            let copy_seen = copies
                .column_by_name("first_seen")
                .unwrap()
                .as_primitive::<TimestampMicrosecondType>();
            for (j, c) in r.copies.iter().enumerate() {
                assert_eq!(copy_urls.value(j), c.url);
                assert_eq!(copy_seen.value(j), c.first_seen.timestamp_micros());
            }
            n += 1;
        }
    }
    assert_eq!(n, records.len());

    let all = dir.path().join("all.parquet");
    trawl(
        &[
            "export",
            "--format",
            "parquet",
            "--all-copies",
            "--out",
            all.to_str().unwrap(),
        ],
        &store,
    );
    let rows = ParquetRecordBatchReaderBuilder::try_new(File::open(&all).unwrap())
        .unwrap()
        .metadata()
        .file_metadata()
        .num_rows();
    assert_eq!(rows as u64, sightings);
}

fn base32(bytes: &[u8]) -> String {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits = String::new();
    for b in bytes {
        bits.push_str(&format!("{b:08b}"));
    }
    while bits.len() % 5 != 0 {
        bits.push('0');
    }
    bits.as_bytes()
        .chunks(5)
        .map(|c| {
            alphabet[usize::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap()] as char
        })
        .collect()
}

fn sha1(b: &[u8]) -> String {
    format!("sha1:{}", base32(&Sha1::digest(b)))
}

/// One parsed WARC record.
struct WarcRecord {
    headers: HashMap<String, String>,
    block: Vec<u8>,
}

/// Parses a whole WARC file, checking the framing: version line, headers, Content-Length
/// bytes of block, then CRLF CRLF.
fn parse_warc(mut data: &[u8]) -> Vec<WarcRecord> {
    let mut out = Vec::new();
    while !data.is_empty() {
        assert!(
            data.starts_with(b"WARC/1.1\r\n"),
            "record starts with the version"
        );
        let end = data.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = std::str::from_utf8(&data[10..end]).unwrap();
        let headers: HashMap<String, String> = head
            .split("\r\n")
            .map(|l| {
                let (k, v) = l.split_once(": ").unwrap();
                (k.to_string(), v.to_string())
            })
            .collect();
        let len: usize = headers["Content-Length"].parse().unwrap();
        let start = end + 4;
        let block = data[start..start + len].to_vec();
        assert_eq!(&data[start + len..start + len + 4], b"\r\n\r\n");
        data = &data[start + len + 4..];
        out.push(WarcRecord { headers, block });
    }
    out
}

#[test]
fn warc_has_responses_with_valid_digests_and_revisits_for_mirrors() {
    let (dir, store) = demo("20");
    let path = dir.path().join("out.warc");
    trawl(
        &[
            "export",
            "--format",
            "warc",
            "--out",
            path.to_str().unwrap(),
        ],
        &store,
    );
    let (records, sightings) = records(&store);
    let warc = parse_warc(&std::fs::read(&path).unwrap());
    assert_eq!(warc[0].headers["WARC-Type"], "warcinfo");
    let responses: Vec<&WarcRecord> = warc
        .iter()
        .filter(|r| r.headers["WARC-Type"] == "response")
        .collect();
    let revisits: Vec<&WarcRecord> = warc
        .iter()
        .filter(|r| r.headers["WARC-Type"] == "revisit")
        .collect();
    assert_eq!(
        responses.len(),
        records.len(),
        "one response per canonical copy"
    );
    let mirror_copies: usize = records.iter().map(|r| r.copies.len() - 1).sum();
    assert_eq!(revisits.len(), mirror_copies, "one revisit per mirror copy");
    let s = Store::open_existing(&store).unwrap();
    let mut by_uuid = HashMap::new();
    for r in &responses {
        let block = &r.block;
        assert_eq!(r.headers["WARC-Block-Digest"], sha1(block));
        let split = block.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let (http, body) = block.split_at(split);
        assert!(http.starts_with(b"HTTP/1.1 200"));
        assert_eq!(r.headers["WARC-Payload-Digest"], sha1(body));
        assert_eq!(
            r.headers["Content-Type"],
            "application/http;msgtype=response"
        );
        let uri = &r.headers["WARC-Target-URI"];
        let rec = records
            .iter()
            .find(|x| &x.canonical.url == uri)
            .expect("a canonical URL");
        let raw = s.raw_response(rec.id).unwrap().unwrap();
        assert_eq!(body, raw.body.as_slice(), "the body as fetched");
        by_uuid.insert(
            r.headers["WARC-Record-ID"].clone(),
            (uri.clone(), r.headers["WARC-Payload-Digest"].clone(), rec),
        );
    }
    for v in &revisits {
        assert_eq!(
            v.headers["WARC-Profile"],
            "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
        );
        let (uri, digest, rec) = &by_uuid[&v.headers["WARC-Refers-To"]];
        assert_eq!(&v.headers["WARC-Refers-To-Target-URI"], uri);
        assert_eq!(&v.headers["WARC-Payload-Digest"], digest);
        let target = &v.headers["WARC-Target-URI"];
        assert!(rec
            .copies
            .iter()
            .any(|c| &c.url == target && c.url != rec.canonical.url));
        assert!(v.block.is_empty());
    }

    drop(s); // sled allows one process at a time
             // --all-copies: the response stands for one sighting, a revisit for each other one.
    let all = dir.path().join("all.warc");
    trawl(
        &[
            "export",
            "--format",
            "warc",
            "--all-copies",
            "--out",
            all.to_str().unwrap(),
        ],
        &store,
    );
    let warc = parse_warc(&std::fs::read(&all).unwrap());
    assert_eq!(warc.len() as u64 - 1, sightings);
}
