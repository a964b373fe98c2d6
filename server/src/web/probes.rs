//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve: the database answers
//! and has every migration this build knows, and it is not shutting down), for load balancers
//! and Kubernetes probes, and `GET /metrics` for Prometheus. They
//! sit outside every other layer: a probe names the pod's address as its host, carries no
//! credential, and would only fill the request log.

use crate::store::HealthStore;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn plain(status: StatusCode, text: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

async fn healthz() -> Response {
    plain(StatusCode::OK, "ok\n".into())
}

#[derive(Clone)]
struct Probed {
    health: Arc<dyn HealthStore>,
    draining: Arc<AtomicBool>,
}

async fn readyz(State(probed): State<Probed>) -> Response {
    if probed.draining.load(Ordering::Relaxed) {
        return plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: shutting down\n".into(),
        );
    }
    match probed.health.ready().await {
        Ok(()) => plain(StatusCode::OK, "ready\n".into()),
        Err(error) => {
            tracing::warn!(%error, "not ready");
            plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("not ready: {error}\n"),
            )
        }
    }
}

/// The process's metrics with the stored state's counts, in the OpenMetrics text format.
async fn metrics(State(probed): State<Probed>) -> Response {
    let tallies = match probed.health.tallies().await {
        Ok(tallies) => tallies,
        Err(error) => {
            tracing::warn!(%error, "reading the counts for /metrics failed");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the store could not be read: {error}\n"),
            );
        }
    };
    let text = crate::metrics::metrics().render(&tallies.runs_by_state, tallies.members_upgrading);
    (
        [
            (
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response()
}

pub fn router(health: Arc<dyn HealthStore>, draining: Arc<AtomicBool>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(Probed { health, draining })
}
