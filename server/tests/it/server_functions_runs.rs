//! The browser's API for runs and strategies: server functions at `/fn/...`, callable by
//! scripts, backed by the same service as REST.

use crate::common;

use axum::http::StatusCode;
use serde_json::json;

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_run_is_created_started_and_followed_through_server_functions() {
    let s = common::start_fast("sqlite::memory:", true, 100_000.0).await;
    let target = common::newest_of(&s, 30).await;
    let snapshot = s.get("/fn/fleet_snapshot?fleet=demo").await;
    assert_eq!(snapshot.status, StatusCode::OK);
    assert_eq!(
        snapshot.body["members"].as_array().unwrap().len(),
        12,
        "what the browser plans previews from"
    );
    assert!(snapshot.body["catalog"]["kubernetesVersions"].is_array());

    let request = json!({"strategy": {"kind": "oneByOne"}, "update": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": target}}});
    let created = s
        .call(
            "POST",
            "/fn/create_run",
            Some(json!({"fleet": "demo", "run": "ui-run", "request": request})),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let skipped = s
        .call("POST", "/fn/skip", Some(json!({"fleet": "demo", "run": "ui-run", "targets": [{"type": "Member", "name": "aks-westeurope-2"}]})))
        .await;
    assert_eq!(skipped.body, json!({"Skipped": {"targets": 1}}));
    let started = s
        .send("POST", "/fn/start_run", Some("fleet=demo&run=ui-run"), FORM)
        .await;
    assert_eq!(started.body, json!("Started"));
    s.wait_for_run("demo", "ui-run", &["Completed"]).await;
    let runs = s.get("/fn/list_runs?fleet=demo").await.body;
    assert_eq!(runs[0]["name"], "ui-run");
    assert_eq!(runs[0]["status"]["state"], "Completed");
    assert_eq!(runs[0]["total"], 12);
    assert_eq!(runs[0]["done"], 12);
    let run = s.get("/fn/get_run?fleet=demo&run=ui-run").await.body;
    assert_eq!(run["state"]["state"], "completed");
    let view = s.get("/fn/run_view?fleet=demo&run=ui-run").await.body;
    assert_eq!(view["run"], run, "the run page's read holds the run");
    assert_eq!(view["time"]["scale"], 100_000.0);
    let timeline = s
        .get("/api/v1/fleets/demo/updateRuns/ui-run/timeline?limit=10000")
        .await
        .body;
    assert!(view["eventsThrough"].as_i64().unwrap() > 0);
    assert_eq!(
        view["eventsThrough"], timeline["nextAfter"],
        "the page's event stream picks up after the newest event"
    );
    let missing = s.get("/fn/run_view?fleet=demo&run=nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let plan = s.get("/fn/run_plan?fleet=demo&run=ui-run").await;
    assert_eq!(plan.status, StatusCode::OK);
    let refused = s
        .send("POST", "/fn/stop_run", Some("fleet=demo&run=ui-run"), FORM)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.body["code"], "ActionNotAllowed");
}

#[tokio::test]
async fn strategies_through_server_functions() {
    let s = common::start_with("sqlite::memory:", true).await;
    let strategy = json!({"stages": [{"name": "canary", "groups": [{"name": "group-1a"}]}]});
    let saved = s
        .call(
            "POST",
            "/fn/save_strategy",
            Some(json!({"fleet": "demo", "name": "s1", "strategy": strategy})),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(
        s.get("/fn/list_strategies?fleet=demo").await.body,
        json!([["s1", strategy]])
    );
    let bad = json!({"stages": [{"name": "canary", "groups": [{"name": "nobody"}]}]});
    let refused = s
        .call(
            "POST",
            "/fn/save_strategy",
            Some(json!({"fleet": "demo", "name": "s2", "strategy": bad})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body["message"].as_str().unwrap().contains("nobody"));
    assert_eq!(
        s.send(
            "POST",
            "/fn/delete_strategy",
            Some("fleet=demo&name=s1"),
            FORM
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        s.send(
            "POST",
            "/fn/delete_strategy",
            Some("fleet=demo&name=s1"),
            FORM
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_fleet_clock_tells_a_page_how_fast_fleet_time_runs() {
    let s = common::start_fast("sqlite::memory:", false, 600.0).await;
    let read = || async {
        let reply = s.get("/fn/fleet_time").await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body
    };
    let first = read().await;
    assert_eq!(first["scale"], 600.0);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let second = read().await;
    let at = |v: &serde_json::Value| {
        app::model::time::Timestamp::parse_rfc3339(v["now"].as_str().unwrap()).unwrap()
    };
    assert!(
        at(&second).millis() - at(&first).millis() >= 50 * 600 / 2,
        "fleet time ran on at the scale: {first} then {second}"
    );
}

#[tokio::test]
async fn the_run_view_forecasts_what_remains_and_progress_says_how_far_upgrades_came() {
    let s = common::start_with("sqlite::memory:", true).await;
    s.put(
        "/api/v1/fleets/demo/updateRuns/ahead",
        serde_json::json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
    )
    .await;
    let view = s.get("/fn/run_view?fleet=demo&run=ahead").await.body;
    let now =
        app::model::time::Timestamp::parse_rfc3339(view["time"]["now"].as_str().unwrap()).unwrap();
    let eta = app::model::time::Timestamp::parse_rfc3339(view["forecast"]["eta"].as_str().unwrap())
        .unwrap();
    assert!(eta > now, "if started now, it ends later: {view}");
    let ahead: usize = view["forecast"]["stages"][0]["groups"][0]["members"]
        .as_array()
        .unwrap()
        .len();
    assert!(ahead > 0);
    s.call("POST", "/api/v1/fleets/demo/updateRuns/ahead/start", None)
        .await;
    s.clock.advance(60_000);
    // The driver starts the upgrade just after the start is committed: wait for it to.
    let mut progress = serde_json::Value::Null;
    for _ in 0..200 {
        progress = s.get("/fn/run_progress?fleet=demo&run=ahead").await.body;
        if !progress["members"].as_object().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let members = progress["members"].as_object().unwrap();
    assert_eq!(members.len(), 1, "one upgrade in flight: {progress}");
    let (_, first) = members.iter().next().unwrap();
    assert!(first["nodesTotal"].as_u64().unwrap() > 0);
    assert!(first["step"].as_str().unwrap().starts_with("node pool"));
    let view = s.get("/fn/run_view?fleet=demo&run=ahead").await.body;
    let in_flight = &view["forecast"]["stages"][0]["groups"][0]["members"][0];
    assert_eq!(in_flight["inFlight"], true, "{view}");
}

/// The run page reads an outline (stages, groups, counts) and pages of a group's members; both
/// say what the run's REST status says.
#[tokio::test]
async fn the_run_outline_and_member_pages_say_what_the_run_status_says() {
    let s = common::start_fast("sqlite::memory:", true, 100_000.0).await;
    let target = common::newest_of(&s, 30).await;
    s.put(
        "/api/v1/fleets/demo/updateRuns/paged",
        json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": target}}}}),
    )
    .await;
    s.call("POST", "/api/v1/fleets/demo/updateRuns/paged/start", None)
        .await;
    s.wait_for_run("demo", "paged", &["Completed"]).await;

    let view = s.get("/fn/run_outline?fleet=demo&run=paged").await;
    assert_eq!(view.status, StatusCode::OK, "{}", view.body);
    let (view, outline) = (&view.body, &view.body["outline"]);
    let timeline = s
        .get("/api/v1/fleets/demo/updateRuns/paged/timeline?limit=10000")
        .await
        .body;
    assert_eq!(view["eventsThrough"], timeline["nextAfter"]);
    assert_eq!(outline["membersListed"], true, "12 members are listed");
    assert_eq!(outline["summary"]["total"], 12);
    let rest = s.get("/api/v1/fleets/demo/updateRuns/paged").await.body;
    let stages = rest["properties"]["status"]["stages"].as_array().unwrap();
    assert_eq!(outline["stages"].as_array().unwrap().len(), stages.len());
    for (stage, rest_stage) in outline["stages"].as_array().unwrap().iter().zip(stages) {
        assert_eq!(stage["name"], rest_stage["name"]);
        assert_eq!(stage["status"], rest_stage["status"]);
        for (group, rest_group) in stage["groups"]
            .as_array()
            .unwrap()
            .iter()
            .zip(rest_stage["groups"].as_array().unwrap())
        {
            let name = group["status"]["name"].as_str().unwrap();
            let rest_members = rest_group["members"].as_array().unwrap();
            assert_eq!(group["counts"]["total"], rest_members.len());
            for (count, state) in [
                ("completed", "Completed"),
                ("failed", "Failed"),
                ("skipped", "Skipped"),
            ] {
                let in_rest = rest_members
                    .iter()
                    .filter(|m| m["status"]["state"] == state)
                    .count();
                assert_eq!(group["counts"][count], in_rest, "{count} in group {name}");
            }
            let listed: Vec<_> = group["listed"]["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["status"].clone())
                .collect();
            assert_eq!(&listed, rest_members, "group {name} lists what REST says");
            let page = s
                .get(&format!(
                    "/fn/run_members?fleet=demo&run=paged&group={name}&offset=1"
                ))
                .await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.body);
            assert_eq!(page.body["offset"], 1);
            assert_eq!(page.body["total"], rest_members.len());
            let paged: Vec<_> = page.body["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["status"].clone())
                .collect();
            assert_eq!(paged, rest_members[1..], "a page from offset 1");
        }
    }

    let missing = s.get("/fn/run_outline?fleet=demo&run=nope").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let no_group = s
        .get("/fn/run_members?fleet=demo&run=paged&group=nope")
        .await;
    assert_eq!(no_group.status, StatusCode::NOT_FOUND);
    assert_eq!(no_group.body["code"], "UpdateGroupNotFound");
}
