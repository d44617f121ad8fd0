//! Per-stage costs of the pipeline on generated demo pages: decode, parse, extract (site rule),
//! link discovery, normalise+fingerprint, and the store's ingest transaction (one post per
//! commit, and 32 per commit as the crawl's writer batches them).
//!
//! Run: `cargo bench --bench stages` (release build). Prints µs per page for each stage and
//! each stage's cost as a ratio of the HTML parse, measured in the same run.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;

use trawl::config::{Overrides, Settings};
use trawl::crawl::{ingest_candidate, ingest_candidates, post_ingest};
use trawl::demo::{Mirror, Network};
use trawl::extract::{self, Extraction};
use trawl::fetch::charset;
use trawl::store::Store;

fn main() {
    let n = 2000;
    let network = Arc::new(Network::generate(1, n));
    let settings = Settings::load(None, &Overrides::default()).expect("demo config");
    let mut pages = Vec::new();
    for m in Mirror::ALL {
        for i in 0..n {
            if let Some(u) = network.article_url(m, i) {
                let url = url::Url::parse(&u).expect("demo URL");
                let resp = network.respond(m.host(), &trawl::scope::path_and_query(&url));
                pages.push((url, resp));
            }
        }
    }
    let bytes: usize = pages.iter().map(|(_, r)| r.body.len()).sum();
    println!(
        "{} pages, {:.1} KiB mean",
        pages.len(),
        bytes as f64 / pages.len() as f64 / 1024.0
    );

    let t = Instant::now();
    let decoded: Vec<String> = pages
        .iter()
        .map(|(_, r)| charset::decode(&r.body, Some(&r.content_type)).text)
        .collect();
    let decode = t.elapsed();

    let t = Instant::now();
    for d in &decoded {
        black_box(scraper::Html::parse_document(d));
    }
    let parse = t.elapsed();

    let docs: Vec<scraper::Html> = decoded
        .iter()
        .map(|d| scraper::Html::parse_document(d))
        .collect();
    let t = Instant::now();
    let mut posts = Vec::new();
    for ((url, _), doc) in pages.iter().zip(&docs) {
        if let Extraction::Post(p) =
            settings
                .extractor
                .extract(doc, url, settings.scope.site_for(url))
        {
            posts.push(p);
        }
    }
    let extract = t.elapsed();

    let t = Instant::now();
    for ((url, _), doc) in pages.iter().zip(&docs) {
        black_box(extract::links(doc, url));
    }
    let links = t.elapsed();

    let t = Instant::now();
    let fps: Vec<_> = posts
        .iter()
        .filter_map(|p| settings.fingerprinter.fingerprint(p))
        .collect();
    let fingerprint = t.elapsed();

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let (run, _) = store.begin_run(false).expect("run");
    let t = Instant::now();
    for (post, fp) in posts.iter().zip(&fps) {
        let (cand, ingest) = post_ingest(post, fp.clone(), &post.url, chrono::Utc::now(), run.id);
        ingest_candidate(&store, &settings, &cand, &ingest).expect("ingest");
    }
    store.flush().expect("flush");
    let ingest = t.elapsed();

    // The same posts into a fresh store in batches of 32, one transaction each, as the
    // crawl's writer commits them when pages are waiting.
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let (run, _) = store.begin_run(false).expect("run");
    let prepared: Vec<_> = posts
        .iter()
        .zip(&fps)
        .map(|(post, fp)| post_ingest(post, fp.clone(), &post.url, chrono::Utc::now(), run.id))
        .collect();
    let t = Instant::now();
    for chunk in prepared.chunks(32) {
        let batch: Vec<_> = chunk.iter().map(|(c, i)| (c, i)).collect();
        ingest_candidates(&store, &settings, &batch).expect("ingest");
    }
    store.flush().expect("flush");
    let batched = t.elapsed();

    let per = |d: std::time::Duration, count: usize| d.as_secs_f64() * 1e6 / count.max(1) as f64;
    let base = per(parse, pages.len());
    println!("{:<28} {:>10} {:>12}", "stage", "µs/page", "× parse");
    for (name, d, count) in [
        ("decode (charset)", decode, pages.len()),
        ("parse (scraper)", parse, pages.len()),
        ("extract (site rule)", extract, pages.len()),
        ("links", links, pages.len()),
        ("normalise+fingerprint", fingerprint, posts.len()),
        ("store ingest", ingest, posts.len()),
        ("store ingest, 32 per commit", batched, posts.len()),
    ] {
        println!(
            "{:<28} {:>10.1} {:>12.2}",
            name,
            per(d, count),
            per(d, count) / base
        );
    }
}
