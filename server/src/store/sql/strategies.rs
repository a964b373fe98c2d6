use super::{SqlStore, corrupt};
use crate::store::{Expect, StoreError, StoreResult, StoredStrategy, StrategyStore};
use app::model::names::{FleetName, StrategyName};
use app::model::strategy::UpdateStrategy;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

fn strategy_from_row(row: &AnyRow) -> StoreResult<StoredStrategy> {
    let name = StrategyName::parse(&row.try_get::<String, _>("name")?)
        .map_err(|e| corrupt("strategy", e))?;
    let strategy: UpdateStrategy = serde_json::from_str(&row.try_get::<String, _>("strategy")?)
        .map_err(|e| corrupt("strategy", e))?;
    Ok(StoredStrategy {
        name,
        strategy,
        etag: row.try_get("version")?,
    })
}

#[async_trait::async_trait]
impl StrategyStore for SqlStore {
    async fn put_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: &UpdateStrategy,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredStrategy, bool)> {
        let text = serde_json::to_string(strategy).map_err(|e| corrupt("strategy", e))?;
        let mut tx = self.begin_write().await?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT version FROM strategies WHERE fleet = $1 AND name = $2")
                .bind(fleet.as_str())
                .bind(name.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        if !expect.allows(existing) {
            return Err(StoreError::Concurrent);
        }
        let etag = match existing {
            None => {
                sqlx::query("INSERT INTO strategies (fleet, name, strategy, version, created_at) VALUES ($1, $2, $3, 1, $4)")
                    .bind(fleet.as_str())
                    .bind(name.as_str())
                    .bind(&text)
                    .bind(now.millis())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match super::broke(&e) {
                        super::Broke::ForeignKey => StoreError::NotFound,
                        _ => StoreError::Database(e),
                    })?;
                1
            }
            Some(version) => {
                let done = sqlx::query("UPDATE strategies SET strategy = $1, version = version + 1 WHERE fleet = $2 AND name = $3 AND version = $4")
                    .bind(&text)
                    .bind(fleet.as_str())
                    .bind(name.as_str())
                    .bind(version)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Concurrent);
                }
                version + 1
            }
        };
        super::commit_audited(tx).await?;
        let stored = StoredStrategy {
            name: name.clone(),
            strategy: strategy.clone(),
            etag,
        };
        Ok((stored, existing.is_none()))
    }

    async fn get_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> StoreResult<Option<StoredStrategy>> {
        let row = sqlx::query(
            "SELECT name, strategy, version FROM strategies WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(strategy_from_row).transpose()
    }

    async fn list_strategies(&self, fleet: &FleetName) -> StoreResult<Vec<StoredStrategy>> {
        let rows = sqlx::query(
            "SELECT name, strategy, version FROM strategies WHERE fleet = $1 ORDER BY name",
        )
        .bind(fleet.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(strategy_from_row).collect()
    }

    async fn delete_strategy(
        &self,
        fleet: &FleetName,
        name: &StrategyName,
        expect: Expect,
    ) -> StoreResult<bool> {
        let sql = [
            "DELETE FROM strategies WHERE fleet = $1 AND name = $2 AND ($3 IS NULL OR version = $3)",
            "SELECT version FROM strategies WHERE fleet = $1 AND name = $2",
        ];
        super::delete_guarded(&self.pool, sql, fleet, name.as_str(), expect).await
    }
}
