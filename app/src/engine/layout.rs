//! A run's layout: which members each stage and group takes, before anything is resolved.
//! A group takes the members of its update group, or those its `memberSelector` selects; a
//! stage with a selector offers its groups only the members it selects, and runs them as one
//! group named after it when it has no groups. A member may fall in one stage and one group
//! only: a strategy whose selectors overlap is refused, naming the members.

use super::IMPLICIT_NAME;
use super::plan::{FleetSnapshot, PlanMember, PlanRejection};
use crate::model::gate::{GateConfiguration, GateRun};
use crate::model::limits::{MaxAllowedFailures, MaxConcurrency};
use crate::model::names::{GroupName, MemberName, in_brief};
use crate::model::run::{Limits, UpdateRun};
use crate::model::strategy::{GroupRef, UpdateStage, UpdateStrategy};
use std::collections::{BTreeMap, BTreeSet};

/// Stages → groups → members.
pub(super) struct Layout<'a> {
    pub stages: Vec<StageLayout<'a>>,
    /// Members no stage takes: the run leaves them alone.
    pub not_in_any_stage: Vec<MemberName>,
    /// The run-level failure budget, resolved over the members the stages take.
    pub max_allowed_failures: Option<u32>,
}

pub(super) struct StageLayout<'a> {
    pub name: String,
    pub wait_seconds: i64,
    pub groups: Vec<GroupLayout<'a>>,
    pub limits: Limits,
    pub before_gates: Vec<GateConfiguration>,
    pub after_gates: Vec<GateConfiguration>,
}

pub(super) struct GroupLayout<'a> {
    pub name: String,
    pub members: Vec<&'a PlanMember>,
    pub limits: Limits,
    pub before_gates: Vec<GateConfiguration>,
    pub after_gates: Vec<GateConfiguration>,
}

/// Percentages become member counts over `members`, as they stay for the run.
pub(super) fn resolve_limits(
    concurrency: Option<MaxConcurrency>,
    failures: Option<MaxAllowedFailures>,
    members: usize,
) -> Limits {
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Limits {
        max_concurrency: concurrency.map(|c| count(c.resolve(members))),
        max_allowed_failures: failures.map(|f| count(f.resolve(members))),
    }
}

pub(super) fn layout<'a>(
    fleet: &'a FleetSnapshot,
    strategy: Option<&'a UpdateStrategy>,
) -> Result<Layout<'a>, PlanRejection> {
    let mut members: Vec<&PlanMember> = fleet.members.iter().collect();
    members.sort_by(|a, b| a.name.cmp(&b.name));
    let Some(strategy) = strategy else {
        return Ok(one_by_one(members));
    };
    strategy
        .validate()
        .map_err(PlanRejection::InvalidStrategy)?;
    let existing: BTreeSet<GroupName> = members.iter().filter_map(|m| m.group.clone()).collect();
    strategy
        .check_groups_exist(&existing)
        .map_err(PlanRejection::UnknownGroups)?;
    let by_group = by_update_group(&members);
    let stages: Vec<StageLayout<'a>> = strategy
        .stages
        .iter()
        .map(|stage| stage_layout(stage, &members, &by_group))
        .collect();
    check_no_overlap(&stages)?;
    let placed: BTreeSet<&MemberName> = stages
        .iter()
        .flat_map(|s| &s.groups)
        .flat_map(|g| g.members.iter().map(|m| &m.name))
        .collect();
    let not_in_any_stage = members
        .iter()
        .filter(|m| !placed.contains(&m.name))
        .map(|m| m.name.clone())
        .collect();
    let max_allowed_failures =
        resolve_limits(None, strategy.max_allowed_failures, placed.len()).max_allowed_failures;
    Ok(Layout {
        stages,
        not_in_any_stage,
        max_allowed_failures,
    })
}

