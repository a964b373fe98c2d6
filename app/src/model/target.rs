//! What an upgrade of one member changes: the engine computes it, effects carry it to the
//! provider, and the run keeps it while the member upgrades.

use super::version::{KubernetesVersion, NodeImageVersion};
use serde::{Deserialize, Serialize};

/// A change of one thing from one version to another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step<T> {
    pub from: T,
    pub to: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolTarget {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<Step<KubernetesVersion>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_image_version: Option<Step<NodeImageVersion>>,
}

/// Everything an upgrade of one member changes. Only parts that change are listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeTarget {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub control_plane: Option<Step<KubernetesVersion>>,
    pub node_pools: Vec<PoolTarget>,
}

impl UpgradeTarget {
    pub fn is_empty(&self) -> bool {
        self.control_plane.is_none() && self.node_pools.is_empty()
    }
}
