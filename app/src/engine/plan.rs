//! `plan`: everything a run will do, resolved before it starts. Used to validate a run at
//! creation, by the browser's live preview, and as the run's frozen layout.

use super::EngineConfig;
use super::hops::{HopRule, first_pass};
use super::images::{ImageChoice, consistent_images};
use super::layout::{Layout, frozen, layout};
use super::schedule::{GroupQueue, Resolver, schedule_stage};
use super::targets::MemberAction;
use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, Region};
use crate::model::gate::GateConfiguration;
use crate::model::member::{ClusterResourceId, Labels};
use crate::model::names::{GroupName, MemberName};
use crate::model::run::Limits;
use crate::model::run::{RunHop, UpdateRun};
use crate::model::time::{MS_PER_SECOND, Timestamp};
use crate::model::update::{Hops, NodeImageSelectionType, RunSpec, Upgrade};
use crate::model::version::NodeImageVersion;
use crate::model::window::MaintenanceWindow;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A member as the plan sees it: its group and what its provider observes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct PlanMember {
    pub name: MemberName,
    pub cluster_resource_id: ClusterResourceId,
    pub group: Option<GroupName>,
    pub cluster: Result<ClusterState, String>,
    /// Its labels, for strategies that choose members by label.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
pub struct FleetSnapshot {
    pub members: Vec<PlanMember>,
    pub catalog: Catalog,
}

/// Why a run cannot be created at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanRejection {
    InvalidStrategy(String),
    UnknownGroups(String),
    /// Selectors that put a member in two stages or groups.
    OverlappingSelection(String),
    InvalidUpgrade(String),
    VersionNotOffered(String),
}

impl fmt::Display for PlanRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanRejection::InvalidStrategy(m)
            | PlanRejection::UnknownGroups(m)
            | PlanRejection::OverlappingSelection(m)
            | PlanRejection::InvalidUpgrade(m)
            | PlanRejection::VersionNotOffered(m) => f.write_str(m),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GroupPlan {
    pub name: String,
    /// In the order they will be upgraded; skipped, pending and failing members last.
    pub members: Vec<MemberPlan>,
    pub ends_after_ms: i64,
    /// Its `maxConcurrency` and `maxAllowedFailures`, resolved over its members.
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub gates: GatesPlan,
}

/// A stage's or group's gates as the plan times them, approvals granted as soon as reached.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GatesPlan {
    pub before: Vec<GatePlan>,
    pub after: Vec<GatePlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct GatePlan {
    pub config: GateConfiguration,
    /// When the run reaches it, and when it passes (a scheduled start's time; an approval's
    /// reaching, if approved at once), in milliseconds from the run's start.
    pub reached_after_ms: i64,
    pub passes_after_ms: i64,
}

impl GatesPlan {
    /// Before-gates reached at `at` (ms after `now`): their timing, and when all have passed.
    pub fn before(configs: &[GateConfiguration], at: i64, now: Timestamp) -> (Vec<GatePlan>, i64) {
        let gates: Vec<GatePlan> = configs
            .iter()
            .map(|config| {
                let passes = match &config.scheduled_start_configuration {
                    Some(scheduled) => {
                        scheduled.next_at(now.plus_millis(at)).millis() - now.millis()
                    }
                    None => at,
                };
                GatePlan {
                    config: config.clone(),
                    reached_after_ms: at,
                    passes_after_ms: passes,
                }
            })
            .collect();
        let opens = gates.iter().map(|g| g.passes_after_ms).max().unwrap_or(at);
        (gates, opens)
    }

