//! The service both front doors call: REST handlers and server functions. It checks what the
//! model cannot check alone (does the fleet exist, does the cluster exist, is it joined twice),
//! talks to the store and the provider, and turns their errors into `AppError`s.

mod audit;
mod gates;
mod members;
mod overview;
mod runs;
mod strategies;
mod webhooks;

pub use gates::{GateApproval, GateFilter};
pub use members::MemberView;

use crate::clock::Clock;
use crate::provider::ProviderError;
use crate::provider::registry::Providers;
use crate::provider::simulated::SimulatedProvider;
use crate::store::{Expect, FleetStore, RunStore, StoreError, Stores, StrategyStore, WebhookStore};
use app::api::service::FleetService;
use app::engine::EngineConfig;
use app::model::access::{Caller, Role};
use app::model::error::{AppError, ErrorKind};
use app::model::member::{FleetSummary, MemberSpec};
use app::model::names::{FleetName, GroupName, MemberName, RunName, StrategyName};
use app::model::overview::FleetOverview;
use app::model::precondition::Precondition;
use std::sync::Arc;

pub struct Drydock {
    access: Arc<crate::auth::Access>,
    audit: Arc<dyn crate::store::audit::AuditStore>,
    store: Arc<dyn FleetStore>,
    strategies: Arc<dyn StrategyStore>,
    runs: Arc<dyn RunStore>,
    webhooks: Arc<dyn WebhookStore>,
    engine: EngineConfig,
    runtime: Arc<crate::runtime::Runtime>,
    /// Every provider, routed by cluster id.
    providers: Arc<Providers>,
    /// The simulator's own controls (the simulator is always one of the providers).
    simulator: Option<Arc<SimulatedProvider>>,
    clock: Arc<dyn Clock>,
}

/// Maps store failures to what a user should read; internal causes go to the log, once, here.
pub(crate) fn store_error(error: StoreError) -> AppError {
    match error {
        StoreError::NotFound => {
            AppError::not_found("ResourceNotFound", "The resource does not exist.")
        }
        StoreError::RunExists(name) => AppError::conflict(
            "UpdateRunAlreadyExists",
            format!(
                "An update run named {name} already exists; runs cannot be replaced, delete it first."
            ),
        ),
        StoreError::MemberExists(name) => AppError::conflict(
            "MemberAlreadyExists",
            format!("A member named {name} already exists in this fleet."),
        ),
        StoreError::ClusterAlreadyJoined(cluster) => AppError::conflict(
            "ClusterAlreadyMember",
            format!(
                "Cluster {cluster} is already a member of a fleet; a cluster can be a member of one fleet only."
            ),
        ),
        StoreError::ClusterBusy(cluster) => AppError::conflict(
            "ClusterBusy",
            format!("Cluster {cluster} is being upgraded by another run."),
        ),
        StoreError::Concurrent => AppError::conflict(
            "ConcurrentModification",
            "The resource changed while this request was applied. Fetch it again and retry.",
        ),
        StoreError::Corrupt(_) | StoreError::Database(_) => {
            tracing::error!(error = %error, "store operation failed");
            AppError::internal()
        }
    }
}

pub(crate) fn provider_error(error: ProviderError) -> AppError {
    match error {
        ProviderError::ClusterNotFound(id) => {
            AppError::invalid("ClusterNotFound", format!("Cluster {id} does not exist."))
        }
        ProviderError::ForeignId { id, hint } => AppError::invalid(
            "InvalidClusterResourceId",
            format!("Cluster id {id} is not one Drydock's providers understand: {hint}."),
        ),
        ProviderError::Transient { message, .. } => {
            tracing::warn!(%message, "provider unavailable");
            AppError::new(
                ErrorKind::Unavailable,
                "ProviderUnavailable",
                format!("The provider could not answer now: {message}"),
            )
        }
        ProviderError::Permanent { message } => AppError::invalid(
            "ProviderRefused",
            format!("The provider refused: {message}"),
        ),
    }
}

/// Checks a request's precondition against a resource's current etag (`None`: absent) and
/// returns what the store's write must still find when it lands.
pub(crate) fn expectation(
    precondition: &Precondition,
    what: &str,
    current: Option<i64>,
) -> Result<Expect, AppError> {
    precondition.check(what, current)?;
    Ok(match (precondition, current) {
        (Precondition::Unconditional, _) => Expect::Any,
        (_, None) => Expect::Absent,
        (_, Some(etag)) => Expect::Version(etag),
    })
}

fn fleet_not_found(fleet: &FleetName) -> AppError {
    AppError::not_found("FleetNotFound", format!("Fleet {fleet} does not exist."))
}

impl Drydock {
    pub fn new(
        stores: Stores,
        access: Arc<crate::auth::Access>,
        providers: Arc<Providers>,
        simulator: Option<Arc<SimulatedProvider>>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let engine = EngineConfig::default();
        let runtime = crate::runtime::Runtime::new(
            stores.runs.clone(),
            providers.clone(),
            clock.clone(),
            engine.clone(),
        );
        Self {
            access,
            audit: stores.audit,
            runtime,
            store: stores.fleets,
            strategies: stores.strategies,
            runs: stores.runs,
            webhooks: stores.webhooks,
            engine,
            providers,
            simulator,
            clock,
        }
    }

