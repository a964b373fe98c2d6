//! The OpenAPI 3.1 document of the REST API, built from the route list: paths, methods and path
//! parameters from the routes themselves, bodies and answers from the Rust types the handlers
//! read and write (their JSON Schemas come from the same serde attributes that shape the JSON).

use super::route::{Op, Route};
use crate::rest::shapes::ErrorResponse;
use schemars::SchemaGenerator;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The document for `routes`, served under `/api/v1`.
pub fn build(routes: &[Route]) -> Value {
    let mut generator: SchemaGenerator = SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.definitions_path = "/components/schemas".into();
            settings.meta_schema = None;
        })
        .into_generator();
    let error = generator.subschema_for::<ErrorResponse>();
    let mut paths = Map::new();
    for route in routes {
        let mut item = Map::new();
        for (method, op) in &route.operations {
            let operation = operation(route.path, op, &error, &mut generator);
            item.insert(method.as_str().to_ascii_lowercase(), operation);
        }
        paths.insert(route.path.to_owned(), Value::Object(item));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Drydock",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Upgrades fleets of Kubernetes clusters through update runs, stages, \
                groups and strategies. Bodies are shaped like Azure Resource Manager's: \
                {\"properties\": …} resources, {\"value\": […]} lists, \
                {\"error\": {\"code\", \"message\"}} errors. Generated from the server's code.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"basic": []}, {"bearer": []}],
        "tags": tags(routes),
        "paths": paths,
        "components": {
            "schemas": generator.take_definitions(true),
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic",
                    "description": "A user's name and password."},
                "bearer": {"type": "http", "scheme": "bearer",
                    "description": "An API token (POST /tokens)."},
            },
        },
    })
}

fn operation(path: &str, op: &Op, error: &schemars::Schema, g: &mut SchemaGenerator) -> Value {
    let mut parameters: Vec<Value> = path_parameters(path)
        .map(|name| {
            json!({"name": name, "in": "path", "required": true,
                "schema": {"type": "string"}})
        })
        .collect();
    for (name, meaning) in &op.query {
        parameters.push(json!({"name": name, "in": "query", "required": false,
            "description": meaning, "schema": {"type": "string"}}));
    }
    if op.preconditions {
        for (name, meaning) in [
            (
                "If-Match",
                "Act only if the resource's etag is this one (or exists: *).",
            ),
            (
                "If-None-Match",
                "Act only if the resource does not exist yet (*).",
            ),
        ] {
            parameters.push(json!({"name": name, "in": "header", "required": false,
                "description": meaning, "schema": {"type": "string"}}));
        }
    }
    let mut responses = Map::new();
    for (status, meaning, schema) in &op.responses {
        let mut response = json!({ "description": meaning });
        if let Some(schema) = schema {
            response["content"] = json!({"application/json": {"schema": schema(g)}});
        } else if op.event_stream {
            response["content"] = json!({"text/event-stream": {"schema": {"type": "string"}}});
        }
        responses.insert(status.to_string(), response);
    }
    responses.insert(
        "default".into(),
        json!({"description": "An error: its code names it, its message says why.",
            "content": {"application/json": {"schema": error}}}),
    );
    let mut operation = json!({
        "operationId": op.id,
        "summary": op.summary,
        "tags": [tag(path)],
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(body) = op.body {
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": body(g)}}});
    }
    operation
}

/// The `{name}` segments of a route's path, in order.
pub fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

/// The group a path belongs to in the document: what it is about, after its fleet.
fn tag(path: &str) -> &'static str {
    let about = path
        .trim_start_matches("/fleets/{fleet}")
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    match about {
        "" | "fleets" => "Fleets",
        "members" => "Members",
        "updateRuns" => "Update runs",
        "updateStrategies" => "Update strategies",
        "autoUpgradeProfiles" => "Auto-upgrade profiles",
        "gates" => "Gates",
        "webhooks" => "Webhooks",
        "tokens" | "users" | "me" => "Access",
        "audit" => "Audit",
        "providers" => "Providers",
        "simulator" => "Simulator",
        _ => "Other",
    }
}

fn tags(routes: &[Route]) -> Vec<Value> {
    let mut seen: Vec<&str> = Vec::new();
    for route in routes {
        let tag = tag(route.path);
        if !seen.contains(&tag) {
            seen.push(tag);
        }
    }
    seen.into_iter().map(|name| json!({"name": name})).collect()
}
