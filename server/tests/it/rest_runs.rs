//! REST: update runs (create, read, list, delete) and their plans.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

async fn demo() -> common::TestServer {
    common::start_with("sqlite::memory:", true).await
}

fn stages() -> Value {
    json!({"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}], "afterStageWaitInSeconds": 3600},
        {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}]}
    ]})
}

fn full(version: &str) -> Value {
    json!({"upgrade": {"type": "Full", "kubernetesVersion": version}, "nodeImageSelection": {"type": "Latest"}})
}

async fn create(s: &common::TestServer, run: &str, properties: Value) -> common::Reply {
    s.put(
        &format!("/api/v1/fleets/demo/updateRuns/{run}"),
        json!({ "properties": properties }),
    )
    .await
}

async fn runs(s: &common::TestServer) -> Vec<Value> {
    s.get("/api/v1/fleets/demo/updateRuns").await.body["value"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn a_one_by_one_run_is_created_not_started_with_every_member() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    let reply = create(&s, "run-1", json!({"managedClusterUpdate": full(&target)})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let p = &reply.body["properties"];
    assert_eq!(
        p["managedClusterUpdate"]["upgrade"]["kubernetesVersion"],
        target.as_str()
    );
    assert_eq!(p["status"]["status"]["state"], "NotStarted");
    assert_eq!(p["status"]["status"]["startTime"], Value::Null);
    let stages = p["status"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 1);
    let members = stages[0]["groups"][0]["members"].as_array().unwrap();
    assert_eq!(members.len(), 12);
    assert_eq!(members[0]["status"]["state"], "NotStarted");
    assert!(
        members[0]["clusterResourceId"]
            .as_str()
            .unwrap()
            .starts_with("sim:")
    );
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateRuns/run-1").await.body,
        reply.body
    );
    assert_eq!(runs(&s).await.len(), 1);
}

#[tokio::test]
async fn a_run_from_a_stored_strategy_keeps_its_copy_when_the_strategy_changes() {
    let s = demo().await;
    s.put(
        "/api/v1/fleets/demo/updateStrategies/strategy-1",
        json!({"properties": {"strategy": stages()}}),
    )
    .await;
    let by_name = create(&s, "run-5", json!({"updateStrategyId": "strategy-1", "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}, "nodeImageSelection": {"type": "Consistent"}}})).await;
    assert_eq!(by_name.status, StatusCode::CREATED, "{}", by_name.body);
    assert_eq!(
        by_name.body["properties"]["updateStrategyId"],
        "/fleets/demo/updateStrategies/strategy-1"
    );
    let by_id = create(&s, "run-6", json!({"updateStrategyId": "/fleets/demo/updateStrategies/strategy-1", "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}})).await;
    assert_eq!(by_id.status, StatusCode::CREATED);
    let one_stage = json!({"stages": [{"name": "only", "groups": [{"name": "group-1a"}]}]});
    s.put(
        "/api/v1/fleets/demo/updateStrategies/strategy-1",
        json!({"properties": {"strategy": one_stage}}),
    )
    .await;
    let run = s.get("/api/v1/fleets/demo/updateRuns/run-5").await.body;
    assert_eq!(
        run["properties"]["strategy"],
        stages(),
        "the run kept the stages it was created with"
    );
    let stage_names: Vec<&str> = run["properties"]["status"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stage_names, ["stage1", "stage2"]);
    assert_eq!(
        run["properties"]["status"]["stages"][0]["afterStageWaitStatus"]["waitDurationInSeconds"],
        3600
    );
}

#[tokio::test]
async fn group_changes_after_creation_do_not_change_the_run() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(
        &s,
        "run-4",
        json!({"strategy": stages(), "managedClusterUpdate": full(&target)}),
    )
    .await;
    let before = s.get("/api/v1/fleets/demo/updateRuns/run-4").await.body;
    s.call("POST", "/fn/assign_group", Some(json!({"fleet": "demo", "members": ["aks-eastus-1", "aks-eastus-2"], "group": "group-2b"}))).await;
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateRuns/run-4").await.body,
        before
    );
}

#[tokio::test]
async fn bad_runs_are_refused_with_the_reason_and_nothing_is_stored() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    let unknown_group = json!({"stages": [{"name": "s", "groups": [{"name": "nobody"}]}]});
    let cases = [
        (
            json!({"strategy": unknown_group, "managedClusterUpdate": full(&target)}),
            "UnknownUpdateGroup",
        ),
        (
            json!({"strategy": {"stages": []}, "managedClusterUpdate": full(&target)}),
            "InvalidStrategy",
        ),
        (
            json!({"strategy": stages(), "updateStrategyId": "x", "managedClusterUpdate": full(&target)}),
            "AmbiguousStrategy",
        ),
        (
            json!({"updateStrategyId": "missing", "managedClusterUpdate": full(&target)}),
            "StrategyNotFound",
        ),
        (
            json!({"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly", "kubernetesVersion": target}}}),
            "InvalidUpgrade",
        ),
        (
            json!({"managedClusterUpdate": {"upgrade": {"type": "Full"}}}),
            "InvalidUpgrade",
        ),
        (
            json!({"managedClusterUpdate": full("1.99.0")}),
            "KubernetesVersionNotOffered",
        ),
        (
            json!({"managedClusterUpdate": {"upgrade": {"type": "Sideways"}}}),
            "InvalidRequestContent",
        ),
        (json!({}), "MissingUpdate"),
    ];
    for (properties, code) in cases {
        let reply = create(&s, "bad", properties.clone()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{properties}");
        assert_eq!(reply.code(), code, "{properties}: {}", reply.body);
    }
    assert!(runs(&s).await.is_empty());
}

#[tokio::test]
async fn a_run_name_is_used_once() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-1", json!({"managedClusterUpdate": full(&target)})).await;
    let again = create(&s, "run-1", json!({"managedClusterUpdate": full(&target)})).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.code(), "UpdateRunAlreadyExists");
    assert_eq!(
        create(&s, "Run_1", json!({"managedClusterUpdate": full(&target)}))
            .await
            .code(),
        "InvalidUpdateRunName"
    );
}

#[tokio::test]
async fn a_run_that_has_not_started_can_be_deleted() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-1", json!({"managedClusterUpdate": full(&target)})).await;
    assert_eq!(
        s.delete("/api/v1/fleets/demo/updateRuns/run-1")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        s.delete("/api/v1/fleets/demo/updateRuns/run-1")
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateRuns/run-1").await.code(),
        "UpdateRunNotFound"
    );
}

