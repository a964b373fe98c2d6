//! Resource bundles (`resources`) and their immutable snapshots (`resource_snapshots`). A write
//! that changes the objects adds a snapshot numbered one past the newest and moves `latest` to
//! it in one transaction; one that changes nothing writes nothing.

use super::{Broke, SqlStore, broke, commit_audited, corrupt};
use crate::store::{
    Expect, ResourceStore, ResourceWrite, SNAPSHOTS_KEPT, StoreError, StoreResult, StoredResource,
    StoredSnapshot,
};
use app::model::names::{FleetName, ResourceName};
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;

fn snapshot_from_row(row: &AnyRow) -> StoreResult<StoredSnapshot> {
    let manifests: String = row.try_get("manifests")?;
    Ok(StoredSnapshot {
        index: row.try_get("idx")?,
        hash: row.try_get("hash")?,
        created_at: Timestamp(row.try_get("created_at")?),
        manifests: serde_json::from_str(&manifests).map_err(|e| corrupt("resource snapshot", e))?,
    })
}

fn resource_from_row(row: &AnyRow) -> StoreResult<StoredResource> {
    let name: String = row.try_get("name")?;
    Ok(StoredResource {
        name: ResourceName::parse(&name).map_err(|e| corrupt("resource", e))?,
        latest: snapshot_from_row(row)?,
    })
}

/// Resources with their newest snapshot (a macro, because sqlx takes only literal SQL).
macro_rules! select_resources {
    ($rest:literal) => {
        concat!(
            "SELECT r.name, s.idx, s.hash, s.created_at, s.manifests FROM resources r ",
            "JOIN resource_snapshots s ON s.fleet = r.fleet AND s.resource = r.name AND s.idx = r.latest ",
            $rest
        )
    };
}

const SNAPSHOT_COLUMNS: &str = "idx, hash, created_at, manifests";

