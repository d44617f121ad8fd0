//! Stage 5, dedup/canonicalise: decides what a fingerprinted post means for the archive.
//!
//! Two pure decisions, both run by the single writer inside the store's ingest:
//! - [`best_near`]: among the near-duplicate candidates the store's band index yields for a
//!   new content hash, which record (if any) the post joins. A candidate counts only after an
//!   exact check against [`NearPolicy`]: simhash Hamming distance ≤ `max_distance` **and**
//!   estimated shingle Jaccard ≥ `min_jaccard`.
//! - [`admit`]: given the record the post joins (by exact hash or as a near-duplicate), the
//!   record as it must be stored and the URL's outcome. The canonical copy is re-chosen over
//!   all copies by the configured, deterministic [`CanonicalPolicy`]; the deciding criterion is
//!   recorded, and every switch of the canonical copy is logged on the record.

use chrono::{DateTime, Utc};

use crate::fingerprint::NearPrint;
use crate::model::{
    CanonicalChange, CanonicalReason, ContentHash, Copy, Join, Member, Outcome, Post, Record,
    RecordId, Version,
};

/// One criterion of the canonical policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Criterion {
    /// Rank in `preferred_hosts` (unlisted hosts last).
    PreferredHost,
    /// Longest normalised body.
    MostComplete,
    /// Earliest publication time (none ranks last).
    EarliestPublished,
    /// Seen first.
    EarliestSeen,
    /// Shortest URL, then lexically first; always the final tie-break.
    ShortestUrl,
}

impl Criterion {
    /// Every criterion with its config name, in the default order (DESIGN.md §4).
    pub const ALL: [(Criterion, &'static str); 5] = [
        (Criterion::PreferredHost, "preferred_host"),
        (Criterion::MostComplete, "most_complete"),
        (Criterion::EarliestPublished, "earliest_published"),
        (Criterion::EarliestSeen, "earliest_seen"),
        (Criterion::ShortestUrl, "shortest_url"),
    ];

    /// The criterion a config name stands for.
    pub fn parse(name: &str) -> Option<Criterion> {
        Criterion::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(c, _)| *c)
    }
}

/// How the canonical copy is chosen: the criteria in order, the first that tells two copies
/// apart decides. Deterministic: the shortest-URL rule ends every comparison, and no two
/// copies share a URL.
#[derive(Clone, Debug)]
pub struct CanonicalPolicy {
    /// Hosts in order of preference; unlisted hosts rank after all of them.
    pub preferred_hosts: Vec<String>,
    /// Criteria in order of precedence.
    pub order: Vec<Criterion>,
}

impl Default for CanonicalPolicy {
    fn default() -> Self {
        CanonicalPolicy {
            preferred_hosts: Vec::new(),
            order: Criterion::ALL.iter().map(|(c, _)| *c).collect(),
        }
    }
}

impl CanonicalPolicy {
    fn host_rank(&self, host: &str) -> usize {
        self.preferred_hosts
            .iter()
            .position(|h| crate::scope::host_matches(h, host))
            .unwrap_or(usize::MAX)
    }

    /// Orders two copies (smaller wins) and says which criterion decided.
    fn compare(&self, a: &Copy, b: &Copy) -> (std::cmp::Ordering, CanonicalReason) {
        use std::cmp::Ordering::Equal;
        for criterion in self.order.iter().chain([&Criterion::ShortestUrl]) {
            let (ord, winner_reason): (_, fn(&Copy) -> CanonicalReason) = match criterion {
                Criterion::PreferredHost => {
                    (self.host_rank(&a.host).cmp(&self.host_rank(&b.host)), |w| {
                        CanonicalReason::PreferredHost {
                            host: w.host.clone(),
                        }
                    })
                }
                Criterion::MostComplete => (b.chars.cmp(&a.chars), |w| {
                    CanonicalReason::MostComplete { chars: w.chars }
                }),
                Criterion::EarliestPublished => {
                    // `None` sorts after every time: a copy that gives none never wins on it.
                    let key = |c: &Copy| (c.published.is_none(), c.published);
                    (key(a).cmp(&key(b)), |_| CanonicalReason::EarliestPublished)
                }
                Criterion::EarliestSeen => (a.first_seen.cmp(&b.first_seen), |_| {
                    CanonicalReason::EarliestSeen
                }),
                Criterion::ShortestUrl => {
                    ((a.url.len(), &a.url).cmp(&(b.url.len(), &b.url)), |_| {
                        CanonicalReason::ShortestUrl
                    })
                }
            };
            if ord != Equal {
                let winner = if ord.is_lt() { a } else { b };
                return (ord, winner_reason(winner));
            }
        }
        (Equal, CanonicalReason::ShortestUrl)
    }
}

