//! Requests too big in their head: a URI over 8 KiB (414) or headers over 100 or 32 KiB in all
//! (431), refused in the API's error shape. Hyper's own, higher limits (a 64 KiB URI, 500
//! headers, about 400 KiB of head) still refuse beyond these, with an empty body.

use crate::rest::ApiError;
use app::model::error::{AppError, ErrorKind};
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub const MAX_URI_BYTES: usize = 8 * 1024;
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

pub async fn request_limits(request: Request, next: Next) -> Response {
    let uri = request.uri().to_string().len();
    if uri > MAX_URI_BYTES {
        return refused(
            StatusCode::URI_TOO_LONG,
            "UriTooLong",
            format!("The request's URI is {uri} bytes; the most is {MAX_URI_BYTES}."),
        );
    }
    let headers = request.headers();
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return refused(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "HeadersTooLarge",
            format!(
                "The request has {} headers of {bytes} bytes; the most is {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes.",
                headers.len()
            ),
        );
    }
    next.run(request).await
}

fn refused(status: StatusCode, code: &str, message: String) -> Response {
    let mut response = ApiError(AppError::new(ErrorKind::Invalid, code, message)).into_response();
    *response.status_mut() = status;
    response
}
