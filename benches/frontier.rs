//! The persistent frontier at scale: push 1,000,000 URLs over 1,000 hosts, then pop and mark
//! done every one, through the store's sled frontier. Prints ops/s for each phase and the
//! process's peak RSS, so memory can be checked against the frontier size (the seen set and
//! the queues live on disk; only per-host counts stay in memory).
//!
//! Run: `cargo bench --bench frontier` (add `-- 200000` for another size).

use std::time::Instant;

use trawl::frontier::{Entry, Frontier};
use trawl::model::RunId;
use trawl::scope::{PageKind, Placement};
use trawl::store::Store;

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path()).expect("store");
    let mut frontier = store.frontier(RunId(1)).expect("frontier");
    let rss_start = peak_rss_mib();
    let placement = Placement {
        site: 0,
        kind: PageKind::Article,
    };
    let t = Instant::now();
    for i in 0..n {
        let url =
            url::Url::parse(&format!("http://host{}.test/news/{i}.html", i % 1000)).expect("url");
        frontier
            .push(Entry {
                url,
                depth: 1,
                placement,
                attempt: 0,
                modified: None,
                carried: None,
            })
            .expect("push");
    }
    // A duplicate of every 10th URL: the seen set must refuse it.
    for i in (0..n).step_by(10) {
        let url =
            url::Url::parse(&format!("http://host{}.test/news/{i}.html", i % 1000)).expect("url");
        assert!(!frontier.mark_seen(&url).expect("seen"));
    }
    let push = t.elapsed();
    let rss_pushed = peak_rss_mib();
    let t = Instant::now();
    let mut popped = 0usize;
    let mut all = |_: &str| true;
    while let Some(e) = frontier.pop_ready(&mut all).expect("pop") {
        frontier.done(&e.url).expect("done");
        popped += 1;
    }
    let pop = t.elapsed();
    assert_eq!(popped, n);
    println!("frontier: {n} URLs over 1000 hosts");
    println!(
        "  push      {:>10.0} ops/s  ({:.1}s)",
        n as f64 / push.as_secs_f64(),
        push.as_secs_f64()
    );
    println!(
        "  pop+done  {:>10.0} ops/s  ({:.1}s)",
        n as f64 / pop.as_secs_f64(),
        pop.as_secs_f64()
    );
    println!(
        "  peak RSS  {:.0} MiB at start, {:.0} MiB after pushing, {:.0} MiB at the end",
        rss_start,
        rss_pushed,
        peak_rss_mib()
    );
    println!(
        "  store on disk {:.0} MiB",
        store.size_on_disk().unwrap_or(0) as f64 / 1048576.0
    );
}
