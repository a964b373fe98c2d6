//! `GET /metrics`: what Drydock is doing, for Prometheus (the OpenMetrics text format, which
//! Prometheus reads). Names follow Prometheus' conventions (`drydock_` prefix, base units in the
//! name, `_total` on counters); labels are few and bounded (states, outcomes, providers and
//! verbs), never run or member names, so a fleet of 100,000 makes no more series than one of 10.
//!
//! The metrics are the process's (one set, shared by everything in it); gauges about stored
//! state (runs by state, members upgrading) are read from the store at each scrape, so every
//! replica reports the same numbers for them.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum UpgradeOutcome {
    succeeded,
    failed,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: UpgradeOutcome,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub provider: String,
    /// The call, as the `exec` protocol names it (`observe`, `start-upgrade`, …).
    pub verb: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallErrorLabels {
    pub provider: String,
    pub verb: &'static str,
    /// `transient` (asked again later) or `permanent`.
    pub kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TransactionLabels {
    /// What the transaction writes: `run` (a decision), `simulator`.
    pub operation: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub decisions: Counter,
    pub member_upgrade_seconds: Family<OutcomeLabels, Histogram>,
    pub handover_seconds: Histogram,
    pub gate_approval_seconds: Histogram,
    pub provider_call_seconds: Family<CallLabels, Histogram>,
    pub provider_call_errors: Family<CallErrorLabels, Counter>,
    pub store_transaction_seconds: Family<TransactionLabels, Histogram>,
    pub sse_clients: Gauge,
    runs: Family<StateLabels, Gauge>,
    members_upgrading: Gauge,
}

/// From 1 ms to about 9 minutes, doubling: hand-overs and calls at the low end, slow ARM
/// operations at the high end.
fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 20))
}

/// From 10 s to about 3 days, doubling: how long upgrades and approvals take.
fn long() -> Histogram {
    Histogram::new(exponential_buckets(10.0, 2.0, 15))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("drydock");
        let decisions = Counter::default();
        registry.register(
            "decisions",
            "Decisions committed (each applies one input to a run)",
            decisions.clone(),
        );
        let member_upgrade_seconds = Family::new_with_constructor(long as fn() -> Histogram);
        registry.register(
            "member_upgrade_seconds",
            "How long members' upgrades took, from start to the report that ended them (fleet time)",
            member_upgrade_seconds.clone(),
        );
        let handover_seconds = latency();
        registry.register(
            "handover_seconds",
            "From learning that upgrades ended to committing the decision that started the next ones",
            handover_seconds.clone(),
        );
        let gate_approval_seconds = long();
        registry.register(
            "gate_approval_seconds",
            "How long approval gates waited, from the run reaching them to their approval (fleet time)",
            gate_approval_seconds.clone(),
        );
        let provider_call_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "provider_call_seconds",
            "Calls to providers, by provider and verb (a batch is one call)",
            provider_call_seconds.clone(),
        );
        let provider_call_errors = Family::default();
        registry.register(
            "provider_call_errors",
            "Provider answers that were errors, by provider, verb and kind",
            provider_call_errors.clone(),
        );
        let store_transaction_seconds = Family::new_with_constructor(latency as fn() -> Histogram);
        registry.register(
            "store_transaction_seconds",
            "Write transactions of the store, by what they write",
            store_transaction_seconds.clone(),
        );
        let sse_clients = Gauge::default();
        registry.register("sse_clients", "Event streams open now", sse_clients.clone());
        let runs = Family::default();
        registry.register("runs", "Update runs by state", runs.clone());
        let members_upgrading = Gauge::default();
        registry.register(
            "members_upgrading",
            "Members being upgraded now, in every run",
            members_upgrading.clone(),
        );
        Self {
            registry,
            decisions,
            member_upgrade_seconds,
            handover_seconds,
            gate_approval_seconds,
            provider_call_seconds,
            provider_call_errors,
            store_transaction_seconds,
            sse_clients,
            runs,
            members_upgrading,
        }
    }

    /// The text a scrape gets, with the stored state's gauges as given.
    pub fn render(&self, runs_by_state: &[(String, i64)], members_upgrading: i64) -> String {
        self.runs.clear();
        for (state, count) in runs_by_state {
            self.runs
                .get_or_create(&StateLabels {
                    state: state.clone(),
                })
                .set(*count);
        }
        self.members_upgrading.set(members_upgrading);
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    pub fn provider_call(&self, provider: &str, verb: &'static str, took: Duration) {
        self.provider_call_seconds
            .get_or_create(&CallLabels {
                provider: provider.to_owned(),
                verb,
            })
            .observe(took.as_secs_f64());
    }

    pub fn provider_error(&self, provider: &str, verb: &'static str, transient: bool) {
        self.provider_call_errors
            .get_or_create(&CallErrorLabels {
                provider: provider.to_owned(),
                verb,
                kind: if transient { "transient" } else { "permanent" },
            })
            .inc();
    }

    pub fn transaction(&self, operation: &'static str, took: Duration) {
        self.store_transaction_seconds
            .get_or_create(&TransactionLabels { operation })
            .observe(took.as_secs_f64());
    }
}

/// The process's metrics.
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}

/// Counts an open event stream for as long as it lives.
pub struct StreamOpen(());

impl StreamOpen {
    pub fn new() -> Self {
        metrics().sse_clients.inc();
        Self(())
    }
}

impl Drop for StreamOpen {
    fn drop(&mut self) {
        metrics().sse_clients.dec();
    }
}

impl Default for StreamOpen {
    fn default() -> Self {
        Self::new()
    }
}
