//! Real clusters through the `exec` provider: the example lab provider run as a real process
//! for every call, configured in a `drydock.toml`. What the lab recorded (every call, every
//! upgrade applied) says what really happened to the clusters.

use crate::common::lab::{self, Lab};
use crate::common::runs::{create_run, member, start_run, state, wait_until};
use crate::common::{self, FastServer};

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn lab_fleet(lab: &Lab, members: usize) -> FastServer {
    let s = common::start_configured(&lab.config).await;
    s.fleet("f").await;
    for i in 0..members {
        let name = format!("c{i:02}");
        let joined = s.join("f", &name, &format!("exec:lab/{name}"), None).await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    s
}

fn control_plane() -> Value {
    json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": lab::TO}}})
}

#[tokio::test]
async fn lab_clusters_join_by_their_exec_id_and_the_provider_says_how_it_is() {
    let lab = Lab::new(2, 1.0);
    let s = lab_fleet(&lab, 1).await;
    let unknown = s.join("f", "ghost", "exec:lab/ghost", None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.code(), "ClusterNotFound");
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exec:lab/ghost")
    );
    let foreign = s.join("f", "other", "exec:elsewhere/c01", None).await;
    assert_eq!(foreign.code(), "InvalidClusterResourceId");
    assert!(
        foreign.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("exec:lab/{cluster}"),
        "{}",
        foreign.body
    );

    let providers = s.get("/api/v1/providers").await.body;
    let names: Vec<&str> = providers["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sim", "lab"]);
    let lab_provider = s.get("/api/v1/providers/lab").await.body;
    let properties = &lab_provider["properties"];
    assert_eq!(properties["kind"], "exec");
    assert_eq!(properties["clusterResourceIdForm"], "exec:lab/{cluster}");
    assert!(!properties["health"]["lastSuccess"].is_null());
    assert!(properties["calls"]["observe"].as_u64().unwrap() >= 2);
    assert_eq!(properties["settings"]["secrets"], json!(["LAB_TOKEN"]));
    assert!(
        !lab_provider.to_string().contains(Lab::token()),
        "the secret is never shown"
    );
    assert_eq!(
        s.get("/api/v1/providers/nope").await.code(),
        "ProviderNotFound"
    );
}

#[tokio::test]
async fn a_run_upgrades_each_lab_cluster_once_at_a_bounded_cost() {
    let lab = Lab::new(4, 0.5);
    let s = lab_fleet(&lab, 4).await;
    let before = lab.calls().values().sum::<usize>();
    start_run(&s, control_plane()).await;
    let run = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&run), "Completed", "{run}");
    assert!(lab.upgrades().values().all(|n| *n == 1) && lab.upgrades().len() == 4);
    let calls = lab.calls();
    let per_member = (calls.values().sum::<usize>() - before) as f64 / 4.0;
    eprintln!("exec provider, calls per member upgrade: {per_member:.1} ({calls:?})");
    assert!(per_member < 15.0, "{calls:?}");
    let clusters = s.get("/api/v1/fleets/f/members").await.body;
    assert_eq!(clusters["value"].as_array().unwrap().len(), 4, "{clusters}");
}

#[tokio::test]
async fn a_cluster_deleted_mid_run_fails_its_member_and_a_retry_after_it_is_back_completes() {
    let lab = Lab::new(1, 3.0);
    let s = lab_fleet(&lab, 1).await;
    start_run(&s, control_plane()).await;
    // Mid-run: the lab has started the upgrade.
    wait_until(&s, |_| lab.operations().contains_key("c00")).await;
    lab.change_fleet(|fleet| {
        fleet["clusters"].as_object_mut().unwrap().remove("c00");
    });
    let failed = wait_until(&s, |r| state(r) == "Failed").await;
    let message = member(&failed, "c00")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("c00 no longer exists"),
        "the provider's words: {message}"
    );

    lab.change_fleet(|fleet| fleet["clusters"]["c00"] = lab::cluster_state());
    s.start_r().await;
    let done = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&done), "Completed", "{done}");
    assert_eq!(lab.upgrades()["c00"], 1, "the first upgrade never landed");
}

