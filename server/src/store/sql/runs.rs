use super::leases;
use super::run_members::{self, changed, landed, placed, skeleton};
use super::{SqlStore, corrupt};
use crate::store::{Lease, RunStore, StoreError, StoreResult, StoredEvent, StoredRun};
use app::engine::Effect;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, RunName};
use app::model::run::{RunEvent, UpdateRun};
use app::model::time::Timestamp;
use sqlx::any::Any;
use sqlx::any::AnyRow;
use sqlx::{Row, Transaction};

fn run_from_row(row: &AnyRow) -> StoreResult<StoredRun> {
    let mut run: UpdateRun =
        serde_json::from_str(&row.try_get::<String, _>("body")?).map_err(|e| corrupt("run", e))?;
    // The column is the uid's home (bodies stored before uids existed have none).
    run.uid = row.try_get("uid")?;
    Ok(StoredRun {
        run,
        etag: row.try_get("version")?,
        wake_at: row.try_get::<Option<i64>, _>("wake_at")?.map(Timestamp),
        created_at: Timestamp(row.try_get("created_at")?),
    })
}

/// The public state, as stored for listing (the CHECK constraint lists the same words).
fn state_word(run: &UpdateRun) -> String {
    format!("{:?}", run.state.public())
}

/// The transaction-level lock event writers take on PostgreSQL ("EVENTS" in ASCII).
const EVENTS_LOCK: i64 = 0x4556_454e_5453;

