//! The service both front doors call: REST handlers and server functions. It checks what the
//! model cannot check alone (does the fleet exist, does the cluster exist, is it joined twice),
//! talks to the store and the provider, and turns their errors into `AppError`s.

mod audit;
mod auto_upgrade;
mod browser;
mod catch_up;
mod chains;
mod drift;
mod gates;
mod given;
mod members;
mod overrides;
mod overview;
mod placement_runs;
mod placements;
mod resources;
mod rollouts;
mod runs;
mod strategies;
mod webhooks;

pub use auto_upgrade::{Trigger, Triggered, profile_id, schedule_auto_upgrades};
pub use chains::follow_chains;
pub use drift::{DriftSeen, schedule_drift_checks};
pub use gates::{GateApproval, GateFilter};
pub use members::MemberView;
pub use placements::PlacementView;
pub use resources::{BundleInput, read_bundle, snapshot_info};
pub use rollouts::{RolloutPass, schedule_rollouts};

use crate::clock::Clock;
use crate::provider::ProviderError;
use crate::provider::registry::Providers;
use crate::provider::simulated::SimulatedProvider;
use crate::store::{Expect, FleetStore, RunStore, StoreError, Stores, StrategyStore, WebhookStore};
use app::engine::EngineConfig;
use app::model::access::{Caller, Role};
use app::model::error::{AppError, ErrorKind};
use app::model::member::FleetSummary;
use app::model::names::FleetName;
use app::model::precondition::Precondition;
use std::sync::Arc;

pub struct Drydock {
    access: Arc<crate::auth::Access>,
    audit: Arc<dyn crate::store::audit::AuditStore>,
    health: Arc<dyn crate::store::HealthStore>,
    store: Arc<dyn FleetStore>,
    strategies: Arc<dyn StrategyStore>,
    profiles: Arc<dyn crate::store::AutoUpgradeStore>,
    resources: Arc<dyn crate::store::ResourceStore>,
    placements: Arc<dyn crate::store::PlacementStore>,
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

/// Runs `pass` every `every` (real time, a late tick delayed rather than bunched) until the
/// service is dropped: the background passes (auto-upgrades, rollouts, drift) on every replica.
pub(crate) fn every_while_alive<F, Fut>(drydock: &Arc<Drydock>, every: std::time::Duration, pass: F)
where
    F: Fn(Arc<Drydock>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let drydock = Arc::downgrade(drydock);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(drydock) = drydock.upgrade() else {
                return;
            };
            pass(drydock).await;
        }
    });
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
        StoreError::NotDriving => AppError::new(
            app::model::error::ErrorKind::Unavailable,
            "RunDriverChanged",
            "Another Drydock server took this run over while the request was applied; send it again.",
        ),
        StoreError::Corrupt(_) | StoreError::Setup(_) | StoreError::Database(_) => {
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
        replica: String,
    ) -> Self {
        let engine = EngineConfig::default();
        let reader = placement_runs::PlacementReader {
            fleets: stores.fleets.clone(),
            resources: stores.resources.clone(),
            placements: stores.placements.clone(),
        };
        let runtime = crate::runtime::Runtime::new(
            stores.runs.clone(),
            providers.clone(),
            clock.clone(),
            engine.clone(),
            replica,
            Some(Arc::new(reader)),
        );
        Self {
            access,
            audit: stores.audit,
            health: stores.health,
            runtime,
            store: stores.fleets,
            strategies: stores.strategies,
            profiles: stores.profiles,
            resources: stores.resources,
            placements: stores.placements,
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
    pub fn health(&self) -> &Arc<dyn crate::store::HealthStore> {
        &self.health
    }

    pub fn audit_store(&self) -> &Arc<dyn crate::store::audit::AuditStore> {
        &self.audit
    }

    pub fn runtime(&self) -> &Arc<crate::runtime::Runtime> {
        &self.runtime
    }

    /// Fleet time now.
    pub fn now(&self) -> app::model::time::Timestamp {
        self.clock.now()
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

    /// The fleets the caller has a role on.
    pub async fn list_fleets(&self, caller: &Caller) -> Result<Vec<FleetSummary>, AppError> {
        if caller.is_anonymous() {
            return Err(app::model::access::unauthenticated());
        }
        let mut fleets = self.store.list_fleets().await.map_err(store_error)?;
        fleets.retain(|f| caller.sees(&f.name));
        Ok(fleets)
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
        // Placed objects go first: a deleted fleet leaves nothing of its own on clusters.
        let placements = self.placements.list_placements(fleet).await;
        for placement in placements.map_err(store_error)? {
            self.remove_placed_objects(fleet, &placement.name).await?;
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
