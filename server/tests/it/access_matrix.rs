//! Every route × every kind of caller → the answer it must get. The routes come from the
//! router's own list (`rest::routes`, and Leptos's registry of server functions), their methods
//! are found by asking, and a route this file has no rule for fails the test: a new route
//! cannot be added without deciding who may call it.

use crate::common::{self, ADMIN_PASSWORD, TestServer, basic};
use app::model::access::Role;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// Who a route is for.
#[derive(Debug, Clone, Copy)]
enum Needs {
    /// Anyone at all, signed in or not.
    Anyone,
    /// Anyone signed in (what they get may still depend on who they are).
    SignedIn,
    /// This role on the fleet in the path (`demo`).
    OnFleet(Role),
    /// This role on every fleet.
    Everywhere(Role),
}

/// The rule for `method path`; `None` means nobody decided, which fails the test.
fn rule(method: &str, path: &str) -> Option<Needs> {
    use Needs::*;
    use Role::*;
    let fleet_route = path.starts_with("/api/v1/fleets/{fleet}");
    Some(match (method, path) {
        ("GET", "/api/v1/fleets" | "/api/v1/me" | "/api/v1/tokens" | "/api/v1/audit") => SignedIn,
        ("POST", "/api/v1/tokens") | ("DELETE", "/api/v1/tokens/{id}") => SignedIn,
        ("GET" | "POST", "/api/v1/fleets/{fleet}/updateRuns/{run}/plan") => OnFleet(Viewer),
        ("POST", p) if p.ends_with("/start") || p.ends_with("/stop") || p.ends_with("/skip") => {
            OnFleet(Operator)
        }
        ("PATCH", "/api/v1/fleets/{fleet}/gates/{gate}") => OnFleet(Operator),
        ("POST", p) if p.ends_with("/generateUpdateRun") || p.ends_with("/createCatchUpRun") => {
            OnFleet(Operator)
        }
        ("PUT" | "DELETE", "/api/v1/fleets/{fleet}/updateRuns/{run}") => OnFleet(Operator),
        ("GET", _) if fleet_route => OnFleet(Viewer),
        ("PUT" | "DELETE", _) if fleet_route => OnFleet(Admin),
        ("GET", p) if p.starts_with("/api/v1/users") => Everywhere(Admin),
        ("PUT" | "DELETE", p) if p.starts_with("/api/v1/users/") => Everywhere(Admin),
        ("GET", p)
            if p.starts_with("/api/v1/webhooks")
                || p.starts_with("/api/v1/providers")
                || p.starts_with("/api/v1/simulator") =>
        {
            Everywhere(Viewer)
        }
        ("PUT" | "DELETE", p)
            if p.starts_with("/api/v1/webhooks/") || p.starts_with("/api/v1/simulator/") =>
        {
            Everywhere(Admin)
        }
        ("POST", "/api/v1/simulator/clusters/{name}/drift") => Everywhere(Admin),
        ("GET", "/api/v1/openapi.json") => Anyone,
        // Server functions.
        (_, "/fn/whoami" | "/fn/sign_in_options") => Anyone,
        (_, "/fn/list_users" | "/fn/add_user" | "/fn/set_user_roles" | "/fn/delete_user") => {
            Everywhere(Admin)
        }
        (
            _,
            "/fn/list_fleets" | "/fn/fleet_time" | "/fn/audit_log" | "/fn/list_tokens"
            | "/fn/create_token" | "/fn/revoke_token",
        ) => SignedIn,
        (
            _,
            "/fn/fleet_overview"
            | "/fn/fleet_snapshot"
            | "/fn/list_runs"
            | "/fn/get_run"
            | "/fn/run_view"
            | "/fn/run_outline"
            | "/fn/run_members"
            | "/fn/run_progress"
            | "/fn/run_plan"
            | "/fn/list_strategies"
            | "/fn/list_profiles"
            | "/fn/placements_overview"
            | "/fn/snapshot_diff"
            | "/fn/placement_matrix"
            | "/fn/left_behind"
            | "/fn/waiting_gates",
        ) => OnFleet(Viewer),
        (
            _,
            "/fn/create_run"
            | "/fn/start_run"
            | "/fn/stop_run"
            | "/fn/skip"
            | "/fn/delete_run"
            | "/fn/approve_gate"
            | "/fn/generate_run"
            | "/fn/create_catch_up_run",
        ) => OnFleet(Operator),
        (
            _,
            "/fn/join_member"
            | "/fn/assign_group"
            | "/fn/remove_member"
            | "/fn/save_strategy"
            | "/fn/delete_strategy"
            | "/fn/save_profile"
            | "/fn/save_placement"
            | "/fn/save_override"
            | "/fn/delete_override"
            | "/fn/delete_profile",
        ) => OnFleet(Admin),
        _ => return None,
    })
}

