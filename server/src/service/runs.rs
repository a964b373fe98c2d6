//! Update runs: created from a strategy (inline, stored, or none = one by one) and an update,
//! frozen by the engine, read with their status, planned against what clusters run now.

use super::strategies::strategy_not_found;
use super::{Drydock, provider_error, store_error};
use crate::provider::OperationStatus;
use crate::store::{StoreError, StoredEvent, StoredRun};
use app::engine::{Command, Reply};
use app::engine::{
    FleetSnapshot, Plan, PlanMember, PlanRejection, create_pass, create_run, replan,
};
use app::model::access::{Caller, Role};
use app::model::error::sentence;
use app::model::error::{AppError, ErrorKind};
use app::model::names::MemberName;
use app::model::names::{FleetName, RunName, StrategyName};
use app::model::precondition::Precondition;
use app::model::run::{MemberState, UpdateRun};
use app::model::update::{CreateRun, ManagedClusterUpdate, RunSpec, StrategySource};

pub(crate) fn run_not_found(fleet: &FleetName, name: &RunName) -> AppError {
    AppError::not_found(
        "UpdateRunNotFound",
        format!("Fleet {fleet} has no update run named {name}."),
    )
}

fn rejection(rejection: PlanRejection) -> AppError {
    let code = match &rejection {
        PlanRejection::InvalidStrategy(_) => "InvalidStrategy",
        PlanRejection::UnknownGroups(_) => "UnknownUpdateGroup",
        PlanRejection::OverlappingSelection(_) => "OverlappingMemberSelectors",
        PlanRejection::InvalidUpgrade(_) => "InvalidUpgrade",
        PlanRejection::VersionNotOffered(_) => "KubernetesVersionNotOffered",
    };
    AppError::invalid(code, rejection.to_string())
}

/// Where a run comes from, beyond its request: the auto-upgrade profile that generated it, the
/// members it is limited to (a catch-up run's, a later pass's), the run it catches up, and the
/// pass of a chain it is.
#[derive(Debug, Default)]
pub(crate) struct RunOrigin {
    pub generated_by: Option<String>,
    pub only: Option<std::collections::BTreeSet<MemberName>>,
    pub catch_up_of: Option<String>,
    pub pass: Option<app::model::run::RunHop>,
    /// The stored strategy an inline one was copied from (a later pass's).
    pub update_strategy_id: Option<String>,
}

/// The strategy name in `name` or `/fleets/{fleet}/updateStrategies/{name}`.
pub(crate) fn strategy_name(fleet: &FleetName, id: &str) -> Result<StrategyName, AppError> {
    let prefix = format!("/fleets/{fleet}/updateStrategies/");
    let name = id.strip_prefix(&prefix).unwrap_or(id);
    StrategyName::parse(name).map_err(|m| {
        AppError::invalid(
            "InvalidUpdateStrategyId",
            format!("updateStrategyId '{id}' names no strategy of this fleet: {m}"),
        )
    })
}

impl Drydock {
    /// Why a plan was refused. A version missing from the catalog while some provider's catalog
    /// could not be read is that provider's trouble, not the user's mistake: try again later.
    fn plan_refused(&self, refusal: PlanRejection) -> AppError {
        let missing = self.providers.catalogs_missing();
        match (&refusal, missing.first()) {
            (PlanRejection::VersionNotOffered(_), Some((provider, why))) => AppError::new(
                ErrorKind::Unavailable,
                "ProviderUnavailable",
                format!(
                    "{refusal}; the catalog of provider {provider} could not be read yet ({why}): try again shortly."
                ),
            ),
            _ => rejection(refusal),
        }
    }

    /// Members with what their clusters run now, and the catalog: what plans are made from.
    pub async fn fleet_snapshot(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetSnapshot, AppError> {
        // Who asks comes first: a fleet's existence is not news to someone with no role on it.
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        let clusters: Vec<_> = members
            .iter()
            .map(|m| m.spec.cluster_resource_id.clone())
            .collect();
        let catalog = (self.providers.catalog_for(&clusters).await).map_err(provider_error)?;
        let views = self.views(members).await;
        let members = views
            .into_iter()
            .map(|v| PlanMember {
                name: v.member.name,
                cluster_resource_id: v.member.spec.cluster_resource_id,
                group: v.member.spec.group,
                cluster: v.observed.map_err(|e| e.to_string()),
                labels: v.member.spec.labels,
            })
            .collect();
        Ok(FleetSnapshot { members, catalog })
    }

    /// Creates a run (never replaces one: a run is a record of what happened).
    pub async fn create_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        request: CreateRun,
        precondition: &Precondition,
    ) -> Result<StoredRun, AppError> {
        let origin = RunOrigin::default();
        self.create_run_from(caller, fleet, name, request, precondition, origin)
            .await
    }

