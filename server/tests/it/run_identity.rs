//! A run reports only upgrades that happened to its own clusters: runs of the same name in two
//! fleets, or a run deleted and created again under its old name, never share an operation, and
//! a provider's answer for another operation is a failure, never a success.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const FAST: f64 = 100_000.0;

async fn fast() -> common::FastServer {
    common::start_fast("sqlite::memory:", false, FAST).await
}

/// A fleet with one member on a fresh simulated cluster of the same name, at 1.29.
async fn fleet_with_one_member(s: &common::TestServer, fleet: &str, cluster: &str) {
    let from = common::newest_of(s, 29).await;
    let made = s.sim_cluster(cluster, "eastus", &from).await;
    assert!(made.status.is_success(), "{}", made.body);
    s.fleet(fleet).await;
    let joined = s.join(fleet, "mem", &format!("sim:{cluster}"), None).await;
    assert!(joined.status.is_success(), "{}", joined.body);
}

fn control_plane_to(version: &str) -> Value {
    json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": version}}}})
}

/// Creates run `x` in `fleet`, starts it and waits for it to finish.
async fn run_to_the_end(s: &common::TestServer, fleet: &str, version: &str) -> Value {
    let url = format!("/api/v1/fleets/{fleet}/updateRuns/x");
    let created = s.put(&url, control_plane_to(version)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let started = s.call("POST", &format!("{url}/start"), None).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    s.wait_for_run(fleet, "x", &["Completed", "Failed"]).await
}

async fn control_plane_of(s: &common::TestServer, cluster: &str) -> String {
    let body = s
        .get(&format!("/api/v1/simulator/clusters/{cluster}"))
        .await
        .body;
    body["kubernetesVersion"].as_str().unwrap().to_owned()
}

fn the_member(run: &Value) -> Value {
    common::run_members(&run["properties"]["status"]["stages"])
        .pop()
        .unwrap()
}

#[tokio::test]
async fn runs_of_the_same_name_in_two_fleets_each_upgrade_their_own_cluster() {
    let s = fast().await;
    fleet_with_one_member(&s, "fr", "reuse").await;
    fleet_with_one_member(&s, "fr2", "reuse2").await;
    let target = common::newest_of(&s, 30).await;
    let first = run_to_the_end(&s, "fr", &target).await;
    let second = run_to_the_end(&s, "fr2", &target).await;
    assert_eq!(the_member(&first)["status"]["state"], "Completed");
    assert_eq!(the_member(&second)["status"]["state"], "Completed");
    assert_eq!(control_plane_of(&s, "reuse").await, target);
    assert_eq!(
        control_plane_of(&s, "reuse2").await,
        target,
        "the second run's member is Completed, so its cluster must run the target"
    );
    assert_ne!(
        the_member(&first)["operationId"],
        the_member(&second)["operationId"]
    );
    assert_ne!(first["properties"]["uid"], second["properties"]["uid"]);
}

#[tokio::test]
async fn a_run_created_again_under_a_deleted_runs_name_upgrades_again() {
    let s = fast().await;
    fleet_with_one_member(&s, "f", "again").await;
    let to_30 = common::newest_of(&s, 30).await;
    let first = run_to_the_end(&s, "f", &to_30).await;
    assert_eq!(
        first["properties"]["status"]["status"]["state"],
        "Completed"
    );
    let deleted = s.delete("/api/v1/fleets/f/updateRuns/x").await;
    assert_eq!(deleted.status, StatusCode::OK);
    let to_31 = common::newest_of(&s, 31).await;
    let second = run_to_the_end(&s, "f", &to_31).await;
    assert_eq!(the_member(&second)["status"]["state"], "Completed");
    assert_eq!(control_plane_of(&s, "again").await, to_31);
}

#[tokio::test]
async fn a_provider_answering_for_another_cluster_fails_the_member() {
    let s = fast().await;
    fleet_with_one_member(&s, "f", "mine").await;
    let from = common::newest_of(&s, 29).await;
    s.sim_cluster("theirs", "eastus", &from).await;
    let target = common::newest_of(&s, 30).await;
    let url = "/api/v1/fleets/f/updateRuns/x";
    let created = s.put(url, control_plane_to(&target)).await;
    let uid = created.body["properties"]["uid"].as_str().unwrap();
    // The operation id the run will use is already taken, for another cluster.
    let foreign = server::provider::UpgradeRequest {
        operation_id: format!("{uid}/mem/1"),
        cluster: app::model::member::ClusterResourceId::parse("sim:theirs").unwrap(),
        target: app::model::target::UpgradeTarget {
            control_plane: Some(app::model::target::Step {
                from: app::model::version::KubernetesVersion::parse(&from).unwrap(),
                to: app::model::version::KubernetesVersion::parse(&target).unwrap(),
            }),
            node_pools: vec![],
            resources: None,
        },
    };
    use server::provider::Provider;
    s.built.simulator.start_upgrade(&foreign).await.unwrap();
    s.call("POST", &format!("{url}/start"), None).await;
    let run = s.wait_for_run("f", "x", &["Completed", "Failed"]).await;
    let member = the_member(&run);
    assert_eq!(member["status"]["state"], "Failed", "{member}");
    let message = member["status"]["error"]["message"].as_str().unwrap();
    assert!(message.contains("sim:theirs"), "{message}");
    assert_eq!(
        control_plane_of(&s, "mine").await,
        from,
        "the run's own cluster was never upgraded"
    );
}

#[tokio::test]
async fn a_runs_uid_survives_a_restart_and_its_upgrades_are_found_again() {
    let db = common::temp_db();
    let uid;
    {
        let s = common::start_with(&db, false).await;
        fleet_with_one_member(&s, "f", "kept").await;
        let target = common::newest_of(&s, 30).await;
        let created = s
            .put("/api/v1/fleets/f/updateRuns/x", control_plane_to(&target))
            .await;
        uid = created.body["properties"]["uid"]
            .as_str()
            .unwrap()
            .to_owned();
        s.call("POST", "/api/v1/fleets/f/updateRuns/x/start", None)
            .await;
    }
    let s = common::start_with(&db, false).await;
    let run = s.get("/api/v1/fleets/f/updateRuns/x").await.body;
    assert_eq!(run["properties"]["uid"], uid.as_str());
    assert_eq!(the_member(&run)["operationId"], format!("{uid}/mem/1"));
    let ops = s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(ops[0]["operationId"], format!("{uid}/mem/1"));
}

#[tokio::test]
async fn a_deleted_runs_driver_never_answers_for_its_successor() {
    let s = fast().await;
    fleet_with_one_member(&s, "f", "succ").await;
    let url = "/api/v1/fleets/f/updateRuns/x";
    let to_30 = common::newest_of(&s, 30).await;
    s.put(url, control_plane_to(&to_30)).await;
    // A refused stop leaves the run's driver lingering for the next command.
    let stop = s.call("POST", &format!("{url}/stop"), None).await;
    assert_eq!(stop.status, StatusCode::CONFLICT);
    assert_eq!(s.delete(url).await.status, StatusCode::OK);
    let to_31 = common::newest_of(&s, 31).await;
    s.put(url, control_plane_to(&to_31)).await;
    let started = s.call("POST", &format!("{url}/start"), None).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let run = s.wait_for_run("f", "x", &["Completed", "Failed"]).await;
    assert_eq!(
        run["properties"]["managedClusterUpdate"]["upgrade"]["kubernetesVersion"],
        to_31.as_str(),
        "the run started is the new one"
    );
    assert_eq!(
        run["properties"]["status"]["status"]["state"], "Failed",
        "1.29 → 1.31 skips a minor version: {run}"
    );
}

#[tokio::test]
async fn a_stale_write_for_a_deleted_run_cannot_land_on_its_successor() {
    use server::store::RunStore;
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet_with_one_member(&s, "f", "stale").await;
    let url = "/api/v1/fleets/f/updateRuns/x";
    let target = common::newest_of(&s, 30).await;
    s.put(url, control_plane_to(&target)).await;
    let store = server::store::SqlStore::connect(&db).await.unwrap();
    let fleet = app::model::names::FleetName::parse("f").unwrap();
    let name = app::model::names::RunName::parse("x").unwrap();
    let old = store.get_run(&fleet, &name).await.unwrap().unwrap();
    s.delete(url).await;
    s.put(url, control_plane_to(&target)).await;
    let new = store.get_run(&fleet, &name).await.unwrap().unwrap();
    assert_eq!(old.etag, new.etag, "both runs are at their first version");
    let driving = common::take_run(&store, &new.run.uid).await;
    let stale = store
        .save_run(&fleet, &old, &driving, common::change(&old.run, &[]))
        .await;
    assert!(
        matches!(stale, Err(server::store::StoreError::Concurrent)),
        "{stale:?}"
    );
    let stale_delete = store.delete_run(&fleet, &old).await;
    assert!(matches!(
        stale_delete,
        Err(server::store::StoreError::Concurrent)
    ));
    assert_eq!(
        store.get_run(&fleet, &name).await.unwrap().unwrap().run.uid,
        new.run.uid
    );
}

/// A small deterministic random walk over two fleets and two run names: runs are created,
/// started, finished and deleted in any order, names reused across fleets and after deletes.
/// Whatever the order, every member a run reports `Completed` runs that run's target.
#[tokio::test]
async fn whatever_the_order_of_reuse_a_completed_member_runs_its_runs_target() {
    let s = fast().await;
    fleet_with_one_member(&s, "fa", "walk-a").await;
    fleet_with_one_member(&s, "fb", "walk-b").await;
    let targets = [
        common::newest_of(&s, 30).await,
        common::newest_of(&s, 31).await,
    ];
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) % n
    };
    let mut checked = 0;
    for _ in 0..12 {
        let fleet = ["fa", "fb"][next(2) as usize];
        let name = ["x", "y"][next(2) as usize];
        let url = format!("/api/v1/fleets/{fleet}/updateRuns/{name}");
        if s.get(&url).await.status == StatusCode::OK {
            s.wait_for_run(fleet, name, &["Completed", "Failed", "NotStarted"])
                .await;
            assert_eq!(s.delete(&url).await.status, StatusCode::OK);
            continue;
        }
        // The next minor up from what the cluster runs now (1.29 → 1.30 → 1.31), or 1.31 again.
        let cluster = if fleet == "fa" { "walk-a" } else { "walk-b" };
        let now = control_plane_of(&s, cluster).await;
        let target = if now.starts_with("1.29.") {
            &targets[0]
        } else {
            &targets[1]
        };
        let created = s.put(&url, control_plane_to(target)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        s.call("POST", &format!("{url}/start"), None).await;
        let run = s.wait_for_run(fleet, name, &["Completed", "Failed"]).await;
        let member = the_member(&run);
        if member["status"]["state"] == "Completed" {
            assert_eq!(
                control_plane_of(&s, cluster).await,
                *target,
                "{fleet}/{name} reports {member}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "the walk upgraded something ({checked})");
}
