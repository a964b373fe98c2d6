//! The simulated provider performs upgrades: durations, completion, failure injection,
//! idempotent starts, persistence.

use crate::common;

use app::model::member::ClusterResourceId;
use app::model::names::ClusterName;
use app::model::target::{PoolTarget, Step, UpgradeTarget};
use app::model::version::KubernetesVersion;
use axum::http::StatusCode;
use serde_json::json;
use server::provider::{OperationStatus, Provider, UpgradeRequest};

fn id(name: &str) -> ClusterResourceId {
    ClusterResourceId::simulated(&ClusterName::parse(name).unwrap())
}

/// A control-plane and node-pool upgrade of `name` from `from` to `to`.
fn request(op: &str, name: &str, from: &str, to: &str) -> UpgradeRequest {
    let (from, to) = (
        KubernetesVersion::parse(from).unwrap(),
        KubernetesVersion::parse(to).unwrap(),
    );
    UpgradeRequest {
        operation_id: op.into(),
        cluster: id(name),
        target: UpgradeTarget {
            control_plane: Some(Step { from, to }),
            node_pools: vec![PoolTarget {
                name: "system".into(),
                kubernetes_version: Some(Step { from, to }),
                node_image_version: None,
            }],
            resources: None,
        },
    }
}

/// When a running operation says it ends (its "look again at").
fn ends_at(operation: &server::provider::Operation) -> app::model::time::Timestamp {
    match &operation.status {
        OperationStatus::Running {
            look_again_at: Some(ends_at),
            ..
        } => *ends_at,
        other => panic!("{other:?}"),
    }
}

async fn versions(s: &common::TestServer) -> (String, String) {
    let catalog = s.get("/api/v1/simulator/catalog").await.body;
    let all: Vec<String> = catalog["kubernetesVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let from = all[0].clone();
    let minor = |v: &str| v.split('.').nth(1).unwrap().parse::<u32>().unwrap();
    let to = all
        .iter()
        .rev()
        .find(|v| minor(v) == minor(&from) + 1)
        .unwrap()
        .clone();
    (from, to)
}

#[tokio::test]
async fn an_upgrade_runs_for_a_while_then_the_cluster_runs_the_target() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    s.sim_cluster("aks-1", "eastus", &from).await;
    let sim = &s.built.simulator;
    let operation = sim
        .start_upgrade(&request("run/aks-1/1", "aks-1", &from, &to))
        .await
        .unwrap();
    assert_eq!(operation.cluster, Some(id("aks-1")));
    let ends_at = ends_at(&operation);
    assert!(ends_at > common::START, "it takes fleet time");
    assert_eq!(
        sim.start_upgrade(&request("run/aks-1/1", "aks-1", &from, &to))
            .await
            .unwrap(),
        operation,
        "same id, same operation"
    );
    let ops = s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ops.len(), 1, "started once");
    assert_eq!(ops[0]["cluster"], "sim:aks-1");
    assert_eq!(ops[0]["kind"], "ControlPlane+NodePools");
    assert_eq!(ops[0]["state"], "Running");
    assert_eq!(
        s.get("/api/v1/simulator/clusters/aks-1").await.body["kubernetesVersion"],
        from.as_str(),
        "not yet"
    );
    s.clock.advance(ends_at.millis() - common::START.millis());
    assert!(matches!(
        sim.operation(&id("aks-1"), "run/aks-1/1")
            .await
            .unwrap()
            .map(|o| o.status),
        Some(OperationStatus::Succeeded)
    ));
    let cluster = s.get("/api/v1/simulator/clusters/aks-1").await.body;
    assert_eq!(cluster["kubernetesVersion"], to.as_str());
    assert_eq!(cluster["nodePools"][0]["kubernetesVersion"], to.as_str());
    assert_eq!(
        s.get("/api/v1/simulator/operations").await.body["value"][0]["state"],
        "Succeeded"
    );
    assert_eq!(
        sim.operation(&id("aks-1"), "never-started").await.unwrap(),
        None
    );
}

