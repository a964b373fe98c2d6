//! What differs between the store's back ends, seen from outside: the URL chooses one, and a
//! PostgreSQL database has one server at a time until replicas can share runs.

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

#[test]
fn a_second_server_on_the_same_postgresql_database_is_refused() {
    if common::on_sqlite() {
        return;
    }
    let db = common::temp_db();
    let _first = spawn_serve(free_port(), &["--database-url", &db]);
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["serve", "--auth", "none", "--addr"])
        .arg(format!("127.0.0.1:{}", free_port()))
        .args(["--database-url", &db])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let said = String::from_utf8_lossy(&second.stderr);
    assert!(
        said.contains("another Drydock server is already using"),
        "{said}"
    );
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

/// The backend process holding the one-server lock on the database of `pool`, if any.
async fn claim_holder(pool: &sqlx::AnyPool) -> Option<i64> {
    sqlx::query_scalar(
        "SELECT CAST(pid AS BIGINT) FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
    )
    .fetch_optional(pool)
    .await
    .unwrap()
}

async fn cut(pool: &sqlx::AnyPool, pid: i64) {
    let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend(CAST($1 AS INTEGER))")
        .bind(pid)
        .fetch_one(pool)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_claim_is_taken_again_and_a_server_that_lost_it_to_another_stops() {
    if common::on_sqlite() {
        return;
    }
    let db = common::temp_db();
    let pool = common::raw_pool(&db).await;
    let port = free_port();
    let mut first = spawn_serve(port, &["--database-url", &db]);
    let holder = claim_holder(&pool)
        .await
        .expect("the server holds the claim");
    cut(&pool, holder).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let again = loop {
        match claim_holder(&pool).await {
            Some(pid) if pid != holder => break pid,
            _ => assert!(
                std::time::Instant::now() < deadline,
                "the claim was not taken again"
            ),
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(common::http(port, "GET", "/healthz", None).unwrap().0, 200);

    // Lost again, and someone else takes it first (here the test, waiting for it in the same
    // statement that cuts the holder, so the server's watchdog cannot win the race): it stops.
    let mut rival = pool.acquire().await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(CAST($1 AS INTEGER)), pg_advisory_lock(CAST($2 AS BIGINT))",
    )
    .bind(again)
    .bind(0x0044_5259_444f_434b_i64)
    .execute(&mut *rival)
    .await
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(status) = first.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the first server kept running"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(status.code(), Some(3));
    drop(rival);
}
