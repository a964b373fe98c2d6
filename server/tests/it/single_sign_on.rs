//! Single sign-on (OpenID Connect, authorization code + PKCE) against a fake identity provider:
//! the whole round trip a browser makes, what the session can do afterwards, and every way a
//! forged, stale or misdirected answer is refused.

use crate::common::fake_idp::{CLIENT_ID, CLIENT_SECRET, FakeIdp, Tamper};
use crate::common::{self, ADMIN_PASSWORD, Reply, TestServer, basic};
use axum::http::StatusCode;
use serde_json::{Value, json};

const JSON: &str = "application/json";

fn jane(groups: Value) -> Value {
    json!({"sub": "00u-jane", "preferred_username": "Jane.Doe", "groups": groups})
}

async fn server_for(idp: &FakeIdp) -> TestServer {
    let dir = common::temp_dir("oidc");
    let secret = dir.join("client-secret");
    std::fs::write(&secret, format!("{CLIENT_SECRET}\n")).unwrap();
    let config = dir.join("drydock.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[oidc]
issuer = "{issuer}"
client_id = "{CLIENT_ID}"
client_secret = {{ file = "{secret}" }}
redirect_url = "http://localhost:3000/auth/oidc/callback"
display_name = "Fake IdP"

[[oidc.roles]]
claim_value = "platform-admins"
role = "admin"

[[oidc.roles]]
claim_value = "demo-operators"
role = "operator"
fleet = "demo"
"#,
            issuer = idp.issuer,
            secret = secret.display()
        ),
    )
    .unwrap();
    let mut args = common::args("sqlite::memory:", true);
    args.auth.mode = server::auth::AuthMode::Builtin;
    args.auth.admin_password = Some(ADMIN_PASSWORD.into());
    args.config = Some(config);
    common::start_built(&args).await.keeping(dir)
}

/// Every `Set-Cookie` of a reply, as `name=value`.
fn cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .collect()
}

fn location(reply: &Reply) -> String {
    reply.headers["location"].to_str().unwrap().to_owned()
}

/// The provider's answer to a browser sent to it: the callback path and query it redirects to.
async fn at_provider(url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let reply = client.get(url).send().await.unwrap();
    assert_eq!(reply.status(), reqwest::StatusCode::FOUND);
    let back = reply.headers()["location"].to_str().unwrap();
    back.strip_prefix("http://localhost:3000")
        .unwrap()
        .to_owned()
}

/// Begins a sign-in as a browser does: where the callback goes and the state cookie.
async fn begin(s: &TestServer) -> (String, String) {
    let reply = s
        .send("GET", "/auth/oidc/login?next=/fleets/demo", None, JSON)
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let state_cookie = cookies(&reply)
        .into_iter()
        .find(|c| c.starts_with("drydock_sso="))
        .unwrap();
    (at_provider(&location(&reply)).await, state_cookie)
}

async fn back_with(s: &TestServer, callback: &str, cookie: &str) -> Reply {
    s.send_with("GET", callback, None, JSON, &[("cookie", cookie)])
        .await
}

/// The whole round trip; the callback's reply.
async fn sign_in(s: &TestServer) -> Reply {
    let (callback, state_cookie) = begin(s).await;
    back_with(s, &callback, &state_cookie).await
}

fn session_of(reply: &Reply) -> Option<String> {
    cookies(reply)
        .into_iter()
        .find(|c| c.starts_with("drydock_session=") && c.len() > "drydock_session=".len())
}

#[tokio::test]
async fn a_person_signs_in_through_the_identity_provider_with_the_roles_their_groups_give() {
    let idp = FakeIdp::start(jane(json!(["demo-operators", "staff"]))).await;
    let s = server_for(&idp).await;
    let options = s.get("/fn/sign_in_options").await;
    assert_eq!(options.body, json!("Fake IdP"));

    let (callback, state_cookie) = begin(&s).await;
    assert!(
        callback.starts_with("/auth/oidc/callback?code="),
        "{callback}"
    );
    let reply = back_with(&s, &callback, &state_cookie).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(location(&reply), "/fleets/demo");
    assert!(
        cookies(&reply).contains(&"drydock_sso=".to_owned()),
        "the state cookie is cleared"
    );
    let session = session_of(&reply).expect("a session cookie");

    let me = back_with(&s, "/api/v1/me", &session).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["name"], "jane-doe");
    assert_eq!(
        me.body["roles"],
        json!([{"role": "operator", "fleet": "demo"}])
    );
    let fleets = back_with(&s, "/api/v1/fleets", &session).await;
    assert_eq!(fleets.status, StatusCode::OK);
    let strategy = s
        .send_with(
            "PUT",
            "/api/v1/fleets/demo/updateStrategies/s",
            Some(r#"{"properties": {"strategy": {"stages": []}}}"#),
            JSON,
            &[("cookie", &session), ("sec-fetch-site", "same-origin")],
        )
        .await;
    assert_eq!(
        strategy.status,
        StatusCode::FORBIDDEN,
        "operators do not edit strategies"
    );

    // Her groups change at the provider: the next sign-in brings the new roles.
    idp.set_person(jane(json!(["platform-admins"])));
    let again = session_of(&sign_in(&s).await).unwrap();
    let me = back_with(&s, "/api/v1/me", &again).await;
    assert_eq!(me.body["roles"], json!([{"role": "admin"}]));
    assert!(idp.idp.lock().unwrap().refusals.is_empty());

    let audit = s
        .send_with(
            "GET",
            "/api/v1/audit?actor=jane-doe",
            None,
            JSON,
            &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        )
        .await;
    let sign_ins: Vec<&Value> = audit.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "GET /auth/oidc/callback")
        .collect();
    assert_eq!(sign_ins.len(), 2, "{}", audit.body);
    assert!(sign_ins.iter().all(|e| e["outcome"] == "Succeeded"));
}

