//! Resource bundles over REST: Kubernetes objects given as JSON or YAML, checked at the field
//! (or line) that is wrong, kept as immutable numbered snapshots; a write that changes nothing
//! makes no snapshot.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const WEB: &str = "/api/v1/fleets/f/resources/web";

fn config_map(name: &str, value: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": "web"}, "data": {"value": value}})
}

fn namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}})
}

async fn put_manifests(s: &common::TestServer, manifests: Value) -> common::Reply {
    s.put(WEB, json!({"properties": {"manifests": manifests}}))
        .await
}

async fn put_yaml(s: &common::TestServer, yaml: &str) -> common::Reply {
    s.put(WEB, json!({"properties": {"yaml": yaml}})).await
}

fn snapshot_indexes(list: &Value) -> Vec<i64> {
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["properties"]["index"].as_i64().unwrap())
        .collect()
}

#[tokio::test]
async fn every_change_is_a_numbered_snapshot_and_the_same_objects_make_none() {
    let s = common::start().await;
    s.fleet("f").await;
    let created = put_manifests(&s, json!([namespace(), config_map("settings", "a")])).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let latest = &created.body["properties"]["latestSnapshot"];
    assert_eq!(latest["index"], 1);
    assert!(latest["hash"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(
        latest["objects"],
        json!([{"apiVersion": "v1", "kind": "Namespace", "name": "web"},
               {"apiVersion": "v1", "kind": "ConfigMap", "namespace": "web", "name": "settings"}])
    );
    assert_eq!(s.get(WEB).await.body, created.body);

    // The same objects, as YAML with its keys in another order: nothing new.
    let same = "kind: Namespace\napiVersion: v1\nmetadata: {name: web}\n---\nmetadata:\n  namespace: web\n  name: settings\nkind: ConfigMap\napiVersion: v1\ndata:\n  value: a\n";
    let unchanged = put_yaml(&s, same).await;
    assert_eq!(unchanged.status, StatusCode::OK, "{}", unchanged.body);
    assert_eq!(unchanged.body, created.body);

    let changed = put_manifests(&s, json!([namespace(), config_map("settings", "b")])).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.body["properties"]["latestSnapshot"]["index"], 2);
    assert_ne!(changed.body["etag"], created.body["etag"]);
    let snapshots = s.get(&format!("{WEB}/snapshots")).await;
    assert_eq!(snapshot_indexes(&snapshots.body), [2, 1]);
    assert!(snapshots.body["value"][0]["properties"]["manifests"].is_null());

    // Snapshot 1 still holds what it held.
    let first = s.get(&format!("{WEB}/snapshots/1")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["id"], "/fleets/f/resources/web/snapshots/1");
    assert_eq!(
        first.body["properties"]["manifests"][1]["data"]["value"],
        "a"
    );
    assert_eq!(
        first.body["properties"]["hash"],
        created.body["properties"]["latestSnapshot"]["hash"]
    );
}

#[tokio::test]
async fn the_newest_ten_snapshots_are_kept() {
    let s = common::start().await;
    s.fleet("f").await;
    for i in 1..=12 {
        let put = put_manifests(&s, json!([config_map("settings", &i.to_string())])).await;
        assert!(put.status.is_success(), "{}", put.body);
    }
    let snapshots = s.get(&format!("{WEB}/snapshots")).await;
    assert_eq!(
        snapshot_indexes(&snapshots.body),
        (3..=12).rev().collect::<Vec<_>>()
    );
    let gone = s.get(&format!("{WEB}/snapshots/2")).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "ResourceSnapshotNotFound");
    assert!(
        gone.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("3 to 12")
    );
    let bad = s.get(&format!("{WEB}/snapshots/zero")).await;
    assert_eq!(bad.code(), "InvalidSnapshotIndex");
}

