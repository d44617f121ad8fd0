//! Whole-crawl benchmarks on the generated demo network, each crawl in a child process so its
//! peak RSS and CPU time are its own (the fixture server runs in this process).
//!
//! `cargo bench --bench crawl` runs all three:
//! - **throughput**: ceiling A (trawl's HTTP client fetching the URL list the full crawl
//!   fetched, nothing else), ceiling B (the same client following links: decode, parse, link
//!   discovery, scope, seen set in memory) and the full trawl pipeline, on one network of
//!   `TRAWL_BENCH_ARTICLES` articles (default 7,000: ~22,000 pages over 4 hosts); reports
//!   pages/s, MB/s, CPU seconds per 1,000 pages, peak RSS and each as a ratio of ceiling B.
//!   trawl's peak RSS is that of the whole `trawl crawl` command: after the crawl the child
//!   also updates the search index and reads the store's totals, as the command does. Under
//!   each crawler, its CPU per 1,000 pages by thread group (tokio's workers and blocking
//!   threads, sled's I/O threads, the main thread), so a change's cost shows where it lands;
//! - **faults**: the demo network with and without the fault host among the seeds; reports the
//!   healthy hosts' throughput (pages/s, measured on the server between their first and last
//!   request) in both runs and their ratio (the faulty host must cost the others ≤ 10%);
//! - **memory**: crawls of a ~10,000-page and a ~100,000-page network; reports pages/s, CPU
//!   seconds per 1,000 pages and peak RSS of each, and the RSS ratio (memory must not grow with
//!   the crawl: the frontier and the seen set live on disk).
//!
//! `cargo bench --bench crawl -- throughput`, `-- faults` or `-- memory` runs one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use trawl::config::{Overrides, Settings};
use trawl::demo::{serve, Mirror, Network, FAULT_HOST};
use trawl::store::Store;

/// What a child crawl reports.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Report {
    pages: u64,
    seconds: f64,
    cpu_seconds: f64,
    peak_rss_mib: f64,
    /// Peak RSS when the crawl itself ended, before the search index update.
    #[serde(default)]
    crawl_peak_rss_mib: f64,
    /// CPU seconds by thread group when the crawl ended (see [`cpu_by_thread`]).
    #[serde(default)]
    threads: BTreeMap<String, f64>,
}

