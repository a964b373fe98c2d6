//! `GET /api/v1/openapi.json`: the REST API described as OpenAPI 3.1, generated from the route
//! list and the types the handlers read and write; `GET /api/docs` renders it for people.

mod document;
mod page;
mod route;

pub use document::path_parameters;
pub use route::{Op, Route};

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::OnceLock;

/// The document, built once: it only changes with the code.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(|| document::build(&super::routes()))
}

/// The page, rendered once from the document.
fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| page::render(document()))
}

/// The document as JSON. Open to anyone, like the API's shape on any public repository: it says
/// what the API takes, nothing about any fleet.
pub async fn json() -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        axum::Json(document()),
    )
        .into_response()
}

/// The document as a page people read.
pub async fn html() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        page(),
    )
        .into_response()
}
