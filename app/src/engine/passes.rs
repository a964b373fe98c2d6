//! The plan of a chain of passes (`hops: PerStrategyPass`): the first pass as the run's own
//! stages, then every later pass planned over the fleet as the passes before it leave it, so
//! the plan shows each pass, its timing and what every member goes through.

use super::EngineConfig;
use super::hops::HopRule;
use super::layout::{Layout, relaid};
use super::plan::{FleetSnapshot, HopPlan, Plan, plan_layout};
use super::targets::MemberAction;
use crate::model::names::MemberName;
use crate::model::run::RunHop;
use crate::model::target::UpgradeTarget;
use crate::model::time::Timestamp;
use crate::model::update::{RunSpec, Upgrade};
use std::collections::HashMap;

/// The plan of `layout` from pass `hop` on (`None`: a run that is not a chain, one pass).
pub(super) fn plan_chain(
    layout: Layout<'_>,
    fleet: &FleetSnapshot,
    spec: &RunSpec,
    upgrade: Upgrade,
    hop: Option<RunHop>,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Plan {
    let rule = HopRule::of(spec.update.upgrade.hops, hop.as_ref());
    let Some(hop) = hop else {
        return plan_layout(layout, fleet, spec, (upgrade, rule), now, cfg);
    };
    let later_layout = relaid(&layout, fleet);
    let mut plan = plan_layout(layout, fleet, spec, (upgrade, rule), now, cfg);
    let mut hops = vec![hop_plan(&hop, &plan, 0, upgrade)];
    let mut later: HashMap<MemberName, Vec<UpgradeTarget>> = HashMap::new();
    let mut start = plan.duration_ms;
    let mut fleet = advanced(fleet, &plan);
    let mut next = hop.next();
    while let Some(pass) = next {
        let rule = HopRule::of(spec.update.upgrade.hops, Some(&pass));
        let layout = relaid(&later_layout, &fleet);
        let at = now.plus_millis(start);
        let planned = plan_layout(layout, &fleet, spec, (upgrade, rule), at, cfg);
        hops.push(hop_plan(&pass, &planned, start, upgrade));
        for (name, target) in upgrades(&planned) {
            later.entry(name.clone()).or_default().push(target.clone());
        }
        let prefix = format!("pass {} of {}: ", pass.number, pass.of);
        let new_warnings: Vec<String> = planned
            .warnings
            .iter()
            .filter(|w| !plan.warnings.iter().any(|seen| seen.ends_with(w.as_str())))
            .map(|w| format!("{prefix}{w}"))
            .collect();
        plan.warnings.extend(new_warnings);
        start += planned.duration_ms;
        fleet = advanced(&fleet, &planned);
        next = pass.next();
    }
    with_later_passes(&mut plan, &mut later);
    plan.duration_ms = start;
    plan.hop = Some(hop);
    plan.hops = hops;
    plan
}

fn hop_plan(hop: &RunHop, plan: &Plan, start: i64, upgrade: Upgrade) -> HopPlan {
    let to = match (hop.more_to_go(), upgrade.kubernetes_version()) {
        (false, Some(target)) => target.to_string(),
        (_, target) => format!("{}.{}", target.map_or(1, |t| t.major), hop.minor),
    };
    let upgrades = upgrades(plan).count();
    let not_upgraded = plan
        .members()
        .filter(|m| {
            matches!(
                m.action,
                MemberAction::Pending { .. } | MemberAction::Fail { .. }
            )
        })
        .count();
    HopPlan {
        number: hop.number,
        of: hop.of,
        to,
        starts_after_ms: start,
        ends_after_ms: start + plan.duration_ms,
        upgrades,
        not_upgraded,
    }
}

/// The members `plan` upgrades, with their targets.
fn upgrades(plan: &Plan) -> impl Iterator<Item = (&MemberName, &UpgradeTarget)> {
    plan.members().filter_map(|m| match &m.action {
        MemberAction::Upgrade { target, .. } => Some((&m.name, target)),
        MemberAction::Skip { .. } | MemberAction::Pending { .. } | MemberAction::Fail { .. } => {
            None
        }
    })
}

/// `fleet` as `plan` leaves it: every member it upgrades at its target.
fn advanced(fleet: &FleetSnapshot, plan: &Plan) -> FleetSnapshot {
    let targets: HashMap<&MemberName, &UpgradeTarget> = upgrades(plan).collect();
    let mut fleet = fleet.clone();
    for member in &mut fleet.members {
        if let (Some(target), Ok(cluster)) = (targets.get(&member.name), &mut member.cluster) {
            target.apply_to(cluster);
        }
    }
    fleet
}

/// What each member of the first pass goes through after it: an upgrade's later passes as its
/// `then`; a member the first pass leaves for later says where the later passes take it.
fn with_later_passes(plan: &mut Plan, later: &mut HashMap<MemberName, Vec<UpgradeTarget>>) {
    for stage in &mut plan.stages {
        for group in &mut stage.groups {
            for member in &mut group.members {
                let Some(targets) = later.remove(&member.name) else {
                    continue;
                };
                match &mut member.action {
                    MemberAction::Upgrade { then, .. } => then.extend(targets),
                    MemberAction::Skip { reason } => {
                        let through: Vec<String> = targets
                            .iter()
                            .filter_map(|t| t.control_plane.as_ref().map(|s| s.to.to_string()))
                            .collect();
                        if !through.is_empty() {
                            reason.push_str(&format!(" (later passes: {})", through.join(", ")));
                        }
                    }
                    MemberAction::Pending { .. } | MemberAction::Fail { .. } => {}
                }
            }
        }
    }
}
