//! The whole HTTP surface: the REST API, the server functions and the server-rendered pages,
//! and static files (the WASM bundle, CSS, favicon) from the site root.

mod audit;
mod authenticate;
mod browser_guard;
mod csrf;
mod probes;
mod request_limits;
mod server_fns;
mod sign_in;
mod single_sign_on;

pub use browser_guard::AllowedHosts;

use crate::rest;
use crate::service::Drydock;
use app::api::service::SharedFleetService;
use app::ui::{App, shell};
use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use tracing::Instrument as _;

/// The app's pages, worked out once a process. Leptos finds them by rendering the app with
/// resource loading switched off, and the switch is process-wide: a page rendered on another
/// thread meanwhile waits for its resources forever (the page is sent, a `<Suspense/>` part
/// never, and the response stays open). A server builds its router before it serves, but a
/// process that builds several (the integration tests: a server a test, two tests at a time)
/// rendered one test's pages while another test's server was being built.
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(
    drydock: Arc<Drydock>,
    options: LeptosOptions,
    hosts: AllowedHosts,
    draining: Arc<std::sync::atomic::AtomicBool>,
) -> Router {
    let service: SharedFleetService = drydock.clone();
    let context = move || provide_context(service.clone());
    let routes = page_routes();
    let shell_options = options.clone();
    let access = drydock.access().clone();
    let audit_store = drydock.audit_store().clone();
    let health = drydock.health().clone();
    let bundle = bundle_files(&options);
    Router::new()
        .merge(sign_in::router(access.clone()))
        .merge(single_sign_on::router(access.clone()))
        .nest("/api/v1", rest::router(drydock))
        .route("/api/docs", axum::routing::get(rest::openapi::html))
        .nest_service("/pkg", bundle)
        .leptos_routes_with_context(&options, routes, context, move || {
            shell(shell_options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler(shell))
        .with_state(options)
        .layer(middleware::from_fn(server_fns::edges))
        .layer(middleware::from_fn_with_state(audit_store, audit::audit))
        .layer(middleware::from_fn_with_state(
            access,
            authenticate::authenticate,
        ))
        .layer(middleware::from_fn(request_limits::request_limits))
        .layer(middleware::from_fn_with_state(
            Arc::new(hosts),
            browser_guard::browser_guard,
        ))
        .layer(middleware::from_fn(log_request))
        // gzip when the client takes it: a 100,000-member run's page is 774 KB of HTML, the
        // WASM bundle 2.5 MB (860 KB gzipped). The default predicate leaves event streams,
        // images and answers under 32 bytes alone.
        .layer(tower_http::compression::CompressionLayer::new())
        .merge(probes::router(health, draining))
}

/// The WASM bundle, its script and styles (`/pkg`): the `.gz` that `scripts/dev` writes beside
/// each at build time goes to clients that take gzip, so a 2.5 MB bundle is not compressed
/// again on every download (gzip -9: 2.56 MB → 0.86 MB); without one the file goes out as it
/// is and the compression layer gzips it.
fn bundle_files(options: &LeptosOptions) -> tower_http::services::ServeDir {
    let dir = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    tower_http::services::ServeDir::new(dir).precompressed_gzip()
}

/// One log line per request; errors carry their code (their cause was logged where it happened).
async fn log_request(request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or(path.as_str(), |p| p.as_str())
        .to_owned();
    let span = tracing::info_span!(
        "request",
        %method,
        route,
        status = tracing::field::Empty
    );
    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    // As an integer, which a trace's readers filter on (tracing-opentelemetry exports a u16
    // through its Debug, as text).
    span.record("status", i64::from(status));
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let code = response
        .extensions()
        .get::<app::model::error::AppError>()
        .map(|e| e.code.clone());
    if response.status().is_server_error() {
        tracing::error!(%method, %path, status, millis, code, "request failed");
    } else {
        tracing::info!(%method, %path, status, millis, code, "request");
    }
    response
}
