//! `plan`: everything a run will do, resolved before it starts. Used to validate a run at
//! creation, by the browser's live preview, and as the run's frozen layout.

use super::images::{ImageChoice, consistent_images};
use super::targets::{MemberAction, resolve_member, with_stopped_policy};
use super::{EngineConfig, IMPLICIT_NAME};
use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, Region};
use crate::model::member::ClusterResourceId;
use crate::model::names::{GroupName, MemberName};
use crate::model::strategy::UpdateStrategy;
use crate::model::target::UpgradeTarget;
use crate::model::time::{MS_PER_SECOND, Timestamp};
use crate::model::update::StoppedClusterAction;
use crate::model::update::{NodeImageSelectionType, RunSpec, Upgrade};
use crate::model::version::NodeImageVersion;
use crate::model::window::MaintenanceWindow;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, VecDeque};
use std::fmt;

/// A member as the plan sees it: its group and what its provider observes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanMember {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    pub group: Option<GroupName>,
    pub cluster: Result<ClusterState, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSnapshot {
    pub members: Vec<PlanMember>,
    pub catalog: Catalog,
}

/// Why a run cannot be created at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanRejection {
    InvalidStrategy(String),
    UnknownGroups(String),
    InvalidUpgrade(String),
    VersionNotOffered(String),
}

impl fmt::Display for PlanRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanRejection::InvalidStrategy(m)
            | PlanRejection::UnknownGroups(m)
            | PlanRejection::InvalidUpgrade(m)
            | PlanRejection::VersionNotOffered(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPlan {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    pub location: Option<Region>,
    #[serde(flatten)]
    pub action: MemberAction,
    /// When the upgrade starts and ends, counted from the run's start (upgrades only).
    pub starts_after_ms: Option<i64>,
    pub ends_after_ms: Option<i64>,
    /// Set when the member must wait for its maintenance window: when that window opens.
    pub waits_for_window_until: Option<Timestamp>,
    pub window: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupPlan {
    pub name: String,
    /// In the order they will be upgraded; skipped, pending and failing members last.
    pub members: Vec<MemberPlan>,
    pub ends_after_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StagePlan {
    pub name: String,
    pub groups: Vec<GroupPlan>,
    pub after_stage_wait_in_seconds: i64,
    pub starts_after_ms: i64,
    /// When the stage's last member finishes (its wait follows).
    pub ends_after_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub stages: Vec<StagePlan>,
    /// Members whose group no stage names: the run leaves them alone.
    pub not_in_any_stage: Vec<MemberName>,
    /// Consistent selection only: the image release per family, fixed when the run starts.
    pub selected_node_image_versions: Vec<NodeImageVersion>,
    pub warnings: Vec<String>,
    /// From start to completion (after the last stage's wait), if nothing fails.
    pub duration_ms: i64,
}

impl Plan {
    pub fn members(&self) -> impl Iterator<Item = &MemberPlan> {
        self.stages
            .iter()
            .flat_map(|s| s.groups.iter().flat_map(|g| g.members.iter()))
    }
}

/// Stages → groups → members, before anything is resolved.
struct Layout<'a> {
    stages: Vec<StageLayout<'a>>,
    not_in_any_stage: Vec<MemberName>,
}

struct StageLayout<'a> {
    name: String,
    wait_seconds: i64,
    groups: Vec<GroupLayout<'a>>,
}

struct GroupLayout<'a> {
    name: String,
    members: Vec<&'a PlanMember>,
}

fn layout<'a>(
    fleet: &'a FleetSnapshot,
    strategy: Option<&UpdateStrategy>,
) -> Result<Layout<'a>, PlanRejection> {
    let mut members: Vec<&PlanMember> = fleet.members.iter().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(strategy) = strategy else {
        let all = GroupLayout {
            name: IMPLICIT_NAME.to_owned(),
            members,
        };
        return Ok(Layout {
            stages: vec![StageLayout {
                name: IMPLICIT_NAME.to_owned(),
                wait_seconds: 0,
                groups: vec![all],
            }],
            not_in_any_stage: Vec::new(),
        });
    };
    strategy
        .validate()
        .map_err(PlanRejection::InvalidStrategy)?;
    let existing: BTreeSet<GroupName> = members.iter().filter_map(|m| m.group.clone()).collect();
    strategy
        .check_groups_exist(&existing)
        .map_err(PlanRejection::UnknownGroups)?;
    let listed: BTreeSet<&GroupName> = strategy.groups().collect();
    let stages = strategy
        .stages
        .iter()
        .map(|stage| {
            let groups = stage
                .groups
                .iter()
                .map(|g| {
                    let in_group = members
                        .iter()
                        .copied()
                        .filter(|m| m.group.as_ref() == Some(&g.name))
                        .collect();
                    GroupLayout {
                        name: g.name.to_string(),
                        members: in_group,
                    }
                })
                .collect();
            StageLayout {
                name: stage.name.to_string(),
                wait_seconds: stage.wait_seconds(),
                groups,
            }
        })
        .collect();
    let not_in_any_stage = members
        .iter()
        .filter(|m| m.group.as_ref().is_none_or(|g| !listed.contains(g)))
        .map(|m| m.name.clone())
        .collect();
    Ok(Layout {
        stages,
        not_in_any_stage,
    })
}