    /// [`Self::create_run`], for a run of `origin`'s.
    pub(crate) async fn create_run_from(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        request: CreateRun,
        precondition: &Precondition,
        origin: RunOrigin,
    ) -> Result<StoredRun, AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        self.require_fleet(fleet).await?;
        if *precondition != Precondition::Unconditional {
            let current = self.runs.get_run(fleet, name).await.map_err(store_error)?;
            precondition.check(&format!("Update run {name}"), current.map(|r| r.etag))?;
        }
        let (strategy, strategy_id) = match request.strategy {
            StrategySource::Inline(strategy) => (Some(strategy), None),
            StrategySource::OneByOne => (None, None),
            StrategySource::Stored(id) => {
                let name = strategy_name(fleet, &id)?;
                let stored = self
                    .strategies
                    .get_strategy(fleet, &name)
                    .await
                    .map_err(store_error)?;
                // A run naming a missing strategy is a bad request (400), not a missing run.
                let stored = stored.ok_or_else(|| {
                    AppError::invalid("StrategyNotFound", strategy_not_found(fleet, &name).message)
                })?;
                (
                    Some(stored.strategy),
                    Some(format!("/fleets/{fleet}/updateStrategies/{name}")),
                )
            }
        };
        let mut snapshot = self.fleet_snapshot(caller, fleet).await?;
        if let Some(only) = &origin.only {
            snapshot.members.retain(|m| only.contains(&m.name));
        }
        let (update, placement) = match &request.placement {
            Some(asked) => (
                ManagedClusterUpdate::of_placement_run(),
                Some(self.placement_rollout(fleet, asked).await?),
            ),
            None => (request.update, None),
        };
        let spec = RunSpec {
            strategy,
            update,
            placement,
        };
        let uid = uuid::Uuid::new_v4().to_string();
        let (name_, now, engine) = (name.as_str(), self.clock.now(), &self.engine);
        let created = match origin.pass {
            Some(pass) => create_pass(name_, &uid, &snapshot, spec, pass, now, engine),
            None => create_run(name_, &uid, &snapshot, spec, now, engine),
        };
        let (mut run, _) = created.map_err(|r| self.plan_refused(r))?;
        super::chains::check_pass_names(&run)?;
        run.update_strategy_id = strategy_id.or(origin.update_strategy_id);
        run.auto_upgrade_profile_id = origin.generated_by;
        run.catch_up_of = origin.catch_up_of;
        self.runs
            .create_run(fleet, &run, self.clock.now())
            .await
            .map_err(store_error)
    }

    pub async fn get_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<StoredRun, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.runs.get_run(fleet, name).await.map_err(store_error)?;
        stored.ok_or_else(|| run_not_found(fleet, name))
    }

    /// That the caller may see the run and it exists, without reading it: an event stream
    /// checks this on every read, and a run may have 100,000 members.
    pub async fn check_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<(), AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        match self
            .runs
            .run_exists(fleet, name)
            .await
            .map_err(store_error)?
        {
            true => Ok(()),
            false => Err(run_not_found(fleet, name)),
        }
    }

    pub async fn list_runs(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<StoredRun>, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.runs.list_runs(fleet).await.map_err(store_error)
    }

    /// Deletes a run that is not in the middle of upgrading: not running or stopping, and with
    /// no upgrade still in flight (a failed run's other groups may still be finishing one).
    pub async fn delete_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        precondition: &Precondition,
    ) -> Result<bool, AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let stored = self.runs.get_run(fleet, name).await.map_err(store_error)?;
        precondition.check(
            &format!("Update run {name}"),
            stored.as_ref().map(|r| r.etag),
        )?;
        let Some(stored) = stored else {
            return Ok(false);
        };
        stored
            .run
            .deletable()
            .map_err(|why| AppError::conflict("UpdateRunActive", sentence(&why)))?;
        match self.runs.delete_run(fleet, &stored).await {
            Ok(()) => {}
            Err(StoreError::NotFound) => return Ok(false),
            Err(error) => return Err(store_error(error)),
        }
        self.runtime.forget(&(fleet.clone(), name.clone()));
        Ok(true)
    }

    /// What the run would do from here, against what its members' clusters run now.
    pub async fn run_plan(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<Plan, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        let stored = self.get_run(caller, fleet, name).await?;
        if let Some(rollout) = &stored.run.spec.placement {
            return Err(AppError::conflict(
                "NoPlanForPlacementRun",
                format!(
                    "Update run {name} rolls out placement {}: who gets what is in the placement's status (/fleets/{fleet}/placements/{}), the order in the run's stages; it has no timed plan.",
                    rollout.placement_name, rollout.placement_name
                ),
            ));
        }
        let snapshot = self.run_snapshot(&stored.run).await?;
        replan(&stored.run, &snapshot, self.clock.now(), &self.engine)
            .map_err(|r| self.plan_refused(r))
    }

    /// The run's frozen members with what their clusters run now (the run keeps its layout).
    async fn run_snapshot(&self, run: &UpdateRun) -> Result<FleetSnapshot, AppError> {
        let ids = run.cluster_ids();
        let catalog = (self.providers.catalog_for(&ids).await).map_err(provider_error)?;
        let observed = self.providers.observe(&ids).await;
        let members = run
            .members()
            .zip(observed)
            .map(|(m, cluster)| PlanMember {
                name: m.name.clone(),
                cluster_resource_id: m.cluster_resource_id.clone(),
                group: None,
                cluster: cluster.map_err(|e| e.to_string()),
                labels: Default::default(),
            })
            .collect();
        Ok(FleetSnapshot { members, catalog })
    }

    pub async fn run_events(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, AppError> {
        self.check_run(caller, fleet, name).await?;
        self.runs
            .run_events(fleet, name, after, limit)
            .await
            .map_err(store_error)
    }
}

