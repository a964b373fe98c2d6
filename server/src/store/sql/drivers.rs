//! Which replica drives each run (`runs.driver`, `driver_until`, `driver_fence`), and the
//! commands other replicas leave for it (`run_commands`). Holds are timed by the database's
//! clock, so replicas whose clocks disagree still agree on whose hold ran out.

use super::{Backend, SqlStore, corrupt};
use crate::store::{CommandAnswer, Driving, StoreResult, StoredCommand};
use app::model::names::{FleetName, RunName};
use app::model::time::Timestamp;
use sqlx::{AssertSqlSafe, Row};
use std::time::Duration;

/// The database's clock in milliseconds since the epoch, as an SQL expression.
fn now_ms(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
        Backend::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
    }
}

/// `sql` with every `{now}` replaced by the database's clock.
fn timed(backend: Backend, sql: &str) -> AssertSqlSafe<String> {
    AssertSqlSafe(sql.replace("{now}", now_ms(backend)))
}

fn millis(hold: Duration) -> i64 {
    i64::try_from(hold.as_millis()).unwrap_or(i64::MAX)
}

fn run_key(row: &sqlx::any::AnyRow) -> StoreResult<(FleetName, RunName)> {
    let fleet =
        FleetName::parse(&row.try_get::<String, _>("fleet")?).map_err(|e| corrupt("run", e))?;
    let name = RunName::parse(&row.try_get::<String, _>("name")?).map_err(|e| corrupt("run", e))?;
    Ok((fleet, name))
}

/// The condition a write of a run needs: the replica (bound at placeholder `replica`) holds it
/// with fence `fence`, and its hold has not run out.
pub(super) fn held(backend: Backend, replica: &str, fence: &str) -> String {
    format!(
        "driver = {replica} AND driver_fence = {fence} AND driver_until > {}",
        now_ms(backend)
    )
}

impl SqlStore {
    pub(super) async fn runs_to_drive_sql(
        &self,
        replica: &str,
    ) -> StoreResult<Vec<(FleetName, RunName)>> {
        let sql = timed(
            self.backend,
            "SELECT fleet, name FROM runs WHERE state IN ('Running', 'Stopping') AND (driver IS NULL OR driver = $1 OR driver_until <= {now}) ORDER BY created_at",
        );
        let rows = sqlx::query(sql).bind(replica).fetch_all(&self.pool).await?;
        rows.iter().map(run_key).collect()
    }

