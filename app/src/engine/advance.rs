//! Progress: what happens without an operator. Stages in order; all groups of a stage in
//! parallel; members of a group one at a time, open maintenance windows first; the wait after a
//! stage; fail-fast on a member failure. Also the provider's reports.

use super::budgets::{self, Failure};
use super::changes::{Places, group_in_flight, open_members};
use super::decide::{Effect, Outcome, Reply, Work};
use super::gates::{self, Passage};
use super::hops::resolve_with_hops;
use super::images::ImageChoice;
use super::targets::{MemberAction, with_stopped_policy};
use crate::model::names::MemberName;
use crate::model::run::{
    GroupRun, GroupState, Hop, MemberRun, MemberState, Place, ProviderTrouble, RunState, SkippedBy,
    StageState, State, Subject, UpdateRun, WaitState, WaitingOn,
};
use crate::model::target::UpgradeTarget;
use crate::model::time::{MS_PER_SECOND, Timestamp};
use crate::model::update::Upgrade;
use std::collections::BTreeSet;

pub(super) fn report(
    run: &mut UpdateRun,
    places: &Places,
    name: &MemberName,
    attempt: u32,
    outcome: Outcome,
    work: &mut Work<'_>,
) -> Reply {
    let Some((s, g, m)) = places.find(run, name) else {
        return Reply::Ignored {
            why: format!("the run has no member named {name}"),
        };
    };
    work.touched
        .note((s, g, m), &run.stages[s].groups[g].members[m]);
    let member = &mut run.stages[s].groups[g].members[m];
    let started_at = match &member.state {
        MemberState::Upgrading {
            attempt: current,
            started_at,
            ..
        } if *current == attempt => *started_at,
        MemberState::Upgrading { .. }
        | MemberState::NotStarted
        | MemberState::Pending { .. }
        | MemberState::Completed { .. }
        | MemberState::Failed { .. }
        | MemberState::Skipped { .. } => {
            return Reply::Ignored {
                why: format!("member {name} is not upgrading attempt {attempt}"),
            };
        }
    };
    let hop = match &member.state {
        MemberState::Upgrading { hop, .. } => *hop,
        _ => None,
    };
    match outcome {
        Outcome::Trouble { message } => return note_trouble(member, message, work),
        Outcome::Succeeded if hop.is_some_and(|h| h.more_to_go()) => {
            let hop = hop.expect("checked above");
            super::hops::after_hop(run, (s, g, m), attempt, hop, work);
        }
        Outcome::Succeeded => {
            member.state = MemberState::Completed {
                attempt,
                started_at: hop.map_or(started_at, |h| h.first_started_at),
                completed_at: work.now,
            };
            work.event(Subject::Member(name.clone()), State::Completed, None);
        }
        Outcome::Failed { message } => {
            member.state = MemberState::Failed {
                attempt: Some(attempt),
                started_at: Some(started_at),
                failed_at: work.now,
                message: message.clone(),
            };
            work.event(
                Subject::Member(name.clone()),
                State::Failed,
                Some(message.clone()),
            );
            // The operator already gave up on a skipped group: its late failure is recorded on
            // the member but does not stop the rest of the run.
            if !matches!(run.stages[s].groups[g].state, GroupState::Skipped { .. }) {
                let failure = Failure {
                    member: name.clone(),
                    message,
                };
                budgets::enforce(run, s, g, &failure, work);
            }
        }
    }
    Reply::Applied
}

/// Records that the provider does not answer about a member's upgrade (or answers again); an
/// unchanged message changes nothing.
fn note_trouble(member: &mut MemberRun, message: Option<String>, work: &mut Work<'_>) -> Reply {
    let MemberState::Upgrading {
        provider_trouble, ..
    } = &mut member.state
    else {
        return Reply::Ignored {
            why: format!("member {} is not upgrading", member.name),
        };
    };
    let since = provider_trouble.as_ref().map_or(work.now, |t| t.since);
    let next = message.map(|message| ProviderTrouble { since, message });
    if *provider_trouble == next {
        return Reply::Ignored {
            why: "nothing new about the provider".into(),
        };
    }
    let said = match &next {
        Some(trouble) => format!("waiting for the provider: {}", trouble.message),
        None => "the provider answers again".into(),
    };
    *provider_trouble = next;
    work.event(
        Subject::Member(member.name.clone()),
        State::Running,
        Some(said),
    );
    Reply::Applied
}

