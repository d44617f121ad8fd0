//! Export and search at scale: generates a store of N records (default 100,000; each seen on
//! three hosts, with a kept raw response) directly through `Store::ingest`, then runs the
//! `trawl` binary the way a user would and reports wall time and peak RSS of each command.
//!
//! Run: `cargo bench --bench export` (release build). `TRAWL_BENCH_RECORDS=N` changes N;
//! `TRAWL_BENCH_STORE=DIR` keeps the generated store in DIR and reuses it next time.
//! The export must stay under 100 MiB of peak RSS whatever N is.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;
use trawl::dedup::{admit, Candidate, CanonicalPolicy};
use trawl::model::{ContentHash, Post, RawResponse, Sighting, UrlState};
use trawl::store::{Ingest, Store};

const HOSTS: [&str; 3] = ["news.origin.test", "m.mirror.test", "blog.copy.test"];
const CJK: &str = "中国人民银行今日宣布下调存款准备金率市场资金面保持合理充裕证券公司基金投资者上涨下跌指数板块新能源汽车电池光伏科技创新发展经济增长消费需求企业利润营业收入同比公告计划建设项目";

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn generate(dir: &Path, n: usize) {
    let store = Store::open(dir).expect("store opens");
    let (run, _) = store.begin_run(false).expect("run");
    let policy = CanonicalPolicy::default();
    let chars: Vec<char> = CJK.chars().collect();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let t0 = Utc
        .with_ymd_and_hms(2022, 1, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    for i in 0..n {
        let para = |rng: &mut Rng| -> String {
            (0..300)
                .map(|_| chars[(rng.next() % chars.len() as u64) as usize])
                .collect()
        };
        let body: Vec<String> = (0..4).map(|_| para(&mut rng)).collect();
        let title: String = format!("{}{i}", para(&mut rng).chars().take(20).collect::<String>());
        let hash = ContentHash(*blake3::hash(format!("{title}{body:?}").as_bytes()).as_bytes());
        let published = t0 + Duration::minutes(i as i64);
        for (k, host) in HOSTS.iter().enumerate() {
            let url = format!("http://{host}/a/{i}.html");
            let seen = published + Duration::hours(k as i64 + 1);
            let post = Post {
                url: url.clone(),
                title: title.clone(),
                published: Some(published.fixed_offset()),
                source: Some(["新华社", "证券时报", "财联社"][i % 3].into()),
                author: None,
                body: body.clone(),
                language: Some("zh".into()),
                extractor: "generic".into(),
            };
            let candidate = Candidate {
                post,
                url: url.clone(),
                host: host.to_string(),
                hash,
                seen,
                chars: body.iter().map(|p| p.chars().count()).sum(),
                near: None,
            };
            // Built from JSON so that fields added to the model later take their defaults.
            let sighting: Sighting = serde_json::from_value(json!({
                "record": "00000000000000000000000000000000", "url": url, "host": host,
                "fetched_at": seen, "status": 200, "hash": hash, "extractor": "generic",
                "title": title, "run": run.id, "charset": "UTF-8 (header)"
            }))
            .expect("sighting JSON");
            let url_state: UrlState = serde_json::from_value(json!({
                "url": url, "last_fetch": seen, "outcome": {"outcome": "hub"}, "run": run.id,
                "status": 200
            }))
            .expect("url state JSON");
            let html = format!(
                "<html><head><title>{title}</title></head><body><p>{}</p></body></html>",
                body.join("</p><p>")
            );
            let raw = RawResponse {
                url: url.clone(),
                status: 200,
                headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
                body: html.into_bytes(),
                fetched_at: seen,
            };
            let ingest = Ingest {
                hash,
                sighting,
                url_state,
                raw: Some(raw),
                near: None,
                chars: candidate.chars,
            };
            store
                .ingest(
                    &ingest,
                    |_, _| None,
                    |e, near| admit(e, near, &candidate, &policy),
                )
                .expect("ingest");
        }
    }
    store.flush().expect("flush");
}

/// Runs the binary; returns (seconds, peak RSS in MiB).
// The child is reaped by wait4 (which also yields its rusage), not by Child::wait.
#[allow(clippy::zombie_processes)]
fn measure(args: &[&str], store: &Path) -> (f64, f64) {
    let t = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .arg("--store")
        .arg(store)
        .arg("-q")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("trawl runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it for our own child's pid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{args:?} failed"
    );
    (t.elapsed().as_secs_f64(), usage.ru_maxrss as f64 / 1024.0)
}

fn main() {
    let n: usize = std::env::var("TRAWL_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    // TRAWL_BENCH_STORE=DIR keeps the generated store there and reuses it on the next run
    // (generating 100,000 records takes minutes).
    let store = std::env::var_os("TRAWL_BENCH_STORE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("store"));
    let t = Instant::now();
    if !store.exists() {
        generate(&store, n);
    }
    let size = Store::open_existing(&store)
        .expect("reopen")
        .size_on_disk()
        .expect("size");
    println!(
        "generated {n} records ({} sightings) in {:.1}s; store {:.0} MiB on disk",
        n * HOSTS.len(),
        t.elapsed().as_secs_f64(),
        size as f64 / 1048576.0
    );
    for (format, all) in [
        ("jsonl", false),
        ("csv", false),
        ("parquet", false),
        ("parquet", true),
        ("warc", false),
    ] {
        let out = dir.path().join(format!("out.{format}"));
        let mut args = vec![
            "export",
            "--format",
            format,
            "--out",
            out.to_str().expect("utf-8 path"),
        ];
        if all {
            args.push("--all-copies");
        }
        let (secs, rss) = measure(&args, &store);
        let bytes = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        println!(
            "export {format:<7}{} {secs:6.1}s  peak RSS {rss:5.1} MiB  {:6.0} MiB written  {}",
            if all {
                " --all-copies"
            } else {
                "             "
            },
            bytes as f64 / 1048576.0,
            if rss < 100.0 { "ok" } else { "OVER 100 MiB" }
        );
        let _ = std::fs::remove_file(&out);
    }
    let (secs, rss) = measure(&["search", "人民银行", "--limit", "10"], &store);
    println!("first search (builds the index for {n} records): {secs:.1}s, peak RSS {rss:.0} MiB");
    for q in [
        "人民银行",
        "光伏",
        "新能源汽车电池",
        "资金面保持合理充裕",
        "12345",
    ] {
        let (secs, _) = measure(&["search", q, "--limit", "10"], &store);
        println!("search {q:<12} {:6.0} ms (whole process)", secs * 1000.0);
    }
}
