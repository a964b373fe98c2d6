//! The edge of the REST API: whatever answers a request under `/api/v1` — a handler, an axum
//! extractor that refused a path (`%FF`), the router — the client gets ARM's
//! `{"error": {"code", "message"}}`, and a body over the limit is refused before any handler
//! runs (also on routes that read none, like `start`).

use super::{ApiError, MAX_BODY_BYTES};
use app::model::error::{AppError, ErrorKind, plain_parse_error};
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The longest plain-text refusal carried into an ARM message.
const MAX_MESSAGE: usize = 300;

pub async fn arm_errors(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return too_large().into_response();
    }
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    ApiError(in_arm_shape(status, &String::from_utf8_lossy(&bytes))).into_response()
}

pub fn too_large() -> ApiError {
    ApiError(AppError::new(
        ErrorKind::TooLarge,
        "PayloadTooLarge",
        format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
    ))
}

/// A refusal that left as plain text (or nothing), as an `AppError` of the same status.
fn in_arm_shape(status: StatusCode, text: &str) -> AppError {
    let text = text.trim();
    let said = |fallback: &str| {
        if text.is_empty() || text.len() > MAX_MESSAGE {
            fallback.to_owned()
        } else {
            plain_parse_error(text)
        }
    };
    match status {
        StatusCode::NOT_FOUND => {
            AppError::not_found("NoSuchRoute", said("There is no such API route."))
        }
        StatusCode::METHOD_NOT_ALLOWED => AppError::new(
            ErrorKind::MethodNotAllowed,
            "MethodNotAllowed",
            said("This route does not take that HTTP method."),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => too_large().0,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => AppError::invalid(
            "UnsupportedMediaType",
            said("Send the request body as application/json."),
        ),
        status if status.is_client_error() => AppError::invalid(
            "InvalidRequest",
            said("The request could not be understood."),
        ),
        status => {
            tracing::error!(%status, %text, "an API request failed outside a handler");
            AppError::internal()
        }
    }
}

/// An empty request body, or `{}`: what commands that take no input accept, so a body sent by
/// mistake is refused instead of ignored.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_refusals_keep_their_status_and_say_why() {
        let path = in_arm_shape(
            StatusCode::BAD_REQUEST,
            "Invalid URL: Cannot parse `%FF` as UTF-8",
        );
        assert_eq!(path.kind.http_status(), 400);
        assert!(path.message.contains("%FF"), "{}", path.message);
        let empty = in_arm_shape(StatusCode::NOT_FOUND, "");
        assert_eq!(
            (empty.code.as_str(), empty.kind.http_status()),
            ("NoSuchRoute", 404)
        );
        let huge = in_arm_shape(StatusCode::BAD_REQUEST, &"x".repeat(10_000));
        assert!(huge.message.len() < 100);
    }
}