/// Moves the run on as far as it can go now.
pub(super) fn advance(run: &mut UpdateRun, work: &mut Work<'_>) {
    match run.state {
        RunState::Running { started_at } => advance_running(run, started_at, work),
        RunState::Stopping { started_at } if run.in_flight() == 0 => {
            run.state = RunState::Stopped {
                started_at,
                stopped_at: work.now,
            };
            work.event(Subject::Run, State::Stopped, None);
        }
        RunState::NotStarted
        | RunState::Stopping { .. }
        | RunState::Stopped { .. }
        | RunState::Failed { .. }
        | RunState::Completed { .. } => {}
    }
}

fn advance_running(run: &mut UpdateRun, started_at: Timestamp, work: &mut Work<'_>) {
    let upgrade = match run.spec.update.upgrade.checked() {
        Ok(upgrade) => upgrade,
        Err(error) => {
            // Checked when the run was created; a stored run that fails it is beyond repair.
            run.state = RunState::Failed {
                started_at,
                failed_at: work.now,
                error: error.clone(),
            };
            work.event(Subject::Run, State::Failed, Some(error));
            return;
        }
    };
    let images = ImageChoice::of_run(run);
    for s in 0..run.stages.len() {
        if run.stages[s].state.is_done() {
            // A skipped stage may still have an upgrade in flight; nothing after it starts
            // until that finishes. (A completed one has none: it completed when the last
            // ended, so its members need no look.)
            let skipped = matches!(run.stages[s].state, StageState::Skipped { .. });
            let in_flight = skipped
                && run.stages[s]
                    .groups
                    .iter()
                    .flat_map(|g| &g.members)
                    .any(|m| m.state.in_flight());
            if in_flight {
                return;
            }
            continue;
        }
        if advance_stage(run, s, upgrade, &images, work) == Flow::RunFailed {
            return;
        }
        if !run.stages[s].state.is_done() {
            return;
        }
    }
    run.state = RunState::Completed {
        started_at,
        completed_at: work.now,
    };
    let failed = run.failure_count();
    let message =
        (failed > 0).then(|| format!("{failed} member(s) failed, within the failure budgets"));
    work.event(Subject::Run, State::Completed, message);
}

/// Whether the run goes on after a stage's advance.
#[derive(PartialEq, Eq)]
enum Flow {
    Continue,
    RunFailed,
}