/// Observations are shared with the simulator's own state, not copied: an upgrade must copy
/// the cluster before changing it, so what a run observed earlier stays what it saw.
#[tokio::test]
async fn an_observation_keeps_what_the_cluster_ran_when_it_was_made() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    s.sim_cluster("aks-1", "eastus", &from).await;
    let sim = &s.built.simulator;
    let before = sim.observe_shared(&[id("aks-1")]).await.remove(0).unwrap();
    let operation = sim
        .start_upgrade(&request("run/aks-1/1", "aks-1", &from, &to))
        .await
        .unwrap();
    let ends_at = ends_at(&operation);
    s.clock.advance(ends_at.millis() - common::START.millis());
    let ended = sim.operation(&id("aks-1"), "run/aks-1/1").await.unwrap();
    assert!(matches!(
        ended.map(|o| o.status),
        Some(OperationStatus::Succeeded)
    ));
    let after = sim.observe(&[id("aks-1")]).await.remove(0).unwrap();
    assert_eq!(after.kubernetes_version.to_string(), to);
    assert_eq!(after.node_pools[0].kubernetes_version.to_string(), to);
    assert_eq!(
        before.kubernetes_version.to_string(),
        from,
        "not changed under its holder"
    );
    assert_eq!(before.node_pools[0].kubernetes_version.to_string(), from);
}

#[tokio::test]
async fn fail_next_fails_one_operation_with_a_message_and_changes_nothing() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    let mut cluster = s.get("/api/v1/simulator/clusters").await.body;
    assert_eq!(cluster["value"], json!([]));
    s.sim_cluster("aks-1", "eastus", &from).await;
    cluster = s.get("/api/v1/simulator/clusters/aks-1").await.body;
    cluster["failNext"] = json!(true);
    assert_eq!(
        s.put("/api/v1/simulator/clusters/aks-1", cluster)
            .await
            .status,
        StatusCode::OK
    );
    let sim = &s.built.simulator;
    sim.start_upgrade(&request("op-1", "aks-1", &from, &to))
        .await
        .unwrap();
    s.clock.advance(24 * 3600 * 1000);
    let Some(OperationStatus::Failed { message, .. }) = sim
        .operation(&id("aks-1"), "op-1")
        .await
        .unwrap()
        .map(|o| o.status)
    else {
        panic!()
    };
    assert!(message.contains("simulated"));
    let after = s.get("/api/v1/simulator/clusters/aks-1").await.body;
    assert_eq!(
        after["kubernetesVersion"],
        from.as_str(),
        "a failed upgrade changes nothing"
    );
    assert_eq!(after["failNext"], false, "only the next operation fails");
    let op = &s.get("/api/v1/simulator/operations").await.body["value"][0];
    assert_eq!(op["state"], "Failed");
    assert!(op["error"].as_str().unwrap().contains("simulated"));
    sim.start_upgrade(&request("op-2", "aks-1", &from, &to))
        .await
        .unwrap();
    s.clock.advance(24 * 3600 * 1000);
    assert!(matches!(
        sim.operation(&id("aks-1"), "op-2")
            .await
            .unwrap()
            .map(|o| o.status),
        Some(OperationStatus::Succeeded)
    ));
}

#[tokio::test]
async fn a_failure_rate_is_drawn_from_the_seed() {
    let outcomes = |s: common::TestServer| async move {
        let (from, to) = versions(&s).await;
        s.sim_cluster("aks-1", "eastus", &from).await;
        let mut cluster = s.get("/api/v1/simulator/clusters/aks-1").await.body;
        cluster["failureRate"] = json!(0.5);
        s.put("/api/v1/simulator/clusters/aks-1", cluster).await;
        for i in 0..40 {
            s.built
                .simulator
                .start_upgrade(&request(&format!("op-{i}"), "aks-1", &from, &to))
                .await
                .unwrap();
        }
        s.clock.advance(24 * 3600 * 1000);
        let ops = s.get("/api/v1/simulator/operations").await.body["value"]
            .as_array()
            .unwrap()
            .clone();
        ops.iter()
            .map(|o| o["state"] == "Failed")
            .collect::<Vec<bool>>()
    };
    let first = outcomes(common::start().await).await;
    let second = outcomes(common::start().await).await;
    assert_eq!(first, second, "the same seed fails the same operations");
    let failed = first.iter().filter(|f| **f).count();
    assert!(
        (8..=32).contains(&failed),
        "about half of 40 failed: {failed}"
    );
    let s = common::start().await;
    s.sim_cluster("aks-1", "eastus", "1.29.9").await;
    let mut cluster = s.get("/api/v1/simulator/clusters/aks-1").await.body;
    cluster["failureRate"] = json!(1.5);
    assert_eq!(
        s.put("/api/v1/simulator/clusters/aks-1", cluster)
            .await
            .code(),
        "InvalidCluster"
    );
}