/// The members a run with `strategy` would take (all of them for none, or when the strategy is
/// not valid yet: the caller is composing it).
pub fn members_in_run<'a>(
    fleet: &'a FleetSnapshot,
    strategy: Option<&UpdateStrategy>,
) -> Vec<&'a PlanMember> {
    match layout(fleet, strategy) {
        Ok(layout) => layout
            .stages
            .into_iter()
            .flat_map(|s| s.groups.into_iter().flat_map(|g| g.members))
            .collect(),
        Err(_) => fleet.members.iter().collect(),
    }
}

/// Resolves a run against a fleet: see the module docs.
pub fn plan(
    fleet: &FleetSnapshot,
    spec: &RunSpec,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<Plan, PlanRejection> {
    let upgrade = spec
        .update
        .upgrade
        .checked()
        .map_err(PlanRejection::InvalidUpgrade)?;
    if let Some(version) = upgrade.kubernetes_version()
        && !fleet.catalog.kubernetes_versions.contains(&version)
    {
        let offered: Vec<String> = fleet
            .catalog
            .kubernetes_versions
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(PlanRejection::VersionNotOffered(format!(
            "Kubernetes {version} is not offered in any region (offered: {})",
            crate::model::names::in_brief(&offered)
        )));
    }
    let layout = layout(fleet, spec.strategy.as_ref())?;
    let in_run = layout
        .stages
        .iter()
        .flat_map(|stage| stage.groups.iter().flat_map(|g| g.members.iter()));
    let images = match spec.update.node_image_selection.kind {
        NodeImageSelectionType::Latest => ImageChoice::Latest,
        NodeImageSelectionType::Consistent => ImageChoice::Consistent(consistent_images(
            in_run.filter_map(|m| m.cluster.as_ref().ok()),
            &fleet.catalog,
        )),
    };
    let mut warnings = Vec::new();
    warnings.extend(not_in_any_stage_warning(&layout.not_in_any_stage));
    let mut stages = Vec::new();
    let mut t = 0;
    for StageLayout {
        name,
        wait_seconds,
        groups,
    } in layout.stages
    {
        let groups: Vec<GroupPlan> = groups
            .into_iter()
            .map(|group| {
                schedule_group(
                    group.name,
                    &group.members,
                    upgrade,
                    spec.update.stopped_cluster_action,
                    &images,
                    &fleet.catalog,
                    t,
                    now,
                    cfg,
                )
            })
            .collect();
        let ends = groups.iter().map(|g| g.ends_after_ms).max().unwrap_or(t);
        stages.push(StagePlan {
            name,
            groups,
            after_stage_wait_in_seconds: wait_seconds,
            starts_after_ms: t,
            ends_after_ms: ends,
        });
        t = ends + wait_seconds * MS_PER_SECOND;
    }
    let plan = Plan {
        stages,
        not_in_any_stage: layout.not_in_any_stage,
        selected_node_image_versions: images.selected_versions(),
        warnings,
        duration_ms: t,
    };
    Ok(with_failure_warnings(plan))
}

/// The warning that names members no stage touches, if there are any.
pub fn not_in_any_stage_warning(members: &[MemberName]) -> Option<String> {
    (!members.is_empty()).then(|| {
        format!(
            "not in any stage, so not updated: {}",
            crate::model::names::in_brief(members)
        )
    })
}

fn with_failure_warnings(mut plan: Plan) -> Plan {
    let failing: Vec<String> = plan
        .members()
        .filter_map(|m| match &m.action {
            MemberAction::Fail { reason } => Some(format!("{} will fail: {reason}", m.name)),
            MemberAction::Upgrade { .. }
            | MemberAction::Skip { .. }
            | MemberAction::Pending { .. } => None,
        })
        .collect();
    if !failing.is_empty() {
        plan.warnings.extend(failing);
        plan.warnings.push(
            "a failing member fails its group, stage and run; nothing after it starts".into(),
        );
    }
    plan
}

/// One member waiting its turn in a group.
struct Queued<'a> {
    member: &'a PlanMember,
    cluster: &'a ClusterState,
    /// The window that governs this upgrade on the cluster.
    window: Option<&'a MaintenanceWindow>,
    target: UpgradeTarget,
}

