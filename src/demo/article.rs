//! Synthetic news articles: the ground truth that the demo mirrors render.
//!
//! `generate` is a pure function of `(seed, n)`: it uses its own integer-only PRNG so the
//! same arguments give identical articles on every platform, which lets tests compare what
//! the crawler stored against what the network served.

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};

use super::rng::{mix64, SplitMix64};
use super::text;

/// China Standard Time, the zone every demo timestamp is written in.
pub(crate) const BEIJING: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time, so a bad constant is a build error, never a runtime panic.
    None => panic!("+08:00 is a valid UTC offset"),
};

/// 2022-01-18 08:00:00 +08:00, the first publication time.
const START: DateTime<Utc> = match DateTime::from_timestamp(1_642_464_000, 0) {
    Some(start) => start,
    None => panic!("2022-01-18T00:00:00Z is representable"),
};

/// Articles are spread over this many seconds after `START` (five days).
const SPAN_SECS: u64 = 5 * 86_400;

/// Salt that separates the per-article streams from other uses of the same seed.
const ARTICLE_SALT: u64 = 0x6172_7469_636c_6573; // "articles"

/// The language an article is written in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Simplified Chinese (GBK-encodable).
    Zh,
    /// English (ASCII only).
    En,
}

/// One synthetic news article, independent of how any mirror renders it.
#[derive(Clone, Debug, PartialEq)]
pub struct Article {
    /// `"NW"` + publication date `yyyymmdd` + zero-padded serial (six digits for the first
    /// 999,999 articles), e.g. `"NW20220121000123"`. Unique within one `generate` call; it
    /// contains only ASCII letters and digits, so it can be put in a URL as is.
    pub id: String,
    /// Headline, without site decoration.
    pub title: String,
    /// Publication time in +08:00, whole seconds.
    pub published: DateTime<FixedOffset>,
    /// Made-up media name, e.g. `"演示日报"` or `"Demo Wire"`.
    pub source: String,
    /// ASCII category slug: `companies`, `markets`, `macro`, `tech` or `energy`.
    pub category: String,
    /// Language of the title and body.
    pub lang: Lang,
    /// 3..=12 paragraphs: non-empty, trimmed, without newlines, and never starting like the
    /// boilerplate lines mirrors add (`来源`, `返回`, `编辑`, `Source:`, `http`, …).
    pub paragraphs: Vec<String>,
}

/// Generates `n` articles from `seed`, ordered by serial and publication time.
///
/// Deterministic: the same `(seed, n)` gives identical output on every platform. Article `i`'s
/// text depends only on `(seed, i)`; its timestamp also depends on `n`, because the `n`
/// articles are spread evenly (with jitter) over five days from 2022-01-18 08:00 +08:00.
/// Times never decrease with the serial and strictly increase while `n` ≤ 432,000.
/// About two thirds of the articles are Chinese and one third English.
pub fn generate(seed: u64, n: usize) -> Vec<Article> {
    (0..n).map(|i| article(seed, i, n)).collect()
}

/// Builds article `i` of `n`.
fn article(seed: u64, i: usize, n: usize) -> Article {
    let mut rng = SplitMix64::new(mix64(seed ^ ARTICLE_SALT).wrapping_add(mix64(i as u64)));
    let published = published_at(&mut rng, i, n);
    let lang = if rng.below(3) < 2 { Lang::Zh } else { Lang::En };
    let composed = text::compose(&mut rng, &lang, &published);
    Article {
        id: format!("NW{}{:06}", published.format("%Y%m%d"), i + 1),
        title: composed.title,
        published,
        source: composed.source.to_string(),
        category: composed.category.to_string(),
        lang,
        paragraphs: composed.paragraphs,
    }
}

