//! What the store keeps, byte for byte: a snapshot of the export of a small, fully determined
//! store (the demo fleet, a strategy, a run with a skipped group, a webhook, a user and a token)
//! against `snapshots/stored.jsonl`. A change to the engine's or the model's types that changes
//! stored data fails here, so it is made on purpose (with a migration for what is stored
//! already), never by accident. Values that differ from run to run (ids, wall-clock times,
//! hashes) are replaced by their kind before comparing.
//!
//! After an intended change: `DRYDOCK_UPDATE_SNAPSHOTS=1 cargo test -p server --test it
//! stored_format`, and review the diff.

use crate::common::{self, ADMIN_PASSWORD, as_, basic};
use axum::http::StatusCode;
use serde_json::{Value, json};

const SNAPSHOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/it/snapshots/stored.jsonl"
);

/// Columns whose values come from the wall clock or from randomness, by table.
const VARYING: &[(&str, &str)] = &[
    ("users", "created_at"),
    ("users", "password_changed_at"),
    ("users", "password_hash"),
    ("api_tokens", "id"),
    ("api_tokens", "secret_hash"),
    ("api_tokens", "created_at"),
    ("api_tokens", "expires_at"),
    ("audit_log", "at"),
    ("webhooks", "created_at"),
    ("settings", "value"),
];

/// The run's uid appears inside other values (operation ids, run bodies): replaced everywhere.
fn normalized(export: &str) -> String {
    let mut uids = Vec::new();
    let mut lines = Vec::new();
    for line in export.lines().skip(1) {
        let mut line: Value = serde_json::from_str(line).unwrap();
        if line["table"] == "runs" {
            uids.push(line["row"]["uid"].as_str().unwrap().to_owned());
        }
        let table = line["table"].as_str().unwrap_or_default().to_owned();
        if let Some(row) = line.get_mut("row").and_then(Value::as_object_mut) {
            for (t, column) in VARYING {
                if *t == table && row.contains_key(*column) {
                    row.insert((*column).into(), json!("<varies>"));
                }
            }
        }
        lines.push(line.to_string());
    }
    let mut text = lines.join("\n") + "\n";
    for (i, uid) in uids.iter().enumerate() {
        text = text.replace(uid, &format!("<run-uid-{i}>"));
    }
    text
}

#[tokio::test]
async fn what_the_store_keeps_matches_the_snapshot() {
    // Its own SQLite file: the snapshot is of the format, the same on either back end.
    let dir = common::temp_dir("stored-format");
    let url = format!("sqlite://{}", dir.join("d.db").display());
    let mut args = common::args(&url, true);
    args.auth.mode = server::auth::AuthMode::Builtin;
    args.auth.admin_password = Some(ADMIN_PASSWORD.into());
    let s = common::start_built(&args).await;
    let admin = basic("admin", ADMIN_PASSWORD);
    let put = |path: &'static str, body: Value| {
        let (s, admin) = (&s, admin.clone());
        async move {
            let reply = as_(s, &admin, "PUT", path, Some(body)).await;
            assert!(reply.status.is_success(), "{path}: {}", reply.body);
        }
    };
    put(
        "/api/v1/fleets/demo/updateStrategies/s",
        json!({"properties": {"strategy": {"stages": [
            {"name": "canary", "groups": [{"name": "group-1a"}, {"name": "group-1b"}],
             "afterStageWaitInSeconds": 3600},
            {"name": "rest", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}]}}}),
    )
    .await;
    put(
        "/api/v1/fleets/demo/updateRuns/r",
        json!({"properties": {"updateStrategyId": "s",
            "managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.30.12"},
                                     "nodeImageSelection": {"type": "Consistent"}}}}),
    )
    .await;
    let skipped = as_(
        &s,
        &admin,
        "POST",
        "/api/v1/fleets/demo/updateRuns/r/skip",
        Some(json!({"targets": [{"type": "Group", "name": "group-2b"}]})),
    )
    .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.body);
    put(
        "/api/v1/webhooks/w",
        json!({"properties": {"url": "https://hooks.example.com/drydock", "eventTypes": ["io.drydock.run.*"]}}),
    )
    .await;
    put(
        "/api/v1/users/vera",
        json!({"properties": {"password": "vera-password-1", "roles": [{"role": "viewer", "fleet": "demo"}]}}),
    )
    .await;
    let token = as_(
        &s,
        &admin,
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "operator", "fleet": "demo", "description": "ci"}})),
    )
    .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    drop(s);

    let store = server::store::SqlStore::open_to_read(&url).await.unwrap();
    let mut out = Vec::new();
    store.export(&mut out).await.unwrap();
    let now = normalized(&String::from_utf8(out).unwrap());
    if std::env::var_os("DRYDOCK_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(SNAPSHOT, &now).unwrap();
    }
    let expected = std::fs::read_to_string(SNAPSHOT).unwrap_or_default();
    let first_difference = now
        .lines()
        .zip(expected.lines())
        .position(|(a, b)| a != b)
        .map(|i| (i + 2, now.lines().nth(i), expected.lines().nth(i)));
    assert!(
        now == expected,
        "what is stored changed (line, now, snapshot): {first_difference:?}; if on purpose, \
         see this file's header"
    );
}
