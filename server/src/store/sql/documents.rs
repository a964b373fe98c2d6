//! A fleet's named documents kept as JSON text with a version for their etag: update strategies
//! and auto-upgrade profiles are both written this way.

use super::SqlStore;
use crate::store::{Expect, StoreError, StoreResult};
use app::model::names::FleetName;
use app::model::time::Timestamp;
use sqlx::AssertSqlSafe;

/// Where a kind of document lives: its table and the column of its text.
pub(super) struct Documents {
    pub table: &'static str,
    pub column: &'static str,
}

impl Documents {
    /// Creates or replaces `name`'s text as `expect` allows: its new version, and whether it
    /// was created. `NotFound` when the fleet is gone.
    pub async fn put(
        &self,
        store: &SqlStore,
        fleet: &FleetName,
        name: &str,
        text: &str,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(i64, bool)> {
        let (table, column) = (self.table, self.column);
        let mut tx = store.begin_write().await?;
        let existing: Option<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT version FROM {table} WHERE fleet = $1 AND name = $2"
        )))
        .bind(fleet.as_str())
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        if !expect.allows(existing) {
            return Err(StoreError::Concurrent);
        }
        let version = match existing {
            None => {
                sqlx::query(AssertSqlSafe(format!(
                    "INSERT INTO {table} (fleet, name, {column}, version, created_at) VALUES ($1, $2, $3, 1, $4)"
                )))
                .bind(fleet.as_str())
                .bind(name)
                .bind(text)
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
                let done = sqlx::query(AssertSqlSafe(format!(
                    "UPDATE {table} SET {column} = $1, version = version + 1 WHERE fleet = $2 AND name = $3 AND version = $4"
                )))
                .bind(text)
                .bind(fleet.as_str())
                .bind(name)
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
        Ok((version, existing.is_none()))
    }

    /// Deletes `name` as `expect` allows; `false` when there was none.
    pub async fn delete(
        &self,
        store: &SqlStore,
        fleet: &FleetName,
        name: &str,
        expect: Expect,
    ) -> StoreResult<bool> {
        let table = self.table;
        let sql = [
            format!(
                "DELETE FROM {table} WHERE fleet = $1 AND name = $2 AND ($3 IS NULL OR version = $3)"
            ),
            format!("SELECT version FROM {table} WHERE fleet = $1 AND name = $2"),
        ];
        let [delete, select] = &sql;
        super::delete_guarded(&store.pool, [delete, select], fleet, name, expect).await
    }
}
