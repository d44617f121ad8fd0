//! Several crawl workers sharing one frontier and one dedup index in a real Redis: their
//! merged stores equal a single-process crawl, whether all workers finish, one is killed
//! mid-crawl, or Redis restarts under them; and no host ever sees more concurrent requests
//! than its limit, whichever workers send them.

mod cluster_support;

use std::path::PathBuf;

use cluster_support::{
    assert_same_archive, cluster_config, merge, wait_for, Demo, RedisServer, Worker,
};
use trawl::cluster::status::status;
use trawl::demo::Mirror;

const SEED: u64 = 11;

#[test]
fn three_workers_merge_into_the_single_process_crawl() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = cluster_config(dir.path(), 2_000, 6_000);
    let reference = Demo::start(SEED, 60);
    let single = reference.crawl_single(&dir.path().join("single"), &config, &[]);

    let demo = Demo::start(SEED, 60);
    let stores: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("w{i}"))).collect();
    let workers: Vec<Worker> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Worker::spawn(
                &demo,
                &config,
                &redis.url(),
                &format!("w{}", i + 1),
                s.clone(),
                &[],
            )
        })
        .collect();
    for w in workers {
        w.finish();
    }
    let merged = merge(&config, &dir.path().join("merged"), &stores);
    assert_same_archive(&single, &merged);

    // The cluster run is over, and says so.
    let s = status(&redis.url()).unwrap();
    assert!(s.finished, "{s:?}");
    assert_eq!((s.queued, s.in_flight), (0, 0));
    // Every host was crawled, and none saw more than its limit at once (demo: 8).
    for m in Mirror::ALL {
        assert!(demo.server.requests(m.host()) > 0, "{}", m.host());
        assert!(demo.server.max_concurrent(m.host()) <= 8, "{}", m.host());
    }
}

#[test]
fn politeness_holds_across_the_cluster() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = cluster_config(dir.path(), 2_000, 6_000);
    let demo = Demo::start(SEED, 40);
    // One request per host at a time, cluster-wide: three workers each allowed 32 at once
    // would exceed it at once without host leases.
    let flags = ["--per-host-concurrency", "1", "--concurrency", "32"];
    let stores: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("w{i}"))).collect();
    let workers: Vec<Worker> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Worker::spawn(
                &demo,
                &config,
                &redis.url(),
                &format!("p{}", i + 1),
                s.clone(),
                &flags,
            )
        })
        .collect();
    for w in workers {
        w.finish();
    }
    for m in Mirror::ALL {
        assert!(
            demo.server.requests(m.host()) > 10,
            "{} was crawled",
            m.host()
        );
        assert_eq!(
            demo.server.max_concurrent(m.host()),
            1,
            "{} saw more than one request at once",
            m.host()
        );
    }
}

#[test]
fn a_killed_worker_loses_its_hosts_and_nothing_else() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Short leases and deadlines so that the takeover happens within the test.
    let config = cluster_config(dir.path(), 1_000, 2_000);
    // A per-host gap keeps the crawl going long enough to kill a worker in the middle of it.
    let slow = ["--delay-ms", "15"];
    let reference = Demo::start(SEED, 60);
    let single = reference.crawl_single(&dir.path().join("single"), &config, &slow);

    let demo = Demo::start(SEED, 60);
    let stores: Vec<PathBuf> = (1..=3).map(|i| dir.path().join(format!("k{i}"))).collect();
    let mut workers: Vec<Worker> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Worker::spawn(
                &demo,
                &config,
                &redis.url(),
                &format!("k{}", i + 1),
                s.clone(),
                &slow,
            )
        })
        .collect();
    // Wait until some worker holds a host and has finished pages, then kill it with SIGKILL.
    let (victim, hosts) = wait_for("a worker holding a host with work queued", || {
        let s = status(&redis.url()).ok()?;
        s.workers.iter().find_map(|w| {
            let busy: Vec<String> = w
                .hosts
                .iter()
                .filter(|h| s.queues.get(*h).is_some_and(|n| *n >= 5))
                .cloned()
                .collect();
            (w.alive && w.done >= 20 && !busy.is_empty()).then(|| (w.name.clone(), busy))
        })
    });
    let index = workers.iter().position(|w| w.name == victim).unwrap();
    let mut killed = workers.remove(index);
    killed.child.kill().unwrap();
    killed.child.wait().unwrap();
    let mut logs = Vec::new();
    for w in workers {
        logs.push(w.finish());
    }
    // The survivors crawled the victim's hosts after it died.
    let s = status(&redis.url()).unwrap();
    assert!(s.finished, "{s:?}");
    let survivors: Vec<_> = stores
        .iter()
        .filter(|p| **p != killed.store)
        .cloned()
        .collect();
    for host in &hosts {
        let crawled = survivors.iter().any(|p| {
            let store = trawl::store::Store::open_existing(p).unwrap();
            let found = store
                .url_states()
                .any(|u| u.unwrap().url.contains(host.as_str()));
            found
        });
        assert!(crawled, "no survivor crawled {host}, which {victim} held");
    }
    let merged = merge(&config, &dir.path().join("merged"), &stores);
    assert_same_archive(&single, &merged);
}

#[test]
fn a_redis_restart_pauses_the_crawl_and_loses_nothing() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = cluster_config(dir.path(), 10_000, 30_000);
    let slow = ["--delay-ms", "15"];
    let reference = Demo::start(SEED, 60);
    let single = reference.crawl_single(&dir.path().join("single"), &config, &slow);

    let demo = Demo::start(SEED, 60);
    let stores: Vec<PathBuf> = (1..=2).map(|i| dir.path().join(format!("r{i}"))).collect();
    let workers: Vec<Worker> = stores
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Worker::spawn(
                &demo,
                &config,
                &redis.url(),
                &format!("r{}", i + 1),
                s.clone(),
                &slow,
            )
        })
        .collect();
    wait_for("the crawl to be under way", || {
        let s = status(&redis.url()).ok()?;
        (s.workers.iter().map(|w| w.done).sum::<u64>() >= 30 && s.queued > 30).then_some(())
    });
    let before = demo.server.total_requests();
    redis.stop();
    // While Redis is down the workers pause: wait until they have sat on the outage a while
    // (progress here is the server's request count standing still between two looks).
    wait_for("the workers to stall", || {
        let a = demo.server.total_requests();
        std::thread::sleep(std::time::Duration::from_millis(300));
        (demo.server.total_requests() == a).then_some(())
    });
    assert!(demo.server.total_requests() >= before);
    redis.restart();
    let logs: Vec<String> = workers.into_iter().map(Worker::finish).collect();
    for log in &logs {
        assert!(
            log.contains("unreachable"),
            "a worker said it paused:\n{log}"
        );
        assert!(log.contains("is back"), "a worker said it resumed:\n{log}");
    }
    let merged = merge(&config, &dir.path().join("merged"), &stores);
    assert_same_archive(&single, &merged);
}
