//! REST: update strategies.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

/// The seeds' example-stages.json, on groups the demo fleet has.
fn stages() -> Value {
    json!({"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}], "afterStageWaitInSeconds": 3600},
        {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}
    ]})
}

async fn demo() -> common::TestServer {
    common::start_with("sqlite::memory:", true).await
}

const URL: &str = "/api/v1/fleets/demo/updateStrategies/strategy-1";

#[tokio::test]
async fn a_strategy_is_created_read_listed_replaced_and_deleted() {
    let s = demo().await;
    let created = s
        .put(URL, json!({"properties": {"strategy": stages()}}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["properties"]["strategy"], stages());
    assert_eq!(
        created.body["id"],
        "/fleets/demo/updateStrategies/strategy-1"
    );
    let got = s.get(URL).await;
    assert_eq!(
        got.body["properties"]["strategy"]["stages"][0]["afterStageWaitInSeconds"],
        3600
    );
    assert_eq!(
        s.put(URL, got.body.clone()).await.status,
        StatusCode::OK,
        "a GET can be sent back"
    );
    let list = s.get("/api/v1/fleets/demo/updateStrategies").await;
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(s.delete(URL).await.status, StatusCode::OK);
    assert_eq!(s.delete(URL).await.status, StatusCode::NO_CONTENT);
    assert_eq!(s.get(URL).await.code(), "StrategyNotFound");
}

#[tokio::test]
async fn every_broken_rule_is_a_400_with_the_reason_and_nothing_is_stored() {
    let s = demo().await;
    let cases = [
        (json!({"stages": []}), "at least one stage"),
        (
            json!({"stages": [{"name": "a", "groups": [{"name": "group-1a"}]}, {"name": "b", "groups": [{"name": "group-1a"}]}]}),
            "more than once",
        ),
        (
            json!({"stages": [{"name": "a", "groups": [{"name": "group-1a"}], "afterStageWaitInSeconds": -1}]}),
            "negative",
        ),
        (
            json!({"stages": [{"name": "a", "groups": [{"name": "nobody"}]}]}),
            "nobody has no members",
        ),
        (
            json!({"stages": [{"name": "Stage A", "groups": [{"name": "group-1a"}]}]}),
            "stage name",
        ),
        (
            json!({"stages": [{"name": "a", "groups": [{"name": "group_1a"}]}]}),
            "group name",
        ),
        (
            json!({"stages": [{"name": "a", "groups": [{"name": "group-1a"}], "wait": 5}]}),
            "unknown field",
        ),
    ];
    for (strategy, says) in cases {
        let reply = s
            .put(URL, json!({"properties": {"strategy": strategy}}))
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{strategy}");
        let message = reply.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message} should say {says}");
    }
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateStrategies").await.body["value"],
        json!([])
    );
}

#[tokio::test]
async fn strategies_need_a_fleet_and_a_valid_name() {
    let s = demo().await;
    let reply = s
        .put(
            "/api/v1/fleets/nope/updateStrategies/s1",
            json!({"properties": {"strategy": stages()}}),
        )
        .await;
    assert_eq!(reply.code(), "FleetNotFound");
    let reply = s
        .put(
            "/api/v1/fleets/demo/updateStrategies/Bad_Name",
            json!({"properties": {"strategy": stages()}}),
        )
        .await;
    assert_eq!(reply.code(), "InvalidStrategyName");
}

#[tokio::test]
async fn deleting_the_fleet_deletes_its_strategies() {
    let s = demo().await;
    s.put(URL, json!({"properties": {"strategy": stages()}}))
        .await;
    s.delete("/api/v1/fleets/demo").await;
    s.fleet("demo").await;
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateStrategies").await.body["value"],
        json!([])
    );
}
