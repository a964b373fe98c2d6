//! The simulated provider: a seeded, persisted world of clusters, a release catalog and the
//! upgrade operations it performs. It is the embedded default, for demos and tests. The world
//! lives in the store, so a restart finds it as it was (operations in flight included) and
//! replicas sharing a database share it; each server keeps a copy in memory for fast reads and
//! brings it up to date with the store's numbered changes before every provider call (and in the
//! background, for the simulator's own API).

pub mod generate;
mod operations;
pub mod releases;
mod resources;
pub mod rng;

use super::{Operation, OperationRef, Policy, Provider, ProviderError, UpgradeRequest};
use crate::clock::Clock;
pub use crate::store::Faults;
use crate::store::{SimChange, SimCluster, SimOperation, SimulatorStore, StoreError};
use app::engine::DurationModel;
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use app::model::names::ClusterName;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    #[error("{0}")]
    Invalid(String),
    /// The change clashes with what exists (clusters in a region the catalog would drop).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct World {
    catalog: Catalog,
    clusters: BTreeMap<ClusterName, SimCluster>,
    operations: BTreeMap<String, SimOperation>,
    /// The number of the last stored change this copy holds.
    synced: i64,
}

impl World {
    /// This copy wrote change `change` (and holds what it wrote): when no other change came
    /// between, it need not be read back.
    fn wrote(&mut self, change: i64) {
        if change == self.synced + 1 {
            self.synced = change;
        }
    }

    fn take(&mut self, change: SimChange) {
        match change {
            SimChange::Catalog(catalog) => self.catalog = catalog,
            SimChange::Cluster(name, cluster) => {
                self.clusters.insert(name, cluster);
            }
            SimChange::Removed(name) => {
                self.clusters.remove(&name);
            }
            SimChange::Operation(op) => {
                self.operations.insert(op.operation_id.clone(), op);
            }
        }
    }
}

/// How often the simulator's copy of the world is brought up to date when no call asks.
const SYNC_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// How old other servers' changes may be in this copy when a provider call reads it.
const FRESH: std::time::Duration = std::time::Duration::from_millis(100);

pub struct SimulatedProvider {
    world: RwLock<World>,
    /// Serializes writers so the store and memory change in the same order.
    writes: tokio::sync::Mutex<()>,
    store: Arc<dyn SimulatorStore>,
    clock: Arc<dyn Clock>,
    durations: DurationModel,
    seed: u64,
    policy: Policy,
    /// Calls answered so far: what transient failures are drawn against.
    calls: std::sync::atomic::AtomicU64,
    /// Calls per verb, as every provider counts them.
    counts: crate::provider::CallCounts,
    /// When this copy was last brought up to date with the store.
    last_sync: std::sync::Mutex<Option<std::time::Instant>>,
}

const FOREIGN_HINT: &str = "the simulated provider names clusters sim:{name}";

impl SimulatedProvider {
    /// Loads the persisted world, generating the catalog from `seed` on first start.
    pub async fn open(
        store: Arc<dyn SimulatorStore>,
        seed: u64,
        clock: Arc<dyn Clock>,
        durations: DurationModel,
    ) -> Result<Self, StoreError> {
        let snapshot = store.load_simulator().await?;
        let catalog = match snapshot.catalog {
            Some(catalog) => catalog,
            None => {
                let catalog = generate::catalog(seed);
                store.save_catalog(&catalog).await?;
                catalog
            }
        };
        let world = World {
            catalog,
            clusters: snapshot.clusters.into_iter().collect(),
            operations: snapshot
                .operations
                .into_iter()
                .map(|op| (op.operation_id.clone(), op))
                .collect(),
            synced: snapshot.last_change,
        };
        Ok(Self {
            world: RwLock::new(world),
            writes: tokio::sync::Mutex::new(()),
            store,
            clock,
            durations,
            seed,
            policy: Policy {
                // Running operations say exactly when to look again; this is a fallback.
                poll_interval: std::time::Duration::from_secs(2),
                // Observations are in memory: always fresh.
                observation_ttl: std::time::Duration::ZERO,
                // Its largest pools take hours of fleet time.
                attempt_timeout: std::time::Duration::from_secs(24 * 3600),
                // In-process and cheap to ask: its faults pass as fast as fleet time runs.
                backoff_cap: std::time::Duration::from_secs(5),
            },
            calls: std::sync::atomic::AtomicU64::new(0),
            counts: crate::provider::CallCounts::default(),
            last_sync: std::sync::Mutex::new(None),
        })
    }

