//! Several replicas on one database: each run is driven by the one replica holding it, every
//! write of a run is fenced by that hold, and commands sent to another replica reach the run's
//! driver through the store.

use crate::common;
use app::model::names::{FleetName, RunName};
use axum::http::StatusCode;
use serde_json::{Value, json};
use server::store::{RunStore, SqlStore, StoreError};
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

/// A server named `replica` on `db` (a manual clock, sign-in off).
async fn replica(db: &str, replica: &str) -> common::TestServer {
    let mut args = common::args(db, false);
    args.replica_id = Some(replica.into());
    common::start_built(&args).await
}

/// Fleet `f` with one simulated member, and run `r` (not started) upgrading its control plane.
async fn fleet_and_run(s: &common::TestServer) {
    let from = common::newest_of(s, 29).await;
    let made = s.sim_cluster("c1", "eastus", &from).await;
    assert!(made.status.is_success(), "{}", made.body);
    s.fleet("f").await;
    let joined = s.join("f", "m1", "sim:c1", None).await;
    assert!(joined.status.is_success(), "{}", joined.body);
    let to = common::newest_of(s, 30).await;
    common::runs::create_run(
        s,
        json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": to}}}),
    )
    .await;
}

async fn stored_run(store: &SqlStore) -> server::store::StoredRun {
    let fleet = FleetName::parse("f").unwrap();
    let name = RunName::parse("r").unwrap();
    store.get_run(&fleet, &name).await.unwrap().unwrap()
}

async fn driver_column(db: &str) -> Option<String> {
    let pool = common::raw_pool(db).await;
    sqlx::query_scalar("SELECT driver FROM runs WHERE name = 'r'")
        .fetch_one(&pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn one_replica_holds_a_run_and_one_that_lost_it_cannot_write_it() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet_and_run(&s).await;
    let store = SqlStore::connect(&db).await.unwrap();
    let run = stored_run(&store).await;
    let uid = run.run.uid.as_str();

    let (a_fence, version) = store.take_run(uid, "a", SECOND).await.unwrap().unwrap();
    assert_eq!(version, run.etag);
    assert_eq!(store.take_run(uid, "b", SECOND).await.unwrap(), None);
    assert_eq!(store.driver_of(uid).await.unwrap().as_deref(), Some("a"));
    let renewed = store.renew_runs("a", SECOND).await.unwrap();
    assert_eq!(renewed, vec![(uid.to_owned(), a_fence)]);

    // a pauses past its hold; b takes the run over with a higher fence.
    tokio::time::sleep(SECOND + Duration::from_millis(200)).await;
    let (b_fence, _) = store
        .take_run(uid, "b", SECOND * 30)
        .await
        .unwrap()
        .unwrap();
    assert!(b_fence > a_fence);
    let a = server::store::Driving {
        replica: "a".into(),
        fence: a_fence,
    };
    let refused = store
        .save_run(&run_fleet(), &run, &a, common::change(&run.run, &[]))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotDriving)),
        "{refused:?}"
    );
    assert_eq!(
        stored_run(&store).await.etag,
        run.etag,
        "nothing was written"
    );
    assert!(store.renew_runs("a", SECOND).await.unwrap().is_empty());

    // b writes; a's release of a run it lost leaves b's hold alone; b gives it back.
    let b = server::store::Driving {
        replica: "b".into(),
        fence: b_fence,
    };
    let saved = store
        .save_run(&run_fleet(), &run, &b, common::change(&run.run, &[]))
        .await
        .unwrap();
    assert_eq!(saved, run.etag + 1);
    store.release_run(uid, &a).await.unwrap();
    assert_eq!(store.driver_of(uid).await.unwrap().as_deref(), Some("b"));
    store.release_run(uid, &b).await.unwrap();
    assert_eq!(store.driver_of(uid).await.unwrap(), None);
    assert!(store.take_run(uid, "a", SECOND).await.unwrap().is_some());
}

fn run_fleet() -> FleetName {
    FleetName::parse("f").unwrap()
}

