//! Polite, fault-tolerant fetching against the demo network's fault host and robots hosts:
//! every route ends in its documented outcome with the right attempt count, robots.txt and
//! Retry-After are honoured as the server sees it, politeness limits hold on the server side,
//! and a second crawl of unchanged pages transfers no bodies.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use trawl::config::{Overrides, Settings};
use trawl::demo::{
    fault_article, gbk_article, utf8_lies_article, Mirror, Network, FAULT_HOST, ROBOTS_404_HOST,
    ROBOTS_500_HOST, ROBOTS_DELAY_HOST, ROBOTS_DISALLOW_HOST,
};
use trawl::model::{Outcome, UrlState};
use trawl::store::Store;

fn config() -> String {
    let seeds: Vec<String> = [
        FAULT_HOST,
        ROBOTS_DISALLOW_HOST,
        ROBOTS_DELAY_HOST,
        ROBOTS_500_HOST,
        ROBOTS_404_HOST,
    ]
    .iter()
    .map(|h| format!("\"http://{h}/\""))
    .collect();
    format!(
        r#"
[crawl]
seeds = [{seeds}]
concurrency = 16
per_host_concurrency = 4
timeout_secs = 2
connect_timeout_secs = 2
max_body_bytes = 1048576
max_redirects = 5
max_retries = 2
retry_base_ms = 50
max_retry_after_secs = 5

[[site]]
name = "faults"
hosts = ["{FAULT_HOST}"]
article = ['^/.+\.(html|png)$']
listing = ['^/$']
[site.extract]
title = "article h1"
body = "article p"

[[site]]
name = "robots"
hosts = ["{ROBOTS_DISALLOW_HOST}", "{ROBOTS_DELAY_HOST}", "{ROBOTS_500_HOST}", "{ROBOTS_404_HOST}"]
article = ['^/(public|private)/[a-z]\.html$']
listing = ['^/$']
[site.extract]
title = "article h1"
body = "article p"
"#,
        seeds = seeds.join(", ")
    )
}

fn settings(addr: SocketAddr, seeds: Vec<String>) -> Settings {
    let mut resolve: Vec<String> = [
        FAULT_HOST,
        ROBOTS_DISALLOW_HOST,
        ROBOTS_DELAY_HOST,
        ROBOTS_500_HOST,
        ROBOTS_404_HOST,
    ]
    .iter()
    .map(|h| format!("{h}={addr}"))
    .collect();
    resolve.extend(common::pins(addr));
    let o = Overrides {
        resolve,
        seeds,
        ..Default::default()
    };
    Settings::from_toml(&config(), "faults.toml", &o).expect("the test config is valid")
}

fn state(store: &Store, host: &str, path: &str) -> UrlState {
    let url = format!("http://{host}{path}");
    store
        .url_state(&url)
        .unwrap()
        .unwrap_or_else(|| panic!("no state for {url}"))
}

fn failed(s: &UrlState) -> (&str, u32) {
    match &s.outcome {
        Outcome::Failed { class, .. } => (class.as_str(), s.attempts),
        other => panic!("{}: expected failed, got {other}", s.url),
    }
}

