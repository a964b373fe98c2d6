//! REST: members, with every rejection leaving the store unchanged.

use crate::common;

use axum::http::StatusCode;
use serde_json::json;

async fn fleet_with_cluster() -> common::TestServer {
    let s = common::start().await;
    let version = s.some_version().await;
    s.sim_cluster("aks-1", "eastus", &version).await;
    s.sim_cluster("aks-2", "westeurope", &version).await;
    s.fleet("prod").await;
    s
}

async fn members(s: &common::TestServer) -> serde_json::Value {
    s.get("/api/v1/fleets/prod/members").await.body["value"].clone()
}

#[tokio::test]
async fn a_member_joins_and_shows_its_observed_cluster() {
    let s = fleet_with_cluster().await;
    let created = s.join("prod", "m1", "sim:aks-1", Some("group-1a")).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let got = s.get("/api/v1/fleets/prod/members/m1").await;
    assert_eq!(got.status, StatusCode::OK);
    let p = &got.body["properties"];
    assert_eq!(p["clusterResourceId"], "sim:aks-1");
    assert_eq!(p["group"], "group-1a");
    assert_eq!(p["status"]["location"], "eastus");
    let pool = &p["status"]["nodePools"][0];
    assert_eq!(pool["name"], "system");
    assert_eq!(pool["count"], 3);
    assert_eq!(pool["osSku"], "AKSUbuntu-2204gen2containerd");
    assert!(
        pool["nodeImageVersion"]
            .as_str()
            .unwrap()
            .starts_with("AKSUbuntu-2204gen2containerd-")
    );
    assert_eq!(pool["kubernetesVersion"], p["status"]["kubernetesVersion"]);
    assert_eq!(
        s.get("/api/v1/fleets/prod").await.body["properties"]["memberCount"],
        1
    );
}

#[tokio::test]
async fn put_replaces_a_member_with_arm_semantics() {
    let s = fleet_with_cluster().await;
    s.join("prod", "m1", "sim:aks-1", Some("group-1a")).await;
    let replaced = s
        .put(
            "/api/v1/fleets/prod/members/m1",
            json!({"properties": {"clusterResourceId": "sim:aks-1", "labels": {"env": "prod"}}}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK);
    assert_eq!(
        replaced.body["properties"]["group"],
        serde_json::Value::Null,
        "replace drops an omitted group"
    );
    assert_eq!(replaced.body["properties"]["labels"]["env"], "prod");
    // A GET can be sent back as is.
    let round_trip = s
        .put("/api/v1/fleets/prod/members/m1", replaced.body.clone())
        .await;
    assert_eq!(round_trip.status, StatusCode::OK, "{}", round_trip.body);
}

#[tokio::test]
async fn joining_an_unknown_fleet_is_a_404() {
    let s = fleet_with_cluster().await;
    let reply = s.join("nope", "m1", "sim:aks-1", None).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "FleetNotFound");
}

#[tokio::test]
async fn a_bad_group_name_is_rejected_and_nothing_stored() {
    let s = fleet_with_cluster().await;
    for bad in ["Group1", "group_1", "-g", &"g".repeat(51)] {
        let reply = s.join("prod", "m1", "sim:aks-1", Some(bad)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("group name"),
            "{}",
            reply.body
        );
    }
    assert_eq!(members(&s).await, json!([]));
}

#[tokio::test]
async fn a_cluster_joins_one_fleet_only_once() {
    let s = fleet_with_cluster().await;
    s.join("prod", "m1", "sim:aks-1", None).await;
    let twice = s.join("prod", "m2", "sim:aks-1", None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.code(), "ClusterAlreadyMember");
    assert!(
        twice.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("m1")
    );
    assert_eq!(members(&s).await.as_array().unwrap().len(), 1);
    // Nor may another fleet hold it (as in Azure): two fleets' runs could upgrade it at once.
    s.fleet("staging").await;
    let elsewhere = s.join("staging", "m1", "sim:aks-1", None).await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT);
    assert_eq!(elsewhere.code(), "ClusterAlreadyMember");
    let message = elsewhere.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("fleet prod"), "{message}");
}

