//! "Is it an article at all?", measured: the dev articles and generated articles must be
//! accepted; generated listings, tag and category pages, about/contact pages and soft 404s
//! must be rejected. Prints the confusion counts (run with `--nocapture` to see them).

mod common;
mod extract_pages;

use chrono::FixedOffset;
use extract_pages::{article, non_article, NON_ARTICLE_KINDS};
use trawl::extract::{generic, Extraction};
use trawl::fetch::charset;
use url::Url;

fn is_article(html: &str, url: &Url) -> Result<(), String> {
    let zone = FixedOffset::east_opt(8 * 3600).unwrap();
    match generic::extract(&scraper::Html::parse_document(html), url, zone) {
        Extraction::Post(_) => Ok(()),
        Extraction::NotArticle(reason) => Err(reason),
    }
}

#[test]
fn articles_are_accepted_and_non_articles_rejected() {
    let (mut articles, mut wrongly_rejected) = (0, Vec::new());
    let (mut others, mut wrongly_accepted) = (0, Vec::new());
    for zh in [true, false] {
        for seed in 0..30u64 {
            let a = article(1000 + seed, zh, (seed % 3) as usize);
            articles += 1;
            if let Err(r) = is_article(&a.html, &Url::parse(&a.url).unwrap()) {
                wrongly_rejected.push(format!("generated {}: {r}", a.url));
            }
            for kind in NON_ARTICLE_KINDS {
                let (html, url) = non_article(seed, zh, kind);
                others += 1;
                if is_article(&html, &Url::parse(&url).unwrap()).is_ok() {
                    wrongly_accepted.push(format!("{kind} zh={zh} seed={seed} {url}"));
                }
            }
        }
    }
    if let Some(root) = common::shared("daniel-dev") {
        for lang in ["zh", "en"] {
            for e in std::fs::read_dir(root.join(lang).join("html")).unwrap() {
                let path = e.unwrap().path();
                let bytes = std::fs::read(&path).unwrap();
                let text = charset::decode(&bytes, None).text;
                articles += 1;
                if let Err(r) = is_article(&text, &Url::from_file_path(&path).unwrap()) {
                    wrongly_rejected.push(format!("{}: {r}", path.display()));
                }
            }
        }
    }
    eprintln!(
        "articles: {articles}, wrongly rejected: {}; non-articles: {others}, wrongly accepted: {}",
        wrongly_rejected.len(),
        wrongly_accepted.len()
    );
    assert!(
        wrongly_rejected.is_empty(),
        "wrongly rejected: {wrongly_rejected:#?}"
    );
    assert!(
        wrongly_accepted.is_empty(),
        "wrongly accepted: {wrongly_accepted:#?}"
    );
}
