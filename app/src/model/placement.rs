//! Placement policies (issue 17): which members get a fleet's resources, in KubeFleet's shapes
//! (`ClusterResourcePlacement.spec.policy`): `PickAll`, `PickN` or `PickFixed`, cluster
//! affinity (required terms ORed, preferred terms weighted) over labels and cluster properties,
//! topology spread, and tolerations of members' taints. `engine::placement` schedules with them.

use super::limits::RolloutAmount;
use super::member::Labels;
use super::names::ResourceName;
use super::version::KubernetesVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A placement: which resources go to which members, and how changes roll out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Placement {
    /// The fleet's resources placed, by name (1 to 20).
    pub resources: Vec<ResourceName>,
    #[serde(default)]
    pub policy: PlacementPolicy,
    #[serde(default)]
    pub strategy: RolloutStrategy,
}

/// How many resources one placement may carry.
pub const MAX_PLACED_RESOURCES: usize = 20;

impl Placement {
    /// The first problem with the placement, at its field.
    pub fn checked(&self) -> Result<(), String> {
        if self.resources.is_empty() || self.resources.len() > MAX_PLACED_RESOURCES {
            return Err(format!(
                "resources: name 1 to {MAX_PLACED_RESOURCES} of the fleet's resources"
            ));
        }
        for (i, name) in self.resources.iter().enumerate() {
            if self.resources[..i].contains(name) {
                return Err(format!("resources[{i}]: {name} is named twice"));
            }
        }
        self.policy.checked()?;
        self.strategy.checked()
    }
}

/// How a placement's changes reach its members (KubeFleet's `RolloutStrategy`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolloutStrategy {
    #[serde(rename = "type", default)]
    pub kind: RolloutType,
    /// RollingUpdate only; KubeFleet's defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rolling_update: Option<RollingUpdate>,
}

impl RolloutStrategy {
    fn checked(&self) -> Result<(), String> {
        match (self.kind, &self.rolling_update) {
            (RolloutType::External, Some(_)) => Err(
                "strategy.rollingUpdate: an External placement rolls out through update runs, not by itself"
                    .into(),
            ),
            (_, Some(rolling)) => rolling.checked(),
            _ => Ok(()),
        }
    }

