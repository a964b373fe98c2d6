//! The seeds' CLI walkthrough, end to end against `drydock serve --demo`, through the same
//! binary's `updatestrategy`, `updaterun` and `member` commands.

use crate::common;

use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_drydock");

struct Served {
    /// Held for its `Drop`: the server is killed with the test, before its files go with `_db`
    /// (fields drop in order).
    _child: common::KillOnDrop,
    url: String,
    _db: common::TempDb,
}

fn serve(scale: &str) -> Served {
    let port = common::free_port();
    let db = common::temp_db();
    let args = ["--demo", "--database-url", &db, "--time-scale", scale];
    Served {
        _child: common::spawn_serve(port, &args),
        url: format!("http://127.0.0.1:{port}"),
        _db: db,
    }
}

fn run(served: &Served, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DRYDOCK_SERVER", &served.url)
        .output()
        .unwrap()
}

/// Runs a CLI command that must succeed; returns its JSON output.
fn ok(served: &Served, args: &[&str]) -> Value {
    let out = run(served, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn state(run: &Value) -> String {
    run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn wait_for(served: &Served, name: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let run = ok(served, &["updaterun", "show", "-f", "demo", "-n", name]);
        if state(&run) == wanted {
            return run;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached {wanted}: {}",
            state(&run)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn started(m: &Value) -> Option<app::model::time::Timestamp> {
    m["status"]["startTime"]
        .as_str()
        .map(|t| app::model::time::Timestamp::parse_rfc3339(t).unwrap())
}

fn versions(served: &Served) -> Vec<String> {
    let port = served.url.rsplit(':').next().unwrap().parse().unwrap();
    let (_, catalog) = common::http(port, "GET", "/api/v1/simulator/catalog", None).unwrap();
    catalog["kubernetesVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_seed_walkthrough_works_from_the_command_line() {
    let served = serve("5000");
    let dir = common::temp_dir("cli-walkthrough");
    let stages_file = dir.join("example-stages.json");
    let stages = json!({"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}], "afterStageWaitInSeconds": 3600},
        {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}
    ]});
    std::fs::write(&stages_file, stages.to_string()).unwrap();
    let stages_path = stages_file.to_str().unwrap();
    let all = versions(&served);
    let target = all
        .iter()
        .rev()
        .find(|v| v.starts_with("1.30."))
        .unwrap()
        .clone();

    // Members: list them, put one in a group.
    let listed = ok(&served, &["member", "list", "-f", "demo"]);
    assert_eq!(listed["value"].as_array().unwrap().len(), 12);
    let updated = ok(
        &served,
        &[
            "member",
            "update",
            "-f",
            "demo",
            "-n",
            "aks-eastus-1",
            "--update-group",
            "group-1a",
        ],
    );
    assert_eq!(updated["properties"]["group"], "group-1a");

    // A strategy from the stages file, then a run from it: node images only, Consistent.
    let strategy = ok(
        &served,
        &[
            "updatestrategy",
            "create",
            "-f",
            "demo",
            "-n",
            "strategy-1",
            "--stages",
            stages_path,
        ],
    );
    assert_eq!(strategy["properties"]["strategy"], stages);
    assert_eq!(
        ok(&served, &["updatestrategy", "list", "-f", "demo"])["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ok(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "run-5",
            "--update-strategy-name",
            "strategy-1",
            "--upgrade-type",
            "NodeImageOnly",
            "--node-image-selection",
            "Consistent",
            "--stopped-cluster-action",
            "Fail",
        ],
    );
    ok(
        &served,
        &[
            "updaterun",
            "skip",
            "-f",
            "demo",
            "-n",
            "run-5",
            "--targets",
            "Group:group-2a",
        ],
    );
    ok(
        &served,
        &["updaterun", "start", "-f", "demo", "-n", "run-5"],
    );
    let run5 = wait_for(&served, "run-5", "Completed");
    assert_eq!(
        run5["properties"]["managedClusterUpdate"]["stoppedClusterAction"],
        "Fail"
    );
    let stage_states: Vec<&str> = run5["properties"]["status"]["stages"][1]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["status"]["state"].as_str().unwrap())
        .collect();
    assert_eq!(
        stage_states,
        ["Skipped", "Completed"],
        "group-2a skipped, group-2b done"
    );

    // Inline stages, control plane only; skip a whole stage before starting.
    ok(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "run-4",
            "--upgrade-type",
            "ControlPlaneOnly",
            "--kubernetes-version",
            &target,
            "--stages",
            stages_path,
        ],
    );
    ok(
        &served,
        &[
            "updaterun",
            "skip",
            "-f",
            "demo",
            "-n",
            "run-4",
            "--targets",
            "Stage:stage2",
        ],
    );
    ok(
        &served,
        &["updaterun", "start", "-f", "demo", "-n", "run-4"],
    );
    let run4 = wait_for(&served, "run-4", "Completed");
    let stages4 = run4["properties"]["status"]["stages"].as_array().unwrap();
    assert_eq!(stages4[1]["status"]["state"], "Skipped");
    let first_stage_end = stages4[0]["status"]["completedTime"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        common::run_members(&run4["properties"]["status"]["stages"])
            .iter()
            .filter(|m| m["status"]["state"] == "Completed")
            .all(|m| m["status"]["completedTime"].as_str().unwrap() <= first_stage_end.as_str())
    );

    // One by one, Full: start, stop, resume; the window member is skipped so it need not wait a week.
    ok(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "run-1",
            "--upgrade-type",
            "Full",
            "--kubernetes-version",
            &target,
        ],
    );
    ok(
        &served,
        &[
            "updaterun",
            "skip",
            "-f",
            "demo",
            "-n",
            "run-1",
            "--targets",
            "Member:aks-westeurope-2",
        ],
    );
    ok(
        &served,
        &["updaterun", "start", "-f", "demo", "-n", "run-1"],
    );
    let stopping = ok(&served, &["updaterun", "stop", "-f", "demo", "-n", "run-1"]);
    assert!(
        ["Stopping", "Stopped"].contains(&state(&stopping).as_str()),
        "{}",
        state(&stopping)
    );
    wait_for(&served, "run-1", "Stopped");
    ok(
        &served,
        &["updaterun", "start", "-f", "demo", "-n", "run-1"],
    );
    let run1 = wait_for(&served, "run-1", "Completed");
    let mut order: Vec<(app::model::time::Timestamp, String)> =
        common::run_members(&run1["properties"]["status"]["stages"])
            .iter()
            .filter_map(|m| Some((started(m)?, m["name"].as_str()?.to_owned())))
            .collect();
    order.sort();
    let names: Vec<&String> = order.iter().map(|(_, n)| n).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "one by one, in name order");

    assert_eq!(
        ok(&served, &["updaterun", "list", "-f", "demo"])["value"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let plan = ok(&served, &["updaterun", "plan", "-f", "demo", "-n", "run-1"]);
    assert!(plan["stages"].is_array());

    // Errors come back in words, with a failing exit code.
    let refused = run(&served, &["updaterun", "stop", "-f", "demo", "-n", "run-1"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("completed"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let bad = run(
        &served,
        &[
            "updaterun",
            "skip",
            "-f",
            "demo",
            "-n",
            "run-1",
            "--targets",
            "group-1a",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("should look like Group:name"));
    let custom = run(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "run-custom",
            "--upgrade-type",
            "NodeImageOnly",
            "--node-image-selection",
            "Custom",
            "--custom-node-image-versions",
            "AKSUbuntu-2204gen2containerd-209901.01.0",
        ],
    );
    assert!(
        String::from_utf8_lossy(&custom.stderr).contains(
            "node image AKSUbuntu-2204gen2containerd-209901.01.0 is not offered in any region"
        ),
        "{}",
        String::from_utf8_lossy(&custom.stderr)
    );
    ok(
        &served,
        &["updaterun", "delete", "-f", "demo", "-n", "run-1"],
    );
}

#[test]
fn a_gate_is_listed_shown_and_approved_from_the_command_line() {
    let served = serve("5000");
    let dir = common::temp_dir("cli-gates");
    let stages_file = dir.join("gated-stages.json");
    let stages = json!({"stages": [{"name": "canary", "groups": [{"name": "group-1a"}],
        "beforeGates": [{"displayName": "Canary window agreed", "type": "Approval"}]}]});
    std::fs::write(&stages_file, stages.to_string()).unwrap();
    let stages_path = stages_file.to_str().unwrap();
    ok(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "gated",
            "--upgrade-type",
            "NodeImageOnly",
            "--stages",
            stages_path,
        ],
    );
    ok(
        &served,
        &["updaterun", "start", "-f", "demo", "-n", "gated"],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let pending = loop {
        let listed = ok(
            &served,
            &[
                "gate",
                "list",
                "-f",
                "demo",
                "--state",
                "Pending",
                "--gate-type",
                "Approval",
                "--update-run-name",
                "gated",
            ],
        );
        let gates = listed["value"].as_array().unwrap().clone();
        if gates
            .iter()
            .any(|g| g["properties"]["reachedTime"].is_string())
        {
            break gates;
        }
        assert!(
            Instant::now() < deadline,
            "the gate was never reached: {listed}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["name"], "gated.canary.before");
    let shown = ok(
        &served,
        &[
            "gate",
            "show",
            "-f",
            "demo",
            "--gate-name",
            "gated.canary.before",
        ],
    );
    assert_eq!(shown["properties"]["displayName"], "Canary window agreed");

    let refused = run(
        &served,
        &[
            "gate",
            "approve",
            "-f",
            "demo",
            "-n",
            "gated.nowhere.before",
        ],
    );
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("GateNotFound"));

    let approved = ok(
        &served,
        &[
            "gate",
            "approve",
            "-f",
            "demo",
            "-n",
            "gated.canary.before",
            "--comment",
            "go ahead",
        ],
    );
    assert_eq!(approved["properties"]["state"], "Completed");
    assert_eq!(approved["properties"]["approval"]["comment"], "go ahead");
    let done = wait_for(&served, "gated", "Completed");
    let gates = &done["properties"]["status"]["stages"][0]["beforeGates"];
    assert_eq!(gates[0]["gateId"], "gated.canary.before");
    assert_eq!(gates[0]["status"]["state"], "Completed");
}

#[test]
fn resources_are_applied_from_files_and_placed_from_the_command_line() {
    let served = serve("600");
    let dir = common::temp_dir("cli-placement");
    let objects = dir.join("web.yaml");
    std::fs::write(
        &objects,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: web\ndata:\n  mode: fast\n",
    )
    .unwrap();
    let applied = ok(
        &served,
        &[
            "resource",
            "apply",
            "-f",
            "demo",
            "-n",
            "web",
            "--file",
            objects.to_str().unwrap(),
        ],
    );
    assert_eq!(applied["properties"]["latestSnapshot"]["index"], 1);
    // The same file again makes no snapshot.
    ok(
        &served,
        &[
            "resource",
            "apply",
            "-f",
            "demo",
            "-n",
            "web",
            "--file",
            objects.to_str().unwrap(),
        ],
    );
    let snapshots = ok(
        &served,
        &["resource", "snapshots", "-f", "demo", "-n", "web"],
    );
    assert_eq!(snapshots["value"].as_array().unwrap().len(), 1);

    let broken = dir.join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n",
    )
    .unwrap();
    let refused = run(
        &served,
        &[
            "resource",
            "apply",
            "-f",
            "demo",
            "-n",
            "web",
            "--file",
            broken.to_str().unwrap(),
        ],
    );
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("properties.yaml line 4: metadata.name: 'Bad_Name'"),
        "{said}"
    );

    let placement = dir.join("placement.yaml");
    std::fs::write(
        &placement,
        "resources: [web]\npolicy:\n  placementType: PickN\n  numberOfClusters: 2\n  topologySpreadConstraints:\n    - topologyKey: fleet.azure.com/location\n",
    )
    .unwrap();
    let created = ok(
        &served,
        &[
            "placement",
            "create",
            "-f",
            "demo",
            "-n",
            "web",
            "--file",
            placement.to_str().unwrap(),
        ],
    );
    let conditions = &created["properties"]["status"]["conditions"];
    let picked: i64 = ["Scheduled", "Applied", "Available"]
        .iter()
        .map(|state| conditions[*state].as_i64().unwrap())
        .sum();
    assert_eq!(picked, 2, "{conditions}");
    let shown = ok(&served, &["placement", "show", "-f", "demo", "-n", "web"]);
    assert_eq!(shown["properties"]["policy"]["numberOfClusters"], 2);
    assert_eq!(
        ok(&served, &["placement", "list", "-f", "demo"])["value"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // An External placement goes out through an update run.
    let external = dir.join("external.yaml");
    std::fs::write(
        &external,
        "resources: [web]\npolicy:\n  placementType: PickN\n  numberOfClusters: 3\nstrategy:\n  type: External\n",
    )
    .unwrap();
    let args = [
        "placement",
        "create",
        "-f",
        "demo",
        "-n",
        "by-run",
        "--file",
    ];
    ok(
        &served,
        &[&args[..], &[external.to_str().unwrap()]].concat(),
    );
    let created = ok(
        &served,
        &[
            "updaterun",
            "create",
            "-f",
            "demo",
            "-n",
            "roll",
            "--placement",
            "by-run",
            "--snapshot",
            "1",
        ],
    );
    assert_eq!(
        created["properties"]["placementRollout"],
        json!({"placementName": "by-run", "snapshot": {"web": 1}})
    );
    ok(&served, &["updaterun", "start", "-f", "demo", "-n", "roll"]);
    wait_for(&served, "roll", "Completed");
    let placed = ok(
        &served,
        &["placement", "show", "-f", "demo", "-n", "by-run"],
    );
    assert_eq!(
        placed["properties"]["status"]["conditions"]["Available"], 3,
        "{placed}"
    );
}
