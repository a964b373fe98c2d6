//! The engine's read-only view of the world, answered from the provider's current view.

use crate::provider::Provider;
use app::engine::World;
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;

pub struct ProviderWorld<'a> {
    pub catalog: Catalog,
    pub provider: &'a dyn Provider,
}

impl World for ProviderWorld<'_> {
    fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn observe(&self, cluster: &ClusterResourceId) -> Result<ClusterState, String> {
        match self.provider.peek(cluster) {
            Some(observed) => observed.map_err(|e| e.to_string()),
            None => Err("the provider has not observed this cluster yet".into()),
        }
    }
}
