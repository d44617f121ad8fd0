//! Crash safety and graceful stop, through the real binary: a crawl killed with SIGKILL at
//! random points (seeded), then re-run, ends with the same store as an uninterrupted crawl;
//! SIGTERM stops a crawl cleanly (exit 0, resumable); a second process on the same store gets
//! a clear error naming the first.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use trawl::demo::Network;
use trawl::store::Store;

const DEMO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/demo.toml");

fn crawl_cmd(store: &Path, pins: &[String], slow: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_trawl"));
    c.args(["crawl", "--config", DEMO, "-q", "--store"])
        .arg(store);
    for p in pins {
        c.args(["--resolve", p]);
    }
    if slow {
        // Slow enough that kill points land mid-crawl.
        c.args(["--per-host-concurrency", "2", "--delay-ms", "4"]);
    }
    c.env_remove("TRAWL_STORE")
        .env_remove("TRAWL_CONFIG")
        .env_remove("RUST_LOG");
    c
}

fn finish(store: &Path, pins: &[String]) -> Output {
    let out = crawl_cmd(store, pins, false).output().expect("trawl runs");
    assert!(
        out.status.success(),
        "crawl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Record id → sightings per host, and the record count.
fn snapshot(store: &Path) -> (u64, BTreeMap<String, BTreeMap<String, u32>>) {
    let store = Store::open_existing(store).unwrap();
    let mut out = BTreeMap::new();
    for r in store.records() {
        let r = r.unwrap();
        let mut hosts: BTreeMap<String, u32> = BTreeMap::new();
        for s in store.sightings(r.id).unwrap() {
            *hosts.entry(s.host).or_default() += 1;
        }
        out.insert(r.id.to_hex(), hosts);
    }
    (store.counts().records, out)
}

/// splitmix64: a seeded sequence of kill points, the same on every run.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_points_then_resume_equals_an_uninterrupted_crawl() {
    let network = Arc::new(Network::generate(21, 120));
    let server = common::start(network.clone()).await;
    let pins = common::pins(server.addr());
    let base = tempfile::tempdir().unwrap();
    finish(base.path(), &pins);
    let expected = snapshot(base.path());
    assert_eq!(expected.0, 120);

    let trials: u64 = std::env::var("TRAWL_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let mut rng = 20221208u64;
    let mut killed_mid_crawl = 0;
    for trial in 0..trials {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let mut child: Child = crawl_cmd(&store, &pins, true)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let at = Duration::from_millis(20 + next(&mut rng) % 900);
        tokio::time::sleep(at).await;
        let still_running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        if still_running {
            killed_mid_crawl += 1;
        }
        // A plain re-run resumes whatever the kill left.
        let out = finish(&store, &pins);
        let got = snapshot(&store);
        // `TRAWL_KEEP_FAILED=1` keeps a failing trial's store for inspection.
        if got != expected && std::env::var("TRAWL_KEEP_FAILED").is_ok() {
            let kept = dir.keep();
            eprintln!("KEPT {}", kept.display());
        }
        assert_eq!(
            got,
            expected,
            "trial {trial}: killed after {at:?}; resume output: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
    assert!(
        killed_mid_crawl * 2 >= trials,
        "most kills should land mid-crawl ({killed_mid_crawl} of {trials})"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_cleanly_and_a_second_writer_is_refused() {
    let network = Arc::new(Network::generate(22, 150));
    let server = common::start(network.clone()).await;
    let pins = common::pins(server.addr());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let mut slow = crawl_cmd(&store, &pins, false);
    slow.args(["--per-host-concurrency", "1", "--delay-ms", "40"]);
    let child = slow
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first process holds the store, then try a second one.
    let holder = store.join("holder");
    for _ in 0..500 {
        if holder.exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(holder.exists(), "the crawl did not open its store");
    // And let it get going, so the stop interrupts real work.
    for _ in 0..500 {
        if server.total_requests() > 10 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let second = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["stats", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(1), "{err}");
    assert!(
        err.contains("in use by another trawl process")
            && err.contains(&format!("pid {}", child.id())),
        "{err}"
    );

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "SIGTERM must exit 0: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("run the same command again to resume"),
        "{stdout}"
    );

    let runs = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(["runs", "--format", "json", "--store"])
        .arg(&store)
        .output()
        .unwrap();
    let last: serde_json::Value = serde_json::from_slice(
        runs.stdout
            .split(|b| *b == b'\n')
            .rfind(|l| !l.is_empty())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last["ended"], "stopped");
    assert!(last["finished"].is_null());

    let out = finish(&store, &pins);
    assert!(String::from_utf8_lossy(&out.stdout).contains("(resumed)"));
    let base = tempfile::tempdir().unwrap();
    finish(base.path(), &pins);
    assert_eq!(snapshot(&store), snapshot(base.path()));
    server.shutdown().await;
}
