//! Runs of fleet `f` named `r`, as the provider tests drive them in real time.

use super::TestServer;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub async fn create_run(s: &TestServer, properties: Value) {
    let created = s
        .put(
            "/api/v1/fleets/f/updateRuns/r",
            json!({ "properties": properties }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

pub async fn start_run(s: &TestServer, properties: Value) {
    create_run(s, properties).await;
    s.start_r().await;
}

pub fn state(run: &Value) -> &str {
    run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap_or("")
}

/// Polls the run (real time) until `done` says so.
pub async fn wait_until(s: &TestServer, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let run = s.get("/api/v1/fleets/f/updateRuns/r").await.body;
        if done(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "the run never got there: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn member(run: &Value, name: &str) -> Value {
    super::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == name)
        .unwrap()
}
