//! Chains of passes over REST (`hops: PerStrategyPass`): a fleet three minors behind goes one
//! minor at a time, a run of the whole strategy per minor, each created and started by the
//! server when the one before it completes; no pass starts an upgrade before the pass before
//! it has ended; a chain interrupted between passes goes on after a restart, and one whose
//! next pass a person deleted does not.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
const RUNS: &str = "/api/v1/fleets/f/updateRuns";

fn catalog() -> Value {
    json!({"kubernetesVersions": ["1.28.5", "1.29.2", "1.29.9", "1.30.5", "1.31.2"],
           "nodeImages": {"eastus": {UBUNTU: ["202409.01.0"]}}})
}

fn chain_run() -> Value {
    let upgrade = json!({"type": "Full", "kubernetesVersion": "1.31.2", "hops": "PerStrategyPass"});
    let stages = json!({"stages": [
        {"name": "canary", "groups": [{"name": "canary"}]},
        {"name": "prod", "groups": [{"name": "prod"}]}
    ]});
    json!({"properties": {"strategy": stages, "managedClusterUpdate": {"upgrade": upgrade}}})
}

/// A fleet `f`: old (1.28.5, canary), mid (1.29.9, prod), new (1.30.5, prod).
async fn spread_fleet(s: &common::TestServer) {
    let put = s.put("/api/v1/simulator/catalog", catalog()).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    s.fleet("f").await;
    for (name, version, group) in [
        ("old", "1.28.5", "canary"),
        ("mid", "1.29.9", "prod"),
        ("new", "1.30.5", "prod"),
    ] {
        let made = s.sim_cluster(name, "eastus", version).await;
        assert!(made.status.is_success(), "{}", made.body);
        let joined = s.join("f", name, &format!("sim:{name}"), Some(group)).await;
        assert!(joined.status.is_success(), "{}", joined.body);
    }
}

fn state(run: &Value) -> &str {
    run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap_or("")
}

/// Each cluster's control-plane operations, `(to, start, end)` in order, by cluster name.
async fn operations(s: &common::TestServer, name: &str) -> Vec<(String, i64, i64)> {
    let all = s.get("/api/v1/simulator/operations").await.body;
    all["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|op| {
            op["cluster"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{name}"))
        })
        .map(|op| {
            let to = op["target"]["controlPlane"]["to"].as_str().unwrap();
            (to.to_owned(), time(&op["startTime"]), time(&op["endTime"]))
        })
        .collect()
}

