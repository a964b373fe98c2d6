//! Webhooks over REST against real HTTP receivers on loopback: a run's transitions arrive as
//! signed CloudEvents, filtered by type and fleet; a failing receiver is retried with backoff
//! until it answers or the attempts run out; a receiver that never answers costs the run
//! nothing; the history says what happened to each delivery.

use crate::common::{self, FastServer};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use server::config::WebhookArgs;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "a-secret-of-some-length";

/// What a receiver was sent.
#[derive(Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
}

/// A receiver on loopback that records what it gets and answers 500 to the first `failures`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let got = Arc::new(Mutex::new(Vec::new()));
        let left = Arc::new(AtomicUsize::new(failures));
        let record = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let record = record.clone();
                let left = left.clone();
                async move {
                    record.lock().unwrap().push(Received { headers, body });
                    let failing = left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self { url, got }
    }

    fn events(&self) -> Vec<Value> {
        let got = self.got.lock().unwrap();
        got.iter()
            .map(|r| serde_json::from_str(&r.body).unwrap())
            .collect()
    }
}

/// A receiver that accepts connections and never answers.
async fn silent_receiver() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (url, held)
}

async fn demo_server() -> FastServer {
    let mut args = common::args("sqlite::memory:", true);
    args.time_scale = 100_000.0;
    args.webhooks = WebhookArgs {
        webhook_timeout: 1,
        webhook_max_attempts: 3,
        webhook_first_retry_ms: 50,
    };
    common::start_fast_with(&args).await
}

async fn put_webhook(s: &common::TestServer, name: &str, properties: Value) -> common::Reply {
    s.put(
        &format!("/api/v1/webhooks/{name}"),
        json!({ "properties": properties }),
    )
    .await
}