    /// Brings this copy of the world up to date with the store (other servers' changes, and
    /// this one's).
    pub async fn sync(&self) -> Result<(), StoreError> {
        *self.last_sync.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::time::Instant::now());
        let after = self.read().synced;
        let Some(changes) = self.store.simulator_changes(after).await? else {
            return Ok(());
        };
        self.write(|world| {
            for (number, change) in changes.changes {
                if number > world.synced {
                    world.take(change);
                }
            }
            world.synced = world.synced.max(changes.last_change);
        });
        Ok(())
    }

    /// Keeps this copy of the world up to date in the background while the simulator lives.
    pub fn keep_in_sync(self: &Arc<Self>) {
        let simulator = Arc::downgrade(self);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SYNC_EVERY).await;
                let Some(simulator) = simulator.upgrade() else {
                    return;
                };
                if let Err(error) = simulator.sync().await {
                    tracing::warn!(%error, "reading the simulated world's changes failed");
                }
            }
        });
    }

    /// `sync` unless this copy was brought up to date in the last `FRESH`, failing as a
    /// provider does when it cannot answer now. (What this server changes is in its copy at
    /// once; only other servers' changes can be that much late.)
    async fn synced(&self) -> Result<(), ProviderError> {
        let last = *self.last_sync.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_some_and(|at| at.elapsed() < FRESH) {
            return Ok(());
        }
        self.sync().await.map_err(|error| {
            ProviderError::transient(format!("the simulator could not read its world: {error}"))
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, World> {
        // Writers replace whole values, so a lock poisoned by a panic still holds a whole world.
        self.world
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self, change: impl FnOnce(&mut World)) {
        let mut world = self
            .world
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        change(&mut world);
    }

    /// The seed the world was generated from (its release train draws from it too).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn current_catalog(&self) -> Catalog {
        self.read().catalog.clone()
    }

    /// Replaces the catalog. Clusters keep running what they run, even if it is no longer
    /// offered, but every region a cluster is in must stay (its node images come from there).
    pub async fn put_catalog(&self, catalog: Catalog) -> Result<Catalog, SimulatorError> {
        let catalog = catalog.normalized().map_err(SimulatorError::Invalid)?;
        let _guard = self.writes.lock().await;
        self.sync().await?;
        let mut stranded: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, cluster) in &self.read().clusters {
            if !catalog.has_region(&cluster.state.location) {
                stranded
                    .entry(cluster.state.location.to_string())
                    .or_default()
                    .push(name.to_string());
            }
        }
        if let Some((region, clusters)) = stranded.into_iter().next() {
            return Err(SimulatorError::Conflict(format!(
                "the catalog leaves out region {region}, where clusters {} run; keep the region or delete those clusters first",
                app::model::names::in_brief(&clusters)
            )));
        }
        self.store.save_catalog(&catalog).await?;
        self.write(|world| world.catalog = catalog.clone());
        Ok(catalog)
    }

    pub fn cluster(&self, name: &ClusterName) -> Option<SimCluster> {
        self.read().clusters.get(name).cloned()
    }

    pub fn clusters(&self) -> Vec<(ClusterName, SimCluster)> {
        self.read()
            .clusters
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect()
    }

    /// Creates or replaces a cluster; `true` when it was created.
    pub async fn put_cluster(
        &self,
        name: &ClusterName,
        state: ClusterState,
        faults: Faults,
    ) -> Result<bool, SimulatorError> {
        state.validate().map_err(SimulatorError::Invalid)?;
        for (field, rate) in [
            ("failureRate", faults.failure_rate),
            ("transientErrorRate", faults.transient_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(SimulatorError::Invalid(format!(
                    "{field} must be between 0 and 1"
                )));
            }
        }
        let _guard = self.writes.lock().await;
        self.sync().await?;
        if !self.read().catalog.has_region(&state.location) {
            let regions: Vec<String> = self
                .read()
                .catalog
                .regions()
                .map(ToString::to_string)
                .collect();
            return Err(SimulatorError::Invalid(format!(
                "region {} is not in the simulator's catalog (it has {})",
                state.location,
                regions.join(", ")
            )));
        }
        let cluster = SimCluster {
            state: Arc::new(state),
            faults,
        };
        self.store.save_cluster(name, &cluster).await?;
        let mut created = false;
        self.write(|world| created = world.clusters.insert(name.clone(), cluster).is_none());
        Ok(created)
    }

    pub async fn delete_cluster(&self, name: &ClusterName) -> Result<bool, SimulatorError> {
        let _guard = self.writes.lock().await;
        let existed = self.store.delete_cluster(name).await?;
        self.write(|world| {
            world.clusters.remove(name);
        });
        Ok(existed)
    }

    fn observe_one(
        &self,
        world: &World,
        id: &ClusterResourceId,
    ) -> Result<Arc<ClusterState>, ProviderError> {
        let name = id.as_simulated().ok_or_else(|| ProviderError::ForeignId {
            id: id.clone(),
            hint: FOREIGN_HINT.into(),
        })?;
        let cluster = world
            .clusters
            .get(&name)
            .ok_or_else(|| ProviderError::ClusterNotFound(id.clone()))?;
        self.answers(&cluster.faults)?;
        Ok(cluster.state.clone())
    }

    /// Whether a call about a cluster with these faults is answered, or fails for now.
    fn answers(&self, faults: &Faults) -> Result<(), ProviderError> {
        if faults.unreachable {
            return Err(ProviderError::transient(
                "the cluster's API server is unreachable (simulated)",
            ));
        }
        if faults.transient_rate > 0.0 {
            let call = self
                .calls
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if self.draw(&format!("call-{call}")) < faults.transient_rate {
                return Err(ProviderError::Transient {
                    message: "the provider is throttling requests (simulated)".into(),
                    retry_after: Some(std::time::Duration::from_millis(200)),
                });
            }
        }
        Ok(())
    }

    /// Whether a call about `id` is answered now: not for a cluster that is gone (as a real
    /// provider answers 404 for an operation on a deleted cluster), nor when its faults say so.
    fn answers_for(&self, id: &ClusterResourceId) -> Result<(), ProviderError> {
        let Some(name) = id.as_simulated() else {
            return Err(ProviderError::ForeignId {
                id: id.clone(),
                hint: FOREIGN_HINT.into(),
            });
        };
        let faults = self.read().clusters.get(&name).map(|c| c.faults);
        match faults {
            None => Err(ProviderError::ClusterNotFound(id.clone())),
            Some(faults) => self.answers(&faults),
        }
    }
}