#[tokio::test]
async fn a_fleet_three_minors_behind_goes_one_minor_at_a_time_a_run_per_minor() {
    let s = common::start_fast("sqlite::memory:", false, 100_000.0).await;
    spread_fleet(&s).await;
    let long = "a".repeat(45);
    let refused = s.put(&format!("{RUNS}/{long}"), chain_run()).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert_eq!(refused.code(), "InvalidUpdateRunName");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{long}-hop-3")),
        "{}",
        refused.body
    );

    let created = s.put(&format!("{RUNS}/up"), chain_run()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["properties"]["hop"],
        json!({"number": 1, "of": 3, "kubernetesMinorVersion": "1.29",
               "firstUpdateRunId": "/fleets/f/updateRuns/up",
               "nextUpdateRunId": "/fleets/f/updateRuns/up-hop-2"})
    );
    let plan = s.get(&format!("{RUNS}/up/plan")).await.body;
    let passes: Vec<(&str, u64)> = plan["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["to"].as_str().unwrap(), h["upgrades"].as_u64().unwrap()))
        .collect();
    assert_eq!(passes, [("1.29", 1), ("1.30", 2), ("1.31.2", 3)]);

    let started = s.call("POST", &format!("{RUNS}/up/start"), None).await;
    assert!(started.status.is_success(), "{}", started.body);
    let first = s.wait_for_run("f", "up", &["Completed", "Failed"]).await;
    assert_eq!(state(&first), "Completed", "{first}");
    let members = common::run_members(&first["properties"]["status"]["stages"]);
    let of = |name: &str| members.iter().find(|m| m["name"] == name).unwrap().clone();
    assert_eq!(of("old")["status"]["state"], "Completed");
    assert_eq!(
        of("mid")["status"]["state"],
        "Skipped",
        "a later pass takes it on"
    );

    let last = s
        .wait_for_run("f", "up-hop-3", &["Completed", "Failed"])
        .await;
    assert_eq!(state(&last), "Completed", "{last}");
    assert_eq!(last["properties"]["hop"]["number"], 3);
    assert_eq!(
        last["properties"]["hop"]["previousUpdateRunId"],
        "/fleets/f/updateRuns/up-hop-2"
    );
    let second = s.get(&format!("{RUNS}/up-hop-2")).await.body;
    assert_eq!(state(&second), "Completed", "{second}");
    assert_eq!(
        second["properties"]["strategy"], first["properties"]["strategy"],
        "the same stages"
    );

    for name in ["old", "mid", "new"] {
        let cluster = s
            .get(&format!("/api/v1/simulator/clusters/{name}"))
            .await
            .body;
        assert_eq!(cluster["kubernetesVersion"], "1.31.2", "{cluster}");
    }
    let (old, mid, new) = (
        operations(&s, "old").await,
        operations(&s, "mid").await,
        operations(&s, "new").await,
    );
    let to = |ops: &[(String, i64, i64)]| ops.iter().map(|o| o.0.clone()).collect::<Vec<_>>();
    assert_eq!(to(&old), ["1.29.9", "1.30.5", "1.31.2"]);
    assert_eq!(to(&mid), ["1.30.5", "1.31.2"]);
    assert_eq!(to(&new), ["1.31.2"]);
    // Pass by pass: nothing of pass 2 starts before pass 1 has ended, nor of 3 before 2.
    let pass = |minor: &str| -> Vec<(i64, i64)> {
        [&old, &mid, &new]
            .into_iter()
            .flatten()
            .filter(|op| op.0.starts_with(minor))
            .map(|op| (op.1, op.2))
            .collect()
    };
    let (p1, p2, p3) = (pass("1.29."), pass("1.30."), pass("1.31."));
    let ends = |ops: &[(i64, i64)]| ops.iter().map(|o| o.1).max().unwrap();
    let starts = |ops: &[(i64, i64)]| ops.iter().map(|o| o.0).min().unwrap();
    assert!(starts(&p2) >= ends(&p1), "{p1:?} {p2:?}");
    assert!(starts(&p3) >= ends(&p2), "{p2:?} {p3:?}");
}

#[tokio::test]
async fn an_interrupted_chain_goes_on_after_a_restart_and_a_deleted_pass_stays_deleted() {
    let db = common::temp_db();
    let s = common::start_fast(&db, false, 100_000.0).await;
    spread_fleet(&s).await;
    assert_eq!(
        s.put(&format!("{RUNS}/up"), chain_run()).await.status,
        StatusCode::CREATED
    );
    s.call("POST", &format!("{RUNS}/up/start"), None).await;
    s.wait_for_run("f", "up-hop-3", &["Completed"]).await;
    // A person deletes the last pass: the chain is not continued into it again.
    let deleted = s.delete(&format!("{RUNS}/up-hop-3")).await;
    assert!(deleted.status.is_success(), "{}", deleted.body);
    assert_eq!(s.built.drydock.continue_chains(None).await, 0);
    assert_eq!(
        s.get(&format!("{RUNS}/up-hop-3")).await.status,
        StatusCode::NOT_FOUND
    );
    // As if the server had stopped just after pass 1 completed: the later passes never made.
    s.delete(&format!("{RUNS}/up-hop-2")).await;
    drop(s);
    let pool = common::raw_pool(&db).await;
    sqlx::query("DELETE FROM pass_links")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let s = common::start_fast(&db, false, 100_000.0).await;
    let second = s.wait_for_run("f", "up-hop-2", &["Completed"]).await;
    assert_eq!(second["properties"]["hop"]["number"], 2, "{second}");
    let third = s.wait_for_run("f", "up-hop-3", &["Completed"]).await;
    let members = common::run_members(&third["properties"]["status"]["stages"]);
    assert!(
        members.iter().all(|m| m["status"]["state"] == "Skipped"),
        "every member is there already: nothing upgraded twice: {members:?}"
    );
}

fn time(v: &Value) -> i64 {
    app::model::time::Timestamp::parse_rfc3339(v.as_str().unwrap())
        .unwrap()
        .millis()
}
