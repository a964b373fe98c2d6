//! The fleet overview the browser shows: one store read, one batched provider observation.

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
        let members = self.store.list_members(fleet).await.map_err(store_error)?;
        let clusters: Vec<_> = members
            .iter()
            .map(|m| m.spec.cluster_resource_id.clone())
            .collect();
        let catalog = (self.providers.catalog_for(&clusters).await).map_err(provider_error)?;
        let now = self.clock.now();
        let views = self.views(members).await;
        let joined: BTreeSet<_> = views
            .iter()
            .map(|v| v.member.spec.cluster_resource_id.clone())
            .collect();
        let upgrading: BTreeMap<_, _> = self
            .runs
            .fleet_leases(fleet)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|lease| (lease.cluster, lease.run.to_string()))
            .collect();
        let rows: Vec<MemberRow> = views
            .iter()
            .map(|v| {
                let (observed, error) = match (&v.observed, &v.last_seen) {
                    (Ok(state), _) => (Ok(ObservedCluster::new(state, &catalog, now)), None),
                    (Err(error), Some(seen)) => (
                        Ok(ObservedCluster::new(seen, &catalog, now)),
                        Some(error.to_string()),
                    ),
                    (Err(error), None) => (Err(error.to_string()), None),
                };
                let mut row = MemberRow::new(&v.member, observed);
                row.observation_error = error;
                row.provider = v.provider.clone();
                row.upgraded_by = upgrading.get(&v.member.spec.cluster_resource_id).cloned();
                row
            })
            .collect();
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
