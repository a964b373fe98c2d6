//! `GET /metrics`: what Prometheus scrapes. The server runs in a process of its own, so the
//! process-wide metrics are this test's alone.

use crate::common;

/// The value of the sample `name` (with its labels, as written), if the text has it.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

#[test]
fn metrics_tell_runs_upgrades_provider_calls_and_transactions() {
    let db = common::temp_db();
    let port = common::free_port();
    let args = ["--database-url", &*db, "--time-scale", "5000"];
    let _server = common::spawn_serve(port, &args);
    crate::crash::set_up(port, "metered", 20);
    common::wait_until_completed(port, "/api/v1/fleets/metered/updateRuns/run-1");

    let (status, head, text) = common::http_text(port, "/metrics");
    assert_eq!(status, 200, "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    assert!(text.trim_end().ends_with("# EOF"), "{text}");
    assert_eq!(
        sample(&text, "drydock_runs{state=\"Completed\"}"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "drydock_members_upgrading"),
        Some(0.0),
        "{text}"
    );
    assert!(
        sample(&text, "drydock_decisions_total").unwrap_or(0.0) >= 2.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "drydock_member_upgrade_seconds_count{outcome=\"succeeded\"}"
        ),
        Some(20.0),
        "every member's upgrade is measured once: {text}"
    );
    assert!(
        sample(
            &text,
            "drydock_provider_call_seconds_count{provider=\"sim\",verb=\"start-upgrade\"}"
        )
        .unwrap_or(0.0)
            >= 1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "drydock_store_transaction_seconds_count{operation=\"run\"}"
        )
        .unwrap_or(0.0)
            >= 2.0,
        "{text}"
    );
    assert!(
        sample(&text, "drydock_handover_seconds_count").unwrap_or(0.0) >= 1.0,
        "{text}"
    );
    assert_eq!(sample(&text, "drydock_sse_clients"), Some(0.0), "{text}");
    // Declared before anything is measured (labelled families appear with their first sample).
    assert!(
        text.contains("# TYPE drydock_gate_approval_seconds histogram"),
        "{text}"
    );
}