#[tokio::test]
async fn forged_expired_and_misdirected_id_tokens_are_refused() {
    let idp = FakeIdp::start(jane(json!(["platform-admins"]))).await;
    let s = server_for(&idp).await;
    for tamper in [
        Tamper::Expired,
        Tamper::ForeignKey,
        Tamper::EditedPayload,
        Tamper::WrongAudience,
        Tamper::WrongIssuer,
        Tamper::WrongNonce,
    ] {
        idp.set_tamper(tamper);
        let reply = sign_in(&s).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{tamper:?}");
        assert!(
            location(&reply).starts_with("/login?error=SsoTokenRefused"),
            "{tamper:?}: {}",
            location(&reply)
        );
        assert_eq!(session_of(&reply), None, "{tamper:?}");
    }
    idp.set_tamper(Tamper::None);
    assert!(session_of(&sign_in(&s).await).is_some());
    let users = s
        .send_with(
            "GET",
            "/api/v1/users",
            None,
            JSON,
            &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        )
        .await;
    let names: Vec<&str> = users.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["admin", "jane-doe"],
        "refused sign-ins made no user"
    );
    let jane = &users.body["value"][1]["properties"];
    assert_eq!(jane["identityProvider"], json!(idp.issuer));
    assert_eq!(jane["passwordSet"], false);
}

#[tokio::test]
async fn a_sign_in_not_begun_in_this_browser_or_used_twice_is_void() {
    let idp = FakeIdp::start(jane(json!(["platform-admins"]))).await;
    let s = server_for(&idp).await;
    let (callback, state_cookie) = begin(&s).await;
    // Another browser (an attacker's link) brings the code without the state cookie.
    let stolen = back_with(&s, &callback, "drydock_sso=someone-elses").await;
    assert!(location(&stolen).starts_with("/login?error=SsoSignInVoid"));
    assert_eq!(session_of(&stolen), None);

    let (callback, state_cookie_2) = begin(&s).await;
    let first = back_with(&s, &callback, &state_cookie_2).await;
    assert!(session_of(&first).is_some());
    let replayed = back_with(&s, &callback, &state_cookie_2).await;
    assert!(location(&replayed).starts_with("/login?error=SsoSignInVoid"));
    assert_eq!(session_of(&replayed), None);
    drop(state_cookie);

    let denied = back_with(
        &s,
        "/auth/oidc/callback?error=access_denied&state=x",
        "drydock_sso=x",
    )
    .await;
    assert!(location(&denied).starts_with("/login?error=SsoDenied"));
}

#[tokio::test]
async fn people_without_a_mapped_group_and_names_of_built_in_users_are_refused() {
    let idp = FakeIdp::start(jane(json!(["staff"]))).await;
    let s = server_for(&idp).await;
    let reply = sign_in(&s).await;
    assert!(
        location(&reply).starts_with("/login?error=SsoNoRole"),
        "{}",
        location(&reply)
    );
    assert_eq!(session_of(&reply), None);

    // Someone at the provider calls themselves admin: the built-in admin is not theirs.
    idp.set_person(json!({"sub": "00u-mallory", "preferred_username": "admin",
                          "groups": ["platform-admins"]}));
    let reply = sign_in(&s).await;
    assert!(
        location(&reply).starts_with("/login?error=SsoNameTaken"),
        "{}",
        location(&reply)
    );
    assert_eq!(session_of(&reply), None);
}

#[tokio::test]
async fn rotated_keys_are_fetched_again() {
    let idp = FakeIdp::start(jane(json!(["platform-admins"]))).await;
    let s = server_for(&idp).await;
    assert!(session_of(&sign_in(&s).await).is_some());
    idp.idp.lock().unwrap().rotate_key("key-2");
    // Keys are fetched again at most every few seconds.
    tokio::time::sleep(std::time::Duration::from_millis(5_100)).await;
    assert!(session_of(&sign_in(&s).await).is_some());
    assert_eq!(idp.idp.lock().unwrap().key_fetches, 2);
}

#[tokio::test]
async fn without_an_identity_provider_there_is_no_single_sign_on() {
    let s = common::start_secured("sqlite::memory:", false).await;
    assert_eq!(s.get("/fn/sign_in_options").await.body, Value::Null);
    let reply = s.get("/auth/oidc/login").await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "SingleSignOnNotConfigured");
}

#[tokio::test]
async fn sign_ins_in_flight_are_bounded_and_stale_ones_make_room() {
    use server::store::access::{AccessStore, SsoLogin};
    let url = common::in_backend("sqlite::memory:");
    let store = server::store::SqlStore::connect(&url).await.unwrap();
    let login = |n: u32, at: i64| SsoLogin {
        state_hash: format!("state-{n}"),
        nonce: "n".into(),
        verifier: "v".into(),
        next: "/".into(),
        created_at: app::model::time::Timestamp(at),
    };
    let stale_before = app::model::time::Timestamp(1_000);
    for n in 0..2 {
        assert!(
            store
                .begin_sso_login(&login(n, 5_000), stale_before, 2)
                .await
                .unwrap()
        );
    }
    assert!(
        !store
            .begin_sso_login(&login(2, 5_000), stale_before, 2)
            .await
            .unwrap(),
        "a third is refused while two are in flight"
    );
    // Later, the first two are stale: they make room.
    let later = app::model::time::Timestamp(10_000);
    assert!(
        store
            .begin_sso_login(&login(3, 20_000), later, 2)
            .await
            .unwrap()
    );
    assert!(store.take_sso_login("state-0").await.unwrap().is_none());
    assert!(store.take_sso_login("state-3").await.unwrap().is_some());
}