fn advance_stage(
    run: &mut UpdateRun,
    s: usize,
    upgrade: Upgrade,
    images: &ImageChoice,
    work: &mut Work<'_>,
) -> Flow {
    let now = work.now;
    let stage = &mut run.stages[s];
    let started_at = match stage.state {
        StageState::NotStarted => {
            stage.state = StageState::Running { started_at: now };
            work.event(Subject::Stage(stage.name.clone()), State::Running, None);
            now
        }
        StageState::Running { started_at } => started_at,
        // A failed stage waits for a retry; done stages are not advanced.
        StageState::Failed { .. } | StageState::Completed { .. } | StageState::Skipped { .. } => {
            return Flow::Continue;
        }
    };
    match gates::pass(&mut run.stages[s].before_gates, work) {
        Passage::Open => {}
        Passage::Waiting => return Flow::Continue,
        Passage::Failed(why) => return fail_at_gate(run, s, None, why, work),
    }
    if start_members(run, s, upgrade, images, work) == Flow::RunFailed {
        return Flow::RunFailed;
    }
    let stage = &mut run.stages[s];
    // A skipped group may still have an upgrade in flight: the stage waits for it.
    let places = work.places;
    let in_flight =
        stage.groups.iter().enumerate().any(|(g, group)| {
            open_members(places, (s, g), group).any(|(_, m)| m.state.in_flight())
        });
    if in_flight || !stage.groups.iter().all(|g| g.state.is_finished()) {
        return Flow::Continue;
    }
    match stage.wait {
        WaitState::NotStarted if stage.after_stage_wait_in_seconds > 0 => {
            let until = now.plus_millis(stage.after_stage_wait_in_seconds * MS_PER_SECOND);
            stage.wait = WaitState::Running {
                started_at: now,
                until,
            };
            work.event(
                Subject::AfterStageWait(stage.name.clone()),
                State::Running,
                Some(format!("until {until}")),
            );
            work.wake(until);
        }
        WaitState::NotStarted => {
            stage.wait = WaitState::Completed {
                started_at: now,
                completed_at: now,
            }
        }
        WaitState::Running { started_at, until } if now >= until => {
            stage.wait = WaitState::Completed {
                started_at,
                completed_at: now,
            };
            work.event(
                Subject::AfterStageWait(stage.name.clone()),
                State::Completed,
                None,
            );
        }
        WaitState::Running { until, .. } => work.wake(until),
        WaitState::Completed { .. } | WaitState::Skipped { .. } => {}
    }
    // The after-gates run beside the wait; the stage completes when both are done.
    let gates = gates::pass(&mut stage.after_gates, work);
    if let Passage::Failed(why) = gates {
        return fail_at_gate(run, s, None, why, work);
    }
    if stage.wait.is_done() && gates == Passage::Open {
        stage.state = StageState::Completed {
            started_at,
            completed_at: now,
        };
        work.event(Subject::Stage(stage.name.clone()), State::Completed, None);
    }
    Flow::Continue
}

/// A gate that timed out with `onTimeout: Fail` fails its group (if it is a group's), its stage
/// and the run.
fn fail_at_gate(
    run: &mut UpdateRun,
    s: usize,
    g: Option<usize>,
    why: String,
    work: &mut Work<'_>,
) -> Flow {
    let stage_why = match g {
        Some(g) => format!("group {} failed", run.stages[s].groups[g].name),
        None => why.clone(),
    };
    budgets::fail_levels(run, s, g, [why.clone(), stage_why, why], work);
    Flow::RunFailed
}

/// Starts what the stage's groups may start now. Without a stage ceiling each group fills its
/// own places; under one, free places go round the groups one at a time. A member failure is
/// weighed against the budgets at once, before anything else starts.
fn start_members(
    run: &mut UpdateRun,
    s: usize,
    upgrade: Upgrade,
    images: &ImageChoice,
    work: &mut Work<'_>,
) -> Flow {
    let run_uid = run.uid.clone();
    let ceiling = run.stages[s].limits.max_concurrency.map(|c| c as usize);
    let places = work.places;
    let mut in_flight: usize = (run.stages[s].groups.iter().enumerate())
        .map(|(g, group)| group_in_flight(places, (s, g), group))
        .sum();
    loop {
        let before = in_flight;
        for g in 0..run.stages[s].groups.len() {
            loop {
                let room = ceiling.map_or(usize::MAX, |c| c.saturating_sub(in_flight));
                let allowance = if ceiling.is_some() { room.min(1) } else { room };
                let group = &mut run.stages[s].groups[g];
                match advance_group(&run_uid, (s, g), group, upgrade, images, allowance, work) {
                    Ok(started) => {
                        in_flight += started;
                        break;
                    }
                    Err(Halt::Member(started, failure)) => {
                        in_flight += started;
                        if budgets::enforce(run, s, g, &failure, work) {
                            return Flow::RunFailed;
                        }
                    }
                    Err(Halt::Gate(why)) => return fail_at_gate(run, s, Some(g), why, work),
                }
            }
        }
        if ceiling.is_none() || in_flight == before {
            return Flow::Continue;
        }
    }
}

