//! Rolling placements out (`RollingUpdate`): the newest snapshots reach the picked members, a
//! change moves `maxUnavailable` members at a time as each becomes available, a refusal fails
//! its member with the cluster's words, members no longer picked are cleaned, and no snapshot
//! reaches a cluster twice — across a pass cut short and across a killed server.

use crate::common;
use crate::placements::{fleet, member, put_member, three};

use axum::http::StatusCode;
use serde_json::{Value, json};

const PLACEMENT: &str = "/api/v1/fleets/f/placements/web";

fn prod_everywhere(max_unavailable: Value) -> Value {
    json!({"properties": {"resources": ["web"],
        "policy": {"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]}}}},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}}}})
}

pub(crate) async fn change_resource(s: &common::TestServer, value: &str) {
    let bundle = json!({"properties": {"manifests": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "web"},
         "data": {"value": value}}]}});
    let put = s.put("/api/v1/fleets/f/resources/web", bundle).await;
    assert!(put.status.is_success(), "{}", put.body);
}

async fn slow_to_become_ready(s: &common::TestServer, clusters: &[&str], seconds: u32) {
    for cluster in clusters {
        let put = s
            .put(
                &format!("/api/v1/simulator/clusters/{cluster}/resourceFaults"),
                json!({"readyAfterSeconds": seconds}),
            )
            .await;
        assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    }
}

/// What a simulated cluster holds of the placement: its revision and how often one was applied.
pub(crate) async fn held(s: &common::TestServer, cluster: &str) -> Option<(String, i64)> {
    let list = s
        .get(&format!("/api/v1/simulator/clusters/{cluster}/resources"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    list.body["value"].as_array().unwrap().first().map(|held| {
        assert_eq!(held["owner"], "f/web");
        (
            held["revision"].as_str().unwrap().to_owned(),
            held["applies"].as_i64().unwrap(),
        )
    })
}

async fn pass(s: &common::TestServer) -> server::service::RolloutPass {
    let mut outcomes = s.built.drydock.roll_out_placements().await;
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0).2.expect("the pass works")
}

fn states(placement: &Value) -> Vec<(String, String)> {
    placement["properties"]["status"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap().to_owned(),
                m["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_change_moves_max_unavailable_members_at_a_time() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    change_resource(&s, "one").await;
    let prod = ["east-1", "east-2", "west-1"];
    slow_to_become_ready(&s, &prod, 60).await;
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!(1)))
            .await
            .status
            .is_success()
    );

    // Members that hold nothing get the objects at once.
    let first = pass(&s).await;
    assert_eq!(first.applied, prod);
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(member(&now, "east-1")["state"], "Applied");
    assert_eq!(
        member(&now, "east-1")["reason"],
        "matches required term 1; picked: PickAll takes every member that passes; web@2 applied; waiting for it to become available"
    );
    s.clock.advance(61_000);
    assert_eq!(pass(&s).await.now_available, prod);

    // A change: one member at a time, the next once the last is available.
    change_resource(&s, "two").await;
    let started = pass(&s).await;
    assert_eq!(started.applied, ["east-1"]);
    assert_eq!(started.waiting, ["east-2", "west-1"]);
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(member(&now, "east-1")["state"], "Applied");
    assert_eq!(member(&now, "east-2")["state"], "Scheduled");
    assert!(
        member(&now, "east-2")["reason"]
            .as_str()
            .unwrap()
            .ends_with("holds web@2; web@3 is next")
    );
    assert!(
        pass(&s).await.applied.is_empty(),
        "east-1 is not available yet"
    );
    s.clock.advance(61_000);
    let next = pass(&s).await;
    assert_eq!(
        (next.now_available, next.applied),
        (vec!["east-1".to_owned()], vec!["east-2".to_owned()])
    );
    s.clock.advance(61_000);
    assert_eq!(pass(&s).await.applied, ["west-1"]);
    s.clock.advance(61_000);
    pass(&s).await;
    let done = s.get(PLACEMENT).await.body;
    assert_eq!(done["properties"]["status"]["conditions"]["Available"], 3);
    for cluster in prod {
        assert_eq!(
            held(&s, cluster).await,
            Some(("web@3".to_owned(), 2)),
            "{cluster}"
        );
    }
    assert_eq!(held(&s, "dev-1").await, None);
    assert_eq!(held(&s, "gpu-1").await, None);
}

#[tokio::test]
async fn a_refusal_fails_its_member_and_members_no_longer_picked_are_cleaned() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    let refuse = s
        .put(
            "/api/v1/simulator/clusters/east-2/resourceFaults",
            json!({"applyFailNext": true}),
        )
        .await;
    assert_eq!(refuse.status, StatusCode::OK, "{}", refuse.body);
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!("50%")))
            .await
            .status
            .is_success()
    );
    let first = pass(&s).await;
    assert_eq!(first.applied, ["east-1", "west-1"]);
    assert_eq!(first.failed, ["east-2"]);
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(member(&now, "east-2")["state"], "Failed");
    assert!(
        member(&now, "east-2")["reason"]
            .as_str()
            .unwrap()
            .contains("applying web@1 failed: admission webhook")
    );
    assert_eq!(member(&now, "east-1")["state"], "Available");
    // A refusal is not retried at the same snapshot; the next snapshot tries again.
    assert!(pass(&s).await.applied.is_empty());
    assert_eq!(held(&s, "east-2").await, None);
    change_resource(&s, "again").await;
    pass(&s).await;
    assert_eq!(held(&s, "east-2").await, Some(("web@2".to_owned(), 1)));

    // west-1 leaves the picked members: its objects go.
    let relabelled = put_member(&s, "west-1", json!({"env": "dev"}), json!([])).await;
    assert!(relabelled.status.is_success());
    assert_eq!(pass(&s).await.removed, ["west-1"]);
    assert_eq!(held(&s, "west-1").await, None);
    assert_eq!(
        states(&s.get(PLACEMENT).await.body)
            .into_iter()
            .filter(|(_, state)| state == "Available")
            .count(),
        2
    );
    // Deleting the placement takes its objects off every cluster.
    assert_eq!(s.delete(PLACEMENT).await.status, StatusCode::OK);
    for cluster in ["east-1", "east-2", "west-1"] {
        assert_eq!(held(&s, cluster).await, None, "{cluster}");
    }
}

