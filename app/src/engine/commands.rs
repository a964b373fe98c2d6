//! Operator commands: start (also resume and retry), stop, skip. Each checks the run's state,
//! changes what it may, and answers with a typed reply; progress itself is `advance`'s job.

use super::decide::{Rejection, Reply, SkipKind, SkipTarget, Work};
use super::gates;
use super::images::consistent_images;
use crate::model::run::{
    GroupState, MemberRun, MemberState, RunState, SkippedBy, StageState, State, Subject, UpdateRun,
    WaitState,
};
use crate::model::update::NodeImageSelectionType;

fn not_allowed(why: impl Into<String>) -> Rejection {
    Rejection::NotAllowed { why: why.into() }
}

pub(super) fn start(run: &mut UpdateRun, work: &mut Work<'_>) -> Result<Reply, Rejection> {
    let now = work.now;
    let reply = match run.state.clone() {
        RunState::NotStarted => {
            fix_selected_images(run, work);
            run.state = RunState::Running { started_at: now };
            Reply::Started
        }
        RunState::Running { .. } => return Ok(Reply::AlreadyRunning),
        RunState::Stopping { .. } => {
            return Err(not_allowed(
                "the run is stopping; start it again once it has stopped",
            ));
        }
        RunState::Stopped { started_at, .. } => {
            run.state = RunState::Running { started_at };
            Reply::Resumed
        }
        RunState::Failed { started_at, .. } => {
            let failed_members = reset_failures(run, work);
            run.state = RunState::Running { started_at };
            Reply::Retrying { failed_members }
        }
        RunState::Completed { .. } => {
            return Err(not_allowed(
                "the run has completed; create a new run to upgrade again",
            ));
        }
    };
    work.event(Subject::Run, State::Running, None);
    Ok(reply)
}

/// `Consistent`: per image family, the newest release every region of the run's members has,
/// fixed now, at the first start. `Custom`: the named images, recorded the same way so the
/// run's status reports what it installs.
fn fix_selected_images(run: &mut UpdateRun, work: &Work<'_>) {
    let selection = &run.spec.update.node_image_selection;
    match selection.kind {
        NodeImageSelectionType::Latest => {}
        NodeImageSelectionType::Custom => run.selected_images = selection.checked().ok(),
        NodeImageSelectionType::Consistent => {
            let observed: Vec<_> = run
                .members()
                .filter_map(|m| work.world.observe(&m.cluster_resource_id).ok())
                .collect();
            run.selected_images = Some(consistent_images(&observed, work.world.catalog()));
        }
    }
}

/// Puts failed members, groups and stages back to work for a retry; returns how many members.
fn reset_failures(run: &mut UpdateRun, work: &mut Work<'_>) -> usize {
    let mut failed = 0;
    for (s, stage) in run.stages.iter_mut().enumerate() {
        for (g, group) in stage.groups.iter_mut().enumerate() {
            // What the operator skipped stays skipped, failed members included; a group that
            // completed with failures within its budgets is finished too.
            if let GroupState::Skipped { .. } | GroupState::Completed { .. } = group.state {
                continue;
            }
            for (m, member) in group.members.iter_mut().enumerate() {
                if let MemberState::Failed { .. } = member.state {
                    work.touched.note((s, g, m), member);
                    member.state = MemberState::NotStarted;
                    failed += 1;
                    work.event(
                        Subject::Member(member.name.clone()),
                        State::NotStarted,
                        Some("retrying".into()),
                    );
                }
            }
            if let GroupState::Failed { started_at, .. } = group.state {
                gates::unreach(&mut group.before_gates);
                gates::unreach(&mut group.after_gates);
                group.state = GroupState::Running { started_at };
                work.event(
                    Subject::Group(group.name.clone()),
                    State::Running,
                    Some("retrying".into()),
                );
            }
        }
        if let StageState::Failed { started_at, .. } = stage.state {
            gates::unreach(&mut stage.before_gates);
            gates::unreach(&mut stage.after_gates);
            stage.state = StageState::Running { started_at };
            work.event(
                Subject::Stage(stage.name.clone()),
                State::Running,
                Some("retrying".into()),
            );
        }
    }
    failed
}

