//! Real AKS clusters through the `aks` provider, against a faithful fake of Azure Resource
//! Manager and its token endpoint (`common::fake_arm`): what the fake received (every request)
//! and what it holds says what would have happened to the clusters.

use crate::common::fake_arm::{FakeArm, SECRET};
use crate::common::runs::{member, start_run, state, wait_until};
use crate::common::{self, FastServer};

use axum::http::StatusCode;
use serde_json::{Value, json};

const FROM: &str = "1.29.9";
const TO: &str = "1.30.5";
const OLD_IMAGE: &str = "202409.01.0";
const NEW_IMAGE: &str = "202410.01.0";

/// Four clusters of two pools, two in each of two regions, and a `drydock.toml` for them that
/// caches nothing.
async fn fake_fleet() -> (FakeArm, std::path::PathBuf) {
    let arm = fake_clusters().await;
    let config = arm.config();
    (arm, config)
}

async fn fake_clusters() -> FakeArm {
    let arm = FakeArm::start().await;
    for (name, region) in [
        ("east-1", "eastus"),
        ("east-2", "eastus"),
        ("west-1", "westeurope"),
        ("west-2", "westeurope"),
    ] {
        arm.add_cluster(name, region, FROM, &[("system", 3), ("user", 0)], OLD_IMAGE);
    }
    arm.with(|w| {
        for region in ["eastus", "westeurope"] {
            w.latest_image.insert(region.into(), NEW_IMAGE.into());
            w.versions
                .insert(region.into(), vec![FROM.into(), TO.into(), "1.31.2".into()]);
        }
    });
    arm
}