/// Starts up to `allowance` of the group's next members while it has places free (its
/// `maxConcurrency`): among those not finished, the first (by name) whose window is open; else
/// it waits for the soonest window to open. Returns how many it started; on a member failure
/// also the failure, at once (the budgets decide whether the group goes on).
fn advance_group(
    run_uid: &str,
    (s, g): (usize, usize),
    group: &mut GroupRun,
    upgrade: Upgrade,
    images: &ImageChoice,
    allowance: usize,
    work: &mut Work<'_>,
) -> Result<usize, Halt> {
    let now = work.now;
    let started_at = match group.state {
        GroupState::NotStarted => {
            group.state = GroupState::Running { started_at: now };
            work.event(Subject::Group(group.name.clone()), State::Running, None);
            now
        }
        GroupState::Running { started_at } => started_at,
        GroupState::Completed { .. } | GroupState::Failed { .. } | GroupState::Skipped { .. } => {
            return Ok(0);
        }
    };
    match gates::pass(&mut group.before_gates, work) {
        Passage::Open => {}
        Passage::Waiting => return Ok(0),
        Passage::Failed(why) => return Err(Halt::Gate(why)),
    }
    let places = work.places;
    let free = (group.concurrency()).saturating_sub(group_in_flight(places, (s, g), group));
    let allowance = allowance.min(free);
    let mut started = 0;
    // Members found pending in this pass are not tried again in it (they do not block others).
    let mut passed = BTreeSet::new();
    while started < allowance {
        let mut waiting = Vec::new();
        let mut chosen = None;
        for (i, member) in open_members(places, (s, g), group) {
            let eligible = matches!(
                member.state,
                MemberState::NotStarted | MemberState::Pending { .. }
            );
            if !eligible || passed.contains(&i) {
                continue;
            }
            match next_action(member, upgrade, images, work) {
                Ok(action) => {
                    chosen = Some((i, action));
                    break;
                }
                Err(wait) => {
                    passed.insert(i);
                    waiting.push((i, wait));
                }
            }
        }
        for (i, wait) in waiting {
            set_pending(group, (s, g, i), wait, work);
        }
        let Some((i, action)) = chosen else {
            finish_if_idle((s, g), group, started_at, work).map_err(Halt::Gate)?;
            return Ok(started);
        };
        let member = &mut group.members[i];
        if !matches!(action, MemberAction::Pending { .. }) {
            work.touched.note((s, g, i), member);
        }
        match action {
            MemberAction::Upgrade { target, then } => {
                let hop = (!then.is_empty()).then(|| Hop {
                    number: 1,
                    of: 1 + then.len() as u32,
                    first_started_at: now,
                });
                start_upgrade(run_uid, member, target, hop, work);
                started += 1;
            }
            MemberAction::Skip { reason } => {
                member.state = MemberState::Skipped {
                    reason: reason.clone(),
                    at: now,
                    by: SkippedBy::System,
                };
                work.event(
                    Subject::Member(member.name.clone()),
                    State::Skipped,
                    Some(reason),
                );
            }
            MemberAction::Pending { reason } => {
                passed.insert(i);
                let wait = until_available(reason, &group.members[i], work);
                set_pending(group, (s, g, i), wait, work);
            }
            MemberAction::Fail { reason } => {
                member.state = MemberState::Failed {
                    attempt: None,
                    started_at: None,
                    failed_at: now,
                    message: reason.clone(),
                };
                work.event(
                    Subject::Member(member.name.clone()),
                    State::Failed,
                    Some(reason.clone()),
                );
                let failure = Failure {
                    member: member.name.clone(),
                    message: reason,
                };
                return Err(Halt::Member(started, failure));
            }
        }
    }
    finish_if_idle((s, g), group, started_at, work).map_err(Halt::Gate)?;
    Ok(started)
}

/// Starts the member's next upgrade (or hop): a new attempt, followed by the provider.
pub(super) fn start_upgrade(
    run_uid: &str,
    member: &mut MemberRun,
    target: UpgradeTarget,
    hop: Option<Hop>,
    work: &mut Work<'_>,
) {
    let attempt = member.attempts + 1;
    member.attempts = attempt;
    let said = match (&hop, &target.control_plane) {
        (Some(hop), Some(step)) => format!(
            "attempt {attempt}: hop {} of {}, to Kubernetes {}",
            hop.number, hop.of, step.to
        ),
        (Some(hop), None) => format!("attempt {attempt}: hop {} of {}", hop.number, hop.of),
        (None, _) => format!("attempt {attempt}"),
    };
    member.state = MemberState::Upgrading {
        attempt,
        started_at: work.now,
        target: target.clone(),
        provider_trouble: None,
        hop,
    };
    work.event(
        Subject::Member(member.name.clone()),
        State::Running,
        Some(said),
    );
    work.effects.push(Effect::StartUpgrade {
        member: member.name.clone(),
        cluster: member.cluster_resource_id.clone(),
        attempt,
        operation_id: crate::model::run::operation_id(run_uid, &member.name, attempt),
        target,
    });
}

