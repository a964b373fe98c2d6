//! The embedded default store: one SQLite file (WAL), created and migrated on start.

mod access;
mod audit;
mod journal;
mod leases;
mod run_members;
mod runs;
mod simulator;
mod single_sign_on;
mod strategies;
mod webhooks;

use super::{Expect, FleetStore, StoreError, StoreResult};
use app::model::member::{ClusterResourceId, FleetSummary, Labels, Member, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use app::model::time::Timestamp;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) and migrates the database at `url`, e.g. `sqlite://drydock.db`
    /// or `sqlite::memory:`.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            // WAL with NORMAL sync survives a killed process without losing a commit; only a
            // power loss can drop the last few.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10));
        // An in-memory database exists once per connection, so it must have exactly one.
        let max = if url.contains(":memory:") { 1 } else { 4 };
        let pool = SqlitePoolOptions::new()
            .max_connections(max)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| StoreError::Corrupt(format!("migrating the database failed: {e}")))?;
        Ok(Self { pool })
    }
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn member_from_row(row: &SqliteRow) -> StoreResult<Member> {
    let text = |col: &str| -> StoreResult<String> { Ok(row.try_get::<String, _>(col)?) };
    let fleet = FleetName::parse(&text("fleet")?).map_err(|e| corrupt("fleet", e))?;
    let name = MemberName::parse(&text("name")?).map_err(|e| corrupt("member", e))?;
    let cluster_resource_id = ClusterResourceId::parse(&text("cluster_resource_id")?)
        .map_err(|e| corrupt("member", e))?;
    let group = row
        .try_get::<Option<String>, _>("update_group")?
        .map(|g| GroupName::parse(&g))
        .transpose()
        .map_err(|e| corrupt("member group", e))?;
    let labels: Labels =
        serde_json::from_str(&text("labels")?).map_err(|e| corrupt("labels", e))?;
    Ok(Member {
        fleet,
        name,
        spec: MemberSpec {
            cluster_resource_id,
            group,
            labels,
        },
        etag: row.try_get("version")?,
    })
}

/// Maps a unique-constraint failure on insert to the conflict it means.
fn insert_conflict(error: sqlx::Error, name: &MemberName, spec: &MemberSpec) -> StoreError {
    let message = error
        .as_database_error()
        .map(|e| e.message().to_owned())
        .unwrap_or_default();
    if message.contains("members.cluster_resource_id") {
        return StoreError::ClusterAlreadyJoined(spec.cluster_resource_id.clone());
    }
    if message.contains("UNIQUE") {
        return StoreError::MemberExists(name.clone());
    }
    if message.contains("FOREIGN KEY") {
        return StoreError::NotFound;
    }
    StoreError::Database(error)
}

/// Commits `tx`, which carries out the change a request asked for, with that request's audit
/// entry (see `audit_trail`): both or neither.
pub(super) async fn commit_audited(mut tx: sqlx::Transaction<'_, sqlx::Sqlite>) -> StoreResult<()> {
    let stamp = audit::stamp(&mut tx).await?;
    tx.commit().await?;
    stamp.confirm();
    Ok(())
}

