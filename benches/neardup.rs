//! Near-duplicate cost: µs per document to fingerprint (normalise + blake3 + simhash/MinHash)
//! and to look up candidates and check them (band index scan + exact check) as the store
//! grows to 100,000 records. Lookup cost should stay flat: band buckets are tiny for unrelated
//! text and capped for generic text. "no-match" is the lookup of a text with no near-duplicate
//! stored (the band index only); a match also reads the candidate's fingerprint from sled.
//! Both layouts of the band index run on the same data, one after the other: the default
//! (7,168 texts in memory, then scratch files) and all in memory, so the scratch files'
//! cost shows as a ratio measured in the same run.
//!
//! Run: `cargo bench --bench neardup` (release build; `-- 20000` for a quicker, smaller run).

use std::time::Instant;

use chrono::{TimeDelta, Utc};
use trawl::config::{Overrides, Settings};
use trawl::crawl::archive_post;
use trawl::dedup::best_near;
use trawl::demo::generate;
use trawl::fingerprint::NearPrint;
use trawl::model::{Post, RunId};
use trawl::store::Store;

fn main() {
    let total: usize = std::env::args()
        .filter_map(|a| a.parse().ok())
        .next()
        .unwrap_or(100_000);
    let settings = Settings::load(None, &Overrides::default()).expect("demo config");
    let t = Instant::now();
    let articles = generate(99, total);
    println!(
        "{total} articles generated in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let posts: Vec<Post> = articles
        .iter()
        .map(|a| Post {
            url: format!("http://origin.test/{}", a.id),
            title: a.title.clone(),
            published: Some(a.published),
            source: Some(a.source.clone()),
            author: None,
            body: a.paragraphs.clone(),
            language: None,
            extractor: "bench".into(),
        })
        .collect();
    let chars: usize = posts.iter().map(Post::body_chars).sum();
    println!("mean body {} chars", chars / posts.len().max(1));

    // Fingerprinting: the whole stage, and the near-duplicate part alone.
    let sample = &posts[..posts.len().min(20_000)];
    let t = Instant::now();
    let fps: Vec<_> = sample
        .iter()
        .filter_map(|p| settings.fingerprinter.fingerprint(p))
        .collect();
    let full = t.elapsed().as_secs_f64() * 1e6 / sample.len() as f64;
    let normalised: Vec<Vec<String>> = sample
        .iter()
        .map(|p| settings.fingerprinter.normaliser.normalise(&p.body))
        .collect();
    let t = Instant::now();
    let prints: Vec<_> = normalised.iter().filter_map(|b| NearPrint::of(b)).collect();
    let near_only = t.elapsed().as_secs_f64() * 1e6 / sample.len() as f64;
    println!(
        "fingerprint: {full:.1} µs/doc (normalise + blake3 + near), near print alone {near_only:.1} µs/doc ({} prints)",
        prints.len()
    );
    drop(fps);

    // Queries: trimmed copies of stored articles (should find their record) and articles
    // never stored (should find nothing).
    let queries: Vec<(NearPrint, bool)> = (0..1000)
        .filter_map(|i| {
            let a = &articles[(i * 97) % total];
            let trimmed = settings
                .fingerprinter
                .normaliser
                .normalise(&a.paragraphs[..a.paragraphs.len() - 1]);
            Some((NearPrint::of(&trimmed)?, true))
        })
        .chain(generate(7_777, 1000).iter().filter_map(|a| {
            let body = settings.fingerprinter.normaliser.normalise(&a.paragraphs);
            Some((NearPrint::of(&body)?, false))
        }))
        .collect();

    for (layout, in_memory) in [
        ("default: 7,168 texts in memory, then scratch files", None),
        ("all in memory", Some(usize::MAX)),
    ] {
        println!("band index: {layout}");
        run(&posts, &queries, &settings, total, in_memory);
    }
}

/// Ingests `posts` into a new store in three steps and looks the queries up after each.
fn run(
    posts: &[Post],
    queries: &[(NearPrint, bool)],
    settings: &Settings,
    total: usize,
    in_memory: Option<usize>,
) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir.path()).expect("store");
    if let Some(texts) = in_memory {
        store = store.with_near_memory_texts(texts);
    }
    let start = Utc::now();
    let mut stored = 0;
    println!(
        "{:>8} {:>14} {:>14} {:>16} {:>12} {:>10}",
        "records", "ingest µs/doc", "lookup µs/doc", "  no-match µs/doc", "candidates", "found"
    );
    for checkpoint in [total / 10, total / 2, total] {
        let t = Instant::now();
        let batch = checkpoint - stored;
        while stored < checkpoint {
            ingest(
                &store,
                settings,
                &posts[stored],
                start + TimeDelta::seconds(stored as i64),
            );
            stored += 1;
        }
        let ingest_us = t.elapsed().as_secs_f64() * 1e6 / batch.max(1) as f64;
        let t = Instant::now();
        let mut candidates = 0;
        let mut found = 0;
        // Queries whose text has no near-duplicate in the store: the cost every new article
        // pays, apart from the fingerprint reads a real match needs.
        let (mut unmatched, mut unmatched_s) = (0usize, 0f64);
        for (q, _) in queries {
            let tq = Instant::now();
            let c = store
                .near_candidates(q, settings.near.bounds())
                .expect("lookup");
            let hit = best_near(q, &c, &settings.near).is_some();
            if !hit && c.is_empty() {
                unmatched += 1;
                unmatched_s += tq.elapsed().as_secs_f64();
            }
            candidates += c.len();
            found += usize::from(hit);
        }
        let lookup_us = t.elapsed().as_secs_f64() * 1e6 / queries.len() as f64;
        let unmatched_us = unmatched_s * 1e6 / unmatched.max(1) as f64;
        let expected = queries
            .iter()
            .enumerate()
            .filter(|(i, (_, hit))| *hit && (i * 97) % total < stored)
            .count();
        println!(
            "{stored:>8} {ingest_us:>14.1} {lookup_us:>14.1} {unmatched_us:>16.1} {:>12.2} {:>5}/{expected:<5}",
            candidates as f64 / queries.len() as f64,
            found
        );
    }
    store.flush().expect("flush");
    println!(
        "store on disk: {:.1} MiB for {stored} records",
        store.size_on_disk().unwrap_or(0) as f64 / (1 << 20) as f64
    );
}

fn ingest(store: &Store, settings: &Settings, post: &Post, seen: chrono::DateTime<Utc>) {
    archive_post(store, settings, post, &post.url, seen, RunId(1)).expect("ingest");
}
