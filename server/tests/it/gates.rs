//! Gates as fleet resources over REST, on real processes (lab clusters through the `exec`
//! provider): reached, listed with filters, approved with `If-Match`, evented, and refused
//! with the reason when they cannot be approved.

use crate::common::lab::{self, Lab};
use crate::common::runs::{create_run, state, wait_until};
use crate::common::{self, FastServer};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const GATE: &str = "/api/v1/fleets/f/gates/r.canary.before";

async fn lab_group(lab: &Lab, members: usize) -> FastServer {
    let s = common::start_configured(&lab.config).await;
    s.fleet("f").await;
    for i in 0..members {
        let name = format!("c{i:02}");
        let joined = s
            .join("f", &name, &format!("exec:lab/{name}"), Some("g"))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    s
}

fn gated() -> Value {
    json!({
        "strategy": {"stages": [{"name": "canary", "groups": [{"name": "g"}],
            "beforeGates": [{"displayName": "Change ticket approved", "type": "Approval"}]}]},
        "managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": lab::TO}},
    })
}

/// `PATCH` of a gate with `If-Match`: the status, the engine's reply header and the body.
async fn patch(
    s: &common::TestServer,
    uri: &str,
    if_match: Option<&str>,
    body: Value,
) -> (StatusCode, String, Value) {
    let mut request = Request::builder()
        .method("PATCH")
        .uri(uri)
        .header("content-type", "application/json");
    if let Some(tag) = if_match {
        request = request.header("if-match", tag);
    }
    let request = request.body(Body::from(body.to_string())).unwrap();
    let response = s.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let reply = response
        .headers()
        .get("x-drydock-reply")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        reply,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn approve(comment: &str) -> Value {
    json!({"properties": {"state": "Completed", "comment": comment}})
}

#[tokio::test]
async fn a_gate_is_listed_from_creation_approved_once_reached_and_deleted_with_its_run() {
    let lab = Lab::new(2, 0.5);
    let s = lab_group(&lab, 2).await;
    create_run(&s, gated()).await;

    let gate = s.get(GATE).await;
    assert_eq!(gate.status, StatusCode::OK, "{}", gate.body);
    let p = &gate.body["properties"];
    assert_eq!(p["state"], "Pending");
    assert_eq!(p["gateType"], "Approval");
    assert_eq!(p["displayName"], "Change ticket approved");
    assert_eq!(p["target"]["id"], "/fleets/f/updateRuns/r");
    assert_eq!(
        p["target"]["updateRunProperties"],
        json!({"name": "r", "stage": "canary", "timing": "Before"})
    );
    assert!(p.get("reachedTime").is_none());
    let (status, _, early) = patch(&s, GATE, None, approve("too soon")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{early}");
    assert!(
        early["error"]["message"]
            .as_str()
            .unwrap()
            .contains("has not reached gate r.canary.before")
    );

    s.start_r().await;
    let run = wait_until(&s, |r| {
        r["properties"]["status"]["stages"][0]["beforeGates"][0]["status"]["startTime"].is_string()
    })
    .await;
    assert_eq!(state(&run), "Running");
    assert!(
        lab.operations().is_empty(),
        "nothing starts before the approval"
    );
    let waiting = s
        .get("/api/v1/fleets/f/gates?state=Pending&gateType=Approval")
        .await
        .body;
    assert_eq!(waiting["value"].as_array().unwrap().len(), 1, "{waiting}");
    let none = s.get("/api/v1/fleets/f/gates?state=Completed").await.body;
    assert_eq!(none["value"], json!([]));
    let reached = s.get(GATE).await.body;
    let etag = reached["etag"].as_str().unwrap().to_owned();

    let (status, _, stale) = patch(&s, GATE, Some("\"999\""), approve("stale")).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{stale}");
    assert_eq!(
        s.get(GATE).await.body,
        reached,
        "a stale approval changes nothing"
    );

    let (status, reply, approved) = patch(
        &s,
        GATE,
        Some(&format!("\"{etag}\"")),
        approve("CHG-1234 approved"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(reply, "Approved");
    let p = &approved["properties"];
    assert_eq!(p["state"], "Completed");
    assert_eq!(
        p["approval"]["by"], "local",
        "the caller (everyone is `local` under --auth none)"
    );
    assert_eq!(p["approval"]["comment"], "CHG-1234 approved");
    let (_, again, _) = patch(&s, GATE, None, approve("twice")).await;
    assert_eq!(
        again, "AlreadyApproved",
        "a repeat is answered, not refused"
    );

    let done = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&done), "Completed", "{done}");
    assert_eq!(lab.upgrades().len(), 2);
    let timeline = s.get("/api/v1/fleets/f/updateRuns/r/timeline").await.body;
    let gate_events: Vec<(&str, &str)> = timeline["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"]["type"] == "gate")
        .map(|e| (e["state"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(
        gate_events,
        [
            ("Pending", "Change ticket approved: waiting for approval"),
            (
                "Completed",
                "Change ticket approved: approved by local: CHG-1234 approved"
            )
        ]
    );

    assert_eq!(
        s.delete("/api/v1/fleets/f/updateRuns/r").await.status,
        StatusCode::OK
    );
    let gone = s.get(GATE).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(gone.code(), "GateNotFound");
}

#[tokio::test]
async fn what_cannot_be_done_to_a_gate_is_refused_with_the_reason() {
    let lab = Lab::new(1, 0.5);
    let s = lab_group(&lab, 1).await;
    create_run(&s, gated()).await;
    let cases = [
        (
            json!({"properties": {"state": "Skipped"}}),
            400,
            "InvalidGateState",
        ),
        (
            json!({"properties": {"state": "Open"}}),
            400,
            "InvalidRequestContent",
        ),
        (
            json!({"properties": {"state": "Completed", "by": "mallory"}}),
            400,
            "InvalidRequestContent",
        ),
        (
            json!({"properties": {"state": "Completed", "comment": "x".repeat(1001)}}),
            400,
            "InvalidComment",
        ),
    ];
    for (body, status, code) in cases {
        let (got, _, reply) = patch(&s, GATE, None, body.clone()).await;
        assert_eq!(
            (got.as_u16(), reply["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}: {reply}"
        );
    }
    let (status, _, missing) = patch(
        &s,
        "/api/v1/fleets/f/gates/r.nowhere.before",
        None,
        approve("x"),
    )
    .await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("GateNotFound"))
    );
    for query in [
        "state=Open",
        "gateType=Vote",
        "updateRun=Bad_Name",
        "color=red",
    ] {
        let reply = s.get(&format!("/api/v1/fleets/f/gates?{query}")).await;
        assert_eq!(
            (reply.status, reply.code()),
            (StatusCode::BAD_REQUEST, "InvalidQueryParameter"),
            "{query}"
        );
    }
    let after_scheduled = json!({"properties": {"strategy": {"stages": [{"name": "s", "groups": [{"name": "g"}],
        "afterGates": [{"type": "ScheduledStart", "scheduledStartConfiguration": {"startDay": "Monday", "startTime": "02:00", "utcOffset": "Z"}}]}]},
        "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}});
    let refused = s
        .put("/api/v1/fleets/f/updateRuns/r2", after_scheduled)
        .await;
    assert_eq!(refused.code(), "InvalidStrategy", "{}", refused.body);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only be a before-gate")
    );
    assert_eq!(
        s.get("/api/v1/fleets/f/updateRuns/r2").await.status,
        StatusCode::NOT_FOUND
    );
}
