//! `GET /auth/oidc/login` and `GET /auth/oidc/callback`: single sign-on's two legs (see
//! `auth::oidc`). Both are browser navigations, so both answer with redirects: to the identity
//! provider, then to where the user was going, or back to the sign-in page with an error code.

use super::authenticate::{ClientAddress, SecureTransport, percent_encode};
use super::sign_in::{back_to, safe_next, see_other, with_cookie, with_cookies};
use crate::auth::oidc::{STATE_COOKIE, SingleSignOn};
use crate::auth::{Access, cookie_value};
use crate::rest::ApiError;
use app::model::error::{AppError, ErrorKind};
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Begin {
    next: Option<String>,
}

fn not_configured() -> Response {
    ApiError(AppError::new(
        ErrorKind::NotFound,
        "SingleSignOnNotConfigured",
        "Single sign-on is not configured on this server ([oidc] in the configuration file).",
    ))
    .into_response()
}

pub async fn login(
    State(access): State<Arc<Access>>,
    Extension(SecureTransport(secure)): Extension<SecureTransport>,
    Query(begin): Query<Begin>,
) -> Response {
    let Some(sso) = access.single_sign_on() else {
        return not_configured();
    };
    let next = safe_next(begin.next.as_deref());
    match sso.begin(next).await {
        Ok(begun) => with_cookie(
            see_other(&begun.location),
            &SingleSignOn::state_cookie(Some(&begun.state), secure),
        ),
        Err(error) => back_to(&sign_in_page(&error, next), error),
    }
}

/// What the identity provider sends back: a code, or an error (RFC 6749 4.1.2.1).
#[derive(Deserialize)]
pub struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

pub async fn callback(
    State(access): State<Arc<Access>>,
    Extension(ClientAddress(address)): Extension<ClientAddress>,
    Extension(SecureTransport(secure)): Extension<SecureTransport>,
    headers: HeaderMap,
    Query(answer): Query<Answer>,
) -> Response {
    let Some(sso) = access.single_sign_on() else {
        return not_configured();
    };
    let cleared = SingleSignOn::state_cookie(None, secure);
    let signed_in = match (&answer.error, &answer.code, &answer.state) {
        (Some(error), _, _) => Err(AppError::new(
            ErrorKind::Unauthenticated,
            "SsoDenied",
            format!(
                "The identity provider did not sign you in ({error}{}).",
                answer
                    .error_description
                    .as_deref()
                    .map(|d| format!(": {d}"))
                    .unwrap_or_default()
            ),
        )),
        (None, Some(code), Some(state)) => {
            sso.finish(code, state, cookie_value(&headers, STATE_COOKIE))
                .await
        }
        _ => Err(AppError::invalid(
            "SsoSignInVoid",
            "The identity provider's answer has no code or state; sign in again.",
        )),
    };
    let response = match signed_in {
        Ok((user, next)) => match access.start_session(&user, &address).await {
            Ok((id, caller)) => {
                tracing::info!(user = %caller.name, %address, "signed in through single sign-on");
                let response = see_other(safe_next(Some(&next)));
                with_cookies(response, &access.session_cookies(Some(&id), secure))
            }
            Err(error) => back_to(&sign_in_page(&error, "/"), error),
        },
        Err(error) => {
            tracing::info!(%address, code = %error.code, message = %error.message, "single sign-on refused");
            back_to(&sign_in_page(&error, "/"), error)
        }
    };
    with_cookie(response, &cleared)
}

fn sign_in_page(error: &AppError, next: &str) -> String {
    format!("/login?error={}&next={}", error.code, percent_encode(next))
}

/// The single sign-on routes (when `[oidc]` is not configured they answer 404).
pub fn router<S: Clone + Send + Sync + 'static>(access: Arc<Access>) -> axum::Router<S> {
    use axum::routing::get;
    axum::Router::new()
        .route("/auth/oidc/login", get(login))
        .route(crate::auth::oidc::CALLBACK_PATH, get(callback))
        .layer(axum::middleware::from_fn(crate::rest::arm_errors))
        .with_state(access)
}
