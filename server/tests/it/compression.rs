//! Answers are gzipped for clients that take it (a large run's page, the WASM bundle, JSON),
//! never for those that do not, and never an event stream (a client must get each event as it
//! is sent).

use crate::common;
use axum::body::Body;
use axum::http::{Request, header};
use http_body_util::BodyExt;
use std::io::Read;
use tower::ServiceExt;

async fn get(s: &common::TestServer, uri: &str, gzip: bool) -> axum::response::Response {
    let mut request = Request::builder().uri(uri);
    if gzip {
        request = request.header(header::ACCEPT_ENCODING, "gzip");
    }
    let request = request.body(Body::empty()).unwrap();
    s.router.clone().oneshot(request).await.unwrap()
}

fn encoding(response: &axum::response::Response) -> Option<&str> {
    response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn answers_are_gzipped_for_clients_that_take_it_and_event_streams_never() {
    let s = common::start_with("sqlite::memory:", true).await;
    let plain = get(&s, "/api/v1/openapi.json", false).await;
    assert_eq!(
        encoding(&plain),
        None,
        "a client that did not ask gets it plain"
    );
    let plain = plain.into_body().collect().await.unwrap().to_bytes();

    let zipped = get(&s, "/api/v1/openapi.json", true).await;
    assert_eq!(encoding(&zipped), Some("gzip"));
    let zipped = zipped.into_body().collect().await.unwrap().to_bytes();
    assert!(
        zipped.len() * 4 < plain.len(),
        "{} of {} bytes",
        zipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&zipped[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain, "the same document");

    let overview = get(&s, "/fn/fleet_overview?fleet=demo", true).await;
    assert_eq!(encoding(&overview), Some("gzip"), "server functions too");

    s.put(
        "/api/v1/fleets/demo/updateRuns/streamed",
        serde_json::json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
    )
    .await;
    let stream = get(&s, "/api/v1/fleets/demo/updateRuns/streamed/events", true).await;
    assert_eq!(
        stream.headers()[header::CONTENT_TYPE],
        "text/event-stream",
        "the run's live events"
    );
    assert_eq!(
        encoding(&stream),
        None,
        "an event stream is sent as it comes"
    );
}