/// The exact check a near-duplicate candidate must pass to join a record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NearPolicy {
    /// Largest simhash Hamming distance that may join.
    pub max_distance: u32,
    /// Smallest estimated shingle Jaccard similarity that may join.
    pub min_jaccard: f64,
    /// Whether a changed body at a known URL joins the record of the URL's previous version
    /// whatever its similarity (off for sites that reuse URLs for other articles).
    pub join_revisions: bool,
}

impl NearPolicy {
    /// The bounds a candidate must meet for the store to read it.
    pub fn bounds(&self) -> crate::store::NearBounds {
        crate::store::NearBounds {
            max_distance: self.max_distance,
            min_jaccard: self.min_jaccard,
        }
    }
}

impl Default for NearPolicy {
    /// The defaults measured in `tests/neardup_eval.rs` (see ARCHITECTURE.md).
    fn default() -> Self {
        NearPolicy {
            max_distance: 22,
            min_jaccard: 0.5,
            join_revisions: true,
        }
    }
}

/// A stored content hash that shares a band key with the post being admitted.
#[derive(Clone, Debug)]
pub struct NearCandidate {
    /// The stored hash.
    pub hash: ContentHash,
    /// The record it belongs to.
    pub record: RecordId,
    /// Its near-duplicate fingerprint.
    pub print: NearPrint,
}

/// The record a post joins as a near-duplicate, and how.
#[derive(Clone, Debug, PartialEq)]
pub struct NearMatch {
    /// The record.
    pub record: RecordId,
    /// `Join::Near` with the distance and similarity that let it in.
    pub join: Join,
}

/// The record a post with a new content hash joins, if any: the record of the URL's previous
/// version when the URL is known and revisions join (a revision is the same article, however
/// much it changed), else the best near-duplicate candidate (see [`best_near`]).
pub fn best_match(
    candidate: &Candidate,
    previous: Option<&Version>,
    found: &[NearCandidate],
    policy: &NearPolicy,
) -> Option<NearMatch> {
    if let Some(v) = previous.filter(|v| policy.join_revisions && v.hash != candidate.hash) {
        return Some(NearMatch {
            record: v.record,
            join: Join::Revision { previous: v.hash },
        });
    }
    best_near(candidate.near.as_ref()?, found, policy)
}

/// The best candidate that passes the exact check: highest Jaccard, then smallest distance,
/// then smallest hash (so the choice does not depend on index order).
pub fn best_near(
    print: &NearPrint,
    candidates: &[NearCandidate],
    policy: &NearPolicy,
) -> Option<NearMatch> {
    candidates
        .iter()
        .map(|c| (c, print.distance(&c.print), print.jaccard(&c.print)))
        .filter(|(_, d, j)| *d <= policy.max_distance && *j >= policy.min_jaccard)
        .max_by(|(a, da, ja), (b, db, jb)| {
            ja.total_cmp(jb).then(db.cmp(da)).then(b.hash.cmp(&a.hash))
        })
        .map(|(c, distance, jaccard)| NearMatch {
            record: c.record,
            join: Join::Near {
                distance,
                jaccard,
                to: c.hash,
            },
        })
}

/// A fingerprinted post on its way into the archive.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The extracted post.
    pub post: Post,
    /// Normalised URL it came from.
    pub url: String,
    /// Host of `url`.
    pub host: String,
    /// Its content hash.
    pub hash: ContentHash,
    /// When it was fetched.
    pub seen: DateTime<Utc>,
    /// Characters in the normalised body.
    pub chars: usize,
    /// Near-duplicate fingerprint (`None` for short bodies: they never join by similarity).
    pub near: Option<NearPrint>,
}

