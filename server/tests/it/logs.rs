//! `--log-format json`: what a log pipeline reads. Every line is one JSON object, and the lines a
//! run's driver writes name the run they are about.

use crate::common;
use serde_json::Value;

#[test]
fn json_logs_are_one_object_a_line_naming_the_run() {
    let db = common::temp_db();
    let dir = common::temp_dir("logs");
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let port = common::free_port();
    let args = [
        "--database-url",
        &db,
        "--time-scale",
        "5000",
        "--log-format",
        "json",
    ];
    let mut server = common::spawn_serve_writing(port, &args, log.into());
    crate::crash::set_up(port, "logs", 10);
    common::wait_until_completed(port, "/api/v1/fleets/logs/updateRuns/run-1");
    server.kill();

    let text = std::fs::read_to_string(&log_path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string()),
        "{text}"
    );
    let about_the_run: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            l["spans"].as_array().is_some_and(|spans| {
                spans
                    .iter()
                    .any(|s| s["name"] == "run" && s["fleet"] == "logs" && s["run"] == "run-1")
            })
        })
        .collect();
    let states: Vec<&str> = about_the_run
        .iter()
        .filter_map(|l| l["state"].as_str())
        .collect();
    assert_eq!(states, ["Running", "Completed"], "{text}");
}
