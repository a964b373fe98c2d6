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
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};
use std::collections::HashMap;

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

/// Leases written per statement (seven bound values each; SQLite allows 32,766 a statement).
const ROWS_PER_STATEMENT: usize = 1_000;

/// Takes the lease of every cluster an effect starts an upgrade on, a statement per thousand
/// (each statement is a round trip to the database); `ClusterBusy` when another run holds one
/// (the caller's transaction is then rolled back).
pub async fn take(
    tx: &mut Transaction<'_, Sqlite>,
    fleet: &FleetName,
    run: &UpdateRun,
    at: Timestamp,
    effects: &[Effect],
) -> StoreResult<()> {
    for chunk in effects.chunks(ROWS_PER_STATEMENT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO cluster_leases (cluster, fleet, run, run_uid, member, operation_id, since) ",
        );
        insert.push_values(chunk, |mut row, effect| {
            let Effect::StartUpgrade {
                member,
                cluster,
                operation_id,
                ..
            } = effect;
            row.push_bind(cluster.as_str())
                .push_bind(fleet.as_str())
                .push_bind(&run.name)
                .push_bind(&run.uid)
                .push_bind(member.as_str())
                .push_bind(operation_id)
                .push_bind(at.millis());
        });
        insert.push(" ON CONFLICT (cluster) DO NOTHING");
        let taken = insert.build().execute(&mut **tx).await?;
        if taken.rows_affected() as usize != chunk.len() {
            check_held_by_these(tx, chunk).await?;
        }
    }
    Ok(())
}

/// Some leases were already there: fine if each is this very attempt's (a repeated commit),
/// `ClusterBusy` for the first held by someone else.
async fn check_held_by_these(
    tx: &mut Transaction<'_, Sqlite>,
    effects: &[Effect],
) -> StoreResult<()> {
    let mut select = QueryBuilder::<Sqlite>::new(
        "SELECT cluster, operation_id FROM cluster_leases WHERE cluster IN (",
    );
    let mut list = select.separated(", ");
    for effect in effects {
        let Effect::StartUpgrade { cluster, .. } = effect;
        list.push_bind(cluster.as_str());
    }
    select.push(")");
    let held: HashMap<String, String> = select
        .build()
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("cluster")?, row.try_get("operation_id")?)))
        .collect::<StoreResult<_>>()?;
    for effect in effects {
        let Effect::StartUpgrade {
            cluster,
            operation_id,
            ..
        } = effect;
        if held.get(cluster.as_str()) != Some(operation_id) {
            return Err(StoreError::ClusterBusy(cluster.clone()));
        }
    }
    Ok(())
}

/// Gives back the leases of members that are no longer upgrading.
pub async fn give_back(
    tx: &mut Transaction<'_, Sqlite>,
    run: &UpdateRun,
    members: &[&MemberName],
) -> StoreResult<()> {
    for chunk in members.chunks(ROWS_PER_STATEMENT) {
        let mut delete = QueryBuilder::<Sqlite>::new("DELETE FROM cluster_leases WHERE run_uid = ");
        delete.push_bind(&run.uid);
        delete.push(" AND member IN (");
        let mut list = delete.separated(", ");
        for member in chunk {
            list.push_bind(member.as_str());
        }
        delete.push(")");
        delete.build().execute(&mut **tx).await?;
    }
    Ok(())
}