fn proc_status(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn cpu_seconds() -> f64 {
    stat_cpu_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

/// This process's CPU seconds so far by thread group: thread names without their numbers
/// (`sled-io-3` counts as `sled-io`), the process's first thread as `main`, and threads that
/// have ended as `ended threads` (the whole process's CPU less the live threads'; sled starts
/// extra I/O threads when its jobs queue up, and they end when idle). tokio names its
/// workers (fetching) and its blocking threads (page analysis, the writer) alike:
/// `tokio-rt-worker`.
fn cpu_by_thread() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let total = cpu_seconds();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    let pid = std::process::id().to_string();
    for task in tasks.flatten() {
        let read = |f: &str| std::fs::read_to_string(task.path().join(f)).unwrap_or_default();
        let name = if task.file_name().to_str() == Some(pid.as_str()) {
            "main".to_string()
        } else {
            read("comm")
                .trim()
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .trim_end_matches('-')
                .to_string()
        };
        *out.entry(name).or_default() += stat_cpu_seconds(&read("stat"));
    }
    let live: f64 = out.values().sum();
    out.insert("ended threads".to_string(), (total - live).max(0.0));
    out
}

/// utime + stime of a `/proc/.../stat` line, in seconds.
fn stat_cpu_seconds(stat: &str) -> f64 {
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat; 12 and 13 here.
    (ticks(11) + ticks(12)) / 100.0
}

/// The crawl settings every child uses: the demo configuration pinned to the served network,
/// 64 requests in flight (16 per host), no politeness delay, listings followed to any depth.
fn bench_settings(addr: SocketAddr, extra_seed: Option<&str>) -> Settings {
    let mut resolve: Vec<String> = Mirror::ALL
        .iter()
        .map(|m| format!("{}={addr}", m.host()))
        .collect();
    resolve.push(format!("{FAULT_HOST}={addr}"));
    let mut toml = trawl::config::DEMO_CONFIG.to_string();
    if let Some(seed) = extra_seed {
        toml = toml.replace("seeds = [", &format!("seeds = [\n    \"{seed}\","));
        toml.push_str(&format!(
            "\n[[site]]\nname = \"faults\"\nhosts = [\"{FAULT_HOST}\"]\narticle = ['^/.+\\.(html|png)$']\nlisting = ['^/$']\n"
        ));
        toml = toml.replace("timeout_secs = 20", "timeout_secs = 2");
    }
    let o = Overrides {
        resolve,
        per_host_concurrency: Some(16),
        concurrency: Some(64),
        // Listings paginate deep on a large network: follow them all.
        max_depth: Some(1_000_000),
        ..Default::default()
    };
    Settings::from_toml(&toml, "bench", &o).expect("bench config")
}

/// Child side: crawl the served network with the full pipeline and print a JSON report; with
/// `list_out`, also write the URLs it fetched there (one per line) for ceiling A.
fn child(addr: SocketAddr, extra_seed: Option<String>, list_out: Option<String>) {
    // The crawl's own runtime for both crawlers: ceiling B hands pages to blocking threads
    // just as trawl does, and so gains from the same cap on them.
    let rt = trawl::crawl::runtime().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = bench_settings(addr, extra_seed.as_deref());
    let store = Store::open(dir.path()).expect("store");
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let t = Instant::now();
    let summary = rt
        .block_on(trawl::crawl::crawl(Arc::new(settings), &store, rx))
        .expect("crawl");
    let (seconds, cpu, threads) = (t.elapsed().as_secs_f64(), cpu_seconds(), cpu_by_thread());
    let crawl_peak = proc_status("VmHWM:");
    // Then what `trawl crawl` does before it exits: bring the search index up to date and
    // print the store's totals. Not in the crawl's time and CPU, but in its peak RSS, which
    // is the command's.
    trawl::query::search::update_index(&store, &mut |_| {}).expect("search index");
    let totals = store.counts();
    assert!(totals.records > 0, "the crawl archived nothing");
    let report = Report {
        pages: summary.pages,
        seconds,
        cpu_seconds: cpu,
        peak_rss_mib: proc_status("VmHWM:"),
        crawl_peak_rss_mib: crawl_peak,
        threads,
    };
    if let Some(path) = list_out {
        let mut list = String::new();
        for state in store.url_states() {
            let state = state.expect("url state");
            if state.status.is_some() {
                list.push_str(&state.url);
                list.push('\n');
            }
        }
        std::fs::write(path, list).expect("write url list");
    }
    println!("{}", serde_json::to_string(&report).expect("report"));
}

/// Child side of the ceilings: fetch with trawl's own client and settings, no store. Ceiling
/// A fetches the URL list in `list` (the pages the full crawl fetched) and does nothing with
/// the bodies; ceiling B starts from the seeds and follows links (decode, parse, link
/// discovery, scope), with the seen set in memory, as a link-only crawler does.
fn ceiling_child(addr: SocketAddr, list: Option<String>) {
    // The crawl's own runtime for both crawlers: ceiling B hands pages to blocking threads
    // just as trawl does, and so gains from the same cap on them.
    let rt = trawl::crawl::runtime().expect("runtime");
    let settings = Arc::new(bench_settings(addr, None));
    let fetcher = Arc::new(trawl::fetch::Fetcher::new(&settings.fetch).expect("client"));
    let follow = list.is_none();
    let mut queue: std::collections::VecDeque<url::Url> = match &list {
        Some(path) => std::fs::read_to_string(path)
            .expect("url list")
            .lines()
            .filter_map(|l| url::Url::parse(l).ok())
            .collect(),
        None => settings.seeds.iter().cloned().collect(),
    };
    let mut seen: std::collections::HashSet<String> = queue.iter().map(|u| u.to_string()).collect();
    let t = Instant::now();
    let pages = rt.block_on(async {
        let per_host: std::collections::HashMap<String, Arc<tokio::sync::Semaphore>> = seen
            .iter()
            .filter_map(|u| url::Url::parse(u).ok())
            .filter_map(|u| u.host_str().map(str::to_string))
            .chain(Mirror::ALL.iter().map(|m| m.host().to_string()))
            .map(|h| (h, Arc::new(tokio::sync::Semaphore::new(16))))
            .collect();
        let mut tasks = tokio::task::JoinSet::new();
        let mut pages = 0u64;
        loop {
            while tasks.len() < 64 {
                let Some(url) = queue.pop_front() else { break };
                let host = per_host
                    .get(url.host_str().unwrap_or(""))
                    .cloned()
                    .unwrap_or_else(|| Arc::new(tokio::sync::Semaphore::new(16)));
                let fetcher = fetcher.clone();
                let settings = settings.clone();
                tasks.spawn(async move {
                    let _permit = host.acquire_owned().await.expect("semaphore");
                    let Ok(page) = fetcher.get(&url, &Default::default()).await else {
                        return (false, Vec::new());
                    };
                    if !follow || !trawl::fetch::is_html(page.content_type()) {
                        return (true, Vec::new());
                    }
                    let links = tokio::task::spawn_blocking(move || {
                        let decoded =
                            trawl::fetch::charset::decode(&page.body, page.content_type());
                        let html = scraper::Html::parse_document(&decoded.text);
                        trawl::extract::links(&html, &page.final_url)
                            .into_iter()
                            .filter_map(|l| settings.scope.urls.normalise_url(l).ok())
                            .filter(|l| settings.scope.classify(l).is_some())
                            .collect::<Vec<_>>()
                    })
                    .await
                    .unwrap_or_default();
                    (true, links)
                });
            }
            let Some(done) = tasks.join_next().await else {
                break;
            };
            let (fetched, links) = done.expect("task");
            pages += u64::from(fetched);
            for l in links {
                if seen.insert(l.to_string()) {
                    queue.push_back(l);
                }
            }
        }
        pages
    });
    let report = Report {
        pages,
        seconds: t.elapsed().as_secs_f64(),
        cpu_seconds: cpu_seconds(),
        peak_rss_mib: proc_status("VmHWM:"),
        crawl_peak_rss_mib: proc_status("VmHWM:"),
        threads: cpu_by_thread(),
    };
    println!("{}", serde_json::to_string(&report).expect("report"));
}

/// Which child to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The full trawl pipeline.
    Trawl,
    /// Fetch only, a given URL list.
    CeilingA,
    /// Fetch, parse, follow links.
    CeilingB,
}