#[tokio::test]
async fn concurrent_joins_of_one_cluster_to_two_fleets_store_one() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    s.sim_cluster("aks-1", "eastus", &s.some_version().await)
        .await;
    s.fleet("a").await;
    s.fleet("b").await;
    // Straight to the store, past the service's check: the store itself must refuse.
    use server::store::FleetStore;
    let store = server::store::SqlStore::connect(&db).await.unwrap();
    let spec = app::model::member::MemberSpec {
        cluster_resource_id: app::model::member::ClusterResourceId::parse("sim:aks-1").unwrap(),
        group: None,
        labels: Default::default(),
        taints: Vec::new(),
    };
    let name = app::model::names::MemberName::parse("m").unwrap();
    let fleet = |f: &str| app::model::names::FleetName::parse(f).unwrap();
    let now = app::model::time::Timestamp(0);
    let (fa, fb) = (fleet("a"), fleet("b"));
    let (first, second) = tokio::join!(
        store.create_member(&fa, &name, &spec, now),
        store.create_member(&fb, &name, &spec, now)
    );
    assert!(
        first.is_ok() != second.is_ok(),
        "exactly one join lands: {first:?} {second:?}"
    );
    let refused = first.err().or(second.err()).unwrap();
    assert!(
        matches!(refused, server::store::StoreError::ClusterAlreadyJoined(_)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn replacing_a_member_onto_a_taken_cluster_is_refused() {
    let s = fleet_with_cluster().await;
    s.join("prod", "m1", "sim:aks-1", None).await;
    s.join("prod", "m2", "sim:aks-2", None).await;
    let reply = s.join("prod", "m2", "sim:aks-1", None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    let m2 = s.get("/api/v1/fleets/prod/members/m2").await;
    assert_eq!(m2.body["properties"]["clusterResourceId"], "sim:aks-2");
}

#[tokio::test]
async fn a_member_must_point_at_an_existing_cluster() {
    let s = fleet_with_cluster().await;
    let missing = s.join("prod", "m1", "sim:ghost", None).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);
    assert_eq!(missing.code(), "ClusterNotFound");
    let foreign = s
        .join("prod", "m1", "/subscriptions/x/managedClusters/y", None)
        .await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    assert_eq!(foreign.code(), "InvalidClusterResourceId");
    assert_eq!(members(&s).await, json!([]));
}

#[tokio::test]
async fn missing_properties_and_bad_labels_are_rejected() {
    let s = fleet_with_cluster().await;
    let reply = s.put("/api/v1/fleets/prod/members/m1", json!({})).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("properties")
    );
    let reply = s
        .put(
            "/api/v1/fleets/prod/members/m1",
            json!({"properties": {"clusterResourceId": "sim:aks-1", "labels": {"bad key": "x"}}}),
        )
        .await;
    assert_eq!(reply.code(), "InvalidLabels");
    let reply = s
        .put(
            "/api/v1/fleets/prod/members/m1",
            json!({"properties": {"clusterResourceId": "sim:aks-1", "grup": "g"}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(members(&s).await, json!([]));
}

#[tokio::test]
async fn delete_a_member() {
    let s = fleet_with_cluster().await;
    s.join("prod", "m1", "sim:aks-1", None).await;
    assert_eq!(
        s.delete("/api/v1/fleets/prod/members/m1").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.delete("/api/v1/fleets/prod/members/m1").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/api/v1/fleets/prod/members/m1").await.code(),
        "MemberNotFound"
    );
    assert_eq!(
        s.delete("/api/v1/fleets/nope/members/m1").await.code(),
        "FleetNotFound"
    );
}

#[tokio::test]
async fn a_bad_member_name_is_a_400() {
    let s = fleet_with_cluster().await;
    let reply = s.join("prod", "Member_1", "sim:aks-1", None).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "InvalidMemberName");
}
