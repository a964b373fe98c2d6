//! The OpenAPI document at `/api/v1/openapi.json`: served to anyone, lists exactly the routes
//! and methods the router has (found by asking it), and what every operation answers fits the
//! schema the document gives for that status.

use crate::access_matrix::concrete;
use crate::common::{self, json_schema};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

async fn document(s: &common::TestServer) -> Value {
    let reply = s
        .send_with("GET", "/api/v1/openapi.json", None, "", &[])
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.body
}

/// Every `$ref` anywhere under `value`.
fn references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::String(r)) = fields.get("$ref") {
                found.push(r.clone());
            }
            fields.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_lists_exactly_the_methods_each_route_answers() {
    let s = common::start_with("sqlite::memory:", false).await;
    let doc = document(&s).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let routes = server::rest::routes();
    assert_eq!(paths.len(), routes.len(), "one path per route");
    for route in &routes {
        let item = paths
            .get(route.path)
            .unwrap_or_else(|| panic!("{} is not in the document", route.path));
        let documented: BTreeSet<String> = item
            .as_object()
            .unwrap()
            .keys()
            .map(|m| m.to_ascii_uppercase())
            .collect();
        let mut answered = BTreeSet::new();
        for method in METHODS {
            // Names no resource has: asking creates or deletes nothing that matters.
            let uri = format!("/api/v1{}", route.path).replace(['{', '}'], "x");
            let reply = s.send_with(method, &uri, None, "", &[]).await;
            if reply.status != StatusCode::METHOD_NOT_ALLOWED {
                answered.insert(method.to_owned());
            }
        }
        assert_eq!(
            documented, answered,
            "{}: documented vs answered",
            route.path
        );
        for (method, op) in item.as_object().unwrap() {
            let declared: Vec<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let in_path: Vec<&str> = server::rest::openapi::path_parameters(route.path).collect();
            assert_eq!(declared, in_path, "{method} {}", route.path);
            assert!(op["operationId"].is_string() && op["summary"].is_string());
        }
    }
    let mut refs = Vec::new();
    references(&doc, &mut refs);
    assert!(refs.len() > 50, "schemas are shared by reference");
    for r in refs {
        assert!(
            json_schema::resolve(&doc, &r).is_some(),
            "{r} does not resolve"
        );
    }
    let ids: BTreeSet<&str> = paths
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .map(|op| op["operationId"].as_str().unwrap())
        .collect();
    let operations: usize = paths.values().map(|i| i.as_object().unwrap().len()).sum();
    assert_eq!(ids.len(), operations, "operation ids are unique");
}

#[tokio::test]
async fn anyone_may_read_the_document_and_its_page() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let doc = document(&s).await;
    let page = s.send_with("GET", "/api/docs", None, "", &[]).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.body.as_str().unwrap();
    for item in doc["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            let id = op["operationId"].as_str().unwrap();
            assert!(
                html.contains(&format!("id=\"{id}\"")),
                "{id} is on the page"
            );
        }
    }
    assert!(html.contains("id=\"schema-RunPropertiesResource\""));
    // Everything else still needs a credential.
    let fleets = s.send_with("GET", "/api/v1/fleets", None, "", &[]).await;
    assert_eq!(fleets.status, StatusCode::UNAUTHORIZED);
}

/// The names the demo fleet (with what the test adds) has, for each path parameter.
fn existing(path: &str) -> String {
    let name = if path.contains("/updateStrategies/") {
        "s"
    } else if path.contains("/autoUpgradeProfiles/") {
        "p"
    } else if path.contains("/resources/") || path.contains("/placements/") {
        "web"
    } else if path.contains("/resourceOverrides/") {
        "eu"
    } else if path.starts_with("/webhooks/") {
        "w"
    } else if path.starts_with("/users/") {
        "ada"
    } else if path.starts_with("/providers/") {
        "sim"
    } else {
        "aks-eastus-1"
    };
    format!("/api/v1{path}")
        .replace("{fleet}", "demo")
        .replace("{member}", "aks-eastus-1")
        .replace("{run}", "r")
        .replace("{gate}", "r.canary.before")
        .replace("{name}", name)
        .replace("{index}", "1")
}

/// The schema the document gives `op`'s answer with `status`; undocumented successes fail.
fn answer_schema(op: &Value, status: StatusCode) -> Option<Value> {
    let documented = &op["responses"][status.as_str()];
    let response = if documented.is_null() {
        assert!(
            !status.is_success(),
            "{} answered {status}, which is not documented",
            op["operationId"]
        );
        &op["responses"]["default"]
    } else {
        documented
    };
    response["content"]["application/json"]
        .get("schema")
        .cloned()
}