#[tokio::test]
async fn the_plan_shows_order_targets_reasons_and_an_eta_before_the_start() {
    let s = demo().await;
    let target = common::newest_of(&s, 31).await;
    create(
        &s,
        "run-1",
        json!({"strategy": stages(), "managedClusterUpdate": full(&target)}),
    )
    .await;
    for method in ["GET", "POST"] {
        let plan = s
            .call(method, "/api/v1/fleets/demo/updateRuns/run-1/plan", None)
            .await;
        assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
        let members = common::run_members(&plan.body["stages"]);
        assert_eq!(
            members.len(),
            10,
            "the two members in no group are not in the plan"
        );
        assert_eq!(plan.body["notInAnyStage"].as_array().unwrap().len(), 2);
        // The demo has members on 1.29: going to 1.31 would skip 1.30, and the plan says so.
        let failing: Vec<&Value> = members.iter().filter(|m| m["action"] == "fail").collect();
        assert!(!failing.is_empty());
        assert!(
            failing[0]["reason"]
                .as_str()
                .unwrap()
                .contains("would skip minor version 1.30")
        );
        assert!(plan.body["durationMs"].as_i64().unwrap() > 0);
        assert_eq!(
            plan.body["stages"][1]["startsAfterMs"].as_i64().unwrap(),
            plan.body["stages"][0]["endsAfterMs"].as_i64().unwrap() + 3_600_000
        );
    }
}