pub(super) fn stop(run: &mut UpdateRun, work: &mut Work<'_>) -> Result<Reply, Rejection> {
    match run.state.clone() {
        RunState::Running { started_at } if run.in_flight() > 0 => {
            run.state = RunState::Stopping { started_at };
            work.event(
                Subject::Run,
                State::Stopping,
                Some("in-flight upgrades finish; nothing new starts".into()),
            );
            Ok(Reply::Stopping)
        }
        RunState::Running { started_at } => {
            run.state = RunState::Stopped {
                started_at,
                stopped_at: work.now,
            };
            work.event(Subject::Run, State::Stopped, None);
            Ok(Reply::Stopped)
        }
        RunState::Stopping { .. } | RunState::Stopped { .. } => Ok(Reply::AlreadyStopped),
        RunState::NotStarted => Err(not_allowed(
            "the run has not started; there is nothing to stop",
        )),
        RunState::Failed { .. } => Err(not_allowed("the run has failed; nothing new is starting")),
        RunState::Completed { .. } => Err(not_allowed(
            "the run has completed; there is nothing to stop",
        )),
    }
}

/// Where a skip target is in the run.
enum Located {
    Member(usize, usize, usize),
    Group(usize, usize),
    Stage(usize),
    Wait(usize),
}

pub(super) fn skip(
    run: &mut UpdateRun,
    targets: &[SkipTarget],
    work: &mut Work<'_>,
) -> Result<Reply, Rejection> {
    skipping_allowed(run)?;
    if targets.is_empty() {
        return Err(Rejection::UnknownTarget {
            what: "no skip targets were given".into(),
        });
    }
    // Check every target before changing anything: a skip applies whole or not at all.
    let located = targets
        .iter()
        .map(|t| locate(run, t))
        .collect::<Result<Vec<_>, _>>()?;
    for place in located {
        match place {
            Located::Member(s, g, m) => skip_member(run, s, g, m, "skipped by the operator", work),
            Located::Group(s, g) => skip_group(run, s, g, work),
            Located::Stage(s) => skip_stage(run, s, work),
            Located::Wait(s) => skip_wait(run, s, work),
        }
    }
    Ok(Reply::Skipped {
        targets: targets.len(),
    })
}

/// Whether the run's state lets anything be skipped.
fn skipping_allowed(run: &UpdateRun) -> Result<(), Rejection> {
    match run.state {
        RunState::NotStarted
        | RunState::Running { .. }
        | RunState::Stopped { .. }
        | RunState::Failed { .. } => Ok(()),
        RunState::Stopping { .. } => {
            Err(not_allowed("the run is stopping; skip once it has stopped"))
        }
        RunState::Completed { .. } => Err(not_allowed(
            "the run has completed; nothing is left to skip",
        )),
    }
}

/// Whether `target` could be skipped now, by the rules `skip` applies; changes nothing.
pub(super) fn skippable(run: &UpdateRun, target: &SkipTarget) -> Result<(), Rejection> {
    skipping_allowed(run)?;
    locate(run, target).map(|_| ())
}

/// [`skippable`] for a member already in hand: no search by name.
pub(super) fn member_of_run_skippable(
    run: &UpdateRun,
    member: &MemberRun,
) -> Result<(), Rejection> {
    skipping_allowed(run)?;
    member_skippable(member)
}

fn locate(run: &UpdateRun, target: &SkipTarget) -> Result<Located, Rejection> {
    let name = target.name.as_str();
    let unknown = |kind: &str| Rejection::UnknownTarget {
        what: format!("the run has no {kind} named {name}"),
    };
    let finished = |what: String| {
        Err(Rejection::NotSkippable {
            why: format!("{what} has already finished"),
        })
    };
    match target.kind {
        SkipKind::Member => {
            let (s, g, m) = find_member(run, name).ok_or_else(|| unknown("member"))?;
            member_skippable(&run.stages[s].groups[g].members[m]).map(|()| Located::Member(s, g, m))
        }
        SkipKind::Group => {
            let (s, g) = run
                .stages
                .iter()
                .enumerate()
                .find_map(|(s, stage)| {
                    stage
                        .groups
                        .iter()
                        .position(|g| g.name == name)
                        .map(|g| (s, g))
                })
                .ok_or_else(|| unknown("group"))?;
            match run.stages[s].groups[g].state {
                GroupState::Completed { .. } | GroupState::Skipped { .. } => {
                    finished(format!("group {name}"))
                }
                GroupState::NotStarted | GroupState::Running { .. } | GroupState::Failed { .. } => {
                    Ok(Located::Group(s, g))
                }
            }
        }
        SkipKind::Stage => {
            let s = run
                .stages
                .iter()
                .position(|st| st.name == name)
                .ok_or_else(|| unknown("stage"))?;
            if run.stages[s].state.is_done() {
                finished(format!("stage {name}"))
            } else {
                Ok(Located::Stage(s))
            }
        }
        SkipKind::AfterStageWait => {
            let s = run
                .stages
                .iter()
                .position(|st| st.name == name)
                .ok_or_else(|| unknown("stage"))?;
            if run.stages[s].wait.is_done() {
                finished(format!("the wait after stage {name}"))
            } else {
                Ok(Located::Wait(s))
            }
        }
    }
}

