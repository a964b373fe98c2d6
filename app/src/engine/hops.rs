//! Multi-hop upgrades: Kubernetes moves one minor version at a time, so a member more than one
//! minor behind the target (1.28 → 1.31) goes through the newest patch of each minor in between
//! (1.29.x, then 1.30.y), one upgrade per hop. Each hop is resolved as a one-minor upgrade of the
//! cluster as the hops before it leave it, so every rule of [`resolve_member`] (availability in
//! the region, node-pool skew for a control-plane-only run, providers' limits) holds at each
//! hop, not only at the end.
//!
//! With `PerStrategyPass` the fleet goes one minor at a time instead: a chain of runs, each a
//! pass of the whole strategy ([`RunHop`]). A pass before the last takes each member below its
//! minor to that minor's newest patch in the member's region and leaves the others for the
//! passes after it; the last pass is a plain run to the target.

use super::EngineConfig;
use super::advance::{Wait, next_action, set_pending, start_upgrade, until_available};
use super::budgets::{self, Failure};
use super::decide::Work;
use super::images::ImageChoice;
use super::targets::{MemberAction, resolve_member};
use crate::model::catalog::Catalog;
use crate::model::cluster::{ClusterState, PowerState, Region};
use crate::model::run::{
    GroupState, Hop, MemberState, Place, RunHop, RunState, SkippedBy, State, Subject, UpdateRun,
};
use crate::model::update::{Hops, Upgrade};
use crate::model::version::KubernetesVersion;

/// How a run's members cross minor versions: from its `hops`, and which pass of a chain it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopRule {
    /// One upgrade to the target; a member more than one minor behind it fails.
    Direct,
    /// Every hop in the member's own turn.
    PerMember,
    /// A pass before a chain's last: members below `minor` go to its newest patch.
    Pass { minor: u32 },
}

impl HopRule {
    pub fn of(hops: Hops, hop: Option<&RunHop>) -> Self {
        match (hops, hop) {
            (_, Some(hop)) if hop.more_to_go() => HopRule::Pass { minor: hop.minor },
            (Hops::PerMember, _) => HopRule::PerMember,
            _ => HopRule::Direct,
        }
    }

    pub fn of_run(run: &UpdateRun) -> Self {
        Self::of(run.spec.update.upgrade.hops, run.hop.as_ref())
    }
}

/// What a run does with a member, every hop included when `rule` allows them: an upgrade
/// whose `then` lists the hops after the first. A member starts only when all of its hops can
/// be taken: one that would be pending or fail at a later hop is pending or fails now, saying
/// at which hop (a chain stopped half-way would leave it between versions).
pub fn resolve_with_hops(
    cluster: &ClusterState,
    upgrade: Upgrade,
    rule: HopRule,
    images: &ImageChoice,
    catalog: &Catalog,
    cfg: &EngineConfig,
) -> MemberAction {
    let Some(target) = upgrade.kubernetes_version() else {
        return resolve_member(cluster, upgrade, images, catalog, cfg);
    };
    if let HopRule::Pass { minor } = rule {
        return resolve_in_pass(cluster, upgrade, (target, minor), images, catalog, cfg);
    }
    let current = cluster.kubernetes_version;
    let direct = rule != HopRule::PerMember
        || cluster.power_state == PowerState::Stopped
        || current.major != target.major
        || target.minors_ahead_of(current) <= 1;
    if direct {
        return resolve_member(cluster, upgrade, images, catalog, cfg);
    }
    let versions = match hop_versions(current, target, &cluster.location, catalog) {
        Ok(versions) => versions,
        Err(action) => return action,
    };
    let count = versions.len();
    let mut state = cluster.clone();
    let mut targets = Vec::with_capacity(count);
    for (i, version) in versions.into_iter().enumerate() {
        let at_hop = |reason: String| format!("hop {} of {count} (to {version}): {reason}", i + 1);
        match resolve_member(&state, upgrade.to_version(version), images, catalog, cfg) {
            MemberAction::Upgrade { target, .. } => {
                target.apply_to(&mut state);
                targets.push(target);
            }
            MemberAction::Skip { .. } => {}
            MemberAction::Pending { reason } => {
                return MemberAction::Pending {
                    reason: at_hop(reason),
                };
            }
            MemberAction::Fail { reason } => {
                return MemberAction::Fail {
                    reason: at_hop(reason),
                };
            }
        }
    }
    let mut targets = targets.into_iter();
    match targets.next() {
        Some(target) => MemberAction::Upgrade {
            target,
            then: targets.collect(),
        },
        None => resolve_member(cluster, upgrade, images, catalog, cfg),
    }
}