/// No strategy: one stage, one group, every member.
fn one_by_one(members: Vec<&PlanMember>) -> Layout<'_> {
    let all = GroupLayout {
        name: IMPLICIT_NAME.to_owned(),
        members,
        limits: Limits::default(),
        before_gates: Vec::new(),
        after_gates: Vec::new(),
    };
    Layout {
        stages: vec![StageLayout {
            name: IMPLICIT_NAME.to_owned(),
            wait_seconds: 0,
            groups: vec![all],
            limits: Limits::default(),
            before_gates: Vec::new(),
            after_gates: Vec::new(),
        }],
        not_in_any_stage: Vec::new(),
        max_allowed_failures: None,
    }
}

fn by_update_group<'a>(members: &[&'a PlanMember]) -> BTreeMap<&'a GroupName, Vec<&'a PlanMember>> {
    let mut by_group: BTreeMap<&GroupName, Vec<&PlanMember>> = BTreeMap::new();
    for &member in members {
        if let Some(group) = &member.group {
            by_group.entry(group).or_default().push(member);
        }
    }
    by_group
}

fn stage_layout<'a>(
    stage: &'a UpdateStage,
    members: &[&'a PlanMember],
    by_group: &BTreeMap<&'a GroupName, Vec<&'a PlanMember>>,
) -> StageLayout<'a> {
    let selected = |m: &PlanMember| {
        stage
            .member_selector
            .as_ref()
            .is_none_or(|s| s.by_label.matches(&m.labels))
    };
    let groups: Vec<GroupLayout<'a>> = match stage.groups.as_slice() {
        // Chosen by the stage's selector alone: one group named after the stage, as many at
        // once as the stage allows.
        [] => {
            let chosen: Vec<&PlanMember> =
                members.iter().copied().filter(|m| selected(m)).collect();
            let limits = resolve_limits(stage.max_concurrency, None, chosen.len());
            vec![GroupLayout {
                name: stage.name.to_string(),
                members: chosen,
                limits,
                before_gates: Vec::new(),
                after_gates: Vec::new(),
            }]
        }
        groups => groups
            .iter()
            .map(|g| group_layout(g, members, by_group, &selected))
            .collect(),
    };
    let size = groups.iter().map(|g| g.members.len()).sum();
    StageLayout {
        name: stage.name.to_string(),
        wait_seconds: stage.wait_seconds(),
        limits: resolve_limits(stage.max_concurrency, stage.max_allowed_failures, size),
        groups,
        before_gates: stage.before_gates.clone(),
        after_gates: stage.after_gates.clone(),
    }
}

fn group_layout<'a>(
    group: &'a GroupRef,
    members: &[&'a PlanMember],
    by_group: &BTreeMap<&'a GroupName, Vec<&'a PlanMember>>,
    in_stage: &dyn Fn(&PlanMember) -> bool,
) -> GroupLayout<'a> {
    let chosen: Vec<&PlanMember> = match &group.member_selector {
        Some(selector) => members
            .iter()
            .copied()
            .filter(|m| in_stage(m) && selector.by_label.matches(&m.labels))
            .collect(),
        None => by_group
            .get(&group.name)
            .into_iter()
            .flatten()
            .copied()
            .filter(|m| in_stage(m))
            .collect(),
    };
    GroupLayout {
        name: group.name.to_string(),
        limits: resolve_limits(
            group.max_concurrency,
            group.max_allowed_failures,
            chosen.len(),
        ),
        members: chosen,
        before_gates: group.before_gates.clone(),
        after_gates: group.after_gates.clone(),
    }
}

