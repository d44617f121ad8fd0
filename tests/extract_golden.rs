//! Golden tests: generated Chinese and English pages, with navigation, share bars, related
//! links, comments and footers around the article, must extract to exactly the article.

mod extract_pages;

use chrono::FixedOffset;
use extract_pages::{article, non_article, NON_ARTICLE_KINDS};
use scraper::Html;
use trawl::extract::generic::{self, NotArticleKind};
use trawl::extract::{Extraction, Extractor};
use trawl::fetch::charset;
use url::Url;

fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

fn run(html: &str, url: &str) -> Extraction {
    let extractor = Extractor {
        rules: vec![None],
        zone: cst(),
    };
    extractor.extract(
        &Html::parse_document(html),
        &Url::parse(url).unwrap(),
        Some(0),
    )
}

#[test]
fn every_template_in_both_languages_yields_exactly_the_article() {
    for zh in [true, false] {
        for template in 0..3 {
            for seed in 0..5 {
                let a = article(seed * 7 + template as u64, zh, template);
                let Extraction::Post(p) = run(&a.html, &a.url) else {
                    panic!("zh={zh} template={template} seed={seed}: not an article");
                };
                let ctx = format!("zh={zh} template={template} seed={seed}");
                assert_eq!(p.body, a.body, "{ctx}");
                assert_eq!(p.title, a.title, "{ctx}");
                assert_eq!(
                    p.published.map(|d| d.to_rfc3339()).as_deref(),
                    Some(a.published.as_str()),
                    "{ctx}"
                );
                assert_eq!(p.source, a.source, "{ctx}");
                assert_eq!(p.author, a.author, "{ctx}");
                assert_eq!(p.extractor, "generic", "{ctx}");
                assert_eq!(
                    p.language.as_deref(),
                    Some(if zh { "zh" } else { "en" }),
                    "{ctx}"
                );
            }
        }
    }
}

#[test]
fn a_gbk_page_is_decoded_as_the_fetcher_decides() {
    let a = article(3, true, 1);
    let html = a.html.replace("<head>", "<head><meta charset=\"gbk\">");
    let (bytes, _, _) = encoding_rs::GBK.encode(&html);
    let decoded = charset::decode(&bytes, None);
    assert_eq!(decoded.encoding, "gb18030");
    let Extraction::Post(p) = run(&decoded.text, &a.url) else {
        panic!("not an article")
    };
    assert_eq!(p.body, a.body);
}

#[test]
fn generated_non_articles_say_what_they_are() {
    for zh in [true, false] {
        for kind in NON_ARTICLE_KINDS {
            for seed in 0..4 {
                let (html, url) = non_article(seed, zh, kind);
                let Extraction::NotArticle(reason) = run(&html, &url) else {
                    panic!("{kind} zh={zh} seed={seed} became a post");
                };
                let got = NotArticleKind::of_reason(&reason).expect("reasons start with a kind");
                let ok = match *kind {
                    "listing" => got.is_hub(),
                    "tag" => got == NotArticleKind::Tag,
                    "category" => got == NotArticleKind::Category,
                    "about" => got == NotArticleKind::About,
                    "contact" => got == NotArticleKind::Contact,
                    _ => got == NotArticleKind::Soft404,
                };
                assert!(ok, "{kind} zh={zh} seed={seed}: {reason}");
            }
        }
    }
}

#[test]
fn the_generic_name_is_recorded() {
    let a = article(1, false, 2);
    let html = Html::parse_document(&a.html);
    let Extraction::Post(p) = generic::extract(&html, &Url::parse(&a.url).unwrap(), cst()) else {
        panic!("not an article")
    };
    assert_eq!(p.extractor, generic::NAME);
}
