//! Chains of passes (`hops: PerStrategyPass`, see `app::model::run::RunHop`): when a pass
//! completes, the server creates the next one (over the same members, the same strategy and
//! update) and starts it, as the system, audited. A pass that did not complete (stopped,
//! failed) holds the chain until it does; a person stopping the next pass holds it too, and
//! deleting it ends the chain: each pass is continued from once (`pass_links`).
//!
//! What continues a chain: the run that just changed (the runtime's change feed), and a sweep
//! of every fleet at start and every `every`, for a crash between a pass completing and the
//! next one starting, and for passes other replicas completed.

use super::runs::RunOrigin;
use super::{Drydock, store_error};
use app::engine::Command;
use app::model::access::Caller;
use app::model::error::AppError;
use app::model::names::{FleetName, MemberName, RunName};
use app::model::precondition::Precondition;
use app::model::run::{RunHop, State, UpdateRun};
use app::model::update::{CreateRun, StrategySource};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Refuses a chain whose later passes' names (`{run}-hop-{n}`) would be too long for a run.
pub(super) fn check_pass_names(run: &UpdateRun) -> Result<(), AppError> {
    let Some(hop) = run.hop.as_ref().filter(|hop| hop.number == 1) else {
        return Ok(());
    };
    let last = RunHop::run_name(&hop.first_run, hop.of);
    match RunName::parse(&last) {
        Ok(_) => Ok(()),
        Err(_) => Err(AppError::invalid(
            "InvalidUpdateRunName",
            format!(
                "this run takes {} passes, one run each, and its last would be named {last}, longer than {} characters; give the run a shorter name",
                hop.of,
                RunName::MAX_LEN
            ),
        )),
    }
}

impl Drydock {
    /// Continues the chains whose passes completed: of `only` (a run that just changed), or of
    /// every fleet. How many passes it started.
    pub async fn continue_chains(&self, only: Option<(&FleetName, &RunName)>) -> usize {
        let passes = match self.runs.completed_passes(only).await {
            Ok(passes) => passes,
            Err(error) => {
                tracing::warn!(%error, "reading completed passes failed; trying again later");
                return 0;
            }
        };
        let mut started = 0;
        for (fleet, hop) in passes {
            match self.continue_chain(&fleet, &hop).await {
                Ok(true) => started += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::info!(%fleet, run = %RunHop::run_name(&hop.first_run, hop.number), code = %error.code, message = %error.message, "the next pass of a chain could not be started; trying again later");
                }
            }
        }
        started
    }

    /// Creates (if it is not there) and starts the pass after `hop`'s completed run, then
    /// links the two. A run of the next pass's name that is not this chain's is left alone.
    async fn continue_chain(&self, fleet: &FleetName, hop: &RunHop) -> Result<bool, AppError> {
        let Some(next) = hop.next() else {
            return Ok(false);
        };
        let named = |number| {
            RunName::parse(&RunHop::run_name(&hop.first_run, number))
                .map_err(|_| AppError::internal())
        };
        let (this, name) = (named(hop.number)?, named(next.number)?);
        let existing = self.runs.pass_of(fleet, &name).await;
        let started = match existing.map_err(store_error)? {
            None => {
                self.create_next_pass(fleet, &this, &name, next).await?;
                self.start_pass(fleet, &name).await?;
                true
            }
            Some((State::NotStarted, Some(pass))) if pass == next => {
                self.start_pass(fleet, &name).await?;
                true
            }
            Some((_, pass)) if pass.as_ref() != Some(&next) => {
                tracing::warn!(%fleet, run = %name, "a run has the name of a chain's next pass but is not that pass; the chain ends here");
                false
            }
            Some(_) => false,
        };
        let linked = self.runs.link_pass(fleet, &this, &name).await;
        linked.map_err(store_error)?;
        Ok(started)
    }

    /// The run of pass `next` after `this`: its members and request, as the system.
    async fn create_next_pass(
        &self,
        fleet: &FleetName,
        this: &RunName,
        name: &RunName,
        next: RunHop,
    ) -> Result<(), AppError> {
        let system = Caller::system();
        let previous = self.get_run(&system, fleet, this).await?.run;
        let only: BTreeSet<MemberName> = previous
            .members()
            .map(|m| m.name.clone())
            .chain(previous.not_in_any_stage.iter().cloned())
            .collect();
        let request = CreateRun {
            strategy: previous
                .spec
                .strategy
                .clone()
                .map_or(StrategySource::OneByOne, StrategySource::Inline),
            update: previous.spec.update.clone(),
            placement: None,
        };
        let origin = RunOrigin {
            generated_by: previous.auto_upgrade_profile_id.clone(),
            only: Some(only),
            update_strategy_id: previous.update_strategy_id.clone(),
            pass: Some(next),
            ..RunOrigin::default()
        };
        let unconditional = &Precondition::Unconditional;
        let create = self.create_run_from(&system, fleet, name, request, unconditional, origin);
        let action = format!("PUT /api/v1/fleets/{fleet}/updateRuns/{name}");
        match self
            .audited_as_system("pass chain", action, fleet, name, create)
            .await
        {
            Ok(_) => Ok(()),
            // Another replica created it first.
            Err(error) if error.code == "UpdateRunAlreadyExists" => Ok(()),
            Err(error) => Err(error),
        }
    }

    /// A later pass starts once the pass before it has completed (started early, its members
    /// still a minor short would fail it); a pass whose previous run was deleted may start.
    pub(super) async fn check_previous_pass(
        &self,
        fleet: &FleetName,
        run: &UpdateRun,
    ) -> Result<(), AppError> {
        let Some(hop) = run.hop.as_ref().filter(|hop| hop.number > 1) else {
            return Ok(());
        };
        let previous = RunHop::run_name(&hop.first_run, hop.number - 1);
        let Ok(previous) = RunName::parse(&previous) else {
            return Ok(());
        };
        let found = self.runs.pass_of(fleet, &previous).await;
        match found.map_err(store_error)? {
            Some((state, _)) if state != State::Completed => Err(AppError::conflict(
                "PreviousPassNotCompleted",
                format!(
                    "update run {} is pass {} of {}; it starts when pass {} ({previous}) has completed, which is {state:?}",
                    run.name,
                    hop.number,
                    hop.of,
                    hop.number - 1
                ),
            )),
            Some(_) | None => Ok(()),
        }
    }

    async fn start_pass(&self, fleet: &FleetName, name: &RunName) -> Result<(), AppError> {
        let system = Caller::system();
        let start = async {
            self.command_run(&system, fleet, name, Command::Start)
                .await
                .map(|_| ())
        };
        let action = format!("POST /api/v1/fleets/{fleet}/updateRuns/{name}/start");
        self.audited_as_system("pass chain", action, fleet, name, start)
            .await
    }
}

