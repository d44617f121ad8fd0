//! Stage 5, dedup/canonicalise: decides what a fingerprinted post means for the archive.
//!
//! Given the record that already holds the post's content hash (if any), [`admit`] returns the
//! record as it must be stored and the URL's outcome: a new record, or a copy joining an
//! existing one, in which case the canonical copy is re-chosen over all copies by the
//! configured deterministic policy and the deciding criterion is recorded. Pure: the store runs
//! it inside the transaction that writes its result.

use chrono::{DateTime, Utc};

use crate::model::{
    CanonicalReason, ContentHash, Copy, Join, Member, Outcome, Post, Record, RecordId,
};

/// How the canonical copy is chosen: preferred hosts first (the origin), then the earliest
/// seen, then the shortest URL.
#[derive(Clone, Debug, Default)]
pub struct CanonicalPolicy {
    /// Hosts in order of preference; unlisted hosts rank after all of them.
    pub preferred_hosts: Vec<String>,
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
        let by_host = self.host_rank(&a.host).cmp(&self.host_rank(&b.host));
        if by_host != Equal {
            let winner = if by_host.is_lt() { a } else { b };
            return (
                by_host,
                CanonicalReason::PreferredHost {
                    host: winner.host.clone(),
                },
            );
        }
        let by_seen = a.first_seen.cmp(&b.first_seen);
        if by_seen != Equal {
            return (by_seen, CanonicalReason::EarliestSeen);
        }
        let by_url = (a.url.len(), &a.url).cmp(&(b.url.len(), &b.url));
        (by_url, CanonicalReason::ShortestUrl)
    }
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
}

/// Decides how `candidate` enters the archive, given the record already holding its hash.
pub fn admit(
    existing: Option<Record>,
    candidate: &Candidate,
    policy: &CanonicalPolicy,
) -> (Record, Outcome) {
    let copy = Copy {
        url: candidate.url.clone(),
        host: candidate.host.clone(),
        first_seen: candidate.seen,
        hash: candidate.hash,
    };
    let Some(mut record) = existing else {
        let id = RecordId::from_first_hash(&candidate.hash);
        let record = Record {
            id,
            canonical: candidate.post.clone(),
            canonical_host: candidate.host.clone(),
            canonical_reason: CanonicalReason::OnlyCopy,
            members: vec![Member {
                hash: candidate.hash,
                joined: Join::First,
            }],
            copies: vec![copy],
            first_seen: candidate.seen,
        };
        return (record, Outcome::New { record: id });
    };
    let outcome = Outcome::Duplicate { of: record.id };
    if !record.members.iter().any(|m| m.hash == candidate.hash) {
        record.members.push(Member {
            hash: candidate.hash,
            joined: Join::Exact,
        });
    }
    if record.copies.iter().any(|c| c.url == copy.url) {
        // A re-fetch of a URL already among the copies changes nothing about the choice.
        return (record, outcome);
    }
    record.copies.push(copy);
    let (winner, reason) = choose(&record.copies, policy);
    if record.copies[winner].url == candidate.url {
        tracing::debug!(
            record = %record.id,
            from = %record.canonical.url,
            to = %candidate.url,
            %reason,
            "canonical copy switched"
        );
        record.canonical = candidate.post.clone();
        record.canonical_host = candidate.host.clone();
    }
    record.canonical_reason = reason;
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn cand(url: &str, host: &str, secs: i64) -> Candidate {
        Candidate {
            post: Post {
                url: url.into(),
                title: "t".into(),
                published: None,
                source: None,
                author: None,
                body: vec!["b".into()],
                language: None,
                extractor: host.into(),
            },
            url: url.into(),
            host: host.into(),
            hash: ContentHash([7; 32]),
            seen: Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap(),
        }
    }

    fn policy() -> CanonicalPolicy {
        CanonicalPolicy {
            preferred_hosts: vec!["origin.test".into()],
        }
    }

    #[test]
    fn first_copy_creates_a_record_with_a_stable_id() {
        let c = cand("http://m.test/1", "m.test", 0);
        let (r, o) = admit(None, &c, &policy());
        assert_eq!(r.id, RecordId::from_first_hash(&c.hash));
        assert_eq!(o, Outcome::New { record: r.id });
        assert_eq!(r.canonical_reason, CanonicalReason::OnlyCopy);
    }

    #[test]
    fn origin_arriving_after_a_mirror_becomes_canonical() {
        let (r, _) = admit(None, &cand("http://m.test/1", "m.test", 0), &policy());
        let id = r.id;
        let (r, o) = admit(
            Some(r),
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
        let (r, _) = admit(Some(r), &cand("http://b.test/1", "b.test", 9), &policy());
        assert_eq!(r.canonical_host, "origin.test");
        assert_eq!(r.copies.len(), 3);
    }

    #[test]
    fn without_preferred_hosts_the_earliest_seen_wins() {
        let (r, _) = admit(None, &cand("http://a.test/1", "a.test", 0), &policy());
        let (r, _) = admit(Some(r), &cand("http://b.test/1", "b.test", 1), &policy());
        assert_eq!(r.canonical_host, "a.test");
        assert_eq!(r.canonical_reason, CanonicalReason::EarliestSeen);
    }

    #[test]
    fn refetching_a_known_url_adds_no_copy() {
        let c = cand("http://a.test/1", "a.test", 0);
        let (r, _) = admit(None, &c, &policy());
        let (r, o) = admit(Some(r), &cand("http://a.test/1", "a.test", 100), &policy());
        assert_eq!(r.copies.len(), 1);
        assert!(matches!(o, Outcome::Duplicate { .. }));
    }
}
