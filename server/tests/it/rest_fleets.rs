//! REST: fleets, and the API's general error behaviour.

use crate::common;

use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn put_creates_then_replaces_a_fleet() {
    let s = common::start().await;
    let created = s.put("/api/v1/fleets/prod", json!({})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["name"], "prod");
    assert_eq!(created.body["id"], "/fleets/prod");
    assert_eq!(created.body["properties"]["memberCount"], 0);
    let again = s
        .put("/api/v1/fleets/prod", json!({"properties": {}}))
        .await;
    assert_eq!(again.status, StatusCode::OK);
    let list = s.get("/api/v1/fleets").await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn get_and_delete_a_fleet() {
    let s = common::start().await;
    assert_eq!(s.get("/api/v1/fleets/prod").await.code(), "FleetNotFound");
    s.fleet("prod").await;
    assert_eq!(s.get("/api/v1/fleets/prod").await.status, StatusCode::OK);
    assert_eq!(s.delete("/api/v1/fleets/prod").await.status, StatusCode::OK);
    assert_eq!(
        s.delete("/api/v1/fleets/prod").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/api/v1/fleets/prod").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn deleting_a_fleet_removes_its_members() {
    let s = common::start().await;
    let version = s.some_version().await;
    s.sim_cluster("aks-1", "eastus", &version).await;
    s.fleet("prod").await;
    assert_eq!(
        s.join("prod", "m1", "sim:aks-1", None).await.status,
        StatusCode::CREATED
    );
    s.delete("/api/v1/fleets/prod").await;
    s.fleet("prod").await;
    assert_eq!(
        s.get("/api/v1/fleets/prod/members").await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn bad_fleet_names_are_rejected_and_nothing_is_stored() {
    let s = common::start().await;
    for bad in ["Prod", "-x", "a_b", &"x".repeat(64)] {
        let reply = s.put(&format!("/api/v1/fleets/{bad}"), json!({})).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.code(), "InvalidFleetName");
        assert!(
            reply.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("fleet name")
        );
    }
    assert_eq!(s.get("/api/v1/fleets").await.body["value"], json!([]));
}

#[tokio::test]
async fn malformed_json_is_a_400_with_an_arm_error() {
    let s = common::start().await;
    let reply = s
        .send(
            "PUT",
            "/api/v1/fleets/prod",
            Some("{not json"),
            "application/json",
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "InvalidRequestContent");
    assert_eq!(s.get("/api/v1/fleets").await.body["value"], json!([]));
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let s = common::start().await;
    let reply = s
        .put("/api/v1/fleets/prod", json!({"propertees": {}}))
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("propertees")
    );
}

#[tokio::test]
async fn an_oversized_body_is_a_413() {
    let s = common::start().await;
    let huge = format!(
        "{{\"properties\": {{\"x\": \"{}\"}}}}",
        "a".repeat(server::rest::MAX_BODY_BYTES + 1)
    );
    let reply = s
        .send(
            "PUT",
            "/api/v1/fleets/prod",
            Some(&huge),
            "application/json",
        )
        .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "PayloadTooLarge");
    assert_eq!(s.get("/api/v1/fleets").await.body["value"], json!([]));
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_arm_shape() {
    let s = common::start().await;
    let reply = s.get("/api/v1/nothing-here").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "NoSuchRoute");
    let reply = s.call("POST", "/api/v1/fleets/prod", Some(json!({}))).await;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "MethodNotAllowed");
}
