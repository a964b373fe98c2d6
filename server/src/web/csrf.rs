//! CSRF tokens, beside the browser guard's `Origin`/`Sec-Fetch-Site` check. A write made with a
//! session cookie must carry the session's token (form field `csrf_token`, or header
//! `X-CSRF-Token`) when the browser vouches for nothing (neither header: an old browser, or a
//! client that copies cookies around) and when it is a form's navigation (`Sec-Fetch-Mode:
//! navigate`), so a page's forms prove where they come from twice. The app's own `fetch` calls
//! carry `Origin`, which the guard has already checked. The token is derived from the session
//! (`Access::csrf_token`), so nothing is stored; pages get it in the `drydock_csrf` cookie and
//! in the request (for the server-rendered forms).

use crate::auth::{Access, CSRF_FIELD, CSRF_HEADER};
use crate::rest::{ApiError, MAX_BODY_BYTES};
use app::model::access::CsrfToken;
use app::model::error::{AppError, ErrorKind};
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};

/// Whether this write must show the token.
pub fn must_prove(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let vouched = headers.contains_key("sec-fetch-site") || headers.contains_key(header::ORIGIN);
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() == b"navigate");
    !vouched || navigation
}

/// The request, once it shows `token`; a refusal otherwise. A form body is read to find the
/// field, and handed on whole.
pub async fn proven(request: Request, token: &CsrfToken) -> Result<Request, Response> {
    let in_header = request
        .headers()
        .get(CSRF_HEADER)
        .is_some_and(|given| same(given.as_bytes(), token.0.as_bytes()));
    if in_header {
        return Ok(request);
    }
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refusal());
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(ApiError(AppError::new(
            ErrorKind::TooLarge,
            "PayloadTooLarge",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        ))
        .into_response());
    };
    let in_form = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .unwrap_or_default()
        .iter()
        .any(|(name, value)| name == CSRF_FIELD && same(value.as_bytes(), token.0.as_bytes()));
    if !in_form {
        return Err(refusal());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The token of the session the request's cookie names, if any.
pub fn token_of(headers: &HeaderMap) -> Option<CsrfToken> {
    Access::session_id(headers).map(|id| CsrfToken(Access::csrf_token(id)))
}

/// Compares without stopping at the first difference, so timing tells nothing.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

fn refusal() -> Response {
    ApiError(AppError::new(
        ErrorKind::Forbidden,
        "CsrfTokenMissing",
        "This request carries the session cookie but not its CSRF token (form field csrf_token or header X-CSRF-Token): reload the page and try again.",
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forms_and_requests_no_browser_vouches_for_must_prove() {
        let post = Method::POST;
        assert!(must_prove(&post, &headers(&[])));
        assert!(must_prove(
            &post,
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "navigate")
            ])
        ));
        assert!(!must_prove(
            &post,
            &headers(&[
                ("sec-fetch-site", "same-origin"),
                ("sec-fetch-mode", "cors")
            ])
        ));
        assert!(!must_prove(
            &post,
            &headers(&[("origin", "http://localhost:3000")])
        ));
        assert!(!must_prove(&Method::GET, &headers(&[])));
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
    }
}
