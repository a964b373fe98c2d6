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
