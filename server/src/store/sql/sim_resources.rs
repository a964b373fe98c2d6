//! What simulated clusters hold of placed objects (`sim_resources`), and the faults their API
//! servers inject (`sim_resource_faults`).

use super::{SqlStore, corrupt};
use crate::store::{SimApplied, SimApplyOutcome, SimResourceFaults, StoreResult};
use app::model::names::ClusterName;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::{Any, AnyRow};

fn applied_from_row(row: &AnyRow) -> StoreResult<SimApplied> {
    let manifests: String = row.try_get("manifests")?;
    let drifted: String = row.try_get("drifted")?;
    Ok(SimApplied {
        drifted: serde_json::from_str(&drifted).map_err(|e| corrupt("sim resources", e))?,
        owner: row.try_get("owner")?,
        revision: row.try_get("revision")?,
        manifests: serde_json::from_str(&manifests).map_err(|e| corrupt("sim resources", e))?,
        applies: row.try_get("applies")?,
        applied_at: Timestamp(row.try_get("applied_at")?),
        available_at: Timestamp(row.try_get("available_at")?),
    })
}

const COLUMNS: &str = "owner, revision, manifests, applies, applied_at, available_at, drifted";

async fn faults_in(
    tx: &mut sqlx::Transaction<'_, Any>,
    cluster: &ClusterName,
) -> StoreResult<SimResourceFaults> {
    let row = sqlx::query(
        "SELECT apply_fail_next, ready_after_seconds FROM sim_resource_faults WHERE cluster = $1",
    )
    .bind(cluster.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        None => SimResourceFaults::default(),
        Some(row) => SimResourceFaults {
            apply_fail_next: row.try_get::<i64, _>("apply_fail_next")? != 0,
            ready_after_seconds: u32::try_from(row.try_get::<i64, _>("ready_after_seconds")?)
                .unwrap_or(u32::MAX),
        },
    })
}

async fn held(
    tx: &mut sqlx::Transaction<'_, Any>,
    cluster: &ClusterName,
    owner: &str,
) -> StoreResult<Option<SimApplied>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM sim_resources WHERE cluster = $1 AND owner = $2"
    )))
    .bind(cluster.as_str())
    .bind(owner)
    .fetch_optional(&mut **tx)
    .await?;
    row.as_ref().map(applied_from_row).transpose()
}

impl SqlStore {
    pub(super) async fn apply_sim(
        &self,
        cluster: &ClusterName,
        owner: &str,
        revision: &str,
        manifests: &str,
        now: Timestamp,
    ) -> StoreResult<SimApplyOutcome> {
        let mut tx = self.begin_write().await?;
        let faults = faults_in(&mut tx, cluster).await?;
        if faults.apply_fail_next {
            sqlx::query("UPDATE sim_resource_faults SET apply_fail_next = 0 WHERE cluster = $1")
                .bind(cluster.as_str())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(SimApplyOutcome::Refused);
        }
        let before = held(&mut tx, cluster, owner).await?;
        if let Some(same) = before.as_ref().filter(|b| b.revision == revision) {
            return Ok(SimApplyOutcome::Applied(same.clone()));
        }
        let ready_at = now.plus_millis(i64::from(faults.ready_after_seconds) * 1000);
        let applies = before.map_or(1, |b| b.applies + 1);
        sqlx::query(
            "INSERT INTO sim_resources (cluster, owner, revision, manifests, applies, applied_at, available_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (cluster, owner) DO UPDATE SET revision = excluded.revision, \
             manifests = excluded.manifests, applies = excluded.applies, \
             applied_at = excluded.applied_at, available_at = excluded.available_at, drifted = '[]'",
        )
        .bind(cluster.as_str())
        .bind(owner)
        .bind(revision)
        .bind(manifests)
        .bind(applies)
        .bind(now.millis())
        .bind(ready_at.millis())
        .execute(&mut *tx)
        .await?;
        let now_held = held(&mut tx, cluster, owner).await?;
        tx.commit().await?;
        now_held
            .map(SimApplyOutcome::Applied)
            .ok_or_else(|| corrupt("sim resources", "an apply left nothing"))
    }

    pub(super) async fn held_sim(&self, cluster: &ClusterName) -> StoreResult<Vec<SimApplied>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM sim_resources WHERE cluster = $1 ORDER BY owner"
        )))
        .bind(cluster.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(applied_from_row).collect()
    }

    /// Marks `objects` of `owner`'s on the cluster as changed by hand; `false` when the owner
    /// holds nothing there.
    pub(super) async fn drift_sim(
        &self,
        cluster: &ClusterName,
        owner: &str,
        objects: &[String],
    ) -> StoreResult<bool> {
        let text = serde_json::to_string(objects).map_err(|e| corrupt("sim resources", e))?;
        let done =
            sqlx::query("UPDATE sim_resources SET drifted = $1 WHERE cluster = $2 AND owner = $3")
                .bind(text)
                .bind(cluster.as_str())
                .bind(owner)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn delete_sim(&self, cluster: &ClusterName, owner: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM sim_resources WHERE cluster = $1 AND owner = $2")
            .bind(cluster.as_str())
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    pub(super) async fn put_sim_faults(
        &self,
        cluster: &ClusterName,
        faults: SimResourceFaults,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sim_resource_faults (cluster, apply_fail_next, ready_after_seconds) VALUES ($1, $2, $3) \
             ON CONFLICT (cluster) DO UPDATE SET apply_fail_next = excluded.apply_fail_next, \
             ready_after_seconds = excluded.ready_after_seconds",
        )
        .bind(cluster.as_str())
        .bind(i64::from(faults.apply_fail_next))
        .bind(i64::from(faults.ready_after_seconds))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub(super) async fn sim_faults(&self, cluster: &ClusterName) -> StoreResult<SimResourceFaults> {
        let mut tx = self.pool.begin().await?;
        let faults = faults_in(&mut tx, cluster).await?;
        tx.commit().await?;
        Ok(faults)
    }
}
