//! `POST /auth/login`, `POST /auth/logout` and `POST /auth/password`. The sign-in page's plain HTML form posts
//! `username`, `password` (and `next`) form-encoded and is redirected: to `next` on success, back
//! to the page with an error code otherwise. Scripts post JSON and get JSON (the caller) or an
//! ARM error. Either way a success sets the session cookie.

use super::authenticate::{ClientAddress, SecureTransport, percent_encode};
use crate::auth::Access;
use crate::rest::ApiError;
use app::model::error::AppError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
    /// Checked before the handler (`web/csrf.rs`); the form carries it.
    #[serde(default, rename = "csrf_token")]
    _csrf_token: Option<String>,
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// A form's or a JSON body's fields, as the browser's form or a script sends them.
fn read_body<T: serde::de::DeserializeOwned>(form: bool, body: &[u8]) -> Result<T, String> {
    if form {
        serde_urlencoded::from_bytes(body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice(body).map_err(|e| e.to_string())
    }
}

/// Only a path on this site: `//evil.example` and `https://…` would send the user away.
pub(super) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

pub(super) fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, location.to_owned())],
    )
        .into_response()
}

/// A form sent back to its page with the error's code: a redirect, with the refusal riding
/// along for the request log and the audit trail.
pub(super) fn back_to(location: &str, error: AppError) -> Response {
    let mut response = see_other(location);
    response.extensions_mut().insert(error);
    response
}

pub(super) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub(super) fn with_cookies(response: Response, cookies: &[String]) -> Response {
    cookies.iter().fold(response, |r, c| with_cookie(r, c))
}

pub async fn login(
    State(access): State<Arc<Access>>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    Extension(SecureTransport(secure)): Extension<SecureTransport>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = is_form(&headers);
    let parsed: Result<SignIn, String> = read_body(form, &body);
    let request = match parsed {
        Ok(request) => request,
        Err(message) => {
            let error = AppError::invalid(
                "InvalidSignIn",
                format!("Send username and password ({message})."),
            );
            return if form {
                back_to("/login?error=InvalidSignIn", error)
            } else {
                ApiError(error).into_response()
            };
        }
    };
    // The audit entry names who tried, whether or not it works.
    crate::audit_trail::name_actor(&request.username);
    sign_in(&access, request, &headers, &address, form, secure).await
}

async fn sign_in(
    access: &Access,
    request: SignIn,
    headers: &HeaderMap,
    address: &str,
    form: bool,
    secure: bool,
) -> Response {
    // A new sign-in never reuses the session it replaces.
    let _ = access.sign_out(headers).await;
    let next = safe_next(request.next.as_deref()).to_owned();
    match access
        .sign_in(&request.username, &request.password, address)
        .await
    {
        Ok((id, caller)) => {
            tracing::info!(user = %caller.name, %address, "signed in");
            let response = if form {
                see_other(&next)
            } else {
                Json(&caller).into_response()
            };
            with_cookies(response, &access.session_cookies(Some(&id), secure))
        }
        Err(error) if form => {
            tracing::info!(user = %request.username, %address, code = %error.code, "sign-in refused");
            let location = format!("/login?error={}&next={}", error.code, percent_encode(&next));
            back_to(&location, error)
        }
        Err(error) => ApiError(error).into_response(),
    }
}

pub async fn logout(
    State(access): State<Arc<Access>>,
    Extension(SecureTransport(secure)): Extension<SecureTransport>,
    headers: HeaderMap,
) -> Response {
    let response = match access.sign_out(&headers).await {
        Ok(()) if is_form(&headers) => see_other("/login?signedOut=true"),
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => return ApiError(error).into_response(),
    };
    with_cookies(response, &access.session_cookies(None, secure))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    current_password: String,
    new_password: String,
    /// Checked before the handler (`web/csrf.rs`); the form carries it.
    #[serde(default, rename = "csrf_token")]
    _csrf_token: Option<String>,
}

/// `POST /auth/password` (`current_password`, `new_password`): a user changes their own password.
/// Every session of theirs ends; the form is sent to sign in again, scripts get 204.
pub async fn change_password(
    State(access): State<Arc<Access>>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    Extension(caller): Extension<app::model::access::Caller>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = is_form(&headers);
    let parsed: Result<NewPassword, String> = read_body(form, &body);
    let changed = match parsed {
        Ok(p) => {
            access
                .change_own_password(&caller, &p.current_password, &p.new_password, &address)
                .await
        }
        Err(message) => Err(AppError::invalid(
            "InvalidPasswordChange",
            format!("Send current_password and new_password ({message})."),
        )),
    };
    let ended = access.session_cookies(None, false);
    match (changed, form) {
        (Ok(()), true) => with_cookies(see_other("/login?passwordChanged=true"), &ended),
        (Ok(()), false) => with_cookies(StatusCode::NO_CONTENT.into_response(), &ended),
        (Err(error), true) => back_to(&format!("/account?error={}", error.code), error),
        (Err(error), false) => ApiError(error).into_response(),
    }
}

/// The sign-in routes, with the API's body limit and error shape.
pub fn router<S: Clone + Send + Sync + 'static>(access: Arc<Access>) -> axum::Router<S> {
    use axum::routing::post;
    axum::Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/password", post(change_password))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::rest::MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn(crate::rest::arm_errors))
        .with_state(access)
}