/// Why a group stopped starting members: a member failed (after starting this many), or one
/// of its gates timed out with `onTimeout: Fail`.
enum Halt {
    Member(usize, Failure),
    Gate(String),
}

/// Why a member cannot start now, and what it waits for.
pub(super) struct Wait {
    reason: String,
    /// When the wait ends by itself (a window opens).
    until: Option<Timestamp>,
    /// Something else that ends by itself (another run's upgrade, a provider's silence).
    waiting_on: Option<WaitingOn>,
}

impl Wait {
    pub(super) fn new(reason: String) -> Self {
        Self {
            reason,
            until: None,
            waiting_on: None,
        }
    }
}

/// How often a member deferred until its version reaches its region looks again (fleet time):
/// catalogs change without telling the run.
const DEFER_RECHECK_MS: i64 = 15 * crate::model::time::MS_PER_MINUTE;

/// The wait of a member whose version or image has not reached its region: with
/// `deferUntilAvailable`, it holds the group until the bound (counted from when the member
/// started waiting) and looks again every [`DEFER_RECHECK_MS`]; past the bound, or without
/// it, it is left pending and does not hold the group.
pub(super) fn until_available(reason: String, member: &MemberRun, work: &mut Work<'_>) -> Wait {
    let Some(max_ms) = work.defer_ms else {
        return Wait::new(reason);
    };
    let since = match &member.state {
        MemberState::Pending { since, .. } => *since,
        _ => work.now,
    };
    let deadline = since.plus_millis(max_ms);
    if work.now >= deadline {
        return Wait::new(format!(
            "{reason} (the run waited {} for it: deferUntilAvailable)",
            crate::model::time::span(max_ms)
        ));
    }
    work.wake(deadline.min(work.now.plus_millis(DEFER_RECHECK_MS)));
    Wait {
        reason: format!("{reason}; the run waits for it until {deadline} (deferUntilAvailable)"),
        until: Some(deadline),
        waiting_on: None,
    }
}

/// What becomes of a member now, or what it waits for. What needs no upgrade (skipped, failed,
/// pending on a version) is settled at once; an upgrade waits for the window that governs it
/// and for another run's upgrade of the cluster to end. A cluster gone for good fails its
/// member, as one that cannot take the target.
pub(super) fn next_action(
    member: &MemberRun,
    upgrade: Upgrade,
    images: &ImageChoice,
    work: &Work<'_>,
) -> Result<MemberAction, Wait> {
    let cluster = &member.cluster_resource_id;
    let observed = match work.world.observe(cluster) {
        Ok(observed) => observed,
        Err(why) => {
            let reason = format!("the cluster cannot be observed: {}", why.message);
            return match why.permanent {
                true => Ok(MemberAction::Fail { reason }),
                false => Err(Wait {
                    reason,
                    until: None,
                    waiting_on: Some(WaitingOn::Provider),
                }),
            };
        }
    };
    if let Some(placement) = &work.placement {
        let action = super::rollout::placement_member_action(
            placement,
            &member.name,
            &observed,
            work.stopped,
            work.world,
        )
        .map_err(|reason| Wait {
            reason,
            until: None,
            waiting_on: Some(WaitingOn::Provider),
        })?;
        return match action {
            MemberAction::Upgrade { .. } => not_held(cluster, action, work),
            action => Ok(action),
        };
    }
    let action = with_stopped_policy(
        resolve_with_hops(
            &observed,
            upgrade,
            work.hops,
            images,
            work.world.catalog(),
            work.cfg,
        ),
        &observed,
        work.stopped,
    );
    if !matches!(action, MemberAction::Upgrade { .. }) {
        return Ok(action);
    }
    let window = observed
        .window_for(upgrade)
        .and_then(|w| w.current_or_next(work.now));
    if let Some(span) = window.filter(|span| !span.contains(work.now)) {
        return Err(Wait {
            reason: format!("maintenance window closed; it opens at {}", span.start),
            until: Some(span.start),
            waiting_on: None,
        });
    }
    not_held(cluster, action, work)
}

