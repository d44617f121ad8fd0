//! One identity for one article across workers: claims in Redis give two workers that archive
//! two mirrors of an article at the same moment one record id, for exact copies and for
//! near-duplicates (a trimmed mirror) alike; unrelated articles stay apart.

mod cluster_support;

use std::sync::{Arc, Barrier};

use chrono::Utc;
use cluster_support::RedisServer;
use trawl::cluster::Claims;
use trawl::config::{Overrides, Settings};
use trawl::dedup::Candidate;
use trawl::demo::Network;
use trawl::frontier::Frontier;
use trawl::model::{Join, Post, RecordId};

fn candidate(settings: &Settings, url: &str, title: &str, body: Vec<String>) -> Candidate {
    let post = Post {
        url: url.into(),
        title: title.into(),
        published: None,
        source: None,
        author: None,
        body,
        language: None,
        extractor: "test".into(),
    };
    let fp = settings
        .fingerprinter
        .fingerprint(&post)
        .expect("a long body");
    Candidate {
        url: url.into(),
        host: url::Url::parse(url).unwrap().host_str().unwrap().into(),
        hash: fp.hash,
        seen: Utc::now(),
        chars: fp.normalised_chars,
        near: fp.near,
        post,
    }
}

#[test]
fn two_workers_claiming_two_mirrors_at_once_get_one_record() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let settings = Arc::new(Settings::load(None, &Overrides::default()).unwrap());
    let network = Network::generate(5, 40);
    let mut near_joins = 0;
    for (i, article) in network.articles().iter().enumerate() {
        assert!(
            article.paragraphs.len() >= 3,
            "the demo articles have paragraphs"
        );
        let full = candidate(
            &settings,
            &format!("http://origin.test/{i}"),
            &article.title,
            article.paragraphs.clone(),
        );
        // A mirror that dropped the last paragraph: another hash, a near-duplicate.
        let trimmed = candidate(
            &settings,
            &format!("http://mirror.test/{i}"),
            &article.title,
            article.paragraphs[..article.paragraphs.len() - 1].to_vec(),
        );
        assert_ne!(full.hash, trimmed.hash);
        // What a single process would decide for the pair, whichever came first.
        let near = trawl::dedup::best_near(
            trimmed.near.as_ref().unwrap(),
            &[trawl::dedup::NearCandidate {
                hash: full.hash,
                record: RecordId::from_first_hash(&full.hash),
                print: full.near.clone().unwrap(),
            }],
            &settings.near,
        )
        .is_some();
        let barrier = Arc::new(Barrier::new(2));
        let claims: Vec<_> = [full, trimmed]
            .into_iter()
            .map(|c| {
                let (barrier, settings, url) = (barrier.clone(), settings.clone(), redis.url());
                std::thread::spawn(move || {
                    let mut claims = Claims::connect(&url).unwrap();
                    barrier.wait();
                    let claim = claims.claim(&c, &settings.near).unwrap();
                    (c.hash, claim)
                })
            })
            .collect();
        let results: Vec<_> = claims.into_iter().map(|t| t.join().unwrap()).collect();
        let (first, second) = (&results[0].1, &results[1].1);
        if !near {
            // Too different to join (a short article lost a large part): two records.
            assert_ne!(first.record, second.record, "article {i}");
            assert!(first.join.is_none() && second.join.is_none());
            continue;
        }
        assert_eq!(first.record, second.record, "article {i}: one record id");
        // Exactly one of them created it, under its own hash; the other joined as a near copy.
        let creators: Vec<_> = results.iter().filter(|(_, c)| c.join.is_none()).collect();
        assert_eq!(creators.len(), 1, "article {i}: {results:?}");
        assert_eq!(first.record, RecordId::from_first_hash(&creators[0].0));
        let joined = results.iter().find(|(_, c)| c.join.is_some()).unwrap();
        assert!(
            matches!(joined.1.join, Some(Join::Near { .. })),
            "{results:?}"
        );
        near_joins += 1;
    }
    assert!(
        near_joins >= 20,
        "only {near_joins} of 40 pairs are near duplicates"
    );
    // Records of different articles stay apart, and a third copy of a known text is exact.
    let mut claims = Claims::connect(&redis.url()).unwrap();
    let a = &network.articles()[0];
    let again = candidate(
        &settings,
        "http://third.test/0",
        &a.title,
        a.paragraphs.clone(),
    );
    let c = claims.claim(&again, &settings.near).unwrap();
    assert_eq!(c.join, Some(Join::Exact));
    let b = &network.articles()[1];
    let other = candidate(
        &settings,
        "http://origin.test/0b",
        &b.title,
        b.paragraphs.clone(),
    );
    assert_ne!(
        claims.claim(&other, &settings.near).unwrap().record,
        c.record
    );
}

#[test]
fn a_copy_a_worker_answers_itself_still_records_its_url_for_revisions() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let settings = Arc::new(Settings::load(None, &Overrides::default()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = trawl::store::Store::open(dir.path()).unwrap();
    let cluster = trawl::cluster::Cluster::join(
        &trawl::config::ClusterSettings {
            url: redis.url(),
            worker: "w1".into(),
            lease: std::time::Duration::from_secs(10),
            deadline: std::time::Duration::from_secs(30),
        },
        false,
    )
    .unwrap();
    let mut claims = cluster.claims();
    let mut frontier = cluster.frontier(store);
    // The cluster's seen set answers as the store's does (a page too deep to fetch is
    // recorded, then marked seen).
    let deep = url::Url::parse("http://origin.test/deep").unwrap();
    assert!(!frontier.is_seen(&deep).unwrap());
    assert!(frontier.mark_seen(&deep).unwrap());
    assert!(frontier.is_seen(&deep).unwrap() && !frontier.mark_seen(&deep).unwrap());
    let network = Network::generate(5, 2);
    let a = &network.articles()[0];
    let first = candidate(
        &settings,
        "http://origin.test/a",
        &a.title,
        a.paragraphs.clone(),
    );
    let copy = candidate(
        &settings,
        "http://mirror.test/a",
        &a.title,
        a.paragraphs.clone(),
    );
    let made = claims.claim(&first, &settings.near).unwrap();
    assert_eq!(made.join, None);
    // The worker claimed this hash itself: it answers without Redis, as Redis would.
    let joined = claims.claim(&copy, &settings.near).unwrap();
    assert_eq!(
        (joined.record, joined.join),
        (made.record, Some(Join::Exact))
    );
    // The copy's page is reported done: its URL's version goes to Redis with the report.
    frontier.done(&url::Url::parse(&copy.url).unwrap()).unwrap();
    frontier.flush_batch().unwrap();
    // Later (another worker, another run) the mirror's text changes: a revision of the record.
    let b = &network.articles()[1];
    let changed = candidate(
        &settings,
        "http://mirror.test/a",
        &b.title,
        b.paragraphs.clone(),
    );
    let mut elsewhere = Claims::connect(&redis.url()).unwrap();
    let revised = elsewhere.claim(&changed, &settings.near).unwrap();
    assert_eq!(revised.record, made.record);
    assert_eq!(
        revised.join,
        Some(Join::Revision {
            previous: copy.hash
        })
    );
    cluster.leave().unwrap();
}
