//! Who is calling, for every request: the caller goes into the request's extensions, where
//! REST handlers (the `Caller` extractor) and server functions (`app::api::caller`) find it.
//! Anonymous requests reach only the sign-in page and routes, static files, and pages (which
//! redirect to sign-in); the API answers them 401. Which roles a call needs is the service's
//! business, not this layer's.

use super::server_fns;
use crate::auth::{Access, CSRF_COOKIE, cookie_value};
use crate::rest::ApiError;
use app::model::access::{Caller, Credential, unauthenticated};
use app::model::error::AppError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// The address a request came from, for sign-in limits and the audit trail.
#[derive(Debug, Clone)]
pub struct ClientAddress(pub String);

/// Whether the client reached Drydock over TLS (directly, or through a trusted proxy): the
/// session cookie is `Secure` then.
#[derive(Debug, Clone, Copy)]
pub struct SecureTransport(pub bool);

pub async fn authenticate(
    State(access): State<Arc<Access>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_static_file(&path) {
        // Files are the same for everyone: no credential is read for them.
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let over_tls = request.extensions().get::<crate::tls::OverTls>().is_some();
    let (address, secure) =
        crate::auth::forwarded::client(peer, request.headers(), access.trusted_proxies(), over_tls);
    let caller = match access.authenticate(request.headers(), &address).await {
        Ok(caller) => caller,
        // An ended session on the way to the sign-in page (or its files) is just nobody yet.
        Err(_) if open_to_anyone(&path) => Caller::anonymous(),
        Err(_) if is_page(request.method(), &path) => {
            let ended = access.session_cookies(None, secure);
            return to_sign_in(&request, &ended);
        }
        Err(error) => return refused(&path, error),
    };
    if caller.is_anonymous() && !open_to_anyone(&path) {
        if is_page(request.method(), &path) {
            return to_sign_in(&request, &[]);
        }
        return refused(&path, unauthenticated());
    }
    let by_cookie = matches!(
        caller.credential,
        Credential::Session | Credential::SingleSignOn { .. }
    );
    let csrf = super::csrf::token_of(request.headers()).filter(|_| by_cookie);
    if let Some(token) = &csrf {
        if super::csrf::must_prove(request.method(), request.headers()) {
            request = match super::csrf::proven(request, token).await {
                Ok(request) => request,
                Err(refusal) => return refusal,
            };
        }
        request.extensions_mut().insert(token.clone());
    }
    // A session begun before CSRF cookies existed gets its cookie on the next answer.
    let refreshed = csrf
        .as_ref()
        .filter(|t| cookie_value(request.headers(), CSRF_COOKIE) != Some(t.0.as_str()))
        .and_then(|_| Access::session_id(request.headers()))
        .map(|id| access.csrf_cookie(Some(id), secure));
    request.extensions_mut().insert(caller);
    request.extensions_mut().insert(ClientAddress(address));
    request.extensions_mut().insert(SecureTransport(secure));
    let mut response = next.run(request).await;
    if let Some(value) = refreshed.and_then(|c| HeaderValue::from_str(&c).ok())
        && !response.headers().contains_key(header::SET_COOKIE)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// The site's files (the WASM bundle, CSS, the icon): the same for everyone.
fn is_static_file(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// Routes that need no caller: signing in (with a password or through the identity provider)
/// and out, who am I, how one may sign in, and the API's description (its shape is no secret:
/// tools that generate clients read it before they have a credential).
fn open_to_anyone(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/api/v1/openapi.json"
            | "/api/docs"
            | "/fn/whoami"
            | "/fn/sign_in_options"
            | "/auth/login"
            | "/auth/logout"
            | "/auth/oidc/login"
            | crate::auth::oidc::CALLBACK_PATH
    )
}

/// A page a person opens (as opposed to the API, server functions and files).
fn is_page(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with(server_fns::PREFIX)
        && !open_to_anyone(path)
        && !path.rsplit('/').next().unwrap_or_default().contains('.')
}

fn refused(path: &str, error: AppError) -> Response {
    let mut response = if path.starts_with(server_fns::PREFIX) {
        server_fns::error_response(error)
    } else {
        ApiError(error).into_response()
    };
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"drydock\""),
        );
    }
    response
}

/// 303 to the sign-in page, which comes back here after; `clear` (`Set-Cookie` values) ends
/// a session that ended.
fn to_sign_in(request: &Request, clear: &[String]) -> Response {
    let here = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let location = format!("/login?next={}", percent_encode(here));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    for value in clear.iter().filter_map(|c| HeaderValue::from_str(c).ok()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

pub use app::ui::format::percent_encode;
