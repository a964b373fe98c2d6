//! The audit trail's writer: every write request (and every sign-in) gets an entry. A change
//! is committed together with its entry (the store writes it in the change's transaction, see
//! `audit_trail`), so nothing changes unrecorded and no entry claims a change that did not
//! happen; a request that changed nothing gets its entry after it is answered. Reads are not
//! recorded.

use super::authenticate::ClientAddress;
use super::server_fns;
use crate::audit_trail::{self, Ticket};
use crate::auth::wall_now;
use crate::rest::MAX_BODY_BYTES;
use crate::store::audit::{AuditStore, NewAudit};
use app::model::access::{Caller, Credential};
use app::model::audit::AuditOutcome;
use app::model::error::{AppError, ErrorKind};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::HashMap;
use std::sync::Arc;

pub async fn audit(
    State(store): State<Arc<dyn AuditStore>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !is_write(request.method(), &path) {
        return next.run(request).await;
    }
    let caller = request
        .extensions()
        .get::<Caller>()
        .cloned()
        .unwrap_or_else(Caller::anonymous);
    let address = request
        .extensions()
        .get::<ClientAddress>()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.clone());
    // The identity provider's return carries a one-time code: not for the record.
    let target = match request.uri().path_and_query() {
        Some(whole) if path != crate::auth::oidc::CALLBACK_PATH => whole.as_str(),
        _ => path.as_str(),
    };
    let action = format!("{} {target}", request.method());
    let (request, (fleet, run)) = match subjects(request, &path).await {
        Ok(read) => read,
        Err(refusal) => return refusal,
    };
    let entry = NewAudit {
        at: wall_now(),
        actor: caller.name.clone(),
        credential: credential_text(&caller.credential),
        action,
        fleet,
        run,
        address,
    };
    let ticket = Ticket::new(entry);
    let response = audit_trail::serving(ticket.clone(), next.run(request)).await;
    let status = response.status().as_u16();
    let error = response.extensions().get::<AppError>();
    let code = error.map(|e| e.code.clone());
    let recorded = match ticket.written() {
        // The change and its entry were committed together: the entry learns the answer.
        Some(id) => store.answer_audit(id, status, code.as_deref()).await,
        None => {
            // A refusal answered with a redirect (the sign-in form's) is still a refusal.
            let outcome = AuditOutcome::of_status(error.map_or(status, |e| e.kind.http_status()));
            store
                .record_audit(&ticket.entry(), outcome, status, code.as_deref())
                .await
        }
    };
    if let Err(error) = recorded {
        tracing::error!(%error, "writing the audit trail failed");
    }
    response
}

/// Requests that may change something: every method but the reading ones, on the API, the
/// server functions and sign-in (a plan asked for by POST only reads); and the identity
/// provider's return, a sign-in though it is a GET.
fn is_write(method: &Method, path: &str) -> bool {
    if path == crate::auth::oidc::CALLBACK_PATH {
        return true;
    }
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
        && (path.starts_with("/api/")
            || path.starts_with(server_fns::PREFIX)
            || path.starts_with("/auth/"))
        && !path.ends_with("/plan")
}

fn credential_text(credential: &Credential) -> String {
    match credential {
        Credential::Anonymous => "anonymous".into(),
        Credential::Session => "session".into(),
        Credential::SingleSignOn { .. } => "single sign-on".into(),
        Credential::Token { id } => format!("token {id}"),
        Credential::Password => "password".into(),
        Credential::AuthDisabled => "auth disabled".into(),
        Credential::System => "system".into(),
    }
}

/// The fleet and run a request is about: from the path for the REST API, from the arguments
/// for server functions (whose body is read here and handed on).
async fn subjects(
    request: Request,
    path: &str,
) -> Result<(Request, (Option<String>, Option<String>)), Response> {
    if !path.starts_with(server_fns::PREFIX) {
        return Ok((request, from_path(path)));
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(server_fns::error_response(AppError::new(
            ErrorKind::TooLarge,
            "PayloadTooLarge",
            format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
        )));
    };
    let is_json = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let args: HashMap<String, serde_json::Value> = if is_json {
        serde_json::from_slice(&bytes).unwrap_or_default()
    } else {
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect()
    };
    let text = |key: &str| args.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    let run = text("run").or_else(|| text("gate").map(|g| run_of_gate(&g)));
    Ok((
        Request::from_parts(parts, Body::from(bytes)),
        (text("fleet"), run),
    ))
}

/// `/api/v1/fleets/demo/updateRuns/r/start` → (`demo`, `r`); a gate's run is its name's first
/// part (`r.stage.before`).
fn from_path(path: &str) -> (Option<String>, Option<String>) {
    let segments: Vec<&str> = path.split('/').collect();
    let after = |name: &str| {
        segments
            .iter()
            .position(|s| *s == name)
            .and_then(|i| segments.get(i + 1))
            .map(|s| (*s).to_owned())
    };
    let run = after("updateRuns").or_else(|| after("gates").map(|g| run_of_gate(&g)));
    (after("fleets"), run)
}

fn run_of_gate(gate: &str) -> String {
    gate.split('.').next().unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_and_run_come_from_the_path() {
        let both = |fleet: &str, run: &str| (Some(fleet.to_owned()), Some(run.to_owned()));
        assert_eq!(
            from_path("/api/v1/fleets/demo/updateRuns/r/start"),
            both("demo", "r")
        );
        assert_eq!(
            from_path("/api/v1/fleets/demo/gates/r.canary.before"),
            both("demo", "r")
        );
        assert_eq!(
            from_path("/api/v1/fleets/demo/members/m"),
            (Some("demo".into()), None)
        );
        assert_eq!(from_path("/api/v1/tokens"), (None, None));
    }

    #[test]
    fn only_writes_are_recorded() {
        assert!(is_write(
            &Method::POST,
            "/api/v1/fleets/demo/updateRuns/r/start"
        ));
        assert!(is_write(&Method::POST, "/fn/start_run"));
        assert!(is_write(&Method::POST, "/auth/login"));
        assert!(!is_write(&Method::GET, "/api/v1/fleets"));
        assert!(!is_write(
            &Method::POST,
            "/api/v1/fleets/demo/updateRuns/r/plan"
        ));
        assert!(!is_write(&Method::POST, "/pkg/drydock.js"));
    }
}
