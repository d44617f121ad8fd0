//! End to end: the demo mirror network, crawled into a fresh store, collapses every article's
//! copies into one canonical record with one sighting per HTML host that carries it, plus its
//! two JSON API records.

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use trawl::config::Overrides;
use trawl::demo::{Mirror, Network};
use trawl::model::{CanonicalReason, Outcome};
use trawl::query;
use trawl::scope::UrlPolicy;
use trawl::store::Store;

const ARTICLES: usize = 150;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_article_collapses_to_one_record_with_full_provenance() {
    let network = Arc::new(Network::generate(7, ARTICLES));
    let server = common::start(network.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let summary = common::crawl_into(
        common::demo_settings(server.addr(), Overrides::default()),
        &store,
    )
    .await;

    let carried: usize = (0..ARTICLES)
        .map(|i| {
            Mirror::ALL
                .iter()
                .filter(|m| network.carries(**m, i))
                .count()
        })
        .sum::<usize>()
        // The origin's two JSON detail records of every article.
        + 2 * ARTICLES;
    assert_eq!(
        store.counts().records,
        ARTICLES as u64,
        "one record per article"
    );
    assert_eq!(
        store.counts().sightings,
        carried as u64,
        "one sighting per copy"
    );
    assert_eq!(summary.outcomes.get("new"), Some(&(ARTICLES as u64)));
    assert_eq!(
        summary.outcomes.get("duplicate"),
        Some(&((carried - ARTICLES) as u64))
    );
    assert_eq!(
        summary.outcomes.get("failed"),
        None,
        "{:?}",
        summary.failures
    );

    let urls = UrlPolicy::default();
    for (i, article) in network.articles().iter().enumerate() {
        let origin = network.article_url(Mirror::Origin, i).unwrap();
        let view = query::get(&store, &origin, &urls).unwrap();
        let record = &view.record;
        // The origin is canonical, and its post is the article as published.
        assert_eq!(record.canonical_host, Mirror::Origin.host());
        assert_eq!(record.canonical.title, article.title);
        assert_eq!(record.canonical.body, article.paragraphs);
        assert_eq!(record.canonical.published, Some(article.published));
        assert_eq!(
            record.canonical.source.as_deref(),
            Some(article.source.as_str())
        );
        // The share page or an API record of it: same host, same fields.
        assert!(
            record.canonical.extractor.starts_with("origin"),
            "{}",
            record.canonical.extractor
        );
        let expected_hosts: BTreeSet<&str> = Mirror::ALL
            .iter()
            .filter(|m| network.carries(**m, i))
            .map(|m| m.host())
            .collect();
        // The origin carries three copies (share page, two API records): the runner-up may be
        // another origin copy, decided by a tie-break, or a mirror, decided by the host.
        assert!(
            matches!(
                &record.canonical_reason,
                CanonicalReason::PreferredHost { host } if host == Mirror::Origin.host()
            ) || matches!(
                record.canonical_reason,
                CanonicalReason::EarliestSeen | CanonicalReason::ShortestUrl
            ),
            "{:?}",
            record.canonical_reason
        );
        // The JSON records joined the record, named by the rule that read them, with the
        // list item's title on the body-only one.
        let [text_url, v2_url] = network.api_detail_urls(i).unwrap();
        for (url, rule) in [(&text_url, "origin-api:detail"), (&v2_url, "origin-api:v2")] {
            let api = view
                .sightings
                .iter()
                .find(|s| &s.url == url)
                .unwrap_or_else(|| panic!("no sighting of {url}"));
            assert_eq!(api.extractor, rule);
            assert_eq!(api.title, article.title, "{url}");
            assert_eq!(query::get(&store, url, &urls).unwrap().record.id, record.id);
        }
        // One HTML sighting per carrying host, each reached from that host's own URL.
        let html: Vec<_> = view
            .sightings
            .iter()
            .filter(|s| !s.extractor.starts_with("origin-api"))
            .collect();
        let hosts: Vec<&str> = html.iter().map(|s| s.host.as_str()).collect();
        assert_eq!(
            hosts.iter().copied().collect::<BTreeSet<_>>(),
            expected_hosts
        );
        assert_eq!(hosts.len(), expected_hosts.len(), "no host seen twice");
        for m in Mirror::ALL {
            let Some(url) = network.article_url(m, i) else {
                continue;
            };
            assert_eq!(
                query::get(&store, &url, &urls).unwrap().record.id,
                record.id,
                "{url}"
            );
            let sighting = html.iter().find(|s| s.host == m.host()).unwrap();
            // Every copy shows the same headline after decoding, GBK included.
            assert_eq!(sighting.title, article.title, "{url}");
            if m == Mirror::Gbk {
                assert_eq!(sighting.charset, "gb18030 (meta)");
            }
        }
        let state = store.url_state(&origin).unwrap().unwrap();
        assert!(matches!(
            state.outcome,
            Outcome::New { .. } | Outcome::Duplicate { .. }
        ));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gbk_mirror_decodes_to_the_origin_text() {
    // The crawl proves the normalised bodies hash alike; this checks the displayed text too.
    let network = Arc::new(Network::generate(11, 40));
    let i = (0..40)
        .find(|&i| network.carries(Mirror::Gbk, i))
        .expect("some article is on the GBK mirror");
    let url = url::Url::parse(&network.article_url(Mirror::Gbk, i).unwrap()).unwrap();
    let resp = network.respond(Mirror::Gbk.host(), &trawl::scope::path_and_query(&url));
    assert!(!String::from_utf8_lossy(&resp.content_type.clone().into_bytes()).contains("charset"));
    let decoded = trawl::fetch::charset::decode(&resp.body, Some(&resp.content_type));
    let html = scraper::Html::parse_document(&decoded.text);
    let settings = trawl::config::Settings::load(None, &Overrides::default()).unwrap();
    let site = settings.scope.site_for(&url);
    let trawl::extract::Extraction::Post(post) = settings.extractor.extract(&html, &url, site)
    else {
        panic!("the GBK page is an article");
    };
    let article = &network.articles()[i];
    assert_eq!(post.title, article.title);
    assert_eq!(post.body, article.paragraphs);
    assert_eq!(post.source.as_deref(), Some(article.source.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_crawl_refetches_listings_and_skips_fresh_articles() {
    let network = Arc::new(Network::generate(3, 30));
    let server = common::start(network.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = common::crawl_into(
        common::demo_settings(server.addr(), Overrides::default()),
        &store,
    )
    .await;
    let before = store.counts();
    let second = common::crawl_into(
        common::demo_settings(server.addr(), Overrides::default()),
        &store,
    )
    .await;
    let after = store.counts();
    assert_eq!(after.records, before.records);
    assert_eq!(
        after.sightings, before.sightings,
        "fresh articles are not fetched again"
    );
    assert_eq!(
        second.fresh, first.posts,
        "every article page is within recrawl_after (1 day)"
    );
    assert_eq!(
        second.pages, first.outcomes["hub"],
        "only listings are fetched"
    );
    assert_eq!(second.outcomes.get("new"), None);
    assert_eq!(after.runs, 2);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_and_depth_limits_are_accounted_for() {
    let network = Arc::new(Network::generate(5, 60));
    let server = common::start(network.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let o = Overrides {
        max_pages: Some(10),
        ..Default::default()
    };
    let summary = common::crawl_into(common::demo_settings(server.addr(), o), &store).await;
    assert_eq!(summary.pages, 10);
    assert!(
        summary.outcomes.get("skipped").copied().unwrap_or(0) > 0,
        "queued URLs end as skipped(max_pages)"
    );
    let skipped = store
        .url_states()
        .filter_map(Result::ok)
        .filter(|s| {
            s.outcome
                == Outcome::Skipped {
                    reason: "max_pages".into(),
                }
        })
        .count();
    assert!(skipped > 0);
    // Depth 0: only the seeds are fetched; their links are recorded as skipped(max_depth).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let o = Overrides {
        max_depth: Some(0),
        ..Default::default()
    };
    let settings = common::demo_settings(server.addr(), o);
    let seeds = settings.seeds.len() as u64;
    let summary = common::crawl_into(settings, &store).await;
    assert_eq!(summary.pages, seeds);
    assert_eq!(store.counts().records, 0);
    assert!(store.url_states().filter_map(Result::ok).any(|s| s.outcome
        == Outcome::Skipped {
            reason: "max_depth".into()
        }));
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sitemaps_and_feeds_alone_reach_the_articles() {
    let network = Arc::new(Network::generate(12, 230));
    let server = common::start(network.clone()).await;
    // Only the sitemap index: every origin article is reached through the sitemaps.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Depth 2: index → sitemap files → articles; the articles' own links go unfollowed.
    let o = Overrides {
        seeds: vec!["http://news.trawl-demo.test/sitemap.xml".into()],
        max_depth: Some(2),
        ..Default::default()
    };
    let summary = common::crawl_into(common::demo_settings(server.addr(), o), &store).await;
    assert_eq!(store.counts().records, 230);
    // The index, three numbered sitemaps (100 per file) and the news sitemap.
    assert_eq!(summary.outcomes.get("hub"), Some(&5));
    assert_eq!(
        summary.outcomes.get("failed"),
        None,
        "{:?}",
        summary.failures
    );
    // Only the RSS feed: its 50 newest; only the blog's Atom feed: its 30 newest.
    for (seed, expected) in [
        ("http://news.trawl-demo.test/rss.xml", 50),
        ("http://blog.newsarchive.test/feed.xml", 30),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let o = Overrides {
            seeds: vec![seed.into()],
            max_depth: Some(1),
            ..Default::default()
        };
        common::crawl_into(common::demo_settings(server.addr(), o), &store).await;
        assert_eq!(store.counts().records, expected, "{seed}");
    }
    server.shutdown().await;
}
