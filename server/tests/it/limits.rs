//! `maxConcurrency` and `maxAllowedFailures` on real processes: lab clusters through the
//! `exec` provider, whose own records say how many upgrades ran at once and which landed.

use crate::common::lab::{self, Lab};
use crate::common::runs::{member, start_run, state, wait_until};
use crate::common::{self, FastServer};

use axum::http::StatusCode;
use serde_json::{Value, json};

async fn lab_group(lab: &Lab, members: usize) -> FastServer {
    let s = common::start_configured(&lab.config).await;
    s.fleet("f").await;
    for i in 0..members {
        let name = format!("c{i:02}");
        let joined = s
            .join("f", &name, &format!("exec:lab/{name}"), Some("g"))
            .await;
        assert_eq!(joined.status, StatusCode::CREATED, "{}", joined.body);
    }
    s
}

fn staged(group: Value) -> Value {
    json!({
        "strategy": {"stages": [{"name": "s", "groups": [group]}]},
        "managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": lab::TO}},
    })
}

#[tokio::test]
async fn a_group_upgrades_two_at_once_and_goes_on_past_a_failure_within_its_budget() {
    let lab = Lab::new(5, 1.0);
    lab.set_faults(json!({"refuse": {"c02": "quota exceeded in eastus"}}));
    let s = lab_group(&lab, 5).await;
    start_run(
        &s,
        staged(json!({"name": "g", "maxConcurrency": "2", "maxAllowedFailures": "1"})),
    )
    .await;
    let run = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&run), "Completed", "{run}");
    let status = &run["properties"]["status"];
    assert_eq!(status["failureCount"], 1);
    let group = &status["stages"][0]["groups"][0];
    assert_eq!(
        (
            &group["maxConcurrency"],
            &group["maxAllowedFailures"],
            &group["failureCount"]
        ),
        (&json!(2), &json!(1), &json!(1))
    );
    assert!(
        member(&run, "c02")["message"]
            .as_str()
            .unwrap()
            .contains("quota exceeded in eastus")
    );
    let upgrades = lab.upgrades();
    assert_eq!(upgrades.len(), 4, "{upgrades:?}");
    assert!(upgrades.values().all(|n| *n == 1));
    assert_eq!(lab.most_at_once(), 2, "two upgrades at a time, never more");
}

#[tokio::test]
async fn a_failure_past_the_budget_fails_the_run_and_nothing_more_starts() {
    let lab = Lab::new(4, 0.5);
    lab.set_faults(json!({"refuse": {"c00": "denied", "c01": "denied"}}));
    let s = lab_group(&lab, 4).await;
    start_run(&s, staged(json!({"name": "g", "maxAllowedFailures": "1"}))).await;
    let run = wait_until(&s, |r| state(r) != "Running").await;
    assert_eq!(state(&run), "Failed", "{run}");
    let error = run["properties"]["status"]["status"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(
        error.contains("2 failed member(s) exceed the maxAllowedFailures of group g (1)"),
        "{error}"
    );
    assert!(lab.upgrades().is_empty(), "{:?}", lab.upgrades());
}
