//! A browser visiting another site must not be able to drive Drydock with the admin's cookie,
//! and a rebound DNS name must not reach it at all.

use crate::common::{self, TestServer};
use axum::http::StatusCode;

const FORM: &str = "application/x-www-form-urlencoded";

async fn demo_with_run() -> TestServer {
    let s = common::start_with("sqlite::memory:", true).await;
    let created = s
        .put(
            "/api/v1/fleets/demo/updateRuns/r",
            serde_json::json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    s
}

async fn run_state(s: &TestServer) -> String {
    let run = s.get("/api/v1/fleets/demo/updateRuns/r").await.body;
    run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn a_cross_site_form_post_or_fetch_changes_nothing() {
    let s = demo_with_run().await;
    let from_elsewhere: [&[(&str, &str)]; 3] = [
        &[
            ("host", "localhost:3000"),
            ("origin", "https://evil.example"),
        ],
        &[("host", "localhost:3000"), ("sec-fetch-site", "cross-site")],
        &[("host", "localhost:3000"), ("sec-fetch-site", "same-site")],
    ];
    for headers in from_elsewhere {
        let form = s
            .send_with(
                "POST",
                "/fn/start_run",
                Some("fleet=demo&run=r"),
                FORM,
                headers,
            )
            .await;
        assert_eq!(
            form.status,
            StatusCode::FORBIDDEN,
            "{headers:?}: {}",
            form.body
        );
        assert_eq!(form.code(), "CrossSiteRequest");
        let fetch = s
            .send_with(
                "POST",
                "/api/v1/fleets/demo/updateRuns/r/start",
                None,
                "",
                headers,
            )
            .await;
        assert_eq!(fetch.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(run_state(&s).await, "NotStarted");
    }
}

#[tokio::test]
async fn the_same_request_from_drydocks_own_page_works() {
    let s = demo_with_run().await;
    let own_page = [
        ("host", "localhost:3000"),
        ("origin", "http://localhost:3000"),
        ("sec-fetch-site", "same-origin"),
    ];
    let reply = s
        .send_with(
            "POST",
            "/fn/start_run",
            Some("fleet=demo&run=r"),
            FORM,
            &own_page,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_ne!(run_state(&s).await, "NotStarted");
}

#[tokio::test]
async fn scripts_without_browser_headers_are_not_affected() {
    let s = demo_with_run().await;
    let reply = s
        .send_with(
            "POST",
            "/api/v1/fleets/demo/updateRuns/r/start",
            None,
            "",
            &[("host", "127.0.0.1:3000")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn a_host_that_is_not_ours_is_refused_even_for_reads() {
    let s = common::start().await;
    for host in ["evil.example", "evil.example:3000", "10.0.0.8:3000"] {
        let reply = s
            .send_with("GET", "/api/v1/fleets", None, "", &[("host", host)])
            .await;
        assert_eq!(reply.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert_eq!(reply.code(), "UnknownHost");
    }
    let page = s
        .send_with("GET", "/", None, "", &[("host", "evil.example")])
        .await;
    assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST);
}

#[tokio::test]
async fn a_public_url_names_another_host_we_answer_for() {
    let mut args = common::args("sqlite::memory:", false);
    args.public_url = vec!["https://drydock.example.com".into()];
    let s = common::start_fast_with(&args).await;
    let reply = s
        .send_with(
            "GET",
            "/api/v1/fleets",
            None,
            "",
            &[("host", "drydock.example.com")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let fleet = s
        .send_with(
            "PUT",
            "/api/v1/fleets/f",
            Some("{}"),
            "application/json",
            &[
                ("host", "drydock.example.com"),
                ("origin", "https://drydock.example.com"),
            ],
        )
        .await;
    assert_eq!(fleet.status, StatusCode::CREATED, "{}", fleet.body);
}

#[tokio::test]
async fn every_answer_says_how_a_browser_may_use_it() {
    let s = common::start().await;
    let request = axum::http::Request::builder()
        .uri("/api/v1/fleets")
        .body(axum::body::Body::empty())
        .unwrap();
    use tower::ServiceExt;
    let response = s.router.clone().oneshot(request).await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
}

/// Whether the server's store answers now, for a test that is stuck.
async fn store_state(s: &common::TestServer) -> String {
    let listed = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        s.built.drydock.store().list_fleets(),
    )
    .await;
    match listed {
        Ok(Ok(fleets)) => format!("the store answers ({} fleets)", fleets.len()),
        Ok(Err(error)) => format!("the store fails: {error}"),
        Err(_) => "the store does not answer within 5 s".into(),
    }
}

#[tokio::test]
async fn a_page_runs_only_the_inline_scripts_it_was_served_with() {
    // Each step bounded, so a hang says where it is (this test hung twice in full runs).
    let limit = std::time::Duration::from_secs(60);
    let s = tokio::time::timeout(limit, common::start())
        .await
        .expect("starting the server took more than 60 s");
    let request = axum::http::Request::builder()
        .uri("/")
        .body(axum::body::Body::empty())
        .unwrap();
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let Ok(response) = tokio::time::timeout(limit, s.router.clone().oneshot(request)).await else {
        panic!(
            "the response's head took more than 60 s; {}",
            store_state(&s).await
        );
    };
    let response = response.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let Ok(html) = tokio::time::timeout(limit, response.into_body().collect()).await else {
        panic!(
            "the page's body took more than 60 s; {}",
            store_state(&s).await
        );
    };
    let html = html.unwrap().to_bytes();
    let html = String::from_utf8_lossy(&html);
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"));
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let scripts = html.matches("<script").count();
    assert!(scripts > 0, "{html}");
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every inline script carries the nonce: {html}"
    );
}