/// Article `i` gets a random second inside its own slot `[i·span/n, (i+1)·span/n)`; the slots
/// do not overlap, which is what makes the times increase with the serial.
fn published_at(rng: &mut SplitMix64, i: usize, n: usize) -> DateTime<FixedOffset> {
    let slot_start = |k: usize| -> u64 {
        // u128 so that `k * SPAN_SECS` cannot overflow for any `usize`.
        (u128::from(SPAN_SECS) * k as u128 / (n.max(1) as u128)) as u64
    };
    let (from, to) = (slot_start(i), slot_start(i + 1));
    let offset = from + rng.below(to - from);
    // `offset` < SPAN_SECS, so the cast and the addition stay far from any limit.
    (START + TimeDelta::seconds(offset as i64)).with_timezone(&BEIJING)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Line starts that the crawler's normaliser treats as boilerplate.
    const BOILERPLATE: [&str; 8] = [
        "来源",
        "（文章来源",
        "返回",
        "责任编辑",
        "编辑",
        "Source:",
        "http",
        "<http",
    ];

    #[test]
    fn same_seed_same_articles_different_seed_different() {
        let a = generate(7, 300);
        let b = generate(7, 300);
        assert_eq!(a, b);
        let c = generate(8, 300);
        assert_eq!(c.len(), 300);
        let differing = a.iter().zip(&c).filter(|(x, y)| x != y).count();
        assert!(differing > 290, "only {differing} of 300 articles differ");
    }

    /// A stable rendering of the articles (independent of `Debug` formats of dependencies).
    fn fingerprint(articles: &[Article]) -> String {
        let mut hasher = blake3::Hasher::new();
        for a in articles {
            let lang = match a.lang {
                Lang::Zh => "zh",
                Lang::En => "en",
            };
            let fields = [
                a.id.as_str(),
                a.title.as_str(),
                &a.published.to_rfc3339(),
                a.source.as_str(),
                a.category.as_str(),
                lang,
                &a.paragraphs.join("\n"),
            ];
            for field in fields {
                hasher.update(field.as_bytes());
                hasher.update(b"\0");
            }
        }
        hasher.finalize().to_hex().to_string()
    }

    #[test]
    fn output_is_pinned_across_platforms() {
        // A golden value: a change here means the generator changed (or is platform
        // dependent), and every fixture derived from a seed changes with it.
        let articles = generate(1, 3);
        assert_eq!(articles[0].id, "NW20220118000001");
        assert_eq!(
            articles[0].published.to_rfc3339(),
            "2022-01-18T12:13:30+08:00"
        );
        assert_eq!(
            fingerprint(&articles),
            "78ac35d7370f378098957b66ae71c5f96350c5c61c0ed4e62aa238df515d84f9"
        );
    }

    #[test]
    fn ids_are_unique_and_well_formed() {
        let articles = generate(11, 2_000);
        let mut seen = HashSet::new();
        for (i, a) in articles.iter().enumerate() {
            assert_eq!(a.id.len(), 16, "{}", a.id);
            assert!(a.id.starts_with("NW"));
            assert!(a.id[2..].bytes().all(|b| b.is_ascii_digit()), "{}", a.id);
            assert_eq!(&a.id[2..10], a.published.format("%Y%m%d").to_string());
            assert_eq!(a.id[10..].parse::<usize>().ok(), Some(i + 1));
            assert!(seen.insert(a.id.clone()), "duplicate id {}", a.id);
        }
    }

    #[test]
    fn times_increase_and_span_five_days() {
        let articles = generate(3, 2_000);
        for pair in articles.windows(2) {
            assert!(pair[0].published < pair[1].published);
        }
        let first = articles[0].published;
        let last = articles[articles.len() - 1].published;
        assert_eq!(first.offset().local_minus_utc(), 8 * 3600);
        assert_eq!(first.format("%Y-%m-%d %H").to_string(), "2022-01-18 08");
        let span = last - first;
        assert!(
            span > TimeDelta::days(4) && span < TimeDelta::days(5),
            "{span}"
        );
        assert!(articles
            .iter()
            .all(|a| a.published.timestamp_subsec_nanos() == 0));
    }

    #[test]
    fn bodies_are_distinct_and_titles_mostly_distinct() {
        // The size the crawler's large end-to-end runs use.
        let articles = generate(5, 20_000);
        let bodies: HashSet<_> = articles.iter().map(|a| a.paragraphs.clone()).collect();
        assert_eq!(bodies.len(), articles.len());
        let titles: HashSet<_> = articles.iter().map(|a| a.title.clone()).collect();
        assert!(
            titles.len() * 100 >= articles.len() * 98,
            "{} titles",
            titles.len()
        );
    }

    #[test]
    fn paragraphs_are_clean_and_language_mix_is_right() {
        let articles = generate(9, 3_000);
        let zh = articles.iter().filter(|a| a.lang == Lang::Zh).count();
        assert!(
            (1_850..=2_150).contains(&zh),
            "{zh} Chinese articles of 3000"
        );
        for a in &articles {
            assert!((3..=12).contains(&a.paragraphs.len()));
            assert!(!a.title.is_empty() && !a.source.is_empty());
            assert!(a.category.bytes().all(|b| b.is_ascii_lowercase()));
            for p in &a.paragraphs {
                assert!(!p.is_empty());
                assert_eq!(p.trim(), p);
                assert!(!p.contains('\n') && !p.contains('\r'));
                for bad in BOILERPLATE {
                    assert!(!p.starts_with(bad), "{p}");
                }
            }
            match a.lang {
                Lang::En => {
                    assert!(a.title.is_ascii());
                    assert!(a.paragraphs.iter().all(|p| p.is_ascii()));
                }
                Lang::Zh => {
                    let body = a.paragraphs.concat();
                    assert!(body.contains('，') && body.contains('。'));
                    assert!(body.bytes().any(|b| b.is_ascii_digit()));
                    assert!(body.contains('%'));
                }
            }
        }
    }

    #[test]
    fn sources_come_from_small_pools() {
        let articles = generate(2, 3_000);
        let zh: HashSet<_> = articles
            .iter()
            .filter(|a| a.lang == Lang::Zh)
            .map(|a| a.source.as_str())
            .collect();
        let en: HashSet<_> = articles
            .iter()
            .filter(|a| a.lang == Lang::En)
            .map(|a| a.source.as_str())
            .collect();
        assert_eq!(zh.len(), 8);
        assert_eq!(en.len(), 5);
    }

    #[test]
    fn chinese_text_is_gbk_encodable() {
        for a in generate(13, 3_000) {
            let text = format!("{}\n{}\n{}", a.title, a.source, a.paragraphs.join("\n"));
            let (bytes, _, had_errors) = encoding_rs::GBK.encode(&text);
            assert!(!had_errors, "unmappable character in {text}");
            let (back, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
            assert!(!had_errors);
            assert_eq!(back, text);
        }
    }

    #[test]
    fn tiny_and_empty_networks_work() {
        assert!(generate(1, 0).is_empty());
        let one = generate(1, 1);
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].id[10..].to_string(), "000001");
    }
}
