//! `list`, `search` and `stats` as a user runs them on a demo store, checked against the
//! store itself.

mod common;

use common::trawl;

use std::path::{Path, PathBuf};

use trawl::model::Record;
use trawl::store::Store;

fn ok(args: &[&str], store: &Path) -> String {
    let out = trawl(args, store);
    assert!(
        out.status.success(),
        "trawl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(s: &str) -> Vec<serde_json::Value> {
    s.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn demo() -> (tempfile::TempDir, PathBuf, Vec<Record>) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    ok(&["demo", "--articles", "40", "-q"], &store);
    let records = Store::open_existing(&store)
        .unwrap()
        .records()
        .map(Result::unwrap)
        .collect();
    (dir, store, records)
}

fn ids(rows: &[serde_json::Value]) -> Vec<String> {
    let mut v: Vec<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    v.sort();
    v
}

fn expected(records: &[Record], keep: impl Fn(&Record) -> bool) -> Vec<String> {
    let mut v: Vec<String> = records
        .iter()
        .filter(|r| keep(r))
        .map(|r| r.id.to_hex())
        .collect();
    v.sort();
    v
}

#[test]
fn list_filters_orders_and_pages() {
    let (_dir, store, records) = demo();
    let all = json_lines(&ok(&["list", "--format", "json", "--limit", "0"], &store));
    assert_eq!(all.len(), records.len());
    let published: Vec<&str> = all
        .iter()
        .map(|r| r["published"].as_str().unwrap())
        .collect();
    let mut newest_first = published.clone();
    newest_first.sort_by(|a, b| {
        chrono::DateTime::parse_from_rfc3339(b)
            .unwrap()
            .cmp(&chrono::DateTime::parse_from_rfc3339(a).unwrap())
    });
    assert_eq!(published, newest_first, "newest first by default");

    let page = json_lines(&ok(
        &["list", "--format", "json", "--limit", "5", "--offset", "10"],
        &store,
    ));
    assert_eq!(page, all[10..15].to_vec());

    let host = "m.finmirror.test";
    let rows = json_lines(&ok(
        &["list", "--format", "json", "--limit", "0", "--host", host],
        &store,
    ));
    let want = expected(&records, |r| r.copies.iter().any(|c| c.host == host));
    assert!(
        !want.is_empty() && want.len() < records.len(),
        "{}",
        want.len()
    );
    assert_eq!(ids(&rows), want);

    let rows = json_lines(&ok(
        &[
            "list",
            "--format",
            "json",
            "--limit",
            "0",
            "--min-copies",
            "4",
        ],
        &store,
    ));
    assert_eq!(ids(&rows), expected(&records, |r| r.copies.len() >= 4));

    let rows = json_lines(&ok(
        &["list", "--format", "json", "--limit", "0", "--lang", "en"],
        &store,
    ));
    assert_eq!(
        ids(&rows),
        expected(&records, |r| r.canonical.language.as_deref() == Some("en"))
    );

    // A bare date covers that whole day in the config's zone (+08:00 for the demo).
    let day = records[0].canonical.published.unwrap().date_naive();
    let d = day.to_string();
    let rows = json_lines(&ok(
        &[
            "list", "--format", "json", "--limit", "0", "--since", &d, "--until", &d,
        ],
        &store,
    ));
    let want = expected(&records, |r| {
        r.canonical.published.map(|p| p.date_naive()) == Some(day)
    });
    assert!(!want.is_empty());
    assert_eq!(ids(&rows), want);

    let source = records[0].canonical.source.clone().unwrap();
    let rows = json_lines(&ok(
        &[
            "list", "--format", "json", "--limit", "0", "--source", &source,
        ],
        &store,
    ));
    assert_eq!(
        ids(&rows),
        expected(&records, |r| r.canonical.source.as_deref() == Some(&source))
    );

    let table = ok(&["list", "--limit", "3"], &store);
    assert_eq!(table.lines().count(), 4, "{table}");

    // Exports take the same filters.
    let out = ok(
        &["export", "--format", "jsonl", "--host", host, "-q"],
        &store,
    );
    assert_eq!(out.lines().count(), want_host_count(&records, host));
}

fn want_host_count(records: &[Record], host: &str) -> usize {
    records
        .iter()
        .filter(|r| r.copies.iter().any(|c| c.host == host))
        .count()
}

fn folded_contains(r: &Record, needle: &str) -> bool {
    let n = needle.to_lowercase();
    r.canonical.title.to_lowercase().contains(&n)
        || r.canonical
            .body
            .iter()
            .any(|p| p.to_lowercase().contains(&n))
}

#[test]
fn search_finds_chinese_substrings_and_english_words() {
    let (_dir, store, records) = demo();
    let zh = records
        .iter()
        .find(|r| r.canonical.language.as_deref() == Some("zh"))
        .unwrap();
    // Three characters from the middle of a Chinese title: a substring, not a word.
    let chars: Vec<char> = zh.canonical.title.chars().collect();
    let needle: String = chars[1..4].iter().collect();
    let hits = json_lines(&ok(
        &["search", &needle, "--format", "json", "--limit", "100"],
        &store,
    ));
    assert!(
        hits.iter().any(|h| h["id"] == zh.id.to_hex().as_str()),
        "{needle}"
    );
    let want = records
        .iter()
        .filter(|r| folded_contains(r, &needle))
        .count();
    assert_eq!(
        hits.len(),
        want,
        "every record containing {needle} and no other"
    );
    let first = &hits[0];
    assert!(
        first["snippet"].as_str().unwrap().contains(&needle)
            || first["title"].as_str().unwrap().contains(&needle)
    );

    let en = records
        .iter()
        .find(|r| r.canonical.language.as_deref() == Some("en"))
        .unwrap();
    let word = en
        .canonical
        .title
        .split_whitespace()
        .find(|w| w.len() > 4 && w.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap()
        .to_uppercase();
    let hits = json_lines(&ok(
        &["search", &word, "--format", "json", "--limit", "100"],
        &store,
    ));
    assert!(
        hits.iter().any(|h| h["id"] == en.id.to_hex().as_str()),
        "{word}"
    );
    // Ranked: a title match outranks body-only matches.
    let top = &hits[0];
    assert!(top["title"]
        .as_str()
        .unwrap()
        .to_uppercase()
        .contains(&word));
    for h in &hits {
        let (s, e) = (
            h["highlights"][0][0].as_u64(),
            h["highlights"][0][1].as_u64(),
        );
        if let (Some(s), Some(e)) = (s, e) {
            let snip: Vec<char> = h["snippet"].as_str().unwrap().chars().collect();
            let hl: String = snip[s as usize..e as usize].iter().collect();
            assert_eq!(hl.to_uppercase(), word);
        }
    }

    let none = ok(&["search", "zzzqqqxxx", "--format", "json"], &store);
    assert!(none.is_empty());
    let out = trawl(&["search", "!!!"], &store);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn stats_json_breaks_down_by_host_source_and_day() {
    let (_dir, store, records) = demo();
    let v: serde_json::Value =
        serde_json::from_str(&ok(&["stats", "--format", "json"], &store)).unwrap();
    assert_eq!(v["records"], records.len());
    assert!(v["sightings"].as_u64().unwrap() > records.len() as u64);
    let by_source: u64 = v["sources"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(by_source, records.len() as u64);
    let published: u64 = v["days"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| d["published"].as_u64().unwrap())
        .sum();
    assert_eq!(published, records.len() as u64);
    assert!(v["outcomes"]["duplicate"].as_u64().unwrap() > 0);
    assert!(v["duplicates_collapsed"].as_u64().unwrap() > 0);
}

#[test]
fn query_errors_exit_2_with_clear_messages() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none");
    for args in [
        &["list"][..],
        &["search", "x"],
        &["export", "--format", "jsonl"],
    ] {
        let out = trawl(args, &missing);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("no store"));
    }
    assert!(!missing.exists());
    let (dir, store, _) = demo();
    let out = trawl(&["list", "--since", "2022-02-30"], &store);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since"));
    let target = dir.path().join("x.jsonl");
    let out = trawl(
        &[
            "export",
            "--format",
            "jsonl",
            "--until",
            "soon",
            "--out",
            target.to_str().unwrap(),
        ],
        &store,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!target.exists());
    let out = trawl(
        &[
            "export",
            "--format",
            "csv",
            "--out",
            "/nonexistent-dir/x.csv",
        ],
        &store,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent-dir/x.csv"));
}