#[tokio::test]
async fn the_plan_of_a_consistent_run_shows_the_common_images() {
    let s = demo().await;
    create(&s, "run-3", json!({"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}, "nodeImageSelection": {"type": "Consistent"}}})).await;
    let plan = s
        .get("/api/v1/fleets/demo/updateRuns/run-3/plan")
        .await
        .body;
    let selected = plan["selectedNodeImageVersions"].as_array().unwrap();
    assert!(!selected.is_empty(), "{plan}");
    // The demo's regions lag each other, so the common image is older than eastus's newest.
    let ubuntu = selected
        .iter()
        .find(|v| v.as_str().unwrap().starts_with("AKSUbuntu"))
        .unwrap();
    let newest_east = s.newest_image("eastus").await;
    assert!(!ubuntu.as_str().unwrap().ends_with(&newest_east));
    assert_eq!(
        s.get("/api/v1/fleets/demo/updateRuns/nope/plan")
            .await
            .code(),
        "UpdateRunNotFound"
    );
}

#[tokio::test]
async fn the_timeline_pages_a_runs_events_as_json() {
    let s = demo().await;
    let target = common::newest_of(&s, 30).await;
    create(&s, "run-t", json!({"managedClusterUpdate": full(&target)})).await;
    let url = "/api/v1/fleets/demo/updateRuns/run-t/timeline";
    let empty = s.get(url).await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert_eq!(empty.body["value"], json!([]), "nothing has happened yet");
    assert_eq!(empty.body["nextAfter"], 0);

    s.call("POST", "/api/v1/fleets/demo/updateRuns/run-t/start", None)
        .await;
    let all = s.get(url).await.body;
    let events = all["value"].as_array().unwrap();
    assert!(
        events.len() >= 2,
        "the run started and a member began: {all}"
    );
    assert_eq!(events[0]["subject"], json!({"type": "run"}));
    assert_eq!(events[0]["state"], "Running");
    assert!(
        events[0].get("group").is_none(),
        "only member events name a group"
    );
    // A member's event names its group and the state it left: a page keeps counts from that.
    let began = events
        .iter()
        .find(|e| e["subject"]["type"] == "member")
        .expect("a member began");
    assert_eq!(
        (&began["state"], &began["previous"]),
        (&json!("Running"), &json!("NotStarted"))
    );
    let run = s.get("/api/v1/fleets/demo/updateRuns/run-t").await.body;
    let group = run["properties"]["status"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|stage| stage["groups"].as_array().unwrap())
        .find(|g| {
            g["members"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == began["subject"]["name"])
        })
        .unwrap();
    assert_eq!(began["group"], group["name"]);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
    assert_eq!(all["nextAfter"], *ids.last().unwrap());

    let first = s.get(&format!("{url}?limit=1")).await.body;
    assert_eq!(first["value"].as_array().unwrap().len(), 1);
    let rest = s
        .get(&format!("{url}?after={}", first["nextAfter"]))
        .await
        .body;
    assert_eq!(rest["value"].as_array().unwrap().len(), events.len() - 1);

    for bad in ["?limit=-1", "?after=x", "?since=3"] {
        let reply = s.get(&format!("{url}{bad}")).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(reply.body["error"]["code"], "InvalidQueryParameter");
    }
    let missing = s.get("/api/v1/fleets/demo/updateRuns/nope/timeline").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn stages_chosen_by_label_freeze_their_members_and_the_plan_keeps_that_layout() {
    let s = demo().await;
    let strategy = json!({"stages": [
        {"name": "sandbox", "memberSelector": {"byLabel": "env=sandbox"}},
        {"name": "staging", "memberSelector": {"byLabel": "env=staging"}, "groups": [
            {"name": "group-1a"}, {"name": "rest", "memberSelector": {"byLabel": "env=staging"}}]}
    ]});
    let overlap = create(&s, "run-sel", json!({"strategy": strategy, "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}})).await;
    assert_eq!(
        overlap.code(),
        "OverlappingMemberSelectors",
        "{}",
        overlap.body
    );
    assert!(
        overlap.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stage staging (group group-1a) and stage staging (group rest)")
    );
    let strategy_without_overlap = json!({"stages": [
        {"name": "sandbox", "memberSelector": {"byLabel": "env=sandbox"}},
        {"name": "staging", "memberSelector": {"byLabel": "env=staging"}, "groups": [
            {"name": "group-1b"}, {"name": "group-1a"}]}
    ]});
    let created = create(&s, "run-sel", json!({"strategy": strategy_without_overlap, "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let layout: Vec<(String, usize)> = created.body["properties"]["status"]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|stage| stage["groups"].as_array().unwrap().clone())
        .map(|g| {
            (
                g["name"].as_str().unwrap().to_owned(),
                g["members"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        layout,
        [
            ("sandbox".to_owned(), 2),
            ("group-1b".to_owned(), 3),
            ("group-1a".to_owned(), 3)
        ],
        "the two ungrouped demo members are the sandbox"
    );
    // Relabel a sandbox member: the run keeps its members, its plan keeps the run's layout.
    let member = s.get("/api/v1/fleets/demo/members/aks-eastus-1").await.body;
    let mut relabelled = member.clone();
    relabelled["properties"]["labels"] = json!({"env": "production"});
    let put = s
        .put("/api/v1/fleets/demo/members/aks-eastus-1", relabelled)
        .await;
    assert!(put.status.is_success(), "{}", put.body);
    let plan = s
        .get("/api/v1/fleets/demo/updateRuns/run-sel/plan")
        .await
        .body;
    let sandbox: Vec<&str> = plan["stages"][0]["groups"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(sandbox.len(), 2, "{plan}");
    assert!(sandbox.contains(&"aks-eastus-1"));
}

#[tokio::test]
async fn a_custom_run_installs_the_named_image_and_waits_where_a_region_lacks_it() {
    let s = demo().await;
    let image = format!(
        "AKSUbuntu-2204gen2containerd-{}",
        s.newest_image("eastus").await
    );
    let selection = json!({"type": "Custom", "customNodeImageVersions": [{"version": image}]});
    let reply = create(&s, "custom-1", json!({"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}, "nodeImageSelection": selection}})).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(
        reply.body["properties"]["managedClusterUpdate"]["nodeImageSelection"], selection,
        "the run keeps the selection as given"
    );
    let plan = s
        .get("/api/v1/fleets/demo/updateRuns/custom-1/plan")
        .await
        .body;
    assert_eq!(plan["selectedNodeImageVersions"], json!([image]));
    let members = common::run_members(&plan["stages"]);
    let action = |m: &Value| m["action"].as_str().unwrap().to_owned();
    assert!(members.iter().any(|m| action(m) == "upgrade"), "{plan}");
    // The demo's regions lag eastus, so some members wait for the image to reach theirs.
    let waiting: Vec<&Value> = members.iter().filter(|m| action(m) == "pending").collect();
    assert!(!waiting.is_empty(), "{plan}");
    assert!(
        waiting[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("node image {image} is not offered in ")),
        "{}",
        waiting[0]
    );
}
