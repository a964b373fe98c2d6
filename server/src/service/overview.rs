//! The fleet overview the browser shows: the fleet's members (kept while no member changes),
//! one batched provider observation, shared rather than copied.

use super::{Drydock, provider_error, store_error};
use app::model::access::{Caller, Role};
use app::model::error::AppError;
use app::model::names::FleetName;
use app::model::overview::{
    FleetOverview, MemberRow, ObservedCluster, group_summaries, kubernetes_distribution,
    node_image_distribution,
};
use std::collections::{BTreeMap, BTreeSet};

impl Drydock {
    pub async fn overview(
        &self,
        caller: &Caller,
        fleet: &FleetName,
    ) -> Result<FleetOverview, AppError> {
        caller.require(Role::Viewer, Some(fleet))?;
        self.require_fleet(fleet).await?;
        let members = self.store.members(fleet).await.map_err(store_error)?;
        let clusters: Vec<_> = members
            .iter()
            .map(|m| m.spec.cluster_resource_id.clone())
            .collect();
        let catalog = (self.providers.catalog_for(&clusters).await).map_err(provider_error)?;
        let now = self.clock.now();
        let observed = self.runtime.observe_shared(&clusters).await;
        let upgrading: BTreeMap<_, _> = self
            .runs
            .fleet_leases(fleet)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|lease| (lease.cluster, lease.run.to_string()))
            .collect();
        let rows: Vec<MemberRow> = members
            .iter()
            .zip(&observed)
            .map(|(member, (observed, last_seen))| {
                let (observed, error) = match (observed, last_seen) {
                    (Ok(state), _) => (Ok(ObservedCluster::new(state, &catalog, now)), None),
                    (Err(error), Some(seen)) => (
                        Ok(ObservedCluster::new(seen, &catalog, now)),
                        Some(error.to_string()),
                    ),
                    (Err(error), None) => (Err(error.to_string()), None),
                };
                let cluster = &member.spec.cluster_resource_id;
                let mut row = MemberRow::new(member, observed);
                row.observation_error = error;
                row.provider = self.providers.provider_of(cluster);
                row.upgraded_by = upgrading.get(cluster).cloned();
                row
            })
            .collect();
        let joined: BTreeSet<_> = clusters.into_iter().collect();
        let joinable_clusters = self
            .providers
            .known_clusters()
            .await
            .into_iter()
            .filter(|id| !joined.contains(id))
            .collect();
        Ok(FleetOverview {
            fleet: fleet.clone(),
            now,
            scale: self.clock.scale(),
            groups: group_summaries(&rows),
            kubernetes_versions: kubernetes_distribution(&rows, &catalog),
            node_images: node_image_distribution(&rows, &catalog),
            total_members: rows.len(),
            matching: rows.len(),
            members: rows,
            joinable_clusters,
        })
    }
}
