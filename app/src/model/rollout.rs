//! Update runs that roll a placement out instead of upgrading clusters: KubeFleet's staged
//! update run of a placement whose strategy is `External`. The run's stages, gates,
//! concurrency and failure budgets pace the change; each member is given the placement's
//! objects at the run's snapshots (with the member's overrides), and counts as done when its
//! cluster reports them available.

use super::names::PlacementName;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which snapshots a run rolls out, as a request gives them: one index (for a placement that
/// carries one resource), or an index per resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum SnapshotChoice {
    Index(i64),
    PerResource(BTreeMap<String, i64>),
}

/// `placementRollout` as a request to create a run gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PlacementRolloutRequest {
    /// An `External` placement of the run's fleet.
    pub placement_name: String,
    /// The snapshots to roll out; absent: the newest of each resource when the run is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotChoice>,
}

/// What a placement run rolls out, fixed when it is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlacementRollout {
    pub placement_name: PlacementName,
    /// The snapshot of every resource the placement names, by resource name.
    pub snapshot: BTreeMap<String, i64>,
}

impl PlacementRollout {
    /// Who owns the objects on a cluster, as the providers are told: `{fleet}/{placement}`.
    pub fn owner(&self, fleet: &str) -> String {
        format!("{fleet}/{}", self.placement_name)
    }

    /// The request that makes a run of the same rollout (a catch-up run).
    pub fn request(&self) -> PlacementRolloutRequest {
        PlacementRolloutRequest {
            placement_name: self.placement_name.to_string(),
            snapshot: Some(SnapshotChoice::PerResource(self.snapshot.clone())),
        }
    }
}

/// What a member of a placement run is given: the placement's objects at `revision` (the
/// snapshots, with the overrides that change the member's objects).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResourceTarget {
    pub placement: PlacementName,
    pub revision: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_one_index_or_one_per_resource() {
        let one: PlacementRolloutRequest =
            serde_json::from_str(r#"{"placementName": "web", "snapshot": 3}"#).unwrap();
        assert_eq!(one.snapshot, Some(SnapshotChoice::Index(3)));
        let each: PlacementRolloutRequest =
            serde_json::from_str(r#"{"placementName": "web", "snapshot": {"web": 3, "db": 1}}"#)
                .unwrap();
        let Some(SnapshotChoice::PerResource(each)) = each.snapshot else {
            panic!("per resource");
        };
        assert_eq!(each["db"], 1);
        let newest: PlacementRolloutRequest =
            serde_json::from_str(r#"{"placementName": "web"}"#).unwrap();
        assert_eq!(newest.snapshot, None);
        assert!(
            serde_json::from_str::<PlacementRolloutRequest>(r#"{"placement": "web"}"#).is_err()
        );
    }
}