fn is_post(s: &UrlState) -> bool {
    matches!(s.outcome, Outcome::New { .. } | Outcome::Duplicate { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_route_ends_in_its_outcome() {
    let server = common::start(Arc::new(Network::generate(1, 3))).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let summary = common::crawl_into(settings(server.addr(), Vec::new()), &store).await;
    let f = |path: &str| state(&store, FAULT_HOST, path);

    // Transient failures that recover: one retry each.
    for path in ["/flaky-500.html", "/busy-503.html", "/rate-429.html"] {
        let s = f(path);
        assert!(is_post(&s), "{path}: {}", s.outcome);
        assert_eq!(s.attempts, 2, "{path}");
        assert_eq!(server.hits(FAULT_HOST, path), 2, "{path}");
    }
    // Transient failures that do not: 1 + max_retries attempts.
    assert_eq!(failed(&f("/always-500.html")), ("http_500", 3));
    assert_eq!(failed(&f("/timeout.html")), ("timeout", 3));
    assert_eq!(failed(&f("/drip.html")), ("timeout", 3));
    assert_eq!(failed(&f("/cut.html")), ("transport", 3));
    // Permanent failures: no retry.
    assert_eq!(failed(&f("/not-found.html")), ("http_404", 1));
    assert_eq!(failed(&f("/loop/a.html")), ("redirect", 1));
    assert_eq!(failed(&f("/huge.html")), ("too_large", 1));
    assert_eq!(failed(&f("/endless.html")), ("too_large", 1));
    assert_eq!(failed(&f("/gzip-bomb.html")), ("too_large", 1));
    assert_eq!(server.hits(FAULT_HOST, "/always-500.html"), 3);
    assert_eq!(server.hits(FAULT_HOST, "/not-found.html"), 1);

    // The redirect chain is followed and recorded.
    let r = f("/redirect/1.html");
    assert!(is_post(&r), "{}", r.outcome);
    assert_eq!(
        r.redirects.iter().map(|h| h.status).collect::<Vec<_>>(),
        vec![302, 301]
    );
    let view = trawl::query::get(&store, &r.url, &store_urls()).unwrap();
    let s = view
        .sightings
        .iter()
        .find(|s| s.url.ends_with("/redirect/3.html"))
        .expect("sighting at the final URL");
    assert_eq!(s.redirects.len(), 2);
    assert_eq!(s.title, fault_article("/redirect/3.html").unwrap().0);

    // Charsets: undeclared GBK is detected; a UTF-8 header over GBK bytes is not believed.
    for (path, (title, body)) in [
        ("/gbk-undeclared.html", gbk_article()),
        ("/utf8-lies.html", utf8_lies_article()),
    ] {
        let s = f(path);
        assert!(is_post(&s), "{path}: {}", s.outcome);
        let view = trawl::query::get(&store, &s.url, &store_urls()).unwrap();
        assert_eq!(view.record.canonical.title, title, "{path}");
        assert_eq!(view.record.canonical.body, body, "{path}");
        assert!(
            view.sightings[0].charset.starts_with("gb18030"),
            "{path}: {}",
            view.sightings[0].charset
        );
    }

    // Garbage is survived; non-HTML is not parsed.
    let m = f("/malformed.html");
    assert!(
        !matches!(m.outcome, Outcome::Failed { .. }),
        "{}",
        m.outcome
    );
    assert_eq!(
        f("/image.png").outcome,
        Outcome::Skipped {
            reason: "not_html: image/png".into()
        }
    );

    // robots.txt: disallowed paths are skipped unfetched, 404 allows all, 5xx gives up after
    // three tries without fetching anything else.
    assert_eq!(
        state(&store, ROBOTS_DISALLOW_HOST, "/private/a.html").outcome,
        Outcome::Skipped {
            reason: "robots".into()
        }
    );
    assert_eq!(server.hits(ROBOTS_DISALLOW_HOST, "/private/a.html"), 0);
    assert!(is_post(&state(
        &store,
        ROBOTS_DISALLOW_HOST,
        "/public/a.html"
    )));
    for p in ["/public/a.html", "/public/b.html", "/private/a.html"] {
        assert!(is_post(&state(&store, ROBOTS_404_HOST, p)), "{p}");
    }
    assert_eq!(
        failed(&state(&store, ROBOTS_500_HOST, "/")).0,
        "robots_unavailable"
    );
    assert_eq!(server.hits(ROBOTS_500_HOST, "/robots.txt"), 3);
    assert_eq!(server.hits(ROBOTS_500_HOST, "/"), 0);
    for host in [
        FAULT_HOST,
        ROBOTS_DISALLOW_HOST,
        ROBOTS_DELAY_HOST,
        ROBOTS_404_HOST,
    ] {
        assert_eq!(
            server.hits(host, "/robots.txt"),
            1,
            "robots.txt fetched once per host per run: {host}"
        );
    }

    // Crawl-delay 0.5 s holds between request starts on that host (server clock, 50 ms slack).
    let starts = server.request_starts(ROBOTS_DELAY_HOST);
    assert!(starts.len() >= 7, "{}", starts.len());
    for w in starts.windows(2) {
        let gap = w[1] - w[0];
        assert!(
            gap >= Duration::from_millis(450),
            "Crawl-delay not honoured: {gap:?}"
        );
    }
    // Every URL the crawl touched is accounted for in the summary.
    assert_eq!(summary.failures.get("too_large"), Some(&3));
    server.shutdown().await;
}

fn robots_404_len() -> u64 {
    Network::generate(0, 1)
        .respond(Mirror::Origin.host(), "/robots.txt")
        .body
        .len() as u64
}

fn store_urls() -> trawl::scope::UrlPolicy {
    trawl::scope::UrlPolicy::default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_pauses_the_whole_host() {
    let server = common::start(Arc::new(Network::generate(1, 3))).await;
    for (path, min_wait) in [("/busy-503.html", 950), ("/rate-429.html", 900)] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let before = server.request_starts(FAULT_HOST).len();
        let seeds = vec![format!("http://{FAULT_HOST}{path}")];
        common::crawl_into(settings(server.addr(), seeds), &store).await;
        let starts = server.request_starts(FAULT_HOST);
        let ours = &starts[before..];
        // robots.txt, the refusal, the retry.
        assert_eq!(ours.len(), 3, "{path}");
        let waited = ours[2] - ours[1];
        assert!(
            waited >= Duration::from_millis(min_wait),
            "{path}: retried after {waited:?}"
        );
        assert!(is_post(&state(&store, FAULT_HOST, path)));
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_host_concurrency_and_delay_hold_on_the_server() {
    let network = Arc::new(Network::generate(9, 80));
    let server = common::start(network).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let o = Overrides {
        per_host_concurrency: Some(2),
        per_host_delay_ms: Some(25),
        concurrency: Some(32),
        ..Default::default()
    };
    let summary = common::crawl_into(common::demo_settings(server.addr(), o), &store).await;
    assert_eq!(summary.outcomes.get("failed"), None);
    for m in Mirror::ALL {
        assert!(
            server.max_concurrent(m.host()) <= 2,
            "{}: {} at once",
            m.host(),
            server.max_concurrent(m.host())
        );
        let starts = server.request_starts(m.host());
        assert!(starts.len() > 10);
        // 25 ms between starts, measured on the server. A single gap can shrink when the
        // earlier request is delayed in transit, so the bound is on the span: n starts take
        // at least (n - 1) delays, less 10 ms of jitter at either end.
        let span = *starts.last().unwrap() - starts[0];
        let floor =
            Duration::from_millis(25) * (starts.len() as u32 - 1) - Duration::from_millis(10);
        assert!(
            span >= floor,
            "{}: {} requests in {span:?}",
            m.host(),
            starts.len()
        );
        let mut gaps: Vec<Duration> = starts.windows(2).map(|w| w[1] - w[0]).collect();
        gaps.sort();
        assert!(
            gaps[gaps.len() / 2] >= Duration::from_millis(20),
            "{}: median gap {:?}",
            m.host(),
            gaps[gaps.len() / 2]
        );
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_crawl_of_unchanged_pages_transfers_no_bodies() {
    let network = Arc::new(Network::generate(4, 60));
    let server = common::start(network).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // Articles are due again at once, so the second crawl revalidates everything. Without
    // the JSON list seed: lists are read in full every run by design, and no page links them.
    let api_seed = "    \"http://news.trawl-demo.test/api/list?page=1\",\n";
    assert!(trawl::config::DEMO_CONFIG.contains(api_seed));
    let toml = trawl::config::DEMO_CONFIG
        .replace(api_seed, "")
        .replace("[site.extract]", "recrawl_after = \"0s\"\n[site.extract]");
    let load = || {
        let o = Overrides {
            resolve: common::pins(server.addr()),
            ..Default::default()
        };
        Settings::from_toml(&toml, "demo.toml", &o).unwrap()
    };
    let first = common::crawl_into(load(), &store).await;
    let bytes_before: u64 = Mirror::ALL
        .iter()
        .map(|m| server.body_bytes(m.host()))
        .sum();
    let sightings = store.counts().sightings;
    let second = common::crawl_into(load(), &store).await;
    let bytes_after: u64 = Mirror::ALL
        .iter()
        .map(|m| server.body_bytes(m.host()))
        .sum();
    assert!(bytes_before > 0);
    // The only bodies of the second run are the hosts' robots.txt 404 pages, fetched once
    // per host per run.
    let robots_404 = robots_404_len();
    assert_eq!(
        bytes_after - bytes_before,
        Mirror::ALL.len() as u64 * robots_404,
        "unchanged pages must come back as 304 without a body"
    );
    assert_eq!(second.outcomes.get("not_modified"), Some(&first.pages));
    assert_eq!(
        second.pages, first.pages,
        "listings still lead to every article"
    );
    assert_eq!(
        store.counts().sightings,
        sightings,
        "a 304 adds no sighting"
    );
    // The record link survives the 304.
    let any = store
        .url_states()
        .filter_map(Result::ok)
        .find(|s| s.url.contains("infoCode="))
        .unwrap();
    assert_eq!(any.outcome, Outcome::NotModified);
    assert!(any.record.is_some());
    server.shutdown().await;
}
