//! `trawl run --every`: scheduled crawls in the foreground. The second run re-fetches the
//! listings, skips articles fetched less than `recrawl_after` ago and picks up articles
//! published since; the third sends conditional requests for the now-stale articles and gets
//! 304s; SIGTERM ends it with exit code 0.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use trawl::demo::{generate, Carriage, Mirror, Network};

/// Reads one crawl summary (up to "store now holds") from the child's stdout: label → count.
fn next_summary(lines: &mpsc::Receiver<String>) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .expect("a crawl summary within a minute");
        if line.starts_with("run ") {
            out.insert("resumed".into(), u64::from(line.contains("(resumed)")));
        }
        let trimmed = line.trim();
        if let Some((label, value)) = trimmed.rsplit_once(char::is_whitespace) {
            if let Ok(v) = value.parse::<u64>() {
                out.insert(label.trim().to_string(), v);
            }
        }
        if trimmed.starts_with("store now holds") {
            return out;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_runs_refetch_hubs_skip_fresh_articles_and_revalidate_stale_ones() {
    let articles = generate(31, 40);
    let first = Arc::new(Network::from_articles(
        articles[..30].to_vec(),
        Carriage::Seeded(31),
    ));
    let server = common::start(first.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("scheduled.toml");
    let toml = trawl::config::DEMO_CONFIG
        .replace("[site.extract]", "recrawl_after = \"4s\"\n[site.extract]");
    std::fs::write(&config, toml).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_trawl"));
    cmd.args(["run", "--every", "3s", "--jitter", "0s", "-q", "--config"])
        .arg(&config)
        .arg("--store")
        .arg(dir.path().join("store"));
    for p in common::pins(server.addr()) {
        cmd.args(["--resolve", &p]);
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let run1 = next_summary(&rx);
    assert_eq!(run1["new records"], 30);
    let article_pages = run1["posts extracted"];
    // Publish ten more articles before the next run.
    let all = Arc::new(Network::from_articles(
        articles.clone(),
        Carriage::Seeded(31),
    ));
    server.set_network(all.clone());
    // Every copy of a new article: its HTML pages and the origin's two JSON detail records.
    let new_pages: u64 = (30..40)
        .map(|i| Mirror::ALL.iter().filter(|m| all.carries(**m, i)).count() as u64 + 2)
        .sum();

    let run2 = next_summary(&rx);
    assert_eq!(run2["new records"], 10, "{run2:?}");
    assert_eq!(
        run2["not due (fresh)"], article_pages,
        "articles fetched 3 s ago are within recrawl_after: {run2:?}"
    );
    assert_eq!(run2["posts extracted"], new_pages, "{run2:?}");
    assert!(
        run2["listing pages"] + run2["not modified (304)"] >= run1["listing pages"],
        "hubs are re-fetched: {run2:?}"
    );

    let run3 = next_summary(&rx);
    assert_eq!(run3["new records"], 0, "{run3:?}");
    // Stale articles are revalidated: unchanged pages answer 304; the few whose "related"
    // links changed with the new articles come back whole and join their records.
    assert_eq!(
        run3["posts extracted"], run3["copies collapsed"],
        "{run3:?}"
    );
    assert!(run3["posts extracted"] < article_pages / 4, "{run3:?}");
    assert!(
        run3["not modified (304)"] + run3["posts extracted"] >= article_pages,
        "{run3:?}"
    );
    assert_eq!(run3["not due (fresh)"], new_pages, "{run3:?}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "SIGTERM ends trawl run with exit 0: {status:?}"
    );
    server.shutdown().await;
}
