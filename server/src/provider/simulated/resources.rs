//! The simulated clusters' API servers for placed objects: what each cluster holds per owner,
//! kept in the store (so a restart or another replica sees the same), with injected refusals
//! and availability delays. Applying the revision a cluster holds changes nothing and is not
//! counted, so the count of applies shows whether a snapshot reached a cluster twice.

use super::SimulatedProvider;
use crate::provider::{AppliedResources, ProviderError, ResourceApply};
use crate::store::{SimApplied, SimApplyOutcome, StoreError};
use app::model::member::ClusterResourceId;
use app::model::names::ClusterName;

/// What the simulated admission webhook says when `applyFailNext` refuses an apply.
const REFUSAL: &str = "admission webhook \"validate.policy.example.com\" denied the request: \
     the objects break the cluster's policy (simulated)";

fn unstored(error: StoreError) -> ProviderError {
    ProviderError::transient(format!("the simulator could not keep the objects: {error}"))
}

impl SimulatedProvider {
    /// The simulated cluster behind `id`, if it answers now.
    fn reachable(&self, id: &ClusterResourceId) -> Result<ClusterName, ProviderError> {
        self.answers_for(id)?;
        let name = id
            .as_simulated()
            .ok_or_else(|| ProviderError::ClusterNotFound(id.clone()))?;
        let stopped = self
            .cluster(&name)
            .is_some_and(|c| !c.state.power_state.is_running());
        if stopped {
            return Err(ProviderError::transient(
                "the cluster is stopped: its API server does not answer (simulated)",
            ));
        }
        Ok(name)
    }

    fn state_of(&self, held: Option<&SimApplied>) -> AppliedResources {
        let now = self.clock.now();
        held.map_or_else(AppliedResources::default, |held| AppliedResources {
            revision: Some(held.revision.clone()),
            available: now >= held.available_at,
            drifted: held.drifted.clone(),
        })
    }

    pub(super) async fn apply_objects(
        &self,
        request: &ResourceApply,
    ) -> Result<AppliedResources, ProviderError> {
        self.synced().await?;
        let name = self.reachable(&request.cluster)?;
        let text = serde_json::to_string(&request.manifests)
            .map_err(|e| ProviderError::permanent(format!("the objects are not JSON: {e}")))?;
        let outcome = self
            .store
            .apply_sim_resources(
                &name,
                &request.owner,
                &request.revision,
                &text,
                self.clock.now(),
            )
            .await
            .map_err(unstored)?;
        match outcome {
            SimApplyOutcome::Refused => Err(ProviderError::permanent(REFUSAL)),
            SimApplyOutcome::Applied(held) => Ok(self.state_of(Some(&held))),
        }
    }

    pub(super) async fn observe_objects(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<AppliedResources, ProviderError> {
        self.synced().await?;
        let name = self.reachable(cluster)?;
        let held = self.store.sim_resources(&name).await.map_err(unstored)?;
        Ok(self.state_of(held.iter().find(|h| h.owner == owner)))
    }

    pub(super) async fn delete_objects(
        &self,
        cluster: &ClusterResourceId,
        owner: &str,
    ) -> Result<(), ProviderError> {
        self.synced().await?;
        let name = match self.reachable(cluster) {
            // A cluster that is gone holds nothing any more.
            Err(ProviderError::ClusterNotFound(_)) => return Ok(()),
            other => other?,
        };
        self.store
            .delete_sim_resources(&name, owner)
            .await
            .map_err(unstored)?;
        Ok(())
    }

    /// Someone changes `objects` of `owner`'s on the cluster by hand: the cluster reports them
    /// drifted until a new revision is applied. `false` when it holds nothing of `owner`'s.
    pub async fn drift_objects(
        &self,
        name: &ClusterName,
        owner: &str,
        objects: &[String],
    ) -> Result<bool, StoreError> {
        self.store.drift_sim_resources(name, owner, objects).await
    }

    /// What a simulated cluster holds, for the simulator's API.
    pub async fn held_objects(&self, name: &ClusterName) -> Result<Vec<SimApplied>, StoreError> {
        self.store.sim_resources(name).await
    }
}

impl SimulatedProvider {
    /// The faults a simulated cluster's API server injects into applies.
    pub async fn resource_faults(
        &self,
        name: &ClusterName,
    ) -> Result<crate::store::SimResourceFaults, StoreError> {
        self.store.sim_resource_faults(name).await
    }

    pub async fn put_resource_faults(
        &self,
        name: &ClusterName,
        faults: crate::store::SimResourceFaults,
    ) -> Result<(), StoreError> {
        self.store.put_sim_resource_faults(name, faults).await
    }
}
