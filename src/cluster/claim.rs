//! One identity for one article across workers: before a worker archives a post, it claims
//! the post's content hash in Redis, where the cluster-wide dedup index lives.
//!
//! Keys (prefix `trawl:d:`, across runs like a store's hash index): `hash` (content hash →
//! record id), `print` (content hash → near-duplicate print), `bands` (band key → entry
//! count ‖ the first 64 entries: hash ‖ record ‖ simhash, oldest first) and `url` (URL → its
//! last hash ‖ record).
//!
//! [`scripts::CLAIM`] answers at once when the hash is known, or when nothing could make the
//! post join another record (no band entries, no revision): then it creates the record under
//! `RecordId::from_first_hash`. Otherwise the worker runs the same pure decision as a single
//! process (`dedup::best_near`, or a revision of the URL's last version) on what Redis
//! returned, and commits it with [`scripts::COMMIT`], which refuses if a band grew meanwhile
//! (optimistic concurrency): two workers that fetch two mirrors of one article at the same
//! moment therefore serialise in Redis, and the second joins the first's record.
//!
//! The worker's store then ingests the post with the cluster's answer in place of its own
//! lookups ([`Claims::ingest_batch`]); a record created on another worker appears in this store as
//! a record with the same id holding only this worker's copies, which `trawl merge` unions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use redis::Value;

use super::{dedup_prefix, lock, scripts, ClusterError, Conn, Shared};
use crate::config::Settings;
use crate::dedup::{self, Candidate, NearCandidate, NearMatch, NearPolicy};
use crate::fingerprint::NearPrint;
use crate::model::{ContentHash, Join, Outcome, Record, RecordId};
use crate::store::{Ingest, Store};

/// What the cluster decided for a content hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    /// The record the post belongs to.
    pub record: RecordId,
    /// How the hash joined that record; `None` when this hash created it.
    pub join: Option<Join>,
}

/// A claim client (one connection; used by a crawl's writer thread).
#[derive(Debug)]
pub struct Claims {
    conn: Conn,
    prefix: String,
    /// Claims that had to be decided again because another worker changed a band meanwhile.
    pub conflicts: u64,
    /// Hashes this client has claimed, with their records. A worker's claims answered from
    /// here skip a round trip: Redis never changes a hash's record once set, so it would
    /// answer `known` with the same id.
    known: KnownHashes,
    /// Where an answer from [`Claims::known`] leaves the URL → last version update that
    /// `CLAIM` would have made: the frontier sends it with its next report, at the latest with
    /// the page's done mark (a page not reported is fetched and claimed again). `None` for a
    /// standalone client, which always asks Redis.
    deferred: Option<Arc<Mutex<Shared>>>,
}

/// Hash → record of recent claims, bounded: two generations of at most [`KnownHashes::CAP`]
/// entries each; when the young one fills, it becomes the old one and the oldest is dropped.
/// Mirror copies of an article arrive close together, so recent claims are the useful ones.
#[derive(Debug, Default)]
struct KnownHashes {
    young: HashMap<ContentHash, RecordId>,
    old: HashMap<ContentHash, RecordId>,
}

impl KnownHashes {
    /// Entries per generation (about 5 MiB for both).
    const CAP: usize = 32_768;

    fn get(&self, hash: &ContentHash) -> Option<RecordId> {
        self.young.get(hash).or_else(|| self.old.get(hash)).copied()
    }

    fn insert(&mut self, hash: ContentHash, record: RecordId) {
        if self.young.len() >= Self::CAP {
            self.old = std::mem::take(&mut self.young);
        }
        self.young.insert(hash, record);
    }
}

fn bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn record_id(v: Option<&Value>) -> Option<RecordId> {
    v.and_then(bytes)
        .and_then(|b| <[u8; 16]>::try_from(b).ok())
        .map(RecordId)
}

/// What `CLAIM` returned when the worker must decide.
struct Check {
    previous: Option<(ContentHash, RecordId)>,
    lens: Vec<i64>,
    candidates: Vec<NearCandidate>,
}

