//! The engine's read-only view of the world, answered from the provider's current view and the
//! store's cluster leases.

use crate::provider::Provider;
use app::engine::World;
use app::model::catalog::Catalog;
use app::model::cluster::ClusterState;
use app::model::member::ClusterResourceId;
use std::collections::HashMap;

pub struct ProviderWorld<'a> {
    pub catalog: Catalog,
    pub provider: &'a dyn Provider,
    /// Clusters other runs are upgrading now, with who (read just before the decision; the
    /// store refuses to commit a decision that took one meanwhile).
    pub holders: HashMap<ClusterResourceId, String>,
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

    fn holder(&self, cluster: &ClusterResourceId) -> Option<String> {
        self.holders.get(cluster).cloned()
    }
}