/// A one-by-one control-plane upgrade of the demo fleet, started, run to its end.
async fn run_demo_upgrade(s: &common::TestServer) -> Value {
    let target = common::newest_of(s, 30).await;
    let created = s
        .put(
            "/api/v1/fleets/demo/updateRuns/run-1",
            json!({"properties": {"managedClusterUpdate":
                {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": target}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let started = s
        .call("POST", "/api/v1/fleets/demo/updateRuns/run-1/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    s.wait_for_run("demo", "run-1", &["Completed", "Failed"])
        .await
}

/// Polls (real time, bounded) until `done` holds of the webhook's deliveries.
async fn deliveries_until(
    s: &common::TestServer,
    webhook: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let reply = s
            .get(&format!("/api/v1/webhooks/{webhook}/deliveries?limit=1000"))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let list = reply.body["value"].as_array().unwrap().clone();
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "deliveries never got there: {list:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_transitions_arrive_as_signed_cloud_events_of_the_types_asked_for() {
    let s = demo_server().await;
    let receiver = Receiver::start(0).await;
    let created = put_webhook(
        &s,
        "chat",
        json!({"url": receiver.url, "secret": SECRET,
               "eventTypes": ["io.drydock.run.*", "io.drydock.member.completed"],
               "fleets": ["demo"]}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["properties"]["secretSet"], true);
    assert!(
        !created.body.to_string().contains(SECRET),
        "the secret is never read back"
    );
    let run = run_demo_upgrade(&s).await;
    let members_done = common::run_members(&run["properties"]["status"]["stages"])
        .iter()
        .filter(|m| m["status"]["state"] == "Completed")
        .count();
    let run_state = run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap()
        .to_lowercase();
    let history = deliveries_until(&s, "chat", |list| {
        list.iter().any(|d| {
            d["eventType"] == format!("io.drydock.run.{run_state}") && d["state"] == "Delivered"
        })
    })
    .await;
    assert!(
        history.iter().all(|d| d["responseStatus"] == 204),
        "{history:?}"
    );

    let events = receiver.events();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"io.drydock.run.running"), "{types:?}");
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "io.drydock.member.completed")
            .count(),
        members_done,
        "one event per member upgraded: {types:?}"
    );
    assert!(
        types
            .iter()
            .all(|t| t.starts_with("io.drydock.run.") || *t == "io.drydock.member.completed"),
        "only the types asked for: {types:?}"
    );
    let member = events
        .iter()
        .find(|e| e["type"] == "io.drydock.member.completed")
        .unwrap();
    assert_eq!(member["specversion"], "1.0");
    assert_eq!(member["source"], "/fleets/demo/updateRuns/run-1");
    assert!(member["subject"].as_str().unwrap().starts_with("members/"));
    assert_eq!(member["data"]["fleet"], "demo");

    let got = receiver.got.lock().unwrap().clone();
    for r in &got {
        assert_eq!(
            r.headers["content-type"],
            "application/cloudevents+json; charset=utf-8"
        );
        assert_eq!(
            r.headers["x-drydock-signature-256"].to_str().unwrap(),
            server::webhooks::signature(SECRET, r.body.as_bytes()),
            "signed with the secret, over the exact body"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_receivers_are_retried_with_backoff_and_a_silent_one_never_slows_the_run() {
    let s = demo_server().await;
    let flaky = Receiver::start(2).await;
    let (silent, _held) = silent_receiver().await;
    let only_the_end = json!(["io.drydock.run.completed", "io.drydock.run.failed"]);
    put_webhook(
        &s,
        "flaky",
        json!({"url": flaky.url, "eventTypes": only_the_end}),
    )
    .await;
    put_webhook(&s, "silent", json!({"url": silent})).await;
    run_demo_upgrade(&s).await;
    // Every event goes to the silent receiver, each attempt waiting out its timeout: when the
    // run has ended most of them have not been tried yet. The run did not wait for them.
    let when_the_run_ended = deliveries_until(&s, "silent", |list| !list.is_empty()).await;
    let untried = when_the_run_ended
        .iter()
        .filter(|d| d["state"] == "Pending" && d["attempts"] == 0)
        .count();
    assert!(
        untried > when_the_run_ended.len() / 2,
        "{when_the_run_ended:?}"
    );

    let flaky_history = deliveries_until(&s, "flaky", |list| {
        list.first().is_some_and(|d| d["state"] == "Delivered")
    })
    .await;
    let delivered = &flaky_history[0];
    assert_eq!(
        delivered["attempts"], 3,
        "two failures, then delivered: {delivered}"
    );
    assert_eq!(flaky.events().len(), 3, "the same event, sent three times");
    assert_eq!(
        flaky.events()[0],
        flaky.events()[2],
        "every retry sends the same event"
    );

    // The oldest delivery: three attempts of one second each (the timeout), then given up.
    let silent_history = deliveries_until(&s, "silent", |list| {
        list.last().is_some_and(|d| d["state"] == "Failed")
    })
    .await;
    let failed = silent_history.last().unwrap();
    assert_eq!(failed["attempts"], 3);
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1 s"),
        "{failed}"
    );
}

#[tokio::test]
async fn webhooks_are_replaced_keeping_their_secret_deleted_and_bad_ones_refused() {
    let s = demo_server().await;
    let body = json!({"url": "https://chat.example.com/hooks/1", "secret": SECRET});
    assert_eq!(
        put_webhook(&s, "chat", body).await.status,
        StatusCode::CREATED
    );
    let read = s.get("/api/v1/webhooks/chat").await.body;
    // A GET sent back as a PUT keeps the secret.
    let replaced = s.put("/api/v1/webhooks/chat", read.clone()).await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(replaced.body["properties"]["secretSet"], true);
    assert_eq!(replaced.body["etag"], "2");
    let mut cleared = read.clone();
    cleared["properties"]["secret"] = json!("");
    let cleared = s.put("/api/v1/webhooks/chat", cleared).await;
    assert_eq!(cleared.body["properties"]["secretSet"], false);
    assert_eq!(
        s.get("/api/v1/webhooks").await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    for (properties, code) in [
        (json!({"url": "ftp://x"}), "InvalidWebhook"),
        (
            json!({"url": "https://x", "eventTypes": ["io.drydock.gate.approved"]}),
            "InvalidWebhook",
        ),
        (
            json!({"url": "https://x", "secret": "short"}),
            "InvalidWebhook",
        ),
        (
            json!({"url": "https://x", "fleets": ["Not A Fleet"]}),
            "InvalidRequestContent",
        ),
        (
            json!({"url": "https://x", "retries": 3}),
            "InvalidRequestContent",
        ),
    ] {
        let refused = put_webhook(&s, "bad", properties.clone()).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{properties}");
        assert_eq!(refused.code(), code, "{properties}: {}", refused.body);
    }
    assert_eq!(
        s.get("/api/v1/webhooks/bad").await.code(),
        "WebhookNotFound",
        "nothing was stored"
    );
    assert_eq!(
        s.get("/api/v1/webhooks/chat/deliveries?limit=0")
            .await
            .code(),
        "InvalidQueryParameter"
    );
    assert_eq!(
        s.delete("/api/v1/webhooks/chat").await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.delete("/api/v1/webhooks/chat").await.status,
        StatusCode::NO_CONTENT
    );
}
