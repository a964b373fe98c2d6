//! The browser's API: server functions at stable `/fn/<name>` endpoints, callable by scripts.

use crate::common;

use axum::http::StatusCode;
use serde_json::json;

async fn demo() -> common::TestServer {
    common::start_with("sqlite::memory:", true).await
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(':', "%3A")))
        .collect::<Vec<_>>()
        .join("&")
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn list_fleets_and_the_overview() {
    let s = demo().await;
    let fleets = s.get("/fn/list_fleets").await;
    assert_eq!(fleets.status, StatusCode::OK);
    assert_eq!(fleets.body[0]["name"], "demo");
    assert_eq!(fleets.body[0]["member_count"], 12);
    let overview = s.get("/fn/fleet_overview?fleet=demo").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert_eq!(overview.body["members"].as_array().unwrap().len(), 12);
    assert_eq!(overview.body["groups"].as_array().unwrap().len(), 4);
    let k8s_total: u64 = overview.body["kubernetes_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(k8s_total, 12);
    assert_eq!(
        (&overview.body["total_members"], &overview.body["matching"]),
        (&json!(12), &json!(12))
    );

    // A page: the first members that match the filter; the charts still count the fleet.
    let eastus = overview.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["observed"]["Ok"]["location"] == "eastus")
        .count();
    assert!(eastus > 2, "the demo has a few members in eastus");
    let page = s
        .get("/fn/fleet_overview?fleet=demo&filter=EastUS&limit=2")
        .await
        .body;
    assert_eq!(page["members"].as_array().unwrap().len(), 2);
    assert_eq!(
        (&page["total_members"], &page["matching"]),
        (&json!(12), &json!(eastus))
    );
    assert!(
        page["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["observed"]["Ok"]["location"] == "eastus")
    );
    assert_eq!(
        page["kubernetes_versions"],
        overview.body["kubernetes_versions"]
    );
}

#[tokio::test]
async fn an_unknown_fleet_is_a_404_with_the_reason() {
    let s = demo().await;
    let reply = s.get("/fn/fleet_overview?fleet=nope").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["code"], "FleetNotFound");
    assert!(reply.body["message"].as_str().unwrap().contains("nope"));
}

#[tokio::test]
async fn join_assign_and_remove_through_server_functions() {
    let s = demo().await;
    let version = s.some_version().await;
    s.sim_cluster("extra-1", "eastus", &version).await;
    let joined = s
        .send(
            "POST",
            "/fn/join_member",
            Some(&form(&[
                ("fleet", "demo"),
                ("name", "extra-1"),
                ("cluster_resource_id", "sim:extra-1"),
                ("group", ""),
            ])),
            FORM,
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    let member = s.get("/api/v1/fleets/demo/members/extra-1").await;
    assert_eq!(
        member.body["properties"]["clusterResourceId"],
        "sim:extra-1"
    );

    let assigned = s
        .call(
            "POST",
            "/fn/assign_group",
            Some(
                json!({"fleet": "demo", "members": ["extra-1", "aks-eastus-1"], "group": "canary"}),
            ),
        )
        .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(assigned.body, 2);
    assert_eq!(
        s.get("/api/v1/fleets/demo/members/aks-eastus-1").await.body["properties"]["group"],
        "canary"
    );

    let removed = s
        .send(
            "POST",
            "/fn/remove_member",
            Some(&form(&[("fleet", "demo"), ("name", "extra-1")])),
            FORM,
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK);
    assert_eq!(
        s.get("/api/v1/fleets/demo/members/extra-1").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn assigning_with_an_unknown_member_changes_nobody() {
    let s = demo().await;
    let reply = s
        .call(
            "POST",
            "/fn/assign_group",
            Some(json!({"fleet": "demo", "members": ["aks-eastus-1", "ghost"], "group": "canary"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.body["code"], "MemberNotFound");
    let member = s.get("/api/v1/fleets/demo/members/aks-eastus-1").await;
    assert_ne!(member.body["properties"]["group"], "canary");
}

#[tokio::test]
async fn a_bad_group_through_the_ui_api_is_a_400() {
    let s = demo().await;
    let reply = s
        .call(
            "POST",
            "/fn/assign_group",
            Some(json!({"fleet": "demo", "members": ["aks-eastus-1"], "group": "Canary!"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.body["code"], "InvalidGroupName");
    let empty = s
        .call(
            "POST",
            "/fn/assign_group",
            Some(json!({"fleet": "demo", "members": [], "group": "canary"})),
        )
        .await;
    assert_eq!(empty.body["code"], "NoMembers");
}

#[tokio::test]
async fn an_empty_group_clears_the_assignment() {
    let s = demo().await;
    let reply = s
        .call(
            "POST",
            "/fn/assign_group",
            Some(json!({"fleet": "demo", "members": ["aks-westeurope-1"], "group": ""})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let member = s.get("/api/v1/fleets/demo/members/aks-westeurope-1").await;
    assert_eq!(member.body["properties"]["group"], serde_json::Value::Null);
}

#[tokio::test]
async fn joining_a_name_twice_is_a_conflict_not_a_replace() {
    let s = demo().await;
    let version = s.some_version().await;
    s.sim_cluster("extra-1", "eastus", &version).await;
    let reply = s
        .send(
            "POST",
            "/fn/join_member",
            Some(&form(&[
                ("fleet", "demo"),
                ("name", "aks-eastus-1"),
                ("cluster_resource_id", "sim:extra-1"),
                ("group", ""),
            ])),
            FORM,
        )
        .await;
    assert_eq!(reply.status, StatusCode::CONFLICT);
    assert_eq!(reply.body["code"], "MemberAlreadyExists");
}
