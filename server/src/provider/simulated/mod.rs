//! The simulated provider: a seeded, persisted world of clusters and a release catalog. It is the
//! embedded default, for demos and tests. State lives in memory for fast reads and is written
//! through to the store first, so a restart finds the world as it was.

pub mod generate;
pub mod rng;

use super::{Provider, ProviderError};
use crate::store::{SimulatorStore, StoreError};
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

struct World {
    catalog: Catalog,
    clusters: BTreeMap<ClusterName, ClusterState>,
}

pub struct SimulatedProvider {
    world: RwLock<World>,
    /// Serializes writers so the store and memory change in the same order.
    writes: tokio::sync::Mutex<()>,
    store: Arc<dyn SimulatorStore>,
}

const FOREIGN_HINT: &str = "the simulated provider names clusters sim:{name}";

impl SimulatedProvider {
    /// Loads the persisted world, generating the catalog from `seed` on first start.
    pub async fn open(store: Arc<dyn SimulatorStore>, seed: u64) -> Result<Self, StoreError> {
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
        };
        Ok(Self {
            world: RwLock::new(world),
            writes: tokio::sync::Mutex::new(()),
            store,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, World> {
        // A panic while holding the lock cannot leave the world half-written (writes replace
        // whole values), so a poisoned lock is still safe to read.
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

    /// Replaces the catalog. Clusters keep running what they run, even if it is no longer offered.
    pub async fn put_catalog(&self, catalog: Catalog) -> Result<Catalog, SimulatorError> {
        let catalog = catalog.normalized().map_err(SimulatorError::Invalid)?;
        let _guard = self.writes.lock().await;
        self.store.save_catalog(&catalog).await?;
        self.write(|world| world.catalog = catalog.clone());
        Ok(catalog)
    }

    pub fn cluster(&self, name: &ClusterName) -> Option<ClusterState> {
        self.read().clusters.get(name).cloned()
    }

    pub fn clusters(&self) -> Vec<(ClusterName, ClusterState)> {
        self.read()
            .clusters
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect()
    }

    /// Creates or replaces a cluster; `true` when it was created.
    pub async fn put_cluster(
        &self,
        name: &ClusterName,
        state: ClusterState,
    ) -> Result<bool, SimulatorError> {
        state.validate().map_err(SimulatorError::Invalid)?;
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
        self.store.save_cluster(name, &state).await?;
        let mut created = false;
        self.write(|world| created = world.clusters.insert(name.clone(), state).is_none());
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
            .cloned()
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

    async fn known_clusters(&self) -> Result<Vec<ClusterResourceId>, ProviderError> {
        Ok(self
            .read()
            .clusters
            .keys()
            .map(ClusterResourceId::simulated)
            .collect())
    }
}
