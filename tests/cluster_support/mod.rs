//! Helpers for the cluster tests: a real `redis-server` on a free loopback port with a
//! temporary directory (append-only, so a restart keeps its data), the demo network served
//! on its own runtime, worker processes of the real binary, and the comparison of a merged
//! store with a single-process crawl.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use trawl::config::{Overrides, Settings};
use trawl::demo::{Mirror, Network, ServerHandle};
use trawl::model::RecordId;
use trawl::store::Store;

/// A `redis-server` child process; stopped when dropped.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    l.local_addr().expect("its address").port()
}

fn have_redis() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl RedisServer {
    /// Starts a server, or returns `None` (with a printed notice) when `redis-server` is not
    /// installed. With `TRAWL_REQUIRE_REDIS=1` (CI) its absence is a failure.
    pub fn start() -> Option<RedisServer> {
        if !have_redis() {
            if std::env::var("TRAWL_REQUIRE_REDIS").is_ok_and(|v| v == "1") {
                panic!("TRAWL_REQUIRE_REDIS=1 but redis-server is not on PATH");
            }
            eprintln!("SKIPPED: redis-server is not on PATH (apt-get install redis-server)");
            return None;
        }
        let mut server = RedisServer {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("a temp dir"),
        };
        server.spawn();
        Some(server)
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--save", "", "--appendonly", "yes", "--daemonize", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        // Readiness, not a timing assertion: wait until it answers PING.
        let client = redis::Client::open(self.url()).expect("a valid URL");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut con) = client.get_connection() {
                if redis::cmd("PING").query::<String>(&mut con).is_ok() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "redis-server did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// A connection for direct inspection.
    pub fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection())
            .expect("a connection to the test redis")
    }

    /// Stops the server (SIGTERM: it writes its append-only file and exits).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGTERM is a clean shutdown for redis-server.
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(child.id().to_string())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The demo network served on a runtime of its own, so tests can block freely.
pub struct Demo {
    pub runtime: tokio::runtime::Runtime,
    pub server: ServerHandle,
    pub network: Arc<Network>,
}

impl Demo {
    /// Serves `Network::generate(seed, articles)` on 127.0.0.1.
    pub fn start(seed: u64, articles: usize) -> Demo {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let network = Arc::new(Network::generate(seed, articles));
        let server = runtime.block_on(trawl::demo::serve(
            network.clone(),
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ));
        Demo {
            runtime,
            server: server.expect("the demo server starts"),
            network,
        }
    }

    /// `--resolve HOST=ADDR` for every demo host.
    pub fn resolve_args(&self) -> Vec<String> {
        Mirror::ALL
            .iter()
            .flat_map(|m| {
                [
                    "--resolve".to_string(),
                    format!("{}={}", m.host(), self.server.addr()),
                ]
            })
            .collect()
    }

    /// A single-process crawl of the network into `dir` (the reference), with `extra` flags.
    pub fn crawl_single(&self, dir: &Path, config: &Path, extra: &[&str]) -> Store {
        let out = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["crawl", "--config"])
            .arg(config)
            .arg("--store")
            .arg(dir)
            .args(self.resolve_args())
            .args(extra)
            .args(["-q", "--format", "json"])
            .env_remove("TRAWL_STORE")
            .env_remove("TRAWL_CONFIG")
            .env_remove("RUST_LOG")
            .output()
            .expect("trawl runs");
        assert!(
            out.status.success(),
            "single crawl failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Store::open_existing(dir).expect("the single store opens")
    }
}

/// The demo config with a `[cluster]` section (short leases for the tests), written to `dir`.
pub fn cluster_config(dir: &Path, lease_ms: u64, deadline_ms: u64) -> PathBuf {
    let path = dir.join("cluster.toml");
    let text = format!(
        "{}\n[cluster]\nlease_ms = {lease_ms}\ndeadline_ms = {deadline_ms}\n",
        trawl::config::DEMO_CONFIG
    );
    std::fs::write(&path, text).expect("the config is written");
    // Checked here so a config mistake fails as such, not as a crawl failure.
    Settings::load(Some(&path), &Overrides::default()).expect("the test config is valid");
    path
}

