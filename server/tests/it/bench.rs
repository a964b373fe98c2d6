//! `drydock bench` itself: the numbers the README quotes come from it, so it must run. Several
//! runs at once on one server, each over a fleet of its own.

use crate::common;
use std::process::Command;

#[test]
fn the_benchmark_runs_several_runs_at_once_to_completion() {
    let dir = common::temp_dir("bench");
    let database = dir.join("bench.db");
    let output = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["bench", "--members", "12", "--runs", "3", "--stages", "2"])
        .args(["--groups-per-stage", "2", "--database"])
        .arg(&database)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("completed: 3 run(s), 36 members"), "{text}");
    // 12 members in 4 groups of 3, two stages: 6 sequential steps, each group 2 hand-overs.
    assert!(
        text.contains("critical path: 6 sequential upgrades"),
        "{text}"
    );
    assert!(text.contains("(over 24 hand-overs)"), "{text}");
    // The slowest hand-over beside the percentiles: one long stall hides under a p99.
    assert!(text.contains(" ms, slowest "), "{text}");
    assert!(text.contains("start-upgrade 1.00"), "{text}");
    // Where a step's time went: the run's own transactions and the simulator's starts.
    let split = text
        .lines()
        .find(|line| line.starts_with("time per sequential step in: "))
        .unwrap_or_else(|| panic!("no split of a step's time: {text}"));
    assert!(split.contains("store run "), "{split}");
    assert!(split.contains("provider sim start-upgrade "), "{split}");
    // The CPU a step took, which a busy machine inflates less than its wall time: measured.
    let cpu: f64 = text
        .lines()
        .find_map(|line| {
            line.strip_prefix(
                "CPU (every thread of the process, start command to last completion): ",
            )
        })
        .and_then(|rest| rest.split(" ms per sequential step").next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no CPU per step: {text}"));
    assert!(cpu > 0.0, "{text}");
}
