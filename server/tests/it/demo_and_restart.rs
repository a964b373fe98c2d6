//! The demo fleet, and that everything survives a restart on the same SQLite file.

use crate::common;

use serde_json::{Value, json};
use std::collections::BTreeSet;

fn strings(values: &[Value], pick: impl Fn(&Value) -> &Value) -> BTreeSet<String> {
    values
        .iter()
        .filter_map(|v| pick(v).as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn the_demo_fleet_has_what_the_overview_needs() {
    let s = common::start_with("sqlite::memory:", true).await;
    let members = s.get("/api/v1/fleets/demo/members").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(members.len(), 12);
    assert_eq!(
        strings(&members, |m| &m["properties"]["status"]["location"]).len(),
        3,
        "three regions"
    );
    assert_eq!(
        strings(&members, |m| &m["properties"]["group"]).len(),
        4,
        "four update groups"
    );
    let ungrouped = members
        .iter()
        .filter(|m| m["properties"]["group"].is_null())
        .count();
    assert_eq!(ungrouped, 2);
    let windows = members
        .iter()
        .filter(|m| !m["properties"]["status"]["maintenanceWindow"].is_null())
        .count();
    assert_eq!(windows, 1);
    assert!(
        strings(
            &members,
            |m| &m["properties"]["status"]["kubernetesVersion"]
        )
        .len()
            > 1,
        "mixed versions"
    );
    let images: BTreeSet<String> = members
        .iter()
        .flat_map(|m| {
            m["properties"]["status"]["nodePools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["nodeImageVersion"].as_str().unwrap().to_owned())
        })
        .collect();
    assert!(images.len() > 1, "mixed node images");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_demo_fleet() {
    let a = common::start_with("sqlite::memory:", true).await;
    let b = common::start_with("sqlite::memory:", true).await;
    assert_eq!(
        a.get("/api/v1/fleets/demo/members").await.body,
        b.get("/api/v1/fleets/demo/members").await.body
    );
}

#[tokio::test]
async fn the_demo_is_created_once_and_user_changes_survive_a_restart() {
    let db = common::temp_db();
    {
        let s = common::start_with(&db, true).await;
        s.delete("/api/v1/fleets/demo/members/aks-eastus-1").await;
        s.fleet("prod").await;
        let version = s.some_version().await;
        s.sim_cluster("mine", "westeurope", &version).await;
        s.join("prod", "mine", "sim:mine", Some("canary")).await;
    }
    let s = common::start_with(&db, true).await;
    let demo = s.get("/api/v1/fleets/demo/members").await.body["value"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(
        demo, 11,
        "the demo was not re-created over the user's change"
    );
    let mine = s.get("/api/v1/fleets/prod/members/mine").await;
    assert_eq!(mine.body["properties"]["group"], "canary");
    assert_eq!(mine.body["properties"]["status"]["location"], "westeurope");
}

#[tokio::test]
async fn a_replaced_catalog_survives_a_restart() {
    let db = common::temp_db();
    let catalog = json!({"kubernetesVersions": ["1.30.5"], "nodeImages": {"eastus": {"AKSUbuntu-2204gen2containerd": ["202409.01.0"]}}});
    {
        let s = common::start_with(&db, false).await;
        s.put("/api/v1/simulator/catalog", catalog.clone()).await;
    }
    let s = common::start_with(&db, false).await;
    assert_eq!(s.get("/api/v1/simulator/catalog").await.body, catalog);
}

/// Before migration 0006 a run was one JSON document; the migration moves its members into rows.
/// This puts a file back into that shape and checks the run reads the same afterwards.
#[tokio::test]
async fn a_run_stored_whole_by_an_older_drydock_reads_the_same_after_the_upgrade() {
    // Older Drydocks ran on SQLite only: their databases are SQLite files.
    if !common::on_sqlite() {
        return;
    }
    let db = common::temp_db();
    let before = {
        let s = common::start_with(&db, true).await;
        let created = s
            .put(
                "/api/v1/fleets/demo/updateRuns/legacy",
                json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
            )
            .await;
        assert!(created.status.is_success(), "{}", created.body);
        s.call("POST", "/api/v1/fleets/demo/updateRuns/legacy/start", None)
            .await;
        s.get("/fn/get_run?fleet=demo&run=legacy").await.body
    };
    let members = |run: &Value| {
        run["stages"][0]["groups"][0]["members"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert_eq!(members(&before), 12);

    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    for statement in [
        "DROP TABLE run_members",
        "DELETE FROM _sqlx_migrations WHERE version = 6",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    sqlx::query("UPDATE runs SET body = ? WHERE name = 'legacy'")
        .bind(before.to_string())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let s = common::start_with(&db, true).await;
    let after = s.get("/fn/get_run?fleet=demo&run=legacy").await.body;
    assert_eq!(after, before);
}

/// A run started by a Drydock from before run uids (operation ids `{name}/{member}/{attempt}`)
/// keeps its name as uid after the upgrade: its upgrade in flight is found, not started again,
/// and holds its cluster's lease.
#[tokio::test]
async fn a_run_in_flight_before_uids_existed_finishes_without_a_second_upgrade() {
    // Older Drydocks ran on SQLite only: their databases are SQLite files.
    if !common::on_sqlite() {
        return;
    }
    let db = common::temp_db();
    {
        let s = common::start_with(&db, true).await;
        s.put(
            "/api/v1/fleets/demo/updateRuns/legacy",
            json!({"properties": {"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}}),
        )
        .await;
        let started = s
            .call("POST", "/api/v1/fleets/demo/updateRuns/legacy/start", None)
            .await;
        assert_eq!(started.status, axum::http::StatusCode::OK);
    }
    // Back to the database as migration 6 left it, with the operation under its old id.
    let pool = sqlx::SqlitePool::connect(&db).await.unwrap();
    let uid: String = sqlx::query_scalar("SELECT uid FROM runs WHERE name = 'legacy'")
        .fetch_one(&pool)
        .await
        .unwrap();
    for statement in [
        // Operations and members upgrading held their targets (stored format 1).
        "UPDATE sim_operations SET target = (SELECT t.body FROM sim_targets AS t WHERE t.digest = sim_operations.target) WHERE target NOT LIKE '{%'",
        "DROP TABLE sim_targets",
        "UPDATE run_members SET body = json_set(body, '$.state.target', json((SELECT t.body FROM run_targets AS t WHERE t.fleet = run_members.fleet AND t.run = run_members.run AND t.digest = run_members.body ->> '$.state.target'))) WHERE body ->> '$.state.state' = 'upgrading'",
        "DROP TABLE run_targets",
        "CREATE INDEX sim_operations_by_start ON sim_operations (started_at)",
        "DROP TABLE resource_indices",
        "DROP TABLE resource_overrides",
        "DROP TABLE sim_resource_faults",
        "DROP TABLE sim_resources",
        "DROP TABLE placement_members",
        "DROP TABLE placements",
        "ALTER TABLE members DROP COLUMN taints",
        "DROP TABLE resource_snapshots",
        "DROP TABLE resources",
        "DROP TABLE pass_links",
        "DROP TABLE auto_upgrade_profiles",
        "DROP TRIGGER members_stamp_on_insert",
        "DROP TRIGGER members_stamp_on_update",
        "DROP TRIGGER members_stamp_on_delete",
        "ALTER TABLE fleets DROP COLUMN members_stamp",
        "DROP TABLE run_commands",
        "DROP TABLE duties",
        "DROP TABLE sim_changes",
        "DROP TABLE sim_removed",
        "DROP INDEX sim_clusters_by_change",
        "DROP INDEX sim_operations_by_change",
        "ALTER TABLE sim_catalog DROP COLUMN changed",
        "ALTER TABLE sim_clusters DROP COLUMN changed",
        "ALTER TABLE sim_operations DROP COLUMN changed",
        "DROP INDEX runs_by_driver",
        "ALTER TABLE runs DROP COLUMN driver",
        "ALTER TABLE runs DROP COLUMN driver_until",
        "ALTER TABLE runs DROP COLUMN driver_fence",
        "DROP TABLE sso_logins",
        "DROP TABLE audit_log",
        "DROP TABLE api_tokens",
        "DROP TABLE sessions",
        "DROP TABLE users",
        "DROP TABLE webhook_deliveries",
        "DROP TABLE webhooks",
        "DROP TABLE provider_journal",
        "DROP TABLE cluster_leases",
        "DROP TRIGGER members_one_fleet_per_cluster_on_insert",
        "DROP TRIGGER members_one_fleet_per_cluster_on_update",
        "DROP INDEX runs_by_uid",
        "ALTER TABLE runs DROP COLUMN uid",
        "ALTER TABLE sim_clusters DROP COLUMN transient_rate",
        "ALTER TABLE sim_clusters DROP COLUMN unreachable",
        "ALTER TABLE sim_clusters DROP COLUMN lose_next",
        "ALTER TABLE sim_clusters DROP COLUMN stuck_next",
        "CREATE TABLE outbox (operation_id TEXT PRIMARY KEY NOT NULL, fleet TEXT NOT NULL, run TEXT NOT NULL, effect TEXT NOT NULL, created_at INTEGER NOT NULL, done INTEGER NOT NULL DEFAULT 0)",
        "DELETE FROM _sqlx_migrations WHERE version >= 7",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    sqlx::query("UPDATE sim_operations SET operation_id = replace(operation_id, ?, 'legacy')")
        .bind(&uid)
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let s = common::start_with(&db, true).await;
    let run = s.get("/api/v1/fleets/demo/updateRuns/legacy").await.body;
    assert_eq!(run["properties"]["uid"], "legacy");
    let in_flight = common::run_members(&run["properties"]["status"]["stages"])
        .into_iter()
        .find(|m| m["status"]["state"] == "Running")
        .unwrap();
    assert_eq!(
        s.delete(&format!(
            "/api/v1/fleets/demo/members/{}",
            in_flight["name"].as_str().unwrap()
        ))
        .await
        .code(),
        "MemberBeingUpgraded",
        "the upgrade in flight holds its cluster"
    );
    let mut state = Value::Null;
    for _ in 0..400 {
        s.clock.advance(3600 * 1000);
        s.built.drydock.runtime().poke_all();
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let run = s.get("/api/v1/fleets/demo/updateRuns/legacy").await.body;
        state = run["properties"]["status"]["status"]["state"].clone();
        if state == "Completed" {
            break;
        }
    }
    assert_eq!(state, "Completed");
    let ops = s.get("/api/v1/simulator/operations").await.body["value"]
        .as_array()
        .unwrap()
        .clone();
    let mut clusters: Vec<&str> = ops.iter().map(|o| o["cluster"].as_str().unwrap()).collect();
    let all = clusters.len();
    clusters.sort();
    clusters.dedup();
    assert_eq!(clusters.len(), all, "no cluster upgraded twice: {ops:?}");
}
