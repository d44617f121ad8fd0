//! The cluster commands as a user meets them: clear errors (exit 2) for a malformed Redis URL
//! or a server that is not Redis, `trawl cluster status` in both formats, `trawl merge`'s
//! refusal to write into a store that holds data.

mod cluster_support;

use std::process::{Command, Output};

use cluster_support::{Demo, RedisServer};

fn trawl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
        .args(args)
        .env_remove("TRAWL_STORE")
        .env_remove("TRAWL_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("trawl runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn demo_config(dir: &std::path::Path) -> String {
    let p = dir.join("demo.toml");
    std::fs::write(&p, trawl::config::DEMO_CONFIG).unwrap();
    p.display().to_string()
}

#[test]
fn a_malformed_cluster_url_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let store = dir.path().join("s").display().to_string();
    for bad in [
        "http://127.0.0.1:6379/0",
        "redis://127.0.0.1:6379/first",
        "127.0.0.1:6379",
    ] {
        let o = trawl(&[
            "crawl",
            "--config",
            &config,
            "--store",
            &store,
            "--cluster",
            bad,
            "--worker",
            "w1",
        ]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("redis://HOST:PORT/DB"),
            "{}",
            stderr(&o)
        );
        let o = trawl(&["cluster", "status", "--cluster", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", stderr(&o));
    }
    let o = trawl(&[
        "crawl", "--config", &config, "--store", &store, "--worker", "w1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--worker"), "{}", stderr(&o));
}

#[test]
fn a_server_that_is_not_redis_is_a_usage_error() {
    // The demo's HTTP server answers, but not in Redis's protocol.
    let demo = Demo::start(1, 5);
    let url = format!("redis://{}/0", demo.server.addr());
    let dir = tempfile::tempdir().unwrap();
    let config = demo_config(dir.path());
    let store = dir.path().join("s").display().to_string();
    let o = trawl(&[
        "crawl",
        "--config",
        &config,
        "--store",
        &store,
        "--cluster",
        &url,
        "--worker",
        "w1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not answer like a Redis server"),
        "{}",
        stderr(&o)
    );
    let o = trawl(&["cluster", "status", "--cluster", &url]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn status_reports_an_empty_cluster_and_a_finished_run() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let o = trawl(&["cluster", "status", "--cluster", &redis.url()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("no cluster run"));

    let demo = Demo::start(3, 10);
    let dir = tempfile::tempdir().unwrap();
    let config = cluster_support::cluster_config(dir.path(), 1_000, 2_000);
    let w = cluster_support::Worker::spawn(
        &demo,
        &config,
        &redis.url(),
        "solo",
        dir.path().join("solo"),
        &[],
    );
    w.finish();
    let o = trawl(&[
        "cluster",
        "status",
        "--cluster",
        &redis.url(),
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["run"], 1);
    assert_eq!(v["finished"], true);
    assert_eq!(v["queued"], 0);
    assert_eq!(v["in_flight"], 0);
    let w = &v["workers"][0];
    assert_eq!(w["name"], "solo");
    assert_eq!(w["alive"], false, "a worker that left is not alive");
    assert!(w["done"].as_u64().unwrap() > 10);
    let o = trawl(&["cluster", "status", "--cluster", &redis.url()]);
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        table.contains("cluster run 1") && table.contains("finished") && table.contains("solo"),
        "{table}"
    );

    // A merge writes only into an empty store.
    let solo = dir.path().join("solo").display().to_string();
    let out = dir.path().join("merged").display().to_string();
    let config = config.display().to_string();
    let o = trawl(&["merge", "--config", &config, &out, &solo]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("merged 1 stores"));
    let o = trawl(&["merge", "--config", &config, &out, &solo]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
}
