//! Runs against a provider that misbehaves the way real ones do, through the simulator's faults:
//! unreachable clusters, throttling, a cluster deleted mid-run, an operation the provider
//! forgets, one that never ends. A run must wait, fail or finish as the clusters did — never
//! report an upgrade that did not happen, never upgrade a cluster twice.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A fleet `f` of `clusters` simulated clusters at the oldest version, each its own member;
/// returns the version a control-plane run upgrades them to.
async fn fleet_of(s: &common::TestServer, clusters: &[&str]) -> String {
    let from = s.some_version().await;
    s.fleet("f").await;
    for name in clusters {
        s.sim_cluster(name, "eastus", &from).await;
        let joined = s.join("f", name, &format!("sim:{name}"), None).await;
        assert!(joined.status.is_success(), "{}", joined.body);
    }
    next_minor(s, &from).await
}

async fn next_minor(s: &common::TestServer, from: &str) -> String {
    let minor = |v: &str| v.split('.').nth(1).unwrap().parse::<u32>().unwrap();
    let catalog = s.get("/api/v1/simulator/catalog").await.body;
    catalog["kubernetesVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .rfind(|v| minor(v) == minor(from) + 1)
        .unwrap()
}

/// Creates and starts a control-plane run `r` of fleet `f` to `target`.
async fn start_run(s: &common::TestServer, target: &str) {
    let created = s
        .put(
            "/api/v1/fleets/f/updateRuns/r",
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": target}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    s.start_r().await;
}

/// Sets faults on a simulated cluster (fields as `PUT /api/v1/simulator/clusters/{name}`).
async fn set_faults(s: &common::TestServer, name: &str, faults: Value) {
    let uri = format!("/api/v1/simulator/clusters/{name}");
    let mut cluster = s.get(&uri).await.body;
    for (field, value) in faults.as_object().unwrap() {
        cluster[field] = value.clone();
    }
    let put = s.put(&uri, cluster).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
}

async fn run(s: &common::TestServer) -> Value {
    s.get("/api/v1/fleets/f/updateRuns/r").await.body
}

fn run_state(run: &Value) -> &str {
    run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap()
}

fn member<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["properties"]["status"]["stages"][0]["groups"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

/// Moves fleet time on by `step_ms` at a time (letting the drivers act between steps, in real
/// time, so their backoffs pass) until `done` says so; panics with the run if it never does.
async fn advance_until(
    s: &common::TestServer,
    step_ms: i64,
    done: impl Fn(&Value) -> bool,
) -> Value {
    for _ in 0..600 {
        let now = run(s).await;
        if done(&now) {
            return now;
        }
        s.clock.advance(step_ms);
        s.built.drydock.runtime().poke_all();
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the run never got there: {}", run(s).await);
}

async fn operations_per_cluster(s: &common::TestServer) -> BTreeMap<String, Vec<String>> {
    let mut per = BTreeMap::new();
    for op in s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
    {
        per.entry(op["cluster"].as_str().unwrap().to_owned())
            .or_insert_with(Vec::new)
            .push(op["state"].as_str().unwrap().to_owned());
    }
    per
}

async fn version_of(s: &common::TestServer, name: &str) -> String {
    s.get(&format!("/api/v1/simulator/clusters/{name}"))
        .await
        .body["kubernetesVersion"]
        .as_str()
        .unwrap()
        .to_owned()
}

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn a_cluster_the_provider_cannot_reach_waits_then_upgrades_once_it_answers() {
    let s = common::start().await;
    let target = fleet_of(&s, &["c1"]).await;
    set_faults(&s, "c1", json!({"unreachable": true})).await;
    start_run(&s, &target).await;
    let waiting = advance_until(&s, MINUTE, |r| {
        member(r, "c1")["status"]["state"] == "Pending"
    })
    .await;
    let message = member(&waiting, "c1")["message"].as_str().unwrap();
    assert!(
        message.contains("cannot be observed") && message.contains("unreachable"),
        "{message}"
    );
    assert_eq!(run_state(&waiting), "Running", "waiting is not failing");
    assert!(
        operations_per_cluster(&s).await.is_empty(),
        "nothing started"
    );

    set_faults(&s, "c1", json!({"unreachable": false})).await;
    advance_until(&s, 10 * MINUTE, |r| run_state(r) == "Completed").await;
    assert_eq!(version_of(&s, "c1").await, target);
    assert_eq!(operations_per_cluster(&s).await["sim:c1"], ["Succeeded"]);
}

#[tokio::test]
async fn an_upgrade_the_provider_stops_answering_about_says_so_and_finishes_when_it_answers() {
    let s = common::start().await;
    let target = fleet_of(&s, &["c1"]).await;
    start_run(&s, &target).await;
    advance_until(&s, MINUTE, |r| {
        member(r, "c1")["status"]["state"] == "Running"
    })
    .await;
    set_faults(&s, "c1", json!({"unreachable": true})).await;
    let troubled = advance_until(&s, MINUTE, |r| !member(r, "c1")["message"].is_null()).await;
    let message = member(&troubled, "c1")["message"].as_str().unwrap();
    assert!(
        message.starts_with("waiting for the provider since") && message.contains("unreachable"),
        "{message}"
    );
    assert_eq!(member(&troubled, "c1")["status"]["state"], "Running");

    set_faults(&s, "c1", json!({"unreachable": false})).await;
    let done = advance_until(&s, 10 * MINUTE, |r| run_state(r) == "Completed").await;
    assert!(
        member(&done, "c1")["message"].is_null(),
        "the trouble is over"
    );
    assert_eq!(operations_per_cluster(&s).await["sim:c1"], ["Succeeded"]);
}

#[tokio::test]
async fn a_cluster_deleted_mid_run_fails_its_member_and_a_retry_after_it_is_back_completes() {
    let s = common::start().await;
    let target = fleet_of(&s, &["c1"]).await;
    let before = s.get("/api/v1/simulator/clusters/c1").await.body;
    start_run(&s, &target).await;
    advance_until(&s, MINUTE, |r| {
        member(r, "c1")["status"]["state"] == "Running"
    })
    .await;
    assert_eq!(
        s.delete("/api/v1/simulator/clusters/c1?force=true")
            .await
            .status,
        StatusCode::OK
    );
    let failed = advance_until(&s, MINUTE, |r| run_state(r) == "Failed").await;
    let c1 = member(&failed, "c1");
    assert_eq!(c1["status"]["state"], "Failed");
    assert!(
        c1["message"].as_str().unwrap().contains("does not exist"),
        "the provider's words: {c1}"
    );
    assert!(
        !c1["status"]["startTime"].is_null(),
        "the failed attempt keeps its start"
    );

    s.put("/api/v1/simulator/clusters/c1", before).await;
    s.start_r().await;
    let done = advance_until(&s, 10 * MINUTE, |r| run_state(r) == "Completed").await;
    assert_eq!(member(&done, "c1")["status"]["state"], "Completed");
    assert_eq!(version_of(&s, "c1").await, target);
}

#[tokio::test]
async fn an_operation_the_provider_lost_is_started_again_under_its_id_and_upgrades_once() {
    let s = common::start().await;
    let target = fleet_of(&s, &["c1"]).await;
    set_faults(&s, "c1", json!({"loseNextOperation": true})).await;
    start_run(&s, &target).await;
    let done = advance_until(&s, 10 * MINUTE, |r| run_state(r) == "Completed").await;
    assert_eq!(member(&done, "c1")["status"]["state"], "Completed");
    assert_eq!(version_of(&s, "c1").await, target);
    let ops = s.get("/api/v1/simulator/operations").await.body["value"].clone();
    assert_eq!(ops.as_array().unwrap().len(), 1, "{ops}");
    assert_eq!(
        ops[0]["operationId"],
        member(&done, "c1")["operationId"],
        "the same id, started again"
    );
}

#[tokio::test]
async fn an_upgrade_that_never_ends_times_out_and_a_retry_upgrades_the_cluster() {
    let s = common::start().await;
    let target = fleet_of(&s, &["c1"]).await;
    set_faults(&s, "c1", json!({"stuckNextOperation": true})).await;
    start_run(&s, &target).await;
    let failed = advance_until(&s, 2 * 3600 * 1000, |r| run_state(r) == "Failed").await;
    let message = member(&failed, "c1")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.starts_with("timed out after 1d 0h") && message.contains("a retry checks"),
        "{message}"
    );
    assert_ne!(version_of(&s, "c1").await, target, "nothing was upgraded");

    s.start_r().await;
    advance_until(&s, 10 * MINUTE, |r| run_state(r) == "Completed").await;
    assert_eq!(version_of(&s, "c1").await, target);
}

/// Fleet time 1,000 times real time: the provider's backoffs (real time) stay short in fleet
/// time, as they are in production, where the two are the same.
#[tokio::test]
async fn a_throttling_provider_slows_a_run_but_upgrades_every_cluster_once() {
    let s = common::start_fast("sqlite::memory:", false, 1_000.0).await;
    let names = ["c1", "c2", "c3", "c4"];
    let target = fleet_of(&s, &names).await;
    for name in names {
        set_faults(&s, name, json!({"transientErrorRate": 0.5})).await;
    }
    start_run(&s, &target).await;
    let mut done = Value::Null;
    for _ in 0..1200 {
        done = run(&s).await;
        if run_state(&done) != "Running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(run_state(&done), "Completed", "{done}");
    let per = operations_per_cluster(&s).await;
    for name in names {
        assert_eq!(member(&done, name)["status"]["state"], "Completed");
        assert_eq!(per[&format!("sim:{name}")], ["Succeeded"], "{name} once");
        assert_eq!(version_of(&s, name).await, target);
    }
}

#[tokio::test]
async fn the_overview_shows_what_was_last_seen_of_a_cluster_the_provider_cannot_reach() {
    let s = common::start().await;
    fleet_of(&s, &["c1", "c2"]).await;
    let overview = || async { s.get("/fn/fleet_overview?fleet=f").await.body };
    let row = |o: &Value, name: &str| {
        o["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap()
            .clone()
    };
    let seen = overview().await;
    assert_eq!(row(&seen, "c1")["provider"], "sim");
    assert!(row(&seen, "c1")["observation_error"].is_null());

    set_faults(&s, "c1", json!({"unreachable": true})).await;
    let now = overview().await;
    let c1 = row(&now, "c1");
    assert!(
        c1["observation_error"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{c1}"
    );
    assert_eq!(
        c1["observed"]["Ok"],
        row(&seen, "c1")["observed"]["Ok"],
        "what was last seen, not an empty row"
    );
    let member = s.get("/api/v1/fleets/f/members/c1").await.body;
    assert_eq!(member["properties"]["provider"], "sim");
    assert_eq!(
        member["properties"]["status"]["error"]["code"],
        "ClusterUnobservable"
    );
    assert!(member["properties"]["status"]["lastSeen"]["kubernetesVersion"].is_string());

    s.delete("/api/v1/simulator/clusters/c2?force=true").await;
    let gone = row(&overview().await, "c2");
    assert!(
        gone["observed"]["Err"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "a deleted cluster shows nothing stale: {gone}"
    );
}
