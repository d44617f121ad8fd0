//! Property: whatever bytes arrive, decoding, parsing and extraction return a value (a post or
//! a not-article reason) and never panic; a post's body lines are trimmed and non-empty.

use chrono::FixedOffset;
use proptest::prelude::*;
use trawl::extract::{generic, Extraction};
use trawl::fetch::charset;
use url::Url;

fn check(bytes: &[u8]) {
    let zone = FixedOffset::east_opt(8 * 3600).unwrap();
    let decoded = charset::decode(bytes, None);
    let html = scraper::Html::parse_document(&decoded.text);
    let url = Url::parse("http://fuzz.test/2022/01/21/a.html").unwrap();
    match generic::extract(&html, &url, zone) {
        Extraction::Post(p) => {
            for line in &p.body {
                assert!(!line.is_empty());
                assert_eq!(line.trim(), line);
            }
        }
        Extraction::NotArticle(reason) => assert!(!reason.is_empty()),
    }
}

/// Fragments that exercise the scorer: blocks, links, labels, dates, JSON-LD, classes.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<div class=\"content\">".to_string()),
        Just("<div class=\"comment sidebar\">".to_string()),
        Just("</div>".to_string()),
        Just("<p>".to_string()),
        Just("</p>".to_string()),
        Just("<a href=\"/x\">".to_string()),
        Just("</a>".to_string()),
        Just("<h1>".to_string()),
        Just("<br>".to_string()),
        Just(
            "<script type=\"application/ld+json\">{\"@type\":\"NewsArticle\",\"headline\":"
                .to_string()
        ),
        Just("</script>".to_string()),
        Just("来源：".to_string()),
        Just("2022年01月21日 09:38".to_string()),
        Just("By Jane".to_string()),
        Just("……[详情]".to_string()),
        "[a-zA-Z ,.。，中文字]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_bytes_give_a_value(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        check(&bytes);
    }

    #[test]
    fn any_tag_soup_gives_a_value(parts in proptest::collection::vec(fragment(), 0..200)) {
        check(parts.concat().as_bytes());
    }
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    let page = "<div>".repeat(50_000) + "深层嵌套的正文，仍然可以读取。" + &"</div>".repeat(50_000);
    check(page.as_bytes());
}
