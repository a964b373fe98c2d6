//! Catch-up runs: who a finished run left behind, and a run of exactly those members to the
//! same targets (the same node images, for a Consistent run) through the same stages.

use super::runs::RunOrigin;
use super::{Drydock, store_error};
use crate::store::StoredRun;
use app::engine::{LeftBehind, catch_up_spec, check_finished, left_behind};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::{FleetName, MemberName, RunName};
use app::model::precondition::Precondition;
use app::model::update::{CreateRun, StrategySource};
use std::collections::BTreeSet;

impl Drydock {
    /// The members `run` left behind so far, and why.
    pub async fn left_behind(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
    ) -> Result<Vec<LeftBehind>, AppError> {
        let stored = self.get_run(caller, fleet, run).await?;
        Ok(left_behind(&stored.run))
    }

    /// Creates `name` (by default `{run}-catch-up`): a run of the members `run` left behind
    /// that are still members, to `run`'s targets, through its stages that hold them.
    pub async fn create_catch_up_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        run: &RunName,
        name: Option<RunName>,
    ) -> Result<StoredRun, AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        let original = self.get_run(caller, fleet, run).await?.run;
        check_finished(&original).map_err(|why| AppError::conflict("UpdateRunNotFinished", why))?;
        let left = left_behind(&original);
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        let current: BTreeSet<MemberName> = members.into_iter().map(|m| m.name).collect();
        let left: Vec<LeftBehind> = left
            .into_iter()
            .filter(|l| current.contains(&l.name))
            .collect();
        if left.is_empty() {
            return Err(AppError::conflict(
                "NothingLeftBehind",
                format!("update run {run} left no member behind that is still in the fleet"),
            ));
        }
        let name = match name {
            Some(name) => name,
            None => RunName::parse(&format!("{run}-catch-up")).map_err(|_| {
                AppError::invalid(
                    "InvalidUpdateRunName",
                    format!(
                        "{run}-catch-up is too long for a run's name; give the catch-up run a name"
                    ),
                )
            })?,
        };
        let spec = catch_up_spec(&original, &left);
        let request = CreateRun {
            strategy: spec
                .strategy
                .map_or(StrategySource::OneByOne, StrategySource::Inline),
            update: spec.update,
            placement: spec.placement.map(|p| p.request()),
        };
        let origin = RunOrigin {
            only: Some(left.into_iter().map(|l| l.name).collect()),
            catch_up_of: Some(format!("/fleets/{fleet}/updateRuns/{run}")),
            ..RunOrigin::default()
        };
        // A run of that name already there is a 409, as for any run.
        let unconditional = &Precondition::Unconditional;
        self.create_run_from(caller, fleet, &name, request, unconditional, origin)
            .await
    }
}
