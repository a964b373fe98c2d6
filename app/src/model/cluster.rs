//! What a provider observes of a cluster: region, versions, node pools, maintenance window.

use super::update::Upgrade;
use super::version::{ImageFamily, KubernetesVersion, NodeImageVersion};
use super::window::MaintenanceWindow;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// An Azure-style region name, e.g. `eastus`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct Region(String);

impl Region {
    /// Azure's (`eastus`), AWS's (`us-east-1`) and Google's (`europe-west4`) region names:
    /// lower-case letters, digits and inner '-'.
    pub fn parse(text: &str) -> Result<Self, String> {
        let ok = (1..=40).contains(&text.len())
            && text
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(format!(
                "'{text}' is not a region name like eastus or us-east-1 (lower-case letters, digits and '-')"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Region::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The furthest a node pool may lag its control plane, in minor versions (Kubernetes skew
/// policy). The engine's upgrade rules use a stricter, configurable limit.
pub const MAX_POOL_SKEW_MINORS: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePool {
    pub name: String,
    pub count: u32,
    pub kubernetes_version: KubernetesVersion,
    pub os_sku: ImageFamily,
    pub node_image_version: NodeImageVersion,
}

impl NodePool {
    /// AKS's rules, which the simulator keeps: short names, 1 to 1000 nodes.
    fn validate(&self, control_plane: KubernetesVersion) -> Result<(), String> {
        let name_ok = (1..=12).contains(&self.name.len())
            && self.name.starts_with(|c: char| c.is_ascii_lowercase())
            && self
                .name
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !name_ok {
            return Err(format!(
                "node pool name '{}' must be 1 to 12 lower-case letters or digits, starting with a letter",
                self.name
            ));
        }
        if !(1..=1000).contains(&self.count) {
            return Err(format!(
                "node pool '{}' count must be between 1 and 1000",
                self.name
            ));
        }
        self.validate_versions(control_plane)
    }

    /// What any provider's pool must be: a name of up to 63 characters without spaces (EKS
    /// node groups, GKE node pools, Cluster API machine deployments), any node count (a pool
    /// scaled to zero is still a pool), coherent versions.
    fn validate_observed(&self, control_plane: KubernetesVersion) -> Result<(), String> {
        let name_ok = (1..=63).contains(&self.name.len())
            && self
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err(format!(
                "node pool name '{}' must be 1 to 63 letters, digits, '-', '_' or '.'",
                self.name
            ));
        }
        self.validate_versions(control_plane)
    }

    fn validate_versions(&self, control_plane: KubernetesVersion) -> Result<(), String> {
        if self.node_image_version.family != self.os_sku {
            return Err(format!(
                "node pool '{}' runs image {} which is not of its osSku {}",
                self.name, self.node_image_version, self.os_sku
            ));
        }
        let ahead = control_plane.minors_ahead_of(self.kubernetes_version);
        if self.kubernetes_version > control_plane {
            return Err(format!(
                "node pool '{}' at {} is newer than its control plane {}",
                self.name, self.kubernetes_version, control_plane
            ));
        }
        if ahead > MAX_POOL_SKEW_MINORS {
            return Err(format!(
                "node pool '{}' at {} is more than {MAX_POOL_SKEW_MINORS} minor versions behind its control plane {}",
                self.name, self.kubernetes_version, control_plane
            ));
        }
        Ok(())
    }
}

/// A cluster as its provider sees it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterState {
    pub location: Region,
    pub kubernetes_version: KubernetesVersion,
    pub node_pools: Vec<NodePool>,
    /// When Kubernetes upgrades (`Full`, `ControlPlaneOnly`) may start: AKS's
    /// `aksManagedAutoUpgradeSchedule`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindow>,
    /// When node-image upgrades (`NodeImageOnly`) may start: AKS's
    /// `aksManagedNodeOSUpgradeSchedule`. Independent of the other, as in AKS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_os_maintenance_window: Option<MaintenanceWindow>,
    /// `Stopped` (AKS's `powerState`): a stopped cluster is not upgraded; its member is skipped
    /// with the reason.
    #[serde(default, skip_serializing_if = "PowerState::is_running")]
    pub power_state: PowerState,
    /// What its provider cannot do on this cluster, so the plan says so before a run starts.
    #[serde(default, skip_serializing_if = "ProviderLimits::is_none")]
    pub limits: ProviderLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PowerState {
    #[default]
    Running,
    Stopped,
}

impl PowerState {
    pub fn is_running(&self) -> bool {
        *self == PowerState::Running
    }
}

/// Limits of a provider's API on one cluster (AKS's public API, for instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderLimits {
    /// A node pool can only be moved to the newest image of its region, never to a chosen one
    /// (AKS's `upgradeNodeImageVersion` takes no version).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub node_images_newest_only: bool,
    /// A control-plane upgrade upgrades every node pool too (AKS clusters with availability-set
    /// pools).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub control_plane_only_upgrades_pools: bool,
}

impl ProviderLimits {
    pub fn is_none(&self) -> bool {
        *self == ProviderLimits::default()
    }
}

impl ClusterState {
    pub const MAX_NODE_POOLS: usize = 100;

    /// A cluster the simulator may hold (AKS's rules).
    pub fn validate(&self) -> Result<(), String> {
        if self.node_pools.is_empty() || self.node_pools.len() > Self::MAX_NODE_POOLS {
            return Err(format!(
                "a cluster needs 1 to {} node pools",
                Self::MAX_NODE_POOLS
            ));
        }
        self.validate_pools(NodePool::validate)
    }

    /// A cluster another provider observed: looser names and counts, no pool at all allowed
    /// (an EKS cluster on Fargate only), the same coherence.
    pub fn validate_observed(&self) -> Result<(), String> {
        if self.node_pools.len() > Self::MAX_NODE_POOLS {
            return Err(format!(
                "a cluster may have at most {} node pools",
                Self::MAX_NODE_POOLS
            ));
        }
        self.validate_pools(NodePool::validate_observed)
    }

    fn validate_pools(
        &self,
        rule: fn(&NodePool, KubernetesVersion) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for pool in &self.node_pools {
            rule(pool, self.kubernetes_version)?;
            if !seen.insert(pool.name.as_str()) {
                return Err(format!("node pool name '{}' is used twice", pool.name));
            }
        }
        for window in [&self.maintenance_window, &self.node_os_maintenance_window]
            .into_iter()
            .flatten()
        {
            window.validate()?;
        }
        Ok(())
    }

    /// The window that governs `upgrade` on this cluster, if it has one.
    pub fn window_for(&self, upgrade: Upgrade) -> Option<&MaintenanceWindow> {
        match upgrade {
            Upgrade::Full(_) | Upgrade::ControlPlaneOnly(_) => self.maintenance_window.as_ref(),
            Upgrade::NodeImageOnly => self.node_os_maintenance_window.as_ref(),
        }
    }

    pub fn node_count(&self) -> u64 {
        self.node_pools.iter().map(|p| u64::from(p.count)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ClusterState {
        serde_json::from_str(
            r#"{"location": "eastus", "kubernetesVersion": "1.29.9",
                "nodePools": [{"name": "system", "count": 3, "kubernetesVersion": "1.29.9",
                               "osSku": "AKSUbuntu-2204gen2containerd",
                               "nodeImageVersion": "AKSUbuntu-2204gen2containerd-202409.01.0"}]}"#,
        )
        .unwrap()
    }

    #[test]
    fn the_issue_example_is_valid() {
        assert_eq!(cluster().validate(), Ok(()));
        assert_eq!(cluster().node_count(), 3);
    }

    #[test]
    fn a_pool_newer_than_its_control_plane_is_rejected() {
        let mut c = cluster();
        c.node_pools[0].kubernetes_version = KubernetesVersion::new(1, 30, 0);
        assert!(
            c.validate()
                .unwrap_err()
                .contains("newer than its control plane")
        );
    }

    #[test]
    fn a_pool_too_far_behind_is_rejected() {
        let mut c = cluster();
        c.node_pools[0].kubernetes_version = KubernetesVersion::new(1, 25, 0);
        assert!(
            c.validate()
                .unwrap_err()
                .contains("more than 3 minor versions")
        );
    }

    #[test]
    fn image_family_must_match_os_sku() {
        let mut c = cluster();
        c.node_pools[0].node_image_version =
            NodeImageVersion::parse("AKSAzureLinux-V2gen2-202409.01.0").unwrap();
        assert!(c.validate().unwrap_err().contains("not of its osSku"));
    }

    #[test]
    fn duplicate_pool_names_and_bad_counts_are_rejected() {
        let mut c = cluster();
        c.node_pools.push(c.node_pools[0].clone());
        assert!(c.validate().unwrap_err().contains("used twice"));
        let mut c = cluster();
        c.node_pools[0].count = 0;
        assert!(c.validate().unwrap_err().contains("count"));
        assert_eq!(
            c.validate_observed(),
            Ok(()),
            "other providers may scale to zero"
        );
    }

    #[test]
    fn unknown_fields_and_bad_regions_fail_to_parse() {
        assert!(serde_json::from_str::<Region>("\"East US\"").is_err());
        let bad = r#"{"location": "eastus", "kubernetesVersion": "1.29.9", "nodePools": [], "colour": 1}"#;
        assert!(serde_json::from_str::<ClusterState>(bad).is_err());
    }
}
