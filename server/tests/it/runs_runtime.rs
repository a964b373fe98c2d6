//! The runtime end to end over REST: runs start, progress through the simulated provider,
//! stop, resume, fail, retry and skip. Fleet time runs 100,000 times faster than real time.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

const FAST: f64 = 100_000.0;

async fn demo() -> common::FastServer {
    common::start_fast("sqlite::memory:", true, FAST).await
}

fn full(version: &str) -> Value {
    json!({"upgrade": {"type": "Full", "kubernetesVersion": version}})
}

async fn create(s: &common::TestServer, run: &str, properties: Value) {
    let reply = s
        .put(
            &format!("/api/v1/fleets/demo/updateRuns/{run}"),
            json!({ "properties": properties }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn post(
    s: &common::TestServer,
    run: &str,
    action: &str,
    body: Option<Value>,
) -> common::Reply {
    s.call(
        "POST",
        &format!("/api/v1/fleets/demo/updateRuns/{run}/{action}"),
        body,
    )
    .await
}

async fn operations(s: &common::TestServer) -> Vec<Value> {
    s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone()
}

/// Operations per cluster.
fn per_cluster(ops: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for op in ops {
        *counts
            .entry(op["cluster"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

fn time(v: &Value) -> app::model::time::Timestamp {
    app::model::time::Timestamp::parse_rfc3339(v.as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn a_one_by_one_run_upgrades_every_member_once_one_at_a_time() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-1", json!({"managedClusterUpdate": full(&target)})).await;
    let started = post(&s, "run-1", "start", None).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let run = s.wait_for_run("demo", "run-1", &["Completed"]).await;
    for m in common::run_members(&run["properties"]["status"]["stages"]) {
        let state = m["status"]["state"].as_str().unwrap();
        assert!(state == "Completed" || state == "Skipped", "{m}");
    }
    let ops = operations(&s).await;
    assert!(
        per_cluster(&ops).values().all(|n| *n == 1),
        "each member upgraded exactly once"
    );
    for pair in ops.windows(2) {
        assert!(
            time(&pair[1]["startTime"]) >= time(&pair[0]["endTime"]),
            "one at a time: {pair:?}"
        );
    }
    for m in common::run_members(&run["properties"]["status"]["stages"])
        .iter()
        .filter(|m| m["status"]["state"] == "Completed")
    {
        let cluster = m["clusterResourceId"]
            .as_str()
            .unwrap()
            .trim_start_matches("sim:");
        let observed = s
            .get(&format!("/api/v1/simulator/clusters/{cluster}"))
            .await
            .body;
        assert_eq!(
            observed["kubernetesVersion"],
            target.as_str(),
            "{cluster} runs the target"
        );
    }
    let again = post(&s, "run-1", "start", None).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "ActionNotAllowed");
}

#[tokio::test]
async fn stages_run_in_order_with_the_wait_between_them() {
    let s = demo().await;
    let strategy = json!({"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}], "afterStageWaitInSeconds": 3600},
        {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}
    ]});
    s.put(
        "/api/v1/fleets/demo/updateStrategies/strategy-1",
        json!({"properties": {"strategy": strategy}}),
    )
    .await;
    create(&s, "run-5", json!({"updateStrategyId": "strategy-1", "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}, "nodeImageSelection": {"type": "Consistent"}}})).await;
    post(&s, "run-5", "start", None).await;
    let run = s.wait_for_run("demo", "run-5", &["Completed"]).await;
    assert!(
        !run["properties"]["status"]["nodeImageSelection"]["selectedNodeImageVersions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let stages = run["properties"]["status"]["stages"].as_array().unwrap();
    let wait = &stages[0]["afterStageWaitStatus"]["status"];
    assert_eq!(wait["state"], "Completed");
    let waited = time(&wait["completedTime"]).millis() - time(&wait["startTime"]).millis();
    assert!(waited >= 3_600_000, "waited {waited} ms of fleet time");
    assert!(
        time(&stages[1]["status"]["startTime"]) >= time(&wait["completedTime"]),
        "stage 2 only after the wait"
    );
    let ungrouped: Vec<Value> = common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .filter(|m| m["name"] == "aks-eastus-1")
        .collect();
    assert!(
        ungrouped.is_empty(),
        "members in no stage are not in the run"
    );
}

#[tokio::test]
async fn stop_then_start_resumes_and_finishes() {
    let s = common::start_fast("sqlite::memory:", true, 2_000.0).await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-2", json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": target}}})).await;
    // At this slower clock the member with a Sunday window would wait a fleet week: skip it.
    let skip = json!({"targets": [{"type": "Member", "name": "aks-westeurope-2"}]});
    assert_eq!(
        post(&s, "run-2", "skip", Some(skip)).await.status,
        StatusCode::OK
    );
    post(&s, "run-2", "start", None).await;
    let stopped = post(&s, "run-2", "stop", None).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    let run = s.wait_for_run("demo", "run-2", &["Stopped"]).await;
    let in_progress = common::run_members(&run["properties"]["status"]["stages"])
        .iter()
        .filter(|m| m["status"]["state"] == "NotStarted")
        .count();
    assert!(in_progress > 0, "stopping left work for later");
    let ops_when_stopped = operations(&s).await.len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        operations(&s).await.len(),
        ops_when_stopped,
        "nothing new starts while stopped"
    );
    let again = post(&s, "run-2", "stop", None).await;
    assert_eq!(again.status, StatusCode::OK, "stopping again is harmless");
    post(&s, "run-2", "start", None).await;
    s.wait_for_run("demo", "run-2", &["Completed"]).await;
    assert!(per_cluster(&operations(&s).await).values().all(|n| *n == 1));
}

#[tokio::test]
async fn a_failed_member_fails_the_run_and_start_retries_it() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    let mut cluster = s.get("/api/v1/simulator/clusters/aks-eastus-2").await.body;
    cluster["failNext"] = json!(true);
    s.put("/api/v1/simulator/clusters/aks-eastus-2", cluster)
        .await;
    create(&s, "run-f", json!({"managedClusterUpdate": full(&target)})).await;
    post(&s, "run-f", "start", None).await;
    let run = s.wait_for_run("demo", "run-f", &["Failed"]).await;
    let error = run["properties"]["status"]["status"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(
        error.contains("aks-eastus-2") && error.contains("simulated"),
        "{error}"
    );
    let failed = common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == "aks-eastus-2")
        .unwrap();
    assert_eq!(failed["status"]["state"], "Failed");
    let uid = run["properties"]["uid"].as_str().unwrap();
    assert_eq!(failed["operationId"], format!("{uid}/aks-eastus-2/1"));
    post(&s, "run-f", "start", None).await;
    let run = s.wait_for_run("demo", "run-f", &["Completed"]).await;
    let retried = common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == "aks-eastus-2")
        .unwrap();
    assert_eq!(retried["status"]["state"], "Completed");
    assert_eq!(retried["operationId"], format!("{uid}/aks-eastus-2/2"));
    assert_eq!(
        per_cluster(&operations(&s).await)["sim:aks-eastus-2"],
        2,
        "the failed attempt and the retry"
    );
}

#[tokio::test]
async fn skipping_groups_and_refusals() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    let strategy = json!({"stages": [{"name": "only", "groups": [{"name": "group-1a"}, {"name": "group-2a"}]}]});
    create(
        &s,
        "run-s",
        json!({"strategy": strategy, "managedClusterUpdate": full(&target)}),
    )
    .await;
    let refused = post(&s, "run-s", "stop", None).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has not started")
    );
    let unknown = post(
        &s,
        "run-s",
        "skip",
        Some(json!({"targets": [{"type": "Group", "name": "nope"}]})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(unknown.code(), "UnknownSkipTarget");
    let skipped = post(
        &s,
        "run-s",
        "skip",
        Some(json!({"targets": [{"type": "Group", "name": "group-2a"}]})),
    )
    .await;
    assert_eq!(skipped.status, StatusCode::OK, "{}", skipped.body);
    post(&s, "run-s", "start", None).await;
    let run = s.wait_for_run("demo", "run-s", &["Completed"]).await;
    let groups = run["properties"]["status"]["stages"][0]["groups"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(groups[1]["status"]["state"], "Skipped");
    for m in groups[1]["members"].as_array().unwrap() {
        assert_eq!(m["status"]["state"], "Skipped");
        let cluster = m["clusterResourceId"].as_str().unwrap();
        assert!(
            !per_cluster(&operations(&s).await).contains_key(cluster),
            "skipped members are not upgraded"
        );
    }
    let late = post(
        &s,
        "run-s",
        "skip",
        Some(json!({"targets": [{"type": "Stage", "name": "only"}]})),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    let gone = post(&s, "nope", "start", None).await;
    assert_eq!(gone.code(), "UpdateRunNotFound");
}

#[tokio::test]
async fn every_state_change_is_in_the_run_timeline() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-t", json!({"managedClusterUpdate": full(&target)})).await;
    post(&s, "run-t", "start", None).await;
    s.wait_for_run("demo", "run-t", &["Completed"]).await;
    let events = s
        .built
        .drydock
        .run_events(
            &app::model::access::Caller::system(),
            &app::model::names::FleetName::parse("demo").unwrap(),
            &app::model::names::RunName::parse("run-t").unwrap(),
            0,
            i64::MAX,
        )
        .await
        .unwrap();
    let states: Vec<String> = events
        .iter()
        .filter(|e| matches!(e.event.subject, app::model::run::Subject::Run))
        .map(|e| format!("{:?}", e.event.state))
        .collect();
    assert_eq!(states, ["Running", "Completed"]);
    assert!(
        events
            .windows(2)
            .all(|w| w[0].id < w[1].id && w[0].event.at <= w[1].event.at)
    );
}

/// Reads an SSE body until an event satisfies `done` (bounded in time); returns the `data:`
/// payloads and `id:`s seen.
async fn read_events(
    s: &common::TestServer,
    path: &str,
    last_id: Option<&str>,
    done: impl Fn(&Value) -> bool,
) -> Vec<(i64, Value)> {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut request = axum::http::Request::builder().uri(path);
    if let Some(id) = last_id {
        request = request.header("last-event-id", id);
    }
    let response = s
        .router
        .clone()
        .oneshot(request.body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut body = response.into_body();
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let id = block
                .lines()
                .find_map(|l| l.strip_prefix("id:"))
                .map(|v| v.trim().parse().unwrap());
            let data = block
                .lines()
                .find_map(|l| l.strip_prefix("data:"))
                .map(|v| serde_json::from_str::<Value>(v.trim()).unwrap());
            if let (Some(id), Some(data)) = (id, data) {
                let finished = done(&data);
                events.push((id, data));
                if finished {
                    return events;
                }
            }
        }
    }
    panic!("the stream ended before the awaited event: {events:?}");
}

#[tokio::test]
async fn the_event_stream_follows_a_run_live_and_resumes_after_the_last_id() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-e", json!({"managedClusterUpdate": full(&target)})).await;
    post(&s, "run-e", "start", None).await;
    let path = "/api/v1/fleets/demo/updateRuns/run-e/events";
    let run_completed = |e: &Value| e["subject"]["type"] == "run" && e["state"] == "Completed";
    let events = read_events(&s, path, None, run_completed).await;
    assert_eq!(events[0].1["subject"]["type"], "run");
    assert_eq!(events[0].1["state"], "Running");
    assert!(events.windows(2).all(|w| w[0].0 < w[1].0), "ids increase");
    assert!(
        events
            .iter()
            .any(|(_, e)| e["subject"]["type"] == "member" && e["state"] == "Completed")
    );
    let middle = events[events.len() / 2].0;
    let resumed = read_events(&s, path, Some(&middle.to_string()), run_completed).await;
    assert_eq!(
        resumed[0].0,
        middle + 1,
        "resumes right after the last id it saw"
    );
    let by_query = read_events(&s, &format!("{path}?after={middle}"), None, run_completed).await;
    assert_eq!(by_query[0].0, middle + 1, "?after= starts after that id");
    let later = events[events.len() - 2].0;
    let reconnected = read_events(
        &s,
        &format!("{path}?after={middle}"),
        Some(&later.to_string()),
        run_completed,
    )
    .await;
    assert_eq!(
        reconnected[0].0,
        later + 1,
        "a reconnect's Last-Event-ID is newer than the URL's after, and wins"
    );
    for bad in ["?after=x", "?after=-1", "?limit=3"] {
        assert_eq!(
            s.get(&format!("{path}{bad}")).await.code(),
            "InvalidQueryParameter",
            "{bad}"
        );
    }
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateRuns/nope/events")
            .await
            .code(),
        "UpdateRunNotFound"
    );
}