#[tokio::test]
async fn bigger_node_pools_take_longer() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    s.sim_cluster("small", "eastus", &from).await;
    let mut big = s.get("/api/v1/simulator/clusters/small").await.body;
    big["nodePools"][0]["count"] = json!(90);
    s.put("/api/v1/simulator/clusters/big", big).await;
    let sim = &s.built.simulator;
    let small = ends_at(
        &sim.start_upgrade(&request("a", "small", &from, &to))
            .await
            .unwrap(),
    );
    let big = ends_at(
        &sim.start_upgrade(&request("b", "big", &from, &to))
            .await
            .unwrap(),
    );
    assert!(big > small);
}

#[tokio::test]
async fn operations_survive_a_restart_and_complete_after_it() {
    let db = common::temp_db();
    let (from, to);
    {
        let s = common::start_with(&db, false).await;
        (from, to) = versions(&s).await;
        for cluster in ["aks-1", "aks-2"] {
            s.sim_cluster(cluster, "eastus", &from).await;
            let op = format!("op-{cluster}");
            s.built
                .simulator
                .start_upgrade(&request(&op, cluster, &from, &to))
                .await
                .unwrap();
        }
    }
    // The two operations' equal targets are stored once; each row names it.
    let pool = common::raw_pool(&db).await;
    let (targets, named): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM sim_targets), COUNT(*) FROM sim_operations AS o JOIN sim_targets AS t ON t.digest = o.target",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((targets, named), (1, 2));
    let s = common::start_with(&db, false).await;
    let operations = s.get("/api/v1/simulator/operations").await.body;
    assert_eq!(operations["value"].as_array().unwrap().len(), 2);
    s.clock.advance(24 * 3600 * 1000);
    for cluster in ["aks-1", "aks-2"] {
        assert!(matches!(
            s.built
                .simulator
                .operation(&id(cluster), &format!("op-{cluster}"))
                .await
                .unwrap()
                .map(|o| o.status),
            Some(OperationStatus::Succeeded)
        ));
        assert_eq!(
            s.get(&format!("/api/v1/simulator/clusters/{cluster}"))
                .await
                .body["kubernetesVersion"],
            to.as_str()
        );
    }
}

#[tokio::test]
async fn an_upgrade_in_flight_reports_how_many_nodes_are_done() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    s.sim_cluster("aks-1", "eastus", &from).await;
    let sim = &s.built.simulator;
    let operation = sim
        .start_upgrade(&request("op-p", "aks-1", &from, &to))
        .await
        .unwrap();
    let progress = |status: OperationStatus| match status {
        OperationStatus::Running { progress, .. } => progress.unwrap(),
        other => panic!("{other:?}"),
    };
    let first = progress(operation.status.clone());
    assert_eq!(
        (first.nodes_done, first.nodes_total, first.step.as_str()),
        (0, 3, "control plane")
    );
    let ends_at = ends_at(&operation);
    // Most of the way: the control plane is done and some of the pool's nodes are.
    let length = ends_at.millis() - common::START.millis();
    s.clock.advance(length * 9 / 10);
    let later = progress(
        sim.operation(&id("aks-1"), "op-p")
            .await
            .unwrap()
            .unwrap()
            .status,
    );
    assert_eq!(later.step, "node pool system");
    assert!((1..3).contains(&later.nodes_done), "{later:?}");
    let listed = s.get("/api/v1/simulator/operations").await.body;
    assert_eq!(listed["value"][0]["progress"]["nodesTotal"], 3);
}

