//! Cluster leases (`cluster_leases`): a run holds a cluster while it upgrades it, so no other run
//! starts a second upgrade there. Taken and given back inside `save_run`'s transaction.

use super::corrupt;
use super::statement::Statement;
use crate::store::{Lease, StoreError, StoreResult};
use app::engine::Effect;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, MemberName, RunName};
use app::model::run::UpdateRun;
use app::model::time::Timestamp;
use sqlx::any::Any;
use sqlx::any::AnyRow;
use sqlx::{Row, Transaction};
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

pub fn lease_from_row(row: &AnyRow) -> StoreResult<Lease> {
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

/// The statement that takes the lease of every cluster an effect starts an upgrade on (at
/// most `ROWS_PER_STATEMENT`): a lease another run holds is left as it is, so fewer rows than
/// effects means [`check_held_by_these`] decides.
pub fn take(fleet: &FleetName, run: &UpdateRun, at: Timestamp, effects: &[Effect]) -> Statement {
    let mut insert = Statement::new(
        "INSERT INTO cluster_leases (cluster, fleet, run, run_uid, member, operation_id, since) VALUES ",
    );
    insert.values(effects, |row, effect| {
        let Effect::StartUpgrade {
            member,
            cluster,
            operation_id,
            ..
        } = effect;
        row.bind(cluster.as_str().to_owned())
            .bind(fleet.as_str().to_owned())
            .bind(run.name.clone())
            .bind(run.uid.clone())
            .bind(member.as_str().to_owned())
            .bind(operation_id.clone())
            .bind(at.millis());
    });
    insert.push(" ON CONFLICT (cluster) DO NOTHING");
    insert
}

/// Some leases were already there: fine if each is this very attempt's (a repeated commit),
/// `ClusterBusy` for the first held by someone else.
pub async fn check_held_by_these(
    tx: &mut Transaction<'_, Any>,
    effects: &[Effect],
) -> StoreResult<()> {
    let mut select =
        Statement::new("SELECT cluster, operation_id FROM cluster_leases WHERE cluster IN (");
    select.list(effects.iter().map(|effect| {
        let Effect::StartUpgrade { cluster, .. } = effect;
        cluster.as_str().to_owned()
    }));
    select.push(")");
    let held: HashMap<String, String> = select
        .query_for(tx)
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

/// The statement that gives back the leases of members no longer upgrading (at most
/// `ROWS_PER_STATEMENT`).
pub fn give_back(run: &UpdateRun, members: &[&MemberName]) -> Statement {
    let mut delete = Statement::new("DELETE FROM cluster_leases WHERE run_uid = ");
    delete.bind(run.uid.clone());
    delete.push(" AND member IN (");
    delete.list(members.iter().map(|member| member.as_str().to_owned()));
    delete.push(")");
    delete
}
