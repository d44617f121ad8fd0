//! The binary as a user meets it: the demo, stats and get, and clear errors with exit code 2
//! on bad input.

mod common;

use common::{text, trawl};

use std::path::Path;
use std::process::Output;

#[test]
fn demo_then_stats_then_get() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = trawl(&["demo", "--articles", "40", "-q"], &store);
    assert!(out.status.success(), "demo failed: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("new records         40"), "{stdout}");
    assert!(
        stdout.contains("store now holds     40 records"),
        "{stdout}"
    );

    let out = trawl(&["stats", "--format", "json"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stats: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(stats["records"], 40);
    let sightings = stats["sightings"].as_u64().unwrap();
    assert!(sightings > 40, "mirrors add sightings: {sightings}");
    assert_eq!(stats["hosts"]["news.trawl-demo.test"]["canonical"], 40);

    let out = trawl(&["stats"], &store);
    assert!(text(&out.stdout).contains("records      40"));

    // get by URL, then by the id it printed, then by a short prefix.
    let url = "http://news.trawl-demo.test/html_News/NewsShare.html?infoCode=NW20220118000001";
    let out = trawl(&["get", url, "--format", "json"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let view: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = view["record"]["id"].as_str().unwrap().to_string();
    assert_eq!(view["record"]["canonical"]["url"], url);
    assert!(!view["sightings"].as_array().unwrap().is_empty());
    let out = trawl(&["get", &id[..8]], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains(&id) && table.contains("copies (") && table.contains(url),
        "{table}"
    );
}

fn assert_usage_error(out: &Output, needles: &[&str]) {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    for n in needles {
        assert!(stderr.contains(n), "expected `{n}` in: {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let cfg = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.display().to_string()
    };

    let missing = dir.path().join("nope.toml").display().to_string();
    assert_usage_error(
        &trawl(&["crawl", "--config", &missing], &store),
        &["nope.toml"],
    );

    let malformed = cfg("malformed.toml", "[crawl\nseeds = [");
    assert_usage_error(
        &trawl(&["crawl", "--config", &malformed], &store),
        &["malformed.toml"],
    );

    let unknown = cfg("unknown.toml", "[crawl]\nseedz = []\n");
    assert_usage_error(
        &trawl(&["crawl", "--config", &unknown], &store),
        &["unknown.toml", "seedz"],
    );

    let bad_regex = cfg(
        "regex.toml",
        "[[site]]\nname = \"a\"\nhosts = [\"a.test\"]\narticle = [\"((\"]\n",
    );
    assert_usage_error(
        &trawl(&["crawl", "--config", &bad_regex], &store),
        &["site[0].article[0]"],
    );

    let demo = concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml");
    assert_usage_error(
        &trawl(&["crawl", "--config", demo, "--seed", "not a url"], &store),
        &["--seed", "not a url"],
    );
    assert_usage_error(&trawl(&["crawl"], &store), &["--config"]);

    // A store path under a regular file cannot be created.
    let file = cfg("plain-file", "x");
    let under_file = Path::new(&file).join("store");
    assert_usage_error(
        &trawl(&["demo", "--articles", "3"], &under_file),
        &["plain-file"],
    );

    // Queries never create a store, and unknown keys are errors, not empty successes.
    assert_usage_error(&trawl(&["stats"], &store), &["no store"]);
    assert!(!store.exists(), "queries must not create a store");
    let out = trawl(&["demo", "--articles", "3", "-q"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_usage_error(&trawl(&["get", "ffffffffffff"], &store), &["no record"]);
    assert_usage_error(
        &trawl(&["get", "http://nowhere.test/x"], &store),
        &["not in the store"],
    );
    assert_usage_error(&trawl(&["get", "zz"], &store), &["neither"]);

    // Usage errors from the argument parser.
    assert_usage_error(&trawl(&["frobnicate"], &store), &["frobnicate"]);
    assert_usage_error(&trawl(&["demo", "--articles", "many"], &store), &["many"]);
}

#[test]
fn help_teaches_and_exits_0() {
    let out = trawl(&["--help"], Path::new("store"));
    assert!(out.status.success());
    let help = text(&out.stdout);
    for cmd in ["demo", "crawl", "stats", "get", "Exit codes"] {
        assert!(help.contains(cmd), "{help}");
    }
}