/// A member in a pass before a chain's last, which goes to `minor`: below it, to the newest
/// patch of `minor` its region offers (by the rules of any upgrade); at or past it, left for
/// the passes after this one (as already there: a later pass takes it on).
fn resolve_in_pass(
    cluster: &ClusterState,
    upgrade: Upgrade,
    (target, minor): (KubernetesVersion, u32),
    images: &ImageChoice,
    catalog: &Catalog,
    cfg: &EngineConfig,
) -> MemberAction {
    let current = cluster.kubernetes_version;
    let below = current.major == target.major && current.minor < minor;
    if !below {
        if current < target && current.major == target.major {
            return MemberAction::Skip {
                reason: format!(
                    "already at {current}, at or past this pass's {}.{minor}: a later pass takes it on to {target}",
                    target.major
                ),
            };
        }
        return resolve_member(cluster, upgrade, images, catalog, cfg);
    }
    match newest_of_minor(minor, target, &cluster.location, catalog) {
        Ok(version) => resolve_member(cluster, upgrade.to_version(version), images, catalog, cfg),
        Err(action) => action,
    }
}

/// The versions a member at `current` goes through to `target`, `target` last: the newest patch
/// of each minor in between that its region offers.
fn hop_versions(
    current: KubernetesVersion,
    target: KubernetesVersion,
    region: &Region,
    catalog: &Catalog,
) -> Result<Vec<KubernetesVersion>, MemberAction> {
    let mut versions = Vec::new();
    for minor in current.minor + 1..target.minor {
        versions.push(newest_of_minor(minor, target, region, catalog)?);
    }
    versions.push(target);
    Ok(versions)
}

/// The newest patch of `minor` (of `target`'s major) that `region` offers, to go through on the
/// way to `target`. A minor no region offers fails the member; one its region does not offer
/// yet leaves it pending.
fn newest_of_minor(
    minor: u32,
    target: KubernetesVersion,
    region: &Region,
    catalog: &Catalog,
) -> Result<KubernetesVersion, MemberAction> {
    let of_minor = |v: &&KubernetesVersion| v.major == target.major && v.minor == minor;
    let in_region = catalog
        .kubernetes_versions
        .iter()
        .filter(of_minor)
        .filter(|&&v| catalog.kubernetes_available_in(region, v))
        .max();
    match in_region {
        Some(&version) => Ok(version),
        None if catalog.kubernetes_versions.iter().any(|v| of_minor(&v)) => {
            Err(MemberAction::Pending {
                reason: format!(
                    "no Kubernetes {}.{minor} is available in {region} yet (a hop on the way to {target})",
                    target.major
                ),
            })
        }
        None => Err(MemberAction::Fail {
            reason: format!(
                "no Kubernetes {}.{minor} is offered to go through on the way to {target}",
                target.major
            ),
        }),
    }
}

/// The chain a `PerStrategyPass` run over `clusters` takes to `target`: its first pass, when
/// some member is more than one minor behind (`None`: one pass, a plain run). The chain has a
/// pass per minor from the lowest member's next one to the target's.
pub fn first_pass<'a>(
    clusters: impl Iterator<Item = &'a ClusterState>,
    target: KubernetesVersion,
) -> Option<RunHop> {
    let lowest = clusters
        .map(|c| c.kubernetes_version)
        .filter(|v| v.major == target.major && v.minor < target.minor)
        .map(|v| v.minor)
        .min()?;
    let of = target.minor - lowest;
    (of > 1).then(|| RunHop {
        number: 1,
        of,
        minor: lowest + 1,
        first_run: String::new(),
    })
}