/// What a run's page is made from.
pub struct RunForPage {
    /// The newest event the run reflects: the page's event stream starts after it.
    pub events_through: i64,
    pub run: UpdateRun,
    pub time: app::model::time::FleetTime,
    pub forecast: app::model::forecast::Forecast,
}

impl Drydock {
    /// What the run has left from `now` (see `engine::forecast`), on what its clusters run now.
    pub async fn forecast(
        &self,
        run: &UpdateRun,
        now: app::model::time::Timestamp,
    ) -> Result<app::model::forecast::Forecast, AppError> {
        let world = self.runtime.world_for(run).await?;
        Ok(app::engine::forecast(run, &world, now, &self.engine))
    }

    /// The fleet clock as a page reads it: now, and how fast fleet time runs.
    pub fn fleet_time(&self) -> app::model::time::FleetTime {
        app::model::time::FleetTime {
            now: self.clock.now(),
            scale: self.clock.scale(),
        }
    }

    /// What a run's page reads: the id of its newest event, the run, the fleet clock and the
    /// forecast. The event id is read before the run: an event after it is either in the run
    /// read next or arrives on the stream; none can fall between the two.
    pub async fn run_for_page(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<RunForPage, AppError> {
        let events_through = self
            .runs
            .last_event_id(fleet, name)
            .await
            .map_err(store_error)?;
        let run = self.get_run(caller, fleet, name).await?.run;
        let time = self.fleet_time();
        let forecast = self.forecast(&run, time.now).await?;
        Ok(RunForPage {
            events_through,
            run,
            time,
            forecast,
        })
    }

    /// How far each upgrade in flight has come, where the provider can tell.
    pub async fn progress_in_flight(
        &self,
        run: &UpdateRun,
    ) -> std::collections::BTreeMap<MemberName, app::model::target::UpgradeProgress> {
        let mut progress = std::collections::BTreeMap::new();
        for member in run.members() {
            let MemberState::Upgrading { attempt, .. } = member.state else {
                continue;
            };
            let id = app::model::run::operation_id(&run.uid, &member.name, attempt);
            if let Ok(Some(operation)) = self
                .providers
                .operation(&member.cluster_resource_id, &id)
                .await
                && let OperationStatus::Running {
                    progress: Some(p), ..
                } = operation.status
            {
                progress.insert(member.name.clone(), p);
            }
        }
        progress
    }

    /// Refuses a catalog that no longer offers a Kubernetes version some unfinished run
    /// upgrades to (its plan would break under it).
    pub async fn check_catalog_keeps_run_targets(
        &self,
        catalog: &app::model::catalog::Catalog,
    ) -> Result<(), AppError> {
        let runs = self.runs.unfinished_runs().await.map_err(store_error)?;
        let needing: Vec<String> = runs
            .iter()
            .filter_map(|(fleet, run)| {
                let version = run.spec.update.upgrade.kubernetes_version?;
                (!catalog.kubernetes_versions.contains(&version))
                    .then(|| format!("{version} (update run {} of fleet {fleet})", run.name))
            })
            .collect();
        if needing.is_empty() {
            return Ok(());
        }
        Err(AppError::conflict(
            "CatalogInUse",
            format!(
                "The catalog leaves out Kubernetes versions that unfinished runs upgrade to: {}. Keep them, or finish or delete those runs first.",
                app::model::names::in_brief(&needing)
            ),
        ))
    }
}

impl Drydock {
    /// Hands an operator command to the run's driver; answers with the engine's reply and the
    /// run as it is afterwards (what the REST API answers).
    pub async fn run_command(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        command: Command,
    ) -> Result<(Reply, StoredRun), AppError> {
        let reply = self.command_run(caller, fleet, name, command).await?;
        Ok((reply, self.get_run(caller, fleet, name).await?))
    }

    /// Hands an operator command to the run's driver; answers with the engine's reply alone,
    /// having read the run without its members (its uid and pass are in its row). The browser,
    /// gates, pass chains and auto-upgrade profiles need only the reply: reading a
    /// 100,000-member run to throw it away took ~50 ms of CPU beside the run's first steps.
    pub async fn command_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        command: Command,
    ) -> Result<Reply, AppError> {
        caller.require(Role::Operator, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let run = self
            .runs
            .get_run_without_members(fleet, name)
            .await
            .map_err(store_error)?
            .ok_or_else(|| run_not_found(fleet, name))?
            .run;
        if command == Command::Start {
            self.check_previous_pass(fleet, &run).await?;
        }
        self.runtime
            .command(&(fleet.clone(), name.clone()), &run.uid, command)
            .await
    }
}
