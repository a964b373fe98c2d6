//! Multi-hop runs over REST: a member three minors behind is refused unless the run asks for
//! hops, and with `hops: PerMember` it goes through the newest patch of each minor, one provider
//! operation per hop, all in its turn in its group.

use crate::common;

use axum::http::StatusCode;
use serde_json::{Value, json};

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";
const RUNS: &str = "/api/v1/fleets/f/updateRuns";

fn catalog() -> Value {
    json!({"kubernetesVersions": ["1.28.5", "1.29.2", "1.29.9", "1.30.5", "1.31.2"],
           "nodeImages": {"eastus": {UBUNTU: ["202409.01.0"]}}})
}

fn run(hops: Option<&str>) -> Value {
    let mut upgrade = json!({"type": "Full", "kubernetesVersion": "1.31.2"});
    if let Some(hops) = hops {
        upgrade["hops"] = json!(hops);
    }
    let stages = json!({"stages": [{"name": "s", "groups": [{"name": "g"}]}]});
    json!({"properties": {"strategy": stages, "managedClusterUpdate": {"upgrade": upgrade}}})
}

/// The plan's action and reason for `member` of run `name`.
async fn planned(s: &common::TestServer, name: &str, member: &str) -> Value {
    let plan = s.get(&format!("{RUNS}/{name}/plan")).await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    common::run_members(&plan.body["stages"])
        .into_iter()
        .find(|m| m["name"] == member)
        .unwrap()
}

#[tokio::test]
async fn a_run_with_hops_takes_a_member_through_each_minor_one_operation_per_hop() {
    let s = common::start_fast("sqlite::memory:", false, 100_000.0).await;
    assert_eq!(
        s.put("/api/v1/simulator/catalog", catalog()).await.status,
        StatusCode::OK
    );
    s.fleet("f").await;
    for (name, version) in [("old", "1.28.5"), ("new", "1.30.5")] {
        assert!(
            s.sim_cluster(name, "eastus", version)
                .await
                .status
                .is_success()
        );
        let joined = s.join("f", name, &format!("sim:{name}"), Some("g")).await;
        assert!(joined.status.is_success());
    }
    let bad = s.put(&format!("{RUNS}/odd"), run(Some("Sometimes"))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    assert_eq!(
        s.put(&format!("{RUNS}/azure"), run(None)).await.status,
        StatusCode::CREATED
    );
    let refused = planned(&s, "azure", "old").await;
    assert_eq!(refused["action"], "fail", "{refused}");
    assert!(
        refused["reason"]
            .as_str()
            .unwrap()
            .contains("would skip minor version 1.29")
    );

    let created = s.put(&format!("{RUNS}/hops"), run(Some("PerMember"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(
        created.body["properties"]["managedClusterUpdate"]["upgrade"]["hops"],
        "PerMember"
    );
    let old = planned(&s, "hops", "old").await;
    assert_eq!(old["action"], "upgrade", "{old}");
    assert_eq!(
        old["target"]["controlPlane"]["to"], "1.29.9",
        "the newest patch of 1.29"
    );
    let later: Vec<&Value> = old["then"].as_array().unwrap().iter().collect();
    let to: Vec<&Value> = later.iter().map(|hop| &hop["controlPlane"]["to"]).collect();
    assert_eq!(to, [&json!("1.30.5"), &json!("1.31.2")]);

    let started = s.call("POST", &format!("{RUNS}/hops/start"), None).await;
    assert!(started.status.is_success(), "{}", started.body);
    let finished = s.wait_for_run("f", "hops", &["Completed", "Failed"]).await;
    assert_eq!(
        finished["properties"]["status"]["status"]["state"], "Completed",
        "{finished}"
    );

    let cluster = s.get("/api/v1/simulator/clusters/old").await.body;
    assert_eq!(cluster["kubernetesVersion"], "1.31.2", "{cluster}");
    let operations = s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    let of = |name: &str| -> Vec<(String, i64, i64)> {
        operations
            .iter()
            .filter(|op| op["cluster"].as_str().unwrap().ends_with(name))
            .map(|op| {
                let to = op["target"]["controlPlane"]["to"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                (to, time(&op["startTime"]), time(&op["endTime"]))
            })
            .collect()
    };
    let old_ops = of("old");
    let versions: Vec<&str> = old_ops.iter().map(|(to, ..)| to.as_str()).collect();
    assert_eq!(
        versions,
        ["1.29.9", "1.30.5", "1.31.2"],
        "one operation per hop"
    );
    assert!(
        old_ops.windows(2).all(|w| w[1].1 >= w[0].2),
        "each hop starts once the one before has ended: {old_ops:?}"
    );
    let new_ops = of("new");
    assert_eq!(new_ops.len(), 1);
    assert!(
        old_ops[0].1 >= new_ops[0].2,
        "one member at a time: old (after new, by name) starts when new has finished"
    );
    let old = common::run_members(&finished["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["name"] == "old")
        .unwrap();
    assert!(
        old["operationId"].as_str().unwrap().ends_with("/old/3"),
        "three attempts, one per hop: {old}"
    );
    // Ordered, not timed: how long the provider takes to hear of the first hop depends on the
    // machine, so the member's turn is placed between the member before it and its first hop.
    let (began, first_hop) = (time(&old["status"]["startTime"]), &old_ops[0]);
    assert!(
        new_ops[0].2 <= began && began <= first_hop.1,
        "its turn began once new had finished, and its first hop after that: {began} {new_ops:?} {old_ops:?}"
    );
}

fn time(v: &Value) -> i64 {
    app::model::time::Timestamp::parse_rfc3339(v.as_str().unwrap())
        .unwrap()
        .millis()
}
