//! What an update run does to each member: the upgrade type with its version, and how node
//! images are chosen. Shaped like ARM's `managedClusterUpdate`.

use super::strategy::UpdateStrategy;
use super::version::{ImageFamily, ImageRelease, KubernetesVersion, NodeImageVersion};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum UpgradeType {
    /// Control plane, then every node pool, to the version, plus node images.
    Full,
    ControlPlaneOnly,
    NodeImageOnly,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpgradeSpec {
    #[serde(rename = "type")]
    pub kind: UpgradeType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<KubernetesVersion>,
    /// What becomes of a member more than one minor version behind the target (beyond Azure):
    /// refused, as Azure does (`None`, the default), or taken through each minor in between.
    #[serde(default, skip_serializing_if = "Hops::is_default")]
    pub hops: Hops,
}

/// How a run takes a member across several minor versions (Kubernetes upgrades one minor at a
/// time, so 1.28 → 1.31 is three upgrades: through the newest patch of 1.29 and of 1.30).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum Hops {
    /// A member more than one minor behind the target fails ("would skip minor version").
    #[default]
    None,
    /// In its turn, the member goes through every hop, one upgrade after another, before its
    /// group counts it done; each hop is an upgrade of its own (the provider, the window and
    /// the version's availability in its region are checked again before each).
    PerMember,
    /// The fleet goes one minor at a time: a pass of the whole strategy per minor, each a run
    /// of its own (`{run}-hop-2`, …) created and started when the one before it completes,
    /// so every minor goes through the first stages (and their gates) before the last ones.
    PerStrategyPass,
}

