//! Logs and, when an OTLP endpoint is configured, OpenTelemetry traces: the same `tracing` spans
//! the JSON logs name (a run's driver, each decision, each provider call, each request) are
//! exported over OTLP/HTTP (JSON) in batches, so a collector (OpenTelemetry Collector, Jaeger,
//! Tempo…) shows where a run's time goes. Without an endpoint nothing is exported and nothing
//! extra runs.

use crate::config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer};

/// What exports traces while the server runs; flushed when dropped, so the spans of the last
/// moments before a shutdown reach the collector.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take()
            && let Err(error) = provider.shutdown()
        {
            eprintln!("exporting the last traces failed: {error}");
        }
    }
}

/// Where OTLP/HTTP traces go: `endpoint` is the collector's base URL (as
/// `OTEL_EXPORTER_OTLP_ENDPOINT` is), traces are posted under `/v1/traces`.
pub fn traces_url(endpoint: &str) -> String {
    format!("{}/v1/traces", endpoint.trim_end_matches('/'))
}

/// Installs logging (`format`, filtered by `RUST_LOG`) and, with `otlp_endpoint`, the trace
/// export; `replica` names this server among replicas in every span it exports.
pub fn install(
    format: LogFormat,
    otlp_endpoint: Option<&str>,
    replica: &str,
) -> anyhow::Result<Telemetry> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
        // One JSON object a line: the event's fields at the top level, the spans it happened
        // in (the run a driver drives) beside them.
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
    };
    let traces = otlp_endpoint.map(|e| exporter(e, replica)).transpose()?;
    let bridge = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("drydock"))
            // No `busy_ns`/`idle_ns` on every span: a span's start and end say how long it took.
            .with_tracked_inactivity(false)
    });
    tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(bridge)
        .init();
    Ok(Telemetry { traces })
}

fn exporter(endpoint: &str, replica: &str) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpJson)
        .with_endpoint(traces_url(endpoint))
        .build()?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("drydock")
        .with_attributes([
            opentelemetry::KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            opentelemetry::KeyValue::new("service.instance.id", replica.to_owned()),
        ])
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
