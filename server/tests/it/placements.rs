//! Placements over REST: stored with KubeFleet's policy rules, naming resources that exist, and
//! read back with every member's state and why, following members' labels and taints as they
//! change.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const PLACEMENT: &str = "/api/v1/fleets/f/placements/web";

/// Fleet `f`: members by (name, region, labels, taints), each on a simulated cluster of its
/// own, and a resource `web`.
pub(crate) async fn fleet(s: &common::TestServer, members: &[(&str, &str, Value, Value)]) {
    s.fleet("f").await;
    let version = s.some_version().await;
    for (name, region, labels, taints) in members {
        let made = s.sim_cluster(name, region, &version).await;
        assert!(made.status.is_success(), "{}", made.body);
        let joined = put_member(s, name, labels.clone(), taints.clone()).await;
        assert!(joined.status.is_success(), "{}", joined.body);
    }
    let resource = json!({"properties": {"manifests": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}]}});
    let put = s.put("/api/v1/fleets/f/resources/web", resource).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
}

pub(crate) async fn put_member(
    s: &common::TestServer,
    name: &str,
    labels: Value,
    taints: Value,
) -> common::Reply {
    s.put(
        &format!("/api/v1/fleets/f/members/{name}"),
        json!({"properties": {"clusterResourceId": format!("sim:{name}"), "labels": labels, "taints": taints}}),
    )
    .await
}

pub(crate) fn three() -> Vec<(&'static str, &'static str, Value, Value)> {
    vec![
        ("east-1", "eastus", json!({"env": "prod"}), json!([])),
        ("east-2", "eastus", json!({"env": "prod"}), json!([])),
        ("west-1", "westeurope", json!({"env": "prod"}), json!([])),
        ("dev-1", "westeurope", json!({"env": "dev"}), json!([])),
        (
            "gpu-1",
            "eastus",
            json!({"env": "prod"}),
            json!([{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]),
        ),
    ]
}

pub(crate) fn member<'a>(placement: &'a Value, name: &str) -> &'a Value {
    placement["properties"]["status"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap()
}

fn spread_over_regions() -> Value {
    json!({"properties": {"resources": ["web"], "policy": {
        "placementType": "PickN", "numberOfClusters": 2,
        "affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]}}},
        "topologySpreadConstraints": [{"topologyKey": "fleet.azure.com/location"}]}}})
}

#[tokio::test]
async fn a_placement_says_for_every_member_whether_it_is_picked_and_why() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    let created = s.put(PLACEMENT, spread_over_regions()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let body = &created.body;
    assert_eq!(
        body["properties"]["strategy"],
        json!({"type": "RollingUpdate"})
    );
    let status = &body["properties"]["status"];
    assert_eq!(
        status["summary"],
        "PickN: 2 picked; 3 of 5 members pass the filters"
    );
    assert_eq!(
        status["conditions"],
        json!({"Scheduled": 2, "Applied": 0, "Available": 0, "Failed": 0, "NotSelected": 3, "Drifted": 0})
    );
    // One per region: east-1 (first by name in eastus), then west-1.
    assert_eq!(member(body, "east-1")["state"], "Scheduled");
    assert_eq!(member(body, "east-1")["snapshot"], json!({"web": 1}));
    assert_eq!(member(body, "west-1")["state"], "Scheduled");
    let east_2 = member(body, "east-2");
    assert_eq!(east_2["state"], "NotSelected");
    assert!(east_2.get("snapshot").is_none());
    assert_eq!(
        member(body, "dev-1")["reason"],
        "matches no required term (term 1: wants env in (prod), has env=dev)"
    );
    assert_eq!(
        member(body, "gpu-1")["reason"],
        "does not tolerate taint dedicated=gpu:NoSchedule"
    );
    assert_eq!(s.get(PLACEMENT).await.body, created.body);
    let list = s.get("/api/v1/fleets/f/placements").await;
    assert_eq!(list.body["value"][0], created.body);
}

