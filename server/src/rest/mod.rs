//! The REST API under `/api/v1`, shaped like the ARM resources users already script against:
//! `{"properties": …}` bodies, `{"value": […]}` lists, `{"error": {"code", "message"}}` errors.
//! PUT creates (201) or replaces (200); DELETE answers 200, or 204 when there was nothing.

mod access;
mod edges;
mod events;
mod extract;
mod fleets;
mod gates;
mod members;
mod providers;
mod runs;
mod simulator;
mod strategies;
mod webhooks;

pub use edges::{NoInput, arm_errors};
pub use extract::{ApiError, ArmBody, ArmJson, AsCaller, IfMatch, ReadOnlyObject};

use crate::service::Drydock;
use app::model::error::{AppError, ErrorKind};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde_json::{Value, json};
use std::sync::Arc;

pub type ApiState = Arc<Drydock>;
pub type ApiResult = Result<Response, ApiError>;

/// Request bodies larger than this are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Every API route: its path and what each method does. The router is built from this list,
/// and the access matrix test walks it, so a new route cannot miss the test.
pub fn routes() -> Vec<(&'static str, MethodRouter<ApiState>)> {
    vec![
        ("/fleets", get(fleets::index)),
        (
            "/fleets/{fleet}",
            put(fleets::put).get(fleets::get).delete(fleets::delete),
        ),
        ("/fleets/{fleet}/members", get(members::index)),
        (
            "/fleets/{fleet}/members/{member}",
            put(members::put).get(members::get).delete(members::delete),
        ),
        ("/fleets/{fleet}/updateRuns", get(runs::index)),
        (
            "/fleets/{fleet}/updateRuns/{run}",
            put(runs::put).get(runs::get).delete(runs::delete),
        ),
        (
            "/fleets/{fleet}/updateRuns/{run}/plan",
            get(runs::plan).post(runs::plan),
        ),
        (
            "/fleets/{fleet}/updateRuns/{run}/events",
            get(events::stream),
        ),
        (
            "/fleets/{fleet}/updateRuns/{run}/timeline",
            get(events::timeline),
        ),
        ("/fleets/{fleet}/updateRuns/{run}/start", post(runs::start)),
        ("/fleets/{fleet}/updateRuns/{run}/stop", post(runs::stop)),
        ("/fleets/{fleet}/updateRuns/{run}/skip", post(runs::skip)),
        ("/fleets/{fleet}/gates", get(gates::index)),
        (
            "/fleets/{fleet}/gates/{gate}",
            get(gates::get).patch(gates::patch),
        ),
        ("/fleets/{fleet}/updateStrategies", get(strategies::index)),
        (
            "/fleets/{fleet}/updateStrategies/{name}",
            put(strategies::put)
                .get(strategies::get)
                .delete(strategies::delete),
        ),
        ("/webhooks", get(webhooks::index)),
        (
            "/webhooks/{name}",
            put(webhooks::put)
                .get(webhooks::get)
                .delete(webhooks::delete),
        ),
        ("/webhooks/{name}/deliveries", get(webhooks::deliveries)),
        (
            "/tokens",
            get(access::list_tokens).post(access::create_token),
        ),
        ("/tokens/{id}", axum::routing::delete(access::revoke_token)),
        ("/users", get(access::list_users)),
        (
            "/users/{name}",
            put(access::put_user)
                .get(access::get_user)
                .delete(access::delete_user),
        ),
        ("/me", get(access::me)),
        ("/audit", get(access::audit)),
        ("/providers", get(providers::index)),
        ("/providers/{name}", get(providers::get)),
        (
            "/simulator/catalog",
            get(simulator::get_catalog).put(simulator::put_catalog),
        ),
        ("/simulator/clusters", get(simulator::list_clusters)),
        ("/simulator/operations", get(simulator::list_operations)),
        (
            "/simulator/clusters/{name}",
            put(simulator::put_cluster)
                .get(simulator::get_cluster)
                .delete(simulator::delete_cluster),
        ),
    ]
}

/// The API routes, ready to nest into a router of any state.
pub fn router<S: Clone + Send + Sync + 'static>(drydock: Arc<Drydock>) -> Router<S> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, (path, methods)| {
            router.route(path, methods)
        })
        .fallback(no_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(edges::arm_errors))
        .with_state(drydock)
}

async fn no_route() -> ApiError {
    AppError::not_found("NoSuchRoute", "There is no such API route.").into()
}

async fn method_not_allowed() -> ApiError {
    AppError::new(
        ErrorKind::MethodNotAllowed,
        "MethodNotAllowed",
        "This route does not take that HTTP method.",
    )
    .into()
}

/// 201 for a created resource, 200 for a replaced one.
pub fn put_response(created: bool, body: Value) -> Response {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(body)).into_response()
}

/// 200 when something was deleted, 204 when there was nothing to delete (ARM semantics).
pub fn delete_response(deleted: bool) -> Response {
    if deleted {
        StatusCode::OK.into_response()
    } else {
        StatusCode::NO_CONTENT.into_response()
    }
}

pub fn ok(body: Value) -> Response {
    axum::Json(body).into_response()
}

pub fn list(values: Vec<Value>) -> Response {
    ok(json!({ "value": values }))
}

/// Parses a path segment into a name type, or a 400 naming what was wrong.
pub fn parse_name<T>(code: &str, parsed: Result<T, String>) -> Result<T, ApiError> {
    parsed.map_err(|message| AppError::invalid(code, message).into())
}

/// The query's `name=value` pairs, each name one of `known`; an unknown name is an ARM error
/// that lists the known ones. Values are left to the caller.
pub fn query_pairs<'q>(
    query: Option<&'q str>,
    known: &[&str],
) -> Result<Vec<(&'q str, &'q str)>, ApiError> {
    let mut pairs = Vec::new();
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if !known.contains(&key) {
            return Err(AppError::invalid(
                "InvalidQueryParameter",
                format!(
                    "Unknown query parameter {key:?}; this takes {}.",
                    known.join(" and ")
                ),
            )
            .into());
        }
        pairs.push((key, value));
    }
    Ok(pairs)
}

/// Boolean query parameters (`true` or `false`), each known by name; an unknown name or another
/// value is an ARM error naming it. Absent ones are left as they were.
pub fn flags_of(query: Option<&str>, known: &mut [(&str, &mut bool)]) -> Result<(), ApiError> {
    let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
    for (key, value) in query_pairs(query, &names)? {
        let Some((_, slot)) = known.iter_mut().find(|(name, _)| *name == key) else {
            continue;
        };
        **slot = match value {
            "true" => true,
            "false" => false,
            other => {
                return Err(AppError::invalid(
                    "InvalidQueryParameter",
                    format!("{key} must be true or false, not {other:?}."),
                )
                .into());
            }
        };
    }
    Ok(())
}