#[tokio::test]
async fn a_start_answered_with_success_means_the_cluster_runs_the_target() {
    let s = common::start().await;
    let (from, to) = versions(&s).await;
    s.sim_cluster("aks-1", "eastus", &from).await;
    let sim = &s.built.simulator;
    sim.start_upgrade(&request("op-s", "aks-1", &from, &to))
        .await
        .unwrap();
    s.clock.advance(24 * 3600 * 1000);
    // Asked again under the same id after it ended (as after a crash), without a status call.
    let again = sim
        .start_upgrade(&request("op-s", "aks-1", &from, &to))
        .await
        .unwrap();
    assert_eq!(again.status, OperationStatus::Succeeded);
    assert_eq!(
        s.get("/api/v1/simulator/clusters/aks-1").await.body["kubernetesVersion"],
        to.as_str(),
        "success is only said of an upgrade that happened"
    );
}

/// Two servers on one database (which lives as long as they do), cluster `aks-1` on `from`,
/// and the versions `from` and `to`.
struct TwoServers {
    a: common::TestServer,
    b: common::TestServer,
    from: String,
    to: String,
    _db: common::TempDb,
}

async fn two_servers() -> TwoServers {
    let db = common::temp_db();
    let a = common::start_with(&db, false).await;
    let b = common::start_with(&db, false).await;
    let (from, to) = versions(&a).await;
    a.sim_cluster("aks-1", "eastus", &from).await;
    b.built.simulator.sync().await.unwrap();
    TwoServers {
        a,
        b,
        from,
        to,
        _db: db,
    }
}

/// Two servers on one database: an upgrade ended by a server whose copy of the simulated world
/// is behind (another server changed the cluster since it last read) is applied to the cluster
/// as stored, so the other server's change stays. (The server that is up to date applies it to
/// its own copy instead of reading the cluster back.)
#[tokio::test]
async fn an_upgrade_ended_by_a_server_behind_the_store_keeps_the_other_servers_change() {
    let TwoServers {
        a,
        b,
        from,
        to,
        _db,
    } = two_servers().await;
    a.built
        .simulator
        .start_upgrade(&request("op-1", "aks-1", &from, &to))
        .await
        .unwrap();

    // `a` read the store just now, so it will not read it again for a moment; then `b` grows
    // the cluster's pool (still on `from`).
    a.built.simulator.sync().await.unwrap();
    let image = a.newest_image("eastus").await;
    let grown = b
        .put(
            "/api/v1/simulator/clusters/aks-1",
            json!({
                "location": "eastus", "kubernetesVersion": from,
                "nodePools": [{"name": "system", "count": 5, "kubernetesVersion": from,
                               "osSku": "AKSUbuntu-2204gen2containerd",
                               "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")}]
            }),
        )
        .await;
    assert!(grown.status.is_success(), "{}", grown.body);

    a.clock.advance(24 * 3600 * 1000);
    let ended = a
        .built
        .simulator
        .operation(&id("aks-1"), "op-1")
        .await
        .unwrap();
    assert_eq!(ended.map(|o| o.status), Some(OperationStatus::Succeeded));
    for server in [&a, &b] {
        let cluster = server.get("/api/v1/simulator/clusters/aks-1").await.body;
        assert_eq!(cluster["kubernetesVersion"], to.as_str(), "{cluster}");
        assert_eq!(
            cluster["nodePools"][0]["count"], 5,
            "the pool grown by the other server stays grown: {cluster}"
        );
    }
}

/// Two servers on one database: an operation id another server recorded since this one last
/// read the store is answered for as that server started it, and recorded once.
#[tokio::test]
async fn an_operation_id_another_server_recorded_first_is_answered_as_it_started() {
    let TwoServers {
        a,
        b,
        from,
        to,
        _db,
    } = two_servers().await;

    // `a` read the store just now, so it does not read it again for a moment; `b` starts the
    // operation meanwhile, then `a` is asked to start another upgrade under the same id.
    a.built.simulator.sync().await.unwrap();
    let first = request("op-1", "aks-1", &from, &to);
    b.built.simulator.start_upgrade(&first).await.unwrap();
    let mut other = request("op-1", "aks-1", &from, &to);
    other.target.node_pools.clear();
    let answer = a.built.simulator.start_upgrade(&other).await.unwrap();

    assert_eq!(answer.target, Some(first.target), "the first start stands");
    let listed = a.get("/api/v1/simulator/operations").await.body;
    assert_eq!(listed["value"].as_array().unwrap().len(), 1, "{listed}");
}
