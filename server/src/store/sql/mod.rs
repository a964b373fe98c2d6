//! The store on SQL: one SQLite file (WAL), the embedded default, or a PostgreSQL database
//! (`--database-url postgres://…`) that several replicas share. One implementation serves both,
//! through sqlx's `Any` driver: statements are written once, with `$1, $2, …` placeholders, which
//! both read; each back end has its own migrations (`migrations/sqlite`, `migrations/postgres`)
//! that make the same tables.

mod access;
mod audit;
mod auto_upgrade;
mod chains;
mod checkpoints;
mod documents;
mod drivers;
mod journal;
mod known_targets;
mod leases;
mod members_cache;
pub mod notify;
mod pipeline;
mod placements;
pub mod portable;
pub mod records;
mod resources;
mod run_members;
mod runs;
mod sim_resources;
mod simulator;
mod single_sign_on;
mod statement;
mod strategies;
mod webhooks;
mod write_back;

use super::{Expect, FleetStore, StoreError, StoreResult};
use app::model::member::{ClusterResourceId, FleetSummary, Labels, Member, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName};
use app::model::time::Timestamp;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};
use std::sync::Arc;
use std::time::Duration;

pub use members_cache::SharedMembers;

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Setup(format!(
                "the database URL must start with sqlite: or postgres:// (not {:?})",
                url.split(':').next().unwrap_or_default()
            )))
        }
    }
}

#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    /// Where write transactions (`begin_write`) run: on a SQLite file, a pool of one connection
    /// of its own, so writes queue here instead of in SQLite's busy wait, and the writer's page
    /// cache stays warm (a connection empties its cache when another connection wrote since it
    /// last read). Elsewhere the same pool as `pool`.
    writer: AnyPool,
    backend: Backend,
    members: Arc<members_cache::MembersCache>,
    targets: Arc<known_targets::KnownTargets>,
    sim_targets: Arc<known_targets::KnownTargets>,
    /// A file-backed SQLite store's background checkpoints (`checkpoints.rs`).
    _checkpoints: Option<Arc<checkpoints::Checkpointer>>,
}

/// How many connections a SQLite file's reading pool keeps at most (its writer has one more).
const SQLITE_CONNECTIONS: u32 = 4;

/// How many connections a PostgreSQL store keeps at most (`DRYDOCK_DATABASE_MAX_CONNECTIONS`).
const POSTGRES_CONNECTIONS: u32 = 10;

impl SqlStore {
    /// Opens (creating if missing) and migrates the database at `url`: `sqlite://drydock.db`,
    /// `sqlite::memory:`, or `postgres://user:password@host/db` (TLS with `?sslmode=require` or
    /// `verify-full`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let (pool, backend) = pool(url, true).await?;
        migrations(backend)
            .run(&pool)
            .await
            .map_err(|e| StoreError::Setup(format!("migrating the database failed: {e}")))?;
        let mut store = Self::on(pool, backend);
        if backend == Backend::Sqlite && !is_memory(url) {
            store.writer = sqlite_pool(url, false, 1).await?;
            let checkpoints = checkpoints::Checkpointer::start(
                store.pool.clone(),
                store.writer.clone(),
                checkpoints::Policy::SERVING,
                sqlite_file(url)
                    .as_deref()
                    .and_then(write_back::WriteBack::of),
            );
            store._checkpoints = Some(Arc::new(checkpoints));
        }
        Ok(store)
    }

    /// Opens a database a server may be using, to read it (`drydock export`): not migrated,
    /// but it must be at this build's schema.
    pub async fn open_to_read(url: &str) -> StoreResult<Self> {
        let (pool, backend) = pool(url, false).await?;
        let store = Self::on(pool, backend);
        super::HealthStore::ready(&store).await?;
        Ok(store)
    }

    fn on(pool: AnyPool, backend: Backend) -> Self {
        Self {
            writer: pool.clone(),
            pool,
            backend,
            members: Default::default(),
            targets: Default::default(),
            sim_targets: Default::default(),
            _checkpoints: None,
        }
    }

    /// A transaction that writes. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`, waiting as the busy timeout allows): a deferred one that reads first and
    /// writes after another connection committed fails at once with SQLITE_BUSY, whatever the
    /// timeout says.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::any::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }
}

/// A pool on `url`; a missing SQLite file is created only when `create` is set.
async fn pool(url: &str, create: bool) -> StoreResult<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of(url)?;
    let pool = match backend {
        Backend::Sqlite => sqlite_pool(url, create, SQLITE_CONNECTIONS).await?,
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(postgres_connections())
                .acquire_timeout(Duration::from_secs(10))
                .connect(url)
                .await?
        }
    };
    Ok((pool, backend))
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