#[tokio::test]
async fn a_stored_command_is_answered_once_with_the_change_it_made() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet_and_run(&s).await;
    let store = SqlStore::connect(&db).await.unwrap();
    let run = stored_run(&store).await;
    let uid = run.run.uid.as_str();
    let now = common::START;

    let id = store
        .send_command(uid, "\"Start\"", None, now)
        .await
        .unwrap();
    let withdrawn = store
        .send_command(uid, "\"Stop\"", None, now)
        .await
        .unwrap();
    assert!(store.withdraw_command(withdrawn).await.unwrap());
    let waiting = store.waiting_commands(uid).await.unwrap();
    assert_eq!(
        waiting.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![id],
        "a withdrawn command is not carried out"
    );
    assert_eq!(store.command_answer(id).await.unwrap(), None);

    let driving = common::take_run(&store, uid).await;
    let with_answer = server::store::RunChange {
        answers: Some((id, "{\"Ok\":\"Accepted\"}")),
        ..common::change(&run.run, &[])
    };
    store
        .save_run(&run_fleet(), &run, &driving, with_answer)
        .await
        .unwrap();
    let answer = store.command_answer(id).await.unwrap().unwrap();
    assert_eq!(answer.answer, "{\"Ok\":\"Accepted\"}");
    assert!(store.waiting_commands(uid).await.unwrap().is_empty());
    // A second answer (a driver that lost the run, say) cannot replace the first.
    let again = store
        .answer_command(id, &driving, "{\"Ok\":\"Other\"}")
        .await;
    assert!(matches!(again, Err(StoreError::NotDriving)), "{again:?}");
    assert!(
        !store.withdraw_command(id).await.unwrap(),
        "answered already"
    );
    store.forget_command(id).await.unwrap();
    assert!(matches!(
        store.command_answer(id).await,
        Err(StoreError::NotFound)
    ));
    let missing_run = store
        .send_command("no-such-uid", "\"Start\"", None, now)
        .await;
    assert!(matches!(missing_run, Err(StoreError::NotFound)));
}

fn state(run: &Value) -> &str {
    common::runs::state(run)
}

#[tokio::test]
async fn a_command_sent_to_another_replica_reaches_the_runs_driver_and_is_audited_once() {
    let db = common::temp_db();
    let a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    fleet_and_run(&a).await;
    let started = a
        .call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    assert_eq!(driver_column(&db).await.as_deref(), Some("replica-a"));

    let stopped = b
        .call("POST", "/api/v1/fleets/f/updateRuns/r/stop", None)
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert!(
        matches!(state(&stopped.body), "Stopping" | "Stopped"),
        "{}",
        stopped.body
    );
    assert_eq!(
        driver_column(&db).await.as_deref(),
        Some("replica-a"),
        "the driver did not change"
    );
    // Refusals come back the same way.
    let refused = b
        .call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
        .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);

    let audit = b.get("/api/v1/audit?limit=50").await.body;
    let stops: Vec<&Value> = audit["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.ends_with("/r/stop")))
        .collect();
    assert_eq!(stops.len(), 1, "{audit}");
    assert_eq!(stops[0]["outcome"], "Succeeded", "{audit}");
    assert_eq!(stops[0]["status"], 200, "{audit}");
}