async fn fits(
    s: &common::TestServer,
    doc: &Value,
    op: &Value,
    (method, uri): (&str, &str),
    body: Option<String>,
) -> StatusCode {
    let admin = common::basic("admin", common::ADMIN_PASSWORD);
    let reply = s
        .send_with(
            method,
            uri,
            body.as_deref(),
            "application/json",
            &[("authorization", &admin)],
        )
        .await;
    if let Some(schema) = answer_schema(op, reply.status) {
        let broken = json_schema::violations(doc, &schema, &reply.body);
        assert!(
            broken.is_empty(),
            "{method} {uri} answered {} off the document: {broken:#?}\n{}",
            reply.status,
            reply.body
        );
    }
    reply.status
}

#[tokio::test]
async fn every_answer_fits_the_schema_the_document_gives() {
    let s = common::start_secured("sqlite::memory:", true).await;
    let admin = common::basic("admin", common::ADMIN_PASSWORD);
    let doc = document(&s).await;
    let setup = [
        (
            "PUT",
            "/api/v1/fleets/demo/updateRuns/r",
            json!({"properties": {
            "strategy": {"stages": [{"name": "canary", "groups": [{"name": "group-1a"}],
                "beforeGates": [{"type": "Approval", "displayName": "ok?"}]}]},
            "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        ),
        (
            "PUT",
            "/api/v1/fleets/demo/updateStrategies/s",
            json!({"properties": {"strategy": {"stages": [{"name": "s", "groups": [{"name": "group-1a"}]}]}}}),
        ),
        (
            "PUT",
            "/api/v1/fleets/demo/autoUpgradeProfiles/p",
            json!({"properties": {"channel": "Rapid", "updateStrategyId": "s"}}),
        ),
        (
            "PUT",
            "/api/v1/fleets/demo/resources/web",
            json!({"properties": {"yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n"}}),
        ),
        (
            "PUT",
            "/api/v1/fleets/demo/placements/web",
            json!({"properties": {"resources": ["web"], "policy": {"placementType": "PickN", "numberOfClusters": 1}}}),
        ),
        (
            "PUT",
            "/api/v1/fleets/demo/resourceOverrides/eu",
            json!({"properties": {"placement": "web", "policy": {"overrideRules": [{"jsonPatchOverrides": [{"op": "add", "path": "/metadata/labels", "value": {"region": "${MEMBER-CLUSTER-NAME}"}}]}]}}}),
        ),
        (
            "PUT",
            "/api/v1/webhooks/w",
            json!({"properties": {"url": "http://127.0.0.1:9/hook"}}),
        ),
        (
            "PUT",
            "/api/v1/users/ada",
            json!({"properties": {"password": "a-long-password-1",
            "roles": [{"role": "viewer", "fleet": "demo"}]}}),
        ),
        (
            "POST",
            "/api/v1/tokens",
            json!({"properties": {"role": "viewer", "fleet": "demo"}}),
        ),
    ];
    for (method, uri, body) in setup {
        let reply = s
            .send_with(
                method,
                uri,
                Some(&body.to_string()),
                "application/json",
                &[("authorization", &admin)],
            )
            .await;
        assert!(reply.status.is_success(), "{method} {uri}: {}", reply.body);
    }
    let mut reads = 0;
    let mut writes = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let method = method.to_ascii_uppercase();
            if method != "GET" {
                writes.push((method, path.to_owned(), op.clone()));
                continue;
            }
            if op["responses"]["200"]["content"]["text/event-stream"].is_object() {
                continue; // A live stream never ends; the runtime's tests read it.
            }
            let status = fits(&s, &doc, op, ("GET", &existing(path)), None).await;
            assert_eq!(status, StatusCode::OK, "GET {}", existing(path));
            reads += 1;
        }
    }
    assert!(reads >= 25, "{reads} reads");
    // Writes after every read, deletes last (the fleet's at the very end).
    writes.sort_by_key(|(method, path, _)| (method == "DELETE", path == "/fleets/{fleet}"));
    let mut succeeded = 0;
    for (method, path, op) in writes {
        let (uri, body, _) = concrete(&method, &format!("/api/v1{path}"));
        if fits(&s, &doc, &op, (&method, &uri), body)
            .await
            .is_success()
        {
            succeeded += 1;
        }
    }
    assert!(succeeded >= 10, "{succeeded} writes succeeded");
}
