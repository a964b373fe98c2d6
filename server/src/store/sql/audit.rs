//! The audit trail in SQLite.

use super::{SqlStore, corrupt};
use crate::audit_trail::{self, Stamp};
use crate::store::StoreResult;
use crate::store::audit::{AuditScope, AuditStore, NewAudit};
use app::model::audit::{AuditEntry, AuditOutcome, AuditQuery};
use app::model::time::Timestamp;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

fn outcome_text(outcome: AuditOutcome) -> &'static str {
    match outcome {
        AuditOutcome::Pending => "Pending",
        AuditOutcome::Succeeded => "Succeeded",
        AuditOutcome::Refused => "Refused",
        AuditOutcome::Failed => "Failed",
        AuditOutcome::Interrupted => "Interrupted",
    }
}

fn outcome_of(text: &str) -> StoreResult<AuditOutcome> {
    Ok(match text {
        "Pending" => AuditOutcome::Pending,
        "Succeeded" => AuditOutcome::Succeeded,
        "Refused" => AuditOutcome::Refused,
        "Failed" => AuditOutcome::Failed,
        "Interrupted" => AuditOutcome::Interrupted,
        other => return Err(corrupt("audit outcome", other)),
    })
}

fn entry_from_row(row: &AnyRow) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.try_get("id")?,
        time: Timestamp(row.try_get("at")?),
        actor: row.try_get("actor")?,
        credential: row.try_get("credential")?,
        action: row.try_get("action")?,
        fleet: row.try_get("fleet")?,
        run: row.try_get("run")?,
        address: row.try_get("address")?,
        outcome: outcome_of(&row.try_get::<String, _>("outcome")?)?,
        status: row.try_get::<Option<i64>, _>("status")?.map(|s| s as u16),
        code: row.try_get("code")?,
    })
}

/// Writes an entry on `conn` (in a change's transaction, or alone); its id.
async fn insert_entry(
    conn: &mut AnyConnection,
    entry: &NewAudit,
    outcome: AuditOutcome,
    answer: Option<(u16, Option<&str>)>,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO audit_log (at, actor, credential, action, fleet, run, address, outcome, status, code) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(entry.at.millis())
    .bind(&entry.actor)
    .bind(&entry.credential)
    .bind(&entry.action)
    .bind(&entry.fleet)
    .bind(&entry.run)
    .bind(&entry.address)
    .bind(outcome_text(outcome))
    .bind(answer.map(|(status, _)| i64::from(status)))
    .bind(answer.and_then(|(_, code)| code))
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Writes the entry of the write being served (if any, and not written yet) in the
/// transaction `tx`, which carries out its change. Confirm the stamp once `tx` commits.
pub(super) async fn stamp(tx: &mut AnyConnection) -> StoreResult<Stamp> {
    let Some(ticket) = audit_trail::unwritten() else {
        return Ok(Stamp::none());
    };
    let id = insert_entry(tx, &ticket.entry(), AuditOutcome::Succeeded, None).await?;
    Ok(Stamp::of(ticket, id))
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn record_audit(
        &self,
        entry: &NewAudit,
        outcome: AuditOutcome,
        status: u16,
        code: Option<&str>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        insert_entry(&mut conn, entry, outcome, Some((status, code))).await?;
        Ok(())
    }

    async fn answer_audit(&self, id: i64, status: u16, code: Option<&str>) -> StoreResult<()> {
        sqlx::query("UPDATE audit_log SET status = $1, code = $2 WHERE id = $3 AND status IS NULL")
            .bind(i64::from(status))
            .bind(code)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn interrupt_pending(&self) -> StoreResult<u64> {
        let done =
            sqlx::query("UPDATE audit_log SET outcome = 'Interrupted' WHERE outcome = 'Pending'")
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected())
    }

    async fn list_audit(
        &self,
        query: &AuditQuery,
        scope: &AuditScope,
    ) -> StoreResult<Vec<AuditEntry>> {
        let (mode, fleets) = match scope {
            AuditScope::Everything => (0, Vec::new()),
            AuditScope::AllFleets => (1, Vec::new()),
            AuditScope::Fleets(fleets) => (2, fleets.clone()),
        };
        // Fleet names hold no comma: `,a,b,` finds `,a,` whatever the back end.
        let fleets = format!(",{},", fleets.join(","));
        sqlx::query(
            "SELECT * FROM audit_log \
             WHERE ($1 IS NULL OR actor = $1) AND ($2 IS NULL OR fleet = $2) \
               AND ($3 IS NULL OR run = $3) AND ($4 IS NULL OR id < $4) \
               AND ($5 = 0 OR ($5 = 1 AND fleet IS NOT NULL) \
                    OR ($5 = 2 AND $6 LIKE '%,' || fleet || ',%')) \
             ORDER BY id DESC LIMIT $7",
        )
        .bind(&query.actor)
        .bind(&query.fleet)
        .bind(&query.run)
        .bind(query.before)
        .bind(mode)
        .bind(fleets)
        .bind(i64::from(query.limit()))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(entry_from_row)
        .collect()
    }
}