/// Orders a group's upgrades (open windows first, then the soonest to open; by name among equals)
/// and times them one after another from `start` (milliseconds after `now`).
#[allow(clippy::too_many_arguments)]
pub(super) fn schedule_group(
    name: String,
    members: &[&PlanMember],
    upgrade: Upgrade,
    stopped: StoppedClusterAction,
    images: &ImageChoice,
    catalog: &Catalog,
    start: i64,
    now: Timestamp,
    cfg: &EngineConfig,
) -> GroupPlan {
    let mut always_open = VecDeque::new();
    let mut windowed = Vec::new();
    let mut idle = Vec::new();
    for &member in members {
        let Ok(cluster) = &member.cluster else {
            let reason = format!(
                "the cluster cannot be observed: {}",
                member.cluster.as_ref().err().map_or("", String::as_str)
            );
            idle.push(member_plan(
                member,
                None,
                None,
                MemberAction::Pending { reason },
            ));
            continue;
        };
        let window = cluster.window_for(upgrade);
        let action = resolve_member(cluster, upgrade, images, catalog, cfg);
        match with_stopped_policy(action, cluster, stopped) {
            MemberAction::Upgrade { target } => {
                let queued = Queued {
                    member,
                    cluster,
                    window,
                    target,
                };
                match window {
                    None => always_open.push_back(queued),
                    Some(_) => windowed.push(queued),
                }
            }
            other => idle.push(member_plan(member, Some(cluster), window, other)),
        }
    }
    let mut t = start;
    let mut ordered = Vec::new();
    while let Some((queued, opens)) =
        next_in_group(&mut always_open, &mut windowed, now.plus_millis(t))
    {
        let begins = opens.map_or(t, |o| t.max(o.millis() - now.millis()));
        let ends = begins + cfg.durations.upgrade_ms(&queued.target, queued.cluster);
        let action = MemberAction::Upgrade {
            target: queued.target,
        };
        let mut plan = member_plan(queued.member, Some(queued.cluster), queued.window, action);
        plan.starts_after_ms = Some(begins);
        plan.ends_after_ms = Some(ends);
        plan.waits_for_window_until = opens.filter(|o| o.millis() - now.millis() > t);
        ordered.push(plan);
        t = ends;
    }
    ordered.extend(idle);
    GroupPlan {
        name,
        members: ordered,
        ends_after_ms: t,
    }
}

/// The next member to upgrade at `at`, and (for a windowed member) when its window opens.
fn next_in_group<'a>(
    always_open: &mut VecDeque<Queued<'a>>,
    windowed: &mut Vec<Queued<'a>>,
    at: Timestamp,
) -> Option<(Queued<'a>, Option<Timestamp>)> {
    let opening = |q: &Queued<'_>| q.window?.current_or_next(at).map(|span| span.start.max(at));
    let open_windowed = (0..windowed.len())
        .filter(|&i| opening(&windowed[i]) == Some(at))
        .min_by(|&a, &b| windowed[a].member.name.cmp(&windowed[b].member.name));
    match (always_open.front(), open_windowed) {
        (Some(head), Some(i)) if windowed[i].member.name < head.member.name => {
            Some((windowed.remove(i), Some(at)))
        }
        (Some(_), _) => always_open.pop_front().map(|q| (q, None)),
        (None, Some(i)) => Some((windowed.remove(i), Some(at))),
        (None, None) => {
            let soonest = (0..windowed.len())
                .min_by_key(|&i| (opening(&windowed[i]), windowed[i].member.name.clone()))?;
            let opens = opening(&windowed[soonest]);
            Some((windowed.remove(soonest), opens))
        }
    }
}

fn member_plan(
    member: &PlanMember,
    cluster: Option<&ClusterState>,
    window: Option<&MaintenanceWindow>,
    action: MemberAction,
) -> MemberPlan {
    MemberPlan {
        name: member.name.clone(),
        cluster_resource_id: member.cluster_resource_id.clone(),
        location: cluster.map(|c| c.location.clone()),
        action,
        starts_after_ms: None,
        ends_after_ms: None,
        waits_for_window_until: None,
        window: window.map(MaintenanceWindow::describe),
    }
}
