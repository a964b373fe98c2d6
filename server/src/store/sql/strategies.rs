use super::documents::Documents;
use super::{SqlStore, corrupt};
use crate::store::{Expect, StoreResult, StoredStrategy, StrategyStore};
use app::model::names::{FleetName, StrategyName};
use app::model::strategy::UpdateStrategy;
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

const STRATEGIES: Documents = Documents {
    table: "strategies",
    column: "strategy",
};

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
        let (etag, created) = STRATEGIES
            .put(self, fleet, name.as_str(), &text, now, expect)
            .await?;
        let stored = StoredStrategy {
            name: name.clone(),
            strategy: strategy.clone(),
            etag,
        };
        Ok((stored, created))
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
        STRATEGIES.delete(self, fleet, name.as_str(), expect).await
    }
}
