//! `forecast`: what a run has left, from now — when each upgrade still ahead (or in flight) is
//! expected to start and end, when each stage finishes and when the run completes, if nothing
//! fails. The same schedule as [`super::plan`] (the same ordering by maintenance windows, the
//! same duration model), applied to what remains of a run instead of to a fresh one: finished
//! members and stages are left out, an upgrade in flight ends when its duration says, a wait
//! that is running ends when it ends. For a run that is not moving (not started, stopped,
//! failed) it says what would happen if it were started now.

use super::EngineConfig;
use super::World;
use super::images::{ImageChoice, consistent_images};
use super::plan::PlanMember;
use super::schedule::{GroupQueue, Resolver, schedule_stage};
use super::targets::MemberAction;
use crate::model::cluster::ClusterState;
pub use crate::model::forecast::{Forecast, GroupForecast, MemberForecast, StageForecast};
use crate::model::member::ClusterResourceId;
use crate::model::run::{
    GroupRun, GroupState, MemberRun, MemberState, RunState, StageRun, StageState, UpdateRun,
    WaitState,
};
use crate::model::time::{MS_PER_SECOND, Timestamp};
use crate::model::update::{NodeImageSelectionType, Upgrade};

/// What `run` has left from `now`; see the module docs.
pub fn forecast(
    run: &UpdateRun,
    world: &dyn World,
    now: Timestamp,
    cfg: &EngineConfig,
) -> Forecast {
    let Ok(upgrade) = run.spec.update.upgrade.checked() else {
        return Forecast::default();
    };
    // How long objects take to become available is not modelled: a placement run has no ETA.
    if run.spec.placement.is_some() {
        return Forecast::default();
    }
    if let RunState::Completed { .. } = run.state {
        return Forecast::default();
    }
    let images = image_choice(run, world);
    // A failed run would retry its failed members when started again.
    let retrying = matches!(run.state, RunState::Failed { .. });
    let mut t = now;
    let mut stages = Vec::new();
    for stage in &run.stages {
        let plan = Planner {
            upgrade,
            hops: super::hops::HopRule::of_run(run),
            stopped: run.spec.update.stopped_cluster_action,
            images: &images,
            world,
            now,
            cfg,
            retrying,
        };
        if let Some(forecast) = plan.stage(stage, t) {
            t = forecast.wait_ends;
            stages.push(forecast);
        }
    }
    Forecast {
        eta: Some(t),
        stages,
    }
}

/// `Consistent` images fixed at the start, or (before it) what the start would fix now.
fn image_choice(run: &UpdateRun, world: &dyn World) -> ImageChoice {
    match (
        &run.selected_images,
        run.spec.update.node_image_selection.kind,
    ) {
        (None, NodeImageSelectionType::Consistent) => {
            let observed: Vec<_> = run
                .members()
                .filter_map(|m| world.observe(&m.cluster_resource_id).ok())
                .collect();
            ImageChoice::Consistent(consistent_images(observed.iter(), world.catalog()))
        }
        _ => ImageChoice::of_run(run),
    }
}

/// A group's members still to go: those observed now, planned one by one, and how many more
/// there are whose clusters are not observed (a forecast observes the next few members of each
/// group, not 100,000 clusters) or cannot be for now. Those are expected to take as long as the
/// observed ones: planned as pending, they would take no time and the ETA would leave them out.
#[derive(Default)]
struct StillToGo {
    observed: Vec<PlanMember>,
    unobserved: usize,
}

struct Planner<'a> {
    upgrade: Upgrade,
    hops: super::hops::HopRule,
    stopped: crate::model::update::StoppedClusterAction,
    images: &'a ImageChoice,
    world: &'a dyn World,
    now: Timestamp,
    cfg: &'a EngineConfig,
    retrying: bool,
}

