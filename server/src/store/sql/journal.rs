use super::SqlStore;
use crate::store::{ProviderJournal, StoreResult};
use sqlx::Row;

#[async_trait::async_trait]
impl ProviderJournal for SqlStore {
    async fn journal_get(&self, provider: &str, operation_id: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query(
            "SELECT record FROM provider_journal WHERE provider = $1 AND operation_id = $2",
        )
        .bind(provider)
        .bind(operation_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| row.try_get("record")).transpose()?)
    }

    async fn journal_put(
        &self,
        provider: &str,
        operation_id: &str,
        record: &str,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO provider_journal (provider, operation_id, record) VALUES ($1, $2, $3)
             ON CONFLICT (provider, operation_id) DO UPDATE SET record = excluded.record",
        )
        .bind(provider)
        .bind(operation_id)
        .bind(record)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