/// Whether this member's own state lets it be skipped (the run's state aside).
pub(super) fn member_skippable(member: &MemberRun) -> Result<(), Rejection> {
    let name = &member.name;
    match &member.state {
        MemberState::NotStarted | MemberState::Pending { .. } | MemberState::Failed { .. } => {
            Ok(())
        }
        MemberState::Upgrading { .. } => Err(Rejection::NotSkippable {
            why: format!("member {name} is being upgraded; it cannot be skipped now"),
        }),
        MemberState::Completed { .. } | MemberState::Skipped { .. } => {
            Err(Rejection::NotSkippable {
                why: format!("member {name} has already finished"),
            })
        }
    }
}

fn find_member(run: &UpdateRun, name: &str) -> Option<(usize, usize, usize)> {
    run.stages.iter().enumerate().find_map(|(s, stage)| {
        stage.groups.iter().enumerate().find_map(|(g, group)| {
            group
                .members
                .iter()
                .position(|m| m.name.as_str() == name)
                .map(|m| (s, g, m))
        })
    })
}

fn skip_member(
    run: &mut UpdateRun,
    s: usize,
    g: usize,
    m: usize,
    reason: &str,
    work: &mut Work<'_>,
) {
    let member = &mut run.stages[s].groups[g].members[m];
    if member.state.is_done() || member.state.in_flight() {
        return;
    }
    work.touched.note((s, g, m), member);
    member.state = MemberState::Skipped {
        reason: reason.into(),
        at: work.now,
        by: SkippedBy::Operator,
    };
    work.event(
        Subject::Member(member.name.clone()),
        State::Skipped,
        Some(reason.into()),
    );
}

/// Skips the group's members that have not finished; one being upgraded finishes its upgrade.
fn skip_group(run: &mut UpdateRun, s: usize, g: usize, work: &mut Work<'_>) {
    for m in 0..run.stages[s].groups[g].members.len() {
        skip_member(run, s, g, m, "its group was skipped", work);
    }
    let group = &mut run.stages[s].groups[g];
    gates::skip_all(&mut group.before_gates, "its group was skipped", work);
    gates::skip_all(&mut group.after_gates, "its group was skipped", work);
    let started_at = match group.state {
        GroupState::Running { started_at } | GroupState::Failed { started_at, .. } => {
            Some(started_at)
        }
        GroupState::NotStarted | GroupState::Completed { .. } | GroupState::Skipped { .. } => None,
    };
    group.state = GroupState::Skipped {
        at: work.now,
        started_at,
    };
    work.event(
        Subject::Group(group.name.clone()),
        State::Skipped,
        Some("skipped by the operator".into()),
    );
}

fn skip_wait(run: &mut UpdateRun, s: usize, work: &mut Work<'_>) {
    let stage = &mut run.stages[s];
    if stage.wait.is_done() {
        return;
    }
    let started_at = match stage.wait {
        WaitState::Running { started_at, .. } => Some(started_at),
        WaitState::NotStarted | WaitState::Completed { .. } | WaitState::Skipped { .. } => None,
    };
    stage.wait = WaitState::Skipped {
        at: work.now,
        started_at,
    };
    work.event(
        Subject::AfterStageWait(stage.name.clone()),
        State::Skipped,
        Some("skipped by the operator".into()),
    );
}

/// Skips the stage with its groups and its wait.
fn skip_stage(run: &mut UpdateRun, s: usize, work: &mut Work<'_>) {
    for g in 0..run.stages[s].groups.len() {
        match run.stages[s].groups[g].state {
            GroupState::Completed { .. } | GroupState::Skipped { .. } => {}
            GroupState::NotStarted | GroupState::Running { .. } | GroupState::Failed { .. } => {
                skip_group(run, s, g, work)
            }
        }
    }
    skip_wait(run, s, work);
    let stage = &mut run.stages[s];
    gates::skip_all(&mut stage.before_gates, "its stage was skipped", work);
    gates::skip_all(&mut stage.after_gates, "its stage was skipped", work);
    let started_at = match stage.state {
        StageState::Running { started_at } | StageState::Failed { started_at, .. } => {
            Some(started_at)
        }
        StageState::NotStarted | StageState::Completed { .. } | StageState::Skipped { .. } => None,
    };
    stage.state = StageState::Skipped {
        at: work.now,
        started_at,
    };
    work.event(
        Subject::Stage(stage.name.clone()),
        State::Skipped,
        Some("skipped by the operator".into()),
    );
}