/// Refuses a layout in which a member falls in two groups (of one stage or of two).
fn check_no_overlap(stages: &[StageLayout<'_>]) -> Result<(), PlanRejection> {
    let mut seen: BTreeMap<&MemberName, (&str, &str)> = BTreeMap::new();
    let mut overlaps: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for stage in stages {
        for group in &stage.groups {
            for member in &group.members {
                if let Some((stage_was, group_was)) =
                    seen.insert(&member.name, (&stage.name, &group.name))
                {
                    let place = |s: &str, g: &str| match s == g {
                        true => format!("stage {s}"),
                        false => format!("stage {s} (group {g})"),
                    };
                    let pair = (place(stage_was, group_was), place(&stage.name, &group.name));
                    overlaps
                        .entry(pair)
                        .or_default()
                        .push(member.name.to_string());
                }
            }
        }
    }
    match overlaps.into_iter().next() {
        None => Ok(()),
        Some(((first, second), names)) => Err(PlanRejection::OverlappingSelection(format!(
            "members would fall in both {first} and {second}: {}; a member may be in one stage and group only",
            in_brief(&names)
        ))),
    }
}

/// A created run's own layout: its frozen stages, groups, members (those `fleet` still has,
/// with what their clusters run now), limits and gates, whatever its selectors would choose
/// today.
pub(super) fn frozen<'a>(run: &UpdateRun, fleet: &'a FleetSnapshot) -> Layout<'a> {
    let by_name = by_name(fleet);
    let configs = |gates: &[GateRun]| gates.iter().map(|g| g.config.clone()).collect();
    let stages = run
        .stages
        .iter()
        .map(|stage| StageLayout {
            name: stage.name.clone(),
            wait_seconds: stage.after_stage_wait_in_seconds,
            limits: stage.limits,
            before_gates: configs(&stage.before_gates),
            after_gates: configs(&stage.after_gates),
            groups: stage
                .groups
                .iter()
                .map(|group| GroupLayout {
                    name: group.name.clone(),
                    members: named(group.members.iter().map(|m| &m.name), &by_name),
                    limits: group.limits,
                    before_gates: configs(&group.before_gates),
                    after_gates: configs(&group.after_gates),
                })
                .collect(),
        })
        .collect();
    Layout {
        stages,
        not_in_any_stage: run.not_in_any_stage.clone(),
        max_allowed_failures: run.max_allowed_failures,
    }
}

/// `fleet`'s members by name, to lay a run's (or a layout's) names out over it.
fn by_name(fleet: &FleetSnapshot) -> BTreeMap<&MemberName, &PlanMember> {
    fleet.members.iter().map(|m| (&m.name, m)).collect()
}

/// The members of `names` that the fleet (`by_name`) still has, in `names`' order.
fn named<'a, 'n>(
    names: impl Iterator<Item = &'n MemberName>,
    by_name: &BTreeMap<&MemberName, &'a PlanMember>,
) -> Vec<&'a PlanMember> {
    names
        .filter_map(|name| by_name.get(name).copied())
        .collect()
}

/// `layout` again over `fleet`, the same members by name (as `fleet` has them now): a later
/// pass of a chain goes through the same stages with its members where the passes before it
/// leave them.
pub(super) fn relaid<'a>(layout: &Layout<'_>, fleet: &'a FleetSnapshot) -> Layout<'a> {
    let by_name = by_name(fleet);
    let stages = layout
        .stages
        .iter()
        .map(|stage| StageLayout {
            name: stage.name.clone(),
            wait_seconds: stage.wait_seconds,
            limits: stage.limits,
            before_gates: stage.before_gates.clone(),
            after_gates: stage.after_gates.clone(),
            groups: stage
                .groups
                .iter()
                .map(|group| GroupLayout {
                    name: group.name.clone(),
                    members: named(group.members.iter().map(|m| &m.name), &by_name),
                    limits: group.limits,
                    before_gates: group.before_gates.clone(),
                    after_gates: group.after_gates.clone(),
                })
                .collect(),
        })
        .collect();
    Layout {
        stages,
        not_in_any_stage: layout.not_in_any_stage.clone(),
        max_allowed_failures: layout.max_allowed_failures,
    }
}

/// Checks that `strategy` lays `fleet`'s members out: its groups exist and its selectors put no
/// member in two places (the run's own check, for a strategy being stored).
pub fn check_layout(fleet: &FleetSnapshot, strategy: &UpdateStrategy) -> Result<(), PlanRejection> {
    layout(fleet, Some(strategy)).map(|_| ())
}

/// The members a run with `strategy` would take (all of them for none, or when the strategy is
/// not valid yet: the caller is composing it).
pub fn members_in_run<'a>(
    fleet: &'a FleetSnapshot,
    strategy: Option<&'a UpdateStrategy>,
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