#[tokio::test]
async fn bad_objects_are_refused_at_their_field_or_line_and_change_nothing() {
    let s = common::start().await;
    s.fleet("f").await;
    let cases = [
        (
            json!({"manifests": [namespace(), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Settings"}}]}),
            "properties.manifests[1].metadata.name: 'Settings' is not a ConfigMap name",
        ),
        (
            json!({"yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\n  uid: 1234\n"}),
            "properties.yaml line 11: metadata.uid: is set by a cluster",
        ),
        (
            json!({"yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [a\n"}),
            "properties.yaml line ",
        ),
        (
            json!({"yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n  namespace: web\n"}),
            "properties.yaml line 5: metadata.namespace: a Namespace is cluster-scoped",
        ),
        (json!({}), "properties: give the objects as manifests"),
        (
            json!({"manifests": [namespace()], "yaml": "a: b"}),
            "properties: give the objects as manifests or as yaml, not both",
        ),
        (
            json!({"manifests": []}),
            "properties.manifests: give at least one Kubernetes object",
        ),
    ];
    for (properties, message) in cases {
        let refused = s.put(WEB, json!({ "properties": properties })).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{properties}");
        assert_eq!(refused.code(), "InvalidManifest", "{}", refused.body);
        let said = refused.body["error"]["message"].as_str().unwrap();
        assert!(said.starts_with(message), "{properties}: {said}");
    }
    assert_eq!(s.get(WEB).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        s.get("/api/v1/fleets/f/resources").await.body,
        json!({"value": []})
    );
}

#[tokio::test]
async fn a_bundle_of_a_mebibyte_fits_as_yaml_and_a_larger_one_is_refused() {
    let s = common::start().await;
    s.fleet("f").await;
    let bundle = |objects: usize| -> String {
        (0..objects)
            .map(|i| {
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n  namespace: web\ndata:\n  blob: \"{}\"\n---\n",
                    "x".repeat(2000)
                )
            })
            .collect()
    };
    let fits = put_yaml(&s, &bundle(480)).await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.body["error"]);
    assert_eq!(
        fits.body["properties"]["latestSnapshot"]["objects"]
            .as_array()
            .unwrap()
            .len(),
        480
    );
    let too_big = put_yaml(&s, &bundle(600)).await;
    assert_eq!(too_big.status, StatusCode::BAD_REQUEST);
    assert!(
        too_big.body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("properties.yaml: a resource holds at most 500 objects"),
        "{}",
        too_big.body
    );
}

#[tokio::test]
async fn if_match_guards_writes_and_delete_takes_the_snapshots_along() {
    let s = common::start().await;
    s.fleet("f").await;
    let created = put_manifests(&s, json!([config_map("settings", "a")])).await;
    let etag = created.body["etag"].as_str().unwrap().to_owned();
    let stale = s
        .send_with(
            "PUT",
            WEB,
            Some(&json!({"properties": {"manifests": [config_map("settings", "b")]}}).to_string()),
            "application/json",
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let fresh = s
        .send_with(
            "PUT",
            WEB,
            Some(&json!({"properties": {"manifests": [config_map("settings", "b")]}}).to_string()),
            "application/json",
            &[("if-match", &format!("\"{etag}\""))],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.body);
    assert_eq!(fresh.body["properties"]["latestSnapshot"]["index"], 2);

    assert_eq!(s.delete(WEB).await.status, StatusCode::OK);
    assert_eq!(s.get(WEB).await.code(), "ResourceNotFound");
    assert_eq!(
        s.get(&format!("{WEB}/snapshots")).await.code(),
        "ResourceNotFound"
    );
    assert_eq!(s.delete(WEB).await.status, StatusCode::NO_CONTENT);
    // Made again, it goes on from snapshot 2: a revision (`web@1`) never names two different
    // sets of objects, so a cluster holding the old `web@1` is never taken to hold the new one.
    let again = put_manifests(&s, json!([config_map("settings", "c")])).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.body["properties"]["latestSnapshot"]["index"], 3);
    let old = s.get(&format!("{WEB}/snapshots/1")).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND);
    let said = old.body["error"]["message"].as_str().unwrap();
    assert!(said.ends_with("it keeps snapshots 3 to 3."), "{said}");
}

#[tokio::test]
async fn resources_belong_to_their_fleet() {
    let s = common::start().await;
    let missing = put_manifests(&s, json!([namespace()])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "FleetNotFound");
    s.fleet("f").await;
    assert_eq!(
        put_manifests(&s, json!([namespace()])).await.status,
        StatusCode::CREATED
    );
    assert_eq!(s.delete("/api/v1/fleets/f").await.status, StatusCode::OK);
    s.fleet("f").await;
    assert_eq!(s.get(WEB).await.status, StatusCode::NOT_FOUND);
    let bad_name = s.get("/api/v1/fleets/f/resources/Web_1").await;
    assert_eq!(bad_name.code(), "InvalidResourceName");
}