#[tokio::test]
async fn a_replica_shutting_down_gives_its_runs_back_and_another_drives_them() {
    let db = common::temp_db();
    let a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    fleet_and_run(&a).await;
    let started = a
        .call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    a.built.drydock.runtime().shut_down().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while driver_column(&db).await.as_deref() != Some("replica-b") {
        assert!(
            std::time::Instant::now() < deadline,
            "replica-b never took the run: {:?}",
            driver_column(&db).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stopped = b
        .call("POST", "/api/v1/fleets/f/updateRuns/r/stop", None)
        .await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
}

#[tokio::test]
async fn on_postgresql_a_replica_hears_at_once_of_a_run_another_drives() {
    if common::on_sqlite() {
        return;
    }
    let db = common::temp_db();
    let a = replica(&db, "replica-a").await;
    let b = replica(&db, "replica-b").await;
    fleet_and_run(&a).await;
    // b drives nothing: whatever it hears of run r, it heard from PostgreSQL.
    let mut heard = b.built.drydock.runtime().subscribe();
    let started = a
        .call("POST", "/api/v1/fleets/f/updateRuns/r/start", None)
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let key = (FleetName::parse("f").unwrap(), RunName::parse("r").unwrap());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = tokio::time::timeout_at(deadline, heard.recv()).await;
        let changed = got
            .expect("replica-b heard of the change replica-a committed")
            .unwrap();
        if changed == key {
            break;
        }
    }
    assert_eq!(driver_column(&db).await.as_deref(), Some("replica-a"));
}

/// A decision that changes members alone (most steps of a wide run) writes their rows and leaves
/// the run's body as it was; one that changes a stage writes the body too.
#[tokio::test]
async fn a_save_writes_the_run_body_only_when_more_than_members_changed() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet_and_run(&s).await;
    let store = SqlStore::connect(&db).await.unwrap();
    let mut run = stored_run(&store).await;
    let (fence, _) = store
        .take_run(&run.run.uid, "a", SECOND * 30)
        .await
        .unwrap()
        .unwrap();
    let a = server::store::Driving {
        replica: "a".into(),
        fence,
    };
    let started = app::model::run::StageState::Running {
        started_at: common::START,
    };
    let mut changed = run.run.clone();
    changed.stages[0].groups[0].members[0].attempts = 7;
    changed.stages[0].state = started.clone();
    let members_alone = server::store::RunChange {
        outside_members: false,
        members: &[(0, 0, 0)],
        ..common::change(&changed, &[])
    };
    run.etag = store
        .save_run(&run_fleet(), &run, &a, members_alone)
        .await
        .unwrap();
    let read = stored_run(&store).await;
    assert_eq!(read.etag, run.etag);
    assert_eq!(read.run.stages[0].groups[0].members[0].attempts, 7);
    assert_ne!(read.run.stages[0].state, started, "the body was left alone");

    let with_the_stage = server::store::RunChange {
        members: &[(0, 0, 0)],
        ..common::change(&changed, &[])
    };
    store
        .save_run(&run_fleet(), &run, &a, with_the_stage)
        .await
        .unwrap();
    let read = stored_run(&store).await;
    assert_eq!(read.run, changed);
}

/// An upgrading member's target as a test sets it: the control plane from 1.29.8 to `to`.
fn upgrading_to(to: &str, attempt: u32) -> app::model::run::MemberState {
    let version = |v: &str| app::model::version::KubernetesVersion::parse(v).unwrap();
    app::model::run::MemberState::Upgrading {
        attempt,
        started_at: common::START,
        target: app::model::target::UpgradeTarget {
            control_plane: Some(app::model::target::Step {
                from: version("1.29.8"),
                to: version(to),
            }),
            node_pools: Vec::new(),
            resources: None,
        },
        provider_trouble: None,
        hop: None,
    }
}

/// An upgrading member's row names its target, stored once a run (`run_targets`). A save
/// refused (another write came first) stores nothing, so the next save that names the same
/// target stores it: another replica reads the run back whole.
#[tokio::test]
async fn an_upgrading_members_target_is_stored_by_the_save_that_commits() {
    let db = common::temp_db();
    let s = common::start_with(&db, false).await;
    fleet_and_run(&s).await;
    let store = SqlStore::connect(&db).await.unwrap();
    let run = stored_run(&store).await;
    let a = common::take_run(&store, &run.run.uid).await;
    let save = |changed: &app::model::run::UpdateRun, etag: i64| {
        let (store, a, run) = (&store, &a, &run);
        let changed = changed.clone();
        async move {
            let previous = server::store::StoredRun {
                etag,
                ..run.clone()
            };
            let change = server::store::RunChange {
                outside_members: false,
                members: &[(0, 0, 0)],
                ..common::change(&changed, &[])
            };
            store.save_run(&run_fleet(), &previous, a, change).await
        }
    };
    let mut changed = run.run.clone();
    changed.stages[0].groups[0].members[0].state = upgrading_to("1.30.4", 1);
    let stale = save(&changed, run.etag - 1).await;
    assert!(matches!(stale, Err(StoreError::Concurrent)), "{stale:?}");
    let etag = save(&changed, run.etag).await.unwrap();
    let elsewhere = SqlStore::connect(&db).await.unwrap();
    assert_eq!(stored_run(&elsewhere).await.run, changed);

    changed.stages[0].groups[0].members[0].state = upgrading_to("1.30.5", 2);
    let etag = save(&changed, etag).await.unwrap();
    changed.stages[0].groups[0].members[0].state = upgrading_to("1.30.4", 3);
    save(&changed, etag).await.unwrap();
    assert_eq!(stored_run(&elsewhere).await.run, changed);
    let pool = common::raw_pool(&db).await;
    let (targets, body): (i64, String) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM run_targets), body FROM run_members WHERE run = 'r'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(targets, 2, "two targets, each stored once");
    assert!(!body.contains("1.30.4"), "the row names its target: {body}");
}
