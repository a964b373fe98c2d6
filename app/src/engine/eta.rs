//! How long upgrades take. The ETA of a plan and the simulated provider's durations both come
//! from this model, so a demo's predictions and its reality agree.

use crate::model::cluster::ClusterState;
use crate::model::target::UpgradeTarget;
use crate::model::time::{MS_PER_MINUTE, MS_PER_SECOND};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct DurationModel {
    /// One control-plane upgrade.
    pub control_plane_ms: i64,
    /// One batch of surged nodes being replaced.
    pub node_batch_ms: i64,
    /// Per node on top of its batch (cordon, drain, readiness), so big pools take longer.
    pub per_node_ms: i64,
    /// Share of a pool's nodes replaced at once (AKS's max surge), at least one node.
    pub max_surge_percent: u32,
}

impl Default for DurationModel {
    fn default() -> Self {
        Self {
            control_plane_ms: 8 * MS_PER_MINUTE,
            node_batch_ms: 4 * MS_PER_MINUTE + 30 * MS_PER_SECOND,
            per_node_ms: 20 * MS_PER_SECOND,
            max_surge_percent: 33,
        }
    }
}

impl DurationModel {
    /// No time at all, for benchmarks of the orchestration itself.
    pub fn instant() -> Self {
        Self {
            control_plane_ms: 0,
            node_batch_ms: 0,
            per_node_ms: 0,
            max_surge_percent: 100,
        }
    }

    /// Batches needed to replace `nodes` nodes with the surge setting.
    pub fn batches(&self, nodes: u32) -> i64 {
        let surge = (u64::from(nodes) * u64::from(self.max_surge_percent))
            .div_ceil(100)
            .max(1);
        u64::from(nodes).div_ceil(surge) as i64
    }

    /// How long `upgrade` takes on a cluster of one pool of three nodes (AKS's default system
    /// pool): the guess for a cluster not observed yet.
    pub fn nominal_upgrade_ms(&self, upgrade: crate::model::update::Upgrade) -> i64 {
        use crate::model::update::Upgrade;
        const NODES: u32 = 3;
        let control_plane = match upgrade {
            Upgrade::Full(_) | Upgrade::ControlPlaneOnly(_) => self.control_plane_ms,
            Upgrade::NodeImageOnly => 0,
        };
        let pool = match upgrade.moves_node_images() {
            true => self.batches(NODES) * self.node_batch_ms + i64::from(NODES) * self.per_node_ms,
            false => 0,
        };
        control_plane + pool
    }

    /// The time to apply `target` to `cluster`: the control plane, then each changed pool.
    pub fn upgrade_ms(&self, target: &UpgradeTarget, cluster: &ClusterState) -> i64 {
        let control_plane = if target.control_plane.is_some() {
            self.control_plane_ms
        } else {
            0
        };
        let pools: i64 = target
            .node_pools
            .iter()
            .filter_map(|p| cluster.node_pools.iter().find(|c| c.name == p.name))
            .map(|pool| {
                self.batches(pool.count) * self.node_batch_ms
                    + i64::from(pool.count) * self.per_node_ms
            })
            .sum();
        control_plane + pools
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surge_batches_grow_with_node_count() {
        let m = DurationModel::default();
        assert_eq!(m.batches(1), 1);
        assert_eq!(m.batches(3), 3);
        assert_eq!(m.batches(10), 3);
        assert_eq!(m.batches(100), 4, "33 + 33 + 33 + 1");
        let all_at_once = DurationModel {
            max_surge_percent: 100,
            ..m
        };
        assert_eq!(all_at_once.batches(50), 1);
    }
}
