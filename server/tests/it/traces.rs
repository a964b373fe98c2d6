//! `--otlp-endpoint`: a run's decisions, its provider calls and the requests that drove it reach
//! an OpenTelemetry collector as OTLP/HTTP (JSON) spans. The collector here is a plain HTTP
//! server that keeps what is posted to `/v1/traces` (no collector is packaged for this machine);
//! what it checks is the wire format every collector reads.

use crate::common;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The bodies posted to `/v1/traces` of a collector listening on the returned port.
fn collector() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let posted = Arc::new(Mutex::new(Vec::new()));
    let kept = posted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let kept = kept.clone();
            std::thread::spawn(move || answer_posts(stream, &kept));
        }
    });
    (port, posted)
}

/// Answers the requests of one connection (the exporter keeps it alive) with 200 and `{}`.
fn answer_posts(stream: std::net::TcpStream, kept: &Mutex<Vec<Value>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        if request_line.starts_with("POST /v1/traces ") {
            kept.lock()
                .unwrap()
                .push(serde_json::from_slice(&body).unwrap());
        }
        let answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        writer.write_all(answer.as_bytes()).unwrap();
    }
}

/// Every span posted, each with its resource's attributes beside it.
fn spans(posted: &Mutex<Vec<Value>>) -> Vec<(Value, Value)> {
    let posted = posted.lock().unwrap();
    let mut spans = Vec::new();
    for body in posted.iter() {
        for resource in body["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    spans.push((resource["resource"].clone(), span.clone()));
                }
            }
        }
    }
    spans
}

/// An attribute's value as text (OTLP JSON says integers as strings or numbers).
fn attribute(holder: &Value, key: &str) -> Option<String> {
    let found = holder["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?;
    let value = &found["value"];
    value["stringValue"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| value["intValue"].as_str().map(str::to_owned))
        .or_else(|| value["intValue"].as_i64().map(|n| n.to_string()))
}

#[test]
fn a_runs_decisions_provider_calls_and_requests_reach_the_collector_as_one_trace() {
    let (collector_port, posted) = collector();
    let endpoint = format!("http://127.0.0.1:{collector_port}");
    let db = common::temp_db();
    let port = common::free_port();
    let args = [
        "--database-url",
        &db,
        "--time-scale",
        "5000",
        "--replica-id",
        "traced",
        "--otlp-endpoint",
        &endpoint,
    ];
    let _server = common::spawn_serve(port, &args);
    crate::crash::set_up(port, "traced", 10);
    common::wait_until_completed(port, "/api/v1/fleets/traced/updateRuns/run-1");

    // The batches go out every few seconds; each of the ten members is started once.
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = |spans: &[(Value, Value)], name: &str, key: &str, value: &str| {
        spans
            .iter()
            .any(|(_, s)| s["name"] == name && attribute(s, key).as_deref() == Some(value))
    };
    let spans = loop {
        let spans = spans(&posted);
        let complete = upgrades_started(&spans) == 10
            && seen(&spans, "decision", "input", "start")
            && seen(&spans, "provider call", "verb", "start-upgrade")
            && spans.iter().any(|(_, s)| {
                s["name"] == "request"
                    && attribute(s, "route").is_some_and(|r| r.ends_with("/start"))
            });
        if complete {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "spans missing after 30 s: {:?}",
            spans
                .iter()
                .map(|(_, s)| (&s["name"], &s["attributes"]))
                .collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(200));
    };

    // A request's status is an integer, as collectors filter on it.
    let start = spans
        .iter()
        .map(|(_, s)| s)
        .find(|s| {
            s["name"] == "request" && attribute(s, "route").is_some_and(|r| r.ends_with("/start"))
        })
        .unwrap();
    let status = start["attributes"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["key"] == "status"))
        .map(|a| &a["value"]);
    assert!(
        status.is_some_and(|v| v["intValue"] == "200" || v["intValue"] == 200),
        "{status:?}"
    );

    let (resource, _) = &spans[0];
    assert_eq!(
        attribute(resource, "service.name").as_deref(),
        Some("drydock")
    );
    assert_eq!(
        attribute(resource, "service.instance.id").as_deref(),
        Some("traced")
    );
    // The run's decisions, and the provider calls its driver made to start and follow its
    // upgrades, hang under the run's span: one trace, the run's own.
    let decisions: Vec<&Value> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s["name"] == "decision")
        .collect();
    let traces: std::collections::BTreeSet<&str> = decisions
        .iter()
        .filter_map(|s| s["traceId"].as_str())
        .collect();
    assert_eq!(traces.len(), 1, "{decisions:?}");
    assert!(
        decisions
            .iter()
            .all(|s| s["parentSpanId"].as_str().is_some_and(|p| !p.is_empty())),
        "{decisions:?}"
    );
    let starts_in_the_run = spans.iter().any(|(_, s)| {
        s["name"] == "provider call"
            && attribute(s, "verb").as_deref() == Some("start-upgrade")
            && traces.contains(s["traceId"].as_str().unwrap_or_default())
    });
    assert!(
        starts_in_the_run,
        "no start-upgrade call in the run's trace"
    );
}

/// The upgrades the decisions among `spans` say they started.
fn upgrades_started(spans: &[(Value, Value)]) -> u64 {
    spans
        .iter()
        .filter(|(_, s)| s["name"] == "decision")
        .filter_map(|(_, s)| attribute(s, "upgrades_started")?.parse::<u64>().ok())
        .sum()
}

#[test]
fn an_otlp_endpoint_that_is_not_a_url_is_refused_at_start() {
    let parsed = <server::config::Cli as clap::Parser>::try_parse_from([
        "drydock",
        "serve",
        "--otlp-endpoint",
        "localhost:4318",
    ]);
    let Err(error) = parsed else {
        panic!("a host without a scheme was taken as a collector's URL");
    };
    let error = error.to_string();
    assert!(error.contains("not an http:// or https:// URL"), "{error}");
}
