//! The audit trail: who asked for which write, with what credential, from where, and what came
//! of it; read back by those it concerns.

use crate::common::{self, ADMIN_PASSWORD, TestServer, as_, basic};
use axum::http::StatusCode;
use serde_json::{Value, json};

async fn entries(s: &TestServer, auth: &str, query: &str) -> Vec<Value> {
    let page = as_(s, auth, "GET", &format!("/api/v1/audit{query}"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    page.body["value"].as_array().unwrap().clone()
}

async fn secured_with_users() -> TestServer {
    let s = common::start_secured("sqlite::memory:", true).await;
    let admin = basic("admin", ADMIN_PASSWORD);
    for (name, roles) in [
        ("vera", json!([{"role": "viewer", "fleet": "demo"}])),
        ("otto", json!([{"role": "operator", "fleet": "demo"}])),
    ] {
        let body =
            json!({"properties": {"password": format!("{name}-password-1"), "roles": roles}});
        let made = as_(
            &s,
            &admin,
            "PUT",
            &format!("/api/v1/users/{name}"),
            Some(body),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED);
    }
    node_image_run(&s).await;
    s
}

/// Run `r` of the demo fleet, node images only, made by the admin.
async fn node_image_run(s: &TestServer) {
    let run =
        json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}});
    let admin = basic("admin", ADMIN_PASSWORD);
    let created = as_(
        s,
        &admin,
        "PUT",
        "/api/v1/fleets/demo/updateRuns/r",
        Some(run),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED);
}

#[tokio::test]
async fn every_write_is_recorded_with_who_how_what_and_the_result() {
    let s = secured_with_users().await;
    let admin = basic("admin", ADMIN_PASSWORD);
    let vera = basic("vera", "vera-password-1");
    let otto = basic("otto", "otto-password-1");
    let start = "/api/v1/fleets/demo/updateRuns/r/start";
    assert_eq!(
        as_(&s, &vera, "POST", start, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(&s, &otto, "POST", start, None).await.status,
        StatusCode::OK
    );
    let form = "fleet=demo&run=r";
    let stop = s
        .send_with(
            "POST",
            "/fn/stop_run",
            Some(form),
            "application/x-www-form-urlencoded",
            &[("authorization", &otto)],
        )
        .await;
    assert_eq!(stop.status, StatusCode::OK);
    // Reads are not recorded.
    as_(&s, &otto, "GET", "/api/v1/fleets/demo/updateRuns/r", None).await;

    let of_run = entries(&s, &admin, "?fleet=demo&run=r").await;
    let summary: Vec<(String, String, String, String)> = of_run
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
            (
                text("actor"),
                text("credential"),
                text("action"),
                text("outcome"),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "otto".into(),
                "password".into(),
                "POST /fn/stop_run".into(),
                "Succeeded".into()
            ),
            (
                "otto".into(),
                "password".into(),
                format!("POST {start}"),
                "Succeeded".into()
            ),
            (
                "vera".into(),
                "password".into(),
                format!("POST {start}"),
                "Refused".into()
            ),
            (
                "admin".into(),
                "password".into(),
                "PUT /api/v1/fleets/demo/updateRuns/r".into(),
                "Succeeded".into()
            ),
        ]
    );
    assert_eq!(of_run[2]["status"], 403);
    assert_eq!(of_run[2]["code"], "Forbidden");
    assert_eq!(of_run[0]["address"], "unknown", "no socket in these tests");
}

#[tokio::test]
async fn sign_ins_are_recorded_under_the_name_tried() {
    let s = common::start_secured("sqlite::memory:", false).await;
    for password in ["wrong", ADMIN_PASSWORD] {
        let body = json!({"username": "admin", "password": password}).to_string();
        s.send_with("POST", "/auth/login", Some(&body), "application/json", &[])
            .await;
    }
    let all = entries(&s, &basic("admin", ADMIN_PASSWORD), "?actor=admin").await;
    let outcomes: Vec<(&str, &str)> = all
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("POST /auth/login", "Succeeded"),
            ("POST /auth/login", "Refused")
        ]
    );
    assert_eq!(all[1]["credential"], "anonymous");
    assert_eq!(all[1]["code"], "InvalidCredentials");
    // The sign-in form is answered with a redirect either way; a refusal is still one.
    let form = "username=admin&password=wrong";
    s.send(
        "POST",
        "/auth/login",
        Some(form),
        "application/x-www-form-urlencoded",
    )
    .await;
    let newest = &entries(&s, &basic("admin", ADMIN_PASSWORD), "?actor=admin").await[0];
    assert_eq!(
        (newest["outcome"].as_str(), newest["status"].as_u64()),
        (Some("Refused"), Some(303))
    );
}

