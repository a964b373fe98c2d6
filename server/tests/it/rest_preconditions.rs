//! ETags are honoured as ARM honours them: `If-Match` with a stale etag is 412 and changes
//! nothing, on every resource that shows one; `If-None-Match: *` creates only.

use crate::common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// Sends `method uri` with a JSON body and one header; answers the status and the body.
async fn with_header(
    s: &common::TestServer,
    method: &str,
    uri: &str,
    header: (&str, &str),
    body: Option<Value>,
) -> (StatusCode, Value) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header(header.0, header.1)
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let response = s.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn etag(body: &Value) -> String {
    body["etag"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_member_is_replaced_or_removed_only_at_the_etag_given() {
    let s = common::start_with("sqlite::memory:", true).await;
    let url = "/api/v1/fleets/demo/members/aks-eastus-1";
    let current = s.get(url).await.body;
    let tag = etag(&current);
    let mut changed = current.clone();
    changed["properties"]["group"] = json!("group-2b");
    let stale = format!("\"{}\"", tag.parse::<i64>().unwrap() + 100);
    let (status, body) =
        with_header(&s, "PUT", url, ("if-match", &stale), Some(changed.clone())).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");
    assert_eq!(body["error"]["code"], "PreconditionFailed");
    assert_eq!(
        s.get(url).await.body["properties"]["group"],
        current["properties"]["group"]
    );
    let (status, body) = with_header(
        &s,
        "PUT",
        url,
        ("if-match", &format!("\"{tag}\"")),
        Some(changed.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.get(url).await.body["properties"]["group"], "group-2b");
    // The old etag is stale now, for a delete too.
    let (status, _) = with_header(&s, "DELETE", url, ("if-match", &tag), None).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.get(url).await.status, StatusCode::OK);
    let (status, _) = with_header(&s, "PUT", url, ("if-none-match", "*"), Some(changed)).await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "create-only on an existing member"
    );
    let new_tag = etag(&s.get(url).await.body);
    let (status, _) = with_header(&s, "DELETE", url, ("if-match", &new_tag), None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_strategy_is_replaced_or_deleted_only_at_the_etag_given() {
    let s = common::start_with("sqlite::memory:", true).await;
    let url = "/api/v1/fleets/demo/updateStrategies/plan";
    let body = |wait: i64| {
        json!({"properties": {"strategy": {"stages": [
            {"name": "one", "groups": [{"name": "group-1a"}], "afterStageWaitInSeconds": wait}]}}})
    };
    let (status, _) = with_header(&s, "PUT", url, ("if-match", "*"), Some(body(1))).await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "If-Match: * needs it to exist"
    );
    let (status, created) =
        with_header(&s, "PUT", url, ("if-none-match", "*"), Some(body(1))).await;
    assert_eq!(status, StatusCode::CREATED);
    let tag = etag(&created);
    let (status, _) = with_header(&s, "PUT", url, ("if-none-match", "*"), Some(body(2))).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) = with_header(&s, "PUT", url, ("if-match", &tag), Some(body(3))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = with_header(&s, "PUT", url, ("if-match", &tag), Some(body(4))).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "the etag moved on");
    let stages = &s.get(url).await.body["properties"]["strategy"]["stages"];
    assert_eq!(stages[0]["afterStageWaitInSeconds"], 3);
    let (status, _) = with_header(&s, "DELETE", url, ("if-match", &tag), None).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(s.get(url).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_run_is_deleted_only_at_the_etag_given() {
    let s = common::start_with("sqlite::memory:", true).await;
    let url = "/api/v1/fleets/demo/updateRuns/r";
    let (status, _) = with_header(
        &s,
        "PUT",
        url,
        ("if-match", "\"1\""),
        Some(
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "no such run yet");
    let created = s
        .put(
            url,
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let (status, _) = with_header(&s, "DELETE", url, ("if-match", "\"99\""), None).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    let (status, _) =
        with_header(&s, "DELETE", url, ("if-match", &etag(&created.body)), None).await;
    assert_eq!(status, StatusCode::OK);
}