#[async_trait::async_trait]
impl Provider for SimulatedProvider {
    fn name(&self) -> &str {
        "sim"
    }

    fn kind(&self) -> &'static str {
        "simulated"
    }

    fn owns(&self, cluster: &ClusterResourceId) -> bool {
        cluster
            .as_str()
            .starts_with(ClusterResourceId::SIMULATED_PREFIX)
    }

    fn id_form(&self) -> String {
        format!("{}{{cluster}}", ClusterResourceId::SIMULATED_PREFIX)
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }

    fn calls(&self) -> std::collections::BTreeMap<&'static str, u64> {
        self.counts.snapshot()
    }

    async fn catalog(&self) -> Result<Catalog, ProviderError> {
        self.counts.add("catalog");
        self.synced().await?;
        Ok(self.current_catalog())
    }

    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>> {
        crate::provider::owned(self.observe_shared(clusters).await)
    }

    async fn observe_shared(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<Arc<ClusterState>, ProviderError>> {
        self.counts.add("observe");
        if let Err(error) = self.synced().await {
            return clusters.iter().map(|_| Err(error.clone())).collect();
        }
        let world = self.read();
        clusters
            .iter()
            .map(|id| self.observe_one(&world, id))
            .collect()
    }

    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError> {
        self.counts.add("list");
        self.synced().await?;
        Ok(self
            .read()
            .clusters
            .keys()
            .map(ClusterResourceId::simulated)
            .collect())
    }

    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError> {
        let answers = self.start_upgrades(std::slice::from_ref(request)).await;
        answers
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(ProviderError::transient("no answer")))
    }

    async fn operation(
        &self,
        cluster: &ClusterResourceId,
        operation_id: &str,
    ) -> Result<Option<Operation>, ProviderError> {
        let asked = OperationRef {
            cluster: cluster.clone(),
            operation_id: operation_id.to_owned(),
        };
        let answers = Provider::operations(self, std::slice::from_ref(&asked)).await;
        answers
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(ProviderError::transient("no answer")))
    }

    async fn apply_resources(
        &self,
        request: &crate::provider::ResourceApply,
    ) -> Result<crate::provider::AppliedResources, ProviderError> {
        self.counts.add("apply-resources");
        self.apply_objects(request).await
    }

    async fn observe_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<crate::provider::AppliedResources, ProviderError> {
        self.counts.add("observe-resources");
        self.observe_objects(cluster, owner).await
    }

    async fn delete_resources(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<(), ProviderError> {
        self.counts.add("delete-resources");
        self.delete_objects(cluster, owner).await
    }

    /// One call per request, as counted; one transaction for all of them.
    async fn start_upgrades(
        &self,
        requests: &[UpgradeRequest],
    ) -> Vec<Result<Operation, ProviderError>> {
        for _ in requests {
            self.counts.add("start-upgrade");
        }
        self.start(requests).await
    }

    async fn operations(
        &self,
        asked: &[OperationRef],
    ) -> Vec<Result<Option<Operation>, ProviderError>> {
        for _ in asked {
            self.counts.add("operation-status");
        }
        self.status(asked).await
    }
}
