//! Crash safety: a run over 200 simulated members, the server killed with SIGKILL at random
//! points and started again on the same database, ends Completed with every member upgraded
//! exactly once according to the simulator's operation log.

use crate::common;

use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn call(port: u16, method: &str, path: &str, body: Option<Value>) -> Value {
    let (status, reply) = common::http(port, method, path, body.as_ref())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    assert!(status < 300, "{method} {path} answered {status}: {reply}");
    reply
}

fn serve(port: u16, db: &str) -> common::KillOnDrop {
    let args = ["--database-url", db, "--time-scale", "5000", "--seed", "7"];
    common::spawn_serve(port, &args)
}

/// A tiny deterministic generator for the kill points.
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn run_state(port: u16) -> String {
    match common::http(port, "GET", "/api/v1/fleets/crash/updateRuns/run-1", None) {
        Ok((200, run)) => run["properties"]["status"]["status"]["state"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
        _ => String::new(),
    }
}

/// Waits (real time, at most `limit`) for the run to complete.
fn wait_for_completion(port: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while run_state(port) != "Completed" {
        assert!(
            Instant::now() < deadline,
            "the run did not complete: {}",
            run_state(port)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How many members the run shows upgrading now.
fn members_upgrading(port: u16) -> usize {
    match common::http(port, "GET", "/api/v1/fleets/crash/updateRuns/run-1", None) {
        Ok((200, run)) => common::run_members(&run["properties"]["status"]["stages"])
            .iter()
            .filter(|m| m["status"]["state"] == "Running")
            .count(),
        _ => 0,
    }
}

/// Fleet `crash` with `members` (name, cluster id), the i-th in group `g{i % groups}`, and
/// `run-1` over `stages`, a ControlPlaneOnly upgrade to `version`, started.
fn start_staged_run(
    port: u16,
    members: &[(String, String)],
    groups: usize,
    stages: Value,
    version: &str,
) {
    call(port, "PUT", "/api/v1/fleets/crash", Some(json!({})));
    for (i, (name, id)) in members.iter().enumerate() {
        let member =
            json!({"properties": {"clusterResourceId": id, "group": format!("g{}", i % groups)}});
        call(
            port,
            "PUT",
            &format!("/api/v1/fleets/crash/members/{name}"),
            Some(member),
        );
    }
    let run = json!({"properties": {"strategy": {"stages": stages},
        "managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": version}}}});
    call(
        port,
        "PUT",
        "/api/v1/fleets/crash/updateRuns/run-1",
        Some(run),
    );
    call(
        port,
        "POST",
        "/api/v1/fleets/crash/updateRuns/run-1/start",
        None,
    );
}

/// SIGKILLs the server four times at seeded points (`base_ms` + up to `spread_ms` apart) and
/// starts it again each time; returns how many kills landed with members upgrading.
fn kill_four_times(
    port: u16,
    server: &mut common::KillOnDrop,
    serve: impl Fn() -> common::KillOnDrop,
    seed: u64,
    base_ms: u64,
    spread_ms: u64,
) -> usize {
    let mut rng = seed;
    let mut killed_in_flight = 0;
    for _ in 0..4 {
        std::thread::sleep(Duration::from_millis(base_ms + next(&mut rng) % spread_ms));
        killed_in_flight += usize::from(members_upgrading(port) > 0);
        server.kill(); // SIGKILL
        *server = serve();
    }
    killed_in_flight
}

/// Fleet `fleet` with `members` simulated clusters in ten groups, and `run-1` (two stages of
/// five groups, a full upgrade one minor up) started.
pub(crate) fn set_up(port: u16, fleet: &str, members: usize) {
    let catalog = call(port, "GET", "/api/v1/simulator/catalog", None);
    let versions: Vec<String> = catalog["kubernetesVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    let from = versions[0].clone();
    let image = catalog["nodeImages"]["eastus"]["AKSUbuntu-2204gen2containerd"][0]
        .as_str()
        .unwrap()
        .to_owned();
    call(
        port,
        "PUT",
        &format!("/api/v1/fleets/{fleet}"),
        Some(json!({})),
    );
    for i in 0..members {
        let name = format!("c{i:03}");
        let pool = json!({"name": "system", "count": 3, "kubernetesVersion": from, "osSku": "AKSUbuntu-2204gen2containerd",
                          "nodeImageVersion": format!("AKSUbuntu-2204gen2containerd-{image}")});
        call(
            port,
            "PUT",
            &format!("/api/v1/simulator/clusters/{name}"),
            Some(json!({"location": "eastus", "kubernetesVersion": from, "nodePools": [pool]})),
        );
        let member = json!({"properties": {"clusterResourceId": format!("sim:{name}"), "group": format!("g{}", i % 10)}});
        call(
            port,
            "PUT",
            &format!("/api/v1/fleets/{fleet}/members/{name}"),
            Some(member),
        );
    }
    let stage = |name: &str, groups: std::ops::Range<usize>| json!({"name": name, "groups": groups.map(|g| json!({"name": format!("g{g}")})).collect::<Vec<_>>(), "afterStageWaitInSeconds": 600});
    let strategy = json!({"stages": [stage("first", 0..5), stage("second", 5..10)]});
    let minor: u32 = from.split('.').nth(1).unwrap().parse().unwrap();
    let to = versions
        .iter()
        .rev()
        .find(|v| v.starts_with(&format!("1.{}.", minor + 1)))
        .unwrap();
    let run = json!({"properties": {"strategy": strategy, "managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": to}}}});
    call(
        port,
        "PUT",
        &format!("/api/v1/fleets/{fleet}/updateRuns/run-1"),
        Some(run),
    );
    call(
        port,
        "POST",
        &format!("/api/v1/fleets/{fleet}/updateRuns/run-1/start"),
        None,
    );
}

#[test]
fn killed_at_random_points_the_run_still_upgrades_every_member_exactly_once() {
    let dir = common::temp_db();
    let port = common::free_port();
    let mut server = serve(port, &dir);
    set_up(port, "crash", 200);
    let mut rng = 0x5eed_u64;
    let mut killed_while_running = 0;
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(300 + next(&mut rng) % 1200));
        killed_while_running += usize::from(run_state(port) == "Running");
        server.kill(); // SIGKILL
        server = serve(port, &dir);
    }
    assert!(
        killed_while_running >= 3,
        "the kills must land mid-run ({killed_while_running} did)"
    );
    wait_for_completion(port, Duration::from_secs(120));
    let run = call(port, "GET", "/api/v1/fleets/crash/updateRuns/run-1", None);
    let members = common::run_members(&run["properties"]["status"]["stages"]);
    assert_eq!(members.len(), 200);
    assert!(
        members.iter().all(|m| m["status"]["state"] == "Completed"),
        "every member completed"
    );
    let operations = call(port, "GET", "/api/v1/simulator/operations", None);
    let ops = operations["value"].as_array().unwrap();
    let mut per_cluster = std::collections::BTreeMap::new();
    for op in ops {
        *per_cluster
            .entry(op["cluster"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    assert_eq!(per_cluster.len(), 200, "every member was upgraded");
    assert!(
        per_cluster.values().all(|n| *n == 1),
        "no member was upgraded twice: {per_cluster:?}"
    );
}

/// The same against real processes: the lab behind the `exec` provider, 60 members in two
/// stages of five groups, the server killed four times while the lab's upgrades are in flight
/// (its calls go on, or end with nobody to answer). The lab's own log of upgrades applied must
/// show every cluster exactly once.
#[test]
fn killed_while_exec_upgrades_are_in_flight_every_lab_cluster_is_upgraded_once() {
    let lab = common::lab::Lab::new(60, 1.0);
    let db = common::temp_db();
    let port = common::free_port();
    let config = lab.config.display().to_string();
    let serve = || common::spawn_serve(port, &["--database-url", &db, "--config", &config]);
    let mut server = serve();
    let members: Vec<(String, String)> = (0..60)
        .map(|i| (format!("c{i:02}"), format!("exec:lab/c{i:02}")))
        .collect();
    let stage = |name: &str, groups: std::ops::Range<usize>| json!({"name": name, "groups": groups.map(|g| json!({"name": format!("g{g}")})).collect::<Vec<_>>()});
    start_staged_run(
        port,
        &members,
        10,
        json!([stage("first", 0..5), stage("second", 5..10)]),
        common::lab::TO,
    );
    let killed_in_flight = kill_four_times(port, &mut server, serve, 0xe7ec, 2000, 2000);
    assert!(
        killed_in_flight >= 3,
        "the kills must land with upgrades in flight ({killed_in_flight} did)"
    );
    wait_for_completion(port, Duration::from_secs(240));
    let upgrades = lab.upgrades();
    assert_eq!(
        upgrades.len(),
        60,
        "every cluster was upgraded: {upgrades:?}"
    );
    assert!(
        upgrades.values().all(|n| *n == 1),
        "none twice: {upgrades:?}"
    );
    assert!(
        lab.operations().values().all(|n| *n == 1),
        "one operation each: {:?}",
        lab.operations()
    );
    drop(server);
}

/// The same against Azure Resource Manager (a fake in this process): 12 AKS clusters in four
/// groups, each PUT's operation running for seconds, the server killed four times while
/// operations are in flight. No cluster may receive a second accepted PUT: a restarted server
/// follows the operation it kept, or finds the cluster already upgrading to the target.
#[test]
fn killed_while_arm_operations_are_in_flight_no_aks_cluster_gets_a_second_put() {
    use common::fake_arm::FakeArm;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let arm = runtime.block_on(FakeArm::start());
    let names: Vec<String> = (0..12).map(|i| format!("c{i:02}")).collect();
    for (i, name) in names.iter().enumerate() {
        let region = if i % 2 == 0 { "eastus" } else { "westeurope" };
        arm.add_cluster(name, region, "1.29.9", &[("system", 3)], "202409.01.0");
    }
    arm.with(|w| {
        for region in ["eastus", "westeurope"] {
            w.latest_image.insert(region.into(), "202410.01.0".into());
            w.versions
                .insert(region.into(), vec!["1.29.9".into(), "1.30.5".into()]);
        }
        w.polls_per_operation = 4;
    });
    let config = arm.config().display().to_string();
    let db = common::temp_db();
    let port = common::free_port();
    let serve = || common::spawn_serve(port, &["--database-url", &db, "--config", &config]);
    let mut server = serve();
    let members: Vec<(String, String)> =
        names.iter().map(|n| (n.clone(), FakeArm::id(n))).collect();
    let groups: Vec<Value> = (0..4).map(|g| json!({"name": format!("g{g}")})).collect();
    start_staged_run(
        port,
        &members,
        4,
        json!([{"name": "all", "groups": groups}]),
        "1.30.5",
    );
    let killed_in_flight = kill_four_times(port, &mut server, serve, 0xa4c5, 1500, 2500);
    assert!(
        killed_in_flight >= 3,
        "the kills must land with operations in flight ({killed_in_flight} did)"
    );
    wait_for_completion(port, Duration::from_secs(240));
    for name in &names {
        // Nothing else held the clusters, so any PUT beyond the first would be a second write.
        assert_eq!(
            arm.count("PUT", "cluster", Some(name)),
            1,
            "{name}: one PUT"
        );
        assert_eq!(
            arm.cluster(name)["properties"]["currentKubernetesVersion"],
            "1.30.5",
            "{name}"
        );
    }
    drop(server);
}