    /// The rolling update's settings, KubeFleet's defaults filled in.
    pub fn rolling(&self) -> RollingUpdate {
        self.rolling_update.clone().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum RolloutType {
    /// Drydock rolls each new snapshot out to the picked members by itself, a few at a time.
    #[default]
    RollingUpdate,
    /// Changes roll out only through an update run that names the placement and a snapshot,
    /// through a strategy's stages and gates.
    External,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RollingUpdate {
    /// How many picked members may be without the resources (or unavailable) at once; 25%
    /// by default.
    #[serde(default = "quarter")]
    pub max_unavailable: RolloutAmount,
    /// How many members beyond the wanted number may hold the resources while a placement moves
    /// between members; 25% by default.
    #[serde(default = "quarter")]
    pub max_surge: RolloutAmount,
    /// How long after applying a member counts as unavailable when its resources report no
    /// availability of their own (60 s by default).
    #[serde(default = "unavailable_period")]
    pub unavailable_period_seconds: u32,
}

fn quarter() -> RolloutAmount {
    RolloutAmount::percent(25)
}

fn unavailable_period() -> u32 {
    60
}

impl Default for RollingUpdate {
    fn default() -> Self {
        Self {
            max_unavailable: quarter(),
            max_surge: quarter(),
            unavailable_period_seconds: unavailable_period(),
        }
    }
}

impl RollingUpdate {
    fn checked(&self) -> Result<(), String> {
        if self.max_unavailable.is_zero() && self.max_surge.is_zero() {
            return Err(
                "strategy.rollingUpdate: maxUnavailable and maxSurge cannot both be 0 (nothing could change)"
                    .into(),
            );
        }
        if self.unavailable_period_seconds > 3600 {
            return Err(format!(
                "strategy.rollingUpdate.unavailablePeriodSeconds: at most 3600, not {}",
                self.unavailable_period_seconds
            ));
        }
        Ok(())
    }
}

/// The label every member carries with its cluster's region, as Azure Fleet Manager labels
/// members; a label selector on it places by region.
pub const LOCATION_LABEL: &str = "fleet.azure.com/location";
/// A cluster's node count, summed over its pools (KubeFleet's property name).
pub const NODE_COUNT_PROPERTY: &str = "kubernetes-fleet.io/node-count";
/// A cluster's control plane's Kubernetes version, compared at the precision given (`1.30`
/// matches every 1.30 patch).
pub const KUBERNETES_VERSION_PROPERTY: &str = "drydock.io/kubernetes-version";
const PROPERTIES: [&str; 2] = [NODE_COUNT_PROPERTY, KUBERNETES_VERSION_PROPERTY];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PlacementType {
    /// Every member that passes the filters (taints, required affinity).
    #[default]
    PickAll,
    /// The `numberOfClusters` best-scoring members that pass them, spread as constrained.
    PickN,
    /// Exactly the members named in `clusterNames`.
    PickFixed,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlacementPolicy {
    #[serde(default)]
    pub placement_type: PlacementType,
    /// PickN: how many members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_of_clusters: Option<u32>,
    /// PickFixed: the members' names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_names: Vec<String>,
    /// PickAll and PickN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// PickN only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topology_spread_constraints: Vec<TopologySpreadConstraint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Toleration>,
}

impl PlacementPolicy {
    fn cluster_affinity(&self) -> Option<&ClusterAffinity> {
        self.affinity.as_ref()?.cluster_affinity.as_ref()
    }

    /// The terms one of which a member must match, if any are required.
    pub fn required(&self) -> Option<&ClusterSelector> {
        self.cluster_affinity()?
            .required_during_scheduling_ignored_during_execution
            .as_ref()
    }

    /// The weighted terms PickN ranks by.
    pub fn preferred(&self) -> &[PreferredClusterSelector] {
        self.cluster_affinity()
            .map(|c| {
                c.preferred_during_scheduling_ignored_during_execution
                    .as_slice()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Affinity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_affinity: Option<ClusterAffinity>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterAffinity {
    /// A member must match at least one of its terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_during_scheduling_ignored_during_execution: Option<ClusterSelector>,
    /// Each matching term adds its weight to a member's score (PickN ranks by it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredClusterSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSelector {
    pub cluster_selector_terms: Vec<ClusterSelectorTerm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferredClusterSelector {
    /// -100 to 100; a negative weight steers away.
    pub weight: i32,
    pub preference: ClusterSelectorTerm,
}

/// Which members a term matches: all of its selectors must match (an absent one matches all).
/// A preferred term may instead rank members by a property (`propertySorter`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSelectorTerm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_selector: Option<PropertySelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub property_sorter: Option<PropertySorter>,
}

/// Kubernetes' `metav1.LabelSelector`: every `matchLabels` pair and every expression must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelector {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: LabelOperator,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum LabelOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertySelector {
    pub match_expressions: Vec<PropertySelectorRequirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertySelectorRequirement {
    /// `kubernetes-fleet.io/node-count` or `drydock.io/kubernetes-version`.
    pub name: String,
    pub operator: PropertyOperator,
    /// Exactly one value: a number, or a version (`1.30`, `1.30.5`).
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum PropertyOperator {
    Gt,
    Ge,
    Eq,
    Ne,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PropertySorter {
    pub name: String,
    pub sort_order: SortOrder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum SortOrder {
    /// Larger values score higher.
    Descending,
    /// Smaller values score higher.
    Ascending,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopologySpreadConstraint {
    /// How many more members one value of the key may have than another (1 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_skew: Option<u32>,
    /// A label key whose values are the domains to spread over (`fleet.azure.com/location`).
    pub topology_key: String,
    #[serde(default)]
    pub when_unsatisfiable: WhenUnsatisfiable,
}

impl TopologySpreadConstraint {
    pub fn skew_allowed(&self) -> u32 {
        self.max_skew.unwrap_or(1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum WhenUnsatisfiable {
    /// A member that would break the skew is not picked; members without the key are not
    /// eligible.
    #[default]
    DoNotSchedule,
    /// Such a member ranks below those that keep the skew, but may still be picked.
    ScheduleAnyway,
}

/// A member's taint: placements that do not tolerate it do not pick the member (PickFixed
/// names members outright and ignores taints, as KubeFleet does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: TaintEffect,
}

impl fmt::Display for Taint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Some(value) => write!(f, "{}={value}:NoSchedule", self.key),
            None => write!(f, "{}:NoSchedule", self.key),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum TaintEffect {
    NoSchedule,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Toleration {
    /// Empty with `Exists`: tolerates every taint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default)]
    pub operator: TolerationOperator,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Absent: every effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<TaintEffect>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

impl Toleration {
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let effect_ok = self.effect.is_none_or(|effect| effect == taint.effect);
        let key_ok = self.key.as_ref().is_none_or(|key| *key == taint.key);
        let value_ok = match self.operator {
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        };
        effect_ok && key_ok && value_ok
    }
}

/// A property's value on a member.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyValue {
    Number(f64),
    Version(KubernetesVersion),
}

/// What a selector's value names, parsed for the property it is compared with: a version given
/// as `1.30` compares at minor precision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PropertyBound {
    Number(f64),
    Version {
        version: KubernetesVersion,
        patch_given: bool,
    },
}

impl PropertyBound {
    pub fn parse(property: &str, text: &str) -> Result<Self, String> {
        match property {
            NODE_COUNT_PROPERTY => text
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(PropertyBound::Number)
                .ok_or_else(|| format!("'{text}' is not a number")),
            KUBERNETES_VERSION_PROPERTY => {
                let patch_given = text.matches('.').count() == 2;
                let full = if patch_given {
                    text.to_owned()
                } else {
                    format!("{text}.0")
                };
                KubernetesVersion::parse(&full)
                    .map(|version| PropertyBound::Version {
                        version,
                        patch_given,
                    })
                    .map_err(|_| format!("'{text}' is not a version such as 1.30 or 1.30.5"))
            }
            other => Err(unknown_property(other)),
        }
    }

    /// How `value` compares with this bound (`None`: they are of different kinds).
    pub fn compare(&self, value: PropertyValue) -> Option<std::cmp::Ordering> {
        match (value, *self) {
            (PropertyValue::Number(v), PropertyBound::Number(b)) => v.partial_cmp(&b),
            (
                PropertyValue::Version(v),
                PropertyBound::Version {
                    version,
                    patch_given,
                },
            ) => Some(if patch_given {
                v.cmp(&version)
            } else {
                v.minor_line().cmp(&version.minor_line())
            }),
            _ => None,
        }
    }
}

fn unknown_property(name: &str) -> String {
    format!(
        "'{name}' is not a property Drydock knows: {}",
        PROPERTIES.join(" or ")
    )
}

impl PropertyOperator {
    pub fn holds(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            PropertyOperator::Gt => ordering == Greater,
            PropertyOperator::Ge => ordering != Less,
            PropertyOperator::Eq => ordering == Equal,
            PropertyOperator::Ne => ordering != Equal,
            PropertyOperator::Lt => ordering == Less,
            PropertyOperator::Le => ordering != Greater,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            PropertyOperator::Gt => ">",
            PropertyOperator::Ge => ">=",
            PropertyOperator::Eq => "=",
            PropertyOperator::Ne => "!=",
            PropertyOperator::Lt => "<",
            PropertyOperator::Le => "<=",
        }
    }
}

impl LabelSelectorRequirement {
    pub fn matches(&self, labels: &Labels) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            LabelOperator::In => value.is_some_and(|v| self.values.contains(v)),
            LabelOperator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            LabelOperator::Exists => value.is_some(),
            LabelOperator::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for LabelSelectorRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = &self.key;
        match self.operator {
            LabelOperator::In => write!(f, "{key} in ({})", self.values.join(",")),
            LabelOperator::NotIn => write!(f, "{key} notin ({})", self.values.join(",")),
            LabelOperator::Exists => write!(f, "{key}"),
            LabelOperator::DoesNotExist => write!(f, "!{key}"),
        }
    }
}

impl LabelSelector {
    /// The selector's requirements, `matchLabels` as `In` of one value.
    pub fn requirements(&self) -> Vec<LabelSelectorRequirement> {
        let pairs = self
            .match_labels
            .iter()
            .map(|(key, value)| LabelSelectorRequirement {
                key: key.clone(),
                operator: LabelOperator::In,
                values: vec![value.clone()],
            });
        pairs
            .chain(self.match_expressions.iter().cloned())
            .collect()
    }
}

#[path = "placement_check.rs"]
mod check;
pub use check::MAX_CLUSTERS;

#[cfg(test)]
#[path = "placement_tests.rs"]
mod tests;
