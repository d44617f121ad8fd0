//! Throughput of the generic extractor on the dev pages (`../shared/corpus/daniel-dev`), one
//! thread, in process: extraction alone on the parsed DOM (what the crawl adds to its single
//! parse), and the whole offline path (decode + parse + extract) for comparison.
//!
//! Run: `cargo bench --bench extract` (release build). Prints pages/s and MB/s of HTML for
//! each; skips with a notice when the shared corpus is absent.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use chrono::FixedOffset;
use trawl::extract::{generic, Extraction};
use trawl::fetch::charset;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/daniel-dev");
    if !root.exists() {
        eprintln!("SKIPPED: {} not found", root.display());
        return;
    }
    let mut pages: Vec<(url::Url, Vec<u8>)> = Vec::new();
    for lang in ["zh", "en"] {
        let dir = root.join(lang).join("html");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).expect("dev page is readable");
            let url = url::Url::from_file_path(&f).expect("absolute path");
            pages.push((url, bytes));
        }
    }
    let bytes: usize = pages.iter().map(|(_, b)| b.len()).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "{} pages, {:.1} MB ({:.1} KiB mean)",
        pages.len(),
        mb,
        bytes as f64 / pages.len() as f64 / 1024.0
    );
    let zone = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
    let docs: Vec<(url::Url, scraper::Html)> = pages
        .iter()
        .map(|(u, b)| {
            let d = charset::decode(b, None);
            (u.clone(), scraper::Html::parse_document(&d.text))
        })
        .collect();

    // Warm up once, then time several rounds.
    let rounds = 5;
    let mut posts = 0;
    for (u, h) in &docs {
        if matches!(generic::extract(h, u, zone), Extraction::Post(_)) {
            posts += 1;
        }
    }
    let t = Instant::now();
    for _ in 0..rounds {
        for (u, h) in &docs {
            black_box(generic::extract(black_box(h), u, zone));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let n = (docs.len() * rounds) as f64;
    println!(
        "extract (on the parsed DOM): {:>8.0} pages/s {:>7.1} MB/s  ({posts} posts)",
        n / secs,
        mb * rounds as f64 / secs
    );

    let t = Instant::now();
    for _ in 0..rounds {
        for (u, b) in &pages {
            let d = charset::decode(b, None);
            let h = scraper::Html::parse_document(&d.text);
            black_box(generic::extract(&h, u, zone));
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "decode + parse + extract:    {:>8.0} pages/s {:>7.1} MB/s",
        n / secs,
        mb * rounds as f64 / secs
    );
}