/// How long the follower gathers changes before it looks at the runs they name: a large run
/// changes many times a second, and one look at it per gathering is enough.
const GATHER: std::time::Duration = std::time::Duration::from_millis(100);

/// Continues chains until the service is dropped: the runs the runtime just changed, and every
/// fleet's every `every` (real time) and at once.
pub fn follow_chains(drydock: &Arc<Drydock>, every: std::time::Duration) {
    use tokio::sync::broadcast::error::{RecvError, TryRecvError};
    let mut changes = drydock.runtime().subscribe();
    let drydock = Arc::downgrade(drydock);
    tokio::spawn(async move {
        let mut sweeps = tokio::time::interval(every);
        sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // `None`: every fleet (the sweep, or changes missed).
            let mut changed: Option<BTreeSet<crate::runtime::RunKey>> = tokio::select! {
                first = changes.recv() => match first {
                    Ok(key) => Some(BTreeSet::from([key])),
                    Err(RecvError::Lagged(_)) => None,
                    Err(RecvError::Closed) => return,
                },
                _ = sweeps.tick() => None,
            };
            if changed.is_some() {
                tokio::time::sleep(GATHER).await;
            }
            loop {
                match changes.try_recv() {
                    Ok(key) => {
                        if let Some(keys) = changed.as_mut() {
                            keys.insert(key);
                        }
                    }
                    Err(TryRecvError::Lagged(_)) => changed = None,
                    Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                }
            }
            let Some(drydock) = drydock.upgrade() else {
                return;
            };
            let started = match changed {
                Some(keys) => {
                    let mut started = 0;
                    for (fleet, run) in &keys {
                        started += drydock.continue_chains(Some((fleet, run))).await;
                    }
                    started
                }
                None => drydock.continue_chains(None).await,
            };
            if started > 0 {
                tracing::info!(passes = started, "started the next pass of a chain");
            }
        }
    });
}