impl Planner<'_> {
    /// The stage's forecast if it has anything left, starting no earlier than `start`.
    fn stage(&self, stage: &StageRun, start: Timestamp) -> Option<StageForecast> {
        let done = stage.state.is_done();
        let offset = start.millis() - self.now.millis();
        // What is still to go, per group: the members observed now, as plan members, and how
        // many more.
        let queued: Vec<StillToGo> = stage
            .groups
            .iter()
            .map(|g| self.still_to_go_in(g, done))
            .collect();
        let resolver = Resolver {
            upgrade: self.upgrade,
            hops: self.hops,
            stopped: self.stopped,
            images: self.images,
            catalog: self.world.catalog(),
            cfg: self.cfg,
            now: self.now,
        };
        let queues = stage
            .groups
            .iter()
            .zip(&queued)
            .map(|(group, still)| {
                let busy = self
                    .in_flight(group)
                    .map(|(_, _, ends)| ends.millis() - self.now.millis())
                    .collect();
                let refs: Vec<&PlanMember> = still.observed.iter().collect();
                GroupQueue::new(group.name.clone(), group.limits, &refs, busy, &resolver)
            })
            .collect();
        let ceiling = stage.limits.max_concurrency.map(|c| c as usize);
        let timed = schedule_stage(queues, ceiling, offset, &resolver);
        // When the observed upgrades end, and the time the unobserved ones take one by one.
        let (mut observed_ends, mut unobserved_work) = (offset, 0);
        let groups: Vec<GroupForecast> = stage
            .groups
            .iter()
            .zip(timed)
            .zip(&queued)
            .map(|((group, plan), still)| {
                let mut members: Vec<MemberForecast> = self
                    .in_flight(group)
                    .map(|(member, starts, ends)| MemberForecast {
                        name: member.name.clone(),
                        starts,
                        ends,
                        in_flight: true,
                        waits_for_window_until: None,
                    })
                    .collect();
                members.extend(plan.members.into_iter().filter_map(|planned| {
                    Some(MemberForecast {
                        name: planned.name,
                        starts: self.now.plus_millis(planned.starts_after_ms?),
                        ends: self.now.plus_millis(planned.ends_after_ms?),
                        in_flight: false,
                        waits_for_window_until: planned.waits_for_window_until,
                    })
                }));
                let observed_end = plan.ends_after_ms.max(offset);
                let (extra, work) = self.unobserved_ms(group, &members, still.unobserved);
                observed_ends = observed_ends.max(observed_end);
                unobserved_work += work;
                let ends = observed_end + extra;
                GroupForecast {
                    name: group.name.clone(),
                    ends: self.now.plus_millis(ends),
                    members,
                    more: still.unobserved,
                }
            })
            .filter(|g| !g.members.is_empty() || g.more > 0)
            .collect();
        let mut ends = groups.iter().map(|g| g.ends).max().unwrap_or(start);
        // Under the stage's ceiling, the groups' unobserved members share its places.
        if let Some(ceiling) = stage.limits.max_concurrency.filter(|c| *c > 0) {
            let shared = observed_ends + unobserved_work / i64::from(ceiling);
            ends = ends.max(self.now.plus_millis(shared));
        }
        let wait_ends = match (&stage.state, &stage.wait) {
            (_, WaitState::Running { until, .. }) => (*until).max(ends),
            (StageState::Skipped { .. } | StageState::Completed { .. }, _) => ends,
            (_, WaitState::Completed { .. } | WaitState::Skipped { .. }) => ends,
            (_, WaitState::NotStarted) => {
                ends.plus_millis(stage.after_stage_wait_in_seconds * MS_PER_SECOND)
            }
        };
        if groups.is_empty() && (done || wait_ends == start) {
            return None;
        }
        Some(StageForecast {
            name: stage.name.clone(),
            starts: start,
            ends,
            wait_ends,
            groups,
        })
    }

    /// The group's members still to go (none for a group that has finished or a stage that is
    /// done, whose upgrades in flight still count): those observed now, and how many others.
    fn still_to_go_in(&self, group: &GroupRun, stage_done: bool) -> StillToGo {
        let finished = match group.state {
            GroupState::Completed { .. } | GroupState::Skipped { .. } => true,
            GroupState::Failed { .. } => !self.retrying,
            GroupState::NotStarted | GroupState::Running { .. } => false,
        };
        let mut still = StillToGo::default();
        if stage_done || finished {
            return still;
        }
        for member in group.members.iter().filter(|m| self.still_to_go(m)) {
            match self.world.observe(&member.cluster_resource_id) {
                Ok(cluster) => still.observed.push(PlanMember {
                    name: member.name.clone(),
                    cluster_resource_id: member.cluster_resource_id.clone(),
                    group: None,
                    cluster: Ok(cluster),
                    labels: Default::default(),
                }),
                // It will fail when its turn comes: no time.
                Err(why) if why.permanent => {}
                Err(_) => still.unobserved += 1,
            }
        }
        still
    }

    /// How much longer than its observed members a group takes for `unobserved` more, and
    /// their upgrades' time end to end: each as long as the group's observed upgrades take on
    /// average (`planned`), or as the duration model's nominal cluster when none is observed,
    /// as many at once as the group allows.
    fn unobserved_ms(
        &self,
        group: &GroupRun,
        planned: &[MemberForecast],
        unobserved: usize,
    ) -> (i64, i64) {
        if unobserved == 0 {
            return (0, 0);
        }
        let each = match planned.len() {
            0 => self.cfg.durations.nominal_upgrade_ms(self.upgrade),
            n => {
                let total: i64 = planned
                    .iter()
                    .map(|m| m.ends.millis() - m.starts.millis())
                    .sum();
                total / n as i64
            }
        };
        let at_once = group.limits.max_concurrency.map_or(1, |c| c.max(1)) as usize;
        (
            unobserved.div_ceil(at_once) as i64 * each,
            unobserved as i64 * each,
        )
    }

    /// The group's upgrades in flight: the member, when it started, when it should end.
    fn in_flight<'g>(
        &self,
        group: &'g GroupRun,
    ) -> impl Iterator<Item = (&'g MemberRun, Timestamp, Timestamp)> {
        group.members.iter().filter_map(|m| match &m.state {
            MemberState::Upgrading {
                started_at,
                target,
                hop,
                ..
            } => {
                let length = self
                    .world
                    .observe(&m.cluster_resource_id)
                    .map_or(0, |cluster| {
                        let this = self.cfg.durations.upgrade_ms(target, &cluster);
                        match hop {
                            Some(hop) if hop.more_to_go() => {
                                this + self.hops_after(target, cluster)
                            }
                            _ => this,
                        }
                    });
                Some((m, *started_at, started_at.plus_millis(length).max(self.now)))
            }
            MemberState::NotStarted
            | MemberState::Pending { .. }
            | MemberState::Completed { .. }
            | MemberState::Failed { .. }
            | MemberState::Skipped { .. } => None,
        })
    }

    /// How long the hops after an upgrade in flight take, on the cluster as it will leave it.
    fn hops_after(
        &self,
        target: &crate::model::target::UpgradeTarget,
        mut cluster: ClusterState,
    ) -> i64 {
        target.apply_to(&mut cluster);
        let catalog = self.world.catalog();
        match super::hops::resolve_with_hops(
            &cluster,
            self.upgrade,
            self.hops,
            self.images,
            catalog,
            self.cfg,
        ) {
            MemberAction::Upgrade { target, then } => std::iter::once(&target)
                .chain(&then)
                .map(|hop| {
                    let ms = self.cfg.durations.upgrade_ms(hop, &cluster);
                    hop.apply_to(&mut cluster);
                    ms
                })
                .sum(),
            MemberAction::Skip { .. }
            | MemberAction::Pending { .. }
            | MemberAction::Fail { .. } => 0,
        }
    }

    fn still_to_go(&self, member: &MemberRun) -> bool {
        may_start(member, self.retrying)
    }
}

