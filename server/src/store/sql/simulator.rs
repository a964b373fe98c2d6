use super::{SqlStore, corrupt};
use crate::store::{
    Faults, SimCluster, SimOperation, SimulatorSnapshot, SimulatorStore, StoreResult,
};
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::names::ClusterName;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

fn cluster_from_row(row: &AnyRow) -> StoreResult<(ClusterName, SimCluster)> {
    let name = ClusterName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("cluster", e))?;
    let state: ClusterState = serde_json::from_str(&row.try_get::<String, _>("state")?)
        .map_err(|e| corrupt("cluster", e))?;
    let cluster = SimCluster {
        state,
        faults: Faults {
            fail_next: row.try_get::<i64, _>("fail_next")? != 0,
            failure_rate: row.try_get("failure_rate")?,
            transient_rate: row.try_get("transient_rate")?,
            unreachable: row.try_get::<i64, _>("unreachable")? != 0,
            lose_next: row.try_get::<i64, _>("lose_next")? != 0,
            stuck_next: row.try_get::<i64, _>("stuck_next")? != 0,
        },
    };
    Ok((name, cluster))
}

fn operation_from_row(row: &AnyRow) -> StoreResult<SimOperation> {
    Ok(SimOperation {
        operation_id: row.try_get("operation_id")?,
        cluster: ClusterName::parse(&row.try_get::<String, _>("cluster")?)
            .map_err(|e| corrupt("operation", e))?,
        kind: row.try_get("kind")?,
        target: serde_json::from_str(&row.try_get::<String, _>("target")?)
            .map_err(|e| corrupt("operation", e))?,
        started_at: Timestamp(row.try_get("started_at")?),
        ends_at: Timestamp(row.try_get("ends_at")?),
        failure: row.try_get("failure")?,
        applied: row.try_get::<i64, _>("applied")? != 0,
    })
}

#[async_trait::async_trait]
impl SimulatorStore for SqlStore {
    async fn load_simulator(&self) -> StoreResult<SimulatorSnapshot> {
        let catalog = sqlx::query("SELECT catalog FROM sim_catalog WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .map(|row| -> StoreResult<Catalog> {
                serde_json::from_str(&row.try_get::<String, _>("catalog")?)
                    .map_err(|e| corrupt("catalog", e))
            })
            .transpose()?;
        let rows = sqlx::query(
            "SELECT name, state, fail_next, failure_rate, transient_rate, unreachable, lose_next, stuck_next FROM sim_clusters ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let clusters = rows
            .iter()
            .map(cluster_from_row)
            .collect::<StoreResult<_>>()?;
        let rows = sqlx::query(
            "SELECT operation_id, cluster, kind, target, started_at, ends_at, failure, applied FROM sim_operations ORDER BY started_at, operation_id",
        )
        .fetch_all(&self.pool)
        .await?;
        let operations = rows
            .iter()
            .map(operation_from_row)
            .collect::<StoreResult<_>>()?;
        Ok(SimulatorSnapshot {
            catalog,
            clusters,
            operations,
        })
    }

    async fn save_catalog(&self, catalog: &Catalog) -> StoreResult<()> {
        let text = serde_json::to_string(catalog).map_err(|e| corrupt("catalog", e))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO sim_catalog (id, catalog, version) VALUES (1, $1, 1) ON CONFLICT (id) DO UPDATE SET catalog = excluded.catalog, version = sim_catalog.version + 1")
            .bind(text)
            .execute(&mut *tx)
            .await?;
        super::commit_audited(tx).await
    }

    async fn save_cluster(&self, name: &ClusterName, cluster: &SimCluster) -> StoreResult<()> {
        let text = serde_json::to_string(&cluster.state).map_err(|e| corrupt("cluster", e))?;
        let faults = &cluster.faults;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sim_clusters (name, state, version, fail_next, failure_rate, transient_rate, unreachable, lose_next, stuck_next) \
             VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (name) DO UPDATE SET state = excluded.state, version = sim_clusters.version + 1, \
             fail_next = excluded.fail_next, failure_rate = excluded.failure_rate, \
             transient_rate = excluded.transient_rate, unreachable = excluded.unreachable, \
             lose_next = excluded.lose_next, stuck_next = excluded.stuck_next",
        )
        .bind(name.as_str())
        .bind(text)
        .bind(i64::from(faults.fail_next))
        .bind(faults.failure_rate)
        .bind(faults.transient_rate)
        .bind(i64::from(faults.unreachable))
        .bind(i64::from(faults.lose_next))
        .bind(i64::from(faults.stuck_next))
        .execute(&mut *tx)
        .await?;
        super::commit_audited(tx).await
    }

    async fn delete_cluster(&self, name: &ClusterName) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM sim_clusters WHERE name = $1")
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        let deleted = done.rows_affected() == 1;
        if deleted {
            super::commit_audited(tx).await?;
        }
        Ok(deleted)
    }

    async fn save_operation(&self, op: &SimOperation) -> StoreResult<()> {
        let target = serde_json::to_string(&op.target).map_err(|e| corrupt("operation", e))?;
        sqlx::query(
            "INSERT INTO sim_operations (operation_id, cluster, kind, target, started_at, ends_at, failure, applied) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (operation_id) DO NOTHING",
        )
        .bind(&op.operation_id)
        .bind(op.cluster.as_str())
        .bind(&op.kind)
        .bind(target)
        .bind(op.started_at.millis())
        .bind(op.ends_at.millis())
        .bind(&op.failure)
        .bind(i64::from(op.applied))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn complete_operation(
        &self,
        operation_id: &str,
        name: &ClusterName,
        cluster: &SimCluster,
    ) -> StoreResult<()> {
        let text = serde_json::to_string(&cluster.state).map_err(|e| corrupt("cluster", e))?;
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sim_clusters SET state = $1, version = version + 1 WHERE name = $2")
            .bind(text)
            .bind(name.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE sim_operations SET applied = 1 WHERE operation_id = $1")
            .bind(operation_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
