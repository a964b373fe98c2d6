//! Resource overrides (issue 17): per-member changes to a placement's objects, in KubeFleet's
//! `ResourceOverride` shape: which objects (`resourceSelectors`), and rules that each pick
//! members by cluster selector terms and either patch the objects (JSON Patch `add`, `remove`,
//! `replace`, with `${MEMBER-CLUSTER-NAME}` in values) or keep them off those members
//! (`Delete`). `engine::overrides` applies them after scheduling.

use super::names::PlacementName;
use super::placement::ClusterSelector;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The variable a patch value may carry, replaced by the member's name.
pub const MEMBER_NAME_VARIABLE: &str = "${MEMBER-CLUSTER-NAME}";

/// Fields an override may not change: an object's identity, and what a cluster writes.
const FIXED_PATHS: [&str; 6] = [
    "/apiVersion",
    "/kind",
    "/metadata/name",
    "/metadata/namespace",
    "/status",
    "/metadata/generateName",
];

/// How many rules an override holds, and patches a rule.
pub const MAX_RULES: usize = 100;
pub const MAX_PATCHES: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceOverride {
    /// The placement whose objects it changes.
    pub placement: PlacementName,
    /// Which of the placement's objects it changes (every one when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_selectors: Vec<ResourceSelector>,
    pub policy: OverridePolicy,
}

/// An object by kind and name, as KubeFleet's selectors name them (the version is not part
/// of an object's identity, so it is not asked for).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResourceSelector {
    /// The API group (`apps`), empty for the core group.
    #[serde(default)]
    pub group: String,
    pub kind: String,
    /// Absent: an object of any namespace (or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverridePolicy {
    /// Applied in order; a member may match several.
    pub override_rules: Vec<OverrideRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OverrideRule {
    /// Which members (every member when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_selector: Option<ClusterSelector>,
    #[serde(default)]
    pub override_type: OverrideType,
    /// JSONPatch: the patches, applied in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub json_patch_overrides: Vec<JsonPatch>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum OverrideType {
    #[default]
    JSONPatch,
    /// The selected objects are not placed on the matching members.
    Delete,
}

/// One RFC 6902 operation (the ones KubeFleet takes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JsonPatch {
    pub op: PatchOp,
    /// A JSON Pointer into the object (`/data/region`, `/spec/replicas`).
    pub path: String,
    /// For `add` and `replace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PatchOp {
    Add,
    Remove,
    Replace,
}

impl ResourceOverride {
    /// The first problem with the override, at its field.
    pub fn checked(&self) -> Result<(), String> {
        let rules = &self.policy.override_rules;
        if rules.is_empty() || rules.len() > MAX_RULES {
            return Err(format!("policy.overrideRules: give 1 to {MAX_RULES} rules"));
        }
        for (i, rule) in rules.iter().enumerate() {
            rule.checked()
                .map_err(|why| format!("policy.overrideRules[{i}].{why}"))?;
        }
        Ok(())
    }
}

impl OverrideRule {
    fn checked(&self) -> Result<(), String> {
        if let Some(selector) = &self.cluster_selector {
            let policy = super::placement::PlacementPolicy {
                affinity: Some(super::placement::Affinity {
                    cluster_affinity: Some(super::placement::ClusterAffinity {
                        required_during_scheduling_ignored_during_execution: Some(selector.clone()),
                        ..Default::default()
                    }),
                }),
                ..Default::default()
            };
            policy.checked().map_err(|why| {
                why.replace(
                    "policy.affinity.clusterAffinity.requiredDuringSchedulingIgnoredDuringExecution",
                    "clusterSelector",
                )
            })?;
        }
        match self.override_type {
            OverrideType::Delete if !self.json_patch_overrides.is_empty() => Err(
                "jsonPatchOverrides: a Delete rule keeps the objects off its members; it takes no patches"
                    .into(),
            ),
            OverrideType::JSONPatch if self.json_patch_overrides.is_empty() => {
                Err("jsonPatchOverrides: a JSONPatch rule needs at least one patch".into())
            }
            _ if self.json_patch_overrides.len() > MAX_PATCHES => Err(format!(
                "jsonPatchOverrides: at most {MAX_PATCHES} patches"
            )),
            _ => {
                for (i, patch) in self.json_patch_overrides.iter().enumerate() {
                    patch
                        .checked()
                        .map_err(|why| format!("jsonPatchOverrides[{i}].{why}"))?;
                }
                Ok(())
            }
        }
    }
}

impl JsonPatch {
    fn checked(&self) -> Result<(), String> {
        if !self.path.starts_with('/') {
            return Err(format!(
                "path: '{}' is not a JSON Pointer (it starts with '/')",
                self.path
            ));
        }
        let fixed = FIXED_PATHS
            .iter()
            .find(|fixed| self.path == **fixed || self.path.starts_with(&format!("{fixed}/")));
        if let Some(fixed) = fixed {
            return Err(format!(
                "path: {fixed} is the object's identity or the cluster's to write; an override cannot change it"
            ));
        }
        match (self.op, &self.value) {
            (PatchOp::Remove, Some(_)) => Err("value: remove takes no value".into()),
            (PatchOp::Add | PatchOp::Replace, None) => {
                Err(format!("value: {:?} needs one", self.op).to_lowercase())
            }
            _ => Ok(()),
        }
    }
}
