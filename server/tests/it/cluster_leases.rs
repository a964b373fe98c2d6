//! One upgrade at a time per cluster, whichever run asks: a second run's member waits (pending,
//! naming the run that holds the cluster) and goes on once it is free; removing a member, or
//! deleting a run or fleet, while an upgrade of it is in flight is refused or warned first.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn run_body(upgrade: Value) -> Value {
    json!({"properties": {"managedClusterUpdate": {"upgrade": upgrade}}})
}

fn time(v: &Value) -> i64 {
    app::model::time::Timestamp::parse_rfc3339(v.as_str().unwrap())
        .unwrap()
        .millis()
}

/// The simulator's operations, per cluster, as (start, end) in fleet milliseconds.
async fn operations_per_cluster(s: &common::TestServer) -> BTreeMap<String, Vec<(i64, i64)>> {
    let ops = s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    let mut per: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for op in ops {
        per.entry(op["cluster"].as_str().unwrap().to_owned())
            .or_default()
            .push((time(&op["startTime"]), time(&op["endTime"])));
    }
    per
}

/// The state of `member` in run `run` of the demo fleet.
async fn member_state(s: &common::TestServer, run: &str, member: &str) -> String {
    let body = s
        .get(&format!("/api/v1/fleets/demo/updateRuns/{run}"))
        .await
        .body;
    let found = common::run_members(&body["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == member)
        .unwrap();
    found["status"]["state"].as_str().unwrap_or("").to_owned()
}

/// The run's state once it is Completed or Failed, moving fleet time on a few minutes at a
/// time (the drivers act in real time between steps); panics with the run if it never ends.
async fn advance_until_ended(s: &common::TestServer, run: &str) -> Value {
    let url = format!("/api/v1/fleets/demo/updateRuns/{run}");
    for _ in 0..3000 {
        let body = s.get(&url).await.body;
        if matches!(
            body["properties"]["status"]["status"]["state"].as_str(),
            Some("Completed" | "Failed")
        ) {
            return body;
        }
        s.clock.advance(5 * 60 * 1000);
        s.built.drydock.runtime().poke_all();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("run {run} never ended: {}", s.get(&url).await.body);
}

#[tokio::test]
async fn two_runs_over_the_same_clusters_never_upgrade_one_cluster_at_once() {
    // Fleet time stands still until the test moves it, so the first run's upgrade of the first
    // member is in flight whenever the second asks for it, however loaded the machine is.
    let s = common::start_with("sqlite::memory:", true).await;
    let target = common::newest_of(&s, 30).await;
    let control_plane = json!({"type": "ControlPlaneOnly", "kubernetesVersion": target});
    let images = json!({"type": "NodeImageOnly"});
    for (run, upgrade) in [("cp", control_plane), ("images", images)] {
        let created = s
            .put(
                &format!("/api/v1/fleets/demo/updateRuns/{run}"),
                run_body(upgrade),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    // Both start at once, on the same first member.
    let (a, b) = tokio::join!(
        s.call("POST", "/api/v1/fleets/demo/updateRuns/cp/start", None),
        s.call("POST", "/api/v1/fleets/demo/updateRuns/images/start", None)
    );
    assert_eq!((a.status, b.status), (StatusCode::OK, StatusCode::OK));
    let mut first = (String::new(), String::new());
    for _ in 0..500 {
        first = (
            member_state(&s, "cp", "aks-eastus-1").await,
            member_state(&s, "images", "aks-eastus-1").await,
        );
        let (cp, images) = (first.0.as_str(), first.1.as_str());
        if matches!(
            (cp, images),
            ("Running", "Pending") | ("Pending", "Running")
        ) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        matches!(
            (first.0.as_str(), first.1.as_str()),
            ("Running", "Pending") | ("Pending", "Running")
        ),
        "one run upgrades aks-eastus-1 and the other waits: {first:?}"
    );
    for run in ["cp", "images"] {
        let done = advance_until_ended(&s, run).await;
        assert_eq!(
            done["properties"]["status"]["status"]["state"], "Completed",
            "{done}"
        );
    }
    for (cluster, mut spans) in operations_per_cluster(&s).await {
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[1].0 >= pair[0].1,
                "{cluster} was upgraded twice at once: {spans:?}"
            );
        }
    }
    // The timeline says who waited for whom.
    assert!(
        waited(&s, "cp", "images").await || waited(&s, "images", "cp").await,
        "one run's member waited for the other's upgrade"
    );
}

/// A run alone decides without reading the leases; one that started later takes clusters the
/// first comes to next (their upgrades never end, so it holds them): the first run's commit is
/// refused, and it decides again with the leases read. Its members wait, naming the run that
/// holds their clusters, and no cluster is upgraded twice at once.
#[tokio::test]
async fn a_run_that_saw_no_other_run_waits_for_clusters_another_run_took_since() {
    let s = common::start_with("sqlite::memory:", true).await;
    let group_1b = ["aks-eastus-2", "aks-westeurope-3", "aks-southeastasia-4"];
    for cluster in group_1b {
        let uri = format!("/api/v1/simulator/clusters/{cluster}");
        let mut state = s.get(&uri).await.body;
        state["stuckNextOperation"] = json!(true);
        assert_eq!(s.put(&uri, state).await.status, StatusCode::OK);
    }
    let target = common::newest_of(&s, 30).await;
    let upgrade = json!({"type": "ControlPlaneOnly", "kubernetesVersion": target});
    let strategy = |stages: Value| {
        json!({"properties": {"strategy": {"stages": stages},
        "managedClusterUpdate": {"upgrade": upgrade}}})
    };
    let first = strategy(json!([
        {"name": "first", "groups": [{"name": "group-1a"}]},
        {"name": "then", "groups": [{"name": "group-1b"}]}
    ]));
    let later = strategy(json!([
        {"name": "all", "groups": [{"name": "group-1b", "maxConcurrency": "100%"}]}
    ]));
    for (run, body) in [("alone", first), ("later", later)] {
        let created = s
            .put(&format!("/api/v1/fleets/demo/updateRuns/{run}"), body)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    // A start answers once its first decision is committed: the first run has decided alone.
    for run in ["alone", "later"] {
        let url = format!("/api/v1/fleets/demo/updateRuns/{run}/start");
        let started = s.call("POST", &url, None).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    }
    for cluster in group_1b {
        wait_for_state(&s, "later", cluster, "Running").await;
    }
    // Fleet time moves on until the first run has finished its first stage and come to the
    // clusters the later one holds.
    for _ in 0..200 {
        if waited(&s, "alone", "later").await {
            break;
        }
        s.clock.advance(5 * 60 * 1000);
        s.built.drydock.runtime().poke_all();
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        waited(&s, "alone", "later").await,
        "the first run's members wait for the later run's upgrades: {}",
        s.get("/api/v1/fleets/demo/updateRuns/alone").await.body
    );
    for cluster in group_1b {
        assert_eq!(
            member_state(&s, "alone", cluster).await,
            "Pending",
            "{cluster}"
        );
    }
    let operations = operations_per_cluster(&s).await;
    for cluster in group_1b {
        assert_eq!(
            operations[&format!("sim:{cluster}")].len(),
            1,
            "{cluster} has the later run's upgrade only: {operations:?}"
        );
    }
}

/// Waits (in real time, fleet time standing still) until `member` of `run` is in `state`.
async fn wait_for_state(s: &common::TestServer, run: &str, member: &str, state: &str) {
    let mut now = String::new();
    for _ in 0..500 {
        now = member_state(s, run, member).await;
        if now == state {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{member} of {run} is {now}, not {state}");
}

/// Whether a member of `run` was pending because `other` was upgrading its cluster.
async fn waited(s: &common::TestServer, run: &str, other: &str) -> bool {
    let url = format!("/api/v1/fleets/demo/updateRuns/{run}/timeline?limit=10000");
    let needle = format!("being upgraded by update run {other} of fleet demo");
    let events = s.get(&url).await.body["value"].as_array().unwrap().clone();
    events
        .iter()
        .any(|e| e["state"] == "Pending" && e["message"].as_str().unwrap_or("").contains(&needle))
}

/// A server whose clock only moves when told, with one run upgrading `aks-eastus-1` now.
async fn upgrading_now() -> common::TestServer {
    let s = common::start_with("sqlite::memory:", true).await;
    let target = common::newest_of(&s, 30).await;
    s.put(
        "/api/v1/fleets/demo/updateRuns/busy",
        run_body(json!({"type": "ControlPlaneOnly", "kubernetesVersion": target})),
    )
    .await;
    let started = s
        .call("POST", "/api/v1/fleets/demo/updateRuns/busy/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let run = s.get("/api/v1/fleets/demo/updateRuns/busy").await.body;
    let upgrading: Vec<Value> = common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .filter(|m| m["status"]["state"] == "Running")
        .collect();
    assert_eq!(upgrading.len(), 1, "{run}");
    assert_eq!(upgrading[0]["name"], "aks-eastus-1");
    s
}

#[tokio::test]
async fn removing_a_member_being_upgraded_names_the_run_and_needs_force() {
    let s = upgrading_now().await;
    let url = "/api/v1/fleets/demo/members/aks-eastus-1";
    let refused = s.delete(url).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "MemberBeingUpgraded");
    let message = refused.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("update run busy of fleet demo"),
        "{message}"
    );
    assert_eq!(s.get(url).await.status, StatusCode::OK, "still a member");
    // The browser's server function says the same.
    let form = s
        .send(
            "POST",
            "/fn/remove_member",
            Some("fleet=demo&name=aks-eastus-1"),
            "application/x-www-form-urlencoded",
        )
        .await;
    assert_eq!(form.status, StatusCode::CONFLICT, "{}", form.body);
    assert_eq!(form.body["code"], "MemberBeingUpgraded");
    let bad = s.delete(&format!("{url}?force=yes")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "InvalidQueryParameter");
    let forced = s.delete(&format!("{url}?force=true")).await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.body);
    // The run still finishes that member's upgrade, and says so.
    s.clock.advance(24 * 3600 * 1000);
    s.built.drydock.runtime().poke_all();
    let mut member = Value::Null;
    for _ in 0..500 {
        let run = s.get("/api/v1/fleets/demo/updateRuns/busy").await.body;
        member = common::run_members(&run["properties"]["status"]["stages"])
            .into_iter()
            .find(|m| m["name"] == "aks-eastus-1")
            .unwrap();
        if member["status"]["state"] != "Running" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(member["status"]["state"], "Completed", "{member}");
    let cluster = s.get("/api/v1/simulator/clusters/aks-eastus-1").await.body;
    assert_eq!(
        cluster["kubernetesVersion"],
        common::newest_of(&s, 30).await.as_str()
    );
}

#[tokio::test]
async fn a_run_or_fleet_with_an_upgrade_in_flight_cannot_be_deleted() {
    let s = upgrading_now().await;
    let stop = s
        .call("POST", "/api/v1/fleets/demo/updateRuns/busy/stop", None)
        .await;
    assert_eq!(stop.status, StatusCode::OK);
    let run = s.delete("/api/v1/fleets/demo/updateRuns/busy").await;
    assert_eq!(run.status, StatusCode::CONFLICT, "{}", run.body);
    assert_eq!(run.code(), "UpdateRunActive");
    let fleet = s.delete("/api/v1/fleets/demo").await;
    assert_eq!(fleet.status, StatusCode::CONFLICT, "{}", fleet.body);
    assert_eq!(fleet.code(), "FleetHasActiveRuns");
    let message = fleet.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("aks-eastus-1"), "{message}");
    // Once the upgrade has finished, both go.
    s.clock.advance(24 * 3600 * 1000);
    s.built.drydock.runtime().poke_all();
    s.wait_for_run("demo", "busy", &["Stopped"]).await;
    assert_eq!(
        s.delete("/api/v1/fleets/demo/updateRuns/busy").await.status,
        StatusCode::OK
    );
    assert_eq!(s.delete("/api/v1/fleets/demo").await.status, StatusCode::OK);
}

#[tokio::test]
async fn saving_a_strategy_under_a_taken_name_needs_replace() {
    let s = common::start_with("sqlite::memory:", true).await;
    let save = |replace: Option<bool>, wait: i64| {
        let mut body = json!({"fleet": "demo", "name": "plan", "strategy": {"stages": [
            {"name": "one", "groups": [{"name": "group-1a"}], "afterStageWaitInSeconds": wait}]}});
        if let Some(replace) = replace {
            body["replace"] = json!(replace);
        }
        s.call("POST", "/fn/save_strategy", Some(body))
    };
    assert_eq!(save(None, 60).await.status, StatusCode::OK);
    let again = save(None, 120).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert_eq!(again.body["code"], "StrategyAlreadyExists");
    let stored = s
        .get("/api/v1/fleets/demo/updateStrategies/plan")
        .await
        .body;
    assert_eq!(
        stored["properties"]["strategy"]["stages"][0]["afterStageWaitInSeconds"], 60,
        "nothing was replaced"
    );
    assert_eq!(save(Some(true), 120).await.status, StatusCode::OK);
    let stored = s
        .get("/api/v1/fleets/demo/updateStrategies/plan")
        .await
        .body;
    assert_eq!(
        stored["properties"]["strategy"]["stages"][0]["afterStageWaitInSeconds"],
        120
    );
}

#[tokio::test]
async fn the_store_refuses_to_commit_a_second_upgrade_of_a_leased_cluster() {
    use server::store::{RunStore, StoreError};
    let db = common::temp_db();
    let s = common::start_with(&db, true).await;
    for run in ["a", "b"] {
        s.put(
            &format!("/api/v1/fleets/demo/updateRuns/{run}"),
            run_body(json!({"type": "NodeImageOnly"})),
        )
        .await;
    }
    let store = server::store::SqlStore::connect(&db).await.unwrap();
    let fleet = app::model::names::FleetName::parse("demo").unwrap();
    let load = |name: &str| {
        let name = app::model::names::RunName::parse(name).unwrap();
        let (store, fleet) = (&store, &fleet);
        async move { store.get_run(fleet, &name).await.unwrap().unwrap() }
    };
    let start = |uid: &str, member: &str, cluster: &str| app::engine::Effect::StartUpgrade {
        member: app::model::names::MemberName::parse(member).unwrap(),
        cluster: app::model::member::ClusterResourceId::parse(cluster).unwrap(),
        attempt: 1,
        operation_id: format!("{uid}/{member}/1"),
        target: app::model::target::UpgradeTarget {
            control_plane: None,
            node_pools: vec![],
            resources: None,
        },
    };
    let a = load("a").await;
    let a_driving = common::take_run(&store, &a.run.uid).await;
    let a_takes = [
        start(&a.run.uid, "aks-eastus-1", "sim:aks-eastus-1"),
        start(&a.run.uid, "aks-eastus-2", "sim:aks-eastus-2"),
    ];
    let mut a = a;
    a.etag = store
        .save_run(&fleet, &a, &a_driving, common::change(&a.run, &a_takes))
        .await
        .unwrap();
    // The same attempt committed again (a repeated commit) is fine.
    store
        .save_run(
            &fleet,
            &a,
            &a_driving,
            common::change(&a.run, &a_takes[..1]),
        )
        .await
        .unwrap();
    let b = load("b").await;
    let b_driving = common::take_run(&store, &b.run.uid).await;
    let b_wants = [
        start(&b.run.uid, "aks-westeurope-1", "sim:aks-westeurope-1"),
        start(&b.run.uid, "aks-eastus-2", "sim:aks-eastus-2"),
    ];
    let refused = store
        .save_run(&fleet, &b, &b_driving, common::change(&b.run, &b_wants))
        .await;
    assert!(
        matches!(&refused, Err(StoreError::ClusterBusy(c)) if c.as_str() == "sim:aks-eastus-2"),
        "{refused:?}"
    );
    assert_eq!(
        load("b").await.etag,
        b.etag,
        "nothing of b's decision landed"
    );
    let leases = store.cluster_leases().await.unwrap();
    let mut held: Vec<&str> = leases.iter().map(|l| l.cluster.as_str()).collect();
    held.sort();
    assert_eq!(held, ["sim:aks-eastus-1", "sim:aks-eastus-2"]);
}