fn migrations(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

#[async_trait::async_trait]
impl super::HealthStore for SqlStore {
    async fn ready(&self) -> StoreResult<()> {
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        let known = migrations(self.backend).iter().map(|m| m.version).max();
        if applied < known {
            return Err(StoreError::Setup(format!(
                "the database is at migration {}, this server needs {}",
                applied.unwrap_or(0),
                known.unwrap_or(0)
            )));
        }
        Ok(())
    }

    async fn tallies(&self) -> StoreResult<crate::store::Tallies> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM runs GROUP BY state ORDER BY state")
                .fetch_all(&self.pool)
                .await?;
        let runs_by_state = rows
            .iter()
            .map(|row| Ok((row.try_get("state")?, row.try_get("n")?)))
            .collect::<StoreResult<Vec<(String, i64)>>>()?;
        // Every upgrade in flight holds its cluster's lease.
        let members_upgrading = sqlx::query_scalar("SELECT COUNT(*) FROM cluster_leases")
            .fetch_one(&self.pool)
            .await?;
        Ok(crate::store::Tallies {
            runs_by_state,
            members_upgrading,
        })
    }
}

fn postgres_connections() -> u32 {
    std::env::var("DRYDOCK_DATABASE_MAX_CONNECTIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|n| (1..=1000).contains(n))
        .unwrap_or(POSTGRES_CONNECTIONS)
}

/// The file of a SQLite URL, as SQLite reads it.
fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let options: sqlx::sqlite::SqliteConnectOptions = url.parse().ok()?;
    Some(options.get_filename().to_owned())
}

/// An in-memory SQLite database (no file, so no write-ahead log to checkpoint).
fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// SQLite: created if missing, WAL with NORMAL sync (a killed process loses no commit; only a
/// power loss can drop the last few), foreign keys on, waiting up to 10 s for a lock.
///
/// Temporary storage is kept in memory. A statement that writes many rows inside a transaction
/// keeps a copy of the pages it changes (a statement journal), to undo itself alone if a
/// constraint fails; past 64 KB SQLite moved that copy to a temporary file, created, written
/// and deleted again on each step of a wide run (7% of the SQLite thread's time).
async fn sqlite_pool(url: &str, create: bool, connections: u32) -> StoreResult<AnyPool> {
    let memory = is_memory(url);
    let url = if memory || url.contains("mode=") || !create {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    };
    let options = AnyPoolOptions::new().after_connect(|conn, _| {
        Box::pin(async move {
            conn.execute(
                "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000; \
                 PRAGMA temp_store = MEMORY;",
            )
            .await?;
            // Commits no longer checkpoint the log at 1,000 pages: a task does, beside them.
            // The log file is cut back after it started over, to what a restart lets it reach.
            let pragmas = format!(
                "PRAGMA wal_autocheckpoint = {}; PRAGMA journal_size_limit = {};",
                checkpoints::BACKSTOP_PAGES,
                checkpoints::KEPT_BYTES
            );
            conn.execute(AssertSqlSafe(pragmas)).await?;
            Ok(())
        })
    });
    // An in-memory database lives in its one connection, which must never be closed.
    let options = if memory {
        options
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        // A connection to a local file does not drop away between uses: a ping before each
        // (sqlx's default, a round trip to the connection's thread) would only add to every
        // transaction.
        options
            .max_connections(connections)
            .test_before_acquire(false)
    };
    Ok(options.connect(&url).await?)
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {detail}"))
}

fn member_from_row(row: &AnyRow) -> StoreResult<Member> {
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
    let taints = serde_json::from_str(&text("taints")?).map_err(|e| corrupt("taints", e))?;
    Ok(Member {
        fleet,
        name,
        spec: MemberSpec {
            cluster_resource_id,
            group,
            labels,
            taints,
        },
        etag: row.try_get("version")?,
    })
}

/// A member's labels and taints as their stored JSON text.
fn labels_and_taints(spec: &MemberSpec) -> StoreResult<(String, String)> {
    let labels = serde_json::to_string(&spec.labels).map_err(|e| corrupt("labels", e))?;
    let taints = serde_json::to_string(&spec.taints).map_err(|e| corrupt("taints", e))?;
    Ok((labels, taints))
}

/// What a failed statement broke, on either back end: unique or foreign key, and the words
/// that name the constraint (SQLite's message names the columns, PostgreSQL names the
/// constraint; the PostgreSQL schema names its constraints after the columns for this).
pub(super) enum Broke {
    Unique(String),
    ForeignKey,
    Other,
}

pub(super) fn broke(error: &sqlx::Error) -> Broke {
    let Some(db) = error.as_database_error() else {
        return Broke::Other;
    };
    let words = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
    match db.kind() {
        sqlx::error::ErrorKind::UniqueViolation => Broke::Unique(words),
        sqlx::error::ErrorKind::ForeignKeyViolation => Broke::ForeignKey,
        // SQLite's triggers raise their own constraint errors, worded as unique ones.
        _ if words.contains("UNIQUE constraint failed") => Broke::Unique(words),
        _ => Broke::Other,
    }
}