/// Deletes the row of (`fleet`, `name`) with `sql[0]` (which binds the version `expect`ed, or
/// NULL, as `?3`); `false` when there was none, `Concurrent` when it is there at another version
/// (`sql[1]` reads it).
async fn delete_guarded(
    pool: &SqlitePool,
    sql: [&'static str; 2],
    fleet: &FleetName,
    name: &str,
    expect: Expect,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(sql[0])
        .bind(fleet.as_str())
        .bind(name)
        .bind(expect.version())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 1 {
        commit_audited(tx).await?;
        return Ok(true);
    }
    drop(tx);
    let current: Option<i64> = sqlx::query_scalar(sql[1])
        .bind(fleet.as_str())
        .bind(name)
        .fetch_optional(pool)
        .await?;
    match (expect, current) {
        (Expect::Version(_), Some(_)) => Err(StoreError::Concurrent),
        _ => Ok(false),
    }
}

/// The columns `member_from_row` reads (a macro, because sqlx takes only literal SQL).
macro_rules! member_select {
    ($rest:literal) => {
        concat!(
            "SELECT fleet, name, cluster_resource_id, update_group, labels, version FROM members ",
            $rest
        )
    };
}

#[async_trait::async_trait]
impl FleetStore for SqliteStore {
    async fn put_fleet(&self, fleet: &FleetName, now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("INSERT INTO fleets (name, version, created_at) VALUES (?, 1, ?) ON CONFLICT (name) DO NOTHING")
            .bind(fleet.as_str())
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        let created = done.rows_affected() == 1;
        if created {
            commit_audited(tx).await?;
        }
        Ok(created)
    }

    async fn get_fleet(&self, fleet: &FleetName) -> StoreResult<Option<FleetSummary>> {
        let row = sqlx::query("SELECT (SELECT COUNT(*) FROM members WHERE fleet = f.name) AS n FROM fleets f WHERE f.name = ?")
            .bind(fleet.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(FleetSummary {
                name: fleet.clone(),
                member_count: row.try_get::<i64, _>("n")? as u64,
            })
        })
        .transpose()
    }

    async fn list_fleets(&self) -> StoreResult<Vec<FleetSummary>> {
        let rows = sqlx::query("SELECT f.name, (SELECT COUNT(*) FROM members WHERE fleet = f.name) AS n FROM fleets f ORDER BY f.name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let name = FleetName::parse(&row.try_get::<String, _>("name")?)
                    .map_err(|e| corrupt("fleet", e))?;
                Ok(FleetSummary {
                    name,
                    member_count: row.try_get::<i64, _>("n")? as u64,
                })
            })
            .collect()
    }

    async fn delete_fleet(&self, fleet: &FleetName) -> StoreResult<bool> {
        // Never while a run of the fleet holds a cluster (its upgrade is in flight).
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "DELETE FROM fleets WHERE name = ? AND NOT EXISTS (SELECT 1 FROM cluster_leases WHERE fleet = ?)",
        )
        .bind(fleet.as_str())
        .bind(fleet.as_str())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            commit_audited(tx).await?;
            return Ok(true);
        }
        drop(tx);
        match self.get_fleet(fleet).await? {
            Some(_) => Err(StoreError::Concurrent),
            None => Ok(false),
        }
    }

    async fn get_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
    ) -> StoreResult<Option<Member>> {
        let row = sqlx::query(member_select!("WHERE fleet = ? AND name = ?"))
            .bind(fleet.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn list_members(&self, fleet: &FleetName) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(member_select!("WHERE fleet = ? ORDER BY name"))
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(member_from_row).collect()
    }

    async fn create_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        spec: &MemberSpec,
        now: Timestamp,
    ) -> StoreResult<Member> {
        let labels = serde_json::to_string(&spec.labels).map_err(|e| corrupt("labels", e))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO members (fleet, name, cluster_resource_id, update_group, labels, version, created_at) \
             VALUES (?, ?, ?, ?, ?, 1, ?)",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(spec.cluster_resource_id.as_str())
        .bind(spec.group.as_ref().map(GroupName::as_str))
        .bind(labels)
        .bind(now.millis())
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_conflict(e, name, spec))?;
        commit_audited(tx).await?;
        Ok(Member {
            fleet: fleet.clone(),
            name: name.clone(),
            spec: spec.clone(),
            etag: 1,
        })
    }

    async fn replace_member(&self, member: &Member, spec: &MemberSpec) -> StoreResult<Member> {
        let labels = serde_json::to_string(&spec.labels).map_err(|e| corrupt("labels", e))?;
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE members SET cluster_resource_id = ?, update_group = ?, labels = ?, version = version + 1 \
             WHERE fleet = ? AND name = ? AND version = ?",
        )
        .bind(spec.cluster_resource_id.as_str())
        .bind(spec.group.as_ref().map(GroupName::as_str))
        .bind(labels)
        .bind(member.fleet.as_str())
        .bind(member.name.as_str())
        .bind(member.etag)
        .execute(&mut *tx)
        .await
        .map_err(|e| insert_conflict(e, &member.name, spec))?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Concurrent);
        }
        commit_audited(tx).await?;
        Ok(Member {
            spec: spec.clone(),
            etag: member.etag + 1,
            ..member.clone()
        })
    }

    async fn set_groups(&self, members: &[Member], group: Option<&GroupName>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for member in members {
            let done = sqlx::query(
                "UPDATE members SET update_group = ?, version = version + 1 WHERE fleet = ? AND name = ? AND version = ?",
            )
            .bind(group.map(GroupName::as_str))
            .bind(member.fleet.as_str())
            .bind(member.name.as_str())
            .bind(member.etag)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                // Dropping the transaction rolls back the members already changed.
                return Err(StoreError::Concurrent);
            }
        }
        commit_audited(tx).await?;
        Ok(())
    }

    async fn delete_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        expect: Expect,
    ) -> StoreResult<bool> {
        let sql = [
            "DELETE FROM members WHERE fleet = ? AND name = ? AND (?3 IS NULL OR version = ?3)",
            "SELECT version FROM members WHERE fleet = ? AND name = ?",
        ];
        delete_guarded(&self.pool, sql, fleet, name.as_str(), expect).await
    }

    async fn members_of_cluster(
        &self,
        cluster: &ClusterResourceId,
    ) -> StoreResult<Vec<(FleetName, MemberName)>> {
        let rows = sqlx::query(
            "SELECT fleet, name FROM members WHERE cluster_resource_id = ? ORDER BY fleet, name",
        )
        .bind(cluster.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let fleet = FleetName::parse(&row.try_get::<String, _>("fleet")?)
                    .map_err(|e| corrupt("fleet", e))?;
                let name = MemberName::parse(&row.try_get::<String, _>("name")?)
                    .map_err(|e| corrupt("member", e))?;
                Ok((fleet, name))
            })
            .collect()
    }

    async fn get_setting(&self, key: &str) -> StoreResult<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