/// Appends a decision's events. Readers follow events by id (`?after=`, `Last-Event-ID`,
/// webhooks), so ids must become visible in order: on PostgreSQL, where an identity is drawn at
/// insert and transactions commit in any order, writers of events take one lock until they
/// commit (SQLite has one writer at a time already).
async fn append_events(
    tx: &mut Transaction<'_, Any>,
    backend: super::Backend,
    fleet: &FleetName,
    run: &str,
    events: &[RunEvent],
) -> StoreResult<()> {
    if backend == super::Backend::Postgres && !events.is_empty() {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(EVENTS_LOCK)
            .execute(&mut **tx)
            .await?;
    }
    for event in events {
        let text = serde_json::to_string(event).map_err(|e| corrupt("event", e))?;
        sqlx::query("INSERT INTO run_events (fleet, run, at, event) VALUES ($1, $2, $3, $4)")
            .bind(fleet.as_str())
            .bind(run)
            .bind(event.at.millis())
            .bind(text)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl RunStore for SqlStore {
    async fn create_run(
        &self,
        fleet: &FleetName,
        run: &UpdateRun,
        now: Timestamp,
    ) -> StoreResult<StoredRun> {
        let body = serde_json::to_string(&skeleton(run)).map_err(|e| corrupt("run", e))?;
        if run.uid.is_empty() {
            return Err(corrupt("run", "a run must have a uid"));
        }
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO runs (fleet, name, uid, body, state, version, wake_at, created_at) VALUES ($1, $2, $3, $4, $5, 1, NULL, $6)",
        )
        .bind(fleet.as_str())
        .bind(&run.name)
        .bind(&run.uid)
        .bind(body)
        .bind(state_word(run))
        .bind(now.millis())
        .execute(&mut *tx)
        .await;
        if let Err(error) = done {
            return Err(match super::broke(&error) {
                super::Broke::Unique(words) if words.contains("uid") => {
                    corrupt("run", "a uid was given twice")
                }
                super::Broke::Unique(_) => {
                    StoreError::RunExists(RunName::parse(&run.name).map_err(|e| corrupt("run", e))?)
                }
                super::Broke::ForeignKey => StoreError::NotFound,
                super::Broke::Other => StoreError::Database(error),
            });
        }
        let everyone: Vec<_> = placed(run).collect();
        run_members::write(&mut tx, fleet, &run.name, &everyone).await?;
        super::commit_audited(tx).await?;
        Ok(StoredRun {
            run: run.clone(),
            etag: 1,
            wake_at: None,
            created_at: now,
        })
    }

    async fn get_run(&self, fleet: &FleetName, name: &RunName) -> StoreResult<Option<StoredRun>> {
        let row = sqlx::query(
            "SELECT uid, body, version, wake_at, created_at FROM runs WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(mut stored) = row.as_ref().map(run_from_row).transpose()? else {
            return Ok(None);
        };
        run_members::fill(&self.pool, fleet, &mut stored.run).await?;
        Ok(Some(stored))
    }

    async fn list_runs(&self, fleet: &FleetName) -> StoreResult<Vec<StoredRun>> {
        let rows = sqlx::query("SELECT uid, body, version, wake_at, created_at FROM runs WHERE fleet = $1 ORDER BY created_at, name")
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        let mut runs = rows
            .iter()
            .map(run_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        for stored in &mut runs {
            run_members::fill(&self.pool, fleet, &mut stored.run).await?;
        }
        Ok(runs)
    }

    async fn delete_run(&self, fleet: &FleetName, previous: &StoredRun) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "DELETE FROM runs WHERE fleet = $1 AND name = $2 AND uid = $3 AND version = $4",
        )
        .bind(fleet.as_str())
        .bind(&previous.run.name)
        .bind(&previous.run.uid)
        .bind(previous.etag)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 1 {
            return super::commit_audited(tx).await;
        }
        drop(tx);
        let name = RunName::parse(&previous.run.name).map_err(|e| corrupt("run", e))?;
        match self.get_run(fleet, &name).await? {
            Some(_) => Err(StoreError::Concurrent),
            None => Err(StoreError::NotFound),
        }
    }

    async fn save_run(
        &self,
        fleet: &FleetName,
        previous: &StoredRun,
        run: &UpdateRun,
        events: &[RunEvent],
        effects: &[Effect],
        wake_at: Option<Timestamp>,
    ) -> StoreResult<StoredRun> {
        let body = serde_json::to_string(&skeleton(run)).map_err(|e| corrupt("run", e))?;
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE runs SET body = $1, state = $2, version = version + 1, wake_at = $3 WHERE fleet = $4 AND name = $5 AND uid = $6 AND version = $7",
        )
        .bind(body)
        .bind(state_word(run))
        .bind(wake_at.map(Timestamp::millis))
        .bind(fleet.as_str())
        .bind(&run.name)
        // A run deleted and created again under the same name starts at version 1 too: only
        // the uid tells a stale writer from the run it loaded.
        .bind(&previous.run.uid)
        .bind(previous.etag)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Err(StoreError::Concurrent);
        }
        run_members::write(&mut tx, fleet, &run.name, &changed(&previous.run, run)).await?;
        let at = events.first().map_or(previous.created_at, |e| e.at);
        leases::give_back(&mut tx, run, &landed(&previous.run, run)).await?;
        leases::take(&mut tx, fleet, run, at, effects).await?;
        append_events(&mut tx, self.backend, fleet, &run.name, events).await?;
        super::commit_audited(tx).await?;
        Ok(StoredRun {
            run: run.clone(),
            etag: previous.etag + 1,
            wake_at,
            created_at: previous.created_at,
        })
    }

    async fn unfinished_runs(&self) -> StoreResult<Vec<(FleetName, UpdateRun)>> {
        let rows = sqlx::query("SELECT fleet, uid, body, version, wake_at, created_at FROM runs WHERE state <> 'Completed' ORDER BY fleet, name")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let fleet = FleetName::parse(&row.try_get::<String, _>("fleet")?)
                    .map_err(|e| corrupt("run", e))?;
                Ok((fleet, run_from_row(row)?.run))
            })
            .collect()
    }

    async fn cluster_leases(&self) -> StoreResult<Vec<Lease>> {
        let rows = sqlx::query(leases::select!(""))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(leases::lease_from_row).collect()
    }

    async fn lease_of(&self, cluster: &ClusterResourceId) -> StoreResult<Option<Lease>> {
        let row = sqlx::query(leases::select!("WHERE cluster = $1"))
            .bind(cluster.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(leases::lease_from_row).transpose()
    }

    async fn fleet_leases(&self, fleet: &FleetName) -> StoreResult<Vec<Lease>> {
        let rows = sqlx::query(leases::select!("WHERE fleet = $1 ORDER BY run, member"))
            .bind(fleet.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(leases::lease_from_row).collect()
    }

    async fn active_runs(&self) -> StoreResult<Vec<(FleetName, RunName)>> {
        let rows = sqlx::query("SELECT fleet, name FROM runs WHERE state IN ('Running', 'Stopping') ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let fleet = FleetName::parse(&row.try_get::<String, _>("fleet")?)
                    .map_err(|e| corrupt("run", e))?;
                let name = RunName::parse(&row.try_get::<String, _>("name")?)
                    .map_err(|e| corrupt("run", e))?;
                Ok((fleet, name))
            })
            .collect()
    }

    async fn run_events(
        &self,
        fleet: &FleetName,
        name: &RunName,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT id, event FROM run_events WHERE fleet = $1 AND run = $2 AND id > $3 ORDER BY id LIMIT $4",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let event = serde_json::from_str(&row.try_get::<String, _>("event")?)
                    .map_err(|e| corrupt("event", e))?;
                Ok(StoredEvent {
                    id: row.try_get("id")?,
                    event,
                })
            })
            .collect()
    }

    async fn last_event_id(&self, fleet: &FleetName, name: &RunName) -> StoreResult<i64> {
        let last = sqlx::query_scalar(
            "SELECT COALESCE(MAX(id), 0) FROM run_events WHERE fleet = $1 AND run = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(last)
    }
}
