//! The edges of the REST API: JSON bodies in, ARM errors out.

use app::model::error::{AppError, ErrorKind, plain_parse_error};
use app::model::precondition::Precondition;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

/// An `AppError` leaving through HTTP as `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.kind.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error": { "code": self.0.code, "message": self.0.message } });
        let mut response = (status, axum::Json(body)).into_response();
        // The logging middleware reads the code from here; errors are logged once, there.
        response.extensions_mut().insert(self.0);
        response
    }
}

/// A JSON body whose every failure (too large, not JSON, wrong shape) is a clear ARM error.
/// An empty body reads as `{}`.
pub struct ArmJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ArmJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(
                    ErrorKind::TooLarge,
                    "PayloadTooLarge",
                    format!(
                        "The request body is larger than {} bytes.",
                        super::MAX_BODY_BYTES
                    ),
                )
            } else {
                AppError::invalid("InvalidRequestBody", "The request body could not be read.")
            }
        })?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError(AppError::invalid(
                "InvalidRequestContent",
                "The request body must be a JSON object ({...}).",
            )));
        }
        let mut reader = serde_json::Deserializer::from_slice(text);
        let parsed: T = serde_path_to_error::deserialize(&mut reader).map_err(|error| {
            let path = error.path().to_string();
            let detail = plain_parse_error(&error.into_inner().to_string());
            let message = if path == "." {
                format!("The request body is not valid: {detail}")
            } else {
                format!("The request body is not valid at {path}: {detail}")
            };
            ApiError(AppError::invalid("InvalidRequestContent", message))
        })?;
        reader.end().map_err(|error| {
            ApiError(AppError::invalid(
                "InvalidRequestContent",
                format!("The request body is not valid: {error}"),
            ))
        })?;
        Ok(ArmJson(parsed))
    }
}

/// A PUT body in ARM's shape: what can be set is under `properties`. The read-only fields a GET
/// returns are accepted and ignored, so a GET can be sent back as is, but only in their own
/// shape (`etag` a string, not `5`); anything else is refused (a typo must not silently do
/// nothing).
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "{P}Body")]
#[allow(dead_code)]
pub struct ArmBody<P> {
    pub properties: P,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    etag: Option<String>,
}

/// A read-only object a GET returns (a `status`), accepted back in a PUT and ignored, as long as
/// it is an object.
#[derive(serde::Deserialize, schemars::JsonSchema)]
#[allow(dead_code)]
pub struct ReadOnlyObject(serde_json::Map<String, serde_json::Value>);

/// The request's `If-Match` / `If-None-Match`, as a [`Precondition`] for the write.
pub struct IfMatch(pub Precondition);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let header = |name: header::HeaderName| -> Result<Option<&str>, ApiError> {
            parts
                .headers
                .get(&name)
                .map(|value| {
                    value.to_str().map_err(|_| {
                        ApiError(AppError::invalid(
                            "InvalidPrecondition",
                            format!("The {name} header is not readable text."),
                        ))
                    })
                })
                .transpose()
        };
        let if_match = header(header::IF_MATCH)?;
        let if_none_match = header(header::IF_NONE_MATCH)?;
        Ok(Self(Precondition::from_headers(if_match, if_none_match)?))
    }
}

/// The request's caller, as the authentication layer found it (anonymous without that layer).
pub struct AsCaller(pub app::model::access::Caller);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AsCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(AsCaller(
            parts
                .extensions
                .get::<app::model::access::Caller>()
                .cloned()
                .unwrap_or_else(app::model::access::Caller::anonymous),
        ))
    }
}