/// Decides how `candidate` enters the archive, given the record it joins: the one already
/// holding its hash, or the one `near` found (then `existing` is that record).
pub fn admit(
    existing: Option<Record>,
    near: Option<&NearMatch>,
    candidate: &Candidate,
    policy: &CanonicalPolicy,
) -> (Record, Outcome) {
    let copy = Copy {
        url: candidate.url.clone(),
        host: candidate.host.clone(),
        first_seen: candidate.seen,
        hash: candidate.hash,
        chars: candidate.chars,
        published: candidate.post.published,
    };
    let member = |joined| Member {
        hash: candidate.hash,
        joined,
        url: candidate.url.clone(),
        first_seen: candidate.seen,
        chars: candidate.chars,
    };
    let Some(mut record) = existing else {
        let id = RecordId::from_first_hash(&candidate.hash);
        let record = Record {
            id,
            canonical: candidate.post.clone(),
            canonical_host: candidate.host.clone(),
            canonical_reason: CanonicalReason::OnlyCopy,
            members: vec![member(Join::First)],
            copies: vec![copy],
            first_seen: candidate.seen,
            canonical_changes: Vec::new(),
        };
        return (record, Outcome::New { record: id });
    };
    let known = record.members.iter().any(|m| m.hash == candidate.hash);
    let outcome = match near {
        Some(_) if !known => Outcome::NearDuplicate { of: record.id },
        _ => Outcome::Duplicate { of: record.id },
    };
    if !known {
        record
            .members
            .push(member(near.map(|n| n.join.clone()).unwrap_or(Join::Exact)));
    }
    match record.copies.iter_mut().find(|c| c.url == copy.url) {
        Some(c) if c.hash != copy.hash => {
            // A revision at a known URL: the copy now shows its latest text (the old version
            // stays a member and in the URL's history), and so does the record if it is the
            // canonical copy.
            c.hash = copy.hash;
            c.chars = copy.chars;
            c.published = copy.published;
            if record.canonical.url == copy.url {
                record.canonical = candidate.post.clone();
            }
        }
        Some(_) => {}
        None => record.copies.push(copy),
    }
    let (winner, reason) = choose(&record.copies, policy);
    let winner_url = &record.copies[winner].url;
    if *winner_url == record.canonical.url {
        record.canonical_reason = reason;
    } else if *winner_url == candidate.url {
        tracing::debug!(
            record = %record.id,
            from = %record.canonical.url,
            to = %candidate.url,
            %reason,
            "canonical copy switched"
        );
        record.canonical_changes.push(CanonicalChange {
            at: candidate.seen,
            from: record.canonical.url.clone(),
            to: candidate.url.clone(),
            reason: reason.clone(),
        });
        record.canonical = candidate.post.clone();
        record.canonical_host = candidate.host.clone();
        record.canonical_reason = reason;
    }
    // Otherwise another stored copy now ranks first (the canonical one was revised to a
    // shorter text, say); only the canonical post is kept, so the switch waits until that
    // copy is fetched again and its post is at hand.
    (record, outcome)
}

/// Index of the winning copy and the criterion that set it apart from the runner-up.
fn choose(copies: &[Copy], policy: &CanonicalPolicy) -> (usize, CanonicalReason) {
    let mut order: Vec<usize> = (0..copies.len()).collect();
    order.sort_by(|&a, &b| policy.compare(&copies[a], &copies[b]).0);
    match order.as_slice() {
        [] | [_] => (0, CanonicalReason::OnlyCopy),
        [w, r, ..] => (*w, policy.compare(&copies[*w], &copies[*r]).1),
    }
}