    /// After-gates reached (and, approved at once, passed) at `at`.
    pub fn after(configs: &[GateConfiguration], at: i64) -> Vec<GatePlan> {
        configs
            .iter()
            .map(|config| GatePlan {
                config: config.clone(),
                reached_after_ms: at,
                passes_after_ms: at,
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct StagePlan {
    pub name: String,
    pub groups: Vec<GroupPlan>,
    pub after_stage_wait_in_seconds: i64,
    pub starts_after_ms: i64,
    /// When the stage's last member finishes (its wait follows).
    pub ends_after_ms: i64,
    /// Its ceiling and failure budget, resolved over its members.
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub gates: GatesPlan,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
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
    /// The run-level failure budget, resolved over the run's members.
    #[serde(default)]
    pub max_allowed_failures: Option<u32>,
    /// The pass of a chain the stages are (`hops: PerStrategyPass`, some member more than one
    /// minor behind); `firstRun` is empty before the run is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hop: Option<RunHop>,
    /// Every pass of the chain from this one on, timed one after another (`durationMs` ends
    /// with the last); empty for a run that is not a chain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hops: Vec<HopPlan>,
}

/// One pass of a chain as the plan times it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct HopPlan {
    pub number: u32,
    pub of: u32,
    /// Where the pass takes its members: a minor (`1.29`, each member to its newest patch in
    /// the member's region), or the run's target for the last pass.
    pub to: String,
    pub starts_after_ms: i64,
    pub ends_after_ms: i64,
    /// How many members the pass upgrades, and how many it leaves pending or failing.
    pub upgrades: usize,
    pub not_upgraded: usize,
}

impl Plan {
    pub fn members(&self) -> impl Iterator<Item = &MemberPlan> {
        self.stages
            .iter()
            .flat_map(|s| s.groups.iter().flat_map(|g| g.members.iter()))
    }
}

/// Resolves a run against a fleet: see the module docs.
pub fn plan(
    fleet: &FleetSnapshot,
    spec: &RunSpec,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<Plan, PlanRejection> {
    let upgrade = checked_upgrade(spec, &fleet.catalog)?;
    let layout = layout(fleet, spec.strategy.as_ref())?;
    let hop = match (spec.update.upgrade.hops, upgrade.kubernetes_version()) {
        (Hops::PerStrategyPass, Some(target)) => first_pass(clusters_of(&layout), target),
        _ => None,
    };
    Ok(super::passes::plan_chain(
        layout, fleet, spec, upgrade, hop, now, cfg,
    ))
}

/// The plan of a later pass of a chain (`hop`), over the fleet as it is now.
pub fn plan_pass(
    fleet: &FleetSnapshot,
    spec: &RunSpec,
    hop: RunHop,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<Plan, PlanRejection> {
    let upgrade = checked_upgrade(spec, &fleet.catalog)?;
    let layout = layout(fleet, spec.strategy.as_ref())?;
    Ok(super::passes::plan_chain(
        layout,
        fleet,
        spec,
        upgrade,
        Some(hop),
        now,
        cfg,
    ))
}

/// The clusters a layout's stages take, as observed.
pub(super) fn clusters_of<'a>(layout: &'a Layout<'_>) -> impl Iterator<Item = &'a ClusterState> {
    layout
        .stages
        .iter()
        .flat_map(|stage| stage.groups.iter().flat_map(|g| g.members.iter()))
        .filter_map(|m| m.cluster.as_ref().ok())
}

/// What a created run would do from here, in its own frozen layout, against `fleet` (its
/// members' clusters as they are now).
pub fn replan(
    run: &UpdateRun,
    fleet: &FleetSnapshot,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Result<Plan, PlanRejection> {
    let upgrade = checked_upgrade(&run.spec, &fleet.catalog)?;
    let layout = frozen(run, fleet);
    Ok(super::passes::plan_chain(
        layout,
        fleet,
        &run.spec,
        upgrade,
        run.hop.clone(),
        now,
        cfg,
    ))
}

/// The upgrade, if it is well formed and its version is offered somewhere.
fn checked_upgrade(spec: &RunSpec, catalog: &Catalog) -> Result<Upgrade, PlanRejection> {
    let upgrade = spec
        .update
        .upgrade
        .checked()
        .map_err(PlanRejection::InvalidUpgrade)?;
    if let Some(defer) = &spec.update.defer_until_available {
        defer.checked().map_err(PlanRejection::InvalidUpgrade)?;
    }
    spec.update
        .node_image_selection
        .checked()
        .and_then(|custom| super::images::check_custom_images(&custom, catalog))
        .map_err(PlanRejection::InvalidUpgrade)?;
    if let Some(version) = upgrade.kubernetes_version()
        && !catalog.kubernetes_versions.contains(&version)
    {
        let offered: Vec<String> = catalog
            .kubernetes_versions
            .iter()
            .map(ToString::to_string)
            .collect();
        return Err(PlanRejection::VersionNotOffered(format!(
            "Kubernetes {version} is not offered in any region (offered: {})",
            crate::model::names::in_brief(&offered)
        )));
    }
    Ok(upgrade)
}

/// One pass (or the whole of a run that is not a chain) over `layout`, its members crossing
/// minors by `hops`.
pub(super) fn plan_layout(
    layout: Layout<'_>,
    fleet: &FleetSnapshot,
    spec: &RunSpec,
    (upgrade, hops): (Upgrade, HopRule),
    now: Timestamp,
    cfg: &EngineConfig,
) -> Plan {
    let in_run: Vec<_> = clusters_of(&layout).collect();
    let images = match spec.update.node_image_selection.kind {
        NodeImageSelectionType::Latest => ImageChoice::Latest,
        NodeImageSelectionType::Consistent => {
            ImageChoice::Consistent(consistent_images(in_run.iter().copied(), &fleet.catalog))
        }
        NodeImageSelectionType::Custom => ImageChoice::Custom(
            spec.update
                .node_image_selection
                .checked()
                .unwrap_or_default(),
        ),
    };
    let mut warnings = Vec::new();
    warnings.extend(not_in_any_stage_warning(&layout.not_in_any_stage));
    if upgrade.moves_node_images() {
        warnings.extend(super::images::unnamed_families_warning(&images, &in_run));
    }
    let resolver = Resolver {
        upgrade,
        hops,
        stopped: spec.update.stopped_cluster_action,
        images: &images,
        catalog: &fleet.catalog,
        cfg,
        now,
    };
    let mut stages = Vec::new();
    let mut t = 0;
    for stage in layout.stages {
        let (before, groups_start) = GatesPlan::before(&stage.before_gates, t, now);
        let queues = stage
            .groups
            .into_iter()
            .map(|g| {
                let (before, opens) = GatesPlan::before(&g.before_gates, groups_start, now);
                GroupQueue::new(g.name, g.limits, &g.members, Vec::new(), &resolver).with_gates(
                    before,
                    g.after_gates.to_vec(),
                    opens,
                )
            })
            .collect();
        let ceiling = stage.limits.max_concurrency.map(|c| c as usize);
        let groups = schedule_stage(queues, ceiling, groups_start, &resolver);
        let ends = groups
            .iter()
            .map(|g| g.ends_after_ms)
            .max()
            .unwrap_or(groups_start);
        stages.push(StagePlan {
            name: stage.name,
            groups,
            after_stage_wait_in_seconds: stage.wait_seconds,
            starts_after_ms: t,
            ends_after_ms: ends,
            limits: stage.limits,
            gates: GatesPlan {
                before,
                after: GatesPlan::after(&stage.after_gates, ends),
            },
        });
        t = ends + stage.wait_seconds * MS_PER_SECOND;
    }
    let plan = Plan {
        stages,
        not_in_any_stage: layout.not_in_any_stage,
        selected_node_image_versions: images.selected_versions(),
        warnings,
        duration_ms: t,
        max_allowed_failures: layout.max_allowed_failures,
        hop: None,
        hops: Vec::new(),
    };
    let mut plan = with_failure_warnings(plan);
    plan.warnings
        .extend(deferral_warning(&plan, spec.update.defer_until_available));
    plan
}

/// With `deferUntilAvailable`, what the pending members will do: wait, holding their groups.
fn deferral_warning(
    plan: &Plan,
    defer: Option<crate::model::update::DeferUntilAvailable>,
) -> Option<String> {
    let defer = defer?;
    let pending = plan
        .members()
        .filter(|m| matches!(m.action, MemberAction::Pending { .. }))
        .count();
    (pending > 0).then(|| {
        format!(
            "{pending} pending member(s) will wait up to {} each for what they need to reach their region, holding their groups (deferUntilAvailable)",
            crate::model::time::span(defer.max_wait_in_seconds * MS_PER_SECOND)
        )
    })
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
        plan.warnings.push(match first_budget_spent(&plan) {
            Some(what) => format!(
                "the failing members exceed the failure budget of {what}: it fails, and nothing \
                 after it starts"
            ),
            None => "the failing members are within the failure budgets; the run goes on".into(),
        });
    }
    plan
}

/// The first level (in run order) whose failure budget the members the plan knows will fail
/// exceed, in words.
fn first_budget_spent(plan: &Plan) -> Option<String> {
    let failing = |g: &GroupPlan| {
        g.members
            .iter()
            .filter(|m| matches!(m.action, MemberAction::Fail { .. }))
            .count()
    };
    let over = |failed: usize, budget: Option<u32>| budget.is_some_and(|b| failed > b as usize);
    let mut in_run = 0;
    for stage in &plan.stages {
        let mut in_stage = 0;
        for group in &stage.groups {
            let failed = failing(group);
            in_stage += failed;
            let budget = match (
                group.limits.max_allowed_failures,
                stage.limits.max_allowed_failures,
            ) {
                (None, None) => Some(0),
                (own, _) => own,
            };
            if over(failed, budget) {
                return Some(format!(
                    "group {} (allowed {})",
                    group.name,
                    budget.unwrap_or(0)
                ));
            }
        }
        in_run += in_stage;
        if over(in_stage, stage.limits.max_allowed_failures) {
            let allowed = stage.limits.max_allowed_failures.unwrap_or(0);
            return Some(format!("stage {} (allowed {allowed})", stage.name));
        }
        if over(in_run, plan.max_allowed_failures) {
            let allowed = plan.max_allowed_failures.unwrap_or(0);
            return Some(format!("the run (allowed {allowed})"));
        }
    }
    None
}

pub(super) fn member_plan(
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