/// How many upgrades an action takes: its hops, or none.
pub fn hop_count(action: &MemberAction) -> usize {
    match action {
        MemberAction::Upgrade { then, .. } => 1 + then.len(),
        MemberAction::Skip { .. } | MemberAction::Pending { .. } | MemberAction::Fail { .. } => 0,
    }
}

/// What follows a hop that succeeded, with more to go: the next hop at once, if the run is
/// still running, the group still going and the member can take it now (its window open, its
/// region offering the version); otherwise the member waits, pending, between hops (a stopped
/// run started again, or its window opening, takes it on from where it is), or, its group
/// skipped meanwhile, is skipped there. Never `Completed`: the member is not at the target.
pub(super) fn after_hop(
    run: &mut UpdateRun,
    (s, g, m): Place,
    attempt: u32,
    hop: Hop,
    work: &mut Work<'_>,
) {
    let done = format!("{} of {} hops done", hop.number, hop.of);
    let group_skipped = matches!(run.stages[s].groups[g].state, GroupState::Skipped { .. });
    let going = matches!(run.state, RunState::Running { .. })
        && matches!(run.stages[s].groups[g].state, GroupState::Running { .. });
    let upgrade = run.spec.update.upgrade.checked();
    let (true, Ok(upgrade)) = (going, upgrade) else {
        let group = &mut run.stages[s].groups[g];
        if group_skipped {
            let member = &mut group.members[m];
            let reason = format!("its group was skipped between hops ({done})");
            member.state = MemberState::Skipped {
                reason: reason.clone(),
                at: work.now,
                by: SkippedBy::Operator,
            };
            work.event(
                Subject::Member(member.name.clone()),
                State::Skipped,
                Some(reason),
            );
            return;
        }
        let reason = format!("{done}; the rest waits for the run to go on");
        set_pending(group, (s, g, m), Wait::new(reason), work);
        return;
    };
    let images = ImageChoice::of_run(run);
    let run_uid = run.uid.clone();
    let group = &mut run.stages[s].groups[g];
    match next_action(&group.members[m], upgrade, &images, work) {
        Ok(MemberAction::Upgrade { target, then }) => {
            let next = Hop {
                number: hop.number + 1,
                of: hop.number + 1 + then.len() as u32,
                first_started_at: hop.first_started_at,
            };
            start_upgrade(&run_uid, &mut group.members[m], target, Some(next), work);
        }
        Ok(MemberAction::Skip { .. }) => {
            let member = &mut group.members[m];
            member.state = MemberState::Completed {
                attempt,
                started_at: hop.first_started_at,
                completed_at: work.now,
            };
            work.event(Subject::Member(member.name.clone()), State::Completed, None);
        }
        // Said as the group's own pass says it (it looks at the member again in this decision:
        // another wording would be a second event).
        Ok(MemberAction::Pending { reason }) => {
            let wait = until_available(reason, &group.members[m], work);
            set_pending(group, (s, g, m), wait, work);
        }
        Err(wait) => set_pending(group, (s, g, m), wait, work),
        Ok(MemberAction::Fail { reason }) => {
            let member = &mut group.members[m];
            let message = format!("{done}; {reason}");
            member.state = MemberState::Failed {
                attempt: None,
                started_at: Some(hop.first_started_at),
                failed_at: work.now,
                message: message.clone(),
            };
            work.event(
                Subject::Member(member.name.clone()),
                State::Failed,
                Some(message.clone()),
            );
            let failure = Failure {
                member: member.name.clone(),
                message,
            };
            budgets::enforce(run, s, g, &failure, work);
        }
    }
}
