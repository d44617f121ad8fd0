//! `trawl verify` through the real binary: a clean demo store passes; damaged derived indexes
//! are reported (exit 1) and rebuilt by `--repair` (then exit 0) without touching archived
//! content; damaged archived content is reported and left alone by `--repair`.

mod common;

use std::path::{Path, PathBuf};

use common::{text, trawl};

fn demo_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let out = trawl(&["demo", "--articles", "12", "-q"], &store);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (dir, store)
}

fn verify(store: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["verify", "--format", "json"];
    args.extend_from_slice(extra);
    let out = trawl(&args, store);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    (out.status.code().unwrap(), json, text(&out.stderr))
}

fn checks(report: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["check"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c.dedup();
    c
}

/// (records, sightings, URL states) as `trawl stats` counts them.
fn counts(store: &Path) -> (u64, u64, u64) {
    let out = trawl(&["stats", "--format", "json"], store);
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        s["records"].as_u64().unwrap(),
        s["sightings"].as_u64().unwrap(),
        s["urls"].as_u64().unwrap(),
    )
}

/// Opens the store's sled database directly, as a damaged disk or a bug would leave it.
fn with_db(store: &Path, damage: impl FnOnce(&sled::Db)) {
    let db = sled::open(store).unwrap();
    damage(&db);
    db.flush().unwrap();
}

fn first_key(db: &sled::Db, tree: &str) -> sled::IVec {
    db.open_tree(tree)
        .unwrap()
        .iter()
        .next()
        .unwrap()
        .unwrap()
        .0
}

#[test]
fn a_clean_store_verifies() {
    let (_dir, store) = demo_store();
    let (code, report, _) = verify(&store, &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["clean"], true);
    assert_eq!(report["checked"]["records"], 12, "{report}");
    let table = trawl(&["verify"], &store);
    assert!(table.status.success());
    assert!(text(&table.stdout).contains("every invariant holds"));
}

#[test]
fn damaged_indexes_are_reported_and_repaired() {
    let (_dir, store) = demo_store();
    let before = counts(&store);
    let title = {
        let out = trawl(&["list", "--format", "json", "--limit", "1"], &store);
        let row: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        row["title"].as_str().unwrap().to_string()
    };
    let word: String = title.chars().take(2).collect();
    with_db(&store, |db| {
        // A content hash the index forgot, a fingerprint of a hash no record holds, a hash
        // pointing at nothing, a record the search index no longer knows.
        let hashes = db.open_tree("hashes").unwrap();
        hashes.remove(first_key(db, "hashes")).unwrap();
        hashes.insert([7u8; 32], &[9u8; 16]).unwrap();
        let prints = db.open_tree("prints").unwrap();
        prints
            .insert(
                [8u8; 32],
                vec![0u8; trawl::fingerprint::NearPrint::ENCODED_LEN],
            )
            .unwrap();
        let ids = db.open_tree("search_ids").unwrap();
        ids.remove(first_key(db, "search_ids")).unwrap();
    });
    let (code, report, stderr) = verify(&store, &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["clean"], false);
    let found = checks(&report);
    for check in [
        "hash_index_missing",
        "hash_index_stale",
        "print_orphan",
        "search_unindexed",
        "search_doc_mismatch",
    ] {
        assert!(
            found.contains(&check.to_string()),
            "{check} not in {found:?}"
        );
    }
    assert!(stderr.contains("--repair"), "{stderr}");
    let table = text(&trawl(&["verify"], &store).stdout);
    assert!(
        table.contains("hash_index_missing") && table.contains("[repairable]"),
        "{table}"
    );

    let (code, repaired, _) = verify(&store, &["--repair"]);
    assert_eq!(code, 0, "{repaired}");
    assert_eq!(repaired["clean"], true);
    assert!(
        repaired["before_repair"].as_u64().unwrap() >= 5,
        "{repaired}"
    );
    assert_eq!(repaired["repaired"]["hashes_written"], 1);
    assert_eq!(repaired["repaired"]["hashes_removed"], 1);

    let (code, again, _) = verify(&store, &[]);
    assert_eq!(code, 0, "{again}");
    // Nothing archived was lost, and the rebuilt search index finds the record again.
    assert_eq!(counts(&store), before);
    let found = trawl(&["search", &word, "--format", "json"], &store);
    assert!(found.status.success(), "{}", text(&found.stderr));
    assert!(
        text(&found.stdout).contains(&title),
        "{}",
        text(&found.stdout)
    );
}

#[test]
fn damaged_archive_is_reported_and_never_deleted() {
    let (_dir, store) = demo_store();
    let before = counts(&store);
    with_db(&store, |db| {
        let records = db.open_tree("records").unwrap();
        records.remove(first_key(db, "records")).unwrap();
    });
    let (code, report, _) = verify(&store, &[]);
    assert_eq!(code, 1);
    let found = checks(&report);
    for check in [
        "sighting_record",
        "url_state_record",
        "version_record",
        "raw_record",
    ] {
        assert!(
            found.contains(&check.to_string()),
            "{check} not in {found:?}"
        );
    }
    let (code, after, stderr) = verify(&store, &["--repair"]);
    assert_eq!(code, 1, "{after}");
    assert!(stderr.contains("does not change"), "{stderr}");
    assert!(checks(&after).contains(&"sighting_record".to_string()));
    assert!(after["problems"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["repairable"] == false));
    // The sightings of the lost record are still there for a human to look at; only the
    // store's totals were recounted, to the one record fewer that the trees hold.
    let (records, sightings, urls) = before;
    assert_eq!(counts(&store), (records - 1, sightings, urls));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = trawl(&["verify"], &dir.path().join("nope"));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let out = trawl(&["verify", "--bogus"], &dir.path().join("nope"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn damaged_blob_segments_are_reported_with_their_place_and_never_read_as_text() {
    let (_dir, store) = demo_store();
    let before = counts(&store);
    // Flip every 100th byte of every segment, as a bad disk would: no body or raw response
    // there matches its checksum any more.
    let segments: Vec<PathBuf> = std::fs::read_dir(store.join("blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(
        !segments.is_empty(),
        "bodies and raw responses live in segments"
    );
    for seg in &segments {
        let mut bytes = std::fs::read(seg).unwrap();
        for b in bytes.iter_mut().step_by(100) {
            *b ^= 0x5a;
        }
        std::fs::write(seg, bytes).unwrap();
    }
    let (code, report, _) = verify(&store, &[]);
    assert_eq!(code, 1, "{report}");
    let found = checks(&report);
    assert!(found.iter().any(|c| c == "record_decode"), "{found:?}");
    assert!(found.iter().any(|c| c == "raw_blob"), "{found:?}");
    let detail = report["problems"].to_string();
    assert!(
        detail.contains(".seg") && detail.contains("checksum"),
        "{detail}"
    );
    // Counting needs no text: stats still answers. Reading a damaged text is an error that
    // names the place (exit 1), never a wrong text.
    assert_eq!(counts(&store), before);
    let export = trawl(&["export", "--format", "jsonl", "--out", "-"], &store);
    assert_eq!(export.status.code(), Some(1));
    let err = text(&export.stderr);
    assert!(
        err.contains("00000001.seg is damaged") && err.contains("trawl verify"),
        "{err}"
    );
    // Archived content is not rewritten by a repair: the damage stays reported.
    let (code, _, _) = verify(&store, &["--repair"]);
    assert_eq!(code, 1);
    assert_eq!(counts(&store), before);
}