    /// Users, sessions and tokens: who is calling, and who may be.
    pub fn access(&self) -> &Arc<crate::auth::Access> {
        &self.access
    }

    /// Where the audit trail is written (by the web layer) and read (by `audit_log`).
    pub fn audit_store(&self) -> &Arc<dyn crate::store::audit::AuditStore> {
        &self.audit
    }

    pub fn runtime(&self) -> &Arc<crate::runtime::Runtime> {
        &self.runtime
    }

    pub fn store(&self) -> &dyn FleetStore {
        &*self.store
    }

    /// The configured providers, for a caller who may see every fleet.
    pub fn providers_for(&self, caller: &Caller) -> Result<&Providers, AppError> {
        caller.require(Role::Viewer, None)?;
        Ok(&self.providers)
    }

    /// The simulator's controls (reading them needs viewer on every fleet, changing them
    /// admin), or a 404 when Drydock runs against a real provider.
    pub fn simulator(&self, caller: &Caller, write: bool) -> Result<&SimulatedProvider, AppError> {
        caller.require(if write { Role::Admin } else { Role::Viewer }, None)?;
        self.simulator.as_deref().ok_or_else(|| {
            AppError::not_found(
                "SimulatorDisabled",
                "The simulator API exists only with the simulated provider.",
            )
        })
    }

    /// Creates the fleet if missing; `true` when created.
    pub async fn put_fleet(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<(FleetSummary, bool), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        let created = self
            .store
            .put_fleet(fleet, self.clock.now())
            .await
            .map_err(store_error)?;
        Ok((self.get_fleet(caller, fleet).await?, created))
    }

    pub async fn get_fleet(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetSummary, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.store
            .get_fleet(fleet)
            .await
            .map_err(store_error)?
            .ok_or_else(|| fleet_not_found(fleet))
    }

    /// Deletes the fleet and its members (the clusters themselves are not touched).
    /// Refused while one of its runs is upgrading a cluster: deleting the runs would release
    /// their clusters while the upgrades go on.
    pub async fn delete_fleet(&self, caller: &Caller, fleet: &FleetName) -> Result<bool, AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        let leases = self.runs.fleet_leases(fleet).await.map_err(store_error)?;
        if let Some(lease) = leases.first() {
            return Err(AppError::conflict(
                "FleetHasActiveRuns",
                format!(
                    "Fleet {fleet} cannot be deleted while {} is upgrading member {}; stop its runs and delete it once their upgrades have finished.",
                    lease.holder(),
                    lease.member
                ),
            ));
        }
        let deleted = self.store.delete_fleet(fleet).await.map_err(store_error)?;
        self.runtime.forget_fleet(fleet);
        Ok(deleted)
    }

    /// That the fleet exists (callers have been checked already).
    async fn require_fleet(&self, fleet: &FleetName) -> Result<(), AppError> {
        self.store
            .get_fleet(fleet)
            .await
            .map_err(store_error)?
            .map(|_| ())
            .ok_or_else(|| fleet_not_found(fleet))
    }
}

#[async_trait::async_trait]
impl FleetService for Drydock {
    fn fleet_time(&self) -> app::model::time::FleetTime {
        app::model::time::FleetTime {
            now: self.clock.now(),
            scale: self.clock.scale(),
        }
    }

    async fn audit(
        &self,
        caller: &Caller,
        query: app::model::audit::AuditQuery,
    ) -> Result<app::model::audit::AuditPage, AppError> {
        self.audit_log(caller, &query).await
    }

    async fn tokens(
        &self,
        caller: &Caller,
    ) -> Result<Vec<app::model::access::TokenView>, AppError> {
        let tokens = self.access.list_tokens(caller).await?;
        Ok(tokens.iter().map(crate::auth::token_view).collect())
    }

    async fn create_token(
        &self,
        caller: &Caller,
        role: Role,
        fleet: Option<FleetName>,
        expires_in_days: Option<u32>,
        description: String,
    ) -> Result<app::model::access::CreatedToken, AppError> {
        let request = crate::auth::NewToken {
            role,
            fleet,
            expires_in_days,
            description,
        };
        let (token, secret) = self.access.create_token(caller, request).await?;
        Ok(app::model::access::CreatedToken {
            token: crate::auth::token_view(&token),
            secret,
        })
    }

    async fn revoke_token(&self, caller: &Caller, id: &str) -> Result<(), AppError> {
        self.access.revoke_token(caller, id).await.map(|_| ())
    }

    /// The fleets the caller has a role on.
    async fn list_fleets(&self, caller: &Caller) -> Result<Vec<FleetSummary>, AppError> {
        if caller.is_anonymous() {
            return Err(app::model::access::unauthenticated());
        }
        let mut fleets = self.store.list_fleets().await.map_err(store_error)?;
        fleets.retain(|f| caller.sees(&f.name));
        Ok(fleets)
    }