async fn joined(config: &std::path::Path) -> FastServer {
    let s = common::start_configured(config).await;
    s.fleet("f").await;
    for name in ["east-1", "east-2", "west-1", "west-2"] {
        // ARM compares ids without regard to case; so does Drydock.
        let id = FakeArm::id(name).replace("resourceGroups", "ResourceGroups");
        let joined = s.join("f", name, &id, None).await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    s
}

fn upgrade(kind: &str, version: Option<&str>) -> Value {
    let mut upgrade = json!({"type": kind});
    if let Some(v) = version {
        upgrade["kubernetesVersion"] = json!(v);
    }
    json!({"managedClusterUpdate": {"upgrade": upgrade}})
}

async fn run_to_the_end(s: &FastServer, properties: Value) -> Value {
    start_run(s, properties).await;
    let run = wait_until(s, |r| !matches!(state(r), "Running" | "NotStarted")).await;
    assert_eq!(state(&run), "Completed", "{run}");
    assert_eq!(
        s.delete("/api/v1/fleets/f/updateRuns/r").await.status,
        StatusCode::OK
    );
    run
}

fn pools(cluster: &Value) -> Vec<Value> {
    cluster["properties"]["agentPoolProfiles"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn control_plane_full_and_node_image_runs_across_two_regions_write_exactly_once_each() {
    let (arm, config) = fake_fleet().await;
    let s = joined(&config).await;
    let member_status = s.get("/api/v1/fleets/f/members/west-1").await.body;
    let status = &member_status["properties"]["status"];
    assert_eq!(status["location"], "westeurope");
    assert_eq!(status["kubernetesVersion"], FROM);
    assert_eq!(member_status["properties"]["provider"], "azure");

    // ControlPlaneOnly: one PUT per cluster, pools left where they were.
    run_to_the_end(&s, upgrade("ControlPlaneOnly", Some(TO))).await;
    for name in ["east-1", "east-2", "west-1", "west-2"] {
        let cluster = arm.cluster(name);
        assert_eq!(cluster["properties"]["currentKubernetesVersion"], TO);
        assert!(
            pools(&cluster)
                .iter()
                .all(|p| p["currentOrchestratorVersion"] == FROM)
        );
        assert_eq!(arm.accepted("PUT", "cluster", Some(name)), 1, "{name}");
    }

    // Full: the pools follow (one more PUT each), and take the newest image with them.
    run_to_the_end(&s, upgrade("Full", Some(TO))).await;
    for name in ["east-1", "east-2", "west-1", "west-2"] {
        let cluster = arm.cluster(name);
        assert!(
            pools(&cluster)
                .iter()
                .all(|p| p["currentOrchestratorVersion"] == TO)
        );
        assert!(
            pools(&cluster)
                .iter()
                .all(|p| p["nodeImageVersion"].as_str().unwrap().ends_with(NEW_IMAGE))
        );
        assert_eq!(arm.accepted("PUT", "cluster", Some(name)), 2, "{name}");
        assert_eq!(
            arm.accepted("POST", "upgradeNodeImageVersion", Some(name)),
            0,
            "{name}"
        );
    }

    // NodeImageOnly once AKS ships a newer image: one POST per pool, no PUT.
    arm.with(|w| {
        w.latest_image
            .values_mut()
            .for_each(|v| *v = "202411.01.0".into())
    });
    run_to_the_end(&s, upgrade("NodeImageOnly", None)).await;
    for name in ["east-1", "east-2", "west-1", "west-2"] {
        let cluster = arm.cluster(name);
        assert!(
            pools(&cluster).iter().all(|p| p["nodeImageVersion"]
                .as_str()
                .unwrap()
                .ends_with("202411.01.0")),
            "{cluster}"
        );
        assert_eq!(
            arm.accepted("POST", "upgradeNodeImageVersion", Some(name)),
            2,
            "{name}"
        );
        assert_eq!(arm.accepted("PUT", "cluster", Some(name)), 2, "{name}");
    }
    let providers = s.get("/api/v1/providers/azure").await.body;
    assert_eq!(providers["properties"]["kind"], "aks");
    assert!(
        !providers.to_string().contains(SECRET),
        "the secret is never shown"
    );
    let total = |method: &str, kind: &str| arm.count(method, kind, None);
    eprintln!(
        "ARM requests for 3 runs of 4 members: GET cluster {}, GET operation {}, GET maintenance {}, GET upgradeProfile {}, GET versions {}, tokens {}",
        total("GET", "cluster"),
        total("GET", "operation"),
        total("GET", "maintenanceConfiguration"),
        total("GET", "upgradeProfile"),
        total("GET", "kubernetesVersions"),
        total("POST", "token")
    );
    assert_eq!(total("POST", "token"), 1, "the token is cached");
}

#[tokio::test]
async fn throttling_busy_clusters_and_stopped_ones_never_fail_a_run_or_write_twice() {
    let (arm, config) = fake_fleet().await;
    let s = joined(&config).await;
    // Someone else is scaling east-2 when the run reaches it; west-2 is stopped.
    arm.with(|w| {
        w.clusters.get_mut("east-2").unwrap()["properties"]["provisioningState"] = json!("Scaling");
        w.clusters.get_mut("west-2").unwrap()["properties"]["powerState"] =
            json!({"code": "Stopped"});
    });
    start_run(&s, upgrade("ControlPlaneOnly", Some(TO))).await;
    // Then ARM throttles for a while, and another operation slips in before the next write.
    arm.with(|w| {
        w.throttle_next = 5;
        w.busy_next_writes = 2;
        // And the token Drydock holds expires early.
        w.tokens_valid_from = w.tokens_issued + 1;
    });
    // Until the other operation ends the member waits for the provider; then it goes on.
    wait_until(&s, |r| {
        member(r, "east-2")["status"]["state"] == "Pending"
            || arm.count("GET", "cluster", Some("east-2")) > 6
    })
    .await;
    arm.with(|w| {
        w.clusters.get_mut("east-2").unwrap()["properties"]["provisioningState"] =
            json!("Succeeded")
    });
    let run = wait_until(&s, |r| !matches!(state(r), "Running" | "NotStarted")).await;
    assert_eq!(state(&run), "Completed", "{run}");
    let stopped = member(&run, "west-2");
    assert_eq!(stopped["status"]["state"], "Skipped", "{stopped}");
    let reason = stopped["message"].as_str().unwrap_or_default();
    assert!(reason.contains("stopped"), "{stopped}");
    assert_eq!(arm.accepted("PUT", "cluster", Some("west-2")), 0);
    assert_eq!(
        arm.count("POST", "token", None),
        2,
        "a refused token is fetched again once"
    );
    for name in ["east-1", "east-2", "west-1"] {
        assert_eq!(arm.accepted("PUT", "cluster", Some(name)), 1, "{name}");
        assert_eq!(
            arm.cluster(name)["properties"]["currentKubernetesVersion"],
            TO
        );
    }
}

/// What one member's upgrade costs in ARM requests, with the provider's default caching (the
/// README's numbers): printed, and the deterministic parts asserted.
#[tokio::test]
async fn the_arm_requests_per_member_upgrade_with_default_caching() {
    let arm = fake_clusters().await;
    let config = arm.config_with("");
    let s = joined(&config).await;
    let before: Vec<usize> = KINDS.iter().map(|(m, k)| arm.count(m, k, None)).collect();
    run_to_the_end(&s, upgrade("ControlPlaneOnly", Some(TO))).await;
    let per_member: Vec<String> = KINDS
        .iter()
        .zip(before)
        .map(|((m, k), b)| format!("{m} {k}: {:.2}", (arm.count(m, k, None) - b) as f64 / 4.0))
        .collect();
    eprintln!(
        "ARM requests per member upgrade (ControlPlaneOnly, 4 members, 2 regions): {}",
        per_member.join(", ")
    );
    for name in ["east-1", "east-2", "west-1", "west-2"] {
        assert_eq!(arm.count("PUT", "cluster", Some(name)), 1, "{name}");
    }
    // Each operation answers InProgress twice, then Succeeded: three polls, no more.
    assert_eq!(arm.count("GET", "operation", None), 12);
    assert_eq!(arm.count("POST", "token", None), 1);
}

const KINDS: [(&str, &str); 7] = [
    ("GET", "cluster"),
    ("PUT", "cluster"),
    ("GET", "operation"),
    ("GET", "maintenanceConfiguration"),
    ("GET", "upgradeProfile"),
    ("GET", "kubernetesVersions"),
    ("GET", "list"),
];

#[tokio::test]
async fn the_subscriptions_clusters_are_offered_for_joining_across_pages() {
    let (arm, config) = fake_fleet().await;
    let s = common::start_configured(&config).await;
    s.fleet("f").await;
    let overview = s.get("/fn/fleet_overview?fleet=f").await.body;
    let offered: Vec<&str> = overview["joinable_clusters"]
        .as_array()
        .unwrap_or_else(|| panic!("{overview}"))
        .iter()
        .filter_map(|id| id.as_str())
        .filter(|id| id.contains("managedclusters"))
        .collect();
    assert_eq!(offered.len(), 4, "{overview}");
    assert!(offered.contains(&FakeArm::id("west-2").to_ascii_lowercase().as_str()));
    // Two listings of two pages each (nothing cached in this configuration): one to learn the
    // catalog's regions before any cluster was observed, one to offer clusters for joining.
    assert_eq!(arm.count("GET", "list", None), 4);
}

#[tokio::test]
async fn clusters_stopped_or_deleted_mid_run_are_skipped_or_fail_with_the_reason() {
    let (arm, config) = fake_fleet().await;
    let s = joined(&config).await;
    // One by one, by name: the east clusters go first; meanwhile west-1 is stopped and west-2
    // deleted in Azure.
    start_run(&s, upgrade("ControlPlaneOnly", Some(TO))).await;
    arm.with(|w| {
        w.clusters.get_mut("west-1").unwrap()["properties"]["powerState"] =
            json!({"code": "Stopped"});
        w.clusters.remove("west-2");
    });
    let run = wait_until(&s, |r| !matches!(state(r), "Running" | "NotStarted")).await;
    assert_eq!(state(&run), "Failed", "{run}");
    let west_1 = member(&run, "west-1");
    assert_eq!(west_1["status"]["state"], "Skipped", "{west_1}");
    assert!(west_1["message"].as_str().unwrap().contains("stopped"));
    let west_2 = member(&run, "west-2");
    assert_eq!(west_2["status"]["state"], "Failed", "{west_2}");
    let reason = west_2["status"]["error"]["message"].as_str().unwrap();
    assert!(reason.contains("does not exist"), "{reason}");
    for name in ["east-1", "east-2"] {
        assert_eq!(arm.accepted("PUT", "cluster", Some(name)), 1, "{name}");
    }
    assert_eq!(arm.count("PUT", "cluster", Some("west-1")), 0);
}

#[tokio::test]
async fn a_run_may_ask_for_stopped_clusters_to_fail_instead() {
    let (arm, config) = fake_fleet().await;
    let s = joined(&config).await;
    arm.with(|w| {
        w.clusters.get_mut("east-1").unwrap()["properties"]["powerState"] =
            json!({"code": "Stopped"});
    });
    let mut properties = upgrade("ControlPlaneOnly", Some(TO));
    properties["managedClusterUpdate"]["stoppedClusterAction"] = json!("Fail");
    start_run(&s, properties).await;
    let run = wait_until(&s, |r| !matches!(state(r), "Running" | "NotStarted")).await;
    assert_eq!(state(&run), "Failed", "{run}");
    assert_eq!(
        run["properties"]["managedClusterUpdate"]["stoppedClusterAction"],
        "Fail"
    );
    let stopped = member(&run, "east-1");
    assert_eq!(stopped["status"]["state"], "Failed", "{stopped}");
    assert_eq!(arm.count("PUT", "cluster", Some("east-1")), 0);
}
