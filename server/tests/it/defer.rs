//! `deferUntilAvailable` over REST: a member whose version has not reached its region holds
//! its group, pending with the reason, and upgrades once the catalog offers it there.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
const RUNS: &str = "/api/v1/fleets/f/updateRuns";

fn catalog(rollout: Value) -> Value {
    json!({"kubernetesVersions": ["1.30.5", "1.31.2"],
           "kubernetesVersionRollout": rollout,
           "nodeImages": {"eastus": {UBUNTU: ["202409.01.0"]},
                          "westeurope": {UBUNTU: ["202409.01.0"]}}})
}

fn run(seconds: i64) -> Value {
    json!({"properties": {
        "strategy": {"stages": [{"name": "s", "groups": [{"name": "g"}]}]},
        "managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.31.2"},
                                 "deferUntilAvailable": {"maxWaitInSeconds": seconds}}}})
}

fn member(run: &Value, name: &str) -> Value {
    common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

#[tokio::test]
async fn a_deferred_member_holds_its_group_until_its_version_reaches_its_region() {
    let s = common::start_fast("sqlite::memory:", false, 10_000.0).await;
    let only_east = catalog(json!({"1.31.2": ["eastus"]}));
    assert_eq!(
        s.put("/api/v1/simulator/catalog", only_east).await.status,
        StatusCode::OK
    );
    s.fleet("f").await;
    for (name, region) in [("east", "eastus"), ("west", "westeurope")] {
        assert!(
            s.sim_cluster(name, region, "1.30.5")
                .await
                .status
                .is_success()
        );
        let joined = s.join("f", name, &format!("sim:{name}"), Some("g")).await;
        assert!(joined.status.is_success());
    }
    let bad = s.put(&format!("{RUNS}/bad"), run(0)).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);
    assert!(
        bad.body.to_string().contains("maxWaitInSeconds"),
        "{}",
        bad.body
    );

    let created = s.put(&format!("{RUNS}/r"), run(30 * 24 * 3600)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        s.call("POST", &format!("{RUNS}/r/start"), None)
            .await
            .status
            .is_success()
    );
    let mut waiting = Value::Null;
    for _ in 0..200 {
        waiting = s.get(&format!("{RUNS}/r")).await.body;
        if member(&waiting, "east")["status"]["state"] == "Completed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let west = member(&waiting, "west");
    assert_eq!(west["status"]["state"], "Pending", "{waiting}");
    assert!(
        west["message"]
            .as_str()
            .unwrap()
            .contains("deferUntilAvailable"),
        "{west}"
    );
    assert_eq!(
        waiting["properties"]["status"]["status"]["state"], "Running",
        "the group waits for west"
    );

    let everywhere = catalog(json!({}));
    assert_eq!(
        s.put("/api/v1/simulator/catalog", everywhere).await.status,
        StatusCode::OK
    );
    let finished = s.wait_for_run("f", "r", &["Completed", "Failed"]).await;
    assert_eq!(
        member(&finished, "west")["status"]["state"],
        "Completed",
        "{finished}"
    );
    let cluster = s.get("/api/v1/simulator/clusters/west").await.body;
    assert_eq!(cluster["kubernetesVersion"], "1.31.2");
}
