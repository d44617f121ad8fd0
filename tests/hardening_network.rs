//! The network guard through the real binary: a page on a pinned host links to loopback (as a
//! literal IP and as a name that resolves to it) and redirects to the cloud metadata address;
//! those are refused with `failed(blocked_address)` while the pinned host is crawled, unless
//! `crawl.allow_private = true`. Credentials in links are stripped and never stored.

mod common;

use std::sync::{Arc, OnceLock};

use common::fixture::{article, config, FixtureServer, Reply};
use common::{text, trawl};

/// The hostile site, on an ephemeral port; `/a/4.html` redirects to `redirect(port)`.
fn site(redirect: fn(u16) -> String) -> FixtureServer {
    let port = Arc::new(OnceLock::<u16>::new());
    let known = port.clone();
    let server = FixtureServer::start(move |host, path| {
        let port = known.get().copied().unwrap_or(0);
        match path {
            "/" => Reply::html(format!(
                "<html><body>\
                 <a href=/a/1.html>fine</a>\
                 <a href=http://127.0.0.1:{port}/a/2.html>loopback literal</a>\
                 <a href=http://localhost:{port}/a/3.html>loopback by name</a>\
                 <a href=/a/4.html>redirects to metadata</a>\
                 <a href='http://user:hunter2secret@site.test/a/5.html'>with credentials</a>\
                 </body></html>"
            )),
            "/a/4.html" => Reply::redirect(&redirect(port)),
            p if p.starts_with("/a/") || p.starts_with("/latest/") => Reply::html(article(
                &format!("Article at {host}{p}"),
                &[&format!(
                    "A paragraph that only the page at {host}{p} carries, long enough to keep."
                )],
            )),
            _ => Reply::not_found(),
        }
    });
    let _ = port.set(server.addr.port());
    server
}

fn crawl_with(extra: &str, server: &FixtureServer) -> (tempfile::TempDir, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("site.toml");
    std::fs::write(
        &cfg,
        config(&["127.0.0.1", "localhost", "169.254.169.254"], extra),
    )
    .unwrap();
    let store = dir.path().join("store");
    let pin = format!("site.test={}", server.addr);
    let out = trawl(
        &[
            "crawl",
            "--config",
            cfg.to_str().unwrap(),
            "--resolve",
            &pin,
            "--format",
            "json",
        ],
        &store,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = serde_json::from_slice(&out.stdout).unwrap();
    (dir, summary)
}

fn outcome_of(store: &std::path::Path, url: &str) -> String {
    let out = trawl(&["get", url], store);
    if out.status.success() {
        "archived".into()
    } else {
        text(&out.stderr)
    }
}

#[test]
fn private_addresses_are_refused_and_the_pinned_host_is_crawled() {
    let server = site(|_| "http://169.254.169.254/latest/meta-data/".into());
    let (dir, summary) = crawl_with("", &server);
    let store = dir.path().join("store");
    let port = server.addr.port();

    assert_eq!(outcome_of(&store, "http://site.test/a/1.html"), "archived");
    for url in [
        format!("http://127.0.0.1:{port}/a/2.html"),
        format!("http://localhost:{port}/a/3.html"),
        "http://site.test/a/4.html".to_string(),
    ] {
        let o = outcome_of(&store, &url);
        assert!(o.contains("failed(blocked_address"), "{url}: {o}");
    }
    let o = outcome_of(&store, "http://site.test/a/4.html");
    assert!(
        o.contains("169.254.169.254") && o.contains("link-local"),
        "{o}"
    );
    let o = outcome_of(&store, &format!("http://localhost:{port}/a/3.html"));
    assert!(o.contains("loopback"), "{o}");
    assert_eq!(summary["failures"]["blocked_address"], 3, "{summary}");

    // Refused before connecting: the server never saw those hosts.
    assert!(!server.saw_host(&format!("127.0.0.1:{port}")));
    assert!(!server.saw_host(&format!("localhost:{port}")));
    assert!(server.saw_host("site.test"));

    // The credentials were stripped before queueing: the URL was archived without them, and
    // they are nowhere in the store.
    assert_eq!(outcome_of(&store, "http://site.test/a/5.html"), "archived");
    for entry in walk(&store) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !bytes.windows(13).any(|w| w == b"hunter2secret"),
            "credentials stored in {}",
            entry.display()
        );
    }

    // The refusals count like any other outcome.
    let stats = trawl(&["stats", "--format", "json"], &store);
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["outcomes"]["failed"], 3, "{stats}");
}

#[test]
fn allow_private_lets_them_through() {
    // A redirect to a loopback literal is followed too, once allowed.
    let server = site(|port| format!("http://127.0.0.1:{port}/a/6.html"));
    let port = server.addr.port();
    let (dir, summary) = crawl_with("allow_private = true", &server);
    let store = dir.path().join("store");
    for url in [
        format!("http://127.0.0.1:{port}/a/2.html"),
        format!("http://localhost:{port}/a/3.html"),
        "http://site.test/a/4.html".to_string(),
    ] {
        assert_eq!(outcome_of(&store, &url), "archived", "{url}");
    }
    assert!(server.saw_host(&format!("127.0.0.1:{port}")));
    assert!(server.saw_host(&format!("localhost:{port}")));
    assert!(
        summary["failures"].get("blocked_address").is_none(),
        "{summary}"
    );
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}
