//! The edge of the server functions (`/fn/…`), so they answer client mistakes as the REST API
//! does: an unknown function is a JSON 404 (not the HTML page), a wrong method a JSON 405, a
//! body over the limit a 413, a form body that is not UTF-8 a 400, and every error the status
//! its kind says (Leptos answers every server-function error with 500).

use crate::rest::MAX_BODY_BYTES;
use app::model::error::{AppError, ErrorKind};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

/// Where server functions live.
pub const PREFIX: &str = "/fn/";

/// The header Leptos puts on a server function's error answer.
const ERROR_HEADER: &str = "serverfnerror";

/// Registered server functions: path → the methods each takes.
fn registered() -> &'static BTreeMap<&'static str, BTreeSet<Method>> {
    static PATHS: OnceLock<BTreeMap<&'static str, BTreeSet<Method>>> = OnceLock::new();
    PATHS.get_or_init(|| {
        let mut paths: BTreeMap<&'static str, BTreeSet<Method>> = BTreeMap::new();
        for (path, method) in leptos::server_fn::axum::server_fn_paths() {
            paths.entry(path).or_default().insert(method);
        }
        paths
    })
}

/// An error as server functions send theirs: `{kind, code, message}` with the kind's status.
pub fn error_response(error: AppError) -> Response {
    let status =
        StatusCode::from_u16(error.kind.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, axum::Json(&error)).into_response();
    response.extensions_mut().insert(error);
    response
}

pub async fn edges(request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !path.starts_with(PREFIX) {
        return next.run(request).await;
    }
    if let Err(refusal) = route_known(path, request.method()) {
        return error_response(refusal);
    }
    let request = match readable(request).await {
        Ok(request) => request,
        Err(refusal) => return error_response(refusal),
    };
    with_status_of_kind(next.run(request).await).await
}

fn route_known(path: &str, method: &Method) -> Result<(), AppError> {
    let Some(methods) = registered().get(path) else {
        return Err(AppError::not_found(
            "NoSuchServerFunction",
            format!("There is no server function at {path}."),
        ));
    };
    if methods.contains(method) {
        return Ok(());
    }
    let allowed: Vec<&str> = methods.iter().map(Method::as_str).collect();
    Err(AppError::new(
        ErrorKind::MethodNotAllowed,
        "MethodNotAllowed",
        format!("{path} takes {}, not {method}.", allowed.join(" or ")),
    ))
}

/// Reads the body (at most `MAX_BODY_BYTES`) and checks a form body is text; the request is
/// rebuilt around the bytes read.
async fn readable(request: Request) -> Result<Request, AppError> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let too_large = || {
        AppError::new(
            ErrorKind::TooLarge,
            "PayloadTooLarge",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        )
    };
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| too_large())?;
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form && std::str::from_utf8(&bytes).is_err() {
        return Err(AppError::invalid(
            "InvalidRequestContent",
            "The form body is not UTF-8 text.",
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Leptos answers every server-function error with 500: give it the status of its kind.
async fn with_status_of_kind(response: Response) -> Response {
    if !response.headers().contains_key(ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return error_response(AppError::internal());
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(error.kind.http_status()) {
            parts.status = status;
        }
        parts.extensions.insert(error);
    }
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(bytes))
}