    async fn fleet_overview(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetOverview, AppError> {
        self.overview(caller, fleet).await
    }

    async fn join_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        spec: MemberSpec,
    ) -> Result<(), AppError> {
        self.create_member(caller, fleet, name, spec)
            .await
            .map(|_| ())
    }

    async fn assign_group(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        members: &[MemberName],
        group: Option<GroupName>,
    ) -> Result<usize, AppError> {
        self.set_group(caller, fleet, members, group.as_ref()).await
    }

    async fn snapshot(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<app::engine::FleetSnapshot, AppError> {
        // Who asks comes first: a fleet's existence is not news to someone with no role on it.
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        self.fleet_snapshot(caller, fleet).await
    }

    async fn run_summaries(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<app::model::status::RunSummary>, AppError> {
        Ok(self
            .list_runs(caller, fleet)
            .await?
            .iter()
            .map(|r| r.run.summary())
            .collect())
    }

    async fn run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::UpdateRun, AppError> {
        Ok(self.get_run(caller, fleet, name).await?.run)
    }

    async fn run_view(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::RunView, AppError> {
        // The event id is read before the run: an event after it is either in the run read
        // next or arrives on the stream; none can fall between the two.
        let events_through = self
            .runs
            .last_event_id(fleet, name)
            .await
            .map_err(store_error)?;
        let run = self.get_run(caller, fleet, name).await?.run;
        let time = self.fleet_time();
        let forecast = self.forecast(&run, time.now).await?;
        Ok(app::model::run::RunView {
            run,
            time,
            events_through,
            forecast,
        })
    }

    async fn run_progress(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::model::run::RunProgress, AppError> {
        let run = self.get_run(caller, fleet, name).await?.run;
        Ok(app::model::run::RunProgress {
            time: self.fleet_time(),
            members: self.progress_in_flight(&run).await,
        })
    }

    async fn new_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        request: app::model::update::CreateRun,
    ) -> Result<(), AppError> {
        self.create_run(caller, fleet, name, request, &Precondition::Unconditional)
            .await
            .map(|_| ())
    }

    async fn command(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
        command: app::engine::Command,
    ) -> Result<app::engine::Reply, AppError> {
        Ok(self.run_command(caller, fleet, name, command).await?.0)
    }

    async fn plan(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<app::engine::Plan, AppError> {
        self.run_plan(caller, fleet, name).await
    }

    async fn strategies(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<(StrategyName, app::model::strategy::UpdateStrategy)>, AppError> {
        Ok(self
            .list_strategies(caller, fleet)
            .await?
            .into_iter()
            .map(|s| (s.name, s.strategy))
            .collect())
    }

    async fn save_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
        strategy: app::model::strategy::UpdateStrategy,
        replace: bool,
    ) -> Result<(), AppError> {
        let precondition = if replace {
            Precondition::Unconditional
        } else {
            Precondition::Absent
        };
        match self
            .put_strategy(caller, fleet, name, strategy, &precondition)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if error.kind == ErrorKind::PreconditionFailed => Err(AppError::conflict(
                "StrategyAlreadyExists",
                format!(
                    "Fleet {fleet} already has an update strategy named {name}; save with replace to overwrite it (runs created from it keep their copy)."
                ),
            )),
            Err(error) => Err(error),
        }
    }

    async fn remove_run(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &RunName,
    ) -> Result<(), AppError> {
        match self
            .delete_run(caller, fleet, name, &Precondition::Unconditional)
            .await?
        {
            true => Ok(()),
            false => Err(runs::run_not_found(fleet, name)),
        }
    }

    async fn waiting_gates(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<Vec<app::model::gate::GateResource>, AppError> {
        let filter = GateFilter {
            state: Some(app::model::run::State::Pending),
            gate_type: Some(app::model::gate::GateType::Approval),
            run: None,
        };
        let mut gates: Vec<_> = self
            .list_gates(caller, fleet, &filter)
            .await?
            .into_iter()
            .filter(|g| g.properties.reached_time.is_some())
            .collect();
        gates.sort_by_key(|g| g.properties.reached_time);
        Ok(gates)
    }

    async fn approve_gate(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        gate: &str,
        comment: Option<String>,
        confirm: bool,
    ) -> Result<app::engine::Reply, AppError> {
        let approval = GateApproval { comment, confirm };
        let approved = Drydock::approve_gate(
            self,
            caller,
            fleet,
            gate,
            approval,
            &Precondition::Unconditional,
        );
        Ok(approved.await?.0)
    }

    async fn remove_strategy(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &StrategyName,
    ) -> Result<(), AppError> {
        match self
            .delete_strategy(caller, fleet, name, &Precondition::Unconditional)
            .await?
        {
            true => Ok(()),
            false => Err(strategies::strategy_not_found(fleet, name)),
        }
    }

    async fn remove_member(
        &self,
        caller: &Caller,
        fleet: &FleetName,
        name: &MemberName,
        force: bool,
    ) -> Result<(), AppError> {
        caller.require(Role::Admin, Some(fleet))?;
        self.require_fleet(fleet).await?;
        match self
            .delete_member(caller, fleet, name, force, &Precondition::Unconditional)
            .await?
        {
            true => Ok(()),
            false => Err(members::member_not_found(fleet, name)),
        }
    }
}
