//! `trawl cluster status`: what a cluster run looks like from Redis. Reads only.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{run_prefix, ClusterError, Conn, PREFIX};
use crate::model::RunId;

/// One worker as the cluster sees it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkerStatus {
    /// Its name.
    pub name: String,
    /// Whether its heartbeat is current.
    pub alive: bool,
    /// Seconds since its last heartbeat.
    pub last_seen_secs: f64,
    /// Hosts it holds a lease on.
    pub hosts: Vec<String>,
    /// URLs it has in flight (taken and not yet reported done).
    pub in_flight: u64,
    /// URLs it finished in this run.
    pub done: u64,
    /// Finished URLs per second since it joined the run.
    pub pages_per_sec: f64,
}

/// The state of the current cluster run.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClusterStatus {
    /// The Redis server.
    pub redis: String,
    /// The current run (0: none yet).
    pub run: u64,
    /// Whether the run is finished.
    pub finished: bool,
    /// Every worker that joined the run.
    pub workers: Vec<WorkerStatus>,
    /// Entries queued per host (hosts with an empty queue are left out).
    pub queues: BTreeMap<String, u64>,
    /// Entries queued in all.
    pub queued: u64,
    /// URLs in flight in all.
    pub in_flight: u64,
    /// URLs seen in the run (queued, in flight or done).
    pub seen: u64,
    /// URLs put back after their worker vanished.
    pub reaped: u64,
    /// Finished URLs per second over the live workers.
    pub pages_per_sec: f64,
}

/// One pipeline's answer: server time, finished, workers with their alive-until, hosts with
/// work, URLs in flight, URLs seen, URLs reaped.
type Overview = (
    (u64, u64),
    bool,
    Vec<(String, f64)>,
    Vec<String>,
    u64,
    u64,
    Option<u64>,
);

fn field(map: &BTreeMap<String, String>, k: &str) -> f64 {
    map.get(k).and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

/// Reads the status of the current run at `url`.
pub fn status(url: &str) -> Result<ClusterStatus, ClusterError> {
    let mut conn = Conn::new(url, "status")?;
    conn.check()?;
    let run: Option<u64> =
        conn.run(|con| redis::cmd("GET").arg(format!("{PREFIX}run")).query(con))?;
    let mut out = ClusterStatus {
        redis: url.to_string(),
        run: run.unwrap_or(0),
        ..Default::default()
    };
    if out.run == 0 {
        return Ok(out);
    }
    let p = run_prefix(RunId(out.run));
    let (time, finished, workers, hosts, in_flight, seen, reaped): Overview = conn.run(|con| {
        redis::pipe()
            .cmd("TIME")
            .cmd("EXISTS")
            .arg(format!("{p}finished"))
            .cmd("ZRANGE")
            .arg(format!("{p}workers"))
            .arg(0)
            .arg(-1)
            .arg("WITHSCORES")
            .cmd("SMEMBERS")
            .arg(format!("{p}hosts"))
            .cmd("ZCARD")
            .arg(format!("{p}inflight:d"))
            .cmd("SCARD")
            .arg(format!("{p}seen"))
            .cmd("GET")
            .arg(format!("{p}reaped"))
            .query(con)
    })?;
    let now_ms = time.0 as f64 * 1000.0 + (time.1 / 1000) as f64;
    out.finished = finished;
    out.in_flight = in_flight;
    out.seen = seen;
    out.reaped = reaped.unwrap_or(0);
    let lens: Vec<u64> = if hosts.is_empty() {
        Vec::new()
    } else {
        conn.run(|con| {
            let mut pipe = redis::pipe();
            for h in &hosts {
                pipe.cmd("LLEN").arg(format!("{p}q:{h}"));
            }
            pipe.query(con)
        })?
    };
    for (h, n) in hosts.iter().zip(lens) {
        if n > 0 {
            out.queued += n;
            out.queues.insert(h.clone(), n);
        }
    }
    // Leases: one key per leased host.
    let mut leases: Vec<(String, String)> = Vec::new();
    let pattern = format!("{p}lease:*");
    let keys: Vec<String> = conn.run(|con| {
        let mut keys = Vec::new();
        let mut cursor: u64 = 0;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pattern)
                .arg("COUNT")
                .arg(1000)
                .query(con)?;
            keys.extend(batch);
            if next == 0 {
                return Ok(keys);
            }
            cursor = next;
        }
    })?;
    if !keys.is_empty() {
        let owners: Vec<Option<String>> =
            conn.run(|con| redis::cmd("MGET").arg(&keys).query(con))?;
        for (k, o) in keys.iter().zip(owners) {
            if let (Some(o), Some(h)) = (o, k.strip_prefix(&format!("{p}lease:"))) {
                leases.push((o, h.to_string()));
            }
        }
    }
    for (name, alive_until) in workers {
        let info: BTreeMap<String, String> =
            conn.run(|con| redis::cmd("HGETALL").arg(format!("{p}w:{name}")).query(con))?;
        let (seen_ms, started_ms) = (field(&info, "seen"), field(&info, "started"));
        let done = field(&info, "done") as u64;
        let secs = ((seen_ms - started_ms) / 1000.0).max(0.001);
        let mut hosts: Vec<String> = leases
            .iter()
            .filter(|(o, _)| *o == name)
            .map(|(_, h)| h.clone())
            .collect();
        hosts.sort();
        let w = WorkerStatus {
            alive: alive_until >= now_ms,
            last_seen_secs: ((now_ms - seen_ms) / 1000.0).max(0.0),
            in_flight: field(&info, "inflight") as u64,
            pages_per_sec: done as f64 / secs,
            done,
            hosts,
            name,
        };
        if w.alive {
            out.pages_per_sec += w.pages_per_sec;
        }
        out.workers.push(w);
    }
    out.workers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