/// The clusters the next decision over `run` will most likely look at: in the first stage not
/// done (and the one after, which may start in the same decision), up to `per_group` members
/// of each group that could start. The runtime observes these before deciding; a decision that
/// looks further says so (`World::observe` of an unobserved cluster) and is made again.
pub fn clusters_to_observe(run: &UpdateRun, per_group: usize) -> Vec<ClusterResourceId> {
    let retrying = matches!(run.state, RunState::Failed { .. });
    run.stages
        .iter()
        .filter(|s| !s.state.is_done())
        .take(2)
        .flat_map(|s| s.groups.iter())
        .flat_map(|g| next_of(g, retrying).take(per_group))
        .map(|m| m.cluster_resource_id.clone())
        .collect()
}

/// The clusters the decision of `input` over `run` can start: the next members of each group
/// with a place free once the attempts `input` reports on have ended, as many as its free
/// places and `ahead` more (in case one of them cannot start; a group whose
/// places stay taken starts nothing, so the engine looks at none of its members), in the first
/// stage not done, and in the one after only when the first has nothing left to start (it may
/// then finish and the next begin in the same decision). What the driver observes before
/// deciding: proportional to the groups that can move, not to the run; a decision that looks
/// further is made again with what it missed.
pub fn clusters_to_start(
    run: &UpdateRun,
    places: &super::Places,
    input: &super::Input,
    ahead: usize,
) -> Vec<ClusterResourceId> {
    let retrying = matches!(run.state, RunState::Failed { .. });
    let ends = |outcome: &super::Outcome| !matches!(outcome, super::Outcome::Trouble { .. });
    // A set: a step of a wide run reports on a member of every group at once.
    let ending: std::collections::HashSet<&crate::model::names::MemberName> = match input {
        super::Input::Report {
            member, outcome, ..
        } if ends(outcome) => std::iter::once(member).collect(),
        super::Input::Reports(reports) => reports
            .iter()
            .filter(|r| ends(&r.outcome))
            .map(|r| &r.member)
            .collect(),
        _ => std::collections::HashSet::new(),
    };
    let mut clusters = Vec::new();
    let open = run
        .stages
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.state.is_done());
    for (s, stage) in open.take(2) {
        let mut anything_left = false;
        for (g, group) in stage.groups.iter().enumerate() {
            // Settled members neither start nor hold a place: only the open ones are looked at.
            let members = || super::changes::open_members(places, (s, g), group).map(|(_, m)| m);
            let mut next = members().filter(|m| may_start(m, retrying)).peekable();
            anything_left |= next.peek().is_some();
            let taken = members()
                .filter(|m| m.state.in_flight() && !ending.contains(&m.name))
                .count();
            // A member whose hop ends with more to go is looked at again for its next hop.
            // (Its state first: a name is hashed only for a member with hops to go.)
            clusters.extend(
                members()
                    .filter(|m| has_hops_to_go(m) && ending.contains(&m.name))
                    .map(|m| m.cluster_resource_id.clone()),
            );
            let free = group.concurrency().saturating_sub(taken);
            if free > 0 {
                clusters.extend(
                    next.take(free + ahead)
                        .map(|m| m.cluster_resource_id.clone()),
                );
            }
        }
        if anything_left {
            break;
        }
    }
    clusters
}

fn has_hops_to_go(member: &MemberRun) -> bool {
    matches!(&member.state, MemberState::Upgrading { hop: Some(hop), .. } if hop.more_to_go())
}

/// The group's members that may still start, in order.
fn next_of(group: &GroupRun, retrying: bool) -> impl Iterator<Item = &MemberRun> {
    group.members.iter().filter(move |m| may_start(m, retrying))
}

/// Whether a member may still start (a failed one only when the run is being retried).
fn may_start(member: &MemberRun, retrying: bool) -> bool {
    match member.state {
        MemberState::NotStarted | MemberState::Pending { .. } => true,
        MemberState::Failed { .. } => retrying,
        MemberState::Upgrading { .. }
        | MemberState::Completed { .. }
        | MemberState::Skipped { .. } => false,
    }
}
