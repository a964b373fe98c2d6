//! Update runs of `External` placements: a snapshot rolled out through a strategy's stages and
//! gates, members the placement does not pick (or that hold the revision already) skipped with
//! the reason, a refusal counted against the failure budget with the cluster's words, the
//! placement's status following the run, and requests that cannot be rolled out refused.

use crate::common::{self, run_members};
use crate::placements::{fleet, member, put_member, three};
use crate::rollouts::{change_resource, held};

use axum::http::StatusCode;
use serde_json::{Value, json};

const PLACEMENT: &str = "/api/v1/fleets/f/placements/web";
const RUN: &str = "/api/v1/fleets/f/updateRuns/r";

fn external_on_prod() -> Value {
    json!({"properties": {"resources": ["web"],
        "policy": {"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]}}}},
        "strategy": {"type": "External"}}})
}

/// The canary ring (east) first; the rest after an approval.
fn canary_then_rest(max_allowed_failures: Value) -> Value {
    json!({"stages": [
        {"name": "canary", "groups": [{"name": "east", "memberSelector": {"byLabel": "ring=canary"}}]},
        {"name": "rest", "groups": [{"name": "rest", "memberSelector": {"byLabel": "ring!=canary"}}],
         "beforeGates": [{"displayName": "Canary looks healthy", "type": "Approval"}]}],
        "maxAllowedFailures": max_allowed_failures})
}

/// Fleet `f` (see `placements::three`), with east in the canary ring.
async fn ringed_fleet(s: &common::TestServer) {
    fleet(s, &three()).await;
    for name in ["east-1", "east-2"] {
        let labels = json!({"env": "prod", "ring": "canary"});
        let put = put_member(s, name, labels, json!([])).await;
        assert!(put.status.is_success(), "{}", put.body);
    }
}

/// The ringed fleet with placement `web` External, and east-2's API server refusing its next
/// apply.
async fn external_fleet_refusing_on_east_2(s: &common::TestServer) {
    ringed_fleet(s).await;
    assert!(
        s.put(PLACEMENT, external_on_prod())
            .await
            .status
            .is_success()
    );
    let fault = s
        .put(
            "/api/v1/simulator/clusters/east-2/resourceFaults",
            json!({"applyFailNext": true}),
        )
        .await;
    assert_eq!(fault.status, StatusCode::OK, "{}", fault.body);
}

async fn create(s: &common::TestServer, name: &str, properties: Value) -> common::Reply {
    let uri = format!("/api/v1/fleets/f/updateRuns/{name}");
    s.put(&uri, json!({ "properties": properties })).await
}

fn run_member(run: &Value, name: &str) -> Value {
    run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no member {name} in {run}"))
}

fn member_state(run: &Value, name: &str) -> (String, String) {
    let m = run_member(run, name);
    (
        m["status"]["state"].as_str().unwrap_or("").to_owned(),
        m["message"].as_str().unwrap_or("").to_owned(),
    )
}

async fn approve(s: &common::TestServer, gate: &str) {
    let uri = format!("/api/v1/fleets/f/gates/{gate}");
    let body = json!({"properties": {"state": "Completed"}});
    let approved = s.call("PATCH", &uri, Some(body)).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
}

/// Polls the gate until the run reaches it (a gate is `Pending` from the run's creation).
async fn wait_for_gate(s: &common::TestServer, gate: &str) {
    let uri = format!("/api/v1/fleets/f/gates/{gate}");
    for _ in 0..1500 {
        let body = s.get(&uri).await.body;
        if body["properties"].get("reachedTime").is_some() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!(
        "the run never reached gate {gate}: {}",
        s.get(RUN).await.body
    );
}

#[tokio::test]
async fn a_snapshot_goes_through_the_stages_and_their_gate() {
    let s = common::start().await;
    ringed_fleet(&s).await;
    let created = s.put(PLACEMENT, external_on_prod()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // An External placement waits for a run: nothing is applied by the rollout pass.
    s.built.drydock.roll_out_placements().await;
    assert_eq!(held(&s, "east-1").await, None);

    let properties = json!({"strategy": canary_then_rest(json!(0)),
        "placementRollout": {"placementName": "web"}});
    let made = create(&s, "r", properties).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let p = &made.body["properties"];
    assert_eq!(
        p["placementRollout"],
        json!({"placementName": "web", "snapshot": {"web": 1}})
    );
    assert!(p.get("managedClusterUpdate").is_none(), "{p}");
    s.start_r().await;

    // The canary stage gives east its objects; the rest waits for the approval.
    wait_for_gate(&s, "r.rest.before").await;
    let run = s.get(RUN).await.body;
    assert_eq!(member_state(&run, "east-1").0, "Completed");
    assert_eq!(member_state(&run, "west-1").0, "NotStarted");
    assert_eq!(held(&s, "east-1").await, Some(("web@1".to_owned(), 1)));
    assert_eq!(held(&s, "west-1").await, None);
    let status = s.get(PLACEMENT).await.body;
    assert_eq!(member(&status, "east-2")["state"], "Available");
    assert_eq!(member(&status, "west-1")["state"], "Scheduled");
    assert!(
        member(&status, "west-1")["reason"]
            .as_str()
            .unwrap()
            .ends_with("; web@1 waits for an update run (External)"),
        "{status}"
    );

    approve(&s, "r.rest.before").await;
    let run = s.wait_for_run("f", "r", &["Completed"]).await;
    assert_eq!(member_state(&run, "west-1").0, "Completed");
    assert_eq!(
        member_state(&run, "dev-1"),
        (
            "Skipped".to_owned(),
            "not picked by placement web: matches no required term (term 1: wants env in (prod), has env=dev)".to_owned()
        )
    );
    let (state, why) = member_state(&run, "gpu-1");
    assert_eq!(state, "Skipped");
    assert!(
        why.contains("does not tolerate taint dedicated=gpu:NoSchedule"),
        "{why}"
    );
    let status = s.get(PLACEMENT).await.body;
    assert_eq!(status["properties"]["status"]["conditions"]["Available"], 3);
    assert_eq!(
        member(&status, "west-1")["reason"],
        "matches required term 1; picked: PickAll takes every member that passes; web@1 applied and available"
    );
    assert_eq!(held(&s, "dev-1").await, None);
    change_resource(&s, "two").await;
    let status = s.get(PLACEMENT).await.body;
    assert!(
        member(&status, "east-1")["reason"]
            .as_str()
            .unwrap()
            .ends_with("; holds web@1; web@2 waits for an update run (External)"),
        "{status}"
    );

    let plan = s.get("/api/v1/fleets/f/updateRuns/r/plan").await;
    assert_eq!(plan.status, StatusCode::CONFLICT, "{}", plan.body);
    assert_eq!(plan.body["error"]["code"], "NoPlanForPlacementRun");

    // The same snapshot again: every picked member holds it already.
    let again = create(
        &s,
        "again",
        json!({"placementRollout": {"placementName": "web", "snapshot": 1}}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.body);
    let started = s
        .call("POST", "/api/v1/fleets/f/updateRuns/again/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let run = s.wait_for_run("f", "again", &["Completed"]).await;
    assert_eq!(
        member_state(&run, "east-1"),
        ("Skipped".to_owned(), "already holds web@1".to_owned())
    );
    assert_eq!(held(&s, "east-1").await, Some(("web@1".to_owned(), 1)));
}

#[tokio::test]
async fn a_refusal_fails_its_member_with_the_clusters_words_and_spends_the_budget() {
    let s = common::start().await;
    external_fleet_refusing_on_east_2(&s).await;
    change_resource(&s, "two").await;

    let properties = json!({"strategy": canary_then_rest(json!(0)),
        "placementRollout": {"placementName": "web", "snapshot": {"web": 2}}});
    assert!(create(&s, "r", properties).await.status.is_success());
    s.start_r().await;
    let run = s.wait_for_run("f", "r", &["Failed"]).await;
    let (state, why) = member_state(&run, "east-2");
    assert_eq!(state, "Failed");
    assert!(why.starts_with("applying web@2 failed: "), "{why}");
    assert_eq!(member_state(&run, "east-1").0, "Completed");
    assert_eq!(
        member_state(&run, "west-1").0,
        "NotStarted",
        "fail fast: the rest never started"
    );
    let status = s.get(PLACEMENT).await.body;
    assert_eq!(member(&status, "east-2")["state"], "Failed");
    assert_eq!(member(&status, "east-1")["state"], "Available");
    assert_eq!(held(&s, "east-2").await, None);
}

#[tokio::test]
async fn a_refusal_within_the_failure_budget_lets_the_rest_go_on() {
    let s = common::start().await;
    external_fleet_refusing_on_east_2(&s).await;
    let mut strategy = canary_then_rest(json!(1));
    strategy["stages"][1]["beforeGates"] = json!([]);
    strategy["stages"][0]["groups"][0]["maxAllowedFailures"] = json!(1);
    let properties = json!({"strategy": strategy, "placementRollout": {"placementName": "web"}});
    assert!(create(&s, "r", properties).await.status.is_success());
    s.start_r().await;
    let run = s.wait_for_run("f", "r", &["Completed", "Failed"]).await;
    assert_eq!(member_state(&run, "east-2").0, "Failed");
    assert_eq!(member_state(&run, "west-1").0, "Completed", "{run}");
    assert_eq!(held(&s, "west-1").await, Some(("web@1".to_owned(), 1)));
}

#[tokio::test]
async fn what_cannot_be_rolled_out_is_refused_and_nothing_is_made() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    let rolling =
        json!({"properties": {"resources": ["web"], "policy": {"placementType": "PickAll"}}});
    assert!(
        s.put("/api/v1/fleets/f/placements/rolling", rolling)
            .await
            .status
            .is_success()
    );
    assert!(
        s.put(PLACEMENT, external_on_prod())
            .await
            .status
            .is_success()
    );
    let cases = [
        (
            json!({"placementRollout": {"placementName": "nope"}}),
            "PlacementNotFound",
        ),
        (
            json!({"placementRollout": {"placementName": "rolling"}}),
            "PlacementNotExternal",
        ),
        (
            json!({"placementRollout": {"placementName": "web", "snapshot": 9}}),
            "ResourceSnapshotNotFound",
        ),
        (
            json!({"placementRollout": {"placementName": "web", "snapshot": {"db": 1}}}),
            "InvalidSnapshot",
        ),
        (
            json!({"placementRollout": {"placementName": "web"},
                   "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}),
            "AmbiguousUpdate",
        ),
        (json!({}), "MissingUpdate"),
    ];
    for (properties, code) in cases {
        let refused = create(&s, "r", properties.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{properties}: {}",
            refused.body
        );
        assert_eq!(refused.body["error"]["code"], code, "{}", refused.body);
    }
    assert_eq!(s.get(RUN).await.status, StatusCode::NOT_FOUND);
}

/// A real `drydock serve`, SIGKILLed twice in the middle of a placement run: each member's
/// cluster is given the run's snapshot exactly once, and the run and the placement end agreeing.
mod killed {
    use crate::common;
    use crate::rollouts::killed::{MEMBERS, available_at, call, put_resource, serve, set_up_with};
    use serde_json::json;
    use std::time::Duration;

    #[test]
    fn a_server_killed_mid_run_gives_each_member_the_snapshot_once() {
        let db = common::temp_db();
        let port = common::free_port();
        let mut server = serve(port, &db);
        let placement = json!({"properties": {"resources": ["web"],
            "strategy": {"type": "External"}}});
        set_up_with(port, placement);
        for i in 0..MEMBERS {
            let member =
                json!({"properties": {"clusterResourceId": format!("sim:m{i}"), "group": "all"}});
            call(
                port,
                "PUT",
                &format!("/api/v1/fleets/f/members/m{i}"),
                Some(member),
            );
        }
        put_resource(port, "two");
        // Two at a time, each pair ready a second (fleet time / 100) after it is applied.
        let run = json!({"properties": {
            "strategy": {"stages": [{"name": "all", "groups": [{"name": "all", "maxConcurrency": 2}]}]},
            "placementRollout": {"placementName": "web", "snapshot": 2}}});
        call(port, "PUT", "/api/v1/fleets/f/updateRuns/r", Some(run));
        call(port, "POST", "/api/v1/fleets/f/updateRuns/r/start", None);
        for pause in [1500, 2200] {
            std::thread::sleep(Duration::from_millis(pause));
            assert!(
                available_at(port, 2) < MEMBERS,
                "the run finished before the kill"
            );
            server.kill(); // SIGKILL
            server = serve(port, &db);
        }
        common::wait_until_completed(port, "/api/v1/fleets/f/updateRuns/r");
        assert_eq!(available_at(port, 2), MEMBERS);
        for i in 0..MEMBERS {
            let path = format!("/api/v1/simulator/clusters/m{i}/resources");
            let held = call(port, "GET", &path, None);
            let held = &held["value"][0];
            assert_eq!(held["revision"], "web@2", "m{i}: {held}");
            assert_eq!(
                held["applies"], 1,
                "m{i} was given the snapshot twice: {held}"
            );
        }
        drop(server);
    }
}