/// The callers every route is tried with.
struct Caller {
    label: &'static str,
    authorization: Option<String>,
    /// The role held on `demo` and the role held on every fleet.
    on_demo: Option<Role>,
    everywhere: Option<Role>,
}

impl Caller {
    fn allowed(&self, needs: Needs) -> bool {
        match needs {
            Needs::Anyone => true,
            Needs::SignedIn => self.authorization.is_some(),
            Needs::OnFleet(role) => self.on_demo.is_some_and(|held| held >= role),
            Needs::Everywhere(role) => self.everywhere.is_some_and(|held| held >= role),
        }
    }
}

/// A request that gets past parsing, so the answer is about who asks, not what was sent.
pub fn concrete(method: &str, path: &str) -> (String, Option<String>, &'static str) {
    let uri = path
        .replace("{fleet}", "demo")
        .replace("{member}", "nobody")
        // A live event stream never ends: ask for one of a run that is not there.
        .replace(
            "{run}",
            if path.ends_with("/events") {
                "gone"
            } else {
                "r"
            },
        )
        .replace("{gate}", "r.missing.before")
        .replace("{name}", "someone")
        .replace("{index}", "1")
        .replace("{id}", "tok-missing");
    let json = "application/json";
    let body = |value: Value| Some(value.to_string());
    let (body, content_type) = match (method, path) {
        // Server functions: a form with every argument any of them reads.
        ("POST", p) if p.starts_with("/fn/") => server_fn_body(p),
        ("PUT", "/api/v1/fleets/{fleet}") => (body(json!({})), json),
        ("PUT", p) if p.ends_with("/members/{member}") => (
            body(json!({"properties": {"clusterResourceId": "sim:nowhere"}})),
            json,
        ),
        ("PUT", p) if p.ends_with("/updateRuns/{run}") => (
            body(
                json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
            ),
            json,
        ),
        ("PUT", p) if p.contains("/autoUpgradeProfiles/") => {
            (body(json!({"properties": {"channel": "Rapid"}})), json)
        }
        ("PUT", p) if p.contains("/resourceOverrides/") => (
            body(
                json!({"properties": {"placement": "web", "policy": {"overrideRules": [{"overrideType": "Delete"}]}}}),
            ),
            json,
        ),
        ("PUT", p) if p.contains("/placements/") => {
            (body(json!({"properties": {"resources": ["web"]}})), json)
        }
        ("PUT", p) if p.contains("/resources/") => (
            body(
                json!({"properties": {"manifests": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}]}}),
            ),
            json,
        ),
        ("PUT", p) if p.contains("/updateStrategies/") => (
            body(
                json!({"properties": {"strategy": {"stages": [{"name": "s", "groups": [{"name": "g"}]}]}}}),
            ),
            json,
        ),
        ("PATCH", _) => (body(json!({"properties": {"state": "Completed"}})), json),
        ("POST", p) if p.ends_with("/skip") => (body(json!({"targets": []})), json),
        ("POST", "/api/v1/tokens") => (
            body(json!({"properties": {"role": "viewer", "fleet": "demo"}})),
            json,
        ),
        ("PUT", "/api/v1/users/{name}") => (
            body(json!({"properties": {"password": "a-long-password-1", "roles": []}})),
            json,
        ),
        ("PUT", p) if p.starts_with("/api/v1/webhooks/") => (
            body(json!({"properties": {"url": "http://127.0.0.1:9/hook"}})),
            json,
        ),
        ("PUT", "/api/v1/simulator/catalog") => (
            body(json!({"kubernetesVersions": ["1.30.5"], "nodeImages": {}})),
            json,
        ),
        ("POST", p) if p.ends_with("/drift") => {
            (body(json!({"owner": "demo/nothing", "objects": []})), json)
        }
        ("PUT", p) if p.ends_with("/resourceFaults") => {
            (body(json!({"applyFailNext": false})), json)
        }
        ("PUT", p) if p.starts_with("/api/v1/simulator/clusters/") => (
            body(json!({"location": "eastus", "kubernetesVersion": "1.30.5", "nodePools": []})),
            json,
        ),
        _ => (None, json),
    };
    let uri = match (method, path.starts_with("/fn/")) {
        ("GET", true) => {
            format!("{uri}?fleet=demo&run=r&group=g&resource=web&index=1&offset=0&limit=10")
        }
        _ => uri,
    };
    (uri, body, content_type)
}

