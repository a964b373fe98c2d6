//! A placement's status as users read it (`properties.status`): each member's state with the
//! snapshots it is to hold and why, and the states counted. Built from the schedule; what the
//! providers report of applied resources overrides `Scheduled` as rollouts arrive.

use super::placement::PlacementSchedule;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Where a member stands with a placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub enum MemberPlacementState {
    /// Picked; its resources are not applied yet.
    Scheduled,
    /// Its cluster accepted the objects of the snapshots named.
    Applied,
    /// Applied, and the objects report themselves available.
    Available,
    /// Applying failed; the reason is the provider's.
    Failed,
    /// Not picked; the reason says why.
    NotSelected,
}

impl MemberPlacementState {
    pub const ALL: [MemberPlacementState; 5] = [
        MemberPlacementState::Scheduled,
        MemberPlacementState::Applied,
        MemberPlacementState::Available,
        MemberPlacementState::Failed,
        MemberPlacementState::NotSelected,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MemberPlacementState::Scheduled => "Scheduled",
            MemberPlacementState::Applied => "Applied",
            MemberPlacementState::Available => "Available",
            MemberPlacementState::Failed => "Failed",
            MemberPlacementState::NotSelected => "NotSelected",
        }
    }
}

/// The snapshot of each placed resource, by resource name: what a member holds or is to hold.
pub type SnapshotSet = BTreeMap<String, i64>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberPlacementStatus {
    pub name: String,
    pub state: MemberPlacementState,
    /// For picked members: each resource's snapshot.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub snapshot: SnapshotSet,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlacementStatus {
    /// The schedule in one sentence.
    pub summary: String,
    /// PickFixed names that are not members of the fleet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// Every member, by name.
    pub members: Vec<MemberPlacementStatus>,
    /// How many members are in each state (every state named, zeros included).
    pub conditions: BTreeMap<String, usize>,
}

/// The status of a placement whose schedule is `schedule` and whose resources' newest snapshots
/// are `latest`, before anything is applied.
pub fn placement_status(schedule: &PlacementSchedule, latest: &SnapshotSet) -> PlacementStatus {
    let members: Vec<MemberPlacementStatus> = schedule
        .decisions
        .iter()
        .map(|decision| {
            let (state, snapshot) = if decision.selected {
                (MemberPlacementState::Scheduled, latest.clone())
            } else {
                (MemberPlacementState::NotSelected, SnapshotSet::new())
            };
            MemberPlacementStatus {
                name: decision.name.clone(),
                state,
                snapshot,
                reason: decision.reasons.join("; "),
            }
        })
        .collect();
    let mut conditions: BTreeMap<String, usize> = MemberPlacementState::ALL
        .iter()
        .map(|state| (state.as_str().to_owned(), 0))
        .collect();
    for member in &members {
        *conditions
            .entry(member.state.as_str().to_owned())
            .or_default() += 1;
    }
    PlacementStatus {
        summary: schedule.summary.clone(),
        missing: schedule.missing.clone(),
        members,
        conditions,
    }
}
