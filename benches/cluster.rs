//! Cluster benchmark: the demo network crawled by one process (sled only) and by 1, 2 and 3
//! workers sharing a real `redis-server`, each crawl by the release `trawl` binary.
//!
//! Reports pages/s, CPU seconds per 1,000 pages (the workers', and with Redis's own CPU
//! added) against the single-process crawl, and Redis commands per page (from `INFO
//! commandstats`: the scripts and commands workers send, i.e. round trips, and every command
//! including those the scripts run).
//!
//! `cargo bench --bench cluster`; `TRAWL_BENCH_ARTICLES=N` sets the network size (default
//! 1,000 articles, about 5,000 pages); `TRAWL_BENCH_COMMANDS=1` also prints each Redis
//! command's calls per page; `TRAWL_BENCH_ROUNDS=N` (default 3) repeats the four crawls N
//! times, interleaved, and reports each one's median, because the machine is shared and
//! noisy. `TRAWL_BENCH_BEFORE=/path/to/an/older/trawl` runs that binary too, in the same rounds,
//! and reports it first. Skips with a notice when `redis-server` is missing.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trawl::demo::{serve, Mirror, Network};

fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes into the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_CHILDREN is a valid `who`; `u` is a valid, writable rusage.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn info(con: &mut redis::Connection, section: &str) -> BTreeMap<String, String> {
    let text: String = redis::cmd("INFO").arg(section).query(con).expect("INFO");
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.trim().to_string()))
        .collect()
}

fn redis_cpu(con: &mut redis::Connection) -> f64 {
    let i = info(con, "cpu");
    let f = |k: &str| i.get(k).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    f("used_cpu_user") + f("used_cpu_sys")
}

/// (script calls, all calls, calls per command) since the last CONFIG RESETSTAT.
fn commands(con: &mut redis::Connection) -> (u64, u64, BTreeMap<String, u64>) {
    let i = info(con, "commandstats");
    let mut scripts = 0;
    let mut all = 0;
    let mut each = BTreeMap::new();
    for (k, v) in i {
        let calls = v
            .split(',')
            .find_map(|f| f.strip_prefix("calls="))
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(0);
        if k == "cmdstat_info" || k == "cmdstat_config|resetstat" || k == "cmdstat_flushall" {
            continue;
        }
        all += calls;
        each.insert(k.trim_start_matches("cmdstat_").to_string(), calls);
        if k == "cmdstat_evalsha" || k == "cmdstat_eval" {
            scripts += calls;
        }
    }
    (scripts, all, each)
}

struct Run {
    pages: u64,
    seconds: f64,
    cpu: f64,
    redis_cpu: f64,
    scripts: u64,
    commands: u64,
    each: BTreeMap<String, u64>,
}