    pub(super) async fn take_run_sql(
        &self,
        uid: &str,
        replica: &str,
        hold: Duration,
    ) -> StoreResult<Option<(i64, i64)>> {
        let sql = timed(
            self.backend,
            "UPDATE runs SET driver = $1, driver_until = {now} + $2, driver_fence = driver_fence + 1 WHERE uid = $3 AND (driver IS NULL OR driver = $1 OR driver_until <= {now}) RETURNING driver_fence, version",
        );
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sql)
            .bind(replica)
            .bind(millis(hold))
            .bind(uid)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(|row| Ok((row.try_get("driver_fence")?, row.try_get("version")?)))
            .transpose()
    }

    pub(super) async fn renew_runs_sql(
        &self,
        replica: &str,
        hold: Duration,
    ) -> StoreResult<Vec<(String, i64)>> {
        let sql = timed(
            self.backend,
            "UPDATE runs SET driver_until = {now} + $1 WHERE driver = $2 RETURNING uid, driver_fence",
        );
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sql)
            .bind(millis(hold))
            .bind(replica)
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|row| Ok((row.try_get("uid")?, row.try_get("driver_fence")?)))
            .collect()
    }

    pub(super) async fn release_run_sql(&self, uid: &str, driving: &Driving) -> StoreResult<()> {
        sqlx::query("UPDATE runs SET driver = NULL, driver_until = NULL WHERE uid = $1 AND driver = $2 AND driver_fence = $3")
            .bind(uid)
            .bind(&driving.replica)
            .bind(driving.fence)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn release_runs_sql(&self, replica: &str) -> StoreResult<u64> {
        let done =
            sqlx::query("UPDATE runs SET driver = NULL, driver_until = NULL WHERE driver = $1")
                .bind(replica)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    pub(super) async fn driver_of_sql(&self, uid: &str) -> StoreResult<Option<String>> {
        let sql = timed(
            self.backend,
            "SELECT driver FROM runs WHERE uid = $1 AND driver_until > {now}",
        );
        let driver: Option<Option<String>> = sqlx::query_scalar(sql)
            .bind(uid)
            .fetch_optional(&self.pool)
            .await?;
        Ok(driver.flatten())
    }

    pub(super) async fn take_duty_sql(
        &self,
        name: &str,
        replica: &str,
        hold: Duration,
    ) -> StoreResult<bool> {
        let sql = timed(
            self.backend,
            "INSERT INTO duties (name, holder, until) VALUES ($1, $2, {now} + $3) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until WHERE duties.holder = excluded.holder OR duties.until <= {now} RETURNING holder",
        );
        let mut tx = self.begin_write().await?;
        let holder: Option<String> = sqlx::query_scalar(sql)
            .bind(name)
            .bind(replica)
            .bind(millis(hold))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(holder.is_some())
    }

    pub(super) async fn send_command_sql(
        &self,
        uid: &str,
        command: &str,
        audit: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO run_commands (run_uid, command, audit, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(uid)
        .bind(command)
        .bind(audit)
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await
        .map_err(|error| match super::broke(&error) {
            super::Broke::ForeignKey => crate::store::StoreError::NotFound,
            super::Broke::Unique(_) | super::Broke::Other => error.into(),
        })?;
        super::notify::command_stored(&mut tx, self.backend, uid).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(super) async fn command_answer_sql(&self, id: i64) -> StoreResult<Option<CommandAnswer>> {
        let row = sqlx::query("SELECT answer, audit_id FROM run_commands WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(crate::store::StoreError::NotFound)?;
        let Some(answer) = row.try_get::<Option<String>, _>("answer")? else {
            return Ok(None);
        };
        Ok(Some(CommandAnswer {
            answer,
            audit_id: row.try_get("audit_id")?,
        }))
    }

    pub(super) async fn withdraw_command_sql(&self, id: i64) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("DELETE FROM run_commands WHERE id = $1 AND answer IS NULL")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn forget_command_sql(&self, id: i64) -> StoreResult<()> {
        sqlx::query("DELETE FROM run_commands WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub(super) async fn waiting_commands_sql(&self, uid: &str) -> StoreResult<Vec<StoredCommand>> {
        let rows = sqlx::query(
            "SELECT id, command, audit FROM run_commands WHERE run_uid = $1 AND answer IS NULL ORDER BY id",
        )
        .bind(uid)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredCommand {
                    id: row.try_get("id")?,
                    command: row.try_get("command")?,
                    audit: row.try_get("audit")?,
                })
            })
            .collect()
    }

    pub(super) async fn runs_with_commands_sql(
        &self,
        replica: &str,
    ) -> StoreResult<Vec<(FleetName, RunName)>> {
        let rows = sqlx::query(
            "SELECT DISTINCT r.fleet, r.name FROM run_commands c JOIN runs r ON r.uid = c.run_uid WHERE c.answer IS NULL AND r.driver = $1",
        )
        .bind(replica)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_key).collect()
    }

    pub(super) async fn answer_command_sql(
        &self,
        id: i64,
        driving: &Driving,
        answer: &str,
    ) -> StoreResult<()> {
        let sql = format!(
            "UPDATE run_commands SET answer = $1, answered_at = {} WHERE id = $2 AND answer IS NULL AND EXISTS (SELECT 1 FROM runs WHERE uid = run_commands.run_uid AND {})",
            now_ms(self.backend),
            held(self.backend, "$3", "$4")
        );
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(AssertSqlSafe(sql))
            .bind(answer)
            .bind(id)
            .bind(&driving.replica)
            .bind(driving.fence)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Err(crate::store::StoreError::NotDriving);
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Records the answer to a stored command in the transaction of the change it made, with the
/// audit entry written there.
pub(super) async fn answer_in(
    tx: &mut sqlx::Transaction<'_, sqlx::any::Any>,
    backend: Backend,
    id: i64,
    answer: &str,
    audit_id: Option<i64>,
) -> StoreResult<()> {
    let sql = timed(
        backend,
        "UPDATE run_commands SET answer = $1, audit_id = $2, answered_at = {now} WHERE id = $3 AND answer IS NULL",
    );
    sqlx::query(sql)
        .bind(answer)
        .bind(audit_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