#[tokio::test]
async fn a_pass_cut_short_before_it_recorded_applies_nothing_twice() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet(&s, &three()).await;
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!(1)))
            .await
            .status
            .is_success()
    );
    pass(&s).await;
    // As if the server died after the clusters answered but before it wrote down what they
    // took: the records are gone, the clusters hold the objects.
    let pool = common::raw_pool(&db).await;
    sqlx::query("DELETE FROM placement_members")
        .execute(&pool)
        .await
        .unwrap();
    let again = pass(&s).await;
    assert_eq!(again.applied, ["east-1", "east-2", "west-1"]);
    for cluster in ["east-1", "east-2", "west-1"] {
        assert_eq!(
            held(&s, cluster).await,
            Some(("web@1".to_owned(), 1)),
            "{cluster}"
        );
    }
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(now["properties"]["status"]["conditions"]["Available"], 3);
}

pub(crate) mod killed {
    use crate::common;
    use serde_json::{Value, json};
    use std::time::{Duration, Instant};

    pub(crate) const MEMBERS: usize = 12;

    pub(crate) fn call(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, reply) = common::http(port, method, path, body.as_ref())
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert!(status < 300, "{method} {path} answered {status}: {reply}");
        reply
    }

    pub(crate) fn serve(port: u16, db: &str) -> common::KillOnDrop {
        let args = [
            "--database-url",
            db,
            "--time-scale",
            "100",
            "--placement-interval-seconds",
            "1",
        ];
        common::spawn_serve(port, &args)
    }

    /// Fleet `f` of `MEMBERS` simulated members whose objects are ready 100 s (fleet time)
    /// after they are applied, a resource and a placement on all of them, two at a time.
    fn set_up(port: u16) {
        let placement = json!({"properties": {"resources": ["web"],
            "strategy": {"rollingUpdate": {"maxUnavailable": 2}}}});
        set_up_with(port, placement);
    }

    /// Fleet `f` as [`set_up`] makes it, with `placement` as placement `web`.
    pub(crate) fn set_up_with(port: u16, placement: Value) {
        let catalog = call(port, "GET", "/api/v1/simulator/catalog", None);
        let version = catalog["kubernetesVersions"][0]
            .as_str()
            .unwrap()
            .to_owned();
        let images = &catalog["nodeImages"]["eastus"]["AKSUbuntu-2204gen2containerd"];
        let image = images
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned();
        call(port, "PUT", "/api/v1/fleets/f", Some(json!({})));
        for i in 0..MEMBERS {
            let name = format!("m{i}");
            let pools = json!([{"name": "system", "count": 3, "kubernetesVersion": version,
                "osSku": "AKSUbuntu-2204gen2containerd",
                "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")}]);
            let cluster =
                json!({"location": "eastus", "kubernetesVersion": version, "nodePools": pools});
            call(
                port,
                "PUT",
                &format!("/api/v1/simulator/clusters/{name}"),
                Some(cluster),
            );
            let faults = json!({"readyAfterSeconds": 100});
            call(
                port,
                "PUT",
                &format!("/api/v1/simulator/clusters/{name}/resourceFaults"),
                Some(faults),
            );
            let member = json!({"properties": {"clusterResourceId": format!("sim:{name}")}});
            call(
                port,
                "PUT",
                &format!("/api/v1/fleets/f/members/{name}"),
                Some(member),
            );
        }
        put_resource(port, "one");
        call(
            port,
            "PUT",
            "/api/v1/fleets/f/placements/web",
            Some(placement),
        );
    }

    pub(crate) fn put_resource(port: u16, value: &str) {
        let bundle = json!({"properties": {"manifests": [{"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "default"}, "data": {"value": value}}]}});
        call(port, "PUT", "/api/v1/fleets/f/resources/web", Some(bundle));
    }

    /// How many members are available with snapshot `index` of `web`.
    pub(crate) fn available_at(port: u16, index: i64) -> usize {
        let Ok((200, placement)) =
            common::http(port, "GET", "/api/v1/fleets/f/placements/web", None)
        else {
            return 0;
        };
        placement["properties"]["status"]["members"]
            .as_array()
            .map_or(0, |members| {
                members
                    .iter()
                    .filter(|m| m["state"] == "Available" && m["snapshot"]["web"] == index)
                    .count()
            })
    }

    fn wait_until_all_available(port: u16, index: i64) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while available_at(port, index) < MEMBERS {
            assert!(
                Instant::now() < deadline,
                "snapshot {index} did not reach every member"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[test]
    fn a_server_killed_mid_rollout_applies_each_snapshot_once_per_member() {
        let db = common::temp_db();
        let port = common::free_port();
        let mut server = serve(port, &db);
        set_up(port);
        wait_until_all_available(port, 1);
        put_resource(port, "two");
        // Two at a time, each pair ready a second after it is applied: killed twice on the way.
        for pause in [1500, 2200] {
            std::thread::sleep(Duration::from_millis(pause));
            assert!(
                available_at(port, 2) < MEMBERS,
                "the rollout finished before the kill"
            );
            server.kill(); // SIGKILL
            server = serve(port, &db);
        }
        wait_until_all_available(port, 2);
        for i in 0..MEMBERS {
            let held = call(
                port,
                "GET",
                &format!("/api/v1/simulator/clusters/m{i}/resources"),
                None,
            );
            let held = &held["value"][0];
            assert_eq!(held["revision"], "web@2", "m{i}: {held}");
            assert_eq!(
                held["applies"], 2,
                "m{i} was given a snapshot twice: {held}"
            );
        }
        drop(server);
    }
}

/// The objects a simulated cluster holds of the placement, as applied.
async fn held_objects(s: &common::TestServer, cluster: &str) -> Value {
    let list = s
        .get(&format!("/api/v1/simulator/clusters/{cluster}/resources"))
        .await;
    list.body["value"][0]["manifests"].clone()
}

#[tokio::test]
async fn overrides_change_the_objects_of_the_members_their_rules_pick() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    change_resource(&s, "any").await;
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!(1)))
            .await
            .status
            .is_success()
    );
    let in_europe = |value: &str| {
        json!({"properties": {"placement": "web",
            "resourceSelectors": [{"kind": "ConfigMap", "namespace": "web", "name": "settings"}],
            "policy": {"overrideRules": [{
                "clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"fleet.azure.com/location": "westeurope"}}}]},
                "jsonPatchOverrides": [{"op": "replace", "path": "/data/value", "value": value}]}]}}})
    };
    let eu = "/api/v1/fleets/f/resourceOverrides/eu";
    let put = s.put(eu, in_europe("eu-${MEMBER-CLUSTER-NAME}")).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let preview = s.get(PLACEMENT).await.body;
    assert_eq!(member(&preview, "west-1")["overrides"], json!(["eu@1"]));
    assert!(member(&preview, "east-1").get("overrides").is_none());

    pass(&s).await;
    assert_eq!(
        held_objects(&s, "west-1").await[1]["data"]["value"],
        "eu-west-1"
    );
    assert_eq!(held_objects(&s, "east-1").await[1]["data"]["value"], "any");
    let (first, applies) = held(&s, "west-1").await.unwrap();
    assert!(first.starts_with("web@2+eu#"), "{first}");
    assert_eq!(applies, 1);

    // A changed override reaches only the members it picks; a deleted one leaves them.
    assert!(s.put(eu, in_europe("europe")).await.status.is_success());
    pass(&s).await;
    let (second, applies) = held(&s, "west-1").await.unwrap();
    assert!(
        second.starts_with("web@2+eu#") && second != first,
        "{second}"
    );
    assert_eq!(applies, 2);
    assert_eq!(
        held_objects(&s, "west-1").await[1]["data"]["value"],
        "europe"
    );
    assert_eq!(held(&s, "east-1").await, Some(("web@2".to_owned(), 1)));
    assert_eq!(s.delete(eu).await.status, StatusCode::OK);
    pass(&s).await;
    assert_eq!(held(&s, "west-1").await, Some(("web@2".to_owned(), 3)));

    // A patch that cannot apply fails the members it picks, saying where.
    let broken = json!({"properties": {"placement": "web", "policy": {"overrideRules": [{
        "clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"fleet.azure.com/location": "westeurope"}}}]},
        "jsonPatchOverrides": [{"op": "replace", "path": "/data/missing", "value": "x"}]}]}}});
    assert!(s.put(eu, broken).await.status.is_success());
    assert_eq!(pass(&s).await.failed, ["west-1"]);
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(member(&now, "west-1")["state"], "Failed");
    let reason = member(&now, "west-1")["reason"].as_str().unwrap();
    assert!(
        reason.contains("web@2+eu@1 cannot be applied: override eu, rule 1, patch 1 on Namespace web: /data does not exist"),
        "{reason}"
    );
    assert_eq!(
        held(&s, "west-1").await,
        Some(("web@2".to_owned(), 3)),
        "the cluster keeps what it had"
    );

    let cases = [
        (
            json!({"placement": "nope", "policy": {"overrideRules": [{"overrideType": "Delete"}]}}),
            "properties.placement: fleet f has no placement named nope",
        ),
        (
            json!({"placement": "web", "policy": {"overrideRules": [{"jsonPatchOverrides": [{"op": "replace", "path": "/kind", "value": "Secret"}]}]}}),
            "properties.policy.overrideRules[0].jsonPatchOverrides[0].path: /kind is the object's identity",
        ),
    ];
    for (properties, message) in cases {
        let refused = s.put(eu, json!({ "properties": properties })).await;
        assert_eq!(
            refused.code(),
            "InvalidResourceOverride",
            "{}",
            refused.body
        );
        let said = refused.body["error"]["message"].as_str().unwrap();
        assert!(said.starts_with(message), "{said}");
    }
}

#[tokio::test]
async fn a_member_that_leaves_the_fleet_takes_none_of_its_objects_along() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!(1)))
            .await
            .status
            .is_success()
    );
    pass(&s).await;
    assert!(held(&s, "east-1").await.is_some());
    let removed = s.delete("/api/v1/fleets/f/members/east-1").await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(held(&s, "east-1").await, None);

    // A cluster that cannot answer keeps its member, unless forced (its objects then stay).
    let mut cluster = s.get("/api/v1/simulator/clusters/west-1").await.body;
    cluster["unreachable"] = json!(true);
    assert!(
        s.put("/api/v1/simulator/clusters/west-1", cluster)
            .await
            .status
            .is_success()
    );
    let refused = s.delete("/api/v1/fleets/f/members/west-1").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.code(), "PlacedObjectsRemain");
    assert_eq!(
        s.get("/api/v1/fleets/f/members/west-1").await.status,
        StatusCode::OK
    );
    let forced = s.delete("/api/v1/fleets/f/members/west-1?force=true").await;
    assert_eq!(forced.status, StatusCode::OK, "{}", forced.body);
    assert!(held(&s, "west-1").await.is_some());
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(states(&now).len(), 3, "east-2, dev-1 and gpu-1 remain");
    // A deleted fleet leaves nothing of its own on clusters either.
    assert!(held(&s, "east-2").await.is_some());
    assert_eq!(s.delete("/api/v1/fleets/f").await.status, StatusCode::OK);
    assert_eq!(held(&s, "east-2").await, None);
}