#[tokio::test]
async fn a_storm_of_transient_errors_slows_a_run_but_never_upgrades_twice() {
    let lab = Lab::new(4, 0.5);
    let s = lab_fleet(&lab, 4).await;
    create_run(&s, control_plane()).await;
    lab.set_faults(json!({"transientRate": 0.5}));
    let before = lab.calls().values().sum::<usize>();
    s.start_r().await;
    // The storm lasts until two members are through (or 20 s), then passes.
    let storm = Instant::now();
    wait_until(&s, |r| {
        let done = common::run_members(&r["properties"]["status"]["stages"])
            .iter()
            .filter(|m| m["status"]["state"] == "Completed")
            .count();
        done >= 2 || storm.elapsed() > Duration::from_secs(20)
    })
    .await;
    lab.set_faults(json!({}));
    let run = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&run), "Completed", "{run}");
    assert_eq!(lab.upgrades().len(), 4);
    assert!(
        lab.upgrades().values().all(|n| *n == 1),
        "{:?}",
        lab.upgrades()
    );
    assert!(
        lab.operations().values().all(|n| *n == 1),
        "{:?}",
        lab.operations()
    );
    let calls = lab.calls();
    let per_member = (calls.values().sum::<usize>() - before) as f64 / 4.0;
    eprintln!(
        "exec provider, 50% transient storm for {:.1} s: calls per member {per_member:.1} ({calls:?})",
        storm.elapsed().as_secs_f64()
    );
    assert!(per_member < 60.0, "the call rate stays bounded: {calls:?}");
}

/// What the lab's clusters hold of placed objects: `{cluster: {owner: {revision, applies}}}`.
fn lab_resources(lab: &Lab) -> Value {
    let text = std::fs::read_to_string(lab.dir.join("resources.json")).unwrap_or("{}".into());
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn a_placement_reaches_lab_clusters_through_the_exec_verbs_and_leaves_them_on_delete() {
    let lab = Lab::new(3, 1.0);
    lab.set_faults(json!({"refuseObjects": {"c02": "admission webhook \"lab-policy\" denied the request: no ConfigMaps here"}}));
    let s = lab_fleet(&lab, 3).await;
    let bundle = json!({"properties": {"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: \"on\"\n"}});
    assert!(
        s.put("/api/v1/fleets/f/resources/web", bundle)
            .await
            .status
            .is_success()
    );
    let placement = json!({"properties": {"resources": ["web"]}});
    let put = s.put("/api/v1/fleets/f/placements/web", placement).await;
    assert!(put.status.is_success(), "{}", put.body);
    s.built.drydock.roll_out_placements().await;
    s.built.drydock.roll_out_placements().await;

    let held = lab_resources(&lab);
    for cluster in ["c00", "c01"] {
        let mine = &held[cluster]["f/web"];
        assert_eq!(mine["revision"], "web@1", "{cluster}: {held}");
        assert_eq!(
            mine["applies"], 1,
            "{cluster}: applied once, however often asked"
        );
        assert_eq!(mine["manifests"][0]["data"]["mode"], "on");
    }
    assert!(held["c02"]["f/web"].is_null());
    let status = s.get("/api/v1/fleets/f/placements/web").await.body;
    let members = &status["properties"]["status"]["members"];
    assert_eq!(members[0]["state"], "Available", "{members}");
    assert_eq!(members[2]["state"], "Failed");
    assert!(
        members[2]["reason"]
            .as_str()
            .unwrap()
            .contains("lab-policy"),
        "{}",
        members[2]["reason"]
    );
    assert_eq!(
        s.delete("/api/v1/fleets/f/placements/web").await.status,
        StatusCode::OK
    );
    let held = lab_resources(&lab);
    assert!(
        held["c00"]["f/web"].is_null() && held["c01"]["f/web"].is_null(),
        "{held}"
    );
    assert!(lab.calls().contains_key("apply-resources"));
}
