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

/// The count, among the conditions, of members whose cluster reports drift.
pub const DRIFTED: &str = "Drifted";

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
    /// The overrides that change its objects, `name@etag`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<String>,
    pub reason: String,
    /// Objects changed on the member's cluster by hand since its objects were applied: the
    /// cluster no longer holds exactly what the placement gave it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<String>,
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

/// What one picked member is to hold: the snapshots' revision with the overrides that change
/// its objects (`web@3+eu@2`), or why its objects cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MemberTarget {
    pub revision: String,
    /// The overrides that change the member's objects, `name@etag`.
    pub overrides: Vec<String>,
    /// Why the member's objects cannot be made (a patch that does not apply).
    pub problem: Option<String>,
}

impl MemberTarget {
    /// The member holds `latest`'s objects as they are.
    pub fn plain(latest: &SnapshotSet) -> Self {
        Self {
            revision: revision_of(latest),
            overrides: Vec::new(),
            problem: None,
        }
    }

    /// The member holds `manifests`, `latest`'s objects changed by `overrides` (`name@etag`):
    /// the revision names the overrides and a digest of the objects (`web@3+eu#1f2e3d4c`), so
    /// it changes exactly when what the member holds changes.
    pub fn overridden(
        latest: &SnapshotSet,
        overrides: Vec<String>,
        manifests: &[serde_json::Value],
    ) -> Self {
        if overrides.is_empty() {
            return Self::plain(latest);
        }
        let names: Vec<&str> = overrides
            .iter()
            .map(|o| o.split('@').next().unwrap_or(o))
            .collect();
        let text = serde_json::to_string(manifests).unwrap_or_default();
        let digest = super::channels::fnv1a(&text) >> 32;
        Self {
            revision: format!("{}+{}#{digest:08x}", revision_of(latest), names.join(",")),
            overrides,
            problem: None,
        }
    }

    /// The member's objects cannot be made: `tried` names what was tried (the overrides), so a
    /// failure is not taken for the plain objects and the same attempt is not repeated.
    pub fn failed(latest: &SnapshotSet, tried: Vec<String>, problem: String) -> Self {
        let mut revision = revision_of(latest);
        if !tried.is_empty() {
            revision = format!("{revision}+{}", tried.join(","));
        }
        Self {
            revision,
            overrides: tried,
            problem: Some(problem),
        }
    }
}

/// What was last done with a placement on one member, as its rollout recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppliedRecord {
    /// The snapshots applied (or whose apply failed).
    pub snapshot: SnapshotSet,
    /// The revision given to the cluster: the snapshots and the overrides.
    pub revision: String,
    /// `Applied`, `Available` or `Failed`.
    pub state: MemberPlacementState,
    /// What the provider said, or what was done.
    pub reason: String,
    /// Objects changed on the cluster by hand since the revision was applied, as its provider
    /// last reported them (`ConfigMap web/settings`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<String>,
}

/// The status of a placement whose schedule is `schedule`, whose resources' newest snapshots are
/// `latest`, whose picked members are to hold `targets` (a member without one: `latest` as it
/// is), and whose rollout recorded `records` (by member).
///
/// `by_run`: the placement is `External`, so what comes next comes with an update run.
pub fn placement_status(
    schedule: &PlacementSchedule,
    latest: &SnapshotSet,
    targets: &BTreeMap<String, MemberTarget>,
    records: &BTreeMap<String, AppliedRecord>,
    by_run: bool,
) -> PlacementStatus {
    let plain = MemberTarget::plain(latest);
    let members: Vec<MemberPlacementStatus> = schedule
        .decisions
        .iter()
        .map(|decision| {
            let target = targets.get(&decision.name).unwrap_or(&plain);
            member_status(
                decision,
                latest,
                target,
                records.get(&decision.name),
                by_run,
            )
        })
        .collect();
    let mut conditions: BTreeMap<String, usize> = MemberPlacementState::ALL
        .iter()
        .map(|state| (state.as_str().to_owned(), 0))
        .collect();
    conditions.insert(DRIFTED.to_owned(), 0);
    for member in &members {
        *conditions
            .entry(member.state.as_str().to_owned())
            .or_default() += 1;
        if !member.drifted.is_empty() {
            *conditions.entry(DRIFTED.to_owned()).or_default() += 1;
        }
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
    target: &MemberTarget,
    record: Option<&AppliedRecord>,
    by_run: bool,
) -> MemberPlacementStatus {
    let next = match by_run {
        true => "waits for an update run (External)",
        false => "is next",
    };
    let mut reason = decision.reasons.join("; ");
    let mut add = |more: &str| {
        if !reason.is_empty() {
            reason.push_str("; ");
        }
        reason.push_str(more);
    };
    let picked = decision.selected;
    let recorded = record.is_some_and(|r| r.revision == target.revision);
    if let (true, false, Some(problem)) = (picked, recorded, &target.problem) {
        add(problem);
    }
    let state = match (picked, record) {
        (false, None) => MemberPlacementState::NotSelected,
        (false, Some(record)) => {
            add(&format!("holds {}, to be removed", record.revision));
            MemberPlacementState::NotSelected
        }
        (true, Some(record)) if record.revision == target.revision => {
            add(&record.reason);
            if !record.drifted.is_empty() {
                add(&format!(
                    "drifted: {} changed on the cluster since {} was applied",
                    record.drifted.join(", "),
                    record.revision
                ));
            }
            record.state
        }
        (true, Some(record)) => {
            let held = match record.state {
                MemberPlacementState::Failed => format!("applying {} failed", record.revision),
                _ => format!("holds {}", record.revision),
            };
            add(&format!("{held}; {} {next}", target.revision));
            MemberPlacementState::Scheduled
        }
        (true, None) if by_run => {
            add(&format!("{} {next}", target.revision));
            MemberPlacementState::Scheduled
        }
        (true, None) => MemberPlacementState::Scheduled,
    };
    let (snapshot, overrides) = if picked {
        (latest.clone(), target.overrides.clone())
    } else {
        (SnapshotSet::new(), Vec::new())
    };
    let drifted = match record {
        Some(record) if picked && record.revision == target.revision => record.drifted.clone(),
        _ => Vec::new(),
    };
    MemberPlacementStatus {
        name: decision.name.clone(),
        state,
        snapshot,
        overrides,
        reason,
        drifted,
    }
}
