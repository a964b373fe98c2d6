//! Chains of passes (`hops: PerStrategyPass`): what the service reads to continue them,
//! without reading whole runs. A run's body (its record without members) names its pass.

use super::{SqlStore, corrupt};
use crate::store::StoreResult;
use app::model::names::{FleetName, RunName};
use app::model::run::{RunHop, State};
use sqlx::Row;

/// The pass a run's stored body names, if any (serde skips the rest unread).
fn pass_in(body: &str) -> StoreResult<Option<RunHop>> {
    #[derive(serde::Deserialize)]
    struct Body {
        hop: Option<RunHop>,
    }
    let body: Body = serde_json::from_str(body).map_err(|e| corrupt("run", e))?;
    Ok(body.hop)
}

fn state_in(text: String) -> StoreResult<State> {
    serde_json::from_value(serde_json::Value::String(text)).map_err(|e| corrupt("run", e))
}

/// The passes of completed runs that have a pass after them not linked yet, with their fleets:
/// of the one run `only` names, or of every fleet. (The `LIKE` keeps other runs' bodies
/// unread; the body is compact JSON.)
pub(super) async fn completed_passes(
    store: &SqlStore,
    only: Option<(&FleetName, &RunName)>,
) -> StoreResult<Vec<(FleetName, RunHop)>> {
    const WHERE: &str = "state = 'Completed' AND body LIKE '%\"hop\":{%' \
        AND NOT EXISTS (SELECT 1 FROM pass_links l WHERE l.fleet = runs.fleet AND l.run = runs.name)";
    let rows = match only {
        Some((fleet, run)) => {
            let sql =
                format!("SELECT fleet, body FROM runs WHERE fleet = $1 AND name = $2 AND {WHERE}");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(fleet.as_str())
                .bind(run.as_str())
                .fetch_all(&store.pool)
                .await?
        }
        None => {
            let sql = format!("SELECT fleet, body FROM runs WHERE {WHERE} ORDER BY fleet, name");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&store.pool)
                .await?
        }
    };
    let mut passes = Vec::new();
    for row in &rows {
        let Some(hop) = pass_in(&row.try_get::<String, _>("body")?)? else {
            continue;
        };
        if hop.more_to_go() {
            let fleet = FleetName::parse(&row.try_get::<String, _>("fleet")?)
                .map_err(|e| corrupt("run", e))?;
            passes.push((fleet, hop));
        }
    }
    Ok(passes)
}

/// A run's state and pass, without reading the run; `None` when the fleet has no such run.
pub(super) async fn pass_of(
    store: &SqlStore,
    fleet: &FleetName,
    run: &RunName,
) -> StoreResult<Option<(State, Option<RunHop>)>> {
    let row = sqlx::query("SELECT state, body FROM runs WHERE fleet = $1 AND name = $2")
        .bind(fleet.as_str())
        .bind(run.as_str())
        .fetch_optional(&store.pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let state = state_in(row.try_get("state")?)?;
    Ok(Some((state, pass_in(&row.try_get::<String, _>("body")?)?)))
}

/// Records that `run`'s next pass, `next`, was created and started (again: no change).
pub(super) async fn link_pass(
    store: &SqlStore,
    fleet: &FleetName,
    run: &RunName,
    next: &RunName,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO pass_links (fleet, run, next) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(fleet.as_str())
    .bind(run.as_str())
    .bind(next.as_str())
    .execute(&store.pool)
    .await?;
    Ok(())
}