fn crawl(
    bin: &Path,
    resolve: &[String],
    config: &Path,
    cluster: Option<(&str, usize)>,
    con: &mut redis::Connection,
) -> Run {
    let dir = tempfile::tempdir().expect("temp dir");
    let workers = cluster.map_or(1, |(_, n)| n);
    let _: () = redis::cmd("FLUSHALL").query(con).expect("FLUSHALL");
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(con)
        .expect("RESETSTAT");
    let redis_before = redis_cpu(con);
    let cpu_before = children_cpu();
    let started = Instant::now();
    let children: Vec<_> = (0..workers)
        .map(|i| {
            let mut c = Command::new(bin);
            c.args(["crawl", "--config"])
                .arg(config)
                .arg("--store")
                .arg(dir.path().join(format!("w{i}")))
                .args(resolve)
                .args(["-q", "--format", "json"])
                .stdout(Stdio::piped())
                .env_remove("RUST_LOG");
            if let Some((url, _)) = cluster {
                c.args(["--cluster", url, "--worker", &format!("bench{i}")]);
            }
            c.spawn().expect("trawl starts")
        })
        .collect();
    let mut pages = 0;
    for child in children {
        let out = child.wait_with_output().expect("trawl runs");
        assert!(out.status.success(), "a crawl failed");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON summary");
        pages += v["pages"].as_u64().unwrap_or(0);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (scripts, commands, each) = if cluster.is_some() {
        commands(con)
    } else {
        (0, 0, BTreeMap::new())
    };
    Run {
        pages,
        seconds,
        cpu: children_cpu() - cpu_before,
        redis_cpu: redis_cpu(con) - redis_before,
        scripts,
        commands,
        each,
    }
}

/// CPU seconds per 1,000 pages.
fn per_k(r: &Run, cpu: f64) -> f64 {
    cpu / r.pages.max(1) as f64 * 1000.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// One binary's crawls: `runs[0]` the single process, `runs[n]` n workers, one per round.
struct Series {
    name: &'static str,
    bin: PathBuf,
    runs: Vec<Vec<Run>>,
    /// Per configuration and round: CPU over that round's single-process crawl, without and
    /// with Redis (a paired comparison, which the noise of a shared machine blurs least).
    ratios: Vec<Vec<(f64, f64)>>,
}

impl Series {
    fn new(name: &'static str, bin: PathBuf) -> Series {
        Series {
            name,
            bin,
            runs: (0..4).map(|_| Vec::new()).collect(),
            ratios: (0..4).map(|_| Vec::new()).collect(),
        }
    }
}

fn report(s: &Series, rounds: usize) {
    println!(
        "{}: median of {rounds} round(s) (percentages: median of the rounds' own ratios)",
        s.name
    );
    println!(
        "{:<16} {:>6} {:>8} {:>9} {:>16} {:>16} {:>12} {:>12}",
        "crawl",
        "pages",
        "seconds",
        "pages/s",
        "CPU s/1k pages",
        "+redis s/1k",
        "scripts",
        "commands"
    );
    for (workers, rs) in s.runs.iter().enumerate() {
        let pages = median(rs.iter().map(|r| r.pages as f64).collect());
        let seconds = median(rs.iter().map(|r| r.seconds).collect());
        let rate = median(rs.iter().map(|r| r.pages as f64 / r.seconds).collect());
        let cpu = median(rs.iter().map(|r| per_k(r, r.cpu)).collect());
        if workers == 0 {
            println!(
                "{:<16} {:>6.0} {:>8.2} {:>9.0} {:>16.3} {:>16} {:>12} {:>12}",
                "single process", pages, seconds, rate, cpu, "-", "-", "-"
            );
            continue;
        }
        let with_redis = median(rs.iter().map(|r| per_k(r, r.cpu + r.redis_cpu)).collect());
        let per_page = |n: fn(&Run) -> u64| {
            median(
                rs.iter()
                    .map(|r| n(r) as f64 / r.pages.max(1) as f64)
                    .collect(),
            )
        };
        println!(
            "{:<16} {:>6.0} {:>8.2} {:>9.0} {:>9.3} ({:+.0}%) {:>9.3} ({:+.0}%) {:>8.2}/page {:>8.2}/page",
            format!("{workers} worker(s)"),
            pages,
            seconds,
            rate,
            cpu,
            median(s.ratios[workers].iter().map(|r| r.0).collect()) * 100.0,
            with_redis,
            median(s.ratios[workers].iter().map(|r| r.1).collect()) * 100.0,
            per_page(|r| r.scripts),
            per_page(|r| r.commands),
        );
        if std::env::var_os("TRAWL_BENCH_COMMANDS").is_some() {
            let Some(r) = rs.last() else { continue };
            let mut each: Vec<_> = r.each.iter().collect();
            each.sort_by(|a, b| b.1.cmp(a.1));
            let line: Vec<String> = each
                .iter()
                .map(|(k, n)| format!("{k} {:.2}", **n as f64 / r.pages.max(1) as f64))
                .collect();
            println!("  per page: {}", line.join(", "));
        }
    }
}

fn main() {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: redis-server is not on PATH (apt-get install redis-server)");
        return;
    }
    let articles: usize = std::env::var("TRAWL_BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let redis_dir = tempfile::tempdir().expect("temp dir");
    let mut server = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .arg("--dir")
        .arg(redis_dir.path())
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server starts");
    let url = format!("redis://127.0.0.1:{port}/0");
    let client = redis::Client::open(url.as_str()).expect("a client");
    let mut con = loop {
        if let Ok(c) = client.get_connection() {
            break c;
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let network = Arc::new(Network::generate(7, articles));
    let handle = rt
        .block_on(serve(network, SocketAddr::from(([127, 0, 0, 1], 0))))
        .expect("the demo server starts");
    let resolve: Vec<String> = Mirror::ALL
        .iter()
        .flat_map(|m| {
            [
                "--resolve".to_string(),
                format!("{}={}", m.host(), handle.addr()),
            ]
        })
        .collect();
    let config_dir = tempfile::tempdir().expect("temp dir");
    let config = config_dir.path().join("bench.toml");
    // Listings paginate deep on a large network: follow them all.
    let toml = trawl::config::DEMO_CONFIG.replace("max_depth = 20", "max_depth = 1000000");
    std::fs::write(&config, toml).expect("config written");

    // With TRAWL_BENCH_BEFORE, another build (e.g. the previous commit's) runs in the same
    // rounds, so a change is measured against its baseline under the same load.
    let mut series = vec![Series::new(
        "this build",
        PathBuf::from(env!("CARGO_BIN_EXE_trawl")),
    )];
    if let Some(before) = std::env::var_os("TRAWL_BENCH_BEFORE") {
        series.insert(0, Series::new("before", PathBuf::from(before)));
    }
    println!("cluster benchmark: {articles} articles, 2 shared cores, release binary");
    // Rounds interleave the configurations, so that a burst of load from other work on the
    // machine hits all of them alike; the summary takes each configuration's median.
    let rounds: usize = std::env::var("TRAWL_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    for round in 1..=rounds {
        for s in &mut series {
            let single = crawl(&s.bin, &resolve, &config, None, &mut con);
            let base = per_k(&single, single.cpu);
            let mut line = format!("round {round}, {}: single {base:.3} s/1k pages", s.name);
            s.runs[0].push(single);
            for (workers, (slot, ratio)) in s.runs.iter_mut().zip(&mut s.ratios).enumerate().skip(1)
            {
                let r = crawl(&s.bin, &resolve, &config, Some((&url, workers)), &mut con);
                let pair = (
                    per_k(&r, r.cpu) / base - 1.0,
                    per_k(&r, r.cpu + r.redis_cpu) / base - 1.0,
                );
                line += &format!(
                    "; {workers}w {:+.0}% ({:+.0}% with Redis)",
                    pair.0 * 100.0,
                    pair.1 * 100.0
                );
                slot.push(r);
                ratio.push(pair);
            }
            println!("{line}");
        }
    }
    for s in &series {
        report(s, rounds);
    }
    let _ = server.kill();
    let _ = server.wait();
}