#[tokio::test]
async fn objects_changed_by_hand_on_a_cluster_are_reported_as_drift_until_the_next_revision() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    change_resource(&s, "one").await;
    assert!(
        s.put(PLACEMENT, prod_everywhere(json!(1)))
            .await
            .status
            .is_success()
    );
    pass(&s).await;
    let drift = |objects: Value| {
        s.call(
            "POST",
            "/api/v1/simulator/clusters/east-1/drift",
            Some(json!({"owner": "f/web", "objects": objects})),
        )
    };
    let unknown = drift(json!(["ConfigMap web/nope"])).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    assert_eq!(unknown.body["error"]["code"], "UnknownObject");
    let drifted = drift(json!(["ConfigMap web/settings"])).await;
    assert_eq!(drifted.status, StatusCode::OK, "{}", drifted.body);
    assert_eq!(drifted.body["drifted"], json!(["ConfigMap web/settings"]));

    let seen = s.built.drydock.check_drift().await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].2, ["east-1"]);
    let status = s.get(PLACEMENT).await.body;
    let east = member(&status, "east-1");
    assert_eq!(east["state"], "Available");
    assert_eq!(east["drifted"], json!(["ConfigMap web/settings"]));
    assert!(
        east["reason"].as_str().unwrap().ends_with(
            "; drifted: ConfigMap web/settings changed on the cluster since web@2 was applied"
        ),
        "{east}"
    );
    assert_eq!(status["properties"]["status"]["conditions"]["Drifted"], 1);
    assert!(member(&status, "east-2").get("drifted").is_none());
    assert!(
        s.built.drydock.check_drift().await.unwrap().is_empty(),
        "nothing new"
    );

    // The next snapshot gives the objects again: the drift is gone.
    change_resource(&s, "two").await;
    for _ in 0..3 {
        pass(&s).await;
    }
    s.built.drydock.check_drift().await.unwrap();
    let status = s.get(PLACEMENT).await.body;
    assert!(
        member(&status, "east-1").get("drifted").is_none(),
        "{status}"
    );
    assert_eq!(status["properties"]["status"]["conditions"]["Drifted"], 0);
}