impl SqlStore {
    /// Adds snapshot `index` and points the resource at it (creating the resource for the
    /// first), then forgets snapshots older than the kept ones.
    /// The last snapshot index the name reached (0 for a name never used): a resource created
    /// again goes on from it (migration 0025).
    async fn last_index(
        tx: &mut sqlx::Transaction<'static, sqlx::any::Any>,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> StoreResult<i64> {
        let last: Option<i64> = sqlx::query_scalar(
            "SELECT last_index FROM resource_indices WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        Ok(last.unwrap_or(0))
    }

    async fn add_snapshot(
        tx: &mut sqlx::Transaction<'static, sqlx::any::Any>,
        fleet: &FleetName,
        name: &ResourceName,
        snapshot: &StoredSnapshot,
        text: &str,
        creating: bool,
    ) -> StoreResult<()> {
        let moved = if creating {
            sqlx::query(
                "INSERT INTO resources (fleet, name, latest, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(fleet.as_str())
            .bind(name.as_str())
            .bind(snapshot.index)
            .bind(snapshot.created_at.millis())
            .execute(&mut **tx)
            .await
            .map_err(|e| match broke(&e) {
                Broke::ForeignKey => StoreError::NotFound,
                Broke::Unique(_) => StoreError::Concurrent,
                Broke::Other => StoreError::Database(e),
            })?
        } else {
            sqlx::query(
                "UPDATE resources SET latest = $1 WHERE fleet = $2 AND name = $3 AND latest = $4",
            )
            .bind(snapshot.index)
            .bind(fleet.as_str())
            .bind(name.as_str())
            .bind(snapshot.index - 1)
            .execute(&mut **tx)
            .await?
        };
        if moved.rows_affected() != 1 {
            return Err(StoreError::Concurrent);
        }
        sqlx::query(
            "INSERT INTO resource_indices (fleet, name, last_index) VALUES ($1, $2, $3) ON CONFLICT (fleet, name) DO UPDATE SET last_index = excluded.last_index",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(snapshot.index)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO resource_snapshots (fleet, resource, idx, manifests, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(snapshot.index)
        .bind(text)
        .bind(&snapshot.hash)
        .bind(snapshot.created_at.millis())
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "DELETE FROM resource_snapshots WHERE fleet = $1 AND resource = $2 AND idx <= $3",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(snapshot.index - SNAPSHOTS_KEPT)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl ResourceStore for SqlStore {
    async fn put_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        manifests: &str,
        hash: &str,
        now: Timestamp,
        expect: Expect,
    ) -> StoreResult<(StoredResource, ResourceWrite)> {
        let mut tx = self.begin_write().await?;
        let newest = sqlx::query(
            "SELECT s.idx, s.hash FROM resources r JOIN resource_snapshots s ON s.fleet = r.fleet AND s.resource = r.name AND s.idx = r.latest WHERE r.fleet = $1 AND r.name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let newest: Option<(i64, String)> = newest
            .map(|row| Ok::<_, sqlx::Error>((row.try_get("idx")?, row.try_get("hash")?)))
            .transpose()?;
        if !expect.allows(newest.as_ref().map(|(index, _)| *index)) {
            return Err(StoreError::Concurrent);
        }
        if newest
            .as_ref()
            .is_some_and(|(_, newest_hash)| newest_hash == hash)
        {
            drop(tx);
            let stored = self.get_resource(fleet, name).await?;
            return stored
                .map(|stored| (stored, ResourceWrite::Unchanged))
                .ok_or(StoreError::Concurrent);
        }
        let index = match &newest {
            Some((index, _)) => index + 1,
            None => Self::last_index(&mut tx, fleet, name).await? + 1,
        };
        let snapshot = StoredSnapshot {
            index,
            hash: hash.to_owned(),
            created_at: now,
            manifests: serde_json::from_str(manifests)
                .map_err(|e| corrupt("resource snapshot", e))?,
        };
        let creating = newest.is_none();
        Self::add_snapshot(&mut tx, fleet, name, &snapshot, manifests, creating).await?;
        commit_audited(tx).await?;
        let write = match creating {
            true => ResourceWrite::Created,
            false => ResourceWrite::Changed,
        };
        let stored = StoredResource {
            name: name.clone(),
            latest: snapshot,
        };
        Ok((stored, write))
    }

    async fn get_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> StoreResult<Option<StoredResource>> {
        let row = sqlx::query(select_resources!("WHERE r.fleet = $1 AND r.name = $2"))
            .bind(fleet.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(resource_from_row).transpose()
    }

    async fn list_resources(&self, fleet: &FleetName) -> StoreResult<Vec<StoredResource>> {
        let rows = sqlx::query(select_resources!("WHERE r.fleet = $1 ORDER BY r.name"))
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(resource_from_row).collect()
    }

    async fn delete_resource(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        expect: Expect,
    ) -> StoreResult<bool> {
        let sql = [
            "DELETE FROM resources WHERE fleet = $1 AND name = $2 AND ($3 IS NULL OR latest = $3)",
            "SELECT latest FROM resources WHERE fleet = $1 AND name = $2",
        ];
        super::delete_guarded(&self.pool, sql, fleet, name.as_str(), expect).await
    }

    async fn list_snapshots(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
    ) -> StoreResult<Option<Vec<StoredSnapshot>>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM resource_snapshots WHERE fleet = $1 AND resource = $2 ORDER BY idx DESC"
        )))
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_all(&self.pool)
        .await?;
        // Every resource has its newest snapshot: no rows, no resource.
        if rows.is_empty() {
            return Ok(None);
        }
        rows.iter()
            .map(snapshot_from_row)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    async fn get_snapshot(
        &self,
        fleet: &FleetName,
        name: &ResourceName,
        index: i64,
    ) -> StoreResult<Option<StoredSnapshot>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM resource_snapshots WHERE fleet = $1 AND resource = $2 AND idx = $3"
        )))
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(index)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(snapshot_from_row).transpose()
    }
}