impl Hops {
    pub fn is_default(&self) -> bool {
        *self == Hops::None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum NodeImageSelectionType {
    /// The newest image of the family in the member's region when the member starts.
    #[default]
    Latest,
    /// Per family, the newest image available in every region of the run's members, fixed at
    /// run start.
    Consistent,
    /// Exactly the images given in `customNodeImageVersions`, one per family; a member whose
    /// region lacks one waits `Pending`; pools of a family not given keep their image.
    Custom,
}

/// One image of a `Custom` selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomNodeImageVersion {
    pub version: NodeImageVersion,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodeImageSelection {
    #[serde(rename = "type")]
    pub kind: NodeImageSelectionType,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_node_image_versions: Vec<CustomNodeImageVersion>,
}

impl NodeImageSelection {
    pub fn of(kind: NodeImageSelectionType) -> Self {
        Self {
            kind,
            custom_node_image_versions: Vec::new(),
        }
    }

    /// `Custom` with exactly these images, one per family.
    pub fn custom(images: &BTreeMap<ImageFamily, ImageRelease>) -> Self {
        Self {
            kind: NodeImageSelectionType::Custom,
            custom_node_image_versions: images
                .iter()
                .map(|(family, release)| CustomNodeImageVersion {
                    version: NodeImageVersion::new(family.clone(), release.clone()),
                })
                .collect(),
        }
    }

    /// `customNodeImageVersions` is given exactly for `Custom`, at most one image per family.
    pub fn checked(&self) -> Result<BTreeMap<ImageFamily, ImageRelease>, String> {
        let given = &self.custom_node_image_versions;
        match (self.kind, given.is_empty()) {
            (NodeImageSelectionType::Custom, true) => {
                return Err("a Custom nodeImageSelection needs customNodeImageVersions".into());
            }
            (NodeImageSelectionType::Latest | NodeImageSelectionType::Consistent, false) => {
                return Err(format!(
                    "customNodeImageVersions go with a Custom nodeImageSelection, not {:?}",
                    self.kind
                ));
            }
            _ => {}
        }
        let mut images = BTreeMap::new();
        for CustomNodeImageVersion { version } in given {
            if images
                .insert(version.family.clone(), version.release.clone())
                .is_some()
            {
                return Err(format!(
                    "customNodeImageVersions gives two {} images; give one per image family",
                    version.family
                ));
            }
        }
        Ok(images)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ManagedClusterUpdate {
    pub upgrade: UpgradeSpec,
    #[serde(default)]
    pub node_image_selection: NodeImageSelection,
    /// What becomes of a member whose cluster is stopped (beyond Azure): `Skip` (the default,
    /// with the reason) or `Fail` (it counts as a failure, as a team that wants every cluster
    /// upgraded asks).
    #[serde(default, skip_serializing_if = "StoppedClusterAction::is_default")]
    pub stopped_cluster_action: StoppedClusterAction,
    /// Beyond Azure: a member whose version or image has not reached its region yet waits for
    /// it, holding its group, up to this long, instead of being left `Pending` at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_until_available: Option<DeferUntilAvailable>,
}

impl ManagedClusterUpdate {
    /// What a placement run carries in place of an update: nothing of it is read.
    pub fn of_placement_run() -> Self {
        Self {
            upgrade: UpgradeSpec {
                kind: UpgradeType::NodeImageOnly,
                kubernetes_version: None,
                hops: Hops::None,
            },
            node_image_selection: NodeImageSelection::default(),
            stopped_cluster_action: StoppedClusterAction::default(),
            defer_until_available: None,
        }
    }
}

/// How long a run waits for what a member needs to reach its region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeferUntilAvailable {
    /// From when the member first found it missing; 1 second to 30 days.
    pub max_wait_in_seconds: i64,
}

impl DeferUntilAvailable {
    pub const MAX_SECONDS: i64 = 30 * 24 * 3600;

    pub fn checked(&self) -> Result<(), String> {
        match self.max_wait_in_seconds {
            1..=Self::MAX_SECONDS => Ok(()),
            other => Err(format!(
                "deferUntilAvailable.maxWaitInSeconds must be 1 to {} (30 days), not {other}",
                Self::MAX_SECONDS
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum StoppedClusterAction {
    #[default]
    Skip,
    Fail,
}

impl StoppedClusterAction {
    pub fn is_default(&self) -> bool {
        *self == StoppedClusterAction::Skip
    }
}

/// What a run is asked to do: the stages (none = one by one) and the update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RunSpec {
    pub strategy: Option<UpdateStrategy>,
    /// What each member is upgraded to. A placement run upgrades nothing: it carries the
    /// default (a `NodeImageOnly` update), which no part of it reads, and the API does not show.
    pub update: ManagedClusterUpdate,
    /// Set on a run that rolls a placement out instead of upgrading.
    #[serde(
        default,
        rename = "placementRollout",
        skip_serializing_if = "Option::is_none"
    )]
    pub placement: Option<super::rollout::PlacementRollout>,
}

/// A checked upgrade: the version is there exactly when the type needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upgrade {
    Full(KubernetesVersion),
    ControlPlaneOnly(KubernetesVersion),
    NodeImageOnly,
}

impl Upgrade {
    /// Whether node pools' images move (a control-plane-only upgrade leaves them).
    pub fn moves_node_images(self) -> bool {
        !matches!(self, Upgrade::ControlPlaneOnly(_))
    }

    /// The same kind of upgrade to another version (a hop on the way); images only stays so.
    pub fn to_version(self, version: KubernetesVersion) -> Upgrade {
        match self {
            Upgrade::Full(_) => Upgrade::Full(version),
            Upgrade::ControlPlaneOnly(_) => Upgrade::ControlPlaneOnly(version),
            Upgrade::NodeImageOnly => Upgrade::NodeImageOnly,
        }
    }

    pub fn kubernetes_version(self) -> Option<KubernetesVersion> {
        match self {
            Upgrade::Full(v) | Upgrade::ControlPlaneOnly(v) => Some(v),
            Upgrade::NodeImageOnly => None,
        }
    }

    /// Whether node images are part of this upgrade.
    pub fn touches_node_images(self) -> bool {
        match self {
            Upgrade::Full(_) | Upgrade::NodeImageOnly => true,
            Upgrade::ControlPlaneOnly(_) => false,
        }
    }
}

impl UpgradeSpec {
    pub fn checked(&self) -> Result<Upgrade, String> {
        if self.kind == UpgradeType::NodeImageOnly && self.hops != Hops::None {
            return Err(
                "a NodeImageOnly upgrade changes no Kubernetes version: it takes no hops".into(),
            );
        }
        match (self.kind, self.kubernetes_version) {
            (UpgradeType::Full, Some(v)) => Ok(Upgrade::Full(v)),
            (UpgradeType::ControlPlaneOnly, Some(v)) => Ok(Upgrade::ControlPlaneOnly(v)),
            (UpgradeType::NodeImageOnly, None) => Ok(Upgrade::NodeImageOnly),
            (UpgradeType::NodeImageOnly, Some(_)) => {
                Err("a NodeImageOnly upgrade takes no kubernetesVersion".into())
            }
            (kind, None) => Err(format!("a {kind:?} upgrade needs a kubernetesVersion")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Upgrade, String> {
        serde_json::from_str::<ManagedClusterUpdate>(text)
            .map_err(|e| e.to_string())?
            .upgrade
            .checked()
    }

    #[test]
    fn each_type_takes_a_version_exactly_when_it_needs_one() {
        assert_eq!(
            parse(r#"{"upgrade": {"type": "Full", "kubernetesVersion": "1.30.5"}}"#),
            Ok(Upgrade::Full(KubernetesVersion::new(1, 30, 5)))
        );
        assert!(
            parse(r#"{"upgrade": {"type": "Full"}}"#)
                .unwrap_err()
                .contains("needs a kubernetesVersion")
        );
        assert_eq!(
            parse(r#"{"upgrade": {"type": "NodeImageOnly"}}"#),
            Ok(Upgrade::NodeImageOnly)
        );
        assert!(
            parse(r#"{"upgrade": {"type": "NodeImageOnly", "kubernetesVersion": "1.30.5"}}"#)
                .unwrap_err()
                .contains("takes no kubernetesVersion")
        );
        assert!(parse(r#"{"upgrade": {"type": "Everything"}}"#).is_err());
    }

    #[test]
    fn node_image_selection_defaults_to_latest() {
        let u: ManagedClusterUpdate =
            serde_json::from_str(r#"{"upgrade": {"type": "NodeImageOnly"}}"#).unwrap();
        assert_eq!(u.node_image_selection.kind, NodeImageSelectionType::Latest);
        let u: ManagedClusterUpdate = serde_json::from_str(
            r#"{"upgrade": {"type": "NodeImageOnly"}, "nodeImageSelection": {"type": "Consistent"}}"#,
        )
        .unwrap();
        assert_eq!(
            u.node_image_selection.kind,
            NodeImageSelectionType::Consistent
        );
    }
}

/// Where a new run's stages come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(
    rename_all = "camelCase",
    tag = "kind",
    content = "value",
    deny_unknown_fields
)]
pub enum StrategySource {
    Inline(UpdateStrategy),
    /// A stored strategy, by name or by id (`/fleets/{fleet}/updateStrategies/{name}`).
    Stored(String),
    OneByOne,
}

/// A request to create an update run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRun {
    pub strategy: StrategySource,
    pub update: ManagedClusterUpdate,
    /// Roll this placement out instead of upgrading (`update` is then not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<super::rollout::PlacementRolloutRequest>,
}
