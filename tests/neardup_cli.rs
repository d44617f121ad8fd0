//! `trawl dupes` and `trawl history` as a user meets them, on a demo store.

mod common;

use common::{text, trawl};

#[test]
fn dupes_and_history_show_clusters_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = trawl(&["demo", "--articles", "12", "-q"], &store);
    assert!(out.status.success(), "demo failed: {}", text(&out.stderr));

    let out = trawl(&["dupes", "--format", "json"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let clusters: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let clusters = clusters.as_array().unwrap();
    assert!(!clusters.is_empty(), "the demo mirrors every article");
    let c = &clusters[0];
    // The origin wins; with its API endpoints on the same host, the copies there are told
    // apart by the later criteria.
    assert_eq!(c["canonical_host"], "news.trawl-demo.test");
    let criterion = c["canonical_reason"]["criterion"].as_str().unwrap();
    assert!(
        ["preferred_host", "earliest_seen", "shortest_url"].contains(&criterion),
        "{criterion}"
    );
    assert_eq!(c["members"][0]["joined"]["how"], "first");
    assert!(c["copies"].as_array().unwrap().len() > 1);

    let id = c["id"].as_str().unwrap();
    let out = trawl(&["dupes", &id[..8]], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.contains(id) && table.contains("canonical"), "{table}");

    let url = c["copies"][0]["url"].as_str().unwrap();
    let out = trawl(&["history", url, "--format", "json"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let h: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(h["versions"].as_array().unwrap().len(), 1);
    assert_eq!(h["versions"][0]["number"], 1);
    assert_eq!(h["versions"][0]["record"], id);

    let out = trawl(&["history", "http://nowhere.test/x"], &store);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not in the store"));
}