#[tokio::test]
async fn the_status_follows_members_and_resources_as_they_change() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    let created = s.put(PLACEMENT, spread_over_regions()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // dev-1 turns prod: in westeurope it sorts before west-1.
    let relabelled = put_member(&s, "dev-1", json!({"env": "prod"}), json!([])).await;
    assert!(relabelled.status.is_success(), "{}", relabelled.body);
    let changed = json!({"properties": {"manifests": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "labels": {"team": "a"}}}]}});
    assert!(
        s.put("/api/v1/fleets/f/resources/web", changed)
            .await
            .status
            .is_success()
    );
    let now = s.get(PLACEMENT).await.body;
    assert_eq!(member(&now, "dev-1")["state"], "Scheduled");
    assert_eq!(member(&now, "dev-1")["snapshot"], json!({"web": 2}));
    assert_eq!(member(&now, "west-1")["state"], "NotSelected");
    // A PickFixed placement tolerates nothing and needs nothing: it names.
    let fixed = json!({"properties": {"resources": ["web"], "policy": {
        "placementType": "PickFixed", "clusterNames": ["gpu-1", "gone"]}}});
    let replaced = s.put(PLACEMENT, fixed).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    let status = &replaced.body["properties"]["status"];
    assert_eq!(status["missing"], json!(["gone"]));
    assert_eq!(member(&replaced.body, "gpu-1")["state"], "Scheduled");
    assert_eq!(status["conditions"]["Scheduled"], 1);
}

#[tokio::test]
async fn bad_placements_are_refused_at_their_field_and_placed_resources_stay() {
    let s = common::start().await;
    fleet(&s, &three()).await;
    let cases = [
        (
            json!({"resources": ["nope"]}),
            "properties.resources[0]: fleet f has no resource named nope",
        ),
        (
            json!({"resources": []}),
            "properties.resources: name 1 to 20",
        ),
        (
            json!({"resources": ["web"], "policy": {"placementType": "PickN"}}),
            "properties.policy.numberOfClusters: PickN needs it",
        ),
        (
            json!({"resources": ["web"], "strategy": {"type": "External", "rollingUpdate": {}}}),
            "properties.strategy.rollingUpdate: an External placement",
        ),
        (
            json!({"resources": ["web"], "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": "0%"}}}),
            "properties.strategy.rollingUpdate: maxUnavailable and maxSurge cannot both be 0",
        ),
        (
            json!({"resources": ["web"], "polcy": {}}),
            "properties: unknown field `polcy`",
        ),
    ];
    for (properties, message) in cases {
        let refused = s.put(PLACEMENT, json!({ "properties": properties })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{properties}");
        assert_eq!(refused.code(), "InvalidPlacement", "{}", refused.body);
        let said = refused.body["error"]["message"].as_str().unwrap();
        assert!(said.starts_with(message), "{properties}: {said}");
    }
    assert_eq!(s.get(PLACEMENT).await.code(), "PlacementNotFound");

    let bad_taint = put_member(
        &s,
        "east-1",
        json!({}),
        json!([{"key": "a b", "effect": "NoSchedule"}]),
    )
    .await;
    assert_eq!(bad_taint.code(), "InvalidTaints", "{}", bad_taint.body);

    assert!(
        s.put(PLACEMENT, spread_over_regions())
            .await
            .status
            .is_success()
    );
    let in_use = s.delete("/api/v1/fleets/f/resources/web").await;
    assert_eq!(in_use.status, StatusCode::CONFLICT);
    assert_eq!(in_use.code(), "ResourceInUse");
    assert!(
        in_use.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("placed by web")
    );
    assert_eq!(s.delete(PLACEMENT).await.status, StatusCode::OK);
    assert_eq!(
        s.delete("/api/v1/fleets/f/resources/web").await.status,
        StatusCode::OK
    );
}
