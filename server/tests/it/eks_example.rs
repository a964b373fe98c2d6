//! The example EKS provider (`examples/providers/eks/provider.py`) driven by Drydock, against a
//! stand-in for the AWS CLI on `PATH` (`examples/providers/eks/test/aws`) that answers with the
//! CLI's documented shapes and records its calls. What it shows: the mapping of EKS to clusters,
//! node pools and images; an upgrade carried out as EKS updates in order; throttling taken as
//! transient; one EKS update per step however often Drydock asks.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

fn examples() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/providers/eks")
}

fn nodegroup(version: &str, release: &str) -> Value {
    json!({"version": version, "amiType": "AL2023_x86_64_STANDARD", "releaseVersion": release, "desiredSize": 3})
}

/// A pretend AWS account with two clusters at 1.29, and the drydock.toml that drives it.
fn account(dir: &Path) -> std::path::PathBuf {
    let account = json!({
        "versions": {"1.29": "1.29.10-20241121", "1.30": "1.30.6-20241121"},
        "clusters": {"us-east-1": {
            "prod-a": {"version": "1.29", "nodegroups": {"general": nodegroup("1.29", "1.29.3-20240129")}},
            "prod-b": {"version": "1.29", "nodegroups": {"general": nodegroup("1.29", "1.29.3-20240129")}},
        }},
        "throttle": 0,
    });
    std::fs::write(dir.join("account.json"), account.to_string()).unwrap();
    let path = format!(
        "{}:{}",
        examples().join("test").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let config = dir.join("drydock.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[[providers]]
name = "eks"
kind = "exec"
command = ["python3", "{script}"]
poll_interval_seconds = 1
observation_ttl_seconds = 0
backoff_cap_seconds = 1

[providers.env]
PATH = "{path}"
# A Python from pyenv puts its own bin (with a real aws) first on PATH: name the stand-in.
AWS_CLI = "{aws}"
FAKE_AWS_DIR = "{dir}"
EKS_REGIONS = "us-east-1"
EKS_STATE_DIR = "{dir}/operations"
EKS_RETRY_AFTER_SECONDS = "0.2"
"#,
            script = examples().join("provider.py").display(),
            aws = examples().join("test/aws").display(),
            dir = dir.display(),
        ),
    )
    .unwrap();
    config
}

/// Makes the stand-in throttle its next `calls` calls, as AWS does under load.
fn throttle(dir: &Path, calls: u32) {
    let lock = std::fs::File::create(dir.join("lock")).unwrap();
    lock.lock().unwrap();
    let path = dir.join("account.json");
    let mut account: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    account["throttle"] = json!(calls);
    std::fs::write(&path, account.to_string()).unwrap();
    lock.unlock().unwrap();
}

fn aws_calls(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("calls.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn a_full_upgrade_of_eks_clusters_through_the_aws_cli() {
    let dir = common::temp_dir("eks");
    let s = common::start_configured(&account(&dir)).await;
    s.fleet("f").await;
    for name in ["prod-a", "prod-b"] {
        let joined = s
            .join("f", name, &format!("exec:eks/us-east-1/{name}"), None)
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    let member = s.get("/api/v1/fleets/f/members/prod-a").await.body;
    let status = &member["properties"]["status"];
    assert_eq!(status["location"], "us-east-1");
    assert_eq!(status["kubernetesVersion"], "1.29.0");
    assert_eq!(
        status["nodePools"][0]["nodeImageVersion"],
        "AL2023-x86-64-STANDARD-20240129"
    );

    // A catalog that cannot be read yet is the provider's trouble, said as such.
    throttle(&dir, 1);
    let early = s
        .put(
            "/api/v1/fleets/f/updateRuns/r",
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.30.0"}}}}),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        early.body
    );
    assert!(
        early.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("catalog of provider eks could not be read yet")
    );
    let created = s
        .put(
            "/api/v1/fleets/f/updateRuns/r",
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.30.0"}}}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    throttle(&dir, 3);
    s.call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
        .await;
    let deadline = Instant::now() + Duration::from_secs(120);
    let run = loop {
        let run = s.get("/api/v1/fleets/f/updateRuns/r").await.body;
        let state = run["properties"]["status"]["status"]["state"].clone();
        if state != "Running" && state != "NotStarted" {
            break run;
        }
        assert!(Instant::now() < deadline, "the run did not end: {run}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        run["properties"]["status"]["status"]["state"], "Completed",
        "{run}"
    );

    let account: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("account.json")).unwrap()).unwrap();
    for name in ["prod-a", "prod-b"] {
        let cluster = &account["clusters"]["us-east-1"][name];
        assert_eq!(cluster["version"], "1.30", "{name}");
        assert_eq!(cluster["nodegroups"]["general"]["version"], "1.30");
        assert_eq!(
            cluster["nodegroups"]["general"]["releaseVersion"],
            "1.30.6-20241121"
        );
    }
    let calls = aws_calls(&dir);
    for name in ["prod-a", "prod-b"] {
        let updates = |what: &str| {
            calls
                .iter()
                .filter(|c| c.contains(what) && c.contains(&format!(" {name} ")))
                .collect::<Vec<_>>()
        };
        let control_plane = updates("eks update-cluster-version");
        let node_group = updates("eks update-nodegroup-version");
        assert!(
            control_plane
                .iter()
                .all(|c| c.contains("--client-request-token")),
            "{control_plane:?}"
        );
        let started = |list: &[&String]| {
            list.iter()
                .map(|c| {
                    c.split("--client-request-token ")
                        .nth(1)
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap()
                        .to_owned()
                })
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(
            started(&control_plane).len(),
            1,
            "one control-plane update: {control_plane:?}"
        );
        assert_eq!(
            started(&node_group).len(),
            1,
            "one node-group update: {node_group:?}"
        );
    }
    let updates = account["updates"].as_object().unwrap();
    assert_eq!(updates.len(), 4, "two EKS updates per cluster: {updates:?}");
    eprintln!("aws CLI calls for 2 clusters: {}", calls.len());
}