#[tokio::test]
async fn people_read_what_concerns_their_fleets_and_pages_go_back_in_time() {
    let s = secured_with_users().await;
    let admin = basic("admin", ADMIN_PASSWORD);
    let vera = basic("vera", "vera-password-1");
    for _ in 0..3 {
        as_(&s, &admin, "PUT", "/api/v1/fleets/other", Some(json!({}))).await;
    }
    // Vera, viewer of demo only, sees demo's entries and none of other's or of no fleet.
    let seen = entries(&s, &vera, "").await;
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|e| e["fleet"] == "demo"), "{seen:?}");
    // The admin pages through everything, two at a time.
    let everything = entries(&s, &admin, "?limit=1000").await;
    let mut paged = Vec::new();
    let mut query = "?limit=2".to_owned();
    loop {
        let page = as_(&s, &admin, "GET", &format!("/api/v1/audit{query}"), None)
            .await
            .body;
        paged.extend(
            page["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page["nextBefore"].as_i64() {
            Some(before) => query = format!("?limit=2&before={before}"),
            None => break,
        }
    }
    let ids: Vec<Value> = everything.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(paged, ids);
    let bad = as_(&s, &admin, "GET", "/api/v1/audit?limit=0", None).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let unknown = as_(&s, &admin, "GET", "/api/v1/audit?who=x", None).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_write_a_crash_cut_short_is_marked_interrupted() {
    let db = common::temp_db();
    let s = common::start_secured(&db, false).await;
    drop(s);
    let pool = common::raw_pool(&db).await;
    sqlx::query("INSERT INTO audit_log (at, actor, credential, action, address, outcome) VALUES (1, 'otto', 'session', 'POST /fn/start_run', '10.0.0.1', 'Pending')")
        .execute(&pool)
        .await
        .unwrap();
    let s = common::start_secured(&db, false).await;
    let all = entries(&s, &basic("admin", ADMIN_PASSWORD), "?actor=otto").await;
    assert_eq!(all[0]["outcome"], "Interrupted");
}

/// A trigger that makes every insert into `table` fail, as a full disk or a broken table would
/// (`on`: the table, as the trigger's name says it), in either back end's dialect.
async fn break_inserts(pool: &sqlx::AnyPool, on: &str) {
    let statements: &[&'static str] = match (common::on_sqlite(), on) {
        (true, "audit_log") => &[
            "CREATE TRIGGER broken_audit_log BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'the audit trail cannot be written'); END",
        ],
        (true, "fleets") => &["CREATE TRIGGER broken_fleets BEFORE INSERT ON fleets \
             BEGIN SELECT RAISE(ABORT, 'no more fleets'); END"],
        (false, "audit_log") => &[
            "CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'this table cannot be written'; END $$",
            "CREATE TRIGGER broken_audit_log BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION refuse_insert()",
        ],
        (false, "fleets") => &["CREATE TRIGGER broken_fleets BEFORE INSERT ON fleets \
             FOR EACH ROW EXECUTE FUNCTION refuse_insert()"],
        _ => unreachable!("no trigger for {on}"),
    };
    for statement in statements {
        sqlx::query(*statement).execute(pool).await.unwrap();
    }
}

async fn mend_audit_log(pool: &sqlx::AnyPool) {
    let statement = if common::on_sqlite() {
        "DROP TRIGGER broken_audit_log"
    } else {
        "DROP TRIGGER broken_audit_log ON audit_log"
    };
    sqlx::query(statement).execute(pool).await.unwrap();
}

#[tokio::test]
async fn a_change_is_committed_with_its_entry_or_not_at_all() {
    let db = common::temp_db();
    let s = common::start_secured(&db, true).await;
    let admin = basic("admin", ADMIN_PASSWORD);
    node_image_run(&s).await;

    let pool = common::raw_pool(&db).await;
    break_inserts(&pool, "audit_log").await;
    let refused = as_(
        &s,
        &admin,
        "PUT",
        "/api/v1/fleets/unrecorded",
        Some(json!({})),
    )
    .await;
    assert!(refused.status.is_server_error(), "{}", refused.status);
    // A run command crosses to the run's driver: its save carries the entry, so it fails too.
    let start = "/api/v1/fleets/demo/updateRuns/r/start";
    let not_started = as_(&s, &admin, "POST", start, None).await;
    assert!(!not_started.status.is_success(), "{}", not_started.body);
    mend_audit_log(&pool).await;
    assert_eq!(
        as_(&s, &admin, "GET", "/api/v1/fleets/unrecorded", None)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "no change without its entry"
    );
    let run = as_(&s, &admin, "GET", "/api/v1/fleets/demo/updateRuns/r", None).await;
    assert_eq!(
        run.body["properties"]["status"]["status"]["state"],
        "NotStarted"
    );

    // The other way round: a change that cannot be committed leaves an entry that says so.
    break_inserts(&pool, "fleets").await;
    let failed = as_(&s, &admin, "PUT", "/api/v1/fleets/doomed", Some(json!({}))).await;
    assert!(failed.status.is_server_error());
    let doomed = entries(&s, &admin, "?actor=admin").await;
    assert_eq!(doomed[0]["action"], "PUT /api/v1/fleets/doomed");
    assert_eq!(doomed[0]["outcome"], "Failed");

    let started = as_(&s, &admin, "POST", start, None).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let latest = &entries(&s, &admin, "?run=r").await[0];
    assert_eq!(latest["action"], format!("POST {start}"));
    assert_eq!(
        (latest["outcome"].as_str(), latest["status"].as_u64()),
        (Some("Succeeded"), Some(200))
    );
}
