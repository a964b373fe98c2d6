//! The simulated provider: a seeded, persisted world of clusters, a release catalog and the
//! upgrade operations it performs. It is the embedded default, for demos and tests. State lives
//! in memory for fast reads and is written through to the store first, so a restart finds the
//! world as it was, operations in flight included.

pub mod generate;
mod operations;
pub mod rng;

use super::{Operation, Provider, ProviderError, UpgradeRequest};
use crate::clock::Clock;
use crate::store::{SimCluster, SimOperation, SimulatorStore, StoreError};
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

/// Failures to inject into a cluster's operations.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Faults {
    pub fail_next: bool,
    pub failure_rate: f64,
}

struct World {
    catalog: Catalog,
    clusters: BTreeMap<ClusterName, SimCluster>,
    operations: BTreeMap<String, SimOperation>,
}

pub struct SimulatedProvider {
    world: RwLock<World>,
    /// Serializes writers so the store and memory change in the same order.
    writes: tokio::sync::Mutex<()>,
    store: Arc<dyn SimulatorStore>,
    clock: Arc<dyn Clock>,
    durations: DurationModel,
    seed: u64,
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
        };
        Ok(Self {
            world: RwLock::new(world),
            writes: tokio::sync::Mutex::new(()),
            store,
            clock,
            durations,
            seed,
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

    pub fn current_catalog(&self) -> Catalog {
        self.read().catalog.clone()
    }

    /// Replaces the catalog. Clusters keep running what they run, even if it is no longer
    /// offered, but every region a cluster is in must stay (its node images come from there).
    pub async fn put_catalog(&self, catalog: Catalog) -> Result<Catalog, SimulatorError> {
        let catalog = catalog.normalized().map_err(SimulatorError::Invalid)?;
        let _guard = self.writes.lock().await;
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
        if !(0.0..=1.0).contains(&faults.failure_rate) {
            return Err(SimulatorError::Invalid(
                "failureRate must be between 0 and 1".into(),
            ));
        }
        let _guard = self.writes.lock().await;
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
            state,
            fail_next: faults.fail_next,
            failure_rate: faults.failure_rate,
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

    fn observe_one(world: &World, id: &ClusterResourceId) -> Result<ClusterState, ProviderError> {
        let name = id.as_simulated().ok_or_else(|| ProviderError::ForeignId {
            id: id.clone(),
            hint: FOREIGN_HINT,
        })?;
        world
            .clusters
            .get(&name)
            .map(|c| c.state.clone())
            .ok_or_else(|| ProviderError::ClusterNotFound(id.clone()))
    }
}

#[async_trait::async_trait]
impl Provider for SimulatedProvider {
    fn kind(&self) -> &'static str {
        "simulated"
    }

    async fn catalog(&self) -> Result<Catalog, ProviderError> {
        Ok(self.current_catalog())
    }

    async fn observe(
        &self,
        clusters: &[ClusterResourceId],
    ) -> Vec<Result<ClusterState, ProviderError>> {
        let world = self.read();
        clusters
            .iter()
            .map(|id| Self::observe_one(&world, id))
            .collect()
    }

    fn peek(&self, cluster: &ClusterResourceId) -> Option<Result<ClusterState, ProviderError>> {
        Some(Self::observe_one(&self.read(), cluster))
    }

    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError> {
        Ok(self
            .read()
            .clusters
            .keys()
            .map(ClusterResourceId::simulated)
            .collect())
    }

    async fn start_upgrade(&self, request: &UpgradeRequest) -> Result<Operation, ProviderError> {
        self.start(request).await
    }

    async fn operation(&self, operation_id: &str) -> Result<Option<Operation>, ProviderError> {
        self.status(operation_id).await
    }
}
