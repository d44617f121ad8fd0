//! End to end: the origin's JSON APIs as sources. Pagination stops at its bound (or at the
//! first empty page), and bad JSON, a missing field or a wrong-typed field fail just that URL,
//! naming the pointer, while the crawl goes on.

mod common;

use std::sync::Arc;

use trawl::config::{Overrides, Settings, DEMO_CONFIG};
use trawl::demo::{Network, LIST_PAGE_SIZE};
use trawl::model::Outcome;
use trawl::store::Store;

const LIST: &str = "http://news.trawl-demo.test/api/list";

/// The demo config with the list API's page bound replaced, pinned to `addr`.
fn settings(addr: std::net::SocketAddr, max_pages: u32, o: Overrides) -> Settings {
    let bound = "[site.api.paginate]\nparam = \"page\"\nmax_pages = 50";
    assert!(
        DEMO_CONFIG.contains(bound),
        "the demo config pages its list API"
    );
    let text = DEMO_CONFIG.replace(
        bound,
        &format!("[site.api.paginate]\nparam = \"page\"\nmax_pages = {max_pages}"),
    );
    let mut o = o;
    o.resolve.extend(common::pins(addr));
    Settings::from_toml(&text, "demo.toml (edited)", &o).expect("valid config")
}

fn outcome(store: &Store, url: &str) -> Option<Outcome> {
    store.url_state(url).unwrap().map(|s| s.outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_api_alone_reaches_every_article_and_pages_to_its_bound() {
    let articles: usize = 150;
    let pages = articles.div_ceil(LIST_PAGE_SIZE);
    let network = Arc::new(Network::generate(21, articles));
    let server = common::start(network.clone()).await;
    let seed = || Overrides {
        seeds: vec![network.api_list_url()],
        // List page → detail records and share page; their related links go unfollowed.
        max_depth: Some(pages as u32 + 1),
        ..Default::default()
    };

    // Bound 50: every page is read, then the first empty one ends the paging.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let summary = common::crawl_into(settings(server.addr(), 50, seed()), &store).await;
    assert_eq!(store.counts().records, articles as u64);
    for page in 1..=pages + 1 {
        assert_eq!(
            outcome(&store, &format!("{LIST}?page={page}")),
            Some(Outcome::Hub),
            "page {page}"
        );
    }
    assert_eq!(outcome(&store, &format!("{LIST}?page={}", pages + 2)), None);
    assert_eq!(summary.failures.len(), 0, "{:?}", summary.failures);

    // Bound 3: pages 1..=3 and never page 4, so only their items' detail records (share pages
    // link other share pages, never API records).
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    common::crawl_into(settings(server.addr(), 3, seed()), &store).await;
    for page in 1..=3 {
        assert_eq!(
            outcome(&store, &format!("{LIST}?page={page}")),
            Some(Outcome::Hub)
        );
    }
    assert_eq!(outcome(&store, &format!("{LIST}?page=4")), None);
    let details = store
        .url_states()
        .filter_map(Result::ok)
        .filter(|s| s.url.contains("/api/GetNewsText.do"))
        .count();
    assert_eq!(details, 3 * LIST_PAGE_SIZE);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_json_fails_the_url_naming_the_pointer_and_the_crawl_goes_on() {
    let network = Arc::new(Network::generate(22, 60));
    let server = common::start(network.clone()).await;
    let id = &network.articles()[0].id;
    let malformed = format!("{LIST}?fault=malformed&page=1");
    let missing = format!("{LIST}?fault=missing&page=1");
    let wrong = format!("http://news.trawl-demo.test/api/GetNewsText.do?fault=wrong_type&id={id}");
    let o = Overrides {
        seeds: vec![malformed.clone(), missing.clone(), wrong.clone()],
        // The seeds and what they link (details, share pages, page 2), nothing further.
        max_depth: Some(1),
        ..Default::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let summary = common::crawl_into(settings(server.addr(), 50, o), &store).await;

    let failed = |url: &str| match outcome(&store, url) {
        Some(Outcome::Failed { class, message }) if class == "json" => message,
        other => panic!("{url}: {other:?}"),
    };
    assert!(failed(&malformed).starts_with("not JSON: "));
    assert_eq!(failed(&missing), "/record/1/showTime: missing");
    assert_eq!(
        failed(&wrong),
        "/text: expected a string or an array of strings, found number"
    );
    // Paging goes on past a bad item: page 2 keeps the `fault` parameter, and fails alike.
    assert_eq!(
        failed(&format!("{LIST}?fault=missing&page=2")),
        "/record/1/showTime: missing"
    );
    assert_eq!(summary.failures.get("json"), Some(&4));
    // Page 1 with one bad item still queued the other items: every one of them is archived
    // (share page plus both API records), the bad item's article is not. Page 2's items are
    // beyond the depth limit.
    assert_eq!(store.counts().records, (LIST_PAGE_SIZE - 1) as u64);
    assert_eq!(store.counts().sightings, 3 * (LIST_PAGE_SIZE - 1) as u64);
    server.shutdown().await;
}
