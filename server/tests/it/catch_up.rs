//! Catch-up runs over REST: a finished run names whom it left behind and why, and a run of
//! exactly those members goes to the same targets, the same node images included.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
const RUNS: &str = "/api/v1/fleets/f/updateRuns";

/// 1.31.2 has reached eastus only; both regions offer two images, westeurope one behind.
fn catalog() -> Value {
    json!({"kubernetesVersions": ["1.30.5", "1.31.2"],
           "kubernetesVersionRollout": {"1.31.2": ["eastus"]},
           "nodeImages": {"eastus": {UBUNTU: ["202409.01.0", "202410.01.0"]},
                          "westeurope": {UBUNTU: ["202409.01.0", "202410.01.0"]}}})
}

fn member_names(run: &Value) -> Vec<String> {
    common::run_members(&run["properties"]["status"]["stages"])
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_catch_up_run_takes_exactly_the_members_left_behind_to_the_same_targets() {
    let s = common::start_fast("sqlite::memory:", false, 100_000.0).await;
    assert_eq!(
        s.put("/api/v1/simulator/catalog", catalog()).await.status,
        StatusCode::OK
    );
    s.fleet("f").await;
    for (name, region) in [("east", "eastus"), ("west", "westeurope")] {
        assert!(
            s.sim_cluster(name, region, "1.30.5")
                .await
                .status
                .is_success()
        );
        assert!(
            s.join("f", name, &format!("sim:{name}"), Some("g"))
                .await
                .status
                .is_success()
        );
    }
    let update = json!({"upgrade": {"type": "Full", "kubernetesVersion": "1.31.2"},
                        "nodeImageSelection": {"type": "Consistent"}});
    let stages = json!({"stages": [{"name": "s", "groups": [{"name": "g"}]}]});
    let created = s
        .put(
            &format!("{RUNS}/r"),
            json!({"properties": {"strategy": stages, "managedClusterUpdate": update}}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);

    let early = s
        .call("POST", &format!("{RUNS}/r/createCatchUpRun"), None)
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT, "{}", early.body);
    assert_eq!(early.code(), "UpdateRunNotFinished");
    assert!(
        s.call("POST", &format!("{RUNS}/r/start"), None)
            .await
            .status
            .is_success()
    );
    let finished = s.wait_for_run("f", "r", &["Completed"]).await;
    let images =
        finished["properties"]["status"]["nodeImageSelection"]["selectedNodeImageVersions"].clone();

    let left = s.get(&format!("{RUNS}/r/leftBehind")).await;
    assert_eq!(left.status, StatusCode::OK, "{}", left.body);
    let value = left.body["value"].as_array().unwrap();
    assert_eq!(value.len(), 1, "{}", left.body);
    assert_eq!(value[0]["name"], "west");
    assert_eq!(value[0]["state"], "Pending");
    assert!(
        value[0]["reason"]
            .as_str()
            .unwrap()
            .contains("not available in westeurope"),
        "{}",
        value[0]
    );

    let catch_up = s
        .call("POST", &format!("{RUNS}/r/createCatchUpRun"), None)
        .await;
    assert_eq!(catch_up.status, StatusCode::CREATED, "{}", catch_up.body);
    assert_eq!(catch_up.body["name"], "r-catch-up");
    assert_eq!(
        member_names(&catch_up.body),
        ["west"],
        "exactly who was left behind"
    );
    let asked = &catch_up.body["properties"]["managedClusterUpdate"];
    assert_eq!(
        asked["upgrade"],
        json!({"type": "Full", "kubernetesVersion": "1.31.2"})
    );
    assert_eq!(
        asked["nodeImageSelection"]["type"], "Custom",
        "the images the run chose, named"
    );
    let named: Vec<&str> = asked["nodeImageSelection"]["customNodeImageVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["version"].as_str().unwrap())
        .collect();
    assert_eq!(named, [format!("{UBUNTU}-202410.01.0")], "{images}");
    assert_eq!(
        catch_up.body["properties"]["status"]["status"]["state"],
        "NotStarted"
    );
    assert_eq!(
        catch_up.body["properties"]["strategy"]["stages"][0]["groups"][0]["name"],
        "g"
    );

    let again = s
        .call("POST", &format!("{RUNS}/r/createCatchUpRun"), None)
        .await;
    assert_eq!(again.code(), "UpdateRunAlreadyExists", "{}", again.body);
    let named = s
        .call(
            "POST",
            &format!("{RUNS}/r/createCatchUpRun"),
            Some(json!({"name": "r-again"})),
        )
        .await;
    assert_eq!(named.status, StatusCode::CREATED, "{}", named.body);
    let bad = s
        .call(
            "POST",
            &format!("{RUNS}/r/createCatchUpRun"),
            Some(json!({"name": "Bad Name"})),
        )
        .await;
    assert_eq!(bad.code(), "InvalidUpdateRunName", "{}", bad.body);

    // Once 1.31.2 reaches westeurope, the catch-up run takes west there.
    let mut everywhere = catalog();
    everywhere
        .as_object_mut()
        .unwrap()
        .remove("kubernetesVersionRollout");
    assert_eq!(
        s.put("/api/v1/simulator/catalog", everywhere).await.status,
        StatusCode::OK
    );
    assert!(
        s.call("POST", &format!("{RUNS}/r-catch-up/start"), None)
            .await
            .status
            .is_success()
    );
    s.wait_for_run("f", "r-catch-up", &["Completed"]).await;
    let west = s.get("/api/v1/fleets/f/members/west").await.body;
    assert_eq!(
        west["properties"]["status"]["kubernetesVersion"], "1.31.2",
        "{west}"
    );
    let left = s.get(&format!("{RUNS}/r-catch-up/leftBehind")).await.body;
    assert_eq!(left["value"], json!([]), "nobody left behind now");
}

#[test]
fn the_command_line_lists_who_was_left_behind_and_catches_them_up() {
    let port = common::free_port();
    let db = common::temp_db();
    let args = ["--demo", "--database-url", &db, "--time-scale", "100000"];
    let _server = common::spawn_serve(port, &args);
    let cli = |args: &[&str]| common::cli(port, args);
    let run = ["-f", "demo", "-n", "images"];
    cli(&[
        &["updaterun", "create"][..],
        &run,
        &["--upgrade-type", "NodeImageOnly"],
    ]
    .concat());
    cli(&[
        &["updaterun", "skip"][..],
        &run,
        &["--targets", "Member:aks-eastus-1"],
    ]
    .concat());
    cli(&[&["updaterun", "start"][..], &run].concat());
    common::wait_until_completed(port, "/api/v1/fleets/demo/updateRuns/images");
    let left = cli(&[&["updaterun", "left-behind"][..], &run].concat());
    let names: Vec<&str> = left["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"aks-eastus-1"), "{left}");
    let created = cli(&[
        &["updaterun", "create-catch-up"][..],
        &run,
        &["--catch-up-name", "images-again"],
    ]
    .concat());
    assert_eq!(created["name"], "images-again");
    assert!(
        member_names(&created).contains(&"aks-eastus-1".to_owned()),
        "{created}"
    );
}