fn run_child(
    addr: SocketAddr,
    extra_seed: Option<&str>,
    mode: Mode,
    list: Option<&Path>,
) -> Report {
    let exe = std::env::current_exe().expect("own path");
    let mut c = Command::new(exe);
    c.env("TRAWL_BENCH_CHILD", addr.to_string());
    c.env("TRAWL_BENCH_MODE", format!("{mode:?}"));
    if let Some(s) = extra_seed {
        c.env("TRAWL_BENCH_EXTRA_SEED", s);
    }
    if let Some(l) = list {
        c.env("TRAWL_BENCH_LIST", l);
    }
    let out = c.output().expect("child runs");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.lines().last().unwrap_or("")).expect("child report")
}

fn healthy_rate(server: &trawl::demo::ServerHandle, before: &[usize]) -> (u64, f64) {
    let mut first = None::<Instant>;
    let mut last = None::<Instant>;
    let mut n = 0u64;
    for (m, skip) in Mirror::ALL.iter().zip(before) {
        let starts = server.request_starts(m.host());
        for s in &starts[*skip..] {
            n += 1;
            first = Some(first.map_or(*s, |f: Instant| f.min(*s)));
            last = Some(last.map_or(*s, |l: Instant| l.max(*s)));
        }
    }
    let window = match (first, last) {
        (Some(f), Some(l)) => (l - f).as_secs_f64(),
        _ => 0.0,
    };
    (n, n as f64 / window.max(1e-9))
}

async fn faults() {
    let network = Arc::new(Network::generate(7, 1500));
    let server = serve(network, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server");
    let addr = server.addr();
    let mut rates = Vec::new();
    for (name, seed) in [
        ("without the faulty host", None),
        (
            "with the faulty host",
            Some(format!("http://{FAULT_HOST}/")),
        ),
    ] {
        let before: Vec<usize> = Mirror::ALL
            .iter()
            .map(|m| server.request_starts(m.host()).len())
            .collect();
        let report = tokio::task::spawn_blocking(move || {
            run_child(addr, seed.as_deref(), Mode::Trawl, None)
        })
        .await
        .expect("join");
        let (n, rate) = healthy_rate(&server, &before);
        println!(
            "  {name:<24} healthy hosts: {n} requests, {rate:>7.0} pages/s (crawl {:.1}s)",
            report.seconds
        );
        rates.push(rate);
    }
    println!(
        "  healthy throughput with / without the faulty host: {:.2}",
        rates[1] / rates[0]
    );
    server.shutdown().await;
}

async fn memory() {
    let mut rss = Vec::new();
    let sizes: Vec<usize> = std::env::var("TRAWL_BENCH_ARTICLES")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.parse().ok()).collect())
        .unwrap_or_else(|| vec![2_000, 20_000]);
    for articles in sizes {
        let network = Arc::new(Network::generate(8, articles));
        let server = serve(network, SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("server");
        let addr = server.addr();
        let r = tokio::task::spawn_blocking(move || run_child(addr, None, Mode::Trawl, None))
            .await
            .expect("join");
        println!(
            "  {articles:>6} articles: {:>7} pages in {:>6.1}s = {:>6.0} pages/s, {:.2} CPU s per 1,000 pages, peak RSS {:.0} MiB ({:.0} MiB when the crawl ended, before the search index)",
            r.pages,
            r.seconds,
            r.pages as f64 / r.seconds,
            r.cpu_seconds * 1000.0 / r.pages as f64,
            r.peak_rss_mib,
            r.crawl_peak_rss_mib
        );
        print_threads(&r);
        rss.push(r.peak_rss_mib);
        server.shutdown().await;
    }
    if let (Some(first), Some(last)) = (rss.first(), rss.last()) {
        println!("  peak RSS, largest / smallest crawl: {:.2}", last / first);
    }
}