fn parse_check(items: &[Value], max_distance: u32, print: Option<&NearPrint>) -> Option<Check> {
    let previous = items.get(1).and_then(bytes).and_then(|b| {
        let hash = <[u8; 32]>::try_from(b.get(..32)?).ok()?;
        let record = <[u8; 16]>::try_from(b.get(32..48)?).ok()?;
        Some((ContentHash(hash), RecordId(record)))
    });
    let Some(Value::Array(lens)) = items.get(2) else {
        return None;
    };
    let lens = lens
        .iter()
        .map(|v| match v {
            Value::Int(n) => Some(*n),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()?;
    let Some(Value::Array(entries)) = items.get(3) else {
        return None;
    };
    let Some(Value::Array(prints)) = items.get(4) else {
        return None;
    };
    let mut candidates = Vec::new();
    if let Some(print) = print {
        let mut seen: Vec<[u8; 32]> = Vec::new();
        // Each element is one band's entries end to end.
        let entries = entries
            .iter()
            .filter_map(bytes)
            .flat_map(|band| band.chunks_exact(56));
        for e in entries {
            let (Ok(hash), Ok(record), Ok(simhash)) = (
                <[u8; 32]>::try_from(&e[..32]),
                <[u8; 16]>::try_from(&e[32..48]),
                <[u8; 8]>::try_from(&e[48..56]),
            ) else {
                continue;
            };
            if seen.contains(&hash) {
                continue;
            }
            seen.push(hash);
            // Like the store: far candidates are dropped on the band entry's simhash.
            if (u64::from_be_bytes(simhash) ^ print.simhash).count_ones() > max_distance {
                continue;
            }
            let stored = prints
                .chunks(2)
                .find(|pair| pair.first().and_then(bytes) == Some(&hash[..]))
                .and_then(|pair| pair.get(1).and_then(bytes))
                .and_then(|b| NearPrint::from_bytes(b).ok());
            if let Some(p) = stored {
                candidates.push(NearCandidate {
                    hash: ContentHash(hash),
                    record: RecordId(record),
                    print: p,
                });
            }
        }
    }
    Some(Check {
        previous,
        lens,
        candidates,
    })
}

/// The single-process decision, on the cluster's data: the record of the URL's last version
/// when the text changed and revisions join, else the best near-duplicate candidate.
fn decide(
    candidate: &Candidate,
    previous: Option<(ContentHash, RecordId)>,
    candidates: &[NearCandidate],
    policy: &NearPolicy,
) -> Option<NearMatch> {
    if let Some((hash, record)) =
        previous.filter(|(h, _)| policy.join_revisions && *h != candidate.hash)
    {
        return Some(NearMatch {
            record,
            join: Join::Revision { previous: hash },
        });
    }
    dedup::best_near(candidate.near.as_ref()?, candidates, policy)
}

impl Claims {
    /// A claim client on the Redis at `url` (checked to be Redis).
    pub fn connect(url: &str) -> Result<Claims, ClusterError> {
        let mut conn = Conn::new(url, "claims")?;
        conn.check()?;
        Ok(Claims::new(conn, None))
    }

    pub(super) fn new(conn: Conn, deferred: Option<Arc<Mutex<Shared>>>) -> Claims {
        Claims {
            conn,
            prefix: dedup_prefix(),
            conflicts: 0,
            known: KnownHashes::default(),
            deferred,
        }
    }

    /// Claims `candidate`'s content hash: the record it belongs to, decided once for the
    /// whole cluster.
    pub fn claim(
        &mut self,
        candidate: &Candidate,
        policy: &NearPolicy,
    ) -> Result<Claim, ClusterError> {
        if let (Some(shared), Some(record)) = (&self.deferred, self.known.get(&candidate.hash)) {
            let mut last = [0u8; 48];
            last[..32].copy_from_slice(&candidate.hash.0);
            last[32..].copy_from_slice(&record.0);
            lock(shared).url_updates.push((candidate.url.clone(), last));
            return Ok(Claim {
                record,
                join: Some(Join::Exact),
            });
        }
        let claim = self.ask(candidate, policy)?;
        self.known.insert(candidate.hash, claim.record);
        Ok(claim)
    }

    /// [`Claims::claim`], asking Redis.
    fn ask(&mut self, candidate: &Candidate, policy: &NearPolicy) -> Result<Claim, ClusterError> {
        let hash = candidate.hash.0.to_vec();
        let fresh_id = RecordId::from_first_hash(&candidate.hash);
        let (simhash, print, bands) = match &candidate.near {
            Some(p) => (
                p.simhash.to_be_bytes().to_vec(),
                p.to_bytes(),
                p.band_keys().iter().map(|k| k.bytes().to_vec()).collect(),
            ),
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        let url = self.conn.url().to_string();
        let corrupt = |v: &Value| ClusterError::Corrupt {
            url: url.clone(),
            detail: format!("unexpected claim reply {v:?}"),
        };
        loop {
            let prefix = &self.prefix;
            let reply: Value = self.conn.run(|con| {
                let mut inv = scripts::CLAIM.arg(prefix);
                inv.arg(&hash[..])
                    .arg(&candidate.url)
                    .arg(&fresh_id.0[..])
                    .arg(u8::from(policy.join_revisions))
                    .arg(&simhash[..])
                    .arg(&print[..]);
                for b in &bands {
                    inv.arg(&b[..]);
                }
                inv.invoke(con)
            })?;
            let Value::Array(items) = &reply else {
                return Err(corrupt(&reply));
            };
            match items.first().and_then(bytes) {
                Some(b"known") => {
                    let record = record_id(items.get(1)).ok_or_else(|| corrupt(&reply))?;
                    return Ok(Claim {
                        record,
                        join: Some(Join::Exact),
                    });
                }
                Some(b"new") => {
                    return Ok(Claim {
                        record: fresh_id,
                        join: None,
                    })
                }
                Some(b"check") => {}
                _ => return Err(corrupt(&reply)),
            }
            let check = parse_check(items, policy.max_distance, candidate.near.as_ref())
                .ok_or_else(|| corrupt(&reply))?;
            let found = decide(candidate, check.previous, &check.candidates, policy);
            let record = found.as_ref().map_or(fresh_id, |m| m.record);
            let reply: Value = self.conn.run(|con| {
                let mut inv = scripts::COMMIT.arg(prefix);
                inv.arg(&hash[..])
                    .arg(&candidate.url)
                    .arg(&record.0[..])
                    .arg(&simhash[..])
                    .arg(&print[..])
                    .arg(bands.len());
                for (b, len) in bands.iter().zip(&check.lens) {
                    inv.arg(&b[..]).arg(*len);
                }
                inv.invoke(con)
            })?;
            let Value::Array(items) = &reply else {
                return Err(corrupt(&reply));
            };
            match items.first().and_then(bytes) {
                Some(b"ok") => {
                    return Ok(Claim {
                        record,
                        join: found.map(|m| m.join),
                    })
                }
                Some(b"known") => {
                    let record = record_id(items.get(1)).ok_or_else(|| corrupt(&reply))?;
                    return Ok(Claim {
                        record,
                        join: Some(Join::Exact),
                    });
                }
                Some(b"stale") => {
                    // Another worker added to a band between our read and our commit: its
                    // entry may be the one to join, so decide again.
                    self.conflicts += 1;
                }
                _ => return Err(corrupt(&reply)),
            }
        }
    }

    /// Claims each post in the cluster, in order, then ingests them all into `store` in one
    /// transaction, with the cluster's decisions in place of the store's own lookups (see [`Store::ingest_batch`]). Claiming first is safe because
    /// a claim asks Redis (and this worker's own claims), never the local store.
    pub fn ingest_batch(
        &mut self,
        store: &Store,
        posts: &[(&Candidate, &Ingest)],
        settings: &Settings,
    ) -> Result<Vec<(Record, Outcome)>, ClusterError> {
        let claims = posts
            .iter()
            .map(|(candidate, _)| self.claim(candidate, &settings.near))
            .collect::<Result<Vec<_>, _>>()?;
        let nears: Vec<Option<NearMatch>> = claims
            .iter()
            .map(|claim| {
                claim.join.clone().map(|join| NearMatch {
                    record: claim.record,
                    join,
                })
            })
            .collect();
        let ingests: Vec<&Ingest> = posts.iter().map(|(_, i)| *i).collect();
        Ok(store.ingest_batch(
            &ingests,
            settings.near.bounds(),
            |i, _, _| nears[i].clone(),
            |i, existing, near| {
                admit_claimed(existing, near, &claims[i], posts[i].0, &settings.canonical)
            },
        )?)
    }
}

/// `dedup::admit` with the cluster's decision: like a single process when this store holds
/// the record; otherwise (the record was created on another worker) a record with the
/// cluster's id that holds this worker's copy, joined as the cluster said.
pub fn admit_claimed(
    existing: Option<Record>,
    near: Option<&NearMatch>,
    claim: &Claim,
    candidate: &Candidate,
    policy: &dedup::CanonicalPolicy,
) -> (Record, Outcome) {
    let exact = matches!(claim.join, Some(Join::Exact));
    match (existing, &claim.join) {
        // An exact copy joins as a single process would have it: no near match.
        (Some(record), _) => dedup::admit(
            Some(record),
            if exact { None } else { near },
            candidate,
            policy,
        ),
        (None, None) => dedup::admit(None, None, candidate, policy),
        (None, Some(join)) => {
            let (mut record, _) = dedup::admit(None, None, candidate, policy);
            record.id = claim.record;
            if let Some(m) = record.members.first_mut() {
                m.joined = join.clone();
            }
            let outcome = if exact {
                Outcome::Duplicate { of: claim.record }
            } else {
                Outcome::NearDuplicate { of: claim.record }
            };
            (record, outcome)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(url: &str, hash: u8) -> Candidate {
        crate::dedup::test_candidate(url, "a.test", hash)
    }

    #[test]
    fn a_record_made_elsewhere_keeps_the_cluster_id_and_the_join() {
        let c = candidate("http://a.test/1", 9);
        let other = RecordId([7; 16]);
        let policy = dedup::CanonicalPolicy::default();
        let exact = Claim {
            record: other,
            join: Some(Join::Exact),
        };
        let (r, o) = admit_claimed(None, None, &exact, &c, &policy);
        assert_eq!((r.id, o), (other, Outcome::Duplicate { of: other }));
        assert_eq!(r.members[0].joined, Join::Exact);
        let near = Claim {
            record: other,
            join: Some(Join::Revision {
                previous: ContentHash([1; 32]),
            }),
        };
        let (r, o) = admit_claimed(None, None, &near, &c, &policy);
        assert_eq!((r.id, o), (other, Outcome::NearDuplicate { of: other }));
        // The first claimant makes the record a single process would.
        let first = Claim {
            record: RecordId::from_first_hash(&c.hash),
            join: None,
        };
        let (r, o) = admit_claimed(None, None, &first, &c, &policy);
        assert_eq!(o, Outcome::New { record: r.id });
        assert_eq!(r.id, first.record);
    }

    #[test]
    fn revisions_win_over_near_candidates_only_when_the_text_changed() {
        let c = candidate("http://a.test/1", 9);
        let policy = NearPolicy::default();
        let prev = Some((ContentHash([1; 32]), RecordId([3; 16])));
        let m = decide(&c, prev, &[], &policy).unwrap();
        assert_eq!(m.record, RecordId([3; 16]));
        assert!(decide(&c, Some((c.hash, RecordId([3; 16]))), &[], &policy).is_none());
        let off = NearPolicy {
            join_revisions: false,
            ..policy
        };
        assert!(decide(&c, prev, &[], &off).is_none());
    }
}
