//! A placement's status as users read it (`properties.status`): each member's state with the
//! snapshots it is to hold and why, and the states counted. Built from the schedule; what the
//! providers report of applied resources overrides `Scheduled` as rollouts arrive.

use super::placement::{MemberDecision, PlacementSchedule};
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

/// The revision a set of snapshots makes on a cluster: `db@1,web@3` (by resource name).
pub fn revision_of(snapshot: &SnapshotSet) -> String {
    snapshot
        .iter()
        .map(|(resource, index)| format!("{resource}@{index}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What was last done with a placement on one member, as its rollout recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedRecord {
    /// The snapshots applied (or whose apply failed).
    pub snapshot: SnapshotSet,
    /// `Applied`, `Available` or `Failed`.
    pub state: MemberPlacementState,
    /// What the provider said, or what was done.
    pub reason: String,
}

/// The status of a placement whose schedule is `schedule`, whose resources' newest snapshots are
/// `latest`, and whose rollout recorded `records` (by member).
pub fn placement_status(
    schedule: &PlacementSchedule,
    latest: &SnapshotSet,
    records: &BTreeMap<String, AppliedRecord>,
) -> PlacementStatus {
    let members: Vec<MemberPlacementStatus> = schedule
        .decisions
        .iter()
        .map(|decision| member_status(decision, latest, records.get(&decision.name)))
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

fn member_status(
    decision: &MemberDecision,
    latest: &SnapshotSet,
    record: Option<&AppliedRecord>,
) -> MemberPlacementStatus {
    let mut reason = decision.reasons.join("; ");
    let mut add = |more: String| {
        if !reason.is_empty() {
            reason.push_str("; ");
        }
        reason.push_str(&more);
    };
    let (state, snapshot) = match (decision.selected, record) {
        (false, None) => (MemberPlacementState::NotSelected, SnapshotSet::new()),
        (false, Some(record)) => {
            add(format!(
                "holds {}, to be removed",
                revision_of(&record.snapshot)
            ));
            (MemberPlacementState::NotSelected, SnapshotSet::new())
        }
        (true, Some(record)) if record.snapshot == *latest => {
            add(record.reason.clone());
            (record.state, latest.clone())
        }
        (true, Some(record)) => {
            let held = match record.state {
                MemberPlacementState::Failed => {
                    format!("applying {} failed", revision_of(&record.snapshot))
                }
                _ => format!("holds {}", revision_of(&record.snapshot)),
            };
            add(format!("{held}; {} is next", revision_of(latest)));
            (MemberPlacementState::Scheduled, latest.clone())
        }
        (true, None) => (MemberPlacementState::Scheduled, latest.clone()),
    };
    MemberPlacementStatus {
        name: decision.name.clone(),
        state,
        snapshot,
        reason,
    }
}