/// One line of the throughput table.
fn print_row(name: &str, r: &Report, bytes: u64, baseline: f64) {
    let rate = r.pages as f64 / r.seconds;
    println!(
        "  {name:<34} {:>7} pages {:>6.1}s {:>7.0} pages/s {:>6.1} MB/s {:>5.2} CPU s/1k pages  peak RSS {:>4.0} MiB  {:>5.2}x ceiling B",
        r.pages,
        r.seconds,
        rate,
        bytes as f64 / r.seconds / 1e6,
        r.cpu_seconds * 1000.0 / r.pages.max(1) as f64,
        r.peak_rss_mib,
        rate / baseline
    );
    print_threads(r);
}

/// The crawl's CPU per 1,000 pages by thread group, largest first.
fn print_threads(r: &Report) {
    let mut groups: Vec<(&String, &f64)> = r.threads.iter().filter(|(_, s)| **s > 0.0).collect();
    groups.sort_by(|a, b| b.1.total_cmp(a.1));
    let per_1k = |s: f64| s * 1000.0 / r.pages.max(1) as f64;
    let list: Vec<String> = groups
        .iter()
        .map(|(name, s)| format!("{name} {:.3}", per_1k(**s)))
        .collect();
    println!("      CPU s/1k pages by thread: {}", list.join(", "));
}

/// Total body bytes the server sent so far.
fn served_bytes(server: &trawl::demo::ServerHandle) -> u64 {
    Mirror::ALL
        .iter()
        .map(|m| server.body_bytes(m.host()))
        .sum()
}

/// Ceiling A (fetch only), ceiling B (fetch, parse, follow links) and trawl (the whole
/// pipeline) on one generated network, each in a child process, one after the other.
async fn throughput() {
    let articles = std::env::var("TRAWL_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.split(',').next().and_then(|n| n.parse().ok()))
        .unwrap_or(7_000);
    let network = Arc::new(Network::generate(9, articles));
    let server = serve(network, SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("server");
    let addr = server.addr();
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("urls.txt");
    let mut rows = Vec::new();
    for (name, mode) in [
        ("trawl (full pipeline)", Mode::Trawl),
        ("ceiling A (fetch only)", Mode::CeilingA),
        ("ceiling B (fetch + parse + links)", Mode::CeilingB),
    ] {
        let before = served_bytes(&server);
        let list = list.clone();
        let r = tokio::task::spawn_blocking(move || run_child(addr, None, mode, Some(&list)))
            .await
            .expect("join");
        rows.push((name, r, served_bytes(&server) - before));
    }
    let b = rows[2].1.pages as f64 / rows[2].1.seconds;
    println!(
        "  network: {articles} articles over {} hosts",
        Mirror::ALL.len()
    );
    for (name, r, bytes) in [&rows[1], &rows[2], &rows[0]] {
        print_row(name, r, *bytes, b);
    }
    server.shutdown().await;
}

fn main() {
    if let Ok(addr) = std::env::var("TRAWL_BENCH_CHILD") {
        // As the trawl binary does.
        trawl::limit_malloc_arenas();
        let addr: SocketAddr = addr.parse().expect("address from parent");
        let list = std::env::var("TRAWL_BENCH_LIST").ok();
        return match std::env::var("TRAWL_BENCH_MODE").as_deref() {
            Ok("CeilingA") => ceiling_child(addr, list),
            Ok("CeilingB") => ceiling_child(addr, None),
            _ => child(addr, std::env::var("TRAWL_BENCH_EXTRA_SEED").ok(), list),
        };
    }
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |name: &str| which.is_empty() || which.iter().any(|w| w == name);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if want("faults") {
        println!("faults: demo network (1,500 articles), healthy hosts' throughput");
        rt.block_on(faults());
    }
    if want("throughput") {
        println!("throughput: ceilings A and B and the full pipeline (child processes)");
        rt.block_on(throughput());
    }
    if want("memory") {
        println!("memory: crawl size vs peak RSS (child processes)");
        rt.block_on(memory());
    }
}
