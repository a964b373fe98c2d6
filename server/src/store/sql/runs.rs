use super::known_targets::Known;
use super::records::{self, EventRecord, RunRecord};
use super::run_members;
use super::statement::{ROWS_PER_STATEMENT, Statement};
use super::{SqlStore, corrupt};
use super::{drivers, leases, pipeline};
use crate::store::{
    CommandAnswer, Driving, Lease, RunChange, RunStore, StoreError, StoreResult, StoredCommand,
    StoredEvent, StoredRun,
};
use app::engine::Effect;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, RunName};
use app::model::run::{MemberRun, Place, RunEvent, UpdateRun};
use app::model::time::Timestamp;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::time::Duration;

fn run_from_row(row: &AnyRow) -> StoreResult<StoredRun> {
    let mut run = records::from_text::<RunRecord>(&row.try_get::<String, _>("body")?)
        .map_err(|e| corrupt("run", e))?;
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

/// The statement that appends a decision's events (at most `ROWS_PER_STATEMENT`). Readers
/// follow events by id (`?after=`, `Last-Event-ID`, webhooks), so ids must become visible in
/// order: on PostgreSQL, where an identity is drawn at insert and transactions commit in any
/// order, writers of events take [`events_lock`] until they commit (SQLite has one writer at a
/// time already). Rows are inserted in the order given (ordered by their place), so ids follow
/// the events' order.
fn events_insert(fleet: &FleetName, run: &str, events: &[RunEvent]) -> StoreResult<Statement> {
    let mut rows = Vec::with_capacity(events.len());
    for (order, event) in events.iter().enumerate() {
        let text = records::to_text::<EventRecord>(event).map_err(|e| corrupt("event", e))?;
        rows.push((event.at.millis(), text, order as i64));
    }
    let mut insert = Statement::insert_in_run(
        "INSERT INTO run_events (fleet, run, at, event)",
        (fleet.as_str(), run),
        2,
        rows,
        |row, (at, text, order)| {
            row.bind(at).bind(text).bind(order);
        },
    );
    // The third column is each event's place in the decision: ids are drawn in that order.
    insert.push(" ORDER BY v.column3");
    Ok(insert)
}

/// PostgreSQL's lock that keeps event ids in commit order (see [`events_insert`]).
fn events_lock() -> Statement {
    let mut lock = Statement::new("SELECT pg_advisory_xact_lock(");
    lock.bind(EVENTS_LOCK);
    lock.push(")");
    lock
}

/// What each statement of a run's save writes, for what its result says.
enum Wrote<'a> {
    /// The run's row: exactly one, or the run is not this writer's to save.
    Run,
    /// Members' rows, or the targets they name.
    Members,
    GaveBack,
    /// Leases taken for these effects: as many rows, or some are held already.
    Took(&'a [Effect]),
    EventsLock,
    Events,
}

/// A run's save after its row: the members it changed, the leases given back and taken, its
/// events. Built lazily, a statement at a time, so each is made while the one before it runs.
fn change_statements<'a>(
    backend: super::Backend,
    fleet: &'a FleetName,
    change: &'a RunChange<'_>,
    members: &'a [(Place, &'a MemberRun)],
    targets: (&'a Known, &'a mut Known),
    at: Timestamp,
) -> impl Iterator<Item = StoreResult<(Wrote<'a>, Statement)>> + Send + 'a {
    let run = change.run;
    let (known, stored) = targets;
    let members =
        members.chunks(ROWS_PER_STATEMENT).flat_map(move |chunk| {
            match run_members::upsert(fleet, &run.name, chunk, known, stored) {
                Ok(statements) => statements
                    .into_iter()
                    .map(|s| Ok((Wrote::Members, s)))
                    .collect(),
                Err(error) => vec![Err(error)],
            }
        });
    let gave_back = (change.ended.chunks(ROWS_PER_STATEMENT))
        .map(move |chunk| Ok((Wrote::GaveBack, leases::give_back(run, chunk))));
    let took = (change.effects.chunks(ROWS_PER_STATEMENT))
        .map(move |chunk| Ok((Wrote::Took(chunk), leases::take(fleet, run, at, chunk))));
    let lock = (backend == super::Backend::Postgres && !change.events.is_empty())
        .then(|| Ok((Wrote::EventsLock, events_lock())));
    let events = (change.events.chunks(ROWS_PER_STATEMENT))
        .map(move |chunk| Ok((Wrote::Events, events_insert(fleet, &run.name, chunk)?)));
    members
        .chain(gave_back)
        .chain(took)
        .chain(lock)
        .chain(events)
}

impl SqlStore {
    /// `RunStore::save_run`'s transaction, told which of the run's targets are stored already
    /// (see `known_targets`), and keeping what it stores when it commits.
    async fn save_run_sql(
        &self,
        fleet: &FleetName,
        previous: &StoredRun,
        driving: &Driving,
        change: RunChange<'_>,
    ) -> StoreResult<i64> {
        let uid = &change.run.uid;
        let known = self.targets.take(uid);
        let mut stored = Known::new();
        let saved = self
            .save_run_tx(fleet, previous, driving, change, (&known, &mut stored))
            .await;
        self.targets
            .give_back(uid, known, saved.is_ok().then_some(stored));
        saved
    }

    async fn save_run_tx(
        &self,
        fleet: &FleetName,
        previous: &StoredRun,
        driving: &Driving,
        change: RunChange<'_>,
        targets: (&Known, &mut Known),
    ) -> StoreResult<i64> {
        let run = change.run;
        let body = match change.outside_members {
            true => Some(records::to_text::<RunRecord>(run).map_err(|e| corrupt("run", e))?),
            false => None,
        };
        // COALESCE: a body unchanged is not written again (a wide run's body is its stages and
        // groups: tens of kilobytes a step for nothing).
        let sql = format!(
            "UPDATE runs SET body = COALESCE($1, body), state = $2, version = version + 1, wake_at = $3 WHERE fleet = $4 AND name = $5 AND uid = $6 AND version = $7 AND {}",
            drivers::held(self.backend, "$8", "$9")
        );
        let mut update = Statement::new(&sql);
        update.argument(body);
        update.argument(state_word(run));
        update.argument(change.wake_at.map(Timestamp::millis));
        update.argument(fleet.as_str().to_owned());
        update.argument(run.name.clone());
        // A run deleted and created again under the same name starts at version 1 too: only
        // the uid tells a stale writer from the run it loaded.
        update.argument(previous.run.uid.clone());
        update.argument(previous.etag);
        update.argument(driving.replica.clone());
        update.argument(driving.fence);
        let members = run_members::at(run, change.members)?;
        let at = change.events.first().map_or(previous.created_at, |e| e.at);
        let statements = std::iter::once(Ok((Wrote::Run, update))).chain(change_statements(
            self.backend,
            fleet,
            &change,
            &members,
            targets,
            at,
        ));
        let mut tx = self.begin_write().await?;
        let mut saved_row = false;
        let mut busy = Vec::new();
        let ran = pipeline::execute(&mut tx, statements, |wrote, done| {
            match wrote {
                Wrote::Run if done.rows_affected() != 1 => return Err(StoreError::Concurrent),
                Wrote::Run => saved_row = true,
                Wrote::Took(effects) if done.rows_affected() as usize != effects.len() => {
                    busy.push(effects)
                }
                Wrote::Took(_)
                | Wrote::Members
                | Wrote::GaveBack
                | Wrote::EventsLock
                | Wrote::Events => {}
            }
            Ok(())
        })
        .await;
        if !saved_row {
            drop(tx);
            return Err(match ran {
                Err(StoreError::Concurrent) => self.why_not_saved(fleet, previous).await,
                Err(error) => error,
                Ok(()) => StoreError::Concurrent,
            });
        }
        ran?;
        for effects in busy {
            leases::check_held_by_these(&mut tx, effects).await?;
        }
        super::notify::run_changed(&mut tx, self.backend, fleet, &run.name).await?;
        let stamp = super::audit::stamp(&mut tx).await?;
        if let Some((id, answer)) = change.answers {
            drivers::answer_in(&mut tx, self.backend, id, answer, stamp.id()).await?;
        }
        tx.commit().await?;
        stamp.confirm();
        Ok(previous.etag + 1)
    }

    /// Why a run's save changed nothing: another write came first (or the run is gone), or
    /// this replica no longer holds the run.
    async fn why_not_saved(&self, fleet: &FleetName, previous: &StoredRun) -> StoreError {
        let row = sqlx::query(
            "SELECT uid, version, driver, driver_fence FROM runs WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(&previous.run.name)
        .fetch_optional(&self.pool)
        .await;
        let row = match row {
            Ok(Some(row)) => row,
            Ok(None) => return StoreError::Concurrent,
            Err(error) => return error.into(),
        };
        let same_run = row.try_get::<String, _>("uid").ok().as_deref() == Some(&previous.run.uid)
            && row.try_get::<i64, _>("version").ok() == Some(previous.etag);
        if same_run {
            StoreError::NotDriving
        } else {
            StoreError::Concurrent
        }
    }
}

#[async_trait::async_trait]
impl RunStore for SqlStore {
    async fn create_run(
        &self,
        fleet: &FleetName,
        run: &UpdateRun,
        now: Timestamp,
    ) -> StoreResult<StoredRun> {
        let body = records::to_text::<RunRecord>(run).map_err(|e| corrupt("run", e))?;
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
        let everyone: Vec<_> = run.placed().collect();
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
        let Some(mut stored) = self.get_run_without_members(fleet, name).await? else {
            return Ok(None);
        };
        run_members::fill(&self.pool, self.backend, fleet, &mut stored.run).await?;
        Ok(Some(stored))
    }

    async fn get_run_without_members(
        &self,
        fleet: &FleetName,
        name: &RunName,
    ) -> StoreResult<Option<StoredRun>> {
        let row = sqlx::query(
            "SELECT uid, body, version, wake_at, created_at FROM runs WHERE fleet = $1 AND name = $2",
        )
        .bind(fleet.as_str())
        .bind(name.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(run_from_row).transpose()
    }

    async fn run_exists(&self, fleet: &FleetName, name: &RunName) -> StoreResult<bool> {
        // COUNT is a BIGINT on both back ends (a bare 1 is an INTEGER on PostgreSQL).
        let found: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM runs WHERE fleet = $1 AND name = $2")
                .bind(fleet.as_str())
                .bind(name.as_str())
                .fetch_one(&self.pool)
                .await?;
        Ok(found > 0)
    }

    async fn completed_passes(
        &self,
        only: Option<(&FleetName, &RunName)>,
    ) -> StoreResult<Vec<(FleetName, app::model::run::RunHop)>> {
        super::chains::completed_passes(self, only).await
    }

    async fn link_pass(&self, fleet: &FleetName, run: &RunName, next: &RunName) -> StoreResult<()> {
        super::chains::link_pass(self, fleet, run, next).await
    }

    async fn pass_of(
        &self,
        fleet: &FleetName,
        name: &RunName,
    ) -> StoreResult<Option<(app::model::run::State, Option<app::model::run::RunHop>)>> {
        super::chains::pass_of(self, fleet, name).await
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
            run_members::fill(&self.pool, self.backend, fleet, &mut stored.run).await?;
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
        driving: &Driving,
        change: RunChange<'_>,
    ) -> StoreResult<i64> {
        let started = std::time::Instant::now();
        let saved = self.save_run_sql(fleet, previous, driving, change).await;
        crate::metrics::metrics().transaction("run", started.elapsed());
        saved
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

    async fn leases_of(
        &self,
        clusters: &[ClusterResourceId],
        except_run: &str,
    ) -> StoreResult<Vec<Lease>> {
        let mut leases = Vec::new();
        for chunk in clusters.chunks(ROWS_PER_STATEMENT) {
            let mut select = Statement::new(leases::select!("WHERE run_uid <> "));
            select.bind(except_run.to_owned());
            select.push(" AND cluster IN (");
            select.list(chunk.iter().map(|c| c.as_str().to_owned()));
            select.push(")");
            for row in select.query_in(self.backend).fetch_all(&self.pool).await? {
                leases.push(leases::lease_from_row(&row)?);
            }
        }
        Ok(leases)
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

    async fn runs_to_drive(&self, replica: &str) -> StoreResult<Vec<(FleetName, RunName)>> {
        self.runs_to_drive_sql(replica).await
    }

    async fn take_run(
        &self,
        uid: &str,
        replica: &str,
        hold: Duration,
    ) -> StoreResult<Option<(i64, i64)>> {
        self.take_run_sql(uid, replica, hold).await
    }

    async fn renew_runs(&self, replica: &str, hold: Duration) -> StoreResult<Vec<(String, i64)>> {
        self.renew_runs_sql(replica, hold).await
    }

    async fn release_run(&self, uid: &str, driving: &Driving) -> StoreResult<()> {
        self.release_run_sql(uid, driving).await
    }

    async fn release_runs(&self, replica: &str) -> StoreResult<u64> {
        self.release_runs_sql(replica).await
    }

    async fn driver_of(&self, uid: &str) -> StoreResult<Option<String>> {
        self.driver_of_sql(uid).await
    }

    async fn send_command(
        &self,
        uid: &str,
        command: &str,
        audit: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        self.send_command_sql(uid, command, audit, now).await
    }

    async fn command_answer(&self, id: i64) -> StoreResult<Option<CommandAnswer>> {
        self.command_answer_sql(id).await
    }

    async fn withdraw_command(&self, id: i64) -> StoreResult<bool> {
        self.withdraw_command_sql(id).await
    }

    async fn forget_command(&self, id: i64) -> StoreResult<()> {
        self.forget_command_sql(id).await
    }

    async fn waiting_commands(&self, uid: &str) -> StoreResult<Vec<StoredCommand>> {
        self.waiting_commands_sql(uid).await
    }

    async fn runs_with_commands(&self, replica: &str) -> StoreResult<Vec<(FleetName, RunName)>> {
        self.runs_with_commands_sql(replica).await
    }

    async fn answer_command(&self, id: i64, driving: &Driving, answer: &str) -> StoreResult<()> {
        self.answer_command_sql(id, driving, answer).await
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
                let event = records::from_text::<EventRecord>(&row.try_get::<String, _>("event")?)
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
