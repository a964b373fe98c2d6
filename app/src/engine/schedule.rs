//! Timing a stage: the plan and the forecast both time a stage's upgrades here, by the rules
//! the run follows — in each group, members with an open window (or none) first, then the
//! soonest to open, by name among equals; up to the group's `maxConcurrency` at once; all
//! groups in parallel under the stage's ceiling, taking free places in turn.

use super::EngineConfig;
use super::hops::resolve_with_hops;
use super::images::ImageChoice;
use super::plan::{GatePlan, GatesPlan, GroupPlan, MemberPlan, PlanMember, member_plan};
use super::targets::{MemberAction, with_stopped_policy};
use crate::model::catalog::Catalog;
use crate::model::cluster::ClusterState;
use crate::model::gate::{GateConfiguration, GateType};
use crate::model::run::Limits;
use crate::model::target::UpgradeTarget;
use crate::model::time::Timestamp;
use crate::model::update::{StoppedClusterAction, Upgrade};
use crate::model::window::MaintenanceWindow;
use std::collections::VecDeque;

/// What every member of the stage is resolved with.
pub(super) struct Resolver<'a> {
    pub upgrade: Upgrade,
    pub hops: super::hops::HopRule,
    pub stopped: StoppedClusterAction,
    pub images: &'a ImageChoice,
    pub catalog: &'a Catalog,
    pub cfg: &'a EngineConfig,
    /// Offsets are milliseconds after this.
    pub now: Timestamp,
}

/// One member waiting its turn in a group.
struct Queued<'a> {
    member: &'a PlanMember,
    cluster: &'a ClusterState,
    /// The window that governs this upgrade on the cluster.
    window: Option<&'a MaintenanceWindow>,
    target: UpgradeTarget,
    /// The hops after `target`, taken in the same turn.
    then: Vec<UpgradeTarget>,
}

/// A group's upgrades still to be timed, and those it has timed.
pub(super) struct GroupQueue<'a> {
    name: String,
    limits: Limits,
    concurrency: usize,
    /// When the upgrades in flight end (ms after `now`).
    busy: Vec<i64>,
    always_open: VecDeque<Queued<'a>>,
    windowed: Vec<Queued<'a>>,
    timed: Vec<MemberPlan>,
    /// Members that will not upgrade (skipped, pending, failing), listed after the others.
    idle: Vec<MemberPlan>,
    ends: i64,
    /// The opening the group found its next member waiting for, when it found one.
    awaited_opening: Option<i64>,
    /// When its before-gates have passed: nothing starts earlier.
    not_before: i64,
    /// When it reaches approval gates: approvals come in after the decision that reached
    /// them, so at that moment the other groups take free places first.
    approval_at: Option<i64>,
    before_gates: Vec<GatePlan>,
    after_gates: Vec<GateConfiguration>,
}

enum Turn {
    Started,
    WaitsUntil(i64),
    Empty,
}