/// `action`, unless another run is changing the cluster now: then the member waits for it.
fn not_held(
    cluster: &crate::model::member::ClusterResourceId,
    action: MemberAction,
    work: &Work<'_>,
) -> Result<MemberAction, Wait> {
    if let Some(holder) = work.world.holder(cluster) {
        return Err(Wait {
            reason: format!(
                "the cluster is being upgraded by {holder}; this member goes on once that upgrade has finished"
            ),
            until: None,
            waiting_on: Some(WaitingOn::OtherRun { holder }),
        });
    }
    Ok(action)
}

/// Marks a member pending; an unchanged wait changes nothing (and makes no event).
pub(super) fn set_pending(group: &mut GroupRun, place: Place, wait: Wait, work: &mut Work<'_>) {
    let Wait {
        reason,
        until,
        waiting_on,
    } = wait;
    if let Some(at) = until {
        work.wake(at);
    }
    let member = &mut group.members[place.2];
    let since = match &member.state {
        MemberState::Pending {
            reason: old,
            until: old_until,
            waiting_on: old_waiting,
            ..
        } if *old == reason && *old_until == until && *old_waiting == waiting_on => return,
        MemberState::Pending { since, .. } => *since,
        MemberState::NotStarted
        | MemberState::Upgrading { .. }
        | MemberState::Completed { .. }
        | MemberState::Failed { .. }
        | MemberState::Skipped { .. } => work.now,
    };
    work.touched.note(place, member);
    member.state = MemberState::Pending {
        reason: reason.clone(),
        since,
        until,
        waiting_on,
    };
    work.event(
        Subject::Member(member.name.clone()),
        State::Pending,
        Some(reason),
    );
}

/// With nothing in flight and nothing startable, the group is done unless a window will open,
/// another run's upgrade of a member's cluster will end or a provider will answer again.
fn finish_if_idle(
    place: (usize, usize),
    group: &mut GroupRun,
    started_at: Timestamp,
    work: &mut Work<'_>,
) -> Result<(), String> {
    // Settled members are neither upgrading nor waiting: only the open ones are looked at.
    let places = work.places;
    // Waits that end by themselves hold the group; a version missing in a region does not.
    let holds = |state: &MemberState| match state {
        MemberState::Upgrading { .. } | MemberState::NotStarted => true,
        MemberState::Pending {
            until, waiting_on, ..
        } => until.is_some() || waiting_on.is_some(),
        MemberState::Completed { .. }
        | MemberState::Failed { .. }
        | MemberState::Skipped { .. } => false,
    };
    if open_members(places, place, group).any(|(_, m)| holds(&m.state)) {
        return Ok(());
    }
    match gates::pass(&mut group.after_gates, work) {
        Passage::Open => {}
        Passage::Waiting => return Ok(()),
        Passage::Failed(why) => return Err(why),
    }
    let pending = open_members(places, place, group)
        .filter(|(_, m)| matches!(m.state, MemberState::Pending { .. }))
        .count();
    group.state = GroupState::Completed {
        started_at,
        completed_at: work.now,
    };
    let failed = group.failure_count();
    let message = match (pending, failed) {
        (0, 0) => None,
        (pending, 0) => Some(format!("{pending} member(s) still pending")),
        (0, failed) => Some(format!(
            "{failed} member(s) failed, within the failure budgets"
        )),
        (pending, failed) => Some(format!(
            "{pending} member(s) still pending; {failed} failed, within the failure budgets"
        )),
    };
    work.event(
        Subject::Group(group.name.clone()),
        State::Completed,
        message,
    );
    Ok(())
}