/// A one-paragraph candidate for tests: `url` on `host`, every byte of its hash `hash`.
#[cfg(test)]
pub(crate) fn test_candidate(url: &str, host: &str, hash: u8) -> Candidate {
    Candidate {
        post: Post {
            url: url.into(),
            title: "t".into(),
            published: None,
            source: None,
            author: None,
            body: vec!["b".into()],
            language: None,
            extractor: "x".into(),
        },
        url: url.into(),
        host: host.into(),
        hash: ContentHash([hash; 32]),
        seen: Utc::now(),
        chars: 1,
        near: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cand(url: &str, host: &str, secs: i64) -> Candidate {
        let mut c = test_candidate(url, host, 7);
        c.post.extractor = host.into();
        c.seen = Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap();
        c.chars = 100;
        c
    }

    fn policy() -> CanonicalPolicy {
        CanonicalPolicy {
            preferred_hosts: vec!["origin.test".into()],
            ..Default::default()
        }
    }

    #[test]
    fn first_copy_creates_a_record_with_a_stable_id() {
        let c = cand("http://m.test/1", "m.test", 0);
        let (r, o) = admit(None, None, &c, &policy());
        assert_eq!(r.id, RecordId::from_first_hash(&c.hash));
        assert_eq!(o, Outcome::New { record: r.id });
        assert_eq!(r.canonical_reason, CanonicalReason::OnlyCopy);
    }

    #[test]
    fn origin_arriving_after_a_mirror_becomes_canonical() {
        let (r, _) = admit(None, None, &cand("http://m.test/1", "m.test", 0), &policy());
        let id = r.id;
        let (r, o) = admit(
            Some(r),
            None,
            &cand("http://origin.test/a", "origin.test", 5),
            &policy(),
        );
        assert_eq!(o, Outcome::Duplicate { of: id });
        assert_eq!(r.id, id, "record ids never change");
        assert_eq!(r.canonical.url, "http://origin.test/a");
        assert_eq!(
            r.canonical_reason,
            CanonicalReason::PreferredHost {
                host: "origin.test".into()
            }
        );
        // A later mirror does not displace the origin.
        let (r, _) = admit(
            Some(r),
            None,
            &cand("http://b.test/1", "b.test", 9),
            &policy(),
        );
        assert_eq!(r.canonical_host, "origin.test");
        assert_eq!(r.copies.len(), 3);
    }

    #[test]
    fn without_preferred_hosts_the_earliest_seen_wins() {
        let (r, _) = admit(None, None, &cand("http://a.test/1", "a.test", 0), &policy());
        let (r, _) = admit(
            Some(r),
            None,
            &cand("http://b.test/1", "b.test", 1),
            &policy(),
        );
        assert_eq!(r.canonical_host, "a.test");
        assert_eq!(r.canonical_reason, CanonicalReason::EarliestSeen);
    }

    #[test]
    fn refetching_a_known_url_adds_no_copy() {
        let c = cand("http://a.test/1", "a.test", 0);
        let (r, _) = admit(None, None, &c, &policy());
        let (r, o) = admit(
            Some(r),
            None,
            &cand("http://a.test/1", "a.test", 100),
            &policy(),
        );
        assert_eq!(r.copies.len(), 1);
        assert!(matches!(o, Outcome::Duplicate { .. }));
    }

    #[test]
    fn the_switch_is_logged_and_the_old_copy_stays() {
        let (r, _) = admit(None, None, &cand("http://m.test/1", "m.test", 0), &policy());
        let (r, _) = admit(
            Some(r),
            None,
            &cand("http://origin.test/a", "origin.test", 5),
            &policy(),
        );
        assert_eq!(r.canonical_changes.len(), 1);
        let change = &r.canonical_changes[0];
        assert_eq!(
            (change.from.as_str(), change.to.as_str()),
            ("http://m.test/1", "http://origin.test/a")
        );
        assert!(r.copies.iter().any(|c| c.url == "http://m.test/1"));
    }

    #[test]
    fn criteria_apply_in_the_configured_order() {
        let mut long = cand("http://b.test/long-url", "b.test", 5);
        long.chars = 200;
        long.hash = ContentHash([8; 32]);
        let early = cand("http://a.test/1", "a.test", 0);
        // Default order: most complete beats earliest seen.
        let (r, _) = admit(None, None, &early, &policy());
        let near = NearMatch {
            record: r.id,
            join: Join::Near {
                distance: 4,
                jaccard: 0.8,
                to: early.hash,
            },
        };
        let (r2, o) = admit(Some(r.clone()), Some(&near), &long, &policy());
        assert_eq!(o, Outcome::NearDuplicate { of: r.id });
        assert_eq!(r2.canonical.url, long.url);
        assert_eq!(
            r2.canonical_reason,
            CanonicalReason::MostComplete { chars: 200 }
        );
        assert_eq!(r2.members[1].joined, near.join);
        // With earliest seen first, the first copy keeps it.
        let seen_first = CanonicalPolicy {
            order: vec![Criterion::EarliestSeen, Criterion::MostComplete],
            ..policy()
        };
        let (r3, _) = admit(Some(r), Some(&near), &long, &seen_first);
        assert_eq!(r3.canonical.url, early.url);
        assert_eq!(r3.canonical_reason, CanonicalReason::EarliestSeen);
        assert!(r3.canonical_changes.is_empty());
    }

    #[test]
    fn earliest_published_ranks_missing_times_last() {
        let mut dated = cand("http://b.test/1", "b.test", 5);
        dated.post.published =
            chrono::DateTime::parse_from_rfc3339("2022-01-21T09:00:00+08:00").ok();
        let order = CanonicalPolicy {
            order: vec![Criterion::EarliestPublished],
            ..Default::default()
        };
        let (r, _) = admit(None, None, &cand("http://a.test/1", "a.test", 0), &order);
        let (r, _) = admit(Some(r), None, &dated, &order);
        assert_eq!(r.canonical.url, dated.url);
        assert_eq!(r.canonical_reason, CanonicalReason::EarliestPublished);
    }

    #[test]
    fn a_revision_at_a_known_url_updates_the_copy_and_keeps_the_old_hash() {
        let first = cand("http://a.test/1", "a.test", 0);
        let (r, _) = admit(None, None, &first, &policy());
        let mut revised = cand("http://a.test/1", "a.test", 50);
        revised.hash = ContentHash([9; 32]);
        revised.post.body = vec!["revised".into()];
        let near = NearMatch {
            record: r.id,
            join: Join::Near {
                distance: 2,
                jaccard: 0.9,
                to: first.hash,
            },
        };
        let (r, o) = admit(Some(r), Some(&near), &revised, &policy());
        assert_eq!(o, Outcome::NearDuplicate { of: r.id });
        assert_eq!(r.members.len(), 2);
        assert_eq!(r.copies.len(), 1);
        assert_eq!(r.copies[0].hash, revised.hash);
        assert_eq!(r.canonical.body, vec!["revised".to_string()]);
    }

    #[test]
    fn best_near_applies_both_thresholds_and_prefers_the_most_similar() {
        let paras = |extra: &str| {
            vec![
                "华信科技今日发布公告称，公司前三季度实现营业收入12.5亿元，同比增长23.4%。"
                    .to_string(),
                "公司表示，营收增长主要受益于新能源汽车业务的快速放量，以及海外订单的持续增加。"
                    .to_string(),
                extra.to_string(),
            ]
        };
        let print = NearPrint::of(&paras("风险提示：原材料价格波动。")).unwrap();
        let close =
            NearPrint::of(&paras("风险提示：原材料价格波动。编者注：数据已更正。")).unwrap();
        let far = NearPrint::of(&["北向资金今日净流入30亿元，其中沪股通净流入12亿元。"]).unwrap();
        let cands = vec![
            NearCandidate {
                hash: ContentHash([1; 32]),
                record: RecordId([1; 16]),
                print: far,
            },
            NearCandidate {
                hash: ContentHash([2; 32]),
                record: RecordId([2; 16]),
                print: close,
            },
        ];
        let m = best_near(&print, &cands, &NearPolicy::default()).unwrap();
        assert_eq!(m.record, RecordId([2; 16]));
        let strict = NearPolicy {
            max_distance: 0,
            ..NearPolicy::default()
        };
        assert_eq!(best_near(&print, &cands, &strict), None);
    }
}
