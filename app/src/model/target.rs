//! What an upgrade of one member changes: the engine computes it, effects carry it to the
//! provider, and the run keeps it while the member upgrades.

use super::version::{KubernetesVersion, NodeImageVersion};
use serde::{Deserialize, Serialize};

/// A change of one thing from one version to another.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "ssr", schemars(rename = "{T}Step"))]
pub struct Step<T> {
    pub from: T,
    pub to: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PoolTarget {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<Step<KubernetesVersion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_image_version: Option<Step<NodeImageVersion>>,
}

/// Everything an upgrade of one member changes. Only parts that change are listed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpgradeTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<Step<KubernetesVersion>>,
    pub node_pools: Vec<PoolTarget>,
    /// A placement run's change: the placement's objects at a revision (nothing else is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Box<super::rollout::ResourceTarget>>,
}

impl UpgradeTarget {
    pub fn is_empty(&self) -> bool {
        self.control_plane.is_none() && self.node_pools.is_empty() && self.resources.is_none()
    }

    /// A placement run's change of one member.
    pub fn of_resources(resources: super::rollout::ResourceTarget) -> Self {
        Self {
            control_plane: None,
            node_pools: Vec::new(),
            resources: Some(Box::new(resources)),
        }
    }
}

impl UpgradeTarget {
    /// What a cluster runs once this upgrade has succeeded.
    pub fn apply_to(&self, cluster: &mut super::cluster::ClusterState) {
        if let Some(step) = &self.control_plane {
            cluster.kubernetes_version = step.to;
        }
        for target in &self.node_pools {
            let Some(pool) = cluster
                .node_pools
                .iter_mut()
                .find(|p| p.name == target.name)
            else {
                continue;
            };
            if let Some(step) = &target.kubernetes_version {
                pool.kubernetes_version = step.to;
            }
            if let Some(step) = &target.node_image_version {
                pool.node_image_version = step.to.clone();
            }
        }
    }

    /// What of this upgrade `cluster` does not run (yet), in words; `None` when every part is
    /// there (or beyond: a newer version reached since counts). A provider's "succeeded" is
    /// believed only when the cluster shows it.
    pub fn unmet_in(&self, cluster: &super::cluster::ClusterState) -> Option<String> {
        if let Some(step) = &self.control_plane
            && cluster.kubernetes_version < step.to
        {
            return Some(format!(
                "the control plane runs {}, not {}",
                cluster.kubernetes_version, step.to
            ));
        }
        for target in &self.node_pools {
            let Some(pool) = cluster.node_pools.iter().find(|p| p.name == target.name) else {
                return Some(format!("node pool {} no longer exists", target.name));
            };
            if let Some(step) = &target.kubernetes_version
                && pool.kubernetes_version < step.to
            {
                return Some(format!(
                    "node pool {} runs Kubernetes {}, not {}",
                    pool.name, pool.kubernetes_version, step.to
                ));
            }
            if let Some(step) = &target.node_image_version {
                let image = &pool.node_image_version;
                if image.family != step.to.family || image.release < step.to.release {
                    return Some(format!(
                        "node pool {} runs node image {}, not {}",
                        pool.name, image, step.to
                    ));
                }
            }
        }
        None
    }

    /// What kind of operation this is, e.g. `ControlPlane+NodePools+NodeImages`.
    pub fn kind(&self) -> String {
        let pools = self
            .node_pools
            .iter()
            .any(|p| p.kubernetes_version.is_some());
        let images = self
            .node_pools
            .iter()
            .any(|p| p.node_image_version.is_some());
        let parts: Vec<&str> = [
            (self.resources.is_some(), "Resources"),
            (self.control_plane.is_some(), "ControlPlane"),
            (pools, "NodePools"),
            (images, "NodeImages"),
        ]
        .into_iter()
        .filter_map(|(on, part)| on.then_some(part))
        .collect();
        parts.join("+")
    }
}

/// How far an upgrade in flight has come, as its provider reports it: nodes replaced of those
/// it will replace, and the step it is on (`control plane`, `node pool system`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct UpgradeProgress {
    pub nodes_done: u32,
    pub nodes_total: u32,
    pub step: String,
}
