//! What differs between the store's back ends, seen from outside: the URL chooses one; probes
//! follow the database.

use crate::common::{self, free_port, spawn_serve};

#[test]
fn an_unknown_kind_of_database_url_is_refused_at_start() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["serve", "--database-url", "mysql://localhost/drydock"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("sqlite: or postgres://"), "{said}");
}

#[tokio::test]
async fn probes_answer_anyone_by_any_host_and_readiness_follows_the_database() {
    let db = common::temp_db();
    let s = common::start_secured(&db, false).await;
    let probe = |path: &'static str| {
        let s = &s;
        async move {
            // A kubelet names the pod's address, and carries no credential.
            s.send_with(
                "GET",
                path,
                None,
                "text/plain",
                &[("host", "10.244.1.7:3000")],
            )
            .await
        }
    };
    let alive = probe("/healthz").await;
    assert_eq!(
        (alive.status.as_u16(), alive.body.as_str()),
        (200, Some("ok\n"))
    );
    let ready = probe("/readyz").await;
    assert_eq!(
        (ready.status.as_u16(), ready.body.as_str()),
        (200, Some("ready\n"))
    );

    // A database behind this build's migrations is not ready for it.
    let pool = common::raw_pool(&db).await;
    sqlx::query(
        "DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
    )
    .execute(&pool)
    .await
    .unwrap();
    let behind = probe("/readyz").await;
    assert_eq!(behind.status.as_u16(), 503);
    assert!(
        behind.body.as_str().unwrap().contains("this server needs"),
        "{}",
        behind.body
    );
    let api = probe("/api/v1/fleets").await;
    assert_eq!(api.status.as_u16(), 421, "the probes' pass is theirs only");
}

#[tokio::test]
async fn a_server_shutting_down_is_no_longer_ready_but_still_alive() {
    let s = common::start().await;
    assert_eq!(s.get("/readyz").await.status.as_u16(), 200);
    s.built
        .draining
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let draining = s.get("/readyz").await;
    assert_eq!(draining.status.as_u16(), 503);
    assert_eq!(draining.body.as_str(), Some("not ready: shutting down\n"));
    assert_eq!(s.get("/healthz").await.status.as_u16(), 200);
    assert_eq!(
        s.get("/api/v1/fleets").await.status.as_u16(),
        200,
        "still serving"
    );
}

#[test]
fn after_sigterm_the_server_says_it_is_not_ready_then_stops() {
    let db = common::temp_db();
    let port = free_port();
    let mut server = spawn_serve(
        port,
        &["--database-url", &db, "--shutdown-delay-seconds", "2"],
    );
    let pid = server.0.id().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let (status, body) = common::http(port, "GET", "/readyz", None).unwrap();
    assert_eq!(status, 503, "{body}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        if let Some(exit) = server.0.try_wait().unwrap() {
            assert!(exit.success(), "{exit:?}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the server did not stop"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    server.kill();
}
