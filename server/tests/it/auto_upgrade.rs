//! Auto-upgrade profiles over REST: stored with Azure's rules, triggered by `generateUpdateRun`
//! and by the schedule into runs named after their upgrade — one run per upgrade, whoever
//! triggers it and however often.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};
use server::service::Triggered;

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
const PROFILES: &str = "/api/v1/fleets/f/autoUpgradeProfiles";

/// A catalog offering these Kubernetes versions and one node image in eastus.
fn catalog(versions: &[&str]) -> Value {
    json!({"kubernetesVersions": versions,
           "nodeImages": {"eastus": {UBUNTU: ["202409.01.0"]}}})
}

/// Fleet `f` with a member per version given, on clusters in eastus, under `catalog`.
async fn fleet(s: &common::TestServer, versions: &[&str], offered: &[&str]) {
    let put = s.put("/api/v1/simulator/catalog", catalog(offered)).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    s.fleet("f").await;
    for (i, version) in versions.iter().enumerate() {
        let name = format!("c{i}");
        let made = s.sim_cluster(&name, "eastus", version).await;
        assert!(made.status.is_success(), "{}", made.body);
        let joined = s.join("f", &name, &format!("sim:{name}"), None).await;
        assert!(joined.status.is_success(), "{}", joined.body);
    }
}

async fn put_profile(s: &common::TestServer, name: &str, properties: Value) -> common::Reply {
    s.put(
        &format!("{PROFILES}/{name}"),
        json!({ "properties": properties }),
    )
    .await
}

async fn generate(s: &common::TestServer, name: &str) -> common::Reply {
    s.call(
        "POST",
        &format!("{PROFILES}/{name}/generateUpdateRun"),
        None,
    )
    .await
}

