//! Three `drydock serve` replicas on one database, a 500-member staged run, and the replica
//! driving it SIGKILLed (then SIGSTOPped) mid-run: another takes the run over within seconds,
//! the run completes, every member is upgraded exactly once by the simulator's log, and the
//! run's timeline has each member start and finish once.

use crate::common;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const MEMBERS: usize = 500;

fn call(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, reply) = common::http(port, method, path, body.as_ref())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(status < 300, "{method} {path} answered {status}: {reply}");
    reply
}

struct Replica {
    port: u16,
    id: String,
    process: common::KillOnDrop,
}

impl Replica {
    fn start(db: &str, port: u16, id: &str) -> Self {
        let args = [
            "--database-url",
            db,
            "--time-scale",
            "5000",
            "--seed",
            "7",
            "--replica-id",
            id,
        ];
        Self {
            port,
            id: id.to_owned(),
            process: common::spawn_serve(port, &args),
        }
    }

    fn signal(&self, signal: &str) {
        let done = std::process::Command::new("kill")
            .args([signal, &self.process.0.id().to_string()])
            .status()
            .unwrap();
        assert!(done.success());
    }
}

/// The replica whose hold on the run lasts now, by the database's own record.
async fn driver(pool: &sqlx::AnyPool) -> Option<String> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    sqlx::query_scalar("SELECT driver FROM runs WHERE name = 'run-1' AND driver_until > $1")
        .bind(now_ms)
        .fetch_optional(pool)
        .await
        .unwrap()
        .flatten()
}

fn run_state(port: u16) -> String {
    match common::http(port, "GET", "/api/v1/fleets/ha/updateRuns/run-1", None) {
        Ok((200, run)) => run["properties"]["status"]["status"]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        _ => String::new(),
    }
}

/// Waits for a replica other than `gone` to hold the run; how long it took from `since`.
async fn taken_over(pool: &sqlx::AnyPool, gone: &str, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(30);
    loop {
        if let Some(now) = driver(pool).await
            && now != gone
        {
            return since.elapsed();
        }
        assert!(Instant::now() < deadline, "no replica took the run over");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_completion(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while run_state(port) != "Completed" {
        assert!(
            Instant::now() < deadline,
            "the run did not complete: {}",
            run_state(port)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// How many times each member's timeline says it started and completed.
async fn member_events(pool: &sqlx::AnyPool) -> BTreeMap<(String, String), usize> {
    let events: Vec<String> =
        sqlx::query_scalar("SELECT event FROM run_events WHERE run = 'run-1' ORDER BY id")
            .fetch_all(pool)
            .await
            .unwrap();
    let mut counts = BTreeMap::new();
    for text in events {
        let event: Value = serde_json::from_str(&text).unwrap();
        if event["subject"]["type"] == "member" {
            let key = (
                event["subject"]["name"].as_str().unwrap().to_owned(),
                event["state"].as_str().unwrap().to_owned(),
            );
            *counts.entry(key).or_insert(0) += 1;
        }
    }
    counts
}

fn percentile(sorted: &[Duration], share: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * share).round() as usize]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_driving_replica_killed_or_paused_mid_run_another_finishes_it_upgrading_each_member_once()
 {
    let db = common::temp_db();
    let ids = ["replica-1", "replica-2", "replica-3"];
    let mut replicas: Vec<Replica> = ids
        .iter()
        .map(|id| Replica::start(&db, common::free_port(), id))
        .collect();
    crate::crash::set_up(replicas[0].port, "ha", MEMBERS);
    let pool = common::raw_pool(&db).await;
    let mut takeovers = Vec::new();
    let mut rng = 0x5eed_u64;
    for _ in 0..4 {
        let pause = 400 + next(&mut rng) % 800;
        tokio::time::sleep(Duration::from_millis(pause)).await;
        if run_state(replicas[0].port) == "Completed" {
            break;
        }
        let Some(holder) = driver(&pool).await else {
            continue;
        };
        let victim = replicas.iter().position(|r| r.id == holder).unwrap();
        let killed = Instant::now();
        replicas[victim].process.kill(); // SIGKILL
        takeovers.push(taken_over(&pool, &holder, killed).await);
        let port = replicas[victim].port;
        replicas[victim] = Replica::start(&db, port, &holder);
    }
    assert!(
        takeovers.len() >= 3,
        "the kills must land mid-run ({} did)",
        takeovers.len()
    );

    // Split brain: the driver paused past its hold, another takes over, the first wakes up.
    if let Some(holder) = driver(&pool).await {
        let paused = replicas.iter().position(|r| r.id == holder).unwrap();
        let stopped = Instant::now();
        replicas[paused].signal("-STOP");
        takeovers.push(taken_over(&pool, &holder, stopped).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
        replicas[paused].signal("-CONT");
    }

    let watcher = replicas.iter().map(|r| r.port).next().unwrap();
    wait_for_completion(watcher).await;
    let run = call(watcher, "GET", "/api/v1/fleets/ha/updateRuns/run-1", None);
    let members = common::run_members(&run["properties"]["status"]["stages"]);
    assert_eq!(members.len(), MEMBERS);
    assert!(members.iter().all(|m| m["status"]["state"] == "Completed"));
    let operations = call(watcher, "GET", "/api/v1/simulator/operations", None);
    let mut per_cluster: BTreeMap<String, usize> = BTreeMap::new();
    for op in operations["value"].as_array().unwrap() {
        *per_cluster
            .entry(op["cluster"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(per_cluster.len(), MEMBERS, "every member was upgraded");
    assert!(
        per_cluster.values().all(|n| *n == 1),
        "no member was upgraded twice: {per_cluster:?}"
    );
    let events = member_events(&pool).await;
    for i in 0..MEMBERS {
        for state in ["Running", "Completed"] {
            let key = (format!("c{i:03}"), state.to_owned());
            assert_eq!(
                events.get(&key),
                Some(&1),
                "member c{i:03} went {state} once in the timeline"
            );
        }
    }
    takeovers.sort();
    eprintln!(
        "takeover after a SIGKILL or SIGSTOP of the driving replica ({} times): p50 {:?}, max {:?}",
        takeovers.len(),
        percentile(&takeovers, 0.5),
        takeovers.last().unwrap()
    );
}

/// A tiny deterministic generator for the kill points.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}