impl<'a> GroupQueue<'a> {
    /// Resolves each member; `busy` holds when upgrades already in flight end.
    pub fn new(
        name: String,
        limits: Limits,
        members: &[&'a PlanMember],
        busy: Vec<i64>,
        r: &Resolver<'_>,
    ) -> Self {
        let mut queue = Self {
            name,
            limits,
            concurrency: limits.max_concurrency.map_or(1, |n| n.max(1) as usize),
            ends: busy.iter().copied().max().unwrap_or(0),
            busy,
            always_open: VecDeque::new(),
            windowed: Vec::new(),
            timed: Vec::new(),
            idle: Vec::new(),
            awaited_opening: None,
            not_before: 0,
            approval_at: None,
            before_gates: Vec::new(),
            after_gates: Vec::new(),
        };
        for &member in members {
            queue.enqueue(member, r);
        }
        queue
    }

    /// The group's gates: its members start once the before-gates have passed (`opens`).
    pub fn with_gates(
        mut self,
        before: Vec<GatePlan>,
        after: Vec<GateConfiguration>,
        opens: i64,
    ) -> Self {
        self.approval_at = before
            .iter()
            .find(|g| g.config.kind == GateType::Approval)
            .map(|g| g.reached_after_ms);
        self.before_gates = before;
        self.after_gates = after;
        self.not_before = opens;
        self.ends = self.ends.max(opens);
        self
    }

    fn enqueue(&mut self, member: &'a PlanMember, r: &Resolver<'_>) {
        let Ok(cluster) = &member.cluster else {
            let reason = format!(
                "the cluster cannot be observed: {}",
                member.cluster.as_ref().err().map_or("", String::as_str)
            );
            let pending = MemberAction::Pending { reason };
            self.idle.push(member_plan(member, None, None, pending));
            return;
        };
        let window = cluster.window_for(r.upgrade);
        let action = resolve_with_hops(cluster, r.upgrade, r.hops, r.images, r.catalog, r.cfg);
        match with_stopped_policy(action, cluster, r.stopped) {
            MemberAction::Upgrade { target, then } => {
                let queued = Queued {
                    member,
                    cluster,
                    window,
                    target,
                    then,
                };
                match window {
                    None => self.always_open.push_back(queued),
                    Some(_) => self.windowed.push(queued),
                }
            }
            other => self
                .idle
                .push(member_plan(member, Some(cluster), window, other)),
        }
    }

    /// Starts the next member at `t` if a place is free and it can start then.
    fn take_turn(&mut self, t: i64, r: &Resolver<'_>) -> Turn {
        if self.busy.len() >= self.concurrency {
            return Turn::Empty;
        }
        if t < self.not_before {
            let queued = !self.always_open.is_empty() || !self.windowed.is_empty();
            return match queued {
                true => Turn::WaitsUntil(self.not_before),
                false => Turn::Empty,
            };
        }
        let at = r.now.plus_millis(t);
        let Some((queued, opens)) = next_in_group(&mut self.always_open, &mut self.windowed, at)
        else {
            return Turn::Empty;
        };
        let opens_after = opens.map(|o| o.millis() - r.now.millis());
        if let Some(later) = opens_after.filter(|&o| o > t) {
            self.windowed.push(queued);
            self.awaited_opening = Some(later);
            return Turn::WaitsUntil(later);
        }
        let ends = t + hops_ms(&queued, r.cfg);
        let action = MemberAction::Upgrade {
            target: queued.target,
            then: queued.then,
        };
        let mut plan = member_plan(queued.member, Some(queued.cluster), queued.window, action);
        plan.starts_after_ms = Some(t);
        plan.ends_after_ms = Some(ends);
        if opens_after.is_some() && self.awaited_opening.take() == Some(t) {
            plan.waits_for_window_until = opens;
        }
        self.timed.push(plan);
        self.busy.push(ends);
        self.ends = self.ends.max(ends);
        Turn::Started
    }

    fn into_plan(mut self) -> GroupPlan {
        self.timed.append(&mut self.idle);
        GroupPlan {
            name: self.name,
            members: self.timed,
            ends_after_ms: self.ends,
            limits: self.limits,
            gates: GatesPlan {
                before: self.before_gates,
                after: GatesPlan::after(&self.after_gates, self.ends),
            },
        }
    }
}

/// How long a member's turn takes: each hop on the cluster as the hops before leave it.
fn hops_ms(queued: &Queued<'_>, cfg: &EngineConfig) -> i64 {
    let mut ms = cfg.durations.upgrade_ms(&queued.target, queued.cluster);
    if queued.then.is_empty() {
        return ms;
    }
    let mut cluster = queued.cluster.clone();
    queued.target.apply_to(&mut cluster);
    for hop in &queued.then {
        ms += cfg.durations.upgrade_ms(hop, &cluster);
        hop.apply_to(&mut cluster);
    }
    ms
}

/// Times a stage's groups from `start` (ms after `r.now`) under the stage's ceiling.
pub(super) fn schedule_stage(
    mut groups: Vec<GroupQueue<'_>>,
    ceiling: Option<usize>,
    start: i64,
    r: &Resolver<'_>,
) -> Vec<GroupPlan> {
    for group in &mut groups {
        group.ends = group.ends.max(start);
    }
    let mut t = start;
    loop {
        for group in &mut groups {
            group.busy.retain(|&end| end > t);
        }
        let mut in_flight: usize = groups.iter().map(|g| g.busy.len()).sum();
        let mut next_opening: Option<i64> = None;
        // First the groups not waiting for an approval reached now, then (approved) all.
        for approvals_in in [false, true] {
            // Free places go round the groups one at a time, so one group cannot take them all.
            loop {
                let mut started = false;
                for group in &mut groups {
                    if ceiling.is_some_and(|c| in_flight >= c) {
                        break;
                    }
                    if !approvals_in && group.approval_at == Some(t) {
                        continue;
                    }
                    match group.take_turn(t, r) {
                        Turn::Started => {
                            in_flight += 1;
                            started = true;
                        }
                        Turn::WaitsUntil(at) => {
                            next_opening = Some(next_opening.map_or(at, |n| n.min(at)));
                        }
                        Turn::Empty => {}
                    }
                }
                if !started {
                    break;
                }
            }
        }
        let next_end = groups.iter().flat_map(|g| g.busy.iter().copied()).min();
        match [next_end, next_opening].into_iter().flatten().min() {
            Some(next) => t = next,
            None => break,
        }
    }
    groups.into_iter().map(GroupQueue::into_plan).collect()
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