fn server_fn_body(path: &str) -> (Option<String>, &'static str) {
    let json = |value: Value| (Some(value.to_string()), "application/json");
    match path {
        "/fn/create_run" => json(json!({"fleet": "demo", "run": "x", "request":
            {"strategy": {"kind": "oneByOne"}, "update": {"upgrade": {"type": "NodeImageOnly"}}}})),
        "/fn/skip" => json(json!({"fleet": "demo", "run": "r", "targets": []})),
        "/fn/assign_group" => json(json!({"fleet": "demo", "members": ["nobody"], "group": ""})),
        "/fn/approve_gate" => json(
            json!({"fleet": "demo", "gate": "r.missing.before", "comment": null, "confirm": false}),
        ),
        "/fn/save_strategy" => json(
            json!({"fleet": "demo", "name": "s", "replace": true, "strategy":
            {"stages": [{"name": "s", "groups": [{"name": "g"}]}]}}),
        ),
        "/fn/save_placement" => {
            json(json!({"fleet": "demo", "name": "p", "placement": {"resources": ["web"]}}))
        }
        "/fn/save_profile" => {
            json(json!({"fleet": "demo", "name": "p", "profile": {"channel": "Rapid"}}))
        }
        "/fn/join_member" => (
            Some("fleet=demo&name=nobody&cluster_resource_id=sim%3Anowhere&group=".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/remove_member" => (
            Some("fleet=demo&name=nobody&force=false".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/create_token" => (
            Some("role=viewer&fleet=demo&expires_in_days=&description=".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/revoke_token" => (
            Some("id=tok-missing".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/set_user_roles" => json(json!({"name": "nobody", "roles": []})),
        "/fn/add_user" => (
            Some("name=matrix&password=matrix-password-1&role=viewer&fleet=".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/delete_user" => (
            Some("name=nobody".into()),
            "application/x-www-form-urlencoded",
        ),
        "/fn/save_override" => json(
            json!({"fleet": "demo", "name": "o", "spec": {"placement": "nowhere",
            "policy": {"overrideRules": [{"overrideType": "Delete"}]}}}),
        ),
        "/fn/delete_strategy"
        | "/fn/delete_profile"
        | "/fn/generate_run"
        | "/fn/delete_override" => (
            Some("fleet=demo&name=nobody".into()),
            "application/x-www-form-urlencoded",
        ),
        _ => (
            Some("fleet=demo&run=r".into()),
            "application/x-www-form-urlencoded",
        ),
    }
}

async fn user(s: &TestServer, name: &str, roles: Value) {
    let reply = s
        .send_with(
            "PUT",
            &format!("/api/v1/users/{name}"),
            Some(
                &json!({"properties": {"password": format!("{name}-password-1"), "roles": roles}})
                    .to_string(),
            ),
            "application/json",
            &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
}

async fn callers(s: &TestServer) -> Vec<Caller> {
    user(s, "vera", json!([{"role": "viewer"}])).await;
    user(s, "otto", json!([{"role": "operator"}])).await;
    user(s, "fiona", json!([{"role": "admin", "fleet": "other"}])).await;
    // Fiona's token, for another fleet than the one the routes name.
    let token = s
        .send_with(
            "POST",
            "/api/v1/tokens",
            Some(&json!({"properties": {"role": "admin", "fleet": "other"}}).to_string()),
            "application/json",
            &[("authorization", &basic("fiona", "fiona-password-1"))],
        )
        .await;
    assert_eq!(token.status, StatusCode::CREATED, "{}", token.body);
    let secret = token.body["properties"]["token"].as_str().unwrap();
    let who = |label, authorization: Option<String>, on_demo, everywhere| Caller {
        label,
        authorization,
        on_demo,
        everywhere,
    };
    vec![
        who("anonymous", None, None, None),
        who(
            "token for another fleet",
            Some(format!("Bearer {secret}")),
            None,
            None,
        ),
        who(
            "viewer",
            Some(basic("vera", "vera-password-1")),
            Some(Role::Viewer),
            Some(Role::Viewer),
        ),
        who(
            "operator",
            Some(basic("otto", "otto-password-1")),
            Some(Role::Operator),
            Some(Role::Operator),
        ),
        who(
            "admin",
            Some(basic("admin", ADMIN_PASSWORD)),
            Some(Role::Admin),
            Some(Role::Admin),
        ),
    ]
}

/// Every method each route takes, found by asking (405 means it does not) as a caller who may
/// change nothing the routes name, so asking has no effect.
async fn methods_of(s: &TestServer, path: &str, prober: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let (uri, _, _) = concrete(method, path);
        let reply = s
            .send_with(method, &uri, None, "", &[("authorization", prober)])
            .await;
        if reply.status != StatusCode::METHOD_NOT_ALLOWED {
            found.push(method);
        }
    }
    found
}

#[tokio::test]
async fn every_route_answers_each_caller_as_its_role_allows() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let run = s
        .send_with(
            "PUT",
            "/api/v1/fleets/demo/updateRuns/r",
            Some(r#"{"properties":{"managedClusterUpdate":{"upgrade":{"type":"NodeImageOnly"}}}}"#),
            "application/json",
            &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED);
    let callers = callers(&s).await;
    let prober = callers[1].authorization.clone().unwrap();
    let mut routes: Vec<(String, Vec<&str>)> = Vec::new();
    for route in server::rest::routes() {
        let path = format!("/api/v1{}", route.path);
        let methods = methods_of(&s, &path, &prober).await;
        routes.push((path, methods));
    }
    let demo = s
        .send_with(
            "GET",
            "/api/v1/fleets/demo/updateRuns/r",
            None,
            "",
            &[("authorization", &basic("admin", ADMIN_PASSWORD))],
        )
        .await;
    assert_eq!(
        demo.status,
        StatusCode::OK,
        "asking for methods changed nothing"
    );
    for (path, method) in leptos::server_fn::axum::server_fn_paths() {
        routes.push((path.to_owned(), vec![method.as_str().to_owned().leak()]));
    }
    let mut wrong = Vec::new();
    let mut checked = 0;
    for caller in &callers {
        for (path, methods) in &routes {
            for &method in methods {
                let Some(needs) = rule(method, path) else {
                    wrong.push(format!("{method} {path}: no rule says who may call it"));
                    continue;
                };
                let (uri, body, content_type) = concrete(method, path);
                let mut headers = Vec::new();
                if let Some(auth) = &caller.authorization {
                    headers.push(("authorization", auth.as_str()));
                }
                let reply = s
                    .send_with(method, &uri, body.as_deref(), content_type, &headers)
                    .await;
                checked += 1;
                let expected = match (&caller.authorization, caller.allowed(needs)) {
                    (_, true) => None,
                    (None, _) => Some(StatusCode::UNAUTHORIZED),
                    (Some(_), false) => Some(StatusCode::FORBIDDEN),
                };
                let ok = match expected {
                    Some(status) => reply.status == status,
                    None => !matches!(
                        reply.status,
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                    ),
                };
                if !ok {
                    wrong.push(format!(
                        "{} {method} {uri}: {} (wanted {}) {}",
                        caller.label,
                        reply.status,
                        expected.map_or("not 401/403".into(), |s| s.to_string()),
                        reply.body
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {checked} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        checked > 250,
        "only {checked} requests: routes went missing"
    );
}