/// A worker process of the real binary, its stderr kept in a file.
pub struct Worker {
    pub name: String,
    pub child: Child,
    pub store: PathBuf,
    pub log: PathBuf,
}

impl Worker {
    /// Starts `trawl crawl --cluster URL --worker NAME` into `store`.
    pub fn spawn(
        demo: &Demo,
        config: &Path,
        redis: &str,
        name: &str,
        store: PathBuf,
        extra: &[&str],
    ) -> Worker {
        let log = store.with_extension("log");
        let err = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_trawl"))
            .args(["crawl", "--config"])
            .arg(config)
            .arg("--store")
            .arg(&store)
            .args(["--cluster", redis, "--worker", name, "--format", "json"])
            .args(demo.resolve_args())
            .args(extra)
            .env_remove("TRAWL_STORE")
            .env_remove("TRAWL_CONFIG")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("a worker starts");
        Worker {
            name: name.to_string(),
            child,
            store,
            log,
        }
    }

    /// Waits for the worker to exit and asserts it succeeded; returns its log.
    pub fn finish(mut self) -> String {
        let status = self.child.wait().expect("the worker is waited for");
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        assert!(
            status.success(),
            "worker {} failed ({status}):\n{log}",
            self.name
        );
        log
    }
}

/// `trawl merge OUT STORE…` through the binary; returns the merged store.
pub fn merge(config: &Path, out: &Path, stores: &[PathBuf]) -> Store {
    let o = Command::new(env!("CARGO_BIN_EXE_trawl"))
        .arg("merge")
        .arg("--config")
        .arg(config)
        .arg(out)
        .args(stores)
        .args(["--format", "json"])
        .env_remove("TRAWL_STORE")
        .env_remove("TRAWL_CONFIG")
        .output()
        .expect("trawl merge runs");
    assert!(
        o.status.success(),
        "merge failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    Store::open_existing(out).expect("the merged store opens")
}

/// Record id → sorted (host, URL) of every sighting.
pub fn sightings_by_record(store: &Store) -> BTreeMap<RecordId, Vec<(String, String)>> {
    let mut out: BTreeMap<RecordId, Vec<(String, String)>> = BTreeMap::new();
    for s in store.all_sightings() {
        let s = s.expect("a sighting decodes");
        out.entry(s.record).or_default().push((s.host, s.url));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

/// Asserts that `merged` holds what `single` holds: the same record ids, the same sightings
/// (host and URL) per record, and the same number of sightings per host.
pub fn assert_same_archive(single: &Store, merged: &Store) {
    let ids = |s: &Store| -> BTreeSet<RecordId> {
        s.records().map(|r| r.expect("a record").id).collect()
    };
    let (a, b) = (ids(single), ids(merged));
    assert!(!a.is_empty(), "the reference crawl archived nothing");
    assert_eq!(a.len(), b.len(), "record count");
    assert_eq!(a, b, "record ids");
    let (sa, sb) = (sightings_by_record(single), sightings_by_record(merged));
    for (id, want) in &sa {
        assert_eq!(sb.get(id), Some(want), "sightings of record {id}");
    }
    let per_host = |m: &BTreeMap<RecordId, Vec<(String, String)>>| {
        let mut h: BTreeMap<String, usize> = BTreeMap::new();
        for v in m.values() {
            for (host, _) in v {
                *h.entry(host.clone()).or_default() += 1;
            }
        }
        h
    };
    assert_eq!(per_host(&sa), per_host(&sb), "sightings per host");
    // Every merged record is whole: its copies are exactly the URLs it was seen at.
    for r in merged.records() {
        let r = r.expect("a record");
        let copies: BTreeSet<&str> = r.copies.iter().map(|c| c.url.as_str()).collect();
        let seen: BTreeSet<&str> = sb[&r.id].iter().map(|(_, u)| u.as_str()).collect();
        assert_eq!(copies, seen, "copies of record {}", r.id);
    }
}

/// Polls `f` until it returns `Some` (readiness of a condition, not a timing assertion; the
/// generous bound only turns a hang into a failure).
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
