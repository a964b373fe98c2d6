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

/// The bundle's files are sent as gzipped at build time (not compressed again per download),
/// and as they are to a client that does not take gzip.
#[tokio::test]
async fn the_bundle_goes_out_as_gzipped_at_build_time() {
    use std::io::Write;
    let site = common::temp_dir("site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    let wasm: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    std::fs::write(pkg.join("drydock.wasm"), &wasm).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&wasm).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(pkg.join("drydock.wasm.gz"), &gz).unwrap();
    let mut args = common::args("sqlite::memory:", false);
    args.site_root = site.to_string_lossy().into_owned();
    let s = common::start_built(&args).await;

    let zipped = get(&s, "/pkg/drydock.wasm", true).await;
    assert_eq!(encoding(&zipped), Some("gzip"));
    assert_eq!(zipped.headers()[header::CONTENT_TYPE], "application/wasm");
    let body = zipped.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, gz, "the file gzipped at build time, byte for byte");
    let plain = get(&s, "/pkg/drydock.wasm", false).await;
    assert_eq!(encoding(&plain), None);
    let body = plain.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, wasm);
}
