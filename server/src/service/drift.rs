//! Drift: objects changed on a member's cluster by hand since Drydock applied them (KubeFleet's
//! drift detection). Every `--drift-interval-seconds`, each placement's members whose objects
//! are available are asked what their cluster holds; what the provider reports as drifted is
//! recorded with the member, so the placement's status says which objects changed and counts
//! the drifted members. Drift is reported, not mended: the objects are given again with the next
//! revision (a new snapshot or override), as KubeFleet's `IfNotDrifted` leaves them.

use super::{Drydock, store_error};
use app::engine::{AppliedRecord, MemberPlacementState};
use app::model::error::AppError;
use app::model::member::ClusterResourceId;
use app::model::names::{FleetName, PlacementName};
use std::collections::HashMap;

/// Members whose drift changed at one look, by placement.
pub type DriftSeen = Vec<(FleetName, PlacementName, Vec<String>)>;

impl Drydock {
    /// One look at every placement's available members (see the module's documentation).
    pub async fn check_drift(&self) -> Result<DriftSeen, AppError> {
        let mut seen = Vec::new();
        for fleet in self.store.list_fleets().await.map_err(store_error)? {
            let fleet = fleet.name;
            let placements = self.placements.list_placements(&fleet).await;
            let placements = placements.map_err(store_error)?;
            if placements.is_empty() {
                continue;
            }
            let members = self.store.list_members(&fleet).await.map_err(store_error)?;
            let clusters: HashMap<String, ClusterResourceId> = members
                .into_iter()
                .map(|m| (m.name.to_string(), m.spec.cluster_resource_id))
                .collect();
            for placement in placements {
                let changed = self.drift_of(&fleet, &placement.name, &clusters).await?;
                if !changed.is_empty() {
                    seen.push((fleet.clone(), placement.name, changed));
                }
            }
        }
        Ok(seen)
    }

    /// Looks at one placement's available members; the members whose drift changed.
    async fn drift_of(
        &self,
        fleet: &FleetName,
        placement: &PlacementName,
        clusters: &HashMap<String, ClusterResourceId>,
    ) -> Result<Vec<String>, AppError> {
        let owner = format!("{fleet}/{placement}");
        let records = self.placements.placement_members(fleet, placement).await;
        let mut changed = Vec::new();
        for (member, record) in records.map_err(store_error)? {
            if record.state != MemberPlacementState::Available {
                continue;
            }
            let Some(cluster) = clusters.get(&member) else {
                continue;
            };
            // A cluster that cannot answer now is asked again at the next look.
            let Ok(held) = self.providers.observe_resources(cluster, &owner).await else {
                continue;
            };
            // Another revision there is the rollout's business, not drift.
            if held.revision.as_deref() != Some(record.revision.as_str())
                || held.drifted == record.drifted
            {
                continue;
            }
            let record = AppliedRecord {
                drifted: held.drifted,
                ..record
            };
            let recorded = self
                .placements
                .record_placement_member(fleet, placement, &member, &record);
            recorded.await.map_err(store_error)?;
            changed.push(member);
        }
        Ok(changed)
    }
}

/// Looks for drift every `every` (real time) until the service is dropped.
pub fn schedule_drift_checks(drydock: &std::sync::Arc<Drydock>, every: std::time::Duration) {
    super::every_while_alive(drydock, every, |drydock| async move {
        match drydock.check_drift().await {
            Ok(seen) => {
                for (fleet, placement, members) in seen {
                    tracing::info!(%fleet, %placement, members = members.len(), "placed objects drifted, or their drift was mended");
                }
            }
            Err(error) => tracing::warn!(error = %error.message, "looking for drift failed"),
        }
    });
}