/// Maps a unique-constraint failure on insert to the conflict it means.
fn insert_conflict(error: sqlx::Error, name: &MemberName, spec: &MemberSpec) -> StoreError {
    match broke(&error) {
        Broke::Unique(words) if words.contains("cluster_resource_id") => {
            StoreError::ClusterAlreadyJoined(spec.cluster_resource_id.clone())
        }
        Broke::Unique(_) => StoreError::MemberExists(name.clone()),
        Broke::ForeignKey => StoreError::NotFound,
        Broke::Other => StoreError::Database(error),
    }
}

/// Commits `tx`, which carries out the change a request asked for, with that request's audit
/// entry (see `audit_trail`): both or neither.
pub(super) async fn commit_audited(
    mut tx: sqlx::Transaction<'_, sqlx::any::Any>,
) -> StoreResult<()> {
    let stamp = audit::stamp(&mut tx).await?;
    tx.commit().await?;
    stamp.confirm();
    Ok(())
}

/// Deletes the row of (`fleet`, `name`) with `sql[0]` (which binds the version `expect`ed, or
/// NULL, as `?3`); `false` when there was none, `Concurrent` when it is there at another version
/// (`sql[1]` reads it).
async fn delete_guarded(
    pool: &AnyPool,
    sql: [&str; 2],
    fleet: &FleetName,
    name: &str,
    expect: Expect,
) -> StoreResult<bool> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query(AssertSqlSafe(sql[0].to_owned()))
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
    let current: Option<i64> = sqlx::query_scalar(AssertSqlSafe(sql[1].to_owned()))
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
            "SELECT fleet, name, cluster_resource_id, update_group, labels, taints, version FROM members ",
            $rest
        )
    };
}

#[async_trait::async_trait]
impl FleetStore for SqlStore {
    async fn put_fleet(&self, fleet: &FleetName, now: Timestamp) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("INSERT INTO fleets (name, version, created_at) VALUES ($1, 1, $2) ON CONFLICT (name) DO NOTHING")
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
        let row = sqlx::query("SELECT (SELECT COUNT(*) FROM members WHERE fleet = f.name) AS n FROM fleets f WHERE f.name = $1")
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
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM fleets WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM cluster_leases WHERE fleet = $2)",
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
        let row = sqlx::query(member_select!("WHERE fleet = $1 AND name = $2"))
            .bind(fleet.as_str())
            .bind(name.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn members(&self, fleet: &FleetName) -> StoreResult<SharedMembers> {
        let stamp: Option<String> =
            sqlx::query_scalar("SELECT members_stamp FROM fleets WHERE name = $1")
                .bind(fleet.as_str())
                .fetch_optional(&self.pool)
                .await?;
        let Some(stamp) = stamp else {
            self.members.forget(fleet);
            return Ok(SharedMembers::default());
        };
        if let Some(kept) = self.members.get(fleet, &stamp) {
            return Ok(kept);
        }
        let rows = sqlx::query(member_select!("WHERE fleet = $1 ORDER BY name"))
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        let members: SharedMembers = Arc::new(
            rows.iter()
                .map(member_from_row)
                .collect::<StoreResult<_>>()?,
        );
        self.members.put(fleet, stamp, Arc::clone(&members));
        Ok(members)
    }

    async fn create_member(
        &self,
        fleet: &FleetName,
        name: &MemberName,
        spec: &MemberSpec,
        now: Timestamp,
    ) -> StoreResult<Member> {
        let (labels, taints) = labels_and_taints(spec)?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO members (fleet, name, cluster_resource_id, update_group, labels, taints, version, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(spec.cluster_resource_id.as_str())
        .bind(spec.group.as_ref().map(GroupName::as_str))
        .bind(labels)
        .bind(taints)
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
        let (labels, taints) = labels_and_taints(spec)?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE members SET cluster_resource_id = $1, update_group = $2, labels = $3, taints = $4, version = version + 1 \
             WHERE fleet = $5 AND name = $6 AND version = $7",
        )
        .bind(spec.cluster_resource_id.as_str())
        .bind(spec.group.as_ref().map(GroupName::as_str))
        .bind(labels)
        .bind(taints)
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
        let mut tx = self.begin_write().await?;
        for member in members {
            let done = sqlx::query(
                "UPDATE members SET update_group = $1, version = version + 1 WHERE fleet = $2 AND name = $3 AND version = $4",
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
            "DELETE FROM members WHERE fleet = $1 AND name = $2 AND ($3 IS NULL OR version = $3)",
            "SELECT version FROM members WHERE fleet = $1 AND name = $2",
        ];
        delete_guarded(&self.pool, sql, fleet, name.as_str(), expect).await
    }

    async fn members_of_cluster(
        &self,
        cluster: &ClusterResourceId,
    ) -> StoreResult<Vec<(FleetName, MemberName)>> {
        let rows = sqlx::query(
            "SELECT fleet, name FROM members WHERE cluster_resource_id = $1 ORDER BY fleet, name",
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
        let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("value")).transpose()?)
    }

    async fn put_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
