//! Cluster leases (`cluster_leases`): a run holds a cluster while it upgrades it, so no other run
//! starts a second upgrade there. Taken and given back inside `save_run`'s transaction.

use super::corrupt;
use crate::store::{Lease, StoreError, StoreResult};
use app::engine::Effect;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, MemberName, RunName};
use app::model::run::UpdateRun;
use app::model::time::Timestamp;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

/// A query of the columns `lease_from_row` reads (a macro, because sqlx takes only literal SQL).
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT cluster, fleet, run, run_uid, member, operation_id FROM cluster_leases ",
            $rest
        )
    };
}
pub(super) use select;

pub fn lease_from_row(row: &SqliteRow) -> StoreResult<Lease> {
    let text = |col: &str| -> StoreResult<String> { Ok(row.try_get::<String, _>(col)?) };
    Ok(Lease {
        cluster: ClusterResourceId::parse(&text("cluster")?).map_err(|e| corrupt("lease", e))?,
        fleet: FleetName::parse(&text("fleet")?).map_err(|e| corrupt("lease", e))?,
        run: RunName::parse(&text("run")?).map_err(|e| corrupt("lease", e))?,
        run_uid: text("run_uid")?,
        member: MemberName::parse(&text("member")?).map_err(|e| corrupt("lease", e))?,
        operation_id: text("operation_id")?,
    })
}

/// Takes the lease of every cluster an effect starts an upgrade on; `ClusterBusy` when another
/// run holds one (the caller's transaction is then rolled back).
pub async fn take(
    tx: &mut Transaction<'_, Sqlite>,
    fleet: &FleetName,
    run: &UpdateRun,
    at: Timestamp,
    effects: &[Effect],
) -> StoreResult<()> {
    for effect in effects {
        let Effect::StartUpgrade {
            member,
            cluster,
            operation_id,
            ..
        } = effect;
        let taken = sqlx::query(
            "INSERT INTO cluster_leases (cluster, fleet, run, run_uid, member, operation_id, since) \
             VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (cluster) DO NOTHING",
        )
        .bind(cluster.as_str())
        .bind(fleet.as_str())
        .bind(&run.name)
        .bind(&run.uid)
        .bind(member.as_str())
        .bind(operation_id)
        .bind(at.millis())
        .execute(&mut **tx)
        .await?;
        if taken.rows_affected() == 1 {
            continue;
        }
        // Held already: by this very attempt (a repeated commit), or by someone else.
        let holder: Option<String> =
            sqlx::query_scalar("SELECT operation_id FROM cluster_leases WHERE cluster = ?")
                .bind(cluster.as_str())
                .fetch_optional(&mut **tx)
                .await?;
        if holder.as_deref() != Some(operation_id.as_str()) {
            return Err(StoreError::ClusterBusy(cluster.clone()));
        }
    }
    Ok(())
}

/// Gives back the leases of members that are no longer upgrading.
pub async fn give_back(
    tx: &mut Transaction<'_, Sqlite>,
    run: &UpdateRun,
    members: impl Iterator<Item = &MemberName>,
) -> StoreResult<()> {
    for member in members {
        sqlx::query("DELETE FROM cluster_leases WHERE run_uid = ? AND member = ?")
            .bind(&run.uid)
            .bind(member.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