async fn run_names(s: &common::TestServer) -> Vec<String> {
    let list = s.get("/api/v1/fleets/f/updateRuns").await.body;
    list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn scheduled(s: &common::TestServer) -> Vec<Triggered> {
    let outcomes = s.built.drydock.trigger_auto_upgrades().await;
    outcomes.into_iter().map(|(_, _, t)| t).collect()
}

#[tokio::test]
async fn a_profile_generates_the_run_its_channel_wants_once() {
    let s = common::start().await;
    fleet(&s, &["1.30.5", "1.30.5"], &["1.29.9", "1.30.5", "1.31.2"]).await;
    let created = put_profile(&s, "rapid", json!({"channel": "Rapid"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.body["id"], "/fleets/f/autoUpgradeProfiles/rapid");
    assert_eq!(created.body["properties"]["channel"], "Rapid");
    assert_eq!(
        created.body["properties"]["nodeImageSelection"]["type"],
        "Latest"
    );

    let generated = generate(&s, "rapid").await;
    assert_eq!(generated.status, StatusCode::OK, "{}", generated.body);
    assert_eq!(
        generated.body,
        json!({"id": "/fleets/f/updateRuns/rapid-1-31-2"})
    );
    let run = s.get("/api/v1/fleets/f/updateRuns/rapid-1-31-2").await.body;
    let properties = &run["properties"];
    assert_eq!(
        properties["autoUpgradeProfileId"],
        "/fleets/f/autoUpgradeProfiles/rapid"
    );
    assert_eq!(
        properties["status"]["status"]["state"], "NotStarted",
        "not started: no autoStart"
    );
    assert_eq!(
        properties["managedClusterUpdate"]["upgrade"],
        json!({"type": "Full", "kubernetesVersion": "1.31.2"})
    );

    assert_eq!(
        generate(&s, "rapid").await.body,
        generated.body,
        "the same run again"
    );
    assert_eq!(
        scheduled(&s).await,
        vec![Triggered::Existing("rapid-1-31-2".parse_run())]
    );
    assert_eq!(run_names(&s).await, vec!["rapid-1-31-2"]);
    let status =
        &s.get(&format!("{PROFILES}/rapid")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(status["lastTriggerStatus"], "Succeeded");
    assert_eq!(status["lastTriggerUpgradeVersions"], json!(["1.31.2"]));
    assert!(status["lastTriggeredAt"].is_string(), "{status}");

    // A newer patch while the first run has not run: the schedule waits for it, and says so.
    let newer = s
        .put(
            "/api/v1/simulator/catalog",
            catalog(&["1.29.9", "1.30.5", "1.31.2", "1.31.4"]),
        )
        .await;
    assert_eq!(newer.status, StatusCode::OK, "{}", newer.body);
    let waiting = scheduled(&s).await;
    assert!(
        matches!(&waiting[..], [Triggered::Waiting(why)] if why.contains("rapid-1-31-2")),
        "{waiting:?}"
    );
    let status =
        &s.get(&format!("{PROFILES}/rapid")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert!(
        status["lastTriggerMessage"]
            .as_str()
            .unwrap()
            .contains("has not finished"),
        "{status}"
    );

    // Once it is gone, the schedule generates the newer patch's run.
    assert_eq!(
        s.delete("/api/v1/fleets/f/updateRuns/rapid-1-31-2")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        scheduled(&s).await,
        vec![Triggered::Generated("rapid-1-31-4".parse_run())]
    );
    assert_eq!(run_names(&s).await, vec!["rapid-1-31-4"]);
}

/// `RunName` from a literal, for comparing outcomes.
trait ParseRun {
    fn parse_run(&self) -> app::model::names::RunName;
}

impl ParseRun for &str {
    fn parse_run(&self) -> app::model::names::RunName {
        app::model::names::RunName::parse(self).unwrap()
    }
}

#[tokio::test]
async fn the_schedule_leaves_disabled_profiles_and_current_fleets_alone() {
    let s = common::start().await;
    fleet(&s, &["1.30.5"], &["1.29.9", "1.30.5", "1.31.2"]).await;
    let put = put_profile(&s, "stable", json!({"channel": "Stable"})).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let outcomes = scheduled(&s).await;
    assert!(
        matches!(&outcomes[..], [Triggered::Nothing(why)] if why.contains("already runs 1.30.5")),
        "{outcomes:?}"
    );
    let status =
        &s.get(&format!("{PROFILES}/stable")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(status, &json!({}), "nothing to tell: no trigger recorded");

    let disabled = put_profile(&s, "rapid", json!({"channel": "Rapid", "disabled": true})).await;
    assert_eq!(disabled.status, StatusCode::CREATED, "{}", disabled.body);
    assert_eq!(
        scheduled(&s).await.len(),
        1,
        "only the enabled profile is looked at"
    );
    assert!(run_names(&s).await.is_empty());
    // Asked for, a disabled profile generates all the same (as Azure's).
    let generated = generate(&s, "rapid").await;
    assert_eq!(
        generated.body["id"], "/fleets/f/updateRuns/rapid-1-31-2",
        "{}",
        generated.body
    );
    // Asked for with nothing to upgrade, a run is generated still (members are skipped).
    let generated = generate(&s, "stable").await;
    assert_eq!(
        generated.body["id"], "/fleets/f/updateRuns/stable-1-30-5",
        "{}",
        generated.body
    );
}

#[tokio::test]
async fn auto_start_starts_the_generated_run() {
    let s = common::start().await;
    fleet(&s, &["1.30.5"], &["1.30.5", "1.31.2"]).await;
    let put = put_profile(&s, "rapid", json!({"channel": "Rapid", "autoStart": true})).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    assert_eq!(
        scheduled(&s).await,
        vec![Triggered::Generated("rapid-1-31-2".parse_run())]
    );
    let run = s.get("/api/v1/fleets/f/updateRuns/rapid-1-31-2").await.body;
    let state = run["properties"]["status"]["status"]["state"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(state, "NotStarted", "{run}");
}

#[tokio::test]
async fn profiles_follow_azures_rules_and_a_bad_one_changes_nothing() {
    let s = common::start().await;
    fleet(&s, &["1.30.5"], &["1.30.5", "1.31.2"]).await;
    let cases = [
        (
            "p",
            json!({"channel": "TargetKubernetesVersion"}),
            "InvalidAutoUpgradeProfile",
            "needs a targetKubernetesVersion",
        ),
        (
            "p",
            json!({"channel": "Rapid", "longTermSupport": true}),
            "InvalidAutoUpgradeProfile",
            "longTermSupport",
        ),
        (
            "p",
            json!({"channel": "Rapid", "nodeImageSelection": {"type": "Custom"}}),
            "InvalidAutoUpgradeProfile",
            "unknown variant",
        ),
        (
            "p",
            json!({"channel": "Rapid", "extra": 1}),
            "InvalidAutoUpgradeProfile",
            "unknown field",
        ),
        (
            "p",
            json!({"channel": "Rapid", "updateStrategyId": "nowhere"}),
            "StrategyNotFound",
            "nowhere",
        ),
        (
            "a-name-longer-than-thirty-chars",
            json!({"channel": "Rapid"}),
            "InvalidAutoUpgradeProfileName",
            "1 to 30",
        ),
    ];
    for (name, properties, code, why) in cases {
        let refused = put_profile(&s, name, properties.clone()).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{properties}: {}",
            refused.body
        );
        assert_eq!(refused.code(), code, "{properties}: {}", refused.body);
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{properties}: {message}");
    }
    assert_eq!(
        s.get(PROFILES).await.body["value"],
        json!([]),
        "nothing stored"
    );

    // A GET can be sent back (its read-only status with it); If-Match guards replacing.
    let created = put_profile(&s, "p", json!({"channel": "Rapid"})).await;
    let got = s.get(&format!("{PROFILES}/p")).await;
    assert_eq!(
        s.put(&format!("{PROFILES}/p"), got.body.clone())
            .await
            .status,
        StatusCode::OK
    );
    let stale = s
        .send_with(
            "PUT",
            &format!("{PROFILES}/p"),
            Some(&json!({"properties": {"channel": "Stable"}}).to_string()),
            "application/json",
            &[("if-match", created.body["etag"].as_str().unwrap())],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert_eq!(
        s.get(&format!("{PROFILES}/p")).await.body["properties"]["channel"],
        "Rapid"
    );

    // A target not offered: asked for, the trigger fails and says why on the status.
    let target = json!({"channel": "TargetKubernetesVersion", "targetKubernetesVersion": "1.33"});
    assert_eq!(
        put_profile(&s, "t", target).await.status,
        StatusCode::CREATED
    );
    let refused = generate(&s, "t").await;
    assert_eq!(
        refused.code(),
        "KubernetesVersionNotOffered",
        "{}",
        refused.body
    );
    let status =
        &s.get(&format!("{PROFILES}/t")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(status["lastTriggerStatus"], "Failed");
    assert_eq!(
        status["lastTriggerError"]["code"],
        "KubernetesVersionNotOffered"
    );
    assert_eq!(
        s.delete(&format!("{PROFILES}/t")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        s.get(&format!("{PROFILES}/t")).await.code(),
        "AutoUpgradeProfileNotFound"
    );
}

#[tokio::test]
async fn triggers_at_once_on_two_replicas_generate_one_run() {
    let db = common::temp_db();
    let a = common::start_with(&db, false).await;
    fleet(&a, &["1.30.5", "1.30.5"], &["1.30.5", "1.31.2"]).await;
    let put = put_profile(&a, "rapid", json!({"channel": "Rapid"})).await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    let b = common::start_with(&db, false).await;
    let (from_a, from_b, again_a) = tokio::join!(scheduled(&a), scheduled(&b), scheduled(&a));
    let all: Vec<Triggered> = [from_a, from_b, again_a].into_iter().flatten().collect();
    let generated = all
        .iter()
        .filter(|t| matches!(t, Triggered::Generated(_)))
        .count();
    assert_eq!(generated, 1, "{all:?}");
    assert_eq!(run_names(&a).await, vec!["rapid-1-31-2"]);
    // After a restart, the same: the run is there.
    drop(a);
    let c = common::start_with(&db, false).await;
    assert_eq!(
        scheduled(&c).await,
        vec![Triggered::Existing("rapid-1-31-2".parse_run())]
    );
}

#[test]
fn the_command_line_creates_lists_generates_and_deletes_profiles() {
    let port = common::free_port();
    let db = common::temp_db();
    let _server = common::spawn_serve(port, &["--demo", "--database-url", &db]);
    let cli = |args: &[&str]| common::cli(port, args);
    let created = cli(&[
        "autoupgradeprofile",
        "create",
        "-f",
        "demo",
        "-n",
        "images",
        "--channel",
        "NodeImage",
        "--node-image-selection",
        "Consistent",
        "--disabled",
    ]);
    assert_eq!(
        created["properties"]["nodeImageSelection"]["type"],
        "Consistent"
    );
    assert_eq!(created["properties"]["disabled"], true);
    let listed = cli(&["autoupgradeprofile", "list", "-f", "demo"]);
    assert_eq!(listed["value"].as_array().unwrap().len(), 1);
    let generated = cli(&[
        "autoupgradeprofile",
        "generate-update-run",
        "-f",
        "demo",
        "-n",
        "images",
    ]);
    let id = generated["id"].as_str().unwrap();
    assert!(
        id.starts_with("/fleets/demo/updateRuns/images-images-"),
        "{id}"
    );
    let run = id.rsplit('/').next().unwrap();
    let shown = cli(&["updaterun", "show", "-f", "demo", "-n", run]);
    assert_eq!(
        shown["properties"]["autoUpgradeProfileId"],
        "/fleets/demo/autoUpgradeProfiles/images"
    );
    assert_eq!(
        shown["properties"]["managedClusterUpdate"]["upgrade"]["type"],
        "NodeImageOnly"
    );
    let shown = cli(&["autoupgradeprofile", "show", "-f", "demo", "-n", "images"]);
    let status = &shown["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(
        status["lastTriggerMessage"],
        format!("generated update run {run}")
    );
    cli(&["autoupgradeprofile", "delete", "-f", "demo", "-n", "images"]);
    assert_eq!(
        cli(&["autoupgradeprofile", "list", "-f", "demo"])["value"],
        json!([])
    );
}

/// One look of the simulator's release train (weekly releases) at the test clock.
async fn release_train(s: &common::TestServer) -> bool {
    use server::clock::Clock;
    let now = s.clock.now();
    let settings = s.built.drydock.store();
    server::provider::simulated::releases::step(&s.built.simulator, settings, now, 7)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_profile_generates_a_run_once_the_simulated_catalog_releases_a_patch() {
    const DAY: i64 = 86_400_000;
    let s = common::start().await;
    s.fleet("f").await;
    let newest = common::newest_of(&s, 31).await;
    let made = s.sim_cluster("c0", "eastus", &newest).await;
    assert!(made.status.is_success(), "{}", made.body);
    assert!(s.join("f", "c0", "sim:c0", None).await.status.is_success());
    assert_eq!(
        put_profile(&s, "rapid", json!({"channel": "Rapid"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let current = scheduled(&s).await;
    assert!(
        matches!(&current[..], [Triggered::Nothing(_)]),
        "on the newest already: {current:?}"
    );

    assert!(
        !release_train(&s).await,
        "the first look only schedules the train"
    );
    // The third weekly release brings Kubernetes patches, first in two regions (eastus one).
    for _ in 0..3 {
        s.clock.advance(7 * DAY);
        assert!(release_train(&s).await, "a release is due every week");
    }
    let patched = common::newest_of(&s, 31).await;
    assert_ne!(patched, newest, "a newer 1.31 patch");
    let run = format!("rapid-{}", patched.replace('.', "-"));
    assert_eq!(
        scheduled(&s).await,
        vec![Triggered::Generated(run.as_str().parse_run())]
    );
    let status =
        &s.get(&format!("{PROFILES}/rapid")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(status["lastTriggerUpgradeVersions"], json!([patched]));
}

#[tokio::test]
async fn a_run_a_person_named_like_a_generated_one_is_not_taken_for_it() {
    let s = common::start().await;
    fleet(&s, &["1.30.5"], &["1.30.5", "1.31.2"]).await;
    let update = json!({"upgrade": {"type": "NodeImageOnly"}});
    let theirs = s
        .put(
            "/api/v1/fleets/f/updateRuns/rapid-1-31-2",
            json!({"properties": {"managedClusterUpdate": update}}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.body);
    assert_eq!(
        put_profile(&s, "rapid", json!({"channel": "Rapid"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let refused = generate(&s, "rapid").await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert_eq!(refused.code(), "UpdateRunAlreadyExists");
    let status =
        &s.get(&format!("{PROFILES}/rapid")).await.body["properties"]["autoUpgradeProfileStatus"];
    assert_eq!(status["lastTriggerStatus"], "Failed", "{status}");
}

/// A profile follows a real provider's catalog too: the `exec` lab's catalog, read again by
/// each scheduled trigger once its `catalog_ttl_seconds` has passed (0 here: every trigger).
#[tokio::test]
async fn a_profile_generates_a_run_once_an_exec_providers_catalog_offers_a_patch() {
    use crate::common::lab::{self, Lab};
    let lab = Lab::new(1, 0.1);
    let config = std::fs::read_to_string(&lab.config).unwrap().replace(
        "observation_ttl_seconds = 0",
        "observation_ttl_seconds = 0\ncatalog_ttl_seconds = 0",
    );
    std::fs::write(&lab.config, config).unwrap();
    let s = common::start_configured(&lab.config).await;
    s.fleet("f").await;
    let joined = s.join("f", "c00", "exec:lab/c00", None).await;
    assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    let minor = &lab::FROM[..4];
    let profile = json!({"channel": "TargetKubernetesVersion", "targetKubernetesVersion": minor});
    assert_eq!(
        put_profile(&s, "lts", profile).await.status,
        StatusCode::CREATED
    );
    let current = scheduled(&s).await;
    assert!(
        matches!(&current[..], [Triggered::Nothing(_)]),
        "the member runs the newest {minor} patch the lab offers: {current:?}"
    );

    lab.change_fleet(|fleet| {
        let versions = fleet["catalog"]["kubernetesVersions"]
            .as_array_mut()
            .unwrap();
        versions.push(json!("1.29.4"));
    });
    assert_eq!(
        scheduled(&s).await,
        vec![Triggered::Generated("lts-1-29-4".parse_run())]
    );
    let run = s.get("/api/v1/fleets/f/updateRuns/lts-1-29-4").await;
    let upgrade = &run.body["properties"]["managedClusterUpdate"]["upgrade"];
    assert_eq!(upgrade["kubernetesVersion"], "1.29.4", "{}", run.body);
}
