//! Stage 4, normalise + fingerprint: a post's body becomes a [`ContentHash`], equal for every
//! faithful mirror copy and different for different articles.
//!
//! The hash is blake3 over the normalised paragraphs joined by `\n`. A body shorter than
//! `min_body_chars` (a one-line flash, an empty template) says too little to identify an
//! article alone, so its key also covers the normalised title and the publication date.
//!
//! Bodies of at least `min_body_chars` also get a [`NearPrint`] (simhash + MinHash, see
//! [`simhash`]) by which revised, trimmed or annotated copies find each other; short bodies
//! get none, so they can never join a record as near-duplicates.

pub mod normalise;
pub mod simhash;

use chrono::FixedOffset;

use crate::model::{ContentHash, Post};
pub use normalise::Normaliser;
pub use simhash::NearPrint;

/// Fingerprinting settings.
#[derive(Clone, Debug)]
pub struct Fingerprinter {
    /// The body normaliser.
    pub normaliser: Normaliser,
    /// Bodies with fewer normalised characters also key on title and date.
    pub min_body_chars: usize,
    /// Zone in which a publication time's calendar date is taken for short-body keys.
    pub zone: FixedOffset,
}

/// A post's identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint {
    /// The exact-identity hash.
    pub hash: ContentHash,
    /// Characters in the normalised body.
    pub normalised_chars: usize,
    /// Whether title and date were part of the key (short body).
    pub short: bool,
    /// Near-duplicate fingerprint; `None` for short bodies, which never join by similarity.
    pub near: Option<NearPrint>,
}

impl Fingerprinter {
    /// Fingerprints a post. An empty normalised body yields `None`: there is nothing to archive.
    pub fn fingerprint(&self, post: &Post) -> Option<Fingerprint> {
        let body = self.normaliser.normalise(&post.body);
        if body.is_empty() {
            return None;
        }
        let normalised_chars: usize = body.iter().map(|p| p.chars().count()).sum();
        let mut hasher = blake3::Hasher::new();
        let short = normalised_chars < self.min_body_chars;
        if short {
            // A distinct prefix keeps short keys apart from any long body's key.
            hasher.update(b"trawl-short-v1\0");
            hasher.update(self.normaliser.title_key(&post.title).as_bytes());
            hasher.update(b"\0");
            if let Some(p) = post.published {
                let date = p.with_timezone(&self.zone).date_naive();
                hasher.update(date.to_string().as_bytes());
            }
            hasher.update(b"\0");
        }
        for (i, p) in body.iter().enumerate() {
            if i > 0 {
                hasher.update(b"\n");
            }
            hasher.update(p.as_bytes());
        }
        let near = if short { None } else { NearPrint::of(&body) };
        Some(Fingerprint {
            hash: ContentHash(*hasher.finalize().as_bytes()),
            normalised_chars,
            short,
            near,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use proptest::prelude::*;

    fn fp() -> Fingerprinter {
        Fingerprinter {
            normaliser: Normaliser::new(true, &[], &[], true).unwrap(),
            min_body_chars: 30,
            zone: FixedOffset::east_opt(8 * 3600).unwrap(),
        }
    }

    fn post(title: &str, body: &[&str]) -> Post {
        Post {
            url: "http://x.test/".into(),
            title: title.into(),
            published: Some(DateTime::parse_from_rfc3339("2022-01-21T09:38:35+08:00").unwrap()),
            source: None,
            author: None,
            body: body.iter().map(|s| s.to_string()).collect(),
            language: None,
            extractor: "test".into(),
        }
    }

    #[test]
    fn short_bodies_key_on_title_too() {
        let a = fp()
            .fingerprint(&post("甲公司发布公告", &["详见公告。"]))
            .unwrap();
        let b = fp()
            .fingerprint(&post("乙公司发布公告", &["详见公告。"]))
            .unwrap();
        assert!(a.short && b.short);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn long_bodies_ignore_title() {
        let body = [
            "这是一段足够长的正文，用来说明标题不参与长正文的指纹计算，无论镜像站如何改写标题。",
        ];
        let a = fp().fingerprint(&post("标题一", &body)).unwrap();
        let b = fp().fingerprint(&post("标题二（转载）", &body)).unwrap();
        assert!(!a.short);
        assert_eq!(a.hash, b.hash);
    }

    #[test]
    fn empty_body_has_no_fingerprint() {
        assert_eq!(
            fp().fingerprint(&post("t", &["（文章来源：某报）", " "])),
            None
        );
    }

    /// Mirror transformations seen in the wild, as the demo network applies them.
    fn full_width(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '!'..='~' if !c.is_ascii_alphabetic() => char::from_u32(c as u32 + 0xFEE0).unwrap(),
                ' ' => '\u{3000}',
                c => c,
            })
            .collect()
    }

    fn text() -> impl Strategy<Value = String> {
        // Mixed CJK, Latin, digits, punctuation and whitespace.
        proptest::string::string_regex(
            "[一-龥a-zA-Z0-9 ,.;:()%“”，。、：（）\u{3000}\t\n\u{200B}]{0,60}",
        )
        .unwrap()
    }

    proptest! {
        #[test]
        fn normalisation_is_idempotent(paras in proptest::collection::vec(text(), 0..6)) {
            let n = fp().normaliser;
            let once = n.normalise(&paras);
            prop_assert_eq!(n.normalise(&once), once.clone());
            for p in &once {
                prop_assert_eq!(n.normalise_text(p), p.clone());
            }
        }

        #[test]
        fn mirror_transformations_keep_the_fingerprint(
            paras in proptest::collection::vec("[一-龥]{5,20}[0-9]{1,4}[，。（）()%,.]{1,3}[a-z ]{0,8}", 3..8),
            source in "[一-龥]{2,6}",
        ) {
            let origin = post("t", &paras.iter().map(String::as_str).collect::<Vec<_>>());
            let mut mirrored: Vec<String> = paras.iter().map(|p| format!("　　{}", full_width(p))).collect();
            mirrored.push(format!("（文章来源：{source}）"));
            mirrored.push("返回财经新闻｜返回首页".into());
            let mirror = Post { body: mirrored, ..origin.clone() };
            let joined = Post { body: vec![paras.join("\n")], ..origin.clone() };
            let a = fp().fingerprint(&origin).unwrap();
            prop_assert_eq!(&a, &fp().fingerprint(&mirror).unwrap());
            prop_assert_eq!(&a, &fp().fingerprint(&joined).unwrap());
        }

        #[test]
        fn different_articles_differ(
            a in proptest::collection::vec("[一-龥a-z0-9]{10,30}", 1..5),
            b in proptest::collection::vec("[一-龥a-z0-9]{10,30}", 1..5),
        ) {
            let fa = fp().fingerprint(&post("t", &a.iter().map(String::as_str).collect::<Vec<_>>())).unwrap();
            let fb = fp().fingerprint(&post("t", &b.iter().map(String::as_str).collect::<Vec<_>>())).unwrap();
            prop_assert_eq!(fa.hash == fb.hash, a == b);
        }
    }
}
