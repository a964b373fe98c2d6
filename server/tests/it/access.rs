//! Who may do what: sign-in, sessions, API tokens, HTTP Basic, roles per fleet.

use crate::common::{self, ADMIN_PASSWORD, Reply, TestServer, as_, basic};
use axum::http::StatusCode;
use serde_json::{Value, json};

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
/// What a browser's `fetch` from Drydock's own page says (the CSRF check leans on it).
const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

fn admin() -> String {
    basic("admin", ADMIN_PASSWORD)
}

async fn sign_in(s: &TestServer, user: &str, password: &str) -> Reply {
    let body = json!({"username": user, "password": password}).to_string();
    s.send_with("POST", "/auth/login", Some(&body), JSON, &[])
        .await
}

/// The session cookie a sign-in set, as a `Cookie` header value.
fn cookie_of(reply: &Reply) -> String {
    let set = reply.headers["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

/// The CSRF token a sign-in set (`drydock_csrf`), as the page's forms carry it.
fn csrf_of(reply: &Reply) -> String {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("drydock_csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_owned()
}

async fn with_cookie(s: &TestServer, cookie: &str, method: &str, uri: &str) -> Reply {
    s.send_with(method, uri, None, JSON, &[("cookie", cookie)])
        .await
}

async fn add_user(s: &TestServer, name: &str, roles: Value) {
    let reply = as_(
        s,
        &admin(),
        "PUT",
        &format!("/api/v1/users/{name}"),
        Some(json!({"properties": {"password": format!("{name}-password-1"), "roles": roles}})),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn demo_run(s: &TestServer) {
    let reply = as_(
        s,
        &admin(),
        "PUT",
        "/api/v1/fleets/demo/updateRuns/r",
        Some(
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

#[tokio::test]
async fn nobody_gets_in_without_a_credential() {
    let s = common::start_secured("sqlite::memory:", true).await;
    for uri in [
        "/api/v1/fleets",
        "/api/v1/fleets/demo/updateRuns",
        "/fn/list_fleets",
    ] {
        let reply = s.get(uri).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{uri}");
        assert!(reply.headers.contains_key("www-authenticate"), "{uri}");
    }
    assert_eq!(s.get("/api/v1/fleets").await.code(), "Unauthenticated");
    let page = s
        .send_with("GET", "/fleets/demo?tab=runs", None, "", &[])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.headers["location"],
        "/login?next=%2Ffleets%2Fdemo%3Ftab%3Druns"
    );
    let writes = s
        .send("POST", "/fn/start_run", Some("fleet=demo&run=r"), FORM)
        .await;
    assert_eq!(writes.status, StatusCode::UNAUTHORIZED);
    // The sign-in page asks who is there: nobody, which is no error.
    let whoami = s.get("/fn/whoami").await;
    assert_eq!((whoami.status, whoami.body), (StatusCode::OK, Value::Null));
    let admin = as_(&s, &admin(), "GET", "/fn/whoami", None).await;
    assert_eq!(admin.body["name"], "admin");
}

#[tokio::test]
async fn a_signed_in_browser_uses_its_session_until_it_signs_out() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let wrong = sign_in(&s, "admin", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "InvalidCredentials");
    assert!(!wrong.headers.contains_key("set-cookie"));

    let signed_in = sign_in(&s, "admin", ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    let set = signed_in.headers["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let cookie = cookie_of(&signed_in);
    let me = with_cookie(&s, &cookie, "GET", "/api/v1/me").await;
    assert_eq!(me.body["name"], "admin");
    assert_eq!(me.body["roles"], json!([{"role": "admin"}]));
    assert_eq!(
        with_cookie(&s, &cookie, "GET", "/api/v1/fleets")
            .await
            .status,
        StatusCode::OK
    );

    let out = s
        .send_with(
            "POST",
            "/auth/logout",
            None,
            JSON,
            &[("cookie", &cookie), SAME_ORIGIN],
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = with_cookie(&s, &cookie, "GET", "/api/v1/fleets").await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.code(), "SessionExpired");
    // An ended session on its way to the sign-in page is only nobody, not an error.
    let login = with_cookie(&s, &cookie, "GET", "/login").await;
    assert_eq!(login.status, StatusCode::OK);
}

#[tokio::test]
async fn the_sign_in_form_redirects_to_where_the_user_was_going_and_nowhere_else() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let body = format!("username=admin&password={ADMIN_PASSWORD}&next=%2Ffleets%2Fdemo");
    let ok = s.send("POST", "/auth/login", Some(&body), FORM).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.headers["location"], "/fleets/demo");
    assert!(ok.headers.contains_key("set-cookie"));

    let away = format!("username=admin&password={ADMIN_PASSWORD}&next=%2F%2Fevil.example");
    let away = s.send("POST", "/auth/login", Some(&away), FORM).await;
    assert_eq!(away.headers["location"], "/", "an open redirect is refused");

    let wrong = s
        .send(
            "POST",
            "/auth/login",
            Some("username=admin&password=nope&next=%2Ffleets"),
            FORM,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::SEE_OTHER);
    assert_eq!(
        wrong.headers["location"],
        "/login?error=InvalidCredentials&next=%2Ffleets"
    );
    assert!(!wrong.headers.contains_key("set-cookie"));
}

#[tokio::test]
async fn a_changed_password_ends_the_users_sessions() {
    let s = common::start_secured("sqlite::memory:", true).await;
    add_user(&s, "vera", json!([{"role": "viewer"}])).await;
    let cookie = cookie_of(&sign_in(&s, "vera", "vera-password-1").await);
    assert_eq!(
        with_cookie(&s, &cookie, "GET", "/api/v1/fleets")
            .await
            .status,
        StatusCode::OK
    );
    let changed = as_(
        &s,
        &admin(),
        "PUT",
        "/api/v1/users/vera",
        Some(
            json!({"properties": {"password": "a-new-password-2", "roles": [{"role": "viewer"}]}}),
        ),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        with_cookie(&s, &cookie, "GET", "/api/v1/fleets")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&s, "vera", "vera-password-1").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&s, "vera", "a-new-password-2").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_idle_session_ends() {
    let mut args = common::args("sqlite::memory:", false);
    args.auth.mode = server::auth::AuthMode::Builtin;
    args.auth.admin_password = Some(ADMIN_PASSWORD.into());
    args.auth.session_idle_seconds = 1;
    let s = common::start_built(&args).await;
    let cookie = cookie_of(&sign_in(&s, "admin", ADMIN_PASSWORD).await);
    assert_eq!(
        with_cookie(&s, &cookie, "GET", "/api/v1/fleets")
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let idle = with_cookie(&s, &cookie, "GET", "/api/v1/fleets").await;
    assert_eq!(idle.status, StatusCode::UNAUTHORIZED);
    assert_eq!(idle.code(), "SessionExpired");
}

#[tokio::test]
async fn guessing_a_password_is_stopped_after_five_tries() {
    let s = common::start_secured("sqlite::memory:", false).await;
    for _ in 0..5 {
        assert_eq!(
            sign_in(&s, "admin", "guess").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = sign_in(&s, "admin", ADMIN_PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code(), "TooManySignInAttempts");
    let basic = as_(&s, &admin(), "GET", "/api/v1/fleets", None).await;
    assert_eq!(
        basic.status,
        StatusCode::TOO_MANY_REQUESTS,
        "Basic counts too"
    );
}

#[tokio::test]
async fn roles_decide_who_may_read_run_and_change_a_fleet() {
    let s = common::start_secured("sqlite::memory:", true).await;
    demo_run(&s).await;
    add_user(&s, "vera", json!([{"role": "viewer"}])).await;
    add_user(
        &s,
        "otto",
        json!([{"role": "viewer"}, {"role": "operator", "fleet": "demo"}]),
    )
    .await;
    let vera = basic("vera", "vera-password-1");
    let otto = basic("otto", "otto-password-1");

    let read = as_(&s, &vera, "GET", "/api/v1/fleets/demo/updateRuns/r", None).await;
    assert_eq!(read.status, StatusCode::OK);
    let start = "/api/v1/fleets/demo/updateRuns/r/start";
    let refused = as_(&s, &vera, "POST", start, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "Forbidden");
    assert_eq!(
        refused.body["error"]["message"],
        "This needs the operator role on fleet demo; vera is viewer there."
    );
    let member = json!({"properties": {"clusterResourceId": "sim:nowhere"}});
    let join = as_(
        &s,
        &otto,
        "PUT",
        "/api/v1/fleets/demo/members/m",
        Some(member),
    )
    .await;
    assert_eq!(join.status, StatusCode::FORBIDDEN, "members are an admin's");
    assert_eq!(
        as_(&s, &otto, "POST", start, None).await.status,
        StatusCode::OK
    );

    // A server function checks the same way.
    let sf = s
        .send_with(
            "POST",
            "/fn/stop_run",
            Some("fleet=demo&run=r"),
            FORM,
            &[("authorization", &vera)],
        )
        .await;
    assert_eq!(sf.status, StatusCode::FORBIDDEN);
    assert_eq!(sf.body["code"], "Forbidden");
}

#[tokio::test]
async fn a_fleet_grant_shows_that_fleet_only() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let other = as_(&s, &admin(), "PUT", "/api/v1/fleets/prod", Some(json!({}))).await;
    assert_eq!(other.status, StatusCode::CREATED);
    add_user(&s, "dana", json!([{"role": "admin", "fleet": "demo"}])).await;
    let dana = basic("dana", "dana-password-1");
    let fleets = as_(&s, &dana, "GET", "/api/v1/fleets", None).await.body;
    let names: Vec<&str> = fleets["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["demo"]);
    assert_eq!(
        as_(&s, &dana, "GET", "/api/v1/fleets/prod", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        as_(&s, &dana, "GET", "/api/v1/users", None).await.status,
        StatusCode::FORBIDDEN,
        "users are for admins of every fleet"
    );
}

#[tokio::test]
async fn a_token_is_shown_once_kept_as_a_hash_and_does_what_its_role_allows() {
    let db = common::temp_db();
    let s = common::start_secured(&db, true).await;
    demo_run(&s).await;
    let created = as_(
        &s,
        &admin(),
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "operator", "fleet": "demo", "expiresInDays": 30, "description": "ci"}})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["properties"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = created.body["name"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ddt_"), "{secret}");
    assert_eq!(created.body["properties"]["state"], "Active");

    let listed = as_(&s, &admin(), "GET", "/api/v1/tokens", None).await.body;
    assert_eq!(listed["value"][0]["name"], id.as_str());
    assert!(!listed.to_string().contains(&secret), "never listed again");
    let pool = common::raw_pool(&db).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT secret_hash FROM api_tokens")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret) && stored[0].len() == 64);

    let bearer = format!("Bearer {secret}");
    let start = "/api/v1/fleets/demo/updateRuns/r/start";
    assert_eq!(
        as_(&s, &bearer, "POST", start, None).await.status,
        StatusCode::OK
    );
    let member = json!({"properties": {"clusterResourceId": "sim:nowhere"}});
    let admin_only = as_(
        &s,
        &bearer,
        "PUT",
        "/api/v1/fleets/demo/members/m",
        Some(member),
    )
    .await;
    assert_eq!(admin_only.status, StatusCode::FORBIDDEN);
    assert_eq!(
        as_(&s, &bearer, "GET", "/api/v1/fleets/other", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Exempt from the cross-site check: a browser never sends a bearer token by itself.
    let scripted = s
        .send_with(
            "POST",
            "/api/v1/fleets/demo/updateRuns/r/stop",
            None,
            JSON,
            &[("authorization", &bearer), ("origin", "https://ci.example")],
        )
        .await;
    assert_eq!(scripted.status, StatusCode::OK, "{}", scripted.body);

    let revoked = as_(
        &s,
        &admin(),
        "DELETE",
        &format!("/api/v1/tokens/{id}"),
        None,
    )
    .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = as_(&s, &bearer, "GET", "/api/v1/fleets", None).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.code(), "TokenExpired");
    let junk = as_(&s, "Bearer ddt_made-up", "GET", "/api/v1/fleets", None).await;
    assert_eq!(junk.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let db = common::temp_db();
    let s = common::start_secured(&db, false).await;
    let created = as_(
        &s,
        &admin(),
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "viewer"}})),
    )
    .await;
    let secret = created.body["properties"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {secret}");
    assert_eq!(
        as_(&s, &bearer, "GET", "/api/v1/fleets", None).await.status,
        StatusCode::OK
    );
    let pool = common::raw_pool(&db).await;
    sqlx::query("UPDATE api_tokens SET expires_at = 1")
        .execute(&pool)
        .await
        .unwrap();
    let expired = as_(&s, &bearer, "GET", "/api/v1/fleets", None).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.code(), "TokenExpired");
}

#[tokio::test]
async fn a_token_never_carries_more_than_its_creator_holds() {
    let s = common::start_secured("sqlite::memory:", true).await;
    add_user(&s, "otto", json!([{"role": "operator", "fleet": "demo"}])).await;
    let otto = basic("otto", "otto-password-1");
    let too_much = as_(
        &s,
        &otto,
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "admin", "fleet": "demo"}})),
    )
    .await;
    assert_eq!(too_much.status, StatusCode::FORBIDDEN);
    let elsewhere = as_(
        &s,
        &otto,
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "viewer"}})),
    )
    .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::FORBIDDEN,
        "not on every fleet"
    );
    let fine = as_(
        &s,
        &otto,
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "operator", "fleet": "demo"}})),
    )
    .await;
    assert_eq!(fine.status, StatusCode::CREATED, "{}", fine.body);
    // Otto sees his own tokens only; the admin sees all.
    let own = as_(&s, &otto, "GET", "/api/v1/tokens", None).await.body;
    assert_eq!(own["value"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bad_sign_ins_tokens_and_users_are_4xx_and_store_nothing() {
    let s = common::start_secured("sqlite::memory:", false).await;
    let cases: [(&str, &str, &str, &str, u16); 9] = [
        ("POST", "/auth/login", "{}", JSON, 400),
        ("POST", "/auth/login", "not json", JSON, 400),
        (
            "POST",
            "/auth/login",
            r#"{"username":"admin","password":"x","extra":1}"#,
            JSON,
            400,
        ),
        (
            "POST",
            "/api/v1/tokens",
            r#"{"properties":{"role":"root"}}"#,
            JSON,
            400,
        ),
        (
            "POST",
            "/api/v1/tokens",
            r#"{"properties":{"role":"viewer","expiresInDays":0}}"#,
            JSON,
            400,
        ),
        (
            "POST",
            "/api/v1/tokens",
            r#"{"properties":{"role":"viewer","fleet":"Not A Name"}}"#,
            JSON,
            400,
        ),
        (
            "PUT",
            "/api/v1/users/bob",
            r#"{"properties":{"roles":[]}}"#,
            JSON,
            400,
        ),
        (
            "PUT",
            "/api/v1/users/bob",
            r#"{"properties":{"password":"short","roles":[]}}"#,
            JSON,
            400,
        ),
        (
            "PUT",
            "/api/v1/users/Bob!",
            r#"{"properties":{"password":"long-enough-pass","roles":[]}}"#,
            JSON,
            400,
        ),
    ];
    for (method, uri, body, content_type, status) in cases {
        let reply = s
            .send_with(
                method,
                uri,
                Some(body),
                content_type,
                &[("authorization", &admin())],
            )
            .await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {uri} {body}: {}",
            reply.body
        );
        assert!(
            !reply.code().is_empty(),
            "{method} {uri} {body}: {}",
            reply.body
        );
    }
    let tokens = as_(&s, &admin(), "GET", "/api/v1/tokens", None).await.body;
    assert_eq!(tokens["value"], json!([]));
    let users = as_(&s, &admin(), "GET", "/api/v1/users", None).await.body;
    assert_eq!(users["value"].as_array().unwrap().len(), 1, "only admin");
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deleted() {
    let s = common::start_secured("sqlite::memory:", false).await;
    let demote = as_(
        &s,
        &admin(),
        "PUT",
        "/api/v1/users/admin",
        Some(json!({"properties": {"roles": [{"role": "viewer"}]}})),
    )
    .await;
    assert_eq!(demote.status, StatusCode::CONFLICT);
    assert_eq!(demote.code(), "LastAdmin");
    let delete = as_(&s, &admin(), "DELETE", "/api/v1/users/admin", None).await;
    assert_eq!(delete.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn auth_none_serves_only_on_loopback() {
    let mut args = common::args("sqlite::memory:", false);
    args.addr = "0.0.0.0:3000".parse().unwrap();
    let refused = server::build(&args, None).await;
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("loopback"), "{message}");
}

/// `drydock <args>` against `url` with exactly the credential variables given.
fn cli(url: &str, env: &[(&str, &str)], args: &[&str]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"));
    command.args(args).env("DRYDOCK_SERVER", url);
    for name in ["DRYDOCK_TOKEN", "DRYDOCK_USER", "DRYDOCK_PASSWORD"] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied()).output().unwrap()
}

#[test]
fn the_cli_creates_a_token_with_a_password_then_works_with_the_token() {
    let port = common::free_port();
    let db = common::temp_db();
    let _server = common::spawn_serve(
        port,
        &[
            "--auth",
            "builtin",
            "--admin-password",
            ADMIN_PASSWORD,
            "--demo",
            "--database-url",
            &db,
        ],
    );
    let url = format!("http://127.0.0.1:{port}");
    let list = ["updaterun", "list", "-f", "demo"];
    let anonymous = cli(&url, &[], &list);
    assert!(!anonymous.status.success());
    assert!(String::from_utf8_lossy(&anonymous.stderr).contains("Unauthenticated"));

    let admin = [
        ("DRYDOCK_USER", "admin"),
        ("DRYDOCK_PASSWORD", ADMIN_PASSWORD),
    ];
    let created = cli(
        &url,
        &admin,
        &["token", "create", "--role", "viewer", "-f", "demo"],
    );
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = created["properties"]["token"].as_str().unwrap();
    let name = created["name"].as_str().unwrap();

    let with_token = cli(&url, &[("DRYDOCK_TOKEN", token)], &list);
    assert!(
        with_token.status.success(),
        "{}",
        String::from_utf8_lossy(&with_token.stderr)
    );
    let listed = cli(&url, &admin, &["token", "list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(name));

    let revoked = cli(&url, &admin, &["token", "revoke", "-n", name]);
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let refused = cli(&url, &[("DRYDOCK_TOKEN", token)], &list);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("TokenExpired"));
}

#[tokio::test]
async fn users_change_their_own_password_proving_the_current_one() {
    let s = common::start_secured("sqlite::memory:", false).await;
    add_user(&s, "vera", json!([{"role": "viewer"}])).await;
    let cookie = cookie_of(&sign_in(&s, "vera", "vera-password-1").await);
    let change = |current: &str, new: &str| {
        json!({"current_password": current, "new_password": new}).to_string()
    };
    let send = |body: String, auth: (&'static str, String)| {
        let s = &s;
        async move {
            s.send_with(
                "POST",
                "/auth/password",
                Some(&body),
                JSON,
                &[(auth.0, &auth.1), SAME_ORIGIN],
            )
            .await
        }
    };
    let session = || ("cookie", cookie.clone());
    for (current, new, status, code) in [
        (
            "not-it",
            "a-new-password-2",
            StatusCode::UNAUTHORIZED,
            "InvalidCredentials",
        ),
        (
            "vera-password-1",
            "short",
            StatusCode::BAD_REQUEST,
            "InvalidPassword",
        ),
    ] {
        let refused = send(change(current, new), session()).await;
        assert_eq!((refused.status, refused.code()), (status, code));
    }
    let changed = send(change("vera-password-1", "a-new-password-2"), session()).await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.body);
    assert_eq!(
        with_cookie(&s, &cookie, "GET", "/api/v1/fleets")
            .await
            .status,
        StatusCode::UNAUTHORIZED,
        "this session ended too"
    );
    assert_eq!(
        sign_in(&s, "vera", "a-new-password-2").await.status,
        StatusCode::OK
    );

    // A token cannot change its owner's password; nobody can without signing in.
    let token = as_(
        &s,
        &admin(),
        "POST",
        "/api/v1/tokens",
        Some(json!({"properties": {"role": "viewer"}})),
    )
    .await;
    let bearer = format!(
        "Bearer {}",
        token.body["properties"]["token"].as_str().unwrap()
    );
    let by_token = send(
        change(ADMIN_PASSWORD, "another-password-3"),
        ("authorization", bearer),
    )
    .await;
    assert_eq!(by_token.code(), "PasswordNeedsUser");
    let anonymous = s
        .send(
            "POST",
            "/auth/password",
            Some(&change("x", "another-password-3")),
            JSON,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);

    // The account page's form is sent to sign in again.
    // A form's post is a navigation: it must carry the session's CSRF token as well.
    let signed_in = sign_in(&s, "vera", "a-new-password-2").await;
    let (cookie, csrf) = (cookie_of(&signed_in), csrf_of(&signed_in));
    let form = "current_password=a-new-password-2&new_password=a-third-password-3";
    let navigation = [
        ("cookie", cookie.as_str()),
        SAME_ORIGIN,
        ("sec-fetch-mode", "navigate"),
    ];
    let post_form = |body: String| {
        let s = &s;
        async move {
            s.send_with("POST", "/auth/password", Some(&body), FORM, &navigation)
                .await
        }
    };
    let without = post_form(form.to_owned()).await;
    assert_eq!(
        (without.status, without.code()),
        (StatusCode::FORBIDDEN, "CsrfTokenMissing")
    );
    let forged = post_form(format!("{form}&csrf_token=guessed")).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let by_form = post_form(format!("{form}&csrf_token={csrf}")).await;
    assert_eq!(by_form.status, StatusCode::SEE_OTHER, "{}", by_form.body);
    assert_eq!(by_form.headers["location"], "/login?passwordChanged=true");
}

#[tokio::test]
async fn the_account_page_makes_lists_and_revokes_a_users_tokens() {
    let s = common::start_secured("sqlite::memory:", true).await;
    add_user(&s, "otto", json!([{"role": "operator", "fleet": "demo"}])).await;
    let cookie = cookie_of(&sign_in(&s, "otto", "otto-password-1").await);
    let form = |body: &str| {
        let s = &s;
        let (body, cookie) = (body.to_owned(), cookie.clone());
        async move {
            s.send_with(
                "POST",
                "/fn/create_token",
                Some(&body),
                FORM,
                &[("cookie", &cookie), SAME_ORIGIN],
            )
            .await
        }
    };
    let too_much = form("role=operator&fleet=&expires_in_days=&description=").await;
    assert_eq!(
        too_much.status,
        StatusCode::FORBIDDEN,
        "operator of demo only"
    );
    let bad_days = form("role=viewer&fleet=demo&expires_in_days=soon&description=").await;
    assert_eq!(bad_days.body["code"], "InvalidExpiry");
    let made = form("role=operator&fleet=demo&expires_in_days=7&description=ci").await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let id = made.body["token"]["id"].as_str().unwrap().to_owned();
    let secret = made.body["secret"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {secret}");
    assert_eq!(
        as_(&s, &bearer, "GET", "/api/v1/fleets/demo", None)
            .await
            .status,
        StatusCode::OK
    );

    let listed = with_cookie(&s, &cookie, "GET", "/fn/list_tokens")
        .await
        .body;
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["state"], "Active");
    assert!(!listed.to_string().contains(&secret));
    let revoked = s
        .send_with(
            "POST",
            "/fn/revoke_token",
            Some(&format!("id={id}")),
            FORM,
            &[("cookie", &cookie), SAME_ORIGIN],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(
        as_(&s, &bearer, "GET", "/api/v1/fleets/demo", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let listed = with_cookie(&s, &cookie, "GET", "/fn/list_tokens")
        .await
        .body;
    assert_eq!(listed[0]["state"], "Revoked");
}

#[tokio::test]
async fn cookie_writes_no_browser_vouches_for_and_form_posts_need_the_sessions_csrf_token() {
    let s = common::start_secured("sqlite::memory:", false).await;
    let signed_in = sign_in(&s, "admin", ADMIN_PASSWORD).await;
    let (cookie, csrf) = (cookie_of(&signed_in), csrf_of(&signed_in));
    let other = csrf_of(&sign_in(&s, "admin", ADMIN_PASSWORD).await);
    assert_ne!(csrf, other, "each session has its own token");
    let put = |token: Option<&str>| {
        let (s, cookie) = (&s, cookie.clone());
        let token = token.map(str::to_owned);
        async move {
            let mut headers = vec![("cookie", cookie.as_str())];
            if let Some(token) = &token {
                headers.push(("x-csrf-token", token.as_str()));
            }
            s.send_with("PUT", "/api/v1/fleets/csrf", Some("{}"), JSON, &headers)
                .await
        }
    };
    // No Origin, no Sec-Fetch-Site: an old browser, or a copied cookie.
    let bare = put(None).await;
    assert_eq!(
        (bare.status, bare.code()),
        (StatusCode::FORBIDDEN, "CsrfTokenMissing")
    );
    let foreign = put(Some(&other)).await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert_eq!(
        as_(&s, &admin(), "GET", "/api/v1/fleets/csrf", None)
            .await
            .status,
        StatusCode::NOT_FOUND,
        "nothing was changed"
    );
    assert_eq!(put(Some(&csrf)).await.status, StatusCode::CREATED);

    // A server function's form posted before the page is hydrated carries the field too.
    let form = format!("role=viewer&fleet=&expires_in_days=&description=form&csrf_token={csrf}");
    let made = s
        .send_with(
            "POST",
            "/fn/create_token",
            Some(&form),
            FORM,
            &[
                ("cookie", &cookie),
                SAME_ORIGIN,
                ("sec-fetch-mode", "navigate"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);

    // Pages write the token into their forms; a session without the cookie gets it.
    let page = with_cookie(&s, &cookie, "GET", "/account").await;
    let html = page.body.as_str().unwrap_or_default();
    assert!(
        html.contains(&format!(r#"name="csrf_token" value="{csrf}""#)),
        "{html}"
    );
    let refreshed = with_cookie(&s, &cookie, "GET", "/api/v1/me").await;
    assert!(
        refreshed.headers["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with(&format!("drydock_csrf={csrf};"))
    );
}

#[tokio::test]
async fn the_users_page_adds_users_gives_and_takes_roles_and_keeps_an_admin() {
    let s = common::start_secured("sqlite::memory:", false).await;
    let post = |path: &'static str, body: String, content_type: &'static str| {
        let s = &s;
        async move {
            s.send_with(
                "POST",
                path,
                Some(&body),
                content_type,
                &[("authorization", &admin())],
            )
            .await
        }
    };
    let added = post(
        "/fn/add_user",
        "name=vera&password=vera-password-1&role=operator&fleet=demo".into(),
        FORM,
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.body);
    assert_eq!(
        added.body["roles"],
        json!([{"role": "operator", "fleet": "demo"}])
    );
    let again = post(
        "/fn/add_user",
        "name=vera&password=other-password-1&role=admin&fleet=".into(),
        FORM,
    )
    .await;
    assert_eq!(
        again.body["code"], "UserAlreadyExists",
        "adding never replaces"
    );
    let short = post(
        "/fn/add_user",
        "name=walt&password=short&role=viewer&fleet=".into(),
        FORM,
    )
    .await;
    assert_eq!(short.body["code"], "InvalidPassword");

    let roles = json!({"name": "vera", "roles": [{"role": "viewer"}, {"role": "operator", "fleet": "demo"}]});
    let given = post("/fn/set_user_roles", roles.to_string(), JSON).await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    assert_eq!(given.body["passwordSet"], true);
    assert_eq!(
        sign_in(&s, "vera", "vera-password-1").await.status,
        StatusCode::OK,
        "her password stayed"
    );
    let last_admin = post(
        "/fn/set_user_roles",
        json!({"name": "admin", "roles": []}).to_string(),
        JSON,
    )
    .await;
    assert_eq!(last_admin.body["code"], "LastAdmin");

    let listed = s
        .send_with(
            "GET",
            "/fn/list_users",
            None,
            JSON,
            &[("authorization", &admin())],
        )
        .await;
    let names: Vec<&str> = listed
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "vera"]);
    assert_eq!(
        post("/fn/delete_user", "name=vera".into(), FORM)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        post("/fn/delete_user", "name=vera".into(), FORM).await.body["code"],
        "UserNotFound"
    );
}
